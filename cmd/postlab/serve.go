package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/explorer/lab/labdns"
)

func init() { register(newServeCmd) }

// serveContext is what ends `postlab serve` besides a signal; tests replace it.
var serveContext = context.Background

// serveStarted, when set, is told about the running lab (tests).
var serveStarted func(*lab.Lab)

// shutdownGrace bounds how long sessions in a transaction may take to
// finish; tests shorten it.
var shutdownGrace = 10 * time.Second

// serveSignals delivers Ctrl-C and SIGTERM: the first stops the lab
// gently, a second one during the grace cuts what is left at once. Tests
// replace it.
var serveSignals = defaultServeSignals

func defaultServeSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

// classroomBindHost is for tests only: when set, classroom listeners bind to
// this host (127.0.0.1) instead of --listen's, because tests cannot bind a
// non-loopback address on every machine. The loopback rule, the certificate
// names and the sheet still use --listen.
var classroomBindHost string

// lookupListenHost resolves a --listen host name; tests replace it.
var lookupListenHost = func(host string) ([]net.IP, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupIP(ctx, "ip", host)
}

func newServeCmd() *cobra.Command {
	d := lab.DefaultConfig()
	cfg := d
	var users, dnsFaults []string
	var trace bool
	var scenario string
	var cls classroomOpts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the practice mail server (the lab) in the foreground",
		Long: `Run the lab headless: SMTP in the MX role, submission with STARTTLS and with
implicit TLS, POP3 with STLS and POP3S, and DNS for the practice domain
postlab.test, storing mail in Maildirs under the data dir. Ctrl-C stops it
cleanly. Give a listener the address "off" to disable it.

The practice users alice (password wonderland) and bob (password builder)
exist only while every listener is on loopback. --user NAME adds a user whose
password comes from POSTLAB_PASSWORD or a prompt.

Classroom mode (--classroom N --listen ADDR) serves a class from this
machine's network address ADDR: it creates the accounts student01..studentN
with random passwords, prints a sheet of accounts, passwords, host and ports
(--sheet FILE also writes it as CSV, readable by you only), and serves every
listener on ADDR (default ports; --smtp :PORT and the like change one) with a
certificate that names ADDR. The practice users are never active there and
passwords are accepted only over TLS. Running it again keeps the accounts and
their passwords (the sheet file gives them back); --reset-passwords issues
new ones.`,
		Example: `  postlab serve
  postlab serve --smtp 127.0.0.1:25025 --dns off
  POSTLAB_PASSWORD=secret postlab serve --user carol --smtp 0.0.0.0:2525
  postlab serve --classroom 30 --listen 192.168.1.20 --sheet class.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cls.changed = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { cls.changed[f.Name] = true })
			return runServe(cmd, cfg, serveOpts{users: users, trace: trace, scenario: scenario, dnsFaults: dnsFaults, classroom: cls})
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
	f.BoolVar(&cfg.InsecureAuth, "insecure-auth", false, "allow logins without TLS, APOP included (for teaching: traces show passwords travel in the clear)")
	f.StringArrayVar(&users, "user", nil, "add a user NAME (password from POSTLAB_PASSWORD or a prompt); repeatable")
	f.StringVar(&cfg.CertFile, "cert", "", "TLS certificate file (PEM) instead of the generated one")
	f.StringVar(&cfg.KeyFile, "key", "", "TLS private key file (PEM) for --cert")
	f.Int64Var(&cfg.MaxMessageBytes, "max-message-size", d.MaxMessageBytes, "largest message in octets (SMTP SIZE)")
	f.IntVar(&cfg.MaxRecipients, "max-recipients", d.MaxRecipients, "recipients per message")
	f.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", d.MaxConnsPerIP, "open connections per client address (SMTP and POP3 together)")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", d.IdleTimeout, "close an SMTP session silent this long; POP3 waits at least 10m (RFC 1939 section 3)")
	f.BoolVar(&trace, "trace", false, "print every session line (credentials masked)")
	f.StringVar(&scenario, "scenario", "", "start with a fault scenario: "+strings.Join(lab.Scenarios, ", "))
	f.StringArrayVar(&dnsFaults, "dns-fault", nil, "publish a deliberately broken DNS record (see the lessons); repeatable")
	f.IntVar(&cls.n, "classroom", 0, "serve a class: create accounts student01..studentN with random passwords (needs --listen)")
	f.StringVar(&cls.listen, "listen", "", "classroom mode: this machine's network address that students connect to (not loopback)")
	f.StringVar(&cls.sheet, "sheet", "", "classroom mode: also write the sheet of accounts and passwords to this CSV `FILE` (mode 0600)")
	f.BoolVar(&cls.reset, "reset-passwords", false, "classroom mode: issue new passwords to existing student accounts")
	return cmd
}

type serveOpts struct {
	users, dnsFaults []string
	trace            bool
	scenario         string
	classroom        classroomOpts
}

// classroomOpts are the flags of classroom mode.
type classroomOpts struct {
	n      int
	listen string
	sheet  string
	reset  bool

	changed map[string]bool // flags given on the command line
	host    string          // --listen without brackets
}

func runServe(cmd *cobra.Command, cfg lab.Config, o serveOpts) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.scenario != "" && !slices.Contains(lab.Scenarios, o.scenario) {
		return usageErrorf("--scenario %q: choose one of %s", o.scenario, strings.Join(lab.Scenarios, ", "))
	}
	if err := labdns.CheckFaults(o.dnsFaults); err != nil {
		return usageErrorf("--dns-fault: %v", err)
	}
	switch {
	case cfg.MaxMessageBytes <= 0:
		return usageErrorf("--max-message-size %d: give a positive number of octets, e.g. --max-message-size %d", cfg.MaxMessageBytes, lab.DefaultMaxMessageBytes)
	case cfg.MaxRecipients <= 0:
		return usageErrorf("--max-recipients %d: give a positive number, e.g. --max-recipients %d", cfg.MaxRecipients, lab.DefaultMaxRecipients)
	case cfg.IdleTimeout <= 0:
		return usageErrorf("--idle-timeout %s: give a positive duration, e.g. --idle-timeout %s", cfg.IdleTimeout, lab.DefaultIdleTimeout)
	case cfg.MaxConnsPerIP < 0:
		return usageErrorf("--max-conns-per-ip %d: give a positive number, e.g. --max-conns-per-ip %d", cfg.MaxConnsPerIP, lab.DefaultMaxConnsPerIP)
	}
	if allOff(cfg) {
		return usageErrorf("nothing to serve: every listener is off; leave one of --smtp, --submission, --submissions, --pop3, --pop3s, --dns on")
	}
	cls := &o.classroom
	var known map[string]string
	if cls.active() {
		var err error
		if err = cls.configure(&cfg); err != nil {
			return err
		}
		if cls.sheet != "" {
			// An earlier sheet gives kept accounts their passwords back.
			if known, err = lab.ReadSheetPasswords(cls.sheet); errors.Is(err, lab.ErrNotASheet) {
				return usageErrorf("--sheet %s exists and is not a postlab classroom sheet: choose another file", cls.sheet)
			} else if err != nil {
				return failErrorf("--sheet: %v", err)
			}
		}
	} else if cls.changed["listen"] || cls.changed["sheet"] || cls.changed["reset-passwords"] {
		return usageErrorf("--listen, --sheet and --reset-passwords go with --classroom N")
	}
	// Every flag is checked before anything is created: a usage error
	// leaves no empty data dir behind.
	if err := checkListenAddrs(cfg); err != nil {
		return err
	}
	if err := checkCertKey(cfg.CertFile, cfg.KeyFile); err != nil {
		return err
	}
	for _, u := range o.users {
		if err := lab.ValidUserName(u); err != nil {
			return usageErrorf("--user: %v", err)
		}
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return err
	}
	passwords := make([]string, len(o.users))
	for i, u := range o.users {
		pw, err := readPassword(fmt.Sprintf("Password for %s: ", u))
		if err != nil {
			return err
		}
		if pw == "" {
			return usageErrorf("--user %s: empty password", u)
		}
		passwords[i] = pw
	}
	if err := makeDataDir(cfg.DataDir); err != nil {
		return err
	}
	for i, u := range o.users {
		if err := lab.SetUserPassword(cfg.DataDir, u, passwords[i]); err != nil {
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
	// From here on Ctrl-C stops the lab cleanly.
	sigs, stopSignals := serveSignals()
	defer stopSignals()
	l.SetScenario(o.scenario)
	if len(o.dnsFaults) > 0 {
		if err := l.SetDNSFaults(o.dnsFaults); err != nil {
			l.Close(context.Background())
			return usageErrorf("--dns-fault: %v", err)
		}
	}
	var students []lab.Student
	if cls.active() {
		// Accounts are made once the listeners are bound, so a failed
		// start never leaves passwords that were printed nowhere.
		if students, err = l.SetupClassroom(cls.n, cls.reset, known); err != nil {
			l.Close(context.Background())
			return failErrorf("classroom: %v", err)
		}
	}
	printBanner(out, errOut, l, students)
	if cls.active() {
		sheet := l.NewSheet(cls.host, students)
		printSheet(out, l, sheet, cls.sheet)
		if cls.sheet != "" {
			if err := sheet.WriteSheetFile(cls.sheet); err != nil {
				l.Close(context.Background())
				return failErrorf("%v", err)
			}
		}
	}
	fmt.Fprintln(out, "press Ctrl-C to stop")
	if o.trace {
		cancel := l.Traces().Subscribe(func(ev lab.ServerEvent) { fmt.Fprintln(out, formatServerEvent(ev)) })
		defer cancel()
	}
	if serveStarted != nil {
		serveStarted(l)
	}

	return stopServe(l, sigs, out, errOut)
}

// stopServe waits for the first signal, then closes the lab within the
// grace; a second signal cuts the sessions still busy at once and exits
// 130 like any command Ctrl-C interrupts.
func stopServe(l *lab.Lab, sigs <-chan os.Signal, out, errOut io.Writer) error {
	select {
	case <-serveContext().Done():
	case <-sigs:
	}
	fmt.Fprintf(out, "stopping: letting sessions finish (up to %v; Ctrl-C again to stop at once)...\n", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel() // Close then ends with context.Canceled
		case <-ctx.Done():
		}
	}()
	err := l.Close(ctx)
	var cut *lab.CutShortError
	switch {
	case errors.As(err, &cut) && errors.Is(err, context.Canceled):
		fmt.Fprintf(errOut, "postlab: stopped at once: %s cut short by the second Ctrl-C\n", sessions(cut.Sessions))
		return errInterrupted
	case errors.As(err, &cut):
		was := "was"
		if cut.Sessions != 1 {
			was = "were"
		}
		fmt.Fprintf(errOut, "postlab: stopped: %s %s still busy after the %v grace and %s cut short\n", sessions(cut.Sessions), was, shutdownGrace, was)
		return nil
	case err != nil:
		fmt.Fprintf(errOut, "postlab: stopping: %v\n", err)
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

func sessions(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// allOff reports whether every listener is "off".
func allOff(cfg lab.Config) bool {
	for _, a := range []string{cfg.SMTP, cfg.Submission, cfg.Submissions, cfg.POP3, cfg.POP3S, cfg.DNS} {
		if !strings.EqualFold(strings.TrimSpace(a), lab.Off) {
			return false
		}
	}
	return true
}

// dataDirError is the usage error of a bad --data.
func dataDirError(dir string, err error) error {
	return usageErrorf("--data %s: %v: give a directory postlab can write (it is created when missing)", dir, err)
}

// checkDataDir rejects a --data that cannot be a directory, creating
// nothing: said before any password prompt or listener.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir(), errors.Is(err, syscall.ENOTDIR):
		return dataDirError(dir, errors.New("not a directory"))
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return dataDirError(dir, err)
}

// makeDataDir creates the data dir (as the lab would) and makes sure the
// lab can write in it, once every flag has been checked.
func makeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == dir {
			err = pe.Err
		}
		return dataDirError(dir, err)
	}
	f, err := os.CreateTemp(dir, ".postlab-write-check-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return dataDirError(dir, fmt.Errorf("cannot write in it (%v)", err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// checkListenAddrs rejects a listener address that cannot be bound
// whatever the machine: not HOST:PORT, or a port out of range.
func checkListenAddrs(cfg lab.Config) error {
	d := lab.DefaultConfig()
	for _, a := range []struct{ flag, addr, def string }{
		{"smtp", cfg.SMTP, d.SMTP}, {"submission", cfg.Submission, d.Submission},
		{"submissions", cfg.Submissions, d.Submissions}, {"pop3", cfg.POP3, d.POP3},
		{"pop3s", cfg.POP3S, d.POP3S}, {"dns", cfg.DNS, d.DNS},
	} {
		if strings.EqualFold(strings.TrimSpace(a.addr), lab.Off) {
			continue
		}
		_, port, err := net.SplitHostPort(a.addr)
		if err == nil {
			_, err = net.LookupPort("tcp", port)
		}
		if err != nil {
			return usageErrorf("--%s %s: want HOST:PORT with a port from 0 to 65535 (e.g. --%s 127.0.0.1:%s), or off", a.flag, a.addr, a.flag, listenPort(a.def))
		}
	}
	return nil
}

// checkCertKey makes sure --cert and --key come together and hold a PEM
// certificate and its private key; each error names its flag.
func checkCertKey(certFile, keyFile string) error {
	switch {
	case certFile == "" && keyFile == "":
		return nil
	case keyFile == "":
		return usageErrorf("--cert %s needs --key FILE: the certificate's private key (PEM)", certFile)
	case certFile == "":
		return usageErrorf("--key %s needs --cert FILE: the certificate (PEM) it belongs to", keyFile)
	}
	read := func(flag, file string) ([]byte, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usageErrorf("--%s %s: %v", flag, file, err)
		}
		return b, nil
	}
	certPEM, err := read("cert", certFile)
	if err != nil {
		return err
	}
	keyPEM, err := read("key", keyFile)
	if err != nil {
		return err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		msg := strings.TrimPrefix(err.Error(), "tls: ")
		switch {
		case strings.Contains(msg, "certificate input"):
			return usageErrorf("--cert %s: no PEM certificate in it: give the certificate file (PEM)", certFile)
		case strings.Contains(msg, "key input"):
			return usageErrorf("--key %s: no PEM private key in it: give the certificate's private key file (PEM)", keyFile)
		}
		return usageErrorf("--cert %s with --key %s: %s", certFile, keyFile, msg)
	}
	return nil
}

func (c *classroomOpts) active() bool { return c.n != 0 || c.changed["classroom"] }

// configure checks the classroom flags and puts every listener on the
// --listen address.
func (c *classroomOpts) configure(cfg *lab.Config) error {
	if c.n < 1 || c.n > lab.MaxStudents {
		return usageErrorf("--classroom %d: give the number of students, 1 to %d", c.n, lab.MaxStudents)
	}
	if cfg.InsecureAuth {
		return usageErrorf("--insecure-auth cannot be used with --classroom: a class on a shared network sends passwords only over TLS")
	}
	names, err := checkClassroomHost(c.listen, lookupListenHost)
	if err != nil {
		return err
	}
	c.host = names[0]
	bind := c.host
	if classroomBindHost != "" {
		bind = classroomBindHost
	}
	d := lab.DefaultConfig()
	for _, l := range []struct {
		flag string
		v    *string
		def  string
	}{
		{"smtp", &cfg.SMTP, d.SMTP}, {"submission", &cfg.Submission, d.Submission},
		{"submissions", &cfg.Submissions, d.Submissions}, {"pop3", &cfg.POP3, d.POP3},
		{"pop3s", &cfg.POP3S, d.POP3S}, {"dns", &cfg.DNS, d.DNS},
	} {
		v := l.def
		if c.changed[l.flag] {
			v = *l.v
		}
		if strings.EqualFold(v, lab.Off) {
			continue
		}
		if !strings.Contains(v, ":") {
			v = ":" + v
		}
		h, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return usageErrorf("--%s %s: want a port, e.g. --%s :%s", l.flag, *l.v, l.flag, listenPort(l.def))
		}
		if c.changed[l.flag] && h != "" && !strings.EqualFold(h, c.host) {
			return usageErrorf("--%s %s: in classroom mode every listener is on --listen's address; give only the port, e.g. --%s :%s", l.flag, *l.v, l.flag, port)
		}
		*l.v = net.JoinHostPort(bind, port)
	}
	cfg.Classroom = true
	cfg.CertNames = names
	return nil
}

func listenPort(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// checkClassroomHost enforces "an explicit non-loopback address" for
// --listen and returns the names the certificate must carry: the host as
// given, then the addresses it resolves to.
func checkClassroomHost(listen string, lookup func(string) ([]net.IP, error)) ([]string, error) {
	const eg = "e.g. --listen 192.168.1.20"
	host := strings.TrimSpace(listen)
	if host == "" {
		return nil, usageErrorf("--classroom needs --listen ADDR: this machine's network address that students connect to (%s)", eg)
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return nil, usageErrorf("--listen %s: give the address without a port (ports are the lab's defaults, or --smtp :PORT and the like)", listen)
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "."))
	check := func(ip net.IP) error {
		switch {
		case ip.IsLoopback():
			what := listen
			if ip.String() != host {
				what += " (" + ip.String() + ")"
			}
			return usageErrorf("--listen %s is a loopback address: students on other machines cannot reach it; give this machine's network address (%s)", what, eg)
		case ip.IsUnspecified():
			return usageErrorf("--listen %s means every address: give the one address students connect to, so the certificate can name it (%s)", listen, eg)
		}
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if err := check(ip); err != nil {
			return nil, err
		}
		return []string{ip.String()}, nil
	}
	if strings.EqualFold(host, "localhost") {
		return nil, check(net.IPv4(127, 0, 0, 1))
	}
	ips, err := lookup(host)
	if err != nil || len(ips) == 0 {
		return nil, usageErrorf("--listen %s: cannot resolve it; give this machine's IP address (%s)", listen, eg)
	}
	names := []string{host}
	for _, ip := range ips {
		if err := check(ip); err != nil {
			return nil, err
		}
		names = append(names, ip.String())
	}
	return names, nil
}

// printSheet prints the classroom sheet: accounts, passwords and how to
// reach the lab.
func printSheet(out io.Writer, l *lab.Lab, sh lab.Sheet, sheetFile string) {
	fmt.Fprintf(out, "classroom sheet: %d student accounts on %s (domain %s)\n", len(sh.Students), sh.Host, sh.Domain)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  account\tpassword\n")
	unknown := 0
	for _, s := range sh.Students {
		pw := s.Password
		if pw == "" {
			pw = "(issued earlier)"
			unknown++
		}
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, pw)
	}
	tw.Flush()
	if unknown > 0 {
		fmt.Fprintf(out, "%d password(s) were issued by an earlier run and are stored only as hashes: they are in that run's sheet (pass it with --sheet FILE to print them again), or --reset-passwords issues new ones\n", unknown)
	}
	host := sh.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	fmt.Fprintf(out, "students connect to %s and log in as their account (or ACCOUNT@%s):\n", host, sh.Domain)
	tw = tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	for _, r := range []struct{ name, label, note string }{
		{lab.ListenerSubmission, "submission", "STARTTLS, then AUTH PLAIN or LOGIN"},
		{lab.ListenerSubmissions, "submissions", "implicit TLS, then AUTH"},
		{lab.ListenerPOP3, "POP3", "STLS, then USER/PASS or AUTH PLAIN"},
		{lab.ListenerPOP3S, "POP3S", "implicit TLS"},
		{lab.ListenerSMTP, "SMTP (MX)", "no login; mail for " + sh.Domain + " only"},
		{lab.ListenerDNS, "DNS", "the " + sh.Domain + " zone (UDP and TCP)"},
	} {
		if p := sh.Ports[r.name]; p != "" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.label, p, r.note)
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "certificate: %s (give it to students: --ca FILE)\n", certPath(l))
	if p := sh.Ports[lab.ListenerPOP3S]; p != "" {
		fmt.Fprintf(out, "  e.g. postlab pop3 --tls --ca cert.pem --user %s %s\n", sh.Students[0].Name, net.JoinHostPort(sh.Host, p))
	}
	if sheetFile != "" {
		fmt.Fprintf(out, "sheet written to %s (CSV, readable by you only)\n", sheetFile)
	}
}

func printBanner(out, errOut io.Writer, l *lab.Lab, students []lab.Student) {
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
		fmt.Fprintln(errOut, "warning: --insecure-auth: passwords (and POP3 APOP) are accepted without TLS")
	}
	switch {
	case l.Config().Classroom:
		fmt.Fprintln(errOut, "classroom mode: practice users alice and bob are disabled; passwords are accepted only over TLS")
	case !l.PracticeUsers():
		fmt.Fprintln(errOut, "warning: a listener is reachable beyond loopback: practice users alice and bob are disabled; only users added with --user can log in")
	}
	fmt.Fprintln(out, "users:")
	onSheet := make(map[string]bool, len(students))
	for _, s := range students {
		onSheet[s.Name] = true
	}
	if len(students) > 0 {
		fmt.Fprintf(out, "  %s..%s@%s  (on the classroom sheet below)\n", students[0].Name, students[len(students)-1].Name, l.Domain())
	}
	us := slices.DeleteFunc(l.Users(), func(u string) bool { return onSheet[u] })
	if len(us) == 0 && len(students) == 0 {
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
	// The lab escapes its events already; this keeps a terminal safe from
	// whatever else reaches the hub.
	return fmt.Sprintf("%s %s#%d %s %s %s", ev.Time.Format("15:04:05.000"), ev.Listener, ev.Session,
		lab.Printable(ev.Remote), dir, lab.Printable(ev.Line))
}
