package labdns

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"net"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

const ttl = 300

// zoneData is the served data: the apexes and the RRsets by lower-case name.
type zoneData struct {
	apexes []string                       // forward zone first, then reverse
	nodes  map[string]map[uint16][]dns.RR // owner -> type -> RRset
	exists map[string]bool                // owners and empty non-terminals
	sorted []dns.RR                       // zone-file order
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// reverseApex is the /8 reverse zone of ip, e.g. 127.in-addr.arpa.
func reverseApex(ip net.IP) string {
	return fmt.Sprintf("%d.in-addr.arpa.", ip.To4()[0])
}

func buildZone(z Zone) *zoneData {
	d, host := z.Domain, z.Hostname
	ns := "ns." + d
	rev := reverseApex(z.IPv4)
	a := func(name string) dns.RR { return &dns.A{Hdr: hdr(name, dns.TypeA), A: z.IPv4} }
	txt := func(name string, s ...string) dns.RR { return &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: s} }
	soa := func(apex string) dns.RR {
		return &dns.SOA{Hdr: hdr(apex, dns.TypeSOA), Ns: ns, Mbox: "hostmaster." + d,
			Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl}
	}
	srv := func(service string, port int) dns.RR {
		r := &dns.SRV{Hdr: hdr(service+"._tcp."+d, dns.TypeSRV), Target: "."}
		if port > 0 && port < 65536 {
			r.Priority, r.Weight, r.Port, r.Target = 0, 1, uint16(port), host
		}
		return r
	}

	spf := "v=spf1 ip4:" + z.IPv4.String() + " mx -all"
	if z.IPv4.IsLoopback() {
		spf = "v=spf1 ip4:127.0.0.0/8 mx -all"
	}
	mx := &dns.MX{Hdr: hdr(d, dns.TypeMX), Preference: 10, Mx: host}
	if z.Ports.SMTP <= 0 {
		mx.Preference, mx.Mx = 0, "." // null MX, RFC 7505
	}
	rrs := []dns.RR{
		soa(d),
		&dns.NS{Hdr: hdr(d, dns.TypeNS), Ns: ns},
		a(d), a(ns), a(host), mx,
		txt(d, spf),
		txt("_dmarc."+d, "v=DMARC1; p=reject; rua=mailto:postmaster@"+strings.TrimSuffix(d, ".")),
		txt("_smtp._tls."+d, "v=TLSRPTv1; rua=mailto:postmaster@"+strings.TrimSuffix(d, ".")),
		srv("_submission", z.Ports.Submission),
		srv("_submissions", z.Ports.Submissions),
		srv("_pop3", z.Ports.POP3),
		srv("_pop3s", z.Ports.POP3S),
		srv("_imap", 0),
		srv("_imaps", 0),
		soa(rev),
		&dns.NS{Hdr: hdr(rev, dns.TypeNS), Ns: ns},
	}
	ptrName, _ := dns.ReverseAddr(z.IPv4.String())
	rrs = append(rrs, &dns.PTR{Hdr: hdr(ptrName, dns.TypePTR), Ptr: host})
	if z.DKIMKey != nil {
		rrs = append(rrs, txt(z.DKIMSelector+"._domainkey."+d, dkimTXT(z.DKIMKey)...))
	}
	for _, f := range z.Faults {
		if fl, ok := faultByName[f]; ok {
			rrs = fl.apply(rrs, z)
		}
	}
	return index([]string{d, rev}, rrs)
}

// index lower-cases owners, sets the serial from the content (so any change,
// such as a fault, is visible to caches and secondaries) and sorts.
func index(apexes []string, rrs []dns.RR) *zoneData {
	zd := &zoneData{apexes: apexes, nodes: map[string]map[uint16][]dns.RR{}, exists: map[string]bool{}}
	sum := crc32.NewIEEE()
	for _, rr := range rrs {
		h := rr.Header()
		h.Name = strings.ToLower(h.Name)
		if h.Rrtype != dns.TypeSOA {
			fmt.Fprintln(sum, rr.String())
		}
	}
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial = 1 + sum.Sum32()%4000000000
		}
		name := rr.Header().Name
		apex := apexOf(apexes, name)
		if apex == "" {
			continue // out of zone: never served
		}
		if zd.nodes[name] == nil {
			zd.nodes[name] = map[uint16][]dns.RR{}
		}
		t := rr.Header().Rrtype
		zd.nodes[name][t] = append(zd.nodes[name][t], rr)
		zd.sorted = append(zd.sorted, rr)
		// The owner and every name between it and the apex exist (RFC 8020).
		for n := name; ; {
			zd.exists[n] = true
			if n == apex {
				break
			}
			i := strings.IndexByte(n, '.')
			n = n[i+1:]
		}
	}
	sort.SliceStable(zd.sorted, func(i, j int) bool { return zd.less(zd.sorted[i], zd.sorted[j]) })
	return zd
}

func apexOf(apexes []string, name string) string {
	for _, a := range apexes {
		if name == a || strings.HasSuffix(name, "."+a) {
			return a
		}
	}
	return ""
}

// less orders like a zone file: by zone, apex first with SOA then NS, then by
// canonical name order (RFC 4034 §6.1), type and text.
func (zd *zoneData) less(x, y dns.RR) bool {
	zi := func(rr dns.RR) int {
		a := apexOf(zd.apexes, rr.Header().Name)
		for i, v := range zd.apexes {
			if v == a {
				return i
			}
		}
		return len(zd.apexes)
	}
	if a, b := zi(x), zi(y); a != b {
		return a < b
	}
	if c := compareCanonical(x.Header().Name, y.Header().Name); c != 0 {
		return c < 0
	}
	rank := func(t uint16) int {
		switch t {
		case dns.TypeSOA:
			return -2
		case dns.TypeNS:
			return -1
		}
		return int(t)
	}
	if a, b := rank(x.Header().Rrtype), rank(y.Header().Rrtype); a != b {
		return a < b
	}
	return x.String() < y.String()
}

func compareCanonical(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// dkimTXT is the RFC 6376 §3.6.1 key record: p= is the base64 of the
// SubjectPublicKeyInfo DER, split into character-strings of at most 255
// octets (RFC 1035 §3.3.14) that verifiers concatenate.
func dkimTXT(pub *rsa.PublicKey) []string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return []string{"v=DKIM1; k=rsa; p="}
	}
	return splitTXT("v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der))
}

func splitTXT(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}
