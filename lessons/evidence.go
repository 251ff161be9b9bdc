package lessons

import (
	"strconv"
	"strings"

	"postlab/explorer"
)

// Source says who recorded a piece of evidence.
type Source string

const (
	FromClient Source = "client" // the student's own session in the app
	FromServer Source = "server" // the lab's server-side trace (any client: the app, swaks, Thunderbird...)
	FromDNS    Source = "dns"    // the lab's DNS server
)

// Evidence is one observation the checks look at: a trace line of a
// session (client or server side) or a DNS query the lab answered.
type Evidence struct {
	Source   Source
	Session  string // one connection; unique per Source
	Listener string // lab listener name when known ("smtp", "submission", "pop3"...)
	Event    explorer.Event
	DNS      *DNSQuery // set when Source is FromDNS
}

// DNSQuery is one question the lab's DNS server answered.
type DNSQuery struct {
	Name  string // owner name, e.g. "postlab.test" (a trailing dot is ignored)
	Type  string // "MX", "TXT", ...
	Rcode string // "NOERROR", "NXDOMAIN", ...
}

// Message is what a mailbox check sees of one stored message.
type Message struct {
	ID, From, To, Subject string
	Seen                  bool
}

// Mailboxes is the lab's mail store as the checks see it.
type Mailboxes interface {
	Messages(user string) ([]Message, error)
}

// exchange is one client line that expects a reply, with its reply; or a
// reply nobody asked for (the greeting), with an empty verb.
type exchange struct {
	seq      int
	verb     string // upper case; "." ends DATA; "" for a greeting
	line     string
	sasl     bool // a SASL response inside AUTH
	content  bool // a line of message content (no reply expected)
	body     bool // content after the header section (RFC 5322 §2.1)
	tls      bool
	authed   bool
	replySeq int // -1 until answered
	code     int // SMTP reply code
	status   string
	text     string // the reply, all lines joined by a space
}

func (e *exchange) answered() bool { return e.replySeq >= 0 }

type noteEv struct {
	seq   int
	line  string
	err   bool
	phase explorer.Phase
}

// session follows one connection's lines and pairs commands with replies
// in order (RFC 5321 §4.2: replies come in command order, also when
// pipelined, RFC 2920 §3; RFC 1939 §3 for POP3).
type session struct {
	source   Source
	key      string
	listener string
	proto    explorer.Protocol
	ex       []*exchange
	pending  []*exchange
	notes    []noteEv
	partial  []string  // lines of an SMTP multi-line reply so far
	auth     *exchange // the AUTH command of an open SASL exchange
	inData   bool
	inBody   bool // past the empty line that ends the header section
	content  int  // content lines kept in this session
	inSASL   bool
	quit     bool
	closed   int // seq of the end of the connection, or -1
	last     int // seq of the latest line
	first    int
}

func newSession(ev Evidence, seq int) *session {
	s := &session{source: ev.Source, key: ev.Session, listener: ev.Listener, closed: -1, first: seq}
	return s
}

func (s *session) isPOP3() bool {
	if s.proto != "" {
		return s.proto == explorer.POP3
	}
	return s.listener == "pop3" || s.listener == "pop3s"
}

func (s *session) add(ev explorer.Event, seq int) {
	if ev.State.Proto != "" && s.proto == "" {
		s.proto = ev.State.Proto
	}
	s.last = seq
	switch ev.Dir {
	case explorer.Local:
		s.notes = append(s.notes, noteEv{seq: seq, line: ev.Line, err: ev.Err, phase: ev.State.Phase})
		if len(s.notes) > maxExchanges {
			s.notes = append([]noteEv(nil), s.notes[maxExchanges/2:]...)
		}
		if ev.State.Phase == explorer.PhaseClosed || ev.Line == "connection closed" {
			if s.closed < 0 {
				s.closed = seq
			}
		}
	case explorer.ClientToServer:
		s.client(ev, seq)
	case explorer.ServerToClient:
		s.server(ev, seq)
	}
}

func (s *session) client(ev explorer.Event, seq int) {
	e := &exchange{seq: seq, line: ev.Line, tls: ev.TLS || ev.State.TLS, authed: ev.State.Authed, replySeq: -1}
	switch {
	case s.inData && ev.Line == ".":
		s.inData = false
		e.verb = "."
	case s.inData:
		// keep the header section and the start of the body: checks look
		// at header fields, and a big message must not grow memory
		if s.content < maxContentLines {
			s.content++
			e.content, e.body = true, s.inBody
			s.ex = append(s.ex, e)
		}
		if ev.Line == "" {
			s.inBody = true
		}
		return
	case s.inSASL:
		e.sasl = true
	default:
		verb, _, _ := strings.Cut(strings.TrimSpace(ev.Line), " ")
		e.verb = strings.ToUpper(verb)
		if e.verb == "QUIT" {
			s.quit = true
		}
	}
	s.ex = append(s.ex, e)
	if len(s.ex) > maxExchanges {
		s.ex = append([]*exchange(nil), s.ex[maxExchanges/2:]...)
	}
	s.pending = append(s.pending, e)
	if len(s.pending) > 1000 {
		s.pending = s.pending[1:] // a server that never answers: keep memory bounded
	}
}

func (s *session) server(ev explorer.Event, seq int) {
	line := ev.Line
	if s.isPOP3() {
		if ev.State.Multi {
			return
		}
		var status string
		switch {
		case strings.HasPrefix(line, "+OK"):
			status = "+OK"
		case strings.HasPrefix(line, "-ERR"):
			status = "-ERR"
		case strings.HasPrefix(line, "+"):
			status = "+"
		default:
			return
		}
		s.inSASL = status == "+"
		s.answer(seq, 0, status, line)
		return
	}
	if len(line) < 3 {
		return
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || code < 100 || code > 599 {
		return
	}
	if len(line) > 3 && line[3] == '-' {
		if len(s.partial) < 200 {
			s.partial = append(s.partial, strings.TrimSpace(line[4:]))
		}
		return
	}
	text := strings.Join(append(s.partial, strings.TrimSpace(line[min(len(line), 4):])), " ")
	s.partial = nil
	s.inSASL = code == 334
	e := s.answer(seq, code, strconv.Itoa(code), text)
	if code == 354 && e != nil && e.verb == "DATA" {
		s.inData, s.inBody, s.content = true, false, 0
	}
}

// answer pairs a reply with the oldest command still waiting for one.
func (s *session) answer(seq, code int, status, text string) *exchange {
	var e *exchange
	if len(s.pending) > 0 {
		e = s.pending[0]
		s.pending = s.pending[1:]
	} else {
		e = &exchange{seq: seq}
		s.ex = append(s.ex, e)
	}
	e.replySeq, e.code, e.status, e.text = seq, code, status, text
	// The outcome of a SASL exchange (RFC 4954 §4, RFC 5034 §4) is the
	// reply to its last response: record it on the AUTH command too, so
	// that "AUTH answered 235" holds for multi-step mechanisms like LOGIN.
	switch {
	case e.verb == "AUTH":
		s.auth = e
	case e.sasl && s.auth != nil:
		s.auth.replySeq, s.auth.code, s.auth.status, s.auth.text = seq, code, status, text
	}
	if code != 334 && status != "+" {
		s.auth = nil
	}
	return e
}

// enhanced returns the RFC 3463 enhanced status code at the start of a reply text.
func enhancedOf(text string) string {
	f, _, _ := strings.Cut(text, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 {
		return ""
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return ""
		}
	}
	return f
}

const (
	maxContentLines = 500
	maxExchanges    = 20000 // per session; older ones are forgotten
)

// tracker holds every session and DNS query seen, in arrival order.
type tracker struct {
	seq      int
	sessions map[string]*session
	order    []*session
	dns      []dnsEv
}

type dnsEv struct {
	seq int
	q   DNSQuery
}

// maxSessions bounds memory over a long classroom day: old sessions go.
const maxSessions = 2000

func newTracker() *tracker { return &tracker{sessions: map[string]*session{}} }

// add records ev and returns the session it belongs to (nil for DNS).
func (t *tracker) add(ev Evidence) *session {
	t.seq++
	if ev.Source == FromDNS || ev.DNS != nil {
		if ev.DNS != nil {
			t.dns = append(t.dns, dnsEv{seq: t.seq, q: *ev.DNS})
			if len(t.dns) > 10000 {
				t.dns = t.dns[len(t.dns)-5000:]
			}
		}
		return nil
	}
	k := string(ev.Source) + "/" + ev.Session
	s := t.sessions[k]
	if s == nil {
		s = newSession(ev, t.seq)
		t.sessions[k] = s
		t.order = append(t.order, s)
		if len(t.order) > maxSessions {
			old := t.order[0]
			delete(t.sessions, string(old.source)+"/"+old.key)
			t.order = t.order[1:]
		}
	}
	if s.listener == "" {
		s.listener = ev.Listener
	}
	s.add(ev.Event, t.seq)
	return s
}
