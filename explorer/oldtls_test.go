package explorer

import (
	"errors"
	"strings"
	"testing"
)

// A server stuck below TLS 1.2 (RFC 8996) fails the handshake, after
// STARTTLS or with implicit TLS, and nothing crosses it; the error names
// the version.
func TestOldTLSRefused(t *testing.T) {
	_, pool := certFor(t)
	for _, v := range []string{"1.0", "1.1"} {
		t.Run("STARTTLS TLS "+v, func(t *testing.T) {
			f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 STARTTLS", "C: STARTTLS", "S: 220 go ahead", "TLS"+v)
			ctx := testCtx(t)
			opts := testOpts(f.Addr())
			opts.RootCAs = pool
			c, err := DialSMTP(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			c.Ehlo(ctx, "c")
			err = c.StartTLS(ctx)
			checkOldTLS(t, err, v, c.Session)
			if _, err := c.Auth(ctx, "PLAIN", "alice", "wonderland"); err == nil {
				t.Error("AUTH after the refused handshake")
			}
			if got := f.Lines(); len(got) != 2 {
				t.Errorf("the server got %q", got)
			}
		})
		t.Run("implicit POP3 TLS "+v, func(t *testing.T) {
			f := newFake(t, "TLS"+v, "S: +OK ready")
			ctx := testCtx(t)
			opts := testOpts(f.Addr())
			opts.RootCAs, opts.Security = pool, ImplicitTLS
			c, err := DialPOP3(ctx, opts)
			if c != nil {
				t.Fatal("a session after the refused handshake")
			}
			checkOldTLS(t, err, v, nil)
		})
	}
}

func checkOldTLS(t *testing.T, err error, v string, s *Session) {
	t.Helper()
	var oe *OldTLSError
	if !errors.As(err, &oe) || oe.Version != "TLS "+v || !IsNetwork(err) {
		t.Fatalf("err = %v (%T), want an OldTLSError for TLS %s", err, err, v)
	}
	want := "the server offers only TLS " + v + "; RFC 8996 forbids TLS < 1.2"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if s == nil {
		return
	}
	if !s.Closed() || s.TLS() != nil {
		t.Errorf("closed %v, TLS %+v", s.Closed(), s.TLS())
	}
	if e := errEvents(s.Events()); len(e) != 1 || !strings.Contains(e[0], want) {
		t.Errorf("error events %q", e)
	}
}

// AllowOldTLS lets a probe see the old server, and reports its version;
// TLS 1.2 needs no option.
func TestOldTLSAllowed(t *testing.T) {
	_, pool := certFor(t)
	for _, tc := range []struct {
		step, version string
		allow         bool
	}{{"TLS1.0", "TLS 1.0", true}, {"TLS1.1", "TLS 1.1", true}, {"TLS1.2", "TLS 1.2", false}} {
		f := newFake(t, tc.step, "S: 220 mx.test", "C: QUIT", "S: 221 bye")
		ctx := testCtx(t)
		opts := testOpts(f.Addr())
		opts.RootCAs, opts.Security, opts.AllowOldTLS = pool, ImplicitTLS, tc.allow
		c, err := DialSMTP(ctx, opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.step, err)
		}
		if ti := c.TLS(); ti == nil || ti.Version != tc.version || !ti.Verified {
			t.Errorf("%s: TLS %+v", tc.step, ti)
		}
		c.Quit(ctx)
	}
}
