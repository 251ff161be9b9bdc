package explorer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits that keep a hostile or broken server from growing memory without
// bound. RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets and RFC 1939
// §3 a POP3 response line at 512; real servers stay far below 4096.
const (
	MaxReplyLine   = 4096    // longest SMTP reply / POP3 status line accepted
	MaxContentLine = 1 << 20 // longest message line accepted inside RETR/TOP
	maxReplyLines  = 1000    // most lines accepted in one SMTP reply
)

// DefaultTraceContentLines is how many message-content lines (DATA, BDAT,
// RETR, TOP) become Events before the rest is summarised in one Local note.
// The lines are the wire and are shown, but a 2 MB message would otherwise
// turn into tens of thousands of events in the trace and the app.
const DefaultTraceContentLines = 200

// Session is the part shared by the SMTP and POP3 clients: the connection,
// deadlines, the state and the event trace. Its trace accessors (Events,
// Subscribe, State, Close) are safe for concurrent use; the protocol methods
// of SMTPSession and POP3Session must be called from one goroutine at a time.
type Session struct {
	opts Options
	conn net.Conn // the TLS conn after a handshake; used by the protocol goroutine only
	raw  net.Conn // the TCP conn: Close and cancellation from any goroutine use it
	br   *bufio.Reader
	now  func() time.Time

	mu     sync.Mutex
	events []Event
	subs   map[int]func(Event)
	nextID int
	state  State
	closed bool

	closeOnce sync.Once
	// broken is set after a network error or cancellation: later operations
	// fail at once instead of reading a half-consumed stream.
	broken error
	// certs of the last TLS handshake, for callers that want more than the note.
	tlsInfo *TLSInfo
	// tlsState is the state of that handshake: the peer's chain as sent,
	// verified or not, for checks of its own (DANE, a report's clock).
	tlsState *tls.ConnectionState
}

// Events returns a copy of the trace so far.
func (s *Session) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Subscribe calls f for every event from now on, synchronously on the
// goroutine that produced it (so f must be quick and must not call back into
// the session's protocol methods). It returns a function that unsubscribes.
func (s *Session) Subscribe(f func(Event)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[int]func(Event){}
	}
	id := s.nextID
	s.nextID++
	s.subs[id] = f
	return func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}
}

// State returns a snapshot of the protocol state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// TLS reports the last TLS handshake, or nil when the session is in clear.
func (s *Session) TLS() *TLSInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsInfo
}

// TLSState returns the state of the TLS layer after STARTTLS/STLS or
// implicit TLS: version, cipher and the peer's certificate chain as the
// server sent it (leaf first). The chain is there even when it did not
// verify (Options.Insecure), so a caller can run its own checks (DANE
// matching, RFC 7672) without a second connection. ok is false in clear text.
func (s *Session) TLSState() (state tls.ConnectionState, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsState == nil {
		return tls.ConnectionState{}, false
	}
	return *s.tlsState, true
}

// Closed reports whether the connection is gone (QUIT done, 421, network error, Close).
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// RemoteAddr is the address the session is connected to.
func (s *Session) RemoteAddr() net.Addr { return s.raw.RemoteAddr() }

// Close closes the connection without sending anything (QUIT is the
// caller's choice) and records a Local note. It is safe to call twice and
// from another goroutine, which makes a blocked read return.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true // before Close, so a blocked read knows it was us
		s.mu.Unlock()
		err = s.raw.Close()
		s.emit(Event{Dir: Local, Line: "connection closed"})
		s.setPhase(PhaseClosed)
	})
	return err
}

func (s *Session) setPhase(p Phase) {
	s.mu.Lock()
	s.state.Phase = p
	s.mu.Unlock()
}

func (s *Session) update(f func(st *State)) {
	s.mu.Lock()
	f(&s.state)
	s.mu.Unlock()
}

// emit stamps ev with the time and the current state and records it.
func (s *Session) emit(ev Event) Event {
	s.mu.Lock()
	ev.State = s.state
	return s.emitLocked(ev)
}

// emitWith records ev with an explicit state snapshot.
func (s *Session) emitWith(ev Event, st State) Event {
	s.mu.Lock()
	ev.State = st
	return s.emitLocked(ev)
}

func (s *Session) emitLocked(ev Event) Event {
	// Last line of defence: an AUTH PLAIN payload never reaches the trace,
	// whatever path brought it (message content excepted: it is the
	// message, and base64 attachments can look alike).
	content := ev.Dir == ClientToServer && ev.State.Phase == PhaseData ||
		ev.Dir == ServerToClient && ev.State.Multi && ev.State.Proto == POP3
	if !content {
		ev.Line, _ = scrubPlain(ev.Line)
	}
	ev.Time = s.now()
	ev.TLS = ev.State.TLS
	s.events = append(s.events, ev)
	subs := make([]func(Event), 0, len(s.subs))
	for i := 0; i < s.nextID; i++ {
		if f, ok := s.subs[i]; ok {
			subs = append(subs, f)
		}
	}
	s.mu.Unlock()
	for _, f := range subs {
		f(ev)
	}
	return ev
}

// Note records a Local observation of the caller's own (for example
// "input ended") so that it appears in the trace in order.
func (s *Session) Note(line string) { s.emit(Event{Dir: Local, Line: line}) }

// note records a Local observation.
func (s *Session) note(format string, a ...any) {
	s.emit(Event{Dir: Local, Line: fmt.Sprintf(format, a...)})
}

// fail records err as a Local error event and returns it.
func (s *Session) fail(err error) error {
	if err == nil {
		return nil
	}
	s.emit(Event{Dir: Local, Line: "error: " + err.Error(), Err: true})
	return err
}

// ConnError is a network or TLS failure (exit code 3 in the CLI).
type ConnError struct {
	Op  string // "dial", "read", "write", "tls"
	Err error
}

func (e *ConnError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *ConnError) Unwrap() error { return e.Err }

// ProtocolError is a reply that breaks the protocol's syntax.
type ProtocolError struct {
	Reason string
	Line   string // the offending line, printable
}

func (e *ProtocolError) Error() string {
	if e.Line == "" {
		return "malformed reply: " + e.Reason
	}
	// Line is already printable (escaped once, \xff); %q would escape it again.
	return fmt.Sprintf("malformed reply: %s: \"%s\"", e.Reason, e.Line)
}

// IsNetwork reports whether err is a network/TLS failure rather than an
// answer from the server.
func IsNetwork(err error) bool {
	var ce *ConnError
	return errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// ErrClosed is returned for operations on a closed session.
var ErrClosed = errors.New("session is closed")

// begin prepares an operation: it fails fast on a dead session and arms
// ctx cancellation, which unblocks any read or write by expiring the deadline.
func (s *Session) begin(ctx context.Context) (end func(), err error) {
	if s.broken != nil {
		return nil, s.broken
	}
	if s.Closed() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		// Cancelled between a command and its reply (or before the next
		// command): the stream position is no longer known, so the
		// session ends as it would had the cancel come during the read.
		s.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { s.raw.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }, nil
}

// netErr turns a read/write failure into the error to return, records it,
// and marks the session broken (the stream position is lost).
func (s *Session) netErr(ctx context.Context, op string, err error) error {
	var out error
	switch {
	case s.Closed():
		// Close from another goroutine (a UI's Esc) ended the read.
		s.broken = ErrClosed
		return ErrClosed
	case ctx.Err() != nil:
		out = fmt.Errorf("%s: %w", op, ctx.Err())
	case errors.Is(err, os.ErrDeadlineExceeded):
		msg := fmt.Sprintf("no reply within %s (timeout): the server is slow or stuck; --timeout sets how long to wait", s.opts.replyTimeout())
		if st := s.State(); st.Phase == PhaseConnect && !st.TLS && op == "read" {
			msg = fmt.Sprintf("no greeting within %s (timeout): if this port expects TLS from the first byte (465, 995), add --tls", s.opts.replyTimeout())
		}
		out = &ConnError{op, errors.New(msg)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		out = &ConnError{op, errors.New("connection closed by the server")}
	default:
		out = &ConnError{op, err}
	}
	s.broken = out
	s.fail(out)
	s.Close()
	return out
}

// UnsafeLineError is a command line or credential that holds CR, LF or
// NUL: a command ends at the first CRLF (RFC 5321 §2.3.8, §4.1.1; RFC 1939
// §3), so the rest would run as commands of its own. Nothing was sent.
type UnsafeLineError struct {
	What string // "command", "password", ...
	Char byte
}

func (e *UnsafeLineError) Error() string {
	name := map[byte]string{'\r': "a carriage return (CR)", '\n': "a line feed (LF)", 0: "a NUL"}[e.Char]
	return fmt.Sprintf("refusing to send: the %s contains %s, which would end the line and smuggle in a command of its own (RFC 5321 §2.3.8, RFC 1939 §3); nothing was sent", e.What, name)
}

// checkSafe returns an *UnsafeLineError when v holds CR, LF or NUL.
func checkSafe(what, v string) error {
	if i := strings.IndexAny(v, "\r\n\x00"); i >= 0 {
		return &UnsafeLineError{What: what, Char: v[i]}
	}
	return nil
}

// write sends raw bytes with the write deadline.
func (s *Session) write(ctx context.Context, b []byte) error {
	s.conn.SetWriteDeadline(time.Now().Add(s.opts.replyTimeout()))
	if err := ctx.Err(); err != nil {
		// cancelled before the deadline above was set: it would override the cancel
		return s.netErr(ctx, "write", err)
	}
	if _, err := s.conn.Write(b); err != nil {
		return s.netErr(ctx, "write", err)
	}
	return nil
}

// lineInfo describes how a line arrived.
type lineInfo struct {
	bareLF bool
}

// readLine reads one line (without its line ending) of at most max octets.
// An overlong line is consumed up to its end so the stream stays in step.
func (s *Session) readLine(ctx context.Context, max int) (string, lineInfo, error) {
	s.conn.SetReadDeadline(time.Now().Add(s.opts.replyTimeout()))
	if err := ctx.Err(); err != nil {
		return "", lineInfo{}, s.netErr(ctx, "read", err)
	}
	var buf []byte
	over := false
	for {
		frag, err := s.br.ReadSlice('\n')
		if !over && len(buf)+len(frag) > max+2 {
			over = true
			buf = append(buf, frag[:min(len(frag), 80)]...)
		} else if !over {
			buf = append(buf, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if len(buf) > 0 && !over {
				// Show what arrived before the connection ended: it is the wire.
				s.emit(Event{Dir: ServerToClient, Line: printable(string(buf))})
			}
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", lineInfo{}, s.netErr(ctx, "read", err)
		}
		break
	}
	if over {
		return printable(string(buf)) + "...", lineInfo{}, &ProtocolError{Reason: fmt.Sprintf("line longer than %d octets", max)}
	}
	var li lineInfo
	buf = buf[:len(buf)-1]
	if n := len(buf); n > 0 && buf[n-1] == '\r' {
		buf = buf[:n-1]
	} else {
		li.bareLF = true
	}
	return string(buf), li, nil
}

// printable escapes control characters and invalid UTF-8 so that a trace
// line never corrupts a terminal; printable text, including UTF-8, is kept.
func printable(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\t' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// nonASCII returns the index of the first octet outside printable US-ASCII
// (tab allowed), or -1.
func nonASCII(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// checkLine records the soft violations of a received line (bare LF,
// octets outside US-ASCII) as error events and returns the first as an error.
func (s *Session) checkLine(line string, li lineInfo, st State) error {
	var first error
	if li.bareLF {
		first = &ProtocolError{Reason: "line ended with a bare LF instead of CRLF", Line: printable(line)}
		s.emitWith(Event{Dir: Local, Line: "error: " + first.Error() + " (" + crlfRef(st.Proto) + ")", Err: true}, st)
	}
	if i := nonASCII(line); i >= 0 {
		c := line[i]
		if c >= 0x80 && utf8.ValidString(line) && nonASCII(strings.Map(dropNonASCII, line)) < 0 {
			// Valid UTF-8 text: outside the RFC's US-ASCII, but readable and
			// common (SMTPUTF8 servers, localised messages): warn only.
			s.emitWith(Event{Dir: Local, Line: "warning: reply text is UTF-8, not US-ASCII (RFC 5321 §4.2, RFC 6531)"}, st)
			return first
		}
		err := &ProtocolError{Reason: fmt.Sprintf("octet 0x%02x at column %d is not US-ASCII", c, i+1), Line: printable(line)}
		s.emitWith(Event{Dir: Local, Line: "error: " + err.Error(), Err: true}, st)
		if first == nil {
			first = err
		}
	}
	return first
}

func dropNonASCII(r rune) rune {
	if r >= 0x80 {
		return -1
	}
	return r
}

func crlfRef(p Protocol) string {
	if p == POP3 {
		return "RFC 1939 §3"
	}
	return "RFC 5321 §2.3.8"
}
