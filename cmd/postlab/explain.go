package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

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
A POP3 '-ERR ...' line is taken as text, quoted or not; after -- every
argument is text, even one that starts with '-'.

Exit codes: 0 explained (whatever the code means), 2 usage error (including
input that is no reply code, status code or reply line).`,
		Example: `  postlab explain 550
  postlab explain 5.7.26
  postlab explain '550 5.7.1 <x@example.com>: Relay access denied'
  postlab explain '-ERR [IN-USE] mailbox locked'
  postlab explain --json 'Diagnostic-Code: smtp; 421 4.7.0 [TSS04] Messages temporarily deferred'
  postlab explain --json -- '-ERR [SYS/TEMP] try again later'`,
		// cobra's parser would read a POP3 "-ERR ..." argument as the
		// shorthand flags -E -R -R: the arguments go to this command's own
		// flag set instead, with each -ERR argument set aside first.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			words, err := parseExplainArgs(cmd, args)
			if err != nil {
				return err
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			text := strings.TrimSpace(strings.Join(words, " "))
			if text == "" {
				return usageErrorf("nothing to explain: give a code or a reply line")
			}
			e := diag.Explain(text)
			if e.Kind == diag.KindUnrecognised {
				return usageErrorf("%s is not a reply code, status code or reply line: give e.g. 550, 5.7.1 or '550 5.7.1 Relay access denied'", termQuote(text))
			}
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

// reERRArg is an argument that is (the start of) a POP3 -ERR response.
var reERRArg = regexp.MustCompile(`^(?i)-ERR(\s|\[|$)`)

// parseExplainArgs parses the flags like cobra would (unknown flags are
// usage errors, "--" ends the flags) but keeps -ERR arguments as text.
func parseExplainArgs(cmd *cobra.Command, args []string) ([]string, error) {
	masked := make([]string, len(args))
	kept := map[string]string{}
	for i, a := range args {
		masked[i] = a
		if reERRArg.MatchString(a) {
			key := fmt.Sprintf("\x00pop3-%d", i)
			kept[key] = a
			masked[i] = key
		}
	}
	fs := cmd.Flags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(masked); err != nil {
		return nil, usageErrorf("%v (see '%s --help'; put text that starts with '-' after --)", err, cmd.CommandPath())
	}
	words := fs.Args()
	for i, w := range words {
		if v, ok := kept[w]; ok {
			words[i] = v
		}
	}
	return words, nil
}

func troubleJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printExplanation(w io.Writer, e diag.Explanation) {
	// The input is echoed line by line; every string is escaped (safef).
	for _, l := range strings.Split(strings.ReplaceAll(e.Input, "\r\n", "\n"), "\n") {
		safef(w, "%s\n", l)
	}
	if e.Provider != "" {
		safef(w, "  recognised: %s, %s\n", e.Provider, e.ProviderRule)
	}
	safef(w, "  meaning:   %s\n", e.Meaning)
	for _, d := range e.Details {
		safef(w, "             %s\n", d)
	}
	if e.Reason != "" {
		safef(w, "  reason:    %s\n", e.Reason)
	}
	safef(w, "  fault:     %s\n", e.Fault)
	safef(w, "  outcome:   %s\n", e.Outcome)
	if e.NextStep != "" {
		safef(w, "  next:      %s\n", e.NextStep)
	}
	if e.Fix != "" {
		safef(w, "  fix:       %s\n", e.Fix)
	}
	if len(e.Refs) > 0 {
		safef(w, "  see:       %s\n", strings.Join(e.Refs, "; "))
	}
}

// safef is fmt.Fprintf for text renderers whose arguments come from
// untrusted input (a reply, a bounce, a header): control characters and
// invalid UTF-8 in string arguments are shown as \xNN escapes so they
// cannot move the cursor, retitle the window or ring the bell.
func safef(w io.Writer, format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = termSafe(s)
		}
	}
	fmt.Fprintf(w, format, args...)
}

// termSafe escapes C0 and C1 control characters, DEL and invalid UTF-8
// bytes; tabs and printable text (any script) are kept.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 && r != '\t' || r >= 0x7f && r < 0xa0 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\t' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// termQuote quotes user input for an error line, escaped and bounded.
func termQuote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return "'" + termSafe(s) + "'"
}
