package tui

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"postlab/diag"
)

// DiagDiagnoser runs postlab's DNS diagnostics (package diag). Names under
// the lab's practice domain are asked to the lab's DNS server; the rest to
// Resolver ("" means the system's resolvers).
type DiagDiagnoser struct {
	Resolver string
	LabDNS   func() string // the lab's DNS address, "" when none
	Domain   string        // the practice domain, "postlab.test"
	// LabCA returns the lab's certificate pool, trusted for servers of
	// the practice domain when the settings of an address are probed.
	LabCA func() *x509.CertPool
}

// Diagnose implements Diagnoser: the DNS checks of package diag and, for an
// address, the settings a mail client would use (diag.DiscoverSettings,
// without a password so no login is tried). diag reports the DNS checks
// together when all are done; the settings follow.
func (d DiagDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	server := d.Resolver
	t, err := diag.ParseTarget(target)
	if err != nil {
		return Report{}, err
	}
	practice := d.Domain != "" && (t.Domain == d.Domain || strings.HasSuffix(t.Domain, "."+d.Domain))
	if d.LabDNS != nil && practice {
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
	add := func(tf Finding) {
		out.Findings = append(out.Findings, tf)
		if progress != nil {
			progress(tf)
		}
	}
	for _, f := range rep.Findings {
		add(Finding{Check: f.Check, Status: string(f.Status), Summary: f.Summary, Detail: f.Detail, Fix: f.Fix, Ref: f.Ref})
	}
	if err != nil || t.Address == "" || ctx.Err() != nil {
		return out, err
	}
	so := diag.SettingsOptions{Resolver: r, Timeout: 8 * time.Second}
	if practice && d.LabCA != nil {
		so.RootCAs = d.LabCA()
	}
	start := time.Now()
	res, serr := diag.DiscoverSettings(ctx, target, so)
	if res != nil {
		for _, f := range settingsFindings(res) {
			add(f)
		}
	} else if serr != nil {
		add(Finding{Check: "settings.discovery", Status: "error", Summary: "settings not found: " + oneLine(serr.Error())})
	}
	out.DurationMS += time.Since(start).Milliseconds()
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
}

// settingsFindings turns the settings matrix into findings: one per
// server tried, and the recommendation.
func settingsFindings(r *diag.SettingsResult) []Finding {
	var out []Finding
	one := func(kind string, s *diag.Setting) Finding {
		f := Finding{Check: "settings." + kind, Ref: "RFC 8314 §3; RFC 6186"}
		f.Summary = fmt.Sprintf("%s %s:%d %s (from %s)", s.Protocol, s.Host, s.Port, s.Security, s.Source)
		switch {
		case !s.Reachable && (s.Source == "srv" || s.Source == "autoconfig"):
			f.Status = "fail" // published, yet not there
			f.Summary += ": published but no answer"
			f.Fix = "fix the " + s.Source + " record or start the service"
		case !s.Reachable:
			f.Status = "info" // a guessed port: most are simply not used
			f.Summary += ": no answer"
		case s.Security == "plain":
			f.Status = "warn"
			f.Summary += ": works, but without TLS"
			f.Fix = "use the TLS or STARTTLS setting: a password sent in clear can be read on the way (RFC 8314 §3)"
		case !s.CertOK:
			f.Status = "warn"
			f.Summary += ": certificate does not verify"
		default:
			f.Status = "pass"
			f.Summary += ": works"
		}
		var d []string
		if len(s.AuthMechanisms) > 0 {
			d = append(d, "login mechanisms: "+strings.Join(s.AuthMechanisms, " "))
		}
		if s.Login != "" {
			d = append(d, "login: "+s.Login)
		}
		if s.Note != "" {
			d = append(d, s.Note)
		}
		if s.Error != "" {
			d = append(d, "error: "+s.Error)
		}
		f.Detail = strings.Join(d, "\n")
		return f
	}
	for _, s := range r.Incoming {
		out = append(out, one("incoming", s))
	}
	for _, s := range r.Outgoing {
		out = append(out, one("outgoing", s))
	}
	rec := Finding{Check: "settings.recommended", Status: "fail", Summary: "no working incoming and outgoing pair found", Ref: "RFC 8314 §3"}
	if r.Works() {
		in, o := r.Recommended.Incoming, r.Recommended.Outgoing
		rec.Status = "pass"
		rec.Summary = fmt.Sprintf("incoming %s %s:%d %s · outgoing %s %s:%d %s", in.Protocol, in.Host, in.Port, in.Security, o.Protocol, o.Host, o.Port, o.Security)
		rec.Detail = strings.Join(append(r.Recommended.IncomingWhy, r.Recommended.OutgoingWhy...), "\n")
	}
	return append(out, rec)
}
