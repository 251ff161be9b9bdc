package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newHeadersCmd) }

func newHeadersCmd() *cobra.Command {
	var asJSON, noDNS bool
	var resolver string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "headers FILE|-",
		Short: "Read a message's headers: the Received path, delays, SPF/DKIM/DMARC/ARC results",
		Long: `headers reads one message (- for stdin) and shows the Received chain oldest
first with the delay of each hop (warning about clock skew and unparseable
dates), the Authentication-Results of each receiving server (RFC 8601), the ARC
chain verified against DNS (RFC 8617), every DKIM-Signature verified against
DNS (RFC 6376, with the reason when it fails) and a summary in words.

DNS goes to --resolver HOST:PORT, or the first server of /etc/resolv.conf.
Only the first 10 MB of the input are read.

Exit codes: 0 the signatures and ARC chain verify (or there are none, or they
were not checked), 1 a DKIM signature or the ARC chain fails, or the input does
not parse as a message header, 2 usage error, 3 every DNS lookup failed.`,
		Args: oneFile("a message FILE", "postlab headers message.eml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, closeFn, err := troubleOpen(args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			raw, cut, err := diag.ReadLimited(r, diag.HeadersMaxBytes)
			if err != nil {
				return usageErrorf("reading %s: %v", args[0], err)
			}
			var opt diag.HeadersOptions
			var dns interface{ AllFailed() bool }
			if !noDNS {
				l, err := diag.NewHeadersResolver(resolver, timeout)
				if err != nil {
					return usageErrorf("%v", err)
				}
				opt.LookupTXT = l.LookupTXT
				dns = l
			}
			rep := diag.AnalyzeHeaders(raw, opt)
			if rep.ParseError != "" {
				// Nothing to check: say so, like bounce does, and fail.
				out := cmd.OutOrStdout()
				if asJSON {
					if err := troubleJSON(out, rep); err != nil {
						return err
					}
				} else {
					safef(out, "%s\n", rep.Summary)
				}
				return silentExit(exitFailed)
			}
			if cut {
				rep.Warnings = append(rep.Warnings, "only the first 10 MB were read")
			}
			if dns != nil && dns.AllFailed() {
				rep.NetworkFailed = true
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := troubleJSON(out, rep); err != nil {
					return err
				}
			} else {
				printHeaders(out, rep)
			}
			if rep.NetworkFailed {
				return netErrorf("every DNS lookup to the resolver failed; DKIM and ARC could not be verified")
			}
			failed := rep.ARC.Verdict == "fail"
			for _, d := range rep.DKIM {
				if d.Result == "fail" || d.Result == "permerror" {
					failed = true
				}
			}
			if failed {
				return silentExit(exitFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&resolver, "resolver", "", "DNS server HOST:PORT for DKIM and ARC keys (default: /etc/resolv.conf)")
	f.DurationVar(&timeout, "timeout", 5*time.Second, "timeout of each DNS query")
	f.BoolVar(&noDNS, "no-dns", false, "do not verify signatures (no DNS queries)")
	return cmd
}

func printHeaders(w io.Writer, rep *diag.HeaderReport) {
	// Every value comes from the message: safef escapes control characters.
	safef(w, "%s\n\n", rep.Summary)
	hops := "hops"
	if rep.ReceivedCount == 1 {
		hops = "hop"
	}
	safef(w, "Received chain (%d %s, oldest first):\n", rep.ReceivedCount, hops)
	for _, h := range rep.Hops {
		when, delay := "(no valid date)", ""
		if h.Time != nil {
			when = h.Time.Format(time.RFC1123Z)
		}
		if h.DelayS != nil {
			delay = fmt.Sprintf("  +%s", time.Duration(*h.DelayS)*time.Second)
		}
		safef(w, "  %d. %s%s\n     from %s\n     by %s", h.N, when, delay, firstNonEmptyStr(h.From, "-"), firstNonEmptyStr(h.By, "-"))
		if h.With != "" {
			safef(w, " with %s", h.With)
		}
		if h.ID != "" {
			safef(w, " id %s", h.ID)
		}
		if h.For != "" {
			safef(w, " for %s", h.For)
		}
		fmt.Fprintln(w)
	}
	measured := false
	for _, h := range rep.Hops {
		measured = measured || h.DelayS != nil
	}
	switch b := rep.BiggestDelay; {
	case b != nil:
		safef(w, "  biggest delay: hop %d, %s\n", b.N, time.Duration(*b.DelayS)*time.Second)
	case measured:
		safef(w, "  no measurable delay: every hop took less than the 1 s resolution of the Received dates\n")
	}
	if len(rep.AuthResults) > 0 {
		fmt.Fprintln(w, "\nAuthentication-Results (newest first):")
		for _, ar := range rep.AuthResults {
			safef(w, "  %s\n", firstNonEmptyStr(ar.AuthservID, "(no authserv-id)"))
			for _, r := range ar.Results {
				safef(w, "    %s=%s", r.Method, r.Result)
				if r.Comment != "" {
					safef(w, " (%s)", r.Comment)
				}
				keys := make([]string, 0, len(r.Props))
				for k := range r.Props {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					safef(w, " %s=%s", k, r.Props[k])
				}
				if r.Reason != "" {
					safef(w, " reason=%q", r.Reason)
				}
				fmt.Fprintln(w)
			}
		}
	}
	if rep.ARC.Sets > 0 {
		safef(w, "\nARC: %d set(s), %s", rep.ARC.Sets, rep.ARC.Verdict)
		if rep.ARC.Reason != "" {
			safef(w, ": %s", rep.ARC.Reason)
		}
		fmt.Fprintln(w)
	}
	if len(rep.DKIM) > 0 {
		fmt.Fprintln(w, "\nDKIM signatures:")
		for _, d := range rep.DKIM {
			safef(w, "  d=%s s=%s: %s", d.Domain, d.Selector, d.Result)
			if d.Reason != "" {
				safef(w, " (%s)", d.Reason)
			}
			fmt.Fprintln(w)
		}
	}
	for _, x := range rep.Warnings {
		safef(w, "warning: %s\n", x)
	}
}
