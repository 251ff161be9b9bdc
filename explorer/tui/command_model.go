package tui

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"postlab/explorer"
)

// CommandModel is the state of the Session screen's command line: the
// history of typed lines and the commands that make sense next.
type CommandModel struct {
	history []string
	pos     int    // index into history while browsing; len(history) = the new line
	draft   string // what was typed before browsing started
	max     int
	suggest Suggester
	fill    func(string) string // turns a suggestion's placeholders into values
	pop     pop3Facts
	// submission: the target is a message submission port (RFC 6409),
	// where MAIL waits for AUTH when the server offers it.
	submission atomic.Bool
}

// SetSubmission says whether the session's target is a submission port.
func (c *CommandModel) SetSubmission(on bool) { c.submission.Store(on) }

// pop3Facts is what a POP3 session's replies told that its State does not
// say: the messages marked deleted (RFC 1939 §5 DELE, until RSET) and
// whether a USER was accepted (then only PASS or QUIT may follow, §7).
type pop3Facts struct {
	mu      sync.Mutex
	deleted map[int]bool
	count   int    // messages in the maildrop as STAT said
	counted bool   // count is known
	userOK  bool   // USER got +OK and nothing was answered since
	verb    string // the command awaiting its reply
	arg     string
}

// Reset forgets what a previous connection's replies told.
func (c *CommandModel) Reset() {
	f := &c.pop
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted, f.count, f.counted, f.userOK, f.verb, f.arg = nil, 0, false, false, "", ""
}

// Observe reads a trace event (any goroutine): a command, then the first
// line of its reply.
func (c *CommandModel) Observe(ev explorer.Event) {
	f := &c.pop
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.Dir {
	case explorer.ClientToServer:
		w := strings.Fields(ev.Line)
		f.verb, f.arg = "", ""
		if len(w) > 0 {
			f.verb = strings.ToUpper(w[0])
		}
		if len(w) > 1 {
			f.arg = w[1]
		}
	case explorer.ServerToClient:
		if f.verb == "" {
			return // a greeting, or a multi-line response's later lines
		}
		ok := strings.HasPrefix(ev.Line, "+OK")
		f.userOK = ok && f.verb == "USER"
		switch {
		case ok && f.verb == "DELE":
			if n, err := strconv.Atoi(f.arg); err == nil {
				if f.deleted == nil {
					f.deleted = map[int]bool{}
				}
				f.deleted[n] = true
			}
		case ok && f.verb == "RSET":
			f.deleted = nil
		case ok && (f.verb == "LIST" && f.arg == "" || f.verb == "PASS" || f.verb == "APOP"):
			// Not standard wording, but common (the lab, Dovecot, Qpopper):
			// "+OK 2 messages (320 octets)", "+OK maildrop has 2 messages".
			// Both count the messages not marked deleted, as STAT does.
			if m := messagesRE.FindStringSubmatch(ev.Line); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil {
					f.count, f.counted = n+len(f.deleted), true
				}
			}
		case ok && f.verb == "STAT":
			if w := strings.Fields(ev.Line); len(w) > 1 {
				if n, err := strconv.Atoi(w[1]); err == nil {
					// STAT leaves the deleted out (RFC 1939 §5): the
					// highest message number is their sum.
					f.count, f.counted = n+len(f.deleted), true
				}
			}
		}
		f.verb, f.arg = "", ""
	}
}

var messagesRE = regexp.MustCompile(`\b(\d+) messages?\b`)

// nextMessage is the lowest message number not marked deleted; 0 when
// STAT said there is none left.
func (c *CommandModel) nextMessage() (n int, userOK bool) {
	f := &c.pop
	f.mu.Lock()
	defer f.mu.Unlock()
	n = 1
	for f.deleted[n] {
		n++
	}
	if f.counted && n > f.count {
		n = 0
	}
	return n, f.userOK
}

// NewCommandModel keeps up to 500 history lines; suggest may be nil
// (FallbackSuggest is used).
func NewCommandModel(suggest Suggester) *CommandModel {
	if suggest == nil {
		suggest = FallbackSuggest
	}
	return &CommandModel{max: 500, suggest: suggest}
}

// Add records a sent line (consecutive duplicates once).
func (c *CommandModel) Add(line string) {
	if line != "" && (len(c.history) == 0 || c.history[len(c.history)-1] != line) {
		c.history = append(c.history, line)
		if len(c.history) > c.max {
			c.history = c.history[len(c.history)-c.max:]
		}
	}
	c.pos = len(c.history)
	c.draft = ""
}

// Prev returns the previous history line (Up); current is what is typed now.
func (c *CommandModel) Prev(current string) string {
	if c.pos == len(c.history) {
		c.draft = current
	}
	if c.pos > 0 {
		c.pos--
	}
	if c.pos < len(c.history) {
		return c.history[c.pos]
	}
	return current
}

// Next returns the next history line (Down), ending at the draft.
func (c *CommandModel) Next() string {
	if c.pos < len(c.history) {
		c.pos++
	}
	if c.pos == len(c.history) {
		return c.draft
	}
	return c.history[c.pos]
}

// SetFill makes completion offer suggestions as fill turns them into lines
// (the palette's values), so Tab never inserts a template placeholder.
func (c *CommandModel) SetFill(fill func(string) string) { c.fill = fill }

// History returns the recorded lines, oldest first.
func (c *CommandModel) History() []string { return append([]string(nil), c.history...) }

// Palette is the list of next sensible commands for st.
func (c *CommandModel) Palette(st explorer.State, caps []string) []Suggestion {
	items := c.adjust(st, c.suggest(st, caps))
	if st.Proto == explorer.SMTP && st.Phase == explorer.PhaseReady && !st.Authed && c.submission.Load() && offersAuth(caps) {
		// A submission server answers MAIL before AUTH with 530 (RFC 6409
		// §4.3, RFC 4954 §6): log in first.
		out := items[:0:0]
		for _, it := range items {
			if !strings.HasPrefix(strings.ToUpper(it.Command), "MAIL ") {
				out = append(out, it)
			}
		}
		items = out
	}
	return items
}

func offersAuth(caps []string) bool {
	for _, c := range caps {
		if f := strings.Fields(strings.ToUpper(c)); len(f) > 0 && f[0] == "AUTH" {
			return true
		}
	}
	return false
}

// adjust fits a POP3 palette to what the replies told: after an accepted
// USER only PASS or QUIT (RFC 1939 §7); PASS only then; RETR, TOP and DELE
// name the first message not marked deleted, and go when none is left.
func (c *CommandModel) adjust(st explorer.State, items []Suggestion) []Suggestion {
	if st.Proto != explorer.POP3 {
		return items
	}
	n, userOK := c.nextMessage()
	out := make([]Suggestion, 0, len(items))
	pass := false
	for _, it := range items {
		verb := strings.ToUpper(strings.Fields(it.Command + " ")[0])
		switch st.Phase {
		case explorer.PhaseAuthz:
			if userOK && verb != "PASS" && verb != "QUIT" || !userOK && verb == "PASS" {
				continue
			}
			pass = pass || verb == "PASS"
		case explorer.PhaseTrans:
			if verb == "RETR" || verb == "TOP" || verb == "DELE" {
				if n == 0 {
					continue
				}
				it.Command = strings.Replace(it.Command, "<n>", strconv.Itoa(n), 1)
			}
		}
		out = append(out, it)
	}
	if st.Phase == explorer.PhaseAuthz && userOK && !pass {
		out = append([]Suggestion{{"PASS <password>", "second half of the USER/PASS login (RFC 1939 §7)"}}, out...)
	}
	return out
}

// Complete returns the commands valid in st that extend prefix
// (case-insensitive), palette entries first, filled as the palette shows
// them.
func (c *CommandModel) Complete(st explorer.State, caps []string, prefix string) []string {
	p := strings.ToUpper(strings.TrimLeft(prefix, " "))
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] && strings.HasPrefix(strings.ToUpper(s), p) && len(s) > len(p) {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range c.Palette(st, caps) {
		if c.fill != nil {
			s.Command = c.fill(s.Command)
		}
		add(s.Command)
	}
	_, userOK := c.nextMessage()
	verbs := append([]string(nil), validVerbs(st, caps, userOK)...)
	sort.Strings(verbs)
	for _, v := range verbs {
		covered := false
		for _, o := range out {
			covered = covered || strings.HasPrefix(strings.ToUpper(o), v)
		}
		if !covered { // a full suggestion already shows this verb
			add(v)
		}
	}
	return out
}

// validVerbs lists the commands a server accepts in st (RFC 5321 §4.1.4,
// RFC 1939 §3-§7), for completion: extensions only when announced (EHLO,
// CAPA), as the palette offers them; userOK: a USER was accepted.
func validVerbs(st explorer.State, caps []string, userOK bool) []string {
	has := func(kw string) bool { return hasCap(caps, kw) }
	var v []string
	add := func(ok bool, verbs ...string) {
		if ok {
			v = append(v, verbs...)
		}
	}
	if st.Proto == explorer.POP3 {
		switch st.Phase {
		case explorer.PhaseTrans:
			// Unknown capabilities (no CAPA yet): UIDL and TOP assumed, as
			// the palette does.
			add(true, "STAT", "LIST", "RETR", "DELE", "RSET", "NOOP", "QUIT", "CAPA")
			add(caps == nil || has("UIDL"), "UIDL")
			add(caps == nil || has("TOP"), "TOP")
		case explorer.PhaseAuthz, explorer.PhaseConnect:
			if userOK {
				return []string{"PASS", "QUIT"}
			}
			add(true, "CAPA", "APOP", "QUIT")
			add(caps == nil || has("USER"), "USER")
			add(has("SASL"), "AUTH")
			add(!st.TLS && has("STLS"), "STLS")
		}
		return v
	}
	switch st.Phase {
	case explorer.PhaseConnect, explorer.PhaseGreeted:
		add(true, "EHLO", "HELO", "QUIT", "NOOP")
	case explorer.PhaseMail:
		add(true, "RCPT TO:<", "RSET", "NOOP", "QUIT")
	case explorer.PhaseRcpt:
		add(true, "RCPT TO:<", "DATA", "RSET", "NOOP", "QUIT")
		add(has("CHUNKING"), "BDAT")
	case explorer.PhaseReady:
		add(true, "EHLO", "HELO", "MAIL FROM:<", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "QUIT")
		add(!st.TLS && has("STARTTLS"), "STARTTLS")
		add(!st.Authed && has("AUTH"), "AUTH")
	}
	return v
}

// hasCap reports whether an EHLO keyword or CAPA tag was announced
// ("AUTH=PLAIN", an old form, counts as AUTH).
func hasCap(caps []string, kw string) bool {
	for _, x := range caps {
		f := strings.ToUpper(strings.Fields(x + " ")[0])
		if f == kw || kw == "AUTH" && strings.HasPrefix(f, "AUTH=") {
			return true
		}
	}
	return false
}

// FallbackSuggest is a small built-in palette used when no Suggester is
// wired: the happy path of a lab transaction.
func FallbackSuggest(st explorer.State, caps []string) []Suggestion {
	has := func(c string) bool {
		for _, x := range caps {
			if strings.EqualFold(strings.Fields(x + " ")[0], c) {
				return true
			}
		}
		return false
	}
	if st.Proto == explorer.POP3 {
		switch st.Phase {
		case explorer.PhaseTrans:
			return []Suggestion{{"STAT", "count and size of the maildrop"}, {"LIST", "size of each message"}, {"RETR <n>", "download the first message not marked deleted"}, {"UIDL", "stable message ids"}, {"QUIT", "end; deletions happen now"}}
		case explorer.PhaseClosed, explorer.PhaseUpdate:
			return nil
		default:
			var s []Suggestion
			if !st.TLS && has("STLS") {
				s = append(s, Suggestion{"STLS", "encrypt before sending a password"})
			}
			return append(s, Suggestion{"CAPA", "what the server supports"}, Suggestion{"USER bob", "name the mailbox"}, Suggestion{"PASS <password>", "bob's practice password"}, Suggestion{"QUIT", "end the session"})
		}
	}
	switch st.Phase {
	case explorer.PhaseConnect, explorer.PhaseGreeted:
		return []Suggestion{{"EHLO client.postlab.test", "introduce yourself, ask for extensions"}, {"HELO client.postlab.test", "old-style greeting"}, {"QUIT", "end the session"}}
	case explorer.PhaseMail:
		return []Suggestion{{"RCPT TO:<bob@postlab.test>", "name a recipient"}, {"RSET", "abort the transaction"}}
	case explorer.PhaseRcpt:
		return []Suggestion{{"DATA", "start sending the message"}, {"RCPT TO:<alice@postlab.test>", "another recipient"}, {"RSET", "abort the transaction"}}
	case explorer.PhaseData:
		return []Suggestion{{"Subject: hello", "a header line"}, {".", "end of the message"}}
	case explorer.PhaseClosed:
		return nil
	default:
		var s []Suggestion
		if !st.TLS && has("STARTTLS") {
			s = append(s, Suggestion{"STARTTLS", "encrypt the connection"})
		}
		if has("AUTH") && !st.Authed {
			s = append(s, Suggestion{"AUTH PLAIN", "log in (submission)"})
		}
		return append(s, Suggestion{"MAIL FROM:<alice@postlab.test>", "start a transaction"}, Suggestion{"QUIT", "end the session"})
	}
}
