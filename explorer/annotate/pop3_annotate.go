package annotate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"postlab/explorer"
)

// pop3Client explains a line the client sent in a POP3 session.
func pop3Client(ev explorer.Event, h hints) []explorer.Note {
	st := ev.State
	if st.Phase == explorer.PhaseAuth {
		return responseNotes(st.AuthMech, ev.Line, h.login, ev)
	}
	verb, arg := splitCommand(ev.Line)
	if verb == "" {
		return nil
	}
	c, ok := pop3Table[verb]
	if !ok {
		return []explorer.Note{{Title: "Unknown command " + show([]byte(verb)), Detail: "Not a POP3 command this knowledge base knows; the server answers -ERR.", Ref: "RFC 1939 §3"}}
	}
	notes := []explorer.Note{c.note()}
	if (st.Phase == explorer.PhaseAuthz || st.Phase == explorer.PhaseTrans) && !validIn(c.states, st.Phase) {
		want := "TRANSACTION (after login)"
		if c.states[0] == explorer.PhaseAuthz {
			want = "AUTHORIZATION (before login)"
		}
		notes = append(notes, explorer.Note{Title: "Wrong state for " + verb, Detail: verb + " is only valid in the " + want + " state; the server will answer -ERR.", Ref: "RFC 1939 §3"})
	}
	switch verb {
	case "PASS":
		if !ev.TLS {
			notes = append(notes, plaintextWarning(refPassCleartext))
		}
	case "USER":
		if strings.TrimSpace(arg) == "" {
			notes = append(notes, explorer.Note{Title: "Missing user name", Detail: "USER needs the mailbox name; expect -ERR.", Ref: "RFC 1939 §7"})
		}
	case "AUTH":
		if strings.TrimSpace(arg) != "" {
			notes = append(notes, authCommandNotes(arg, ev)...)
		}
	case "STLS":
		if st.TLS || ev.TLS {
			notes = append(notes, explorer.Note{Title: "Already inside TLS", Detail: "STLS is refused once TLS is active.", Ref: "RFC 2595 §4"})
		}
	case "RETR", "DELE", "TOP":
		if f := strings.Fields(arg); len(f) == 0 {
			notes = append(notes, explorer.Note{Title: "Missing message number", Detail: verb + " needs a message number as listed by LIST; expect -ERR.", Ref: c.Ref})
		}
	case "QUIT":
		if st.Phase == explorer.PhaseTrans {
			notes = append(notes, quitNote(h))
		}
	}
	return notes
}

// quitNote: QUIT in TRANSACTION enters UPDATE, which removes the messages
// marked with DELE (RFC 1939 §6); an Annotator knows whether any are.
func quitNote(h hints) explorer.Note {
	switch {
	case h.known && h.deletes > 0:
		return explorer.Note{Title: "QUIT commits the deletions", Detail: fmt.Sprintf("The session now enters the UPDATE state: the %s marked with DELE %s removed for good.", plural(uint64(h.deletes), "message"), map[bool]string{true: "is", false: "are"}[h.deletes == 1]), Ref: "RFC 1939 §6"}
	case h.known:
		return explorer.Note{Title: "QUIT with nothing marked for deletion", Detail: "The session enters the UPDATE state, but no message is marked with DELE now, so the mailbox stays as it is; the lock is released.", Ref: "RFC 1939 §6"}
	}
	return explorer.Note{Title: "QUIT enters the UPDATE state", Detail: "Messages still marked with DELE in this session, if any, are now removed for good (RSET before QUIT would have kept them); then the lock is released.", Ref: "RFC 1939 §6"}
}

func validIn(states []explorer.Phase, p explorer.Phase) bool {
	for _, s := range states {
		if s == p {
			return true
		}
	}
	return false
}

// pop3Server explains a line the server sent in a POP3 session.
func pop3Server(ev explorer.Event, h hints) []explorer.Note {
	st := ev.State
	line := ev.Line
	if st.Multi {
		return pop3MultiLine(ev, h)
	}
	if b64, ok := challengeText(ev); ok {
		return []explorer.Note{challengeNote(st.AuthMech, b64, explorer.POP3)}
	}
	switch {
	case strings.HasPrefix(line, "+OK"):
		return pop3OK(strings.TrimSpace(line[3:]), st, h)
	case strings.HasPrefix(line, "-ERR"):
		return pop3Err(strings.TrimSpace(line[4:]), st, h)
	}
	return []explorer.Note{{Title: "Not a valid POP3 status line", Detail: "Every POP3 response starts with +OK or -ERR (or '+ ' inside AUTH).", Ref: "RFC 1939 §3"}}
}

func pop3OK(text string, st explorer.State, h hints) []explorer.Note {
	nums := leadingNumbers(text)
	switch st.Command {
	case "":
		notes := []explorer.Note{{Title: "+OK greeting: AUTHORIZATION state", Detail: "The server is ready. Log in with USER/PASS, APOP or AUTH; CAPA shows what it supports.", Ref: "RFC 1939 §4"}}
		if i := strings.IndexByte(text, '<'); i >= 0 && strings.IndexByte(text[i:], '>') > 0 && strings.Contains(text[i:], "@") {
			notes = append(notes, explorer.Note{Title: "APOP timestamp in the greeting", Detail: "The <...@...> string is a one-time value the APOP command hashes with the password, so APOP is available.", Ref: "RFC 1939 §7"})
		}
		return notes
	case "USER":
		return []explorer.Note{{Title: "+OK send the password", Detail: "The server took the user name; PASS comes next. Many servers say +OK even for unknown users so as not to reveal which exist.", Ref: "RFC 1939 §7"}}
	case "PASS", "APOP", "AUTH":
		ref := "RFC 1939 §4"
		if st.Command == "AUTH" {
			ref = "RFC 5034 §4"
		}
		return []explorer.Note{{Title: "+OK logged in: TRANSACTION state", Detail: "The server has locked the mailbox for this session; other sessions get -ERR until QUIT. Now STAT, LIST, RETR, DELE... are available.", Ref: ref}}
	case "STAT":
		if len(nums) >= 2 {
			return []explorer.Note{{Title: fmt.Sprintf("+OK %s, %s", plural(nums[0], "message"), octets(nums[1])), Detail: "STAT answers 'count total-size'. Messages marked with DELE are not counted.", Ref: "RFC 1939 §5"}}
		}
		return []explorer.Note{{Title: "+OK malformed STAT answer", Detail: "STAT must answer '+OK count size' with two numbers.", Ref: "RFC 1939 §5"}}
	case "LIST", "UIDL":
		f := strings.Fields(text)
		if st.Command == "LIST" && len(nums) >= 2 || st.Command == "UIDL" && len(nums) >= 1 && len(f) == 2 {
			if st.Command == "LIST" {
				return []explorer.Note{{Title: fmt.Sprintf("+OK message %s is %s", clean(f[0]), sizeWords(f[1])), Detail: "LIST with a number answers 'number size' for that message.", Ref: "RFC 1939 §5"}}
			}
			return []explorer.Note{{Title: fmt.Sprintf("+OK message %s has unique id %s", clean(f[0]), show([]byte(f[1]))), Detail: "The unique id stays the same across sessions, unlike the message number.", Ref: "RFC 1939 §7"}}
		}
		e := pop3Commands[st.Command]
		return []explorer.Note{{Title: "+OK listing follows", Detail: "One line per message follows, then a line holding only '.'.", Ref: e.Ref}}
	case "RETR", "TOP":
		d := "The message follows as lines, ending with a line holding only '.'."
		if len(nums) >= 1 {
			d = fmt.Sprintf("The message (%s) follows as lines, ending with a line holding only '.'.", octets(nums[0]))
		}
		return []explorer.Note{{Title: "+OK message follows", Detail: d, Ref: pop3Commands[st.Command].Ref}}
	case "DELE":
		return []explorer.Note{{Title: "+OK marked for deletion", Detail: "Only marked: the message is removed when QUIT ends the session; RSET unmarks it.", Ref: "RFC 1939 §5"}}
	case "RSET":
		return []explorer.Note{{Title: "+OK deletions undone", Detail: "Every message marked with DELE in this session is kept again.", Ref: "RFC 1939 §5"}}
	case "QUIT":
		if st.Phase == explorer.PhaseTrans || st.Phase == explorer.PhaseUpdate {
			switch {
			case h.known && h.deletes > 0:
				return []explorer.Note{{Title: "+OK deletions committed, goodbye", Detail: "The UPDATE state ran: the marked messages are gone for good and the mailbox lock is released.", Ref: "RFC 1939 §6"}}
			case h.known:
				return []explorer.Note{{Title: "+OK goodbye, mailbox unchanged", Detail: "The UPDATE state ran with nothing marked for deletion; the mailbox lock is released.", Ref: "RFC 1939 §6"}}
			}
			return []explorer.Note{{Title: "+OK goodbye after UPDATE", Detail: "The UPDATE state ran: messages marked with DELE, if any, are gone for good, and the mailbox lock is released.", Ref: "RFC 1939 §6"}}
		}
		return []explorer.Note{{Title: "+OK goodbye", Detail: "The session ended before login; nothing was changed.", Ref: "RFC 1939 §4"}}
	case "STLS":
		return []explorer.Note{{Title: "+OK begin TLS", Detail: "The TLS handshake starts right after this line; then send CAPA again and log in inside TLS.", Ref: "RFC 2595 §4"}}
	case "CAPA":
		return []explorer.Note{{Title: "+OK capability list follows", Detail: "One capability per line, then a line holding only '.'.", Ref: "RFC 2449 §5"}}
	case "NOOP":
		return []explorer.Note{{Title: "+OK (NOOP)", Detail: "The server is alive; nothing changed.", Ref: "RFC 1939 §5"}}
	}
	return []explorer.Note{{Title: "+OK success", Detail: "The command succeeded.", Ref: "RFC 1939 §3"}}
}

func plural(n uint64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func sizeWords(s string) string {
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return octets(v)
	}
	return show([]byte(s))
}

// leadingNumbers parses the numbers at the start of a status text.
func leadingNumbers(text string) []uint64 {
	var nums []uint64
	for _, f := range strings.Fields(text) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			break
		}
		nums = append(nums, v)
	}
	return nums
}

// pop3Usage is what each message command takes (RFC 1939 §5, §7): the
// fewest and most arguments, and how to write it.
var pop3Usage = map[string]struct {
	min, max int
	usage    string
}{
	"RETR": {1, 1, "RETR takes one message number (RETR 1)"},
	"DELE": {1, 1, "DELE takes one message number (DELE 1)"},
	"TOP":  {2, 2, "TOP takes a message number and a number of body lines (TOP 1 10)"},
	"LIST": {0, 1, "LIST takes no argument or one message number"},
	"UIDL": {0, 1, "UIDL takes no argument or one message number"},
}

var reNoSuchMessage = regexp.MustCompile(`(?i)no such message|not found|deleted|does not exist|doesn't exist|invalid message|unknown message|out of range|no message`)
var reSyntaxText = regexp.MustCompile(`(?i)syntax|invalid (command|argument)|argument|usage|unknown command|not (understood|recognized)`)

func pop3Err(text string, st explorer.State, h hints) []explorer.Note {
	var notes []explorer.Note
	low := strings.ToLower(text)
	c, known := pop3Table[st.Command]
	wrongState := known && (st.Phase == explorer.PhaseAuthz || st.Phase == explorer.PhaseTrans) && !validIn(c.states, st.Phase)
	switch {
	case wrongState && st.Phase == explorer.PhaseAuthz:
		notes = append(notes, explorer.Note{Title: "-ERR not valid before login", Detail: st.Command + " is only valid in the TRANSACTION state, after a successful login (USER/PASS, APOP or AUTH); in the AUTHORIZATION state the server refuses it whatever its argument. Log in first.", Ref: "RFC 1939 §3"})
	case wrongState && st.Command != "PASS" && st.Command != "APOP" && st.Command != "AUTH" && st.Command != "USER":
		notes = append(notes, explorer.Note{Title: "-ERR not valid after login", Detail: st.Command + " is only valid in the AUTHORIZATION state, before login; the session is logged in, so the server refused it and nothing changed.", Ref: "RFC 1939 §3"})
	}
	if len(notes) == 0 {
		notes = pop3ErrByCommand(text, low, st, h)
	}
	if strings.HasPrefix(text, "[") {
		if end := strings.IndexByte(text, ']'); end > 0 {
			code := strings.ToUpper(text[1:end])
			if e, ok := pop3RespCodes[code]; ok {
				notes = append(notes, e.note())
			} else if i := strings.IndexByte(code, '/'); i > 0 {
				if e, ok := pop3RespCodes[code[:i]]; ok {
					notes = append(notes, e.note())
				}
			} else {
				notes = append(notes, explorer.Note{Title: "Response code [" + show([]byte(code)) + "]", Detail: "An extended response code this knowledge base does not know; clients ignore unknown codes.", Ref: "RFC 2449 §8"})
			}
		}
	}
	return notes
}

// pop3MultiLine explains a line inside a multi-line response.
func pop3MultiLine(ev explorer.Event, h hints) []explorer.Note {
	line := ev.Line
	if line == "." {
		return []explorer.Note{{Title: "End of the multi-line response", Detail: "A line holding only '.' ends the listing or message.", Ref: "RFC 1939 §3"}}
	}
	f := strings.Fields(line)
	switch ev.State.Command {
	case "CAPA":
		if len(f) == 0 {
			return nil
		}
		tag := strings.ToUpper(f[0])
		e, ok := pop3Caps[tag]
		if !ok {
			return []explorer.Note{{Title: "Capability " + show([]byte(tag)), Detail: "Not in this knowledge base; see the IANA POP3 Extension Mechanism registry.", Ref: "RFC 2449 §5"}}
		}
		n := e.note()
		if (tag == "LOGIN-DELAY" || tag == "EXPIRE") && len(f) > 1 {
			n.Detail += " Here: " + clean(strings.Join(f[1:], " ")) + "."
			// RFC 2449 §6.5, §6.7: a trailing USER marks the value as the
			// bound for any user; CAPA after login gives this user's own.
			if len(f) > 2 && strings.EqualFold(f[len(f)-1], "USER") {
				n.Detail += " USER: the value differs per user; a CAPA after logging in shows this user's own."
			}
		}
		notes := []explorer.Note{n}
		if tag == "SASL" {
			for _, m := range f[1:] {
				if me, ok := saslMechs[strings.ToUpper(m)]; ok {
					notes = append(notes, me.note())
				}
			}
		}
		return notes
	case "LIST":
		if len(f) >= 2 {
			return []explorer.Note{{Title: fmt.Sprintf("Message %s: %s", clean(f[0]), sizeWords(f[1])), Detail: "Scan listing: message number and exact size in octets.", Ref: "RFC 1939 §5"}}
		}
	case "UIDL":
		if len(f) >= 2 {
			return []explorer.Note{{Title: fmt.Sprintf("Message %s: unique id %s", clean(f[0]), show([]byte(f[1]))), Detail: "The id stays the same across sessions; clients that leave mail on the server use it to skip what they already downloaded.", Ref: "RFC 1939 §7"}}
		}
	case "RETR", "TOP":
		return contentNotes(line, h, true, explorer.POP3)
	}
	return nil
}

// pop3ErrByCommand explains a -ERR to a command sent in a state it is
// valid in.
func pop3ErrByCommand(text, low string, st explorer.State, h hints) []explorer.Note {
	var notes []explorer.Note
	switch st.Command {
	case "PASS", "APOP", "AUTH", "USER":
		if st.Phase == explorer.PhaseTrans || strings.Contains(low, "already") && (strings.Contains(low, "auth") || strings.Contains(low, "logged")) {
			notes = append(notes, explorer.Note{Title: "-ERR not valid after login", Detail: "The session is already logged in (TRANSACTION state); " + st.Command + " is only valid in the AUTHORIZATION state, so the server refused it and nothing changed.", Ref: "RFC 1939 §3"})
			break
		}
		notes = append(notes, explorer.Note{Title: "-ERR login refused", Detail: "Wrong user name or password, a mailbox locked by another session, or logins too frequent; a [CODE] in the text says which when the server supports RESP-CODES. The session stays in AUTHORIZATION.", Ref: "RFC 1939 §4"})
	case "RETR", "DELE", "TOP", "LIST", "UIDL":
		u := pop3Usage[st.Command]
		ref := pop3Commands[st.Command].Ref
		switch {
		case reSyntaxText.MatchString(text) || h.known && h.argc >= 0 && (h.argc < u.min || h.argc > u.max):
			notes = append(notes, explorer.Note{Title: "-ERR syntax error", Detail: "The server did not accept the command's arguments: " + u.usage + ".", Ref: ref})
		case reNoSuchMessage.MatchString(text):
			notes = append(notes, explorer.Note{Title: "-ERR no such message", Detail: "The number does not exist or the message is already marked as deleted.", Ref: "RFC 1939 §5"})
		default:
			notes = append(notes, explorer.Note{Title: "-ERR " + st.Command + " refused", Detail: "Most often the message number does not exist or the message is marked as deleted; the text after -ERR says why.", Ref: ref})
		}
	case "STLS":
		notes = append(notes, explorer.Note{Title: "-ERR TLS not available", Detail: "The server refused STLS (not supported, or already in TLS).", Ref: "RFC 2595 §4"})
	default:
		notes = append(notes, explorer.Note{Title: "-ERR command failed", Detail: "The server refused the command; the text says why.", Ref: "RFC 1939 §3"})
	}
	return notes
}
