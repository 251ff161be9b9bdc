package explorer

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Security is how a session protects its connection.
type Security int

const (
	Plain       Security = iota // clear text for the whole session
	ImplicitTLS                 // TLS from the first byte (SMTP 465, RFC 8314; POP3 995)
	StartTLS                    // clear text, then STARTTLS (RFC 3207) or STLS (RFC 2595)
)

func (s Security) String() string {
	switch s {
	case ImplicitTLS:
		return "tls"
	case StartTLS:
		return "starttls"
	}
	return "plain"
}

// Options configure a session. The zero value of every field is usable.
type Options struct {
	Addr     string   // host:port
	Network  string   // "tcp" (default), "tcp4" or "tcp6"
	Security Security // Plain, ImplicitTLS or StartTLS (done by DialSMTP/DialPOP3)

	ConnectTimeout time.Duration // default 15s
	ReplyTimeout   time.Duration // per reply (and per write); default 60s

	Insecure   bool           // continue when the certificate does not verify (the result is still reported)
	RootCAs    *x509.CertPool // trusted roots; nil means the system pool (plus CAFile)
	CAFile     string         // PEM file of extra trusted roots
	ServerName string         // name to verify and send as SNI; default the host of Addr

	// AllowOldTLS lets a handshake settle on TLS 1.0 or 1.1, which RFC 8996
	// forbids; without it such a handshake fails before anything is sent
	// over it. For probes that must see (and report) old servers.
	AllowOldTLS bool

	// Helo is the name DialSMTP sends in EHLO before STARTTLS; default "localhost".
	Helo string

	// TraceContentLines bounds the message lines recorded per DATA/BDAT/RETR/TOP;
	// 0 means DefaultTraceContentLines, negative means no bound.
	TraceContentLines int
	// MaxMessage bounds the octets of one RETR/TOP kept in Response.Lines;
	// 0 means 64 MiB. Longer messages are still read to the end and traced.
	MaxMessage int

	// Now is the clock of the trace (tests fix it); default time.Now.
	Now func() time.Time
	// Dial replaces the network dialer (tests, proxies).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnEvent, when set, is subscribed before the first event, so it sees
	// the whole trace including the connection and greeting.
	OnEvent func(Event)
}

func (o *Options) replyTimeout() time.Duration {
	if o.ReplyTimeout > 0 {
		return o.ReplyTimeout
	}
	return 60 * time.Second
}

func (o *Options) contentLines() int {
	switch {
	case o.TraceContentLines < 0:
		return int(^uint(0) >> 1)
	case o.TraceContentLines == 0:
		return DefaultTraceContentLines
	}
	return o.TraceContentLines
}

func (o *Options) maxMessage() int {
	if o.MaxMessage > 0 {
		return o.MaxMessage
	}
	return 64 << 20
}

// dial opens the connection (and the TLS layer for ImplicitTLS) and
// returns a Session in PhaseConnect.
func dial(ctx context.Context, proto Protocol, opts Options) (*Session, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Network == "" {
		opts.Network = "tcp"
	}
	s := &Session{opts: opts, now: opts.Now}
	s.state = State{Proto: proto, Phase: PhaseConnect}
	if opts.OnEvent != nil {
		s.Subscribe(opts.OnEvent)
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %v (want HOST:PORT)", opts.Addr, err)
	}
	ct := opts.ConnectTimeout
	if ct <= 0 {
		ct = 15 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, ct)
	defer cancel()
	s.note("connecting to %s (%s)", opts.Addr, opts.Network)
	var conn net.Conn
	if opts.Dial != nil {
		conn, err = opts.Dial(dctx, opts.Network, opts.Addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(dctx, opts.Network, opts.Addr)
	}
	if err != nil {
		if ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no connection to %s within %s (timeout): the host is down, or a firewall drops the traffic", opts.Addr, ct)
		} else if ctx.Err() == nil {
			err = explainDial(err, opts.Addr)
		}
		return nil, s.fail(&ConnError{"dial", err})
	}
	s.conn, s.raw = conn, conn
	s.br = bufio.NewReaderSize(conn, 64<<10)
	s.note("connected to %s from %s", conn.RemoteAddr(), conn.LocalAddr())
	if opts.Security == ImplicitTLS {
		if err := s.handshake(ctx, host); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// tlsConfig builds the client configuration. Verification is done by hand in
// VerifyConnection so the result is known (and reported) even with Insecure.
func (s *Session) tlsConfig(host string, result, old *error, seen *tls.ConnectionState) (*tls.Config, error) {
	roots := s.opts.RootCAs
	if s.opts.CAFile != "" {
		pem, err := os.ReadFile(s.opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %v", err)
		}
		if roots == nil {
			if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
				roots = x509.NewCertPool()
			}
		} else {
			roots = roots.Clone()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates found", s.opts.CAFile)
		}
	}
	name := s.opts.ServerName
	if name == "" {
		name = host
	}
	insecure, allowOld := s.opts.Insecure, s.opts.AllowOldTLS
	return &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: true, // verified below, always
		// TLS 1.0 is offered so that an old server's version is learnt and
		// named; below 1.2 the handshake stops here, before the client's
		// key exchange, unless AllowOldTLS.
		MinVersion: tls.VersionTLS10,
		VerifyConnection: func(cs tls.ConnectionState) error {
			*seen = cs
			if cs.Version < tls.VersionTLS12 && !allowOld {
				*old = &OldTLSError{Version: tls.VersionName(cs.Version)}
				return *old
			}
			*result = VerifyChain(cs.PeerCertificates, roots, name, time.Time{})
			if *result != nil && !insecure {
				return *result
			}
			return nil
		},
	}, nil
}

// VerifyChain verifies chain (leaf first, then the intermediates as the
// server sent them) for name against roots at now; the zero time means the
// current time. Sessions verify their handshakes with it, and diag the
// chains it checks, so both give the same verdict.
func VerifyChain(chain []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       name,
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
	})
	return err
}

// handshake runs the TLS client handshake on the current connection and
// records what it learnt as Local notes.
func (s *Session) handshake(ctx context.Context, host string) error {
	var verr, olderr error
	var seen tls.ConnectionState
	cfg, err := s.tlsConfig(host, &verr, &olderr, &seen)
	if err != nil {
		return s.fail(&ConnError{"tls", err})
	}
	tc := tls.Client(s.conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, s.opts.replyTimeout())
	defer cancel()
	s.note("TLS handshake with server name %q", cfg.ServerName)
	if err := tc.HandshakeContext(hctx); err != nil {
		if olderr != nil {
			err = olderr
		} else if verr != nil {
			// Show the certificate that was refused: it says why.
			info := newTLSInfo(seen, cfg.ServerName, verr)
			for _, l := range info.Lines()[1:] {
				s.note("%s", l)
			}
			err = &CertificateError{Info: info, Err: verr}
		} else {
			err = s.explainTLS(err, s.State().Phase == PhaseConnect)
		}
		out := &ConnError{"tls", err}
		s.broken = out
		s.fail(out)
		s.Close()
		return out
	}
	s.conn = tc
	s.br = bufio.NewReaderSize(tc, 64<<10)
	cs := tc.ConnectionState()
	info := newTLSInfo(cs, cfg.ServerName, verr)
	s.mu.Lock()
	s.state.TLS = true
	s.tlsInfo = info
	s.tlsState = &cs
	s.mu.Unlock()
	for _, l := range info.Lines() {
		s.note("%s", l)
	}
	if verr != nil {
		s.emit(Event{Dir: Local, Line: "TLS certificate NOT verified: " + verr.Error() + " (continuing because of --insecure)"})
	}
	return nil
}

// OldTLSError is a handshake stopped because the server offers only a TLS
// version that RFC 8996 forbids (1.0 or 1.1); nothing was sent over it.
type OldTLSError struct {
	Version string // "TLS 1.0", "TLS 1.1"
}

func (e *OldTLSError) Error() string {
	return fmt.Sprintf("the server offers only %s; RFC 8996 forbids TLS < 1.2: stopped before sending anything over it (the server must enable TLS 1.2 or 1.3)", e.Version)
}

// CertificateError is a handshake stopped because the server's certificate
// did not verify; Info is what the server presented, so a report can show
// what was seen as well as why it was refused.
type CertificateError struct {
	Info *TLSInfo
	Err  error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("certificate verification failed: %v (use --insecure to continue anyway, or --ca FILE to trust its issuer)", e.Err)
}
func (e *CertificateError) Unwrap() error { return e.Err }

// TLSInfo summarises a TLS handshake.
type TLSInfo struct {
	Version    string
	Cipher     string
	ServerName string
	Subject    string
	Issuer     string
	SANs       []string
	NotBefore  time.Time
	NotAfter   time.Time
	Verified   bool
	VerifyErr  string // why verification failed (empty when it passed)
}

func newTLSInfo(cs tls.ConnectionState, name string, verr error) *TLSInfo {
	ti := &TLSInfo{
		Version:    tls.VersionName(cs.Version),
		Cipher:     tls.CipherSuiteName(cs.CipherSuite),
		ServerName: name,
		Verified:   verr == nil,
	}
	if verr != nil {
		ti.VerifyErr = verr.Error()
	}
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		ti.Subject = c.Subject.String()
		ti.Issuer = c.Issuer.String()
		ti.SANs = append(ti.SANs, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			ti.SANs = append(ti.SANs, ip.String())
		}
		ti.NotBefore, ti.NotAfter = c.NotBefore, c.NotAfter
	}
	return ti
}

// Lines renders the handshake as the Local notes of the trace. The first
// word of each line is stable ("TLS", "certificate") for annotate to match.
func (ti *TLSInfo) Lines() []string {
	sans := "none"
	if len(ti.SANs) > 0 {
		sans = fmt.Sprint(ti.SANs)
		sans = sans[1 : len(sans)-1]
	}
	v := "passed"
	if !ti.Verified {
		v = "FAILED: " + ti.VerifyErr
	}
	return []string{
		fmt.Sprintf("TLS established: %s, cipher %s", ti.Version, ti.Cipher),
		fmt.Sprintf("certificate subject %q, issuer %q", ti.Subject, ti.Issuer),
		fmt.Sprintf("certificate names (SAN): %s; valid %s to %s", sans,
			ti.NotBefore.UTC().Format(time.RFC3339), ti.NotAfter.UTC().Format(time.RFC3339)),
		fmt.Sprintf("certificate verification for %q: %s", ti.ServerName, v),
	}
}
