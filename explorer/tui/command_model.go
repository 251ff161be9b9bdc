package tui

import (
	"sort"
	"strings"

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
	return c.suggest(st, caps)
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
	for _, s := range c.suggest(st, caps) {
		if c.fill != nil {
			s.Command = c.fill(s.Command)
		}
		add(s.Command)
	}
	verbs := append([]string(nil), validVerbs(st)...)
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
// RFC 1939 §3-§7), for completion.
func validVerbs(st explorer.State) []string {
	if st.Proto == explorer.POP3 {
		switch st.Phase {
		case explorer.PhaseTrans:
			return []string{"STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP", "QUIT", "CAPA"}
		case explorer.PhaseClosed:
			return nil
		default:
			return []string{"CAPA", "USER", "PASS", "APOP", "AUTH", "STLS", "QUIT"}
		}
	}
	switch st.Phase {
	case explorer.PhaseData, explorer.PhaseClosed:
		return nil
	case explorer.PhaseConnect, explorer.PhaseGreeted:
		return []string{"EHLO", "HELO", "QUIT", "NOOP"}
	case explorer.PhaseMail:
		return []string{"RCPT TO:<", "RSET", "NOOP", "QUIT"}
	case explorer.PhaseRcpt:
		return []string{"RCPT TO:<", "DATA", "BDAT", "RSET", "NOOP", "QUIT"}
	default:
		return []string{"EHLO", "HELO", "MAIL FROM:<", "STARTTLS", "AUTH", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "QUIT"}
	}
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
			return []Suggestion{{"STAT", "count and size of the maildrop"}, {"LIST", "size of each message"}, {"RETR 1", "download message 1"}, {"UIDL", "stable message ids"}, {"QUIT", "end; deletions happen now"}}
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
