package lablink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
	"postlab/explorer/lab"
)

// TestLessonFactsHoldInTheLab checks what the lessons tell students about
// the lab against the running lab, so that a change in the lab that makes
// a lesson wrong fails here.
func TestLessonFactsHoldInTheLab(t *testing.T) {
	l := startLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := func(listener string, sec explorer.Security) explorer.Options {
		return explorer.Options{Addr: l.Addr(listener), Security: sec, RootCAs: l.CertPool(), ServerName: l.Hostname()}
	}

	// Lesson 5: the SIZE the lab announces; lesson 4: LIMITS RCPTMAX=100.
	s, err := explorer.DialSMTP(ctx, opts(lab.ListenerSMTP, explorer.Plain))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Ehlo(ctx, "student.example")
	if err != nil {
		t.Fatal(err)
	}
	if txt := r.Text(); !strings.Contains(txt, "SIZE 26214400") || !strings.Contains(txt, "LIMITS RCPTMAX=100") {
		t.Errorf("lessons 4 and 5: EHLO says %q", txt)
	}
	s.Quit(ctx)

	// Lesson 6: AUTH in clear on submission is refused with 538.
	s, err = explorer.DialSMTP(ctx, opts(lab.ListenerSubmission, explorer.Plain))
	if err != nil {
		t.Fatal(err)
	}
	s.Ehlo(ctx, "student.example")
	if r, _ := s.SendLine(ctx, "AUTH PLAIN"); r == nil || r.Code != 538 {
		t.Errorf("lesson 6: AUTH in clear answered %v, the lesson says 538", r)
	}
	s.Quit(ctx)

	// Lesson 7: implicit TLS on submissions does not offer STARTTLS.
	s, err = explorer.DialSMTP(ctx, opts(lab.ListenerSubmissions, explorer.ImplicitTLS))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Ehlo(ctx, "student.example"); r == nil || strings.Contains(r.Text(), "STARTTLS") {
		t.Errorf("lesson 7: EHLO on submissions: %v", r)
	}
	s.Quit(ctx)

	// Lesson 7: plain POP3 refuses USER/PASS before STLS.
	p, err := explorer.DialPOP3(ctx, opts(lab.ListenerPOP3, explorer.Plain))
	if err != nil {
		t.Fatal(err)
	}
	p.SendLine(ctx, "USER bob")
	if r, _ := p.SendLine(ctx, "PASS builder"); r == nil || r.OK {
		t.Errorf("lesson 7: PASS before STLS answered %v", r)
	}
	p.Quit(ctx)

	// Lesson 1: the first header of a delivered message is Return-Path.
	ctl := Control(l)
	if err := ctl.Deliver(ctx, "bob", "Welcome to postlab"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := l.Store().List("bob")
	if len(msgs) != 1 {
		t.Fatalf("bob holds %d messages", len(msgs))
	}
	raw, err := l.Store().Raw("bob", msgs[0].ID)
	if err != nil || !strings.HasPrefix(string(raw), "Return-Path:") {
		t.Errorf("lesson 1: the message starts %.40q", raw)
	}

	// Lesson 10: TOP does not mark a message as read, RETR does.
	p, err = explorer.DialPOP3(ctx, opts(lab.ListenerPOP3S, explorer.ImplicitTLS))
	if err != nil {
		t.Fatal(err)
	}
	p.SendLine(ctx, "USER bob")
	p.SendLine(ctx, "PASS builder")
	p.SendLine(ctx, "TOP 1 0")
	p.Quit(ctx)
	if msgs, _ := l.Store().List("bob"); msgs[0].Seen {
		t.Error("lesson 10: TOP marked the message as read")
	}

	// Lessons 7, 11, 12 and 14: the zone.
	ask := func(name string, qt uint16) []dns.RR {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qt)
		in, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, l.Addr(lab.ListenerDNS))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return in.Answer
	}
	txt := func(name string) string {
		var out []string
		for _, rr := range ask(name, dns.TypeTXT) {
			out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
		}
		return strings.Join(out, "\n")
	}
	if a := ask("postlab.test", dns.TypeMX); len(a) != 1 || a[0].(*dns.MX).Preference != 10 || a[0].(*dns.MX).Mx != "mail.postlab.test." {
		t.Errorf("lesson 11: MX %v", a)
	}
	if a := ask("1.0.0.127.in-addr.arpa", dns.TypePTR); len(a) != 1 || a[0].(*dns.PTR).Ptr != "mail.postlab.test." {
		t.Errorf("lesson 11: PTR %v", a)
	}
	if spf := txt("postlab.test"); !strings.Contains(spf, "v=spf1 ip4:127.0.0.0/8 mx -all") {
		t.Errorf("lesson 12: SPF %q", spf)
	}
	if k := txt("lab._domainkey.postlab.test"); !strings.Contains(k, "p=MI") {
		t.Errorf("lesson 12: DKIM key %q", k)
	}
	if d := txt("_dmarc.postlab.test"); !strings.Contains(d, "p=reject") {
		t.Errorf("lesson 12: DMARC %q", d)
	}
	if a := ask("_imaps._tcp.postlab.test", dns.TypeSRV); len(a) != 1 || a[0].(*dns.SRV).Target != "." {
		t.Errorf("lesson 14: _imaps SRV %v", a)
	}
	if a := ask("_submission._tcp.postlab.test", dns.TypeSRV); len(a) != 1 || a[0].(*dns.SRV).Target != "mail.postlab.test." {
		t.Errorf("lesson 7: _submission SRV %v", a)
	}
}
