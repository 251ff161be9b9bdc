package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"postlab/explorer"
	"postlab/explorer/annotate"
	"postlab/explorer/lab"
)

// ExplorerDialer dials real sessions with package explorer; helo is the
// name sent in the EHLO that precedes STARTTLS.
func ExplorerDialer(helo string) Dialer {
	return func(ctx context.Context, t Target, events func(explorer.Event)) (Session, error) {
		sec := explorer.Plain
		switch t.Security {
		case TLS:
			sec = explorer.ImplicitTLS
		case StartTLS:
			sec = explorer.StartTLS
		}
		c, err := explorer.Dial(ctx, t.Proto, explorer.Options{Addr: t.Addr(), Security: sec, RootCAs: t.RootCAs, Helo: helo, OnEvent: events})
		if c == nil {
			return nil, err
		}
		// A refused greeting or STARTTLS still leaves a session to look at.
		return conversation{c}, err
	}
}

type conversation struct{ explorer.Conversation }

func (c conversation) SendLine(ctx context.Context, line string) error {
	return c.Conversation.Line(ctx, line)
}

// AnnotateSuggest is annotate.Suggest with the built-in palette as a
// fallback for states it has nothing for.
func AnnotateSuggest(st explorer.State, caps []string) []Suggestion {
	var out []Suggestion
	for _, s := range annotate.Suggest(st, caps) {
		out = append(out, Suggestion{Command: s.Command, Why: s.Why})
	}
	if len(out) == 0 {
		return FallbackSuggest(st, caps)
	}
	return out
}

// realLab adapts *lab.Lab.
type realLab struct{ l *lab.Lab }

// WrapLab makes a running lab usable by the app.
func WrapLab(l *lab.Lab) Lab { return realLab{l} }

func (r realLab) Addr(name string) string {
	a := r.l.Addr(name)
	if a == lab.Off {
		return ""
	}
	return a
}
func (r realLab) CertPool() *x509.CertPool        { return r.l.CertPool() }
func (r realLab) Mailboxes() MailboxSource        { return labStore{r.l.Store()} }
func (r realLab) Traces() TraceSource             { return labTraces{r.l.Traces()} }
func (r realLab) Close(ctx context.Context) error { return r.l.Close(ctx) }

type labStore struct{ s *lab.Store }

func (s labStore) Mailboxes() []string { return s.s.Mailboxes() }
func (s labStore) List(mb string) ([]MessageSummary, error) {
	ms, err := s.s.List(mb)
	out := make([]MessageSummary, 0, len(ms))
	for _, m := range ms {
		to := m.To
		if len(m.EnvelopeTo) > 0 {
			to = strings.Join(m.EnvelopeTo, ", ")
		}
		out = append(out, MessageSummary{ID: m.ID, From: m.From, To: to, Subject: m.Subject, Date: m.Date, Size: m.Size, Seen: m.Seen})
	}
	return out, err
}
func (s labStore) Raw(mb, id string) ([]byte, error) { return s.s.Raw(mb, id) }
func (s labStore) Subscribe(fn func(mailbox, id string)) func() {
	return s.s.Subscribe(fn)
}

type labTraces struct{ h *lab.TraceHub }

func serverLine(ev lab.ServerEvent) ServerLine {
	return ServerLine{Session: ev.Session, Listener: ev.Listener, Remote: ev.Remote, Event: ev.Event}
}

func (t labTraces) Subscribe(fn func(ServerLine)) func() {
	return t.h.Subscribe(func(ev lab.ServerEvent) { fn(serverLine(ev)) })
}
func (t labTraces) Recent(n int) []ServerLine {
	evs := t.h.Recent(n)
	out := make([]ServerLine, len(evs))
	for i, ev := range evs {
		out[i] = serverLine(ev)
	}
	return out
}

// StartLabWith starts the real lab with cfg; asked for free ports, every
// listener that is not off moves to 127.0.0.1:0. A taken port is reported
// as ErrPortTaken so the app can offer that.
func StartLabWith(cfg lab.Config) LabStarter {
	return func(free bool) (Lab, error) {
		c := cfg
		if free {
			for _, p := range []*string{&c.SMTP, &c.Submission, &c.Submissions, &c.POP3, &c.POP3S, &c.DNS} {
				if *p != lab.Off {
					*p = "127.0.0.1:0"
				}
			}
		}
		l, err := lab.Start(c)
		if err != nil {
			var inUse *lab.AddrInUseError
			if errors.As(err, &inUse) {
				return nil, fmt.Errorf("%w: %s (%s)", ErrPortTaken, inUse.Addr, inUse.Flag)
			}
			return nil, err
		}
		return WrapLab(l), nil
	}
}
