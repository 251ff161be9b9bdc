package diag

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// MXResult is the answer to "where does mail for this domain go": the JSON
// schema of `postlab mx --json`.
type MXResult struct {
	Domain   string    `json:"domain"`
	Resolver string    `json:"resolver"`         // the server that answered the MX query
	DNSSEC   bool      `json:"dnssec_validated"` // the AD bit of the MX answer
	NullMX   bool      `json:"null_mx"`          // RFC 7505: the domain accepts no mail
	Implicit bool      `json:"implicit"`         // no MX: the domain's own address is used (RFC 5321 §5.1)
	Hosts    []MXHost  `json:"mx"`
	Findings []Finding `json:"findings"`
	// Err is set when the MX query itself failed.
	Err error `json:"-"`
	// Error is set (by the command) when the lookup could not be made at
	// all, e.g. the resolver did not answer; the rest is then empty.
	Error string `json:"error,omitempty"`
}

// MXHost is one mail exchanger with its addresses.
type MXHost struct {
	Preference uint16      `json:"preference"`
	Host       string      `json:"host"`
	TTL        uint32      `json:"ttl"`
	CNAME      string      `json:"cname,omitempty"` // the canonical name, when Host is an alias
	Addresses  []MXAddress `json:"addresses"`
	Error      string      `json:"error,omitempty"`
}

// MXAddress is an A or AAAA record of an exchanger.
type MXAddress struct {
	IP  netip.Addr `json:"ip"`
	TTL uint32     `json:"ttl"`
}

// maxMXHosts bounds the exchangers resolved and checked.
const maxMXHosts = 32

// LookupMailExchangers finds the MX records of domain by preference, the
// addresses of each exchanger, and what is wrong with them.
func LookupMailExchangers(ctx context.Context, r Resolver, domain string) *MXResult {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	res := &MXResult{Domain: domain, Resolver: r.Name(), Hosts: []MXHost{}}
	mxs, ans, err := LookupMX(ctx, r, domain)
	if err != nil {
		res.Err = err
		res.Findings = []Finding{dnsErrorFinding("mx.records", "the MX records of "+domain, err)}
		return res
	}
	res.Resolver = ans.Server
	res.DNSSEC = ans.AD
	if ans.NXDomain() {
		res.Findings = []Finding{{Check: "mx.records", Status: StatusFail,
			Summary: domain + " does not exist (NXDOMAIN)",
			Detail:  "The resolver answered that the name does not exist, so no mail can be delivered to it.",
			Fix:     "Check the spelling, or register and delegate the domain.",
			Ref:     "RFC 1035 §4.1.1; RFC 5321 §5.1"}}
		return res
	}
	sort.SliceStable(mxs, func(i, j int) bool {
		if mxs[i].Preference != mxs[j].Preference {
			return mxs[i].Preference < mxs[j].Preference
		}
		return mxs[i].Mx < mxs[j].Mx
	})
	validated := "not validated with DNSSEC (no AD bit)"
	if ans.AD {
		validated = "validated with DNSSEC (AD bit set)"
	}

	if len(mxs) == 0 {
		return implicitMX(ctx, r, res, validated)
	}
	for _, mx := range mxs {
		res.Hosts = append(res.Hosts, MXHost{Preference: mx.Preference, Host: trimDot(strings.ToLower(mx.Mx)), TTL: mx.Hdr.Ttl, Addresses: []MXAddress{}})
	}

	var list []string
	for _, h := range res.Hosts {
		list = append(list, fmt.Sprintf("%d %s (TTL %ds)", h.Preference, h.Host, h.TTL))
	}
	detail := strings.Join(list, "\n") + "\nAnswer from " + ans.Server + ", " + validated + "."

	// Null MX (RFC 7505): a single MX of "." says the domain takes no mail.
	for _, h := range res.Hosts {
		if h.Host != "." {
			continue
		}
		if len(res.Hosts) == 1 {
			res.NullMX = true
			f := Finding{Check: "mx.records", Status: StatusInfo,
				Summary: domain + " publishes a null MX: it accepts no mail",
				Detail:  "MX 0 \".\" tells senders to fail at once instead of queueing (RFC 7505 §3).\n" + detail,
				Ref:     "RFC 7505 §3"}
			if h.Preference != 0 {
				f.Status = StatusWarn
				f.Fix = "Publish the null MX with preference 0: MX 0 ."
			}
			res.Findings = []Finding{f}
			return res
		}
		res.Findings = []Finding{{Check: "mx.records", Status: StatusFail,
			Summary: domain + " mixes a null MX with other MX records",
			Detail:  detail,
			Fix:     "Remove the MX \".\" if the domain receives mail, or the other MX records if it does not.",
			Ref:     "RFC 7505 §3"}}
		return res
	}

	res.Findings = append(res.Findings, Finding{Check: "mx.records", Status: StatusPass,
		Summary: fmt.Sprintf("%d MX record%s for %s", len(res.Hosts), plural(len(res.Hosts)), domain),
		Detail:  detail, Ref: "RFC 5321 §5.1"})

	// Resolve at most maxMXHosts exchangers: a hostile zone could list
	// thousands, and no sender tries that many.
	n := min(len(res.Hosts), maxMXHosts)
	hostFindings := make([][]Finding, n)
	parallel(n, func(i int) {
		hostFindings[i] = resolveMXHost(ctx, r, &res.Hosts[i])
	})
	if len(res.Hosts) > n {
		res.Findings = append(res.Findings, Finding{Check: "mx.records", Status: StatusWarn,
			Summary: fmt.Sprintf("%d MX records; only the first %d are checked", len(res.Hosts), n),
			Fix:     "A handful of MX hosts is plenty; remove the rest.",
			Ref:     "RFC 5321 §5.1"})
		res.Hosts = res.Hosts[:n]
	}
	withAddr, unknown := 0, 0
	for i, h := range res.Hosts[:n] {
		res.Findings = append(res.Findings, hostFindings[i]...)
		if len(h.Addresses) > 0 {
			withAddr++
		} else if h.Error != "" && h.Error != "no address" && h.Error != "IP literal" {
			unknown++ // a failed lookup says nothing about the addresses
		}
	}
	if withAddr == 0 && unknown == 0 {
		res.Findings = append(res.Findings, Finding{Check: "mx.records", Status: StatusFail,
			Summary: "no MX host of " + domain + " has an address: mail cannot be delivered",
			Fix:     "Give the MX hosts A/AAAA records, or point the MX records at hosts that have them.",
			Ref:     "RFC 5321 §5.1"})
	}
	return res
}

// resolveMXHost fills in h's addresses and reports on it.
func resolveMXHost(ctx context.Context, r Resolver, h *MXHost) []Finding {
	host := h.Host
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		h.Error = "IP literal"
		return []Finding{{Check: "mx.host", Status: StatusWarn,
			Summary: fmt.Sprintf("MX %s is an IP address, not a host name", host),
			Detail:  fmt.Sprintf("The exchange field must be a domain name; senders look up %q as a name and find nothing, so %s is never used.", host, a),
			Fix:     fmt.Sprintf("Create a name such as mx.DOMAIN with A record %s and use it in the MX record.", a),
			Ref:     "RFC 1035 §3.3.9; RFC 5321 §5.1"}}
	}
	var fs []Finding
	type res struct {
		addrs []netip.Addr
		ans   *Answer
		err   error
	}
	var a4, a6 res
	parallel(2, func(i int) {
		if i == 0 {
			a4.addrs, a4.ans, a4.err = lookupAddrs(ctx, r, host, dns.TypeA)
		} else {
			a6.addrs, a6.ans, a6.err = lookupAddrs(ctx, r, host, dns.TypeAAAA)
		}
	})
	for _, x := range []res{a4, a6} {
		if x.ans == nil {
			continue
		}
		for _, rr := range x.ans.Msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				h.Addresses = append(h.Addresses, MXAddress{IP: netip.AddrFrom4([4]byte(v.A.To4())), TTL: v.Hdr.Ttl})
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					h.Addresses = append(h.Addresses, MXAddress{IP: a, TTL: v.Hdr.Ttl})
				}
			}
		}
		for _, c := range x.ans.CNAMEs() {
			if strings.EqualFold(trimDot(c.Hdr.Name), host) {
				h.CNAME = trimDot(strings.ToLower(c.Target))
			}
		}
	}
	if a4.err != nil && a6.err != nil {
		h.Error = a4.err.Error()
		return []Finding{dnsErrorFinding("mx.host", "the address of MX "+host, a4.err)}
	}
	// One family failed: its addresses are unknown, not absent.
	for _, x := range []struct {
		kind string
		err  error
	}{{"A", a4.err}, {"AAAA", a6.err}} {
		if x.err == nil {
			continue
		}
		if len(h.Addresses) == 0 {
			h.Error = x.err.Error()
		}
		fs = append(fs, dnsErrorFinding("mx.host", "the "+x.kind+" records of MX "+host, x.err))
	}
	if len(h.Addresses) == 0 && h.Error != "" {
		return fs
	}
	if h.CNAME != "" {
		fs = append(fs, Finding{Check: "mx.host", Status: StatusWarn,
			Summary: fmt.Sprintf("MX %s is an alias (CNAME) for %s", host, h.CNAME),
			Detail:  "An MX record must point at a name with A/AAAA records, not at an alias; some senders refuse or mishandle it.",
			Fix:     fmt.Sprintf("Point the MX record at %s directly.", h.CNAME),
			Ref:     "RFC 2181 §10.3; RFC 5321 §5.1"})
	}
	if len(h.Addresses) == 0 {
		h.Error = "no address"
		return append(fs, Finding{Check: "mx.host", Status: StatusWarn,
			Summary: fmt.Sprintf("MX %s has no A or AAAA record", host),
			Detail:  "Senders skip an exchanger they cannot resolve; if every exchanger is like this, mail bounces.",
			Fix:     fmt.Sprintf("Add an A (and AAAA) record for %s, or remove the MX record.", host),
			Ref:     "RFC 5321 §5.1"})
	}
	var ips []string
	for _, a := range h.Addresses {
		ips = append(ips, fmt.Sprintf("%s (TTL %ds)", a.IP, a.TTL))
	}
	if h.CNAME == "" {
		fs = append(fs, Finding{Check: "mx.host", Status: StatusPass,
			Summary: fmt.Sprintf("MX %s has %d address%s", host, len(h.Addresses), pluralES(len(h.Addresses))),
			Detail:  strings.Join(ips, "\n"),
			Ref:     "RFC 5321 §5.1"})
	}
	return fs
}

// implicitMX handles a domain without MX records: RFC 5321 §5.1 says to
// treat the domain itself as the only exchanger, preference 0.
func implicitMX(ctx context.Context, r Resolver, res *MXResult, validated string) *MXResult {
	h := MXHost{Host: res.Domain, Addresses: []MXAddress{}}
	fs := resolveMXHost(ctx, r, &h)
	if len(h.Addresses) == 0 {
		if h.Error != "" && h.Error != "no address" {
			res.Err = errors.New(h.Error)
			res.Findings = fs
			return res
		}
		res.Findings = []Finding{{Check: "mx.records", Status: StatusFail,
			Summary: res.Domain + " has no MX record and no address: it cannot receive mail",
			Detail:  "Answer from " + res.Resolver + ", " + validated + ".",
			Fix:     "Add an MX record pointing at your mail server; if the domain sends no mail and takes none, publish a null MX (MX 0 .).",
			Ref:     "RFC 5321 §5.1; RFC 7505"}}
		return res
	}
	res.Implicit = true
	res.Hosts = []MXHost{h}
	var ips []string
	for _, a := range h.Addresses {
		ips = append(ips, a.IP.String())
	}
	res.Findings = []Finding{{Check: "mx.records", Status: StatusInfo,
		Summary: fmt.Sprintf("no MX record: mail goes to %s itself (implicit MX)", res.Domain),
		Detail:  fmt.Sprintf("Senders fall back to the domain's own address: %s.\nAnswer from %s, %s.", strings.Join(ips, ", "), res.Resolver, validated),
		Fix:     "Publish an explicit MX record; if the domain takes no mail, publish a null MX (MX 0 .) instead.",
		Ref:     "RFC 5321 §5.1"}}
	return res
}

func checkMX(ctx context.Context, e *env) []Finding {
	m, fs := e.waitMX(ctx, "mx.records")
	if m == nil {
		return fs
	}
	return m.Findings
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}
