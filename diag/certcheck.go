package diag

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
)

// Certificate checks shared by the server probes and settings discovery:
// the chain against the trusted roots, the name (RFC 6125 §6.4, one
// leftmost wildcard label), the validity period, and DANE TLSA matching
// (RFC 6698 §2.1, RFC 7671 §5, RFC 7672 §3.1).

// ExpiryWarnDays is how close to its end a certificate's validity must be
// for a warning.
const ExpiryWarnDays = 14

// CertCheck is what a client can tell about the certificate a server showed.
type CertCheck struct {
	Name        string `json:"name"`         // the name checked
	Verified    bool   `json:"verified"`     // chain and name verified against the trusted roots
	VerifyError string `json:"verify_error"` // why not
	// Trusted: the chain leads to a trusted root, whatever name it is for
	// and (for a leaf outside its dates) as of a time inside them; the name
	// and the dates are their own checks.
	Trusted     bool      `json:"trusted"`
	TrustError  string    `json:"trust_error,omitempty"` // why not
	NameMatch   bool      `json:"name_match"`            // the name is in the certificate's SANs
	SANs        []string  `json:"sans,omitempty"`        // the names and addresses the certificate is for
	SelfSigned  bool      `json:"self_signed"`           // subject equals issuer
	NotAfter    time.Time `json:"not_after"`
	DaysLeft    int       `json:"days_left"` // negative once expired
	Expired     bool      `json:"expired"`
	NotYetValid bool      `json:"not_yet_valid"`
}

// CheckChain checks a raw chain (leaf first) against roots at now: the
// chain of a session's own handshake (explorer.Session.TLSState), or of a
// connection made outside the explorer (IMAP detection).
func CheckChain(chain []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) CertCheck {
	cc := CertCheck{Name: name}
	err := explorer.VerifyChain(chain, roots, name, now)
	cc.Verified = err == nil
	if err != nil {
		cc.VerifyError = err.Error()
	}
	if len(chain) == 0 {
		cc.TrustError = cc.VerifyError
		return cc
	}
	leaf := chain[0]
	cc.Trusted, cc.TrustError = chainTrusted(chain, roots, now)
	sans := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	cc.NameMatch = namesMatch(sans, name)
	cc.SANs = sans
	cc.SelfSigned = leaf.Subject.String() == leaf.Issuer.String()
	cc.NotAfter = leaf.NotAfter
	cc.fillDates(leaf.NotBefore, leaf.NotAfter, now)
	return cc
}

// chainTrusted verifies the chain without the name and, for a leaf outside
// its dates, as of a moment inside them: a wrong name or an expired leaf is
// a finding of its own, not an untrusted chain. The CA certificates on the
// path must still be valid now.
func chainTrusted(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (bool, string) {
	leaf := chain[0]
	at := now
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	if at.Equal(now) {
		if err := explorer.VerifyChain(chain, roots, "", now); err != nil {
			return false, err.Error()
		}
		return true, ""
	}
	// The options of explorer.VerifyChain, at another time, keeping the
	// paths to check their CA certificates' dates.
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	paths, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at})
	if err != nil {
		return false, err.Error()
	}
	why := ""
	for _, p := range paths {
		ok := true
		for _, c := range p[1:] {
			if now.After(c.NotAfter) || now.Before(c.NotBefore) {
				ok = false
				if why == "" {
					why = fmt.Sprintf("the CA certificate %q in the chain is valid only from %s to %s", c.Subject.CommonName,
						c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
				}
			}
		}
		if ok {
			return true, ""
		}
	}
	return false, why
}

// names is what the certificate is valid for, for messages.
func (cc *CertCheck) names() []string {
	if len(cc.SANs) > 8 {
		return append(append([]string(nil), cc.SANs[:8]...), "...")
	}
	return cc.SANs
}

func (cc *CertCheck) fillDates(nb, na time.Time, now time.Time) {
	if na.IsZero() {
		return
	}
	cc.DaysLeft = int(na.Sub(now).Hours() / 24)
	if na.Before(now) {
		cc.Expired = true
		cc.DaysLeft = -int(now.Sub(na).Hours()/24) - 1
	}
	cc.NotYetValid = now.Before(nb)
}

// namesMatch reports whether name is covered by one of the SANs: exact, or
// a "*." wildcard standing for exactly the leftmost label (RFC 6125 §6.4.3).
func namesMatch(sans []string, name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if ip, err := netip.ParseAddr(name); err == nil {
		for _, s := range sans {
			if a, err := netip.ParseAddr(s); err == nil && a.Unmap() == ip.Unmap() {
				return true
			}
		}
		return false
	}
	for _, s := range sans {
		s = strings.ToLower(strings.TrimSuffix(s, "."))
		if s == name {
			return true
		}
		if rest, ok := strings.CutPrefix(s, "*."); ok {
			if i := strings.IndexByte(name, '.'); i > 0 && name[i+1:] == rest {
				return true
			}
		}
	}
	return false
}

// certFindings turns a CertCheck into findings under check names area.*.
// strict makes an untrusted chain a failure (submission, POP3: clients
// verify); for MX-to-MX SMTP without DANE or MTA-STS it is a warning, as
// senders fall back to unauthenticated TLS (RFC 7435, RFC 3207 §4.1).
func certFindings(area, where string, cc CertCheck, strict bool) []Finding {
	var fs []Finding
	// The chain is about trust only; the name and the dates follow.
	chain := Finding{Check: area + ".chain", Status: StatusPass,
		Summary: where + ": certificate chain leads to a trusted root", Ref: "RFC 5280 §6"}
	if cc.Verified {
		chain.Summary = where + ": certificate chain verified for " + cc.Name
	}
	if !cc.Trusted {
		chain.Status = StatusWarn
		if strict {
			chain.Status = StatusFail
		}
		why := cc.TrustError
		if cc.SelfSigned {
			why = "self-signed: " + why
		}
		chain.Summary = where + ": certificate not trusted (" + why + ")"
		chain.Fix = "Install a certificate from a public CA (e.g. Let's Encrypt) with the full chain; for a lab or private CA, pass its certificate with --ca FILE."
		if strings.Contains(why, "in the chain is valid only from") {
			chain.Fix = "Install the CA's current intermediate certificate in the server's chain file and reload the server."
		}
		if !strict {
			chain.Detail = "Most sending servers accept any certificate on port 25, but DANE and MTA-STS senders do not."
		}
	}
	fs = append(fs, chain)
	nm := Finding{Check: area + ".name", Status: StatusPass,
		Summary: where + ": certificate is valid for " + cc.Name, Ref: "RFC 6125 §6.4"}
	if !cc.NameMatch {
		nm.Status = StatusWarn
		if strict {
			nm.Status = StatusFail
		}
		nm.Summary = where + ": certificate is not valid for the name " + cc.Name
		nm.Fix = "Put " + cc.Name + " in the certificate's subjectAltName (or connect with a name it has)."
		if n := cc.names(); len(n) > 0 {
			nm.Detail = "The certificate is for: " + strings.Join(n, ", ") + "."
		}
	}
	fs = append(fs, nm)
	ex := Finding{Check: area + ".expiry", Status: StatusPass,
		Summary: fmt.Sprintf("%s: certificate valid until %s (%d days)", where, cc.NotAfter.UTC().Format("2006-01-02"), cc.DaysLeft),
		Ref:     "RFC 5280 §4.1.2.5"}
	switch {
	case cc.NotAfter.IsZero():
		return fs
	case cc.Expired:
		ex.Status = StatusFail
		ex.Summary = fmt.Sprintf("%s: certificate EXPIRED on %s", where, cc.NotAfter.UTC().Format("2006-01-02"))
		ex.Fix = "Renew the certificate and reload the server."
	case cc.NotYetValid:
		ex.Status = StatusFail
		ex.Summary = where + ": certificate is not valid yet (check the server's clock)"
	case cc.DaysLeft < ExpiryWarnDays:
		ex.Status = StatusWarn
		ex.Summary = fmt.Sprintf("%s: certificate expires in %d days (%s)", where, cc.DaysLeft, cc.NotAfter.UTC().Format("2006-01-02"))
		ex.Fix = "Renew it now; automated renewal (ACME) usually runs 30 days before the end."
	}
	return append(fs, ex)
}

// TLSAMatch reports whether one TLSA record matches the chain (leaf first)
// the server presented. DANE-EE (3) matches the leaf and ignores names and
// dates (RFC 7671 §5.1); DANE-TA (2) matches a CA certificate in the chain,
// which must then issue the leaf for name (RFC 7671 §5.2, RFC 7672 §3.1.2);
// PKIX-TA (0) and PKIX-EE (1) are matched too, but SMTP treats them as
// unusable (RFC 7672 §3.1.3), which usable reports.
func TLSAMatch(rec *dns.TLSA, chain []*x509.Certificate, name string, now time.Time) (match, usable bool, err error) {
	if len(chain) == 0 {
		return false, false, errors.New("no certificate")
	}
	if rec.Selector > 1 || rec.MatchingType > 2 || rec.Usage > 3 {
		return false, false, fmt.Errorf("unknown usage, selector or matching type %d %d %d", rec.Usage, rec.Selector, rec.MatchingType)
	}
	want, err := hex.DecodeString(rec.Certificate)
	if err != nil {
		return false, false, fmt.Errorf("certificate association data is not hex: %v", err)
	}
	one := func(c *x509.Certificate) bool {
		data := c.Raw
		if rec.Selector == 1 {
			data = c.RawSubjectPublicKeyInfo
		}
		switch rec.MatchingType {
		case 1:
			s := sha256.Sum256(data)
			data = s[:]
		case 2:
			s := sha512.Sum512(data)
			data = s[:]
		}
		return len(data) == len(want) && subtle.ConstantTimeCompare(data, want) == 1
	}
	usable = rec.Usage >= 2
	switch rec.Usage {
	case 1, 3:
		return one(chain[0]), usable, nil
	}
	for i, c := range chain {
		if i == 0 && len(chain) > 1 {
			continue
		}
		if !one(c) {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(c)
		if verr := explorer.VerifyChain(chain, roots, name, now); verr != nil {
			return false, usable, fmt.Errorf("trust anchor matches but the chain does not verify: %v", verr)
		}
		return true, usable, nil
	}
	return false, usable, nil
}

// daneFinding matches the TLSA records against the live chain.
func daneFinding(check, where, tlsaName string, recs []*dns.TLSA, validated bool, chain []*x509.Certificate, name string, now time.Time) Finding {
	var lines []string
	matched, usableMatch := 0, 0
	for _, r := range recs {
		m, usable, err := TLSAMatch(r, chain, name, now)
		state := "no match"
		switch {
		case err != nil:
			state = "error: " + err.Error()
		case m && !usable:
			state = "matches, but usage " + fmt.Sprint(r.Usage) + " is unusable for SMTP"
		case m:
			state = "MATCHES"
		}
		if m {
			matched++
			if usable {
				usableMatch++
			}
		}
		lines = append(lines, ExplainTLSA(r)+" — "+state)
	}
	f := Finding{Check: check, Detail: strings.Join(lines, "\n"), Ref: "RFC 7672 §3.1; RFC 6698 §2.1"}
	switch {
	case usableMatch > 0 && validated:
		f.Status = StatusPass
		f.Summary = fmt.Sprintf("%s: the live certificate matches %d of %d TLSA records at %s", where, usableMatch, len(recs), tlsaName)
	case usableMatch > 0:
		f.Status = StatusWarn
		f.Summary = fmt.Sprintf("%s: the certificate matches TLSA at %s, but the records are not DNSSEC-validated", where, tlsaName)
		f.Fix = "Sign the zone with DNSSEC: senders ignore unvalidated TLSA records."
		f.Ref = "RFC 7672 §2.2"
	default:
		f.Status = StatusFail
		f.Summary = fmt.Sprintf("%s: the live certificate matches none of the TLSA records at %s: DANE senders will not deliver", where, tlsaName)
		f.Fix = "Publish a TLSA record for the current key (\"3 1 1 <SHA-256 of the SPKI>\") before rolling certificates, or put the old key back."
	}
	return f
}

// TLSARecordFor computes the "3 1 1" record of a certificate: what to publish.
func TLSARecordFor(c *x509.Certificate) string {
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "3 1 1 " + hex.EncodeToString(s[:])
}

// readLimited reads one line of at most explorer.MaxReplyLine octets.
func readLimited(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		frag, err := br.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > explorer.MaxReplyLine {
			return "", errors.New("line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialVia returns a dialer that connects to ip (keeping the port of the
// address asked for), so that host names resolved through our Resolver are
// used, not the system's.
func dialVia(base dialFunc, ip netip.Addr) dialFunc {
	if base == nil {
		var d net.Dialer
		base = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip.IsValid() {
			addr = net.JoinHostPort(ip.String(), port)
		}
		return base(ctx, network, addr)
	}
}
