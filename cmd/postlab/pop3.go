package main

import (
	"context"
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
Port 110 by default, 995 with --tls.

--user logs in before the first typed line (CAPA, then USER/PASS, APOP or
AUTH PLAIN as --auth says), but only inside TLS (--starttls or --tls) and
only with a method the server offers; --allow-plaintext-auth lifts the TLS
rule for practice against postlab serve --insecure-auth.

Exit status: 0 the session ran, 1 an automatic step (STLS, the login) was
refused or the server closed the session without QUIT, 2 usage error,
3 network or TLS failure, or a malformed response, 130 interrupted (Ctrl-C).`,
		Args: oneHost("postlab pop3 127.0.0.1:2110"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPOP3(cmd, args[0], &cf, &tf, mech)
		},
	}
	cf.add(cmd, "STLS")
	tf.add(cmd)
	cmd.Flags().StringVar(&mech, "auth", "USER", "how --user logs in, `MECH`: USER (USER/PASS), APOP or PLAIN (AUTH PLAIN)")
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
	return runLineSession(cmd, cf, tf, opts, func(ctx context.Context, opts explorer.Options) (*lineConn, error) {
		s, err := explorer.DialPOP3(ctx, opts)
		if s == nil {
			return nil, err
		}
		return &lineConn{
			Session: s.Session,
			quit:    func(ctx context.Context) { s.Quit(ctx) },
			line:    s.Line,
			watch:   s.WatchIdle,
			dialFailed: func(err error) (string, string) {
				if s.State().Command != "STLS" {
					return "banner", ""
				}
				if !explorer.IsNetwork(err) {
					return "tls", " (not continuing without TLS)"
				}
				return "tls", ""
			},
			auto: func(ctx context.Context, pass string) (string, error) {
				if cf.user == "" {
					return "", nil
				}
				if err := pop3AuthGuard(ctx, s, mech, cf.allowPlain); err != nil {
					return "auth", err
				}
				var err error
				switch mech {
				case "USER":
					_, err = s.Login(ctx, cf.user, pass)
				case "APOP":
					_, err = s.Apop(ctx, cf.user, pass)
				case "PLAIN":
					_, err = s.AuthPlain(ctx, cf.user, pass)
				}
				if err != nil {
					return "auth", err
				}
				return "", nil
			},
		}, err
	})
}

// pop3AuthGuard asks CAPA (RFC 2449) when it has not been asked since the
// last STLS and decides whether the automatic login may go ahead: only
// inside TLS (RFC 8314 §3) unless --allow-plaintext-auth, and only with a
// method the server offers (USER, SASL PLAIN, the APOP timestamp).
func pop3AuthGuard(ctx context.Context, s *explorer.POP3Session, mech string, allowPlain bool) error {
	capa := s.Capabilities() != nil
	if !capa {
		if _, err := s.Capa(ctx); err != nil && (explorer.IsNetwork(err) || s.Closed()) {
			return err
		}
		capa = s.Capabilities() != nil // a -ERR: an old server, nothing to check
	}
	inTLS := s.State().TLS
	_, hasSTLS := s.Supports("STLS")
	offered := true
	what := map[string]string{"USER": "USER/PASS", "PLAIN": "AUTH PLAIN", "APOP": "APOP"}[mech]
	switch mech {
	case "USER":
		_, offered = s.Supports("USER")
	case "PLAIN":
		sasl, _ := s.Supports("SASL")
		offered = false
		for _, m := range sasl.Params {
			offered = offered || strings.EqualFold(m, "PLAIN")
		}
	case "APOP":
		offered = s.Timestamp != ""
	}
	switch {
	case !offered && mech == "APOP":
		return failErrorf("auth: this server's greeting has no <timestamp>, so it does not offer APOP (RFC 1939 §7): use --auth USER or PLAIN")
	case !inTLS && capa && !offered && hasSTLS:
		return usageErrorf("auth: this server offers %s only after STLS (its CAPA on a clear connection lacks it): add --starttls", what)
	case !inTLS && !allowPlain:
		hint := ""
		if mech == "APOP" {
			hint = " (APOP sends a digest, not the password, but whoever records it can try passwords against it)"
		}
		return usageErrorf("auth: not sending credentials over a connection without TLS%s: add --starttls (or --tls on port 995); --allow-plaintext-auth sends them anyway, for practice against postlab serve --insecure-auth", hint)
	case capa && !offered:
		return failErrorf("auth: this server does not offer %s (see its CAPA): try another --auth (USER, PLAIN or APOP)", what)
	}
	return nil
}
