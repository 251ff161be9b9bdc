package diag

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Reverse DNS: every MX address should have a PTR name that resolves back
// to it (forward-confirmed reverse DNS); receivers use it to judge the
// server when it sends mail (RFC 1912 §2.1, RFC 8601 §3 "iprev").

// FCrDNS is the reverse lookup of one address.
type FCrDNS struct {
	IP        netip.Addr
	Names     []string // PTR names
	Confirmed []string // the names whose A/AAAA include IP
	// Unknown are the names whose forward lookup failed: neither
	// confirmed nor refuted.
	Unknown []string
	Err     error // the first forward-lookup error
}

// LookupFCrDNS looks up the PTR names of ip and confirms each forward.
func LookupFCrDNS(ctx context.Context, r Resolver, ip netip.Addr) (*FCrDNS, error) {
	names, _, err := LookupPTR(ctx, r, ip)
	if err != nil {
		return nil, err
	}
	res := &FCrDNS{IP: ip}
	for _, n := range names {
		res.Names = append(res.Names, trimDot(strings.ToLower(n)))
	}
	if len(res.Names) > 10 {
		res.Names = res.Names[:10]
	}
	qt := dns.TypeA
	if ip.Is6() {
		qt = dns.TypeAAAA
	}
	ok := make([]bool, len(res.Names))
	errs := make([]error, len(res.Names))
	parallel(len(res.Names), func(i int) {
		addrs, _, err := lookupAddrs(ctx, r, res.Names[i], qt)
		if err != nil {
			errs[i] = err
			return
		}
		for _, a := range addrs {
			if a == ip {
				ok[i] = true
			}
		}
	})
	for i, n := range res.Names {
		if ok[i] {
			res.Confirmed = append(res.Confirmed, n)
		} else if errs[i] != nil {
			res.Unknown = append(res.Unknown, n)
			if res.Err == nil {
				res.Err = errs[i]
			}
		}
	}
	return res, nil
}

func checkPTR(ctx context.Context, e *env) []Finding {
	m, fs := e.waitMX(ctx, "ptr.fcrdns")
	if m == nil {
		return fs
	}
	if nc := m.notChecked("ptr.fcrdns", "Reverse DNS of the MX addresses"); nc != nil {
		return nc
	}
	addrs := m.addrs()
	out := make([]Finding, len(addrs))
	parallel(len(addrs), func(i int) {
		out[i] = ptrFinding(ctx, e.r, addrs[i])
	})
	return out
}

func ptrFinding(ctx context.Context, r Resolver, ip netip.Addr) Finding {
	res, err := LookupFCrDNS(ctx, r, ip)
	if err != nil {
		return dnsErrorFinding("ptr.fcrdns", "the PTR record of "+ip.String(), err)
	}
	arpa, _ := dns.ReverseAddr(ip.String())
	switch {
	case len(res.Names) == 0:
		f := Finding{Check: "ptr.fcrdns", Status: StatusWarn,
			Summary: fmt.Sprintf("%s has no PTR record", ip),
			Detail:  "Many receivers reject or penalize mail from addresses without reverse DNS.",
			Fix:     fmt.Sprintf("Ask whoever owns the address (your provider) to set PTR %s to the server's name.", trimDot(arpa)),
			Ref:     "RFC 1912 §2.1; RFC 8601 §3"}
		if sc, ok := SpecialScope(ip); ok {
			f.Detail += " " + sc.Describe(ip) + ". " + sc.Means
			if sc.Local {
				f.Detail += " Only a resolver on that network can have a PTR record for it."
			}
		}
		return f
	case len(res.Confirmed) == 0 && len(res.Unknown) > 0:
		return Finding{Check: "ptr.fcrdns", Status: StatusError,
			Summary: fmt.Sprintf("%s -> %s, but its address could not be looked up to confirm it", ip, strings.Join(res.Names, ", ")),
			Detail:  res.Err.Error(),
			Fix:     "Retry; if it persists, the name servers of " + res.Unknown[0] + " or the resolver are failing (try --resolver).",
			Ref:     "RFC 8601 §3"}
	case len(res.Confirmed) == 0:
		return Finding{Check: "ptr.fcrdns", Status: StatusWarn,
			Summary: fmt.Sprintf("%s -> %s, which does not resolve back to %s", ip, strings.Join(res.Names, ", "), ip),
			Detail:  "The reverse name is not forward-confirmed, so receivers treat it as unverified (iprev fail).",
			Fix:     fmt.Sprintf("Give %s an address record for %s, or point the PTR at a name that has one.", res.Names[0], ip),
			Ref:     "RFC 8601 §3; RFC 1912 §2.1"}
	}
	return Finding{Check: "ptr.fcrdns", Status: StatusPass,
		Summary: fmt.Sprintf("%s -> %s -> %s (forward-confirmed)", ip, res.Confirmed[0], ip),
		Ref:     "RFC 8601 §3"}
}
