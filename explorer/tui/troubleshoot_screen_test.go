package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// paste sends s as a bracketed paste, as a terminal does.
func (h *harness) paste(s string) {
	post := func(ev tcell.Event) {
		for h.sim.PostEvent(ev) != nil { // the queue is full: wait
			time.Sleep(time.Millisecond)
		}
	}
	post(tcell.NewEventPaste(true))
	for _, r := range s {
		if r == '\n' {
			h.key(tcell.KeyEnter)
		} else {
			h.rune(r)
		}
	}
	post(tcell.NewEventPaste(false))
}

func TestTroubleshootABounceFileAndAReplyLine(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.rune('6')
	h.waitFor("paste (Ctrl-R explains)", "Open file:", "^R explain")

	// A Postfix bounce with three failed recipients, opened from a file.
	h.key(tcell.KeyCtrlO)
	h.line("../../diag/testdata/bounce/postfix-multi.eml")
	s := h.waitFor("Recipients (3)", "userunknown", "Fix:", "postfix")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) != 24 || !strings.Contains(lines[23], "quit") {
		t.Fatalf("the Troubleshoot screen does not fit 80x24 with its key hints:\n%s", s)
	}
	fixRow, treeRow := -1, -1
	for i, l := range lines {
		if fixRow < 0 && strings.Contains(l, "Fix:") {
			fixRow = i
		}
		if treeRow < 0 && strings.Contains(l, "Recipients (3)") {
			treeRow = i
		}
	}
	if fixRow > treeRow {
		t.Errorf("the fix is not above the tree:\n%s", s)
	}
	if !strings.Contains(s, "r1@example.net") || !strings.Contains(s, "✘ hard") {
		t.Errorf("the first recipient is not shown as a hard bounce:\n%s", s)
	}
	// Moving down the tree shows each field's detail.
	h.key(tcell.KeyDown)
	h.waitFor("explanation:")

	// A reply line pasted over it: explained at once, with who must act.
	h.key(tcell.KeyBacktab) // tree -> paste area
	h.key(tcell.KeyCtrlL)   // select all: the paste replaces it
	h.paste("550 5.7.1 <x@example.org>: Relay access denied")
	s = h.waitFor("550 5.7.1 <x@example.org>: Relay access denied", "who must act", "Fix:", "a reply: permanent")
	if strings.Contains(s, "Recipients (3)") {
		t.Errorf("the old bounce is still shown:\n%s", s)
	}

	// A missing file is one clear line, not a crash.
	h.key(tcell.KeyCtrlO)
	h.app.tv.QueueUpdateDraw(func() { h.app.trouble.file.SetText("") })
	h.line("/nonexistent/bounce.eml")
	h.waitFor("no such file")
}

func TestTroubleshootAMessageShowsHopsAndAuth(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 100, 40)
	h.rune('6')
	msg := "Received: from mx.example.org (mx.example.org [192.0.2.1])\n" +
		"\tby mail.example.net with ESMTPS id abc; Tue, 3 Mar 2026 10:00:05 +0000\n" +
		"Received: from client.example.org ([198.51.100.7])\n" +
		"\tby mx.example.org with ESMTPSA id def; Tue, 3 Mar 2026 10:00:01 +0000\n" +
		"Authentication-Results: mail.example.net; spf=pass smtp.mailfrom=example.org; dkim=none\n" +
		"From: a@example.org\nTo: b@example.net\nSubject: hi\n\nhello\n"
	h.paste(msg)
	s := h.waitFor("Hops (2, oldest first)", "client.example.org", "Authentication results (1)", "spf=pass", "In short:")
	t.Log("\n" + s)
}

// TestPasteIntoTheCommandLine: pasted lines are sent one by one, as if
// typed, and a last line without a newline waits on the command line.
func TestPasteIntoTheCommandLine(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("220 mail.postlab.test")
	h.paste("EHLO paste.example\nMAIL FROM:<a@postlab.test>\nRCPT TO:<b")
	h.waitFor("C: EHLO paste.example", "C: MAIL FROM:<a@postlab.test>", "> RCPT TO:<b")
	if s := h.text(); strings.Contains(s, "C: RCPT") {
		t.Fatalf("the unfinished last line was sent:\n%s", s)
	}
}

func TestTroubleshootADelayNoticeListsDelayedNotFailed(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 100, 40)
	h.rune('6')
	h.waitFor("Open file:")
	h.key(tcell.KeyCtrlO)
	h.line("../../diag/testdata/bounce/postfix-delay.eml")
	s := h.waitFor("Delayed, still being retried (", "Recipients (0)")
	if strings.Contains(s, "✘ hard") {
		t.Errorf("a delayed recipient is shown as a hard bounce:\n%s", s)
	}
}

// TestTroubleshootCtrlLClears: Ctrl-L empties the paste box and the
// explanation for the next paste; Ctrl-Z brings the text back.
func TestTroubleshootCtrlLClears(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('6')
	h.waitFor("paste (Ctrl-R explains)", "^L clear")
	h.paste("550 5.1.1 <carol@example.net>: User unknown")
	h.waitFor("Fix:", "550 5.1.1 <carol@example.net>")
	h.key(tcell.KeyTab) // to the tree: Ctrl-L works from any pane
	h.key(tcell.KeyCtrlL)
	s := h.waitFor("Paste here:", "The fix appears here", "Cleared")
	if strings.Contains(s, "carol@example.net") || strings.Contains(s, "Fix:") {
		t.Fatalf("Ctrl-L left the paste or its explanation:\n%s", s)
	}
	if h.focus() != h.app.trouble.paste.TextArea {
		t.Error("Ctrl-L did not put the cursor in the paste box")
	}
	h.key(tcell.KeyCtrlZ)
	h.waitFor("550 5.1.1 <carol@example.net>: User unknown")
}
