package lab

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"postlab/explorer"
)

// smtpTracer turns go-smtp's per-session Debug stream into trace events.
// go-smtp tees everything it reads into Debug and copies everything it
// writes there too, both as plaintext (also after STARTTLS). A write shows
// up as one complete reply line right after a write on the connection; a
// read shows up as whatever chunk the socket returned. So a Debug write that
// follows a connection write and looks like a reply is the server's; any
// other is the client's and is split into lines here.
//
// Client lines are shown as sent, except AUTH data (masked, like
// chasquid does), including lines that may be SASL data after an AUTH
// whatever its reply, and message content, of which only the first lines
// are shown with a count of the rest. Lab.Emit then masks any AUTH PLAIN
// payload left and escapes control characters.
type smtpTracer struct {
	sink     TraceSink
	clock    Clock
	session  uint64
	listener string
	remote   string
	tc       *trackedConn

	mu         sync.Mutex
	seenWrites uint64
	st         explorer.State
	pending    []string // commands awaiting their final reply, in order (RFC 2920 pipelining)
	ehlo       bool     // the last greeting was EHLO (for the Received "with" clause)
	inMulti    bool
	authLeft   int  // SASL response lines still expected: -1 until the final reply
	afterAuth  bool // an AUTH came last: lines that may be SASL data are masked

	partial    []byte
	mode       int
	bdatLeft   int64
	bdatTotal  int64
	bdatLast   bool
	dataLines  int
	dataOctets int64
	hidden     int
	bareLF     int
	lineStart  bool // the next content byte starts a line (after CRLF)
}

const (
	modeCommand = iota
	modeData
	modeBDAT
)

// dataLinesShown is how many message lines a trace shows before it only
// counts them: enough for the header section of a typical message.
const dataLinesShown = 30

// maxTraceLine caps one traced line; longer lines are shown cut.
const maxTraceLine = 4096

func newSMTPTracer(sink TraceSink, clock Clock, session uint64, listener, remote string, tc *trackedConn) *smtpTracer {
	return &smtpTracer{
		sink: sink, clock: clock, session: session, listener: listener, remote: remote, tc: tc,
		st: explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseConnect},
	}
}

func (t *smtpTracer) emit(dir explorer.Direction, line string, errFlag bool) {
	if t.sink == nil {
		return
	}
	t.sink.Emit(ServerEvent{
		Session:  t.session,
		Listener: t.listener,
		Remote:   t.remote,
		Event:    explorer.Event{Time: t.clock(), Dir: dir, TLS: t.st.TLS, Line: line, State: t.st, Err: errFlag},
	})
}

// note records a local observation (connection, TLS, limits).
func (t *smtpTracer) note(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emit(explorer.Local, fmt.Sprintf(format, a...), false)
}

func (t *smtpTracer) noteErr(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emit(explorer.Local, fmt.Sprintf(format, a...), true)
}

// tlsUp is called when a TLS handshake completes (tls.Config.VerifyConnection).
func (t *smtpTracer) tlsUp(cs tls.ConnectionState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.TLS = true
	if t.st.Phase == explorer.PhaseTLS {
		t.st.Phase = explorer.PhaseGreeted // RFC 3207 §4.2: the client starts over with EHLO
		t.st.Authed, t.st.AuthMech = false, ""
	}
	t.emit(explorer.Local, "TLS established: "+tlsSummary(cs), false)
}

func tlsSummary(cs tls.ConnectionState) string {
	return tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
}

func (t *smtpTracer) closed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st.Phase == explorer.PhaseTLS {
		t.emit(explorer.Local, "TLS handshake after STARTTLS did not complete", true)
	}
	t.st.Phase = explorer.PhaseClosed
	t.emit(explorer.Local, "connection closed", false)
}

// usedEHLO reports whether the client greeted with EHLO.
func (t *smtpTracer) usedEHLO() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ehlo
}

// Write receives go-smtp's Debug stream.
func (t *smtpTracer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.tc.writes.Load()
	wrote := w != t.seenWrites
	t.seenWrites = w
	if wrote && looksLikeReply(p) {
		t.serverLines(p)
	} else {
		t.clientBytes(p)
	}
	return len(p), nil
}

func looksLikeReply(p []byte) bool {
	return len(p) >= 5 && isDigit(p[0]) && isDigit(p[1]) && isDigit(p[2]) &&
		(p[3] == ' ' || p[3] == '-') && bytes.HasSuffix(p, []byte("\r\n"))
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func (t *smtpTracer) serverLines(p []byte) {
	for _, raw := range bytes.SplitAfter(p, []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		line := strings.TrimRight(string(raw), "\r\n")
		cont := len(line) > 3 && line[3] == '-'
		t.st.Multi = cont || t.inMulti
		t.inMulti = cont
		cmd := ""
		if len(t.pending) > 0 {
			cmd = t.pending[0]
		}
		t.st.Command = cmd
		code, _ := strconv.Atoi(line[:min(3, len(line))])
		if !cont {
			t.replied(cmd, code)
			// 334 asks for more of the same AUTH; every other reply ends
			// its command (354 ends DATA; the content's reply answers ".").
			if len(t.pending) > 0 && !(cmd == "AUTH" && code == 334) {
				t.pending = t.pending[1:]
			}
		}
		t.emit(explorer.ServerToClient, line, false)
		t.st.Multi = false
	}
}

// replied moves the phase on after a final reply line (RFC 5321 §4.1.4 and
// §4.3.2, RFC 4954 §4, RFC 3207 §4).
func (t *smtpTracer) replied(cmd string, code int) {
	ok := code >= 200 && code < 300
	switch cmd {
	case "":
		if code == 220 {
			t.st.Phase = explorer.PhaseGreeted
		}
	case "EHLO", "HELO":
		if ok {
			t.st.Phase = explorer.PhaseReady
		}
	case "MAIL":
		if ok {
			t.st.Phase = explorer.PhaseMail
		}
	case "RCPT":
		if ok {
			t.st.Phase = explorer.PhaseRcpt
		}
	case "DATA":
		switch {
		case code == 354:
			t.st.Phase = explorer.PhaseData
		case t.mode == modeData:
			// Refused: what the client sent next was commands after all.
			t.mode = modeCommand
		}
	case ".":
		t.st.Phase = explorer.PhaseReady
	case "BDAT":
		if !ok || t.bdatLast {
			t.st.Phase = explorer.PhaseReady
		}
	case "RSET":
		if ok {
			t.st.Phase = explorer.PhaseReady
		}
	case "AUTH":
		switch {
		case code == 334:
			t.st.Phase = explorer.PhaseAuth
		case code == 235:
			t.authLeft = 0
			t.st.Authed = true
			t.st.Phase = explorer.PhaseReady
		default:
			t.authLeft = 0
			t.st.AuthMech = ""
			if t.st.Phase == explorer.PhaseAuth {
				t.st.Phase = explorer.PhaseReady
			}
		}
	case "STARTTLS":
		if code == 220 {
			t.st.Phase = explorer.PhaseTLS
		}
	case "QUIT":
		if code == 221 {
			t.st.Phase = explorer.PhaseClosed
		}
	}
}

// clientBytes splits the client's stream into lines and BDAT chunks.
func (t *smtpTracer) clientBytes(p []byte) {
	for len(p) > 0 {
		if t.mode == modeBDAT {
			n := min(int64(len(p)), t.bdatLeft)
			t.bdatLeft -= n
			p = p[n:]
			if t.bdatLeft == 0 {
				t.mode = modeCommand
				t.emit(explorer.ClientToServer, fmt.Sprintf("[%d octets of message data]", t.bdatTotal), false)
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxTraceLine - len(t.partial)
			if room > 0 {
				t.partial = append(t.partial, p[:min(room, len(p))]...)
			}
			if t.mode == modeData {
				t.dataOctets += int64(len(p))
			}
			return
		}
		seg := p[:i+1]
		p = p[i+1:]
		line := seg
		if len(t.partial) > 0 {
			room := maxTraceLine - len(t.partial)
			if room > 0 {
				t.partial = append(t.partial, seg[:min(room, len(seg))]...)
			}
			line = t.partial
		}
		if t.mode == modeData {
			t.dataOctets += int64(len(seg))
		}
		t.clientLine(line)
		t.partial = t.partial[:0]
	}
}

// saslLines is how many response lines a mechanism's client sends after
// AUTH; -1 when unknown (then every line until the final reply is SASL data).
func saslLines(mech string, ir bool) int {
	n := -1
	switch mech {
	case "PLAIN", "CRAM-MD5":
		n = 1
	case "LOGIN":
		n = 2
	}
	if ir && n > 0 {
		n--
	}
	return n
}

// saslMechName reports whether s is a SASL mechanism name (RFC 4422 §3.1:
// 1 to 20 of A-Z, 0-9, "-" and "_"; typed in any case).
func saslMechName(s string) bool {
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

func (t *smtpTracer) clientLine(raw []byte) {
	crlf := bytes.HasSuffix(raw, []byte("\r\n"))
	line := strings.TrimRight(string(raw), "\r\n")
	if t.mode == modeData {
		if line == "." && crlf && t.lineStart {
			if t.hidden > 0 {
				t.emit(explorer.Local, fmt.Sprintf("[%d more lines of message content not shown; %d octets in all]", t.hidden, t.dataOctets-3), false)
			}
			if t.bareLF > 0 {
				t.emit(explorer.Local, fmt.Sprintf("%d line(s) ended in a bare LF: not an SMTP line end, so no \"<LF>.<LF>\" can end the data (RFC 5321 §2.3.8, §4.1.1.4); stored with CRLF", t.bareLF), false)
			}
			t.mode = modeCommand
			t.pending = append(t.pending, ".")
			t.st.Command = "."
			t.emit(explorer.ClientToServer, ".", false)
			return
		}
		t.lineStart = crlf
		if !crlf {
			t.bareLF++
		}
		t.dataLines++
		if t.dataLines > dataLinesShown {
			t.hidden++
			return
		}
		t.emit(explorer.ClientToServer, line, false)
		return
	}

	word, rest := firstWord(line)
	verb := strings.ToUpper(word)
	if t.authLeft != 0 {
		// A SASL response line (RFC 4954 §4): never shown, except a cancel.
		if line == "*" {
			t.authLeft = 0
		} else {
			line = "****"
			if t.authLeft > 0 {
				t.authLeft--
			}
		}
		t.emit(explorer.ClientToServer, line, false)
		return
	}
	if t.afterAuth {
		// SASL data sent after the exchange ended, typically after a
		// refused AUTH (530, 538, 504): the server reads it as a command,
		// but it still carries credentials (RFC 4954 §4).
		probe, _, _ := strings.Cut(line, " [... ") // a line cut by the filter
		if looksLikeSASL(probe) {
			if len(t.pending) < 1000 {
				t.pending = append(t.pending, maskedSecret)
			}
			t.st.Command = ""
			t.emit(explorer.ClientToServer, maskedSecret, false)
			return
		}
		t.afterAuth = false
	}
	if len(t.pending) < 1000 {
		t.pending = append(t.pending, verb)
	}
	t.st.Command = verb
	switch verb {
	case "EHLO", "HELO":
		t.ehlo = verb == "EHLO"
	case "AUTH":
		mech, ir := firstWord(rest)
		hasIR := strings.TrimSpace(ir) != ""
		t.afterAuth = true
		if !saslMechName(mech) {
			// Not a mechanism name: perhaps the credentials themselves.
			t.st.AuthMech, t.authLeft = "", 0
			if mech != "" {
				line = word + " " + maskedSecret
			}
			break
		}
		t.st.AuthMech = strings.ToUpper(mech)
		t.authLeft = saslLines(t.st.AuthMech, hasIR)
		if hasIR {
			line = word + " " + mech + " " + maskedSecret
		}
	case "DATA":
		t.mode = modeData
		t.dataLines, t.dataOctets, t.hidden, t.bareLF = 0, 0, 0, 0
		t.lineStart = true
	case "BDAT":
		f := strings.Fields(rest)
		if len(f) >= 1 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n >= 0 {
				t.bdatLast = len(f) >= 2 && strings.EqualFold(f[1], "LAST")
				t.bdatTotal, t.bdatLeft = n, n
				if n > 0 {
					t.mode = modeBDAT
				}
				t.st.Phase = explorer.PhaseData
			}
		}
	}
	t.emit(explorer.ClientToServer, line, false)
}
