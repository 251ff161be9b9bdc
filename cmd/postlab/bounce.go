package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newBounceCmd) }

func newBounceCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bounce FILE|-",
		Short: "Explain a bounce message: each failed recipient, why, and the fix",
		Long: `bounce reads one message (.eml, one mbox entry or raw RFC 5322; - for stdin) and
reports each failed recipient: the reason (bounce-classifier labels such as
userunknown, mailboxfull, blocked, authfailure), the enhanced status code, the
SMTP reply code, hard or soft, the remote server, the diagnostic text, and a
plain explanation with the fix.

It reads standard delivery status notifications (RFC 3464, RFC 6533) and the
own formats of Postfix, Exim, Sendmail, qmail, Courier, Exchange/Office 365,
Gmail, Yahoo/AOL, Amazon SES, Domino, MDaemon and others, also inside forwarded
messages. Auto-replies (RFC 3834), feedback reports (RFC 5965), success
notifications and ordinary mail are recognised and labelled as not a bounce.
Only the first 10 MB of the input are read.

Exit codes: 0 not a bounce (or only delay notices), 1 a bounce (at least one
recipient failed), 2 usage error or unreadable file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, closeFn, err := troubleOpen(args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := diag.ParseBounce(r)
			if err != nil {
				return usageErrorf("%v", err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := troubleJSON(out, rep); err != nil {
					return err
				}
			} else {
				printBounce(out, rep)
			}
			if rep.IsBounce && rep.Kind == "bounce" {
				return silentExit(exitFailed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// troubleOpen opens FILE or stdin for "-".
func troubleOpen(name string) (io.Reader, func(), error) {
	if name == "-" {
		return os.Stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, usageErrorf("cannot read %s: %v", name, err)
	}
	return f, func() { f.Close() }, nil
}

func printBounce(w io.Writer, rep *diag.BounceReport) {
	switch {
	case rep.IsBounce && rep.Kind == "delay":
		fmt.Fprintf(w, "A delay notice (%s): delivery is still being retried.\n", rep.Format)
	case rep.IsBounce:
		fmt.Fprintf(w, "A bounce (%s), %d failed recipient(s).\n", rep.Format, len(rep.Results))
	default:
		fmt.Fprintf(w, "Not a bounce: %s (%s).\n", rep.Kind, rep.Format)
	}
	if rep.ReportingMTA != "" {
		fmt.Fprintf(w, "Reported by %s.\n", rep.ReportingMTA)
	}
	for _, r := range rep.Results {
		hard := "soft (retrying or fixing may help)"
		if r.HardBounce {
			hard = "hard (stop sending to this address)"
		}
		fmt.Fprintf(w, "\n%s\n", firstNonEmptyStr(r.Recipient, "(recipient unknown)"))
		fmt.Fprintf(w, "  fix:        %s\n", r.Fix)
		fmt.Fprintf(w, "  reason:     %s\n", r.Reason)
		if r.Status != "" || r.ReplyCode != 0 {
			fmt.Fprintf(w, "  status:     %s  reply: %d\n", r.Status, r.ReplyCode)
		}
		if rep.IsBounce {
			fmt.Fprintf(w, "  bounce:     %s\n", hard)
		}
		if r.RemoteMTA != "" {
			fmt.Fprintf(w, "  remote:     %s\n", r.RemoteMTA)
		}
		if r.Diagnostic != "" {
			fmt.Fprintf(w, "  diagnostic: %s\n", r.Diagnostic)
		}
		fmt.Fprintf(w, "  meaning:    %s\n", r.Explanation)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func firstNonEmptyStr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
