package lab

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func keywords(ehlo string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(ehlo, "\n")[1:] {
		k, v, _ := strings.Cut(line, " ")
		out[k] = v
	}
	return out
}

func TestEHLOKeywordsMX(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	kw := keywords(c.greet())
	for _, k := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS"} {
		if _, ok := kw[k]; !ok {
			t.Errorf("EHLO lacks %s: %v", k, kw)
		}
	}
	if kw["SIZE"] != "26214400" {
		t.Errorf("SIZE = %q, want 26214400", kw["SIZE"])
	}
	if _, ok := kw["AUTH"]; ok {
		t.Errorf("MX port advertises AUTH")
	}
	c.starttls(l)
	kw = keywords(c.cmd("250", "EHLO client.example"))
	if _, ok := kw["STARTTLS"]; ok {
		t.Errorf("STARTTLS advertised again under TLS")
	}
	if _, ok := kw["AUTH"]; ok {
		t.Errorf("MX port advertises AUTH under TLS")
	}
	c.cmd("502 5.5.1", "AUTH PLAIN %s", plainIR("alice", "wonderland"))
}

func TestEHLOKeywordsSubmission(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("submission"))
	kw := keywords(c.greet())
	if _, ok := kw["AUTH"]; ok {
		t.Errorf("AUTH advertised before TLS: %v", kw)
	}
	if _, ok := kw["STARTTLS"]; !ok {
		t.Errorf("no STARTTLS: %v", kw)
	}
	c.starttls(l)
	kw = keywords(c.cmd("250", "EHLO client.example"))
	if kw["AUTH"] != "PLAIN LOGIN CRAM-MD5" {
		t.Errorf("AUTH = %q, want PLAIN LOGIN CRAM-MD5", kw["AUTH"])
	}

	s := dialTLS(t, l, l.Addr("submissions"))
	kw = keywords(s.greet())
	if kw["AUTH"] != "PLAIN LOGIN CRAM-MD5" {
		t.Errorf("submissions AUTH = %q", kw["AUTH"])
	}
	if _, ok := kw["STARTTLS"]; ok {
		t.Errorf("implicit TLS port offers STARTTLS")
	}
}

func TestMXDeliversLocalDurably(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	reply := c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	// The 250 has arrived: the file must already be in new/, complete.
	b := readNew(t, l, "alice")
	if got := bodyAfterTrace(t, b); got != testMsg {
		t.Fatalf("stored body %q, want %q", got, testMsg)
	}
	if !strings.HasPrefix(string(b), "Return-Path: <carol@example.com>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mail.postlab.test (postlab smtp port) with ESMTP id ") {
		t.Errorf("trace headers:\n%s", b)
	}
	if !strings.Contains(string(b), "\tfor <alice@postlab.test>;") {
		t.Errorf("Received lacks for clause:\n%s", b)
	}
	if !strings.Contains(reply, "delivered to alice") {
		t.Errorf("reply %q", reply)
	}
	name := newFiles(t, l, "alice")[0]
	if !regexp.MustCompile(`^\d+\.\d+_\d+_[0-9a-f]{8}\.mail\.postlab\.test,S=\d+,W=\d+$`).MatchString(name) {
		t.Errorf("maildir name %q", name)
	}
	if fi, _ := os.Stat(filepath.Join(l.DataDir(), "mail", "alice", "new", name)); !strings.Contains(name, fmt.Sprintf(",S=%d,", fi.Size())) {
		t.Errorf("name %q does not carry size %d", name, fi.Size())
	}
	tmp, _ := os.ReadDir(filepath.Join(l.DataDir(), "mail", "alice", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("tmp/ not empty: %v", tmp)
	}
	c.cmd("221", "QUIT")
}

func TestMXRefusesRelayAndUnknownUsers(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("550 5.7.1", "RCPT TO:<dave@example.org>")
	c.cmd("550 5.1.1", "RCPT TO:<nobody@postlab.test>")
	c.cmd("550 5.1.1", "RCPT TO:<../alice@postlab.test>")
	c.cmd("250", "RCPT TO:<Bob@POSTLAB.TEST>")
	c.cmd("250", "RCPT TO:<postmaster@postlab.test>")
	c.cmd("354", "DATA")
	c.raw(testMsg + ".\r\n")
	c.expect("250")
	if len(newFiles(t, l, "bob")) != 1 || len(newFiles(t, l, "alice")) != 1 {
		t.Errorf("bob %v alice (postmaster) %v", newFiles(t, l, "bob"), newFiles(t, l, "alice"))
	}
}

func TestSubmissionNeedsAuth(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("submission"))
	c.greet()
	c.cmd("530 5.7.0", "MAIL FROM:<alice@postlab.test>")
	// Password mechanisms are refused before TLS (RFC 4954 §6: 538).
	c.cmd("538 5.7.11", "AUTH PLAIN %s", plainIR("alice", "wonderland"))
	c.cmd("538 5.7.11", "AUTH LOGIN")
	c.starttls(l)
	c.cmd("250", "EHLO client.example")
	c.cmd("530 5.7.0", "MAIL FROM:<alice@postlab.test>")
	c.login("alice", "wonderland")
	c.cmd("250", "MAIL FROM:<alice@postlab.test>")
}

func TestInsecureAuth(t *testing.T) {
	l := startLab(t, func(c *Config) { c.InsecureAuth = true })
	c := dial(t, l.Addr("submission"))
	kw := keywords(c.greet())
	if kw["AUTH"] != "PLAIN LOGIN CRAM-MD5" {
		t.Fatalf("AUTH = %q with --insecure-auth", kw["AUTH"])
	}
	c.login("alice", "wonderland")
	c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, testMsg)
	b := readNew(t, l, "bob")
	if !strings.Contains(string(b), "with ESMTPA id") || !strings.Contains(string(b), "authenticated as alice") {
		t.Errorf("Received:\n%s", b)
	}
}

func TestAuthMechanisms(t *testing.T) {
	l := startLab(t)
	open := func() *client {
		c := dial(t, l.Addr("submission"))
		c.greet()
		c.starttls(l)
		c.cmd("250", "EHLO client.example")
		return c
	}
	t.Run("PLAIN initial response", func(t *testing.T) {
		c := open()
		c.cmd("235", "AUTH PLAIN %s", plainIR("alice", "wonderland"))
		c.cmd("503 5.5.1", "AUTH PLAIN %s", plainIR("alice", "wonderland"))
	})
	t.Run("PLAIN with challenge and address", func(t *testing.T) {
		c := open()
		c.cmd("334", "AUTH PLAIN")
		c.cmd("235", "%s", plainIR("bob@postlab.test", "builder"))
	})
	t.Run("PLAIN wrong password", func(t *testing.T) {
		c := open()
		c.cmd("535 5.7.8", "AUTH PLAIN %s", plainIR("alice", "guess"))
		c.cmd("535 5.7.8", "AUTH PLAIN %s", plainIR("nobody", "guess"))
		c.cmd("535 5.7.8", "AUTH PLAIN %s", b64("bob\x00alice\x00wonderland"))
		c.cmd("501 5.5.2", "AUTH PLAIN %s", b64("no-nuls"))
		c.cmd("530 5.7.0", "MAIL FROM:<alice@postlab.test>")
	})
	t.Run("LOGIN", func(t *testing.T) {
		c := open()
		if m := c.cmd("334", "AUTH LOGIN"); m != b64("Username:") {
			t.Errorf("challenge %q", m)
		}
		if m := c.cmd("334", "%s", b64("alice")); m != b64("Password:") {
			t.Errorf("challenge %q", m)
		}
		c.cmd("235", "%s", b64("wonderland"))
	})
	t.Run("LOGIN initial response", func(t *testing.T) {
		c := open()
		c.cmd("334", "AUTH LOGIN %s", b64("alice"))
		c.cmd("535 5.7.8", "%s", b64("wrong"))
	})
	t.Run("CRAM-MD5", func(t *testing.T) {
		c := open()
		ch := c.cmd("334", "AUTH CRAM-MD5")
		raw, err := base64.StdEncoding.DecodeString(ch)
		if err != nil || !regexp.MustCompile(`^<[0-9a-f]+\.\d+@mail\.postlab\.test>$`).Match(raw) {
			t.Fatalf("challenge %q (%v)", raw, err)
		}
		mac := hmac.New(md5.New, []byte("builder"))
		mac.Write(raw)
		c.cmd("235", "%s", b64("bob "+hex.EncodeToString(mac.Sum(nil))))
	})
	t.Run("CRAM-MD5 wrong digest", func(t *testing.T) {
		c := open()
		c.cmd("334", "AUTH CRAM-MD5")
		c.cmd("535 5.7.8", "%s", b64("bob 00000000000000000000000000000000"))
	})
	t.Run("cancel and unknown", func(t *testing.T) {
		c := open()
		c.cmd("334", "AUTH LOGIN")
		c.cmd("501", "*")
		c.cmd("504 5.5.4", "AUTH DIGEST-MD5")
	})
}

// TestNetSMTPClient uses the standard library's client: STARTTLS, AUTH
// PLAIN, send.
func TestNetSMTPClient(t *testing.T) {
	l := startLab(t)
	c, err := smtp.Dial(l.Addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := l.ClientTLSConfig()
	if err := c.StartTLS(cfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice", "wonderland", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@postlab.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@postlab.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: via net/smtp\r\n\r\n.leading dot\r\nend\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	b := readNew(t, l, "bob")
	if got := bodyAfterTrace(t, b); got != "Subject: via net/smtp\r\n\r\n.leading dot\r\nend\r\n" {
		t.Errorf("stored %q", got)
	}
	if !strings.Contains(string(b), "SMTPSA id") || !strings.Contains(string(b), "(TLS 1.3 TLS_") {
		t.Errorf("Received:\n%s", b)
	}
}

func TestSubmissionOutbox(t *testing.T) {
	l := startLab(t)
	c := dialTLS(t, l, l.Addr("submissions"))
	c.greet()
	c.login("alice", "wonderland")
	reply := c.sendMail("alice@postlab.test", []string{"bob@postlab.test", "dave@example.org", "erin@example.net"}, testMsg)
	if !strings.Contains(reply, "delivered to bob") || !strings.Contains(reply, "2 outside recipient(s) kept in the outbox") {
		t.Errorf("reply %q", reply)
	}
	// Below the lab's fields: the lab's DKIM signature (alice writes from
	// its domain), then the message as sent.
	if _, sig, got := splitLabFields(t, readNew(t, l, "bob")); sig == "" || got != testMsg {
		t.Errorf("bob got %q below signature %q", got, sig)
	}
	ob := readNew(t, l, Outbox)
	if !strings.HasPrefix(string(ob), "X-Postlab-Envelope-From: <alice@postlab.test>\r\nX-Postlab-Envelope-To: <dave@example.org>\r\nX-Postlab-Envelope-To: <erin@example.net>\r\nReceived: ") {
		t.Errorf("outbox copy:\n%s", ob)
	}
	if strings.Contains(string(readNew(t, l, "bob")), "Envelope") || strings.Contains(string(readNew(t, l, "bob")), "\tfor <") {
		t.Errorf("bob's copy reveals the other recipients")
	}
	if _, sig, got := splitLabFields(t, ob); sig == "" || got != testMsg {
		t.Errorf("outbox body %q below signature %q", got, sig)
	}
	sums, err := l.Store().List(Outbox)
	if err != nil || len(sums) != 1 {
		t.Fatalf("List(outbox) = %v, %v", sums, err)
	}
	if s := sums[0]; s.Subject != "hello" || strings.Join(s.EnvelopeTo, ",") != "dave@example.org,erin@example.net" || s.Seen {
		t.Errorf("summary %+v", s)
	}
	// Only outside recipients: the outbox alone.
	c.sendMail("alice@postlab.test", []string{"frank@example.com"}, testMsg)
	if n := len(newFiles(t, l, Outbox)); n != 2 {
		t.Errorf("outbox has %d messages, want 2", n)
	}
}

func TestMultipleLocalRecipientsShareOneDelivery(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.sendMail("carol@example.com", []string{"alice@postlab.test", "bob@postlab.test", "alice@postlab.test"}, testMsg)
	a, b := readNew(t, l, "alice"), readNew(t, l, "bob")
	if string(a) != string(b) {
		t.Errorf("copies differ")
	}
	if strings.Contains(string(a), "\tfor <") {
		t.Errorf("Received names one of several recipients:\n%s", a)
	}
}

func TestSizeLimit(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxMessageBytes = 2000 })
	c := dial(t, l.Addr("smtp"))
	kw := keywords(c.greet())
	if kw["SIZE"] != "2000" {
		t.Errorf("SIZE %q", kw["SIZE"])
	}
	c.cmd("552 5.3.4", "MAIL FROM:<carol@example.com> SIZE=5000")
	c.cmd("250", "MAIL FROM:<carol@example.com> SIZE=100")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw(testMsg + strings.Repeat("0123456789012345678901234567890123456789\r\n", 60) + ".\r\n")
	c.expect("552 5.3.4")
	// The session goes on.
	c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	if n := len(newFiles(t, l, "alice")); n != 1 {
		t.Errorf("alice has %d messages, want 1", n)
	}
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("552 5.3.4", "BDAT 3000 LAST")
}

func TestRecipientLimit(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.send("MAIL FROM:<carol@example.com>")
	for range 101 {
		c.send("RCPT TO:<alice@postlab.test>")
	}
	c.expect("250")
	for range 100 {
		c.expect("250")
	}
	c.expect("452 4.5.3")
}

func TestLineLength(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	// 998 octets + CRLF is the most a text line may have.
	ok := strings.Repeat("a", 998) + "\r\n"
	c.raw("Subject: long\r\n\r\n" + ok + strings.Repeat("b", 999) + "\r\n.\r\n")
	c.expect("500 5.5.2")
	if n := len(newFiles(t, l, "alice")); n != 0 {
		t.Errorf("stored a message with a too-long line")
	}
	c.sendMail("carol@example.com", []string{"alice@postlab.test"}, "Subject: long\r\n\r\n"+ok)
	if got := bodyAfterTrace(t, readNew(t, l, "alice")); got != "Subject: long\r\n\r\n"+ok {
		t.Errorf("998-octet line not stored intact")
	}
	// A command line beyond any limit ends the session.
	c.raw(strings.Repeat("x", maxCommandLine+10) + "\r\n")
	c.expect("500")
}

func TestIdleTimeout(t *testing.T) {
	l := startLab(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.expect("421 4.4.2")
	if _, err := c.tp.ReadLine(); err == nil {
		t.Errorf("connection still open after idle timeout")
	}
}

func TestConnectionsPerIP(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxConnsPerIP = 2 })
	a := dial(t, l.Addr("smtp"))
	a.expect("220")
	b := dial(t, l.Addr("submission"))
	b.expect("220")
	c := dial(t, l.Addr("smtp"))
	c.expect("421 4.7.0")
	a.cmd("221", "QUIT")
	// The slot is free again once the first session is gone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := dial(t, l.Addr("smtp"))
		code, _ := d.reply()
		if code == 220 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not released")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPipelining(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	c.raw("EHLO client.example\r\nMAIL FROM:<carol@example.com>\r\nRCPT TO:<alice@postlab.test>\r\nRCPT TO:<nobody@postlab.test>\r\nRCPT TO:<bob@postlab.test>\r\nDATA\r\n")
	c.expect("250")
	c.expect("250")
	c.expect("250")
	c.expect("550 5.1.1")
	c.expect("250")
	c.expect("354")
	c.raw(testMsg + ".\r\nRSET\r\nNOOP\r\nQUIT\r\n")
	c.expect("250 2.0.0 OK")
	c.expect("250")
	c.expect("250")
	c.expect("221")
	if len(newFiles(t, l, "alice")) != 1 || len(newFiles(t, l, "bob")) != 1 {
		t.Errorf("pipelined delivery missing")
	}
}

// TestBareLFNeverEndsData sends an SMTP smuggling attempt: "<LF>.<LF>"
// followed by a second transaction. Only CRLF.CRLF ends the data, so all of
// it is one message for alice and bob receives nothing.
func TestBareLFNeverEndsData(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: one\r\n\r\nfirst\n.\nMAIL FROM:<evil@example.com>\nRCPT TO:<bob@postlab.test>\nDATA\nsmuggled\r\n.\r\n")
	c.expect("250 2.0.0 OK")
	c.cmd("250", "NOOP")
	if n := len(newFiles(t, l, "bob")); n != 0 {
		t.Fatalf("smuggled message delivered to bob")
	}
	got := bodyAfterTrace(t, readNew(t, l, "alice"))
	want := "Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<bob@postlab.test>\r\nDATA\r\nsmuggled\r\n"
	if got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	// "\r\n.\n" does not end it either.
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: two\r\n\r\nx\r\n.\nRSET\r\n.\r\n")
	c.expect("250 2.0.0 OK")
	// go-smtp removes a dot that starts a line (RFC 5321 §4.5.2), so the
	// lone "." becomes an empty line.
	if got := bodyAfterTrace(t, readNew(t, l, "bob")); got != "Subject: two\r\n\r\nx\r\n\r\nRSET\r\n" {
		t.Errorf("stored %q", got)
	}
}

func TestDotStuffingAndEightBit(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com> BODY=8BITMIME SMTPUTF8")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: Grüße\r\n\r\n..one dot\r\n...two\r\nnaïve ☃\r\n.\r\n")
	c.expect("250")
	b := readNew(t, l, "alice")
	if got := bodyAfterTrace(t, b); got != "Subject: Grüße\r\n\r\n.one dot\r\n..two\r\nnaïve ☃\r\n" {
		t.Errorf("stored %q", got)
	}
	if !strings.Contains(string(b), "with UTF8SMTP id") {
		t.Errorf("Received lacks UTF8SMTP:\n%s", b)
	}
}

func TestBDAT(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	p1, p2 := "Subject: chunks\r\n\r\n", ".not stuffed\r\nend\r\n"
	c.raw(fmt.Sprintf("BDAT %d\r\n%s", len(p1), p1))
	c.expect("250")
	c.raw(fmt.Sprintf("BDAT %d LAST\r\n%s", len(p2), p2))
	c.expect("250 2.0.0 OK")
	if got := bodyAfterTrace(t, readNew(t, l, "alice")); got != p1+p2 {
		t.Errorf("stored %q", got)
	}
}

func TestHELOAndCommandErrors(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220 mail.postlab.test")
	c.cmd("503 5.5.1", "MAIL FROM:<carol@example.com>") // before HELO
	c.cmd("250", "HELO old.example")
	c.cmd("503 5.5.1", "DATA")
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("501", "RCPT TO:<x y>")
	c.cmd("250", "RSET")
	c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	b := readNew(t, l, "alice")
	if !strings.Contains(string(b), "Received: from old.example ([127.0.0.1])\r\n\tby mail.postlab.test (postlab smtp port) with SMTP id ") {
		t.Errorf("Received:\n%s", b)
	}
}

func TestStoreNotifications(t *testing.T) {
	l := startLab(t)
	got := make(chan MailNote, 4)
	cancel := l.Store().Subscribe(func(mb, id string) { got <- MailNote{mb, id} })
	defer cancel()
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.sendMail("carol@example.com", []string{"bob@postlab.test"}, testMsg)
	select {
	case n := <-got:
		sums, _ := l.Store().List("bob")
		if n.Mailbox != "bob" || len(sums) != 1 || sums[0].ID != n.ID {
			t.Errorf("note %+v, list %+v", n, sums)
		}
		raw, err := l.Store().Raw("bob", n.ID)
		if err != nil || bodyAfterTrace(t, raw) != testMsg {
			t.Errorf("Raw: %v %q", err, raw)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
}

func TestStartAddrInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = Start(Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: taken.Addr().String(),
		Submissions: Off, POP3: Off, POP3S: Off, DNS: Off})
	iu, ok := err.(*AddrInUseError)
	if !ok {
		t.Fatalf("err = %v (%T), want *AddrInUseError", err, err)
	}
	want := taken.Addr().String() + " is in use: choose another with --submission ADDR"
	if iu.Flag != "--submission" || err.Error() != want {
		t.Errorf("err %q, want %q", err, want)
	}
	// The SMTP port bound before it is released again.
	if _, err := Start(Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: "nonsense",
		Submissions: Off, POP3: Off, POP3S: Off, DNS: Off}); err == nil || !strings.Contains(err.Error(), "--submission") {
		t.Errorf("bad address: %v", err)
	}
}

func TestListenersOff(t *testing.T) {
	l := startLab(t, func(c *Config) { c.POP3, c.POP3S, c.DNS, c.Submissions = Off, Off, Off, "off" })
	if l.Addr("pop3") != "" || l.Addr("dns") != "" || l.Addr("submissions") != "" {
		t.Errorf("off listeners have addresses")
	}
	if l.Addr("smtp") == "" {
		t.Errorf("smtp not bound")
	}
}

func TestCloseLetsTransactionFinish(t *testing.T) {
	l, err := Start(Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: Off, Submissions: Off, POP3: Off, POP3S: Off, DNS: Off})
	if err != nil {
		t.Fatal(err)
	}
	idle := dial(t, l.Addr("smtp"))
	idle.greet()
	busy := dial(t, l.Addr("smtp"))
	busy.greet()
	busy.cmd("250", "MAIL FROM:<carol@example.com>")
	busy.cmd("250", "RCPT TO:<alice@postlab.test>")
	busy.cmd("354", "DATA")

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(10 * time.Second)
		defer cancel()
		closed <- l.Close(ctx)
	}()
	// The idle session ends at once, told why (RFC 3463 X.3.2).
	idle.expect("421 4.3.2 Service shutting down")
	// New connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", l.Addr("smtp"))
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The transaction in progress completes.
	busy.raw(testMsg + ".\r\n")
	busy.expect("250")
	busy.expect("421 4.3.2")
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if len(newFiles(t, l, "alice")) != 1 {
		t.Errorf("message not stored")
	}
}

// A transaction that outlasts the grace is cut: Close returns the context's
// error instead of waiting for the client (it used to deadlock when closing
// the connection untracked it under the same lock).
func TestCloseCutsSessionsAfterGrace(t *testing.T) {
	l, err := Start(Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: Off, Submissions: Off, POP3: "127.0.0.1:0", POP3S: Off, DNS: Off})
	if err != nil {
		t.Fatal(err)
	}
	busy := dial(t, l.Addr("smtp"))
	busy.greet()
	busy.cmd("250", "EHLO x")
	busy.cmd("250", "MAIL FROM:<carol@example.com>")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace is over before it starts
	closed := make(chan error, 1)
	go func() { closed <- l.Close(ctx) }()
	select {
	case err := <-closed:
		var cut *CutShortError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &cut) || cut.Sessions != 1 {
			t.Errorf("Close = %v, want 1 session cut short by context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close did not return after its context ended (deadlock)")
	}
	// The client sees the connection end.
	busy.conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := busy.tp.ReadLine(); err == nil {
		t.Error("the cut session still answers")
	}
}

// A POP3 session waiting for a command is told at once, like an idle SMTP
// one, even while an SMTP transaction holds the shutdown; it enters no
// UPDATE (RFC 1939 §6).
func TestCloseTellsIdlePOP3Sessions(t *testing.T) {
	l, err := Start(Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: Off, Submissions: Off,
		POP3: "127.0.0.1:0", POP3S: Off, DNS: Off, InsecureAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	busy := dial(t, l.Addr("smtp"))
	busy.greet()
	busy.cmd("250", "MAIL FROM:<carol@example.com>")
	busy.cmd("250", "RCPT TO:<alice@postlab.test>")
	busy.cmd("354", "DATA")
	p := dialPOP3(t, l.Addr(ListenerPOP3))
	p.cmd("+OK", "USER alice")
	p.cmd("+OK", "PASS wonderland")
	p.cmd("+OK", "DELE 1")

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(time.Hour)
		defer cancel()
		closed <- l.Close(ctx)
	}()
	p.expect("-ERR [SYS/TEMP] server shutting down")
	p.c.SetReadDeadline(time.Now().Add(time.Minute))
	if line, err := p.r.ReadString('\n'); err == nil {
		t.Errorf("POP3 session still open after the shutdown response: %q", line)
	}
	busy.raw(testMsg + ".\r\n")
	busy.expect("250")
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := countMail(t, l, "alice"); n != 2 {
		t.Errorf("alice has %d messages, want 2 (no deletion without QUIT, and the transaction's)", n)
	}
}

// countMail counts the messages of a mailbox, read (cur) or not (new).
func countMail(t *testing.T, l *Lab, box string) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(l.DataDir(), "mail", box, sub))
		if err != nil {
			t.Fatal(err)
		}
		n += len(des)
	}
	return n
}
