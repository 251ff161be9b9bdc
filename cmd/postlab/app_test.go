package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer/lab"
	"postlab/explorer/tui"
)

func TestConnectFlagRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"imap://x", "smtps://x?starttls", "not a url"} {
		if code := run([]string{"--connect", u, "--no-lab"}); code != exitUsage {
			t.Errorf("--connect %q: exit %d, want %d", u, code, exitUsage)
		}
	}
}

func TestAppNeedsATerminal(t *testing.T) {
	if code := run([]string{"--no-lab"}); code != exitUsage {
		t.Fatalf("without a terminal: exit %d, want %d", code, exitUsage)
	}
}

// freeLabFlags puts every lab listener on a free port and the data in a
// temporary directory.
func freeLabFlags(t *testing.T) []string {
	return []string{"--data", t.TempDir(), "--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0",
		"--submissions", "127.0.0.1:0", "--pop3", "127.0.0.1:0", "--pop3s", "127.0.0.1:0", "--dns", "127.0.0.1:0"}
}

// screenText reads the simulation screen on the app's goroutine.
func screenText(app *tui.App, sim tcell.SimulationScreen) string {
	ch := make(chan string, 1)
	app.Application().QueueUpdate(func() {
		cells, w, h := sim.GetContents()
		var b strings.Builder
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				b.WriteString(string(cells[y*w+x].Runes))
			}
			b.WriteByte('\n')
		}
		ch <- b.String()
	})
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		return ""
	}
}

func TestBarePostlabStartsTheLabAndQuits(t *testing.T) {
	sim := tcell.NewSimulationScreen("UTF-8")
	started := make(chan *tui.App, 1)
	appScreen, appStarted = sim, func(a *tui.App) { started <- a }
	defer func() { appScreen, appStarted = nil, nil }()
	done := make(chan int, 1)
	go func() { done <- run(freeLabFlags(t)) }()
	var app *tui.App
	select {
	case app = <-started:
	case code := <-done:
		t.Fatalf("postlab exited %d before the app started", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		app.Application().QueueUpdateDraw(func() {})
		if s = screenText(app, sim); strings.Contains(s, "lab: smtp 127.0.0.1:") && strings.Contains(s, "Enter connects to the lab") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s, "lab: smtp 127.0.0.1:") {
		t.Fatalf("the lab did not start:\n%s", s)
	}
	lab := app.Lab()
	sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after q, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("q did not quit")
	}
	// The lab is closed: its SMTP port no longer accepts.
	if c, err := (&netDialer{}).dial(lab.Addr("smtp")); err == nil {
		c.Close()
		t.Fatal("the lab still accepts connections after quitting")
	}
}

// needTool skips when prog is missing, or fails when POSTLAB_INTEROP=1 asks
// for every interoperability test to run.
func needTool(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("POSTLAB_INTEROP") == "1" {
			t.Fatalf("POSTLAB_INTEROP=1 but %s is not installed", prog)
		}
		t.Skipf("%s is not installed", prog)
	}
	return p
}

// tmuxPane drives the real binary in a detached tmux session on its own
// server socket.
type tmuxPane struct {
	t      *testing.T
	tmux   string
	socket string
}

func (p *tmuxPane) cmd(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p *tmuxPane) capture() string { return p.cmd("capture-pane", "-p", "-t", "e2e") }

func (p *tmuxPane) keys(keys ...string) {
	p.cmd(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
	time.Sleep(150 * time.Millisecond) // let a lone Esc be read as Esc, not Alt
}

func (p *tmuxPane) typeLine(s string) {
	p.cmd("send-keys", "-t", "e2e", "-l", s)
	p.keys("Enter")
}

func (p *tmuxPane) waitFor(want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = p.capture()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("the pane never showed %q; it shows:\n%s", want, s)
	return s
}

// TestEndToEndInTmux builds postlab, runs it in tmux as a user would, sends
// a mail to bob from the Session screen, finds it in Mailboxes and quits.
func TestEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmux := needTool(t, "tmux")
	dir := t.TempDir()
	bin := filepath.Join(dir, "postlab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := &tmuxPane{t: t, tmux: tmux, socket: fmt.Sprintf("postlab-e2e-%d-%s", os.Getpid(), filepath.Base(dir))}
	// The socket is per process: t.TempDir names repeat across concurrent runs.
	t.Cleanup(func() { exec.Command(tmux, "-L", p.socket, "kill-server").Run() })
	args := append([]string{bin}, freeLabFlags(t)...)
	script := strings.Join(args, " ") + "; echo POSTLAB-EXIT=$?; sleep 30"
	p.cmd("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "env", "TERM=xterm-256color", "sh", "-c", script)

	p.waitFor("Enter connects to the lab", "lab: smtp 127.0.0.1:")
	p.keys("Enter") // the connect form starts on the lab's SMTP
	p.waitFor("S: 220 ", "EHLO client.postlab.test")
	for _, step := range []struct{ line, want string }{
		{"EHLO e2e.postlab.test", "S: 250 "},
		{"MAIL FROM:<alice@postlab.test>", "S: 250 2.0.0 Roger"},
		{"RCPT TO:<bob@postlab.test>", "gets this"},
		{"DATA", "S: 354 "},
	} {
		p.typeLine(step.line)
		p.waitFor("C: "+step.line, step.want)
	}
	for _, l := range []string{"From: alice@postlab.test", "Subject: sent from tmux [e2e]", "", "Hello Bob.", "."} {
		p.typeLine(l)
	}
	p.waitFor("delivered to bob")
	p.typeLine("QUIT")
	p.waitFor("S: 221")
	p.keys("Escape")
	p.keys("2")
	s := p.waitFor("mailboxes", "bob 1", "sent from tmux [e2e]", "alice@postlab.test", "Hello Bob.")
	if strings.Contains(s, "No messages in bob") {
		t.Fatalf("bob's mailbox looks empty:\n%s", s)
	}
	// The course, and lesson 2 beside the session.
	p.keys("5")
	p.waitFor("lessons: 0 of 14 done", "Your first SMTP session by hand", "Enter open lesson")
	p.keys("Down")
	p.keys("Enter")
	p.waitFor("lesson 2: Your first SMTP session by hand", "Step 1 of 5: Say hello", "☐ EHLO answered with 250")
	p.keys("h")
	p.waitFor("Hint 1")
	p.keys("l")
	p.waitFor("lessons: 0 of 14 done")
	p.keys("q")
	p.waitFor("POSTLAB-EXIT=0")
}

type netDialer struct{}

func (netDialer) dial(addr string) (interface{ Close() error }, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}

func TestAppFlagsForATeachersLabAndLessons(t *testing.T) {
	// A screen, so that only the flags can make postlab refuse to start.
	appScreen = tcell.NewSimulationScreen("UTF-8")
	appStarted = func(a *tui.App) {
		t.Error("the app started")
		go a.Application().QueueUpdate(a.Stop)
	}
	defer func() { appScreen, appStarted = nil, nil }()
	for _, args := range [][]string{
		{"--lab-host", "192.0.2.10:2525"},                             // a port: the lab's are its defaults
		{"--ca", "cert.pem"},                                          // --ca without --lab-host
		{"--lab-host", "192.0.2.10", "--ca", "/nonexistent/cert.pem"}, // unreadable certificate
		{"--lessons", "../../lessons/testdata/bad", "--no-lab"},       // malformed lessons
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("postlab %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
}

// startApp runs postlab with args on a simulation screen and waits until
// its screen shows every want.
func startAppWith(t *testing.T, args []string, want ...string) (*tui.App, tcell.SimulationScreen, chan int) {
	t.Helper()
	sim := tcell.NewSimulationScreen("UTF-8")
	started := make(chan *tui.App, 1)
	appScreen, appStarted = sim, func(a *tui.App) { started <- a }
	t.Cleanup(func() { appScreen, appStarted = nil, nil })
	done := make(chan int, 1)
	go func() { done <- run(args) }()
	var app *tui.App
	select {
	case app = <-started:
	case code := <-done:
		t.Fatalf("postlab exited %d before the app started", code)
	}
	waitScreen(t, app, sim, want...)
	return app, sim, done
}

func waitScreen(t *testing.T, app *tui.App, sim tcell.SimulationScreen, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		app.Application().QueueUpdateDraw(func() {})
		s = screenText(app, sim)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the screen never showed %q:\n%s", want, s)
	return s
}

func quitApp(t *testing.T, sim tcell.SimulationScreen, done chan int) {
	t.Helper()
	sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after q, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("q did not quit")
	}
}

// TestLabHostFlag: postlab --lab-host ADDR --ca cert.pem uses a lab that
// runs elsewhere (here on the default ports of a loopback address of its
// own) and starts none.
func TestLabHostFlag(t *testing.T) {
	var ip, dir string
	for try := 0; try < 20 && ip == ""; try++ {
		cand := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250), 2+rand.IntN(250))
		at := func(port int) string { return fmt.Sprintf("%s:%d", cand, port) }
		dir = t.TempDir()
		l, err := lab.Start(lab.Config{DataDir: dir, SMTP: at(2525), Submission: at(2587), Submissions: at(2465),
			POP3: at(2110), POP3S: at(2995), DNS: at(2553), Classroom: true, CertNames: []string{cand}})
		if err != nil && strings.Contains(err.Error(), "assign requested address") {
			t.Skipf("this system has no loopback address but 127.0.0.1: %v", err)
		}
		if err != nil {
			continue // taken
		}
		t.Cleanup(func() { l.Close(context.Background()) })
		ip = cand
	}
	if ip == "" {
		t.Fatal("no loopback address free for the teacher's lab")
	}
	app, sim, done := startAppWith(t, []string{"--lab-host", ip, "--ca", filepath.Join(dir, "tls", "cert.pem"), "--data", t.TempDir()},
		"teacher's lab: "+ip, "Enter connects to the teacher's lab")
	if app.Lab() != nil {
		t.Error("a lab was started here too")
	}
	sim.InjectKey(tcell.KeyRune, '2', tcell.ModNone)
	waitScreen(t, app, sim, "Mailboxes are available only with a local lab")
	sim.InjectKey(tcell.KeyRune, '1', tcell.ModNone)
	waitScreen(t, app, sim, "Teacher's lab…")
	sim.InjectKey(tcell.KeyEnter, 0, tcell.ModNone) // the SMTP preset of the teacher's lab
	waitScreen(t, app, sim, "smtp://"+ip+":2525", "S: 220 ")
	sim.InjectKey(tcell.KeyEscape, 0, tcell.ModNone)
	// Diagnose asks the teacher's lab about the practice domain.
	sim.InjectKey(tcell.KeyRune, '4', tcell.ModNone)
	waitScreen(t, app, sim, "Domain or address:")
	for _, r := range "postlab.test" {
		sim.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
	sim.InjectKey(tcell.KeyEnter, 0, tcell.ModNone)
	waitScreen(t, app, sim, "findings for postlab.test:", "(resolver "+ip+":2553)")
	sim.InjectKey(tcell.KeyEscape, 0, tcell.ModNone)
	// The session is still open: q asks first, and y quits.
	sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	waitScreen(t, app, sim, "Quit postlab? The session to")
	sim.InjectKey(tcell.KeyRune, 'y', tcell.ModNone)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after y, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("y did not quit")
	}
}

// TestLessonsFlagAddsATeachersLesson: --lessons DIR puts a teacher's own
// lesson after the course on the Lessons screen.
func TestLessonsFlagAddsATeachersLesson(t *testing.T) {
	dir := t.TempDir()
	lesson := "---\nid: our-relay\ntitle: Our school's relay\nsummary: Where the school's mail goes.\n---\n\nIntro.\n\n" +
		"## Step: Greet it\n\nSay EHLO.\n\n```check\nsent command=EHLO reply=250\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "90-relay.md"), []byte(lesson), 0o644); err != nil {
		t.Fatal(err)
	}
	app, sim, done := startAppWith(t, []string{"--lessons", dir, "--no-lab", "--data", t.TempDir()}, "postlab")
	sim.InjectKey(tcell.KeyRune, '5', tcell.ModNone)
	waitScreen(t, app, sim, "of 15 done", "Your first SMTP session by hand")
	sim.InjectKey(tcell.KeyEnd, 0, tcell.ModNone)
	waitScreen(t, app, sim, "Our school's relay", "Where the school's mail goes.")
	quitApp(t, sim, done)
}

func TestUnknownTerminalTypeSaysSo(t *testing.T) {
	err := checkTerm("no-such-terminal-xyz")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("checkTerm: %v, want a usage error", err)
	}
	for _, want := range []string{"cannot use terminal type TERM=no-such-terminal-xyz", "try TERM=xterm-256color"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := checkTerm("xterm-256color"); err != nil {
		t.Errorf("xterm-256color: %v", err)
	}
	// The bare command says it before anything else.
	t.Setenv("TERM", "no-such-terminal-xyz")
	if code := run([]string{"--no-lab"}); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
}
