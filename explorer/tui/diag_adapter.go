package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
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
	// LabAddr is the address of one of the lab's listeners ("smtp",
	// "submission", "submissions", "pop3", "pop3s"), "" when it is off:
	// the practice domain's servers are probed there.
	LabAddr func(listener string) string
	// NoProbe leaves the servers alone (tests of the DNS part).
	NoProbe bool
}

// practice reports whether name is under the lab's practice domain.
func (d DiagDiagnoser) practice(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return d.Domain != "" && (name == d.Domain || strings.HasSuffix(name, "."+d.Domain))
}

// server is the resolver to ask about name: the lab's DNS for the
// practice domain while a lab (this app's or a teacher's) answers,
// otherwise Resolver ("" = the system's).
func (d DiagDiagnoser) server(name string) string {
	if d.LabDNS != nil && d.practice(name) {
		if a := d.LabDNS(); a != "" {
			return a
		}
	}
	return d.Resolver
}

// LookupTXT resolves a DKIM key (RFC 6376 §3.6.2.2) with the resolver
// Diagnose would use for its name, for Troubleshoot and the Mailboxes.
func (d DiagDiagnoser) LookupTXT(name string) ([]string, error) {
	r, err := diag.NewHeadersResolver(d.server(name), 5*time.Second)
	if err != nil {
		return nil, err
	}
	return r.LookupTXT(name)
}

// labSelector is the DKIM selector the lab signs with.
const labSelector = "lab"

// Diagnose implements Diagnoser: the DNS checks of package diag and, for an
// address, the settings a mail client would use (diag.DiscoverSettings,
// without a password so no login is tried). progress gets each finding as
// its check finishes; the report lists them in diag's fixed order.
func (d DiagDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	var each func(DiagProgress)
	if progress != nil {
		each = func(p DiagProgress) {
			for _, f := range p.Findings {
				progress(f)
			}
		}
	}
	return d.DiagnoseProgress(ctx, target, each)
}

// DiagnoseProgress implements ProgressDiagnoser: as Diagnose, telling
// progress of each check as it finishes (the nine DNS checks, the server
// probes, the settings) and which are still running.
func (d DiagDiagnoser) DiagnoseProgress(ctx context.Context, target string, progress func(DiagProgress)) (Report, error) {
	if msg, _ := targetProblem(target); msg != "" {
		return Report{}, errors.New(msg) // an IP address is no domain
	}
	t, err := diag.ParseTarget(target)
	if err != nil {
		return Report{}, err
	}
	practice := d.practice(t.Domain)
	r, err := diag.NewClient(d.server(t.Domain))
	if err != nil {
		return Report{}, err
	}
	steps := diag.CheckNames()
	probe := !d.NoProbe
	if probe {
		steps = append(steps, "servers")
	}
	if t.Address != "" {
		steps = append(steps, "settings")
	}
	tr := newStepTracker(steps, progress)
	tr.report("", nil, false) // the checks have started
	conv := func(f diag.Finding) Finding {
		return Finding{Check: f.Check, Status: string(f.Status), Summary: appTerms(f.Summary), Detail: appTerms(f.Detail), Fix: appTerms(f.Fix), Ref: f.Ref}
	}
	convAll := func(fs []diag.Finding) []Finding {
		out := make([]Finding, 0, len(fs))
		for _, f := range fs {
			out = append(out, conv(f))
		}
		return out
	}
	do := diag.Options{Resolver: r}
	if practice {
		do.DKIMSelectors = []string{labSelector} // besides the common ones
	}
	do.Progress = func(check string, fs []diag.Finding) { tr.report(check, convAll(fs), true) }
	rep, err := diag.Diagnose(ctx, target, do)
	if rep == nil {
		return Report{}, err
	}
	out := Report{Target: rep.Target, Resolver: rep.Resolver, DurationMS: rep.DurationMS}
	if out.Resolver == "" {
		out.Resolver = strings.Join(r.Servers, ",")
	}
	out.Findings = convAll(rep.Findings)
	if err != nil || ctx.Err() != nil {
		return out, err
	}
	if probe {
		if rep.MX != nil {
			// The servers, as `postlab diag` probes them: the lab's on its
			// real ports with its own CA, any other domain's MX on port 25.
			po := diag.ProbeOptions{Resolver: r, Timeout: 10 * time.Second, Domain: t.Domain, Helo: "client.postlab.test"}
			if practice {
				po.Ports = d.labPorts()
				if d.LabCA != nil {
					po.RootCAs = d.LabCA()
				}
			}
			po.Progress = func(p *diag.Probe, done, total int) {
				tr.setLabel("servers", fmt.Sprintf("SERVERS (%d of %d probes)", done, total))
				tr.report("servers", convAll(p.Findings), false)
			}
			start := time.Now()
			_, fs := diag.ProbeServers(ctx, rep.MX, po)
			out.Findings = append(out.Findings, convAll(fs)...)
			out.DurationMS += time.Since(start).Milliseconds()
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
		}
		tr.report("servers", nil, true)
	}
	if t.Address == "" {
		return out, nil
	}
	so := diag.SettingsOptions{Resolver: r, Timeout: 8 * time.Second}
	if practice && d.LabCA != nil {
		so.RootCAs = d.LabCA()
	}
	st := &settingsStream{tr: tr}
	so.Progress = st.progress
	start := time.Now()
	res, serr := diag.DiscoverSettings(ctx, target, so)
	var sf []Finding
	if res != nil {
		sf = settingsFindings(res)
	} else if serr != nil {
		sf = []Finding{{Check: "settings.discovery", Status: "error", Summary: "settings not found: " + oneLine(serr.Error())}}
	}
	out.Findings = append(out.Findings, sf...)
	out.DurationMS += time.Since(start).Milliseconds()
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	st.finish(sf)
	return out, nil
}

// stepTracker turns the steps' completions, which arrive from many
// goroutines, into one serialised stream of DiagProgress.
type stepTracker struct {
	mu     sync.Mutex
	steps  []string
	labels map[string]string
	done   map[string]bool
	fn     func(DiagProgress)
}

func newStepTracker(steps []string, fn func(DiagProgress)) *stepTracker {
	return &stepTracker{steps: steps, labels: map[string]string{}, done: map[string]bool{}, fn: fn}
}

func (s *stepTracker) setLabel(step, label string) {
	s.mu.Lock()
	s.labels[step] = label
	s.mu.Unlock()
}

// report passes on the findings of step, and marks it done when finished.
func (s *stepTracker) report(step string, fs []Finding, finished bool) {
	if s.fn == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if finished {
		s.done[step] = true
	}
	p := DiagProgress{Findings: fs, Total: len(s.steps)}
	for _, n := range s.steps {
		switch {
		case s.done[n]:
			p.Done++
		case s.labels[n] != "":
			p.Running = append(p.Running, s.labels[n])
		default:
			p.Running = append(p.Running, strings.ToUpper(n))
		}
	}
	s.fn(p)
}

// labPorts are the lab's listening ports by service (nil: port 25 only).
func (d DiagDiagnoser) labPorts() map[string]int {
	if d.LabAddr == nil {
		return nil
	}
	out := map[string]int{}
	for _, n := range []string{"smtp", "submission", "submissions", "pop3", "pop3s"} {
		if _, port, err := net.SplitHostPort(d.LabAddr(n)); err == nil {
			if p, err := strconv.Atoi(port); err == nil {
				out[n] = p
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// appTexts say in the app's terms what diag's texts say in the command
// line's: the app has no --dkim-selector, --port, --ca or password flags.
var appTexts = strings.NewReplacer(
	"Run again with --dkim-selector SELECTOR.", "Diagnose tries the lab's selector and the common ones; for another, run postlab diag --dkim-selector SELECTOR DOMAIN in a shell, or paste a signed message into Troubleshoot (6), which reads its s= tag.",
	"(set POSTLAB_PASSWORD or use --ask-password)", "(Diagnose never logs in; connect from the Session screen (1) with your password to try)",
	"pass its certificate with --ca FILE and run again", "start the app with --lab-host HOST --ca FILE (a teacher's lab), or run postlab diag --ca FILE in a shell",
	"pass its certificate with --ca FILE.", "start the app with --lab-host HOST --ca FILE (a teacher's lab), or run postlab diag --ca FILE in a shell.",
	"Retry with a longer --timeout or another --resolver.", "Retry (Enter in the field), or start the app with --resolver HOST:PORT for another resolver.",
	"or probe the port it really uses with --port ", "or, for a server on another port, run postlab diag --port ",
	" (the lab's SMTP is on 2525: --port smtp=2525).", " in a shell (Diagnose probes the lab's own ports by itself).",
	"try --resolver", "start the app with --resolver HOST:PORT",
	"(try --resolver)", "(start the app with --resolver HOST:PORT)",
	"with --resolver.", "(start the app with --resolver HOST:PORT).",
	"(--resolver)", "(start the app with --resolver HOST:PORT)",
	"another --resolver", "another resolver (start the app with --resolver HOST:PORT)",
	"with --resolver HOST:PORT", "when starting the app: postlab --resolver HOST:PORT",
)

// appTerms rewrites a text of diag for the app.
func appTerms(s string) string { return appTexts.Replace(s) }
