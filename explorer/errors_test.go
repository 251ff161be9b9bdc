package explorer

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Connection and TLS failures read as one line that says what to do.
func TestConnErrorsExplained(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	_, err := DialSMTP(testCtx(t), testOpts(dead))
	if msg := err.Error(); !strings.Contains(msg, "nothing listens on "+dead) || !strings.Contains(msg, "check the host and the port") || strings.Contains(msg, "dial tcp") {
		t.Errorf("refused: %q", msg)
	}
	if !IsNetwork(err) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: %v is not a network error wrapping ECONNREFUSED", err)
	}

	for _, proto := range []Protocol{SMTP, POP3} {
		greeting, hint := "S: 220 mx.test ESMTP", "465 for SMTP"
		if proto == POP3 {
			greeting, hint = "S: +OK ready", "995 for POP3"
		}
		f := newFake(t, greeting, "HANG")
		opts := testOpts(f.Addr())
		opts.Security = ImplicitTLS
		_, err = Dial(testCtx(t), proto, opts)
		msg := err.Error()
		if !IsNetwork(err) || strings.Contains(msg, "tls: tls:") || !strings.Contains(msg, "plain text") || !strings.Contains(msg, "--starttls") || !strings.Contains(msg, hint) {
			t.Errorf("%s: plain server with TLS: %q", proto, msg)
		}
	}

	// A plain client on an implicit-TLS port waits for a greeting that never comes.
	f := newFake(t, "HANG")
	opts := testOpts(f.Addr())
	opts.ReplyTimeout = 100 * time.Millisecond
	_, err = DialSMTP(testCtx(t), opts)
	if msg := err.Error(); !strings.Contains(msg, "no greeting") || !strings.Contains(msg, "--tls") {
		t.Errorf("no greeting: %q", msg)
	}
}
