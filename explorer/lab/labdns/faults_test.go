package labdns

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/miekg/dns"
)

// resolver is Go's own stub resolver pointed at addr: a client we did not
// write, used by the SPF library below.
func resolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

func checkSPF(t *testing.T, addr string) spf.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _ := spf.CheckHostWithSender(net.IPv4(127, 0, 0, 1), "mail.postlab.test", "alice@postlab.test",
		spf.WithResolver(resolver(addr)), spf.WithContext(ctx))
	return res
}

func TestSPFEvaluation(t *testing.T) {
	addr := start(t, NewServer(labZone(t)))
	if got := checkSPF(t, addr); got != spf.Pass {
		t.Errorf("SPF for 127.0.0.1: %v, want pass", got)
	}
	ctx := context.Background()
	r := resolver(addr)
	if mx, err := r.LookupMX(ctx, "postlab.test"); err != nil || len(mx) != 1 || mx[0].Host != "mail.postlab.test." {
		t.Errorf("Go resolver MX: %v %v", mx, err)
	}
	if _, srvs, err := r.LookupSRV(ctx, "submission", "tcp", "postlab.test"); err != nil || len(srvs) != 1 || srvs[0].Port != 2587 {
		t.Errorf("Go resolver SRV: %v %v", srvs, err)
	}
}

func TestCheckFaults(t *testing.T) {
	var names []string
	for _, f := range Catalog {
		names = append(names, f.Name)
		if f.Description == "" || !strings.HasPrefix(f.Ref, "RFC ") || f.apply == nil {
			t.Errorf("fault %s is missing its description, reference or effect", f.Name)
		}
	}
	if err := CheckFaults(names); err != nil {
		t.Error(err)
	}
	if err := CheckFaults([]string{"spf-syntax", "dns-on-fire"}); err == nil || !strings.Contains(err.Error(), `"dns-on-fire"`) {
		t.Errorf("unknown fault: %v", err)
	}
	// Unknown names change nothing.
	if NewServer(labZone(t)).ZoneText() != strings.TrimPrefix(NewServer(withFaults(t, "dns-on-fire")).ZoneText(), "; faults: dns-on-fire\n") {
		t.Errorf("an unknown fault changed the zone")
	}
}

func withFaults(t testing.TB, f ...string) Zone {
	z := labZone(t)
	z.Faults = f
	return z
}

func txts(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out
}

func TestFaults(t *testing.T) {
	normal := NewServer(labZone(t))
	for _, tc := range []struct {
		fault string
		check func(t *testing.T, addr string)
	}{
		{"spf-two-records", func(t *testing.T, addr string) {
			r := query(t, addr, "udp", "postlab.test", dns.TypeTXT, false)
			if n := len(txts(r)); n != 2 {
				t.Errorf("%d SPF records", n)
			}
			if got := checkSPF(t, addr); got != spf.PermError {
				t.Errorf("SPF: %v, want permerror", got)
			}
		}},
		{"spf-syntax", func(t *testing.T, addr string) {
			if got := checkSPF(t, addr); got != spf.PermError {
				t.Errorf("SPF: %v, want permerror", got)
			}
		}},
		{"spf-missing", func(t *testing.T, addr string) {
			r := query(t, addr, "udp", "postlab.test", dns.TypeTXT, false)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
				t.Errorf("apex TXT: %v", r.Answer)
			}
			if got := checkSPF(t, addr); got != spf.None {
				t.Errorf("SPF: %v, want none", got)
			}
		}},
		{"dmarc-missing", func(t *testing.T, addr string) {
			if r := query(t, addr, "udp", "_dmarc.postlab.test", dns.TypeTXT, false); r.Rcode != dns.RcodeNameError {
				t.Errorf("_dmarc: %s", dns.RcodeToString[r.Rcode])
			}
		}},
		{"dmarc-none", func(t *testing.T, addr string) {
			got := txts(query(t, addr, "udp", "_dmarc.postlab.test", dns.TypeTXT, false))
			if len(got) != 1 || !strings.Contains(got[0], "p=none;") {
				t.Errorf("_dmarc: %q", got)
			}
		}},
		{"dkim-revoked", func(t *testing.T, addr string) {
			got := txts(query(t, addr, "udp", "lab._domainkey.postlab.test", dns.TypeTXT, false))
			if len(got) != 1 || parseDKIM(t, got[0]) != nil {
				t.Errorf("key record: %q, want an empty p=", got)
			}
		}},
		{"dkim-weak", func(t *testing.T, addr string) {
			got := txts(query(t, addr, "udp", "lab._domainkey.postlab.test", dns.TypeTXT, false))
			if len(got) != 1 {
				t.Fatalf("key record: %q", got)
			}
			if k := parseDKIM(t, got[0]); k.N.BitLen() != 512 {
				t.Errorf("published key has %d bits, want 512", k.N.BitLen())
			}
		}},
		{"dkim-missing", func(t *testing.T, addr string) {
			if r := query(t, addr, "udp", "lab._domainkey.postlab.test", dns.TypeTXT, false); r.Rcode != dns.RcodeNameError {
				t.Errorf("selector: %s", dns.RcodeToString[r.Rcode])
			}
		}},
		{"mx-cname", func(t *testing.T, addr string) {
			wantOne(t, query(t, addr, "udp", "postlab.test", dns.TypeMX, false), "MX 10 smtp.postlab.test.")
			r := query(t, addr, "udp", "smtp.postlab.test", dns.TypeA, false)
			got := answerTexts(r)
			if len(got) != 2 || got[0] != "CNAME mail.postlab.test." || got[1] != "A 127.0.0.1" {
				t.Errorf("A via CNAME: %q", got)
			}
			wantOne(t, query(t, addr, "udp", "smtp.postlab.test", dns.TypeCNAME, false), "CNAME mail.postlab.test.")
		}},
		{"mx-no-address", func(t *testing.T, addr string) {
			wantOne(t, query(t, addr, "udp", "postlab.test", dns.TypeMX, false), "MX 10 mx-old.postlab.test.")
			if r := query(t, addr, "udp", "mx-old.postlab.test", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
				t.Errorf("MX target: %s", dns.RcodeToString[r.Rcode])
			}
		}},
		{"mx-missing", func(t *testing.T, addr string) {
			r := query(t, addr, "udp", "postlab.test", dns.TypeMX, false)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
				t.Errorf("MX: %v", r.Answer)
			}
		}},
		{"ptr-missing", func(t *testing.T, addr string) {
			if r := query(t, addr, "udp", "1.0.0.127.in-addr.arpa", dns.TypePTR, false); r.Rcode != dns.RcodeNameError {
				t.Errorf("PTR: %s", dns.RcodeToString[r.Rcode])
			}
		}},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			if _, ok := faultByName[tc.fault]; !ok {
				t.Fatalf("%s is not in the catalog", tc.fault)
			}
			s := NewServer(withFaults(t, tc.fault))
			if !strings.HasPrefix(s.ZoneText(), "; faults: "+tc.fault+"\n") {
				t.Errorf("zone text does not name the fault")
			}
			if s.cur.Load().data.nodes["postlab.test."][dns.TypeSOA][0].(*dns.SOA).Serial ==
				normal.cur.Load().data.nodes["postlab.test."][dns.TypeSOA][0].(*dns.SOA).Serial {
				t.Errorf("serial unchanged by the fault")
			}
			tc.check(t, start(t, s))
		})
	}
	if len(Catalog) != 12 {
		t.Errorf("catalog has %d faults; add a test for each new one", len(Catalog))
	}
}

// SetFaults changes the published zone on a running server.
func TestSetFaults(t *testing.T) {
	s := NewServer(labZone(t))
	addr := start(t, s)
	normal := s.ZoneText()
	s.SetFaults([]string{"mx-missing", "ptr-missing"})
	if got := s.Faults(); len(got) != 2 || got[0] != "mx-missing" || got[1] != "ptr-missing" {
		t.Errorf("Faults() = %v", got)
	}
	if !strings.HasPrefix(s.ZoneText(), "; faults: mx-missing, ptr-missing\n") {
		t.Errorf("zone text does not name the faults:\n%s", s.ZoneText())
	}
	for _, netw := range []string{"udp", "tcp"} {
		if r := query(t, addr, netw, "postlab.test", dns.TypeMX, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
			t.Errorf("%s MX with mx-missing: %s %v", netw, dns.RcodeToString[r.Rcode], r.Answer)
		}
	}
	s.SetFaults(nil)
	if s.ZoneText() != normal || len(s.Faults()) != 0 {
		t.Errorf("SetFaults(nil) did not restore the zone")
	}
	wantOne(t, query(t, addr, "udp", "postlab.test", dns.TypeMX, false), "MX 10 mail.postlab.test.")
}
