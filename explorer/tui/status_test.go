package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// statusRow is the status bar's row of the screen.
func (h *harness) statusRow() string {
	lines := strings.Split(strings.TrimRight(h.text(), "\n"), "\n")
	return lines[len(lines)-2]
}

// waitStatus polls the status bar until ok says yes.
func (h *harness) waitStatus(what string, ok func(row string) bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var row string
	for time.Now().Before(deadline) {
		h.app.tv.QueueUpdateDraw(func() {})
		if row = h.statusRow(); ok(row) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("the status bar never %s; it shows %q\n%s", what, row, h.text())
}

// TestStatusMessagesStayOnTheirScreen: an error of the Troubleshoot screen
// does not follow the student to the Session and Lessons screens.
func TestStatusMessagesStayOnTheirScreen(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('6')
	h.waitFor("Open file:")
	h.key(tcell.KeyCtrlO)
	h.line("/nonexistent/postlab-test.eml")
	h.waitFor("no such file or directory")
	h.sim.InjectKey(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("Password")
	h.waitStatus("dropped the Troubleshoot error on the Session screen", func(row string) bool {
		return !strings.Contains(row, "no such file") && strings.Contains(row, "lab: smtp")
	})
	h.sim.InjectKey(tcell.KeyRune, '5', tcell.ModAlt)
	h.waitFor("Your first SMTP session by hand")
	h.waitStatus("dropped the Troubleshoot error on the Lessons screen", func(row string) bool {
		return !strings.Contains(row, "no such file")
	})
}

// TestNewMailNoticeGoesAtTheNextKey: "new mail in X" is news, not a state:
// the next key clears it.
func TestNewMailNoticeGoesAtTheNextKey(t *testing.T) {
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, nil), 80, 24)
	h.waitFor("lab: smtp")
	h.rune('2')
	h.waitFor("alice", "bob", "outbox")
	lab.store.deliver("outbox", "alice@postlab.test", "Out", "far away")
	h.waitFor("new mail in outbox", "Out")
	h.key(tcell.KeyDown)
	h.waitStatus("let the new-mail notice go after a key", func(row string) bool {
		return !strings.Contains(row, "new mail in outbox")
	})
}

// TestLabStateStaysInSightWithConnect: with the lab's ports taken and
// --connect, the connect status does not hide that the lab did not start.
func TestLabStateStaysInSightWithConnect(t *testing.T) {
	lab := newFakeLab()
	o := fakeOptions(lab, nil)
	o.StartLab = func(free bool) (Lab, error) {
		if !free {
			return nil, fmt.Errorf("%w: 127.0.0.1:2525 (--smtp)", ErrPortTaken)
		}
		return lab, nil
	}
	o.Connect = &Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}
	h := startApp(t, o, 80, 24)
	h.waitFor("S: 220 mail.postlab.test", "connected to smtp://127.0.0.1:2525")
	h.waitStatus("kept the lab's state beside the connect status", func(row string) bool {
		return strings.Contains(row, "connected to smtp://") && strings.Contains(row, "lab not started: port 2525 taken (L)")
	})
	s := h.waitFor("Alt-L lab on free ports")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); !strings.Contains(lines[len(lines)-1], "quit") {
		t.Errorf("the key-hint bar lost quit:\n%s", s)
	}
	// The session's messages stay on the Session screen; elsewhere the
	// lab's message shows again, not wiped by the connect's progress.
	h.key(tcell.KeyEscape)
	h.rune('2')
	h.waitStatus("showed the lab's message on the Mailboxes screen", func(row string) bool {
		return strings.HasPrefix(row, "Lab port 127.0.0.1:2525 (--smtp)") && !strings.Contains(row, "connected to")
	})
}
