package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"postlab/explorer"
)

func ev(dir explorer.Direction, line string) Entry {
	return Entry{Event: explorer.Event{Dir: dir, Line: line}}
}

func TestTraceRingIsBounded(t *testing.T) {
	var spill bytes.Buffer
	m := NewTraceModel(100, nil)
	m.SetSpill(&spill)
	for i := 0; i < 1000; i++ {
		m.Append(ev(explorer.ServerToClient, fmt.Sprintf("line %d", i)))
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want 100", m.Len())
	}
	first, end := m.Bounds()
	if first != 900 || end != 1000 {
		t.Fatalf("Bounds = %d,%d, want 900,1000", first, end)
	}
	if e, ok := m.At(900); !ok || e.Event.Line != "line 900" {
		t.Fatalf("At(900) = %q,%v", e.Event.Line, ok)
	}
	if _, ok := m.At(899); ok {
		t.Fatal("an evicted line is still returned")
	}
	if cap(m.ring) > 100 {
		t.Fatalf("ring grew to %d", cap(m.ring))
	}
	if m.Spilled() != 900 || strings.Count(spill.String(), "\n") != 900 {
		t.Fatalf("spilled %d lines, %d in the writer; want 900", m.Spilled(), strings.Count(spill.String(), "\n"))
	}
	var e explorer.Event
	if err := json.Unmarshal([]byte(strings.SplitN(spill.String(), "\n", 2)[0]), &e); err != nil || e.Line != "line 0" {
		t.Fatalf("first spilled line = %+v, %v", e, err)
	}
	snap := m.Snapshot()
	if len(snap) != 100 || snap[0].Event.Line != "line 900" || snap[99].Event.Line != "line 999" {
		t.Fatalf("snapshot order wrong: %q .. %q", snap[0].Event.Line, snap[len(snap)-1].Event.Line)
	}
}

func TestSelectionFollowsAndNotesFollowSelection(t *testing.T) {
	calls := 0
	m := NewTraceModel(10, func(e explorer.Event) []explorer.Note {
		calls++
		return []explorer.Note{{Title: "about " + e.Line, Ref: "RFC 5321"}}
	})
	m.Append(ev(explorer.ServerToClient, "220 hi"), ev(explorer.ClientToServer, "EHLO x"))
	seq, ok := m.Selected()
	if !ok || seq != 1 || !m.Following() {
		t.Fatalf("selection = %d,%v following=%v; want the newest line, following", seq, ok, m.Following())
	}
	m.Move(-1)
	if m.Following() {
		t.Fatal("moving up should stop following")
	}
	m.Append(ev(explorer.ServerToClient, "250 ok"))
	e, notes, _ := m.SelectedNotes()
	if e.Event.Line != "220 hi" || len(notes) != 1 || notes[0].Title != "about 220 hi" {
		t.Fatalf("selected %q notes %v; want 220 hi and its note", e.Event.Line, notes)
	}
	m.SelectedNotes()
	if calls != 1 {
		t.Fatalf("annotator called %d times, want 1 (cached)", calls)
	}
	m.End()
	if e, notes, _ := m.SelectedNotes(); e.Event.Line != "250 ok" || notes[0].Title != "about 250 ok" {
		t.Fatalf("after End: %q %v", e.Event.Line, notes)
	}
	// Selection of an evicted line moves to the oldest kept.
	m.Select(0)
	for i := 0; i < 20; i++ {
		m.Append(ev(explorer.Local, "x"))
	}
	if seq, _ := m.Selected(); seq < 13 {
		t.Fatalf("selection %d points at an evicted line", seq)
	}
}

func TestPaletteFollowsSMTPState(t *testing.T) {
	c := NewCommandModel(nil)
	cases := []struct {
		st   explorer.State
		caps []string
		want []string
		not  []string
	}{
		{explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseGreeted}, nil, []string{"EHLO"}, []string{"DATA"}},
		{explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady}, []string{"STARTTLS", "AUTH PLAIN"}, []string{"STARTTLS", "MAIL FROM:", "AUTH PLAIN"}, []string{"DATA"}},
		{explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady, TLS: true}, []string{"STARTTLS"}, []string{"MAIL FROM:"}, []string{"STARTTLS"}},
		{explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseMail}, nil, []string{"RCPT TO:"}, []string{"DATA"}},
		{explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseRcpt}, nil, []string{"RCPT TO:", "DATA", "RSET"}, []string{"MAIL FROM:"}},
		{explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseAuthz}, []string{"STLS"}, []string{"STLS", "USER"}, []string{"RETR"}},
		{explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseTrans}, nil, []string{"LIST", "RETR", "QUIT"}, []string{"USER"}},
	}
	for _, tc := range cases {
		var got []string
		for _, s := range c.Palette(tc.st, tc.caps) {
			got = append(got, s.Command)
		}
		all := strings.Join(got, "|")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s/%s: palette %q lacks %q", tc.st.Proto, tc.st.Phase, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(all, w) {
				t.Errorf("%s/%s: palette %q offers %q", tc.st.Proto, tc.st.Phase, got, w)
			}
		}
	}
}

func TestCompletionOnlyOffersValidCommands(t *testing.T) {
	c := NewCommandModel(nil)
	rcpt := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseRcpt}
	got := c.Complete(rcpt, nil, "d")
	if len(got) == 0 || got[0] != "DATA" {
		t.Fatalf("complete 'd' after RCPT = %q, want DATA first", got)
	}
	if got := c.Complete(rcpt, nil, "MA"); len(got) != 0 {
		t.Fatalf("complete 'MA' after RCPT = %q, want nothing (MAIL is not valid there)", got)
	}
	pop := explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseTrans}
	if got := c.Complete(pop, nil, "r"); !contains(got, "RETR 1") || !contains(got, "RSET") {
		t.Fatalf("complete 'r' in TRANSACTION = %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHistory(t *testing.T) {
	c := NewCommandModel(nil)
	c.Add("EHLO a")
	c.Add("MAIL FROM:<a@b>")
	c.Add("MAIL FROM:<a@b>")
	if h := c.History(); len(h) != 2 {
		t.Fatalf("history %q: duplicates kept", h)
	}
	if got := c.Prev("draft"); got != "MAIL FROM:<a@b>" {
		t.Fatalf("Prev = %q", got)
	}
	if got := c.Prev(""); got != "EHLO a" {
		t.Fatalf("Prev 2 = %q", got)
	}
	if got := c.Prev(""); got != "EHLO a" {
		t.Fatalf("Prev at the top = %q", got)
	}
	c.Next()
	if got := c.Next(); got != "draft" {
		t.Fatalf("Next back to the draft = %q", got)
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in   string
		want Target
		err  bool
	}{
		{"smtp://127.0.0.1:2525", Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525, Security: Plain}, false},
		{"smtp://mail.example.com?starttls", Target{Proto: explorer.SMTP, Host: "mail.example.com", Port: 25, Security: StartTLS}, false},
		{"smtps://alice@[::1]", Target{Proto: explorer.SMTP, Host: "::1", Port: 465, Security: TLS, User: "alice"}, false},
		{"pop3://127.0.0.1:2110?starttls", Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110, Security: StartTLS}, false},
		{"pop3s://pop.example.com", Target{Proto: explorer.POP3, Host: "pop.example.com", Port: 995, Security: TLS}, false},
		{"imap://x", Target{}, true},
		{"smtps://x?starttls", Target{}, true},
		{"smtp://x:99999", Target{}, true},
		{"127.0.0.1:25", Target{}, true},
	}
	for _, tc := range cases {
		got, err := ParseTarget(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && got != tc.want {
			t.Errorf("%s = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if s := (Target{Proto: explorer.POP3, Host: "h", Port: 110, Security: StartTLS}).String(); s != "pop3://h:110?starttls" {
		t.Errorf("String = %q", s)
	}
}

func TestComposeDotStuffing(t *testing.T) {
	m := ComposeModel{From: "a@x", To: "b@y", Subject: "hi\r\nBcc: evil@z", Body: "one\n.two\n.\nthree\r\n"}
	var got []string
	for _, l := range m.Lines() {
		got = append(got, l.Text)
	}
	want := []string{"From: a@x", "To: b@y", "Subject: hi  Bcc: evil@z", "", "one", "..two", "..", "three", "."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q", got, want)
	}
	ls := m.Lines()
	if !ls[5].Stuffed || !ls[6].Stuffed || ls[4].Stuffed || !ls[len(ls)-1].End {
		t.Fatalf("stuffed/end marks wrong: %+v", ls)
	}
}

func TestSanitizeAndWrap(t *testing.T) {
	if got := sanitize("a\x1b[31mb\tc\x7f"); got != "a^[[31mb    c^?" {
		t.Fatalf("sanitize = %q", got)
	}
	if got := sanitize("EHLO [127.0.0.1]"); got != "EHLO [127.0.0.1]" {
		t.Fatalf("sanitize changed brackets: %q", got)
	}
	parts := wrap(strings.Repeat("x", 25), 10)
	if len(parts) != 3 || parts[2] != "xxxxx" {
		t.Fatalf("wrap = %q", parts)
	}
	if parts := wrap("日本語テキスト", 4); len(parts) != 4 || parts[0] != "日本" {
		t.Fatalf("wide wrap = %q", parts)
	}
}

func TestSpillFileKeepsWhatMemoryDrops(t *testing.T) {
	dir := t.TempDir()
	sp := &spillFile{dir: dir}
	m := NewTraceModel(10, nil)
	m.SetSpill(sp)
	for i := 0; i < 25; i++ {
		m.Append(ev(explorer.ClientToServer, fmt.Sprintf("line %d", i)))
	}
	evs := sp.events()
	if len(evs) != 15 || evs[0].Line != "line 0" || evs[14].Line != "line 14" {
		t.Fatalf("spilled %d events (%v)", len(evs), evs)
	}
	sp.reset()
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Fatalf("reset left %v", files)
	}
}

func TestSaveTranscriptJSONLIncludesSpilledLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	spilled := []explorer.Event{{Dir: explorer.ServerToClient, Line: "220 old"}}
	es := []Entry{ev(explorer.ClientToServer, "EHLO [127.0.0.1]")}
	notes := func(e explorer.Event) []explorer.Note {
		return []explorer.Note{{Title: "about " + e.Line, Ref: "RFC 5321"}}
	}
	if err := saveTranscript(path, true, spilled, es, notes); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), b)
	}
	var obj struct {
		Dir   string          `json:"dir"`
		Line  string          `json:"line"`
		Notes []explorer.Note `json:"notes"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &obj); err != nil || obj.Dir != "c2s" || obj.Line != "EHLO [127.0.0.1]" || len(obj.Notes) != 1 {
		t.Fatalf("second line %s: %+v %v", lines[1], obj, err)
	}
	if !strings.Contains(lines[0], `"220 old"`) {
		t.Fatalf("the spilled line is not first: %s", lines[0])
	}
	if err := saveTranscript(filepath.Join(t.TempDir(), "no", "such", "dir"), false, nil, es, nil); err == nil {
		t.Fatal("saving into a missing directory did not fail")
	}
}
