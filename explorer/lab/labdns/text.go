package labdns

import (
	"strings"

	"github.com/miekg/dns"
)

// Records returns copies of every served record in zone-file order: the
// forward zone, then the reverse zone, each starting with SOA and NS.
func (s *Server) Records() []dns.RR {
	d := s.cur.Load().data
	out := make([]dns.RR, len(d.sorted))
	for i, rr := range d.sorted {
		out[i] = dns.Copy(rr)
	}
	return out
}

// ZoneText renders the zone in RFC 1035 §5 master-file format, one record a
// line, sorted as Records is, with a comment heading each zone.
func (s *Server) ZoneText() string {
	p := s.cur.Load()
	d := p.data
	var b strings.Builder
	if len(p.zone.Faults) > 0 {
		b.WriteString("; faults: " + strings.Join(p.zone.Faults, ", ") + "\n")
	}
	cur := ""
	for _, rr := range d.sorted {
		if apex := apexOf(d.apexes, rr.Header().Name); apex != cur {
			if cur != "" {
				b.WriteString("\n")
			}
			cur = apex
			b.WriteString("; zone " + apex + "\n")
		}
		b.WriteString(rr.String())
		b.WriteString("\n")
	}
	return b.String()
}
