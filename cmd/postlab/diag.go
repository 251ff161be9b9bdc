package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newDiagCmd) }

// diagFlagHooks and diagRunHooks let later parts (the server probes) extend
// `postlab diag` from their own files: add flags, then add findings to the
// report after the DNS checks (rep.MX has the exchangers).
var (
	diagFlagHooks []func(cmd *cobra.Command)
	diagRunHooks  []func(ctx context.Context, cmd *cobra.Command, rep *diag.Report) error
)

func newDiagCmd() *cobra.Command {
	var f dnsFlags
	var ips, selectors, zones []string
	cmd := &cobra.Command{
		Use:   "diag [flags] DOMAIN|ADDRESS",
		Short: "Diagnose a domain's mail DNS: MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE, PTR, blocklists",
		Long: `diag checks everything DNS says about a domain's mail, concurrently, and prints
one finding per check with its status (pass, info, warn, fail, error), what it
means, how to fix it and the RFC behind it:

  MX        records, addresses, implicit and null MX (RFC 5321 §5.1, RFC 7505)
  SPF       one record, its syntax, a full evaluation for each MX address and
            each --ip with the 10-lookup and 2-void-lookup limits (RFC 7208)
  DMARC     the record or the organizational domain's, every tag, external
            report authorization (RFC 7489)
  DKIM      keys at --dkim-selector and common selectors: size, t=y, revoked (RFC 6376)
  MTA-STS   the TXT record and the HTTPS policy against the MX set (RFC 8461)
  TLS-RPT   the reporting record (RFC 8460)
  DANE      TLSA records of each MX (RFC 7672)
  PTR       forward-confirmed reverse DNS of each MX address
  DNSBL     each MX address on the --dnsbl zones (RFC 5782)

With --json it prints one object: {"target", "resolver", "duration_ms",
"findings": [{"check", "status", "summary", "detail", "fix", "ref"}],
"probes": [...]}, and "error" (one line) when the resolver failed (exit 3).

Exit codes: 0 no finding is fail or error, 1 some are, 2 usage error,
3 not one query got a usable answer (the resolver is unreachable, or
refuses or fails every query).`,
		Example: "  postlab diag example.com\n  postlab diag --no-probe --ip 192.0.2.7 --dkim-selector s1 --json bob@example.com\n" +
			"  postlab diag --resolver 127.0.0.1:2553 --port smtp=2525 --ca ~/.local/share/postlab/tls/cert.pem --dkim-selector lab postlab.test",
		Args: oneTarget("a DOMAIN or an ADDRESS", "postlab diag example.com"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			// The report names the parsed address or domain, not the
			// display name it may have been copied with.
			target := t.Domain
			if t.Address != "" {
				target = t.Address
			}
			opts := diag.Options{DKIMSelectors: selectors, CheckTimeout: f.timeout}
			for _, s := range ips {
				ip, err := netip.ParseAddr(s)
				if err != nil {
					return usageErrorf("--ip %q is not an IP address", s)
				}
				opts.IPs = append(opts.IPs, ip)
			}
			if cmd.Flags().Changed("dnsbl") {
				opts.DNSBLZones = []string{}
				for _, z := range zones {
					for _, z := range strings.Split(z, ",") {
						if z = strings.TrimSpace(z); z != "" {
							opts.DNSBLZones = append(opts.DNSBLZones, z)
						}
					}
				}
			}
			c, err := f.client(cmd.ErrOrStderr())
			if err != nil {
				var ee *exitError
				if f.asJSON && errors.As(err, &ee) && ee.code == exitNetwork {
					(&diag.Report{Target: target, Error: err.Error()}).WriteJSON(cmd.OutOrStdout())
				}
				return err
			}
			opts.Resolver = c
			rep, err := diag.Diagnose(cmd.Context(), target, opts)
			var ue *diag.UnreachableError
			if err != nil && !errors.As(err, &ue) {
				return usageErrorf("%v", err)
			}
			if ue == nil {
				for _, h := range diagRunHooks {
					if err := h(cmd.Context(), cmd, rep); err != nil {
						return err
					}
				}
			}
			out := cmd.OutOrStdout()
			var uerr error
			if ue != nil {
				// Worded as mx and settings word it (exit 3 in all three).
				uerr = resolverFailure(ue.Resolver, ue.Err)
				rep.Error = uerr.Error()
			}
			if f.asJSON {
				if err := rep.WriteJSON(out); err != nil {
					return err
				}
			} else if err := rep.WriteText(out, colorOn(out)); err != nil {
				return err
			}
			if uerr != nil {
				return uerr
			}
			if rep.Failed() {
				return silentExit(exitFailed)
			}
			return nil
		},
	}
	f.add(cmd, "time limit for each check")
	cmd.Flags().StringArrayVar(&ips, "ip", nil, "also evaluate SPF for this sending address (repeatable)")
	cmd.Flags().StringArrayVar(&selectors, "dkim-selector", nil, "check the DKIM key of this selector (repeatable)")
	cmd.Flags().StringArrayVar(&zones, "dnsbl", nil, "check MX addresses on this blocklist zone instead of the defaults (repeatable; "+strings.Join(diag.DefaultDNSBLZones, ", ")+")")
	for _, h := range diagFlagHooks {
		h(cmd)
	}
	return cmd
}
