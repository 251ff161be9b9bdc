package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// history is the command history, read on the UI goroutine.
func (h *harness) history() []string { return onUI(h, h.app.session.cmds.History) }

// The history keeps the commands typed at the command line: neither the
// lines the compose helper sends nor a message typed after DATA.
func TestHistoryHoldsOnlyTypedCommands(t *testing.T) {
	h := startAtRcpt(t, 80, 24)
	h.key(tcell.KeyCtrlO)
	h.waitFor("on the wire after DATA")
	for i := 0; i < 4; i++ { // From, To, Subject, Body, Send
		h.key(tcell.KeyTab)
	}
	h.key(tcell.KeyEnter)
	h.waitLast("250 2.0.0")
	h.key(tcell.KeyUp)
	h.waitCmd("RCPT TO:<bob@postlab.test>")
	h.key(tcell.KeyDown)
	h.waitCmd("")

	// A message typed by hand: DATA is a command, its lines are not.
	for _, l := range []string{"MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>"} {
		h.line(l)
		h.waitLast("250 ")
	}
	h.line("DATA")
	h.waitLast("354")
	h.waitFor("next: 1 compose…") // the screen knows the message has begun
	for _, l := range []string{"Subject: typed", "", "by hand", "."} {
		h.line(l)
		h.waitFor("C: " + l)
	}
	h.waitLast("250 2.0.0")
	want := []string{"EHLO x", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "DATA"}
	if got := h.history(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("history %q, want %q", got, want)
	}
}

// The Date: of a composed message is when it is sent, not when the
// dialog opened.
func TestComposeDatesTheMessageWhenSent(t *testing.T) {
	h := startAtRcpt(t, 100, 30)
	clock := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	h.app.tv.QueueUpdate(func() { h.app.session.now = func() time.Time { return clock } })
	h.key(tcell.KeyCtrlO)
	h.waitFor("on the wire after DATA")
	later := clock.Add(7 * time.Minute)
	h.app.tv.QueueUpdate(func() { h.app.session.now = func() time.Time { return later } })
	for i := 0; i < 4; i++ {
		h.key(tcell.KeyTab)
	}
	h.key(tcell.KeyEnter)
	h.waitLast("250 2.0.0")
	var dates []string
	for _, e := range h.app.session.trace.Snapshot() {
		if e.Event.Dir == explorer.ClientToServer && strings.HasPrefix(e.Event.Line, "Date: ") {
			dates = append(dates, e.Event.Line)
		}
	}
	if want := "Date: " + later.Format(time.RFC1123Z); len(dates) != 1 || dates[0] != want {
		t.Fatalf("sent %q, want %q", dates, want)
	}
}
