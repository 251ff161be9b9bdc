package lab

import (
	"strings"
	"testing"
)

// TestNonASCIIAddressNeedsSMTPUTF8: RFC 6531 §3.4 requires the SMTPUTF8
// parameter for a non-ASCII address; §3.5 gives 550 (MAIL) and 553 (RCPT)
// with X.6.7.
func TestNonASCIIAddressNeedsSMTPUTF8(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSMTP))
	c.greet()
	c.cmd("550 5.6.7", "MAIL FROM:<jos\u00e9@example.com>")
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("553 5.6.7", "RCPT TO:<bj\u00f8rn@postlab.test>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("250", "RSET")
	// With the parameter the same sender is accepted and delivered.
	c.cmd("250", "MAIL FROM:<jos\u00e9@example.com> SMTPUTF8")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: caf\u00e9\r\n\r\nhi\r\n.\r\n")
	c.expect("250")
	if b := readNew(t, l, "alice"); !strings.Contains(string(b), "Return-Path: <jos\u00e9@example.com>") || !strings.Contains(string(b), "with UTF8SMTP") {
		t.Errorf("stored:\n%s", b)
	}
	c.cmd("221", "QUIT")
}
