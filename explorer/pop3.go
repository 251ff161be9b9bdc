package explorer

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Response is one POP3 response (RFC 1939 §3): a status line "+OK" or
// "-ERR" with an optional RESP-CODE (RFC 2449 §8) and, for the multi-line
// commands, the body with the byte-stuffing removed.
type Response struct {
	OK        bool
	Cont      bool     // a "+ " SASL continuation (RFC 5034 §4)
	Code      string   // the RESP-CODE without brackets ("IN-USE", "SYS/TEMP"), if any
	Text      string   // the text after the status and code
	Lines     []string // multi-line body, dot-unstuffed, without the final "."
	Truncated bool     // Lines stopped at Options.MaxMessage (the rest was read and discarded)
}

func (r *Response) String() string {
	s := "-ERR"
	switch {
	case r.Cont:
		s = "+"
	case r.OK:
		s = "+OK"
	}
	if r.Code != "" {
		s += " [" + r.Code + "]"
	}
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}

// POP3Error is a -ERR answer to a structured command.
type POP3Error struct {
	Command string
	Resp    *Response
}

func (e *POP3Error) Error() string { return fmt.Sprintf("%s refused: %s", e.Command, e.Resp) }

// ParsePOP3Status parses a status line. "+ " (or a bare "+") is a SASL
// continuation; anything that is not "+OK"/"-ERR" followed by a space or the
// end of the line is malformed. The indicators are upper case (RFC 1939 §3).
func ParsePOP3Status(line string) (*Response, error) {
	r := &Response{}
	var rest string
	switch {
	case strings.HasPrefix(line, "+OK"):
		r.OK, rest = true, line[3:]
	case strings.HasPrefix(line, "-ERR"):
		rest = line[4:]
	case line == "+" || strings.HasPrefix(line, "+ "):
		r.Cont, r.OK = true, true
		r.Text = strings.TrimPrefix(strings.TrimPrefix(line, "+"), " ")
		return r, nil
	default:
		return nil, &ProtocolError{Reason: `response does not start with "+OK" or "-ERR" (RFC 1939 §3)`, Line: printable(line)}
	}
	if rest != "" && rest[0] != ' ' {
		return nil, &ProtocolError{Reason: "no space after the status indicator (RFC 1939 §3)", Line: printable(line)}
	}
	rest = strings.TrimPrefix(rest, " ")
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			r.Code = rest[1:i]
			rest = strings.TrimPrefix(rest[i+1:], " ")
		}
	}
	r.Text = rest
	return r, nil
}

// ListEntry is one line of a LIST or UIDL listing: "msg value".
type ListEntry struct {
	Num   int
	Value string // size in octets (LIST) or unique id (UIDL)
}

// ParseListing parses the body of LIST or UIDL (or a single-message +OK text).
func ParseListing(lines []string) ([]ListEntry, error) {
	var out []ListEntry
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			return out, &ProtocolError{Reason: "listing line is not \"msg value\"", Line: printable(l)}
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return out, &ProtocolError{Reason: "bad message number in listing", Line: printable(l)}
		}
		out = append(out, ListEntry{n, f[1]})
	}
	return out, nil
}

// POP3Session is a POP3 client (RFC 1939 with CAPA and RESP-CODES of
// RFC 2449, STLS of RFC 2595 and SASL of RFC 5034) that sends exactly what
// it is told and records every line.
type POP3Session struct {
	*Session
	Greeting *Response
	// Timestamp is the APOP banner "<...>" of the greeting (RFC 1939 §7), or "".
	Timestamp string
	caps      []Capability

	sasl saslTrack
}

// DialPOP3 connects, reads the greeting and, with StartTLS, sends STLS and
// does the handshake. A -ERR greeting is returned as a *POP3Error.
func DialPOP3(ctx context.Context, opts Options) (*POP3Session, error) {
	s, err := dial(ctx, POP3, opts)
	if err != nil {
		return nil, err
	}
	s.state.Phase = PhaseConnect
	c := &POP3Session{Session: s}
	r, err := c.readResponse(ctx, "", false)
	c.Greeting = r
	if err != nil {
		return c, err
	}
	if !r.OK {
		return c, &POP3Error{Command: "greeting", Resp: r}
	}
	if i := strings.IndexByte(r.Text, '<'); i >= 0 {
		if j := strings.IndexByte(r.Text[i:], '>'); j > 0 {
			c.Timestamp = r.Text[i : i+j+1]
		}
	}
	if opts.Security == StartTLS {
		if _, err := c.Stls(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Capabilities returns the CAPA tags of the last CAPA (cleared by STLS).
func (c *POP3Session) Capabilities() []Capability { return append([]Capability(nil), c.caps...) }

// Supports looks up a CAPA tag (case-insensitive).
func (c *POP3Session) Supports(tag string) (Capability, bool) {
	for _, k := range c.caps {
		if strings.EqualFold(k.Keyword, tag) {
			return k, true
		}
	}
	return Capability{}, false
}

// pop3MultiLine reports whether a successful answer to the command is
// multi-line (RFC 1939 §5-7, RFC 2449 §5).
func pop3MultiLine(verb, arg string) bool {
	switch verb {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL":
		return strings.TrimSpace(arg) == ""
	case "AUTH":
		// Without a mechanism, servers list theirs (RFC 1734 practice).
		return strings.TrimSpace(arg) == ""
	}
	return false
}

// readResponse reads a status line and, when multi is set and it is +OK,
// the body up to the lone ".".
func (c *POP3Session) readResponse(ctx context.Context, verb string, multi bool) (*Response, error) {
	end, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	st := c.State()
	line, li, err := c.readLine(ctx, MaxReplyLine)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			c.emitWith(Event{Dir: ServerToClient, Line: line}, st)
			return nil, c.protoFail(err, st)
		}
		return nil, err
	}
	c.emitWith(Event{Dir: ServerToClient, Line: printable(line)}, st)
	soft := c.checkLine(line, li, st)
	r, err := ParsePOP3Status(line)
	if err != nil {
		if werr := c.wrongService(line, st); werr != nil {
			return nil, werr
		}
		return nil, c.protoFail(err, st)
	}
	if r.Cont && st.Phase != PhaseAuth && verb != "AUTH" {
		return nil, c.protoFail(&ProtocolError{Reason: `"+" continuation outside AUTH (RFC 5034 §4)`, Line: printable(line)}, st)
	}
	if r.OK && !r.Cont && multi {
		if err := c.readBody(ctx, r, st); err != nil {
			return r, err
		}
	}
	c.advance(st, r)
	return r, soft
}

func (c *POP3Session) protoFail(err error, st State) error {
	c.emitWith(Event{Dir: Local, Line: "error: " + err.Error(), Err: true}, st)
	return err
}

// readBody reads a multi-line body (RFC 1939 §3): lines up to ".", with a
// leading "." removed from stuffed lines. Every line is the wire and is
// recorded, up to Options.TraceContentLines; the rest is counted in one
// Local note so that a large message does not flood the trace.
func (c *POP3Session) readBody(ctx context.Context, r *Response, st State) error {
	mst := st
	mst.Multi = true
	limit := c.opts.contentLines()
	maxMsg := c.opts.maxMessage()
	var n, hidden, hiddenOct, kept, bareLF int
	var overlong error
	for {
		line, li, err := c.readLine(ctx, MaxContentLine)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				return err
			}
			// An overlong line was consumed to its end: note it and go on.
			if overlong == nil {
				overlong = c.protoFail(err, mst)
			}
			continue
		}
		if li.bareLF {
			bareLF++
		}
		if line == "." {
			if hidden > 0 {
				c.emitWith(Event{Dir: Local, Line: fmt.Sprintf("%d more lines (%d octets) received but not shown in the trace", hidden, hiddenOct)}, mst)
			}
			c.emitWith(Event{Dir: ServerToClient, Line: line}, mst)
			break
		}
		n++
		if n <= limit {
			c.emitWith(Event{Dir: ServerToClient, Line: printable(line)}, mst)
		} else {
			hidden++
			hiddenOct += len(line) + 2
		}
		line = strings.TrimPrefix(line, ".") // RFC 1939 §3 byte-stuffing
		if kept+len(line)+2 > maxMsg {
			r.Truncated = true
			continue
		}
		kept += len(line) + 2
		r.Lines = append(r.Lines, line)
	}
	if bareLF > 0 {
		c.emitWith(Event{Dir: Local, Line: fmt.Sprintf("warning: %d lines of this response ended with a bare LF instead of CRLF (RFC 1939 §3)", bareLF)}, mst)
	}
	if r.Truncated {
		c.emitWith(Event{Dir: Local, Line: fmt.Sprintf("response longer than %d octets: the rest was read but not kept", maxMsg)}, mst)
	}
	return overlong
}

// advance moves the state machine after a response to st.Command.
func (c *POP3Session) advance(st State, r *Response) {
	c.update(func(s *State) {
		switch {
		case r.Cont:
			s.Phase = PhaseAuth
			return
		case st.Phase == PhaseAuth:
			s.Phase = PhaseAuthz
			if r.OK {
				s.Phase, s.Authed = PhaseTrans, true
			}
			return
		}
		switch st.Command {
		case "":
			if s.Phase == PhaseConnect && r.OK {
				s.Phase = PhaseAuthz
			}
		case "PASS", "APOP", "AUTH":
			if r.OK && s.Phase == PhaseAuthz {
				s.Phase, s.Authed = PhaseTrans, true
			}
		case "STLS":
			if r.OK {
				s.Phase = PhaseTLS
			}
		case "QUIT":
			if s.Phase == PhaseTrans {
				s.Phase = PhaseUpdate
			}
		}
	})
	switch {
	case st.Command == "CAPA" && r.OK:
		c.caps = nil
		for _, l := range r.Lines {
			f := strings.Fields(l)
			if len(f) > 0 {
				c.caps = append(c.caps, Capability{Keyword: strings.ToUpper(f[0]), Params: f[1:]})
			}
		}
	case r.Cont:
		ch, _ := base64.StdEncoding.DecodeString(r.Text)
		c.sasl.pwNext = strings.Contains(strings.ToLower(string(ch)), "pass")
	case st.Phase == PhaseAuth || st.Command == "AUTH":
		c.sasl.steps, c.sasl.pwNext = 0, false
	}
	if st.Command == "QUIT" && st.Phase != PhaseAuth {
		c.Close() // RFC 1939 §6: the server closes after QUIT either way
	}
}

// recordClient records a command line, masked where it carries a
// credential, and sets Command (and AuthMech for AUTH).
func (c *POP3Session) recordClient(line string) {
	if c.recordSASL(&c.sasl, line, c.State()) {
		return
	}
	shown := line
	switch verb, arg := splitVerb(line); {
	case verb == "PASS" && arg != "":
		shown = line[:len(line)-len(arg)] + MaskedSecret
	case verb == "APOP":
		// The digest is MD5(timestamp + password): whoever reads it can
		// try passwords against it offline (RFC 1939 §7, §13). The user
		// name stays.
		if _, digest, ok := cutSpace(strings.TrimLeft(arg, " \t")); ok && strings.TrimSpace(digest) != "" {
			shown = line[:len(line)-len(digest)] + MaskedSecret
		}
	}
	c.recordCommand(&c.sasl, line, shown)
}

// SendLine sends one raw line exactly as typed and reads the response the
// command calls for (multi-line for CAPA, LIST and UIDL without argument,
// RETR and TOP). After "STLS" and +OK it performs the TLS handshake.
// A -ERR is not an error here.
func (c *POP3Session) SendLine(ctx context.Context, line string) (*Response, error) {
	if err := checkSafe("command", line); err != nil {
		return nil, err
	}
	st := c.State()
	end, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	c.recordClient(line)
	err = c.write(ctx, []byte(line+"\r\n"))
	end()
	if err != nil {
		return nil, err
	}
	verb, arg := splitVerb(line)
	if st.Phase == PhaseAuth {
		verb, arg = "AUTH", "x"
		c.update(func(s *State) { s.Command = "AUTH" })
	}
	r, err := c.readResponse(ctx, verb, pop3MultiLine(verb, arg))
	if err != nil {
		return r, err
	}
	if verb == "STLS" && r.OK && st.Phase != PhaseAuth {
		return r, c.tlsUp(ctx)
	}
	return r, nil
}

// Line is SendLine without the response, for UIs that only show the trace.
func (c *POP3Session) Line(ctx context.Context, line string) error {
	_, err := c.SendLine(ctx, line)
	return err
}

func (c *POP3Session) tlsUp(ctx context.Context) error {
	if c.br.Buffered() > 0 {
		return c.fail(&ConnError{"tls", fmt.Errorf("server sent %d octets after +OK to STLS, before TLS (possible injection); refusing to continue", c.br.Buffered())})
	}
	host, _, _ := net.SplitHostPort(c.opts.Addr)
	if err := c.handshake(ctx, host); err != nil {
		return err
	}
	c.caps = nil // RFC 2595 §4: capabilities may change; ask CAPA again
	c.sasl.orphan = false
	c.update(func(s *State) { s.Phase, s.Command = PhaseAuthz, "" })
	return nil
}

// cmd sends a structured command; -ERR becomes a *POP3Error.
func (c *POP3Session) cmd(ctx context.Context, line string) (*Response, error) {
	r, err := c.SendLine(ctx, line)
	if err != nil {
		return r, err
	}
	if !r.OK {
		verb, _ := splitVerb(line)
		if c.State().Phase == PhaseAuth || r.Cont {
			verb = "AUTH"
		}
		return r, &POP3Error{Command: verb, Resp: r}
	}
	return r, nil
}

// Capa sends CAPA (RFC 2449 §5) and records the capabilities.
func (c *POP3Session) Capa(ctx context.Context) (*Response, error) { return c.cmd(ctx, "CAPA") }

// Stls sends STLS (RFC 2595 §4) and does the handshake on +OK.
func (c *POP3Session) Stls(ctx context.Context) (*Response, error) { return c.cmd(ctx, "STLS") }

// User sends USER (RFC 1939 §7).
func (c *POP3Session) User(ctx context.Context, name string) (*Response, error) {
	if err := checkSafe("user name", name); err != nil {
		return nil, err
	}
	return c.cmd(ctx, "USER "+name)
}

// Pass sends PASS; the trace shows "PASS ****".
func (c *POP3Session) Pass(ctx context.Context, pass string) (*Response, error) {
	if err := checkSafe("password", pass); err != nil {
		return nil, err
	}
	return c.cmd(ctx, "PASS "+pass)
}

// Login is USER then PASS.
func (c *POP3Session) Login(ctx context.Context, user, pass string) (*Response, error) {
	// Both are checked before USER goes out: a bad password must not
	// leave a half-done login behind.
	if err := checkSafe("password", pass); err != nil {
		return nil, err
	}
	if r, err := c.User(ctx, user); err != nil {
		return r, err
	}
	return c.Pass(ctx, pass)
}

// Apop logs in with APOP (RFC 1939 §7): MD5 of the greeting's timestamp
// and the password, so the password never crosses the wire. The trace
// shows "APOP user ****".
func (c *POP3Session) Apop(ctx context.Context, user, pass string) (*Response, error) {
	if err := checkSafe("user name", user); err != nil {
		return nil, err
	}
	if c.Timestamp == "" {
		return nil, errors.New("APOP: the server greeting has no <timestamp>, so it does not offer APOP (RFC 1939 §7)")
	}
	sum := md5.Sum([]byte(c.Timestamp + pass))
	return c.cmd(ctx, "APOP "+user+" "+hex.EncodeToString(sum[:]))
}

// AuthPlain logs in with AUTH PLAIN (RFC 5034, RFC 4616) using an initial
// response; a "+ " continuation is answered with the same payload.
func (c *POP3Session) AuthPlain(ctx context.Context, user, pass string) (*Response, error) {
	payload := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	r, err := c.cmd(ctx, "AUTH PLAIN "+payload)
	if err == nil && r.Cont {
		r, err = c.cmd(ctx, payload)
	}
	return r, err
}

// Stat sends STAT and returns the message count and total size.
func (c *POP3Session) Stat(ctx context.Context) (count, size int, r *Response, err error) {
	if r, err = c.cmd(ctx, "STAT"); err != nil {
		return 0, 0, r, err
	}
	if _, err := fmt.Sscanf(r.Text, "%d %d", &count, &size); err != nil {
		return 0, 0, r, c.protoFail(&ProtocolError{Reason: "STAT answer is not \"+OK count size\" (RFC 1939 §5)", Line: printable(r.Text)}, c.State())
	}
	return count, size, r, nil
}

// List sends LIST (all messages when msg is 0) and parses the listing.
func (c *POP3Session) List(ctx context.Context, msg int) ([]ListEntry, *Response, error) {
	return c.listing(ctx, "LIST", msg)
}

// Uidl sends UIDL (all messages when msg is 0) and parses the listing.
func (c *POP3Session) Uidl(ctx context.Context, msg int) ([]ListEntry, *Response, error) {
	return c.listing(ctx, "UIDL", msg)
}

func (c *POP3Session) listing(ctx context.Context, verb string, msg int) ([]ListEntry, *Response, error) {
	line := verb
	if msg > 0 {
		line += " " + strconv.Itoa(msg)
	}
	r, err := c.cmd(ctx, line)
	if err != nil {
		return nil, r, err
	}
	lines := r.Lines
	if msg > 0 {
		lines = []string{r.Text}
	}
	l, err := ParseListing(lines)
	return l, r, err
}

// Retr downloads message msg (RFC 1939 §7) as lines without CRLF.
func (c *POP3Session) Retr(ctx context.Context, msg int) (*Response, error) {
	return c.cmd(ctx, "RETR "+strconv.Itoa(msg))
}

// Top fetches the header and the first n body lines of msg.
func (c *POP3Session) Top(ctx context.Context, msg, n int) (*Response, error) {
	return c.cmd(ctx, fmt.Sprintf("TOP %d %d", msg, n))
}

// Dele marks msg for deletion at QUIT.
func (c *POP3Session) Dele(ctx context.Context, msg int) (*Response, error) {
	return c.cmd(ctx, "DELE "+strconv.Itoa(msg))
}

// Noop sends NOOP.
func (c *POP3Session) Noop(ctx context.Context) (*Response, error) { return c.cmd(ctx, "NOOP") }

// Rset unmarks deleted messages.
func (c *POP3Session) Rset(ctx context.Context) (*Response, error) { return c.cmd(ctx, "RSET") }

// Quit sends QUIT: in TRANSACTION the server enters UPDATE and deletes the
// marked messages (RFC 1939 §6). The session is closed afterwards.
func (c *POP3Session) Quit(ctx context.Context) (*Response, error) {
	r, err := c.cmd(ctx, "QUIT")
	c.Close()
	return r, err
}
