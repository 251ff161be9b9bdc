package diag

import (
	"regexp"
	"strings"
)

// Cases where the generic "4xx: queue and retry later, 5xx: bounce" story
// of a reply class is wrong: greylisting, too many recipients, and replies
// to a login, which concern no message at all.

const (
	greyNone = iota
	greyStrong
	greyWeak
)

var (
	// Wording that names greylisting (postgrey, sqlgrey, policyd, Exim
	// greylistd, Mimecast's and Yahoo's greylisting-style deferrals).
	reGreyStrong = regexp.MustCompile(`(?i)gr[ae]y-?list|postgrey|sqlgrey|come back (later|in )|internal resource temporarily unavailable|message temporarily deferred - \[?[0-9]`)
	// A deferral that gives no cause: greylisting servers and short
	// overloads answer like this.
	reGreyWeak = regexp.MustCompile(`(?i)try (again )?later|please (try again|retry)|temporarily (deferred|rejected)|deferred.{0,20}retry`)
)

// greylistKind says whether a transient reply (or code-less text) reads as
// greylisting: greyStrong names it, greyWeak is a deferral without a cause.
func greylistKind(class int, text string) int {
	if text == "" || (class != 4 && class != 0) {
		return greyNone
	}
	switch {
	case reGreyStrong.MatchString(text):
		return greyStrong
	case class == 4 && reGreyWeak.MatchString(text):
		return greyWeak
	}
	return greyNone
}

func explainGreylisting(e *Explanation, named bool) {
	e.Reason = ""
	e.Outcome, e.Permanent, e.Fault = "transient", false, "none"
	if named {
		e.Meaning = "Greylisting: the receiving server refuses the first attempt from a sender it has not seen before, on purpose and only for a while. Real mail servers retry and get through; many spam programs never retry."
	} else {
		e.Meaning = "A temporary deferral without a stated cause: the server asks the sender to come back later. Greylisting servers answer like this to senders they have not seen before, and so does a server that is briefly overloaded."
	}
	if named {
		e.NextStep = "The sending server retries by itself (RFC 5321 §4.5.4.1 asks for at least 30 minutes between tries; many servers retry sooner), and the greylisting server accepts a retry once its delay has passed; nothing is lost, and no bounce is sent unless the retries fail for days. A mail program that shows this error can simply send again a little later."
		e.Fix = "Nothing to fix: wait for the retry. Only if the message is still not delivered after several hours: check that your server retries from the same IP address and sender (a pool of changing IPs restarts greylisting each time), or ask the recipient's administrator to allowlist your server."
	} else {
		e.NextStep = "The sending server retries by itself later (RFC 5321 §4.5.4.1 asks for at least 30 minutes between tries); nothing is lost, and no bounce is sent unless the retries fail for days. A mail program that shows this error can simply send again a little later."
		e.Fix = "Nothing to fix: wait for the retry. Only if it persists for hours: look for a cause in the server's text or its postmaster pages (a rate limit, a block), or ask the recipient's administrator."
	}
	addRef(e, "RFC 6647 §1")
	addRef(e, "RFC 5321 §4.5.4.1")
}

var reTooManyRcpts = regexp.MustCompile(`(?i)too many (recipients|rcpt)|recipients? (per message|limit) (reached|exceeded)|max(imum)? (number of )?recipients`)

// tooManyRecipients: X.5.3 (RFC 3463 §3.6) or its wording.
func tooManyRecipients(e *Explanation, text string) bool {
	st := e.EnhancedCode
	return strings.HasSuffix(st, ".5.3") && len(st) == 5 || reTooManyRcpts.MatchString(text)
}

// explainTooManyRecipients: the server took as many RCPT TO as it accepts in
// one transaction; the client sends the rest in another one at once (RFC
// 5321 §4.5.3.1.10, RFC 3463 X.5.3).
func explainTooManyRecipients(e *Explanation, class int) {
	e.Reason = BounceTooManyConn
	e.Fault = "client"
	e.Meaning = "Too many recipients for one transaction: the server accepted as many RCPT TO commands as it takes in one message and refused the rest. This is no verdict on the message or on the refused addresses."
	if class == 4 || e.ReplyCode == 552 || class == 0 {
		// RFC 5321 §4.5.3.1.10: a 552 here is to be treated as temporary.
		e.Outcome, e.Permanent = "transient", false
	}
	e.NextStep = "The sending server finishes this message for the recipients already accepted, then sends the refused recipients right away in another transaction (MAIL FROM again, with no more RCPT TO than were accepted); there is no waiting and no bounce. RFC 5321 asks clients to treat even a 552 here as temporary."
	e.Fix = "Nothing to do when a mail server reports it: it splits the recipients itself. If your mail program shows it, send to fewer recipients at once (every server takes at least 100 per message, RFC 5321 §4.5.3.1.8) or use a mailing list."
	e.Refs = removeRef(e.Refs, "RFC 5321 §4.5.4.1")
	e.Refs = removeRef(e.Refs, "RFC 3464")
	addRef(e, "RFC 5321 §4.5.3.1.10")
	addRef(e, "RFC 3463 §3.6")
}

// reLoginText: wording about a login; "authorized" and "author" are not.
var reLoginText = regexp.MustCompile(`(?i)\bauth\b|\bauth(entication)? (failed|failure|mechanism|exchange|credentials)|password|credential|log ?in`)

// loginStatus are the enhanced codes a 454 about a login can carry (RFC
// 4954 §6 gives 454 4.7.0); a 454 with any other code, such as 4.7.1 or
// 4.7.26 (SPF/DKIM "authentication"), is about the message.
var loginStatus = map[string]bool{"": true, "4.7.0": true, "4.7.8": true, "4.7.9": true, "4.7.11": true, "4.7.12": true, "4.5.6": true, "4.3.0": true}

// reTLSFirst: wording that asks for TLS before the command, as RFC 3207 §4
// words it ("530 5.7.0 Must issue a STARTTLS command first").
var reTLSFirst = regexp.MustCompile(`(?i)must issue a starttls|starttls( command)? first|(starttls|\btls|\bssl|encryption) (is |are )?(required|needed|mandatory)|must (use|start|issue) (tls|ssl|starttls|encryption)|requires? (a )?(tls|ssl|starttls|encrypted|secure) (connection|session)`)

// reAppPassword and reWebLogin are providers' words for a login refused
// because of the account's security settings (Gmail's 534 5.7.9 and
// 534 5.7.14), not because of the mechanism.
var (
	reAppPassword = regexp.MustCompile(`(?i)app(lication)?[- ]specific password|\bapp password`)
	reWebLogin    = regexp.MustCompile(`(?i)log ?in via (your |a )?web ?browser|web login required|accounts\.google\.com/signin`)
)

// messageCauses are the labels whose wording concerns a message, its sender
// or its recipient, never a login.
var messageCauses = map[string]bool{
	BouncePolicyViolation: true, BounceAuthFailure: true, BounceSpamDetected: true, BounceBlocked: true,
	BounceBadReputation: true, BounceUserUnknown: true, BounceMailboxFull: true, BounceMesgTooBig: true,
	BounceNoRelaying: true, BounceRejected: true, BounceFiltered: true, BounceVirusDetected: true,
	BounceRequirePTR: true, BounceNotCompliantRFC: true, BounceContentError: true, BounceHostUnknown: true,
	BounceSuspend: true, BounceNotAccept: true, BounceExceedLimit: true, BounceHasMoved: true,
}

// textNamesMessageCause: the reply's own words name a cause of a refused
// message (a policy, SPF/DKIM, a block) and say nothing of a login, so
// they decide over a code that formally answers AUTH.
func textNamesMessageCause(text string) bool {
	if strings.TrimSpace(text) == "" || reLoginText.MatchString(text) || reTLSFirst.MatchString(text) {
		return false
	}
	return messageCauses[classifyBounce("", 0, text)]
}

// authOnlyStatus are the enhanced codes RFC 4954 §6 defines for replies to
// AUTH.
func authOnlyStatus(status string) bool {
	switch status {
	case "5.7.8", "5.7.9", "5.7.11", "5.7.12", "4.7.8", "4.7.9", "4.7.11", "4.7.12":
		return true
	}
	return false
}

// isLoginReply: a reply to AUTH (RFC 4954 §6), or the 530/538 that demand a
// login or TLS first. A provider's rule about a message, or text naming a
// message's cause, decides over the code: Yahoo answers a message refused
// by policy with 554 5.7.9.
func isLoginReply(e *Explanation, text string) bool {
	if e.Provider != "" && messageCauses[e.Reason] || textNamesMessageCause(text) {
		return false
	}
	switch e.ReplyCode {
	case 432, 530, 534, 535, 538:
		return true
	case 454:
		return loginStatus[e.EnhancedCode] && reLoginText.MatchString(text)
	}
	// The AUTH-only codes (RFC 4954 §6) keep the login story whatever
	// reply of their class carries them, so "5.7.8" and "550 5.7.8",
	// "4.7.12" and "450 4.7.12" agree.
	switch e.EnhancedCode {
	case "5.7.8", "5.7.9", "5.7.11", "5.7.12", "4.7.8", "4.7.9", "4.7.11", "4.7.12":
		return e.ReplyCode == 0 || e.ReplyCode/100 == int(e.EnhancedCode[0]-'0')
	}
	return false
}

// explainLogin: a refused login is no delivery failure: nothing is queued
// or bounced; the person at the mail program fixes the account settings.
// A provider's rule keeps its meaning, fix and fault; wording that names
// the requirement (STARTTLS first, an app password) decides over the
// code's registry meaning, which stays among the details.
func explainLogin(e *Explanation, class int, text string, reply, enh codeEntry, haveReply, haveEnh bool) {
	e.Refs = removeRef(e.Refs, "RFC 5321 §4.5.4.1")
	e.Refs = removeRef(e.Refs, "RFC 3464")
	addRef(e, "RFC 4954 §6")
	if e.Provider == "" {
		switch {
		case haveReply && reply.Detail != "" && authReplyCodes[e.ReplyCode]:
			e.Meaning = joinTitle(reply)
			e.Details = removeRef(e.Details, joinTitle(reply))
		case haveEnh:
			e.Meaning = joinTitle(enh)
			e.Details = removeRef(e.Details, joinTitle(enh))
		}
	}
	// A refused login is a security error, whatever words of the text
	// ("try again later") the classifier saw; STARTTLS first is its own.
	if e.Provider == "" {
		e.Reason = BounceSecurityError
		if class == 5 && reTLSFirst.MatchString(text) && e.ReplyCode != 538 && e.EnhancedCode != "5.7.11" {
			e.Reason = BounceFailedSTARTTLS
		}
	}
	provFix, provFault := e.Fix, e.Fault
	defer func() {
		if e.Provider != "" && provFix != "" {
			e.Fix = provFix
			if provFault != "" && provFault != "unknown" {
				e.Fault = provFault
			}
		}
	}()
	if class == 4 {
		e.Fault = "server"
		e.NextStep = "A temporary failure of the login on the server's side: the user name and password may well be right. Try to log in again in a few minutes; this answers a login, so nothing is queued or bounced."
		e.Fix = "Wait a few minutes and try again; tell the provider if it lasts."
		return
	}
	e.Fault = "client"
	// The text names what the server wants.
	textSaid := func(meaning string) {
		if e.Provider != "" {
			return
		}
		formal := strings.TrimSuffix(e.Meaning, ".")
		e.Meaning = meaning
		if formal != "" {
			e.Details = append(e.Details, "Formally, "+formal+". The server's text names the cause, and it decides.")
		}
	}
	switch {
	case reTLSFirst.MatchString(text) && e.ReplyCode != 538 && e.EnhancedCode != "5.7.11":
		textSaid("The server accepts this command only on an encrypted connection: the client must send STARTTLS first (RFC 3207 §4 words this reply \"530 5.7.0 Must issue a STARTTLS command first\").")
		addRef(e, "RFC 3207 §4")
		e.NextStep = "The server takes no login and no mail on an unencrypted connection, so nothing was sent and nothing bounces. The client must send STARTTLS, repeat EHLO inside TLS and then log in or send (RFC 3207 §4); the same command without TLS fails again."
		e.Fix = "Turn on STARTTLS: in the mail program's outgoing (SMTP) server settings choose STARTTLS on port 587, or SSL/TLS on port 465; a mail server that delivers here must be set to use STARTTLS."
		return
	case reAppPassword.MatchString(text):
		textSaid("The account has 2-step verification (or a similar protection), so the normal password is not accepted for SMTP: the server wants an app password.")
		e.NextStep = "This answers a login (AUTH), not a message: nothing is queued and nothing bounces. The same password will fail again."
		e.Fix = "Create an app password in the account's security settings and enter it in the mail program instead of the normal password (or use a mail program that signs in with OAuth)."
		return
	case reWebLogin.MatchString(text):
		textSaid("The provider blocked this sign-in as unusual (a new device, place or program) until you confirm it in a web browser.")
		e.NextStep = "This answers a login (AUTH), not a message: nothing is queued and nothing bounces. Logins keep failing until the sign-in is confirmed."
		e.Fix = "Log in to the account in a web browser, confirm the blocked sign-in if asked, then try again in the mail program; an app password or OAuth sign-in avoids it."
		return
	}
	switch {
	case e.ReplyCode == 530 || e.EnhancedCode == "5.7.0" && e.ReplyCode == 0:
		e.NextStep = "The server wants a login before it takes mail from this client, so nothing was sent and nothing bounces. The mail program must log in first (SMTP authentication, after STARTTLS on port 587 or over TLS on port 465)."
		e.Fix = "Turn on SMTP authentication (\"my outgoing server requires authentication\") with the same user name and password as for reading mail."
	case e.ReplyCode == 538 || e.EnhancedCode == "5.7.11":
		e.NextStep = "The login must happen inside TLS, so the server refused it before any password was checked; nothing was sent and nothing bounces. Connect again with STARTTLS (port 587) or TLS (port 465) and log in then."
		e.Fix = "Set the outgoing server's security to STARTTLS (port 587) or SSL/TLS (port 465)."
	case e.ReplyCode == 534 || e.EnhancedCode == "5.7.9":
		e.NextStep = "The server refused this login mechanism as too weak; nothing was sent and nothing bounces. Log in again with a stronger mechanism (one the server lists after EHLO), usually over TLS."
		e.Fix = "Choose another authentication method in the mail program (normal password over TLS, or OAuth), or enable TLS."
	case e.ReplyCode == 432 || strings.HasSuffix(e.EnhancedCode, ".7.12"):
		e.NextStep = "The account must first transition to this login mechanism, typically by logging in once with PLAIN over TLS; nothing was sent and nothing bounces."
		e.Fix = "Log in once with the normal password (PLAIN) over TLS; the chosen mechanism then works in later sessions."
	default:
		e.NextStep = "This answers a login (AUTH), not a message: nothing is queued and nothing bounces. A mail program shows the error and asks for the password again; the same user name and password will fail again."
		e.Fix = "Check the user name (often the full address) and the password; many providers need an app password, or SMTP AUTH enabled for the account."
	}
}

// authReplyCodes are the replies defined for AUTH (RFC 4954 §6); another
// reply code's text says nothing about the login.
var authReplyCodes = map[int]bool{432: true, 454: true, 530: true, 534: true, 535: true, 538: true}

func removeRef(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
