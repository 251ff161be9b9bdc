package diag

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// DANE for SMTP (RFC 7672): TLSA records at _25._tcp.MX pin the MX hosts'
// certificates. They count only when the resolver validated them with DNSSEC.
// Matching them against the live certificate is the server probes' job.

// LookupTLSA returns the TLSA records for host and port with the answer
// (whose AD bit says whether they were DNSSEC-validated).
func LookupTLSA(ctx context.Context, r Resolver, host string, port int) ([]*dns.TLSA, *Answer, error) {
	rrs, ans, err := lookup(ctx, r, fmt.Sprintf("_%d._tcp.%s", port, trimDot(host)), dns.TypeTLSA)
	var out []*dns.TLSA
	for _, rr := range rrs {
		out = append(out, rr.(*dns.TLSA))
	}
	return out, ans, err
}

// ExplainTLSA describes one TLSA record in words.
func ExplainTLSA(t *dns.TLSA) string {
	usage := map[uint8]string{
		0: "PKIX-TA (CA constraint, also needs a public CA chain)",
		1: "PKIX-EE (service certificate, also needs a public CA chain)",
		2: "DANE-TA (trust anchor: a CA you run)",
		3: "DANE-EE (the server's own certificate or key)",
	}[t.Usage]
	sel := map[uint8]string{0: "full certificate", 1: "public key (SPKI)"}[t.Selector]
	mt := map[uint8]string{0: "exact contents", 1: "SHA-256", 2: "SHA-512"}[t.MatchingType]
	for _, s := range []*string{&usage, &sel, &mt} {
		if *s == "" {
			*s = "unknown"
		}
	}
	return fmt.Sprintf("%d %d %d %s: usage %s; selector %s; matching %s",
		t.Usage, t.Selector, t.MatchingType, abbreviate(t.Certificate, 16), usage, sel, mt)
}

func checkDANE(ctx context.Context, e *env) []Finding {
	m, fs := e.waitMX(ctx, "dane.tlsa")
	if m == nil {
		return fs
	}
	if nc := m.notChecked("dane.tlsa", "DANE (TLSA records of the MX hosts)"); nc != nil {
		return nc
	}
	var hosts []string
	for _, h := range m.Hosts {
		if h.Host != "." && h.Error != "IP literal" {
			hosts = append(hosts, h.Host)
		}
	}
	res := make([][]Finding, len(hosts))
	parallel(len(hosts), func(i int) {
		res[i] = checkTLSAHost(ctx, e.r, hosts[i])
	})
	for _, r := range res {
		fs = append(fs, r...)
	}
	if len(fs) == 0 && len(hosts) > 0 {
		fs = append(fs, Finding{Check: "dane.tlsa", Status: StatusInfo,
			Summary: "no TLSA records: the MX hosts do not use DANE",
			Detail:  "Looked at _25._tcp." + strings.Join(hosts, ", _25._tcp.") + ".",
			Fix:     "With DNSSEC on the MX host's zone, publish \"3 1 1 <SHA-256 of the server's public key>\" at _25._tcp.MXHOST.",
			Ref:     "RFC 7672 §3"})
	}
	return fs
}

// checkTLSAHost reports on the TLSA records of one MX host; none gives no finding.
func checkTLSAHost(ctx context.Context, r Resolver, host string) []Finding {
	name := "_25._tcp." + host
	recs, ans, err := LookupTLSA(ctx, r, host, 25)
	if err != nil {
		return []Finding{dnsErrorFinding("dane.tlsa", name+" TLSA", err)}
	}
	if len(recs) == 0 {
		return nil
	}
	var lines []string
	usable := 0
	pkix := false
	for _, t := range recs {
		lines = append(lines, ExplainTLSA(t))
		if t.Usage <= 3 && t.Selector <= 1 && t.MatchingType <= 2 {
			usable++
		}
		if t.Usage <= 1 {
			pkix = true
		}
	}
	detail := strings.Join(lines, "\n")
	f := Finding{Check: "dane.tlsa", Status: StatusPass,
		Summary: fmt.Sprintf("%s: %d TLSA record%s, DNSSEC-validated", name, len(recs), plural(len(recs))),
		Detail:  detail + "\nThe server probes match them against the certificate the server presents.",
		Ref:     "RFC 7672 §3.1"}
	var fs []Finding
	switch {
	case usable == 0:
		f.Status = StatusFail
		f.Summary = name + ": no usable TLSA record (unknown usage, selector or matching type)"
		f.Fix = "Publish \"3 1 1 <SHA-256 of the public key>\" records."
	case !ans.AD:
		f.Status = StatusWarn
		f.Summary = fmt.Sprintf("%s: %d TLSA record%s, but not DNSSEC-validated", name, len(recs), plural(len(recs)))
		f.Detail = detail + "\nThe resolver did not set the AD bit: either the zone is unsigned (senders then ignore TLSA) or the resolver does not validate (try a validating one with --resolver)."
		f.Fix = "Sign the zone of " + host + " with DNSSEC, or remove the TLSA records."
		f.Ref = "RFC 7672 §2.2"
	}
	fs = append(fs, f)
	if pkix {
		fs = append(fs, Finding{Check: "dane.tlsa", Status: StatusWarn,
			Summary: name + ": usages 0 and 1 (PKIX-TA/PKIX-EE) should not be used for SMTP",
			Detail:  "SMTP senders treat them as unusable; use DANE-EE (3) or DANE-TA (2).",
			Fix:     "Replace them with \"3 1 1\" records.",
			Ref:     "RFC 7672 §3.1.3"})
	}
	return fs
}
