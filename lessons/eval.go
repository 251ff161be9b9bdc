package lessons

import (
	"slices"
	"strconv"
	"strings"
)

// evalEnv is what a check is evaluated against.
type evalEnv struct {
	t       *tracker
	since   int // only evidence after this sequence number counts
	boxes   Mailboxes
	answers map[string]string // answer id -> given answer (normalised)
	// only, when set, is the one session that changed: evidence only ever
	// grows, so sessions that did not change cannot make a check pass now.
	only *session
	// dnsOnly: only a DNS query arrived
	dnsOnly bool
	// noState skips the mailbox checks (which read the store) for a line
	// that cannot change it: a client line or a line inside a response.
	noState bool
}

// eval reports whether c holds now.
func (c *Check) eval(env *evalEnv) bool {
	switch c.Kind {
	case KindSent, KindReply:
		return c.anySession(env, func(s *session) bool {
			for _, e := range s.ex {
				if e.seq > env.since && !e.content && c.exchangeMatches(e) {
					return true
				}
				// a reply that arrived after the step began counts too
				if e.replySeq > env.since && e.seq <= env.since && !e.content && c.exchangeMatches(e) {
					return true
				}
			}
			return false
		})
	case KindSequence:
		return c.anySession(env, func(s *session) bool { return c.sequenceIn(s, env.since) })
	case KindContent:
		return c.anySession(env, func(s *session) bool {
			for _, e := range s.ex {
				if e.seq > env.since && e.content && c.contentMatches(e) {
					return true
				}
			}
			return false
		})
	case KindNote:
		return c.anySession(env, func(s *session) bool {
			for _, n := range s.notes {
				if n.seq > env.since && c.text.MatchString(n.line) && (c.errOnly == "" || (c.errOnly == "yes") == n.err) {
					return true
				}
			}
			return false
		})
	case KindMailbox:
		return !env.noState && c.mailboxHolds(env)
	case KindDeleKept:
		return !env.noState && c.deleKept(env)
	case KindDNS:
		for _, d := range env.t.dns {
			if d.seq > env.since && strings.EqualFold(d.q.Type, c.dnsType) && normName(d.q.Name) == c.dnsName &&
				(c.rcode == "" || strings.EqualFold(d.q.Rcode, c.rcode)) {
				return true
			}
		}
		return false
	case KindAnswer:
		got, ok := env.answers[c.ID]
		return ok && c.Correct(got)
	}
	return false
}

// Correct reports whether answer is right for an answer check. For a
// multiple-choice question the answer is the choice's number (1-based),
// its letter or its text.
func (c *Check) Correct(answer string) bool {
	a := normAnswer(answer)
	if a == "" {
		return false
	}
	if len(c.Choices) > 0 {
		i := choiceIndex(a, len(c.Choices))
		if i < 0 {
			for j, ch := range c.Choices {
				if normAnswer(ch) == a {
					i = j
				}
			}
		}
		if i < 0 {
			return false
		}
		a = strconv.Itoa(i + 1)
	}
	for _, e := range c.expect {
		if e == a {
			return true
		}
	}
	return false
}

// anySession runs f over sessions that passed the check's filters and
// saw something after since.
func (c *Check) anySession(env *evalEnv, f func(*session) bool) bool {
	if env.dnsOnly {
		return false
	}
	sessions := env.t.order
	if env.only != nil {
		sessions = []*session{env.only}
	}
	for _, s := range sessions {
		if s.last <= env.since {
			continue
		}
		if c.source != "" && s.source != c.source {
			continue
		}
		if c.proto != "" {
			p := string(s.proto)
			if p == "" {
				p = "smtp"
				if s.isPOP3() {
					p = "pop3"
				}
			}
			if p != c.proto {
				continue
			}
		}
		if c.listener != nil {
			ok := false
			for _, l := range c.listener {
				ok = ok || l == s.listener
			}
			if !ok {
				continue
			}
		}
		if f(s) {
			return true
		}
	}
	return false
}

func (c *Check) exchangeMatches(e *exchange) bool {
	if e.sasl {
		return false
	}
	if c.command != nil {
		ok := false
		for _, v := range c.command {
			ok = ok || v == e.verb || (v == "GREETING" && e.verb == "" && e.line == "")
		}
		if !ok {
			return false
		}
	}
	if c.line != nil && (e.line == "" || !c.line.MatchString(e.line)) {
		return false
	}
	if c.tls != "" && (c.tls == "yes") != e.tls {
		return false
	}
	if c.authed != "" && (c.authed == "yes") != e.authed {
		return false
	}
	if !replyMatches(c.reply, e) {
		return false
	}
	if c.enhanced != "" && !enhancedMatches(c.enhanced, e.text) {
		return false
	}
	if c.text != nil && (!e.answered() || !c.text.MatchString(e.text)) {
		return false
	}
	return true
}

func (c *Check) contentMatches(e *exchange) bool {
	line := e.line
	if c.header != "" {
		if e.body {
			return false
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), c.header) {
			return false
		}
		return c.line.MatchString(strings.TrimSpace(value))
	}
	return c.line.MatchString(line)
}

// sequenceIn finds the items in order in one session, the last one after since.
func (c *Check) sequenceIn(s *session, since int) bool {
	i := 0
	for _, e := range s.ex {
		if e.content || e.sasl {
			continue
		}
		it := c.items[i]
		if !slices.Contains(it.verbs, e.verb) || !replyMatches(it.reply, e) {
			continue
		}
		if c.tls != "" && (c.tls == "yes") != e.tls && i == len(c.items)-1 {
			continue
		}
		i++
		if i == len(c.items) {
			return e.seq > since || e.replySeq > since
		}
	}
	return false
}

func (c *Check) mailboxHolds(env *evalEnv) bool {
	if env.boxes == nil {
		return false
	}
	msgs, err := env.boxes.Messages(c.user)
	if err != nil {
		return false
	}
	n := 0
	for _, m := range msgs {
		if c.subject != nil && !c.subject.MatchString(m.Subject) {
			continue
		}
		if c.from != nil && !c.from.MatchString(m.From) {
			continue
		}
		if c.seen != "" && (c.seen == "yes") != m.Seen {
			continue
		}
		n++
	}
	if c.min >= 0 && n < c.min {
		return false
	}
	if c.max >= 0 && n > c.max {
		return false
	}
	return true
}

// deleKept: a POP3 session had a DELE accepted, ended without QUIT
// (so it never entered the UPDATE state, RFC 1939 §6), and the mailbox
// still holds the mail.
func (c *Check) deleKept(env *evalEnv) bool {
	found := false
	for _, s := range env.t.order {
		if env.dnsOnly || (env.only != nil && s != env.only) {
			continue
		}
		if s.closed <= env.since || !s.isPOP3() || s.quit {
			continue
		}
		for _, e := range s.ex {
			if e.verb == "DELE" && e.status == "+OK" {
				found = true
			}
		}
		if found {
			break
		}
	}
	if !found {
		return false
	}
	mb := *c
	mb.Kind, mb.from, mb.seen, mb.max = KindMailbox, nil, "", -1
	return mb.mailboxHolds(env)
}
