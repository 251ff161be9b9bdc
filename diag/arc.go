package diag

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
)

// ARCResult is the verdict on a message's ARC chain (RFC 8617 §5.2).
type ARCResult struct {
	Sets int `json:"sets"`
	// Verdict is none (no chain, or not verified: Reason says why), pass
	// or fail.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	// Sealers lists the d= of each ARC-Seal, instance 1 first.
	Sealers []string `json:"sealers,omitempty"`
}

// arcField is one raw header field: the name and the whole "Name: value"
// as received (folding kept), for canonicalization.
type arcField struct {
	name string
	raw  string
}

// splitHeaderFields returns the header fields of raw in order, with the
// position where the body starts.
func splitHeaderFields(raw []byte) ([]arcField, int) {
	var fields []arcField
	i := 0
	for i < len(raw) {
		end := bytes.IndexByte(raw[i:], '\n')
		var line []byte
		if end < 0 {
			line = raw[i:]
			end = len(raw) - i
		} else {
			line = raw[i : i+end+1]
			end++
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return fields, i + end
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1].raw += string(line)
		} else {
			name := string(line)
			if c := strings.IndexByte(name, ':'); c > 0 {
				name = name[:c]
			} else {
				name = ""
			}
			fields = append(fields, arcField{name: strings.TrimSpace(name), raw: string(line)})
		}
		i += end
		if len(fields) > 5000 {
			break
		}
	}
	return fields, len(raw)
}

var (
	reWSPRun   = regexp.MustCompile(`[ \t]+`)
	reFoldCRLF = regexp.MustCompile(`\r?\n`)
)

// canonHeader applies RFC 6376 §3.4.1 (simple) or §3.4.2 (relaxed).
func canonHeader(raw string, relaxed bool) string {
	if !relaxed {
		if !strings.HasSuffix(raw, "\r\n") {
			raw = strings.TrimSuffix(raw, "\n") + "\r\n"
		}
		return reFoldCRLF.ReplaceAllString(strings.TrimSuffix(raw, "\r\n"), "\r\n") + "\r\n"
	}
	c := strings.IndexByte(raw, ':')
	if c < 0 {
		return ""
	}
	k := strings.ToLower(strings.TrimSpace(raw[:c]))
	v := reFoldCRLF.ReplaceAllString(raw[c+1:], "")
	v = strings.TrimSpace(reWSPRun.ReplaceAllString(v, " "))
	return k + ":" + v + "\r\n"
}

// canonBody applies RFC 6376 §3.4.3 (simple) or §3.4.4 (relaxed).
func canonBody(body []byte, relaxed bool) []byte {
	s := strings.ReplaceAll(string(body), "\r\n", "\n")
	lines := strings.Split(s, "\n")
	if relaxed {
		for i, l := range lines {
			lines[i] = strings.TrimRight(reWSPRun.ReplaceAllString(l, " "), " ")
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if relaxed {
			return nil
		}
		return []byte("\r\n")
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// parseTags reads a DKIM-style tag list (RFC 6376 §3.2).
func parseTags(v string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		val = strings.Join(strings.Fields(val), "")
		if k == "b" || k == "bh" || k == "h" {
			out[k] = val
		} else {
			out[k] = strings.TrimSpace(strings.Join(strings.Fields(p[strings.IndexByte(p, '=')+1:]), " "))
		}
	}
	return out
}

func fieldValue(raw string) string {
	if c := strings.IndexByte(raw, ':'); c >= 0 {
		return raw[c+1:]
	}
	return ""
}

var reBTag = regexp.MustCompile(`(?s)(\bb[ \t\r\n]*=)[^;]*`)

// withoutSignature empties the b= tag (RFC 6376 §3.7), keeping bh=.
func withoutSignature(raw string) string {
	return reBTag.ReplaceAllStringFunc(raw, func(m string) string {
		i := strings.IndexByte(m, '=')
		return m[:i+1]
	})
}

// fetchKey reads the public key at selector._domainkey.domain.
func fetchKey(lookup func(string) ([]string, error), domain, selector string) (crypto.PublicKey, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("the signature has no d= or s= tag")
	}
	txts, err := lookup(selector + "._domainkey." + domain)
	if err != nil {
		if isTempDNSError(err) {
			return nil, fmt.Errorf("the key at %s._domainkey.%s could not be fetched: %w", selector, domain, err)
		}
		return nil, fmt.Errorf("no key at %s._domainkey.%s: %w", selector, domain, err)
	}
	rec := strings.Join(txts, "")
	tags := parseTags(rec)
	p := strings.Join(strings.Fields(tags["p"]), "")
	if p == "" {
		return nil, errors.New("the key is revoked (empty p=)")
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("the key record's p= is not base64: %v", err)
	}
	switch strings.ToLower(firstNonEmpty(tags["k"], "rsa")) {
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key size")
		}
		return ed25519.PublicKey(der), nil
	default:
		if k, err := x509.ParsePKIXPublicKey(der); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
			return k, nil
		}
		return nil, errors.New("the key record does not hold a valid RSA key")
	}
}

func verifySig(pub crypto.PublicKey, algo string, hashed, sig []byte) error {
	h := crypto.SHA256
	if strings.HasSuffix(strings.ToLower(algo), "sha1") {
		h = crypto.SHA1
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, hashed, sig)
	case ed25519.PublicKey:
		if !ed25519.Verify(k, hashed, sig) {
			return errors.New("Ed25519 signature mismatch")
		}
		return nil
	}
	return errors.New("unsupported key type")
}

func newHash(algo string) hash.Hash {
	if strings.HasSuffix(strings.ToLower(algo), "sha1") {
		return sha1.New()
	}
	return sha256.New()
}

// pickHeaders selects the signed fields bottom-up (RFC 6376 §5.4.2).
func pickHeaders(fields []arcField, names []string, relaxed bool, skip map[int]bool) string {
	used := map[int]bool{}
	var b strings.Builder
	for _, n := range names {
		n = strings.TrimSpace(n)
		for i := len(fields) - 1; i >= 0; i-- {
			if used[i] || skip[i] || !strings.EqualFold(fields[i].name, n) {
				continue
			}
			used[i] = true
			b.WriteString(canonHeader(fields[i].raw, relaxed))
			break
		}
	}
	return b.String()
}

// verifyAMS checks an ARC-Message-Signature like a DKIM signature
// (RFC 8617 §4.1.2).
func verifyAMS(fields []arcField, body []byte, idx int, lookup func(string) ([]string, error)) error {
	tags := parseTags(fieldValue(fields[idx].raw))
	hc, bc, _ := strings.Cut(firstNonEmpty(tags["c"], "simple/simple"), "/")
	if bc == "" {
		bc = "simple"
	}
	bh, err := base64.StdEncoding.DecodeString(tags["bh"])
	if err != nil {
		return errors.New("malformed bh= tag")
	}
	hh := newHash(tags["a"])
	hh.Write(canonBody(body, bc == "relaxed"))
	if subtle.ConstantTimeCompare(hh.Sum(nil), bh) != 1 {
		return errors.New("the body was changed after it was signed (body hash mismatch)")
	}
	sig, err := base64.StdEncoding.DecodeString(tags["b"])
	if err != nil {
		return errors.New("malformed b= tag")
	}
	pub, err := fetchKey(lookup, tags["d"], tags["s"])
	if err != nil {
		return err
	}
	relaxed := hc == "relaxed"
	hh = newHash(tags["a"])
	hh.Write([]byte(pickHeaders(fields, strings.Split(tags["h"], ":"), relaxed, map[int]bool{idx: true})))
	hh.Write([]byte(strings.TrimSuffix(canonHeader(withoutSignature(fields[idx].raw), relaxed), "\r\n")))
	if err := verifySig(pub, tags["a"], hh.Sum(nil), sig); err != nil {
		return errors.New("a signed header was changed after signing, or the key does not match")
	}
	return nil
}

// arcSetFields returns the AAR, AMS and AS field indexes of each instance.
type arcSet struct{ aar, ams, as int }

// VerifyARC validates the ARC chain of a raw message (RFC 8617 §5.2).
func VerifyARC(raw []byte, lookup func(string) ([]string, error)) ARCResult {
	fields, bodyAt := splitHeaderFields(raw)
	body := raw[bodyAt:]
	sets := map[int]*arcSet{}
	max := 0
	get := func(i int) *arcSet {
		if sets[i] == nil {
			sets[i] = &arcSet{-1, -1, -1}
		}
		return sets[i]
	}
	dup := false
	for n, f := range fields {
		var slot *int
		name := strings.ToLower(f.name)
		if name != "arc-seal" && name != "arc-message-signature" && name != "arc-authentication-results" {
			continue
		}
		inst := arcInstance(fieldValue(f.raw), name == "arc-authentication-results")
		if inst < 1 || inst > 50 {
			return ARCResult{Sets: max, Verdict: "fail", Reason: "an ARC header has a missing or invalid i= instance"}
		}
		s := get(inst)
		switch name {
		case "arc-seal":
			slot = &s.as
		case "arc-message-signature":
			slot = &s.ams
		default:
			slot = &s.aar
		}
		if *slot >= 0 {
			dup = true
		}
		*slot = n
		if inst > max {
			max = inst
		}
	}
	res := ARCResult{Sets: max, Verdict: "none"}
	if max == 0 {
		return res
	}
	res.Verdict = "fail"
	if dup {
		res.Reason = "an ARC instance appears more than once"
		return res
	}
	for i := 1; i <= max; i++ {
		s := sets[i]
		if s == nil || s.aar < 0 || s.ams < 0 || s.as < 0 {
			res.Reason = fmt.Sprintf("ARC set %d is incomplete (each set needs ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results)", i)
			return res
		}
		res.Sealers = append(res.Sealers, parseTags(fieldValue(fields[s.as].raw))["d"])
	}
	// cv= of each seal: none for i=1, pass afterwards (RFC 8617 §5.1.1).
	for i := 1; i <= max; i++ {
		cv := strings.ToLower(parseTags(fieldValue(fields[sets[i].as].raw))["cv"])
		if cv == "fail" {
			res.Reason = fmt.Sprintf("ARC set %d already recorded a failed chain (cv=fail)", i)
			return res
		}
		if (i == 1 && cv != "none") || (i > 1 && cv != "pass") {
			res.Reason = fmt.Sprintf("ARC set %d has cv=%s, expected %s", i, cv, map[bool]string{true: "none", false: "pass"}[i == 1])
			return res
		}
	}
	// A key that could not be fetched (no answer, SERVFAIL, REFUSED) leaves
	// the chain unverified, not failed (RFC 6376 §6.1.2, which ARC's key
	// retrieval follows); any signature that does fail still fails it.
	var temp string
	if err := verifyAMS(fields, body, sets[max].ams, lookup); err != nil {
		if !isTempDNSError(err) {
			res.Reason = fmt.Sprintf("the newest ARC-Message-Signature (i=%d, %s) does not verify: %v", max, res.Sealers[max-1], err)
			return res
		}
		temp = fmt.Sprintf("not verified: the newest ARC-Message-Signature (i=%d, %s): %v", max, res.Sealers[max-1], err)
	}
	for i := max; i >= 1; i-- {
		if err := verifySeal(fields, sets, i, lookup); err != nil {
			if !isTempDNSError(err) {
				res.Reason = fmt.Sprintf("ARC-Seal i=%d (%s) does not verify: %v", i, res.Sealers[i-1], err)
				return res
			}
			if temp == "" {
				temp = fmt.Sprintf("not verified: ARC-Seal i=%d (%s): %v", i, res.Sealers[i-1], err)
			}
		}
	}
	if temp != "" {
		res.Verdict, res.Reason = "none", temp
		return res
	}
	res.Verdict = "pass"
	return res
}

// verifySeal checks ARC-Seal i over sets 1..i (RFC 8617 §5.1.2): always
// relaxed header canonicalization, in the order AAR, AMS, AS per set.
func verifySeal(fields []arcField, sets map[int]*arcSet, i int, lookup func(string) ([]string, error)) error {
	tags := parseTags(fieldValue(fields[sets[i].as].raw))
	sig, err := base64.StdEncoding.DecodeString(tags["b"])
	if err != nil {
		return errors.New("malformed b= tag")
	}
	pub, err := fetchKey(lookup, tags["d"], tags["s"])
	if err != nil {
		return err
	}
	h := newHash(tags["a"])
	h.Write([]byte(arcSealInput(fields, sets, i)))
	if err := verifySig(pub, tags["a"], h.Sum(nil), sig); err != nil {
		return errors.New("the seal signature does not match (an ARC header was changed)")
	}
	return nil
}

func arcSealInput(fields []arcField, sets map[int]*arcSet, i int) string {
	var b strings.Builder
	for k := 1; k <= i; k++ {
		s := sets[k]
		b.WriteString(canonHeader(fields[s.aar].raw, true))
		b.WriteString(canonHeader(fields[s.ams].raw, true))
		if k < i {
			b.WriteString(canonHeader(fields[s.as].raw, true))
		}
	}
	b.WriteString(strings.TrimSuffix(canonHeader(withoutSignature(fields[sets[i].as].raw), true), "\r\n"))
	return b.String()
}

var reAARInstance = regexp.MustCompile(`^i\s*=\s*([0-9]+)`)

var reInstance = regexp.MustCompile(`(?:^|;)\s*i\s*=\s*([0-9]+)`)

// arcInstance reads i=; in ARC-Authentication-Results it leads the value
// ("i=1; mx.example.org; spf=pass ...").
func arcInstance(v string, aar bool) int {
	v = strings.TrimSpace(v)
	if aar {
		if m := reAARInstance.FindStringSubmatch(v); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		return 0
	}
	if m := reInstance.FindStringSubmatch(v); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}
