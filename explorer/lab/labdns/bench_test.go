package labdns

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkUDPQuery measures answered queries per second over UDP on
// loopback, one client per goroutine (-cpu sets how many), each on its own
// socket, alternating a hit with additional records, a DKIM key and a miss.
func BenchmarkUDPQuery(b *testing.B) {
	addr := start(b, NewServer(labZone(b)))
	qs := []*dns.Msg{
		new(dns.Msg).SetQuestion("postlab.test.", dns.TypeMX),
		new(dns.Msg).SetQuestion("lab._domainkey.postlab.test.", dns.TypeTXT).SetEdns0(1232, false),
		new(dns.Msg).SetQuestion("nope.postlab.test.", dns.TypeA),
	}
	b.ReportAllocs()
	begin := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
		conn, err := c.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		for i := 0; pb.Next(); i++ {
			q := qs[i%len(qs)].Copy()
			q.Id = dns.Id()
			r, _, err := c.ExchangeWithConn(q, conn)
			if err != nil || !r.Authoritative {
				b.Errorf("query %d: %v", i, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "queries/s")
}
