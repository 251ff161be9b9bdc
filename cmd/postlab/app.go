package main

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"postlab/diag"
	"postlab/explorer/annotate"
	"postlab/explorer/lab"
	"postlab/explorer/tui"
	"postlab/lessons"
)

// appScreen, when set, is where the app draws instead of the terminal, and
// appStarted is told about the app before it runs (tests).
var (
	appScreen  tcell.Screen
	appStarted func(*tui.App)
)

// appOptions is what the root flags set.
type appOptions struct {
	noLab    bool
	connect  string
	resolver string
	noColor  bool
	helo     string
	lab      lab.Config
	lessons  string // --lessons DIR: a teacher's own lessons
	labHost  string // --lab-host: a teacher's lab instead of our own
	ca       string // --ca: the teacher's lab certificate
}

func init() {
	var o appOptions
	rootFlags = func(cmd *cobra.Command) {
		d := lab.DefaultConfig()
		o.lab = d
		f := cmd.Flags()
		f.BoolVar(&o.noLab, "no-lab", false, "do not start the lab (the practice mail server) in the app")
		f.StringVar(&o.connect, "connect", "", "open a session straight away: smtp://HOST[:PORT], smtps://, pop3://, pop3s:// (add ?starttls for STARTTLS/STLS)")
		f.StringVar(&o.lab.DataDir, "data", d.DataDir, "the lab's data directory (Maildirs, users, TLS keys)")
		f.StringVar(&o.lab.SMTP, "smtp", d.SMTP, "the lab's SMTP (MX role) listen address, or off")
		f.StringVar(&o.lab.Submission, "submission", d.Submission, "the lab's submission (STARTTLS) listen address, or off")
		f.StringVar(&o.lab.Submissions, "submissions", d.Submissions, "the lab's submissions (implicit TLS) listen address, or off")
		f.StringVar(&o.lab.POP3, "pop3", d.POP3, "the lab's POP3 (STLS) listen address, or off")
		f.StringVar(&o.lab.POP3S, "pop3s", d.POP3S, "the lab's POP3S listen address, or off")
		f.StringVar(&o.lab.DNS, "dns", d.DNS, "the lab's DNS listen address, or off")
		f.StringVar(&o.resolver, "resolver", "", "DNS server HOST:PORT for Diagnose (default: the system's; the lab's for postlab.test)")
		f.StringVar(&o.helo, "helo", "client.postlab.test", "name sent in the EHLO before STARTTLS")
		f.BoolVar(&o.noColor, "no-color", false, "no colour (also with NO_COLOR set)")
		f.StringVar(&o.lessons, "lessons", "", "add a teacher's own lessons from `DIR` to the Lessons screen")
		f.StringVar(&o.labHost, "lab-host", "", "use the teacher's lab at `ADDR` (postlab serve --classroom) instead of starting one here")
		f.StringVar(&o.ca, "ca", "", "the teacher's lab certificate `FILE` (cert.pem) to trust with --lab-host")
	}
	rootRun = func(cmd *cobra.Command, args []string) error { return runApp(o) }
}

// runApp opens the terminal app; the lab runs in-process until it quits.
func runApp(o appOptions) error {
	opts := tui.Options{
		Dial:     tui.ExplorerDialer(o.helo),
		Annotate: annotate.Annotate,
		Suggest:  tui.AnnotateSuggest,
		NoLab:    o.noLab,
		SpillDir: os.TempDir(), // lines beyond the in-memory bound, for complete transcripts
		NoColor:  o.noColor || os.Getenv("NO_COLOR") != "",
	}
	if o.connect != "" {
		t, err := tui.ParseTarget(o.connect)
		if err != nil {
			return usageErrorf("--connect: %v", err)
		}
		opts.Connect = &t
	}
	if o.labHost != "" {
		h, err := tui.ParseLabHost(o.labHost)
		if err != nil {
			return usageErrorf("--lab-host: %v", err)
		}
		opts.LabHost, opts.NoLab = h, true
		if o.ca != "" {
			pool, err := tui.LoadCA(o.ca)
			if err != nil {
				return usageErrorf("--ca: %v", err)
			}
			opts.LabRoots = pool
		}
	} else if o.ca != "" {
		return usageErrorf("--ca goes with --lab-host (the certificate of the teacher's lab)")
	}
	if o.lessons != "" {
		c, err := lessons.Load(o.lessons)
		if err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			return usageErrorf("--lessons %s: %s (see 'postlab lessons validate %s')", o.lessons, first, o.lessons)
		}
		opts.Course = c
	}
	if appScreen == nil {
		if err := checkTerm(os.Getenv("TERM")); err != nil {
			return err
		}
	}
	if appScreen == nil && !term.IsTerminal(int(os.Stdout.Fd())) {
		return usageErrorf("the app needs a terminal; for scripts use the subcommands (see 'postlab --help')")
	}
	cfg := o.lab
	cfg.Logf = func(string, ...any) {} // the screen belongs to the app
	opts.DataDir = cfg.DataDir         // lesson progress
	if r, err := diag.NewHeadersResolver(o.resolver, 5*time.Second); err == nil {
		opts.LookupTXT = r.LookupTXT // DKIM keys for the Troubleshoot screen
	}
	if !o.noLab || o.labHost != "" {
		// With --lab-host the app may still go back to a lab of its own.
		opts.StartLab = tui.StartLabWith(cfg)
	}
	if o.noLab && o.labHost == "" {
		// A lab run by `postlab serve` with the same data dir: trust its
		// certificate for the lab presets.
		if pem, err := os.ReadFile(filepath.Join(cfg.DataDir, "tls", "cert.pem")); err == nil {
			pool := x509.NewCertPool()
			if pool.AppendCertsFromPEM(pem) {
				opts.LabRoots = pool
			}
		}
	}
	var app *tui.App
	opts.Diagnoser = tui.DiagDiagnoser{
		Resolver: o.resolver,
		Domain:   lab.DefaultDomain,
		LabDNS: func() string {
			if l := app.Lab(); l != nil {
				return l.Addr(lab.ListenerDNS)
			}
			if h := app.LabHost(); h != "" {
				// The teacher's lab answers DNS on its default port.
				_, port, _ := net.SplitHostPort(lab.DefaultConfig().DNS)
				return net.JoinHostPort(h, port)
			}
			return ""
		},
		LabAddr: func(listener string) string {
			if l := app.Lab(); l != nil {
				return l.Addr(listener)
			}
			if h := app.LabHost(); h != "" {
				// The teacher's lab listens on its default ports.
				d := lab.DefaultConfig()
				addr := map[string]string{"smtp": d.SMTP, "submission": d.Submission, "submissions": d.Submissions, "pop3": d.POP3, "pop3s": d.POP3S}[listener]
				if _, port, err := net.SplitHostPort(addr); err == nil {
					return net.JoinHostPort(h, port)
				}
			}
			return ""
		},
		LabCA: func() *x509.CertPool {
			if l := app.Lab(); l != nil {
				return l.CertPool()
			}
			return app.LabRoots()
		},
	}
	app = tui.New(opts)
	if appScreen != nil {
		app.SetScreen(appScreen)
	}
	if appStarted != nil {
		appStarted(app)
	}
	// A terminal that goes away or a polite kill still stops the lab cleanly.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	defer func() { signal.Stop(sigs); close(done) }()
	go func() {
		select {
		case <-sigs:
			app.Stop()
		case <-done:
		}
	}()
	if err := app.Run(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // the terminal went away: the lab has stopped, nothing to say
		}
		return failErrorf("the terminal: %v", err)
	}
	return nil
}

// checkTerm tells, in one line, that tcell has no description of the
// terminal type, instead of the app failing with a bare exit status.
func checkTerm(name string) error {
	if runtime.GOOS == "windows" {
		return nil // the console needs no terminfo
	}
	if _, err := tcell.LookupTerminfo(name); err != nil {
		if name == "" {
			return usageErrorf("cannot use the terminal: TERM is not set; try TERM=xterm-256color")
		}
		why := err.Error()
		if strings.HasPrefix(why, "exit status") {
			// tcell's last resort runs infocmp, which knows it no better.
			why = "no terminal description (terminfo) found for it"
		}
		return usageErrorf("cannot use terminal type TERM=%s: %s; try TERM=xterm-256color", name, why)
	}
	return nil
}
