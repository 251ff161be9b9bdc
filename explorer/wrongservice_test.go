package explorer

import (
	"errors"
	"strings"
	"testing"
)

// A greeting of another protocol says "wrong port" and closes the session
// without sending anything: no QUIT to a server that speaks something else.
func TestWrongServiceGreeting(t *testing.T) {
	for _, tc := range []struct {
		proto    Protocol
		greeting string
		seen     string
		want     string
	}{
		{SMTP, "+OK Dovecot ready.", "POP3", "this looks like a POP3 server: wrong port? (SMTP submission is usually 587)"},
		{SMTP, "-ERR [SYS/TEMP] too many connections", "POP3", "a POP3 server"},
		{SMTP, "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.", "IMAP", "this looks like an IMAP server: wrong port?"},
		{SMTP, "SSH-2.0-OpenSSH_9.6", "SSH", "an SSH server"},
		{SMTP, "HTTP/1.1 400 Bad Request", "HTTP", "a web (HTTP) server"},
		{POP3, "220 mx.test ESMTP Postfix", "SMTP", "this looks like an SMTP server: wrong port? (POP3 is usually 110, or 995 with --tls)"},
		{POP3, "220-mx.test ESMTP", "SMTP", "an SMTP server"},
		{POP3, "554 5.7.1 no service", "SMTP", "an SMTP server"},
		{POP3, "* OK IMAP4rev2 ready", "IMAP", "an IMAP server"},
		{POP3, "SSH-2.0-x", "SSH", "an SSH server"},
	} {
		t.Run(string(tc.proto)+" "+tc.greeting, func(t *testing.T) {
			f := newFake(t, "S: "+tc.greeting)
			ctx := testCtx(t)
			var s *Session
			var err error
			if tc.proto == SMTP {
				var c *SMTPSession
				if c, err = DialSMTP(ctx, testOpts(f.Addr())); c != nil {
					s = c.Session
					if _, qerr := c.Quit(ctx); qerr == nil {
						t.Error("QUIT went through")
					}
				}
			} else {
				var c *POP3Session
				if c, err = DialPOP3(ctx, testOpts(f.Addr())); c != nil {
					s = c.Session
					if _, qerr := c.Quit(ctx); qerr == nil {
						t.Error("QUIT went through")
					}
				}
			}
			var we *WrongServiceError
			if !errors.As(err, &we) || we.Seen != tc.seen || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a WrongServiceError naming %s: %q", err, tc.seen, tc.want)
			}
			var pe *ProtocolError
			if errors.As(err, &pe) || IsNetwork(err) {
				t.Errorf("err %T is also a protocol or network error", err)
			}
			if s == nil || !s.Closed() {
				t.Fatal("the session is still open")
			}
			if e := errEvents(s.Events()); len(e) != 1 || !strings.Contains(e[0], tc.want) {
				t.Errorf("error events %q", e)
			}
			s.Close()
			if got := f.Lines(); len(got) != 0 {
				t.Errorf("sent %q to a %s server", got, tc.seen)
			}
		})
	}
}

// A malformed greeting that is no other protocol's stays a protocol error.
func TestMalformedGreetingIsNotWrongService(t *testing.T) {
	for _, tc := range []struct {
		proto    Protocol
		greeting string
	}{{SMTP, "hello there"}, {SMTP, "22O mx.test"}, {POP3, "+OKready"}, {POP3, "hello"}} {
		bye := "S: 221 bye"
		if tc.proto == POP3 {
			bye = "S: +OK bye"
		}
		f := newFake(t, "S: "+tc.greeting, "C: QUIT", bye)
		ctx := testCtx(t)
		var err error
		if tc.proto == SMTP {
			var c *SMTPSession
			if c, err = DialSMTP(ctx, testOpts(f.Addr())); c != nil {
				defer c.Close()
				c.SendLine(ctx, "QUIT")
			}
		} else {
			var c *POP3Session
			if c, err = DialPOP3(ctx, testOpts(f.Addr())); c != nil {
				defer c.Close()
				c.SendLine(ctx, "QUIT")
			}
		}
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%s %q: err = %v (%T), want a ProtocolError", tc.proto, tc.greeting, err, err)
		}
	}
}
