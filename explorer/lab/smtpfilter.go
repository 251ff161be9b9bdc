package lab

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/idna"
)

// smtpFilter is the connection go-smtp reads and writes. It sits above TLS
// and checks every command line before go-smtp sees it, answering itself
// where go-smtp hard-codes a reply the lab disagrees with:
//
//   - line limits of RFC 5321 §4.5.3.1.4 (512 octets, 12288 for AUTH lines
//     per RFC 4954 §4) with 500 5.5.2, and the session goes on;
//   - control bytes (RFC 5321 §2.4) refused with 501 5.5.2, never echoed;
//   - a HELO/EHLO name that is not a domain or an address literal, or not
//     ASCII (RFC 5321 §4.1.2, RFC 6531 §3.7.1), refused with 501 5.5.2;
//   - bad sequence 503 5.5.1 (MAIL inside a transaction among them) and
//     "no valid recipients" 554 5.5.1 (RFC 5321 §4.1.4, §4.3.2; RFC 2920
//     §3.1);
//   - unknown MAIL/RCPT parameters 555 5.5.4 (RFC 5321 §4.1.1.11);
//   - unknown verbs 500 5.5.1, and the drop after too many errors;
//   - <Postmaster> without a domain (RFC 5321 §4.5.1), handed on with ours;
//   - STARTTLS (RFC 3207): the filter answers and handshakes, then go-smtp
//     starts over on the TLS connection with a fresh state; a failed
//     handshake closes the connection;
//   - 421 4.3.2 to a session ended by a shutdown;
//   - go-smtp's own replies where its code is wrong (fixReply): 501 5.5.4
//     for a malformed AUTH= MAIL parameter, 501 5.5.2 for base64 that does
//     not decode in a SASL exchange.
//
// It learns the state (greeted, transaction, DATA, BDAT, SASL) from the
// command it passed and go-smtp's reply, which go-smtp writes before it
// reads the next line: the filter returns at most one command per Read.
type smtpFilter struct {
	cs     *connState
	tc     *trackedConn
	inner  net.Conn // tc, or TLS over tc
	br     *bufio.Reader
	tlsCfg *tls.Config // for STARTTLS; nil where it is not offered
	domain string

	tlsState atomic.Pointer[tls.ConnectionState]

	out      []byte // the passed line, not yet read by go-smtp
	mode     int
	bdatLeft int64
	discard  bool // the BDAT chunk was refused here: drop it
	dstate   int  // go-smtp's end-of-data state machine
	errs     int

	lastCmd  string
	bdatLast bool
	greeted  bool
	inMail   bool
	bdatOpen bool // a BDAT transfer awaits more chunks (RFC 3030 §2)
	rcptOK   int
	reply    []byte // partial reply line from go-smtp

	swallow  bool // drop go-smtp's greeting after a STARTTLS restart
	handoff  bool // STARTTLS done: go-smtp must start over
	released chan struct{}

	// A reply of go-smtp's that Write replaced, for the Debug writer that
	// gets the same bytes next (traceWriter).
	fixedFrom, fixedTo []byte
}

const (
	fmCommand = iota
	fmData
	fmBDAT
	fmSASL
)

// RFC 5321 §4.5.3.1.4 and §4.5.3.1.5: command and reply lines, CRLF
// included; RFC 4954 §4 allows 12288 octets for AUTH and SASL lines.
const (
	maxCommandLine = 512
	maxAuthLine    = 12288
	maxReplyLine   = 512
	maxPath        = 256 // RFC 5321 §4.5.3.1.3, with the angle brackets
)

// maxSMTPErrors is how many bad command lines a session may send before
// the lab hangs up (RFC 5321 §4.1.1 leaves the number to the server; a
// class typing by hand needs some room).
const maxSMTPErrors = 10

var errHandoff = errors.New("STARTTLS: restarting the session over TLS")

func newSMTPFilter(cs *connState, inner net.Conn, tlsCfg *tls.Config, domain string) *smtpFilter {
	f := &smtpFilter{cs: cs, tc: cs.tc, inner: inner, br: bufio.NewReaderSize(inner, 32<<10),
		tlsCfg: tlsCfg, domain: domain, released: make(chan struct{})}
	if tc, ok := inner.(*tls.Conn); ok {
		f.tlsConn(tc)
	}
	return f
}

func (f *smtpFilter) tlsConn(tc *tls.Conn) {
	f.inner = tc
	f.tlsCfg = nil
	if st := tc.ConnectionState(); st.HandshakeComplete {
		f.tlsState.Store(&st)
	}
}

// TLS returns the TLS state once the connection is encrypted.
func (f *smtpFilter) TLS() (tls.ConnectionState, bool) {
	if st := f.tlsState.Load(); st != nil && st.HandshakeComplete {
		return *st, true
	}
	if tc, ok := f.inner.(*tls.Conn); ok {
		st := tc.ConnectionState()
		if st.HandshakeComplete {
			f.tlsState.Store(&st)
			return st, true
		}
	}
	return tls.ConnectionState{}, false
}

func (f *smtpFilter) isTLS() bool {
	_, ok := f.inner.(*tls.Conn)
	return ok
}

// restart prepares the filter for the next go-smtp conversation after
// STARTTLS.
func (f *smtpFilter) restart() {
	f.handoff = false
	f.swallow = true
	f.released = make(chan struct{})
	f.greeted, f.inMail, f.rcptOK, f.lastCmd, f.mode = false, false, 0, "", fmCommand
}

func (f *smtpFilter) LocalAddr() net.Addr                { return f.tc.LocalAddr() }
func (f *smtpFilter) RemoteAddr() net.Addr               { return f.tc.RemoteAddr() }
func (f *smtpFilter) SetDeadline(t time.Time) error      { return f.inner.SetDeadline(t) }
func (f *smtpFilter) SetReadDeadline(t time.Time) error  { return f.inner.SetReadDeadline(t) }
func (f *smtpFilter) SetWriteDeadline(t time.Time) error { return f.inner.SetWriteDeadline(t) }

// Close is go-smtp ending its conversation: after STARTTLS the connection
// stays open for the next one.
func (f *smtpFilter) Close() error {
	handoff := f.handoff // read before the release lets the next conversation start
	select {
	case <-f.released:
	default:
		close(f.released)
	}
	if handoff {
		return nil
	}
	return f.inner.Close()
}

// Write takes go-smtp's replies and follows the state from them.
func (f *smtpFilter) Write(p []byte) (int, error) {
	if f.swallow {
		// go-smtp greets every conversation; after STARTTLS the client
		// expects none (RFC 3207 §4.2).
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			f.swallow = false
			if _, err := f.Write(p[i+1:]); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	out := p
	var fixed []byte
	if len(f.reply) == 0 {
		fixed = f.fixReply(p)
	}
	if fixed != nil {
		out = fixed
	}
	rest := out
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(f.reply) < 1024 {
				f.reply = append(f.reply, rest...)
			}
			break
		}
		line := append(f.reply, rest[:i]...)
		f.reply = f.reply[:0]
		rest = rest[i+1:]
		if len(line) >= 4 && line[3] == ' ' {
			if code, err := strconv.Atoi(string(line[:3])); err == nil {
				f.replied(code)
			}
		}
	}
	if _, err := f.inner.Write(out); err != nil {
		return 0, err
	}
	if fixed != nil {
		f.fixedFrom, f.fixedTo = append([]byte(nil), p...), fixed
	}
	return len(p), nil
}

// fixReply returns the reply the lab sends instead of go-smtp's reply p (one
// whole line), or nil to send p as it is. go-smtp v0.25.1 hard-codes these
// codes; the texts are matched exactly, so an upgrade that changes them
// shows up in TestSyntaxRepliesGoSMTPHardCodes.
func (f *smtpFilter) fixReply(p []byte) []byte {
	line, ok := bytes.CutSuffix(p, []byte("\r\n"))
	if !ok || bytes.IndexByte(line, '\n') >= 0 {
		return nil
	}
	switch {
	case f.lastCmd == "MAIL" && (bytes.Equal(line, []byte("500 5.5.4 Malformed AUTH parameter value")) ||
		bytes.Equal(line, []byte("500 5.5.4 Malformed AUTH parameter mailbox"))):
		// A syntax error in a parameter is 501 (RFC 5321 §4.2.3), not the
		// 500 of an unrecognized command.
		return []byte("501 5.5.4 Malformed AUTH parameter: it takes <> or an xtext-encoded mailbox (RFC 4954 section 5)\r\n")
	case f.lastCmd == "AUTH" && bytes.Equal(line, []byte("454 4.7.0 Invalid base64 data")):
		// RFC 4954 §4: "the server rejects the AUTH command with a 501
		// reply"; §6 gives 5.5.2. 454 would tell the client to retry later.
		return []byte("501 5.5.2 Cannot Base64-decode the client response (RFC 4954 section 4)\r\n")
	}
	return nil
}

// traceWriter is go-smtp's Debug writer: go-smtp copies each reply there
// right after writing it to the filter, and the tracer is handed the reply
// the filter actually sent.
type traceWriter struct {
	f *smtpFilter
	w io.Writer
}

func (t traceWriter) Write(p []byte) (int, error) {
	if from, to := t.f.fixedFrom, t.f.fixedTo; from != nil {
		t.f.fixedFrom, t.f.fixedTo = nil, nil
		if bytes.Equal(p, from) {
			_, err := t.w.Write(to)
			return len(p), err
		}
	}
	return t.w.Write(p)
}

func (f *smtpFilter) clearTx() { f.inMail, f.rcptOK, f.bdatOpen = false, 0, false }

// replied updates the state after go-smtp's final reply to lastCmd.
func (f *smtpFilter) replied(code int) {
	ok := code/100 == 2
	switch f.lastCmd {
	case "EHLO", "HELO":
		if ok {
			f.greeted = true
			f.clearTx()
		}
	case "MAIL":
		if ok {
			f.inMail, f.rcptOK = true, 0
		}
	case "RCPT":
		if ok {
			f.rcptOK++
		}
	case "DATA":
		if code == 354 {
			f.mode, f.dstate, f.lastCmd = fmData, 0, "."
			return
		}
	case ".":
		f.clearTx()
	case "BDAT":
		if !ok || f.bdatLast {
			f.clearTx()
		} else {
			f.bdatOpen = true
		}
	case "RSET":
		if ok {
			f.clearTx()
		}
	case "AUTH":
		if code == 334 {
			f.mode = fmSASL
			return
		}
		f.mode = fmCommand
	}
	if f.mode == fmSASL {
		f.mode = fmCommand
	}
}

// Read gives go-smtp one checked command line, or message data.
func (f *smtpFilter) Read(p []byte) (int, error) {
	for {
		if len(f.out) > 0 {
			n := copy(p, f.out)
			f.out = f.out[n:]
			return n, nil
		}
		switch f.mode {
		case fmData:
			return f.readData(p)
		case fmBDAT:
			if f.discard {
				if err := f.discardChunk(); err != nil {
					return 0, f.readErr(err)
				}
				continue
			}
			n := int64(len(p))
			if n > f.bdatLeft {
				n = f.bdatLeft
			}
			m, err := f.br.Read(p[:n])
			f.bdatLeft -= int64(m)
			if f.bdatLeft == 0 {
				f.mode = fmCommand
			}
			if err != nil {
				return m, f.readErr(err)
			}
			return m, nil
		}
		line, n, err := f.readLine()
		if err != nil && !errors.Is(err, errLineLimit) {
			return 0, f.readErr(err)
		}
		pass, err := f.check(line, n, err != nil)
		if err != nil {
			return 0, err
		}
		if pass != nil {
			f.out = pass
		}
	}
}

var errLineLimit = errors.New("line over the limit")

// readLine reads one line (CRLF or LF) of at most maxAuthLine octets; a
// longer one is read to its end and dropped: n is its full length.
func (f *smtpFilter) readLine() ([]byte, int, error) {
	var line []byte
	n := 0
	for {
		chunk, err := f.br.ReadSlice('\n')
		n += len(chunk)
		if len(line)+len(chunk) <= maxAuthLine {
			line = append(line, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return nil, n, err
		}
		if n > maxAuthLine {
			return line, n, errLineLimit
		}
		return line, n, nil
	}
}

// readErr turns the read error that ends a shutdown into its 421.
func (f *smtpFilter) readErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && f.tc.draining.Load() {
		f.answer(421, "4.3.2", "Service shutting down: the lab is stopping")
		return io.EOF
	}
	return err
}

// answer writes the filter's own reply and traces it.
func (f *smtpFilter) answer(code int, enh, msg string) {
	line := fmt.Sprintf("%d %s %s\r\n", code, enh, msg)
	f.inner.Write([]byte(line))
	f.cs.tr.Write([]byte(line))
}

// traceClient shows a line the filter answers itself: go-smtp never sees it.
// The line goes to the tracer as sent (cut at 200 octets): the tracer masks
// credentials in it and Lab.Emit escapes what a terminal would act on.
func (f *smtpFilter) traceClient(line []byte, total int) {
	whole := total <= len(line) // readLine kept all of it
	line = bytes.TrimRight(line, "\r\n")
	s := string(line[:min(len(line), 200)])
	if !whole || len(s) < len(line) {
		s += fmt.Sprintf(" [... %d octets in all]", total)
	}
	f.cs.tr.Write([]byte(s + "\r\n"))
}

// refuse answers a bad line; too many of them end the session.
func (f *smtpFilter) refuse(line []byte, total int, code int, enh, msg string, counts bool) error {
	f.traceClient(line, total)
	f.answer(code, enh, msg)
	if counts {
		f.errs++
		if f.errs >= maxSMTPErrors {
			f.answer(421, "4.5.0", "Too many errors; closing the connection")
			return io.EOF
		}
	}
	return nil
}

// knownVerbs are the commands go-smtp answers (EXPN and the like with 502).
var knownVerbs = map[string]bool{
	"HELO": true, "EHLO": true, "LHLO": true, "MAIL": true, "RCPT": true, "DATA": true,
	"BDAT": true, "RSET": true, "VRFY": true, "NOOP": true, "QUIT": true, "AUTH": true,
	"SEND": true, "SOML": true, "SAML": true, "EXPN": true, "HELP": true, "TURN": true,
}

// check decides about one line: the bytes to pass to go-smtp (nil when the
// filter answered), or an error that ends the conversation.
func (f *smtpFilter) check(raw []byte, total int, tooLong bool) ([]byte, error) {
	if f.mode == fmSASL {
		if tooLong {
			f.traceClient([]byte("[SASL response]"), total)
			f.answer(500, "5.5.2", "Line too long: an AUTH response is at most 12288 octets (RFC 4954 section 4); closing the connection")
			return nil, io.EOF
		}
		return raw, nil
	}
	line := bytes.TrimRight(raw, "\r\n")
	octets := len(line) + 2 // counted with CRLF even when the client sent LF
	if tooLong {
		octets = total
	}
	verb, arg, _ := strings.Cut(string(line), " ")
	verb = strings.ToUpper(verb)
	limit := maxCommandLine
	if verb == "AUTH" {
		limit = maxAuthLine
	}
	if tooLong || octets > limit {
		return nil, f.refuse(raw, total, 500, "5.5.2", fmt.Sprintf("Line too long: a command line is at most %d octets with its CRLF (RFC 5321 section 4.5.3.1.4)", limit), true)
	}
	for _, c := range line {
		if c < 0x20 || c == 0x7f {
			return nil, f.refuse(raw, total, 501, "5.5.2", "Syntax error: control character in the command line (RFC 5321 section 2.4); not echoed", true)
		}
	}
	// Trailing spaces are harmless; go-smtp would call "NOOP " mangled.
	line = bytes.TrimRight(line, " ")
	verb, arg, _ = strings.Cut(string(line), " ")
	verb = strings.ToUpper(verb)
	arg = strings.TrimSpace(arg)
	if len(line) == 0 {
		return nil, f.refuse(raw, total, 500, "5.5.2", "Syntax error: empty command line", true)
	}
	switch {
	case verb == "STARTTLS":
		return nil, f.startTLS(raw, total, arg)
	case !knownVerbs[verb]:
		return nil, f.refuse(raw, total, 500, "5.5.1", "Command not recognized (RFC 5321 section 4.2.4)", true)
	}
	pass := append(line, '\r', '\n')
	if f.bdatOpen && (verb == "MAIL" || verb == "RCPT" || verb == "DATA") {
		return nil, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: a BDAT transfer is open; send BDAT ... LAST or RSET (RFC 3030 section 2)", false)
	}
	switch verb {
	case "AUTH":
		if !f.greeted {
			return nil, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: send EHLO first (RFC 4954 section 4)", false)
		}
		if arg == "" {
			return nil, f.refuse(raw, total, 501, "5.5.4", "Syntax error: AUTH mechanism [initial-response] (RFC 4954 section 4)", false)
		}
	case "HELO", "EHLO":
		// RFC 5321 §4.5.3.1.2: a domain is at most 255 octets, which also
		// keeps the "250 Hello" reply under 512.
		d, _, _ := strings.Cut(arg, " ")
		if len(d) > 255 {
			return nil, f.refuse(raw, total, 501, "5.5.2", "Domain name too long: at most 255 octets (RFC 5321 section 4.5.3.1.2)", false)
		}
		if d != "" {
			// The reply and the Received field then show the name as sent.
			problem, note := helloProblem(verb, d)
			if problem != "" {
				return nil, f.refuse(raw, total, 501, "5.5.2", problem, false)
			}
			if note != "" {
				f.cs.tr.note("%s", note)
			}
		}
	case "MAIL":
		if !f.greeted {
			return nil, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: send EHLO or HELO first (RFC 5321 section 4.1.4)", false)
		}
		if f.inMail {
			// go-smtp would start a new transaction and silently drop the
			// recipients already accepted; RFC 5321 §4.1.4 calls MAIL
			// inside a transaction a bad sequence, and it changes nothing.
			return nil, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: a mail transaction is already open; send DATA to finish it or RSET to abandon it (RFC 5321 section 4.1.4)", false)
		}
		if rest, ok := cutFold(arg, "FROM:"); ok {
			path, params := splitPath(strings.TrimSpace(rest))
			if bad := unknownParam(params, "SIZE", "BODY", "SMTPUTF8", "AUTH"); bad != "" {
				return nil, f.refuse(raw, total, 555, "5.5.4", "MAIL FROM parameter "+bad+" not recognized or not implemented (RFC 5321 section 4.1.1.11)", false)
			}
			if len(path) > maxPath {
				return nil, f.refuse(raw, total, 501, "5.1.7", "Path too long: a reverse-path is at most 256 octets (RFC 5321 section 4.5.3.1.3)", false)
			}
			if path != "" && path[0] != '<' {
				f.cs.tr.note("note: MAIL FROM without angle brackets; RFC 5321 section 4.1.2 requires <%s>. The lab accepts it as Postfix does by default (strict_rfc821_envelopes = no); a strict server answers 501", path)
			}
		}
	case "RCPT":
		if !f.inMail {
			return nil, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: send MAIL first (RFC 5321 section 4.1.4)", false)
		}
		if rest, ok := cutFold(arg, "TO:"); ok {
			path, params := splitPath(strings.TrimSpace(rest))
			if bad := unknownParam(params); bad != "" {
				return nil, f.refuse(raw, total, 555, "5.5.4", "RCPT TO parameter "+bad+" not recognized or not implemented (RFC 5321 section 4.1.1.11)", false)
			}
			if len(path) > maxPath {
				return nil, f.refuse(raw, total, 501, "5.1.3", "Path too long: a forward-path is at most 256 octets (RFC 5321 section 4.5.3.1.3)", false)
			}
			if strings.EqualFold(path, "<postmaster>") {
				// RFC 5321 §4.5.1: <Postmaster> with no domain must be
				// accepted; go-smtp's parser wants a domain, so it gets ours.
				pm := "postmaster@" + f.domain
				f.cs.tr.note("<Postmaster> without a domain (RFC 5321 section 4.5.1) is read as <%s>", pm)
				pass = []byte("RCPT TO:<" + pm + ">")
				if params != "" {
					pass = append(pass, ' ')
					pass = append(pass, params...)
				}
				pass = append(pass, '\r', '\n')
			}
		}
	case "DATA", "BDAT":
		size, last, chunk := int64(0), false, false
		if verb == "BDAT" {
			size, last, chunk = parseBDAT(arg)
		}
		if verb == "DATA" && arg != "" || verb == "BDAT" && !chunk {
			break // go-smtp answers the syntax error
		}
		var refused bool
		var err error
		switch {
		case !f.inMail:
			refused, err = true, f.refuse(raw, total, 503, "5.5.1", "Bad sequence of commands: send MAIL and RCPT first (RFC 5321 section 4.1.4)", false)
		case f.rcptOK == 0:
			// RFC 2920 §3.1: a pipelined DATA after only refused RCPTs.
			refused, err = true, f.refuse(raw, total, 554, "5.5.1", "No valid recipients (RFC 2920 section 3.1)", false)
		}
		if refused {
			if chunk && size > 0 {
				f.mode, f.bdatLeft, f.discard = fmBDAT, size, true
			}
			return nil, err
		}
		if chunk {
			f.bdatLast = last
			if size > 0 {
				f.mode, f.bdatLeft, f.discard = fmBDAT, size, false
			}
		}
	}
	f.lastCmd = verb
	return pass, nil
}

// parseBDAT mirrors go-smtp's BDAT argument checks: chunk says whether
// go-smtp will read a chunk of size octets after the line.
func parseBDAT(arg string) (size int64, last, chunk bool) {
	a := strings.Fields(arg)
	if len(a) == 0 || len(a) > 2 || len(a) == 2 && !strings.EqualFold(a[1], "LAST") {
		return 0, false, false
	}
	n, err := strconv.ParseUint(a[0], 10, 32)
	if err != nil {
		return 0, false, false
	}
	return int64(n), len(a) == 2, true
}

func (f *smtpFilter) discardChunk() error {
	n, err := f.br.Discard(int(min(f.bdatLeft, 1<<20)))
	f.bdatLeft -= int64(n)
	if f.bdatLeft == 0 {
		f.mode, f.discard = fmCommand, false
	}
	return err
}

// readData passes message data up to and including the CRLF.CRLF that
// ends it, with go-smtp's own state machine (data.go), so that commands
// pipelined after the data come back to the filter.
func (f *smtpFilter) readData(p []byte) (int, error) {
	const (
		beginLine = iota
		dot
		dotCR
		cr
		data
	)
	if _, err := f.br.Peek(1); err != nil {
		return 0, f.readErr(err)
	}
	avail := min(len(p), f.br.Buffered())
	buf, _ := f.br.Peek(avail)
	n := 0
	end := false
	for n < len(buf) && !end {
		c := buf[n]
		n++
		switch f.dstate {
		case beginLine:
			switch c {
			case '.':
				f.dstate = dot
			case '\r':
				f.dstate = cr
			default:
				f.dstate = data
			}
		case dot:
			if c == '\r' {
				f.dstate = dotCR
			} else {
				f.dstate = data
			}
		case dotCR:
			if c == '\n' {
				end = true
			} else {
				f.dstate = data
			}
		case cr:
			if c == '\n' {
				f.dstate = beginLine
			} else {
				f.dstate = data
			}
		case data:
			if c == '\r' {
				f.dstate = cr
			}
		}
	}
	copy(p, buf[:n])
	f.br.Discard(n)
	if end {
		f.mode = fmCommand
	}
	return n, nil
}

// startTLS answers STARTTLS (RFC 3207 §4) and hands the session over to a
// fresh go-smtp conversation on the TLS connection.
func (f *smtpFilter) startTLS(raw []byte, total int, arg string) error {
	switch {
	case arg != "":
		return f.refuse(raw, total, 501, "5.5.4", "Syntax error: STARTTLS takes no parameters (RFC 3207 section 4)", false)
	case f.isTLS():
		return f.refuse(raw, total, 502, "5.5.1", "Already running TLS", false)
	case f.tlsCfg == nil:
		return f.refuse(raw, total, 502, "5.5.1", "STARTTLS is not offered here", false)
	}
	f.traceClient(raw, total)
	f.answer(220, "2.0.0", "Ready to start TLS")
	// RFC 3207 §6: whatever the client pipelined after STARTTLS was sent
	// in clear and must not be taken as commands under TLS.
	f.br.Reset(f.inner)
	tc := tls.Server(f.inner, f.tlsCfg)
	if err := tc.Handshake(); err != nil {
		// After 220 the bytes on the wire belong to TLS, and RFC 3207 has
		// no reply for a failed handshake: a line in clear (go-smtp writes
		// "550 5.0.0 Handshake error") would be read as the answer to the
		// client's next command. The connection is closed, as Postfix does.
		f.cs.tr.noteErr("TLS handshake failed: %v; closing the connection (nothing can be said in clear after a failed handshake)", err)
		return io.EOF
	}
	f.tlsConn(tc)
	f.br.Reset(tc)
	f.handoff = true
	return io.EOF
}

// cutFold is strings.CutPrefix, ignoring case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// splitPath splits a MAIL/RCPT argument into the path and its parameters,
// as go-smtp's parser reads it (a quoted local part may hold '>' or ' ').
func splitPath(s string) (path, params string) {
	if strings.HasPrefix(s, "<>") {
		return "<>", strings.TrimSpace(s[2:])
	}
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '>' && s[0] == '<':
			return s[:i+1], strings.TrimSpace(s[i+1:])
		case c == ' ' && s[0] != '<':
			return s[:i], strings.TrimSpace(s[i+1:])
		}
	}
	return s, ""
}

// unknownParam returns the first parameter keyword not in allowed, cut
// short for the reply.
func unknownParam(params string, allowed ...string) string {
	for _, p := range strings.Fields(params) {
		k, _, _ := strings.Cut(p, "=")
		k = strings.ToUpper(k)
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(k) > 32 {
				k = k[:32] + "..."
			}
			return k
		}
	}
	return ""
}

// helloProblem checks a HELO/EHLO argument against RFC 5321's grammar: a
// Domain of letter-digit-hyphen labels (§4.1.2) or an address literal
// (§4.1.3). problem is the text of the 501 5.5.2 reply that §4.1.2 asks
// for; note is for what the lab lets pass as Postfix does by default.
//
// Non-ASCII is refused: SMTPUTF8 is not known yet when EHLO is sent, so a
// client MUST send an ASCII name, an A-label for an internationalized one
// (RFC 6531 §3.7.1), and the lab's reply and Received field may hold only
// ASCII (RFC 6531 §3.7.4.2, §3.7.3).
func helloProblem(verb, d string) (problem, note string) {
	if !isASCII(d) {
		problem = "Syntax error: the " + verb + " domain must be ASCII, an LDH name or an A-label, as SMTPUTF8 is not known yet (RFC 6531 section 3.7.1)"
		if a, err := idna.Lookup.ToASCII(d); err == nil && len(a) <= 255 && isASCII(a) && helloDomainOK(a) {
			problem += "; here " + verb + " " + a
		}
		return problem, ""
	}
	if strings.HasPrefix(d, "[") {
		if !addressLiteralOK(d) {
			return "Syntax error: an address literal is [IPv4 address] or [IPv6:IPv6 address] (RFC 5321 section 4.1.3)", ""
		}
		return "", ""
	}
	if !helloDomainOK(d) {
		return "Syntax error: " + verb + " takes a domain (letters, digits and hyphens in dot-separated labels) or an address literal such as [192.0.2.1] (RFC 5321 section 4.1.2)", ""
	}
	switch {
	case net.ParseIP(d) != nil:
		note = fmt.Sprintf("note: %s %s gives an IP address as a name; RFC 5321 section 4.1.3 writes it as the address literal [%s]", verb, d, d)
	case strings.Contains(d, "_"):
		note = fmt.Sprintf("note: %s %s has an underscore, which RFC 5321 section 4.1.2 does not allow in a domain; the lab accepts it as Postfix does by default", verb, d)
	}
	return "", note
}

// helloDomainOK: labels of letters, digits, hyphens (not first or last)
// and, tolerated, underscores.
func helloDomainOK(d string) bool {
	for _, label := range strings.Split(d, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// addressLiteralOK: [IPv4], [IPv6:address] or a General-address-literal
// [tag:content] (RFC 5321 §4.1.3).
func addressLiteralOK(d string) bool {
	in, ok := strings.CutSuffix(strings.TrimPrefix(d, "["), "]")
	if !ok || in == "" {
		return false
	}
	tag, rest, hasTag := strings.Cut(in, ":")
	if !hasTag {
		ip := net.ParseIP(in)
		return ip != nil && ip.To4() != nil && !strings.Contains(in, ":")
	}
	if strings.EqualFold(tag, "IPv6") {
		ip := net.ParseIP(rest)
		return ip != nil && strings.Contains(rest, ":")
	}
	if rest == "" || !helloDomainOK(tag) || strings.Contains(tag, "_") || strings.Contains(tag, ".") {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c < 33 || c > 126 || c >= '[' && c <= ']' {
			return false
		}
	}
	return true
}
