package lab

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestPOP3RetrievesWhatSMTPStored: a message delivered over SMTP comes back
// over POP3 with the same UID and octets, and RETR moves it to cur/.
func TestPOP3RetrievesWhatSMTPStored(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.sendMail("carol@example.com", []string{"bob@postlab.test"}, "Subject: pop\r\n\r\n.dot line\r\nbye\r\n")
	stored := readNew(t, l, "bob")
	sums, err := l.Store().List("bob")
	if err != nil || len(sums) != 1 {
		t.Fatalf("List: %v %v", sums, err)
	}

	p := dialTLS(t, l, l.Addr("pop3s"))
	line := func() string {
		s, err := p.tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ok := func(cmd string) string {
		t.Helper()
		if cmd != "" {
			p.send("%s", cmd)
		}
		s := line()
		if !strings.HasPrefix(s, "+OK") {
			t.Fatalf("%s: %s", cmd, s)
		}
		return s
	}
	ok("")
	ok("USER bob")
	ok("PASS builder")
	if s := ok("UIDL 1"); s != "+OK 1 "+sums[0].ID {
		t.Errorf("UIDL: %s, want UID %s", s, sums[0].ID)
	}
	if s := ok("LIST 1"); s != "+OK 1 "+strconv.Itoa(len(stored)) {
		t.Errorf("LIST: %s, want %d octets", s, len(stored))
	}
	ok("RETR 1")
	b, err := p.tp.ReadDotBytes()
	if err != nil {
		t.Fatal(err)
	}
	// ReadDotBytes undoes the byte-stuffing and turns CRLF into LF.
	if want := strings.ReplaceAll(string(stored), "\r\n", "\n"); string(b) != want {
		t.Errorf("RETR = %q, want %q", b, want)
	}
	ok("QUIT")
	if len(newFiles(t, l, "bob")) != 0 {
		t.Errorf("RETR did not move the message out of new/")
	}
	if sums, _ := l.Store().List("bob"); len(sums) != 1 || !sums[0].Seen {
		t.Errorf("after RETR: %+v", sums)
	}
	evs := sessionEvents(t, l, ListenerPOP3S)
	if evs[0].Session == 0 || strings.Contains(dump(evs), "builder") {
		t.Errorf("pop3s trace:\n%s", dump(evs))
	}
}

// TestDNSPublishesRealPorts: the zone's SRV records carry the bound ports.
func TestDNSPublishesRealPorts(t *testing.T) {
	l := startLab(t)
	m := new(dns.Msg)
	m.SetQuestion("_submission._tcp.postlab.test.", dns.TypeSRV)
	r, err := dns.Exchange(m, l.Addr("dns"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr("submission"))
	if len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), " "+port+" mail.postlab.test.") {
		t.Errorf("SRV answer %v, want port %s", r.Answer, port)
	}
	m.SetQuestion("postlab.test.", dns.TypeMX)
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err = c.Exchange(m, l.Addr("dns"))
	if err != nil || len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), "mail.postlab.test.") {
		t.Errorf("MX over TCP: %v %v", r, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found bool
		for _, ev := range l.Traces().Recent(0) {
			if ev.Listener == ListenerDNS && strings.Contains(ev.Line, "_submission._tcp.postlab.test.") {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DNS trace")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The lab's POP3 logs in only its own domain's users: alice@other.test is
// not alice (SMTP AUTH refuses the same name with 535).
func TestPOP3LoginOtherDomainRefused(t *testing.T) {
	l := startLab(t)
	for _, tc := range []struct{ user, pass, want string }{
		{"alice@other.test", "wonderland", "-ERR [AUTH]"},
		{"alice@postlab.test", "wonderland", "+OK"},
		{"bob@mail.postlab.test", "builder", "+OK"},
	} {
		p := dialTLS(t, l, l.Addr("pop3s"))
		p.expectPOP("+OK")
		p.send("USER %s", tc.user)
		p.expectPOP("+OK")
		p.send("PASS %s", tc.pass)
		p.expectPOP(tc.want)
		p.send("QUIT")
		p.expectPOP("+OK")
	}
}

func (c *client) expectPOP(want string) {
	c.t.Helper()
	s, err := c.tp.ReadLine()
	if err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(s, want) {
		c.t.Fatalf("got %q, want %q", s, want)
	}
}
