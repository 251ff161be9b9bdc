package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer/lab"
)

// harness runs an App on a simulation screen.
type harness struct {
	t    *testing.T
	app  *App
	sim  tcell.SimulationScreen
	done chan error
}

func startApp(t *testing.T, o Options, w, h int) *harness {
	t.Helper()
	sim := tcell.NewSimulationScreen("UTF-8")
	a := New(o)
	a.SetScreen(sim)
	sim.SetSize(w, h)
	hs := &harness{t: t, app: a, sim: sim, done: make(chan error, 1)}
	go func() { hs.done <- a.Run() }()
	t.Cleanup(hs.stop)
	hs.waitFor("postlab")
	return hs
}

func (h *harness) stop() {
	if h.app.stopped.Load() {
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			h.t.Error("app did not stop")
		}
		return
	}
	h.app.tv.QueueUpdate(h.app.Stop)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("app did not stop")
	}
}

// text is the screen's content, one line per row.
func (h *harness) text() string {
	ch := make(chan string, 1)
	h.app.tv.QueueUpdate(func() {
		cells, w, ht := h.sim.GetContents()
		var b strings.Builder
		for y := 0; y < ht; y++ {
			for x := 0; x < w; x++ {
				c := cells[y*w+x]
				if len(c.Runes) == 0 {
					b.WriteByte(' ')
				} else {
					b.WriteString(string(c.Runes))
				}
			}
			b.WriteByte('\n')
		}
		ch <- b.String()
	})
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		h.t.Fatal("app does not answer")
		return ""
	}
}

// waitFor polls the screen until every want appears.
func (h *harness) waitFor(want ...string) string {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		h.app.tv.QueueUpdateDraw(func() {})
		s = h.text()
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("screen never showed %q; it shows:\n%s", want, s)
	return s
}

// waitGone waits until the screen no longer shows gone: the way to see a
// key's effect when what it removes was on screen before it.
func (h *harness) waitGone(gone string) string {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		h.app.tv.QueueUpdateDraw(func() {})
		if s = h.text(); !strings.Contains(s, gone) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("screen still shows %q:\n%s", gone, s)
	return s
}

func (h *harness) key(k tcell.Key) {
	h.sim.InjectKey(k, 0, tcell.ModNone)
}

func (h *harness) rune(r rune) { h.sim.InjectKey(tcell.KeyRune, r, tcell.ModNone) }

func (h *harness) typ(s string) {
	for _, r := range s {
		h.rune(r)
	}
}

// line types s and presses Enter.
func (h *harness) line(s string) {
	h.typ(s)
	h.key(tcell.KeyEnter)
}

// waitLast waits until the newest line of the session trace starts with
// prefix (the reply to the line just sent).
func (h *harness) waitLast(prefix string) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		m := h.app.session.trace
		_, end := m.Bounds()
		if end > 0 {
			e, _ := m.At(end - 1)
			last = e.Event.Line
			if strings.HasPrefix(last, prefix) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("the newest trace line is %q, want it to start with %q\n%s", last, prefix, h.text())
}

// onUI runs f on the UI goroutine and returns its result.
func onUI[T any](h *harness, f func() T) T {
	ch := make(chan T, 1)
	h.app.tv.QueueUpdate(func() { ch <- f() })
	return <-ch
}

// startConnected starts the app connected (as --connect does) to the fake
// server at tg, tweak adjusting the options first, and waits for the
// greeting.
func startConnected(t *testing.T, tg Target, w, ht int, tweak func(*Options)) (*harness, *fakeSession) {
	t.Helper()
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.Connect = &tg
	if tweak != nil {
		tweak(&o)
	}
	h := startApp(t, o, w, ht)
	h.waitFor("S: ")
	return h, onUI(h, func() *fakeSession { return fs })
}

// startTestLab starts a real lab on free ports, closed when the test ends.
func startTestLab(t *testing.T) Lab {
	t.Helper()
	cfg := lab.DefaultConfig()
	cfg.DataDir = t.TempDir()
	l, err := StartLabWith(cfg)(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// startAtRcpt starts the app, connects to the fake lab's SMTP from the
// form and sends EHLO, MAIL and RCPT: a message may follow.
func startAtRcpt(t *testing.T, w, ht int) *harness {
	t.Helper()
	h := startApp(t, fakeOptions(newFakeLab(), nil), w, ht)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	for _, l := range []string{"EHLO x", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>"} {
		h.line(l)
		h.waitLast("250 ")
	}
	h.waitFor("compose…")
	return h
}
