package explorer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A CR, LF or NUL in a command argument or a credential would end the line
// and run the rest as a command of its own (RFC 5321 §2.3.8, RFC 1939 §3):
// the session refuses before writing anything, and stays usable.
func TestPOP3RefusesLineBreaksInCommands(t *testing.T) {
	f := newFake(t, "S: +OK POP3 ready <1.2@mx.test>", "C: NOOP", "S: +OK", "HANG")
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, call := range map[string]func() error{
		"USER":        func() error { _, err := c.User(ctx, "bob\r\nDELE 1"); return err },
		"PASS":        func() error { _, err := c.Pass(ctx, "builder\r\nDELE 1"); return err },
		"Login pass":  func() error { _, err := c.Login(ctx, "bob", "builder\nDELE 1"); return err },
		"Login user":  func() error { _, err := c.Login(ctx, "bob\rDELE 1", "builder"); return err },
		"APOP":        func() error { _, err := c.Apop(ctx, "bob\r\nDELE 1", "x"); return err },
		"raw line":    func() error { _, err := c.SendLine(ctx, "NOOP\r\nDELE 1"); return err },
		"NUL in PASS": func() error { _, err := c.Pass(ctx, "a\x00b"); return err },
	} {
		var ue *UnsafeLineError
		if err := call(); !errors.As(err, &ue) {
			t.Errorf("%s: err = %v, want *UnsafeLineError", name, err)
		}
	}
	if _, err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the refusals: %v", err)
	}
	waitLines(t, f, 1)
	if got := f.Lines(); len(got) != 1 || got[0] != "NOOP" {
		t.Errorf("server got %q, want only NOOP", got)
	}
}

func TestSMTPRefusesLineBreaksInCommands(t *testing.T) {
	f := newFake(t, "S: 220 mx.test ESMTP", "C: EHLO ok.test", "S: 250-mx.test", "S: 250 PIPELINING", "C: NOOP", "S: 250 ok", "HANG")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bad := "x.example\r\nMAIL FROM:<a@b.c>"
	check := func(name string, err error) {
		t.Helper()
		var ue *UnsafeLineError
		if !errors.As(err, &ue) {
			t.Errorf("%s: err = %v, want *UnsafeLineError", name, err)
		}
	}
	_, err = c.Ehlo(ctx, bad)
	check("EHLO", err)
	_, err = c.Helo(ctx, "x\ny")
	check("HELO", err)
	if _, err := c.Ehlo(ctx, "ok.test"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Mail(ctx, "a@b.c>\r\nRCPT TO:<evil@x")
	check("MAIL", err)
	_, err = c.Rcpt(ctx, "a@b.c", "NOTIFY=NEVER\r\nRSET")
	check("RCPT params", err)
	_, err = c.SendLine(ctx, "VRFY a\x00b")
	check("VRFY", err)
	_, err = c.Pipeline(ctx, Envelope{From: "a@b.c", To: []string{"x@y.z>\nRSET"}})
	check("pipelined RCPT", err)
	if _, err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the refusals: %v", err)
	}
	waitLines(t, f, 2)
	if got := strings.Join(f.Lines(), "|"); got != "EHLO ok.test|NOOP" {
		t.Errorf("server got %q, want only EHLO ok.test and NOOP", got)
	}
}

// waitLines polls until the fake server has read n lines.
func waitLines(t *testing.T, f *fakeServer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(f.Lines()) < n && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
}
