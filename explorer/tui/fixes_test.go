package tui

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
	"postlab/lessons"
)

// focus is the focused primitive, read on the UI goroutine.
func (h *harness) focus() tview.Primitive {
	ch := make(chan tview.Primitive, 1)
	h.app.tv.QueueUpdate(func() { ch <- h.app.tv.GetFocus() })
	return <-ch
}

// waitFocus waits until p has the focus.
func (h *harness) waitFocus(p tview.Primitive, what string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.focus() != p && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.focus() != p {
		h.t.Fatalf("focus is on %T, want %s\n%s", h.focus(), what, h.text())
	}
}

func TestDialogsGiveTheFocusBack(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.SaveDir = t.TempDir()
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	cmd := h.app.session.cmd
	h.waitFocus(cmd, "the command line")

	// Ctrl-S, Enter: saved, and typing goes to the command line again
	// (a q must not quit).
	h.key(tcell.KeyCtrlS)
	h.waitFor("save transcript")
	h.key(tcell.KeyEnter)
	h.waitFor("saved ")
	h.waitFocus(cmd, "the command line after saving")
	time.Sleep(50 * time.Millisecond)
	h.waitFocus(cmd, "the command line after saving")
	h.typ("/tmp/xq")
	h.waitCmd("/tmp/xq")

	// Ctrl-S, Esc.
	h.key(tcell.KeyCtrlS)
	h.waitFor("save transcript")
	h.key(tcell.KeyEscape)
	h.waitFocus(cmd, "the command line after Esc")

	// Ctrl-S, Shift-Tab back to the file field, Enter.
	h.key(tcell.KeyCtrlS)
	h.waitFor("save transcript")
	for i := 0; i < 4; i++ { // Cancel, Save, Format, File
		h.key(tcell.KeyBacktab)
	}
	h.key(tcell.KeyEnter)
	time.Sleep(50 * time.Millisecond)
	h.waitFocus(cmd, "the command line after saving from the field")

	// From the trace: help opens and closes back to the trace.
	h.key(tcell.KeyBackspace2)
	h.key(tcell.KeyCtrlU)
	h.waitCmd("")
	h.key(tcell.KeyTab) // an empty line: the next pane
	view := h.app.session.view
	h.waitFocus(view, "the trace")
	h.rune('?')
	h.waitFor("keys (Esc closes)")
	h.key(tcell.KeyEscape)
	h.waitFocus(view, "the pane that opened help")
	if h.app.stopped.Load() {
		t.Fatal("the app quit")
	}
}

// labTarget is a target at one of the lab's listeners.
func (h *harness) labTarget(listener string, proto explorer.Protocol, sec Security, user, pass string) Target {
	h.t.Helper()
	host, port, err := net.SplitHostPort(h.app.Lab().Addr(listener))
	if err != nil {
		h.t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	return Target{Proto: proto, Host: host, Port: n, Security: sec, User: user, Password: pass}
}

func TestPasswordsNeverShow(t *testing.T) {
	h := startApp(t, realLabOptions(t), 100, 30)
	h.waitFor("lab: smtp 127.0.0.1:")
	const pass = "hunter2xyz"
	secret := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pass))

	// POP3: the palette offers PASS with a placeholder once USER is
	// accepted (the lab takes it only over TLS).
	pt := h.labTarget("pop3", explorer.POP3, StartTLS, "alice", pass)
	h.app.tv.QueueUpdateDraw(func() { h.app.Connect(pt) })
	h.waitFor("S: +OK")
	h.line("USER alice")
	h.waitLast("+OK")
	s := h.waitFor("PASS ••••")
	if strings.Contains(s, pass) {
		t.Fatalf("the password shows:\n%s", s)
	}

	// Submission: AUTH PLAIN with a placeholder; picking it sends the
	// real credentials, which the screen never shows.
	st := h.labTarget("submission", explorer.SMTP, StartTLS, "alice", pass)
	h.app.tv.QueueUpdateDraw(func() { h.app.Connect(st) })
	h.waitFor("S: 220 ")
	h.line("EHLO [127.0.0.1]")
	h.waitLast("250 ")
	s = h.waitFor("AUTH PLAIN <credentials>")
	if strings.Contains(s, pass) || strings.Contains(s, secret) {
		t.Fatalf("the credentials show:\n%s", s)
	}
	// AUTH PLAIN alone: the 334 makes the command line type blind.
	h.line("AUTH PLAIN")
	h.waitLast("334")
	h.typ("c2VjcmV0")
	s = h.waitFor("> ********")
	if strings.Contains(s, "c2VjcmV0") {
		t.Fatalf("the SASL answer shows while typed:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	h.waitLast("5")
	h.typ("RSET")
	h.waitFor("> RSET")
}

func TestDiagnoseProbesTheLabsServers(t *testing.T) {
	l := startTestLab(t)
	d := DiagDiagnoser{
		Domain:  "postlab.test",
		LabDNS:  func() string { return l.Addr("dns") },
		LabCA:   l.CertPool,
		LabAddr: l.Addr,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := d.Diagnose(ctx, "postlab.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&all, "%s %s %s | %s | %s\n", f.Check, f.Status, f.Summary, f.Detail, f.Fix)
	}
	s := all.String()
	_, smtpPort, _ := net.SplitHostPort(l.Addr("smtp"))
	_, pop3Port, _ := net.SplitHostPort(l.Addr("pop3"))
	for _, want := range []string{":" + smtpPort, ":" + pop3Port, "lab._domainkey"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in the findings:\n%s", want, s)
		}
	}
	for _, flag := range []string{"--dkim-selector", "--ask-password", "POSTLAB_PASSWORD", "--port smtp=2525"} {
		if strings.Contains(s, flag) {
			t.Errorf("a finding names %s, which the app cannot set:\n%s", flag, s)
		}
	}
	if strings.Contains(s, " fail ") {
		t.Logf("failures:\n%s", s)
	}
}

func TestDiagTextsInAppTerms(t *testing.T) {
	for in, want := range map[string]string{
		"Run again with --dkim-selector SELECTOR.":                                    "Troubleshoot (6)",
		"offers PLAIN; login not tested (set POSTLAB_PASSWORD or use --ask-password)": "Session screen (1)",
		"Retry; if it persists, the resolver is failing (try --resolver).":            "start the app with --resolver",
	} {
		if got := appTerms(in); !strings.Contains(got, want) || strings.Contains(got, "--dkim-selector SELECTOR.") && !strings.Contains(got, "postlab diag") {
			t.Errorf("appTerms(%q) = %q, want it to mention %q", in, got, want)
		}
	}
}

func TestEscCancelsDiagnoseAtOnce(t *testing.T) {
	block := make(chan struct{})
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{block: block, stubborn: true}
	h := startApp(t, o, 80, 24)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	h.waitFor("checking example.org", "(running)")
	h.key(tcell.KeyEscape)
	h.waitFor("cancelled", "(stopped)")
	close(block) // the checks end anyway: their late results are dropped
	time.Sleep(100 * time.Millisecond)
	s := h.waitFor("cancelled", "(stopped)")
	if strings.Contains(s, "no SPF record") || strings.Contains(s, "1 failed") {
		t.Fatalf("late results of a cancelled run show:\n%s", s)
	}
}

func TestNewConnectionInALessonFocusesThePicker(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.DataDir = t.TempDir()
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.rune('5')
	h.waitFor("Your first SMTP session by hand")
	h.key(tcell.KeyDown)
	h.key(tcell.KeyEnter)
	h.waitFor("not connected")
	h.key(tcell.KeyTab)
	h.key(tcell.KeyDown) // the picker remembers nothing of this
	h.key(tcell.KeyUp)
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 ")
	for _, open := range []func(){
		func() { h.key(tcell.KeyCtrlN) },
		func() { h.app.tv.QueueUpdateDraw(func() { h.app.session.pick(Suggestion{Command: newCommand}) }) },
	} {
		h.waitFocus(h.app.session.cmd, "the command line")
		h.app.tv.QueueUpdateDraw(func() { h.app.lessons.presets.SetCurrentItem(2) })
		open()
		h.waitFor("End the session to") // it is live: asked first
		h.rune('y')
		h.waitFor("not connected: Enter opens a session")
		h.waitFocus(h.app.lessons.presets, "the picker")
		if i := h.app.lessons.presets.GetCurrentItem(); i != 0 {
			t.Fatalf("the picker starts at row %d", i)
		}
		h.key(tcell.KeyEnter)
		h.waitFor("S: 220 ")
		if h.app.Current() != 4 {
			t.Fatalf("left the lesson for screen %d", h.app.Current()+1)
		}
	}
}

func TestLessonFaultsEndWhenTheLessonIsLeft(t *testing.T) {
	o := realLabOptions(t)
	o.DataDir = t.TempDir()
	h := startApp(t, o, 100, 30)
	h.waitFor("lab: smtp 127.0.0.1:")
	var id string
	var step int
	for _, l := range h.app.lessons.model.Course().Lessons {
		for i, st := range l.Steps {
			for _, x := range st.Lab {
				if id == "" && x.Kind == "scenario" {
					id, step = l.ID, i
				}
			}
		}
	}
	if id == "" {
		t.Fatal("no lesson step has a fault scenario")
	}
	scenario := func() string {
		ch := make(chan string, 1)
		h.app.tv.QueueUpdate(func() { ch <- h.app.localLab().Scenario() })
		return <-ch
	}
	waitScenario := func(on bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for (scenario() != "") != on && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if (scenario() != "") != on {
			t.Fatalf("scenario %q, want on=%v\n%s", scenario(), on, h.text())
		}
	}
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open(id) })
	h.waitFor("Step 1 of")
	for i := 0; i < step; i++ {
		h.rune('n')
	}
	waitScenario(true)
	h.waitFor("⚠ lab fault: " + scenario())

	h.rune('1') // another screen
	waitScenario(false)
	s := h.waitFor("Session")
	if strings.Contains(s, "lab fault") {
		t.Fatalf("the status bar still shows a fault:\n%s", s)
	}
	h.rune('5') // back: the step's fault again
	waitScenario(true)
	h.rune('l') // the list
	waitScenario(false)
}

func TestLinesTypedBeforeTheGreetingWait(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			conns <- c
		}
	}()
	o := realLabOptions(t)
	o.StartLab = nil
	h := startApp(t, o, 100, 30)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n, _ := strconv.Atoi(port)
	h.app.tv.QueueUpdateDraw(func() {
		h.app.Connect(Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: n, Security: Plain})
	})
	var c net.Conn
	select {
	case c = <-conns:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}
	defer c.Close()
	s := h.waitFor("connected; waiting for the server's greeting")
	if strings.Contains(s, "connecting to 127.0.0.1:"+port+"…") {
		t.Errorf("the status bar still says connecting:\n%s", s)
	}
	h.line("EHLO early.example")
	h.waitFor("queued until the server's greeting: EHLO early.example", "waiting for the greeting")
	c.Write([]byte("220 late ESMTP\r\n"))
	h.waitFor("C: EHLO early.example")
}

func TestDigitsSwitchScreensOnArrival(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{}
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.rune('4')
	h.waitFor("Domain or address:")
	h.rune('6') // not typed into the Diagnose field
	h.waitFor("paste (Ctrl-R explains)")
	deadline := time.Now().Add(5 * time.Second)
	for h.app.Current() != 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.app.Current() != 5 {
		t.Fatalf("6 on Diagnose left the app on screen %d", h.app.Current()+1)
	}
	h.key(tcell.KeyEscape) // out of the paste area
	h.rune('4')
	h.typ("example.org") // a name typed on arrival lands in the field
	h.key(tcell.KeyEnter)
	h.waitFor("findings for example.org")
	// The palette: digits pick, and the hints say so.
	h.key(tcell.KeyEscape) // out of the field
	h.rune('1')
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	h.key(tcell.KeyCtrlP)
	s := h.waitFor("1-9 pick", "Alt-1..6 screens")
	if strings.Contains(s, "1-6 screens") {
		t.Errorf("the hints offer 1-6 in the palette:\n%s", s)
	}
}

func TestWithoutALabEveryScreenSaysWhy(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Options)
		mail string
		log  string
	}{
		{"no-lab", func(o *Options) { o.NoLab = true }, "The lab is off (--no-lab)", "The lab is off (--no-lab)"},
		{"lab-host", func(o *Options) { o.LabHost = "127.0.0.2"; o.NoLab = true }, "teacher's lab at 127.0.0.2", "teacher's lab at 127.0.0.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := fakeOptions(newFakeLab(), nil)
			c.set(&o)
			h := startApp(t, o, 80, 24)
			s := h.waitFor("Protocol")
			if c.name == "no-lab" && strings.Contains(s, "connects to the lab") {
				t.Errorf("the intro offers the lab:\n%s", s)
			}
			h.rune('2')
			h.waitFor(c.mail)
			h.rune('3')
			s = h.waitFor(c.log)
			if strings.Contains(s, "appears here") {
				t.Errorf("the server log promises traffic:\n%s", s)
			}
		})
	}
}

func TestTabsFollowAResize(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("2 Mail ", "6 Trouble ", "lab: smtp")
	time.Sleep(300 * time.Millisecond) // the lab's start has settled
	h.sim.SetSize(120, 30)
	// A resize event alone, as a terminal sends it: no other key or redraw.
	h.sim.PostEvent(tcell.NewEventResize(120, 30))
	deadline := time.Now().Add(5 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = h.text()
		if strings.Contains(s, "2 Mailboxes ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the tabs stay short after a resize:\n%s", s)
}

// row is the cells of the screen row that contains s.
func (h *harness) row(s string) []tcell.SimCell {
	ch := make(chan []tcell.SimCell, 1)
	h.app.tv.QueueUpdate(func() {
		cells, w, ht := h.sim.GetContents()
		for y := 0; y < ht; y++ {
			var b strings.Builder
			for x := 0; x < w; x++ {
				b.WriteString(string(cells[y*w+x].Runes))
			}
			if strings.Contains(b.String(), s) {
				// A copy: the next draw rewrites the screen's own cells.
				row := make([]tcell.SimCell, w)
				for x, c := range cells[y*w : (y+1)*w] {
					c.Runes = append([]rune(nil), c.Runes...)
					c.Bytes = append([]byte(nil), c.Bytes...)
					row[x] = c
				}
				ch <- row
				return
			}
		}
		ch <- nil
	})
	return <-ch
}

func TestNoColorFieldsAndFocusShow(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.NoColor = true
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp", "Server ")
	// The empty User field shows as an underlined blank.
	var underlined int
	for _, c := range h.row("User ") {
		if _, _, attr := c.Style.Decompose(); attr&tcell.AttrUnderline != 0 {
			underlined++
		}
	}
	if underlined < 10 {
		t.Errorf("the empty User field is invisible without colour (%d underlined cells)", underlined)
	}
	// The focused drop-down is marked.
	h.app.tv.QueueUpdateDraw(func() {
		h.app.session.form.form.SetFocus(0)
		h.app.tv.SetFocus(h.app.session.form.form)
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		var reversed int
		for _, c := range h.row("Server ") {
			if _, _, attr := c.Style.Decompose(); attr&tcell.AttrReverse != 0 {
				reversed++
			}
		}
		if reversed > 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the focused drop-down has no mark without colour:\n%s", h.text())
		}
		h.app.tv.QueueUpdateDraw(func() {})
		time.Sleep(20 * time.Millisecond)
	}
}

// movedLab is a fake lab on free ports.
type movedLab struct{ *fakeLab }

func (l movedLab) Addr(name string) string {
	return map[string]string{"smtp": "127.0.0.1:41025", "pop3": "127.0.0.1:41110", "submission": "127.0.0.1:41587"}[name]
}

func TestLabOnFreePortsStaysInSight(t *testing.T) {
	lab := movedLab{newFakeLab()}
	o := fakeOptions(lab.fakeLab, nil)
	o.DataDir = t.TempDir()
	o.StartLab = func(free bool) (Lab, error) {
		if !free {
			return nil, fmt.Errorf("%w: 127.0.0.1:2525 (--smtp)", ErrPortTaken)
		}
		return lab, nil
	}
	h := startApp(t, o, 80, 24)
	h.waitFor("lab not started: port 2525 taken (L)")
	h.rune('L')
	h.waitFor("The lab runs on free ports", "lab: smtp 127.0.0.1:41025  pop3 127.0.0.1:41110")
	// The lesson's text names the ports the lab really uses.
	h.rune('5')
	h.waitFor("Your first SMTP session by hand")
	h.key(tcell.KeyDown)
	h.key(tcell.KeyEnter)
	s := h.waitFor("Step 1 of")
	if strings.Contains(s, "ports here") {
		t.Errorf("a note repeats the ports the text names:\n%s", s)
	}
	ch := make(chan string, 1)
	h.app.tv.QueueUpdate(func() { ch <- h.app.lessons.text.GetText(true) })
	if text := <-ch; !strings.Contains(text, "127.0.0.1:41025") || strings.Contains(text, "2525") {
		t.Errorf("the lesson does not name the lab's real port:\n%s", text)
	}
}

// The lessons name the lab in use everywhere, with the data dir's
// certificate; a teacher's lesson written without placeholders gets the
// note with the real ports instead.
func TestLessonsFollowTheLab(t *testing.T) {
	extra := t.TempDir()
	os.WriteFile(filepath.Join(extra, "old.md"), []byte("---\nid: old-ports\ntitle: A lesson of old\nsummary: names the port\n---\n## Step: Connect\nConnect to 127.0.0.1:2525 and say EHLO.\n```check\nsent command=EHLO reply=250\n```\n"), 0o644)
	course, err := lessons.Load(extra)
	if err != nil {
		t.Fatal(err)
	}
	lab := movedLab{newFakeLab()}
	o := fakeOptions(lab.fakeLab, nil)
	o.DataDir = t.TempDir()
	o.Course = course
	o.StartLab = func(bool) (Lab, error) { return lab, nil }
	h := startApp(t, o, 160, 50)
	h.waitFor("lab: smtp 127.0.0.1:41025")
	h.rune('5')
	h.waitFor("STARTTLS and AUTH")
	for range 5 {
		h.key(tcell.KeyDown)
	}
	h.key(tcell.KeyEnter) // lesson 6
	h.waitFor("lesson 6:", "127.0.0.1:41587")
	for range 2 {
		h.rune('n')
	}
	s := h.waitFor("Step 3 of")
	ch := make(chan string, 1)
	h.app.tv.QueueUpdate(func() { ch <- h.app.lessons.text.GetText(true) })
	text := strings.Join(strings.Fields(<-ch), " ") // as it reads, whatever the wrapping
	want := "--ca " + lessons.ShortHome(filepath.Join(o.DataDir, "tls", "cert.pem")) + " 127.0.0.1:41587 does the whole"
	if !strings.Contains(text, want) || strings.Contains(text, "2587") || strings.Contains(s, "ports here") {
		t.Errorf("lesson 6 on other ports lacks %q:\n%s\n%s", want, text, s)
	}
	h.rune('l')
	h.waitFor("A lesson of old")
	for range 14 {
		h.key(tcell.KeyDown)
	}
	h.key(tcell.KeyEnter)
	h.waitFor("lesson 15:", "Connect to 127.0.0.1:2525", "ports here (not as the text says): smtp 41025")
}

// With a teacher's lab, the lessons name its host and the default ports.
func TestLessonsNameTheTeachersLab(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.LabHost = "192.0.2.7"
	o.NoLab = true
	h := startApp(t, o, 120, 40)
	h.rune('5')
	h.waitFor("Your first SMTP session by hand")
	h.key(tcell.KeyDown)
	h.key(tcell.KeyEnter)
	s := h.waitFor("Step 1 of", "192.0.2.7:2525")
	if strings.Contains(s, "127.0.0.1") {
		t.Errorf("the lesson names the local lab:\n%s", s)
	}
}

func TestWrapKeepsWordsWhole(t *testing.T) {
	in := "250-mail.postlab.test Hello client.postlab.test [127.0.0.1], pleased to meet you"
	parts := wrap(in, 24)
	if strings.Join(parts, "") != in {
		t.Fatalf("wrap lost text: %q", parts)
	}
	for i, p := range parts {
		if runewidthOf(p) > 24 {
			t.Errorf("piece %q is wider than 24", p)
		}
		if i > 0 && !strings.HasSuffix(parts[i-1], " ") {
			t.Errorf("a word is cut between %q and %q", parts[i-1], p)
		}
	}
}

func runewidthOf(s string) int { return len([]rune(s)) }

func TestPluralsAndPrivateTranscripts(t *testing.T) {
	if plural(1, "message") != "1 message" || plural(2, "hint") != "2 hints" || plural(0, "hop") != "0 hops" {
		t.Error("plural")
	}
	p := t.TempDir() + "/t.txt"
	if err := saveTranscript(p, false, nil, []Entry{ev(explorer.ServerToClient, "220 hi")}, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("a saved transcript has mode %o, want 600", m)
	}
}
