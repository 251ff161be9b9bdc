package diag

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// DNS blocklists (RFC 5782): an address is listed on ZONE when
// REVERSED-ADDRESS.ZONE has an A record in 127.0.0.0/8; the TXT record says why.

// DefaultDNSBLZones are checked when no --dnsbl is given.
var DefaultDNSBLZones = []string{"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"}

// DNSBLStatus is the outcome of one blocklist query.
type DNSBLStatus string

// Blocklist outcomes.
const (
	DNSBLNotListed DNSBLStatus = "not listed"
	DNSBLListed    DNSBLStatus = "listed"
	DNSBLRefused   DNSBLStatus = "refused" // 127.255.255.x: the list refused the query
	DNSBLOdd       DNSBLStatus = "unexpected answer"
)

// DNSBLResult is the answer of one zone about one address.
type DNSBLResult struct {
	Zone    string
	Status  DNSBLStatus
	Codes   []netip.Addr
	Reasons []string
	// ReasonErr is set when the TXT lookup for the reason failed (so the
	// reason is unknown, not missing).
	ReasonErr error
}

const dnsblNote = "Blocklists often refuse queries from public resolvers (8.8.8.8, 1.1.1.1, ...): an answer of 127.255.255.x means \"query refused\", not \"listed\"; use your own recursive resolver with --resolver."

// dnsblName is the query name for ip in zone (RFC 5782 §2.1, §2.4).
func dnsblName(ip netip.Addr, zone string) string {
	arpa, _ := dns.ReverseAddr(ip.String())
	arpa = strings.TrimSuffix(strings.TrimSuffix(arpa, "in-addr.arpa."), "ip6.arpa.")
	return arpa + strings.TrimSuffix(zone, ".")
}

// QueryDNSBL asks one zone about one address: A for the listing, TXT for the reason.
func QueryDNSBL(ctx context.Context, r Resolver, ip netip.Addr, zone string) (*DNSBLResult, error) {
	name := dnsblName(ip, zone)
	var addrs []netip.Addr
	var txts []string
	var aerr, terr error
	parallel(2, func(i int) {
		if i == 0 {
			addrs, _, aerr = lookupAddrs(ctx, r, name, dns.TypeA)
		} else {
			txts, _, terr = LookupTXT(ctx, r, name)
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	res := &DNSBLResult{Zone: zone, Status: DNSBLNotListed, Codes: addrs}
	if len(addrs) == 0 {
		return res, nil
	}
	refused := netip.MustParsePrefix("127.255.255.0/24")
	loop := netip.MustParsePrefix("127.0.0.0/8")
	res.Status = DNSBLOdd
	for _, a := range addrs {
		switch {
		case refused.Contains(a):
			res.Status = DNSBLRefused
		case loop.Contains(a) && res.Status != DNSBLRefused:
			res.Status = DNSBLListed
		}
	}
	if res.Status == DNSBLListed {
		res.Reasons = txts
		res.ReasonErr = terr
	}
	return res, nil
}

func checkDNSBL(ctx context.Context, e *env) []Finding {
	m, fs := e.waitMX(ctx, "dnsbl.listing")
	if m == nil {
		return fs
	}
	if nc := m.notChecked("dnsbl.listing", "Blocklist listing of the MX addresses"); nc != nil {
		return nc
	}
	zones := e.opts.DNSBLZones
	if zones == nil {
		zones = DefaultDNSBLZones
	}
	addrs := m.addrs()
	if len(zones) == 0 || len(addrs) == 0 {
		return nil
	}
	type job struct {
		ip   netip.Addr
		zone string
	}
	var jobs []job
	for _, ip := range addrs {
		for _, z := range zones {
			jobs = append(jobs, job{ip, z})
		}
	}
	results := make([]*DNSBLResult, len(jobs))
	errs := make([]error, len(jobs))
	// Blocklists list Internet senders; an address that cannot be one
	// (loopback, private, link-local, CGNAT...) is not looked up.
	local := func(ip netip.Addr) (AddrScope, bool) {
		sc, ok := SpecialScope(ip)
		return sc, ok && sc.Local
	}
	parallel(len(jobs), func(i int) {
		if _, skip := local(jobs[i].ip); !skip {
			results[i], errs[i] = QueryDNSBL(ctx, e.r, jobs[i].ip, jobs[i].zone)
		}
	})
	for _, ip := range addrs {
		if sc, skip := local(ip); skip {
			fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusInfo,
				Summary: fmt.Sprintf("%s is %s: blocklists not checked", ip, sc.AName()),
				Detail:  sc.Describe(ip) + ". " + sc.Means + " Blocklists only list addresses that send on the Internet.",
				Ref:     sc.Ref + "; RFC 5782"})
			continue
		}
		var clean []string
		for i, j := range jobs {
			if j.ip != ip {
				continue
			}
			if errs[i] != nil {
				fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusError,
					Summary: fmt.Sprintf("could not query %s about %s", j.zone, ip),
					Detail:  errs[i].Error() + "\n" + dnsblNote, Ref: "RFC 5782 §2.1"})
				continue
			}
			r := results[i]
			switch r.Status {
			case DNSBLNotListed:
				clean = append(clean, j.zone)
			case DNSBLListed:
				reason := "no reason given (no TXT record)"
				switch {
				case len(r.Reasons) > 0:
					reason = strings.Join(r.Reasons, "\n")
				case r.ReasonErr != nil:
					reason = "the reason (TXT record) could not be looked up: " + r.ReasonErr.Error()
				}
				fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusFail,
					Summary: fmt.Sprintf("%s is listed on %s (%s)", ip, j.zone, joinAddrs(r.Codes)),
					Detail:  reason + "\n" + dnsblNote,
					Fix:     "Find and stop the cause (an open relay, a compromised account, a shared address), then request delisting on the list's web site.",
					Ref:     "RFC 5782 §2.1"})
			case DNSBLRefused:
				fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusInfo,
					Summary: fmt.Sprintf("%s refused the query about %s (%s): not a listing", j.zone, ip, joinAddrs(r.Codes)),
					Detail:  dnsblNote,
					Fix:     "Query through your own recursive resolver (--resolver) to get a real answer.",
					Ref:     "RFC 5782 §2.1"})
			default:
				fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusWarn,
					Summary: fmt.Sprintf("%s gave an answer outside 127.0.0.0/8 for %s (%s)", j.zone, ip, joinAddrs(r.Codes)),
					Detail:  "The zone may be defunct and answering every query; its answer means nothing.",
					Fix:     "Remove " + j.zone + " from --dnsbl.",
					Ref:     "RFC 5782 §2.1"})
			}
		}
		if len(clean) > 0 {
			fs = append(fs, Finding{Check: "dnsbl.listing", Status: StatusPass,
				Summary: fmt.Sprintf("%s is not listed on %s", ip, strings.Join(clean, ", ")),
				Detail:  dnsblNote, Ref: "RFC 5782 §2.1"})
		}
	}
	return fs
}
