package annotate

import (
	"strings"

	"postlab/explorer"
)

// Entry is one row of the knowledge base.
type Entry struct {
	Title  string
	Detail string
	Ref    string
	// Permanent marks a failure that will not go away by retrying (5xx, x.y.z
	// with class 5); meaningful for reply and status codes only.
	Permanent bool
}

func (e Entry) note() explorer.Note {
	return explorer.Note{Title: e.Title, Detail: e.Detail, Ref: e.Ref}
}

// SMTPCommand looks up an SMTP command verb (case-insensitive).
func SMTPCommand(verb string) (Entry, bool) {
	e, ok := smtpCommands[strings.ToUpper(strings.TrimSpace(verb))]
	return e, ok
}

// POP3Command looks up a POP3 command verb (case-insensitive).
func POP3Command(verb string) (Entry, bool) {
	e, ok := pop3Commands[strings.ToUpper(strings.TrimSpace(verb))]
	return e, ok
}

// Capability looks up an EHLO keyword, a POP3 CAPA tag or a SASL mechanism
// name (case-insensitive). SMTP keywords win over POP3 tags of the same name.
func Capability(keyword string) (Entry, bool) {
	k := strings.ToUpper(strings.TrimSpace(keyword))
	if e, ok := ehloKeywords[k]; ok {
		return e, true
	}
	if e, ok := pop3Caps[k]; ok {
		return e, true
	}
	if e, ok := saslMechs[k]; ok {
		return e, true
	}
	return Entry{}, false
}
