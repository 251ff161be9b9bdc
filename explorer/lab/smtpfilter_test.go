package lab

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

// RFC 5321 §4.5.3.1.4-5: command lines of at most 512 octets with their
// CRLF, refused with 500 5.5.2; the session goes on.
func TestCommandLineLimits(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	msg := c.cmd("500 5.5.2", "EHLO %s", strings.Repeat("a", 5000))
	if strings.Contains(msg, "aaaa") {
		t.Errorf("reply echoes the long line: %.80q", msg)
	}
	// The longest domain (255 octets) gets a reply whose lines fit 512.
	c.send("EHLO %s", strings.Repeat("d", 255))
	for {
		line, err := c.tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if len(line)+2 > 512 {
			t.Errorf("reply line of %d octets", len(line)+2)
		}
		if !strings.HasPrefix(line, "250") {
			t.Fatalf("EHLO reply %q", line)
		}
		if line[3] == ' ' {
			break
		}
	}
	c.cmd("501 5.5.2", "EHLO %s", strings.Repeat("d", 256))
	// 512 octets with CRLF pass, 513 do not.
	c.cmd("250", "NOOP %s", strings.Repeat("x", 512-len("NOOP ")-2))
	c.cmd("500 5.5.2", "NOOP %s", strings.Repeat("x", 513-len("NOOP ")-2))
	// A 100 KB line is read to its end and answered once.
	c.cmd("500 5.5.2", "%s", strings.Repeat("x", 100<<10))
	c.cmd("250", "NOOP")
	// AUTH lines may be longer (RFC 4954 §4): not a line-length error.
	c.cmd("502 5.5.1", "AUTH PLAIN %s", strings.Repeat("A", 1000))
	c.cmd("221", "QUIT")
}

// One over-long text line in DATA gets exactly one reply, and the session
// goes on (before, go-smtp added "500 5.4.0 Too long line" and hung up).
func TestDataLongLineOneReply(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: long\r\n\r\n" + strings.Repeat("b", 100<<10) + "\r\nend\r\n.\r\n")
	c.expect("500 5.5.2")
	c.cmd("250", "NOOP")
	if n := len(newFiles(t, l, "alice")); n != 0 {
		t.Errorf("stored %d messages", n)
	}
}

func TestSequenceAndParameterCodes(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	c.cmd("503 5.5.1", "MAIL FROM:<carol@example.com>")
	c.cmd("503 5.5.1", "AUTH PLAIN")
	c.cmd("250", "EHLO client.example")
	c.cmd("501 5.5.4", "AUTH")
	c.cmd("503 5.5.1", "RCPT TO:<alice@postlab.test>")
	c.cmd("503 5.5.1", "DATA")
	c.cmd("555 5.5.4", "MAIL FROM:<carol@example.com> FOO=BAR")
	c.cmd("555 5.5.4", "MAIL FROM:<carol@example.com> RET=HDRS")
	c.cmd("501 5.1.7", "MAIL FROM:<%s@example.com>", strings.Repeat("c", 256-len("<@example.com>")+1))
	c.cmd("250", "MAIL FROM:<%s@example.com>", strings.Repeat("c", 256-len("<@example.com>")))
	c.cmd("501 5.1.3", "RCPT TO:<%s@postlab.test>", strings.Repeat("a", 256-len("<@postlab.test>")+1))
	c.cmd("250", "RSET")
	c.cmd("250", "MAIL FROM:<carol@example.com> SIZE=100 BODY=8BITMIME")
	c.cmd("555 5.5.4", "RCPT TO:<alice@postlab.test> NOTIFY=NEVER")
	c.cmd("250", "RSET")
	// Pipelined, every RCPT refused: DATA gets 554 (RFC 2920 §3.1).
	c.raw("MAIL FROM:<carol@example.com>\r\nRCPT TO:<nobody@postlab.test>\r\nDATA\r\n")
	c.expect("250")
	c.expect("550 5.1.1")
	c.expect("554 5.5.1")
	// The same with BDAT: the refused chunk is not read as commands.
	c.raw("BDAT 6 LAST\r\nQUIT\r\n")
	c.expect("554 5.5.1")
	c.cmd("250", "RSET")
	// MAIL inside an open BDAT transfer is out of sequence (RFC 3030 §2).
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.raw("BDAT 3\r\nabc")
	c.expect("250")
	c.cmd("503 5.5.1", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RSET")
	c.cmd("500 5.5.1", "ABC")
	c.cmd("500 5.5.1", "XYZZY now")
	c.cmd("502 5.5.1", "EXPN staff")
	c.cmd("221", "QUIT")
}

// RFC 5321 §4.5.1: <Postmaster> without a domain must be accepted.
func TestPostmasterWithoutDomain(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<Postmaster>")
	c.cmd("354", "DATA")
	c.raw(testMsg + ".\r\n")
	c.expect("250")
	// The postmaster alias is the first user (alice).
	if got := bodyAfterTrace(t, readNew(t, l, "alice")); got != testMsg {
		t.Errorf("stored %q", got)
	}
}

// Control bytes are refused and never echoed.
func TestControlBytesRefused(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	if msg := c.cmd("501 5.5.2", "EHLO a\x00b"); strings.ContainsAny(msg, "\x00") {
		t.Errorf("echoed NUL: %q", msg)
	}
	c.cmd("250", "EHLO client.example")
	if msg := c.cmd("501 5.5.2", "MAIL FROM:<a\x00@b.example>"); strings.ContainsAny(msg, "\x00") {
		t.Errorf("echoed NUL: %q", msg)
	}
	c.cmd("250", "MAIL FROM:<a@b.example>")
	c.cmd("221", "QUIT")
	evs := sessionEvents(t, l, ListenerSMTP)
	found := false
	for _, ev := range evs {
		if strings.ContainsRune(ev.Line, 0) {
			t.Errorf("trace carries a NUL: %q", ev.Line)
		}
		found = found || ev.Dir == explorer.ClientToServer && ev.Line == `EHLO a\x00b`
	}
	if !found {
		t.Errorf("refused line not traced:\n%s", dump(evs))
	}
}

// MAIL FROM without angle brackets is accepted, with a note in the trace.
func TestMailFromWithoutBrackets(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:carol@example.com")
	c.cmd("221", "QUIT")
	for _, ev := range sessionEvents(t, l, ListenerSMTP) {
		if ev.Dir == explorer.Local && strings.Contains(ev.Line, "without angle brackets") {
			return
		}
	}
	t.Errorf("no note about the missing angle brackets")
}

func TestTooManyErrors(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	for range maxSMTPErrors - 1 {
		c.cmd("500 5.5.1", "FOO")
	}
	c.send("FOO")
	c.expect("500 5.5.1")
	msg := c.expect("421 4.5.0 Too many errors")
	if strings.Contains(msg, "Quiting") {
		t.Errorf("%q", msg)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Errorf("connection still open")
	}
}

// STARTTLS starts the session over (RFC 3207 §4.2) and ignores what was
// pipelined after it in clear (§6).
func TestStartTLSResetsAndDropsPipelined(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("submission"))
	c.greet()
	c.cmd("501 5.5.4", "STARTTLS now")
	c.raw("STARTTLS\r\nNOOP\r\n")
	c.expect("220")
	tc := tls.Client(c.conn, l.ClientTLSConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	c.cmd("503 5.5.1", "MAIL FROM:<alice@postlab.test>")
	if ehlo := c.cmd("250", "EHLO client.example"); strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("STARTTLS offered under TLS:\n%s", ehlo)
	}
	c.cmd("502 5.5.1", "STARTTLS")
	c.login("alice", "wonderland")
	c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, testMsg)
	b := string(readNew(t, l, "bob"))
	if !strings.Contains(b, "with ESMTPSA") {
		t.Errorf("Received does not show TLS and AUTH:\n%s", b)
	}
}

// FuzzSMTPSession runs whatever a client sends through a real session
// (filter, go-smtp, the lab's session): it must end, and every reply line
// must be a reply of at most 512 octets without control bytes.
func FuzzSMTPSession(f *testing.F) {
	l := startLab(f, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
	var sl *smtpListener
	for _, x := range l.smtpLns {
		if x.name == ListenerSMTP {
			sl = x
		}
	}
	for _, seed := range []string{
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@postlab.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<Postmaster>\r\nBDAT 3 LAST\r\nabcQUIT\r\n",
		"EHLO a\x00b\r\nHELO " + strings.Repeat("h", 300) + "\r\nNOOP " + strings.Repeat("n", 600) + "\r\n",
		"EHLO x\r\nMAIL FROM:<a@b> X=1\r\nRCPT TO:<x>\r\nDATA\r\nSTARTTLS\r\nAUTH PLAIN\r\n*\r\nBDAT x\r\n",
		"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01garbage\r\nQUIT\r\n",
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@postlab.test>\r\nDATA\r\n" + strings.Repeat("L", 3000) + "\r\n.\r\nQUIT\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		srv, cli := net.Pipe()
		l.startSMTPSession(sl, srv)
		go cli.Write(in)
		cli.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang, not a speed limit
		out, err := io.ReadAll(cli)
		cli.Close()
		if err != nil {
			t.Fatalf("session did not end: %v", err)
		}
		for _, line := range bytes.SplitAfter(out, []byte("\r\n")) {
			if len(line) == 0 {
				continue
			}
			if len(line) > maxReplyLine {
				t.Fatalf("reply line of %d octets: %.80q", len(line), line)
			}
			body := bytes.TrimSuffix(line, []byte("\r\n"))
			if len(body) < 4 || body[0] < '2' || body[0] > '5' || body[3] != ' ' && body[3] != '-' {
				t.Fatalf("not a reply line: %q", line)
			}
			for _, c := range body {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("control byte in reply %q", line)
				}
			}
		}
	})
}

// RFC 5321 §4.1.4: MAIL inside an open transaction is a bad sequence and
// leaves the transaction, recipients included, as it was.
func TestNestedMailRefused(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<a@b.test>")
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
	c.cmd("503 5.5.1", "MAIL FROM:<c@d.test>")
	// Pipelined too.
	c.raw("MAIL FROM:<e@f.test>\r\nRCPT TO:<alice@postlab.test>\r\nDATA\r\n")
	c.expect("503 5.5.1")
	c.expect("250")
	c.expect("354")
	c.raw(testMsg + ".\r\n")
	c.expect("250")
	for _, user := range []string{"bob", "alice"} {
		b := readNew(t, l, user)
		if got := bodyAfterTrace(t, b); got != testMsg {
			t.Errorf("%s got %q", user, got)
		}
		if !strings.Contains(string(b), "<a@b.test>") {
			t.Errorf("%s: the first MAIL FROM was not kept:\n%s", user, b)
		}
	}
	// After the transaction a new MAIL is fine.
	c.cmd("250", "MAIL FROM:<c@d.test>")
	c.cmd("250", "RSET")
	c.cmd("250", "MAIL FROM:<c@d.test>")
	c.cmd("221", "QUIT")
}

// Replies go-smtp hard-codes and the filter corrects: a malformed AUTH=
// MAIL parameter is a syntax error in a parameter (RFC 5321 §4.2.3: 501;
// RFC 4954 §5; X.5.4, RFC 3463), and base64 that does not decode is refused
// with 501 (RFC 4954 §4), 5.5.2 in RFC 4954 §6, both for an initial
// response and for a response line. The trace shows what was sent.
func TestSyntaxRepliesGoSMTPHardCodes(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("501 5.5.4", "MAIL FROM:<carol@example.com> AUTH=")
	c.cmd("501 5.5.4", "MAIL FROM:<carol@example.com> AUTH=+zz")
	c.cmd("501 5.5.4", "MAIL FROM:<carol@example.com> AUTH=no-mailbox")
	c.cmd("250", "MAIL FROM:<carol@example.com> AUTH=<>")
	c.cmd("250", "RSET")
	c.cmd("221", "QUIT")

	s := dial(t, l.Addr("submission"))
	s.greet()
	s.starttls(l)
	s.cmd("250", "EHLO client.example")
	s.cmd("501 5.5.2", "AUTH PLAIN !!!not-base64!!!")
	s.cmd("334", "AUTH LOGIN")
	s.cmd("501 5.5.2", "%%%%")
	s.cmd("334", "AUTH PLAIN")
	s.cmd("501 5.5.2", "AGFsaWNl=AHdvbmRlcmxhbmQ")
	// The exchange is over: the session goes on and a login works.
	pass, _ := l.PracticePassword("alice")
	s.login("alice", pass)
	s.cmd("221", "QUIT")

	for _, listener := range []string{ListenerSMTP, ListenerSubmission} {
		text := dump(sessionEvents(t, l, listener))
		if strings.Contains(text, "454 4.7.0") || strings.Contains(text, "500 5.5.4") {
			t.Errorf("%s trace shows go-smtp's reply:\n%s", listener, text)
		}
		if !strings.Contains(text, "s2c tls=") || !strings.Contains(text, map[string]string{ListenerSMTP: " 501 5.5.4 ", ListenerSubmission: " 501 5.5.2 "}[listener]) {
			t.Errorf("%s trace lacks the 501:\n%s", listener, text)
		}
	}
}

// RFC 3207 §4 gives no reply after a failed handshake: the bytes after 220
// belong to TLS, and a line in clear would be read as the answer to the
// client's next command. The lab closes the connection (as Postfix does)
// and says why in the trace.
func TestStartTLSFailedHandshakeCloses(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("220 2.0.0", "STARTTLS")
	c.raw("this is not a TLS client hello\r\nNOOP\r\n")
	closedSilently(t, c.conn)
	text := dump(sessionEvents(t, l, ListenerSMTP))
	if !strings.Contains(text, "TLS handshake failed") || !strings.Contains(text, "closing the connection") {
		t.Errorf("the trace does not say why the connection closed:\n%s", text)
	}
}

// closedSilently checks that the server closes conn without another line in
// clear (a TLS alert may come first; a reset is a close too).
func closedSilently(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if bytes.Contains(b, []byte("\r\n")) || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("after the failed handshake: %q, %v; want the connection closed with no reply", b, err)
	}
}

// RFC 6531 §3.7.1: EHLO carries an ASCII name (an A-label for an
// internationalized one) because SMTPUTF8 is not known yet; RFC 5321
// §4.1.2 wants 501 for characters a domain cannot have. Before, the lab
// answered "Hello héllo" and recorded "from hllo".
func TestHELONonASCIIRefused(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSMTP))
	c.expect("220")
	msg := c.cmd("501 5.5.2", "EHLO héllo")
	if !isASCII(msg) || !strings.Contains(msg, "RFC 6531 section 3.7.1") || !strings.Contains(msg, "EHLO xn--hllo-bpa") {
		t.Errorf("reply %q: want ASCII naming the rule and the A-label", msg)
	}
	c.cmd("501 5.5.2", "HELO 例え.テスト")
	c.cmd("503 5.5.1", "MAIL FROM:<carol@example.com>") // still not greeted
	if msg := c.cmd("250", "EHLO xn--hllo-bpa"); !strings.Contains(msg, "Hello xn--hllo-bpa") {
		t.Errorf("EHLO reply %q", msg)
	}
	c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	if b := readNew(t, l, "alice"); !strings.HasPrefix(string(b), "Return-Path: <carol@example.com>\r\nReceived: from xn--hllo-bpa ([127.0.0.1])\r\n") {
		t.Errorf("stored:\n%s", b)
	}
}

// The name the reply greets is the name the Received field records; what
// the grammar of RFC 5321 §4.1.2-§4.1.3 does not allow gets 501 5.5.2.
func TestHELOArgumentSyntax(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSMTP))
	c.expect("220")
	bad := []string{"foo(bar)", `foo\bar`, "foo@bar.example", "-foo.example", "foo-.example", "a..b", ".a", "a.",
		"[1.2.3]", "[IPv6:1.2.3.4]", "[127.0.0.1", "[]", "[x-tag:a[b]", "[1.2.3.4.5]"}
	for _, d := range bad {
		c.cmd("501 5.5.2", "EHLO %s", d)
	}
	good := []string{"client.example", "localhost", "A-1.Example", "[127.0.0.1]", "[IPv6:::1]", "[IPv6:2001:db8::1]",
		"[x-tag:anything]", "my_pc.example", "192.0.2.1"}
	for _, d := range good {
		if msg := c.cmd("250", "EHLO %s", d); !strings.HasPrefix(msg, "Hello "+d+"\n") {
			t.Errorf("EHLO %s: reply %q", d, msg)
		}
		c.sendMail("carol@example.com", []string{"alice@postlab.test"}, testMsg)
	}
	var recorded []string
	for _, f := range newFiles(t, l, "alice") {
		b, err := l.Store().Raw("alice", uidOf(f))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(b), "\r\nReceived: from ")
		from, _, _ := strings.Cut(rest, " ([127.0.0.1])")
		recorded = append(recorded, from)
	}
	slices.Sort(recorded)
	want := slices.Sorted(slices.Values(good))
	if !slices.Equal(recorded, want) {
		t.Errorf("Received records %q, want %q", recorded, want)
	}
	for _, n := range []string{"EHLO my_pc.example has an underscore", "EHLO 192.0.2.1 gives an IP address as a name; RFC 5321 section 4.1.3 writes it as the address literal [192.0.2.1]"} {
		if !traceHas(l, n) {
			t.Errorf("no trace note %q:\n%s", n, dump(l.Traces().Recent(0)))
		}
	}
}
