package labdns

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// ednsSize is the UDP payload size we advertise and the most we send over
// UDP: the DNS Flag Day 2020 value, which avoids IP fragmentation.
const ednsSize = 1232

// ServeDNS answers one query. It never panics on odd messages: anything it
// cannot answer gets FORMERR, NOTIMP or REFUSED, and responses are ignored.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if r == nil || r.Response {
		return // never answer a response (reflection loops)
	}
	p := s.cur.Load() // one zone version for the whole answer
	m := p.data.answer(r, isTCP(w))
	var remote string
	if w != nil {
		if a := w.RemoteAddr(); a != nil {
			remote = a.String()
		}
		_ = w.WriteMsg(m)
	}
	if p.zone.Trace != nil {
		var q dns.Question
		if len(r.Question) > 0 {
			q = r.Question[0]
		}
		p.zone.Trace(remote, q, m.Rcode)
	}
}

func isTCP(w dns.ResponseWriter) bool {
	if w == nil {
		return false
	}
	_, ok := w.RemoteAddr().(*net.TCPAddr)
	return ok
}

// answer builds the reply to r, sized for the transport.
func (d *zoneData) answer(r *dns.Msg, tcp bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Compress = true

	var opt *dns.OPT
	nopt := 0
	for _, rr := range r.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			nopt++
		}
	}
	if opt != nil {
		m.SetEdns0(ednsSize, opt.Do()) // echo EDNS and the DO bit (RFC 3225 §3)
	}
	switch {
	case r.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case len(r.Question) != 1 || nopt > 1 || (opt != nil && opt.Header().Name != "."):
		m.Rcode = dns.RcodeFormatError // RFC 6891 §6.1.1
		return m
	case opt != nil && opt.Version() != 0:
		m.Rcode = dns.RcodeBadVers // RFC 6891 §6.1.3
		return m
	}

	q := r.Question[0]
	name := strings.ToLower(q.Name)
	apex := apexOf(d.apexes, name)
	if apex == "" || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		if !tcp || name != apex {
			m.Authoritative = false
			m.Rcode = dns.RcodeRefused // transfers only over TCP, at an apex (RFC 5936 §4.2)
			return m
		}
		d.transfer(m, apex)
		return m
	}
	d.lookup(m, q, name, apex, tcp)

	size := dns.MaxMsgSize
	if !tcp {
		size = dns.MinMsgSize
		if opt != nil && int(opt.UDPSize()) > size {
			size = min(int(opt.UDPSize()), ednsSize)
		}
	}
	truncate(m, size)
	return m
}

// lookup fills the answer for one in-zone question, following in-zone
// CNAMEs (RFC 1034 §4.3.2 step 3.b).
func (d *zoneData) lookup(m *dns.Msg, q dns.Question, name, apex string, tcp bool) {
	owner := q.Name
	for hops := 0; ; hops++ {
		if !d.exists[name] {
			m.Rcode = dns.RcodeNameError
			d.negative(m, apex)
			return
		}
		node := d.nodes[name]
		if q.Qtype == dns.TypeANY {
			if len(node) == 0 {
				d.negative(m, apex)
				return
			}
			if !tcp { // RFC 8482 §4.2: a small synthesized HINFO over UDP
				m.Answer = append(m.Answer, &dns.HINFO{Hdr: hdr(owner, dns.TypeHINFO), Cpu: "RFC8482"})
				return
			}
			for _, rr := range d.sorted {
				if rr.Header().Name == name {
					m.Answer = append(m.Answer, withOwner(rr, owner))
				}
			}
			return
		}
		if rrs, ok := node[q.Qtype]; ok {
			for _, rr := range rrs {
				m.Answer = append(m.Answer, withOwner(rr, owner))
			}
			d.additional(m, rrs)
			return
		}
		cn, ok := node[dns.TypeCNAME]
		if !ok || hops >= 8 {
			d.negative(m, apex)
			return
		}
		m.Answer = append(m.Answer, withOwner(cn[0], owner))
		target := strings.ToLower(cn[0].(*dns.CNAME).Target)
		if a := apexOf(d.apexes, target); a == "" {
			return // the resolver continues outside our zones
		} else {
			apex = a
		}
		name, owner = target, cn[0].(*dns.CNAME).Target
	}
}

// negative adds the SOA for negative caching (RFC 2308 §3).
func (d *zoneData) negative(m *dns.Msg, apex string) {
	if soa := d.nodes[apex][dns.TypeSOA]; len(soa) > 0 {
		m.Ns = append(m.Ns, soa[0])
	}
}

// additional adds in-zone addresses of MX, SRV and NS targets (RFC 1034
// §4.3.2 step 6, RFC 2782, RFC 5321 §5.1 hints).
func (d *zoneData) additional(m *dns.Msg, rrs []dns.RR) {
	seen := map[string]bool{}
	for _, rr := range rrs {
		var target string
		switch v := rr.(type) {
		case *dns.MX:
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		case *dns.NS:
			target = v.Ns
		default:
			continue
		}
		target = strings.ToLower(target)
		if seen[target] {
			continue
		}
		seen[target] = true
		m.Extra = append(m.Extra, d.nodes[target][dns.TypeA]...)
	}
}

// transfer answers AXFR with the whole zone in one message: SOA, the rest,
// SOA again (RFC 5936 §2.2).
func (d *zoneData) transfer(m *dns.Msg, apex string) {
	soa := d.nodes[apex][dns.TypeSOA][0]
	m.Answer = append(m.Answer, soa)
	for _, rr := range d.sorted {
		if rr != soa && apexOf(d.apexes, rr.Header().Name) == apex {
			m.Answer = append(m.Answer, rr)
		}
	}
	m.Answer = append(m.Answer, soa)
}

// withOwner returns rr with the owner name spelled as the question was, so
// clients using mixed case (DNS 0x20) see their own spelling back.
func withOwner(rr dns.RR, owner string) dns.RR {
	if rr.Header().Name == owner {
		return rr
	}
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

// truncate fits m into size octets. Missing additional records do not set
// TC, but an incomplete answer or authority section empties both and sets TC
// so the client retries over TCP (RFC 2181 §9).
func truncate(m *dns.Msg, size int) {
	nAns, nNs := len(m.Answer), len(m.Ns)
	m.Truncate(size)
	m.Compress = true
	if !m.Truncated {
		return
	}
	if len(m.Answer) == nAns && len(m.Ns) == nNs {
		m.Truncated = false
		return
	}
	m.Answer, m.Ns = nil, nil
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
}
