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

Recipients the report lists as delayed (still being retried) are shown apart
and never counted as failed.

Input that is no message at all (empty, or its first line is no header field)
is said so in one line, like headers does.

Exit codes: 0 not a bounce (or only delay notices), 1 a bounce (at least one
recipient failed) or input that is no message, 2 usage error or unreadable
file.`,
		Args: oneFile("a bounce message FILE", "postlab bounce bounce.eml"),
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
			} else if rep.ParseError != "" {
				safef(out, "This does not parse as a message: %s.\n", rep.ParseError)
			} else {
				printBounce(out, rep)
			}
			if rep.ParseError != "" {
				return silentExit(exitFailed)
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
	// Everything below comes from the message: safef escapes it.
	switch {
	case rep.IsBounce && len(rep.Delayed) > 0:
		safef(w, "A bounce (%s): %s failed; %s delayed, still being retried.\n", rep.Format, recipients(len(rep.Results)), recipients(len(rep.Delayed)))
	case rep.IsBounce:
		safef(w, "A bounce (%s): %s failed.\n", rep.Format, recipients(len(rep.Results)))
	case rep.Kind == "delay":
		safef(w, "Not a bounce: a delay notice (%s): delivery to %s is still being retried.\n", rep.Format, recipients(len(rep.Delayed)))
	default:
		safef(w, "Not a bounce: %s (%s).\n", rep.Kind, rep.Format)
	}
	if rep.ReportingMTA != "" {
		safef(w, "Reported by %s.\n", rep.ReportingMTA)
	}
	for _, r := range rep.Results {
		printBounceResult(w, r, rep.IsBounce, "")
	}
	for _, r := range rep.Delayed {
		printBounceResult(w, r, false, " (delayed: still being retried)")
	}
	for _, n := range rep.Notes {
		safef(w, "note: %s\n", n)
	}
}

func printBounceResult(w io.Writer, r diag.BounceResult, bounce bool, tag string) {
	hard := "soft (retrying or fixing may help)"
	if r.HardBounce {
		hard = "hard (stop sending to this address)"
	}
	safef(w, "\n%s%s\n", firstNonEmptyStr(r.Recipient, "(recipient unknown)"), tag)
	// A field the bounce does not give is left out, never shown empty or 0.
	if r.Fix != "" {
		safef(w, "  fix:        %s\n", r.Fix)
	}
	if r.Reason != "" {
		safef(w, "  reason:     %s\n", r.Reason)
	}
	switch {
	case r.Status != "" && r.ReplyCode != 0:
		safef(w, "  status:     %s  reply: %d\n", r.Status, r.ReplyCode)
	case r.Status != "":
		safef(w, "  status:     %s\n", r.Status)
	case r.ReplyCode != 0:
		safef(w, "  reply:      %d\n", r.ReplyCode)
	}
	if bounce {
		safef(w, "  bounce:     %s\n", hard)
	}
	if r.RemoteMTA != "" {
		safef(w, "  remote:     %s\n", r.RemoteMTA)
	}
	if r.Diagnostic != "" {
		safef(w, "  diagnostic: %s\n", r.Diagnostic)
	}
	if r.Explanation != "" {
		safef(w, "  meaning:    %s\n", r.Explanation)
	}
}

func recipients(n int) string {
	if n == 1 {
		return "1 recipient"
	}
	return fmt.Sprintf("%d recipients", n)
}

func firstNonEmptyStr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
