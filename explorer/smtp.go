package explorer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// SMTPSession is an SMTP client (RFC 5321) that sends exactly what it is
// told and records every line. Raw lines go through SendLine; the
// structured helpers (Ehlo, StartTLS, Auth, Mail, Rcpt, Data, Bdat, ...)
// build the same lines a mail client would and go through the same path.
type SMTPSession struct {
	*Session
	Greeting *Reply
	caps     []Capability

	// Raw-line bookkeeping.
	bdatLeft    int  // octets still expected of the current BDAT chunk
	bdatLast    bool // the current chunk is the LAST one
	sasl        saslTrack
	contentSent int // content lines sent in the current DATA/BDAT
	contentHid  int // of which not recorded as events
	contentOct  int // octets not recorded
}

// DialSMTP connects, reads the greeting and, with StartTLS, sends EHLO and
// STARTTLS and does the handshake (the caller sends EHLO again, as RFC 3207
// §4.2 requires). A greeting that is not 220 is returned as a *ReplyError
// with the session still usable (the caller may QUIT).
func DialSMTP(ctx context.Context, opts Options) (*SMTPSession, error) {
	c, err := DialSMTPConn(ctx, opts)
	if err != nil {
		return nil, err
	}
	if _, err := c.ReadGreeting(ctx); err != nil {
		return c, err
	}
	if opts.Security == StartTLS {
		helo := opts.Helo
		if helo == "" {
			helo = "localhost"
		}
		if _, err := c.Ehlo(ctx, helo); err != nil {
			return c, err
		}
		if err := c.StartTLS(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}

// DialSMTPConn only connects (with the TLS handshake for ImplicitTLS);
// the caller reads the greeting with ReadGreeting. It lets a caller time or
// stop after the connection itself (postlab send --quit-after connect).
func DialSMTPConn(ctx context.Context, opts Options) (*SMTPSession, error) {
	s, err := dial(ctx, SMTP, opts)
	if err != nil {
		return nil, err
	}
	return &SMTPSession{Session: s}, nil
}

// ReadGreeting reads the server's greeting (RFC 5321 §4.3.1); one that is
// not 220 is returned with a *ReplyError.
func (c *SMTPSession) ReadGreeting(ctx context.Context) (*Reply, error) {
	r, err := c.readReply(ctx)
	c.Greeting = r
	if err != nil {
		return r, err
	}
	if r.Code != 220 {
		return r, &ReplyError{Command: "greeting", Reply: r}
	}
	return r, nil
}

// Capabilities returns the EHLO keywords of the last EHLO (nil before it,
// and again after STARTTLS, which resets them per RFC 3207 §4.2).
func (c *SMTPSession) Capabilities() []Capability { return append([]Capability(nil), c.caps...) }

// Supports looks up an EHLO keyword (case-insensitive).
func (c *SMTPSession) Supports(keyword string) (Capability, bool) {
	for _, k := range c.caps {
		if strings.EqualFold(k.Keyword, keyword) {
			return k, true
		}
	}
	return Capability{}, false
}

// AuthMechanisms lists the SASL mechanisms offered in EHLO.
func (c *SMTPSession) AuthMechanisms() []string {
	k, _ := c.Supports("AUTH")
	var out []string
	for _, p := range k.Params {
		out = append(out, strings.ToUpper(p))
	}
	return out
}

// readReply reads one complete reply. Each line is recorded as it arrives
// with the state the reply answers; the state then moves on (see advance).
func (c *SMTPSession) readReply(ctx context.Context) (*Reply, error) {
	end, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	st := c.State()
	var lines []string
	var soft error
	for {
		line, li, err := c.readLine(ctx, MaxReplyLine)
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				c.emitWith(Event{Dir: ServerToClient, Line: line}, st)
				return nil, c.protoFail(err, st)
			}
			return nil, err
		}
		lst := st
		lst.Multi = len(lines) > 0
		c.emitWith(Event{Dir: ServerToClient, Line: printable(line)}, lst)
		if e := c.checkLine(line, li, lst); e != nil && soft == nil {
			soft = e
		}
		rl, err := ParseReplyLine(line)
		if err != nil {
			if len(lines) == 0 {
				if werr := c.wrongService(line, st); werr != nil {
					return nil, werr
				}
			}
			return nil, c.protoFail(err, st)
		}
		if len(lines) > 0 {
			first, _ := ParseReplyLine(lines[0])
			if rl.Code != first.Code {
				return nil, c.protoFail(&ProtocolError{Reason: fmt.Sprintf("code %d inside a %d reply (RFC 5321 §4.2.1)", rl.Code, first.Code), Line: printable(line)}, st)
			}
		}
		lines = append(lines, line)
		if rl.Last {
			break
		}
		if len(lines) >= maxReplyLines {
			return nil, c.protoFail(&ProtocolError{Reason: fmt.Sprintf("reply longer than %d lines", maxReplyLines)}, st)
		}
	}
	r, err := ParseReply(lines)
	if err != nil {
		return nil, c.protoFail(err, st)
	}
	c.advance(st, r)
	return r, soft
}

func (c *SMTPSession) protoFail(err error, st State) error {
	c.emitWith(Event{Dir: Local, Line: "error: " + err.Error(), Err: true}, st)
	return err
}

// advance moves the state machine after a reply to st.Command.
func (c *SMTPSession) advance(st State, r *Reply) {
	code := r.Code
	if code == 421 {
		// RFC 5321 §3.8: the server is closing the channel.
		c.Close()
		return
	}
	c.update(func(s *State) {
		switch st.Command {
		case "":
			if s.Phase == PhaseConnect && code == 220 {
				s.Phase = PhaseGreeted
			}
		case "EHLO", "HELO", "LHLO":
			if code == 250 {
				s.Phase = PhaseReady
			}
		case "MAIL":
			if code == 250 {
				s.Phase = PhaseMail
			}
		case "RCPT":
			if code == 250 || code == 251 {
				if s.Phase == PhaseMail {
					s.Phase = PhaseRcpt
				}
			}
		case "DATA":
			switch {
			case st.Phase == PhaseData:
				// the reply after the final "."
				s.Phase = PhaseReady
			case code == 354:
				s.Phase = PhaseData
			}
		case "BDAT":
			if code/100 != 2 || c.bdatLast {
				s.Phase = PhaseReady
			} else {
				s.Phase = PhaseData
			}
		case "RSET":
			if code == 250 && s.Phase != PhaseConnect && s.Phase != PhaseGreeted {
				s.Phase = PhaseReady
			}
		case "STARTTLS":
			if code == 220 {
				s.Phase = PhaseTLS
			}
		case "AUTH":
			switch {
			case code == 334:
				s.Phase = PhaseAuth
			case code == 235:
				s.Authed = true
				s.Phase = PhaseReady
			default:
				s.Phase = PhaseReady
			}
		case "QUIT":
			if code == 221 {
				s.Phase = PhaseClosed
			}
		}
	})
	switch st.Command {
	case "EHLO":
		if code == 250 {
			c.caps = ParseEhlo(r)
		}
	case "AUTH":
		if code == 334 {
			ch, _ := base64.StdEncoding.DecodeString(r.Text())
			c.sasl.pwNext = bytes.Contains(bytes.ToLower(ch), []byte("pass"))
		} else {
			c.sasl.steps, c.sasl.pwNext = 0, false
		}
	case "QUIT":
		if code == 221 {
			c.Close()
		}
	}
	if st.Command == "BDAT" && c.bdatLast {
		c.bdatLast = false
	}
}

// sendLine writes one command line and records it (masked where it carries
// a credential) with the verb set as the state's Command.
func (c *SMTPSession) sendLine(ctx context.Context, line string) error {
	if err := checkSafe("command", line); err != nil {
		return err
	}
	end, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	c.recordClient(line)
	return c.write(ctx, []byte(line+"\r\n"))
}

// recordClient records a command line and updates Command/AuthMech.
func (c *SMTPSession) recordClient(line string) {
	st := c.State()
	if st.Phase == PhaseData && st.Command == "DATA" {
		// the "." that ends DATA: it answers to DATA, not a command of its own
		c.emit(Event{Dir: ClientToServer, Line: printable(line)})
		return
	}
	if c.recordSASL(&c.sasl, line, st) {
		return
	}
	c.recordCommand(&c.sasl, line, line)
}

// splitVerb returns the upper-cased command verb and the rest of the line.
// A tab separates too: servers refuse it, but the masking must not miss a
// "PASS<TAB>secret".
func splitVerb(line string) (string, string) {
	verb, arg, _ := cutSpace(strings.TrimLeft(line, " \t"))
	return strings.ToUpper(verb), arg
}

// cutSpace cuts s at its first space or tab.
func cutSpace(s string) (before, after string, found bool) {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// MaskedSecret replaces credentials in the trace.
const MaskedSecret = "****"

// maskSASL masks one client SASL response (base64) of mech; step counts
// the responses of the exchange from 1. PLAIN keeps the base64 of
// "authzid NUL user NUL" as far as it does not touch the password, so the
// user name can still be decoded; LOGIN keeps the user name (the first
// response) and masks the password; CRAM-MD5, SCRAM and EXTERNAL carry no
// password and are kept; anything unknown is masked whole.
func maskSASL(mech, resp string, step int, pwNext bool) string {
	if resp == "*" || resp == "=" || resp == "" {
		return resp
	}
	switch {
	case mech == "PLAIN":
		raw, err := base64.StdEncoding.DecodeString(resp)
		if err != nil {
			return MaskedSecret
		}
		i := bytes.IndexByte(raw, 0)
		if i < 0 {
			return MaskedSecret
		}
		j := bytes.IndexByte(raw[i+1:], 0)
		if j < 0 {
			return MaskedSecret
		}
		keep := (i + 1 + j + 1) / 3 * 4
		return resp[:keep] + MaskedSecret
	case mech == "LOGIN":
		if step == 1 && !pwNext {
			return resp
		}
		return MaskedSecret
	case mech == "CRAM-MD5" || mech == "EXTERNAL" || mech == "ANONYMOUS" || strings.HasPrefix(mech, "SCRAM-"):
		return resp
	}
	return MaskedSecret
}

// SendLine sends one raw line exactly as typed (without its CRLF) and reads
// the reply the protocol state calls for. It returns a nil Reply when none
// is due: message content after DATA's 354 until the lone ".", and BDAT
// chunk data until the announced size has been sent. After "STARTTLS" and a
// 220 it performs the TLS handshake. A 4xx/5xx reply is not an error here.
func (c *SMTPSession) SendLine(ctx context.Context, line string) (*Reply, error) {
	st := c.State()
	if st.Phase == PhaseData && c.bdatLeft > 0 {
		if err := c.sendContent(ctx, line+"\r\n"); err != nil {
			return nil, err
		}
		c.bdatLeft -= len(line) + 2
		if c.bdatLeft > 0 {
			return nil, nil
		}
		c.bdatLeft = 0
		c.summariseContent()
		c.update(func(s *State) { s.Command = "BDAT" })
		return c.readReply(ctx)
	}
	if st.Phase == PhaseData && st.Command == "DATA" {
		if line == "." {
			c.summariseContent()
			if err := c.sendLine(ctx, line); err != nil {
				return nil, err
			}
			c.update(func(s *State) { s.Command = "DATA" })
			return c.readReply(ctx)
		}
		return nil, c.sendContent(ctx, line+"\r\n")
	}
	if err := c.sendLine(ctx, line); err != nil {
		return nil, err
	}
	if st.Phase == PhaseAuth {
		c.update(func(s *State) { s.Command = "AUTH" })
	}
	verb, arg := splitVerb(line)
	if verb == "BDAT" && st.Phase != PhaseAuth {
		f := strings.Fields(arg)
		n, err := strconv.Atoi(firstOr(f, ""))
		c.bdatLast = len(f) > 1 && strings.EqualFold(f[1], "LAST")
		if err == nil && n > 0 {
			c.bdatLeft = n
			c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
			c.setPhase(PhaseData)
			return nil, nil
		}
	}
	r, err := c.readReply(ctx)
	if err != nil {
		return r, err
	}
	if verb == "STARTTLS" && r.Code == 220 && st.Phase != PhaseAuth {
		return r, c.tlsUp(ctx)
	}
	if verb == "DATA" && r.Code == 354 {
		c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
	}
	return r, nil
}

// Line is SendLine without the reply, for UIs that only show the trace.
func (c *SMTPSession) Line(ctx context.Context, line string) error {
	_, err := c.SendLine(ctx, line)
	return err
}

func firstOr(f []string, def string) string {
	if len(f) == 0 {
		return def
	}
	return f[0]
}

// sendContent writes message data, recording lines up to the trace bound.
func (c *SMTPSession) sendContent(ctx context.Context, data string) error {
	end, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	c.recordContent(data)
	return c.write(ctx, []byte(data))
}

// recordContent records the lines of data (CRLF separated) as c2s events
// within the bound, counting the rest for summariseContent.
func (c *SMTPSession) recordContent(data string) {
	limit := c.opts.contentLines()
	for data != "" {
		line, rest, found := strings.Cut(data, "\r\n")
		if !found {
			line, rest = data, ""
		}
		data = rest
		c.contentSent++
		if c.contentSent > limit {
			c.contentHid++
			c.contentOct += len(line) + 2
			continue
		}
		c.emit(Event{Dir: ClientToServer, Line: printable(line)})
	}
}

func (c *SMTPSession) summariseContent() {
	if c.contentHid > 0 {
		c.note("%d more message lines (%d octets) sent but not shown in the trace", c.contentHid, c.contentOct)
	}
	c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
}

// tlsUp runs the handshake after a 220 to STARTTLS and resets the session
// as RFC 3207 §4.2 says: the client must discard what it knew and EHLO again.
func (c *SMTPSession) tlsUp(ctx context.Context) error {
	if c.br.Buffered() > 0 {
		// Data sent in clear after 220 would be injected into the TLS
		// session (CVE-2011-0411 "STARTTLS command injection").
		return c.fail(&ConnError{"tls", fmt.Errorf("server sent %d octets after its 220 to STARTTLS, before TLS (possible injection); refusing to continue", c.br.Buffered())})
	}
	host, _, _ := net.SplitHostPort(c.opts.Addr)
	if err := c.handshake(ctx, host); err != nil {
		return err
	}
	c.caps = nil
	c.sasl.orphan = false
	c.update(func(s *State) {
		s.Phase = PhaseGreeted
		s.Command = ""
		s.Authed = false
		s.AuthMech = ""
	})
	return nil
}

// cmd sends a structured command and reads its reply; a reply outside the
// wanted codes becomes a *ReplyError.
func (c *SMTPSession) cmd(ctx context.Context, line string, want ...int) (*Reply, error) {
	// Checked here too: in DATA, SendLine would take it as message content.
	if err := checkSafe("command", line); err != nil {
		return nil, err
	}
	r, err := c.SendLine(ctx, line)
	if err != nil {
		return r, err
	}
	if r == nil {
		return nil, fmt.Errorf("%s: no reply expected in phase %s", line, c.State().Phase)
	}
	for _, w := range want {
		if r.Code == w || (w < 10 && r.Class() == w) {
			return r, nil
		}
	}
	verb, _ := splitVerb(line)
	if verb == "." {
		verb = "DATA"
	}
	return r, &ReplyError{Command: verb, Reply: r}
}

// Ehlo sends EHLO (RFC 5321 §4.1.1.1) and parses the capabilities.
func (c *SMTPSession) Ehlo(ctx context.Context, name string) (*Reply, error) {
	return c.cmd(ctx, "EHLO "+name, 250)
}

// Helo sends HELO, the pre-ESMTP greeting.
func (c *SMTPSession) Helo(ctx context.Context, name string) (*Reply, error) {
	return c.cmd(ctx, "HELO "+name, 250)
}

// StartTLS sends STARTTLS (RFC 3207) and does the handshake on 220.
func (c *SMTPSession) StartTLS(ctx context.Context) error {
	_, err := c.cmd(ctx, "STARTTLS", 220)
	return err
}

// Auth authenticates with PLAIN (RFC 4616), LOGIN or CRAM-MD5 (RFC 2195)
// per RFC 4954. The password never reaches the trace.
func (c *SMTPSession) Auth(ctx context.Context, mech, user, pass string) (*Reply, error) {
	mech = strings.ToUpper(mech)
	var line string
	switch mech {
	case "PLAIN":
		line = "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass))
	case "LOGIN", "CRAM-MD5":
		line = "AUTH " + mech
	default:
		return nil, fmt.Errorf("AUTH %s: unsupported mechanism (use PLAIN, LOGIN or CRAM-MD5)", mech)
	}
	r, err := c.SendLine(ctx, line)
	for step := 0; err == nil && r != nil && r.Code == 334 && step < 4; step++ {
		ch, derr := base64.StdEncoding.DecodeString(r.Text())
		if derr != nil {
			c.SendLine(ctx, "*") // cancel, RFC 4954 §4
			return r, c.protoFail(&ProtocolError{Reason: "334 challenge is not base64 (RFC 4954 §4)", Line: printable(r.Text())}, c.State())
		}
		var resp string
		switch mech {
		case "PLAIN":
			resp = base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		case "LOGIN":
			if c.sasl.pwNext || step > 0 {
				resp = base64.StdEncoding.EncodeToString([]byte(pass))
			} else {
				resp = base64.StdEncoding.EncodeToString([]byte(user))
			}
		case "CRAM-MD5":
			h := hmac.New(md5.New, []byte(pass))
			h.Write(ch)
			resp = base64.StdEncoding.EncodeToString([]byte(user + " " + hex.EncodeToString(h.Sum(nil))))
		}
		r, err = c.SendLine(ctx, resp)
	}
	if err != nil {
		return r, err
	}
	if r == nil || r.Code != 235 {
		if r == nil {
			return nil, errors.New("AUTH: no reply")
		}
		return r, &ReplyError{Command: "AUTH", Reply: r}
	}
	return r, nil
}

func withParams(line string, params []string) string {
	if len(params) > 0 {
		line += " " + strings.Join(params, " ")
	}
	return line
}

// Mail sends MAIL FROM:<from> with optional ESMTP parameters (SIZE=, BODY=...).
func (c *SMTPSession) Mail(ctx context.Context, from string, params ...string) (*Reply, error) {
	return c.cmd(ctx, withParams("MAIL FROM:<"+from+">", params), 250)
}

// Rcpt sends RCPT TO:<to> with optional parameters (NOTIFY=, ORCPT=...).
func (c *SMTPSession) Rcpt(ctx context.Context, to string, params ...string) (*Reply, error) {
	return c.cmd(ctx, withParams("RCPT TO:<"+to+">", params), 250, 251)
}

// Data sends DATA and, after 354, the message with dot-stuffing and the
// final "." (RFC 5321 §4.1.1.4, §4.5.2). Bare LFs in msg become CRLF.
func (c *SMTPSession) Data(ctx context.Context, msg []byte) (*Reply, error) {
	if _, err := c.cmd(ctx, "DATA", 354); err != nil {
		return nil, err
	}
	return c.WriteMessage(ctx, msg)
}

// WriteMessage sends msg as DATA content (after a 354, e.g. one received
// in a pipelined batch): dot-stuffed, CRLF line endings, then ".".
func (c *SMTPSession) WriteMessage(ctx context.Context, msg []byte) (*Reply, error) {
	if st := c.State(); st.Phase != PhaseData || st.Command != "DATA" {
		return nil, fmt.Errorf("message content needs a 354 reply to DATA first (phase %s)", st.Phase)
	}
	var b strings.Builder
	for _, l := range splitLines(msg) {
		if strings.HasPrefix(l, ".") {
			l = "." + l // RFC 5321 §4.5.2 transparency
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
	if err := c.sendContent(ctx, b.String()); err != nil {
		return nil, err
	}
	return c.cmd(ctx, ".", 250)
}

// splitLines splits a message on CRLF or bare LF, dropping the final
// empty line after a trailing newline.
func splitLines(msg []byte) []string {
	s := strings.ReplaceAll(string(msg), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// NormalizeMessage returns msg as Data and Bdat put it on the wire before
// any dot-stuffing: every line ending CRLF, a final CRLF added when missing.
// Its length is the message size to declare in MAIL FROM SIZE= (RFC 1870 §3).
func NormalizeMessage(msg []byte) []byte { return normalizeCRLF(msg) }

// normalizeCRLF turns every line ending into CRLF and ends with one.
func normalizeCRLF(msg []byte) []byte {
	ls := splitLines(msg)
	if len(ls) == 0 {
		return nil
	}
	return []byte(strings.Join(ls, "\r\n") + "\r\n")
}

// Bdat sends msg in BDAT chunks of chunkSize octets (RFC 3030), the last
// one marked LAST. No dot-stuffing: BDAT counts octets.
func (c *SMTPSession) Bdat(ctx context.Context, msg []byte, chunkSize int) (*Reply, error) {
	msg = normalizeCRLF(msg)
	if chunkSize <= 0 {
		chunkSize = 64 << 10
	}
	var r *Reply
	for off := 0; ; off += chunkSize {
		n := min(chunkSize, len(msg)-off)
		last := off+n >= len(msg)
		line := "BDAT " + strconv.Itoa(n)
		if last {
			line += " LAST"
		}
		end, err := c.begin(ctx)
		if err != nil {
			return nil, err
		}
		c.recordClient(line)
		c.bdatLast = last
		c.setPhase(PhaseData)
		c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
		c.recordContent(string(msg[off : off+n]))
		c.summariseContent()
		// One write per chunk: command and data together.
		err = c.write(ctx, append([]byte(line+"\r\n"), msg[off:off+n]...))
		end()
		if err != nil {
			return nil, err
		}
		c.update(func(s *State) { s.Command = "BDAT" })
		r, err = c.readReply(ctx)
		if err != nil {
			return r, err
		}
		if r.Class() != 2 {
			return r, &ReplyError{Command: "BDAT", Reply: r}
		}
		if last {
			return r, nil
		}
	}
}

// Rset sends RSET (RFC 5321 §4.1.1.5).
func (c *SMTPSession) Rset(ctx context.Context) (*Reply, error) { return c.cmd(ctx, "RSET", 250) }

// Noop sends NOOP.
func (c *SMTPSession) Noop(ctx context.Context) (*Reply, error) { return c.cmd(ctx, "NOOP", 250) }

// Quit sends QUIT; the session is closed after the 221.
func (c *SMTPSession) Quit(ctx context.Context) (*Reply, error) {
	r, err := c.cmd(ctx, "QUIT", 221)
	c.Close()
	return r, err
}

// Envelope is one SMTP transaction's envelope.
type Envelope struct {
	From       string
	FromParams []string
	To         []string
	ToParams   []string
}

// TransactionResult holds the replies of MAIL, each RCPT and DATA.
type TransactionResult struct {
	Mail *Reply
	Rcpt []*Reply
	Data *Reply // the reply to DATA (354 when content may follow)
}

// Accepted counts the recipients the server accepted.
func (t *TransactionResult) Accepted() int {
	n := 0
	for _, r := range t.Rcpt {
		if r != nil && r.Class() == 2 {
			n++
		}
	}
	return n
}

// Pipeline sends MAIL, every RCPT and DATA in one write (RFC 2920 §3.1)
// and then reads the replies in order. It requires PIPELINING in the EHLO
// reply. After a 354 the caller sends the content with WriteMessage (or "."
// when no recipient was accepted, RFC 2920 §3.1).
func (c *SMTPSession) Pipeline(ctx context.Context, env Envelope) (*TransactionResult, error) {
	if _, ok := c.Supports("PIPELINING"); !ok {
		return nil, errors.New("the server did not offer PIPELINING")
	}
	lines := []string{withParams("MAIL FROM:<"+env.From+">", env.FromParams)}
	for _, to := range env.To {
		lines = append(lines, withParams("RCPT TO:<"+to+">", env.ToParams))
	}
	lines = append(lines, "DATA")
	for _, l := range lines {
		if err := checkSafe("command", l); err != nil {
			return nil, err
		}
	}
	end, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	var buf strings.Builder
	base := c.State()
	for i, l := range lines {
		buf.WriteString(l + "\r\n")
		verb, _ := splitVerb(l)
		st := base
		st.Command = verb
		// Each line is recorded in the state the client assumes when it
		// sends it without waiting: MAIL and the first RCPT accepted.
		switch {
		case i == 1 && verb == "RCPT":
			st.Phase = PhaseMail
		case i > 1:
			st.Phase = PhaseRcpt
		}
		c.emitWith(Event{Dir: ClientToServer, Line: printable(l)}, st)
	}
	err = c.write(ctx, []byte(buf.String()))
	end()
	if err != nil {
		return nil, err
	}
	res := &TransactionResult{}
	for _, l := range lines {
		verb, _ := splitVerb(l)
		c.update(func(s *State) { s.Command = verb })
		r, err := c.readReply(ctx)
		if err != nil {
			return res, err
		}
		switch verb {
		case "MAIL":
			res.Mail = r
		case "RCPT":
			res.Rcpt = append(res.Rcpt, r)
		case "DATA":
			res.Data = r
			if r.Code == 354 {
				c.contentSent, c.contentHid, c.contentOct = 0, 0, 0
			}
		}
		if c.Closed() {
			return res, ErrClosed
		}
	}
	return res, nil
}
