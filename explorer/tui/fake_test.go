package tui

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"

	"postlab/explorer"
)

// fakeSession is a scripted SMTP/POP3 server conversation for screen tests
// that do not need the real lab.
type fakeSession struct {
	mu     sync.Mutex
	st     explorer.State
	caps   []string
	emit   func(explorer.Event)
	closed bool
	slow   chan struct{} // when set, SendLine waits for it or ctx
	sasl   int           // SASL answers still expected after a challenge
	// when set, SendLine waits for it after the reply: the moment the
	// reply shows but the app has not yet heard that the send ended
	after chan struct{}
}

func fakeDialer(fs **fakeSession) Dialer {
	return func(ctx context.Context, t Target, events func(explorer.Event)) (Session, error) {
		s := &fakeSession{st: explorer.State{Proto: t.Proto, Phase: explorer.PhaseGreeted}, emit: events}
		if fs != nil {
			*fs = s
		}
		if t.Proto == explorer.POP3 {
			s.st.Phase = explorer.PhaseAuthz
			s.out("+OK POP3 ready <1.2@postlab.test>")
		} else {
			s.out("220 mail.postlab.test ESMTP [fake]")
		}
		return s, nil
	}
}

func (s *fakeSession) out(line string) {
	s.emit(explorer.Event{Time: time.Now(), Dir: explorer.ServerToClient, Line: line, State: s.st})
}

func (s *fakeSession) SendLine(ctx context.Context, line string) error {
	if s.slow != nil {
		select {
		case <-s.slow:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.after != nil {
		defer func() {
			select {
			case <-s.after:
			case <-ctx.Done():
			}
		}()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit(explorer.Event{Time: time.Now(), Dir: explorer.ClientToServer, Line: line, State: s.st})
	verb := strings.ToUpper(strings.Fields(line + " x")[0])
	if s.sasl > 0 { // an answer to a challenge (RFC 4954 §4, RFC 5034 §4)
		s.sasl--
		switch {
		case s.sasl > 0:
			s.out("334 UGFzc3dvcmQ6")
		case s.st.Proto == explorer.POP3:
			s.st.Phase = explorer.PhaseTrans
			s.out("+OK maildrop locked")
		default:
			s.out("235 2.7.0 Authentication successful")
		}
		return nil
	}
	if s.st.Proto == explorer.POP3 {
		switch verb {
		case "APOP":
			s.st.Phase = explorer.PhaseTrans
			s.out("+OK maildrop locked")
		case "AUTH": // without an initial response: one answer
			if len(strings.Fields(line)) != 2 {
				s.out("-ERR unknown command")
				break
			}
			s.sasl = 1
			s.out("+ ")
		case "USER":
			s.out("+OK send PASS")
		case "PASS":
			s.st.Phase = explorer.PhaseTrans
			s.out("+OK maildrop locked")
		case "LIST":
			s.out("+OK 1 messages")
			s.out("1 120")
			s.out(".")
		case "RETR":
			s.out("+OK 120 octets")
			s.out("Subject: hi")
			s.out("")
			s.out("hello [bob]")
			s.out(".")
		case "QUIT":
			s.st.Phase = explorer.PhaseClosed
			s.out("+OK bye")
		default:
			s.out("-ERR unknown command")
		}
		return nil
	}
	if s.st.Phase == explorer.PhaseData {
		if line == "." {
			s.st.Phase = explorer.PhaseReady
			s.out("250 2.0.0 OK: queued")
		}
		return nil
	}
	switch verb {
	case "EHLO":
		s.st.Phase = explorer.PhaseReady
		s.caps = []string{"PIPELINING", "8BITMIME", "STARTTLS"}
		s.out("250-mail.postlab.test Hello " + strings.TrimPrefix(line, "EHLO "))
		s.out("250-PIPELINING")
		s.out("250 STARTTLS")
	case "AUTH": // LOGIN: user name, then password
		if !strings.EqualFold(strings.TrimSpace(line), "AUTH LOGIN") {
			s.out("500 5.5.2 unknown command")
			break
		}
		s.sasl = 2
		s.out("334 VXNlcm5hbWU6")
	case "MAIL":
		s.st.Phase = explorer.PhaseMail
		s.out("250 2.1.0 Sender OK")
	case "RCPT":
		s.st.Phase = explorer.PhaseRcpt
		s.out("250 2.1.5 Recipient OK")
	case "DATA":
		s.st.Phase = explorer.PhaseData
		s.out("354 Go ahead")
	case "QUIT":
		s.st.Phase = explorer.PhaseClosed
		s.out("221 2.0.0 Bye")
	default:
		s.out("500 5.5.2 unknown command")
	}
	return nil
}

func (s *fakeSession) State() explorer.State { s.mu.Lock(); defer s.mu.Unlock(); return s.st }
func (s *fakeSession) Caps() []string        { s.mu.Lock(); defer s.mu.Unlock(); return s.caps }
func (s *fakeSession) Close() error          { s.mu.Lock(); s.closed = true; s.mu.Unlock(); return nil }

// fakeAnnotate explains a few lines, enough to check the note pane.
func fakeAnnotate(ev explorer.Event) []explorer.Note {
	f := strings.Fields(ev.Line + " x")[0]
	switch {
	case strings.HasPrefix(f, "250"):
		return []explorer.Note{{Title: "250: requested action completed", Detail: "The server accepted the command.", Ref: "RFC 5321 §4.2.2"}}
	case strings.HasPrefix(f, "354"):
		return []explorer.Note{{Title: "354: start mail input", Detail: "Send the message, end with a line holding a single dot.", Ref: "RFC 5321 §4.1.1.4"}}
	case strings.EqualFold(f, "EHLO"):
		return []explorer.Note{{Title: "EHLO: extended hello", Detail: "The client names itself and asks for the extensions.", Ref: "RFC 5321 §4.1.1.1"}}
	}
	return nil
}

// fakeLab is an in-memory lab.
type fakeLab struct {
	store  *fakeStore
	traces *fakeTraces
	mu     sync.Mutex
	closed bool
}

func newFakeLab() *fakeLab {
	return &fakeLab{
		store:  &fakeStore{boxes: map[string][]MessageSummary{"alice": nil, "bob": nil, "outbox": nil}, raw: map[string][]byte{}, subs: map[int]func(string, string){}},
		traces: &fakeTraces{subs: map[int]func(ServerLine){}},
	}
}

func (l *fakeLab) Addr(name string) string {
	return map[string]string{"smtp": "127.0.0.1:2525", "pop3": "127.0.0.1:2110", "submission": "127.0.0.1:2587"}[name]
}
func (l *fakeLab) CertPool() *x509.CertPool { return x509.NewCertPool() }
func (l *fakeLab) Mailboxes() MailboxSource { return l.store }
func (l *fakeLab) Traces() TraceSource      { return l.traces }
func (l *fakeLab) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

type fakeStore struct {
	mu    sync.Mutex
	boxes map[string][]MessageSummary
	raw   map[string][]byte
	subs  map[int]func(string, string)
	n     int
}

func (l *fakeStore) deliver(box, from, subject, body string) {
	l.mu.Lock()
	l.n++
	id := fmt.Sprintf("m%d", l.n)
	raw := fmt.Sprintf("From: %s\r\nTo: %s@postlab.test\r\nSubject: %s\r\n\r\n%s\r\n", from, box, subject, body)
	l.boxes[box] = append(l.boxes[box], MessageSummary{ID: id, From: from, To: box + "@postlab.test", Subject: subject, Size: int64(len(raw))})
	l.raw[box+"/"+id] = []byte(raw)
	var subs []func(string, string)
	for _, f := range l.subs {
		subs = append(subs, f)
	}
	l.mu.Unlock()
	for _, f := range subs {
		f(box, id)
	}
}

func (l *fakeStore) Mailboxes() []string { return []string{"alice", "bob", "outbox"} }
func (l *fakeStore) List(box string) ([]MessageSummary, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]MessageSummary(nil), l.boxes[box]...), nil
}
func (l *fakeStore) Raw(box, id string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raw[box+"/"+id], nil
}
func (l *fakeStore) Subscribe(fn func(string, string)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	id := l.n
	l.subs[id] = fn
	return func() { l.mu.Lock(); delete(l.subs, id); l.mu.Unlock() }
}

type fakeTraces struct {
	mu     sync.Mutex
	recent []ServerLine
	subs   map[int]func(ServerLine)
	n      int
}

func (t *fakeTraces) emit(line ServerLine) {
	t.mu.Lock()
	t.recent = append(t.recent, line)
	var subs []func(ServerLine)
	for _, f := range t.subs {
		subs = append(subs, f)
	}
	t.mu.Unlock()
	for _, f := range subs {
		f(line)
	}
}
func (t *fakeTraces) Recent(n int) []ServerLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]ServerLine(nil), t.recent...)
}
func (t *fakeTraces) Subscribe(fn func(ServerLine)) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	id := t.n
	t.subs[id] = fn
	return func() { t.mu.Lock(); delete(t.subs, id); t.mu.Unlock() }
}
