package main

import (
	"strings"
	"testing"
)

// A CR or LF in --user, --helo, --subject or the password would end the
// line it is sent on and run the rest as a command (or header) of its own:
// each is a usage error naming what is wrong, before any connection.
func TestLineBreakFlagsAreUsageErrors(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	pop := newLineServer(t, "+OK ready\r\n", pop3Reply)
	send := []string{"send", "--server", srv.Addr(), "--from", "a@postlab.test", "--to", "bob@postlab.test"}
	for _, tc := range []struct {
		password string
		args     []string
		want     string
	}{
		{"", []string{"pop3", "--allow-plaintext-auth", "--user", "bob\r\nDELE 1", pop.Addr()}, "--user"},
		{"builder\r\nDELE 1", []string{"pop3", "--allow-plaintext-auth", "--user", "bob", pop.Addr()}, "the password contains a line break"},
		{"builder\nRSET", []string{"smtp", "--allow-plaintext-auth", "--user", "bob", srv.Addr()}, "the password contains a line break"},
		{"", []string{"smtp", "--helo", "x.example\r\nMAIL FROM:<a@b.c>", srv.Addr()}, "--helo"},
		{"", append(send, "--helo", "x.example\r\nMAIL FROM:<a@b.c>"), "--helo"},
		{"", append(send, "--helo", "two words"), "--helo"},
		{"", append(send, "--helo", "[not-an-ip]"), "--helo"},
		{"", append(send, "--subject", "hi\nBcc: evil@x"), "--subject"},
		{"", []string{"diag", "--helo", "x\r\nRSET", "--resolver", "127.0.0.1:1", "--timeout", "200ms", "postlab.invalid"}, "--helo"},
	} {
		t.Setenv("POSTLAB_PASSWORD", tc.password)
		if tc.password == "" {
			t.Setenv("POSTLAB_PASSWORD", "builder")
		}
		out, code := runIO(t, "QUIT\r\n", tc.args...)
		if code != exitUsage || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, want 2 naming %s:\n%s", tc.args, code, tc.want, out)
		}
	}
	for _, h := range []string{"client.example.com", "localhost", "[192.0.2.1]", "[IPv6:2001:db8::1]", "mx.example."} {
		if why := badHelo(h); why != "" {
			t.Errorf("badHelo(%q) = %q, want it accepted", h, why)
		}
	}
}

// An explicitly empty --resolver is a mistake (an unset variable), not a
// request for the system's resolver.
func TestEmptyResolverIsUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"mx", "--resolver", "", "--timeout", "200ms", "postlab.invalid"},
		{"diag", "--resolver", "", "--no-probe", "--timeout", "200ms", "postlab.invalid"},
		{"settings", "--resolver", "", "--timeout", "200ms", "a@postlab.invalid"},
		{"send", "--resolver", "", "--from", "a@postlab.test", "--to", "bob@postlab.invalid"},
	} {
		out, code := runIO(t, "", args...)
		if code != exitUsage || !strings.Contains(out, "--resolver is empty") {
			t.Errorf("%q: exit %d, want 2 and '--resolver is empty':\n%s", args, code, out)
		}
	}
}

// A name too long for DNS says which limit it breaks (RFC 1035 §2.3.4).
func TestDomainLengthLimitsNamed(t *testing.T) {
	label := strings.Repeat("a", 70) + ".example"
	long := strings.Repeat("abcdefghi.", 30) + "example"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mx", "--resolver", "127.0.0.1:1", label}, "at most 63"},
		{[]string{"diag", "--resolver", "127.0.0.1:1", "--no-probe", label}, "at most 63"},
		{[]string{"mx", "--resolver", "127.0.0.1:1", long}, "at most 253"},
		{[]string{"diag", "--resolver", "127.0.0.1:1", "--no-probe", "bob@" + long}, "at most 253"},
	} {
		out, code := runIO(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(out, tc.want) {
			t.Errorf("%.40q: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}
