package annotate

// replyCodes explains the three-digit SMTP reply codes of RFC 5321 §4.2.2 and
// §4.2.3, and the codes added by extensions (AUTH, STARTTLS, null MX).
var replyCodes = map[int]Entry{
	211: {Title: "211 System status",
		Detail: "A system status or help reply, for people to read.",
		Ref:    "RFC 5321 §4.2.3"},
	214: {Title: "214 Help message",
		Detail: "Help text answering HELP; meant for a human, not for programs.",
		Ref:    "RFC 5321 §4.2.3"},
	220: {Title: "220 Service ready",
		Detail: "The server's greeting: it is ready to talk. The text after the code usually names the server; the client now sends EHLO.",
		Ref:    "RFC 5321 §4.2.3"},
	221: {Title: "221 Closing connection",
		Detail: "The answer to QUIT: the server says goodbye and closes the connection.",
		Ref:    "RFC 5321 §4.2.3"},
	235: {Title: "235 Authentication succeeded",
		Detail: "The SASL exchange is over and the server knows who you are. A submission server will now relay mail for you.",
		Ref:    "RFC 4954 §6"},
	250: {Title: "250 OK",
		Detail: "The requested action was completed.",
		Ref:    "RFC 5321 §4.2.3"},
	251: {Title: "251 User not local; will forward",
		Detail: "The recipient is not on this server but the server accepts the message and will forward it.",
		Ref:    "RFC 5321 §4.2.3"},
	252: {Title: "252 Cannot verify, will try",
		Detail: "The server will not confirm whether the user exists (VRFY is usually disabled for privacy) but will accept a message for it.",
		Ref:    "RFC 5321 §4.2.3"},
	334: {Title: "334 Continue authentication",
		Detail: "A SASL challenge: the text after the code is base64 and the client answers with a base64 line (or * to cancel).",
		Ref:    "RFC 4954 §4"},
	354: {Title: "354 Start mail input",
		Detail: "The server is ready for the message: send the header lines, a blank line, the body, and end with a line holding only a dot.",
		Ref:    "RFC 5321 §4.2.3"},
	421: {Title: "421 Service not available, closing",
		Detail: "The server is closing the connection (overload, shutdown, too many errors or a timeout). It is temporary: a real client reconnects later.",
		Ref:    "RFC 5321 §4.2.3"},
	432: {Title: "432 Password transition needed",
		Detail: "The account must first transition to this mechanism, typically by logging in once with PLAIN (over TLS); the mechanism then works in later sessions.",
		Ref:    "RFC 4954 §6"},
	450: {Title: "450 Mailbox unavailable (temporary)",
		Detail: "The mailbox is busy or temporarily blocked; greylisting servers use 450 for a first attempt. Try again later.",
		Ref:    "RFC 5321 §4.2.3"},
	451: {Title: "451 Local error in processing",
		Detail: "The server aborted the action for now: a temporary problem of its own, or a deliberate deferral. With 4.7.1 and text such as \"try again later\" or \"greylisted\", the most common reason is greylisting, which accepts the retry. Try again later.",
		Ref:    "RFC 5321 §4.2.3"},
	452: {Title: "452 Insufficient system storage",
		Detail: "The server is short of space, or (after RCPT) has reached its limit of recipients for this message; send the rest in another transaction.",
		Ref:    "RFC 5321 §4.2.3"},
	454: {Title: "454 Temporary authentication or TLS failure",
		Detail: "AUTH failed for a temporary reason on the server side, or TLS is not available right now.",
		Ref:    "RFC 4954 §6"},
	455: {Title: "455 Server unable to accommodate parameters",
		Detail: "The server cannot handle the MAIL FROM or RCPT TO parameters right now; try again later.",
		Ref:    "RFC 5321 §4.2.3"},
	500: {Title: "500 Syntax error, command unrecognized",
		Detail: "The server did not understand the command (a typo, an unknown verb or a line too long).",
		Ref:    "RFC 5321 §4.2.3"},
	501: {Title: "501 Syntax error in parameters",
		Detail: "The verb was understood but its arguments were not, e.g. an address without angle brackets or bad base64.",
		Ref:    "RFC 5321 §4.2.3"},
	502: {Title: "502 Command not implemented",
		Detail: "The server knows the command but does not offer it here.",
		Ref:    "RFC 5321 §4.2.3"},
	503: {Title: "503 Bad sequence of commands",
		Detail: "The command came at the wrong moment: RCPT before MAIL, DATA before any accepted RCPT, MAIL before EHLO, or AUTH required first.",
		Ref:    "RFC 5321 §4.2.3"},
	504: {Title: "504 Command parameter not implemented",
		Detail: "The command is known but this parameter (often an AUTH mechanism) is not supported.",
		Ref:    "RFC 5321 §4.2.3"},
	521: {Title: "521 Host does not accept mail",
		Detail: "This host never accepts mail at all; the client must not try again.",
		Ref:    "RFC 7504 §3"},
	530: {Title: "530 Authentication required",
		Detail: "The server needs AUTH (often after STARTTLS) before it accepts this command.",
		Ref:    "RFC 4954 §6"},
	534: {Title: "534 Authentication mechanism is too weak",
		Detail: "The server's policy needs a stronger mechanism than the one chosen.",
		Ref:    "RFC 4954 §6"},
	535: {Title: "535 Authentication credentials invalid",
		Detail: "The user name or password was wrong (or the account may not log in this way).",
		Ref:    "RFC 4954 §6"},
	538: {Title: "538 Encryption required for mechanism",
		Detail: "This mechanism sends the password readably, so the server wants TLS first: send STARTTLS.",
		Ref:    "RFC 4954 §6"},
	550: {Title: "550 Mailbox unavailable",
		Detail: "The action was refused for good: the mailbox does not exist, or policy rejects the message (spam, relaying denied).",
		Ref:    "RFC 5321 §4.2.3"},
	551: {Title: "551 User not local",
		Detail: "The recipient is not here; the text may give the address to try instead.",
		Ref:    "RFC 5321 §4.2.3"},
	552: {Title: "552 Exceeded storage allocation",
		Detail: "The message is too big or the mailbox is full.",
		Ref:    "RFC 5321 §4.2.3"},
	553: {Title: "553 Mailbox name not allowed",
		Detail: "The address is syntactically wrong or not allowed, e.g. a sender you are not permitted to use.",
		Ref:    "RFC 5321 §4.2.3"},
	554: {Title: "554 Transaction failed",
		Detail: "The transaction failed for good; as a greeting, 554 means this server will not talk to you.",
		Ref:    "RFC 5321 §4.2.3"},
	555: {Title: "555 MAIL/RCPT parameters not recognized",
		Detail: "A parameter after the address (like SIZE= or BODY=) is unknown or not implemented.",
		Ref:    "RFC 5321 §4.2.3"},
	556: {Title: "556 Domain does not accept mail",
		Detail: "The recipient's domain publishes a null MX (it never receives mail); the message cannot be delivered.",
		Ref:    "RFC 7505 §4.1"},
}

// replyClass explains the first digit of a reply code, RFC 5321 §4.2.1.
var replyClass = map[int]Entry{
	2: {Title: "2yz Positive completion", Detail: "The action succeeded; the client may send the next command.", Ref: "RFC 5321 §4.2.1"},
	3: {Title: "3yz Positive intermediate", Detail: "So far so good; the server waits for more input (message text, a SASL response).", Ref: "RFC 5321 §4.2.1"},
	4: {Title: "4yz Transient negative completion", Detail: "The action failed, but the condition is temporary: the same request may succeed later.", Ref: "RFC 5321 §4.2.1"},
	5: {Title: "5yz Permanent negative completion", Detail: "The action failed and repeating it unchanged will fail again.", Ref: "RFC 5321 §4.2.1", Permanent: true},
}

func init() {
	for c, e := range replyCodes {
		if c >= 500 {
			e.Permanent = true
			replyCodes[c] = e
		}
	}
}

// ReplyCode looks up an SMTP reply code. Unknown codes of a known class get
// the class's explanation.
func ReplyCode(code int) (Entry, bool) {
	if e, ok := replyCodes[code]; ok {
		return e, true
	}
	if code < 200 || code > 599 {
		return Entry{}, false
	}
	e, ok := replyClass[code/100]
	return e, ok
}
