package diag

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// DKIM (RFC 6376): key records at SELECTOR._domainkey.DOMAIN. Selectors
// cannot be listed from DNS, so the check tries the ones given and a short
// list of common ones.

// CommonDKIMSelectors are tried besides --dkim-selector.
var CommonDKIMSelectors = []string{"default", "dkim", "mail", "selector1", "selector2", "google", "k1", "s1", "s2"}

// DKIMKey is a parsed DKIM key record (RFC 6376 §3.6.1).
type DKIMKey struct {
	Version   string   // v, "DKIM1" or ""
	KeyType   string   // k: "rsa" (default) or "ed25519"
	Hashes    []string // h
	Services  []string // s
	Flags     []string // t: "y" (testing), "s" (strict)
	Notes     string   // n
	PublicKey []byte   // p decoded; empty when the key is revoked
	Revoked   bool     // p= is empty
	Bits      int      // key size
}

// Testing reports whether t=y is set.
func (k *DKIMKey) Testing() bool {
	for _, f := range k.Flags {
		if f == "y" {
			return true
		}
	}
	return false
}

// ParseDKIMKey parses a key record and measures the key.
func ParseDKIMKey(txt string) (*DKIMKey, error) {
	k := &DKIMKey{KeyType: "rsa"}
	seen := map[string]bool{}
	hasP := false
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t\r\n")
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not tag=value", part)
		}
		name = strings.Trim(name, " \t\r\n")
		val = strings.Trim(val, " \t\r\n")
		if seen[name] {
			return nil, fmt.Errorf("tag %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "v":
			if i != 0 {
				return nil, errors.New(`"v" must be the first tag`)
			}
			if val != "DKIM1" {
				return nil, fmt.Errorf("v=%s: the only version is DKIM1", val)
			}
			k.Version = val
		case "k":
			k.KeyType = strings.ToLower(val)
		case "h":
			k.Hashes = splitColon(val)
		case "s":
			k.Services = splitColon(val)
		case "t":
			k.Flags = splitColon(val)
		case "n":
			k.Notes = val
		case "p":
			hasP = true
			b64 := strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, val)
			if b64 == "" {
				k.Revoked = true
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, fmt.Errorf("p=: the key is not valid base64: %v", err)
			}
			k.PublicKey = raw
		}
	}
	if !hasP {
		return nil, errors.New(`the required tag "p" is missing`)
	}
	if k.Revoked {
		return k, nil
	}
	switch k.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(k.PublicKey)
		if err != nil {
			// Some publish a bare PKCS#1 key instead of SubjectPublicKeyInfo.
			p1, err1 := x509.ParsePKCS1PublicKey(k.PublicKey)
			if err1 != nil {
				return nil, fmt.Errorf("p=: not an RSA public key: %v", err)
			}
			pub = p1
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("p=: k=rsa but the key is not RSA")
		}
		k.Bits = rk.N.BitLen()
	case "ed25519":
		if len(k.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("p=: an ed25519 key is %d bytes, this one is %d", ed25519.PublicKeySize, len(k.PublicKey))
		}
		k.Bits = 256
	default:
		return nil, fmt.Errorf("k=%s: unknown key type (rsa or ed25519)", k.KeyType)
	}
	return k, nil
}

func splitColon(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ":") {
		if x = strings.Trim(x, " \t"); x != "" {
			out = append(out, strings.ToLower(x))
		}
	}
	return out
}

func checkDKIM(ctx context.Context, e *env) []Finding {
	domain := e.target.Domain
	type sel struct {
		name     string
		explicit bool
	}
	var sels []sel
	seen := map[string]bool{}
	for _, s := range e.opts.DKIMSelectors {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !seen[s] {
			seen[s] = true
			sels = append(sels, sel{s, true})
		}
	}
	for _, s := range CommonDKIMSelectors {
		if !seen[s] {
			seen[s] = true
			sels = append(sels, sel{s, false})
		}
	}
	results := make([][]Finding, len(sels))
	errs := make([]error, len(sels))
	parallel(len(sels), func(i int) {
		results[i], errs[i] = checkSelector(ctx, e.r, domain, sels[i].name, sels[i].explicit)
	})
	var fs []Finding
	var failed []string
	var firstErr error
	common := 0
	for i, r := range results {
		if !sels[i].explicit {
			common++
		}
		fs = append(fs, r...)
		if errs[i] != nil {
			failed = append(failed, sels[i].name)
			if firstErr == nil {
				firstErr = errs[i]
			}
		}
	}
	// A common selector whose lookup failed is unknown, not absent: never
	// let a DNS failure read as "no key".
	if len(failed) > 0 {
		f := dnsErrorFinding("dkim.selector", "the DKIM keys at selector"+plural(len(failed))+" "+strings.Join(failed, ", "), firstErr)
		if len(failed) == common && len(fs) == 0 {
			f.Summary = "could not look up the DKIM keys at the common selectors"
			f.Detail = "Tried: " + strings.Join(failed, ", ") + ".\n" + firstErr.Error()
		}
		fs = append(fs, f)
	}
	if len(fs) == 0 {
		fs = append(fs, Finding{Check: "dkim.selector", Status: StatusInfo,
			Summary: "no DKIM key at the common selectors",
			Detail:  "Tried: " + strings.Join(CommonDKIMSelectors, ", ") + ". Selectors cannot be listed from DNS; the one in use is the s= tag of a DKIM-Signature header of a message you sent.",
			Fix:     "Run again with --dkim-selector SELECTOR.",
			Ref:     "RFC 6376 §3.6.2.1"})
	}
	return fs
}

// checkSelector reports on one selector; a common selector with no record
// gives no finding, and one whose lookup failed gives the error to report
// with the others.
func checkSelector(ctx context.Context, r Resolver, domain, selector string, explicit bool) ([]Finding, error) {
	name := selector + "._domainkey." + domain
	txts, _, err := LookupTXT(ctx, r, name)
	if err != nil {
		if !explicit {
			return nil, err
		}
		return []Finding{dnsErrorFinding("dkim.key", name, err)}, nil
	}
	if len(txts) == 0 {
		if !explicit {
			return nil, nil
		}
		return []Finding{{Check: "dkim.key", Status: StatusFail,
			Summary: "no DKIM key at " + name,
			Detail:  "Signatures with s=" + selector + " cannot be verified, so they count as failing DKIM.",
			Fix:     "Publish the public key of the selector as a TXT record at " + name + ".",
			Ref:     "RFC 6376 §3.6.2.2, §6.1.2"}}, nil
	}
	if len(txts) > 1 {
		return []Finding{{Check: "dkim.key", Status: StatusWarn,
			Summary: fmt.Sprintf("%d TXT records at %s", len(txts), name),
			Detail:  "Verifiers may pick any one; keep a single key record per selector.",
			Ref:     "RFC 6376 §3.6.2.2"}}, nil
	}
	k, err := ParseDKIMKey(txts[0])
	if err != nil {
		return []Finding{{Check: "dkim.key", Status: StatusFail,
			Summary: "the DKIM key at " + name + " is invalid",
			Detail:  abbreviate(txts[0], 120) + "\n" + err.Error(),
			Fix:     "Republish the key record as generated by your signer: \"v=DKIM1; k=rsa; p=BASE64\".",
			Ref:     "RFC 6376 §3.6.1"}}, nil
	}
	if k.Revoked {
		return []Finding{{Check: "dkim.key", Status: StatusWarn,
			Summary: "the DKIM key at " + name + " is revoked (empty p=)",
			Detail:  "Signatures made with selector " + selector + " fail verification.",
			Fix:     "If this selector is still used for signing, publish its key; otherwise stop signing with it.",
			Ref:     "RFC 6376 §3.6.1"}}, nil
	}
	desc := fmt.Sprintf("%s key, %d bits", k.KeyType, k.Bits)
	var fs []Finding
	switch {
	case k.KeyType == "rsa" && k.Bits < 1024:
		fs = append(fs, Finding{Check: "dkim.key", Status: StatusFail,
			Summary: fmt.Sprintf("DKIM key %s is too weak: %s", name, desc),
			Detail:  "Verifiers must not accept RSA keys under 1024 bits, so these signatures count as failing.",
			Fix:     "Generate a 2048-bit RSA key (or ed25519 alongside it) under a new selector and switch to it.",
			Ref:     "RFC 8301 §3.2; RFC 6376 §3.3.3"})
	case k.KeyType == "rsa" && k.Bits < 2048:
		fs = append(fs, Finding{Check: "dkim.key", Status: StatusWarn,
			Summary: fmt.Sprintf("DKIM key %s is short: %s", name, desc),
			Detail:  "1024-bit RSA is the minimum; 2048 bits is recommended.",
			Fix:     "Rotate to a 2048-bit key under a new selector.",
			Ref:     "RFC 8301 §3.2"})
	default:
		fs = append(fs, Finding{Check: "dkim.key", Status: StatusPass,
			Summary: fmt.Sprintf("DKIM key at %s: %s", name, desc), Ref: "RFC 6376 §3.6.1"})
	}
	if k.Testing() {
		fs = append(fs, Finding{Check: "dkim.key", Status: StatusWarn,
			Summary: "selector " + selector + " is in testing mode (t=y)",
			Detail:  "Verifiers must treat signed mail as unsigned while t=y is set.",
			Fix:     "Remove t=y once signing works.",
			Ref:     "RFC 6376 §3.6.1"})
	}
	return fs, nil
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
