package diag

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// Hop is one Received header field (RFC 5321 §4.4), oldest first.
type Hop struct {
	N      int        `json:"n"` // 1 = oldest
	From   string     `json:"from"`
	By     string     `json:"by"`
	With   string     `json:"with"`
	ID     string     `json:"id,omitempty"`
	For    string     `json:"for,omitempty"`
	IP     string     `json:"ip,omitempty"`
	Time   *time.Time `json:"time"`
	DelayS *int64     `json:"delay_s"`
	Raw    string     `json:"-"`
}

var (
	reReceivedIP = regexp.MustCompile(`\[(?:IPv6:)?([0-9A-Fa-f.:]+)\]`)
	reSpaces     = regexp.MustCompile(`\s+`)
	reBareIPv4   = regexp.MustCompile(`\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b`)
)

// ParseReceived parses the value of one Received field. It is lenient:
// real MTAs bend the RFC 5321 grammar, so each clause (from, by, via,
// with, id, for) is taken where found and the date after the last ';'.
// ok is false when the date is missing or unparseable.
func ParseReceived(v string) (h Hop, ok bool) {
	if len(v) > 8192 {
		v = v[:8192]
	}
	h.Raw = v
	v = reSpaces.ReplaceAllString(strings.TrimSpace(v), " ")
	clauses := v
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		clauses = v[:i]
		if t, err := parseMailDate(v[i+1:]); err == nil {
			h.Time = &t
			ok = true
		}
	}
	// Walk the words, keeping comments (parentheses, possibly nested) with
	// the clause they follow.
	key := ""
	var parts = map[string][]string{}
	depth := 0
	var word strings.Builder
	flush := func() {
		w := word.String()
		word.Reset()
		if w == "" {
			return
		}
		if depth == 0 && !strings.HasPrefix(w, "(") {
			switch lw := strings.ToLower(w); lw {
			case "from", "by", "via", "with", "id", "for":
				key = lw
				return
			}
		}
		if key != "" {
			parts[key] = append(parts[key], w)
		}
	}
	for _, r := range clauses {
		switch {
		case r == '(':
			if depth == 0 {
				flush()
			}
			depth++
			word.WriteRune(r)
		case r == ')':
			if depth > 0 {
				depth--
			}
			word.WriteRune(r)
			if depth == 0 {
				flush()
			}
		case r == ' ' && depth == 0:
			flush()
		default:
			word.WriteRune(r)
		}
	}
	flush()
	h.From = strings.Join(parts["from"], " ")
	h.By = strings.Join(parts["by"], " ")
	h.With = strings.Join(words(parts["with"]), " ")
	h.ID = strings.Trim(firstWord(parts["id"]), "<>")
	h.For = strings.Trim(firstWord(parts["for"]), "<>;")
	if m := reReceivedIP.FindStringSubmatch(h.From); m != nil {
		h.IP = m[1]
	} else if m := reBareIPv4.FindString(h.From); m != "" {
		h.IP = m
	}
	return h, ok
}

// words drops the comments of a clause.
func words(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !strings.HasPrefix(w, "(") {
			out = append(out, w)
		}
	}
	return out
}

func firstWord(ws []string) string {
	for _, w := range ws {
		if !strings.HasPrefix(w, "(") {
			return w
		}
	}
	return ""
}

var reDateComment = regexp.MustCompile(`\([^)]*\)`)

// parseMailDate accepts RFC 5322 dates and the common deviations (a
// trailing zone comment, no day name, a two-digit year, a zone name).
func parseMailDate(s string) (time.Time, error) {
	s = strings.TrimSpace(reDateComment.ReplaceAllString(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if t, err := mail.ParseDate(s); err == nil {
		return t, nil
	}
	layouts := []string{
		"Mon, 2 Jan 2006 15:04:05 -0700 MST", "2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 MST",
		"Mon Jan 2 15:04:05 2006", "Mon, 2 Jan 06 15:04:05 -0700", "2006-01-02T15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700", "Mon, 2 Jan 2006 15:04 -0700", "Mon Jan 2 15:04:05 -0700 2006",
		"Mon, 2 Jan 2006 15:04:05",
	}
	var err error
	for _, l := range layouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
