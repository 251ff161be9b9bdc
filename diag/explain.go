package diag

import (
	"regexp"
	"strconv"
	"strings"
)

// Explanation says what a reply code, an enhanced status code (RFC 3463), a
// reply line, a POP3 -ERR [CODE] response (RFC 2449 §8, RFC 3206) or a DSN
// Diagnostic-Code line (RFC 3464 §2.3.6) means, who has to act, whether it
// is permanent, what a mail server does next and how to fix it.
type Explanation struct {
	Input        string   `json:"input"`
	Kind         string   `json:"kind"` // reply-code, enhanced-code, reply-line, pop3, diagnostic-code, text, unrecognised
	ReplyCode    int      `json:"reply_code,omitempty"`
	EnhancedCode string   `json:"enhanced_code,omitempty"`
	Text         string   `json:"text,omitempty"`
	Meaning      string   `json:"meaning"`
	Details      []string `json:"details,omitempty"`
	Reason       string   `json:"reason,omitempty"` // bounce-classifier label
	Fault        string   `json:"fault"`            // sender, recipient, recipient-server, sender-server, network, client, server, none, unknown
	Outcome      string   `json:"outcome"`          // success, intermediate, transient, permanent, unknown
	Permanent    bool     `json:"permanent"`
	NextStep     string   `json:"next_step"`
	Fix          string   `json:"fix"`
	Provider     string   `json:"provider,omitempty"`
	ProviderRule string   `json:"provider_rule,omitempty"`
	Refs         []string `json:"refs"`
}

// KindUnrecognised marks input that is no reply code, status code, reply
// line or known wording: there is nothing to explain.
const KindUnrecognised = "unrecognised"

var (
	reReplyOnly    = regexp.MustCompile(`^[2-5][0-9][0-9]$`)
	reEnhancedOnly = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)
	reReplyLine    = regexp.MustCompile(`(?s)^([2-5][0-9][0-9])(?:[ -]|:\s|$)(.*)$`)
	reEnhancedIn   = regexp.MustCompile(`(^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})([^0-9.]|\.[^0-9]|\.?$)`)
	rePOP3         = regexp.MustCompile(`^(?i)(-ERR|\+OK)\s*(?:\[([A-Za-z0-9/._-]+)\])?\s*(.*)$`)
	reDiagCode     = regexp.MustCompile(`^(?i)(?:Diagnostic-Code|Remote-MTA|Status|X-Postfix-Sender)?\s*:?\s*([A-Za-z0-9._-]+)\s*;\s*(.*)$`)
)

// findEnhancedCode returns the first RFC 3463 code in s that is not part of
// an IP address or a version number.
func findEnhancedCode(s string) string {
	m := reEnhancedIn.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[2]
}

// splitReply takes "550-5.7.1 a\n550 5.7.1 b" or "550 5.7.1 text" and
// returns the reply code, the enhanced code and the text with the codes of
// continuation lines removed.
func splitReply(s string) (int, string, string) {
	s = strings.TrimSpace(s)
	var code int
	var texts []string
	status := ""
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := reReplyLine.FindStringSubmatch(line)
		if m == nil {
			texts = append(texts, line)
			continue
		}
		c, _ := strconv.Atoi(m[1])
		if code == 0 {
			code = c
		}
		rest := strings.TrimSpace(m[2])
		if st := leadingStatus(rest); st != "" {
			if status == "" {
				status = st
			}
			rest = strings.TrimSpace(rest[len(st):])
		}
		texts = append(texts, rest)
	}
	text := strings.Join(texts, " ")
	if status == "" {
		status = findEnhancedCode(text)
	}
	return code, status, text
}

func leadingStatus(s string) string {
	f := strings.Fields(s)
	if len(f) > 0 && reEnhancedOnly.MatchString(f[0]) {
		return f[0]
	}
	return ""
}

// pop3Codes are the POP3 extended response codes (RFC 2449 §8, RFC 3206,
// RFC 6856).
var pop3Codes = map[string]struct{ meaning, fault, fix, ref string }{
	"LOGIN-DELAY": {"You logged in too soon after the last login; the server enforces a minimum delay between logins.", "client",
		"Check mail less often (the CAPA LOGIN-DELAY value says how many seconds).", "RFC 2449 §8.1.1"},
	"IN-USE": {"The mailbox is locked by another POP3 session (another client, or a session that did not QUIT).", "client",
		"Close the other mail program or wait for the old session to time out, then try again.", "RFC 2449 §8.1.2"},
	"SYS/TEMP": {"A temporary problem on the server, not your fault: try again later.", "server",
		"Wait and retry; tell the provider if it lasts.", "RFC 3206 §4"},
	"SYS/PERM": {"A permanent problem on the server side; retrying will not help.", "server",
		"Contact the provider's support.", "RFC 3206 §4"},
	"AUTH": {"The login failed because of the credentials (wrong user name or password, or the account is not allowed to use POP3).", "client",
		"Check the user name (often the full address) and password; some providers need an app password or POP3 enabled in settings.", "RFC 3206 §5"},
	"UTF8": {"The command needs UTF8 mode, which was not enabled.", "client", "Send UTF8 first (if CAPA lists it).", "IANA POP3 Extension Mechanism (RFC 6856)"},
}

// Explain interprets one reply, code or diagnostic line.
func Explain(input string) Explanation {
	e := explain(input)
	dedupeExplanation(&e)
	return e
}

func explain(input string) Explanation {
	in := strings.TrimSpace(input)
	if len(in) > 8192 {
		in = in[:8192]
	}
	e := Explanation{Input: in, Fault: "unknown", Outcome: "unknown", Refs: []string{}}
	switch {
	case in == "":
		e.Kind = "text"
		e.Meaning = "Nothing to explain: give a reply code (550), an enhanced status code (5.7.1), a reply line, a POP3 -ERR line or a Diagnostic-Code line."
		return e
	case reReplyOnly.MatchString(in):
		e.Kind = "reply-code"
		e.ReplyCode, _ = strconv.Atoi(in)
	case reEnhancedOnly.MatchString(in):
		e.Kind = "enhanced-code"
		e.EnhancedCode = in
	case rePOP3.MatchString(in):
		return explainPOP3(e, rePOP3.FindStringSubmatch(in))
	default:
		line := in
		if m := reDiagCode.FindStringSubmatch(firstLine(in)); m != nil && !reReplyLine.MatchString(in) {
			e.Kind = "diagnostic-code"
			line = strings.TrimSpace(m[2] + strings.TrimPrefix(in, firstLine(in)))
			if !strings.EqualFold(m[1], "smtp") {
				e.Details = append(e.Details, "Diagnostic type "+m[1]+": the code is in that mail system's own form, not an SMTP reply (RFC 3464 §2.3.6).")
			}
		} else if reReplyLine.MatchString(in) {
			e.Kind = "reply-line"
		} else {
			e.Kind = "text"
		}
		e.ReplyCode, e.EnhancedCode, e.Text = splitReply(line)
		if e.ReplyCode == 0 && e.EnhancedCode == "" {
			e.Text = line
			if e.Kind == "text" && !knownWording(e.Text) {
				e.Kind = KindUnrecognised
				e.Meaning = "Not a reply code, status code or reply line: give a reply code (550), an enhanced status code (5.7.1), a whole reply line, a POP3 -ERR line or a Diagnostic-Code line."
				return e
			}
		}
	}
	fillExplanation(&e)
	return e
}

// textSays reports whether one of reason's wording rules matches text.
func textSays(reason, text string) bool {
	low := strings.ToLower(text)
	for _, r := range reasonTextRules {
		if r.reason == reason && r.re.MatchString(low) {
			return true
		}
	}
	return false
}

// knownWording: text without any code that still names a known cause
// ("User unknown", "Connection timed out", a provider's wording).
func knownWording(text string) bool {
	if _, ok := matchProvider(text); ok {
		return true
	}
	if greylistKind(4, text) != greyNone {
		return true
	}
	r := classifyBounce("", 0, text)
	return r != BounceOnHold && r != BounceUndefined
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func explainPOP3(e Explanation, m []string) Explanation {
	e.Kind = "pop3"
	e.Text = strings.TrimSpace(m[3])
	e.Refs = []string{"RFC 1939 §3"}
	if strings.EqualFold(m[1], "+OK") {
		e.Outcome, e.Fault = "success", "none"
		e.Meaning = "+OK: the POP3 server accepted the command."
		e.NextStep = "Nothing: continue the session."
		return e
	}
	e.Outcome = "unknown"
	code := strings.ToUpper(m[2])
	if p, ok := pop3Codes[code]; ok {
		e.Meaning = "-ERR [" + code + "]: " + p.meaning
		e.Fault, e.Fix = p.fault, p.fix
		e.Refs = append(e.Refs, p.ref)
		e.Permanent = code == "SYS/PERM" || code == "AUTH"
		if e.Permanent {
			e.Outcome = "permanent"
			e.NextStep = "A mail client stops and shows the error; retrying the same thing will not help."
		} else {
			e.Outcome = "transient"
			e.NextStep = "A mail client tries again at its next scheduled check."
		}
		return e
	}
	e.Meaning = "-ERR: the POP3 server refused the command. POP3 replies carry no numeric code; the text says why."
	if code != "" {
		e.Details = append(e.Details, "The response code ["+code+"] is not one of the registered POP3 extended response codes (RFC 2449 §8, RFC 3206).")
	}
	low := strings.ToLower(e.Text)
	switch {
	case strings.Contains(low, "already") && (strings.Contains(low, "auth") || strings.Contains(low, "logged")):
		e.Fault, e.Outcome = "client", "permanent"
		e.Details = append(e.Details, "The session is already logged in (TRANSACTION state): USER, PASS, APOP and AUTH are valid only before login, in the AUTHORIZATION state (RFC 1939 §3).")
		e.Fix = "Nothing to fix: the session stays logged in; go on with STAT, LIST or RETR."
		e.NextStep = "Nothing changed: the session carries on as before."
		return e
	case strings.Contains(low, "syntax") || strings.Contains(low, "invalid command") || strings.Contains(low, "unknown command"):
		e.Fault, e.Outcome = "client", "permanent"
		e.Fix = "Fix the command: RETR and DELE take a message number, TOP a message number and a line count (TOP 1 10); CAPA lists the optional commands."
		e.NextStep = "Nothing changed: the session carries on; the same command fails again."
		addRef(&e, "RFC 1939 §5")
		return e
	case strings.Contains(low, "lock") || strings.Contains(low, "in use") || strings.Contains(low, "busy"):
		p := pop3Codes["IN-USE"]
		e.Details = append(e.Details, "The wording matches [IN-USE]: "+p.meaning)
		e.Fault, e.Fix = p.fault, p.fix
		addRef(&e, p.ref)
	case strings.Contains(low, "password") || strings.Contains(low, "login") || strings.Contains(low, "auth"):
		e.Fault, e.Fix = "client", "Check the user name and password (an app password may be needed)."
	case strings.Contains(low, "no such message"):
		e.Fault, e.Fix = "client", "Use LIST or UIDL to see which message numbers exist; deleted messages are gone until RSET."
	default:
		e.Fix = "Read the server's text; send CAPA to see what the server supports."
	}
	e.NextStep = "A mail client shows the error; most retry at the next check."
	return e
}

func fillExplanation(e *Explanation) {
	var reply, enh codeEntry
	var haveReply, haveEnh bool
	if e.ReplyCode != 0 {
		reply, haveReply = replyCodeLookup(e.ReplyCode)
	}
	if e.EnhancedCode != "" {
		enh, haveEnh = enhancedCodeLookup(e.EnhancedCode)
	}
	class := 0
	switch {
	case e.ReplyCode != 0:
		class = e.ReplyCode / 100
	case e.EnhancedCode != "":
		class = int(e.EnhancedCode[0] - '0')
	}
	if haveReply {
		e.Details = append(e.Details, joinTitle(reply))
		addRef(e, reply.Ref)
	}
	if haveEnh {
		e.Details = append(e.Details, joinTitle(enh))
		addRef(e, enh.Ref)
	}
	if e.ReplyCode != 0 && e.EnhancedCode != "" && int(e.EnhancedCode[0]-'0') != class {
		e.Details = append(e.Details, "The reply code and the enhanced code disagree about the class; the reply code decides what a client does (RFC 3463 §2).")
	}
	switch class {
	case 2:
		e.Outcome, e.Fault = "success", "none"
		e.NextStep = "Nothing: the server accepted the command."
	case 3:
		e.Outcome, e.Fault = "intermediate", "none"
		e.NextStep = "The client sends the next part (the message after 354, the next SASL response after 334)."
	case 4:
		e.Outcome = "transient"
		e.NextStep = "A sending server keeps the message in its queue and retries later, with growing intervals (RFC 5321 §4.5.4.1 suggests at least 30 minutes between tries and giving up after 4-5 days); only then does it bounce the message to the sender. A mail client shows the error and you try again."
		addRef(e, "RFC 5321 §4.5.4.1")
	case 5:
		e.Outcome, e.Permanent = "permanent", true
		e.NextStep = "A sending server does not retry: it gives up on this recipient at once and returns a bounce (a DSN, RFC 3464) to the sender. A mail client shows the error; sending the same thing again will fail again."
		addRef(e, "RFC 3464")
	}
	if class == 2 || class == 3 {
		e.Meaning = firstNonEmpty(titleOnly(enh), titleOnly(reply), "Success.")
		if haveReply && reply.Detail != "" {
			// With its title: the detail line saying the same goes.
			e.Meaning = detailOrTitle(reply)
		}
		return
	}
	text := e.Text
	if e.Kind == "reply-code" || e.Kind == "enhanced-code" {
		text = ""
	}
	// Specific wording first: greylisting is a deliberate deferral whatever
	// code comes with it.
	grey := greylistKind(class, text)
	if grey == greyStrong {
		explainGreylisting(e, true)
		return
	}
	if p, ok := matchProvider(strings.TrimSpace(e.EnhancedCode + " " + text)); ok && text != "" {
		e.Provider, e.ProviderRule = p.provider, p.name
		e.Meaning = p.provider + " (" + p.name + "): " + p.meaning
		e.Fix = p.fix
		if p.fault != "" {
			e.Fault = p.fault
		}
		addRef(e, p.ref)
	}
	if class == 4 || class == 5 || text != "" {
		reason := classifyBounce(e.EnhancedCode, e.ReplyCode, text)
		// "onhold" (no cause found) says less than a known code's own
		// registry entry, with or without the row's wording after it.
		if reason == BounceOnHold && (text == "" || haveEnh) {
			reason = ""
		}
		// A specific code's own label beats wording patterns in its text
		// (a provider's known wording excepted, and a code for replies to
		// AUTH whose text is about a refused message).
		if byCode, specific := codeReason(e.EnhancedCode); specific && e.Provider == "" && !(authOnlyStatus(e.EnhancedCode) && textNamesMessageCause(text)) {
			reason = byCode
		}
		if reason != "" && reason != BounceUndefined {
			e.Reason = reason
		}
		// "expired" is what a bounce says after days of retries; a live 4xx
		// reply with a routing code (4.4.1 no answer from host) is no such
		// verdict unless its text says so.
		if class == 4 && e.Reason == BounceExpired && e.Kind != "diagnostic-code" && !textSays(BounceExpired, text) &&
			!strings.HasSuffix(e.EnhancedCode, ".4.7") {
			e.Reason = BounceNetworkError
		}
	}
	if grey == greyWeak && e.Provider == "" && (e.Reason == "" || e.Reason == BounceOnHold || e.Reason == BounceSystemError) && !isLoginReply(e, text) {
		explainGreylisting(e, false)
		return
	}
	switch {
	case tooManyRecipients(e, text):
		explainTooManyRecipients(e, class)
	case isLoginReply(e, text):
		explainLogin(e, class, text, reply, enh, haveReply, haveEnh)
	case (authOnlyStatus(e.EnhancedCode) || authReplyCodes[e.ReplyCode]) && (e.Provider != "" && messageCauses[e.Reason] || textNamesMessageCause(text)):
		// The code answers AUTH, the text is about a message: the text's
		// story is told above and below; the code's stays a detail.
		entry, code := enh, e.EnhancedCode
		if !authOnlyStatus(e.EnhancedCode) || !haveEnh {
			entry, code = reply, strconv.Itoa(e.ReplyCode)
		}
		e.Details = removeRef(e.Details, joinTitle(entry))
		e.Details = append(e.Details, "Formally, "+code+" means \""+strings.TrimPrefix(entry.Title, code+" ")+"\", a reply to AUTH (RFC 4954 §6); here the server uses it for a refused message, and its text says why.")
	case e.ReplyCode == 500 || e.ReplyCode == 502 || e.ReplyCode == 503 || e.ReplyCode == 504:
		e.Fault = "client"
		e.NextStep = "This refuses one command (unknown, not offered here, or sent at the wrong moment), not the message: nothing is queued or bounced because of it. The software that sent the command must change it; repeating it unchanged fails again."
	}
	// A specific code whose label would tell another story (X.3.2 is no
	// null MX, X.1.3 no unknown mailbox): the code's own meaning wins.
	if a, ok := adviceFor(e.EnhancedCode); ok && e.Provider == "" && e.Meaning == "" {
		e.Meaning, e.Fix = a.meaning, a.fixFor(class)
		if e.Fault == "unknown" {
			e.Fault = a.fault
		}
		addRef(e, a.ref)
	}
	if e.Reason != "" {
		info := reasonInfo(e.Reason, class)
		if e.Meaning == "" {
			e.Meaning = info.explanation
		}
		if e.Fix == "" {
			e.Fix = info.fix
		}
		if e.Fault == "unknown" && info.fault != "" {
			e.Fault = info.fault
		}
	}
	if e.Meaning == "" {
		e.Meaning = firstNonEmpty(detailOrTitle(enh), detailOrTitle(reply), "Not a code postlab recognises; read the text for the server's reason.")
		// The meaning is the code's own entry: do not repeat it below.
		var keep []string
		for _, d := range e.Details {
			if d != joinTitle(enh) || !haveEnh || e.EnhancedCode == "" || detailOrTitle(enh) != e.Meaning {
				if d != joinTitle(reply) || detailOrTitle(reply) != e.Meaning {
					keep = append(keep, d)
				}
			}
		}
		e.Details = keep
	}
	if e.Fix == "" && class == 4 {
		e.Fix = transientFix("")
	}
	if e.Fix == "" {
		e.Fix = "Read the server's text after the code: it usually names the exact problem."
	}
	if e.Fault == "unknown" && class == 4 {
		e.Fault = "recipient-server"
	}
	if e.Outcome == "unknown" && e.Reason != "" {
		if bounceReasons[e.Reason].hard {
			e.Outcome, e.Permanent = "permanent", true
		} else {
			e.Outcome = "transient"
		}
	}
}

func joinTitle(c codeEntry) string {
	if c.Detail == "" {
		return c.Title
	}
	return c.Title + ": " + c.Detail
}

func titleOnly(c codeEntry) string { return c.Title }

func detailOrTitle(c codeEntry) string {
	if c.Detail != "" && c.Title != "" {
		return c.Title + ". " + c.Detail
	}
	return c.Title
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func addRef(e *Explanation, ref string) {
	if ref == "" {
		return
	}
	for _, r := range e.Refs {
		if r == ref {
			return
		}
	}
	e.Refs = append(e.Refs, ref)
}
