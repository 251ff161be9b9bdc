package pop3d

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"postlab/explorer"
)

const (
	// RFC 1939 (since RFC 1725) lets a server close the connection after
	// a failed authentication command; we do so after the third, and after
	// a run of protocol errors (unknown commands, bad syntax, over-long
	// lines) so that a confused or hostile client cannot keep a session
	// busy forever.
	maxAuthFailures = 3
	maxErrors       = 10

	// A SASL response line (RFC 5034 §4) is base64 of the mechanism's data,
	// not a command; it gets more room than a command line, still capped.
	saslLineLimit = 4096
	// An over-long line is read and discarded up to its end; past this we
	// stop reading and drop the client.
	maxDiscard = 1 << 20
)

var (
	errLongLine = errors.New("pop3d: line too long")
	errFlood    = errors.New("pop3d: line without end")
)

// session is one client connection.
type session struct {
	srv    *Server
	id     uint64
	raw    net.Conn // the TCP connection; closing it cuts the session off
	conn   net.Conn // raw, or the TLS connection over it
	remote string
	r      *bufio.Reader
	w      *bufio.Writer

	// trace state
	tls    bool
	phase  explorer.Phase
	cmd    string // the command being answered
	mech   string
	authed bool

	afterAuth bool // an AUTH came last: lines that may be SASL data are masked

	timestamp   string // APOP timestamp of the greeting; "" when APOP is off
	user        string // name from USER, waiting for PASS
	userPending bool   // the previous command was a successful USER
	drop        Maildrop
	msgs        []MessageInfo
	deleted     []bool
	errs        int
	authFails   int

	killOnce sync.Once
	kill     chan struct{} // closed by forceClose
	ending   atomic.Bool   // its last read failed: it is closing, not busy

	// A shutdown interrupts a session only while it waits for the
	// client, never in the middle of a response.
	waitMu   sync.Mutex
	waiting  bool // in readLine
	draining bool // the server shuts down
}

func (s *Server) newSession(c net.Conn) *session {
	raw := c
	if tc, ok := c.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	return &session{
		srv:    s,
		id:     s.nextID.Add(1),
		raw:    raw,
		conn:   c,
		remote: c.RemoteAddr().String(),
		r:      bufio.NewReaderSize(c, 4096),
		w:      bufio.NewWriterSize(c, 32<<10),
		phase:  explorer.PhaseConnect,
		kill:   make(chan struct{}),
	}
}

// past is a deadline that has passed: a read with it returns at once.
var past = time.Unix(1, 0)

// drain ends the session at its next wait for the client (now, if it is
// waiting).
func (s *session) drain() {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	s.draining = true
	if s.waiting {
		s.raw.SetReadDeadline(past)
	}
}

// startWait arms the idle timer for a read from the client; under waitMu,
// so that a drain either sees the wait or is seen here.
func (s *session) startWait() {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	s.waiting = true
	s.conn.SetDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
	if s.draining {
		s.raw.SetReadDeadline(past)
	}
}

// endWait reports whether the read that ended was cut by a drain.
func (s *session) endWait(err error) error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	s.waiting = false
	var ne net.Error
	if s.draining && errors.As(err, &ne) && ne.Timeout() {
		return errDraining
	}
	return err
}

func (s *session) forceClose() {
	s.killOnce.Do(func() {
		close(s.kill)
		s.raw.Close()
	})
}

// serve runs the session to its end. Whatever happens, a maildrop that is
// still locked is unlocked without deleting anything: only QUIT in the
// TRANSACTION state enters UPDATE (RFC 1939 §6).
func (s *session) serve() {
	defer func() {
		if s.drop != nil {
			if n := s.countDeleted(); n > 0 {
				s.note(false, fmt.Sprintf("session ended without QUIT: %d message(s) marked for deletion are kept (RFC 1939 §6)", n))
			}
			s.drop.Unlock()
			s.drop = nil
		}
		s.conn.Close()
		s.phase = explorer.PhaseClosed
		s.note(false, "connection closed")
	}()

	if tc, ok := s.conn.(*tls.Conn); ok {
		s.note(false, "connection from "+s.remote+" (implicit TLS)")
		s.phase = explorer.PhaseTLS
		s.conn.SetDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
		if err := tc.Handshake(); err != nil {
			s.note(true, "TLS handshake failed: "+err.Error())
			return
		}
		s.conn.SetDeadline(time.Time{})
		s.tls = true
		s.noteTLS(tc)
	} else {
		s.note(false, "connection from "+s.remote)
	}

	s.phase = explorer.PhaseAuthz
	greeting := "+OK " + s.srv.cfg.Hostname + " POP3 server ready"
	if _, ok := s.srv.cfg.Auth.(SecretAuthenticator); ok {
		// RFC 1939 §7: the timestamp must differ for every greeting.
		s.timestamp = fmt.Sprintf("<%d.%d.%d@%s>", s.srv.pid, time.Now().UnixNano(), s.id, s.srv.cfg.Hostname)
		greeting += " " + s.timestamp
	}
	if s.writeLine(greeting, false) != nil || s.w.Flush() != nil {
		return
	}

	for {
		line, err := s.readLine(s.srv.cfg.MaxLineLength)
		s.cmd = ""
		if err != nil {
			if errors.Is(err, errLongLine) {
				// The line itself is not traced: it may hold a password.
				s.note(true, fmt.Sprintf("client sent a line longer than %d octets", s.srv.cfg.MaxLineLength))
				s.errs++
				if s.replyError(errLineTooLong) != nil || s.errs >= maxErrors {
					return
				}
				continue
			}
			s.readFailed(err)
			return
		}
		cmd, perr := ParseCommand(line)
		traced, secret := s.maskClient(line)
		if perr == nil && !secret {
			s.cmd = cmd.Name
		}
		s.emit(explorer.ClientToServer, traced, false, false)
		_, known := handlers[cmd.Name]
		switch {
		case perr != nil:
			err = s.bad(errSyntax)
		case secret && !known:
			// Not "unknown command <it>": the reply must not echo it.
			err = s.bad(errUnknownCmd)
		default:
			err = s.dispatch(cmd)
		}
		if v, _ := firstWord(line); strings.EqualFold(v, "AUTH") {
			s.afterAuth = true
		}
		if errors.Is(err, errStopSession) {
			s.w.Flush()
			return
		}
		var pe *Error
		if errors.As(err, &pe) {
			if s.replyError(pe) != nil || s.errs >= maxErrors || s.authFails >= maxAuthFailures {
				return
			}
			continue
		}
		if err != nil {
			s.note(true, "write failed: "+err.Error())
			return
		}
	}
}

// replyError sends a -ERR response; when it is the last one the session
// tolerates, the text says that the connection is being closed.
func (s *session) replyError(e *Error) error {
	if s.errs >= maxErrors || s.authFails >= maxAuthFailures {
		e = &Error{Code: e.Code, Msg: e.Msg + "; too many errors, closing connection"}
	}
	err := s.writeLine("-ERR "+e.Error(), false)
	if err == nil && (s.errs >= maxErrors || s.authFails >= maxAuthFailures) {
		err = s.w.Flush()
	}
	return err
}

// bad counts a protocol error toward maxErrors.
func (s *session) bad(e *Error) error {
	s.errs++
	return e
}

func (s *session) readFailed(err error) {
	s.ending.Store(true)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		// RFC 1939 §3: on autologout the server closes the connection
		// without a response and without entering UPDATE.
		s.note(false, fmt.Sprintf("idle for %v: closing without a response; nothing is deleted (RFC 1939 §3)", s.srv.cfg.IdleTimeout))
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		s.note(false, "client closed the connection without QUIT")
	case errors.Is(err, errDraining):
		s.note(false, "server shutting down: closing; nothing is deleted (RFC 1939 §6)")
		if s.writeLine("-ERR "+errShuttingDown.Error(), false) == nil {
			s.w.Flush()
		}
	case errors.Is(err, errFlood):
		s.note(true, "line longer than 1 MiB: dropping the client")
	default:
		s.note(true, "read failed: "+err.Error())
	}
}

// readLine reads one line of at most limit octets including its CRLF (a bare
// LF is accepted too). The idle timer restarts for every line.
func (s *session) readLine(limit int) (string, error) {
	// The idle timer bounds writes too: a client that stops reading must
	// not hold its maildrop lock forever.
	s.startWait()
	line, err := s.readLineRaw(limit)
	return line, s.endWait(err)
}

func (s *session) readLineRaw(limit int) (string, error) {
	if s.r.Buffered() == 0 {
		// Flush only when the client has nothing more queued: pipelined
		// commands (RFC 2449 §6.6) are then answered in one write.
		if err := s.w.Flush(); err != nil {
			return "", err
		}
	}
	frag, err := s.r.ReadSlice('\n')
	if err == nil && len(frag) <= limit {
		return trimEOL(string(frag)), nil
	}
	total := len(frag)
	var line []byte
	if total <= limit {
		line = append(line, frag...)
	}
	for err == bufio.ErrBufferFull {
		if total > maxDiscard {
			return "", errFlood
		}
		frag, err = s.r.ReadSlice('\n')
		total += len(frag)
		if total <= limit {
			line = append(line, frag...)
		}
	}
	if err != nil {
		return "", err
	}
	if total > limit {
		return "", errLongLine
	}
	return trimEOL(string(line)), nil
}

func trimEOL(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// writeLine sends one response line (without CRLF) and traces it. multi marks
// a line inside a multi-line response; such lines are byte-stuffed.
func (s *session) writeLine(line string, multi bool) error {
	if multi && strings.HasPrefix(line, ".") {
		line = "." + line
	}
	s.emit(explorer.ServerToClient, line, multi, false)
	s.w.WriteString(line)
	_, err := s.w.WriteString("\r\n")
	return err
}

func (s *session) ok(text string) error {
	if text == "" {
		return s.writeLine("+OK", false)
	}
	return s.writeLine("+OK "+text, false)
}

// endMulti ends a multi-line response (RFC 1939 §3).
func (s *session) endMulti() error {
	s.emit(explorer.ServerToClient, ".", true, false)
	_, err := s.w.WriteString(".\r\n")
	return err
}

func (s *session) emit(dir explorer.Direction, line string, multi, isErr bool) {
	if s.srv.cfg.Trace == nil {
		return
	}
	s.srv.cfg.Trace(s.id, s.remote, explorer.Event{
		Time: time.Now(),
		Dir:  dir,
		TLS:  s.tls,
		Line: line,
		Err:  isErr,
		State: explorer.State{
			Proto:    explorer.POP3,
			Phase:    s.phase,
			TLS:      s.tls,
			Command:  s.cmd,
			AuthMech: s.mech,
			Authed:   s.authed,
			Multi:    multi,
		},
	})
}

func (s *session) note(isErr bool, text string) {
	s.emit(explorer.Local, text, false, isErr)
}

func (s *session) noteTLS(tc *tls.Conn) {
	st := tc.ConnectionState()
	s.note(false, fmt.Sprintf("TLS established: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)))
}

// maskClient is the traced form of a client line; secret says the whole
// line was hidden as SASL data. After an AUTH, whatever its response, a line that may be
// SASL data (RFC 5034 §4) is masked whole: a client that missed the -ERR
// sends its response anyway, and the server reads it as a command.
func (s *session) maskClient(line string) (string, bool) {
	if s.afterAuth {
		if saslData(line) {
			return "****", true
		}
		s.afterAuth = false
	}
	return maskLine(line), false
}

// saslData reports whether line may be a SASL response: one token, not a
// command keyword, not the "*" that cancels.
func saslData(line string) bool {
	line = strings.TrimSpace(line)
	if line == "" || line == "*" || strings.ContainsAny(line, " \t") {
		return false
	}
	_, isCmd := handlers[strings.ToUpper(line)]
	return !isCmd
}

// firstWord splits a line at its first space or tab, after leading white
// space, so that "PASS\tsecret" is masked like "PASS secret".
func firstWord(line string) (word, rest string) {
	line = strings.TrimLeft(line, " \t")
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, ""
}

// maskLine hides credentials in a traced client line: the PASS argument,
// the APOP digest and an AUTH initial response.
func maskLine(line string) string {
	kw, rest := firstWord(line)
	switch strings.ToUpper(kw) {
	case "PASS":
		if strings.TrimSpace(rest) != "" {
			return kw + " ****"
		}
	case "APOP":
		if name, digest := firstWord(rest); strings.TrimSpace(digest) != "" {
			return kw + " " + name + " ****"
		}
	case "AUTH":
		mech, ir := firstWord(rest)
		switch {
		case !mechName(mech) && mech != "":
			return kw + " ****"
		case strings.TrimSpace(ir) != "":
			return kw + " " + mech + " ****"
		}
	}
	return line
}

// mechName reports whether s can be a SASL mechanism name (RFC 4422 §3.1).
func mechName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
