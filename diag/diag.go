// Package diag diagnoses the mail DNS of a domain: MX (RFC 5321 §5.1, null MX
// RFC 7505), SPF (RFC 7208, evaluated here), DMARC (RFC 7489), DKIM keys
// (RFC 6376), MTA-STS (RFC 8461), TLS-RPT (RFC 8460), DANE TLSA (RFC 7672),
// reverse DNS and DNS blocklists (RFC 5782). Each check returns Findings with
// a status, an explanation, a fix and the RFC section behind the verdict.
//
// It also probes mail servers over real explorer sessions (banner, EHLO,
// STARTTLS and the certificate, DANE matching, relay; RFC 5321, RFC 3207,
// RFC 7672), discovers working client settings for an address (RFC 6186 and
// RFC 8314 SRV records, Thunderbird autoconfig), and reads the evidence a user
// has: reply lines (RFC 3463), bounces (RFC 3464 and the MTAs' own formats)
// and message headers (Received, RFC 8601 Authentication-Results, DKIM,
// RFC 8617 ARC).
//
// All DNS goes through a Resolver passed in by the caller, so every check runs
// against an in-process server in tests and against --resolver in the CLI.
package diag

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"
)

// Options configures Diagnose.
type Options struct {
	Resolver      Resolver                   // required
	IPs           []netip.Addr               // extra sending addresses to evaluate SPF for (--ip)
	DKIMSelectors []string                   // selectors to check besides CommonDKIMSelectors
	DNSBLZones    []string                   // nil means DefaultDNSBLZones
	CheckTimeout  time.Duration              // per check; default 20s
	HTTPClient    *http.Client               // for the MTA-STS policy; default: a client with a 10s timeout
	MTASTSURL     func(domain string) string // policy URL; default MTASTSPolicyURL
	// Progress, when set, is called once as each check (see CheckNames)
	// finishes, with that check's findings, from the check's goroutine;
	// every call returns before Diagnose does. The report's order does
	// not depend on it. A slow Progress holds up only its own check.
	Progress func(check string, findings []Finding)
}

// Target is what the user asked about: a domain, or an address and its domain.
type Target struct {
	Domain  string // A-label form, no trailing dot
	Address string // the whole address, when one was given
}

// ParseTarget accepts "example.com", "user@example.com" or an address with
// a display name, "Alice <alice@example.com>" (RFC 5322 §3.4, as copied
// from a mail client); IDNs become A-labels.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	var t Target
	if strings.ContainsAny(s, "<>") {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return t, fmt.Errorf("bad address %q: %v; want user@domain or \"Name <user@domain>\"", s, strings.TrimPrefix(err.Error(), "mail: "))
		}
		s = a.Address
	}
	dom := s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if i == 0 || i == len(s)-1 {
			return t, fmt.Errorf("bad address %q: want user@domain", s)
		}
		t.Address = s
		dom = s[i+1:]
	}
	dom = strings.TrimSuffix(dom, ".")
	a, err := idna.Lookup.ToASCII(dom)
	if err != nil || a == "" || !validDomain(a) {
		return t, fmt.Errorf("bad domain %q: want a name like example.com", dom)
	}
	t.Domain = strings.ToLower(a)
	return t, nil
}

// validDomain checks the syntax of a host name (labels of 1-63 characters,
// 253 in all); underscores are allowed as they appear in DNS names like _dmarc.
func validDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// UnreachableError means no DNS response arrived at all: the resolver is
// down or unreachable, so the report says nothing about the domain.
type UnreachableError struct {
	Resolver string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("no answer from resolver %s: %v (check the network or pick another with --resolver HOST:PORT)", e.Resolver, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// env is shared by the checks of one diagnosis.
type env struct {
	opts   Options
	r      Resolver
	target Target

	mxDone chan struct{}
	mx     *MXResult
}

// mxResult waits for the MX stage that runs alongside the checks.
func (e *env) mxResult(ctx context.Context) (*MXResult, error) {
	select {
	case <-e.mxDone:
		return e.mx, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// mxAddrs returns the distinct addresses of the MX hosts, in MX order.
func (m *MXResult) addrs() []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, h := range m.Hosts {
		for _, a := range h.Addresses {
			if !seen[a.IP] {
				seen[a.IP] = true
				out = append(out, a.IP)
			}
		}
	}
	return out
}

type check struct {
	name string
	run  func(ctx context.Context, e *env) []Finding
}

// checks run concurrently; the report lists them in this order.
var checks = []check{
	{"mx", checkMX},
	{"spf", checkSPF},
	{"dmarc", checkDMARC},
	{"dkim", checkDKIM},
	{"mta-sts", checkMTASTS},
	{"tls-rpt", checkTLSRPT},
	{"dane", checkDANE},
	{"ptr", checkPTR},
	{"dnsbl", checkDNSBL},
}

// CheckNames lists the checks Diagnose runs, in report order (the names
// Options.Progress is called with).
func CheckNames() []string {
	out := make([]string, len(checks))
	for i, ch := range checks {
		out[i] = ch.name
	}
	return out
}

// Diagnose runs every DNS check for target concurrently and returns the
// findings in a fixed order. The error is an *UnreachableError when not one
// DNS response arrived; the report is returned all the same.
func Diagnose(ctx context.Context, target string, opts Options) (*Report, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if opts.Resolver == nil {
		return nil, errors.New("diag: no resolver")
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 20 * time.Second
	}
	start := time.Now()
	c := newCache(opts.Resolver)
	e := &env{opts: opts, r: c, target: t, mxDone: make(chan struct{})}

	go func() {
		mctx, cancel := context.WithTimeout(ctx, opts.CheckTimeout)
		defer cancel()
		e.mx = LookupMailExchangers(mctx, c, t.Domain)
		close(e.mxDone)
	}()

	results := make([]chan []Finding, len(checks))
	for i, ch := range checks {
		results[i] = make(chan []Finding, 1)
		go func(ch check, out chan<- []Finding) {
			cctx, cancel := context.WithTimeout(ctx, opts.CheckTimeout)
			defer cancel()
			fs := runCheck(cctx, e, ch)
			if opts.Progress != nil {
				// A copy: the hook may keep or change it.
				opts.Progress(ch.name, append([]Finding(nil), fs...))
			}
			out <- fs
		}(ch, results[i])
	}
	rep := &Report{Target: target, Resolver: opts.Resolver.Name()}
	for _, r := range results {
		rep.Findings = append(rep.Findings, <-r...)
	}
	<-e.mxDone
	rep.MX = e.mx
	rep.DurationMS = time.Since(start).Milliseconds()
	if answered, lastErr := c.status(); !answered && lastErr != nil {
		return rep, &UnreachableError{Resolver: opts.Resolver.Name(), Err: lastErr}
	}
	return rep, nil
}

// runCheck runs one check and turns a panic or a timeout into an error finding,
// so one broken check never takes the report down.
func runCheck(ctx context.Context, e *env, ch check) (out []Finding) {
	defer func() {
		if p := recover(); p != nil {
			out = []Finding{{Check: ch.name + ".internal", Status: StatusError,
				Summary: fmt.Sprintf("the %s check crashed: %v", ch.name, p)}}
		}
	}()
	out = ch.run(ctx, e)
	// A socket deadline taken from ctx can fire just before ctx's own timer,
	// so look at the clock too.
	dl, ok := ctx.Deadline()
	if ctx.Err() == context.DeadlineExceeded || ok && !time.Now().Before(dl) {
		out = append(out, Finding{Check: ch.name + ".timeout", Status: StatusError,
			Summary: fmt.Sprintf("the %s check did not finish within %s", ch.name, e.opts.CheckTimeout),
			Detail:  "Its findings above may be incomplete.",
			Fix:     "Retry with a longer --timeout or another --resolver."})
	}
	return out
}

// dnsErrorFinding reports a lookup that could not be completed.
func dnsErrorFinding(check, what string, err error) Finding {
	return Finding{Check: check, Status: StatusError,
		Summary: fmt.Sprintf("could not look up %s", what),
		Detail:  err.Error(),
		Fix:     "Retry; if it persists, the domain's name servers or the resolver are failing (try --resolver)."}
}

// parallel runs f for each index and waits.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f(i)
		}(i)
	}
	wg.Wait()
}

// notChecked reports a check that depends on the MX hosts when the MX
// lookup failed: nothing is known about them, which is not "none".
func (m *MXResult) notChecked(check, what string) []Finding {
	if m.Err == nil {
		return nil
	}
	return []Finding{{Check: check, Status: StatusError,
		Summary: what + " not checked: the MX hosts could not be looked up",
		Detail:  m.Err.Error(),
		Fix:     "Fix the MX lookup first (see MX above), then run again."}}
}

// mxHostsAndAddrs waits for the MX stage and returns it, or a finding saying why not.
func (e *env) waitMX(ctx context.Context, check string) (*MXResult, []Finding) {
	m, err := e.mxResult(ctx)
	if err != nil {
		return nil, []Finding{{Check: check, Status: StatusError, Summary: "MX lookup did not finish", Detail: err.Error()}}
	}
	return m, nil
}
