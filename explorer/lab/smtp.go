package lab

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The lab's SMTP roles (RFC 5321 for the MX port, RFC 6409 for submission,
// RFC 8314 for implicit TLS), on emersion/go-smtp.

// smtpListener is one SMTP port.
type smtpListener struct {
	name        string
	ln          net.Listener
	implicitTLS bool // submissions: TLS from the first byte (RFC 8314)
	submission  bool // AUTH required, outside recipients go to the outbox
}

// SMTP replies of the lab (code, enhanced code RFC 3463/5248, text).
var (
	errAuthRequired  = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required: AUTH first on the submission port (RFC 4954 section 6)"}
	errAuthNeedsTLS  = &smtp.SMTPError{Code: 538, EnhancedCode: smtp.EnhancedCode{5, 7, 11}, Message: "Encryption required for requested authentication mechanism: STARTTLS first (RFC 4954 section 6)"}
	errNoAuthHere    = &smtp.SMTPError{Code: 502, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "AUTH is not offered on the MX port: use the submission port"}
	errAlreadyAuthed = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Already authenticated: one AUTH per session (RFC 4954 section 4)"}
	errUnknownMech   = &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unrecognized authentication type"}
	errLineTooLong   = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long: a text line is at most 1000 octets with its CRLF (RFC 5321 section 4.5.3.1.6)"}
	errBadAddress    = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
	// RFC 6531 §3.5: a non-ASCII address needs SMTPUTF8 on MAIL; refused
	// with 550 on MAIL and 553 on RCPT, both X.6.7 (RFC 5248).
	errUTF8Sender    = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Non-ASCII addresses not permitted for that sender: add SMTPUTF8 to MAIL FROM (RFC 6531 section 3.4)"}
	errUTF8Recipient = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Non-ASCII addresses not permitted for that recipient: the transaction needs SMTPUTF8 on MAIL FROM (RFC 6531 section 3.4)"}
	errShuttingDown  = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service shutting down"}
)

// maxTextLine is the RFC 5321 §4.5.3.1.6 limit, CRLF included.
const maxTextLine = 1000

// serveSMTP accepts connections on one SMTP port until the listener closes.
func (l *Lab) serveSMTP(sl *smtpListener) {
	defer l.wg.Done()
	var delay time.Duration
	for {
		c, err := sl.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and similar: back off and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.logf("%s: accept: %v", sl.name, err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		l.startSMTPSession(sl, c)
	}
}

// connState is what belongs to one connection across its SMTP sessions
// (go-smtp starts a new Session after STARTTLS).
type connState struct {
	lab    *Lab
	sl     *smtpListener
	id     uint64
	tc     *trackedConn
	f      *smtpFilter
	tr     *smtpTracer
	remote string
}

func (l *Lab) startSMTPSession(sl *smtpListener, raw net.Conn) {
	ip := hostOf(raw.RemoteAddr())
	id := l.nextSession()
	tr0 := newSMTPTracer(l, l.cfg.Clock, id, sl.name, raw.RemoteAddr().String(), nil)
	if !l.limiter.acquire(ip) {
		tr0.noteErr("refused: %d connections from %s already open (--max-conns-per-ip)", l.cfg.MaxConnsPerIP, ip)
		go func() { // off the accept loop: a stalled client must not block it
			// RFC 5321 §3.8: a server may refuse with 421 instead of the greeting.
			if !sl.implicitTLS {
				raw.SetWriteDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(raw, "421 4.7.0 %s Too many connections from %s; try again later\r\n", l.cfg.Hostname, ip)
			}
			raw.Close()
		}()
		return
	}
	cs := &connState{lab: l, sl: sl, id: id, remote: raw.RemoteAddr().String()}
	tc := newTrackedConn(raw, l.cfg.IdleTimeout, func() {
		l.limiter.release(ip)
		l.untrack(cs)
	})
	cs.tc = tc
	cs.tr = tr0
	tr0.tc = tc
	if !l.track(cs) {
		tc.Close()
		return
	}

	var tlsCfg *tls.Config
	if l.tls != nil {
		tlsCfg = l.tls.serverTLSConfig()
		tlsCfg.VerifyConnection = func(st tls.ConnectionState) error {
			cs.tr.tlsUp(st)
			return nil
		}
		tlsCfg.GetConfigForClient = l.scenarioTLS(tlsCfg, cs.tr)
	}
	var conn net.Conn = tc
	if sl.implicitTLS {
		if tlsCfg == nil {
			tc.Close()
			return
		}
		conn = tls.Server(tc, tlsCfg)
		tlsCfg = nil // no STARTTLS inside TLS
	}
	f := newSMTPFilter(cs, conn, tlsCfg, l.cfg.Domain)
	cs.f = f
	cs.tr.note("connection from %s to %s (%s)", cs.remote, sl.ln.Addr(), roleOf(sl))
	go func() {
		l.waitBanner(tc, cs.tr)
		var debug io.Writer = traceWriter{f: f, w: cs.tr}
		for {
			srv := l.newSMTPServer(cs, f.tlsCfg != nil, debug)
			srv.Serve(&oneConnListener{c: f, tc: tc, released: f.released})
			if !f.handoff {
				break
			}
			// STARTTLS: a fresh go-smtp conversation on the TLS connection,
			// whose greeting the filter and the trace drop.
			f.restart()
			debug = &skipFirstWrite{w: traceWriter{f: f, w: cs.tr}}
		}
		cs.tr.closed()
	}()
}

// newSMTPServer is the go-smtp server of one conversation. The filter
// enforces the line limits, so go-smtp's own (which answers a long line
// in DATA a second time and then hangs up) is off.
func (l *Lab) newSMTPServer(cs *connState, offerTLS bool, debug io.Writer) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(cs.newSession))
	srv.Domain = l.cfg.Hostname
	srv.MaxMessageBytes = l.cfg.MaxMessageBytes
	srv.MaxRecipients = l.cfg.MaxRecipients
	srv.MaxLineLength = 0
	srv.EnableSMTPUTF8 = true
	srv.AllowInsecureAuth = true // the session decides, to answer 538 (RFC 4954 §6)
	srv.Debug = debug
	srv.ErrorLog = log.New(tracerLog{cs.tr}, "", 0)
	if offerTLS {
		// Only for the STARTTLS keyword in EHLO: the filter runs STARTTLS.
		srv.TLSConfig = &tls.Config{}
	}
	return srv
}

// skipFirstWrite drops go-smtp's greeting from the trace after STARTTLS.
type skipFirstWrite struct {
	w       io.Writer
	skipped bool
}

func (s *skipFirstWrite) Write(p []byte) (int, error) {
	if !s.skipped {
		s.skipped = true
		return len(p), nil
	}
	return s.w.Write(p)
}

func roleOf(sl *smtpListener) string {
	switch {
	case sl.implicitTLS:
		return "submission over implicit TLS, AUTH required"
	case sl.submission:
		return "submission: STARTTLS, AUTH required"
	}
	return "MX: local recipients only, no AUTH"
}

// tracerLog turns go-smtp's error log (a failed TLS handshake, a panic) into
// local trace events.
type tracerLog struct{ tr *smtpTracer }

func (w tracerLog) Write(p []byte) (int, error) {
	w.tr.noteErr("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}

func (cs *connState) isTLS(c *smtp.Conn) bool {
	_, ok := cs.f.TLS()
	return ok
}

func (cs *connState) newSession(c *smtp.Conn) (smtp.Session, error) {
	if cs.tc.draining.Load() {
		cs.tc.hangUp.Store(true)
		return nil, errShuttingDown
	}
	if cs.lab.Scenario() == ScenarioClosing421 {
		cs.tr.note("scenario closing-421: answering 421 and closing")
		cs.tc.hangUp.Store(true)
		return nil, errClosing421
	}
	return &session{cs: cs, c: c}, nil
}

// session is one go-smtp Session: from EHLO to QUIT, or to STARTTLS.
type session struct {
	cs   *connState
	c    *smtp.Conn
	user string // authenticated user

	from     string
	utf8     bool
	local    []string // mailboxes, without duplicates
	outside  []string
	rcptSeen map[string]bool
}

func (s *session) Reset() {
	s.from, s.utf8, s.local, s.outside, s.rcptSeen = "", false, nil, nil, nil
	s.cs.tc.inTx.Store(false)
}

func (s *session) Logout() error {
	s.Reset()
	return nil
}

// AuthMechanisms lists the mechanisms for EHLO: only on submission, and only
// under TLS unless --insecure-auth (RFC 4954 §4, RFC 8314 §3).
func (s *session) AuthMechanisms() []string {
	l := s.cs.lab
	if !s.cs.sl.submission || !(s.cs.isTLS(s.c) || l.cfg.InsecureAuth) {
		return nil
	}
	mechs := []string{sasl.Plain, sasl.Login}
	if l.users.PracticeActive() {
		mechs = append(mechs, "CRAM-MD5") // needs a plaintext secret: practice users only
	}
	return mechs
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	l := s.cs.lab
	if !s.cs.sl.submission {
		return nil, errNoAuthHere
	}
	if !s.cs.isTLS(s.c) && !l.cfg.InsecureAuth {
		return nil, errAuthNeedsTLS
	}
	if s.user != "" {
		return nil, errAlreadyAuthed
	}
	a := &authChecker{users: l.users, domain: l.cfg.Domain, delay: l.cfg.AuthFailDelay, ok: func(u string) { s.user = u }}
	switch mech {
	case sasl.Plain:
		return &plainServer{a: a}, nil
	case sasl.Login:
		return &loginServer{a: a}, nil
	case "CRAM-MD5":
		return &cramServer{a: a, host: l.cfg.Hostname}, nil
	}
	return nil, errUnknownMech
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.cs.sl.submission && s.user == "" {
		return errAuthRequired
	}
	s.Reset()
	utf8 := opts != nil && opts.UTF8
	if !utf8 && !isASCII(from) {
		return errUTF8Sender
	}
	if s.cs.sl.submission {
		if err := s.checkSender(from); err != nil {
			return err
		}
	}
	s.from = from
	s.utf8 = utf8
	s.cs.tc.inTx.Store(true)
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	l := s.cs.lab
	local, domain, hasAt := cutLastAt(to)
	if !hasAt {
		// RFC 5321 §4.1.1.3: "<Postmaster>" without a domain is valid.
		if !strings.EqualFold(to, "postmaster") {
			return errBadAddress
		}
		local, domain = "postmaster", l.cfg.Domain
	}
	if local == "" || domain == "" {
		return errBadAddress
	}
	if !s.utf8 && !isASCII(to) {
		return errUTF8Recipient
	}
	if wait, ok := l.greylisted(hostOf(s.c.Conn().RemoteAddr()), strings.ToLower(s.from), strings.ToLower(to)); ok {
		return greylistError(wait)
	}
	if !l.isLocalDomain(domain) {
		if !s.cs.sl.submission {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
				Message: fmt.Sprintf("Relaying denied: %s is not a domain of this server; send outside mail through the submission port with AUTH", domain)}
		}
		key := strings.ToLower(to)
		if !s.rcptSeen[key] {
			s.markRcpt(key)
			s.outside = append(s.outside, to)
		}
		return nil
	}
	box, ok := l.mailboxFor(local)
	if !ok {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: fmt.Sprintf("No such user here: <%s>", to)}
	}
	if l.Scenario() == ScenarioMailboxFull {
		return errMailboxFull(to)
	}
	if !s.rcptSeen[box] {
		s.markRcpt(box)
		s.local = append(s.local, box)
	}
	return nil
}

func (s *session) markRcpt(k string) {
	if s.rcptSeen == nil {
		s.rcptSeen = make(map[string]bool)
	}
	s.rcptSeen[k] = true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func cutLastAt(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, "", false
	}
	return addr[:i], addr[i+1:], true
}

// Data stores the message, durably, before the reply is sent.
func (s *session) Data(r io.Reader) error {
	l := s.cs.lab
	if l.Scenario() == ScenarioDropData {
		// Take part of the message, then hang up without a reply.
		io.CopyN(io.Discard, r, 512)
		s.cs.tr.noteErr("scenario drop-data: the server dropped the connection in the middle of DATA; nothing was stored")
		s.cs.tc.Conn.Close()
		return errShuttingDown
	}
	now := l.cfg.Clock()
	id := queueID()
	received := s.received(now, id)

	var first string
	var prefix string
	if len(s.local) > 0 {
		first = s.local[0]
		// RFC 5321 §4.4: final delivery adds Return-Path.
		prefix = "Return-Path: <" + s.from + ">\r\n" + received
	} else {
		first = Outbox
		prefix = s.outboxHeader() + received
	}
	sf, err := l.store.create(first)
	if err != nil {
		l.logf("store: %v", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot store the message now; try again later"}
	}
	io.WriteString(sf, prefix)
	bodyStart := sf.size
	if err := copyMessage(sf, r); err != nil {
		sf.abort()
		return err
	}
	if s.cs.sl.submission && s.user != "" {
		if sf, err = s.sign(sf, first, prefix, bodyStart); err != nil {
			l.logf("store: %v", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot store the message now; try again later"}
		}
	}

	var outbox *spoolFile
	if len(s.local) > 0 && len(s.outside) > 0 {
		// The outbox copy carries the envelope, so it cannot share the file.
		if outbox, err = l.store.create(Outbox); err == nil {
			err = sf.w.Flush()
			io.WriteString(outbox, s.outboxHeader()+received)
			if err == nil {
				_, err = io.Copy(outbox, io.NewSectionReader(sf.f, bodyStart, sf.size-bodyStart))
			}
		}
		if err != nil {
			sf.abort()
			if outbox != nil {
				outbox.abort()
			}
			l.logf("store: %v", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot store the message now; try again later"}
		}
	}

	var extra []string
	if len(s.local) > 1 {
		extra = s.local[1:]
	}
	if err := sf.commit(extra); err != nil {
		if outbox != nil {
			outbox.abort()
		}
		l.logf("store: %v", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot store the message now; try again later"}
	}
	if outbox != nil {
		if err := outbox.commit(nil); err != nil {
			l.logf("store: %v", err)
			// The local copies are delivered; the client would resend them.
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot store the outbox copy now; try again later"}
		}
	}

	uid := uidOf(sf.name)
	var parts []string
	if len(s.local) > 0 {
		for _, b := range s.local {
			l.store.notes.publish(MailNote{Mailbox: b, ID: uid})
		}
		parts = append(parts, fmt.Sprintf("delivered to %s", strings.Join(s.local, ", ")))
	}
	if len(s.outside) > 0 {
		oid := uid
		if outbox != nil {
			oid = uidOf(outbox.name)
		}
		l.store.notes.publish(MailNote{Mailbox: Outbox, ID: oid})
		parts = append(parts, fmt.Sprintf("%d outside recipient(s) kept in the outbox, not sent: a real server would now look up their MX", len(s.outside)))
	}
	// A 250 carried as an SMTPError lets the reply say what happened.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: fmt.Sprintf("OK id=%s: %s", id, strings.Join(parts, "; "))}
}

// createSignedCopy opens the file for a signed copy; tests make it fail.
var createSignedCopy = (*Store).create

// sign DKIM-signs a submitted message (see dkim.go). sf holds prefix and
// the message from bodyStart on; a signed message is written again, as
// prefix, signature and message, to a new file of mailbox, and sf is
// dropped: the signature needs the whole body, and it goes below the
// lab's own fields and above the message. Why a message stays unsigned goes
// to the trace; it is then stored as it is, also when the signed copy
// cannot be written. An error means sf itself could not be written.
func (s *session) sign(sf *spoolFile, mailbox, prefix string, bodyStart int64) (*spoolFile, error) {
	l := s.cs.lab
	if l.dkimKey == nil {
		s.cs.tr.note("not DKIM-signed: the lab has no DKIM key")
		return sf, nil
	}
	if err := sf.w.Flush(); err != nil {
		sf.abort()
		return nil, err
	}
	sig, why := dkimSign(l.dkimKey, l.cfg.Domain, s.user, io.NewSectionReader(sf.f, bodyStart, sf.size-bodyStart), sf.size-bodyStart)
	if sig == "" {
		s.cs.tr.note("not DKIM-signed: %s", why)
		return sf, nil
	}
	signed, err := createSignedCopy(l.store, mailbox)
	if err == nil {
		_, err = io.WriteString(signed, prefix+sig)
		if err == nil {
			_, err = io.Copy(signed, io.NewSectionReader(sf.f, bodyStart, sf.size-bodyStart))
		}
		if err == nil {
			err = signed.w.Flush() // a write error shows here, while sf is still there
		}
		if err != nil {
			signed.abort()
		}
	}
	if err != nil {
		// A signing problem is no reason to refuse the mail: keep it unsigned.
		// The trace may be a student's: the details (paths) go to the log.
		l.logf("store: DKIM-signed copy: %v", err)
		s.cs.tr.note("not DKIM-signed: the mail store could not write the signed copy (the lab's log says why); the message is stored as it came")
		return sf, nil
	}
	sf.abort()
	s.cs.tr.note("DKIM-signed with d=%s s=%s (a=rsa-sha256, c=relaxed/relaxed, h=%s): a receiver verifies it with the key at %s._domainkey.%s (RFC 6376 section 3.5)",
		l.cfg.Domain, DKIMSelector, dkimTag(sig, "h"), DKIMSelector, l.cfg.Domain)
	return signed, nil
}

// envelopeToHeader and envelopeFromHeader record an outbox message's
// envelope, which a real queue keeps beside the message (RFC 5321 §2.3.1).
const (
	envelopeToHeader   = "X-Postlab-Envelope-To"
	envelopeFromHeader = "X-Postlab-Envelope-From"
)

func (s *session) outboxHeader() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: <%s>\r\n", envelopeFromHeader, s.from)
	for _, to := range s.outside {
		fmt.Fprintf(&b, "%s: <%s>\r\n", envelopeToHeader, to)
	}
	return b.String()
}

func queueID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// received builds the trace header of RFC 5321 §4.4 with the "with"
// keywords of RFC 3848 and RFC 6531 §3.7.3.
func (s *session) received(now time.Time, id string) string {
	l := s.cs.lab
	proto := "SMTP"
	if s.cs.tr.usedEHLO() {
		proto = "ESMTP"
	}
	if s.utf8 {
		proto = "UTF8SMTP"
	}
	cst, isTLS := s.cs.f.TLS()
	if proto != "SMTP" { // RFC 3848 registers the S and A forms for ESMTP only
		if isTLS {
			proto += "S"
		}
		if s.user != "" {
			proto += "A"
		}
	}
	var b strings.Builder
	// TCP-info is the address literal alone: the lab does no reverse lookups.
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n", safeHeaderToken(s.c.Hostname()), hostOf(s.c.Conn().RemoteAddr()))
	fmt.Fprintf(&b, "\tby %s (postlab %s port) with %s id %s", l.cfg.Hostname, s.cs.sl.name, proto, id)
	var notes []string
	if isTLS {
		notes = append(notes, tlsSummary(cst))
	}
	if s.user != "" {
		notes = append(notes, "authenticated as "+s.user)
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\r\n\t(%s)", strings.Join(notes, "; "))
	}
	if n := len(s.local) + len(s.outside); n == 1 {
		to := ""
		if len(s.local) == 1 {
			to = s.local[0] + "@" + l.cfg.Domain
		} else {
			to = s.outside[0]
		}
		fmt.Fprintf(&b, "\r\n\tfor <%s>", to)
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	return b.String()
}

// safeHeaderToken keeps a client-supplied HELO name from breaking the header.
func safeHeaderToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f && r != '(' && r != ')' && r != '\\' {
			b.WriteRune(r)
		}
		if b.Len() >= 255 {
			break
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// copyMessage writes the message content, checking each line against the
// 1000-octet limit. A bare LF is written as CRLF: it never ends a line in
// SMTP (RFC 5321 §2.3.8), go-smtp only ends DATA at CRLF.CRLF, and storing
// it as CRLF keeps every stored message in the form POP3 counts.
func copyMessage(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 32<<10)
	bw := bufio.NewWriterSize(w, 32<<10)
	lineLen := 0
	var prev byte
	for {
		chunk, err := br.ReadSlice('\n')
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				lineLen += len(chunk)
				if lineLen > maxTextLine {
					return errLineTooLong
				}
				bw.Write(chunk)
				prev = chunk[len(chunk)-1]
				break
			}
			seg := chunk[:i]
			lineLen += len(seg)
			if len(seg) > 0 {
				prev = seg[len(seg)-1]
			}
			if prev != '\r' {
				bw.Write(seg)
				bw.WriteString("\r\n")
				lineLen += 2
			} else {
				bw.Write(chunk[:i+1])
				lineLen++
			}
			if lineLen > maxTextLine {
				return errLineTooLong
			}
			lineLen, prev = 0, '\n'
			chunk = chunk[i+1:]
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}
