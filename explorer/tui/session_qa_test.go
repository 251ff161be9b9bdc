package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// sentLines are the lines the client sent in the session's trace.
func (h *harness) sentLines() []string {
	return onUI(h, func() []string {
		var out []string
		for _, e := range h.app.session.trace.Snapshot() {
			if e.Event.Dir == explorer.ClientToServer {
				out = append(out, e.Event.Line)
			}
		}
		return out
	})
}

// paletteCommands are the commands the palette shows now.
func (h *harness) paletteCommands() []string {
	return onUI(h, func() []string {
		var out []string
		for _, s := range h.app.session.palette.Items() {
			out = append(out, s.Command)
		}
		return out
	})
}

// waitPalette polls until the palette shows exactly want.
func (h *harness) waitPalette(want ...string) {
	h.t.Helper()
	w := strings.Join(want, " | ")
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = strings.Join(h.paletteCommands(), " | "); got == w {
			return
		}
	}
	h.t.Fatalf("the palette shows %q, want %q", got, w)
}

// TestCtrlNAsksBeforeEndingASession: Ctrl-N with RCPT accepted asks, as q
// does; any other key keeps the session (nothing sent, not closed); y sends
// QUIT, then shows the form.
func TestCtrlNAsksBeforeEndingASession(t *testing.T) {
	h, fs := startConnected(t, Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}, 100, 30, nil)
	for _, l := range []string{"EHLO x", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>"} {
		h.line(l)
		h.waitLast("250 ")
	}
	h.key(tcell.KeyCtrlN)
	h.waitFor("End the session to smtp://127.0.0.1:2525?", "y sends QUIT first")
	h.rune('n')
	h.waitFor("Kept the session to smtp://127.0.0.1:2525.")
	fs.mu.Lock()
	closed := fs.closed
	fs.mu.Unlock()
	if closed || h.app.session.pageName() != "session" {
		t.Fatalf("any key but y ended the session (closed %v, page %q)", closed, h.app.session.pageName())
	}
	h.key(tcell.KeyCtrlN)
	h.waitFor("End the session to")
	h.rune('y')
	h.waitFor("Server ", "sent QUIT to smtp://127.0.0.1:2525")
	if got := h.sentLines(); got[len(got)-1] != "QUIT" {
		t.Fatalf("the client's last line is %q, want QUIT", got[len(got)-1])
	}
}

// TestCtrlNInPOP3SaysQUITCommitsDeletions: in TRANSACTION the question says
// what QUIT does to the DELE marks (RFC 1939 §6).
func TestCtrlNInPOP3SaysQUITCommitsDeletions(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110}, 100, 30, nil)
	h.line("USER bob")
	h.waitLast("+OK")
	h.line("PASS builder")
	h.waitLast("+OK maildrop")
	h.key(tcell.KeyCtrlN)
	h.waitFor("End the session to pop3://127.0.0.1:2110?", "delete the messages marked with DELE")
	h.key(tcell.KeyEscape)
	h.waitFor("Kept the session")
}

// maildrop is the fake POP3 server with messages that DELE marks and RSET
// unmarks (RFC 1939 §5).
type maildrop struct {
	*fakeSession
	n       int
	deleted map[int]bool
}

func (m *maildrop) SendLine(ctx context.Context, line string) error {
	f := strings.Fields(strings.ToUpper(line))
	m.mu.Lock()
	trans := m.st.Phase == explorer.PhaseTrans
	m.mu.Unlock()
	if !trans || len(f) == 0 || f[0] != "DELE" && f[0] != "RSET" && f[0] != "STAT" && f[0] != "RETR" && f[0] != "LIST" {
		return m.fakeSession.SendLine(ctx, line)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emit(explorer.Event{Dir: explorer.ClientToServer, Line: line, State: m.st})
	n := 0
	if len(f) > 1 {
		fmt.Sscan(f[1], &n)
	}
	switch {
	case f[0] == "RSET":
		m.deleted = map[int]bool{}
		m.out("+OK")
	case f[0] == "STAT":
		m.out(fmt.Sprintf("+OK %d %d", m.n-len(m.deleted), 120*(m.n-len(m.deleted))))
	case f[0] == "LIST" && len(f) == 1:
		m.out(fmt.Sprintf("+OK %d messages (%d octets)", m.n-len(m.deleted), 120*(m.n-len(m.deleted))))
		for i := 1; i <= m.n; i++ {
			if !m.deleted[i] {
				m.out(fmt.Sprintf("%d 120", i))
			}
		}
		m.out(".")
	case n < 1 || n > m.n || m.deleted[n]:
		m.out(fmt.Sprintf("-ERR message %d already deleted", n))
	case f[0] == "DELE":
		m.deleted[n] = true
		m.out(fmt.Sprintf("+OK message %d deleted", n))
	default:
		m.out("+OK 120 octets")
		m.out(".")
	}
	return nil
}

// startMaildrop connects to a fake POP3 server holding n messages, with
// the annotate palette.
func startMaildrop(t *testing.T, n int) *harness {
	t.Helper()
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	inner := o.Dial
	o.Dial = func(ctx context.Context, tg Target, events func(explorer.Event)) (Session, error) {
		s, err := inner(ctx, tg, events)
		return &maildrop{fakeSession: s.(*fakeSession), n: n, deleted: map[int]bool{}}, err
	}
	o.Suggest = AnnotateSuggest
	o.Connect = &Target{Proto: explorer.POP3, Host: "127.0.0.1", Port: 2110}
	h := startApp(t, o, 120, 30)
	h.waitFor("S: +OK POP3 ready")
	return h
}

// TestPOP3PaletteFollowsTheSession: after USER only PASS and QUIT (RFC 1939
// §7); after DELE 1 the palette names message 2, after RSET message 1
// again; with every message deleted it offers no RETR.
func TestPOP3PaletteFollowsTheSession(t *testing.T) {
	h := startMaildrop(t, 2)
	h.line("USER bob")
	h.waitLast("+OK")
	h.waitPalette("PASS <password>", "QUIT")
	h.typ("CA")
	h.key(tcell.KeyTab)
	h.waitFor("no command valid now starts with CA")
	h.key(tcell.KeyCtrlU)
	h.line("PASS builder")
	h.waitLast("+OK maildrop")
	h.waitFor("RETR 1")
	h.line("DELE 1")
	h.waitLast("+OK message 1 deleted")
	h.waitPalette("STAT", "LIST", "UIDL", "RETR 2", "TOP 2 0", "DELE 2", "RSET", "NOOP", "CAPA", "QUIT")
	h.typ("RET")
	h.key(tcell.KeyTab)
	h.waitCmd("RETR 2") // completion fills the same number
	h.key(tcell.KeyCtrlU)
	h.line("RSET")
	h.waitLast("+OK")
	h.waitFor("RETR 1")
	h.line("DELE 1")
	h.waitLast("+OK")
	h.line("DELE 2")
	h.waitLast("+OK")
	h.line("STAT")
	h.waitLast("+OK 0 0")
	h.waitPalette("STAT", "LIST", "UIDL", "RSET", "NOOP", "CAPA", "QUIT")
}

// TestTabCompletesOnlyAnnouncedExtensions: the fake's EHLO announces
// STARTTLS, not AUTH: Tab completes the one, not the other, as the
// palette; AUTH typed in full is still sent.
func TestTabCompletesOnlyAnnouncedExtensions(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}, 100, 30,
		func(o *Options) { o.Suggest = AnnotateSuggest })
	h.line("EHLO x")
	h.waitLast("250 ")
	h.typ("AU")
	h.key(tcell.KeyTab)
	h.waitFor("no command valid now starts with AU")
	h.waitCmd("AU")
	h.key(tcell.KeyCtrlU)
	h.typ("STA")
	h.key(tcell.KeyTab)
	h.waitCmd("STARTTLS")
	h.key(tcell.KeyCtrlU)
	h.line("AUTH LOGIN")
	h.waitLast("334 ")
}

// TestEnterOnAnEmptyLineSendsNothing: an empty command line is not sent
// (it would earn a 500); the status line says what to do. After DATA an
// empty line is part of the message and is sent.
func TestEnterOnAnEmptyLineSendsNothing(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}, 100, 30, nil)
	h.key(tcell.KeyEnter)
	h.waitFor("type a command (Ctrl-P shows what fits now)")
	h.line("EHLO x")
	h.waitLast("250 ")
	if got := h.sentLines(); len(got) != 1 || got[0] != "EHLO x" {
		t.Fatalf("the client sent %q, want only EHLO", got)
	}
	h.line("MAIL FROM:<a@b.test>")
	h.waitLast("250 ")
	h.line("RCPT TO:<c@d.test>")
	h.waitLast("250 ")
	h.line("DATA")
	h.waitLast("354")
	h.line("Subject: x")
	h.key(tcell.KeyEnter)
	h.line("body")
	h.waitFor("C: body")
	if got := h.sentLines(); got[len(got)-2] != "" {
		t.Fatalf("the blank line after the headers was not sent: %q", got)
	}
}

// TestLessonKeysNamedForTheCommandLine: with the focus in the command line
// the lesson pane names Alt-h, which works there; in the pane, h.
func TestLessonKeysNamedForTheCommandLine(t *testing.T) {
	h, _ := startConnected(t, Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}, 80, 24,
		func(o *Options) { o.Course = hintLesson(t) })
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("long-hints") })
	h.waitFor("Step 1 of 1: Read on")
	h.waitPane("2 hints more: press h", true)
	h.app.tv.QueueUpdateDraw(func() { h.app.tv.SetFocus(h.app.session.cmd) })
	h.waitPane("2 hints more: press Alt-h", true)
	h.sim.InjectKey(tcell.KeyRune, 'h', tcell.ModAlt)
	h.waitPane("1 hint more: press Alt-h", true)
	if c := h.cmdText(); c != "" {
		t.Fatalf("Alt-h typed %q into the command line", c)
	}
}

// TestPOP3PaletteCountsFromList: LIST's "+OK 1 messages" tells the count
// as STAT does, so once the only message is deleted no RETR 2 is offered.
func TestPOP3PaletteCountsFromList(t *testing.T) {
	h := startMaildrop(t, 1)
	h.line("USER bob")
	h.waitLast("+OK")
	h.line("PASS builder")
	h.waitLast("+OK maildrop")
	h.line("LIST")
	h.waitLast(".")
	h.line("DELE 1")
	h.waitLast("+OK message 1 deleted")
	h.waitPalette("STAT", "LIST", "UIDL", "RSET", "NOOP", "CAPA", "QUIT")
}

// On a submission port that offers AUTH the palette leaves MAIL FROM out
// until the login succeeded (it would earn a 530); elsewhere it stays.
func TestSubmissionPaletteLogsInFirst(t *testing.T) {
	c := NewCommandModel(AnnotateSuggest)
	st := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady, TLS: true}
	caps := []string{"PIPELINING", "AUTH PLAIN LOGIN"}
	hasMail := func() bool {
		for _, it := range c.Palette(st, caps) {
			if strings.HasPrefix(it.Command, "MAIL FROM:") {
				return true
			}
		}
		return false
	}
	if !hasMail() {
		t.Error("MX-style target: MAIL FROM missing")
	}
	c.SetSubmission(true)
	if hasMail() {
		t.Error("submission before AUTH: MAIL FROM offered")
	}
	st.Authed = true
	if !hasMail() {
		t.Error("submission after AUTH: MAIL FROM missing")
	}
}
