package tui

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

func fakeOptions(lab *fakeLab, fs **fakeSession) Options {
	return Options{
		Dial:     fakeDialer(fs),
		Annotate: fakeAnnotate,
		StartLab: func(bool) (Lab, error) { return lab, nil },
	}
}

func TestFirstScreenSaysWhatToPress(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	s := h.waitFor("runs real SMTP and POP3 sessions", "Enter connects to the lab", "? help", "lab: smtp 127.0.0.1:2525")
	t.Log("\n" + s)
}

func TestSessionFlowWithFake(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp 127.0.0.1:2525")
	h.key(tcell.KeyEnter) // the preset points at the lab
	h.waitFor("S: 220 mail.postlab.test ESMTP [fake]")
	h.line("EHLO [127.0.0.1]")
	s := h.waitFor("C: EHLO [127.0.0.1]", "S: 250-mail.postlab.test Hello [127.0.0.1]", "next:", "MAIL FROM:<alice@postlab.test>")
	t.Log("\n" + s)
	if !strings.Contains(s, "RFC") {
		t.Log("no note yet")
	}
}

func TestEveryScreenRendersAt80x24(t *testing.T) {
	lab := newFakeLab()
	o := fakeOptions(lab, nil)
	o.Diagnoser = fakeDiagnoser{}
	h := startApp(t, o, 120, 40)
	h.waitFor("lab: smtp")
	h.sim.SetSize(80, 24)
	h.app.tv.QueueUpdateDraw(func() {})
	want := map[rune][]string{
		'2': {"mailboxes", "alice", "bob", "outbox", "messages"},
		'3': {"server log", "No server-side traffic yet"},
		'4': {"Domain or address:", "findings"},
		'5': {"lessons: 0 of 14 done", "Your first SMTP session by hand", "Enter open lesson"},
		'6': {"paste (Ctrl-R explains)", "Open file:", "^R explain"},
		'1': {"connect", "Server", "Password"},
	}
	for _, k := range "234561" {
		h.key(tcell.KeyEscape) // leave a text field, so digits switch screens
		h.rune(k)
		s := h.waitFor(want[k]...)
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if len(lines) != 24 {
			t.Fatalf("screen %c has %d rows, want 24", k, len(lines))
		}
		if !strings.Contains(lines[23], "quit") {
			t.Errorf("screen %c: no key-hint bar on the last row: %q", k, lines[23])
		}
	}
	h.rune('?')
	h.waitFor("keys (Esc closes)", "Ctrl-O", "Esc")
	h.key(tcell.KeyEscape)
	h.waitFor("Password")
	if h.app.Dialog() != "" {
		t.Fatal("Esc did not close help")
	}
}

func TestMailboxesUpdateLive(t *testing.T) {
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, nil), 80, 24)
	h.waitFor("lab: smtp")
	h.rune('2')
	h.waitFor("alice", "bob")
	h.key(tcell.KeyDown) // bob
	h.waitFor("bob: 0 messages")
	lab.store.deliver("bob", "alice@postlab.test", "Lunch [today]?", "see you at noon")
	s := h.waitFor("bob: 1 message ", "alice@postlab.test", "Lunch [today]?", "see you at noon", "new mail in bob")
	if !strings.Contains(s, "bob 1/1") {
		t.Errorf("mailbox list does not count the unread message:\n%s", s)
	}
	h.rune('r')
	h.waitFor("Subject: Lunch [today]?", "To: bob@postlab.test")
}

func TestServerLogShowsLabTraces(t *testing.T) {
	lab := newFakeLab()
	lab.traces.emit(ServerLine{Session: 1, Listener: "smtp", Event: explorer.Event{Dir: explorer.ServerToClient, Line: "220 before the app"}})
	h := startApp(t, fakeOptions(lab, nil), 80, 24)
	h.waitFor("lab: smtp")
	h.rune('3')
	h.waitFor("#1 smtp 220 before the app")
	lab.traces.emit(ServerLine{Session: 2, Listener: "pop3", Event: explorer.Event{Dir: explorer.ClientToServer, TLS: true, Line: "USER [bob]"}})
	h.waitFor("C: #2 pop3 USER [bob]", lockMark)
}

type fakeDiagnoser struct {
	block    chan struct{}
	stubborn bool // finishes its work whatever the context says
}

func (f fakeDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	if f.stubborn {
		<-f.block
	} else if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Report{}, ctx.Err()
		}
	}
	fs := []Finding{
		{Check: "mx.records", Status: "pass", Summary: "2 MX hosts [primary first]", Ref: "RFC 5321 §5.1"},
		{Check: "spf.record", Status: "fail", Summary: "no SPF record", Detail: "Receivers cannot tell who may send for " + target, Fix: "publish v=spf1 mx -all", Ref: "RFC 7208 §4"},
	}
	for _, x := range fs {
		progress(x)
	}
	return Report{Target: target, Resolver: "127.0.0.1:2553", DurationMS: 12, Findings: fs}, nil
}

func TestDiagnoseShowsTreeAndCancels(t *testing.T) {
	block := make(chan struct{})
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{block: block}
	h := startApp(t, o, 80, 24)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	h.waitFor("checking example.org", "(running)")
	h.key(tcell.KeyEscape)
	h.waitFor("cancelled", "(stopped)")
	close(block)
	h.key(tcell.KeyEnter)
	// The failing area is open with the cursor on its finding; the
	// passing one is folded, with its count.
	s := h.waitFor("MX  1 ok", "SPF  1 failed", "no SPF record", "1 passed, 0 info, 0 warnings, 1 failed", "Fix: publish v=spf1 mx -all", "(RFC 7208 §4)")
	if !strings.Contains(s, "✘ fail") || strings.Contains(s, "2 MX hosts") {
		t.Errorf("want the failure shown and the passing MX area folded:\n%s", s)
	}
	h.key(tcell.KeyTab)   // to the tree
	h.key(tcell.KeyUp)    // SPF
	h.key(tcell.KeyUp)    // MX
	h.key(tcell.KeyEnter) // open MX
	h.waitFor("✔ ok   records 2 MX hosts [primary first]")
}

func TestPortTakenOffersFreePorts(t *testing.T) {
	lab := newFakeLab()
	var asked []bool
	o := fakeOptions(lab, nil)
	o.StartLab = func(free bool) (Lab, error) {
		asked = append(asked, free)
		if !free {
			return nil, fmt.Errorf("%w: 127.0.0.1:2525 (--smtp)", ErrPortTaken)
		}
		return lab, nil
	}
	h := startApp(t, o, 80, 24)
	h.waitFor("Lab port 127.0.0.1:2525 (--smtp)", "lab not started: port 2525 taken (L)", "L lab on free ports")
	h.rune('L')
	h.waitFor("The lab runs on free ports")
	if h.app.Lab() == nil {
		t.Fatal("no lab after L")
	}
	if len(asked) != 2 || asked[0] || !asked[1] {
		t.Fatalf("StartLab calls = %v, want [false true]", asked)
	}
}

func TestNoLab(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.NoLab = true
	h := startApp(t, o, 80, 24)
	h.waitFor("lab off (--no-lab)")
	h.rune('2')
	h.waitFor("The lab is off (--no-lab)")
}

func TestQuitStopsTheLab(t *testing.T) {
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, nil), 80, 24)
	h.waitFor("lab: smtp")
	h.rune('q')
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatal(err)
		}
		h.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("q did not quit")
	}
	lab.mu.Lock()
	defer lab.mu.Unlock()
	if !lab.closed {
		t.Fatal("the lab was not closed on quit")
	}
}

func TestEscCancelsASlowServer(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("220 mail.postlab.test")
	fs.slow = make(chan struct{})
	h.line("NOOP")
	h.waitFor("waiting for the server", "Esc cancel")
	h.key(tcell.KeyEscape)
	h.waitFor("cancelled")
	// The work ends on its own goroutine just after it says so.
	for deadline := time.Now().Add(20 * time.Second); h.app.Busy(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still busy after Esc")
		}
	}
}

func TestNoColorStaysLegible(t *testing.T) {
	var fs *fakeSession
	lab := newFakeLab()
	lab.store.deliver("bob", "alice@postlab.test", "hi", "body")
	o := fakeOptions(lab, &fs)
	o.NoColor = true
	o.Diagnoser = fakeDiagnoser{}
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	noColour := func(where string) {
		t.Helper()
		// The cells are read on the UI goroutine: a draw rewrites them.
		ch := make(chan string, 1)
		h.app.tv.QueueUpdate(func() {
			c, _, _ := h.sim.GetContents()
			for _, c := range c {
				if fg, bg, _ := c.Style.Decompose(); fg != tcell.ColorDefault || bg != tcell.ColorDefault {
					ch <- fmt.Sprintf("a cell %q has colours %v/%v", string(c.Runes), fg, bg)
					return
				}
			}
			ch <- ""
		})
		if bad := <-ch; bad != "" {
			t.Fatalf("%s: %s under NO_COLOR", where, bad)
		}
	}
	noColour("connect form")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	h.line("EHLO [127.0.0.1]")
	h.waitFor("C: EHLO [127.0.0.1]")
	noColour("session")
	h.key(tcell.KeyEscape)
	h.rune('2')
	h.waitFor("bob 1")
	noColour("mailboxes")
	h.rune('4')
	h.line("example.org")
	h.waitFor("no SPF record")
	noColour("diagnose")
}

func TestComposeShowsDotStuffingAndSends(t *testing.T) {
	h := startAtRcpt(t, 80, 24)
	h.key(tcell.KeyCtrlO)
	s := h.waitFor("on the wire after DATA", "..a line that starts with a dot", "dot-stuffed", "end of data")
	_ = s
	// Tab to the Send button: From, To, Subject, Body, Send.
	for i := 0; i < 4; i++ {
		h.key(tcell.KeyTab)
	}
	h.key(tcell.KeyEnter)
	h.waitFor("C: DATA", "S: 354", "C: ..a line that starts with a dot", "C: .", "S: 250 2.0.0 OK: queued")
}

func TestHistoryCompletionWrapAndSave(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.SaveDir = t.TempDir()
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	long := "EHLO " + strings.Repeat("a", 70) + "-END"
	h.line(long)
	// A line longer than the trace is wrapped, not cut.
	h.waitFor("C: EHLO aaaa", "a-END")
	h.line("MAIL FROM:<alice@postlab.test>")
	h.waitFor("S: 250 2.1.0")
	// History: Up twice brings back the EHLO line.
	h.key(tcell.KeyUp)
	h.key(tcell.KeyUp)
	h.waitCmd(long)
	h.key(tcell.KeyDown)
	h.key(tcell.KeyDown)
	h.typ("rc")
	h.waitCmd("rc") // the draft came back empty, then took "rc"
	// Tab completes the only command valid now that starts with "rc".
	h.key(tcell.KeyTab)
	h.waitCmd("RCPT TO:<bob@postlab.test>")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 250 2.1.5")
	// Ctrl-S saves the transcript; Enter in the file field saves as text.
	h.key(tcell.KeyCtrlS)
	h.waitFor("save transcript", "Format  text (annotated)")
	h.key(tcell.KeyEnter)
	h.waitFor("saved " + o.SaveDir)
	matches, _ := filepath.Glob(filepath.Join(o.SaveDir, "postlab-*.txt"))
	if len(matches) != 1 {
		t.Fatalf("saved files: %v", matches)
	}
	b, _ := os.ReadFile(matches[0])
	for _, want := range []string{"<- 220 mail.postlab.test", "-> " + long, "-> RCPT TO:<bob@postlab.test>", "== 250: requested action completed"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("transcript lacks %q:\n%s", want, b)
		}
	}
}

func (h *harness) waitCmd(want string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.cmdText() != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.cmdText(); got != want {
		h.t.Fatalf("command line = %q, want %q", got, want)
	}
}

func (h *harness) cmdText() string { return onUI(h, h.app.session.cmd.GetText) }

func TestMouseClicksTabsAndPalette(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220", "next: 1 EHLO")
	click := func(text string, row int) {
		t.Helper()
		s := h.text()
		lines := strings.Split(s, "\n")
		if row < 0 {
			for i, l := range lines {
				if strings.Contains(l, text) {
					row = i
				}
			}
		}
		col := strings.Index(lines[row], text)
		if col < 0 {
			t.Fatalf("%q not on row %d:\n%s", text, row, s)
		}
		col = len([]rune(lines[row][:col])) + 1
		h.sim.InjectMouse(col, row, tcell.Button1, tcell.ModNone)
		h.sim.InjectMouse(col, row, tcell.ButtonNone, tcell.ModNone)
	}
	click("EHLO client.postlab.test", -1) // the palette fills the command line
	h.waitCmd("EHLO client.postlab.test")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 250 STARTTLS")
	click("S: 220 mail.postlab.test", -1) // select a line: its note shows
	h.waitFor("sent by the server", "state greeted")
	// The wheel moves the selection down from the greeting.
	before, _ := h.app.session.trace.Selected()
	h.sim.InjectMouse(10, 3, tcell.WheelDown, tcell.ModNone)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if seq, _ := h.app.session.trace.Selected(); seq > before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if seq, _ := h.app.session.trace.Selected(); seq <= before {
		t.Fatalf("wheel down left the selection at %d", seq)
	}
	click("3 Log", 0)
	h.waitFor("No server-side traffic yet")
	if h.app.Current() != 2 {
		t.Fatalf("screen %d after clicking the Server log tab", h.app.Current())
	}
	click("1-6 screens", 23) // a hint without an action: the keyboard stays put
	h.rune('1')
	h.waitFor("next:")
	if h.app.Current() != 0 {
		t.Fatalf("after clicking a hint, '1' did not switch screens (screen %d)", h.app.Current())
	}
	click("3 Log", 0)
	h.waitFor("No server-side traffic yet")
	click("q quit", 23) // the key-hint bar is clickable too
	h.waitFor("Quit postlab? The session to smtp://127.0.0.1:2525 will be", "y quit")
	click("y quit", 23) // so is the question's answer
	select {
	case <-h.done:
		h.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("clicking 'q quit' did not quit")
	}
}

func TestConnectOptionOpensTheSession(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.Connect = &Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110, Security: StartTLS, User: "bob"}
	h := startApp(t, o, 80, 24)
	h.waitFor("pop3://bob@127.0.0.1:2110?starttls", "S: +OK POP3 ready", "next:", "USER bob")
}

type fakeLessons struct{ tv *tview.TextView }

func (f fakeLessons) Name() string                  { return "Lessons" }
func (f fakeLessons) Root() tview.Primitive         { return f.tv }
func (f fakeLessons) Focusables() []tview.Primitive { return []tview.Primitive{f.tv} }
func (f fakeLessons) Hints() []Hint                 { return []Hint{{"n", "next step", nil}} }

func TestLessonsPlugIn(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Lessons = func(a *App) Screen {
		return fakeLessons{tview.NewTextView().SetText("Lesson 1: your first SMTP session")}
	}
	h := startApp(t, o, 80, 24)
	h.key(tcell.KeyEscape)
	h.rune('5')
	h.waitFor("Lesson 1: your first SMTP session", "n next step")
}

func TestSubscribeSessionSeesClientEvents(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	got := make(chan string, 100)
	cancel := h.app.SubscribeSession(func(n uint64, ev explorer.Event) { got <- fmt.Sprintf("%d %s %s", n, ev.Dir, ev.Line) })
	defer cancel()
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	h.line("EHLO x")
	h.waitFor("S: 250 STARTTLS")
	want := []string{"1 s2c 220 mail.postlab.test ESMTP [fake]", "1 c2s EHLO x"}
	for _, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Fatalf("event %q, want %q", g, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %q", w)
		}
	}
}

func TestRealPasswordsAreSentButNeverShown(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.Suggest = func(st explorer.State, caps []string) []Suggestion {
		return []Suggestion{{Command: "AUTH PLAIN", Why: "log in"}, {Command: "QUIT"}}
	}
	o.Connect = &Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 10587, Security: Plain, User: "carol", Password: "s3cret"}
	h := startApp(t, o, 80, 24)
	h.waitFor("S: 220", "next: 1 AUTH PLAIN <credentials>  2 QUIT")
	h.key(tcell.KeyCtrlP)
	h.rune('1')
	h.waitCmd("AUTH PLAIN <credentials>") // a pick waits for Enter
	h.key(tcell.KeyEnter)
	want := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00carol\x00s3cret"))
	h.waitFor("C: " + want) // the fake server does not mask; explorer does
	hist := make(chan []string, 1)
	h.app.tv.QueueUpdate(func() { hist <- h.app.session.cmds.History() })
	if strings.Contains(h.cmdText(), "s3cret") || contains(<-hist, want) {
		t.Fatalf("the password went to the command line or the history")
	}
}

func TestNoLabPresetsTrustTheGivenLabRoots(t *testing.T) {
	roots := x509.NewCertPool()
	o := fakeOptions(newFakeLab(), nil)
	o.NoLab = true
	o.LabRoots = roots
	h := startApp(t, o, 80, 24)
	h.waitFor("lab off")
	ch := make(chan *x509.CertPool, 1)
	h.app.tv.QueueUpdate(func() {
		h.app.session.form.preset.SetCurrentOption(1) // submission
		tg, _ := h.app.session.form.target()
		ch <- tg.RootCAs
	})
	if got := <-ch; got != roots {
		t.Fatal("a lab preset without the in-app lab does not use LabRoots")
	}
}

// g and G (Home and End) select the first and last line of the findings,
// and the detail pane follows; tview on its own would only scroll.
func TestDiagnoseTreeHomeEndSelect(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{}
	h := startApp(t, o, 80, 24)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	h.waitFor("Fix: publish v=spf1 mx -all") // the cursor is on the failure
	h.key(tcell.KeyTab)
	h.rune('g')
	s := h.waitFor("Enter opens or closes this area.")
	if strings.Contains(s, "Fix: publish") {
		t.Fatalf("g left the detail of the failure:\n%s", s)
	}
	h.rune('G')
	h.waitFor("Fix: publish v=spf1 mx -all")
	h.key(tcell.KeyHome)
	h.waitFor("Enter opens or closes this area.")
}

// Alt-l with the lab already running says so instead of doing nothing.
func TestAltLWithTheLabRunning(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 100, 30)
	h.waitFor("lab: smtp")
	h.sim.InjectKey(tcell.KeyRune, 'l', tcell.ModAlt)
	h.waitFor("The lab already runs (SMTP ")
}
