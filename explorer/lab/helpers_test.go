package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startLab runs a lab on 127.0.0.1 port 0 in a temporary data dir.
func startLab(t testing.TB, mutate ...func(*Config)) *Lab {
	t.Helper()
	cfg := Config{
		DataDir:       t.TempDir(),
		SMTP:          "127.0.0.1:0",
		Submission:    "127.0.0.1:0",
		Submissions:   "127.0.0.1:0",
		POP3:          "127.0.0.1:0",
		POP3S:         "127.0.0.1:0",
		DNS:           "127.0.0.1:0",
		AuthFailDelay: -1,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	l, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// client is a raw SMTP client on net/textproto: it sends exactly what the
// test says.
type client struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: t, conn: c, tp: textproto.NewConn(c)}
	t.Cleanup(func() { c.Close() })
	return cl
}

func dialTLS(t testing.TB, l *Lab, addr string) *client {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, l.ClientTLSConfig())
	if err != nil {
		t.Fatalf("dial tls %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: t, conn: c, tp: textproto.NewConn(c)}
	t.Cleanup(func() { c.Close() })
	return cl
}

// reply reads one reply: its code and its lines joined by "\n".
func (c *client) reply() (int, string) {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return code, msg
}

// expect reads a reply and checks that it starts with want ("250",
// "550 5.7.1", ...).
func (c *client) expect(want string) string {
	c.t.Helper()
	code, msg := c.reply()
	got := fmt.Sprintf("%d %s", code, msg)
	if !strings.HasPrefix(got, want) {
		c.t.Fatalf("reply %q, want %q", got, want)
	}
	return msg
}

func (c *client) send(format string, a ...any) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, a...); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// cmd sends a line and checks the reply.
func (c *client) cmd(want, format string, a ...any) string {
	c.t.Helper()
	c.send(format, a...)
	return c.expect(want)
}

func (c *client) raw(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) greet() string {
	c.t.Helper()
	c.expect("220")
	return c.cmd("250", "EHLO client.example")
}

// starttls upgrades the connection and checks the certificate.
func (c *client) starttls(l *Lab) {
	c.t.Helper()
	c.cmd("220", "STARTTLS")
	tc := tls.Client(c.conn, l.ClientTLSConfig())
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.tp = textproto.NewConn(tc)
}

func plainIR(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// login authenticates alice on a submission connection after STARTTLS.
func (c *client) login(user, pass string) {
	c.t.Helper()
	c.cmd("235", "AUTH PLAIN %s", plainIR(user, pass))
}

// sendMail runs one transaction and returns the final reply.
func (c *client) sendMail(from string, to []string, body string) string {
	c.t.Helper()
	c.cmd("250", "MAIL FROM:<%s>", from)
	for _, r := range to {
		c.cmd("250", "RCPT TO:<%s>", r)
	}
	c.cmd("354", "DATA")
	c.raw(body + ".\r\n")
	return c.expect("250")
}

// newFiles lists mailbox/new.
func newFiles(t testing.TB, l *Lab, box string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(l.DataDir(), "mail", box, "new"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}

func readNew(t testing.TB, l *Lab, box string) []byte {
	t.Helper()
	fs := newFiles(t, l, box)
	if len(fs) != 1 {
		t.Fatalf("%s/new has %d files, want 1: %v", box, len(fs), fs)
	}
	b, err := os.ReadFile(filepath.Join(l.DataDir(), "mail", box, "new", fs[0]))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bodyAfterTrace strips the Return-Path/Received (and envelope) lines the lab
// prepends.
func bodyAfterTrace(t testing.TB, b []byte) string {
	t.Helper()
	s := string(b)
	for {
		switch {
		case strings.HasPrefix(s, "Return-Path:"), strings.HasPrefix(s, "X-Postlab-Envelope-"), strings.HasPrefix(s, "Received:"):
			r := bufio.NewReader(strings.NewReader(s))
			tp := textproto.NewReader(r)
			// one header field, with its folded lines
			line, _ := tp.ReadContinuedLineBytes()
			_ = line
			consumed := len(s) - r.Buffered()
			s = s[consumed:]
			continue
		}
		return s
	}
}

const testMsg = "From: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: hello\r\n\r\nHi Bob.\r\n"

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
