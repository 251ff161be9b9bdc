package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// quitWithin reports whether the app stopped within d.
func (h *harness) quitWithin(d time.Duration) bool {
	select {
	case err := <-h.done:
		h.done <- err
		return true
	case <-time.After(d):
		return false
	}
}

// stillRunning fails the test if the app has stopped: it waits for a
// redraw first, so a quit already queued has happened.
func (h *harness) stillRunning(what string) {
	h.t.Helper()
	h.waitFor("postlab")
	if h.app.stopped.Load() {
		h.t.Fatalf("%s quit the app", what)
	}
}

// TestQuitAsksDuringASession: with a session open, q asks first and any
// answer but y keeps the app (and the session) running; y quits.
func TestQuitAsksDuringASession(t *testing.T) {
	var fs *fakeSession
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, &fs), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 mail.postlab.test")
	h.key(tcell.KeyEscape) // out of the command line, as the QA pass did
	h.typ("qu")            // q, then u: u answers no
	h.waitFor("Not quitting.")
	h.typ("it") // the rest of "quit" goes nowhere harmful
	h.stillRunning("quit typed outside the command line")
	if h.app.Dialog() != "" {
		t.Fatalf("the question is still open (%q)", h.app.Dialog())
	}
	h.rune('q')
	s := h.waitFor("Quit postlab? The session to smtp://127.0.0.1:2525 will be", "y quit", "any other key")
	if strings.Contains(s, "1-6 screens") {
		t.Errorf("the hint bar offers other keys while the question is open:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	h.waitFor("Not quitting.")
	h.stillRunning("Enter on the question")
	fs.mu.Lock()
	closed := fs.closed
	fs.mu.Unlock()
	if closed {
		t.Fatal("the session was closed though the app stays")
	}
	h.rune('q')
	h.waitFor("Quit postlab?")
	h.rune('y')
	if !h.quitWithin(10 * time.Second) {
		t.Fatal("y did not quit")
	}
	lab.mu.Lock()
	defer lab.mu.Unlock()
	if !lab.closed {
		t.Fatal("the lab was not closed on quit")
	}
}

// TestQuitAfterTheSessionEndedDoesNotAsk: a session closed by QUIT loses
// nothing.
func TestQuitAfterTheSessionEndedDoesNotAsk(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 mail.postlab.test")
	h.line("QUIT")
	h.waitFor("S: 221 2.0.0 Bye")
	h.key(tcell.KeyEscape)
	h.rune('q')
	if !h.quitWithin(10 * time.Second) {
		t.Fatalf("q after the session ended did not quit:\n%s", h.text())
	}
}

// TestCtrlCQuitsAtOnce: Ctrl-C is the way out that never asks.
func TestCtrlCQuitsAtOnce(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 mail.postlab.test")
	h.key(tcell.KeyCtrlC)
	if !h.quitWithin(10 * time.Second) {
		t.Fatal("Ctrl-C did not quit")
	}
}

// TestQuitAsksWhileTheLabHasAClient: a client of the lab (swaks in
// another terminal) would lose its connection.
func TestQuitAsksWhileTheLabHasAClient(t *testing.T) {
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, nil), 80, 24)
	h.waitFor("lab: smtp")
	st := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseGreeted}
	lab.traces.emit(ServerLine{Session: 7, Listener: "smtp", Event: explorer.Event{Dir: explorer.ServerToClient, Line: "220 hi", State: st}})
	lab.traces.emit(ServerLine{Session: 8, Listener: "dns", Event: explorer.Event{Dir: explorer.Local, Line: "postlab.test. IN MX -> NOERROR"}})
	h.waitClients(1)
	h.key(tcell.KeyEscape)
	h.rune('q')
	h.waitFor("Quit postlab? The lab stops and drops 1 other client", "connection.")
	h.rune('n')
	h.waitFor("Not quitting.")
	st.Phase = explorer.PhaseClosed
	lab.traces.emit(ServerLine{Session: 7, Listener: "smtp", Event: explorer.Event{Dir: explorer.Local, Line: "connection closed", State: st}})
	h.waitClients(0)
	h.rune('q')
	if !h.quitWithin(10 * time.Second) {
		t.Fatalf("q with no client left did not quit:\n%s", h.text())
	}
}

// waitClients waits until the app counts n open lab connections.
func (h *harness) waitClients(n int) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.app.slog.openClients() != n {
		if time.Now().After(deadline) {
			h.t.Fatalf("the app counts %d open lab connections, want %d", h.app.slog.openClients(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQuitAsksDuringADiagnoseRun names the run that would stop.
func TestQuitAsksDuringADiagnoseRun(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{block: make(chan struct{})}
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	h.waitFor("checking example.org")
	h.key(tcell.KeyTab) // out of the field
	h.rune('q')
	h.waitFor("Quit postlab? Checking example.org stops.")
	h.key(tcell.KeyEscape) // no: the run goes on
	h.waitFor("Not quitting.")
	if !h.app.Busy() {
		t.Fatal("Esc on the question cancelled the run")
	}
	h.rune('q')
	h.waitFor("Quit postlab?")
	h.rune('Y')
	if !h.quitWithin(10 * time.Second) {
		t.Fatal("Y did not quit")
	}
}
