package diag

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestNamesMatch(t *testing.T) {
	sans := []string{"mail.example.com", "*.example.org", "192.0.2.1"}
	for name, want := range map[string]bool{
		"mail.example.com": true, "MAIL.example.com.": true, "example.com": false,
		"a.example.org": true, "b.a.example.org": false, "example.org": false,
		"192.0.2.1": true, "192.0.2.2": false, "other.test": false,
	} {
		if got := namesMatch(sans, name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestCheckChain(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	good := leafCert(t, ca, []string{"mx.example.com"}, now.Add(-time.Hour), now.Add(10*24*time.Hour))
	chain := []*x509.Certificate{good.Leaf, ca.cert}
	cc := CheckChain(chain, ca.pool, "mx.example.com", now)
	if !cc.Verified || !cc.NameMatch || cc.SelfSigned || cc.Expired || cc.DaysLeft != 9 {
		t.Errorf("good: %+v", cc)
	}
	cc = CheckChain(chain, ca.pool, "other.example.com", now)
	if cc.Verified || cc.NameMatch {
		t.Errorf("other name: %+v", cc)
	}
	cc = CheckChain(chain, x509.NewCertPool(), "mx.example.com", now)
	if cc.Verified || !strings.Contains(cc.VerifyError, "unknown authority") {
		t.Errorf("untrusted: %+v", cc)
	}
	cc = CheckChain(chain, ca.pool, "mx.example.com", now.Add(20*24*time.Hour))
	if cc.Verified || !cc.Expired || cc.DaysLeft >= 0 {
		t.Errorf("expired: %+v", cc)
	}
	self := leafCert(t, nil, []string{"mx.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	if cc := CheckChain([]*x509.Certificate{self.Leaf}, ca.pool, "mx.example.com", now); !cc.SelfSigned || cc.Verified {
		t.Errorf("self-signed: %+v", cc)
	}
	if cc := CheckChain(nil, ca.pool, "x", now); cc.Verified || cc.VerifyError == "" {
		t.Errorf("empty chain: %+v", cc)
	}
	// A self-signed certificate near its end, found strictly.
	soon := leafCert(t, nil, []string{"mx.example.com"}, now.Add(-time.Hour), now.Add(3*24*time.Hour+time.Hour))
	cc = CheckChain([]*x509.Certificate{soon.Leaf}, ca.pool, "mx.example.com", now)
	if !cc.SelfSigned || cc.Verified || !cc.NameMatch || cc.DaysLeft != 3 {
		t.Errorf("self-signed, 3 days left: %+v", cc)
	}
	fs := certFindings("tls", "here", cc, true)
	if got := statuses(fs); got["tls.chain"] != "fail" || got["tls.name"] != "pass" || got["tls.expiry"] != "warn" {
		t.Errorf("findings %v", got)
	}
}

func TestTLSAMatch(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	leaf := leafCert(t, ca, []string{"mx.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	chain := []*x509.Certificate{leaf.Leaf, ca.cert}
	sum256 := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	sum512 := func(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }
	other := leafCert(t, ca, []string{"mx.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	tests := []struct {
		name                string
		usage, sel, mt      uint8
		data                string
		match, usable, fail bool
		host                string
	}{
		{"DANE-EE SPKI SHA-256", 3, 1, 1, sum256(leaf.Leaf.RawSubjectPublicKeyInfo), true, true, false, ""},
		{"DANE-EE cert SHA-512", 3, 0, 2, sum512(leaf.Leaf.Raw), true, true, false, ""},
		{"DANE-EE cert exact", 3, 0, 0, hex.EncodeToString(leaf.Leaf.Raw), true, true, false, ""},
		{"DANE-EE ignores the name", 3, 1, 1, sum256(leaf.Leaf.RawSubjectPublicKeyInfo), true, true, false, "wrong.example.net"},
		{"DANE-EE other key", 3, 1, 1, sum256(other.Leaf.RawSubjectPublicKeyInfo), false, true, false, ""},
		{"DANE-TA CA cert", 2, 0, 1, sum256(ca.cert.Raw), true, true, false, ""},
		{"DANE-TA CA key", 2, 1, 1, sum256(ca.cert.RawSubjectPublicKeyInfo), true, true, false, ""},
		{"DANE-TA wrong name", 2, 0, 1, sum256(ca.cert.Raw), false, true, true, "wrong.example.net"},
		{"DANE-TA leaf is not a TA", 2, 0, 1, sum256(leaf.Leaf.Raw), false, true, false, ""},
		{"PKIX-EE matches but unusable", 1, 1, 1, sum256(leaf.Leaf.RawSubjectPublicKeyInfo), true, false, false, ""},
		{"unknown matching type", 3, 1, 9, "00", false, false, true, ""},
		{"bad hex", 3, 1, 1, "zz", false, false, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.host
			if host == "" {
				host = "mx.example.com"
			}
			rec := &dns.TLSA{Usage: tc.usage, Selector: tc.sel, MatchingType: tc.mt, Certificate: tc.data}
			m, u, err := TLSAMatch(rec, chain, host, now)
			if m != tc.match || (err != nil) != tc.fail || err == nil && u != tc.usable {
				t.Errorf("match %v usable %v err %v; want %v %v fail=%v", m, u, err, tc.match, tc.usable, tc.fail)
			}
		})
	}
	rec := &dns.TLSA{Usage: 3, Selector: 1, MatchingType: 1, Certificate: sum256(leaf.Leaf.RawSubjectPublicKeyInfo)}
	if got := TLSARecordFor(leaf.Leaf); got != "3 1 1 "+rec.Certificate {
		t.Errorf("TLSARecordFor = %s", got)
	}
	if f := daneFinding("tls.dane", "x", "_25._tcp.mx", []*dns.TLSA{rec}, false, chain, "mx.example.com", now); f.Status != StatusWarn {
		t.Errorf("unvalidated match: %s %s", f.Status, f.Summary)
	}
}
