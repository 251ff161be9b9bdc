package lessons

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"postlab/explorer/lab/labdns"
)

// Check kinds (FORMAT.md describes each).
const (
	KindSent     = "sent"
	KindReply    = "reply"
	KindSequence = "sequence"
	KindContent  = "content"
	KindNote     = "note"
	KindMailbox  = "mailbox"
	KindDeleKept = "dele-kept"
	KindDNS      = "dns"
	KindAnswer   = "answer"
)

var checkKeys = map[string][]string{
	KindSent:     {"command", "line", "reply", "enhanced", "text", "authed"},
	KindReply:    {"command", "line", "code", "enhanced", "text", "authed"},
	KindSequence: {},
	KindContent:  {"line", "header"},
	KindNote:     {"text", "err"},
	KindMailbox:  {"user", "subject", "from", "min", "max", "count", "seen"},
	KindDeleKept: {"user", "min", "subject"},
	KindDNS:      {"type", "name", "rcode"},
	KindAnswer:   {"id", "question", "choice", "expect"},
}

// keys every trace check accepts
var commonKeys = []string{"label", "source", "proto", "listener", "tls"}

// Scenarios are the lab's fault scenarios a step may switch on.
var Scenarios = []string{"greylist", "mailbox-full", "slow-banner", "closing-421", "tls-fail", "drop-data"}

func knownScenario(s string) bool {
	for _, n := range Scenarios {
		if n == s {
			return true
		}
	}
	return false
}

func checkDNSFault(name string) error {
	err := labdns.CheckFaults([]string{name})
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "labdns: "))
	}
	return nil
}

// Check is one declarative condition of a step.
type Check struct {
	Kind  string
	Line  int
	Label string // what the student sees next to the check mark

	// trace filters
	source   Source
	proto    string
	listener []string
	tls      string // "", "yes", "no"
	authed   string
	command  []string
	line     *regexp.Regexp
	reply    []string // "250", "2xx", "+OK", "-ERR"
	enhanced string
	text     *regexp.Regexp
	errOnly  string
	header   string
	items    []seqItem

	// mailbox
	user     string
	subject  *regexp.Regexp
	from     *regexp.Regexp
	min, max int // -1: not set
	seen     string

	// dns
	dnsType, dnsName, rcode string

	// answer
	ID       string
	Question string
	Choices  []string
	expect   []string
}

type seqItem struct {
	verbs []string
	reply []string
}

// parseCheck parses one line of a ```check block.
func parseCheck(src string, line int) (*Check, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty check")
	}
	kind := toks[0].val
	if toks[0].key != "" {
		return nil, fmt.Errorf("check must start with its kind, not %s=", toks[0].key)
	}
	allowed, ok := checkKeys[kind]
	if !ok {
		return nil, fmt.Errorf("unknown check kind %q (known: sent, reply, sequence, content, note, mailbox, dele-kept, dns, answer)", kind)
	}
	c := &Check{Kind: kind, Line: line, min: -1, max: -1}
	isAllowed := func(k string) bool {
		for _, a := range allowed {
			if a == k {
				return true
			}
		}
		if kind == KindAnswer || kind == KindDNS || kind == KindMailbox || kind == KindDeleKept {
			return k == "label"
		}
		for _, a := range commonKeys {
			if a == k {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	for _, t := range toks[1:] {
		if t.key == "" {
			if kind != KindSequence {
				return nil, fmt.Errorf("%s: unexpected word %q: want key=value", kind, t.val)
			}
			it, err := parseSeqItem(t.val)
			if err != nil {
				return nil, err
			}
			c.items = append(c.items, it)
			continue
		}
		if !isAllowed(t.key) {
			return nil, fmt.Errorf("%s: unknown key %q", kind, t.key)
		}
		if seen[t.key] && t.key != "choice" {
			return nil, fmt.Errorf("%s: key %q given twice", kind, t.key)
		}
		seen[t.key] = true
		if err := c.set(t.key, t.val); err != nil {
			return nil, fmt.Errorf("%s: %s=%q: %v", kind, t.key, t.val, err)
		}
	}
	if err := c.validate(seen); err != nil {
		return nil, fmt.Errorf("%s: %v", kind, err)
	}
	if c.Label == "" {
		c.Label = c.describe()
	}
	return c, nil
}

func (c *Check) set(k, v string) error {
	var err error
	switch k {
	case "label":
		c.Label = v
	case "source":
		switch Source(v) {
		case FromClient, FromServer:
			c.source = Source(v)
		case "any":
		default:
			return errors.New("want client, server or any")
		}
	case "proto":
		if v != "smtp" && v != "pop3" {
			return errors.New("want smtp or pop3")
		}
		c.proto = v
	case "listener":
		for _, l := range strings.Split(v, "|") {
			switch l {
			case "smtp", "submission", "submissions", "pop3", "pop3s":
			default:
				return errors.New("want smtp, submission, submissions, pop3 or pop3s (| for several)")
			}
			c.listener = append(c.listener, l)
		}
	case "tls", "authed", "err", "seen":
		if v != "yes" && v != "no" {
			return errors.New("want yes or no")
		}
		switch k {
		case "tls":
			c.tls = v
		case "authed":
			c.authed = v
		case "err":
			c.errOnly = v
		case "seen":
			c.seen = v
		}
	case "command":
		for _, w := range strings.Split(v, "|") {
			w = strings.ToUpper(strings.TrimSpace(w))
			if w == "" || strings.ContainsAny(w, " \t") {
				return errors.New("want a command verb such as EHLO (| for several)")
			}
			c.command = append(c.command, w)
		}
	case "line", "text", "subject", "from":
		var re *regexp.Regexp
		if re, err = regexp.Compile("(?i)" + v); err != nil {
			return fmt.Errorf("bad regular expression: %v", err)
		}
		switch k {
		case "line":
			c.line = re
		case "text":
			c.text = re
		case "subject":
			c.subject = re
		case "from":
			c.from = re
		}
	case "reply", "code":
		c.reply, err = parseReplySpec(v)
		return err
	case "enhanced":
		if !regexp.MustCompile(`^[245]\.(\d{1,3}|x)\.(\d{1,3}|x)$`).MatchString(v) {
			return errors.New("want an enhanced status code such as 5.1.1 (x for any part)")
		}
		c.enhanced = v
	case "header":
		if !regexp.MustCompile(`^[!-9;-~]+$`).MatchString(v) {
			return errors.New("want a header field name such as Subject")
		}
		c.header = v
	case "user":
		if !userRE.MatchString(v) {
			return errors.New("want a lab user name")
		}
		c.user = v
	case "min", "max", "count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100000 {
			return errors.New("want a whole number")
		}
		switch k {
		case "min":
			c.min = n
		case "max":
			c.max = n
		case "count":
			c.min, c.max = n, n
		}
	case "type":
		t := strings.ToUpper(v)
		if !regexp.MustCompile(`^[A-Z][A-Z0-9]{0,9}$`).MatchString(t) {
			return errors.New("want a DNS type such as MX")
		}
		c.dnsType = t
	case "name":
		c.dnsName = normName(v)
		if c.dnsName == "" {
			return errors.New("want a domain name")
		}
	case "rcode":
		c.rcode = strings.ToUpper(v)
	case "id":
		if !idRE.MatchString(v) {
			return errors.New("use lower-case letters, digits and '-'")
		}
		c.ID = v
	case "question":
		c.Question = v
	case "choice":
		c.Choices = append(c.Choices, v)
	case "expect":
		for _, e := range strings.Split(v, "|") {
			if e = normAnswer(e); e != "" {
				c.expect = append(c.expect, e)
			}
		}
		if len(c.expect) == 0 {
			return errors.New("empty")
		}
	}
	return nil
}

func (c *Check) validate(seen map[string]bool) error {
	need := func(keys ...string) error {
		for _, k := range keys {
			if !seen[k] {
				return fmt.Errorf("%s= is required", k)
			}
		}
		return nil
	}
	switch c.Kind {
	case KindSent:
		if c.command == nil && c.line == nil {
			return errors.New("give command= or line=")
		}
	case KindReply:
		return need("code")
	case KindSequence:
		if len(c.items) < 2 {
			return errors.New("give at least two VERB or VERB/REPLY items in order")
		}
	case KindContent:
		return need("line")
	case KindNote:
		return need("text")
	case KindMailbox:
		if c.min < 0 && c.max < 0 {
			c.min = 1
		}
		return need("user")
	case KindDeleKept:
		if c.min < 0 {
			c.min = 1
		}
		return need("user")
	case KindDNS:
		return need("type", "name")
	case KindAnswer:
		if err := need("id", "question", "expect"); err != nil {
			return err
		}
		if len(c.Choices) == 1 {
			return errors.New("a multiple-choice question needs at least two choice= values")
		}
		if len(c.Choices) > 0 {
			// expect names choices by number (1-based) or letter.
			for i, e := range c.expect {
				n := choiceIndex(e, len(c.Choices))
				for j, ch := range c.Choices {
					if n < 0 && normAnswer(ch) == e {
						n = j
					}
				}
				if n < 0 {
					return fmt.Errorf("expect=%q does not name one of the %d choices (use 1-%d or a-%c)", e, len(c.Choices), len(c.Choices), 'a'+len(c.Choices)-1)
				}
				c.expect[i] = strconv.Itoa(n + 1)
			}
		}
	}
	return nil
}

// choiceIndex maps "2" or "b" to 1; -1 when it names no choice.
func choiceIndex(s string, n int) int {
	if i, err := strconv.Atoi(s); err == nil {
		if i >= 1 && i <= n {
			return i - 1
		}
		return -1
	}
	if len(s) == 1 && s[0] >= 'a' && int(s[0]-'a') < n {
		return int(s[0] - 'a')
	}
	return -1
}

func normAnswer(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Trim(s, ".")
	s = strings.TrimSuffix(s, ")")
	return strings.Join(strings.Fields(s), " ")
}

func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

var replySpecRE = regexp.MustCompile(`^([2-5][0-9x][0-9x]|\+OK|-ERR|\+)$`)

func parseReplySpec(v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, "|") {
		s = strings.TrimSpace(s)
		if s == "ok" {
			s = "+OK"
		}
		if strings.EqualFold(s, "+ok") || strings.EqualFold(s, "-err") {
			s = strings.ToUpper(s)
		}
		if !replySpecRE.MatchString(s) {
			return nil, errors.New("want a reply code (250), a class (2xx), +OK or -ERR; | for several")
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSeqItem(s string) (seqItem, error) {
	verb, reply, has := strings.Cut(s, "/")
	it := seqItem{}
	for _, v := range strings.Split(verb, "|") {
		if v == "" {
			return it, fmt.Errorf("sequence item %q: want VERB or VERB/REPLY (VERB|VERB for either)", s)
		}
		it.verbs = append(it.verbs, strings.ToUpper(v))
	}
	if has {
		r, err := parseReplySpec(reply)
		if err != nil {
			return it, fmt.Errorf("sequence item %q: %v", s, err)
		}
		it.reply = r
	}
	return it, nil
}

func replyMatches(spec []string, e *exchange) bool {
	if len(spec) == 0 {
		return true
	}
	if !e.answered() {
		return false
	}
	for _, s := range spec {
		switch {
		case s == "+OK" || s == "-ERR" || s == "+":
			if e.status == s {
				return true
			}
		case e.code != 0:
			c := strconv.Itoa(e.code)
			ok := true
			for i := 0; i < 3; i++ {
				if s[i] != 'x' && s[i] != c[i] {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func enhancedMatches(want, text string) bool {
	got := strings.Split(enhancedOf(text), ".")
	if len(got) != 3 {
		return false
	}
	for i, w := range strings.Split(want, ".") {
		if w != "x" && w != got[i] {
			return false
		}
	}
	return true
}

// describe writes a default label.
func (c *Check) describe() string {
	var b strings.Builder
	switch c.Kind {
	case KindSent:
		b.WriteString("send ")
		if c.command != nil {
			b.WriteString(strings.Join(c.command, " or "))
		} else {
			b.WriteString("a line matching " + strings.TrimPrefix(c.line.String(), "(?i)"))
		}
		if c.reply != nil {
			b.WriteString(" and get " + strings.Join(c.reply, " or "))
		}
	case KindReply:
		b.WriteString("get a " + strings.Join(c.reply, " or "))
		if c.enhanced != "" {
			b.WriteString(" " + c.enhanced)
		}
		b.WriteString(" reply")
		if c.command != nil {
			b.WriteString(" to " + strings.Join(c.command, " or "))
		}
	case KindSequence:
		parts := make([]string, len(c.items))
		for i, it := range c.items {
			parts[i] = strings.Join(it.verbs, " or ")
			if it.reply != nil {
				parts[i] += " (" + strings.Join(it.reply, "/") + ")"
			}
		}
		b.WriteString(strings.Join(parts, ", then "))
		b.WriteString(" in one session")
	case KindContent:
		if c.header != "" {
			b.WriteString("send a " + c.header + ": header")
		} else {
			b.WriteString("send message content matching " + strings.TrimPrefix(c.line.String(), "(?i)"))
		}
	case KindNote:
		b.WriteString("see " + strings.TrimPrefix(c.text.String(), "(?i)") + " in the trace")
	case KindMailbox:
		b.WriteString(c.user + "'s mailbox holds ")
		switch {
		case c.min >= 0 && c.min == c.max:
			fmt.Fprintf(&b, "%d message(s)", c.min)
		case c.max >= 0 && c.min <= 0:
			fmt.Fprintf(&b, "at most %d message(s)", c.max)
		default:
			fmt.Fprintf(&b, "at least %d message(s)", max(c.min, 1))
		}
		if c.subject != nil {
			b.WriteString(" with subject " + strings.TrimPrefix(c.subject.String(), "(?i)"))
		}
	case KindDeleKept:
		b.WriteString("DELE in a POP3 session that ends without QUIT; the mail stays in " + c.user + "'s mailbox")
	case KindDNS:
		b.WriteString("look up " + c.dnsType + " " + c.dnsName)
	case KindAnswer:
		b.WriteString("answer: " + c.Question)
	}
	if c.listener != nil && (c.Kind == KindSent || c.Kind == KindReply || c.Kind == KindSequence) {
		b.WriteString(" on " + strings.Join(c.listener, " or "))
	}
	if c.tls == "yes" {
		b.WriteString(" over TLS")
	} else if c.tls == "no" {
		b.WriteString(" without TLS")
	}
	return b.String()
}

// token is key=value or a bare word.
type token struct{ key, val string }

// tokenize splits a check line: words and key=value pairs; a value may be
// "double quoted" with \" and \\ escapes.
func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '=' && s[i] != '"' {
			i++
		}
		word := s[start:i]
		if i < len(s) && s[i] == '"' {
			return nil, fmt.Errorf("unexpected quote at column %d: quote values, as in key=\"a value\"", i+1)
		}
		if i >= len(s) || s[i] != '=' {
			out = append(out, token{val: word})
			continue
		}
		if word == "" {
			return nil, fmt.Errorf("'=' without a key at column %d", i+1)
		}
		i++ // '='
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				ch := s[i]
				if ch == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if ch == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%s: quoted value is never closed", word)
			}
			if i < len(s) && s[i] != ' ' && s[i] != '\t' {
				return nil, fmt.Errorf("%s: text right after the closing quote", word)
			}
			out = append(out, token{key: word, val: b.String()})
			continue
		}
		vs := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if vs == i {
			return nil, fmt.Errorf("%s= has no value", word)
		}
		out = append(out, token{key: word, val: s[vs:i]})
	}
}
