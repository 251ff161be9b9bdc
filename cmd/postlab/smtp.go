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
	allowPlain              bool
}

func (f *connFlags) add(cmd *cobra.Command, starttlsName string) {
	fl := cmd.Flags()
	fl.BoolVar(&f.tls, "tls", false, "implicit TLS from the first byte")
	fl.BoolVar(&f.starttls, "starttls", false, "upgrade to TLS with "+starttlsName+" before anything else")
	fl.BoolVar(&f.insecure, "insecure", false, "continue when the certificate does not verify (the result is still shown)")
	fl.StringVar(&f.ca, "ca", "", "trust the CA certificates in PEM `FILE` too")
	fl.StringVar(&f.serverName, "servername", "", "`NAME` to verify the certificate against and send as SNI (default: the host)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "connect timeout and per-reply timeout")
	fl.StringVar(&f.user, "user", "", "log in as `USER` (password from POSTLAB_PASSWORD or a prompt); only inside TLS")
	fl.BoolVar(&f.allowPlain, "allow-plaintext-auth", false, "let --user log in on a connection without TLS (for practice against a lab run with 'postlab serve --insecure-auth'; the trace shows the password cross in clear)")
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
	return defaultHelo()
}

// defaultHelo is this host's name when it is fully qualified (RFC 5321
// §4.1.1.1 asks for the client's FQDN), else "localhost".
func defaultHelo() string {
	if h, err := os.Hostname(); err == nil && strings.Contains(strings.Trim(h, "."), ".") && !strings.ContainsAny(h, " \t[]") {
		return strings.TrimSuffix(h, ".")
	}
	return "localhost"
}

// heloHelp documents --helo with the name it would send here.
func heloHelp(what string) string {
	return fmt.Sprintf("`NAME` %s (default: this host's name when it is fully qualified, else localhost; here %q)", what, defaultHelo())
}

// isIPv6 accepts an IPv6 literal with an optional zone (fe80::1%eth0).
func isIPv6(h string) bool {
	addr, _, _ := strings.Cut(h, "%")
	return net.ParseIP(addr) != nil
}

// hostPort accepts HOST, HOST:PORT, [V6]:PORT and a bare IPv6 literal.
func hostPort(target string, def int) (string, error) {
	if target == "" {
		return "", usageErrorf("missing HOST[:PORT]")
	}
	if h, p, err := net.SplitHostPort(target); err == nil {
		n, perr := strconv.Atoi(p)
		if h == "" || perr != nil || n <= 0 || n > 65535 || strings.ContainsAny(h, "[]/ \t") {
			return "", usageErrorf("bad address %q: want HOST[:PORT] with a port from 1 to 65535", target)
		}
		if strings.Contains(h, ":") && !isIPv6(h) {
			return "", usageErrorf("bad address %q: %q is not an IPv6 address", target, h)
		}
		return target, nil
	}
	if strings.HasPrefix(target, "[") != strings.HasSuffix(target, "]") {
		// "[::1" would otherwise lose its one bracket and dial [::1]:25.
		return "", usageErrorf("bad address %q: unbalanced [ ]: write an IPv6 address as [IPv6] or [IPv6]:PORT, e.g. [::1]:2525", target)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
	if strings.ContainsAny(h, "[]/ \t") || h == "" {
		return "", usageErrorf("bad address %q: want HOST[:PORT]", target)
	}
	if strings.Contains(h, ":") && !isIPv6(h) {
		// Not HOST:PORT and not an IPv6 literal: a typo like a:b:c.
		return "", usageErrorf("bad address %q: want HOST[:PORT], or [IPv6]:PORT for an IPv6 address", target)
	}
	return net.JoinHostPort(h, strconv.Itoa(def)), nil
}

// dialExit is the line of a failed connection: "connect: ..." or, when
// the handshake of --tls failed, "tls: ..." (exit 3).
func dialExit(err error) error {
	var ce *explorer.ConnError
	if errors.As(err, &ce) && ce.Op == "tls" {
		return stageError("tls", err)
	}
	return stageError("connect", err)
}

// sessionStage names where a session stands for an error line: the
// command last sent, lower case, or "banner" before any.
func sessionStage(s *explorer.Session) string {
	if c := strings.ToLower(s.State().Command); c != "" {
		return c
	}
	return "banner"
}

// stageError is the one line that ends a failed automatic step: the stage
// and the server's reply (exit 1), or the network, TLS or protocol failure
// (exit 3). Errors that already carry an exit code pass through.
func stageError(stage string, err error) error {
	var ee *exitError
	var re *explorer.ReplyError
	var pe *explorer.POP3Error
	var proto *explorer.ProtocolError
	var wrong *explorer.WrongServiceError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.As(err, &wrong):
		// Not the server's fault: the port is another protocol's.
		return netErrorf("%s: %v", stage, wrong)
	case errors.As(err, &re):
		return failErrorf("%s refused: %s", stage, re.Reply)
	case errors.As(err, &pe):
		return failErrorf("%s refused: %s (%s)", stage, pe.Resp, pe.Command)
	case explorer.IsNetwork(err), errors.As(err, &proto):
		// The stage replaces the low-level operation ("dial", "read"):
		// "banner: no greeting within 30s (timeout): ..." rather than
		// "banner: read: no greeting ...".
		var ce *explorer.ConnError
		msg := err.Error()
		if errors.As(err, &ce) {
			msg = ce.Err.Error()
		} else if proto != nil {
			msg += protoHint
		}
		return netErrorf("%s: %s", stage, msg)
	}
	return failErrorf("%s: %v", stage, err)
}

// protoHint ends the line of a malformed reply: nothing the user typed
// caused it.
const protoHint = ": the server breaks the protocol; report it to its administrator"

// withSuffix adds words to the message of an exit error.
func withSuffix(err error, suffix string) error {
	var ee *exitError
	if errors.As(err, &ee) && ee.err != errSilent {
		return &exitError{ee.code, fmt.Errorf("%v%s", ee.err, suffix)}
	}
	return err
}

// smtpStage names the step an SMTP session was at, for stageError.
func smtpStage(s *explorer.SMTPSession, err error) string {
	var ce *explorer.ConnError
	if errors.As(err, &ce) && ce.Op == "tls" {
		return "tls"
	}
	switch s.State().Command {
	case "":
		return "banner"
	case "EHLO", "HELO":
		return "ehlo"
	case "STARTTLS":
		return "tls"
	case "AUTH":
		return "auth"
	}
	return strings.ToLower(s.State().Command)
}

// smtpAuthGuard decides, from the EHLO reply, whether the automatic login
// may send credentials: only inside TLS (RFC 8314 §3; a server answers 538
// otherwise, RFC 4954 §6) unless --allow-plaintext-auth, and only when the
// server offers AUTH and the mechanism (RFC 4954 §3).
func smtpAuthGuard(s *explorer.SMTPSession, mech string, allowPlain bool) error {
	_, hasAuth := s.Supports("AUTH")
	_, hasTLS := s.Supports("STARTTLS")
	inTLS := s.State().TLS
	switch {
	case !inTLS && !hasAuth && hasTLS:
		return usageErrorf("auth: this server offers AUTH only after STARTTLS (its EHLO lists no AUTH on a clear connection): add --starttls")
	case !inTLS && !hasAuth:
		return usageErrorf("auth: this server offers no AUTH on a clear connection, and no STARTTLS: try its submission ports (587 with --starttls, 465 with --tls), or drop --user")
	case !inTLS && !allowPlain:
		return usageErrorf("auth: not sending the password over a connection without TLS: add --starttls (or --tls on port 465); --allow-plaintext-auth sends it anyway, for practice against postlab serve --insecure-auth")
	case !hasAuth:
		return failErrorf("auth: this server offers no AUTH here (its EHLO lists none): drop --user, or use its submission port (587 with --starttls, 465 with --tls)")
	}
	mechs := s.AuthMechanisms()
	for _, m := range mechs {
		if m == mech {
			return nil
		}
	}
	return failErrorf("auth: this server does not offer AUTH %s (it offers %s): pick one of those with --auth", mech, strings.Join(mechs, " "))
}

// oneHost accepts exactly one HOST[:PORT] argument; anything else is a
// usage error that says what the command wants (commands go to stdin).
func oneHost(example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return usageErrorf("%s needs HOST[:PORT], e.g. %s (see '%s --help')", cmd.Name(), example, cmd.CommandPath())
		}
		return usageErrorf("%s takes one HOST[:PORT], got %d arguments (%s): the commands to send are read from stdin, e.g. printf 'QUIT\\r\\n' | %s",
			cmd.Name(), len(args), strings.Join(args, " "), example)
	}
}

// noArgs refuses arguments with a line that points at the flags to use.
func noArgs(hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		return usageErrorf("%s takes no arguments, got %q: %s (see '%s --help')", cmd.Name(), strings.Join(args, " "), hint, cmd.CommandPath())
	}
}

// signalContext is cancelled by Ctrl-C; tests replace it.
var signalContext = func() (context.Context, context.CancelFunc) {
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
Port 25 by default, 465 with --tls.

--user logs in before the first typed line (EHLO, then AUTH), but only
inside TLS (--starttls or --tls) and only with a mechanism the server
offers; --allow-plaintext-auth lifts the TLS rule for practice against
postlab serve --insecure-auth. Lines you type are sent as typed.

Exit status: 0 the session ran (replies to typed commands, 5xx included,
are yours to read), 1 an automatic step (STARTTLS, the login) was refused
or the server closed the session without QUIT (421), 2 usage error,
3 network or TLS failure, or a malformed reply, 130 interrupted (Ctrl-C).`,
		Args: oneHost("postlab smtp 127.0.0.1:2525"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cf.helo = strings.TrimSpace(cf.helo)
			return runSMTP(cmd, args[0], &cf, &tf, mech)
		},
	}
	cf.add(cmd, "STARTTLS")
	tf.add(cmd)
	cmd.Flags().StringVar(&cf.helo, "helo", "", heloHelp("for the automatic EHLO of --starttls/--user"))
	cmd.Flags().StringVar(&mech, "auth", "PLAIN", "how --user logs in, SASL `MECH`: PLAIN, LOGIN or CRAM-MD5")
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
	return runLineSession(cmd, cf, tf, opts, func(ctx context.Context, opts explorer.Options) (*lineConn, error) {
		s, err := explorer.DialSMTP(ctx, opts)
		if s == nil {
			return nil, err
		}
		return &lineConn{
			Session: s.Session,
			quit:    func(ctx context.Context) { s.Quit(ctx) },
			line:    s.Line,
			watch:   s.WatchIdle,
			dialFailed: func(err error) (string, string) {
				stage := smtpStage(s, err)
				var wrong *explorer.WrongServiceError
				if cf.starttls && !s.State().TLS && !explorer.IsNetwork(err) && !errors.As(err, &wrong) {
					suffix := " (not continuing without TLS)"
					if _, ok := s.Supports("STARTTLS"); !ok && stage == "tls" {
						suffix = " (not continuing without TLS; its EHLO does not offer STARTTLS: try --tls on port 465, or drop --starttls)"
					}
					return stage, suffix
				}
				return stage, ""
			},
			auto: func(ctx context.Context, pass string) (string, error) {
				if cf.starttls {
					if _, err := s.Ehlo(ctx, opts.Helo); err != nil {
						return "ehlo", err
					}
				}
				if cf.user == "" {
					return "", nil
				}
				if s.State().Phase == explorer.PhaseGreeted {
					if _, err := s.Ehlo(ctx, opts.Helo); err != nil {
						return "ehlo", err
					}
				}
				if err := smtpAuthGuard(s, mech, cf.allowPlain); err != nil {
					return "auth", err
				}
				if _, err := s.Auth(ctx, mech, cf.user, pass); err != nil {
					return "auth", err
				}
				return "", nil
			},
		}, err
	})
}

// interact feeds stdin lines to send until input ends, the server closes
// or Ctrl-C (which closes the connection without QUIT). While it waits for
// input, watch shows what the server sends unprompted. The exit: 130 after
// Ctrl-C, 3 after a network failure or a malformed reply (earlier is the
// greeting's error, if any), 1 when the server closed the session without
// QUIT (a 421), 0 otherwise: replies to typed commands, 5xx included, are
// what the user asked to see.
func interact(ctx context.Context, in io.Reader, s *explorer.Session, send func(context.Context, string) error,
	watch func(context.Context) *explorer.IdleWatch, earlier error) error {
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
	var protoErr error
	protoStage := ""
	noteErr := func(err error) {
		var pe *explorer.ProtocolError
		if protoErr == nil && errors.As(err, &pe) {
			protoErr = err
			protoStage = sessionStage(s) // the command answered
		}
	}
	noteErr(earlier)
	quitSent := false
	inputEnded := false
	for !s.Closed() {
		var w *explorer.IdleWatch
		var idle <-chan struct{}
		if watch != nil {
			w = watch(ctx)
			idle = w.Done()
		}
		var line string
		var ok, got bool
		select {
		case line, ok = <-lines:
			got = true
		case <-ctx.Done():
		case <-idle:
		}
		if w != nil {
			w.Stop()
			if err := w.Err(); err != nil {
				if explorer.IsNetwork(err) && ctx.Err() == nil {
					// Closing after QUIT is expected, and an earlier
					// malformed reply is the finding that matters.
					if quitSent {
						s.Note("no proper reply to QUIT; the server closed the connection")
						s.Close()
						break
					}
					if protoErr != nil {
						s.Note("the server closed the connection")
						s.Close()
						break
					}
					return stageError(sessionStage(s), err)
				}
				noteErr(err)
			}
		}
		if ctx.Err() != nil {
			s.Note("interrupted: closing the connection without QUIT")
			s.Close()
			return errInterrupted
		}
		if !got {
			continue // the server spoke unprompted: the loop sees whether it closed
		}
		if !ok {
			inputEnded = true
			break
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		quitSent = strings.EqualFold(verb, "QUIT")
		if err := send(ctx, line); err != nil {
			if explorer.IsNetwork(err) {
				if ctx.Err() != nil {
					s.Note("interrupted while waiting for the server")
					return errInterrupted
				}
				return stageError(sessionStage(s), err)
			}
			noteErr(err)
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
		if quitSent {
			s.Note("no proper reply to QUIT: closing the connection")
		} else {
			s.Note("input ended: closing the connection without QUIT")
		}
		s.Close()
	}
	switch {
	case protoErr != nil:
		return netErrorf("%s: %v%s", protoStage, protoErr, protoHint)
	case !inputEnded && !quitSent:
		return failErrorf("the server closed the session: %s", lastReply(s))
	}
	return nil
}

// lastReply is the last line the server sent, for the closing message.
func lastReply(s *explorer.Session) string {
	evs := s.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Dir == explorer.ServerToClient {
			return evs[i].Line
		}
	}
	return "without a reply"
}
