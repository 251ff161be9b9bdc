package main

import (
	"strings"

	"github.com/spf13/cobra"

	"postlab/explorer"
)

func init() { register(newPOP3Cmd) }

func newPOP3Cmd() *cobra.Command {
	var cf connFlags
	var tf traceFlags
	var mech string
	cmd := &cobra.Command{
		Use:   "pop3 [flags] HOST[:PORT]",
		Short: "Annotated interactive POP3 session (reads commands from stdin)",
		Long: `Connects to a POP3 server and sends each line read from stdin exactly as
typed, printing the conversation with an explanation under each line:
  ->  sent      <-  received      ~> <~  the same inside TLS
  ==  a note    **  an error
Multi-line answers (CAPA, LIST, UIDL, RETR, TOP) are read up to the final ".";
long messages are shown in part, with a note counting the rest.
Input can be piped: printf 'USER alice\r\nPASS wonderland\r\nLIST\r\nQUIT\r\n' | postlab pop3 127.0.0.1:2110
Port 110 by default, 995 with --tls.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPOP3(cmd, args[0], &cf, &tf, mech)
		},
	}
	cf.add(cmd, "STLS")
	tf.add(cmd)
	cmd.Flags().StringVar(&mech, "auth", "USER", "how --user logs in: USER (USER/PASS), APOP or PLAIN (AUTH PLAIN)")
	return cmd
}

func runPOP3(cmd *cobra.Command, target string, cf *connFlags, tf *traceFlags, mech string) error {
	opts, err := cf.options(target, 110, 995)
	if err != nil {
		return err
	}
	mech = strings.ToUpper(mech)
	if mech != "USER" && mech != "APOP" && mech != "PLAIN" {
		return usageErrorf("--auth %s: use USER, APOP or PLAIN", mech)
	}
	var pass string
	if cf.user != "" {
		if pass, err = readPassword("Password for " + cf.user + ": "); err != nil {
			return err
		}
	}
	r, err := newRenderer(cmd.OutOrStdout(), tf)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	opts.OnEvent = r.Event
	s, err := explorer.DialPOP3(ctx, opts)
	if s == nil {
		r.Close()
		return sessionExit(err)
	}
	defer s.Close()
	if err != nil && cf.starttls && !s.State().TLS && !s.Closed() {
		// Asked for TLS: never go on in clear text.
		s.Quit(ctx)
		r.Close()
		return failErrorf("STLS failed, not continuing without TLS: %v", err)
	}
	if err == nil && cf.user != "" {
		switch mech {
		case "USER":
			_, err = s.Login(ctx, cf.user, pass)
		case "APOP":
			_, err = s.Apop(ctx, cf.user, pass)
			if err != nil && !explorer.IsNetwork(err) && s.State().Phase == explorer.PhaseAuthz && s.Timestamp == "" {
				s.Note("error: " + err.Error())
			}
		case "PLAIN":
			_, err = s.AuthPlain(ctx, cf.user, pass)
		}
	}
	if err != nil && (explorer.IsNetwork(err) || s.Closed()) {
		r.Close()
		return sessionExit(err)
	}
	err = interact(ctx, cmd.InOrStdin(), s.Session, s.Line)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return err
}
