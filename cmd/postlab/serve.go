package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/explorer/lab/labdns"
)

func init() { register(newServeCmd) }

// serveContext is what ends `postlab serve` besides a signal; tests replace it.
var serveContext = context.Background

// serveStarted, when set, is told about the running lab (tests).
var serveStarted func(*lab.Lab)

// shutdownGrace bounds how long sessions in a transaction may take to finish.
const shutdownGrace = 10 * time.Second

func newServeCmd() *cobra.Command {
	d := lab.DefaultConfig()
	cfg := d
	var users, dnsFaults []string
	var trace bool
	var scenario string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the practice mail server (the lab) in the foreground",
		Long: `Run the lab headless: SMTP in the MX role, submission with STARTTLS and with
implicit TLS, POP3 with STLS and POP3S, and DNS for the practice domain
postlab.test, storing mail in Maildirs under the data dir. Ctrl-C stops it
cleanly. Give a listener the address "off" to disable it.

The practice users alice (password wonderland) and bob (password builder)
exist only while every listener is on loopback. --user NAME adds a user whose
password comes from POSTLAB_PASSWORD or a prompt.`,
		Example: `  postlab serve
  postlab serve --smtp 127.0.0.1:25025 --dns off
  POSTLAB_PASSWORD=secret postlab serve --user carol --smtp 0.0.0.0:2525`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd, cfg, serveOpts{users: users, trace: trace, scenario: scenario, dnsFaults: dnsFaults})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", d.DataDir, "data directory (Maildirs, users, TLS and DKIM keys)")
	f.StringVar(&cfg.SMTP, "smtp", d.SMTP, "SMTP (MX role) listen address, or off")
	f.StringVar(&cfg.Submission, "submission", d.Submission, "submission (STARTTLS) listen address, or off")
	f.StringVar(&cfg.Submissions, "submissions", d.Submissions, "submission over implicit TLS listen address, or off")
	f.StringVar(&cfg.POP3, "pop3", d.POP3, "POP3 (STLS) listen address, or off")
	f.StringVar(&cfg.POP3S, "pop3s", d.POP3S, "POP3 over implicit TLS listen address, or off")
	f.StringVar(&cfg.DNS, "dns", d.DNS, "DNS (UDP and TCP) listen address, or off")
	f.BoolVar(&cfg.InsecureAuth, "insecure-auth", false, "allow passwords without TLS (for teaching: traces show them travel in the clear)")
	f.StringArrayVar(&users, "user", nil, "add a user NAME (password from POSTLAB_PASSWORD or a prompt); repeatable")
	f.StringVar(&cfg.CertFile, "cert", "", "TLS certificate file (PEM) instead of the generated one")
	f.StringVar(&cfg.KeyFile, "key", "", "TLS private key file (PEM) for --cert")
	f.Int64Var(&cfg.MaxMessageBytes, "max-message-size", d.MaxMessageBytes, "largest message in octets (SMTP SIZE)")
	f.IntVar(&cfg.MaxRecipients, "max-recipients", d.MaxRecipients, "recipients per message")
	f.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", d.MaxConnsPerIP, "open connections per client address")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", d.IdleTimeout, "close a session silent this long")
	f.BoolVar(&trace, "trace", false, "print every session line (credentials masked)")
	f.StringVar(&scenario, "scenario", "", "start with a fault scenario: "+strings.Join(lab.Scenarios, ", "))
	f.StringArrayVar(&dnsFaults, "dns-fault", nil, "publish a deliberately broken DNS record (see the lessons); repeatable")
	return cmd
}

type serveOpts struct {
	users, dnsFaults []string
	trace            bool
	scenario         string
}

func runServe(cmd *cobra.Command, cfg lab.Config, o serveOpts) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.scenario != "" && !slices.Contains(lab.Scenarios, o.scenario) {
		return usageErrorf("--scenario %q: choose one of %s", o.scenario, strings.Join(lab.Scenarios, ", "))
	}
	if err := labdns.CheckFaults(o.dnsFaults); err != nil {
		return usageErrorf("--dns-fault: %v", err)
	}
	if cfg.MaxMessageBytes <= 0 || cfg.MaxRecipients <= 0 || cfg.IdleTimeout <= 0 || cfg.MaxConnsPerIP < 0 {
		return usageErrorf("limits must be positive")
	}
	for _, u := range o.users {
		if err := lab.ValidUserName(u); err != nil {
			return usageErrorf("--user: %v", err)
		}
		pw, err := readPassword(fmt.Sprintf("Password for %s: ", u))
		if err != nil {
			return err
		}
		if pw == "" {
			return usageErrorf("--user %s: empty password", u)
		}
		if err := lab.SetUserPassword(cfg.DataDir, u, pw); err != nil {
			return failErrorf("--user %s: %v", u, err)
		}
	}
	cfg.Logf = func(format string, a ...any) { fmt.Fprintf(errOut, "postlab: "+format+"\n", a...) }

	l, err := lab.Start(cfg)
	if err != nil {
		var inUse *lab.AddrInUseError
		var lerr *lab.ListenError
		if errors.As(err, &inUse) || errors.As(err, &lerr) {
			return usageErrorf("%v", err)
		}
		return failErrorf("%v", err)
	}
	l.SetScenario(o.scenario)
	if len(o.dnsFaults) > 0 {
		if err := l.SetDNSFaults(o.dnsFaults); err != nil {
			l.Close(context.Background())
			return usageErrorf("--dns-fault: %v", err)
		}
	}
	printBanner(out, errOut, l)
	if o.trace {
		cancel := l.Traces().Subscribe(func(ev lab.ServerEvent) { fmt.Fprintln(out, formatServerEvent(ev)) })
		defer cancel()
	}
	if serveStarted != nil {
		serveStarted(l)
	}

	ctx, stop := signal.NotifyContext(serveContext(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	stop()
	fmt.Fprintln(out, "stopping: letting sessions finish...")
	cctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := l.Close(cctx); err != nil {
		fmt.Fprintf(errOut, "postlab: some sessions were cut short: %v\n", err)
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

func printBanner(out, errOut io.Writer, l *lab.Lab) {
	fmt.Fprintf(out, "postlab lab: practice mail server for %s (host %s)\n", l.Domain(), l.Hostname())
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	rows := []struct{ name, label, note string }{
		{lab.ListenerSMTP, "SMTP (MX)", "STARTTLS offered, no AUTH, local recipients only"},
		{lab.ListenerSubmission, "submission", "STARTTLS, AUTH required"},
		{lab.ListenerSubmissions, "submissions", "implicit TLS, AUTH required"},
		{lab.ListenerPOP3, "POP3", "STLS"},
		{lab.ListenerPOP3S, "POP3S", "implicit TLS"},
		{lab.ListenerDNS, "DNS", "UDP and TCP, authoritative for " + l.Domain()},
	}
	for _, r := range rows {
		a := l.Addr(r.name)
		if a == "" {
			fmt.Fprintf(tw, "  %s\toff\n", r.label)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.label, a, r.note)
	}
	tw.Flush()
	if l.Config().InsecureAuth {
		fmt.Fprintln(errOut, "warning: --insecure-auth: passwords are accepted without TLS")
	}
	if !l.PracticeUsers() {
		fmt.Fprintln(errOut, "warning: a listener is reachable beyond loopback: practice users alice and bob are disabled; only users added with --user can log in")
	}
	fmt.Fprintln(out, "users:")
	us := l.Users()
	if len(us) == 0 {
		fmt.Fprintln(out, "  (none: add one with --user NAME)")
	}
	tw = tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	for _, u := range us {
		if pw, ok := l.PracticePassword(u); ok {
			fmt.Fprintf(tw, "  %s@%s\tpassword %s\t(practice user, loopback only)\n", u, l.Domain(), pw)
		} else {
			fmt.Fprintf(tw, "  %s@%s\t(stored password)\n", u, l.Domain())
		}
	}
	tw.Flush()
	if sc := l.Scenario(); sc != "" {
		fmt.Fprintf(out, "fault scenario: %s\n", sc)
	}
	if fs := l.DNSFaults(); len(fs) > 0 {
		fmt.Fprintf(out, "DNS faults: %s\n", strings.Join(fs, ", "))
	}
	fmt.Fprintf(out, "data: %s (certificate %s)\n", l.DataDir(), certPath(l))
	fmt.Fprintln(out, "press Ctrl-C to stop")
}

func certPath(l *lab.Lab) string {
	if c := l.Config().CertFile; c != "" {
		return c
	}
	return filepath.Join(l.DataDir(), "tls", "cert.pem")
}

// formatServerEvent is one line of `serve --trace`.
func formatServerEvent(ev lab.ServerEvent) string {
	dir := "  "
	switch ev.Dir {
	case explorer.ClientToServer:
		dir = "C:"
	case explorer.ServerToClient:
		dir = "S:"
	case explorer.Local:
		dir = "--"
	}
	return fmt.Sprintf("%s %s#%d %s %s %s", ev.Time.Format("15:04:05.000"), ev.Listener, ev.Session, ev.Remote, dir, ev.Line)
}
