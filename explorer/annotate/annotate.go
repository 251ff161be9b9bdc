package annotate

import (
	"strings"

	"postlab/explorer"
)

// Annotate explains one trace line. It returns no notes for a line it has
// nothing to say about, and never panics on malformed input.
func Annotate(ev explorer.Event) []explorer.Note {
	var notes []explorer.Note
	switch ev.Dir {
	case explorer.ClientToServer:
		if isPOP3(ev) {
			return notes
		}
		verb, _, _ := strings.Cut(ev.Line, " ")
		if e, ok := SMTPCommand(verb); ok {
			notes = append(notes, e.note())
		}
	case explorer.ServerToClient:
		if isPOP3(ev) {
			return notes
		}
		code, sep, _, ok := parseReply(ev.Line)
		if !ok {
			return notes
		}
		if ev.State.Multi && ev.State.Command == "EHLO" {
			kw, _, _ := strings.Cut(ev.Line[4:], " ")
			if e, ok := Capability(kw); ok {
				notes = append(notes, e.note())
			}
			return notes
		}
		_ = sep
		if e, ok := ReplyCode(code); ok {
			notes = append(notes, e.note())
		}
	}
	return notes
}

func isPOP3(ev explorer.Event) bool {
	return ev.State.Proto == explorer.POP3
}

// parseReply splits an SMTP reply line "250-text" into code, separator and
// text (RFC 5321 §4.2).
func parseReply(line string) (code int, sep byte, text string, ok bool) {
	if len(line) < 3 {
		return 0, 0, "", false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, 0, "", false
		}
		code = code*10 + int(line[i]-'0')
	}
	if code < 200 || code > 599 {
		return 0, 0, "", false
	}
	if len(line) == 3 {
		return code, ' ', "", true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, "", false
	}
	return code, line[3], line[4:], true
}
