package explorer

import (
	"fmt"
	"strconv"
	"strings"
)

// Reply is one SMTP reply (RFC 5321 §4.2): a three-digit code and one or
// more lines of text; Enhanced is the RFC 3463 status code ("2.1.0") when the
// server put one at the start of the text (RFC 2034).
type Reply struct {
	Code     int
	Enhanced string
	Lines    []string // the text of each line, after the code, separator and enhanced code
}

// Text is the reply's text, lines joined by a space.
func (r *Reply) Text() string { return strings.Join(r.Lines, " ") }

// Class is the first digit: 2 success, 3 continue, 4 transient, 5 permanent.
func (r *Reply) Class() int { return r.Code / 100 }

func (r *Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if t := r.Text(); t != "" {
		s += " " + t
	}
	return s
}

// ReplyError is a 4xx or 5xx answer to a structured command.
type ReplyError struct {
	Command string // the verb it answered
	Reply   *Reply
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s refused: %s", e.Command, e.Reply)
}

// Temporary reports whether the failure is transient (4xx): a real client
// retries later instead of bouncing the message (RFC 5321 §4.2.1).
func (e *ReplyError) Temporary() bool { return e.Reply.Class() == 4 }

// ReplyLine is one parsed line of an SMTP reply.
type ReplyLine struct {
	Code     int
	Last     bool // separator was a space (or nothing): the reply ends here
	Enhanced string
	Text     string
}

// ParseReplyLine parses one reply line (without CRLF) per RFC 5321 §4.2:
// Reply-code [ SP / "-" textstring ]. A bare code with no text is accepted
// as a last line, as the grammar allows for the final line.
func ParseReplyLine(line string) (ReplyLine, error) {
	var rl ReplyLine
	if len(line) < 3 {
		return rl, &ProtocolError{Reason: "reply shorter than a three-digit code", Line: printable(line)}
	}
	c := line[:3]
	if c[0] < '2' || c[0] > '5' || c[1] < '0' || c[1] > '5' || c[2] < '0' || c[2] > '9' {
		return rl, &ProtocolError{Reason: "reply does not start with a code 2xx-5xx (RFC 5321 §4.2)", Line: printable(line)}
	}
	rl.Code = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
	switch {
	case len(line) == 3:
		rl.Last = true
		return rl, nil
	case line[3] == ' ':
		rl.Last = true
	case line[3] == '-':
	default:
		return rl, &ProtocolError{Reason: "no space or hyphen after the reply code (RFC 5321 §4.2)", Line: printable(line)}
	}
	rl.Text = line[4:]
	rl.Enhanced, rl.Text = splitEnhanced(rl.Code, rl.Text)
	return rl, nil
}

// splitEnhanced takes an RFC 3463 code off the front of text when its class
// matches the reply's class, as RFC 2034 §4 requires.
func splitEnhanced(code int, text string) (string, string) {
	field, rest, _ := strings.Cut(text, " ")
	parts := strings.Split(field, ".")
	if len(parts) != 3 || field == "" || int(field[0]-'0') != code/100 {
		return "", text
	}
	for i, p := range parts {
		if p == "" || len(p) > 3 || (i == 0 && len(p) != 1) {
			return "", text
		}
		for _, ch := range p {
			if ch < '0' || ch > '9' {
				return "", text
			}
		}
	}
	return field, rest
}

// ParseReply parses a complete reply given as its lines (without CRLF).
// Every line must carry the same code; only the last may use a space.
func ParseReply(lines []string) (*Reply, error) {
	if len(lines) == 0 {
		return nil, &ProtocolError{Reason: "empty reply"}
	}
	r := &Reply{}
	for i, l := range lines {
		rl, err := ParseReplyLine(l)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.Code = rl.Code
			r.Enhanced = rl.Enhanced
		} else if rl.Code != r.Code {
			return nil, &ProtocolError{Reason: fmt.Sprintf("code %d inside a %d reply (RFC 5321 §4.2.1)", rl.Code, r.Code), Line: printable(l)}
		}
		if rl.Last != (i == len(lines)-1) {
			if rl.Last {
				return nil, &ProtocolError{Reason: "reply ended before its last line", Line: printable(l)}
			}
			return nil, &ProtocolError{Reason: "last line of the reply uses a hyphen", Line: printable(l)}
		}
		r.Lines = append(r.Lines, rl.Text)
	}
	return r, nil
}

// Capability is one EHLO keyword with its parameters (RFC 5321 §4.1.1.1).
type Capability struct {
	Keyword string   // upper case
	Params  []string // as sent
}

// ParseEhlo reads the capabilities out of a 250 reply to EHLO: the first
// line is the server's greeting, each further line one keyword.
func ParseEhlo(r *Reply) []Capability {
	var caps []Capability
	if r == nil || r.Code != 250 {
		return nil
	}
	for _, l := range r.Lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		// Some old servers write "AUTH=LOGIN PLAIN"; keep the keyword clean.
		kw, first, eq := strings.Cut(f[0], "=")
		c := Capability{Keyword: strings.ToUpper(kw)}
		if eq && first != "" {
			c.Params = append(c.Params, first)
		}
		c.Params = append(c.Params, f[1:]...)
		caps = append(caps, c)
	}
	return caps
}
