package labdns

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary bytes, parsed as a DNS message, to the
// handler over both transports: it must not panic, must answer at most once,
// and every answer must pack, match the query ID and fit UDP limits.
func FuzzServeDNS(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"postlab.test.", dns.TypeMX, false},
		{"lab._domainkey.postlab.test.", dns.TypeTXT, true},
		{"_submission._tcp.postlab.test.", dns.TypeSRV, false},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, true},
		{"nope.postlab.test.", dns.TypeANY, false},
		{"postlab.test.", dns.TypeAXFR, false},
		{"example.com.", dns.TypeA, true},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(4096, true)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1})
	z := labZone(f)
	z.Faults = []string{"mx-cname"} // exercises CNAME chasing too
	s := NewServer(z)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return
		}
		for _, remote := range []net.Addr{&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}} {
			w := &fakeWriter{remote: remote}
			s.ServeDNS(w, req)
			if len(w.msgs) > 1 {
				t.Fatalf("%d replies", len(w.msgs))
			}
			if len(w.msgs) == 0 {
				if !req.Response {
					t.Fatalf("no reply to a query")
				}
				continue
			}
			out, err := w.msgs[0].Pack()
			if err != nil {
				t.Fatalf("reply does not pack: %v\n%v", err, w.msgs[0])
			}
			if w.msgs[0].Id != req.Id || !w.msgs[0].Response {
				t.Fatalf("reply header %v", w.msgs[0].MsgHdr)
			}
			if _, udp := remote.(*net.UDPAddr); udp && len(out) > ednsSize {
				t.Fatalf("UDP reply of %d octets", len(out))
			}
		}
	})
}
