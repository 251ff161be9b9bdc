package lab

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"postlab/explorer/lab/pop3d"
)

// Config is the lab's configuration. Zero fields take the defaults of
// DefaultConfig; a listener address "off" disables that listener.
type Config struct {
	DataDir  string // default DefaultDataDir()
	Domain   string // practice domain, "postlab.test"
	Hostname string // the server's name, "mail.postlab.test"

	SMTP        string // MX role, default 127.0.0.1:2525
	Submission  string // STARTTLS + AUTH, default 127.0.0.1:2587
	Submissions string // implicit TLS + AUTH, default 127.0.0.1:2465
	POP3        string // STLS, default 127.0.0.1:2110
	POP3S       string // implicit TLS, default 127.0.0.1:2995
	DNS         string // UDP and TCP, default 127.0.0.1:2553

	InsecureAuth    bool          // allow password AUTH and USER/PASS without TLS (teaching)
	MaxMessageBytes int64         // SIZE, default 25 MiB
	MaxRecipients   int           // per message, default 100
	IdleTimeout     time.Duration // between reads, default 5 min (RFC 5321 §4.5.3.2.7)
	MaxConnsPerIP   int           // default 200: a classroom may share one address
	AuthFailDelay   time.Duration // pause before a failed AUTH reply, default 1s; <0 none
	GreylistDelay   time.Duration // greylist scenario: wait before a retry passes, default 10s
	SlowBannerDelay time.Duration // slow-banner scenario: greeting delay, default 10s

	CertFile, KeyFile string // TLS certificate; default a generated one in DATA/tls
	// CertNames are more host names and IP addresses the generated
	// certificate must carry as SANs, e.g. the classroom address students
	// connect to. Specific non-loopback listener IPs are added anyway.
	CertNames []string

	// Classroom serves a class (postlab serve --classroom): the practice
	// users and their published passwords are never active, even while
	// every listener is on loopback, and InsecureAuth is refused.
	Classroom bool

	Clock Clock                   // default time.Now
	Logf  func(string, ...any)    // operational messages; default discard
	Trace TraceSink               // extra sink besides Traces(); optional
	Ready func(name, addr string) // optional: called for each listener once bound
}

// Defaults of the lab (DESIGN.md "The lab's defaults").
const (
	DefaultDomain          = "postlab.test"
	DefaultHostname        = "mail.postlab.test"
	DefaultMaxMessageBytes = 25 << 20
	DefaultMaxRecipients   = 100
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultMaxConnsPerIP   = 200
	DefaultAuthFailDelay   = time.Second
	DefaultGreylistDelay   = 10 * time.Second
	DefaultSlowBannerDelay = 10 * time.Second
)

// Off disables a listener.
const Off = "off"

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		DataDir:         DefaultDataDir(),
		Domain:          DefaultDomain,
		Hostname:        DefaultHostname,
		SMTP:            "127.0.0.1:2525",
		Submission:      "127.0.0.1:2587",
		Submissions:     "127.0.0.1:2465",
		POP3:            "127.0.0.1:2110",
		POP3S:           "127.0.0.1:2995",
		DNS:             "127.0.0.1:2553",
		MaxMessageBytes: DefaultMaxMessageBytes,
		MaxRecipients:   DefaultMaxRecipients,
		IdleTimeout:     DefaultIdleTimeout,
		MaxConnsPerIP:   DefaultMaxConnsPerIP,
		AuthFailDelay:   DefaultAuthFailDelay,
		GreylistDelay:   DefaultGreylistDelay,
		SlowBannerDelay: DefaultSlowBannerDelay,
		Clock:           time.Now,
	}
}

// DefaultDataDir is $XDG_DATA_HOME/postlab, or ~/.local/share/postlab.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "postlab")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "postlab")
	}
	return filepath.Join(os.TempDir(), "postlab")
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.Domain == "" {
		c.Domain = d.Domain
	}
	c.Domain = strings.ToLower(strings.TrimSuffix(c.Domain, "."))
	if c.Hostname == "" {
		c.Hostname = "mail." + c.Domain
	}
	for _, p := range []struct {
		v   *string
		def string
	}{
		{&c.SMTP, d.SMTP}, {&c.Submission, d.Submission}, {&c.Submissions, d.Submissions},
		{&c.POP3, d.POP3}, {&c.POP3S, d.POP3S}, {&c.DNS, d.DNS},
	} {
		if *p.v == "" {
			*p.v = p.def
		}
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = d.MaxRecipients
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = d.MaxConnsPerIP
	}
	if c.AuthFailDelay == 0 {
		c.AuthFailDelay = d.AuthFailDelay
	}
	if c.GreylistDelay <= 0 {
		c.GreylistDelay = d.GreylistDelay
	}
	if c.SlowBannerDelay <= 0 {
		c.SlowBannerDelay = d.SlowBannerDelay
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// AddrInUseError says a listener address is taken.
type AddrInUseError struct {
	Flag string // the serve flag that sets this address, e.g. "--smtp"
	Addr string
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("%s is in use: choose another with %s ADDR", e.Addr, e.Flag)
}

// ListenError is any other failure to bind a listener address.
type ListenError struct {
	Flag, Addr string
	Err        error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("cannot listen on %s (%s): %v", e.Addr, e.Flag, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Lab is a running practice mail server.
type Lab struct {
	cfg      Config
	store    *Store
	users    *Users
	hub      *TraceHub
	tls      *tlsMaterial
	dkimKey  *rsa.PrivateKey // signs submitted mail; published by the DNS zone
	limiter  ipLimiter
	addrs    map[string]string
	loopback bool

	smtpLns []*smtpListener
	others  []func(ctx context.Context) error // shutdown hooks of POP3 and DNS
	dns     *dnsState                         // nil when DNS is off
	faults  scenarioState

	sessionSeq atomic.Uint64
	wg         sync.WaitGroup // accept loops

	done     chan struct{} // closed when Close starts
	mu       sync.Mutex
	conns    map[*connState]struct{}
	closing  bool
	sessions sync.WaitGroup
}

// listenerSpec ties a listener name to its address and flag.
type listenerSpec struct {
	name, flag, addr string
}

func (c Config) specs() []listenerSpec {
	return []listenerSpec{
		{ListenerSMTP, "--smtp", c.SMTP},
		{ListenerSubmission, "--submission", c.Submission},
		{ListenerSubmissions, "--submissions", c.Submissions},
		{ListenerPOP3, "--pop3", c.POP3},
		{ListenerPOP3S, "--pop3s", c.POP3S},
		{ListenerDNS, "--dns", c.DNS},
	}
}

// Start binds every listener, then prepares the data dir (users, TLS
// material, Maildirs) and serves. A taken address gives *AddrInUseError.
func Start(cfg Config) (*Lab, error) {
	cfg = cfg.withDefaults()
	if cfg.Classroom && cfg.InsecureAuth {
		return nil, errors.New("classroom mode never accepts passwords without TLS: drop InsecureAuth")
	}
	l := &Lab{cfg: cfg, addrs: make(map[string]string), conns: make(map[*connState]struct{}), done: make(chan struct{})}
	l.limiter.max = cfg.MaxConnsPerIP
	l.hub = NewTraceHub(DefaultTraceCapacity)

	b, err := bindAll(cfg)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			b.close()
		}
	}()
	l.loopback = true
	for name, a := range b.addrs {
		l.addrs[name] = a
		if !isLoopbackAddr(a) {
			l.loopback = false
		}
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if l.users, err = loadUsers(cfg.DataDir, l.loopback && !cfg.Classroom); err != nil {
		return nil, err
	}
	l.users.noWellKnown = cfg.Classroom
	names := certNames(cfg, b.addrs)
	if l.tls, err = loadOrCreateTLS(cfg.DataDir, cfg.CertFile, cfg.KeyFile, names, cfg.Clock()); err != nil {
		return nil, err
	}
	if cfg.CertFile != "" {
		for _, n := range names[len(labHostNames(cfg.Domain, cfg.Hostname)):] {
			if l.tls.cert.Leaf.VerifyHostname(n) != nil {
				l.logf("warning: the certificate %s does not name %s: clients connecting to it cannot verify it", cfg.CertFile, n)
			}
		}
	}
	if l.store, err = newStore(filepath.Join(cfg.DataDir, "mail"), cfg.Hostname, cfg.Clock, l.users.List); err != nil {
		return nil, err
	}
	l.store.cleanTmp()
	for _, u := range l.Users() {
		if _, err := l.store.box(u); err != nil {
			return nil, err
		}
	}
	if _, err := l.store.box(Outbox); err != nil {
		return nil, err
	}

	for _, sl := range b.smtp {
		l.smtpLns = append(l.smtpLns, sl)
	}
	if err := l.startOthers(b); err != nil {
		return nil, err
	}
	ok = true
	for _, sl := range l.smtpLns {
		l.wg.Add(1)
		go l.serveSMTP(sl)
	}
	return l, nil
}

// bound holds the bound sockets before serving starts.
type bound struct {
	smtp   []*smtpListener
	pop3   net.Listener
	pop3s  net.Listener
	dnsTCP net.Listener
	dnsUDP net.PacketConn
	addrs  map[string]string
}

func (b *bound) close() {
	for _, sl := range b.smtp {
		sl.ln.Close()
	}
	for _, c := range []interface{ Close() error }{b.pop3, b.pop3s, b.dnsTCP, b.dnsUDP} {
		if c != nil && !isNilCloser(c) {
			c.Close()
		}
	}
}

func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case net.Listener:
		return v == nil
	case net.PacketConn:
		return v == nil
	}
	return false
}

func bindAll(cfg Config) (_ *bound, err error) {
	b := &bound{addrs: make(map[string]string)}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	for _, s := range cfg.specs() {
		if strings.EqualFold(s.addr, Off) {
			continue
		}
		if _, _, err := net.SplitHostPort(s.addr); err != nil {
			return nil, &ListenError{Flag: s.flag, Addr: s.addr, Err: errors.New("want HOST:PORT or off")}
		}
		if s.name == ListenerDNS {
			if b.dnsTCP, b.dnsUDP, err = bindDNS(s); err != nil {
				return nil, err
			}
			b.addrs[s.name] = b.dnsTCP.Addr().String()
			continue
		}
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, listenErr(s, err)
		}
		b.addrs[s.name] = ln.Addr().String()
		switch s.name {
		case ListenerSMTP:
			b.smtp = append(b.smtp, &smtpListener{name: s.name, ln: ln})
		case ListenerSubmission:
			b.smtp = append(b.smtp, &smtpListener{name: s.name, ln: ln, submission: true})
		case ListenerSubmissions:
			b.smtp = append(b.smtp, &smtpListener{name: s.name, ln: ln, submission: true, implicitTLS: true})
		case ListenerPOP3:
			b.pop3 = ln
		case ListenerPOP3S:
			b.pop3s = ln
		}
	}
	return b, nil
}

// bindDNS binds TCP and UDP on the same port; with port 0 it retries until
// the UDP twin of a free TCP port is free too.
func bindDNS(s listenerSpec) (net.Listener, net.PacketConn, error) {
	for range 20 {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, nil, listenErr(s, err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			return ln, pc, nil
		}
		ln.Close()
		if _, port, _ := net.SplitHostPort(s.addr); port != "0" {
			return nil, nil, listenErr(s, err)
		}
	}
	return nil, nil, &ListenError{Flag: s.flag, Addr: s.addr, Err: errors.New("no port free for both UDP and TCP")}
}

func listenErr(s listenerSpec, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return &AddrInUseError{Flag: s.flag, Addr: s.addr}
	}
	return &ListenError{Flag: s.flag, Addr: s.addr, Err: err}
}

// certNames are the names the certificate must cover: the lab's own, then
// cfg.CertNames and every specific non-loopback IP a listener is bound to.
func certNames(cfg Config, bound map[string]string) []string {
	names := labHostNames(cfg.Domain, cfg.Hostname)
	add := func(n string) {
		if n = strings.TrimSuffix(strings.Trim(n, "[]"), "."); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range cfg.CertNames {
		add(n)
	}
	for _, name := range sortedKeys(bound) {
		h, _, err := net.SplitHostPort(bound[name])
		if ip := net.ParseIP(h); err == nil && ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
			add(ip.String())
		}
	}
	return names
}

func isLoopbackAddr(a string) bool {
	h, _, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (l *Lab) logf(format string, a ...any) { l.cfg.Logf(format, a...) }

func (l *Lab) nextSession() uint64 { return l.sessionSeq.Add(1) }

// Emit implements TraceSink: the hub and the configured extra sink get ev,
// with leftover credentials masked and control characters escaped.
func (l *Lab) Emit(ev ServerEvent) {
	ev = sanitize(ev)
	l.hub.Emit(ev)
	if l.cfg.Trace != nil {
		l.cfg.Trace.Emit(ev)
	}
}

func (l *Lab) track(cs *connState) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	l.conns[cs] = struct{}{}
	l.sessions.Add(1)
	return true
}

func (l *Lab) untrack(cs *connState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.conns[cs]; ok {
		delete(l.conns, cs)
		l.sessions.Done()
	}
}

// isLocalDomain: mail for the practice domain and the host name is ours.
func (l *Lab) isLocalDomain(d string) bool {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	return d == l.cfg.Domain || d == strings.ToLower(l.cfg.Hostname)
}

// mailboxFor maps a local part to a mailbox. "postmaster" (which RFC 5321
// §4.5.1 requires) is delivered to the first user.
func (l *Lab) mailboxFor(local string) (string, bool) {
	u := strings.ToLower(local)
	if ValidUserName(u) == nil && l.users.Exists(u) {
		return u, true
	}
	if u == "postmaster" {
		if us := l.Users(); len(us) > 0 {
			return us[0], true
		}
	}
	return "", false
}

// Addr returns the bound address of a listener ("smtp", "submission",
// "submissions", "pop3", "pop3s", "dns"), or "" when it is off.
func (l *Lab) Addr(name string) string { return l.addrs[name] }

// CertPool trusts the lab's certificate (for clients and tests).
func (l *Lab) CertPool() *x509.CertPool { return l.tls.pool }

// CertPEM is the lab's certificate in PEM form (for curl --cacert and the like).
func (l *Lab) CertPEM() []byte { return append([]byte(nil), l.tls.certPEM...) }

// ClientTLSConfig returns a client configuration that trusts the lab.
func (l *Lab) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: l.tls.pool, ServerName: l.cfg.Hostname, MinVersion: tls.VersionTLS12}
}

// Traces is the hub of server-side session traces.
func (l *Lab) Traces() *TraceHub { return l.hub }

// Store is the lab's mail store.
func (l *Lab) Store() *Store { return l.store }

// Users lists the lab's users (the practice users only while on loopback).
func (l *Lab) Users() []string { return l.users.List() }

// PracticeUsers reports whether alice and bob exist: only when every
// listener is on loopback.
func (l *Lab) PracticeUsers() bool { return l.users.PracticeActive() }

// PracticePassword returns the well-known password of an active practice
// user that has no stored password.
func (l *Lab) PracticePassword(user string) (string, bool) { return l.users.Secret(user) }

// AddUser adds a user (or changes a password) in the running lab and the
// data dir.
func (l *Lab) AddUser(name, password string) error {
	if password == "" {
		return errors.New("empty password")
	}
	if err := l.users.set(name, password); err != nil {
		return err
	}
	_, err := l.store.box(name)
	return err
}

// Domain is the practice domain.
func (l *Lab) Domain() string { return l.cfg.Domain }

// Hostname is the server's host name.
func (l *Lab) Hostname() string { return l.cfg.Hostname }

// DataDir is where the lab keeps its data.
func (l *Lab) DataDir() string { return l.cfg.DataDir }

// Config is the effective configuration (defaults filled in).
func (l *Lab) Config() Config { return l.cfg }

// CutShortError is returned by Close when sessions were still busy as its
// context ended and had to be closed. It unwraps to the context's error.
type CutShortError struct {
	Sessions int // SMTP and POP3 sessions closed by force
	Err      error
}

func (e *CutShortError) Error() string {
	return fmt.Sprintf("%d session(s) cut short: %v", e.Sessions, e.Err)
}

func (e *CutShortError) Unwrap() error { return e.Err }

// Close stops accepting, lets sessions in a mail transaction or in the
// middle of a POP3 response finish (idle ones are told and end at once),
// waits for them until ctx is done, then closes what is left. It returns a
// *CutShortError when it had to cut sessions short.
func (l *Lab) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return nil
	}
	l.closing = true
	close(l.done)
	for _, sl := range l.smtpLns {
		sl.ln.Close()
	}
	for cs := range l.conns {
		cs.tr.note("lab shutting down: the session ends at its next command outside a mail transaction")
		cs.tc.drain()
	}
	l.mu.Unlock()

	// POP3 and DNS stop alongside SMTP, not after it: an idle POP3
	// session must not wait for an SMTP transaction.
	otherErrs := make([]error, len(l.others))
	var others sync.WaitGroup
	for i, f := range l.others {
		others.Add(1)
		go func() {
			defer others.Done()
			otherErrs[i] = f(ctx)
		}()
	}

	cut := 0
	done := make(chan struct{})
	go func() { l.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Closing a connection untracks it, which takes l.mu: collect
		// first, close after unlocking.
		l.mu.Lock()
		left := make([]*connState, 0, len(l.conns))
		for cs := range l.conns {
			left = append(left, cs)
		}
		l.mu.Unlock()
		for _, cs := range left {
			cs.tc.Close()
		}
		<-done
		cut += len(left)
	}
	others.Wait()
	var errs []error
	for _, err := range otherErrs {
		var ce *pop3d.CutShortError
		switch {
		case errors.As(err, &ce):
			cut += ce.Sessions
		case err != nil && !errors.Is(err, ctx.Err()):
			errs = append(errs, err)
		}
	}
	l.wg.Wait()
	l.store.close()
	if cut > 0 {
		errs = append([]error{&CutShortError{Sessions: cut, Err: ctx.Err()}}, errs...)
	}
	return errors.Join(errs...)
}
