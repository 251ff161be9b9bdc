package diag

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Feedback reports (ARF, RFC 5965) carry a Feedback-Type (RFC 5965 §3.1;
// values registered per §7.3): abuse, fraud, virus and other (RFC 5965),
// not-spam (RFC 6430) and auth-failure (RFC 6591). Only abuse is a
// complaint; an auth-failure report tells the domain owner that the
// receiver's DKIM, SPF or DMARC check failed, and its fix is the sender's
// authentication, not the recipient list.

// feedbackFieldName spells the report fields as RFC 5965 and RFC 6591 do.
var feedbackFieldName = map[string]string{
	"auth-failure": "Auth-Failure", "reported-domain": "Reported-Domain", "dkim-domain": "DKIM-Domain",
	"dkim-selector": "DKIM-Selector", "dkim-identity": "DKIM-Identity", "spf-dns": "SPF-DNS",
	"delivery-result": "Delivery-Result", "user-agent": "User-Agent",
}

// feedbackInfo is the explanation and fix of one feedback type.
var feedbackInfo = map[string]struct{ explanation, fix string }{
	"abuse": {
		"This is a feedback-loop (ARF) report: a recipient marked a message as spam (Feedback-Type: abuse, RFC 5965 §7.3).",
		"Stop mailing the person who complained (unsubscribe them) and check why they did not expect the mail."},
	"fraud": {
		"This is a feedback (ARF) report of fraud or phishing (Feedback-Type: fraud, RFC 5965 §7.3): the reporter believes the message impersonates someone to deceive the recipient.",
		"If you did not send it, someone forges your domain: publish a DMARC policy (p=quarantine or p=reject) and check your accounts and servers for compromise. If you did, make it unmistakably yours: links to your own domain, SPF, DKIM and DMARC passing."},
	"virus": {
		"This is a feedback (ARF) report that the message carried a virus or other malware (Feedback-Type: virus, RFC 5965 §7.3).",
		"Scan the sending computer and account for malware (a compromised account often sends it), change its password, and stop sending the infected attachment."},
	"not-spam": {
		"This is a feedback (ARF) report that a recipient marked a message as NOT spam (Feedback-Type: not-spam, RFC 6430): the receiver had filtered it as spam.",
		"Nothing to fix for this recipient, but the receiver files your mail as spam: check that SPF, DKIM and DMARC pass (`postlab headers` on a copy) and your sending reputation."},
	"other": {
		"This is a feedback (ARF) report of type other (RFC 5965 §7.3): it fits none of the registered types.",
		"Read the report's human-readable part for what the reporter means."},
	"opt-out": {
		"This is an unsubscribe request: the recipient asks to be removed from your mailing list.",
		"Remove the recipient from the list now and send them nothing more."},
}

// feedbackExplain returns the explanation and fix of a feedback report of
// type ft (lower case) with the fields of its message/feedback-report part.
func feedbackExplain(ft string, fields []dsnField, m *bounceMsg) (string, string) {
	if ft == "auth-failure" {
		return authFailureExplain(fields, m)
	}
	if info, ok := feedbackInfo[ft]; ok {
		return info.explanation, info.fix
	}
	return "This is a feedback (ARF) report of an unregistered type (" + ft + "; RFC 5965 §7.3 lists abuse, fraud, virus and other).",
		"Read the report's human-readable part for what the reporter means."
}

// authFailureWhat says what failed for each Auth-Failure value (RFC 6591
// §3.1; dmarc from RFC 7489 §7.3; dkim as some reporters write it).
var authFailureWhat = map[string]string{
	"bodyhash":  "the DKIM body hash did not match: the body changed after it was signed",
	"signature": "the DKIM signature did not verify against the public key in DNS",
	"revoked":   "the DKIM key is revoked (its DNS record has an empty p=)",
	"adsp":      "the message broke the domain's DKIM ADSP policy (unsigned, or not signed by the From domain)",
	"spf":       "SPF failed: the sending IP is not permitted by the domain's SPF record",
	"dmarc":     "DMARC failed: neither SPF nor DKIM passed for a domain aligned with the From domain",
	"dkim":      "DKIM failed",
}

// deliveryResultWhat says what the receiver did (RFC 6591 §3.2).
var deliveryResultWhat = map[string]string{
	"delivered": "The receiver delivered the message anyway (Delivery-Result: delivered).",
	"spam":      "The receiver delivered the message to the spam folder (Delivery-Result: spam).",
	"policy":    "The receiver did not deliver the message, by its local policy (Delivery-Result: policy: quarantined or discarded).",
	"reject":    "The receiver rejected the message (Delivery-Result: reject).",
	"other":     "The receiver handled the message in some other way (Delivery-Result: other).",
}

var (
	reARResult = regexp.MustCompile(`(?i)\b(dkim|spf|dmarc)\s*=\s*(fail|softfail|permerror|temperror|neutral)`)
	reDKIMTag  = regexp.MustCompile(`(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)`)
)

// authFailureExplain builds the story of an RFC 6591 report: which
// mechanism failed, for which domain and selector, what the receiver did,
// and the fix in the sender's authentication.
func authFailureExplain(fields []dsnField, m *bounceMsg) (string, string) {
	var kinds []string
	for _, f := range fields {
		if f.name == "auth-failure" {
			for _, v := range strings.FieldsFunc(strings.ToLower(f.value), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
				kinds = appendUnique(kinds, v)
			}
		}
	}
	if len(kinds) == 0 {
		// Auth-Failure is required (RFC 6591 §3.1) but some reporters
		// leave it out: the Authentication-Results field says what failed.
		for _, f := range fields {
			if f.name == "authentication-results" {
				for _, sm := range reARResult.FindAllStringSubmatch(f.value, -1) {
					kinds = appendUnique(kinds, strings.ToLower(sm[1]))
				}
			}
		}
	}
	reported := firstField(fields, "reported-domain")
	// DKIM-Domain may list several signers ("ietf.org; example.net"):
	// the fix is about the reported domain's own signature when listed.
	dkimDomains := strings.FieldsFunc(firstField(fields, "dkim-domain"), func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
	dkimDomain := ""
	for _, d := range dkimDomains {
		if dkimDomain == "" || strings.EqualFold(d, reported) {
			dkimDomain = d
		}
	}
	selector := firstField(fields, "dkim-selector")
	if selector == "" {
		selector = reportedDKIMSelector(m, dkimDomain)
	}
	spfDomain := addrDomain(firstField(fields, "original-mail-from"))
	sourceIP := firstField(fields, "source-ip")

	var what []string
	for _, k := range kinds {
		w, ok := authFailureWhat[k]
		if !ok {
			w = "the check " + k + " failed"
		}
		what = append(what, w)
	}
	var b strings.Builder
	b.WriteString("This is an authentication failure report (Feedback-Type: auth-failure, RFC 6591 §3), not a spam complaint: ")
	if len(what) == 0 {
		b.WriteString("the receiver's authentication check (SPF, DKIM or DMARC) failed")
	} else {
		b.WriteString(strings.Join(what, "; "))
	}
	isDKIM := hasAny(kinds, "bodyhash", "signature", "revoked", "adsp", "dkim")
	isSPF := hasAny(kinds, "spf")
	var about []string
	if isDKIM && dkimDomain != "" {
		s := "DKIM domain " + dkimDomain
		if len(dkimDomains) > 1 {
			s = "DKIM domains " + strings.Join(dkimDomains, ", ")
		}
		if selector != "" {
			s += ", selector " + selector
		}
		about = append(about, s)
	}
	if isSPF && spfDomain != "" {
		s := "SPF domain " + spfDomain
		if sourceIP != "" {
			s += ", sending IP " + sourceIP
		}
		about = append(about, s)
	}
	if reported != "" {
		about = append(about, "reported domain "+reported)
	}
	if len(about) > 0 {
		b.WriteString(" (" + strings.Join(about, "; ") + ")")
	}
	b.WriteString(". ")
	dr := strings.ToLower(strings.TrimSpace(firstField(fields, "delivery-result")))
	if w, ok := deliveryResultWhat[dr]; ok {
		b.WriteString(w)
	} else {
		b.WriteString("The report does not say what the receiver did with the message.")
	}

	dom := firstNonEmpty(dkimDomain, reported, "your domain")
	// Without a selector the fix names where it is found.
	keyAt := "the public key record SELECTOR._domainkey." + dom + " (SELECTOR is the s= of your DKIM-Signature)"
	if selector != "" {
		keyAt = "the public key of selector " + selector + " at " + selector + "._domainkey." + dom
	}
	var fixes []string
	for _, k := range kinds {
		switch k {
		case "bodyhash":
			fixes = append(fixes, "DKIM body hash: sign after anything that rewrites the body (footers, disclaimers, re-encoding), use c=relaxed/relaxed, and keep relays after the signer from changing it")
		case "signature", "dkim":
			fixes = append(fixes, "DKIM: publish (or repair) "+keyAt+" so that it matches the private key your server signs with, and check the signature on a copy with `postlab headers`")
		case "revoked":
			fixes = append(fixes, "revoked key: sign with a selector whose key is published, or publish "+keyAt+" again")
		case "adsp":
			fixes = append(fixes, "ADSP (historic since 2013): sign all mail with a DKIM signature of the From domain, or remove the _adsp._domainkey."+dom+" record")
		case "spf":
			ip := firstNonEmpty(sourceIP, "the sending IP")
			fixes = append(fixes, "SPF: include "+ip+" in the SPF record of "+firstNonEmpty(spfDomain, reported, "your domain")+" (ip4:/ip6: or the include: of your provider), if that server is yours; check with `postlab diag "+firstNonEmpty(spfDomain, reported, "DOMAIN")+"`")
		case "dmarc":
			fixes = append(fixes, "DMARC: align the From domain "+firstNonEmpty(reported, "")+" with a passing check: sign with DKIM d= of the From domain, or send with an envelope sender (Return-Path) in the From domain")
		}
	}
	if len(fixes) == 0 {
		fixes = append(fixes, "Check that mail from "+firstNonEmpty(reported, "your domain")+" passes SPF, DKIM and DMARC with aligned domains (`postlab diag "+firstNonEmpty(reported, "DOMAIN")+"`, and `postlab headers` on a copy)")
	}
	fix := strings.Join(fixes, ". ")
	fix = strings.ToUpper(fix[:1]) + fix[1:] + ". If you did not send this message, someone forges your domain: a DMARC policy of p=reject stops it."
	return b.String(), fix
}

// reportedDKIMSelector is the s= of the reported message's DKIM-Signature
// for domain (any signature when domain is empty).
func reportedDKIMSelector(m *bounceMsg, domain string) string {
	for _, raw := range append([][]byte{m.origHeaders}, m.nested...) {
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			continue
		}
		for _, sig := range h.Values("DKIM-Signature") {
			tags := map[string]string{}
			for _, t := range reDKIMTag.FindAllStringSubmatch(sig, -1) {
				tags[strings.ToLower(t[1])] = strings.TrimSpace(t[2])
			}
			if tags["s"] != "" && (domain == "" || strings.EqualFold(tags["d"], domain)) {
				return tags["s"]
			}
		}
	}
	return ""
}

func addrDomain(v string) string {
	a := addrOnly(v)
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return strings.ToLower(a[i+1:])
	}
	return ""
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func hasAny(list []string, vs ...string) bool {
	for _, x := range list {
		for _, v := range vs {
			if x == v {
				return true
			}
		}
	}
	return false
}
