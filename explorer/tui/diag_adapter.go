package tui

import (
	"context"
	"strings"

	"postlab/diag"
)

// DiagDiagnoser runs postlab's DNS diagnostics (package diag). Names under
// the lab's practice domain are asked to the lab's DNS server; the rest to
// Resolver ("" means the system's resolvers).
type DiagDiagnoser struct {
	Resolver string
	LabDNS   func() string // the lab's DNS address, "" when none
	Domain   string        // the practice domain, "postlab.test"
}

// Diagnose implements Diagnoser. diag reports when every check is done, so
// progress is only called with the final findings.
func (d DiagDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	server := d.Resolver
	t, err := diag.ParseTarget(target)
	if err != nil {
		return Report{}, err
	}
	if d.LabDNS != nil && d.Domain != "" && (t.Domain == d.Domain || strings.HasSuffix(t.Domain, "."+d.Domain)) {
		if a := d.LabDNS(); a != "" {
			server = a
		}
	}
	r, err := diag.NewClient(server)
	if err != nil {
		return Report{}, err
	}
	rep, err := diag.Diagnose(ctx, target, diag.Options{Resolver: r})
	if rep == nil {
		return Report{}, err
	}
	out := Report{Target: rep.Target, Resolver: rep.Resolver, DurationMS: rep.DurationMS}
	if out.Resolver == "" {
		out.Resolver = strings.Join(r.Servers, ",")
	}
	for _, f := range rep.Findings {
		tf := Finding{Check: f.Check, Status: string(f.Status), Summary: f.Summary, Detail: f.Detail, Fix: f.Fix, Ref: f.Ref}
		out.Findings = append(out.Findings, tf)
		if progress != nil {
			progress(tf)
		}
	}
	return out, err
}
