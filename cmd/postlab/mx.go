package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"
	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newMXCmd) }

// dnsFlags are the flags every DNS-using command of this file shares.
type dnsFlags struct {
	resolver string
	asJSON   bool
	timeout  time.Duration
	trace    bool
}

func (f *dnsFlags) add(cmd *cobra.Command, timeoutHelp string) {
	cmd.Flags().StringVar(&f.resolver, "resolver", "", "DNS resolver HOST:PORT (default: the servers in /etc/resolv.conf)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON instead of text")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 20*time.Second, timeoutHelp)
	cmd.Flags().BoolVar(&f.trace, "trace", false, "print every DNS query and answer, dig-style, on stderr")
}

// oneTarget is the Args check of mx, diag and settings: exactly one
// target, with a usage line and an example when it is missing.
func oneTarget(what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return usageErrorf("%s needs %s, e.g. %s (see '%s --help')", cmd.Name(), what, example, cmd.CommandPath())
		}
		return usageErrorf("%s takes one %s, got %d arguments; quote an address with a name: %s", cmd.Name(), strings.TrimPrefix(strings.TrimPrefix(what, "an "), "a "), len(args),
			cmd.CommandPath()+" 'Alice <alice@example.com>'")
	}
}

// writeJSON prints v as indented JSON (no HTML escaping: addresses have <>).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// client builds the resolver; a bad --resolver is a usage error.
func (f *dnsFlags) client(stderr io.Writer) (*diag.Client, error) {
	if f.timeout <= 0 {
		return nil, usageErrorf("--timeout must be positive")
	}
	c, err := diag.NewClient(f.resolver)
	if err != nil {
		if f.resolver != "" {
			return nil, usageErrorf("%v", err)
		}
		return nil, netErrorf("%v", err)
	}
	// Per attempt: the resolver's default, but leave room for a retry.
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if half := f.timeout / 2; half < c.Timeout {
		c.Timeout = half
	}
	if f.trace {
		c.Trace = stderr
	}
	return c, nil
}

// resolverFailure is the line of a lookup that got no usable answer: no
// response at all, or a REFUSED or SERVFAIL one (a network/DNS failure,
// exit 3). A run that got any answer reports on the domain instead.
func resolverFailure(resolver string, err error) error {
	var de *diag.DNSError
	if errors.As(err, &de) && !de.Unreachable() {
		hint := "it could not resolve the name: retry later, or pick another with --resolver HOST:PORT"
		if de.Rcode == dns.RcodeRefused {
			hint = "it refuses to answer this client: pick another with --resolver HOST:PORT"
		}
		return netErrorf("no usable answer from resolver %s: %v (%s)", resolver, err, hint)
	}
	return netErrorf("no answer from resolver %s: %v (check the network or pick another with --resolver HOST:PORT)", resolver, err)
}

// answerWatch remembers whether any query of a run got a usable answer and
// the last one that did not, so that a resolver refusing or failing every
// query is told apart from a domain with nothing to find.
type answerWatch struct {
	diag.Resolver
	mu       sync.Mutex
	answered bool
	lastErr  error
}

func (w *answerWatch) Exchange(ctx context.Context, name string, qtype uint16) (*diag.Answer, error) {
	a, err := w.Resolver.Exchange(ctx, name, qtype)
	var de *diag.DNSError
	w.mu.Lock()
	if err == nil {
		w.answered = true
	} else if errors.As(err, &de) {
		w.lastErr = err
	}
	w.mu.Unlock()
	return a, err
}

// failure is the last failed query when not one got a usable answer.
func (w *answerWatch) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.answered {
		return nil
	}
	return w.lastErr
}

// colorOn: colour only on a terminal and never with NO_COLOR (fatih/color
// works both out for stdout).
func colorOn(w io.Writer) bool {
	return w == io.Writer(os.Stdout) && !color.NoColor && os.Getenv("NO_COLOR") == ""
}

func newMXCmd() *cobra.Command {
	var f dnsFlags
	cmd := &cobra.Command{
		Use:   "mx [flags] DOMAIN|ADDRESS",
		Short: "Look up where mail for a domain goes: MX records, their addresses and problems",
		Long: `mx lists the MX records of a domain by preference with their TTLs and the A/AAAA
records of each exchanger, and flags what senders would trip over: no MX (the
implicit MX of RFC 5321 §5.1), a null MX (RFC 7505), an MX that is a CNAME, an
IP literal or has no address. It says which resolver answered and whether the
answer was DNSSEC-validated (the AD bit).

With --json it prints one object: {"domain", "resolver", "dnssec_validated",
"null_mx", "implicit", "mx": [{"preference", "host", "ttl", "cname",
"addresses": [{"ip", "ttl"}], "error"}], "findings": [{"check", "status",
"summary", "detail", "fix", "ref"}]}, and "error" (one line) when the lookup
could not be made at all, e.g. the resolver did not answer or refused (exit 3).

Exit codes: 0 mail can be delivered, 1 a problem was found, 2 usage error,
3 the resolver could not be reached or gave no usable answer (REFUSED,
SERVFAIL).`,
		Example: "  postlab mx example.com\n  postlab mx 'Alice <alice@example.com>'\n  postlab mx --resolver 127.0.0.1:2553 --trace alice@postlab.test",
		Args:    oneTarget("a DOMAIN or an ADDRESS", "postlab mx example.com"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			out := cmd.OutOrStdout()
			c, err := f.client(cmd.ErrOrStderr())
			if err != nil {
				var ee *exitError
				if f.asJSON && errors.As(err, &ee) && ee.code == exitNetwork {
					writeJSON(out, &diag.MXResult{Domain: t.Domain, Hosts: []diag.MXHost{}, Findings: []diag.Finding{}, Error: err.Error()})
				}
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			m := diag.LookupMailExchangers(ctx, c, t.Domain)
			var de *diag.DNSError
			if m.Err != nil && errors.As(m.Err, &de) {
				// No usable answer to the one query everything else hangs
				// on: the resolver failed, not the domain (exit 3, as diag).
				nerr := resolverFailure(c.Name(), m.Err)
				if f.asJSON {
					m.Error = nerr.Error()
					if err := writeJSON(out, m); err != nil {
						return err
					}
				}
				return nerr
			}
			if f.asJSON {
				if err := writeJSON(out, m); err != nil {
					return err
				}
			} else {
				printMX(out, m, colorOn(out))
			}
			rep := diag.Report{Findings: m.Findings}
			if rep.Failed() {
				return silentExit(exitFailed)
			}
			return nil
		},
	}
	f.add(cmd, "give up after this long")
	return cmd
}

// printMX prints the MX table and then every finding that is not a pass.
func printMX(w io.Writer, m *diag.MXResult, colorize bool) {
	bold := color.New(color.Bold)
	if colorize {
		bold.EnableColor()
	} else {
		bold.DisableColor()
	}
	dnssec := "not DNSSEC-validated"
	if m.DNSSEC {
		dnssec = "DNSSEC-validated (AD)"
	}
	fmt.Fprintf(w, "%s (answer from %s, %s)\n", bold.Sprint("MX for "+m.Domain), m.Resolver, dnssec)
	switch {
	case m.NullMX:
		fmt.Fprintln(w, "  null MX: the domain accepts no mail (RFC 7505)")
	case len(m.Hosts) > 0:
		if m.Implicit {
			fmt.Fprintln(w, "  no MX record: mail goes to the domain's own address (implicit MX, RFC 5321 §5.1)")
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PREF\tHOST\tTTL\tADDRESSES")
		for _, h := range m.Hosts {
			var addrs []string
			for _, a := range h.Addresses {
				addrs = append(addrs, fmt.Sprintf("%s (TTL %d)", a.IP, a.TTL))
			}
			if len(addrs) == 0 {
				addrs = []string{"-"}
			}
			host := h.Host
			if h.CNAME != "" {
				host += " -> " + h.CNAME
			}
			ttl := fmt.Sprint(h.TTL)
			if m.Implicit {
				ttl = "-"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", h.Preference, host, ttl, strings.Join(addrs, ", "))
		}
		tw.Flush()
	}
	var rest []diag.Finding
	for _, fd := range m.Findings {
		if fd.Status != diag.StatusPass {
			rest = append(rest, fd)
		}
	}
	if len(rest) > 0 {
		fmt.Fprintln(w)
		r := &diag.Report{Target: m.Domain, Resolver: m.Resolver, Findings: rest}
		r.WriteText(w, colorize)
	}
}
