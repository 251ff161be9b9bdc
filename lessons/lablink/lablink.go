// Package lablink connects the lessons runner to a running lab: it turns
// the lab's server-side traces (SMTP per RFC 5321, POP3 per RFC 1939) and
// its DNS queries into lessons.Evidence, gives the checks the lab's mail
// store, and implements lessons.LabControl (empty a mailbox, deliver a
// practice message, switch fault scenarios) on top of the lab.
//
// The app uses it like this:
//
//	m.SetLab(lablink.Mailboxes(l), lablink.Control(l))
//	r, _ := m.Open(id)
//	stop := lablink.Feed(r, l)                        // server side, any client
//	opts.OnEvent = lablink.SessionObserver(r, "smtp") // the app's own session
package lablink

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/lessons"
)

// SeedHelo is the EHLO name of the deliveries a lesson reset makes; Feed
// leaves those sessions out, so that they never satisfy a student's check.
const SeedHelo = "lesson-reset.postlab.invalid"

// Feed passes every server-side trace event and DNS query of l to r, and
// re-evaluates r when mail arrives. cancel stops it.
func Feed(r *lessons.Runner, l *lab.Lab) (cancel func()) {
	f := newSeedFilter()
	c1 := l.Traces().Subscribe(func(ev lab.ServerEvent) {
		if !f.keep(ev) {
			return
		}
		if e, ok := ServerEvidence(ev); ok {
			r.Observe(e)
		}
	})
	c2 := l.Store().Subscribe(func(string, string) { r.Refresh() })
	return func() { c1(); c2() }
}

// seedFilter drops the sessions of reset deliveries from their EHLO on.
type seedFilter struct {
	mu      sync.Mutex
	ignored map[uint64]bool
}

func newSeedFilter() *seedFilter { return &seedFilter{ignored: map[uint64]bool{}} }

func (f *seedFilter) keep(ev lab.ServerEvent) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Dir == explorer.ClientToServer && strings.EqualFold(ev.Line, "EHLO "+SeedHelo) {
		f.ignored[ev.Session] = true
	}
	skip := f.ignored[ev.Session]
	if skip && ev.State.Phase == explorer.PhaseClosed {
		delete(f.ignored, ev.Session)
	}
	return !skip
}

// ServerEvidence converts one lab trace event; DNS events become queries.
func ServerEvidence(ev lab.ServerEvent) (lessons.Evidence, bool) {
	if ev.Listener == lab.ListenerDNS {
		q, ok := ParseDNSLine(ev.Line)
		if !ok {
			return lessons.Evidence{}, false
		}
		return lessons.Evidence{Source: lessons.FromDNS, Session: strconv.FormatUint(ev.Session, 10), Listener: ev.Listener, DNS: &q}, true
	}
	return lessons.Evidence{Source: lessons.FromServer, Session: strconv.FormatUint(ev.Session, 10), Listener: ev.Listener, Event: ev.Event}, true
}

// ParseDNSLine reads the lab's DNS trace line "NAME CLASS TYPE -> RCODE".
func ParseDNSLine(line string) (lessons.DNSQuery, bool) {
	f := strings.Fields(line)
	if len(f) != 5 || f[3] != "->" {
		return lessons.DNSQuery{}, false
	}
	return lessons.DNSQuery{Name: f[0], Type: strings.ToUpper(f[2]), Rcode: strings.ToUpper(f[4])}, true
}

var clientSessions atomic.Uint64

// SessionObserver returns a function for explorer.Options.OnEvent that
// passes one client session's events to r as a session of its own.
// listener names the lab listener it talks to ("" when unknown; see
// ListenerFor).
func SessionObserver(r *lessons.Runner, listener string) func(explorer.Event) {
	key := "c" + strconv.FormatUint(clientSessions.Add(1), 10)
	return func(ev explorer.Event) {
		r.Observe(lessons.Evidence{Source: lessons.FromClient, Session: key, Listener: listener, Event: ev})
	}
}

// ListenerFor names the lab listener at addr ("" when it is none of them).
func ListenerFor(l *lab.Lab, addr string) string {
	for _, n := range []string{lab.ListenerSMTP, lab.ListenerSubmission, lab.ListenerSubmissions, lab.ListenerPOP3, lab.ListenerPOP3S} {
		if a := l.Addr(n); a != "" && a == addr {
			return n
		}
	}
	return ""
}

// Mailboxes is the lab's store as lessons checks see it.
func Mailboxes(l *lab.Lab) lessons.Mailboxes { return storeBoxes{l.Store()} }

type storeBoxes struct{ s *lab.Store }

func (b storeBoxes) Messages(user string) ([]lessons.Message, error) {
	list, err := b.s.List(user)
	if err != nil {
		return nil, err
	}
	out := make([]lessons.Message, len(list))
	for i, m := range list {
		out[i] = lessons.Message{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject, Seen: m.Seen}
	}
	return out, nil
}

// Control implements lessons.LabControl on a lab. Fault scenarios and DNS
// faults work when the lab offers SetScenario(string) error and
// SetDNSFaults([]string) error; until then they report ErrUnsupported.
func Control(l *lab.Lab) lessons.LabControl { return &control{l: l} }

type control struct{ l *lab.Lab }

func (c *control) ResetMailbox(_ context.Context, user string) error {
	list, err := c.l.Store().List(user)
	if err != nil {
		return err
	}
	for _, m := range list {
		if err := c.l.Store().Delete(user, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// Deliver sends the practice message through the lab's MX port, so that
// it gets the same Return-Path and Received fields as any other mail.
func (c *control) Deliver(ctx context.Context, user, subject string) error {
	addr := c.l.Addr(lab.ListenerSMTP)
	if addr == "" {
		return fmt.Errorf("the lab's SMTP listener is off")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := explorer.DialSMTP(ctx, explorer.Options{Addr: addr, Helo: SeedHelo})
	if err != nil {
		return err
	}
	defer s.Close()
	domain := c.l.Domain()
	if _, err := s.Ehlo(ctx, SeedHelo); err != nil {
		return err
	}
	if _, err := s.Mail(ctx, "postmaster@"+domain); err != nil {
		return err
	}
	if _, err := s.Rcpt(ctx, user+"@"+domain); err != nil {
		return err
	}
	msg := "From: postlab lessons <postmaster@" + domain + ">\r\n" +
		"To: " + user + "@" + domain + "\r\n" +
		"Subject: " + strings.Map(noCtl, subject) + "\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".lesson@" + domain + ">\r\n" +
		"\r\n" +
		"This message was delivered by a lesson's reset so that you have mail to practise on.\r\n"
	if _, err := s.Data(ctx, []byte(msg)); err != nil {
		return err
	}
	s.Quit(ctx)
	return nil
}

func noCtl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return ' '
	}
	return r
}

func (c *control) SetScenario(_ context.Context, name string) error {
	if s, ok := any(c.l).(interface{ SetScenario(string) error }); ok {
		return s.SetScenario(name)
	}
	return lessons.ErrUnsupported
}

func (c *control) SetDNSFaults(_ context.Context, names []string) error {
	if s, ok := any(c.l).(interface{ SetDNSFaults([]string) error }); ok {
		return s.SetDNSFaults(names)
	}
	return lessons.ErrUnsupported
}
