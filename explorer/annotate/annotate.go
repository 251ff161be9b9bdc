package annotate

import (
	"strings"
	"sync"

	"postlab/explorer"
)

// maxNotes bounds the notes for one line (an EHLO "AUTH" line with many
// mechanisms, a MAIL FROM with many parameters).
const maxNotes = 12

// Annotate explains one trace line on its own, using only the event and the
// state recorded with it. It returns no notes for a line it has nothing to
// say about, and never panics on malformed input. Use an Annotator to also
// tell message headers from body lines and AUTH LOGIN user names from
// passwords, which needs the lines before.
func Annotate(ev explorer.Event) []explorer.Note {
	return annotate(ev, hints{})
}

// hints is what an Annotator knows from earlier lines.
type hints struct {
	known    bool      // the fields below are meaningful
	inBody   bool      // message content: past the blank line after the headers
	login    loginRole // what the next AUTH LOGIN response carries
	startTLS bool      // SMTP: a STARTTLS was accepted in this session
	deletes  int       // POP3: messages marked with DELE and not unmarked by RSET
	argc     int       // POP3: arguments of the last command sent (-1: unknown)
}

// Annotator explains the lines of one session in order. It is safe for
// concurrent use, but lines must be given in the order they happened.
type Annotator struct {
	mu       sync.Mutex
	inData   bool // inside message content (DATA/BDAT, POP3 RETR/TOP)
	inBody   bool
	login    loginRole
	startTLS bool
	deletes  int
	argc     int
}

// NewAnnotator returns an Annotator for one session.
func NewAnnotator() *Annotator { return &Annotator{argc: -1} }

// Annotate explains ev in the context of the lines given before it.
func (a *Annotator) Annotate(ev explorer.Event) []explorer.Note {
	a.mu.Lock()
	defer a.mu.Unlock()
	content := isContent(ev)
	if content && !a.inData {
		a.inData, a.inBody = true, false
	}
	if !content {
		a.inData = false
	}
	h := hints{known: true, inBody: a.inBody, login: a.login, startTLS: a.startTLS, deletes: a.deletes, argc: a.argc}
	notes := annotate(ev, h)
	a.follow(ev)
	if content && strings.TrimSpace(ev.Line) == "" {
		a.inBody = true
	}
	// AUTH LOGIN: remember what the server asked for.
	switch {
	case ev.Dir == explorer.ServerToClient && ev.State.AuthMech == "LOGIN":
		a.login = roleUnknown
		if b64, ok := challengeText(ev); ok {
			if raw, _, ok := decodeB64(b64); ok {
				low := strings.ToLower(string(raw))
				if strings.HasPrefix(low, "user") {
					a.login = roleUser
				} else if strings.HasPrefix(low, "pass") {
					a.login = rolePass
				}
			}
		}
	case ev.Dir == explorer.ClientToServer:
		a.login = roleUnknown
	}
	return notes
}

// follow records what later notes depend on: an accepted STARTTLS (RFC 3207
// §4.2), the POP3 deletions pending until QUIT (RFC 1939 §5, §6) and the
// argument count of the last POP3 command.
func (a *Annotator) follow(ev explorer.Event) {
	st := ev.State
	switch {
	case ev.Dir == explorer.ServerToClient && !isPOP3(ev) && !st.Multi:
		if code, _, _, ok := parseReply(ev.Line); ok && code == 220 && st.Command == "STARTTLS" {
			a.startTLS = true
		}
	case ev.Dir == explorer.ServerToClient && !st.Multi && strings.HasPrefix(ev.Line, "+OK"):
		switch st.Command {
		case "DELE":
			a.deletes++
		case "RSET":
			a.deletes = 0
		}
	case ev.Dir == explorer.ClientToServer && isPOP3(ev) && st.Phase != explorer.PhaseAuth:
		a.argc = len(strings.Fields(ev.Line)) - 1
	}
}

// challengeText returns the base64 part of a SASL challenge line.
func challengeText(ev explorer.Event) (string, bool) {
	if isPOP3(ev) {
		if ev.Line == "+" {
			return "", true
		}
		if strings.HasPrefix(ev.Line, "+ ") {
			return ev.Line[2:], true
		}
		return "", false
	}
	code, _, text, ok := parseReply(ev.Line)
	return text, ok && code == 334
}

// isContent reports a line of message content: SMTP DATA/BDAT lines sent
// by the client, POP3 RETR/TOP lines sent by the server.
func isContent(ev explorer.Event) bool {
	st := ev.State
	if isPOP3(ev) {
		return ev.Dir == explorer.ServerToClient && st.Multi && (st.Command == "RETR" || st.Command == "TOP") && ev.Line != "."
	}
	return ev.Dir == explorer.ClientToServer && st.Phase == explorer.PhaseData &&
		(st.Command == "DATA" || st.Command == "BDAT") && ev.Line != "."
}

func annotate(ev explorer.Event, h hints) []explorer.Note {
	var notes []explorer.Note
	switch ev.Dir {
	case explorer.ClientToServer:
		if isPOP3(ev) {
			notes = pop3Client(ev, h)
		} else {
			notes = smtpClient(ev, h)
		}
	case explorer.ServerToClient:
		if isPOP3(ev) {
			notes = pop3Server(ev, h)
		} else {
			notes = smtpServer(ev, h)
		}
	}
	if len(notes) > maxNotes {
		notes = notes[:maxNotes]
	}
	return notes
}

// isPOP3 decides the dialect: from the state, or for a state-less event
// from the look of a server line.
func isPOP3(ev explorer.Event) bool {
	switch ev.State.Proto {
	case explorer.POP3:
		return true
	case explorer.SMTP:
		return false
	}
	return ev.Dir == explorer.ServerToClient && (strings.HasPrefix(ev.Line, "+OK") || strings.HasPrefix(ev.Line, "-ERR"))
}

// contentNotes explains one line of a message (SMTP DATA/BDAT content or a
// POP3 RETR/TOP line): headers and, when stuffed is true, the dot rules.
func contentNotes(line string, h hints, stuffed bool, p explorer.Protocol) []explorer.Note {
	var notes []explorer.Note
	if stuffed && strings.HasPrefix(line, ".") {
		if p == explorer.POP3 {
			notes = append(notes, explorer.Note{Title: "Byte-stuffed line", Detail: "A content line that begins with '.' is sent with the dot doubled so it cannot be mistaken for the end of the response; the client removes one dot.", Ref: "RFC 1939 §3"})
		} else if strings.HasPrefix(line, "..") {
			notes = append(notes, explorer.Note{Title: "Dot-stuffed line", Detail: "A message line that begins with '.' is sent with an extra dot so it is not taken for the end of the message; the server removes the first dot.", Ref: "RFC 5321 §4.5.2"})
		} else {
			notes = append(notes, explorer.Note{Title: "Warning: line starts with a single dot", Detail: "The server will remove this leading dot (dot-stuffing rule). To keep a dot at the start of a line, send it doubled ('..').", Ref: "RFC 5321 §4.5.2"})
		}
	}
	if len(line) > 998 {
		notes = append(notes, explorer.Note{Title: "Line longer than 998 characters", Detail: "Message lines must not exceed 998 characters plus CRLF; servers may reject or break the line.", Ref: "RFC 5322 §2.1.1"})
	}
	if h.known && h.inBody {
		return notes
	}
	if h.known && strings.TrimSpace(line) == "" {
		return append(notes, explorer.Note{Title: "End of the header section", Detail: "The first empty line separates the headers from the body; everything after it is the message text.", Ref: "RFC 5322 §2.1"})
	}
	name, _, ok := strings.Cut(line, ":")
	if ok && name != "" && !strings.ContainsAny(name, " \t") {
		if e, ok := headerFields[strings.ToUpper(name)]; ok {
			notes = append(notes, e.note())
		}
		if strings.Contains(line, "=?") && strings.Contains(line, "?=") {
			notes = append(notes, explorer.Note{Title: "Encoded word", Detail: "=?charset?B|Q?text?= carries non-ASCII text (such as UTF-8) in a header that must stay ASCII: B is base64, Q is quoted-printable; mail programs decode it for display.", Ref: "RFC 2047 §2"})
		}
	}
	return notes
}
