package diag

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// TLS-RPT (RFC 8460): a TXT record at _smtp._tls.DOMAIN says where senders
// report TLS failures (for MTA-STS and DANE).

// TLSRPTRecord is a parsed TLS-RPT record (RFC 8460 §3).
type TLSRPTRecord struct {
	RUA        []string // mailto: or https: URIs
	Extensions []string
}

// IsTLSRPTRecord reports whether a TXT string starts with v=TLSRPTv1.
func IsTLSRPTRecord(txt string) bool {
	return strings.HasPrefix(strings.TrimLeft(txt, " \t"), "v=TLSRPTv1")
}

// ParseTLSRPT parses "v=TLSRPTv1; rua=URI[,URI]".
func ParseTLSRPT(txt string) (*TLSRPTRecord, error) {
	rec := &TLSRPTRecord{}
	seenRUA := false
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not field=value", part)
		}
		name, val = strings.Trim(name, " \t"), strings.Trim(val, " \t")
		switch {
		case i == 0:
			if name != "v" || val != "TLSRPTv1" {
				return nil, errors.New(`the record must start with "v=TLSRPTv1"`)
			}
		case name == "rua":
			if seenRUA {
				return nil, errors.New(`"rua" appears twice`)
			}
			seenRUA = true
			for _, u := range strings.Split(val, ",") {
				u = strings.Trim(u, " \t")
				p, err := url.Parse(u)
				if err != nil {
					return nil, fmt.Errorf("rua: %q is not a URI", u)
				}
				switch strings.ToLower(p.Scheme) {
				case "mailto":
					a, _ := url.PathUnescape(p.Opaque)
					at := strings.LastIndexByte(a, '@')
					if at <= 0 || !validDomain(a[at+1:]) {
						return nil, fmt.Errorf("rua: %q is not a valid mailto: address", u)
					}
				case "https":
					if p.Host == "" {
						return nil, fmt.Errorf("rua: %q has no host", u)
					}
				default:
					return nil, fmt.Errorf("rua: %q: only mailto: and https: are allowed", u)
				}
				rec.RUA = append(rec.RUA, u)
			}
		default:
			rec.Extensions = append(rec.Extensions, part)
		}
	}
	if len(rec.RUA) == 0 {
		return nil, errors.New(`the required field "rua" is missing`)
	}
	return rec, nil
}

func checkTLSRPT(ctx context.Context, e *env) []Finding {
	name := "_smtp._tls." + e.target.Domain
	txts, _, err := LookupTXT(ctx, e.r, name)
	if err != nil {
		return []Finding{dnsErrorFinding("tls-rpt.record", name, err)}
	}
	var recs []string
	for _, t := range txts {
		if IsTLSRPTRecord(t) {
			recs = append(recs, t)
		}
	}
	switch {
	case len(recs) == 0:
		return []Finding{{Check: "tls-rpt.record", Status: StatusInfo,
			Summary: "no TLS-RPT record: you hear nothing when senders fail to set up TLS",
			Fix:     "Publish TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@" + e.target.Domain + "\" at " + name + ".",
			Ref:     "RFC 8460 §3"}}
	case len(recs) > 1:
		return []Finding{{Check: "tls-rpt.record", Status: StatusFail,
			Summary: fmt.Sprintf("%d TLS-RPT records at %s: senders ignore them", len(recs), name),
			Detail:  strings.Join(recs, "\n"), Fix: "Keep exactly one.", Ref: "RFC 8460 §3"}}
	}
	rec, err := ParseTLSRPT(recs[0])
	if err != nil {
		return []Finding{{Check: "tls-rpt.record", Status: StatusFail,
			Summary: "the TLS-RPT record at " + name + " is invalid",
			Detail:  recs[0] + "\n" + err.Error(),
			Fix:     "Publish \"v=TLSRPTv1; rua=mailto:ADDRESS\".",
			Ref:     "RFC 8460 §3"}}
	}
	return []Finding{{Check: "tls-rpt.record", Status: StatusPass,
		Summary: "TLS failure reports go to " + strings.Join(rec.RUA, ", "), Ref: "RFC 8460 §3"}}
}
