package diag

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// DMARC (RFC 7489): the record at _dmarc.DOMAIN, with the fallback to the
// organizational domain (§6.6.3) found with the public suffix list.

// DMARCRecord is a parsed DMARC policy record (RFC 7489 §6.3).
type DMARCRecord struct {
	Policy          string // p: none, quarantine, reject
	SubdomainPolicy string // sp; "" means same as p
	Percent         int    // pct, 0-100; 100 when absent
	RUA, RUF        []DMARCURI
	ADKIM, ASPF     string   // "r" or "s"; "r" when absent
	FO              []string // fo: 0, 1, d, s; ["0"] when absent
	RF              string   // rf; "afrf" when absent
	RI              uint32   // ri; 86400 when absent
	Tags            []DMARCTag
}

// DMARCTag is one tag=value pair as written.
type DMARCTag struct{ Name, Value string }

// DMARCURI is a report destination: a URI with an optional size limit.
type DMARCURI struct {
	URI   string // e.g. mailto:reports@example.com
	Limit string // e.g. "10m", "" when absent
}

// Address returns the mailbox of a mailto: URI ("" otherwise).
func (u DMARCURI) Address() string {
	p, err := url.Parse(u.URI)
	if err != nil || !strings.EqualFold(p.Scheme, "mailto") {
		return ""
	}
	a, _ := url.PathUnescape(p.Opaque)
	return a
}

// IsDMARCRecord reports whether a TXT string starts with the DMARC version tag.
func IsDMARCRecord(txt string) bool {
	t := strings.TrimLeft(txt, " \t")
	if !strings.HasPrefix(t, "v") {
		return false
	}
	t = strings.TrimLeft(t[1:], " \t")
	if !strings.HasPrefix(t, "=") {
		return false
	}
	t = strings.TrimLeft(t[1:], " \t")
	return strings.HasPrefix(t, "DMARC1") && (len(t) == 6 || strings.ContainsRune("; \t", rune(t[6])))
}

// ParseDMARC parses a DMARC record strictly; every problem is an error.
func ParseDMARC(txt string) (*DMARCRecord, error) {
	if !IsDMARCRecord(txt) {
		return nil, errors.New(`a DMARC record must start with "v=DMARC1"`)
	}
	rec := &DMARCRecord{Percent: 100, ADKIM: "r", ASPF: "r", FO: []string{"0"}, RF: "afrf", RI: 86400}
	seen := map[string]bool{}
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not tag=value", part)
		}
		name = strings.ToLower(strings.Trim(name, " \t"))
		val = strings.Trim(val, " \t")
		if seen[name] {
			return nil, fmt.Errorf("tag %q appears twice", name)
		}
		seen[name] = true
		rec.Tags = append(rec.Tags, DMARCTag{name, val})
		lv := strings.ToLower(val)
		switch name {
		case "v":
			if i != 0 {
				return nil, errors.New(`"v" must be the first tag`)
			}
		case "p", "sp":
			if lv != "none" && lv != "quarantine" && lv != "reject" {
				return nil, fmt.Errorf("%s=%s: must be none, quarantine or reject", name, val)
			}
			if name == "p" {
				rec.Policy = lv
			} else {
				rec.SubdomainPolicy = lv
			}
		case "pct":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 100 {
				return nil, fmt.Errorf("pct=%s: must be a number from 0 to 100", val)
			}
			rec.Percent = n
		case "rua", "ruf":
			uris, err := parseDMARCURIs(val)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			if name == "rua" {
				rec.RUA = uris
			} else {
				rec.RUF = uris
			}
		case "adkim", "aspf":
			if lv != "r" && lv != "s" {
				return nil, fmt.Errorf("%s=%s: must be r (relaxed) or s (strict)", name, val)
			}
			if name == "adkim" {
				rec.ADKIM = lv
			} else {
				rec.ASPF = lv
			}
		case "fo":
			rec.FO = nil
			for _, o := range strings.Split(lv, ":") {
				o = strings.Trim(o, " \t")
				if o != "0" && o != "1" && o != "d" && o != "s" {
					return nil, fmt.Errorf("fo=%s: options are 0, 1, d and s separated by colons", val)
				}
				rec.FO = append(rec.FO, o)
			}
		case "rf":
			for _, f := range strings.Split(lv, ":") {
				if strings.Trim(f, " \t") != "afrf" {
					return nil, fmt.Errorf("rf=%s: the only format is afrf", val)
				}
			}
			rec.RF = lv
		case "ri":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("ri=%s: must be a number of seconds", val)
			}
			rec.RI = uint32(n)
		}
	}
	if rec.Policy == "" {
		return rec, errors.New(`the required tag "p" is missing`)
	}
	return rec, nil
}

// parseDMARCURIs parses a comma-separated list of URIs, each with an
// optional "!size" suffix (RFC 7489 §6.2).
func parseDMARCURIs(s string) ([]DMARCURI, error) {
	var out []DMARCURI
	for _, item := range strings.Split(s, ",") {
		item = strings.Trim(item, " \t")
		if item == "" {
			return nil, errors.New("empty URI in the list")
		}
		u := DMARCURI{URI: item}
		if i := strings.LastIndexByte(item, '!'); i >= 0 {
			u.URI, u.Limit = item[:i], item[i+1:]
			l := strings.TrimRight(strings.ToLower(u.Limit), "kmgt")
			if _, err := strconv.ParseUint(l, 10, 64); err != nil || len(strings.ToLower(u.Limit))-len(l) > 1 {
				return nil, fmt.Errorf("bad size limit in %q", item)
			}
		}
		p, err := url.Parse(u.URI)
		if err != nil || p.Scheme == "" {
			return nil, fmt.Errorf("%q is not a URI", u.URI)
		}
		if strings.EqualFold(p.Scheme, "mailto") {
			a := u.Address()
			at := strings.LastIndexByte(a, '@')
			if at <= 0 || at == len(a)-1 || !validDomain(a[at+1:]) {
				return nil, fmt.Errorf("%q is not a valid mailto: address", u.URI)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// OrgDomain returns the organizational domain of d (RFC 7489 §3.2): the
// public suffix plus one label.
func OrgDomain(d string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return o
}

// dmarcLookup finds the DMARC record for domain: at _dmarc.domain, else at
// _dmarc of the organizational domain. It returns the records found and
// where.
func dmarcLookup(ctx context.Context, r Resolver, domain string) (recs []string, at string, err error) {
	try := func(d string) ([]string, error) {
		txts, _, err := LookupTXT(ctx, r, "_dmarc."+d)
		var recs []string
		for _, t := range txts {
			if IsDMARCRecord(t) {
				recs = append(recs, t)
			}
		}
		return recs, err
	}
	recs, err = try(domain)
	if err != nil || len(recs) > 0 {
		return recs, domain, err
	}
	if org := OrgDomain(domain); org != domain {
		recs, err = try(org)
		return recs, org, err
	}
	return nil, domain, nil
}

func checkDMARC(ctx context.Context, e *env) []Finding {
	domain := e.target.Domain
	recs, at, err := dmarcLookup(ctx, e.r, domain)
	if err != nil {
		return []Finding{dnsErrorFinding("dmarc.record", "_dmarc."+at, err)}
	}
	switch {
	case len(recs) == 0:
		return []Finding{{Check: "dmarc.record", Status: StatusWarn,
			Summary: "no DMARC record at _dmarc." + domain,
			Detail:  "Without DMARC, receivers have no policy for mail that fails SPF and DKIM alignment, and you get no reports about who sends as " + domain + ". Large mailbox providers expect one from bulk senders.",
			Fix:     fmt.Sprintf("Publish a TXT record at _dmarc.%s: \"v=DMARC1; p=none; rua=mailto:dmarc-reports@%s\", then move to p=quarantine or p=reject.", domain, domain),
			Ref:     "RFC 7489 §6.1, §6.6.3"}}
	case len(recs) > 1:
		return []Finding{{Check: "dmarc.record", Status: StatusFail,
			Summary: fmt.Sprintf("%d DMARC records at _dmarc.%s: receivers ignore them all", len(recs), at),
			Detail:  strings.Join(recs, "\n"),
			Fix:     "Keep exactly one TXT record starting with v=DMARC1.",
			Ref:     "RFC 7489 §6.6.3"}}
	}
	rec, err := ParseDMARC(recs[0])
	if err != nil {
		return []Finding{{Check: "dmarc.record", Status: StatusFail,
			Summary: "the DMARC record at _dmarc." + at + " is invalid",
			Detail:  recs[0] + "\n" + err.Error(),
			Fix:     "Correct it; the smallest valid record is \"v=DMARC1; p=none\".",
			Ref:     "RFC 7489 §6.3, §6.4"}}
	}
	where := "_dmarc." + at
	f := Finding{Check: "dmarc.record", Status: StatusPass, Summary: "DMARC record at " + where + ": " + recs[0],
		Detail: explainDMARC(rec), Ref: "RFC 7489 §6.3"}
	if at != domain {
		f.Status = StatusInfo
		f.Summary = "no record at _dmarc." + domain + "; the organizational domain's applies: " + recs[0]
		f.Ref = "RFC 7489 §6.6.3"
	}
	fs := []Finding{f}

	// The policy that applies to this domain: sp when inherited from the organizational domain.
	policy, tag := rec.Policy, "p"
	if at != domain && rec.SubdomainPolicy != "" {
		policy, tag = rec.SubdomainPolicy, "sp"
	}
	switch {
	case policy == "none":
		fs = append(fs, Finding{Check: "dmarc.policy", Status: StatusWarn,
			Summary: tag + "=none: monitoring only, failing mail is still delivered",
			Fix:     "After checking the aggregate reports, move to p=quarantine and then p=reject.",
			Ref:     "RFC 7489 §6.3"})
	case rec.Percent < 100:
		fs = append(fs, Finding{Check: "dmarc.policy", Status: StatusWarn,
			Summary: fmt.Sprintf("%s=%s applies to only %d%% of failing mail (pct=%d)", tag, policy, rec.Percent, rec.Percent),
			Fix:     "Raise pct to 100 (or remove it) once the reports look clean.",
			Ref:     "RFC 7489 §6.3"})
	default:
		fs = append(fs, Finding{Check: "dmarc.policy", Status: StatusPass,
			Summary: fmt.Sprintf("%s=%s: receivers are asked to %s mail that fails DMARC", tag, policy, map[string]string{"quarantine": "quarantine", "reject": "reject"}[policy]),
			Ref:     "RFC 7489 §6.3"})
	}
	if at == domain && rec.SubdomainPolicy == "none" && rec.Policy != "none" {
		fs = append(fs, Finding{Check: "dmarc.policy", Status: StatusWarn,
			Summary: "sp=none leaves subdomains unprotected while p=" + rec.Policy,
			Fix:     "Remove sp (subdomains then inherit p) or set sp=" + rec.Policy + ".",
			Ref:     "RFC 7489 §6.3"})
	}

	if len(rec.RUA) == 0 {
		fs = append(fs, Finding{Check: "dmarc.reports", Status: StatusInfo,
			Summary: "no rua: you receive no aggregate reports",
			Fix:     "Add rua=mailto:dmarc-reports@" + at + " to learn who sends mail as your domain.",
			Ref:     "RFC 7489 §7.2"})
	}
	type dest struct {
		tag string
		u   DMARCURI
	}
	var dests []dest
	for _, u := range rec.RUA {
		dests = append(dests, dest{"rua", u})
	}
	for _, u := range rec.RUF {
		dests = append(dests, dest{"ruf", u})
	}
	out := make([]Finding, len(dests))
	parallel(len(dests), func(i int) {
		out[i] = checkReportDest(ctx, e.r, at, dests[i].tag, dests[i].u)
	})
	return append(fs, out...)
}

// checkReportDest checks one report URI; a mailbox in another organizational
// domain must authorize the reports with a record at
// DOMAIN._report._dmarc.DEST (RFC 7489 §7.1).
func checkReportDest(ctx context.Context, r Resolver, domain, tag string, u DMARCURI) Finding {
	a := u.Address()
	if a == "" {
		return Finding{Check: "dmarc.reports", Status: StatusWarn,
			Summary: fmt.Sprintf("%s destination %s is not a mailto: URI", tag, u.URI),
			Detail:  "Reports are only defined for mailto: destinations; most receivers ignore others.",
			Ref:     "RFC 7489 §6.2"}
	}
	destDomain := strings.ToLower(a[strings.LastIndexByte(a, '@')+1:])
	if OrgDomain(destDomain) == OrgDomain(domain) {
		return Finding{Check: "dmarc.reports", Status: StatusPass,
			Summary: fmt.Sprintf("%s reports go to %s", tag, a), Ref: "RFC 7489 §7.1"}
	}
	name := domain + "._report._dmarc." + destDomain
	txts, _, err := LookupTXT(ctx, r, name)
	if err != nil {
		return dnsErrorFinding("dmarc.reports", name, err)
	}
	for _, t := range txts {
		if IsDMARCRecord(t) {
			return Finding{Check: "dmarc.reports", Status: StatusPass,
				Summary: fmt.Sprintf("%s reports go to %s, which authorizes them at %s", tag, a, name),
				Ref:     "RFC 7489 §7.1"}
		}
	}
	return Finding{Check: "dmarc.reports", Status: StatusWarn,
		Summary: fmt.Sprintf("%s reports to %s are not authorized by %s", tag, a, destDomain),
		Detail:  fmt.Sprintf("%s is outside %s, so receivers first look for a TXT record at %s and, finding none, send no reports there.", destDomain, domain, name),
		Fix:     fmt.Sprintf("Ask the owner of %s to publish TXT \"v=DMARC1\" at %s.", destDomain, name),
		Ref:     "RFC 7489 §7.1"}
}

// explainDMARC describes every tag.
func explainDMARC(rec *DMARCRecord) string {
	var lines []string
	for _, t := range rec.Tags {
		var what string
		switch t.Name {
		case "v":
			what = "version: DMARC1"
		case "p":
			what = "policy for the domain: " + map[string]string{"none": "deliver and report only", "quarantine": "treat failing mail as suspicious (spam folder)", "reject": "reject failing mail in the SMTP session"}[rec.Policy]
		case "sp":
			what = "policy for subdomains: " + rec.SubdomainPolicy
		case "pct":
			what = fmt.Sprintf("apply the policy to %d%% of failing mail", rec.Percent)
		case "rua":
			what = "where aggregate (daily summary) reports go"
		case "ruf":
			what = "where failure (per-message forensic) reports go"
		case "adkim":
			what = "DKIM alignment: " + map[string]string{"r": "relaxed (same organizational domain)", "s": "strict (exact domain)"}[rec.ADKIM]
		case "aspf":
			what = "SPF alignment: " + map[string]string{"r": "relaxed (same organizational domain)", "s": "strict (exact domain)"}[rec.ASPF]
		case "fo":
			what = "failure reports when: " + strings.Join(foMeaning(rec.FO), "; ")
		case "rf":
			what = "failure report format"
		case "ri":
			what = fmt.Sprintf("aggregate report interval: %d s", rec.RI)
		default:
			what = "unknown tag, ignored"
		}
		lines = append(lines, fmt.Sprintf("%-24s %s", t.Name+"="+t.Value, what))
	}
	return strings.Join(lines, "\n")
}

func foMeaning(fo []string) []string {
	var out []string
	for _, o := range fo {
		out = append(out, map[string]string{
			"0": "all mechanisms fail to align",
			"1": "any mechanism fails to align",
			"d": "DKIM fails",
			"s": "SPF fails",
		}[o])
	}
	return out
}
