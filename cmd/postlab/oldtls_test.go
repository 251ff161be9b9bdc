package main

import (
	"strings"
	"testing"

	"postlab/explorer/lab"
)

// Against a server that offers only TLS 1.0 (the lab's tls-fail scenario),
// smtp, send and pop3 stop at the handshake, exit 3 and never send the
// password (RFC 8996); lesson 13's "the handshake fails" holds.
func TestOldTLSStopsBeforeTheLogin(t *testing.T) {
	l, ca := startTestLab(t)
	l.SetScenario(lab.ScenarioTLSFail)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	for _, args := range [][]string{
		{"smtp", "--starttls", "--ca", ca, l.Addr("submission")},
		{"smtp", "--starttls", "--ca", ca, "--user", "alice", l.Addr("submission")},
		{"send", "--starttls", "--ca", ca, "--user", "alice", "--server", l.Addr("submission"), "--from", "alice@postlab.test", "--to", "bob@postlab.test"},
		{"pop3", "--tls", "--ca", ca, "--user", "bob", l.Addr("pop3s")},
	} {
		out, code := runIO(t, "NOOP\r\nQUIT\r\n", args...)
		want := "tls: the server offers only TLS 1.0; RFC 8996 forbids TLS < 1.2"
		if code != exitNetwork || !strings.HasPrefix(lastLine(out), "postlab: "+want) {
			t.Errorf("%v: exit %d, last line %q, want %q...", args, code, lastLine(out), want)
		}
		for _, leak := range []string{"~> AUTH", "~> NOOP", "~> USER", "~> EHLO", "-> NOOP", "TLS established"} {
			if strings.Contains(out, leak) {
				t.Errorf("%v: %q after the refused handshake:\n%s", args, leak, out)
			}
		}
	}
	l.SetScenario("")
	if got := bobMessages(t, l); len(got) != 0 {
		t.Errorf("delivered %d messages", len(got))
	}
}
