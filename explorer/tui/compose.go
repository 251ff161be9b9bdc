package tui

import (
	"fmt"
	"strings"
	"time"
)

// ComposeModel holds a message being written for SMTP DATA.
type ComposeModel struct {
	From, To, Subject string
	Body              string
	Date              time.Time
}

// DataLine is one line that goes on the wire after 354.
type DataLine struct {
	Text    string // as sent
	Stuffed bool   // a '.' was added (RFC 5321 §4.5.2)
	End     bool   // the lone "." that ends the message
}

// Lines renders the message as the lines sent after DATA: headers, a blank
// line, the body with lines starting with '.' dot-stuffed, and the final ".".
// Bare CR/LF inside the body become line ends (RFC 5321 §2.3.8).
func (c ComposeModel) Lines() []DataLine {
	var out []DataLine
	hdr := func(k, v string) {
		if v = strings.TrimSpace(oneLine(v)); v != "" {
			out = append(out, DataLine{Text: k + ": " + v})
		}
	}
	hdr("From", c.From)
	hdr("To", c.To)
	hdr("Subject", c.Subject)
	if !c.Date.IsZero() {
		hdr("Date", c.Date.Format(time.RFC1123Z))
	}
	out = append(out, DataLine{Text: ""})
	body := strings.ReplaceAll(c.Body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	body = strings.TrimSuffix(body, "\n")
	if body != "" {
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, ".") {
				out = append(out, DataLine{Text: "." + l, Stuffed: true})
			} else {
				out = append(out, DataLine{Text: l})
			}
		}
	}
	return append(out, DataLine{Text: ".", End: true})
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// plural is "1 message", "2 messages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
