package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"postlab/explorer"
)

func init() { register(newSMTPCmd) }

// connFlags are the connection flags shared by smtp, pop3 and send.
type connFlags struct {
	tls, starttls, insecure bool
	ipv4, ipv6              bool
	ca, serverName, helo    string
	timeout                 time.Duration
	user                    string
}

func (f *connFlags) add(cmd *cobra.Command, starttlsName string) {
	fl := cmd.Flags()
	fl.BoolVar(&f.tls, "tls", false, "implicit TLS from the first byte")
	fl.BoolVar(&f.starttls, "starttls", false, "upgrade to TLS with "+starttlsName+" before anything else")
	fl.BoolVar(&f.insecure, "insecure", false, "continue when the certificate does not verify (the result is still shown)")
	fl.StringVar(&f.ca, "ca", "", "trust the CA certificates in PEM `FILE` too")
	fl.StringVar(&f.serverName, "servername", "", "`NAME` to verify the certificate against and send as SNI (default: the host)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "connect timeout and per-reply timeout")
	fl.StringVar(&f.user, "user", "", "log in as `USER` (password from POSTLAB_PASSWORD or a prompt)")
	fl.BoolVarP(&f.ipv4, "ipv4", "4", false, "connect over IPv4 only")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "connect over IPv6 only")
}

// options checks the flags and builds the session options for target.
func (f *connFlags) options(target string, plainPort, tlsPort int) (explorer.Options, error) {
	var o explorer.Options
	if f.tls && f.starttls {
		return o, usageErrorf("--tls and --starttls exclude each other: --tls is TLS from the start, --starttls upgrades a clear connection")
	}
	if f.ipv4 && f.ipv6 {
		return o, usageErrorf("--ipv4 and --ipv6 exclude each other")
	}
	port := plainPort
	if f.tls {
		port = tlsPort
	}
	addr, err := hostPort(target, port)
	if err != nil {
		return o, err
	}
	o.Addr = addr
	switch {
	case f.tls:
		o.Security = explorer.ImplicitTLS
	case f.starttls:
		o.Security = explorer.StartTLS
	}
	o.Network = "tcp"
	if f.ipv4 {
		o.Network = "tcp4"
	}
	if f.ipv6 {
		o.Network = "tcp6"
	}
	if f.ca != "" {
		if _, err := os.Stat(f.ca); err != nil {
			return o, usageErrorf("--ca: %v", err)
		}
	}
	if f.timeout <= 0 {
		return o, usageErrorf("--timeout must be positive, like 30s")
	}
	o.Insecure, o.CAFile, o.ServerName = f.insecure, f.ca, f.serverName
	o.ConnectTimeout, o.ReplyTimeout = f.timeout, f.timeout
	o.Helo = f.heloName()
	return o, nil
}

func (f *connFlags) heloName() string {
	if f.helo != "" {
		return f.helo
	}
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") {
		return h
	}
	return "localhost"
}

// hostPort accepts HOST, HOST:PORT, [V6]:PORT and a bare IPv6 literal.
func hostPort(target string, def int) (string, error) {
	if target == "" {
		return "", usageErrorf("missing HOST[:PORT]")
	}
	if h, p, err := net.SplitHostPort(target); err == nil {
		n, perr := strconv.Atoi(p)
		if h == "" || perr != nil || n <= 0 || n > 65535 {
			return "", usageErrorf("bad address %q: want HOST[:PORT] with a port from 1 to 65535", target)
		}
		return target, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
	if strings.ContainsAny(h, "[]/ ") {
		return "", usageErrorf("bad address %q: want HOST[:PORT]", target)
	}
	return net.JoinHostPort(h, strconv.Itoa(def)), nil
}

// sessionExit maps a session error to the command's exit.
func sessionExit(err error) error {
	if err == nil {
		return nil
	}
	if explorer.IsNetwork(err) {
		return netErrorf("%v", err)
	}
	return failErrorf("%v", err)
}

// signalContext is cancelled by Ctrl-C.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func newSMTPCmd() *cobra.Command {
	var cf connFlags
	var tf traceFlags
	var mech string
	cmd := &cobra.Command{
		Use:   "smtp [flags] HOST[:PORT]",
		Short: "Annotated interactive SMTP session (reads commands from stdin)",
		Long: `Connects to an SMTP server and sends each line read from stdin exactly as
typed, printing the conversation with an explanation under each line:
  ->  sent      <-  received      ~> <~  the same inside TLS
  ==  a note    **  an error
After DATA is answered with 354, lines are message content until a lone ".".
Input can be piped: printf 'EHLO x\r\nQUIT\r\n' | postlab smtp 127.0.0.1:2525
Port 25 by default, 465 with --tls.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cf.helo = strings.TrimSpace(cf.helo)
			return runSMTP(cmd, args[0], &cf, &tf, mech)
		},
	}
	cf.add(cmd, "STARTTLS")
	tf.add(cmd)
	cmd.Flags().StringVar(&cf.helo, "helo", "", "`NAME` for the automatic EHLO of --starttls/--user (default: this host's name)")
	cmd.Flags().StringVar(&mech, "auth", "PLAIN", "SASL `MECH` for --user: PLAIN, LOGIN or CRAM-MD5")
	return cmd
}

func runSMTP(cmd *cobra.Command, target string, cf *connFlags, tf *traceFlags, mech string) error {
	opts, err := cf.options(target, 25, 465)
	if err != nil {
		return err
	}
	mech = strings.ToUpper(mech)
	if cf.user != "" && mech != "PLAIN" && mech != "LOGIN" && mech != "CRAM-MD5" {
		return usageErrorf("--auth %s: use PLAIN, LOGIN or CRAM-MD5", mech)
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
	s, err := explorer.DialSMTP(ctx, opts)
	if s == nil {
		r.Close()
		return sessionExit(err)
	}
	defer s.Close()
	if err != nil && cf.starttls && !s.State().TLS && !s.Closed() {
		// Asked for TLS: never go on in clear text.
		s.Quit(ctx)
		r.Close()
		return failErrorf("STARTTLS failed, not continuing without TLS: %v", err)
	}
	if err == nil && cf.starttls {
		_, err = s.Ehlo(ctx, opts.Helo)
	}
	if err == nil && cf.user != "" {
		if s.State().Phase == explorer.PhaseGreeted {
			_, err = s.Ehlo(ctx, opts.Helo)
		}
		if err == nil {
			_, err = s.Auth(ctx, mech, cf.user, pass)
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

// interact feeds stdin lines to send until input ends, the server closes
// or Ctrl-C (which ends the session like the end of input: it is how one
// leaves an interactive session).
func interact(ctx context.Context, in io.Reader, s *explorer.Session, send func(context.Context, string) error) error {
	lines := make(chan string)
	scanErr := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), explorer.MaxContentLine)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSuffix(sc.Text(), "\r"):
			case <-ctx.Done():
				return
			}
		}
		scanErr <- sc.Err()
	}()
	for !s.Closed() {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			s.Note("interrupted: closing the connection without QUIT")
			s.Close()
			return nil
		}
		if !ok {
			break
		}
		if err := send(ctx, line); err != nil && explorer.IsNetwork(err) {
			if ctx.Err() != nil {
				s.Note("interrupted while waiting for the server")
				return nil
			}
			return sessionExit(err)
		}
	}
	select {
	case err := <-scanErr:
		if err != nil && !errors.Is(err, io.EOF) {
			s.Note(fmt.Sprintf("reading input: %v", err))
		}
	default:
	}
	if !s.Closed() {
		s.Note("input ended: closing the connection without QUIT")
		s.Close()
	}
	return nil
}
