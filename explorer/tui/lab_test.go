package tui

import (
	"crypto/x509"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer/annotate"
	"postlab/explorer/lab"
)

// realLabOptions starts a real lab on free ports in a temporary data dir.
func realLabOptions(t *testing.T) Options {
	t.Helper()
	cfg := lab.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.AuthFailDelay = -1
	return Options{
		Dial:     ExplorerDialer("client.postlab.test"),
		Annotate: annotate.Annotate,
		Suggest:  AnnotateSuggest,
		StartLab: func(bool) (Lab, error) { return StartLabWith(cfg)(true) },
	}
}

// TestSMTPThenPOP3AgainstTheLab is the key flow: connect to the lab, EHLO,
// MAIL, RCPT, DATA, QUIT; then POP3 LIST and RETR of the same message.
func TestSMTPThenPOP3AgainstTheLab(t *testing.T) {
	h := startApp(t, realLabOptions(t), 100, 30)
	h.waitFor("lab: smtp 127.0.0.1:")
	h.key(tcell.KeyEnter) // Connect: the form points at the lab's SMTP
	h.waitFor("S: 220 ")
	steps := []struct{ send, want string }{
		{"EHLO [127.0.0.1]", "250 "},
		{"MAIL FROM:<alice@postlab.test>", "250 "},
		{"RCPT TO:<bob@postlab.test>", "250 "},
		{"DATA", "354"},
	}
	for _, st := range steps {
		h.line(st.send)
		h.waitFor("C: " + st.send)
		h.waitLast(st.want)
	}
	h.waitFor("354 Start mail input", "RFC 5321 §4.1.1.4") // the note of the newest line
	for _, l := range []string{"Subject: [lab] flow test", "", "hello bob", "..dot line", "."} {
		h.line(l)
	}
	h.waitLast("250 ")
	// Move the selection up to the 354 and check the note follows it.
	h.key(tcell.KeyEscape) // to the trace
	h.rune('g')            // the first line
	h.waitFor("observed locally")
	h.app.tv.QueueUpdateDraw(func() {
		m := h.app.session.trace
		first, end := m.Bounds()
		for q := first; q < end; q++ {
			if e, _ := m.At(q); strings.HasPrefix(e.Event.Line, "354") {
				m.Select(q)
			}
		}
	})
	h.waitFor("354", "RFC 5321")
	h.key(tcell.KeyEnter) // back to the command line
	h.line("QUIT")
	h.waitFor("C: QUIT", "S: 221")
	h.waitLast("connection closed")

	// POP3 as bob over STLS.
	h.key(tcell.KeyCtrlN)
	h.waitFor("Enter connects to the lab", "Protocol")
	h.app.tv.QueueUpdateDraw(func() { h.app.session.form.preset.SetCurrentOption(3) })
	h.waitFor("lab POP3 (STLS)")
	h.app.tv.QueueUpdateDraw(func() { h.app.session.form.submit() })
	h.waitFor("S: +OK")
	for _, st := range []struct{ send, want string }{
		{"USER bob", "+OK"},
		{"PASS builder", "+OK"},
		{"LIST", "."},
		{"RETR 1", "."},
	} {
		h.line(st.send)
		h.waitLast(st.want)
	}
	s := h.waitFor("hello bob", "S: ..dot line", "🔒")
	if strings.Contains(s, "PASS builder") {
		t.Errorf("the password is shown in the trace:\n%s", s)
	}
	h.line("QUIT")
	h.waitFor("C: QUIT")
	h.waitLast("connection closed")

	// The server log saw both sessions.
	h.key(tcell.KeyEscape)
	h.rune('3')
	h.waitFor("C: #2 pop3 PASS ****", "🔒 S: #2 pop3 +OK")
	var smtpSide bool
	for _, e := range h.app.slog.trace.Snapshot() {
		if e.Prefix == "#1 smtp" && e.Event.Line == "RCPT TO:<bob@postlab.test>" {
			smtpSide = true
		}
	}
	if !smtpSide {
		t.Error("the server log lacks the SMTP session's RCPT")
	}
	// And the message sits in bob's mailbox.
	h.rune('2') // shows bob's mailbox, where mail arrived last
	s = h.waitFor("[lab] flow test", "hello bob", ".dot line", "read")
	if !strings.Contains(s, "bob 1") || strings.Contains(s, "bob 1/1") {
		t.Errorf("bob's message was read by RETR but the list counts it unread:\n%s", s)
	}
}

// TestDiagnoseAnAddressOfTheLab runs the real diagnostics against the lab's
// DNS, including the settings matrix of a lab address.
func TestDiagnoseAnAddressOfTheLab(t *testing.T) {
	o := realLabOptions(t)
	var app *App
	o.Diagnoser = DiagDiagnoser{
		Domain: "postlab.test",
		LabDNS: func() string { return app.Lab().Addr("dns") },
		LabCA:  func() *x509.CertPool { return app.Lab().CertPool() },
	}
	h := startApp(t, o, 100, 40)
	app = h.app
	h.waitFor("lab: smtp 127.0.0.1:")
	h.rune('4')
	h.line("bob@postlab.test")
	h.waitFor("findings for bob@postlab.test:", "MX", "SPF")
	ch := make(chan []string, 1)
	h.app.tv.QueueUpdate(func() {
		var got []string
		var walk func(n *tview.TreeNode)
		walk = func(n *tview.TreeNode) {
			for _, c := range n.GetChildren() {
				got = append(got, c.GetText())
				walk(c)
			}
		}
		if n := h.app.diag.nodes["settings"]; n != nil {
			walk(n)
		}
		ch <- got
	})
	got := <-ch
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "✔ ok  ") || !strings.Contains(all, "recommended") || !strings.Contains(all, "incoming pop3 ") {
		t.Fatalf("settings of the lab address:\n%s", all)
	}
	// How they were found: the lab's SRV records name its real ports.
	all = regexp.MustCompile(`\[[a-z:-]*\]`).ReplaceAllString(all, "") // colour tags
	_, port, _ := net.SplitHostPort(app.Lab().Addr("submission"))
	for _, want := range []string{"How these were found", "srv _submission._tcp.postlab.test: mail.postlab.test port " + port, "mx postlab.test: mail.postlab.test", "autoconfig https://autoconfig.postlab.test/"} {
		if !strings.Contains(all, want) {
			t.Errorf("settings lack %q:\n%s", want, all)
		}
	}
}
