package main

import (
	"strings"
	"testing"
)

// A port of the other protocol is named as such (exit 3), not blamed on
// the server, and nothing is sent to it: no QUIT in the wrong language.
func TestWrongPortNamed(t *testing.T) {
	pop3 := newLineServer(t, "+OK Dovecot ready.\r\n", func(string, *bool) string { return "-ERR unknown command\r\n" })
	smtp := newLineServer(t, "220 mx.test ESMTP Postfix\r\n", smtpReply)
	imap := newLineServer(t, "* OK [CAPABILITY IMAP4rev1] ready\r\n", func(string, *bool) string { return "* BAD\r\n" })
	const onSMTP = "this looks like a POP3 server: wrong port? (SMTP submission is usually 587)"
	const onPOP3 = "this looks like an SMTP server: wrong port? (POP3 is usually 110, or 995 with --tls)"
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	for _, tc := range []struct {
		srv  *lineServer
		args []string
		want string
	}{
		{pop3, []string{"send", "--server", pop3.Addr(), "--from", "a@postlab.test", "--to", "bob@postlab.test"}, "banner: " + onSMTP},
		{pop3, []string{"send", "--starttls", "--user", "alice", "--server", pop3.Addr(), "--from", "a@postlab.test", "--to", "bob@postlab.test"}, "banner: " + onSMTP},
		{pop3, []string{"smtp", pop3.Addr()}, "banner: " + onSMTP},
		{pop3, []string{"smtp", "--starttls", pop3.Addr()}, "banner: " + onSMTP},
		{smtp, []string{"pop3", smtp.Addr()}, "banner: " + onPOP3},
		{smtp, []string{"pop3", "--starttls", "--user", "bob", smtp.Addr()}, "banner: " + onPOP3},
		{imap, []string{"pop3", imap.Addr()}, "banner: this looks like an IMAP server: wrong port?"},
	} {
		before := len(tc.srv.Lines())
		out, code := runIO(t, "NOOP\r\nQUIT\r\n", tc.args...)
		if last := lastLine(out); code != exitNetwork || !strings.HasPrefix(last, "postlab: "+tc.want) || strings.Contains(last, "report it") || strings.Contains(last, "without TLS") {
			t.Errorf("%v: exit %d, last line %q, want %q", tc.args, code, last, tc.want)
		}
		if got := tc.srv.Lines()[before:]; len(got) != 0 {
			t.Errorf("%v: sent %q to the wrong server", tc.args, got)
		}
	}
}
