package diag

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"postlab/explorer"
	"postlab/explorer/annotate"
)

// Server probes: each MX address is visited the way a sending server would
// (RFC 5321 greeting, EHLO, STARTTLS per RFC 3207, a harmless transaction
// that never reaches DATA) and, with ProbeOptions.Ports, the submission
// (RFC 6409, RFC 8314) and POP3 (RFC 1939, RFC 2595) ports too. Every probe
// is a real explorer session, so its full trace is kept.

// Services a probe knows, with their standard ports.
var ServicePorts = map[string]int{"smtp": 25, "submission": 587, "submissions": 465, "pop3": 110, "pop3s": 995}

// serviceOrder is the order probes are listed in.
var serviceOrder = []string{"smtp", "submission", "submissions", "pop3", "pop3s"}

func init() {
	AreaTitles["tls"] = "TLS and certificates (RFC 3207, RFC 8314, RFC 7672, RFC 8461)"
	AreaTitles["submission"] = "Submission (RFC 6409, RFC 8314)"
	AreaTitles["pop3"] = "POP3 server (RFC 1939, RFC 2595)"
}

// ParsePorts reads "smtp=2525,submission=2587,pop3" (a name alone means
// its standard port) into a service -> port map.
func ParsePorts(specs []string) (map[string]int, error) {
	out := map[string]int{}
	for _, spec := range specs {
		for _, p := range strings.Split(spec, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			name, num, hasNum := strings.Cut(p, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			def, ok := ServicePorts[name]
			if !ok {
				return nil, fmt.Errorf("--port %q: unknown service %q (want smtp, submission, submissions, pop3 or pop3s)", p, name)
			}
			if hasNum {
				n, err := strconv.Atoi(strings.TrimSpace(num))
				if err != nil || n < 1 || n > 65535 {
					return nil, fmt.Errorf("--port %q: %q is not a port number", p, num)
				}
				def = n
			}
			out[name] = def
		}
	}
	return out, nil
}

// ProbeOptions configure ProbeServers.
type ProbeOptions struct {
	Resolver  Resolver       // for PTR, TLSA; required
	Ports     map[string]int // services to probe; nil or empty means smtp on 25
	RootCAs   *x509.CertPool // trusted roots; nil means the system's
	Timeout   time.Duration  // per probe; default 20s
	Helo      string         // EHLO name; default "localhost"
	RelayTest bool           // also try to relay between two outside addresses (never DATA)
	MTASTS    *MTASTSPolicy  // the domain's policy, when it has one
	Domain    string         // the domain diagnosed (RCPT TO:<postmaster@Domain>)
	Now       func() time.Time
	Dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	// Progress, when set, is called as each probe finishes, with the count
	// done so far and the number of probes in all (p is the returned probe:
	// read it, do not change it); calls are serialised and all return
	// before ProbeServers does.
	Progress func(p *Probe, done, total int)
}

// Probe is one visit to one service on one address: the "probes" of
// `postlab diag --json`.
type Probe struct {
	Service       string           `json:"service"`
	Host          string           `json:"host"`
	Addr          string           `json:"addr"`
	ConnectMS     int64            `json:"connect_ms"`
	Banner        string           `json:"banner,omitempty"`
	BannerHost    string           `json:"banner_host,omitempty"`
	PTR           []string         `json:"ptr,omitempty"`
	ESMTP         bool             `json:"esmtp"`
	Capabilities  []string         `json:"capabilities,omitempty"`
	StartTLS      bool             `json:"starttls_offered"`
	TLS           *ProbeTLS        `json:"tls,omitempty"`
	AuthMechs     []string         `json:"auth_mechanisms,omitempty"`
	Size          int64            `json:"size,omitempty"`
	VRFY          string           `json:"vrfy,omitempty"`
	EXPN          string           `json:"expn,omitempty"`
	TransactionMS *int64           `json:"transaction_ms,omitempty"` // nil when no transaction was tried
	OpenRelay     *bool            `json:"open_relay,omitempty"`
	Error         string           `json:"error,omitempty"`
	Findings      []Finding        `json:"-"`
	Trace         []explorer.Event `json:"trace"`
}

// ProbeTLS is what the TLS layer of a probe showed.
type ProbeTLS struct {
	Version string    `json:"version"`
	Cipher  string    `json:"cipher"`
	Cert    CertCheck `json:"certificate"`
	DANE    string    `json:"dane,omitempty"`    // "match", "no match", "" (no TLSA)
	MTASTS  string    `json:"mta_sts,omitempty"` // "satisfied", "not satisfied", "" (no policy)
}

func (o *ProbeOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Helo == "" {
		o.Helo = "localhost"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Ports) == 0 {
		o.Ports = map[string]int{"smtp": 25}
	}
}

// maxProbeAddrs bounds the addresses visited.
const maxProbeAddrs = 16

// ProbeServers visits every MX address on every service of opts.Ports,
// concurrently, and returns the probes and their findings in a stable order.
func ProbeServers(ctx context.Context, mx *MXResult, opts ProbeOptions) ([]*Probe, []Finding) {
	opts.defaults()
	type job struct {
		host    string
		ip      netip.Addr
		service string
	}
	var jobs []job
	n := 0
	if mx != nil && !mx.NullMX {
		for _, h := range mx.Hosts {
			for _, a := range h.Addresses {
				if n >= maxProbeAddrs {
					break
				}
				n++
				for _, s := range serviceOrder {
					if _, ok := opts.Ports[s]; ok {
						jobs = append(jobs, job{trimDot(h.Host), a.IP, s})
					}
				}
			}
		}
	}
	if len(jobs) == 0 {
		return nil, []Finding{{Check: "smtp.probe", Status: StatusInfo, Summary: "no MX address to probe"}}
	}
	probes := make([]*Probe, len(jobs))
	var mu sync.Mutex
	done := 0
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		port := opts.Ports[j.service]
		if j.service == "pop3" || j.service == "pop3s" {
			probes[i] = probePOP3(ctx, j.host, j.ip, port, j.service, opts)
		} else {
			probes[i] = probeSMTP(ctx, j.host, j.ip, port, j.service, opts)
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(probes[i], done, len(jobs))
			mu.Unlock()
		}
	})
	var fs []Finding
	for _, p := range probes {
		fs = append(fs, p.Findings...)
	}
	return probes, fs
}

// recorder gathers the events of the sessions of one probe.
type recorder struct {
	mu     sync.Mutex
	events []explorer.Event
}

func (r *recorder) add(ev explorer.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []explorer.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]explorer.Event(nil), r.events...)
}

func (o *ProbeOptions) sessionOpts(host string, ip netip.Addr, port int, sec explorer.Security, rec *recorder) explorer.Options {
	return explorer.Options{
		Addr:           net.JoinHostPort(host, strconv.Itoa(port)),
		Security:       sec,
		ConnectTimeout: o.Timeout,
		ReplyTimeout:   o.Timeout,
		Insecure:       true, // go on to report everything; the verdict is in the findings
		AllowOldTLS:    true, // report TLS 1.0/1.1 (tls.version warns) instead of failing
		RootCAs:        o.RootCAs,
		ServerName:     host,
		Helo:           o.Helo,
		Now:            o.Now,
		Dial:           dialVia(o.Dial, ip),
		OnEvent:        rec.add,
	}
}

func errText(err error) string {
	var re *explorer.ReplyError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

func area(service string) string {
	switch service {
	case "submission", "submissions":
		return "submission"
	case "pop3", "pop3s":
		return "pop3"
	}
	return "smtp"
}

// probeSMTP visits an SMTP, submission or submissions port.
func probeSMTP(ctx context.Context, host string, ip netip.Addr, port int, service string, o ProbeOptions) *Probe {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	p := &Probe{Service: service, Host: host, Addr: addr}
	where := fmt.Sprintf("%s %s (%s)", service, addr, host)
	ar := area(service)
	rec := &recorder{}
	defer func() { p.Trace = rec.all() }()
	add := func(f Finding) { p.Findings = append(p.Findings, f) }

	sec := explorer.Plain
	if service == "submissions" {
		sec = explorer.ImplicitTLS
	}
	var ptr *FCrDNS
	var ptrErr error
	ptrDone := make(chan struct{})
	go func() {
		defer close(ptrDone)
		ptr, ptrErr = LookupFCrDNS(ctx, o.Resolver, ip)
	}()

	start := time.Now()
	c, err := explorer.DialSMTPConn(ctx, o.sessionOpts(host, ip, port, sec, rec))
	if err != nil {
		p.Error = err.Error()
		<-ptrDone
		add(connectFailure(ar+".connect", where, service, ip, port, err))
		return p
	}
	defer c.Close()
	p.ConnectMS = time.Since(start).Milliseconds()
	g, err := c.ReadGreeting(ctx)
	<-ptrDone
	if ptr != nil {
		p.PTR = ptr.Names
	}
	if g != nil {
		p.Banner = g.String()
	}
	if err != nil {
		p.Error = errText(err)
		add(Finding{Check: ar + ".banner", Status: StatusFail, Summary: where + ": no usable greeting: " + p.Error,
			Detail: "A server that does not greet with 220 refuses the session (or never speaks).", Ref: "RFC 5321 §4.3.1"})
		return p
	}
	add(Finding{Check: ar + ".connect", Status: StatusPass,
		Summary: fmt.Sprintf("%s: connected in %d ms; banner %q", where, p.ConnectMS, abbreviate(g.String(), 100)), Ref: "RFC 5321 §4.3.1"})
	if f := strings.Fields(g.Text()); len(f) > 0 {
		p.BannerHost = strings.ToLower(strings.TrimSuffix(f[0], "."))
	}
	if ar == "smtp" {
		add(bannerFinding(where, p.BannerHost, ptr, ptrErr, host))
	}

	// EHLO, or HELO when the server is not ESMTP.
	if _, err := c.Ehlo(ctx, o.Helo); err != nil {
		if explorer.IsNetwork(err) {
			p.Error = err.Error()
			add(Finding{Check: ar + ".ehlo", Status: StatusFail, Summary: where + ": connection lost at EHLO: " + p.Error, Ref: "RFC 5321 §4.1.1.1"})
			return p
		}
		if _, herr := c.Helo(ctx, o.Helo); herr != nil {
			p.Error = errText(herr)
			add(Finding{Check: ar + ".ehlo", Status: StatusFail, Summary: where + ": both EHLO and HELO refused: " + p.Error, Ref: "RFC 5321 §4.1.1.1"})
			return p
		}
		add(Finding{Check: ar + ".ehlo", Status: StatusWarn, Summary: where + ": EHLO refused, HELO accepted: no ESMTP (no STARTTLS, SIZE or AUTH)",
			Detail: "EHLO answer: " + errText(err), Fix: "Enable ESMTP; every current server supports it.", Ref: "RFC 5321 §3.2, §4.1.4"})
	} else {
		p.ESMTP = true
		add(capsFinding(ar+".ehlo", where, c.Capabilities()))
	}
	fillCaps(p, c)

	if sec != explorer.ImplicitTLS {
		if _, ok := c.Supports("STARTTLS"); ok {
			p.StartTLS = true
			if err := c.StartTLS(ctx); err != nil {
				p.Error = errText(err)
				add(Finding{Check: "tls.starttls", Status: StatusFail, Summary: where + ": STARTTLS offered but the upgrade failed: " + p.Error,
					Detail: "Senders that try TLS first will fall back to clear text or, with DANE or MTA-STS, not deliver.",
					Fix:    "Check the certificate and key configured for STARTTLS and the TLS versions enabled.", Ref: "RFC 3207 §4"})
				// Carry on in clear text, as senders do: on the same session
				// after a refusal (454), on a new one after a failed handshake.
				if c.Closed() || explorer.IsNetwork(err) {
					c.Close()
					c2, err2 := explorer.DialSMTP(ctx, o.sessionOpts(host, ip, port, explorer.Plain, rec))
					if err2 != nil {
						if c2 != nil {
							c2.Close()
						}
						return p
					}
					defer c2.Close()
					c = c2
					if _, err := c.Ehlo(ctx, o.Helo); err != nil {
						return p
					}
				}
			} else {
				add(Finding{Check: "tls.starttls", Status: StatusPass, Summary: where + ": STARTTLS offered and the upgrade worked", Ref: "RFC 3207 §4"})
				tlsFindings(ctx, p, c.Session, where, host, port, service, o)
				if _, err := c.Ehlo(ctx, o.Helo); err != nil {
					p.Error = errText(err)
					add(Finding{Check: ar + ".ehlo", Status: StatusFail, Summary: where + ": EHLO after STARTTLS failed: " + p.Error, Ref: "RFC 3207 §4.2"})
					return p
				}
				fillCaps(p, c)
			}
		} else if p.ESMTP {
			st := StatusWarn
			detail := ""
			if service == "submission" || o.MTASTS != nil && o.MTASTS.Mode == "enforce" {
				st = StatusFail
			}
			// With TLSA records, DANE senders must not deliver without TLS (RFC 7672 §2.2).
			if recs, _, err := LookupTLSA(ctx, o.Resolver, host, port); err == nil && len(recs) > 0 {
				st = StatusFail
				detail = fmt.Sprintf("_%d._tcp.%s has TLSA records: DANE senders will not deliver here at all.", port, host)
			} else if err != nil {
				detail = fmt.Sprintf("Whether DANE senders refuse it too is unknown: the TLSA lookup of _%d._tcp.%s failed (%v).", port, host, err)
			}
			add(Finding{Check: "tls.starttls", Status: st, Summary: where + ": STARTTLS not offered: mail to this server travels in clear text",
				Detail: detail, Fix: "Enable STARTTLS with a certificate for " + host + ".", Ref: "RFC 3207; RFC 8461 §4.2; RFC 7672 §2.2"})
		}
	} else {
		tlsFindings(ctx, p, c.Session, where, host, port, service, o)
	}

	if ar == "submission" {
		submissionFindings(p, where, c)
	}
	if ar == "smtp" {
		sizeFinding(p, where, c)
		p.VRFY = exposure(ctx, c, "VRFY", "postmaster")
		p.EXPN = exposure(ctx, c, "EXPN", "postmaster")
		add(exposureFinding(where, p.VRFY, p.EXPN))
		transaction(ctx, p, where, c, o)
	}
	if !c.Closed() {
		c.Quit(ctx)
	}
	return p
}

// connectFailure explains a connection that could not be made. Refused
// and timed out mean different things, and on port 25 the block is often
// on the prober's own network, not at the server.
func connectFailure(check, where, service string, ip netip.Addr, port int, err error) Finding {
	f := Finding{Check: check, Status: StatusFail, Summary: where + ": cannot connect: " + err.Error(),
		Fix: "Check that the server listens on port " + strconv.Itoa(port) + " and that no firewall drops it.", Ref: "RFC 5321 §3.1"}
	refused := errors.Is(err, syscall.ECONNREFUSED)
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "timeout")
	switch {
	case refused:
		f.Detail = "Connection refused: the host answered that nothing listens on port " + strconv.Itoa(port) + " (or a firewall on the way rejects the connection)."
	case timeout:
		f.Detail = "Timeout: no answer at all. A firewall drops the packets (at the server, or on your own network), or the host is down."
	}
	if sc, ok := SpecialScope(ip); ok && sc.Name == "loopback address" && refused {
		f.Detail += " " + sc.Describe(ip) + ": no server runs on this machine on that port."
		f.Fix = "Start the server, or probe the port it really uses with --port " + service + "=PORT (the lab's SMTP is on 2525: --port smtp=2525)."
		return f
	}
	if port == 25 && (refused || timeout) {
		f.Detail += "\nOutbound port 25 is often blocked by home and mobile ISPs and by cloud providers (AWS, Google Cloud, Azure...) to stop spam, so the block may be on your side, not the server's." +
			"\nTo tell the difference: probe another domain's mail server from here (postlab diag gmail.com); if it cannot connect either, your network blocks port 25." +
			" Or run the probe from another network or a server that sends mail. A timeout is typical of a blocked port 25; a refusal usually comes from the server itself."
		f.Fix = "If your network blocks port 25, run postlab diag --no-probe here (DNS checks only) and probe from elsewhere; otherwise check that the server listens on port 25 and that its firewall lets it through."
	}
	return f
}

func fillCaps(p *Probe, c *explorer.SMTPSession) {
	p.Capabilities = p.Capabilities[:0]
	for _, k := range c.Capabilities() {
		p.Capabilities = append(p.Capabilities, strings.TrimSpace(k.Keyword+" "+strings.Join(k.Params, " ")))
	}
	p.AuthMechs = c.AuthMechanisms()
	if k, ok := c.Supports("SIZE"); ok && len(k.Params) > 0 {
		p.Size, _ = strconv.ParseInt(k.Params[0], 10, 64)
	}
}

func bannerFinding(where, bannerHost string, ptr *FCrDNS, ptrErr error, mxHost string) Finding {
	f := Finding{Check: "smtp.banner", Ref: "RFC 5321 §4.3.1; RFC 1912 §2.1"}
	if ptrErr != nil {
		// Unknown is not "no PTR name".
		f.Status = StatusError
		f.Summary = where + ": banner host " + bannerHost + "; the PTR name of the address could not be looked up to compare"
		f.Detail = ptrErr.Error()
		f.Fix = "Retry; if it persists, the reverse zone's name servers or the resolver are failing (try --resolver)."
		return f
	}
	var names []string
	if ptr != nil {
		names = ptr.Names
	}
	for _, n := range names {
		if strings.EqualFold(n, bannerHost) {
			f.Status = StatusPass
			f.Summary = where + ": banner host " + bannerHost + " matches the PTR name"
			return f
		}
	}
	f.Status = StatusWarn
	switch {
	case len(names) == 0:
		f.Summary = where + ": banner host " + bannerHost + ", but the address has no PTR name"
		f.Fix = "Publish a PTR record for the address naming " + mxHost + "."
	default:
		f.Summary = fmt.Sprintf("%s: banner host %q differs from the PTR name %s", where, bannerHost, strings.Join(names, ", "))
		f.Fix = "Make the server greet with its PTR name (e.g. Postfix myhostname), so that the greeting, PTR and A records agree."
	}
	return f
}

// capsFinding lists the EHLO keywords with what each means.
func capsFinding(check, where string, caps []explorer.Capability) Finding {
	verb, ref := "EHLO offers", "RFC 5321 §4.1.1.1"
	if strings.HasPrefix(check, "pop3.") {
		verb, ref = "CAPA lists", "RFC 2449 §5"
	}
	pop3 := strings.HasPrefix(check, "pop3.")
	var lines, kws []string
	for _, k := range caps {
		kws = append(kws, k.Keyword)
		line := strings.TrimSpace(k.Keyword + " " + strings.Join(k.Params, " "))
		if pop3 {
			lines = append(lines, line+" — "+pop3CapNote(line))
			continue
		}
		if e, ok := annotate.Capability(k.Keyword); ok {
			line += " — " + e.Title
			if e.Ref != "" {
				line += " (" + e.Ref + ")"
			}
		} else {
			line += " — not in postlab's tables"
		}
		lines = append(lines, line)
	}
	return Finding{Check: check, Status: StatusInfo, Summary: where + ": " + verb + " " + strings.Join(kws, " "),
		Detail: strings.Join(lines, "\n"), Ref: ref}
}

// pop3CapNote explains a CAPA line with annotate's POP3 entries (RFC 2449
// §6): annotate.Capability prefers the SMTP keyword of the same name
// (PIPELINING, SASL...), so ask for the line as part of a CAPA response.
func pop3CapNote(line string) string {
	notes := annotate.Annotate(explorer.Event{Dir: explorer.ServerToClient, Line: line,
		State: explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseAuthz, Command: "CAPA", Multi: true}})
	if len(notes) == 0 {
		return "not in postlab's tables"
	}
	n := notes[0]
	text := n.Detail
	if text == "" {
		text = n.Title
	}
	if n.Ref != "" {
		text += " (" + n.Ref + ")"
	}
	return text
}

func sizeFinding(p *Probe, where string, c *explorer.SMTPSession) {
	k, ok := c.Supports("SIZE")
	f := Finding{Check: "smtp.size", Status: StatusInfo, Ref: "RFC 1870"}
	switch {
	case !ok:
		f.Summary = where + ": SIZE not advertised: senders learn of a size limit only after sending the whole message"
	case p.Size == 0:
		f.Summary = where + ": SIZE advertised without a limit"
	default:
		f.Summary = fmt.Sprintf("%s: SIZE %d (%.1f MiB) per message", where, p.Size, float64(p.Size)/(1<<20))
		_ = k
		if p.Size < 10<<20 {
			f.Status = StatusWarn
			f.Fix = "Most providers accept 25 MiB or more; attachments larger than the limit bounce."
		}
	}
	p.Findings = append(p.Findings, f)
}

func submissionFindings(p *Probe, where string, c *explorer.SMTPSession) {
	st := c.State()
	f := Finding{Check: "submission.auth", Status: StatusPass, Ref: "RFC 4954; RFC 8314 §3"}
	switch {
	case len(p.AuthMechs) == 0:
		f.Status = StatusWarn
		f.Summary = where + ": no AUTH offered" + map[bool]string{true: " after TLS", false: ""}[st.TLS]
		f.Fix = "Submission needs AUTH after TLS (RFC 6409 §4.3)."
	case !st.TLS:
		f.Status = StatusFail
		f.Summary = where + ": AUTH " + strings.Join(p.AuthMechs, " ") + " offered without TLS: passwords cross in clear text"
		f.Fix = "Offer AUTH only after STARTTLS, or use port 465 with implicit TLS."
	default:
		f.Summary = where + ": AUTH " + strings.Join(p.AuthMechs, " ") + " offered over TLS"
	}
	p.Findings = append(p.Findings, f)
}

// exposure tries VRFY/EXPN and classifies the answer.
func exposure(ctx context.Context, c *explorer.SMTPSession, verb, arg string) string {
	r, err := c.SendLine(ctx, verb+" "+arg)
	if err != nil || r == nil {
		return "error"
	}
	switch {
	case r.Code == 250 || r.Code == 251:
		return "exposed"
	case r.Code == 252:
		return "not confirmed"
	}
	return "refused"
}

func exposureFinding(where, vrfy, expn string) Finding {
	f := Finding{Check: "smtp.vrfy", Status: StatusPass,
		Summary: fmt.Sprintf("%s: VRFY %s, EXPN %s: addresses cannot be harvested", where, vrfy, expn), Ref: "RFC 5321 §3.5, §7.3"}
	if vrfy == "exposed" || expn == "exposed" {
		f.Status = StatusWarn
		f.Summary = fmt.Sprintf("%s: VRFY %s, EXPN %s: spammers can check which addresses exist", where, vrfy, expn)
		f.Fix = "Disable VRFY and EXPN (Postfix: disable_vrfy_command = yes), or answer 252."
	}
	return f
}

// transaction times a harmless MAIL FROM:<>/RCPT TO:<postmaster@domain>/RSET
// (RFC 5321 §4.5.1 requires postmaster, §4.5.5 the null sender), then the
// optional relay test. DATA is never sent.
func transaction(ctx context.Context, p *Probe, where string, c *explorer.SMTPSession, o ProbeOptions) {
	if c.Closed() {
		return
	}
	dom := o.Domain
	if dom == "" {
		dom = p.Host
	}
	t0 := time.Now()
	f := Finding{Check: "smtp.transaction", Status: StatusPass, Ref: "RFC 5321 §4.5.1, §4.5.5"}
	_, err := c.Mail(ctx, "")
	if err == nil {
		_, err = c.Rcpt(ctx, "postmaster@"+dom)
	}
	var rerr error
	if !c.Closed() {
		_, rerr = c.Rset(ctx)
	}
	ms := time.Since(t0).Milliseconds()
	p.TransactionMS = &ms
	switch {
	case err != nil && explorer.IsNetwork(err):
		f.Status = StatusFail
		f.Summary = where + ": connection lost during MAIL/RCPT: " + err.Error()
	case err != nil:
		f.Status = StatusWarn
		f.Summary = fmt.Sprintf("%s: MAIL FROM:<> RCPT TO:<postmaster@%s> refused in %d ms: %s", where, dom, ms, errText(err))
		f.Fix = "Accept mail for postmaster and from the null sender (bounces)."
	case rerr != nil:
		f.Status = StatusWarn
		f.Summary = where + ": RSET refused: " + errText(rerr)
	default:
		f.Summary = fmt.Sprintf("%s: MAIL FROM:<> / RCPT TO:<postmaster@%s> / RSET took %d ms (no DATA sent)", where, dom, ms)
	}
	p.Findings = append(p.Findings, f)
	if !o.RelayTest || c.Closed() {
		return
	}
	rf := Finding{Check: "smtp.relay", Status: StatusPass, Ref: "RFC 5321 §3.6.2, §7.1"}
	open := false
	_, err = c.Mail(ctx, "relay-test@example.org")
	if err == nil {
		_, err = c.Rcpt(ctx, "relay-test@example.net")
		open = err == nil
	}
	if !c.Closed() {
		c.Rset(ctx)
	}
	p.OpenRelay = &open
	switch {
	case open:
		rf.Status = StatusFail
		rf.Summary = where + ": OPEN RELAY: accepted mail from example.org to example.net without authentication (no DATA was sent)"
		rf.Fix = "Accept RCPT only for your own domains unless the client has authenticated (Postfix: smtpd_relay_restrictions)."
	case err != nil && explorer.IsNetwork(err):
		rf.Status = StatusError
		rf.Summary = where + ": relay test interrupted: " + err.Error()
	default:
		rf.Summary = where + ": not an open relay: " + errText(err)
	}
	p.Findings = append(p.Findings, rf)
}

// tlsFindings checks the handshake the session just did, on the chain
// that handshake was shown: no second connection, so the certificate
// checked is the one this very session (and a sender) got.
func tlsFindings(ctx context.Context, p *Probe, s *explorer.Session, where, host string, port int, service string, o ProbeOptions) {
	ti := s.TLS()
	cs, ok := s.TLSState()
	if ti == nil || !ok {
		return
	}
	chain := cs.PeerCertificates
	cc := CheckChain(chain, o.RootCAs, host, o.Now())
	pt := &ProbeTLS{Version: ti.Version, Cipher: ti.Cipher, Cert: cc}
	p.TLS = pt
	add := func(f Finding) { p.Findings = append(p.Findings, f) }
	vf := Finding{Check: "tls.version", Status: StatusPass, Summary: fmt.Sprintf("%s: %s, %s", where, ti.Version, ti.Cipher), Ref: "RFC 8996; RFC 9325 §3.1"}
	if ti.Version == "TLS 1.0" || ti.Version == "TLS 1.1" || strings.HasPrefix(ti.Version, "SSL") {
		vf.Status = StatusWarn
		vf.Fix = "Enable TLS 1.2 and 1.3; TLS 1.0 and 1.1 are deprecated."
	}
	add(vf)
	strict := service != "smtp"
	for _, f := range certFindings("tls", where, cc, strict) {
		add(f)
	}
	// DANE: TLSA at _port._tcp.host, matched against the session's chain.
	if o.Resolver != nil {
		recs, ans, err := LookupTLSA(ctx, o.Resolver, host, port)
		if err != nil {
			add(dnsErrorFinding("tls.dane", fmt.Sprintf("_%d._tcp.%s TLSA (DANE not checked)", port, host), err))
		}
		if err == nil && len(recs) > 0 {
			name := fmt.Sprintf("_%d._tcp.%s", port, host)
			f := daneFinding("tls.dane", where, name, recs, ans.AD, chain, host, o.Now())
			pt.DANE = "no match"
			if f.Status != StatusFail {
				pt.DANE = "match"
			}
			if len(chain) > 0 {
				f.Detail += "\n" + TLSARecordFor(chain[0]) + " is the record for the key the server presented"
			}
			add(f)
		}
	}
	if o.MTASTS != nil && o.MTASTS.Mode != "none" && service == "smtp" {
		ok := o.MTASTS.Matches(host) && cc.Verified
		f := Finding{Check: "tls.mta-sts", Status: StatusPass, Ref: "RFC 8461 §4.1, §4.2"}
		pt.MTASTS = "satisfied"
		if ok {
			f.Summary = where + ": MTA-STS satisfied: " + host + " is in the policy and its certificate verifies"
		} else {
			pt.MTASTS = "not satisfied"
			f.Status = StatusFail
			if o.MTASTS.Mode == "testing" {
				f.Status = StatusWarn
			}
			var why []string
			if !o.MTASTS.Matches(host) {
				why = append(why, host+" matches no mx: line")
			}
			if !cc.Verified {
				why = append(why, "the certificate does not verify ("+cc.VerifyError+")")
			}
			f.Summary = where + ": MTA-STS (" + o.MTASTS.Mode + ") NOT satisfied: " + strings.Join(why, "; ")
			f.Fix = "Senders enforcing the policy will not deliver here: fix the certificate or the policy's mx lines."
		}
		add(f)
	}
}

// probePOP3 visits a POP3 (STLS) or POP3S port.
func probePOP3(ctx context.Context, host string, ip netip.Addr, port int, service string, o ProbeOptions) *Probe {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	p := &Probe{Service: service, Host: host, Addr: addr}
	where := fmt.Sprintf("%s %s (%s)", service, addr, host)
	rec := &recorder{}
	defer func() { p.Trace = rec.all() }()
	add := func(f Finding) { p.Findings = append(p.Findings, f) }
	sec := explorer.Plain
	if service == "pop3s" {
		sec = explorer.ImplicitTLS
	}
	start := time.Now()
	c, err := explorer.DialPOP3(ctx, o.sessionOpts(host, ip, port, sec, rec))
	if err != nil {
		p.Error = err.Error()
		f := connectFailure("pop3.connect", where, service, ip, port, err)
		f.Ref = "RFC 1939 §4"
		add(f)
		if c != nil {
			c.Close()
		}
		return p
	}
	defer c.Close()
	p.ConnectMS = time.Since(start).Milliseconds()
	p.Banner = c.Greeting.String()
	add(Finding{Check: "pop3.connect", Status: StatusPass, Summary: fmt.Sprintf("%s: connected in %d ms; greeting %q", where, p.ConnectMS, abbreviate(p.Banner, 100)), Ref: "RFC 1939 §4"})
	c.Capa(ctx)
	capsOf := func() {
		p.Capabilities = p.Capabilities[:0]
		p.AuthMechs = nil
		for _, k := range c.Capabilities() {
			p.Capabilities = append(p.Capabilities, strings.TrimSpace(k.Keyword+" "+strings.Join(k.Params, " ")))
			switch k.Keyword {
			case "USER":
				p.AuthMechs = append(p.AuthMechs, "USER")
			case "SASL":
				for _, m := range k.Params {
					p.AuthMechs = append(p.AuthMechs, strings.ToUpper(m))
				}
			}
		}
	}
	capsOf()
	if sec == explorer.Plain {
		if _, ok := c.Supports("STLS"); ok {
			p.StartTLS = true
			clearMechs := p.AuthMechs
			if _, err := c.Stls(ctx); err != nil {
				p.Error = errText(err)
				add(Finding{Check: "tls.starttls", Status: StatusFail, Summary: where + ": STLS offered but the upgrade failed: " + p.Error, Ref: "RFC 2595 §4"})
				return p
			}
			add(Finding{Check: "tls.starttls", Status: StatusPass, Summary: where + ": STLS offered and the upgrade worked", Ref: "RFC 2595 §4"})
			tlsFindings(ctx, p, c.Session, where, host, port, service, o)
			if len(clearMechs) > 0 {
				add(Finding{Check: "pop3.auth", Status: StatusWarn, Summary: where + ": login (" + strings.Join(clearMechs, " ") + ") offered before STLS",
					Fix: "Offer USER and SASL only after STLS (Dovecot: disable_plaintext_auth = yes).", Ref: "RFC 2595 §3.1"})
			}
			c.Capa(ctx)
			capsOf()
		} else {
			add(Finding{Check: "tls.starttls", Status: StatusFail, Summary: where + ": STLS not offered: passwords and mail travel in clear text",
				Fix: "Enable STLS, or offer POP3S on port 995.", Ref: "RFC 2595 §4; RFC 8314 §3.3"})
		}
	} else {
		tlsFindings(ctx, p, c.Session, where, host, port, service, o)
	}
	add(capsFinding("pop3.capa", where, c.Capabilities()))
	if !c.Closed() {
		c.Quit(ctx)
	}
	return p
}

// LookupMTASTSPolicy fetches and parses the domain's policy when its TXT
// record exists; nil without error means the domain has none.
func LookupMTASTSPolicy(ctx context.Context, r Resolver, client *http.Client, url string, domain string) (*MTASTSPolicy, error) {
	txts, _, err := LookupTXT(ctx, r, "_mta-sts."+domain)
	if err != nil {
		return nil, err
	}
	found := false
	for _, t := range txts {
		if IsMTASTSRecord(t) {
			found = true
		}
	}
	if !found {
		return nil, nil
	}
	if url == "" {
		url = MTASTSPolicyURL(domain)
	}
	body, err := FetchMTASTSPolicy(ctx, client, url)
	if err != nil {
		return nil, err
	}
	return ParseMTASTSPolicy(body)
}

// WriteTraces prints each probe's trace, for --show-traces.
func WriteTraces(w interface{ Write([]byte) (int, error) }, probes []*Probe) {
	for _, p := range probes {
		fmt.Fprintf(w, "── trace: %s %s (%s) ──\n", p.Service, p.Addr, p.Host)
		for _, ev := range p.Trace {
			prefix := map[explorer.Direction]string{explorer.ClientToServer: "C: ", explorer.ServerToClient: "S: ", explorer.Local: "   * "}[ev.Dir]
			fmt.Fprintf(w, "%s %s%s\n", ev.Time.Format("15:04:05.000"), prefix, ev.Line)
		}
		fmt.Fprintln(w)
	}
}
