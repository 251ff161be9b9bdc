package lab

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

// traceLeaks returns the events of evs that show one of secrets or carry a
// character a terminal would act on.
func traceLeaks(evs []ServerEvent, secrets ...string) []string {
	var bad []string
	for _, ev := range evs {
		for _, s := range []string{ev.Line, ev.State.Command, ev.State.AuthMech} {
			for _, sec := range secrets {
				if strings.Contains(s, sec) {
					bad = append(bad, "secret "+sec+" in "+s)
				}
			}
			for _, r := range s {
				if unsafeRune(r) || r == '\uFFFD' {
					bad = append(bad, "control character in "+Printable(s))
				}
			}
		}
	}
	return bad
}

// The tester's report: SASL responses typed after a refused AUTH were
// traced in clear.
func TestSMTPTraceMasksSASLAfterRefusedAuth(t *testing.T) {
	l := startLab(t)
	payload := plainIR("alice", "wonderland")
	c := dial(t, l.Addr("submission"))
	c.greet()
	c.cmd("538", "AUTH PLAIN")
	c.cmd("500", "%s", payload)
	c.cmd("538", "AUTH LOGIN")
	c.cmd("500", "%s", b64("alice"))
	c.cmd("500", "%s", b64("wonderland"))
	c.cmd("500", "wonderland") // typed as is, not even base64
	c.cmd("250", "NOOP")
	// Ways around the state: a tab, leading white space, the payload
	// where the mechanism goes, an initial response.
	c.cmd("501", "AUTH\tPLAIN\t%s", payload)
	c.cmd("500", " AUTH PLAIN %s", payload)
	c.cmd("538", "AUTH %s", payload)
	c.cmd("538", "AUTH PLAIN %s", payload)
	c.cmd("538", "auth login %s", b64("alice"))
	c.cmd("500", "%s", b64("wonderland"))
	c.cmd("221", "QUIT")

	evs := sessionEvents(t, l, ListenerSubmission)
	if bad := traceLeaks(evs, strings.TrimRight(payload, "="), b64("wonderland"), "wonderland", "d29uZGVybGFuZA"); len(bad) > 0 {
		t.Errorf("%s\n%s", strings.Join(bad, "\n"), dump(evs))
	}
	masked := 0
	for _, ev := range evs {
		if ev.Dir == explorer.ClientToServer && ev.Line == "****" {
			masked++
		}
	}
	if masked != 5 {
		t.Errorf("%d lines masked whole, want 5:\n%s", masked, dump(evs))
	}
	// Commands after the SASL-looking lines are shown again.
	found := false
	for _, ev := range evs {
		found = found || ev.Dir == explorer.ClientToServer && ev.Line == "NOOP"
	}
	if !found {
		t.Errorf("NOOP not shown:\n%s", dump(evs))
	}
}

// Message content and replies reach the trace escaped.
func TestSMTPTraceEscapesControlBytes(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<a@b.test>")
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("Subject: \x1b]0;pwned\x07\x1b[31mred \xff\r\n\r\nbody\r\n.\r\n")
	c.expect("250")
	c.cmd("221", "QUIT")
	evs := sessionEvents(t, l, ListenerSMTP)
	if bad := traceLeaks(evs); len(bad) > 0 {
		t.Errorf("%s", strings.Join(bad, "\n"))
	}
	want := `Subject: \x1b]0;pwned\x07\x1b[31mred \xff`
	found := false
	for _, ev := range evs {
		found = found || ev.Line == want
	}
	if !found {
		t.Errorf("no line %q in:\n%s", want, dump(evs))
	}
}

// pop3Line is a raw POP3 client for the lab's trace tests.
type pop3Line struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialPOP3(t *testing.T, addr string) *pop3Line {
	t.Helper()
	p := dialPOP3NoGreeting(t, addr)
	p.expect("+OK")
	return p
}

// dialPOP3NoGreeting leaves the greeting to be read.
func dialPOP3NoGreeting(t *testing.T, addr string) *pop3Line {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &pop3Line{t: t, c: c, r: bufio.NewReader(c)}
}

func (p *pop3Line) expect(prefix string) string {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, prefix) {
		p.t.Fatalf("got %q, want %q", line, prefix)
	}
	return line
}

func (p *pop3Line) cmd(prefix, line string) string {
	p.t.Helper()
	if _, err := p.c.Write([]byte(line + "\r\n")); err != nil {
		p.t.Fatal(err)
	}
	return p.expect(prefix)
}

func TestPOP3TraceMasksAndEscapes(t *testing.T) {
	l := startLab(t)
	payload := plainIR("alice", "wonderland")
	p := dialPOP3(t, l.Addr(ListenerPOP3))
	p.cmd("-ERR [AUTH]", "AUTH PLAIN")
	p.cmd("-ERR", payload)
	// Letters only: parsed as a command keyword, and not echoed.
	if got := p.cmd("-ERR", "dGVzdA"); strings.Contains(strings.ToUpper(got), "DGVZDA") {
		t.Errorf("reply echoes the SASL data: %q", got)
	}
	p.cmd("-ERR", "CAPA x") // a command: the masking ends
	p.cmd("-ERR", "PASS\twonderland")
	p.cmd("-ERR", " PASS wonderland")
	p.cmd("-ERR", "AUTH "+payload)
	p.cmd("-ERR", "NOOP \x1b]0;pwned\x07\x1b[31mred")
	// The start of a TLS ClientHello with a LF in it, sent to the plain port.
	p.cmd("-ERR", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x9b\xc2")
	p.cmd("+OK", "QUIT")

	evs := sessionEvents(t, l, ListenerPOP3)
	if bad := traceLeaks(evs, strings.TrimRight(payload, "="), "wonderland", "dGVzdA", "DGVZDA"); len(bad) > 0 {
		t.Errorf("%s\n%s", strings.Join(bad, "\n"), dump(evs))
	}
	for _, want := range []string{`NOOP \x1b]0;pwned\x07\x1b[31mred`, `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x9b\xc2`, "CAPA x"} {
		found := false
		for _, ev := range evs {
			found = found || ev.Dir == explorer.ClientToServer && ev.Line == want
		}
		if !found {
			t.Errorf("no client line %q in:\n%s", want, dump(evs))
		}
	}
}
