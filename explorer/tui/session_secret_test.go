package tui

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// A password typed by hand is masked on the command line and sent as
// typed.
func TestTypedSecretsAreMaskedOnTheCommandLine(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110, Security: Plain}, 80, 24, nil)
	h.waitFor("S: +OK POP3 ready")
	h.line("USER bob")
	h.waitLast("+OK")
	h.typ("PASS builder")
	s := h.waitFor("> PASS *******")
	if strings.Contains(s, "builder") {
		t.Fatalf("the password shows while typed:\n%s", s)
	}
	h.key(tcell.KeyLeft) // editing inside it shows nothing either
	h.key(tcell.KeyLeft)
	h.typ("XY")
	h.waitCmd("PASS buildXYer")
	if s := h.waitFor("> PASS *********"); strings.Contains(s, "build") {
		t.Fatalf("the password shows while edited:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	h.waitFor("C: PASS buildXYer") // the fake server does not mask; explorer does

	// A long initial response that scrolls the field.
	long := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + strings.Repeat("wonderland", 8)))
	h.typ("AUTH PLAIN " + long)
	h.waitCmd("AUTH PLAIN " + long)
	s = h.waitFor("*****")
	for i := 0; i+6 <= len(long); i++ {
		if strings.Contains(s, long[i:i+6]) {
			t.Fatalf("a piece of the credentials shows (%q):\n%s", long[i:i+6], s)
		}
	}
	for _, c := range []struct {
		line string
		want int
	}{
		{"PASS x", 5}, {"  pass   x y", 9}, {"PASS", -1}, {"PASS ", -1}, {"PASS ••••", -1},
		{"AUTH PLAIN", -1}, {"AUTH PLAIN <credentials>", -1}, {"auth plain AGEAYg==", 11}, {"AUTH LOGIN  dXNlcg==", 12},
		{"USER bob", -1}, {"APOP bob 0123", 9}, {"APOP bob <digest>", -1}, {"APOP bob", -1},
	} {
		if got := secretStart(c.line); got != c.want {
			t.Errorf("secretStart(%q) = %d, want %d", c.line, got, c.want)
		}
	}
}

// The connect form names the practice logins.
func TestConnectFormNamesThePracticeLogins(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("Practice logins: alice / wonderland, bob / builder", "Password")
	o := fakeOptions(newFakeLab(), nil)
	o.NoLab = true
	h2 := startApp(t, o, 80, 24)
	if s := h2.waitFor("Password"); strings.Contains(s, "wonderland") {
		t.Errorf("without a lab the form offers the practice logins:\n%s", s)
	}
}

// Ctrl-N always lands on the form's first field, wherever its focus was.
func TestNewConnectionFocusesTheFirstField(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp")
	focused := func() (int, int) {
		type pos struct{ item, button int }
		ch := make(chan pos, 1)
		h.app.tv.QueueUpdate(func() {
			i, b := h.app.session.form.form.GetFocusedItemIndex()
			ch <- pos{i, b}
		})
		p := <-ch
		return p.item, p.button
	}
	for _, leave := range []string{"button", "port"} {
		if leave == "port" {
			// Connect from the Port field: the form keeps its focus there.
			h.app.tv.QueueUpdateDraw(func() {
				h.app.session.form.form.SetFocus(3)
				h.app.tv.SetFocus(h.app.session.form.form)
			})
		}
		h.key(tcell.KeyEnter) // connects from the button or the field
		h.waitFor("S: 220")
		h.waitFocus(h.app.session.cmd, "the command line")
		h.key(tcell.KeyCtrlN)
		h.waitFor("End the session to") // it is live: asked first
		h.rune('y')
		h.waitFor("Server ")
		deadline := time.Now().Add(5 * time.Second)
		for i, b := focused(); (i != 0 || b != -1) && time.Now().Before(deadline); i, b = focused() {
			time.Sleep(10 * time.Millisecond)
		}
		if i, b := focused(); i != 0 || b != -1 {
			t.Fatalf("after connecting from the %s, Ctrl-N focuses item %d, button %d", leave, i, b)
		}
		h.waitFocus(h.app.session.form.preset, "the Server field")
		// Back to the Connect button for the next round.
		h.app.tv.QueueUpdateDraw(func() {
			f := h.app.session.form.form
			f.SetFocus(f.GetFormItemCount())
			h.app.tv.SetFocus(f)
		})
	}
}

// An APOP digest stands for the password (RFC 1939 §7): masked while
// typed, and never kept in the history, filled in by the app or typed.
func TestAPOPDigestIsASecret(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110, Security: Plain, User: "bob", Password: "builder"}, 80, 24, nil)
	h.waitFor("S: +OK POP3 ready <1.2@postlab.test>")
	sum := md5.Sum([]byte("<1.2@postlab.test>builder"))
	digest := hex.EncodeToString(sum[:])
	h.typ("APOP bob " + digest)
	if s := h.waitFor("> APOP bob " + strings.Repeat("*", 32)); strings.Contains(s, digest[:8]) {
		t.Fatalf("the digest shows while typed:\n%s", s)
	}
	h.key(tcell.KeyCtrlU)
	h.waitCmd("")
	h.line("APOP bob <digest>") // the app fills the digest in
	h.waitFor("C: APOP bob " + digest)
	h.waitLast("+OK")
	h.key(tcell.KeyUp)
	h.waitCmd("") // nothing to recall
	if got := h.history(); len(got) != 0 {
		t.Fatalf("history %q holds the digest", got)
	}
}

// The lines answering a SASL challenge (334, "+ ") are credentials: the
// whole line is masked while typed, as soon as the challenge shows, and
// kept out of the history.
func TestSASLAnswersAreMaskedAndForgotten(t *testing.T) {
	for _, c := range []struct {
		proto     explorer.Protocol
		auth      string
		challenge string
		answers   []string
		done      string
	}{
		{explorer.SMTP, "AUTH LOGIN", "334 VXNlcm5hbWU6", []string{"YWxpY2U=", "d29uZGVybGFuZA=="}, "235 "},
		{explorer.POP3, "AUTH PLAIN", "+ ", []string{"AGJvYgBidWlsZGVy"}, "+OK maildrop"},
	} {
		h, fs := startConnected(t, Target{Proto: c.proto, Host: "127.0.0.1", Port: 2110, Security: Plain}, 80, 24, nil)
		fs.mu.Lock()
		fs.after = make(chan struct{})
		fs.mu.Unlock()
		h.line(c.auth)
		h.waitLast(c.challenge)
		for i, a := range c.answers {
			// The app has not heard yet that the send ended: the
			// challenge on the screen is enough.
			h.typ(a)
			h.waitCmd(a)
			if s := h.waitFor("> " + strings.Repeat("*", len(a))); strings.Contains(s, a[:4]) {
				t.Fatalf("%s: answer %d shows while typed:\n%s", c.auth, i+1, s)
			}
			h.key(tcell.KeyEnter)
			fs.after <- struct{}{} // the AUTH line's send (or the last answer's) ends
			if i+1 < len(c.answers) {
				h.waitFor("C: " + a)
				h.waitLast("334 ")
			}
		}
		h.waitLast(c.done)
		close(fs.after)
		if got := h.history(); strings.Join(got, "|") != c.auth {
			t.Fatalf("history %q, want only %q", got, c.auth)
		}
	}
}
