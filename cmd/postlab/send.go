package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"postlab/explorer"
)

func init() { register(newSendCmd) }

// sendStages are the points --quit-after can stop at, in order.
var sendStages = []string{"connect", "banner", "ehlo", "tls", "auth", "mail", "rcpt"}

type sendFlags struct {
	cf          connFlags
	envFrom     string   // the reverse-path: --from without a display name; "" for <>
	envTo       []string // the forward-paths: --to without display names
	tf          traceFlags
	server      string
	port        int
	resolver    string
	from        string
	to          []string
	mech        string
	headers     []string
	subject     string
	body        string
	data        string
	bdat        bool
	noPipe      bool
	quitAfter   string
	timing      bool
	jsonOut     bool
	chunkSize   int
	bodyChanged bool
}

func newSendCmd() *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   "send [flags] --to ADDRESS",
		Short: "Send one message in a scripted SMTP transaction and show the annotated trace",
		Long: `Sends one message like a mail client or server would, printing every line
with its explanation (swaks-style). Without --server the recipient domain's
MX is looked up in DNS (--resolver HOST:PORT to ask a given server).

Like a mail server, it groups the recipients by domain and runs one
transaction per domain with that domain's MX (RFC 5321 §5.1), each with its
own section in the trace and its own result; --server sends everything to
one server instead (a submission server relays to the rest).

Addresses may carry a display name ('Bob <bob@example.com>', kept in the
headers) or angle brackets; --from '<>' sends the null reverse-path of a
bounce (MAIL FROM:<>, RFC 5321 §4.5.5).

Exit status: 0 the message was accepted for every recipient (or --quit-after
was reached), 1 a server said no (the last line names the stage and the
reply), 2 usage error, 3 network or TLS failure, 130 interrupted (Ctrl-C).

Examples:
  postlab send --server 127.0.0.1:2525 --from alice@postlab.test --to bob@postlab.test
  POSTLAB_PASSWORD=wonderland postlab send --server 127.0.0.1:2587 --starttls --insecure \
      --user alice --from alice@postlab.test --to bob@postlab.test --subject hi --body @note.txt`,
		Args: noArgs("give the recipients with --to ADDRESS and the server with --server HOST[:PORT]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.bodyChanged = cmd.Flags().Changed("body")
			return runSend(cmd, &f)
		},
	}
	f.cf.add(cmd, "STARTTLS")
	f.tf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "SMTP server `HOST[:PORT]` for every recipient (default: each recipient domain's MX)")
	fl.IntVar(&f.port, "port", 0, "port for the MX hosts or a --server without one (default 25, 465 with --tls)")
	fl.StringVar(&f.resolver, "resolver", "", "DNS server `HOST:PORT` for the MX lookup (default: /etc/resolv.conf)")
	fl.StringVar(&f.from, "from", "", "envelope sender and From: `ADDRESS`, or '<>' for none (default: --user when it is an address)")
	fl.StringArrayVar(&f.to, "to", nil, "recipient `ADDRESS`, 'Name <addr>' too (repeatable)")
	fl.StringVar(&f.mech, "auth", "", "how --user logs in, SASL `MECH`: PLAIN (default), LOGIN or CRAM-MD5")
	fl.StringVar(&f.cf.helo, "helo", "", heloHelp("sent in EHLO"))
	fl.StringArrayVar(&f.headers, "header", nil, "add or replace a header, `'Name: value'` (repeatable)")
	fl.StringVar(&f.subject, "subject", "", "Subject: header (default: a test subject with the date)")
	fl.StringVar(&f.body, "body", "This is a test message sent by postlab.", "message body: `TEXT`, @FILE, or - for stdin")
	fl.StringVar(&f.data, "data", "", "send the whole message (headers and body) from `FILE` (- for stdin) as is")
	fl.BoolVar(&f.bdat, "bdat", false, "send the message with BDAT (CHUNKING, RFC 3030) instead of DATA")
	fl.IntVar(&f.chunkSize, "chunk-size", 64<<10, "BDAT chunk size in `OCTETS`")
	fl.BoolVar(&f.noPipe, "no-pipelining", false, "wait for each reply even when the server offers PIPELINING")
	fl.StringVar(&f.quitAfter, "quit-after", "", "send QUIT after `STAGE`: "+strings.Join(sendStages, ", "))
	fl.BoolVar(&f.timing, "timing", false, "show the time each step took")
	fl.BoolVar(&f.jsonOut, "json", false, "print a JSON summary instead of the trace")
	return cmd
}

// sendResult is the --json summary (a stable schema). The top-level fields
// are those of the one transaction, or with several recipient domains of
// the first that failed (else the last), with every recipient listed and
// "accepted" true only when all were; "domains" then has one entry per
// transaction.
type sendResult struct {
	domainResult
	Domains []domainResult `json:"domains,omitempty"`
}

// domainResult is one transaction: to --server, or to one domain's MX.
type domainResult struct {
	Domain     string       `json:"domain,omitempty"` // the recipient domain (without --server)
	MX         *mxResult    `json:"mx,omitempty"`     // the lookup that chose the server (without --server)
	Server     string       `json:"server"`
	Accepted   bool         `json:"accepted"`
	Stage      string       `json:"stage"` // the stage it ended at: the failing one, or the last one done
	Code       int          `json:"code,omitempty"`
	Enhanced   string       `json:"enhanced,omitempty"`
	Reply      string       `json:"reply,omitempty"` // the last reply: the refusal, the end of DATA, or where --quit-after stopped
	Error      string       `json:"error,omitempty"`
	Recipients []rcptResult `json:"recipients"`
	TLS        *tlsResult   `json:"tls"`
	Steps      []stepTime   `json:"steps"`

	err error
}

// mxResult is the MX lookup of one domain (RFC 5321 §5.1).
type mxResult struct {
	Resolver string     `json:"resolver"`
	Records  []mxRecord `json:"records"`          // by preference; empty with an implicit MX
	Implicit bool       `json:"implicit"`         // no MX record: the domain itself (RFC 5321 §5.1)
	Chosen   string     `json:"chosen,omitempty"` // the host connected to (empty when none answered)
	Address  string     `json:"address,omitempty"`
}

type mxRecord struct {
	Preference int      `json:"preference"`
	Host       string   `json:"host"`
	Addresses  []string `json:"addresses"`
}

type rcptResult struct {
	Address  string `json:"address"`
	Accepted bool   `json:"accepted"`
	Code     int    `json:"code,omitempty"`
	Enhanced string `json:"enhanced,omitempty"`
	Reply    string `json:"reply,omitempty"`

	reply *explorer.Reply
}

// tlsResult is the handshake as seen, also when the certificate was
// refused (established false, verified false, verify_error why).
type tlsResult struct {
	Version     string   `json:"version"`
	Cipher      string   `json:"cipher"`
	Established bool     `json:"established"`
	Verified    bool     `json:"verified"`
	Error       string   `json:"verify_error,omitempty"`
	ServerName  string   `json:"server_name,omitempty"`
	Subject     string   `json:"subject,omitempty"`
	Issuer      string   `json:"issuer,omitempty"`
	SANs        []string `json:"sans,omitempty"`
}

func newTLSResult(ti *explorer.TLSInfo, established bool) *tlsResult {
	return &tlsResult{ti.Version, ti.Cipher, established, ti.Verified, ti.VerifyErr, ti.ServerName, ti.Subject, ti.Issuer, ti.SANs}
}

type stepTime struct {
	Stage string  `json:"stage"`
	MS    float64 `json:"ms"`
}

func (f *sendFlags) validate() error {
	if len(f.to) == 0 {
		return usageErrorf("--to is required: who should receive the message?")
	}
	f.envTo = nil
	for _, a := range f.to {
		addr, err := parseMailbox(a, true)
		if err != nil {
			return usageErrorf("--to %q: %v", a, err)
		}
		f.envTo = append(f.envTo, addr)
	}
	if f.from == "" {
		if !strings.Contains(f.cf.user, "@") {
			return usageErrorf("--from is required (the envelope sender, like alice@postlab.test, or '<>' for a bounce)")
		}
		f.from = f.cf.user
	}
	from, err := parseMailbox(f.from, false)
	if err != nil {
		return usageErrorf("--from %q: %v", f.from, err)
	}
	f.envFrom = from
	if f.mech != "" && f.cf.user == "" {
		return usageErrorf("--auth needs --user")
	}
	if f.cf.user != "" && f.mech == "" {
		f.mech = "PLAIN"
	}
	f.mech = strings.ToUpper(f.mech)
	if f.mech != "" && f.mech != "PLAIN" && f.mech != "LOGIN" && f.mech != "CRAM-MD5" {
		return usageErrorf("--auth %s: use PLAIN, LOGIN or CRAM-MD5", f.mech)
	}
	if f.quitAfter != "" {
		f.quitAfter = strings.ToLower(f.quitAfter)
		if stageIndex(f.quitAfter) < 0 {
			return usageErrorf("--quit-after %s: use one of %s", f.quitAfter, strings.Join(sendStages, ", "))
		}
		// A stage that is never reached would stop silently somewhere else.
		if f.quitAfter == "tls" && !f.cf.tls && !f.cf.starttls {
			return usageErrorf("--quit-after tls needs --starttls (or --tls): without it there is no TLS stage")
		}
		if f.quitAfter == "auth" && f.cf.user == "" {
			return usageErrorf("--quit-after auth needs --user: without it there is no AUTH stage")
		}
	}
	if f.data != "" && (f.bodyChanged || f.subject != "" || len(f.headers) > 0) {
		return usageErrorf("--data sends a whole message: it excludes --body, --subject and --header")
	}
	if f.data == "-" && f.body == "-" {
		return usageErrorf("only one of --data and --body can read stdin")
	}
	for _, h := range f.headers {
		k, _, ok := strings.Cut(h, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(h, "\r\n") {
			return usageErrorf("--header %q: want 'Name: value'", h)
		}
	}
	if f.port < 0 || f.port > 65535 {
		return usageErrorf("--port %d: out of range", f.port)
	}
	if f.chunkSize <= 0 {
		return usageErrorf("--chunk-size must be positive")
	}
	return nil
}

func stageIndex(s string) int {
	for i, st := range sendStages {
		if st == s {
			return i
		}
	}
	return -1
}

// readSource reads TEXT, @FILE or - (stdin).
func readSource(v string, stdin io.Reader, what string) ([]byte, error) {
	switch {
	case v == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			return nil, usageErrorf("%s from stdin: %v", what, err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, usageErrorf("%s: %v", what, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

// buildMessage assembles an RFC 5322 message from the flags.
func (f *sendFlags) buildMessage(stdin io.Reader, now time.Time) ([]byte, error) {
	if f.data != "" {
		src := f.data
		if src != "-" {
			src = "@" + src
		}
		return readSource(src, stdin, "--data")
	}
	body, err := readSource(f.body, stdin, "--body")
	if err != nil {
		return nil, err
	}
	subject := f.subject
	if subject == "" {
		subject = "postlab test " + now.Format(time.RFC1123Z)
	}
	var id [8]byte
	rand.Read(id[:])
	domain, fromHeader := "postlab.invalid", f.from
	env := f.envFrom
	if env == "" && f.from != "<>" {
		env = f.from // set directly, without validate
	}
	if i := strings.LastIndexByte(env, '@'); i >= 0 && i+1 < len(env) {
		domain = strings.Trim(env[i+1:], ">")
	} else if env == "" {
		// A bounce: no reverse-path, but From: must name a mailbox (RFC 5322 §3.6.2).
		domain = f.cf.heloName()
		fromHeader = "MAILER-DAEMON@" + domain
	}
	type header struct{ k, v string }
	hs := []header{
		{"Date", now.Format(time.RFC1123Z)},
		{"From", fromHeader},
		{"To", strings.Join(f.to, ", ")},
		{"Subject", subject},
		{"Message-ID", "<" + hex.EncodeToString(id[:]) + "@" + domain + ">"},
		{"X-Mailer", "postlab"},
	}
	for _, h := range f.headers {
		k, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		replaced := false
		for i := range hs {
			if strings.EqualFold(hs[i].k, k) {
				hs[i] = header{k, v}
				replaced = true
			}
		}
		if !replaced {
			hs = append(hs, header{k, v})
		}
	}
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.k + ": " + h.v + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n", "\r\n"))
	if !strings.HasSuffix(b.String(), "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String()), nil
}

// sender runs one transaction, recording stages and timings.
type sender struct {
	f      *sendFlags
	r      *renderer
	to     []string // the recipients of this transaction
	res    domainResult
	stageT time.Time
	s      *explorer.SMTPSession
	last   *explorer.Reply // the last complete reply, for --quit-after
}

func (x *sender) step(stage string) {
	now := time.Now()
	d := now.Sub(x.stageT)
	x.stageT = now
	if stage != "quit" {
		x.res.Stage = stage
	}
	x.res.Steps = append(x.res.Steps, stepTime{stage, float64(d.Microseconds()) / 1000})
	if x.f.timing && x.s != nil {
		x.s.Note(fmt.Sprintf("timing: %s took %s", stage, d.Round(10*time.Microsecond)))
	}
}

// done reports whether --quit-after asks to stop after stage; if so it
// ends the session and says where it stopped and on which reply.
func (x *sender) done(ctx context.Context, stage string) bool {
	if x.f.quitAfter == "" || stageIndex(stage) < stageIndex(x.f.quitAfter) {
		return false
	}
	last := "none (nothing was read yet)"
	if r := x.last; r != nil && stage != "connect" {
		x.res.Code, x.res.Enhanced, x.res.Reply = r.Code, r.Enhanced, r.Text()
		last = replySummary(r)
	}
	if stage != "connect" {
		x.s.Quit(ctx)
	} else {
		x.s.Close()
	}
	x.r.Printf("== stopped after the %s stage (--quit-after %s); last reply: %s\n", stage, x.f.quitAfter, last)
	return true
}

// replySummary is a reply on one line: its code and first line, and how
// many lines followed (an EHLO reply has one per extension).
func replySummary(r *explorer.Reply) string {
	if len(r.Lines) <= 1 {
		return r.String()
	}
	one := *r
	one.Lines = r.Lines[:1]
	return fmt.Sprintf("%s (+%d more lines)", one.String(), len(r.Lines)-1)
}

// delivery is one transaction of a send: the recipients of one domain and
// where to find its server.
type delivery struct {
	domain string
	to     []string
}

// groupByDomain groups the envelope recipients by domain, in the order
// given, as an MTA does (RFC 5321 §5.1: one MX lookup per domain).
func groupByDomain(to []string) ([]delivery, error) {
	var out []delivery
	idx := map[string]int{}
	for _, a := range to {
		i := strings.LastIndexByte(a, '@')
		if i < 0 || strings.HasPrefix(a[i+1:], "[") {
			return nil, usageErrorf("--to %s has no domain name to look up in DNS: give --server", a)
		}
		d := strings.ToLower(a[i+1:])
		if j, ok := idx[d]; ok {
			out[j].to = append(out[j].to, a)
			continue
		}
		idx[d] = len(out)
		out = append(out, delivery{domain: d, to: []string{a}})
	}
	return out, nil
}

func runSend(cmd *cobra.Command, f *sendFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	defPort, tlsPort := 25, 465
	if f.port > 0 {
		defPort, tlsPort = f.port, f.port
	}
	// Flag checks before anything goes out (and before a password prompt).
	var groups []delivery
	if f.server != "" {
		if _, err := f.cf.options(f.server, defPort, tlsPort); err != nil {
			return err
		}
		groups = []delivery{{to: f.envTo}}
	} else {
		if _, err := f.cf.options("localhost", defPort, tlsPort); err != nil {
			return err
		}
		var err error
		if groups, err = groupByDomain(f.envTo); err != nil {
			return err
		}
		if f.resolver != "" {
			if _, _, err := net.SplitHostPort(f.resolver); err != nil {
				return usageErrorf("--resolver %q: want HOST:PORT, like 127.0.0.1:2553", f.resolver)
			}
		}
	}
	msg, err := f.buildMessage(cmd.InOrStdin(), time.Now())
	if err != nil {
		return err
	}
	var pass string
	if f.cf.user != "" {
		if pass, err = readPassword("Password for " + f.cf.user + ": "); err != nil {
			return err
		}
	}
	// SIZE= must be the octets DATA and BDAT will send (RFC 1870 §3):
	// CRLF line endings and a final CRLF, before dot-stuffing.
	msg = explorer.NormalizeMessage(msg)
	ctx, cancel := signalContext()
	defer cancel()

	out := cmd.OutOrStdout()
	if f.jsonOut {
		out = io.Discard
	}
	r, err := newRenderer(out, &f.tf)
	if err != nil {
		return err
	}
	port := defPort
	if f.cf.tls {
		port = tlsPort
	}
	var results []domainResult
	for i, g := range groups {
		x := &sender{f: f, r: r, to: g.to, stageT: time.Now()}
		x.res.Recipients = []rcptResult{}
		x.res.Steps = []stepTime{}
		x.res.Domain = g.domain
		if len(groups) > 1 {
			r.Printf("== delivery %d of %d: %s, for %s\n", i+1, len(groups), g.domain, strings.Join(g.to, ", "))
		}
		if f.server != "" {
			o, _ := f.cf.options(f.server, defPort, tlsPort)
			x.res.err = x.run(ctx, []target{{addr: o.Addr}}, msg, pass)
		} else {
			targets, mx, err := lookupMX(ctx, g.domain, f.resolver, port, f.cf.timeout, x.local)
			x.res.MX = mx
			if err != nil {
				x.res.Stage = "mx"
				x.local("error: " + err.Error())
				x.res.err = err
			} else {
				x.res.err = x.run(ctx, targets, msg, pass)
			}
		}
		if x.res.Recipients == nil || len(x.res.Recipients) == 0 {
			for _, a := range g.to {
				x.res.Recipients = append(x.res.Recipients, rcptResult{Address: a})
			}
		}
		if x.res.err != nil {
			x.res.Error = x.res.err.Error()
			if len(groups) > 1 {
				r.Printf("== result for %s: %s\n", g.domain, x.res.Error)
			}
		}
		results = append(results, x.res)
		if ctx.Err() != nil {
			r.Interrupted()
			break
		}
	}
	var res sendResult
	err = nil
	var failed []string
	for _, d := range results {
		if d.err != nil && err == nil {
			err = d.err
			res.domainResult = d
		}
		if d.err != nil {
			failed = append(failed, d.Domain)
		}
	}
	if err == nil {
		res.domainResult = results[len(results)-1]
	}
	if len(results) > 1 {
		res.Domains = results
		res.Recipients = []rcptResult{}
		res.Accepted = err == nil
		for _, d := range results {
			res.Recipients = append(res.Recipients, d.Recipients...)
			res.Accepted = res.Accepted && d.Accepted
		}
		if err != nil {
			who := "for " + res.Domain
			if len(failed) > 1 {
				who += fmt.Sprintf(" (and %d more failed domains: %s)", len(failed)-1, strings.Join(failed[1:], ", "))
			}
			err = withPrefix(err, who+": ")
			res.Error = err.Error()
		}
	}
	if cerr := r.Close(); err == nil && cerr != nil {
		err = cerr
		res.Error = err.Error()
	}
	if f.jsonOut {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // replies quote <addresses>
		enc.Encode(res)
	}
	if ctx.Err() != nil {
		return errInterrupted // Ctrl-C: the trace says where it stopped
	}
	return err
}

// withPrefix adds words before the message of an exit error.
func withPrefix(err error, prefix string) error {
	var ee *exitError
	if errors.As(err, &ee) && ee.err != errSilent {
		return &exitError{ee.code, fmt.Errorf("%s%v", prefix, ee.err)}
	}
	return err
}

// local prints a note of send's own (the MX lookup, the host it tries) in
// the trace, like the session's notes, and in --trace-out.
func (x *sender) local(line string) {
	x.r.Event(explorer.Event{Time: time.Now(), Dir: explorer.Local, Line: line, Err: strings.HasPrefix(line, "error: ")})
}

// target is one address to try, with the name its certificate should
// carry and, for an MX host, its preference.
type target struct {
	addr, name string
	pref       int
	mx         bool
}

func (t target) String() string {
	if !t.mx {
		return t.addr
	}
	return fmt.Sprintf("MX %s (preference %d) at %s", t.name, t.pref, t.addr)
}

func (x *sender) run(ctx context.Context, targets []target, msg []byte, pass string) error {
	f := x.f
	var s *explorer.SMTPSession
	var err error
	for i, t := range targets {
		opts, oerr := f.cf.options(t.addr, 25, 465)
		if oerr != nil {
			return oerr
		}
		if t.name != "" && opts.ServerName == "" {
			opts.ServerName = t.name
		}
		if opts.Security == explorer.StartTLS {
			opts.Security = explorer.Plain // STARTTLS is a step of its own below
		}
		opts.OnEvent = x.r.Event
		x.res.Server = t.addr
		if t.mx {
			x.local("trying " + t.String())
		}
		s, err = explorer.DialSMTPConn(ctx, opts)
		if err == nil {
			if x.res.MX != nil {
				x.res.MX.Chosen, x.res.MX.Address = t.name, t.addr
			}
			break
		}
		x.noteCert(err)
		if i+1 < len(targets) && ctx.Err() == nil {
			x.local(fmt.Sprintf("no connection to %s; falling back to the next one, %s (RFC 5321 §5.1)", t.addr, targets[i+1]))
		}
	}
	if err != nil {
		x.res.Stage = "connect"
		var ce *explorer.ConnError
		if errors.As(err, &ce) && ce.Op == "tls" {
			x.res.Stage = "tls" // the handshake of --tls
		}
		return stageError(x.res.Stage, err)
	}
	x.s = s
	defer s.Close()
	x.step("connect")
	if ti := s.TLS(); ti != nil {
		x.res.TLS = newTLSResult(ti, true)
	}
	if x.done(ctx, "connect") {
		return nil
	}
	fail := func(stage string, r *explorer.Reply, err error) error {
		x.res.Stage = stage // where it ended
		if r != nil {
			x.res.Code, x.res.Enhanced, x.res.Reply = r.Code, r.Enhanced, r.Text()
		}
		x.noteCert(err)
		if !explorer.IsNetwork(err) && !s.Closed() {
			s.Quit(ctx)
		}
		return stageError(stage, err)
	}
	r, err := s.ReadGreeting(ctx)
	if err != nil {
		return fail("banner", r, err)
	}
	x.last = r
	x.step("banner")
	if x.done(ctx, "banner") {
		return nil
	}
	if r, err = s.Ehlo(ctx, f.cf.heloName()); err != nil {
		return fail("ehlo", r, err)
	}
	x.last = r
	x.step("ehlo")
	if x.done(ctx, "ehlo") {
		return nil
	}
	if f.cf.starttls {
		if _, ok := s.Supports("STARTTLS"); !ok {
			s.Note("the server did not offer STARTTLS; sending it anyway as asked")
		}
		if err := s.StartTLS(ctx); err != nil {
			var re *explorer.ReplyError
			if errors.As(err, &re) {
				return withSuffix(fail("tls", re.Reply, err), " (not continuing without TLS)")
			}
			return fail("tls", nil, err)
		}
		x.res.TLS = newTLSResult(s.TLS(), true)
		if r, err = s.Ehlo(ctx, f.cf.heloName()); err != nil {
			return fail("ehlo", r, err)
		}
		x.last = r
		x.step("tls")
	}
	if x.done(ctx, "tls") {
		return nil
	}
	if f.cf.user != "" {
		if err := smtpAuthGuard(s, f.mech, f.cf.allowPlain); err != nil {
			return fail("auth", nil, err)
		}
		if r, err = s.Auth(ctx, f.mech, f.cf.user, pass); err != nil {
			return fail("auth", r, err)
		}
		x.last = r
		x.step("auth")
	}
	if x.done(ctx, "auth") {
		return nil
	}

	var params []string
	if _, ok := s.Supports("SIZE"); ok {
		params = append(params, "SIZE="+strconv.Itoa(len(msg)))
	}
	if _, ok := s.Supports("8BITMIME"); ok && !isASCII(msg) {
		params = append(params, "BODY=8BITMIME")
	}
	if _, ok := s.Supports("SMTPUTF8"); ok && !isASCII([]byte(f.envFrom+strings.Join(x.to, ""))) {
		params = append(params, "SMTPUTF8") // RFC 6531 §3.4: UTF-8 addresses
	}
	if f.bdat {
		if _, ok := s.Supports("CHUNKING"); !ok {
			return fail("data", nil, errors.New("the server does not offer CHUNKING, so BDAT may not be used (RFC 3030 §2): drop --bdat"))
		}
	}
	_, pipe := s.Supports("PIPELINING")
	pipe = pipe && !f.noPipe && !f.bdat && f.quitAfter != "mail" && f.quitAfter != "rcpt"

	var dataReply *explorer.Reply
	accepted := 0
	if pipe {
		res, err := s.Pipeline(ctx, explorer.Envelope{From: f.envFrom, FromParams: params, To: x.to})
		if res != nil {
			accepted = x.noteRcpts(res.Rcpt)
		}
		if err != nil {
			return fail("mail", nil, err)
		}
		x.step("mail+rcpt+data")
		if res.Mail.Class() != 2 {
			if res.Data != nil && res.Data.Code == 354 {
				s.WriteMessage(ctx, nil)
			}
			return fail("mail", res.Mail, &explorer.ReplyError{Command: "MAIL", Reply: res.Mail})
		}
		if res.Data.Code != 354 {
			if accepted == 0 {
				return x.rcptFailure(ctx, fail)
			}
			return fail("data", res.Data, &explorer.ReplyError{Command: "DATA", Reply: res.Data})
		}
		if accepted == 0 {
			// RFC 2920 §3.1: with no valid recipient, end the DATA at once.
			s.WriteMessage(ctx, nil)
			return x.rcptFailure(ctx, fail)
		}
		dataReply, err = s.WriteMessage(ctx, msg)
		if err != nil {
			return fail("data", dataReply, err)
		}
	} else {
		if r, err = s.Mail(ctx, f.envFrom, params...); err != nil {
			return fail("mail", r, err)
		}
		x.last = r
		x.step("mail")
		if x.done(ctx, "mail") {
			return nil
		}
		var replies []*explorer.Reply
		for _, to := range x.to {
			r, err := s.Rcpt(ctx, to)
			if err != nil && (explorer.IsNetwork(err) || s.Closed()) {
				return fail("rcpt", r, err)
			}
			replies = append(replies, r)
			if r != nil {
				x.last = r
			}
		}
		accepted = x.noteRcpts(replies)
		x.step("rcpt")
		if accepted == 0 {
			return x.rcptFailure(ctx, fail)
		}
		if x.done(ctx, "rcpt") {
			return x.partial(nil)
		}
		var err error
		if f.bdat {
			dataReply, err = s.Bdat(ctx, msg, f.chunkSize)
		} else {
			dataReply, err = s.Data(ctx, msg)
		}
		if err != nil {
			return fail("data", dataReply, err)
		}
	}
	x.step("data")
	x.res.Code, x.res.Enhanced, x.res.Reply = dataReply.Code, dataReply.Enhanced, dataReply.Text()
	s.Quit(ctx)
	x.step("quit")
	return x.partial(dataReply)
}

// noteCert keeps the certificate a failed handshake refused, so the
// summary shows what was seen and why it did not verify.
func (x *sender) noteCert(err error) {
	var ce *explorer.CertificateError
	if errors.As(err, &ce) && ce.Info != nil {
		x.res.TLS = newTLSResult(ce.Info, false)
	}
}

// partial ends a transaction where the message went to the accepted
// recipients: exit 0 only when every recipient was accepted.
func (x *sender) partial(data *explorer.Reply) error {
	var refused []string
	for _, r := range x.res.Recipients {
		switch {
		case r.Accepted:
		case r.reply == nil:
			refused = append(refused, fmt.Sprintf("<%s> no reply", r.Address))
		default:
			refused = append(refused, fmt.Sprintf("<%s> %s", r.Address, r.reply))
		}
	}
	if data != nil {
		x.res.Accepted = true
		x.r.Printf("== accepted by %s: %s\n", x.res.Server, data)
	}
	if len(refused) > 0 {
		x.res.Accepted = false
		return failErrorf("rcpt refused for %d of %d recipients: %s", len(refused), len(x.res.Recipients), strings.Join(refused, "; "))
	}
	return nil
}

func (x *sender) noteRcpts(replies []*explorer.Reply) int {
	n := 0
	x.res.Recipients = x.res.Recipients[:0]
	for i, to := range x.to {
		rr := rcptResult{Address: to}
		if i < len(replies) && replies[i] != nil {
			rr.Code, rr.Enhanced, rr.Reply = replies[i].Code, replies[i].Enhanced, replies[i].Text()
			rr.Accepted = replies[i].Class() == 2
			rr.reply = replies[i]
		}
		if rr.Accepted {
			n++
		}
		x.res.Recipients = append(x.res.Recipients, rr)
	}
	return n
}

func (x *sender) rcptFailure(ctx context.Context, fail func(string, *explorer.Reply, error) error) error {
	last := x.res.Recipients[len(x.res.Recipients)-1]
	for _, r := range x.res.Recipients {
		if !r.Accepted {
			last = r
			break
		}
	}
	x.res.Stage = "rcpt"
	if last.reply == nil {
		return fail("rcpt", nil, errors.New("no recipient was accepted"))
	}
	return fail("rcpt", last.reply, &explorer.ReplyError{Command: "RCPT", Reply: last.reply})
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// lookupMX finds the mail hosts of domain (RFC 5321 §5.1): MX records by
// preference, a null MX (RFC 7505) as an error, and the domain itself when
// there is no MX. Host names are resolved with the same DNS server so that
// a practice zone works end to end.
func lookupMX(ctx context.Context, domain, resolver string, port int, timeout time.Duration, note func(string)) ([]target, *mxResult, error) {
	server := resolver
	if server == "" {
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cfg.Servers) == 0 {
			return nil, nil, netErrorf("mx: no DNS resolver: %v: give --resolver HOST:PORT, or --server", err)
		}
		server = net.JoinHostPort(cfg.Servers[0], cfg.Port)
	} else if _, _, err := net.SplitHostPort(server); err != nil {
		return nil, nil, usageErrorf("--resolver %q: want HOST:PORT", resolver)
	}
	res := &mxResult{Resolver: server, Records: []mxRecord{}}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c := &dns.Client{Timeout: timeout}
	query := func(name string, t uint16) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), t)
		m.RecursionDesired = true
		in, _, err := c.ExchangeContext(ctx, m, server)
		if err == nil && in.Truncated {
			tc := &dns.Client{Net: "tcp", Timeout: timeout}
			in, _, err = tc.ExchangeContext(ctx, m, server)
		}
		if err != nil {
			return nil, netErrorf("mx: DNS %s query for %s to %s failed: %v: check --resolver, or give --server to skip the lookup", dns.TypeToString[t], name, server, err)
		}
		return in, nil
	}
	note(fmt.Sprintf("looking up the MX records of %s via %s (RFC 5321 §5.1)", domain, server))
	in, err := query(domain, dns.TypeMX)
	if err != nil {
		return nil, res, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, res, failErrorf("mx: %s does not exist in DNS (NXDOMAIN): check the recipient's domain", domain)
	default:
		return nil, res, netErrorf("mx: DNS server %s answered %s for %s: retry later, or ask another --resolver", server, dns.RcodeToString[in.Rcode], domain)
	}
	var mxs []*dns.MX
	for _, rr := range in.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
	hosts := []string{}
	prefs := []int{}
	var list []string
	for _, mx := range mxs {
		if mx.Mx == "." {
			return nil, res, failErrorf("mx: %s publishes a null MX: it accepts no mail (RFC 7505)", domain)
		}
		hosts = append(hosts, strings.TrimSuffix(mx.Mx, "."))
		prefs = append(prefs, int(mx.Preference))
		list = append(list, fmt.Sprintf("%d %s", mx.Preference, strings.TrimSuffix(mx.Mx, ".")))
	}
	if len(hosts) == 0 {
		note(fmt.Sprintf("%s has no MX record: mail goes to the domain itself (implicit MX, RFC 5321 §5.1)", domain))
		hosts, prefs = []string{domain}, []int{0}
		res.Implicit = true
	} else {
		note(fmt.Sprintf("MX records of %s, lowest preference first: %s", domain, strings.Join(list, ", ")))
	}
	var out []target
	for i, h := range hosts {
		var addrs []string
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			in, err := query(h, t)
			if err != nil {
				continue
			}
			for _, rr := range in.Answer {
				var ip string
				switch a := rr.(type) {
				case *dns.A:
					ip = a.A.String()
				case *dns.AAAA:
					ip = a.AAAA.String()
				default:
					continue
				}
				addrs = append(addrs, ip)
				out = append(out, target{addr: net.JoinHostPort(ip, strconv.Itoa(port)), name: h, pref: prefs[i], mx: true})
			}
		}
		if !res.Implicit {
			res.Records = append(res.Records, mxRecord{Preference: prefs[i], Host: h, Addresses: append([]string{}, addrs...)})
		}
		if len(addrs) == 0 {
			note(fmt.Sprintf("%s has no address (A or AAAA): skipped", h))
		} else {
			note(fmt.Sprintf("%s has address %s", h, strings.Join(addrs, ", ")))
		}
	}
	if len(out) == 0 {
		return nil, res, failErrorf("mx: no address found for the mail hosts of %s (%s): their A/AAAA records are missing", domain, strings.Join(hosts, ", "))
	}
	return out, res, nil
}

// parseMailbox turns an --from/--to value into the envelope address: a
// bare address, one in angle brackets, or one with a display name as a mail
// client shows it ("Bob <bob@example.com>", RFC 5322 §3.4). For the sender
// "<>" is the null reverse-path of a bounce (RFC 5321 §4.5.5) and gives "".
func parseMailbox(a string, rcpt bool) (string, error) {
	a = strings.TrimSpace(a)
	if !rcpt && a == "<>" {
		return "", nil
	}
	if !strings.ContainsAny(a, "<>") {
		if err := checkAddress(a, rcpt); err != nil {
			return "", err
		}
		return a, nil
	}
	if inner, ok := strings.CutPrefix(a, "<"); ok && strings.HasSuffix(inner, ">") && !strings.ContainsAny(inner[:len(inner)-1], "<>") {
		inner = inner[:len(inner)-1]
		if inner == "" {
			return "", errors.New("<> (no address) is only possible for --from, the sender of a bounce")
		}
		return inner, checkAddress(inner, rcpt)
	}
	if strings.Count(a, "<") != 1 || !strings.HasSuffix(a, ">") {
		return "", errors.New("unbalanced < >: want local@domain, <local@domain> or 'Name <local@domain>'")
	}
	lt := strings.IndexByte(a, '<')
	inner := a[lt+1 : len(a)-1]
	if err := checkAddress(inner, rcpt); err != nil {
		return "", err
	}
	// The address is sound; the display name must parse too (RFC 5322 §3.4).
	if _, err := mail.ParseAddress(a); err != nil {
		return "", fmt.Errorf("the display name %q does not parse (%s): quote it, like '\"Doe, John\" <john@example.com>'", strings.TrimSpace(a[:lt]), strings.TrimPrefix(err.Error(), "mail: "))
	}
	return inner, nil
}

// checkAddress accepts a Mailbox of RFC 5321 §4.1.2 (Local-part "@"
// Domain or address-literal), with the UTF-8 of RFC 6531 §3.3 in both
// parts; rcpt also accepts the bare "Postmaster" of §4.1.1.3. It rejects
// what no server could take, so that --from and --to fail alike, before
// connecting.
func checkAddress(a string, rcpt bool) error {
	const want = "want local@domain, like bob@postlab.test"
	if rcpt && strings.EqualFold(a, "postmaster") {
		return nil
	}
	if !utf8.ValidString(a) {
		return errors.New("not valid UTF-8")
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return errors.New("no @: " + want)
	}
	local, domain := a[:at], a[at+1:]
	switch {
	case local == "":
		return errors.New("nothing before the @: " + want)
	case domain == "":
		return errors.New("nothing after the @: " + want)
	case len(local) > 64:
		return errors.New("the part before the @ is longer than 64 octets (RFC 5321 §4.5.3.1.1)")
	}
	if err := checkLocal(local); err != nil {
		return fmt.Errorf("%v (RFC 5321 §4.1.2): %s", err, want)
	}
	if err := checkDomain(domain); err != nil {
		return fmt.Errorf("%v (RFC 5321 §4.1.2): %s", err, want)
	}
	return nil
}

const atextSpecials = "!#$%&'*+-/=?^_`{|}~"

func checkLocal(l string) error {
	if len(l) >= 2 && l[0] == '"' && l[len(l)-1] == '"' {
		q := l[1 : len(l)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			switch {
			case c == '\\':
				if i+1 >= len(q) || q[i+1] < 32 || q[i+1] > 126 {
					return errors.New("a backslash in the quoted local part escapes nothing")
				}
				i++
			case c == '"':
				return errors.New("a quote inside the quoted local part must be escaped")
			case c < 32 || c == 127:
				return errors.New("a control character in the local part")
			}
		}
		return nil
	}
	for _, atom := range strings.Split(l, ".") {
		if atom == "" {
			return errors.New("the local part has an empty piece between dots (quote it if the server must see it)")
		}
		for _, r := range atom {
			if r == ' ' {
				return errors.New("a space in the address: quote the local part (\"john doe\"@example.com), or give a display name in the form 'Name <local@domain>'")
			}
			if r < 0x80 && !isAlnum(byte(r)) && !strings.ContainsRune(atextSpecials, r) {
				return fmt.Errorf("%q is not allowed in a local part unless it is quoted", r)
			}
		}
	}
	return nil
}

func checkDomain(d string) error {
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		lit := d[1 : len(d)-1]
		if ip := net.ParseIP(lit); ip != nil && ip.To4() != nil && !strings.Contains(lit, ":") {
			return nil
		}
		if v6, ok := strings.CutPrefix(lit, "IPv6:"); ok && net.ParseIP(v6) != nil {
			return nil
		}
		return fmt.Errorf("address literal %s is neither [IPv4] nor [IPv6:...]", d)
	}
	if len(d) > 255 {
		return errors.New("the domain is longer than 255 octets")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("domain %q has an empty or overlong label", d)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain label %q starts or ends with a hyphen", label)
		}
		for _, r := range label {
			if r < 0x80 && !isAlnum(byte(r)) && r != '-' {
				return fmt.Errorf("%q is not allowed in a domain name", r)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
