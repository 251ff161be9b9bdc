package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"postlab/diag"
)

func init() { register(newSettingsCmd) }

// loadRoots is the system pool plus the PEM certificates of caFile.
func loadRoots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, usageErrorf("--ca: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--ca %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

func newSettingsCmd() *cobra.Command {
	var f dnsFlags
	var caFile string
	var ask, showTraces bool
	cmd := &cobra.Command{
		Use:   "settings [flags] ADDRESS",
		Short: "Find which POP3 and SMTP settings work for an address (and log in to check)",
		Long: `settings finds the incoming (POP3) and outgoing (SMTP submission) settings for
an address the way a mail client would, all at once:

  SRV records      _submissions, _submission, _pop3s, _pop3, _imaps, _imap
                   (RFC 6186, RFC 8314), with the ports they publish
  autoconfig       https://autoconfig.DOMAIN/mail/config-v1.1.xml and
                   https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml
  MX               the MX host and its parent domain
  guesses          pop., pop3., mail., smtp. and the domain itself

and probes every candidate host on POP3 995 (TLS), 110 (STLS, plain) and SMTP
465 (TLS), 587 and 25 (STARTTLS, plain): reachable, TLS, certificate valid for
the name, AUTH mechanisms after TLS. IMAP ports are reported as "available,
not explored".

With a password (POSTLAB_PASSWORD, or --ask-password for a prompt) it logs in
on both sides, with the address and then the local part as user name, only
over TLS with a trusted certificate. It never sends a message.

The recommendation prefers implicit TLS over STARTTLS, never plain text.

Exit codes: 0 a working incoming and outgoing setting was found, 1 not,
2 usage error, 3 the resolver could not be reached or gave no usable answer
(REFUSED, SERVFAIL) to any query.

With --json it prints {"address", "incoming": [...], "outgoing": [...],
"recommended": {"incoming", "outgoing"}}, each setting with protocol, host,
port, security, source, reachable, tls, cert_ok, auth_mechanisms, login and
error; and "error" (one line) when the resolver failed (exit 3).`,
		Example: "  postlab settings alice@example.com\n  POSTLAB_PASSWORD=wonderland postlab settings --resolver 127.0.0.1:2553 --ca ~/.local/share/postlab/tls/cert.pem alice@postlab.test",
		Args:    oneTarget("an ADDRESS", "postlab settings alice@example.com"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			if t.Address == "" {
				return usageErrorf("%q is not an address: settings wants user@domain", args[0])
			}
			roots, err := loadRoots(caFile)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			c, err := f.client(cmd.ErrOrStderr())
			if err != nil {
				var ee *exitError
				if f.asJSON && errors.As(err, &ee) && ee.code == exitNetwork {
					writeJSON(out, &diag.SettingsResult{Address: t.Address, Incoming: []*diag.Setting{}, Outgoing: []*diag.Setting{}, Error: err.Error()})
				}
				return err
			}
			watch := &answerWatch{Resolver: c}
			opts := diag.SettingsOptions{Resolver: watch, RootCAs: roots, Timeout: f.timeout}
			if passwordSet() || ask {
				pw, err := readPassword("Password for " + t.Address + ": ")
				if err != nil {
					return err
				}
				opts.Password, opts.HavePassword = pw, true
			}
			res, err := diag.DiscoverSettings(cmd.Context(), args[0], opts)
			if err != nil {
				return usageErrorf("%v", err)
			}
			var unreachable error
			if ferr := watch.failure(); !res.Works() && ferr != nil {
				// Not one usable answer: the resolver failed, not the domain.
				unreachable = resolverFailure(c.Name(), ferr)
				res.Error = unreachable.Error()
			} else if !res.Works() && res.DNSUnreachable {
				unreachable = netErrorf("no answer from resolver %s (check the network or pick another with --resolver HOST:PORT)", c.Name())
				res.Error = unreachable.Error()
			}
			if f.asJSON {
				if err := writeJSON(out, res); err != nil {
					return err
				}
			} else {
				writeSettings(out, res, c.Name(), opts.HavePassword, colorOn(out))
				if showTraces {
					writeSettingsTraces(out, res)
				}
			}
			if unreachable != nil {
				return unreachable
			}
			if !res.Works() {
				return silentExit(exitFailed)
			}
			return nil
		},
	}
	f.add(cmd, "time limit for each probe and lookup (the whole run takes about twice this at most)")
	tf := cmd.Flags().Lookup("timeout")
	tf.DefValue = "8s"
	tf.Value.Set("8s")
	cmd.Flags().StringVar(&caFile, "ca", "", "also trust the CA certificates in this PEM file (e.g. the lab's DATA/tls/cert.pem)")
	cmd.Flags().BoolVar(&ask, "ask-password", false, "prompt for the password (without echo) and test logging in")
	cmd.Flags().BoolVar(&showTraces, "show-traces", false, "print the session trace of every reachable candidate")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeSettings(w io.Writer, res *diag.SettingsResult, resolver string, havePassword, colorize bool) {
	paint := func(attrs ...color.Attribute) func(string) string {
		c := color.New(attrs...)
		if colorize {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return func(s string) string { return c.Sprint(s) }
	}
	bold, dim, green, red := paint(color.Bold), paint(color.Faint), paint(color.FgGreen), paint(color.FgRed, color.Bold)
	fmt.Fprintf(w, "%s\n%s\n", bold("Mail settings for "+res.Address),
		dim(fmt.Sprintf("resolver %s, %s", resolver, (time.Duration(res.DurationMS)*time.Millisecond).String())))
	table := func(title string, ss []*diag.Setting) {
		fmt.Fprintf(w, "\n%s\n", bold(title))
		if len(ss) == 0 {
			fmt.Fprintln(w, "  no candidate resolved")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PROTO\tHOST\tPORT\tSECURITY\tSOURCE\tREACHABLE\tTLS\tCERT\tAUTH\tLOGIN\tNOTE")
		for _, s := range ss {
			cert := "-"
			if s.TLS {
				cert = map[bool]string{true: "ok", false: "BAD"}[s.CertOK]
			}
			auth := strings.Join(s.AuthMechanisms, " ")
			if auth == "" {
				auth = "-"
			}
			note := s.Error
			if s.Note != "" {
				note = strings.TrimSpace(s.Note + "; " + note)
				note = strings.TrimSuffix(note, ";")
			}
			if s.Protocol == "imap" && s.Reachable {
				note = strings.TrimSuffix("available, not explored; "+note, "; ")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Protocol, s.Host, s.Port, s.Security, s.Source,
				yesNo(s.Reachable), yesNo(s.TLS), cert, auth, s.Login, note)
		}
		tw.Flush()
	}
	table("Incoming (POP3; IMAP detected only)", res.Incoming)
	table("Outgoing (SMTP submission)", res.Outgoing)
	if len(res.Unresolved) > 0 {
		fmt.Fprintf(w, "\n%s %s\n", dim("not in DNS:"), dim(strings.Join(res.Unresolved, ", ")))
	}
	if len(res.LookupFailed) > 0 {
		fmt.Fprintf(w, "\n%s\n", bold("DNS lookup failed (so these were not tried; retry or use another --resolver):"))
		for _, f := range res.LookupFailed {
			fmt.Fprintln(w, "  "+f)
		}
	}
	if len(res.Discovery) > 0 {
		fmt.Fprintf(w, "\n%s\n", bold("Discovery"))
		for _, d := range res.Discovery {
			fmt.Fprintln(w, "  "+d)
		}
	}
	fmt.Fprintf(w, "\n%s\n", bold("Recommended"))
	rec := func(label string, s *diag.Setting, why []string) {
		if s == nil {
			fmt.Fprintf(w, "  %s %s\n", label, red("none found"))
		} else {
			sec := map[string]string{"tls": "SSL/TLS", "starttls": "STARTTLS"}[s.Security]
			user := "your full address " + res.Address + " (or the part before @)"
			if s.User != "" {
				user = s.User
			}
			fmt.Fprintf(w, "  %s %s\n", label, green(fmt.Sprintf("%s %s port %d, %s, user name %s", strings.ToUpper(s.Protocol), s.Host, s.Port, sec, user)))
		}
		for _, r := range why {
			fmt.Fprintf(w, "      %s %s\n", dim("-"), r)
		}
	}
	rec("incoming:", res.Recommended.Incoming, res.Recommended.IncomingWhy)
	rec("outgoing:", res.Recommended.Outgoing, res.Recommended.OutgoingWhy)
	if !havePassword {
		fmt.Fprintln(w, dim("\n(no login tested: set POSTLAB_PASSWORD or use --ask-password)"))
	}
}

func writeSettingsTraces(w io.Writer, res *diag.SettingsResult) {
	for _, s := range append(append([]*diag.Setting{}, res.Incoming...), res.Outgoing...) {
		if !s.Reachable || len(s.Trace) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n── trace: %s %s:%d %s ──\n", s.Protocol, s.Host, s.Port, s.Security)
		for _, ev := range s.Trace {
			fmt.Fprintf(w, "%s %s\n", ev.Time.Format("15:04:05.000"), traceLine(string(ev.Dir), ev.Line))
		}
	}
}

func traceLine(dir, line string) string {
	switch dir {
	case "c2s":
		return "C: " + line
	case "s2c":
		return "S: " + line
	}
	return "   * " + line
}
