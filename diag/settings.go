package diag

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"postlab/explorer"
)

// Settings discovery: which POP3 and SMTP submission settings work for an
// address, found the way a mail client would (RFC 6186 and RFC 8314 SRV
// records, Thunderbird autoconfig, the MX host, guessed names) and each
// verified by a real session: reachable, TLS, certificate, AUTH mechanisms
// and, with a password, a login that never sends a message.

// Candidate is one server setting to try.
type Candidate struct {
	Protocol string // pop3, imap, smtp
	Host     string
	Port     int
	Security string // tls, starttls, plain
	Source   string // srv, autoconfig, mx, mx-parent, guess
}

// Setting is a probed candidate: the entries of `postlab settings --json`.
type Setting struct {
	Protocol       string   `json:"protocol"`
	Host           string   `json:"host"`
	Port           int      `json:"port"`
	Security       string   `json:"security"`
	Source         string   `json:"source"`
	Reachable      bool     `json:"reachable"`
	TLS            bool     `json:"tls"`
	CertOK         bool     `json:"cert_ok"`
	AuthMechanisms []string `json:"auth_mechanisms"`
	Login          string   `json:"login"` // ok, failed, untested
	Error          string   `json:"error"`

	User  string           `json:"-"` // the user name that logged in
	Note  string           `json:"-"` // why the login was not tried
	Cert  *CertCheck       `json:"-"`
	Trace []explorer.Event `json:"-"`
}

// Recommended holds the chosen settings (nil when none works) and why.
type Recommended struct {
	Incoming    *Setting `json:"incoming"`
	Outgoing    *Setting `json:"outgoing"`
	IncomingWhy []string `json:"-"`
	OutgoingWhy []string `json:"-"`
}

// SettingsResult is the outcome of DiscoverSettings.
type SettingsResult struct {
	Address     string      `json:"address"`
	Incoming    []*Setting  `json:"incoming"`
	Outgoing    []*Setting  `json:"outgoing"`
	Recommended Recommended `json:"recommended"`
	// Error is one line when the search could not be made (the resolver did
	// not answer); set by the command.
	Error string `json:"error,omitempty"`

	Discovery []string `json:"-"` // what each source said
	// DNSUnreachable: no SRV or MX query got any response (resolver down).
	DNSUnreachable bool     `json:"-"`
	Unresolved     []string `json:"-"` // candidate names with no address
	// LookupFailed are candidate names whose address lookup failed ("name:
	// error"): unknown, not absent.
	LookupFailed []string `json:"-"`
	DurationMS   int64    `json:"-"`
}

// Works reports whether a working incoming and outgoing setting was found.
func (r *SettingsResult) Works() bool {
	return r.Recommended.Incoming != nil && r.Recommended.Outgoing != nil
}

// SettingsOptions configure DiscoverSettings.
type SettingsOptions struct {
	Resolver Resolver // required
	// HTTPClient fetches autoconfig; default a client that resolves through Resolver.
	HTTPClient *http.Client
	// AutoconfigURLs lists the autoconfig URLs; default AutoconfigURLs.
	AutoconfigURLs func(domain, address string) []string
	RootCAs        *x509.CertPool // nil: the system's
	// Timeout bounds each probe and each discovery lookup; the whole run
	// takes at most about twice this, whatever the number of candidates.
	Timeout  time.Duration
	Password string // used when HavePassword
	// HavePassword turns the login tests on.
	HavePassword bool
	Helo         string
	Now          func() time.Time
	Dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	// Extra candidates probed besides the discovered ones (tests, benchmarks).
	Extra []Candidate
	// OnlyExtra skips discovery and probes only Extra.
	OnlyExtra bool
	// Progress, when set, gets each discovery note as it is made and each
	// probed setting once, when its probe has finished and no source still
	// running could name it with a better source (a guessed setting waits
	// for the SRV, autoconfig and MX sources): so it sees every note and
	// every setting of the result exactly once, as the result has them.
	// Calls come from the discovery's goroutines but are serialised (the
	// hook needs no lock), in the order the counts grew, and all return
	// before DiscoverSettings does. A slow hook slows the discovery.
	Progress func(SettingsProgress)
}

// SettingsProgress is one step of a discovery under way: a note or a
// setting, with the counts known so far.
type SettingsProgress struct {
	// Note is a discovery note, the text SettingsResult.Discovery has ("" for a setting).
	Note string
	// Setting is a probed setting, the one the result lists (nil for a
	// note): read it, do not change it.
	Setting *Setting

	Sources         int // sources asked: the SRV names, autoconfig URLs and the MX, all from the start
	SourcesAnswered int // of those, the ones whose lookup or fetch has returned
	Probes          int // probes started so far (a candidate whose host has an address)
	ProbesDone      int // settings passed to Progress so far, this one included
}

// standard ports per protocol, in order of preference (RFC 8314 §3).
var standardPorts = map[string][]struct {
	port int
	sec  string
}{
	"pop3": {{995, "tls"}, {110, "starttls"}, {110, "plain"}},
	"imap": {{993, "tls"}, {143, "starttls"}},
	"smtp": {{465, "tls"}, {587, "starttls"}, {25, "starttls"}, {587, "plain"}, {25, "plain"}},
}

var srvServices = []struct {
	name, proto string
	secs        []string
}{
	{"_submissions", "smtp", []string{"tls"}},
	{"_submission", "smtp", []string{"starttls", "plain"}},
	{"_pop3s", "pop3", []string{"tls"}},
	{"_pop3", "pop3", []string{"starttls", "plain"}},
	{"_imaps", "imap", []string{"tls"}},
	{"_imap", "imap", []string{"starttls"}},
}

var sourceRank = map[string]int{"srv": 0, "autoconfig": 1, "mx": 2, "mx-parent": 3, "guess": 4}
var secRank = map[string]int{"tls": 0, "starttls": 1, "plain": 2}

// HTTPClientVia returns an HTTP client whose host names are resolved by r
// (so --resolver applies to autoconfig and MTA-STS too) and that trusts roots.
func HTTPClientVia(r Resolver, roots *x509.CertPool, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		TLSHandshakeTimeout: timeout,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ip, err := resolveHost(ctx, r, host)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		},
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return nil
		}}
}

// resolveHost returns an address of host (IPv4 first) through r.
func resolveHost(ctx context.Context, r Resolver, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, nil
	}
	ips, err := LookupIP(ctx, r, host, true, true)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, ip := range ips {
		if ip.Is4() {
			return ip, nil
		}
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("%s has no address", host)
	}
	return ips[0], nil
}

// DiscoverSettings finds and verifies the settings for address. Sources and
// probes all run concurrently: a candidate is probed as soon as a source
// names it, so the run takes about one discovery plus one probe timeout.
func DiscoverSettings(ctx context.Context, address string, opts SettingsOptions) (*SettingsResult, error) {
	t, err := ParseTarget(address)
	if err != nil {
		return nil, err
	}
	if t.Address == "" {
		return nil, fmt.Errorf("%q is not an address: want user@domain", address)
	}
	if opts.Resolver == nil {
		return nil, errors.New("settings: no resolver")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 8 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Helo == "" {
		opts.Helo = "localhost"
	}
	if opts.HTTPClient == nil {
		hc := HTTPClientVia(opts.Resolver, opts.RootCAs, opts.Timeout)
		// Its transport is ours alone: no idle connection may outlive the run.
		defer hc.CloseIdleConnections()
		opts.HTTPClient = hc
	}
	if opts.AutoconfigURLs == nil {
		opts.AutoconfigURLs = AutoconfigURLs
	}
	start := time.Now()
	res := &SettingsResult{Address: t.Address, Incoming: []*Setting{}, Outgoing: []*Setting{}}
	d := &discovery{opts: opts, t: t, res: res, byKey: map[string]*Setting{}, hosts: map[string]*hostAddr{}, running: map[string]int{}}

	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var urls []string
	if !opts.OnlyExtra {
		// Every source is counted before any probe starts, so a probe
		// that finishes early waits for the sources that might relabel it.
		urls = opts.AutoconfigURLs(t.Domain, t.Address)
		d.running["srv"], d.running["autoconfig"], d.running["mx"] = len(srvServices), len(urls), 1
		d.sources = len(srvServices) + len(urls) + 1
	}
	var srcs sync.WaitGroup
	run := func(kind string, f func()) {
		srcs.Add(1)
		go func() {
			defer srcs.Done()
			f()
			d.sourceDone(kind)
		}()
	}
	for _, c := range opts.Extra {
		d.offer(ctx, c)
	}
	if !opts.OnlyExtra {
		for _, s := range srvServices {
			run("srv", func() { d.fromSRV(dctx, ctx, s.name, s.proto, s.secs) })
		}
		for _, u := range urls {
			run("autoconfig", func() { d.fromAutoconfig(dctx, ctx, u) })
		}
		run("mx", func() { d.fromMX(dctx, ctx) })
		for _, g := range []struct{ host, kind string }{{"pop." + t.Domain, "in"}, {"pop3." + t.Domain, "in"}, {"mail." + t.Domain, "both"}, {"smtp." + t.Domain, "out"}, {t.Domain, "both"}} {
			d.offerHost(ctx, g.host, "guess", g.kind)
		}
	}
	srcs.Wait()
	d.probes.Wait()

	for _, s := range d.order {
		if s.Protocol == "smtp" {
			res.Outgoing = append(res.Outgoing, s)
		} else {
			res.Incoming = append(res.Incoming, s)
		}
	}
	sortSettings(res.Incoming)
	sortSettings(res.Outgoing)
	for h, ha := range d.hosts {
		var de *DNSError
		switch {
		case ha.err == nil:
		case errors.As(ha.err, &de):
			res.LookupFailed = append(res.LookupFailed, h+": "+de.Error())
		default:
			res.Unresolved = append(res.Unresolved, h)
		}
	}
	sort.Strings(res.Unresolved)
	sort.Strings(res.LookupFailed)
	sort.Strings(res.Discovery)
	res.DNSUnreachable = d.dnsAsked > 0 && d.dnsDead == d.dnsAsked
	res.Recommended = recommend(res, opts.HavePassword)
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

type hostAddr struct {
	done chan struct{}
	ip   netip.Addr
	err  error
}

type discovery struct {
	opts SettingsOptions
	t    Target
	res  *SettingsResult

	mu     sync.Mutex
	byKey  map[string]*Setting
	order  []*Setting
	hosts  map[string]*hostAddr
	probes sync.WaitGroup

	dnsAsked, dnsDead int

	// emitMu serialises Progress; it is taken before mu, so events leave
	// in the order they were made and their counts never go back.
	emitMu   sync.Mutex
	running  map[string]int // source kind (srv, autoconfig, mx) -> sources still running
	held     []*Setting     // probed, waiting for a source that could relabel them
	sources  int
	answered int
	started  int
	reported int
}

// event is a SettingsProgress with the current counts (mu held).
func (d *discovery) event() SettingsProgress {
	return SettingsProgress{Sources: d.sources, SourcesAnswered: d.answered, Probes: d.started, ProbesDone: d.reported}
}

// send passes events to Progress (emitMu held, mu not).
func (d *discovery) send(evs ...SettingsProgress) {
	if d.opts.Progress == nil {
		return
	}
	for _, ev := range evs {
		d.opts.Progress(ev)
	}
}

// settled reports whether no running source could still give s a better
// source label (mu held): offer relabels only to a better rank.
func (d *discovery) settled(s *Setting) bool {
	r := sourceRank[s.Source]
	for kind, n := range d.running {
		if n > 0 && sourceRank[kind] < r {
			return false
		}
	}
	return true
}

// release turns the held settings that are settled into events (mu held).
func (d *discovery) release() []SettingsProgress {
	var evs []SettingsProgress
	kept := d.held[:0]
	for _, s := range d.held {
		if !d.settled(s) {
			kept = append(kept, s)
			continue
		}
		d.reported++
		ev := d.event()
		ev.Setting = s
		evs = append(evs, ev)
	}
	clear(d.held[len(kept):])
	d.held = kept
	return evs
}

// answer counts a source whose lookup or fetch has returned.
func (d *discovery) answer() {
	d.mu.Lock()
	d.answered++
	d.mu.Unlock()
}

// sourceDone marks a source of kind finished, with all its candidates
// offered, and reports the settings that were waiting for it.
func (d *discovery) sourceDone(kind string) {
	d.emitMu.Lock()
	defer d.emitMu.Unlock()
	d.mu.Lock()
	d.running[kind]--
	evs := d.release()
	d.mu.Unlock()
	d.send(evs...)
}

// dnsResult counts lookups that got no response at all.
func (d *discovery) dnsResult(err error) {
	var de *DNSError
	d.mu.Lock()
	d.dnsAsked++
	if errors.As(err, &de) && de.Unreachable() {
		d.dnsDead++
	}
	d.mu.Unlock()
}

func (d *discovery) note(format string, a ...any) {
	n := fmt.Sprintf(format, a...)
	d.emitMu.Lock()
	defer d.emitMu.Unlock()
	d.mu.Lock()
	d.res.Discovery = append(d.res.Discovery, n)
	ev := d.event()
	d.mu.Unlock()
	ev.Note = n
	d.send(ev)
}

// offer starts probing c unless it is already being probed; a better
// source for the same setting replaces the label.
func (d *discovery) offer(ctx context.Context, c Candidate) {
	c.Host = strings.ToLower(strings.TrimSuffix(c.Host, "."))
	key := fmt.Sprintf("%s|%s|%d|%s", c.Protocol, c.Host, c.Port, c.Security)
	d.mu.Lock()
	if s, ok := d.byKey[key]; ok {
		if r, ok := sourceRank[c.Source]; ok && r < sourceRank[s.Source] {
			s.Source = c.Source
		}
		d.mu.Unlock()
		return
	}
	s := &Setting{Protocol: c.Protocol, Host: c.Host, Port: c.Port, Security: c.Security, Source: c.Source,
		Login: "untested", AuthMechanisms: []string{}}
	d.byKey[key] = s
	ha, ok := d.hosts[c.Host]
	if !ok {
		ha = &hostAddr{done: make(chan struct{})}
		d.hosts[c.Host] = ha
		go func() {
			lctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
			defer cancel()
			ha.ip, ha.err = resolveHost(lctx, d.opts.Resolver, c.Host)
			close(ha.done)
		}()
	}
	d.probes.Add(1)
	snap := *s
	d.mu.Unlock()
	go func() {
		defer d.probes.Done()
		<-ha.done
		if ha.err != nil {
			return
		}
		d.mu.Lock()
		d.started++
		d.mu.Unlock()
		var out Setting
		func() {
			defer func() {
				if p := recover(); p != nil {
					out = snap
					out.Error = fmt.Sprintf("probe crashed: %v", p)
				}
			}()
			out = d.probe(ctx, snap, ha.ip)
		}()
		d.emitMu.Lock()
		defer d.emitMu.Unlock()
		d.mu.Lock()
		out.Source = s.Source
		*s = out
		d.order = append(d.order, s)
		d.held = append(d.held, s)
		evs := d.release()
		d.mu.Unlock()
		d.send(evs...)
	}()
}

// offerHost offers the standard ports of host; kind is in, out or both.
func (d *discovery) offerHost(ctx context.Context, host, source, kind string) {
	for _, proto := range []string{"pop3", "imap", "smtp"} {
		if kind == "in" && proto == "smtp" || kind == "out" && proto != "smtp" {
			continue
		}
		for _, p := range standardPorts[proto] {
			d.offer(ctx, Candidate{Protocol: proto, Host: host, Port: p.port, Security: p.sec, Source: source})
		}
	}
}

func (d *discovery) fromSRV(dctx, ctx context.Context, service, proto string, secs []string) {
	name := service + "._tcp." + d.t.Domain
	recs, _, err := LookupSRV(dctx, d.opts.Resolver, name)
	d.dnsResult(err)
	d.answer()
	if err != nil {
		d.note("SRV %s: %v", name, err)
		return
	}
	if len(recs) == 0 {
		d.note("SRV %s: none", name)
		return
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Priority < recs[j].Priority })
	for _, r := range recs {
		if r.Target == "." {
			d.note("SRV %s: \".\": the service is decidedly not offered (RFC 6186 §3.4)", name)
			continue
		}
		d.note("SRV %s: %s port %d", name, trimDot(r.Target), r.Port)
		for _, sec := range secs {
			d.offer(ctx, Candidate{Protocol: proto, Host: r.Target, Port: int(r.Port), Security: sec, Source: "srv"})
		}
	}
}

func (d *discovery) fromAutoconfig(dctx, ctx context.Context, u string) {
	servers, err := FetchAutoconfig(dctx, d.opts.HTTPClient, u, d.t.Address)
	d.answer()
	if err != nil {
		d.note("autoconfig %s: %v", u, err)
		return
	}
	d.note("autoconfig %s: %d servers", u, len(servers))
	for _, s := range servers {
		d.offer(ctx, Candidate{Protocol: s.Protocol, Host: s.Host, Port: s.Port, Security: s.Security, Source: "autoconfig"})
	}
}

func (d *discovery) fromMX(dctx, ctx context.Context) {
	mxs, _, err := LookupMX(dctx, d.opts.Resolver, d.t.Domain)
	d.dnsResult(err)
	d.answer()
	if err != nil {
		d.note("MX %s: %v", d.t.Domain, err)
		return
	}
	if len(mxs) == 0 {
		d.note("MX %s: none", d.t.Domain)
		return
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
	for i, mx := range mxs {
		if i == 0 && mx.Mx == "." {
			d.note("MX %s: \".\": the domain accepts no mail (RFC 7505)", d.t.Domain)
		}
		if i >= 2 || mx.Mx == "." {
			break
		}
		host := strings.ToLower(trimDot(mx.Mx))
		d.note("MX %s: %s", d.t.Domain, host)
		d.offerHost(ctx, host, "mx", "both")
		if i := strings.IndexByte(host, '.'); i > 0 && strings.Count(host[i+1:], ".") >= 1 {
			d.offerHost(ctx, host[i+1:], "mx-parent", "both")
		}
	}
}

func sortSettings(ss []*Setting) {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i], ss[j]
		if (a.Protocol == "imap") != (b.Protocol == "imap") {
			return b.Protocol == "imap"
		}
		if a.Reachable != b.Reachable {
			return a.Reachable
		}
		if secRank[a.Security] != secRank[b.Security] {
			return secRank[a.Security] < secRank[b.Security]
		}
		if a.Login != b.Login {
			return a.Login == "ok"
		}
		if sourceRank[a.Source] != sourceRank[b.Source] {
			return sourceRank[a.Source] < sourceRank[b.Source]
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Port < b.Port
	})
}

// probe runs one candidate's session with its own timeout.
func (d *discovery) probe(ctx context.Context, s Setting, ip netip.Addr) Setting {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	switch s.Protocol {
	case "pop3":
		return d.probePOP3(ctx, s, ip)
	case "smtp":
		return d.probeSMTP(ctx, s, ip)
	}
	return d.probeIMAP(ctx, s, ip)
}

func secOf(s string) explorer.Security {
	switch s {
	case "tls":
		return explorer.ImplicitTLS
	case "starttls":
		return explorer.StartTLS
	}
	return explorer.Plain
}

// sessionOpts builds explorer options that dial ip and verify host; connected
// records whether TCP came up, to tell a closed port from a silent one.
func (d *discovery) sessionOpts(s Setting, ip netip.Addr, sec explorer.Security, connected *bool, rec *recorder) explorer.Options {
	dial := dialVia(d.opts.Dial, ip)
	return explorer.Options{
		Addr:           net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Security:       sec,
		ConnectTimeout: d.opts.Timeout,
		ReplyTimeout:   d.opts.Timeout,
		Insecure:       true, // read the capabilities anyway; cert_ok says the truth
		RootCAs:        d.opts.RootCAs,
		ServerName:     s.Host,
		Helo:           d.opts.Helo,
		Now:            d.opts.Now,
		OnEvent:        rec.add,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err == nil {
				*connected = true
			}
			return c, err
		},
	}
}

// outcome fills reachable and error from a session's failure.
func (d *discovery) outcome(s *Setting, err error, connected, answered bool) {
	var ce *explorer.ConnError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ce) && strings.Contains(ce.Error(), "timeout"):
		if connected && !answered {
			s.Error = fmt.Sprintf("connected, but no answer within %s (timeout)", d.opts.Timeout)
		} else {
			s.Error = fmt.Sprintf("no answer within %s (timeout)", d.opts.Timeout)
		}
	case errors.As(err, &ce) && ce.Op == "dial":
		s.Error = "cannot connect: " + shortNetErr(ce.Err)
	default:
		s.Error = errText(err)
	}
	s.Reachable = connected && answered
}

func shortNetErr(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused (nothing listens on that port)"
	case strings.Contains(msg, "timeout"):
		return "no connection (timeout: a firewall may drop it)"
	}
	return msg
}

// fillTLS checks the certificate of the session's own handshake, so the
// verdict is about the connection that was probed, at the discovery's clock.
func (d *discovery) fillTLS(s *Setting, c *explorer.Session) {
	cs, ok := c.TLSState()
	if !ok {
		return
	}
	s.TLS = true
	applyCert(s, CheckChain(cs.PeerCertificates, d.opts.RootCAs, s.Host, d.opts.Now()))
}

// applyCert records a setting's certificate check. Its error names the one
// problem a client would stop at: an untrusted chain (--ca helps for a
// private CA), else the name, else the dates.
func applyCert(s *Setting, cc CertCheck) {
	s.Cert = &cc
	s.CertOK = cc.Verified && !cc.Expired
	if s.CertOK || s.Error != "" {
		return
	}
	switch {
	case !cc.Trusted:
		why := cc.TrustError
		if cc.SelfSigned {
			why = "self-signed certificate: " + why
		}
		s.Error = "certificate not trusted: " + why
	case !cc.NameMatch:
		s.Error = "certificate is not valid for the name " + cc.Name + " (" + cc.VerifyError + ")"
	case cc.Expired:
		s.Error = "certificate expired on " + cc.NotAfter.UTC().Format("2006-01-02")
	case cc.NotYetValid:
		s.Error = "certificate is not valid yet (check the clocks)"
	default:
		s.Error = "certificate does not verify: " + cc.VerifyError
	}
}

// loginUsers are the names a client tries: the address, then the local part.
func (d *discovery) loginUsers() []string {
	local := d.t.Address[:strings.LastIndexByte(d.t.Address, '@')]
	return []string{d.t.Address, local}
}

// mayLogin decides whether to send the password: only over TLS whose
// certificate verifies, never in clear text and never to a server whose
// identity is unproven.
func (d *discovery) mayLogin(s *Setting) bool {
	switch {
	case !d.opts.HavePassword:
		return false
	case !s.TLS:
		s.Note = "login not tried (the password would cross in clear text)"
		return false
	case !s.CertOK:
		s.Note = "login not tried (untrusted certificate)"
		if s.Cert != nil && s.Cert.Trusted {
			s.Note = "login not tried (the certificate does not verify for " + s.Host + ")"
		}
		return false
	}
	return true
}

func (d *discovery) probePOP3(ctx context.Context, s Setting, ip netip.Addr) (out Setting) {
	rec := &recorder{}
	// out, not s: the deferred call runs after return has copied s.
	defer func() { out.Trace = rec.all() }()
	var connected bool
	sec := secOf(s.Security)
	c, err := explorer.DialPOP3(ctx, d.sessionOpts(s, ip, sec, &connected, rec))
	if c != nil {
		defer c.Close()
	}
	answered := rec.answered() || c != nil && c.TLS() != nil
	if err != nil {
		if c != nil {
			d.fillTLS(&s, c.Session)
		}
		d.outcome(&s, err, connected, answered || sec == explorer.ImplicitTLS && connected && !isTimeout(err))
		return s
	}
	s.Reachable = true
	d.fillTLS(&s, c.Session)
	mechs := func() {
		s.AuthMechanisms = []string{}
		if _, err := c.Capa(ctx); err != nil {
			s.AuthMechanisms = append(s.AuthMechanisms, "USER") // RFC 1939 baseline
			return
		}
		for _, k := range c.Capabilities() {
			switch k.Keyword {
			case "USER":
				s.AuthMechanisms = append(s.AuthMechanisms, "USER")
			case "SASL":
				for _, m := range k.Params {
					s.AuthMechanisms = append(s.AuthMechanisms, strings.ToUpper(m))
				}
			}
		}
	}
	mechs()
	if d.mayLogin(&s) {
		s.Login = "failed"
		plain := contains(s.AuthMechanisms, "PLAIN")
		for i, u := range d.loginUsers() {
			if c.Closed() && i > 0 {
				var c2connected bool
				c2, err := explorer.DialPOP3(ctx, d.sessionOpts(s, ip, sec, &c2connected, rec))
				if err != nil {
					s.Error = errText(err)
					break
				}
				defer c2.Close()
				c = c2
			}
			var err error
			if plain {
				_, err = c.AuthPlain(ctx, u, d.opts.Password)
			} else {
				_, err = c.Login(ctx, u, d.opts.Password)
			}
			if err == nil {
				s.Login, s.User = "ok", u
				break
			}
			// [IN-USE]: the password was right but another session holds
			// the maildrop lock (RFC 2449 §8.1.2), e.g. our own other probe.
			var pe *explorer.POP3Error
			if errors.As(err, &pe) && pe.Resp != nil && strings.EqualFold(pe.Resp.Code, "IN-USE") {
				s.Login, s.User = "ok", u
				s.Note = "maildrop in use by another session, but the login was accepted"
				break
			}
			s.Error = "login failed: " + errText(err)
			if ctx.Err() != nil {
				break
			}
		}
		if s.Login == "ok" {
			s.Error = ""
		}
	}
	if !c.Closed() {
		c.Quit(ctx)
	}
	return s
}

// answered reports whether the server sent anything at all.
func (r *recorder) answered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if ev.Dir == explorer.ServerToClient {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (d *discovery) probeSMTP(ctx context.Context, s Setting, ip netip.Addr) (out Setting) {
	rec := &recorder{}
	// out, not s: the deferred call runs after return has copied s.
	defer func() { out.Trace = rec.all() }()
	var connected bool
	sec := secOf(s.Security)
	c, err := explorer.DialSMTP(ctx, d.sessionOpts(s, ip, sec, &connected, rec))
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		answered := rec.answered() || c != nil && c.TLS() != nil
		if c != nil {
			d.fillTLS(&s, c.Session)
		}
		d.outcome(&s, err, connected, answered || sec == explorer.ImplicitTLS && connected && !isTimeout(err))
		return s
	}
	s.Reachable = true
	d.fillTLS(&s, c.Session)
	if _, err := c.Ehlo(ctx, d.opts.Helo); err != nil {
		s.Error = "EHLO: " + errText(err)
		return s
	}
	s.AuthMechanisms = append([]string{}, c.AuthMechanisms()...)
	if d.mayLogin(&s) {
		mech := ""
		for _, m := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
			if contains(s.AuthMechanisms, m) {
				mech = m
				break
			}
		}
		if mech == "" {
			s.Note = "login not tried: no AUTH mechanism postlab speaks (PLAIN, LOGIN, CRAM-MD5) is offered"
		} else {
			s.Login = "failed"
			for _, u := range d.loginUsers() {
				_, err := c.Auth(ctx, mech, u, d.opts.Password)
				if err == nil {
					s.Login, s.User, s.Error = "ok", u, ""
					break
				}
				s.Error = "login failed: " + errText(err)
				if c.Closed() || ctx.Err() != nil {
					break
				}
			}
		}
	}
	if !c.Closed() {
		c.Quit(ctx)
	}
	return s
}

// probeIMAP only checks that IMAP answers (RFC 9051 §7.1 greeting), with
// TLS and its certificate: IMAP is reported as available, not explored.
func (d *discovery) probeIMAP(ctx context.Context, s Setting, ip netip.Addr) Setting {
	s.Login = "untested"
	conn, err := dialVia(d.opts.Dial, ip)(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		if ctx.Err() != nil {
			err = context.DeadlineExceeded
		}
		d.outcome(&s, &explorer.ConnError{Op: "dial", Err: err}, false, false)
		return s
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var rw net.Conn = conn
	handshake := func() error {
		var chain []*x509.Certificate
		tc := tls.Client(conn, &tls.Config{ServerName: s.Host, InsecureSkipVerify: true, //nolint:gosec // checked below
			VerifyConnection: func(cs tls.ConnectionState) error { chain = cs.PeerCertificates; return nil }})
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		s.TLS = true
		applyCert(&s, CheckChain(chain, d.opts.RootCAs, s.Host, d.opts.Now()))
		rw = tc
		return nil
	}
	if s.Security == "tls" {
		if err := handshake(); err != nil {
			s.Reachable = !isTimeout(err)
			s.Error = "TLS: " + err.Error()
			return s
		}
	}
	br := bufio.NewReaderSize(rw, 4096)
	g, err := readLimited(br)
	if err != nil {
		d.outcome(&s, err, true, false)
		return s
	}
	if !strings.HasPrefix(strings.ToUpper(g), "* OK") && !strings.HasPrefix(strings.ToUpper(g), "* PREAUTH") {
		s.Reachable = true
		s.Error = fmt.Sprintf("not an IMAP greeting: %q", abbreviate(g, 60))
		return s
	}
	s.Reachable = true
	if s.Security == "starttls" {
		if _, err := rw.Write([]byte("p1 STARTTLS\r\n")); err != nil {
			s.Error = err.Error()
			return s
		}
		for i := 0; i < 20; i++ {
			l, err := readLimited(br)
			if err != nil {
				s.Error = "STARTTLS: " + err.Error()
				return s
			}
			if strings.HasPrefix(l, "p1 ") {
				if !strings.HasPrefix(strings.ToUpper(l), "P1 OK") {
					s.Error = "STARTTLS refused: " + abbreviate(l, 60)
					return s
				}
				if err := handshake(); err != nil {
					s.Error = "TLS: " + err.Error()
				}
				break
			}
		}
	}
	return s
}

// recommend picks the best working incoming and outgoing settings: TLS over
// STARTTLS over none (RFC 8314 §3), a trusted certificate, and a login that
// worked (or, without a password, AUTH offered). Plain text never qualifies.
func recommend(res *SettingsResult, havePassword bool) Recommended {
	var rec Recommended
	pick := func(ss []*Setting, want string) (*Setting, []string) {
		for _, s := range ss {
			if s.Protocol != want || !s.Reachable || !s.TLS || !s.CertOK {
				continue
			}
			if havePassword && s.Login != "ok" || !havePassword && len(s.AuthMechanisms) == 0 {
				continue
			}
			return s, reasons(s, havePassword)
		}
		return nil, whyNone(ss, want, havePassword, res)
	}
	rec.Incoming, rec.IncomingWhy = pick(res.Incoming, "pop3")
	rec.Outgoing, rec.OutgoingWhy = pick(res.Outgoing, "smtp")
	return rec
}

func reasons(s *Setting, havePassword bool) []string {
	var out []string
	switch s.Security {
	case "tls":
		out = append(out, "implicit TLS from the first byte, preferred over STARTTLS (RFC 8314 §3)")
	case "starttls":
		out = append(out, "STARTTLS upgrade; no implicit-TLS setting worked (RFC 8314 §3 prefers implicit TLS)")
	}
	out = append(out, "the certificate is valid for "+s.Host)
	switch s.Source {
	case "srv":
		out = append(out, "published by the domain in its SRV records (RFC 6186)")
	case "autoconfig":
		out = append(out, "published by the provider's autoconfig file")
	default:
		out = append(out, "found by "+s.Source+" (not published by the domain: it may change without notice)")
	}
	if havePassword {
		out = append(out, "logged in as "+s.User)
	} else {
		out = append(out, "offers "+strings.Join(s.AuthMechanisms, " ")+"; login not tested (set POSTLAB_PASSWORD or use --ask-password)")
	}
	return out
}

// whyNone explains why nothing qualified.
func whyNone(ss []*Setting, want string, havePassword bool, res *SettingsResult) []string {
	var reach, tlsOK, untrusted, failed []*Setting
	tried := 0
	for _, s := range ss {
		if s.Protocol == want {
			tried++
		}
		if s.Protocol != want || !s.Reachable {
			continue
		}
		reach = append(reach, s)
		if s.TLS {
			tlsOK = append(tlsOK, s)
			if !s.CertOK {
				untrusted = append(untrusted, s)
			} else if havePassword && s.Login == "failed" {
				failed = append(failed, s)
			}
		}
	}
	name := func(s *Setting) string { return fmt.Sprintf("%s:%d (%s)", s.Host, s.Port, s.Security) }
	switch {
	case tried == 0 && res.DNSUnreachable:
		return []string{"no " + strings.ToUpper(want) + " candidate could be found, so none was tried: DNS failed (the resolver did not answer); retry, or pick another with --resolver HOST:PORT"}
	case tried == 0 && len(res.LookupFailed) > 0:
		return []string{fmt.Sprintf("no %s candidate could be found, so none was tried: DNS lookups failed for %d names (listed above); retry, or pick another --resolver", strings.ToUpper(want), len(res.LookupFailed))}
	case tried == 0:
		return []string{"no " + strings.ToUpper(want) + " candidate was found: no SRV record, autoconfig file, MX host or usual name (pop., mail., smtp.) of the domain has an address"}
	case len(reach) == 0:
		return []string{fmt.Sprintf("no %s server answered at any of the %d candidates tried", strings.ToUpper(want), tried)}
	case len(tlsOK) == 0:
		return []string{"only clear-text " + strings.ToUpper(want) + " answered (" + name(reach[0]) + "): postlab never recommends sending a password without TLS"}
	case len(untrusted) == len(tlsOK):
		s := untrusted[0]
		why := ""
		if c := s.Cert; c != nil && c.Trusted {
			// Trusted, so --ca would not help: the name or the dates.
			fix := "put " + s.Host + " in the certificate's subjectAltName, or connect with a name it has (" + strings.Join(c.names(), ", ") + ")"
			problem := "is not valid for the name " + s.Host
			if c.NameMatch {
				problem, fix = "is outside its validity dates ("+s.Error+")", "renew the certificate (or check the clocks)"
			}
			return []string{
				name(s) + " speaks TLS with a trusted certificate, but it " + problem,
				"a mail client would show a certificate warning here; accepting it blindly lets an attacker in the middle read the password",
				fix,
			}
		}
		if s.Cert != nil {
			why = s.Cert.TrustError
			if s.Cert.SelfSigned {
				why = "self-signed: " + why
			}
		}
		return []string{
			name(s) + " speaks TLS, but its certificate is not trusted (" + why + ")",
			"a mail client would show a certificate warning here; accepting it blindly lets an attacker in the middle read the password",
			"if this is your own server (the postlab lab writes DATA/tls/cert.pem), pass its certificate with --ca FILE and run again",
		}
	case len(failed) > 0:
		return []string{"the login failed at " + name(failed[0]) + " with both the address and the local part as user name: check the password"}
	}
	return []string{"no setting offers authentication over TLS with a trusted certificate"}
}
