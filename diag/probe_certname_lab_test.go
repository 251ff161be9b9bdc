package diag_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"postlab/diag"
)

// With the lab's mx-cname fault the MX name (smtp.postlab.test) is not in
// the lab's certificate, which is trusted through RootCAs (--ca): each probe
// reports the name once and the chain as trusted, and no fix asks for --ca.
func TestProbeNameMismatchIsOneFinding(t *testing.T) {
	l := startProbeLab(t)
	if err := l.SetDNSFaults([]string{"mx-cname"}); err != nil {
		t.Fatal(err)
	}
	r := labResolver(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mx := diag.LookupMailExchangers(ctx, r, "postlab.test")
	_, fs := diag.ProbeServers(ctx, mx, diag.ProbeOptions{Resolver: r, Ports: map[string]int{"smtp": labPort(t, l.Addr("smtp"))},
		RootCAs: l.CertPool(), Timeout: 10 * time.Second, Domain: "postlab.test"})
	names := 0
	for _, f := range fs {
		if f.Check == "tls.chain" && f.Status != diag.StatusPass {
			t.Errorf("chain: %s %s (fix %q)", f.Status, f.Summary, f.Fix)
		}
		if strings.Contains(f.Fix, "--ca") {
			t.Errorf("%s asks for --ca although it was given: %s", f.Check, f.Fix)
		}
		if f.Check == "tls.name" && f.Status != diag.StatusPass {
			names++
			if !strings.Contains(f.Summary, "smtp.postlab.test") {
				t.Errorf("name: %s", f.Summary)
			}
		}
	}
	if names != 1 {
		t.Errorf("%d name findings, want 1: %+v", names, fs)
	}
}
