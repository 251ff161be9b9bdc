package lessons

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"postlab/explorer"
)

// TestValidateRejectsMalformed: each fixture under testdata/bad is refused
// with a file:line message that names the problem.
func TestValidateRejectsMalformed(t *testing.T) {
	cases := map[string]struct {
		line int
		want string
	}{
		"no-front-matter.md": {1, "must start with front matter"},
		"unknown-kind.md":    {10, `unknown check kind "telepathy"`},
		"bad-key.md":         {9, `unknown key "colour"`},
		"unclosed-fence.md":  {8, "never closed"},
		"no-check.md":        {6, "has no ```check block"},
		"bad-regexp.md":      {9, "bad regular expression"},
		"bad-reply.md":       {9, "want a reply code"},
		"bad-choice.md":      {9, `expect="4" does not name one of the 2 choices`},
		"unknown-front.md":   {5, `unknown front matter key "difficulty"`},
		"bad-scenario.md":    {9, `unknown lab scenario "earthquake"`},
		"bad-heading.md":     {6, "malformed step heading"},
		"unclosed-quote.md":  {9, "never closed"},
		"missing-key.md":     {9, "name= is required"},
		"bad-minutes.md":     {5, "minutes"},
		"bad-dns-fault.md":   {9, `unknown fault "spf-perfect"`},
		// placeholders
		"unknown-placeholder.md":  {7, "unknown placeholder {{port.imap}} (known: {{host}}, {{domain}}, {{ca}}, {{port.smtp}}"},
		"unclosed-placeholder.md": {9, "not closed with }}"},
		"front-placeholder.md":    {3, "work in the lesson body, not in the front matter"},
	}
	ents, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(cases) {
		t.Errorf("testdata/bad has %d files, the table %d", len(ents), len(cases))
	}
	for name, tc := range cases {
		path := filepath.Join("testdata/bad", name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(path, b)
		var el ErrorList
		if !errors.As(err, &el) || len(el) == 0 {
			t.Errorf("%s: accepted (err %v)", name, err)
			continue
		}
		prefix := path + ":" + strconv.Itoa(tc.line) + ": "
		found := false
		for _, e := range el {
			if strings.HasPrefix(e.Error(), prefix) && strings.Contains(e.Error(), tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want an error starting %q containing %q, got:\n%v", name, prefix, tc.want, err)
		}
	}
	// The whole directory at once reports every file.
	_, errs := ParseDir("testdata/bad")
	files := map[string]bool{}
	for _, e := range errs {
		files[e.File] = true
	}
	if len(files) != len(cases) {
		t.Errorf("ParseDir reported problems in %d files, want %d", len(files), len(cases))
	}
}

func TestLoadRejectsUnknownRequirement(t *testing.T) {
	_, err := Load("testdata/requires")
	if err == nil || !strings.Contains(err.Error(), `a.md:5: requires unknown lesson "ghost"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadExtraDirAppendsLessons(t *testing.T) {
	dir := t.TempDir()
	lesson := "---\nid: teacher-one\ntitle: Mine\nsummary: a teacher's lesson\nrequires: smtp-by-hand\n---\n## Step: hi\nSay hi.\n```check\nsent command=EHLO reply=250\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "mine.md"), []byte(lesson), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	last := c.Lessons[len(c.Lessons)-1]
	if last.ID != "teacher-one" || last.Order != len(c.Lessons) || c.Lesson("teacher-one") != last {
		t.Fatalf("last lesson %+v", last)
	}
	// A teacher's lesson may not reuse a course id.
	dup := strings.Replace(lesson, "teacher-one", "smtp-by-hand", 1)
	os.WriteFile(filepath.Join(dir, "mine.md"), []byte(dup), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("duplicate id: %v", err)
	}
}

func TestTokenize(t *testing.T) {
	toks, err := tokenize(`answer id=q question="Say \"hi\" \\ now" choice=a  expect=1`)
	if err != nil {
		t.Fatal(err)
	}
	want := []token{{"", "answer"}, {"id", "q"}, {"question", `Say "hi" \ now`}, {"choice", "a"}, {"expect", "1"}}
	if len(toks) != len(want) {
		t.Fatalf("%q", toks)
	}
	for i := range want {
		if toks[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, toks[i], want[i])
		}
	}
	for _, bad := range []string{`a k="x`, `a ="x"`, `a k=`, `a k="x"y`, `a "x"`} {
		if _, err := tokenize(bad); err == nil {
			t.Errorf("tokenize(%q) accepted", bad)
		}
	}
}

// feed is a tiny helper that plays server lines into a tracker-backed check.
func evalOn(t *testing.T, check string, evs []Evidence) bool {
	t.Helper()
	c, err := parseCheck(check, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker()
	for _, e := range evs {
		tr.add(e)
	}
	return c.eval(&evalEnv{t: tr})
}

func smtpLines(lines ...string) []Evidence {
	var out []Evidence
	for _, l := range lines {
		dir := explorer.ServerToClient
		if strings.HasPrefix(l, "> ") {
			dir, l = explorer.ClientToServer, l[2:]
		}
		out = append(out, Evidence{Source: FromServer, Session: "1", Listener: "smtp",
			Event: explorer.Event{Dir: dir, Line: l, State: explorer.State{Proto: explorer.SMTP}}})
	}
	return out
}

// Replies pair with commands in order, also when pipelined (RFC 2920 §3).
func TestPipelinedRepliesPairInOrder(t *testing.T) {
	evs := smtpLines("220 hi", "> EHLO x", "250 ok",
		"> MAIL FROM:<a@postlab.test>", "> RCPT TO:<nobody@postlab.test>", "> RCPT TO:<bob@postlab.test>", "> DATA",
		"250 ok", "550 5.1.1 no such user", "250 ok", "354 go",
		"> Subject: x", "> ", "> RCPT TO:<not-a-command@x>", "> .", "250 queued")
	for check, want := range map[string]bool{
		`reply command=RCPT code=550 enhanced=5.1.1 line="nobody"`: true,
		`sent command=RCPT line="<bob@" reply=250`:                 true,
		`sent command=RCPT line="<bob@" reply=550`:                 false,
		`sent command=RCPT line="not-a-command"`:                   false, // message content, not a command
		`content line="not-a-command"`:                             true,
		`content header=Subject line="^x$"`:                        true,
		`content header=RCPT line="."`:                             false, // in the body
		`sent command=. reply=250`:                                 true,
		`sequence EHLO MAIL/250 DATA/354 ./2xx`:                    true,
		`sequence DATA MAIL`:                                       false,
		`reply command=GREETING code=220`:                          true,
		`sent command=EHLO reply=250 tls=yes`:                      false,
		`sent command=EHLO proto=pop3`:                             false,
	} {
		if got := evalOn(t, check, evs); got != want {
			t.Errorf("%s: %v, want %v", check, got, want)
		}
	}
}

func TestAuthLoginOutcome(t *testing.T) {
	evs := smtpLines("220 hi", "> EHLO x", "250 ok", "> AUTH LOGIN", "334 VXNlcm5hbWU6", "> YWxpY2U=",
		"334 UGFzc3dvcmQ6", "> ****", "235 2.7.0 ok", "> MAIL FROM:<a@postlab.test>", "250 ok")
	for check, want := range map[string]bool{
		`sent command=AUTH reply=235`:     true,
		`sequence EHLO AUTH/235 MAIL/250`: true,
		`sent command=AUTH reply=334`:     false, // 334 was only a step
		`sent line="YWxpY2U=" reply=334`:  false, // SASL responses are not commands
		`sent command=MAIL reply=250`:     true,
	} {
		if got := evalOn(t, check, evs); got != want {
			t.Errorf("%s: %v, want %v", check, got, want)
		}
	}
}

func TestPOP3MultiLineAndSASL(t *testing.T) {
	mk := func(dir explorer.Direction, line string, multi bool) Evidence {
		return Evidence{Source: FromClient, Session: "p", Event: explorer.Event{Dir: dir, Line: line,
			State: explorer.State{Proto: explorer.POP3, Multi: multi}}}
	}
	evs := []Evidence{
		mk(explorer.ServerToClient, "+OK ready", false),
		mk(explorer.ClientToServer, "AUTH PLAIN", false),
		mk(explorer.ServerToClient, "+ ", false),
		mk(explorer.ClientToServer, "****", false),
		mk(explorer.ServerToClient, "+OK logged in", false),
		mk(explorer.ClientToServer, "RETR 1", false),
		mk(explorer.ServerToClient, "+OK 10 octets", false),
		mk(explorer.ServerToClient, "-ERR this is message text", true),
		mk(explorer.ServerToClient, ".", true),
		mk(explorer.ClientToServer, "QUIT", false),
		mk(explorer.ServerToClient, "+OK bye", false),
	}
	for check, want := range map[string]bool{
		`sent command=AUTH reply=+OK`:     true, // the outcome of the SASL exchange
		`sent command=AUTH reply=+`:       false,
		`sent command=RETR reply=+OK`:     true,
		`sent command=QUIT reply=+OK`:     true,
		`sent command=RETR reply=-ERR`:    false,
		`sequence AUTH RETR/+OK QUIT/+OK`: true,
	} {
		if got := evalOn(t, check, evs); got != want {
			t.Errorf("%s: %v, want %v", check, got, want)
		}
	}
}

func TestAnswerCheck(t *testing.T) {
	c, err := parseCheck(`answer id=q question="Port?" choice=25 choice="587 (submission)" choice=110 expect=b`, 1)
	if err != nil {
		t.Fatal(err)
	}
	for ans, want := range map[string]bool{"b": true, "2": true, " B ": true, "587 (submission)": true, "a": false, "25": false, "": false, "9": false} {
		if got := c.Correct(ans); got != want {
			t.Errorf("Correct(%q) = %v", ans, got)
		}
	}
	c, _ = parseCheck(`answer id=q question="Name?" expect="mail.postlab.test|mx"`, 1)
	if !c.Correct("Mail.Postlab.Test.") || !c.Correct("MX") || c.Correct("postlab.test") {
		t.Error("free answers are compared without case and trailing dot")
	}
}

// Progress is saved in the data dir and survives a restart: passed steps,
// the current step, revealed hints and answers.
func TestProgressSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := NewModel(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := m.Open("what-happens")
	if h, ok := r.Hint(); !ok || h == "" {
		t.Fatal("no hint")
	}
	if ok, _ := r.Answer("submit", "MTA"); ok {
		t.Fatal("wrong answer accepted")
	}
	r.Answer("submit", "MSA")
	r.Answer("relay", "SMTP")
	if !r.View().Passed {
		t.Fatal("step 1 did not pass")
	}
	r.Next(ctx)

	m2, err := NewModel(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	it := m2.List()[0]
	if it.ID != "what-happens" || it.Passed != 1 || it.Status != "started" {
		t.Fatalf("after restart: %+v", it)
	}
	r2, _ := m2.Open("what-happens")
	v := r2.View()
	if v.Step != 1 || v.Steps[0].Status != StepPassed {
		t.Fatalf("after restart: step %d, steps %+v", v.Step, v.Steps)
	}
	r2.Prev(ctx)
	v = r2.View()
	if len(v.Hints) != 1 || !v.Passed || v.Explanation == "" || v.Checks[0].Question.Given != "msa" || v.Checks[0].Question.Tries != 1 {
		t.Fatalf("step 1 after restart: %+v", v)
	}

	// A damaged file is an error that says what to do, not a crash.
	os.WriteFile(filepath.Join(dir, ProgressFile), []byte("{not json"), 0o600)
	if _, err := NewModel(c, dir); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("damaged progress: %v", err)
	}
}

func TestSubscribersHearChecksPass(t *testing.T) {
	c, _ := Builtin()
	m, _ := NewModel(c, "")
	r, _ := m.Open("smtp-by-hand")
	n := 0
	cancel := r.Subscribe(func() { n++ })
	for _, e := range smtpLines("220 hi", "> EHLO me", "250 hello") {
		r.Observe(e)
	}
	if n == 0 {
		t.Fatal("no notification when a check passed")
	}
	v := r.View()
	if !v.Checks[0].Passed || v.Checks[1].Passed || v.Passed {
		t.Fatalf("checks %+v", v.Checks)
	}
	cancel()
	listChanged := 0
	m.Subscribe(func() { listChanged++ })
	before := n
	r.Answer("greet", "220")
	if n != before {
		t.Error("notified after cancel")
	}
	if !r.View().Passed {
		t.Error("step not passed after the answer")
	}
	if listChanged == 0 {
		t.Error("the model did not tell its subscribers")
	}
}

// Evidence from before a step began does not count for it.
func TestEvidenceBeforeTheStepDoesNotCount(t *testing.T) {
	c, _ := Builtin()
	m, _ := NewModel(c, "")
	r, _ := m.Open("smtp-by-hand")
	ctx := context.Background()
	for _, e := range smtpLines("220 hi", "> EHLO me", "250 hello", "> QUIT", "221 bye") {
		r.Observe(e)
	}
	r.Goto(ctx, 4) // QUIT step, never passed: since = now
	if v := r.View(); v.Checks[0].Passed {
		t.Fatal("a QUIT sent before the step counted")
	}
}

func TestBoundedMemory(t *testing.T) {
	tr := newTracker()
	for i := 0; i < 3*maxExchanges; i++ {
		tr.add(Evidence{Source: FromServer, Session: "1", Event: explorer.Event{Dir: explorer.ClientToServer, Line: "NOOP"}})
	}
	s := tr.order[0]
	if len(s.ex) > maxExchanges || len(s.pending) > 1000 {
		t.Fatalf("session keeps %d exchanges, %d pending", len(s.ex), len(s.pending))
	}
	for i := 0; i < maxSessions+10; i++ {
		tr.add(Evidence{Source: FromServer, Session: strconv.Itoa(i%100) + "-" + strings.Repeat("x", i/100), Event: explorer.Event{Dir: explorer.Local, Line: "x"}})
	}
	if len(tr.order) > maxSessions || len(tr.sessions) > maxSessions {
		t.Fatalf("%d sessions kept", len(tr.order))
	}
}

func FuzzParse(f *testing.F) {
	ents, _ := os.ReadDir("course")
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join("course", e.Name()))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse("fuzz.md", b)
		if err == nil && (l.ID == "" || len(l.Steps) == 0) {
			t.Fatalf("accepted a lesson without id or steps")
		}
	})
}

// unsupportedLab is a lab without fault scenarios.
type unsupportedLab struct{ *fakeLab }

func (unsupportedLab) SetScenario(context.Context, string) error    { return ErrUnsupported }
func (unsupportedLab) SetDNSFaults(context.Context, []string) error { return ErrUnsupported }

func TestLabSetUpErrorsAreShown(t *testing.T) {
	c, _ := Builtin()
	m, _ := NewModel(c, "")
	lab := unsupportedLab{newFakeLab()}
	m.SetLab(lab, lab)
	r, _ := m.Open("troubleshooting")
	ctx := context.Background()
	if err := r.Prepare(ctx); err != nil || r.View().LabErr != "" {
		t.Fatalf("a step without set-up: %v %q", err, r.View().LabErr)
	}
	r.Next(ctx) // greylisting
	if v := r.View(); !strings.Contains(v.LabErr, "cannot") || len(v.Lab) != 1 || v.Lab[0].Arg != "greylist" {
		t.Fatalf("LabErr %q, Lab %+v", v.LabErr, v.Lab)
	}
	r.Prev(ctx)
	if v := r.View(); v.LabErr != "" {
		t.Fatalf("LabErr stays after leaving the step: %q", v.LabErr)
	}
}

func TestResetProgress(t *testing.T) {
	dir := t.TempDir()
	c, _ := Builtin()
	m, _ := NewModel(c, dir)
	r, _ := m.Open("pop3-or-imap")
	ctx := context.Background()
	r.Goto(ctx, 2)
	r.Answer("devices", "IMAP")
	r.Answer("offline", "POP3")
	r.Answer("imaps", "993")
	if !r.View().Passed {
		t.Fatal("step 3 did not pass")
	}
	r.ResetProgress()
	if v := r.View(); v.Step != 0 || v.Passed || v.Steps[2].Status != StepTodo {
		t.Fatalf("after reset: %+v", v)
	}
	m2, _ := NewModel(c, dir)
	if it := m2.List()[13]; it.ID != "pop3-or-imap" || it.Status != "new" {
		t.Fatalf("after reset and restart: %+v", it)
	}
}

// BenchmarkObserve measures one piece of evidence arriving while a step
// with a sequence check is current and 500 earlier sessions are kept:
//
//	go test -run XXX -bench Observe ./lessons
//
// about 1 µs per event on the 2-core build machine (the checks look only
// at the session that changed).
func BenchmarkObserve(b *testing.B) {
	c, _ := Builtin()
	m, _ := NewModel(c, "")
	r, _ := m.Open("smtp-by-hand")
	r.Goto(context.Background(), 4)
	lines := smtpLines("220 hi", "> EHLO x", "250 ok", "> MAIL FROM:<a@postlab.test>", "250 ok", "> RCPT TO:<b@postlab.test>", "250 ok", "> NOOP", "250 ok")
	for i := range 500 {
		for _, e := range lines {
			e.Session = strconv.Itoa(i)
			r.Observe(e)
		}
	}
	noop := smtpLines("> NOOP", "250 ok")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := noop[i%2]
		e.Session = "live" + strconv.Itoa(i/200) // a session of 100 commands
		r.Observe(e)
	}
}

// FuzzEvidence feeds arbitrary trace lines to every check of the course:
// nothing may panic, whatever a server or client sends.
func FuzzEvidence(f *testing.F) {
	f.Add("220 hi\n>EHLO x\n250-a\n250 b\n>DATA\n354 go\n>Subject: x\n>\n>.\n250 ok", false)
	f.Add("+OK\n>USER bob\n+OK\n>AUTH PLAIN\n+ \n>****\n-ERR no\n>DELE 1\n+OK\n#closed", true)
	c, _ := Builtin()
	var checks []*Check
	for _, l := range c.Lessons {
		for _, s := range l.Steps {
			checks = append(checks, s.Checks...)
		}
	}
	f.Fuzz(func(t *testing.T, script string, pop3 bool) {
		tr := newTracker()
		proto := explorer.SMTP
		if pop3 {
			proto = explorer.POP3
		}
		for i, l := range strings.Split(script, "\n") {
			ev := Evidence{Source: FromServer, Session: strconv.Itoa(i % 3), Event: explorer.Event{Dir: explorer.ServerToClient, Line: l, State: explorer.State{Proto: proto, Multi: i%7 == 6}}}
			switch {
			case strings.HasPrefix(l, ">"):
				ev.Event.Dir, ev.Event.Line = explorer.ClientToServer, l[1:]
			case strings.HasPrefix(l, "#"):
				ev.Event.Dir, ev.Event.Line, ev.Event.State.Phase = explorer.Local, l[1:], explorer.PhaseClosed
			case strings.HasPrefix(l, "?"):
				ev = Evidence{Source: FromDNS, DNS: &DNSQuery{Name: l[1:], Type: "MX"}}
			}
			tr.add(ev)
		}
		env := &evalEnv{t: tr, boxes: newFakeLab(), answers: map[string]string{"q": script}}
		for _, ch := range checks {
			ch.eval(env)
		}
	})
}

// The front-matter value is everything after the first colon: quotes are
// optional, an unclosed one is reported, a missing key is named cleanly.
func TestFrontMatterValues(t *testing.T) {
	body := "## Step: one\nDo it.\n```check\ndns type=MX name=postlab.test\n```\n"
	for front, want := range map[string]string{
		"id: a\ntitle: POP3: the basics\nsummary: x: y: z":                "POP3: the basics|x: y: z",
		"id: a\ntitle: \"POP3: the basics\"\nsummary: \"say \\\"hi\\\"\"": `POP3: the basics|say "hi"`,
		"id: a\ntitle: The \"best\" one\nsummary: s":                      `The "best" one|s`,
	} {
		l, err := Parse("t.md", []byte("---\n"+front+"\n---\n"+body))
		if err != nil {
			t.Errorf("%q: %v", front, err)
			continue
		}
		if got := l.Title + "|" + l.Summary; got != want {
			t.Errorf("%q: got %q, want %q", front, got, want)
		}
	}
	_, err := Parse("t.md", []byte("---\nid: a\ntitle: \"POP3: the basics\nsummary: s\n---\n"+body))
	if err == nil || !strings.Contains(err.Error(), "t.md:3: title: the quote opened here is never closed") {
		t.Errorf("unclosed quote: %v", err)
	}
	_, err = Parse("t.md", []byte("---\nid: a\ntitle: t\n---\n"+body))
	if err == nil || !strings.HasSuffix(err.Error(), `t.md:1: front matter has no "summary:" line`) {
		t.Errorf("missing summary: %v", err)
	}
}

func TestCourseFind(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"1": c.Lessons[0].ID, "2": "smtp-by-hand", "#14": c.Lessons[13].ID, "smtp-by-hand": "smtp-by-hand", " 3 ": c.Lessons[2].ID} {
		if l := c.Find(ref); l == nil || l.ID != want {
			t.Errorf("Find(%q) = %v, want %s", ref, l, want)
		}
	}
	for _, ref := range []string{"0", "15", "-1", "", "nope"} {
		if l := c.Find(ref); l != nil {
			t.Errorf("Find(%q) = %s", ref, l.ID)
		}
	}
}

// Commands the course tells students to run must work against the lab:
// diag probes port 25 by default (the lab's SMTP is on 2525), and settings
// needs the lab's certificate to recommend anything.
func TestCourseCommandsFitTheLab(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cmdRE := regexp.MustCompile("`(postlab (?:diag|settings)[^`]*)`")
	n := 0
	for _, l := range c.Lessons {
		text := l.Intro
		for _, s := range l.Steps {
			text += "\n" + s.Text + "\n" + strings.Join(s.Hints, "\n") + "\n" + s.Explanation
		}
		for _, m := range cmdRE.FindAllStringSubmatch(strings.ReplaceAll(text, "\n", " "), -1) {
			n++
			cmd := m[1]
			switch {
			case strings.HasPrefix(cmd, "postlab diag") && !strings.Contains(cmd, "--no-probe") && !strings.Contains(cmd, "--port smtp=2525"):
				t.Errorf("%s: %q probes port 25, where the lab does not listen (add --no-probe or --port smtp={{port.smtp}})", l.File, cmd)
			case strings.HasPrefix(cmd, "postlab settings") && !strings.Contains(cmd, "--ca "):
				t.Errorf("%s: %q does not trust the lab's certificate (add --ca {{ca}})", l.File, cmd)
			}
		}
	}
	if n == 0 {
		t.Fatal("no postlab diag/settings command found in the course")
	}
}

// The course's own folder, or an unchanged copy of one of its lessons, is
// the same lesson and loads; a changed copy that keeps the id is a clash.
func TestLoadCourseCopy(t *testing.T) {
	c, err := Load("course")
	if err != nil {
		t.Fatalf("the course folder: %v", err)
	}
	if n := len(c.Lessons); n != 14 {
		t.Fatalf("%d lessons, want the 14 of the course once", n)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("course", "02-smtp-by-hand.md"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "copy.md"), b, 0o644)
	if _, err := Load(dir); err != nil {
		t.Fatalf("unchanged copy: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "copy.md"), append(b, "\nMore text.\n"...), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "give this lesson its own id") {
		t.Fatalf("changed copy: %v", err)
	}
}

// containsWord agrees with regexp's \b on the cases lessons meet.
func TestContainsWord(t *testing.T) {
	for _, s := range []string{"", "2525", "port 2525.", "25250", "12525", "a_2525", "(2525)", "x 2525\n", "25 and 2525", "2525x 2525"} {
		for _, w := range []string{"2525", "25", ".", "a_"} {
			want := regexp.MustCompile(`\b` + regexp.QuoteMeta(w) + `\b`).MatchString(s)
			if got := containsWord(s, w); got != want {
				t.Errorf("containsWord(%q, %q) = %v, want %v", s, w, got, want)
			}
		}
	}
}

// An indented code block right under a heading (or opening a hint or an
// explanation) keeps its indentation: trimming it would turn its first line
// into a paragraph that swallows the others (CommonMark §4.4).
func TestIndentedCodeAfterHeadingStaysCode(t *testing.T) {
	src := "---\nid: a\ntitle: t\nsummary: s\n---\n\n    intro code\n\n## Step: Log in\n\n    USER bob\n    PASS builder\n\n" +
		"```check\nanswer id=x question=q expect=y\n```\n\n```hint\n    RETR 1\n```\n\n```explain\n\n    QUIT\nthen text\n```\n"
	l, err := Parse("t.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Steps[0]
	for what, got := range map[string]string{
		"intro": l.Intro, "text": s.Text, "hint": s.Hints[0], "explanation": s.Explanation,
	} {
		if !strings.HasPrefix(got, "    ") || strings.HasSuffix(got, "\n") {
			t.Errorf("%s = %q, want its indented first line kept and no trailing newline", what, got)
		}
	}
	if s.Text != "    USER bob\n    PASS builder" {
		t.Errorf("text = %q", s.Text)
	}
}
