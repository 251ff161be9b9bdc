package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withTTY makes the password prompt use f (nil: no terminal at all).
func withTTY(t *testing.T, content *string) {
	old := openTTY
	openTTY = func() (*os.File, error) {
		if content == nil {
			return nil, errors.New("no terminal")
		}
		p := filepath.Join(t.TempDir(), "tty")
		if err := os.WriteFile(p, []byte(*content), 0o600); err != nil {
			return nil, err
		}
		return os.Open(p)
	}
	t.Cleanup(func() { openTTY = old })
}

// An empty POSTLAB_PASSWORD is not a password: without a terminal to
// prompt on it is a usage error before anything is sent.
func TestEmptyPasswordEnvIsNotAPassword(t *testing.T) {
	srv := newLineServer(t, "+OK POP3 ready\r\n", pop3Reply)
	smtpSrv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	t.Setenv("POSTLAB_PASSWORD", "")
	typed := "wonderland\n"
	for _, tty := range []*string{nil, &typed} {
		withTTY(t, tty)
		for _, args := range [][]string{
			{"pop3", "--user", "alice", "--allow-plaintext-auth", srv.Addr()},
			{"smtp", "--user", "alice", "--allow-plaintext-auth", smtpSrv.Addr()},
			{"send", "--user", "alice", "--allow-plaintext-auth", "--server", smtpSrv.Addr(), "--from", "alice@postlab.test", "--to", "bob@postlab.test"},
			{"serve", "--user", "carol", "--data", t.TempDir(), "--smtp", "127.0.0.1:0", "--submission", "off", "--submissions", "off", "--pop3", "off", "--pop3s", "off", "--dns", "off"},
		} {
			out, code := runIO(t, "STAT\r\nQUIT\r\n", args...)
			if code != exitUsage || !strings.Contains(lastLine(out), "POSTLAB_PASSWORD is empty") {
				t.Errorf("tty %v, %v: exit %d, last line %q", tty != nil, args[0], code, lastLine(out))
			}
		}
	}
	if got := append(srv.Lines(), smtpSrv.Lines()...); len(got) != 0 {
		t.Errorf("sent %q", got)
	}
	// settings takes an empty one as no password: no login test, no prompt.
	withTTY(t, nil)
	code, out, errs := runCaptured(t, "settings", "--resolver", startLabDNS(t, nil), "--timeout", "1s", "alice@postlab.test")
	if code == exitUsage || !strings.Contains(out, "no login tested") {
		t.Errorf("settings: exit %d\n%s%s", code, out, errs)
	}
}

// Without POSTLAB_PASSWORD the password is read from the terminal.
func TestPasswordFromTheTerminal(t *testing.T) {
	srv := newLineServer(t, "+OK POP3 ready\r\n", pop3Reply)
	t.Setenv("POSTLAB_PASSWORD", "restored after the test")
	os.Unsetenv("POSTLAB_PASSWORD")
	typed := "wonderland\n"
	withTTY(t, &typed)
	out, code := runIO(t, "STAT\r\nQUIT\r\n", "pop3", "--user", "alice", "--allow-plaintext-auth", srv.Addr())
	if code != exitOK || !strings.Contains(out, "<- +OK 1 40") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
