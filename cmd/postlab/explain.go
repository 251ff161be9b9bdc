package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newExplainCmd) }

func newExplainCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain TEXT...",
		Short: "Explain a reply code, enhanced status code, reply line, POP3 -ERR or DSN Diagnostic-Code",
		Long: `explain says what a mail server's answer means, who has to act, whether it is
permanent, what a mail server does next and how to fix it, with RFC references.
It recognises the wording of the big providers' common rejections (Gmail,
Microsoft, Yahoo/AOL, iCloud, Mimecast, Proofpoint) and DNS blocklists.

The words of TEXT are joined into one input; quote a whole line to be safe.

Exit codes: 0 explained (whatever the code means), 2 usage error.`,
		Example: `  postlab explain 550
  postlab explain 5.7.26
  postlab explain '550 5.7.1 <x@example.com>: Relay access denied'
  postlab explain '-ERR [IN-USE] mailbox locked'
  postlab explain 'Diagnostic-Code: smtp; 421 4.7.0 [TSS04] Messages temporarily deferred'`,
		// POP3 lines start with "-ERR": take every word as text, except
		// our own flags.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var words []string
			for i := 0; i < len(args); i++ {
				switch a := args[i]; a {
				case "--json":
					asJSON = true
				case "-h", "--help":
					return cmd.Help()
				case "--":
					words = append(words, args[i+1:]...)
					i = len(args)
				default:
					words = append(words, a)
				}
			}
			text := strings.TrimSpace(strings.Join(words, " "))
			if text == "" {
				return usageErrorf("nothing to explain: give a code or a reply line")
			}
			e := diag.Explain(text)
			out := cmd.OutOrStdout()
			if asJSON {
				return troubleJSON(out, e)
			}
			printExplanation(out, e)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func troubleJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printExplanation(w io.Writer, e diag.Explanation) {
	fmt.Fprintf(w, "%s\n", e.Input)
	if e.Provider != "" {
		fmt.Fprintf(w, "  recognised: %s, %s\n", e.Provider, e.ProviderRule)
	}
	fmt.Fprintf(w, "  meaning:   %s\n", e.Meaning)
	for _, d := range e.Details {
		fmt.Fprintf(w, "             %s\n", d)
	}
	if e.Reason != "" {
		fmt.Fprintf(w, "  reason:    %s\n", e.Reason)
	}
	fmt.Fprintf(w, "  fault:     %s\n", e.Fault)
	fmt.Fprintf(w, "  outcome:   %s\n", e.Outcome)
	if e.NextStep != "" {
		fmt.Fprintf(w, "  next:      %s\n", e.NextStep)
	}
	if e.Fix != "" {
		fmt.Fprintf(w, "  fix:       %s\n", e.Fix)
	}
	if len(e.Refs) > 0 {
		fmt.Fprintf(w, "  see:       %s\n", strings.Join(e.Refs, "; "))
	}
}
