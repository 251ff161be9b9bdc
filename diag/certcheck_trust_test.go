package diag

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// The chain verdict is about trust only: a trusted certificate for another
// name gives one finding, about the name, whose fix is not --ca; an expired
// leaf from a trusted CA is an expiry problem, not an untrusted chain.
func TestCertFindingsSeparateTrustFromName(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	leaf := leafCert(t, ca, []string{"mail.postlab.test"}, now.Add(-time.Hour), now.Add(30*24*time.Hour))
	chain := []*x509.Certificate{leaf.Leaf, ca.cert}

	cc := CheckChain(chain, ca.pool, "smtp.postlab.test", now)
	if !cc.Trusted || cc.TrustError != "" || cc.NameMatch || cc.Verified {
		t.Errorf("name only: %+v", cc)
	}
	for _, strict := range []bool{true, false} {
		fs := certFindings("tls", "smtp.postlab.test:25", cc, strict)
		var bad []Finding
		for _, f := range fs {
			if f.Status != StatusPass {
				bad = append(bad, f)
			}
			if strings.Contains(f.Fix, "--ca") {
				t.Errorf("strict=%v: a fix asks for --ca although the chain is trusted: %+v", strict, f)
			}
		}
		if len(bad) != 1 || bad[0].Check != "tls.name" || !strings.Contains(bad[0].Summary, "smtp.postlab.test") {
			t.Errorf("strict=%v: want one tls.name finding, got %+v", strict, bad)
		}
	}

	// Expired, from a CA that is still valid: one finding, about the date.
	short := leafCert(t, ca, []string{"mail.postlab.test"}, now.Add(-time.Hour), now.Add(time.Hour))
	cc = CheckChain([]*x509.Certificate{short.Leaf, ca.cert}, ca.pool, "mail.postlab.test", now.Add(2*time.Hour))
	if !cc.Trusted || !cc.Expired || cc.Verified {
		t.Errorf("expired: %+v", cc)
	}
	if got := statuses(certFindings("tls", "here", cc, true)); got["tls.chain"] != "pass" || got["tls.name"] != "pass" || got["tls.expiry"] != "fail" {
		t.Errorf("expired findings %v", got)
	}
	// The CA itself expired: that is the chain's problem.
	cc = CheckChain([]*x509.Certificate{short.Leaf, ca.cert}, ca.pool, "mail.postlab.test", now.Add(48*time.Hour))
	if cc.Trusted || !strings.Contains(cc.TrustError, "postlab test CA") {
		t.Errorf("expired CA: %+v", cc)
	}
	if fs := certFindings("tls", "here", cc, true); statuses(fs)["tls.chain"] != "fail" || strings.Contains(fs[0].Fix, "--ca") {
		t.Errorf("expired CA findings %+v", fs)
	}

	// Untrusted and for another name: two findings, each with its own fix.
	cc = CheckChain(chain, x509.NewCertPool(), "smtp.postlab.test", now)
	if cc.Trusted || !strings.Contains(cc.TrustError, "unknown authority") || strings.Contains(cc.TrustError, "smtp.postlab.test") {
		t.Errorf("untrusted: %+v", cc)
	}
	fs := certFindings("tls", "here", cc, true)
	if got := statuses(fs); got["tls.chain"] != "fail" || got["tls.name"] != "fail" {
		t.Errorf("untrusted findings %v", got)
	}
	for _, f := range fs {
		if f.Check == "tls.chain" && (strings.Contains(f.Summary, "smtp.postlab.test") || !strings.Contains(f.Fix, "--ca")) {
			t.Errorf("chain finding speaks of the name, or lacks --ca: %+v", f)
		}
	}
}

// Settings discovery says "not valid for the name", not "not trusted",
// and does not ask for --ca, when only the name is wrong.
func TestSettingsCertNameOnly(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	leaf := leafCert(t, ca, []string{"mail.postlab.test"}, now.Add(-time.Hour), now.Add(30*24*time.Hour))
	cc := CheckChain([]*x509.Certificate{leaf.Leaf, ca.cert}, ca.pool, "pop.postlab.test", now)
	s := &Setting{Protocol: "pop3", Host: "pop.postlab.test", Port: 995, Security: "tls", Reachable: true, TLS: true}
	applyCert(s, cc)
	if s.CertOK || strings.Contains(s.Error, "not trusted") || !strings.Contains(s.Error, "pop.postlab.test") {
		t.Errorf("setting: %+v", *s)
	}
	why := whyNone([]*Setting{s}, "pop3", false, &SettingsResult{})
	if j := strings.Join(why, " "); strings.Contains(j, "--ca") || strings.Contains(j, "not trusted") || !strings.Contains(j, "pop.postlab.test") {
		t.Errorf("why: %s", j)
	}
}
