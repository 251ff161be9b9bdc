package labdns

import (
	"strings"

	"github.com/miekg/dns"
)

// Records returns copies of every served record in zone-file order: the
// forward zone, then the reverse zone, each starting with SOA and NS.
func (s *Server) Records() []dns.RR {
	out := make([]dns.RR, len(s.data.sorted))
	for i, rr := range s.data.sorted {
		out[i] = dns.Copy(rr)
	}
	return out
}

// ZoneText renders the zone in RFC 1035 §5 master-file format, one record a
// line, sorted as Records is, with a comment heading each zone.
func (s *Server) ZoneText() string {
	var b strings.Builder
	if len(s.zone.Faults) > 0 {
		b.WriteString("; faults: " + strings.Join(s.zone.Faults, ", ") + "\n")
	}
	cur := ""
	for _, rr := range s.data.sorted {
		if apex := apexOf(s.data.apexes, rr.Header().Name); apex != cur {
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
