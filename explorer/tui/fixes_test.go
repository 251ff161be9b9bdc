package tui

import (
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
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

