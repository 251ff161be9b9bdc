package diag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MTA-STS (RFC 8461): a TXT record at _mta-sts.DOMAIN announces a policy
// served over HTTPS at https://mta-sts.DOMAIN/.well-known/mta-sts.txt that
// lists the MX hosts senders may deliver to with verified TLS.

// MTASTSRecord is the parsed _mta-sts TXT record (RFC 8461 §3.1).
type MTASTSRecord struct {
	ID         string
	Extensions []string
}

// IsMTASTSRecord reports whether a TXT string starts with v=STSv1.
func IsMTASTSRecord(txt string) bool {
	return strings.HasPrefix(strings.TrimLeft(txt, " \t"), "v=STSv1")
}

// ParseMTASTSRecord parses "v=STSv1; id=...;".
func ParseMTASTSRecord(txt string) (*MTASTSRecord, error) {
	rec := &MTASTSRecord{}
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not field=value", part)
		}
		switch {
		case i == 0:
			if name != "v" || val != "STSv1" {
				return nil, errors.New(`the record must start with "v=STSv1"`)
			}
		case name == "id":
			if rec.ID != "" {
				return nil, errors.New(`"id" appears twice`)
			}
			if val == "" || len(val) > 32 || !isAlnum(val) {
				return nil, fmt.Errorf("id=%s: must be 1 to 32 letters and digits", val)
			}
			rec.ID = val
		default:
			rec.Extensions = append(rec.Extensions, part)
		}
	}
	if rec.ID == "" {
		return nil, errors.New(`the required field "id" is missing`)
	}
	return rec, nil
}

func isAlnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// MTASTSPolicy is the policy file (RFC 8461 §3.2).
type MTASTSPolicy struct {
	Version string
	Mode    string // enforce, testing, none
	MaxAge  int64  // seconds
	MX      []string
}

// ParseMTASTSPolicy parses the policy body: "key: value" lines ending in
// CRLF or LF.
func ParseMTASTSPolicy(body string) (*MTASTSPolicy, error) {
	p := &MTASTSPolicy{MaxAge: -1}
	for n, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not key: value", n+1, abbreviate(line, 60))
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		switch key {
		case "version":
			if p.Version != "" {
				return nil, errors.New(`"version" appears twice`)
			}
			if val != "STSv1" {
				return nil, fmt.Errorf("version: %s: must be STSv1", val)
			}
			p.Version = val
		case "mode":
			if p.Mode != "" {
				return nil, errors.New(`"mode" appears twice`)
			}
			if val != "enforce" && val != "testing" && val != "none" {
				return nil, fmt.Errorf("mode: %s: must be enforce, testing or none", val)
			}
			p.Mode = val
		case "max_age":
			if p.MaxAge >= 0 {
				return nil, errors.New(`"max_age" appears twice`)
			}
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil || v < 0 || len(val) > 10 {
				return nil, fmt.Errorf("max_age: %s: must be a number of seconds", val)
			}
			if v > 31557600 {
				return nil, fmt.Errorf("max_age: %d is more than the maximum 31557600 (one year)", v)
			}
			p.MaxAge = v
		case "mx":
			pat := strings.ToLower(strings.TrimSuffix(val, "."))
			host := strings.TrimPrefix(pat, "*.")
			if !validDomain(host) || strings.Contains(host, "*") {
				return nil, fmt.Errorf("mx: %s: not a host name or *.domain pattern", val)
			}
			p.MX = append(p.MX, pat)
		}
	}
	switch {
	case p.Version == "":
		return nil, errors.New(`the required field "version" is missing`)
	case p.Mode == "":
		return nil, errors.New(`the required field "mode" is missing`)
	case p.MaxAge < 0:
		return nil, errors.New(`the required field "max_age" is missing`)
	case len(p.MX) == 0 && p.Mode != "none":
		return nil, errors.New(`no "mx" field: with mode ` + p.Mode + ` at least one is required`)
	}
	return p, nil
}

// Matches reports whether host matches one of the policy's mx patterns; a
// wildcard covers exactly one leftmost label (RFC 8461 §4.1).
func (p *MTASTSPolicy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if strings.HasPrefix(pat, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i+1:] == pat[2:] {
				return true
			}
		} else if host == pat {
			return true
		}
	}
	return false
}

// MTASTSPolicyURL is where the policy of domain lives (RFC 8461 §3.3).
func MTASTSPolicyURL(domain string) string {
	return "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
}

// maxPolicySize bounds the policy body we read; real ones are a few lines.
const maxPolicySize = 64 << 10

// FetchMTASTSPolicy fetches the policy over HTTPS: no redirects, status 200,
// text/plain (RFC 8461 §3.3).
func FetchMTASTSPolicy(ctx context.Context, client *http.Client, url string) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("the policy URL redirects; redirects must not be followed (RFC 8461 §3.3)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP status %s", resp.Status)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return "", fmt.Errorf("Content-Type is %q, must be text/plain", resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicySize+1))
	if err != nil {
		return "", err
	}
	if len(body) > maxPolicySize {
		return "", fmt.Errorf("policy larger than %d bytes", maxPolicySize)
	}
	return string(body), nil
}

func checkMTASTS(ctx context.Context, e *env) []Finding {
	domain := e.target.Domain
	name := "_mta-sts." + domain
	txts, _, err := LookupTXT(ctx, e.r, name)
	if err != nil {
		return []Finding{dnsErrorFinding("mta-sts.record", name, err)}
	}
	var recs []string
	for _, t := range txts {
		if IsMTASTSRecord(t) {
			recs = append(recs, t)
		}
	}
	switch {
	case len(recs) == 0:
		return []Finding{{Check: "mta-sts.record", Status: StatusInfo,
			Summary: "no MTA-STS record: senders may deliver without verified TLS",
			Fix:     "To require TLS from senders, publish a policy at " + MTASTSPolicyURL(domain) + " and TXT \"v=STSv1; id=YYYYMMDD01\" at " + name + ".",
			Ref:     "RFC 8461 §3"}}
	case len(recs) > 1:
		return []Finding{{Check: "mta-sts.record", Status: StatusFail,
			Summary: fmt.Sprintf("%d MTA-STS records at %s: senders ignore them", len(recs), name),
			Detail:  strings.Join(recs, "\n"), Fix: "Keep exactly one.", Ref: "RFC 8461 §3.1"}}
	}
	rec, err := ParseMTASTSRecord(recs[0])
	if err != nil {
		return []Finding{{Check: "mta-sts.record", Status: StatusFail,
			Summary: "the MTA-STS record at " + name + " is invalid",
			Detail:  recs[0] + "\n" + err.Error(),
			Fix:     "Publish \"v=STSv1; id=YYYYMMDD01\" and change id whenever the policy changes.",
			Ref:     "RFC 8461 §3.1"}}
	}
	fs := []Finding{{Check: "mta-sts.record", Status: StatusPass,
		Summary: "MTA-STS record at " + name + ", policy id " + rec.ID, Ref: "RFC 8461 §3.1"}}

	url := MTASTSPolicyURL(domain)
	if e.opts.MTASTSURL != nil {
		url = e.opts.MTASTSURL(domain)
	}
	body, err := FetchMTASTSPolicy(ctx, e.opts.HTTPClient, url)
	if err != nil {
		return append(fs, Finding{Check: "mta-sts.policy", Status: StatusFail,
			Summary: "the MTA-STS record is published but the policy cannot be fetched",
			Detail:  url + ": " + err.Error(),
			Fix:     "Serve the policy as text/plain over HTTPS at " + url + " with a certificate valid for mta-sts." + domain + ", or remove the TXT record.",
			Ref:     "RFC 8461 §3.3"})
	}
	pol, err := ParseMTASTSPolicy(body)
	if err != nil {
		return append(fs, Finding{Check: "mta-sts.policy", Status: StatusFail,
			Summary: "the MTA-STS policy is invalid",
			Detail:  url + ": " + err.Error(),
			Fix:     "A policy is: version: STSv1, mode: enforce, mx: your.mx.host, max_age: 604800 (one per line).",
			Ref:     "RFC 8461 §3.2"})
	}
	f := Finding{Check: "mta-sts.policy", Status: StatusPass,
		Summary: fmt.Sprintf("policy mode %s, max_age %d s, mx %s", pol.Mode, pol.MaxAge, strings.Join(pol.MX, ", ")),
		Detail:  url, Ref: "RFC 8461 §3.2"}
	switch {
	case pol.Mode == "none":
		f.Status = StatusWarn
		f.Summary = "policy mode none: MTA-STS is switched off"
		f.Fix = "Use mode: testing, then mode: enforce."
	case pol.Mode == "testing":
		f.Status = StatusInfo
		f.Summary += " (testing: failures are only reported)"
	}
	fs = append(fs, f)
	if pol.MaxAge < 86400 && pol.Mode != "none" {
		fs = append(fs, Finding{Check: "mta-sts.policy", Status: StatusWarn,
			Summary: fmt.Sprintf("max_age %d s is short: a downgrade attack between refreshes goes undetected", pol.MaxAge),
			Fix:     "Use at least 86400 (a day); weeks are common (604800).",
			Ref:     "RFC 8461 §3.2"})
	}
	if pol.Mode == "none" {
		return fs
	}
	m, wf := e.waitMX(ctx, "mta-sts.mx")
	if m == nil {
		return append(fs, wf...)
	}
	if nc := m.notChecked("mta-sts.mx", "The policy's mx lines against the MX hosts"); nc != nil {
		return append(fs, nc...)
	}
	var bad []string
	for _, h := range m.Hosts {
		if !pol.Matches(h.Host) {
			bad = append(bad, h.Host)
		}
	}
	switch {
	case len(m.Hosts) == 0:
	case len(bad) > 0:
		st := StatusFail
		if pol.Mode == "testing" {
			st = StatusWarn
		}
		fs = append(fs, Finding{Check: "mta-sts.mx", Status: st,
			Summary: "MX hosts not covered by the MTA-STS policy: " + strings.Join(bad, ", "),
			Detail:  "In enforce mode, senders refuse to deliver to an MX that matches no mx: line.",
			Fix:     "Add mx: lines for them to the policy (and change the id in the TXT record).",
			Ref:     "RFC 8461 §4.1"})
	default:
		fs = append(fs, Finding{Check: "mta-sts.mx", Status: StatusPass,
			Summary: "every MX host matches the policy", Ref: "RFC 8461 §4.1"})
	}
	return fs
}
