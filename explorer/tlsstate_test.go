package explorer

import (
	"bytes"
	"testing"
)

// TLSState hands out the chain the server sent on the session's own
// connection, also when it did not verify, so DANE needs no second one.
func TestTLSStateAfterStartTLS(t *testing.T) {
	cert, _ := certFor(t)
	f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 STARTTLS", "C: STARTTLS", "S: 220 go ahead", "TLS",
		"C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	// Not trusted and the wrong name: verification fails, the chain is kept.
	opts.Insecure, opts.ServerName = true, "other.test"
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.TLSState(); ok {
		t.Error("TLS state before STARTTLS")
	}
	if _, err := c.Ehlo(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(ctx); err != nil {
		t.Fatal(err)
	}
	cs, ok := c.TLSState()
	if !ok || !cs.HandshakeComplete || cs.Version == 0 || cs.ServerName != "other.test" {
		t.Fatalf("state %v: %+v", ok, cs)
	}
	if len(cs.PeerCertificates) != 1 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Certificate[0]) {
		t.Errorf("peer chain %d certificates, not the server's", len(cs.PeerCertificates))
	}
	if ti := c.TLS(); ti == nil || ti.Verified {
		t.Errorf("verification should have failed: %+v", ti)
	}
	c.Quit(ctx)
	if _, ok := c.TLSState(); !ok {
		t.Error("TLS state gone after QUIT")
	}
}

func TestTLSStateImplicitPOP3(t *testing.T) {
	cert, _ := certFor(t)
	f := newFake(t, "TLS", "S: +OK ready", "C: QUIT", "S: +OK bye")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	opts.Security, opts.Insecure = ImplicitTLS, true // no RootCAs: untrusted
	c, err := DialPOP3(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := c.TLSState()
	if !ok || len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Certificate[0]) {
		t.Fatalf("state %v, %d certificates", ok, len(cs.PeerCertificates))
	}
	c.Quit(ctx)
}
