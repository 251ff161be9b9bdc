package tui

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// Tab completes to what the palette offers, with the lab's values, never
// to a template's placeholder.
func TestCompletionUsesThePalettesValues(t *testing.T) {
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	o.Suggest = AnnotateSuggest
	h := startApp(t, o, 100, 30)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220")
	h.typ("eh")
	h.key(tcell.KeyTab)
	h.waitCmd("EHLO client.postlab.test")
	h.key(tcell.KeyEnter)
	h.waitFor("S: 250-mail.postlab.test Hello client.postlab.test", "MAIL FROM:<alice@postlab.test>")
	h.typ("MA")
	h.key(tcell.KeyTab)
	h.waitCmd("MAIL FROM:<alice@postlab.test>")
	h.key(tcell.KeyEnter)
	h.waitFor("1 RCPT TO:<bob@postlab.test>") // the palette offers it
	h.typ("RC")
	h.key(tcell.KeyTab)
	h.waitCmd("RCPT TO:<bob@postlab.test>")
}

// On a server that is not the lab a placeholder may remain: the line is
// not sent while it holds one, and the status line says which.
func TestPlaceholdersAreNotSent(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 10110, Security: Plain}, 100, 30,
		func(o *Options) { o.Suggest = AnnotateSuggest })
	h.waitFor("S: +OK POP3 ready")
	h.typ("us")
	h.key(tcell.KeyTab)
	h.waitCmd("USER <name>")
	h.key(tcell.KeyEnter)
	s := h.waitFor("replace <name> with a value first")
	if strings.Contains(s, "C: USER") {
		t.Fatalf("the placeholder was sent:\n%s", s)
	}
	h.waitCmd("USER <name>") // kept, to be edited
	// The same from the palette.
	h.key(tcell.KeyCtrlU)
	h.waitCmd("")
	h.key(tcell.KeyCtrlP)
	h.waitFor("USER <name>")
	items := make(chan []Suggestion, 1)
	h.app.tv.QueueUpdate(func() { items <- h.app.session.palette.Items() })
	n := -1
	for i, it := range <-items {
		if it.Command == "USER <name>" {
			n = i
		}
	}
	if n < 0 {
		t.Fatal("no USER <name> in the palette")
	}
	h.rune(rune(paletteKeys[n]))
	h.waitCmd("USER <name>")
	h.waitFor("replace <name> with a value")
	h.key(tcell.KeyEnter)
	h.waitFor("replace <name> with a value first")
	// A line typed from scratch is the user's own, brackets and all.
	h.key(tcell.KeyCtrlU)
	h.waitCmd("")
	h.line("USER <name>")
	h.waitFor("C: USER <name>")
}

// A palette pick fills the command line and waits for Enter, the AUTH
// line with the connect form's credentials too; every item shown has a key.
func TestPalettePicksWaitForEnter(t *testing.T) {
	var cmds []Suggestion
	for _, c := range []string{"AUTH PLAIN", "NOOP", "RSET", "HELP", "VRFY bob", "EXPN staff", "MAIL FROM:<carol@example.org>", "STARTTLS", "EHLO again.example", "QUIT", "ELEVENTH"} {
		cmds = append(cmds, Suggestion{Command: c, Why: "why " + c})
	}
	tg := Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 10587, Security: Plain, User: "carol", Password: "s3cret"}
	h, _ := startConnected(t, tg, 200, 30, func(o *Options) {
		o.Suggest = func(st explorer.State, caps []string) []Suggestion { return cmds }
	})
	s := h.waitFor("S: 220", "next: 1 AUTH PLAIN <credentials>", "9 EHLO again.example  0 QUIT")
	if strings.Contains(s, "ELEVENTH") {
		t.Errorf("an item without a key shows:\n%s", s)
	}
	h.key(tcell.KeyCtrlP)
	h.rune('1')
	h.waitCmd("AUTH PLAIN <credentials>")
	h.waitFor("Enter sends it with the connect form's credentials")
	// A barrier: a line sent now goes after the pick, had the pick been
	// sent (one queue, in order); once its reply shows, the pick would too.
	h.app.tv.QueueUpdate(func() { h.app.session.Send("NOOP") })
	if s := h.waitFor("C: NOOP", "S: 500 "); strings.Contains(s, "C: AUTH") {
		t.Fatalf("the pick was sent without Enter:\n%s", s)
	}
	h.waitCmd("AUTH PLAIN <credentials>") // still there, waiting for Enter
	h.key(tcell.KeyEnter)
	want := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00carol\x00s3cret"))
	h.waitFor("C: " + want) // the fake server does not mask; explorer does
	if contains(h.history(), want) || strings.Contains(h.cmdText(), "s3cret") {
		t.Fatal("the credentials went to the history or the command line")
	}
	h.key(tcell.KeyCtrlP)
	h.rune('0')
	h.waitCmd("QUIT")
}
