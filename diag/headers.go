package diag

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// HeaderReport is what AnalyzeHeaders found in a message's header: the
// Received chain (RFC 5321 §4.4), the Authentication-Results (RFC 8601),
// the ARC chain (RFC 8617) and every DKIM signature (RFC 6376).
type HeaderReport struct {
	ReceivedCount int           `json:"received_count"`
	Hops          []Hop         `json:"hops"`
	BiggestDelay  *Hop          `json:"biggest_delay,omitempty"` // nil when no hop took a measurable time
	AuthResults   []AuthResults `json:"authentication_results"`
	ARC           ARCResult     `json:"arc"`
	DKIM          []DKIMCheck   `json:"dkim"`
	Warnings      []string      `json:"warnings"`
	Summary       string        `json:"summary"`
	// NetworkFailed: every DNS lookup failed (the verdicts are not real).
	NetworkFailed bool `json:"network_failed,omitempty"`
	// ParseError says why the input is no message header (empty, or its
	// first line is no header field); nothing else is then reported.
	ParseError string `json:"parse_error,omitempty"`
}

// DKIMCheck is the verification of one DKIM-Signature.
type DKIMCheck struct {
	Domain   string `json:"d"`
	Selector string `json:"s"`
	Result   string `json:"result"` // pass, fail, permerror, temperror
	Reason   string `json:"reason"`
}

// HeadersOptions configures AnalyzeHeaders.
type HeadersOptions struct {
	// LookupTXT resolves DKIM keys; nil means no DNS: signatures are
	// reported with result "temperror" and reason "not checked".
	LookupTXT func(name string) ([]string, error)
}

// HeadersMaxBytes caps the message read by the headers command.
const HeadersMaxBytes = 10 << 20

// maxSkew is how far back in time a later hop may appear before it is
// called clock skew rather than noise.
const maxSkew = 0 * time.Second

// AnalyzeHeaders reads a raw message (header, and the body for DKIM).
func AnalyzeHeaders(raw []byte, opt HeadersOptions) *HeaderReport {
	raw = stripMboxFrom(raw)
	rep := &HeaderReport{Hops: []Hop{}, AuthResults: []AuthResults{}, DKIM: []DKIMCheck{}, Warnings: []string{}}
	fields, _ := splitHeaderFields(raw)
	if why := headerParseError(raw, fields); why != "" {
		rep.ParseError = why
		rep.Summary = "This does not parse as a message header: " + why + "."
		return rep
	}
	if n := badFieldLines(fields); n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d line(s) of the header are not header fields (Name: value, RFC 5322 §2.2) and were ignored", n))
	}

	// Received: newest first in the header; report oldest first.
	var received []string
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "received":
			received = append(received, unfold(fieldValue(f.raw)))
		case "authentication-results":
			rep.AuthResults = append(rep.AuthResults, ParseAuthResults(unfold(fieldValue(f.raw))))
		}
	}
	rep.ReceivedCount = len(received)
	var prev *time.Time
	var biggest int64 = -1
	for i := len(received) - 1; i >= 0; i-- {
		h, ok := ParseReceived(received[i])
		h.N = len(received) - i
		if !ok {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("hop %d: the date of the Received header is missing or unparseable; no delay computed", h.N))
		}
		if ok && prev != nil {
			d := int64(h.Time.Sub(*prev) / time.Second)
			if d < -int64(maxSkew/time.Second) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("hop %d: its time is %ds before hop %d's: a server clock is wrong (clock skew); no delay computed", h.N, -d, h.N-1))
			} else {
				h.DelayS = &d
				if d > biggest {
					biggest = d
				}
			}
		}
		if ok {
			prev = h.Time
		} else {
			prev = nil
		}
		rep.Hops = append(rep.Hops, h)
	}
	for i := range rep.Hops {
		// Received dates have one-second resolution: 0 s is no delay.
		if rep.Hops[i].DelayS != nil && *rep.Hops[i].DelayS == biggest && biggest > 0 {
			b := rep.Hops[i]
			rep.BiggestDelay = &b
			break
		}
	}

	lookup := opt.LookupTXT
	rep.ARC = ARCResult{Verdict: "none"}
	if lookup != nil {
		rep.ARC = VerifyARC(raw, lookup)
	} else if a := VerifyARC(raw, func(string) ([]string, error) { return nil, fmt.Errorf("DNS not used") }); a.Sets > 0 {
		rep.ARC = ARCResult{Sets: a.Sets, Verdict: "none", Reason: "not verified: DNS was not used"}
	}
	rep.DKIM = verifyDKIM(raw, fields, lookup)
	rep.Summary = summarizeHeaders(rep)
	return rep
}

// headerParseError says why raw is no message header, or "" when it is
// one: a header starts with a field "Name: value" (RFC 5322 §2.2).
func headerParseError(raw []byte, fields []arcField) string {
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return "the input is empty"
	case len(fields) == 0:
		return "it starts with an empty line, so it has no header fields"
	case !validFieldName(fields[0].name):
		return "its first line is not a header field (Name: value, RFC 5322 §2.2)"
	}
	return ""
}

// validFieldName: printable US-ASCII except the colon (RFC 5322 §3.6.8).
func validFieldName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < 33 || n[i] > 126 || n[i] == ':' {
			return false
		}
	}
	return true
}

func badFieldLines(fields []arcField) int {
	n := 0
	for _, f := range fields {
		if !validFieldName(f.name) {
			n++
		}
	}
	return n
}

func unfold(v string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(strings.NewReplacer("\r\n", " ", "\n", " ").Replace(v)), " "))
}

func verifyDKIM(raw []byte, fields []arcField, lookup func(string) ([]string, error)) []DKIMCheck {
	var checks []DKIMCheck
	for _, f := range fields {
		if strings.EqualFold(f.name, "DKIM-Signature") {
			t := parseTags(fieldValue(f.raw))
			checks = append(checks, DKIMCheck{Domain: t["d"], Selector: t["s"]})
		}
	}
	if len(checks) == 0 {
		return []DKIMCheck{}
	}
	if lookup == nil {
		for i := range checks {
			checks[i].Result, checks[i].Reason = "temperror", "DNS was not used"
		}
		return checks
	}
	if len(checks) > 20 {
		checks = checks[:20]
	}
	// Remember which key lookups failed on the network: those signatures
	// are temperror, not "no key".
	var mu sync.Mutex
	netFailed := map[string]error{}
	recording := func(name string) ([]string, error) {
		txt, err := lookup(name)
		var ne *headersNetError
		if errors.As(err, &ne) {
			mu.Lock()
			netFailed[strings.ToLower(strings.TrimSuffix(name, "."))] = err
			mu.Unlock()
		}
		return txt, err
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: recording, MaxVerifications: 20})
	if err != nil && err != dkim.ErrTooManySignatures {
		for i := range checks {
			checks[i].Result, checks[i].Reason = "permerror", "the message could not be read: "+err.Error()
		}
		return checks
	}
	for i := range checks {
		if i >= len(verifs) {
			break
		}
		v := verifs[i]
		if v.Domain != "" {
			checks[i].Domain = v.Domain
		}
		if v.Err == nil {
			checks[i].Result = "pass"
			continue
		}
		msg := v.Err.Error()
		if nerr, ok := netFailed[strings.ToLower(checks[i].Selector+"._domainkey."+checks[i].Domain)]; ok {
			checks[i].Result, checks[i].Reason = "temperror", "the key could not be fetched: "+nerr.Error()
			continue
		}
		switch {
		case dkim.IsTempFail(v.Err):
			checks[i].Result = "temperror"
		case dkim.IsPermFail(v.Err):
			checks[i].Result = "permerror"
		default:
			checks[i].Result = "fail"
		}
		checks[i].Reason = dkimReason(msg, checks[i])
	}
	return checks
}

// dkimReason puts go-msgauth's error in words a user can act on.
func dkimReason(msg string, c DKIMCheck) string {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "body hash did not verify"):
		return "the body was changed after signing (a footer added by a mailing list or a security gateway, or re-encoding)"
	case strings.Contains(low, "signature did not verify"):
		return "a signed header was changed after signing, or the published key does not match the signing key"
	case strings.Contains(low, "no key for signature"):
		return fmt.Sprintf("no DKIM key is published at %s._domainkey.%s (%s)", c.Selector, c.Domain, strings.TrimPrefix(msg, "dkim: "))
	case strings.Contains(low, "key revoked"):
		return "the key was revoked (empty p= in the DNS record)"
	case strings.Contains(low, "expired"):
		return "the signature has expired (x= is in the past)"
	}
	return strings.TrimPrefix(msg, "dkim: ")
}

// summarizeHeaders says in words what the evidence means, e.g. "SPF passed
// at Gmail, DKIM failed because the body was changed after signing, DMARC
// failed: this is why it landed in spam or was rejected."
func summarizeHeaders(rep *HeaderReport) string {
	var sentences []string
	// The newest Authentication-Results is the receiving provider's.
	if len(rep.AuthResults) > 0 {
		ar := rep.AuthResults[0]
		who := "the receiving server"
		if ar.AuthservID != "" {
			who = providerName(ar.AuthservID)
		} else {
			for _, r := range ar.Results {
				if r.Method == "compauth" {
					who = "Microsoft"
				}
			}
		}
		var parts []string
		dmarcFailed := false
		for _, m := range []string{"spf", "dkim", "arc", "dmarc"} {
			for _, r := range ar.Results {
				if r.Method != m {
					continue
				}
				s := strings.ToUpper(m) + " " + verbResult(r.Result)
				if len(parts) == 0 {
					s += " at " + who
				}
				if r.Result != "pass" {
					why := ""
					if m == "dkim" {
						why = dkimWhy(rep.DKIM, firstNonEmpty(r.Props["header.d"], r.Props["header.i"]))
					}
					// Otherwise the server's own words: reason= or the
					// comment after the result.
					if why != "" {
						s += " because " + why
					} else if d := firstNonEmpty(r.Reason, r.Comment); d != "" {
						s += " (" + d + ")"
					}
				}
				if m == "dmarc" && (r.Result == "fail" || r.Result == "permerror") {
					dmarcFailed = true
				}
				parts = append(parts, s)
				break
			}
		}
		if len(parts) > 0 {
			s := strings.Join(parts, ", ")
			if dmarcFailed {
				s += ": this is why it landed in spam or was rejected"
			}
			sentences = append(sentences, s+".")
		}
	}
	for _, d := range rep.DKIM {
		if d.Result == "pass" {
			sentences = append(sentences, fmt.Sprintf("The DKIM signature of %s verifies now.", d.Domain))
		} else if d.Result == "temperror" {
			sentences = append(sentences, fmt.Sprintf("The DKIM signature of %s could not be checked: %s.", d.Domain, d.Reason))
		} else {
			sentences = append(sentences, fmt.Sprintf("The DKIM signature of %s does not verify now: %s.", d.Domain, d.Reason))
		}
	}
	if rep.ARC.Sets > 0 {
		s := fmt.Sprintf("ARC chain of %d set(s): %s", rep.ARC.Sets, rep.ARC.Verdict)
		if rep.ARC.Reason != "" {
			s += " (" + rep.ARC.Reason + ")"
		}
		sentences = append(sentences, s+".")
	}
	if len(sentences) == 0 {
		sentences = append(sentences, "No Authentication-Results or signatures in this header.")
	}
	if rep.BiggestDelay != nil && *rep.BiggestDelay.DelayS > 0 {
		sentences = append(sentences, fmt.Sprintf("The longest delay was %s at hop %d (%s).", time.Duration(*rep.BiggestDelay.DelayS)*time.Second, rep.BiggestDelay.N, firstNonEmpty(hostOnly(rep.BiggestDelay.By), "unknown server")))
	}
	return strings.Join(sentences, " ")
}

func hostOnly(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func verbResult(r string) string {
	switch r {
	case "pass":
		return "passed"
	case "fail":
		return "failed"
	case "softfail":
		return "soft-failed"
	case "none":
		return "was not available"
	case "":
		return "had no result"
	}
	return "gave " + r
}

func dkimWhy(checks []DKIMCheck, d string) string {
	for _, c := range checks {
		if (c.Result == "fail" || c.Result == "permerror") && (d == "" || strings.EqualFold(c.Domain, d) || strings.HasSuffix(strings.ToLower(d), "@"+strings.ToLower(c.Domain))) {
			return c.Reason
		}
	}
	return ""
}

func providerName(authserv string) string {
	low := strings.ToLower(authserv)
	for _, p := range []struct{ k, n string }{{"google.com", "Gmail"}, {"gmail", "Gmail"}, {"outlook.com", "Microsoft"}, {"microsoft", "Microsoft"}, {"yahoo", "Yahoo"}, {"aol", "AOL"}, {"icloud", "iCloud"}, {"me.com", "iCloud"}, {"fastmail", "Fastmail"}, {"proton", "Proton"}} {
		if strings.Contains(low, p.k) {
			return p.n + " (" + authserv + ")"
		}
	}
	return authserv
}

// ReadLimited reads at most max bytes and says whether input was cut.
func ReadLimited(r io.Reader, max int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}
