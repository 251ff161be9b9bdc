package main

import (
	"context"

	"github.com/spf13/cobra"

	"postlab/diag"
)

// Server probes for `postlab diag`: flags and a run hook (see diag.go).
// They run by default, since "is my mail server set up right?" is half of
// what diag is for; --no-probe gives the DNS part alone (e.g. where outbound
// port 25 is blocked).

type probeFlags struct {
	noProbe    bool
	ports      []string
	caFile     string
	relayTest  bool
	showTraces bool
	helo       string
}

func init() {
	var pf probeFlags
	diagFlagHooks = append(diagFlagHooks, func(cmd *cobra.Command) {
		pf = probeFlags{}
		fl := cmd.Flags()
		fl.BoolVar(&pf.noProbe, "no-probe", false, "DNS checks only: do not connect to the MX servers (e.g. where your network blocks outbound port 25)")
		fl.StringSliceVar(&pf.ports, "port", nil, "probe these services and ports on each MX address, e.g. smtp=2525,submission=2587,pop3s (default smtp=25)")
		fl.StringVar(&pf.caFile, "ca", "", "also trust the CA certificates in this PEM file")
		fl.BoolVar(&pf.relayTest, "relay-test", false, "also test for an open relay: MAIL FROM and RCPT TO two outside addresses (never sends DATA)")
		fl.BoolVar(&pf.showTraces, "show-traces", false, "print the full session trace of every probe before the report")
		fl.StringVar(&pf.helo, "helo", "", "name to send in EHLO (default localhost)")
	})
	diagRunHooks = append(diagRunHooks, func(ctx context.Context, cmd *cobra.Command, rep *diag.Report) error {
		if pf.noProbe {
			if len(pf.ports) > 0 || pf.relayTest || pf.showTraces {
				return usageErrorf("--no-probe cannot be combined with --port, --relay-test or --show-traces")
			}
			return nil
		}
		ports, err := diag.ParsePorts(pf.ports)
		if err != nil {
			return usageErrorf("%v", err)
		}
		// --timeout bounds each check, and a server probe is one.
		timeout, _ := cmd.Flags().GetDuration("timeout")
		if timeout <= 0 {
			return usageErrorf("--timeout must be positive")
		}
		roots, err := loadRoots(pf.caFile)
		if err != nil {
			return err
		}
		resolverAddr, _ := cmd.Flags().GetString("resolver")
		r, err := diag.NewClient(resolverAddr)
		if err != nil {
			return usageErrorf("%v", err)
		}
		if tr, _ := cmd.Flags().GetBool("trace"); tr {
			r.Trace = cmd.ErrOrStderr()
		}
		t, err := parseTarget(rep.Target)
		if err != nil {
			return usageErrorf("%v", err)
		}
		opts := diag.ProbeOptions{Resolver: r, Ports: ports, RootCAs: roots, Timeout: timeout,
			Helo: pf.helo, RelayTest: pf.relayTest, Domain: t.Domain}
		// The MTA-STS policy, when the domain has one, for "MTA-STS satisfied".
		pctx, cancel := context.WithTimeout(ctx, timeout)
		pol, perr := diag.LookupMTASTSPolicy(pctx, r, diag.HTTPClientVia(r, roots, timeout), "", t.Domain)
		cancel()
		opts.MTASTS = pol
		probes, fs := diag.ProbeServers(ctx, rep.MX, opts)
		rep.Add(fs...)
		if perr != nil && probes != nil {
			// Unknown, not "no policy": the servers were not held to it.
			rep.Add(diag.Finding{Check: "tls.mta-sts", Status: diag.StatusInfo,
				Summary: "MTA-STS not checked on the servers: the policy could not be looked up or fetched",
				Detail:  perr.Error() + "\nSee MTA-STS above for the record and the policy.", Ref: "RFC 8461 §3, §4"})
		}
		if rep.Extra == nil {
			rep.Extra = map[string]any{}
		}
		if probes == nil {
			probes = []*diag.Probe{}
		}
		rep.Extra["probes"] = probes
		if pf.showTraces {
			asJSON, _ := cmd.Flags().GetBool("json")
			if !asJSON {
				diag.WriteTraces(cmd.OutOrStdout(), probes)
			}
		}
		return nil
	})
}
