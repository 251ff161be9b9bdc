package annotate

import (
	"fmt"
	"strconv"
	"strings"

	"postlab/explorer"
)

// smtpClient explains a line the client sent in an SMTP session.
func smtpClient(ev explorer.Event, h hints) []explorer.Note {
	st := ev.State
	line := ev.Line
	if st.Phase == explorer.PhaseData {
		switch {
		case st.Command == "BDAT":
			return contentNotes(line, h, false, explorer.SMTP)
		case line == "." && (st.Command == "." || st.Command == "DATA"):
			return []explorer.Note{{Title: "End of message data", Detail: "A line holding only '.' ends the message. The server now checks it and replies once; a 250 means it has taken responsibility for delivery.", Ref: "RFC 5321 §4.1.1.4"}}
		case st.Command == "DATA":
			return contentNotes(line, h, true, explorer.SMTP)
		}
	}
	if st.Phase == explorer.PhaseAuth {
		role := roleUnknown
		if h.known {
			role = h.login
		}
		return responseNotes(st.AuthMech, line, role, ev)
	}
	verb, arg := splitCommand(line)
	if verb == "" {
		return nil
	}
	var notes []explorer.Note
	e, ok := SMTPCommand(verb)
	if !ok {
		return []explorer.Note{{Title: "Unknown command " + show([]byte(verb)), Detail: "Not an SMTP command this knowledge base knows; a server answers 500 (unrecognized) or 502 (not implemented).", Ref: "RFC 5321 §4.2.4"}}
	}
	notes = append(notes, e.note())
	switch verb {
	case "EHLO", "HELO":
		if strings.TrimSpace(arg) == "" {
			notes = append(notes, explorer.Note{Title: "Missing host name", Detail: verb + " needs the client's host name or an address literal such as [192.0.2.1]; expect 501.", Ref: "RFC 5321 §4.1.1.1"})
		} else if st.TLS && st.Phase == explorer.PhaseGreeted {
			notes = append(notes, ehloInTLSNote(h))
		}
	case "MAIL":
		notes = append(notes, envelopeNotes(verb, arg)...)
	case "RCPT":
		notes = append(notes, envelopeNotes(verb, arg)...)
	case "AUTH":
		notes = append(notes, authCommandNotes(arg, ev)...)
	case "BDAT":
		notes = append(notes, bdatNote(arg))
	case "STARTTLS":
		if st.TLS || ev.TLS {
			notes = append(notes, explorer.Note{Title: "Already inside TLS", Detail: "STARTTLS may be used only once: a client must not start TLS when a TLS session is already active, and the server answers 503 or 454.", Ref: "RFC 3207 §4.2"})
		}
	}
	if n, ok := sequenceNote(verb, st); ok {
		notes = append(notes, n)
	}
	return notes
}

// ehloInTLSNote: after STARTTLS the client should send EHLO again (RFC 3207
// §4.2); on an implicit-TLS port the first EHLO is simply sent encrypted
// (RFC 8314 §3.3). Without the session's history, say both.
func ehloInTLSNote(h hints) explorer.Note {
	switch {
	case h.known && h.startTLS:
		return explorer.Note{Title: "EHLO again inside TLS", Detail: "After STARTTLS the client should start over with EHLO (RFC 3207 says SHOULD): both sides forget what was said before the handshake, and the server may now offer different extensions, such as AUTH.", Ref: "RFC 3207 §4.2"}
	case h.known:
		return explorer.Note{Title: "EHLO over implicit TLS", Detail: "This connection was encrypted from its first byte (implicit TLS, as on port 465), so this first EHLO already travels inside TLS; no STARTTLS is needed.", Ref: "RFC 8314 §3.3"}
	}
	return explorer.Note{Title: "EHLO inside TLS", Detail: "This EHLO travels encrypted. If it follows STARTTLS, it is the recommended fresh start: the server forgets what was said before the handshake and may now offer other extensions, such as AUTH. On an implicit-TLS port (465) it is simply the first EHLO.", Ref: "RFC 3207 §4.2"}
}

// splitCommand returns the upper-case verb and the rest of a command line.
func splitCommand(line string) (string, string) {
	verb, arg, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
	return strings.ToUpper(verb), arg
}

// sequenceNote warns about a command sent in the wrong phase, before the
// server says so (RFC 5321 §4.1.4).
func sequenceNote(verb string, st explorer.State) (explorer.Note, bool) {
	ph := st.Phase
	switch {
	case ph == explorer.PhaseConnect && verb != "QUIT":
		return explorer.Note{Title: "Sent before the greeting", Detail: "A client must wait for the server's 220 greeting before its first command; servers drop 'early talkers', a common spam-bot trait.", Ref: "RFC 5321 §3.1"}, true
	case ph == explorer.PhaseGreeted && (verb == "MAIL" || verb == "RCPT" || verb == "DATA" || verb == "BDAT" || verb == "AUTH" || verb == "STARTTLS"):
		return explorer.Note{Title: "EHLO first", Detail: "The session has not been (re)started with EHLO yet, so the server will likely answer 503 (bad sequence).", Ref: "RFC 5321 §4.1.4"}, true
	case verb == "MAIL" && (ph == explorer.PhaseMail || ph == explorer.PhaseRcpt):
		return explorer.Note{Title: "A transaction is already open", Detail: "MAIL was already accepted; a second one gets 503. Finish with DATA or abort with RSET first.", Ref: "RFC 5321 §4.1.4"}, true
	case verb == "RCPT" && ph == explorer.PhaseReady:
		return explorer.Note{Title: "RCPT before MAIL", Detail: "Recipients can only be given after MAIL FROM was accepted; expect 503.", Ref: "RFC 5321 §4.1.4"}, true
	case (verb == "DATA" || verb == "BDAT") && (ph == explorer.PhaseReady || ph == explorer.PhaseMail):
		return explorer.Note{Title: "No accepted recipient yet", Detail: "The message can only be sent after at least one RCPT TO got 250; expect 503 (bad sequence) or 554 (no valid recipients).", Ref: "RFC 5321 §3.3"}, true
	case verb == "AUTH" && st.Authed:
		return explorer.Note{Title: "Already authenticated", Detail: "Only one successful AUTH is allowed per session; expect 503.", Ref: "RFC 4954 §4"}, true
	case verb == "AUTH" && (ph == explorer.PhaseMail || ph == explorer.PhaseRcpt):
		return explorer.Note{Title: "AUTH inside a transaction", Detail: "AUTH is not allowed between MAIL and the end of the message; expect 503.", Ref: "RFC 4954 §4"}, true
	}
	return explorer.Note{}, false
}

// envelopeNotes explains the address and parameters of MAIL FROM / RCPT TO.
func envelopeNotes(verb, arg string) []explorer.Note {
	prefix := "FROM:"
	if verb == "RCPT" {
		prefix = "TO:"
	}
	// The command's own syntax: "MAIL FROM:" Reverse-path, "RCPT TO:" Forward-path.
	syntaxRef := "RFC 5321 §4.1.1.2"
	if verb == "RCPT" {
		syntaxRef = "RFC 5321 §4.1.1.3"
	}
	var notes []explorer.Note
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return []explorer.Note{{Title: "Missing " + prefix, Detail: fmt.Sprintf("The syntax is %s %s<address>; without it the server answers 501.", verb, prefix), Ref: syntaxRef}}
	}
	rest := arg[len(prefix):]
	if strings.HasPrefix(rest, " ") {
		notes = append(notes, explorer.Note{Title: "Space after the colon", Detail: "The standard allows no space between '" + prefix + "' and '<'. Many servers accept it anyway; strict ones answer 501.", Ref: syntaxRef})
		rest = strings.TrimLeft(rest, " ")
	}
	var addr, params string
	if strings.HasPrefix(rest, "<") {
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return append(notes, explorer.Note{Title: "Unclosed angle bracket", Detail: "The address must be written <user@example.org>; expect 501.", Ref: "RFC 5321 §4.1.2"})
		}
		addr, params = rest[1:end], rest[end+1:]
	} else {
		addr, params, _ = strings.Cut(rest, " ")
		notes = append(notes, explorer.Note{Title: "Address without angle brackets", Detail: "The address must be enclosed in <>; lenient servers accept it, strict ones answer 501.", Ref: "RFC 5321 §4.1.2"})
	}
	notes = append(notes, addressNote(verb, addr))
	hasUTF8 := false
	for _, p := range strings.Fields(params) {
		if strings.EqualFold(p, "SMTPUTF8") {
			hasUTF8 = true
		}
		notes = append(notes, paramNote(verb, p))
	}
	if !hasUTF8 && nonASCII(addr) {
		notes = append(notes, explorer.Note{Title: "Non-ASCII address", Detail: "An address with UTF-8 characters needs the SMTPUTF8 extension and the SMTPUTF8 parameter on MAIL FROM; otherwise expect 553 5.6.7 for a RCPT TO, 550 5.6.7 for a MAIL FROM.", Ref: "RFC 6531 §3.5"})
	}
	return notes
}

func nonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

func addressNote(verb, addr string) explorer.Note {
	q := show([]byte("<" + addr + ">"))
	switch {
	case verb == "MAIL" && addr == "":
		return explorer.Note{Title: "Null reverse-path <>", Detail: "An empty sender marks a message that must never be bounced: bounces (delivery status notifications) and auto-replies use it, so errors cannot loop.", Ref: "RFC 5321 §4.5.5"}
	case verb == "MAIL":
		return explorer.Note{Title: "Envelope sender " + q, Detail: "The reverse-path: where bounces go and the domain SPF checks. It is separate from the From: header the reader sees, which may differ.", Ref: "RFC 5321 §3.3"}
	case strings.HasPrefix(addr, "@"):
		return explorer.Note{Title: "Source route " + q, Detail: "The @host,@host: prefix is an obsolete source route; servers should ignore the route and use only the final address.", Ref: "RFC 5321 §F.2"}
	case strings.EqualFold(addr, "postmaster") || strings.HasPrefix(strings.ToLower(addr), "postmaster@"):
		return explorer.Note{Title: "Envelope recipient " + q + " (postmaster)", Detail: "Every mail domain must accept mail for postmaster, the contact for mail problems.", Ref: "RFC 5321 §4.5.1"}
	case addr == "":
		return explorer.Note{Title: "Empty recipient <>", Detail: "A recipient cannot be empty; expect 501 or 553.", Ref: "RFC 5321 §4.1.1.3"}
	}
	return explorer.Note{Title: "Envelope recipient " + q, Detail: "The forward-path: a mailbox the server must deliver to. Only RCPT TO decides delivery; To:, Cc: and Bcc: headers play no part, which is how Bcc works.", Ref: "RFC 5321 §3.3"}
}

// paramNote explains one esmtp-param (KEY or KEY=VALUE).
func paramNote(verb, p string) explorer.Note {
	key, val, hasVal := strings.Cut(p, "=")
	key = strings.ToUpper(key)
	mp, ok := mailParams[key]
	if !ok {
		return explorer.Note{Title: "Unknown parameter " + show([]byte(key)), Detail: "A server that does not support this parameter answers 555 (MAIL/RCPT parameters not recognized).", Ref: "RFC 5321 §4.1.1.11"}
	}
	n := mp.note()
	if hasVal {
		n.Title = strings.Replace(n.Title, key+"=", key+"="+clean(val), 1)
	}
	if !hasVal && strings.HasPrefix(mp.Title, key+"=") {
		n.Detail += " This parameter needs a value; expect 501."
	}
	if mp.onRcpt != (verb == "RCPT") {
		other := "MAIL FROM"
		if mp.onRcpt {
			other = "RCPT TO"
		}
		n.Detail += " It belongs on " + other + ", so expect 555."
	}
	switch key {
	case "SIZE":
		if v, err := strconv.ParseUint(val, 10, 64); err == nil {
			n.Detail += " Declared: " + octets(v) + "."
		} else if hasVal {
			n.Detail += " The value must be a number of octets; expect 501."
		}
	case "BODY":
		switch strings.ToUpper(val) {
		case "BINARYMIME":
			n.Ref = "RFC 3030 §3"
			n.Detail += " BINARYMIME requires the message to be sent with BDAT."
		case "7BIT", "8BITMIME":
		default:
			n.Detail += " Unknown body type; expect 501 or 555."
		}
	case "ORCPT", "ENVID", "AUTH":
		if d := xtextDecode(val); d != val {
			n.Detail += " Decoded: " + show([]byte(d)) + "."
		}
	}
	return n
}

// xtextDecode undoes the +XX escapes of RFC 3461 §4 xtext.
func xtextDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '+' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octets(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d octets (%.1f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d octets (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d octets", n)
}

// authCommandNotes explains "AUTH mech [initial-response]".
func authCommandNotes(arg string, ev explorer.Event) []explorer.Note {
	mech, ir, hasIR := strings.Cut(strings.TrimSpace(arg), " ")
	mech = strings.ToUpper(mech)
	if mech == "" {
		return []explorer.Note{{Title: "Missing mechanism", Detail: "AUTH needs a SASL mechanism name such as PLAIN; expect 501.", Ref: saslRef(ev.State.Proto)}}
	}
	var notes []explorer.Note
	if e, ok := saslMechs[mech]; ok {
		notes = append(notes, e.note())
	} else {
		notes = append(notes, explorer.Note{Title: "Unknown mechanism " + show([]byte(mech)), Detail: "Use one of the mechanisms the server listed; an unsupported one gets 504 (SMTP) or -ERR (POP3).", Ref: saslRef(ev.State.Proto)})
	}
	if hasIR {
		notes = append(notes, responseNotes(mech, ir, roleUser, ev)...)
	} else if (mech == "PLAIN" || mech == "LOGIN") && !ev.TLS {
		notes = append(notes, explorer.Note{Title: "Password login without TLS", Detail: "The credentials that follow will cross the network readably; use STARTTLS/STLS first.", Ref: "RFC 4616 §1"})
	}
	return notes
}

func bdatNote(arg string) explorer.Note {
	f := strings.Fields(arg)
	if len(f) == 0 {
		return explorer.Note{Title: "Missing chunk size", Detail: "BDAT needs the number of octets that follow; expect 501.", Ref: "RFC 3030 §2"}
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return explorer.Note{Title: "Bad chunk size", Detail: "The chunk size must be a number of octets; expect 501.", Ref: "RFC 3030 §2"}
	}
	last := len(f) > 1 && strings.EqualFold(f[1], "LAST")
	d := "Exactly " + octets(n) + " of message data follow, sent as is: no dot-stuffing and no final dot."
	if last {
		d += " LAST: this is the final chunk, so the 250 that follows accepts the whole message."
	}
	return explorer.Note{Title: fmt.Sprintf("Chunk of %d octets", n), Detail: d, Ref: "RFC 3030 §2"}
}

// smtpServer explains a reply line.
func smtpServer(ev explorer.Event, h hints) []explorer.Note {
	st := ev.State
	code, sep, text, ok := parseReply(ev.Line)
	if !ok {
		return []explorer.Note{{Title: "Not a valid SMTP reply line", Detail: "Every reply line starts with a three-digit code followed by a space (last line) or a hyphen (more lines follow).", Ref: "RFC 5321 §4.2"}}
	}
	if st.Command == "EHLO" && code == 250 {
		kw, _, _ := strings.Cut(text, " ")
		_, known := ehloKeywords[strings.ToUpper(kw)]
		if st.Multi || known {
			return capabilityNotes(text, ev)
		}
	}
	if st.Multi {
		return nil
	}
	notes := []explorer.Note{replyNote(code, sep, text, st)}
	if enh, rest, ok := enhancedPrefix(text); ok && code/100 != 3 {
		if e, ok := EnhancedCode(enh); ok {
			notes = append(notes, e.note())
		}
		text = rest
	}
	if code >= 400 {
		notes = append(notes, outcomeNote(code, st, text, enhancedOf(ev.Line)))
		if n, ok := variantNote(code, text); ok {
			notes = append(notes, n)
		}
	}
	return notes
}

// enhancedPrefix splits "5.1.1 text" into the code and the text.
func enhancedPrefix(text string) (string, string, bool) {
	first, rest, _ := strings.Cut(text, " ")
	if _, _, _, ok := parseEnhanced(first); ok {
		return first, rest, true
	}
	return "", text, false
}

// replyNote explains the reply code in the context of the command it answers.
func replyNote(code int, sep byte, text string, st explorer.State) explorer.Note {
	e, _ := ReplyCode(code)
	n := e.note()
	if _, ok := replyCodes[code]; !ok {
		n.Title = fmt.Sprintf("%d (unregistered code): %s", code, e.Title)
	}
	cmd := st.Command
	afterDot := endOfData(st)
	switch {
	case code == 220 && cmd == "STARTTLS":
		return explorer.Note{Title: "220 Ready to start TLS", Detail: "The TLS handshake starts right after this line. Once it succeeds, the client forgets the extensions it learnt and should send EHLO again as its first command.", Ref: "RFC 3207 §4.2"}
	case code == 220:
		return explorer.Note{Title: "220 Greeting: service ready", Detail: "The server is ready and usually names itself. The client answers with EHLO and its own host name.", Ref: "RFC 5321 §4.2.3"}
	case code == 250 && cmd == "EHLO":
		d := "The first line greets the client; each following line names one service extension the client may use."
		if sep == ' ' {
			d = "No extensions are listed: only the basic commands of RFC 5321 can be used."
		}
		return explorer.Note{Title: "250 EHLO accepted", Detail: d, Ref: "RFC 5321 §4.1.1.1"}
	case code == 250 && cmd == "HELO":
		return explorer.Note{Title: "250 HELO accepted", Detail: "The session is open in basic mode: no extensions (no STARTTLS, no AUTH) are available after HELO.", Ref: "RFC 5321 §4.1.1.1"}
	case code == 250 && cmd == "MAIL":
		return explorer.Note{Title: "250 Sender accepted", Detail: "The transaction is open; now give one RCPT TO per recipient.", Ref: "RFC 5321 §4.1.1.2"}
	case (code == 250 || code == 251) && cmd == "RCPT":
		return explorer.Note{Title: fmt.Sprintf("%d Recipient accepted", code), Detail: "This recipient will get the message. Add more with RCPT TO, or send the message with DATA.", Ref: "RFC 5321 §4.1.1.3"}
	case code == 250 && afterDot:
		return explorer.Note{Title: "250 Message accepted", Detail: "The server has taken responsibility for the message: it must deliver it or send a bounce. The text usually holds a queue id to find it in the server's logs.", Ref: "RFC 5321 §4.2.5"}
	case code == 250 && cmd == "BDAT":
		return explorer.Note{Title: "250 Chunk received", Detail: "The chunk was received. After BDAT ... LAST this reply means the whole message was accepted and the server took responsibility for it.", Ref: "RFC 3030 §2"}
	case code == 250 && cmd == "RSET":
		return explorer.Note{Title: "250 Transaction reset", Detail: "Sender, recipients and data are forgotten; the session is ready for a new MAIL FROM.", Ref: "RFC 5321 §4.1.1.5"}
	case code == 250 && cmd == "NOOP":
		return explorer.Note{Title: "250 OK (NOOP)", Detail: "The server is alive; nothing changed.", Ref: "RFC 5321 §4.1.1.9"}
	case code == 250 && cmd == "VRFY":
		return explorer.Note{Title: "250 Address verified", Detail: "The server confirms the mailbox exists (most servers no longer say this).", Ref: "RFC 5321 §4.1.1.6"}
	case code == 221:
		return explorer.Note{Title: "221 Closing connection", Detail: "The server says goodbye and closes the connection; the session is over.", Ref: "RFC 5321 §4.1.1.10"}
	case code == 235:
		return explorer.Note{Title: "235 Authentication succeeded", Detail: "The server now knows who you are; a submission server will relay your mail to other domains.", Ref: "RFC 4954 §6"}
	case code == 334:
		return challengeNote(st.AuthMech, text, explorer.SMTP)
	case code == 354:
		return explorer.Note{Title: "354 Start mail input", Detail: "Send the message now: header lines, an empty line, the body, then a line holding only '.'. Lines that start with a dot get an extra dot (dot-stuffing).", Ref: "RFC 5321 §4.1.1.4"}
	case code == 421:
		return explorer.Note{Title: "421 Service not available: the server is closing the connection", Detail: "The server ends the session now (overload, shutdown, timeout or too many errors). Anything not yet accepted must be sent again later.", Ref: "RFC 5321 §3.8"}
	case code == 554 && cmd == "":
		return explorer.Note{Title: "554 No SMTP service here", Detail: "Instead of a 220 greeting, the server refuses the whole session (often a blocklisted client IP). The client should send QUIT and go away.", Ref: "RFC 5321 §3.1"}
	case code == 503 && (cmd == "DATA" || cmd == "RCPT" || cmd == "MAIL"):
		n.Detail += " Here: " + cmd + " came before what it depends on (EHLO, MAIL FROM, an accepted RCPT TO) or AUTH is required first."
	case code/100 == 5 && afterDot:
		n.Detail = "The message was refused after it was sent (content, size, spam or policy). " + n.Detail
	}
	return n
}

// enhancedOf returns the enhanced status code at the start of a reply's
// text, or "".
func enhancedOf(line string) string {
	if _, _, text, ok := parseReply(line); ok {
		if enh, _, ok := enhancedPrefix(text); ok {
			return enh
		}
	}
	return ""
}

// endOfData reports a reply to the "." that ends DATA content: the
// recorder files it under DATA in the data phase. A "." typed as a command
// outside DATA is just an unknown command, and its reply concerns no message.
func endOfData(st explorer.State) bool {
	return st.Phase == explorer.PhaseData && (st.Command == "DATA" || st.Command == ".")
}

// messageCommand: a command whose refusal concerns a message a relay holds
// (the envelope sender, a recipient, the content), so that a 4xx means the
// message stays queued and a 5xx means a bounce (RFC 5321 §6.1).
func messageCommand(st explorer.State) bool {
	switch st.Command {
	case "MAIL", "DATA", "BDAT":
		return true
	case "RCPT":
		// Only inside a transaction: a RCPT before MAIL is a sequence error.
		return st.Phase == explorer.PhaseMail || st.Phase == explorer.PhaseRcpt || st.Phase == ""
	}
	return endOfData(st)
}

// outcomeNote says what a real client does after a 4xx or 5xx reply; text
// is the reply text after any enhanced code enh. What comes next depends on
// the command answered and the phase, not only on the code class.
func outcomeNote(code int, st explorer.State, text, enh string) explorer.Note {
	cmd := st.Command
	afterDot := endOfData(st)
	low := strings.ToLower(text)
	authCmd := cmd == "AUTH" || st.Phase == explorer.PhaseAuth
	switch {
	case (code/100 == 4 || code == 552) && (strings.HasSuffix(enh, ".5.3") || strings.Contains(low, "too many recipients")):
		return explorer.Note{Title: "Next: send the other recipients in another transaction", Detail: "The server takes no more recipients in this transaction. The recipients already accepted stay; after this message is sent, a real client sends the refused ones right away in a new transaction (MAIL FROM again). No waiting is needed, and even a 552 here counts as temporary.", Ref: "RFC 5321 §4.5.3.1.10"}
	case authCmd && code == 503:
		if st.Authed || strings.Contains(low, "already") {
			return explorer.Note{Title: "Next: nothing to fix, the session is already logged in", Detail: "A second AUTH in one session is a bad sequence of commands; the first login still holds, so carry on with MAIL FROM.", Ref: "RFC 4954 §4"}
		}
		return explorer.Note{Title: "Next: send AUTH at the right moment", Detail: "AUTH came out of order: before EHLO, inside a mail transaction, or after a successful login. The credentials were not checked.", Ref: "RFC 4954 §4"}
	case authCmd && code == 504:
		return explorer.Note{Title: "Next: choose a mechanism the server offers", Detail: "The server does not support this SASL mechanism; pick one from the AUTH line of its EHLO reply. The credentials were not checked.", Ref: "RFC 4954 §4"}
	case cmd == "AUTH" && st.Phase != explorer.PhaseAuth && (code == 500 || code == 501 || code == 502 || code == 555):
		if code == 502 {
			return explorer.Note{Title: "Next: log in another way", Detail: "AUTH is not offered on this connection (often only after STARTTLS, or only on the submission port 587/465). No credentials were checked.", Ref: "RFC 4954 §4"}
		}
		return explorer.Note{Title: "Next: fix the AUTH command", Detail: "A syntax error in the AUTH command itself (for example no mechanism name: AUTH PLAIN, AUTH LOGIN). No credentials were sent or checked, so the user name and password are not the problem.", Ref: "RFC 4954 §4"}
	case st.Phase == explorer.PhaseAuth && code == 501:
		return explorer.Note{Title: "Next: the login exchange was cancelled", Detail: "The server could not decode the response as base64, or the client cancelled with \"*\"; the login ended without checking the credentials. Start again with AUTH.", Ref: "RFC 4954 §4"}
	case code == 530:
		return explorer.Note{Title: "Next: log in first", Detail: "The server wants AUTH before it takes this command: send STARTTLS if offered, then AUTH, then repeat the command. Nothing was refused for good.", Ref: "RFC 4954 §6"}
	case code == 538:
		return explorer.Note{Title: "Next: STARTTLS, then log in", Detail: "This mechanism may only be used inside TLS: send STARTTLS, EHLO again, then AUTH. The password was not checked.", Ref: "RFC 4954 §6"}
	}
	if code/100 == 4 {
		switch {
		case code == 421:
			return explorer.Note{Title: "Next: reconnect later", Detail: "A mail server keeps the message queued and connects again later; a mail program shows an error and retries.", Ref: "RFC 5321 §4.5.4.1"}
		case authCmd:
			return explorer.Note{Title: "Next: try to log in again later", Detail: "A temporary failure on the server's side: the credentials may well be right.", Ref: "RFC 4954 §6"}
		case cmd == "RCPT" && messageCommand(st):
			return explorer.Note{Title: "Next: retry this recipient later", Detail: "Temporary refusal (greylisting often looks like this). A real server keeps the message queued for this recipient and retries with growing delays (typically 30 minutes or more, for 4-5 days) before bouncing; the other recipients are unaffected.", Ref: "RFC 5321 §4.5.4.1"}
		case messageCommand(st):
			return explorer.Note{Title: "Next: retry later (temporary failure)", Detail: "4xx means try again later. A real mail server keeps the message in its queue and retries with growing delays (typically at least 30 minutes apart, for 4-5 days) before giving up and bouncing it to the sender.", Ref: "RFC 5321 §4.5.4.1"}
		}
		return explorer.Note{Title: "Next: retry the command later", Detail: "4xx means the server cannot do this now but may later. This reply concerns the command, not a message: nothing is queued or returned because of it.", Ref: "RFC 5321 §4.2.1"}
	}
	switch {
	case afterDot:
		return explorer.Note{Title: "Next: the message bounces to the sender", Detail: "Permanent refusal of the whole message. A relaying server sends a bounce (delivery status notification) quoting this reply to the envelope sender; a mail program shows the error to the user.", Ref: "RFC 5321 §4.2.5"}
	case authCmd:
		return explorer.Note{Title: "Next: fix the login, do not retry it unchanged", Detail: "The login was refused. Check the user name and password (many providers need an app password), or STARTTLS first if the server asked for encryption.", Ref: "RFC 4954 §6"}
	case code == 503:
		return explorer.Note{Title: "Next: send the commands in order", Detail: sequenceHint(cmd) + " The command was refused before it did anything; no message is affected.", Ref: "RFC 5321 §4.1.4"}
	case code == 500 || code == 501 || code == 502 || code == 504 || code == 555:
		return explorer.Note{Title: "Next: fix the command", Detail: "The command itself was not acceptable here (unknown, malformed, not implemented, or a parameter the server does not support); sending it again unchanged fails again. This refuses the command, not a message.", Ref: "RFC 5321 §4.2.1"}
	case cmd == "RCPT" && messageCommand(st):
		return explorer.Note{Title: "Next: this recipient is dropped; the bounce goes to the sender", Detail: "Permanent refusal of this address only; the transaction goes on with the other recipients. A relaying server reports the failure to the envelope sender (MAIL FROM) in a bounce message.", Ref: "RFC 5321 §6.1"}
	case messageCommand(st):
		return explorer.Note{Title: "Next: do not retry; bounce to the sender", Detail: "5xx is permanent: a real client does not repeat the same request. A mail server returns the message to the envelope sender (MAIL FROM) with this reply quoted; a mail program shows the error.", Ref: "RFC 5321 §4.2.1"}
	case cmd == "":
		return explorer.Note{Title: "Next: give up on this server", Detail: "The server will not talk to this client. A mail server tries the next MX host if there is one; if none takes the message, it is returned to its sender.", Ref: "RFC 5321 §3.1"}
	case cmd == "EHLO":
		return explorer.Note{Title: "Next: try HELO, or give up on this server", Detail: "A server that does not know EHLO answers 500/502 and the client falls back to HELO; any other refusal means the server will not talk to this client. The command concerns no message.", Ref: "RFC 5321 §4.1.1.1"}
	case cmd == "STARTTLS":
		return explorer.Note{Title: "Next: no TLS on this connection", Detail: "The server refused STARTTLS. Do not send a password without TLS: use the implicit-TLS port (465) or another server. The command concerns no message.", Ref: "RFC 3207 §4"}
	}
	return explorer.Note{Title: "Next: do not repeat the command unchanged", Detail: "5xx is permanent for this command. It concerns no message: none is queued or returned because of it.", Ref: "RFC 5321 §4.2.1"}
}

// sequenceHint says what must come before cmd (RFC 5321 §4.1.4).
func sequenceHint(cmd string) string {
	switch cmd {
	case "MAIL":
		return "A bad sequence: MAIL FROM needs EHLO (or HELO) first, may need AUTH, and cannot start while a transaction is open (send RSET to start over)."
	case "RCPT":
		return "A bad sequence: RCPT TO needs an accepted MAIL FROM first; send MAIL FROM, then RCPT TO."
	case "DATA", "BDAT":
		return "A bad sequence: " + cmd + " needs an accepted MAIL FROM and at least one accepted RCPT TO first."
	}
	return "A bad sequence of commands: this command is not valid at this point of the session."
}

// variantNote recognises well-known reasons in the reply text.
func variantNote(code int, text string) (explorer.Note, bool) {
	low := strings.ToLower(text)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("greylist", "graylist", "grey-list", "gray-list"):
		return explorer.Note{Title: "Greylisting", Detail: "The server defers unknown senders on purpose; real mail servers retry after a few minutes and get through, while many spam bots never retry.", Ref: "RFC 6647 §1"}, true
	case has("relay"):
		return explorer.Note{Title: "Relaying denied", Detail: "This server is not the destination for that domain and does not know you. To send to other domains, log in with AUTH on your provider's submission server (port 587 or 465).", Ref: "RFC 5321 §3.6"}, true
	case has("spamhaus", "blocklist", "blacklist", "dnsbl", "rbl", "listed"):
		return explorer.Note{Title: "Client IP on a DNS blocklist", Detail: "The receiver looked up the connecting IP address in a DNS-based blocklist and found it listed; check the list's website for why and how to get delisted.", Ref: "RFC 5782 §2.1"}, true
	case has("dmarc"):
		return explorer.Note{Title: "DMARC policy", Detail: "The From: domain publishes a DMARC policy asking receivers to reject mail that fails SPF and DKIM alignment.", Ref: "RFC 7489 §6.3"}, true
	case has("spf"):
		return explorer.Note{Title: "SPF check failed", Detail: "The sending IP address is not listed in the SPF record of the MAIL FROM domain.", Ref: "RFC 7208 §8.4"}, true
	}
	return explorer.Note{}, false
}

// capabilityNotes explains one EHLO keyword line ("SIZE 35882577").
func capabilityNotes(text string, ev explorer.Event) []explorer.Note {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil
	}
	kw := strings.ToUpper(fields[0])
	args := fields[1:]
	// Old servers announce "AUTH=LOGIN PLAIN" for early Outlook clients.
	if strings.HasPrefix(kw, "AUTH=") {
		args = append([]string{kw[5:]}, args...)
		kw = "AUTH"
	}
	e, ok := ehloKeywords[kw]
	if !ok {
		if strings.HasPrefix(kw, "X") {
			return []explorer.Note{{Title: "Private extension " + show([]byte(kw)), Detail: "Keywords starting with X are local, non-standard extensions of this server.", Ref: "RFC 5321 §2.2.2"}}
		}
		return []explorer.Note{{Title: "Unknown extension " + show([]byte(kw)), Detail: "Not in this knowledge base; see the IANA SMTP Service Extensions registry.", Ref: "RFC 5321 §2.2.2"}}
	}
	n := e.note()
	switch kw {
	case "SIZE":
		if len(args) == 0 {
			n.Detail += " Here: no number, so the server says nothing about its limit."
		} else if v, err := strconv.ParseUint(args[0], 10, 64); err == nil {
			if v == 0 {
				n.Detail += " Here: 0, no fixed maximum is in force (a message can still be refused for lack of storage)."
			} else {
				n.Detail += " Here: at most " + octets(v) + "."
			}
		}
	case "LIMITS":
		if len(args) > 0 {
			n.Detail += " Here: " + clean(strings.Join(args, ",")) + "."
		}
	}
	notes := []explorer.Note{n}
	if kw == "AUTH" {
		weak := false
		for _, m := range args {
			m = strings.ToUpper(m)
			if me, ok := saslMechs[m]; ok {
				notes = append(notes, me.note())
			} else {
				notes = append(notes, explorer.Note{Title: "SASL " + clean(m), Detail: "A SASL mechanism not described in this knowledge base; see the IANA SASL Mechanisms registry.", Ref: "RFC 4422 §3.1"})
			}
			weak = weak || m == "PLAIN" || m == "LOGIN"
		}
		if weak && !ev.TLS {
			notes = append(notes, explorer.Note{Title: "Password mechanisms offered without TLS", Detail: "This connection is not encrypted, yet PLAIN/LOGIN are offered: a login now would expose the password. Use STARTTLS first.", Ref: "RFC 4616 §1"})
		}
	}
	return notes
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
