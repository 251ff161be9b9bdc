package lab

import (
	"crypto/tls"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestScenarioGreylist(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	l := startLab(t, func(c *Config) { c.Clock = clk.now; c.GreylistDelay = time.Minute })
	if err := l.SetScenario(ScenarioGreylist); err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	if m := c.cmd("451 4.7.1", "RCPT TO:<bob@postlab.test>"); !strings.Contains(m, "60 seconds") {
		t.Errorf("reply %q does not say how long to wait", m)
	}
	clk.add(30 * time.Second)
	if m := c.cmd("451 4.7.1", "RCPT TO:<bob@postlab.test>"); !strings.Contains(m, "30 seconds") {
		t.Errorf("reply %q", m)
	}
	clk.add(31 * time.Second)
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
	// Another triple waits from its own first try.
	c.cmd("451 4.7.1", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw(testMsg + ".\r\n")
	c.expect("250")
	if l.Scenario() != ScenarioGreylist {
		t.Errorf("Scenario() = %q", l.Scenario())
	}
	if err := l.SetScenario(""); err != nil {
		t.Fatal(err)
	}
	c.cmd("250", "MAIL FROM:<dave@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	if err := l.SetScenario("no-such"); err == nil {
		t.Errorf("unknown scenario accepted")
	}
}

func TestScenarioMailboxFull(t *testing.T) {
	l := startLab(t)
	l.SetScenario(ScenarioMailboxFull)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("552 5.2.2", "RCPT TO:<bob@postlab.test>")
	c.cmd("550 5.1.1", "RCPT TO:<nobody@postlab.test>")
	l.SetScenario("")
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
}

func TestScenarioSlowBanner(t *testing.T) {
	l := startLab(t, func(c *Config) { c.SlowBannerDelay = time.Second })
	l.SetScenario(ScenarioSlowBanner)
	c := dial(t, l.Addr("smtp"))
	// Nothing arrives at once...
	c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("greeting sent at once (%d, %v)", n, err)
	}
	// ...and then the greeting.
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	c.expect("220")
	found := false
	for _, ev := range l.Traces().Recent(0) {
		found = found || strings.Contains(ev.Line, "scenario slow-banner")
	}
	if !found {
		t.Errorf("trace lacks the scenario note")
	}
}

func TestScenarioClosing421(t *testing.T) {
	l := startLab(t)
	l.SetScenario(ScenarioClosing421)
	c := dial(t, l.Addr("smtp"))
	c.expect("220")
	c.cmd("421 4.3.2", "EHLO client.example")
	if _, err := c.tp.ReadLine(); err == nil {
		t.Errorf("connection open after 421")
	}
}

func TestScenarioTLSFail(t *testing.T) {
	l := startLab(t)
	l.SetScenario(ScenarioTLSFail)
	c := dial(t, l.Addr("submission"))
	c.greet()
	c.cmd("220", "STARTTLS")
	tc := tls.Client(c.conn, l.ClientTLSConfig())
	if err := tc.Handshake(); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("STARTTLS handshake: %v, want a protocol version failure", err)
	}
	// The server closes the connection: nothing follows in clear.
	closedSilently(t, c.conn)
	if _, err := tls.Dial("tcp", l.Addr("submissions"), l.ClientTLSConfig()); err == nil {
		t.Errorf("implicit TLS handshake succeeded")
	}
	l.SetScenario("")
	ok := dialTLS(t, l, l.Addr("submissions"))
	ok.expect("220")
	deadline := time.Now().Add(5 * time.Second)
	for {
		found := false
		for _, ev := range l.Traces().Recent(0) {
			found = found || ev.Err && strings.Contains(ev.Line, "TLS handshake failed")
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error note in the trace:\n%s", dump(l.Traces().Recent(0)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestScenarioDropData(t *testing.T) {
	l := startLab(t)
	l.SetScenario(ScenarioDropData)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<bob@postlab.test>")
	c.cmd("354", "DATA")
	c.raw(testMsg + strings.Repeat("filler line\r\n", 100))
	if b, err := io.ReadAll(c.conn); err == nil && len(b) > 0 {
		t.Errorf("got %q after the drop, want nothing", b)
	}
	if n := len(newFiles(t, l, "bob")); n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

func TestSetDNSFaults(t *testing.T) {
	l := startLab(t)
	mx := func() int {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("postlab.test.", dns.TypeMX)
		r, err := dns.Exchange(m, l.Addr("dns"))
		if err != nil {
			t.Fatalf("MX query: %v", err)
		}
		return len(r.Answer)
	}
	if n := mx(); n != 1 {
		t.Fatalf("MX answers %d, want 1", n)
	}
	if err := l.SetDNSFaults([]string{"mx-missing"}); err != nil {
		t.Fatal(err)
	}
	if n := mx(); n != 0 {
		t.Errorf("with mx-missing: %d MX answers", n)
	}
	if got := l.DNSFaults(); len(got) != 1 || got[0] != "mx-missing" {
		t.Errorf("DNSFaults() = %v", got)
	}
	if err := l.SetDNSFaults(nil); err != nil {
		t.Fatal(err)
	}
	if n := mx(); n != 1 {
		t.Errorf("after clearing: %d MX answers", n)
	}
	if err := l.SetDNSFaults([]string{"no-such-fault"}); err == nil {
		t.Errorf("unknown fault accepted")
	}
	off := startLab(t, func(c *Config) { c.DNS = Off })
	if err := off.SetDNSFaults([]string{"mx-missing"}); err == nil {
		t.Errorf("DNS off: no error")
	}
}
