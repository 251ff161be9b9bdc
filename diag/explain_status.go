package diag

import "strings"

// statusAdvice is what a specific RFC 3463 code means when the bounce
// label it maps to (sisimai's vocabulary) would tell the wrong story: X.3.2
// is filed as "notaccept" like a null MX, but it means a server that is
// shutting down or overloaded right now; X.1.3 is filed as "userunknown"
// but it is an address that is not even well formed. Keyed "subject.detail".
type statusInfo struct {
	meaning string
	fault   string
	fix     string // for a permanent failure
	fix4    string // for a transient one; empty: fix
	ref     string
}

var statusAdvice = map[string]statusInfo{
	"1.3": {"The recipient address is not a valid address at all (its syntax is wrong), so the server cannot even look the mailbox up.", "sender",
		"Correct the address: look for a typo such as a space, a comma, two @ signs, a missing domain or a trailing dot.", "check the address for a typo such as a space, a comma, two @ signs or a missing domain.", "RFC 3463 §3.2"},
	"1.4": {"The recipient address matches more than one mailbox at the destination, so the server cannot tell which one is meant.", "sender",
		"Use the recipient's full, exact address; ask them for it if unsure.", "use the recipient's full, exact address, or ask the recipient's administrator.", "RFC 3463 §3.2"},
	"1.9": {"The message was passed on to a system that cannot report further delivery status; no failure of the address is implied.", "none",
		"Nothing to fix; no further delivery reports will come from beyond that system.", "nothing needs fixing: the status only says that no delivery reports will come from beyond that system.", "IANA SMTP Enhanced Status Codes (RFC 3886)"},
	"2.4": {"The address is a mailing list and the list could not be expanded into its members.", "recipient-server",
		"Tell the list's owner or the recipient's administrator; the list itself is broken.", "tell the list's owner or the recipient's administrator; the list itself is broken.", "RFC 3463 §3.3"},
	"3.2": {"The receiving server is not accepting mail right now: it is shutting down, overloaded or in maintenance. This says nothing about the address or the message.", "recipient-server",
		"The destination refuses all mail for now; ask the recipient's administrator when it will accept mail again, then send again.",
		"ask the recipient's administrator when the server will accept mail again.", "RFC 3463 §3.4"},
	"3.3": {"The message asks for a feature (an SMTP extension or a conversion) that the destination does not support.", "sender-server",
		"Send without that feature (for example without an extension parameter the server did not announce), or ask the recipient's administrator.", "send without that feature (an extension parameter the server did not announce), or ask the recipient's administrator.", "RFC 3463 §3.4"},
	"4.3": {"A directory server, usually DNS, could not be consulted, so the message could not be routed.", "network",
		"Check the domain's DNS with `postlab mx DOMAIN` and `postlab diag DOMAIN`; a broken or unreachable name server is the usual cause.",
		"check the domain's DNS with `postlab mx DOMAIN` and `postlab diag DOMAIN`; a broken or unreachable name server is the usual cause.", "RFC 3463 §3.5"},
	"4.5": {"The receiving mail system is congested: too busy to take the message now.", "recipient-server",
		"The destination refuses mail while congested; send again later or ask the recipient's administrator.",
		"ask the recipient's administrator; the destination stays congested.", "RFC 3463 §3.5"},
	"4.8": {"The server refuses the message over IPv6 and asks the sender to retry over IPv4.", "sender-server",
		"Deliver to this destination over IPv4, or fix the reputation and reverse DNS of the sending IPv6 address.", "deliver to this destination over IPv4, or fix the reputation and reverse DNS of the sending IPv6 address.", "RFC 3463 §3.5"},
	"7.10": {"An encryption layer (TLS) must be set up before this is allowed.", "sender",
		"Connect with STARTTLS (port 587) or implicit TLS (port 465), then try again.", "make the sending side use TLS: STARTTLS on port 25 or 587, or implicit TLS on port 465.", "RFC 5248 §2.4"},
	"5.4": {"The client sent a valid command with an argument the server does not accept: a value out of range or a parameter it does not support (such as MAIL FROM:<a@b> FOO=1). The sending software caused it, not the recipient.", "client",
		"Change the sending software so it sends only parameters the server announced in its EHLO reply (SIZE, BODY=8BITMIME, SMTPUTF8, DSN's RET/ENVID/NOTIFY/ORCPT) with valid values; the same command fails again unchanged.", "change the sending software so it sends only parameters the server announced in its EHLO reply, with valid values.", "RFC 5321 §4.1.1.11"},
	"5.5": {"The client and the server could not agree on a protocol version.", "client",
		"Update or reconfigure the sending software; report the text of the error to its maintainers.", "update or reconfigure the sending software; report the text of the error to its maintainers.", "RFC 3463 §3.6"},
	"5.6": {"A base64 response in the AUTH exchange was longer than the server accepts: no message was refused, the login was.", "client",
		"Use another SASL mechanism or a shorter credential; report it to the mail program's maintainers.", "use another SASL mechanism or a shorter credential; report it to the mail program's maintainers.", "RFC 4954 §6"},
	"7.2": {"The sender is not allowed to post to this mailing list.", "sender",
		"Ask the list's owner to let you post, or send from the address you subscribed with.", "ask the list's owner to let you post, or send from the address you subscribed with.", "RFC 3463 §3.8"},
	"7.3": {"The message would have to be converted between secure-messaging formats, and that is not possible.", "sender",
		"Send the message in a format both sides support, or without the security wrapping.", "send the message in a format both sides support, or without the security wrapping.", "RFC 3463 §3.8"},
	"7.4": {"The message asks for security features the delivery path does not support.", "sender",
		"Send without the security feature, or ask the recipient's administrator which features are supported.", "ask the recipient's administrator which security features are supported.", "RFC 3463 §3.8"},
	"7.5": {"A system that had to verify or decrypt the message lacked a valid key.", "sender",
		"Check the keys or certificates used to sign or encrypt the message; ask the recipient which key to use.", "check the keys or certificates used to sign or encrypt the message.", "RFC 3463 §3.8"},
	"7.6": {"The algorithm needed to verify or decrypt the message is not supported by the receiving system.", "sender",
		"Sign or encrypt with a more common algorithm.", "sign or encrypt with a more common algorithm.", "RFC 3463 §3.8"},
	"7.7": {"The message was found corrupted or altered on the way (an integrity check failed).", "sender",
		"Send the message again; if it keeps failing, look for a system on the path that alters messages.", "look for a system on the path that alters messages.", "RFC 3463 §3.8"},
	"7.14": {"The submission server needs a configured trust relationship with a third-party server (for example to fetch content by URL) and has none.", "sender-server",
		"Ask the administrator of the submission server; it is a configuration between servers.", "ask the administrator of the submission server; it is a configuration between servers.", "RFC 5248 §2.4"},
	"7.15": {"The message's MT-PRIORITY is below what the server accepts right now.", "sender",
		"Send with a higher priority, or later when the server accepts low-priority mail again.", "send with a higher priority, or wait until the server accepts low-priority mail again.", "IANA SMTP Enhanced Status Codes (RFC 6710)"},
	"7.27": {"The envelope sender's domain publishes a null MX (RFC 7505): it declares that it receives no mail, so no bounce could reach it, and the server refuses mail from it. This is about the sender's domain, not the recipient.", "sender",
		"Send from an address whose domain receives mail (real MX records); check it with `postlab mx DOMAIN`.",
		"check that the sender's domain publishes real MX records, with `postlab mx DOMAIN`.", "IANA SMTP Enhanced Status Codes (RFC 7505)"},
	"7.28": {"The server sees this message as part of a flood of similar messages (a burst that looks abusive) and refuses it; the sending pattern, not one message's content, triggered it.", "sender-server",
		"Send more slowly and only to people who asked for it; find out whether your server or an account on it sends unexpected bulk mail.",
		"send more slowly, and check whether your server or an account on it sends unexpected bulk mail.", "IANA SMTP Enhanced Status Codes registry"},
	"7.19": {"The server cannot tell whether the mailbox changed owner since the date the sender gave (RRVS), because it did not record it.", "sender",
		"Decide whether to send again without the RRVS protection.", "decide whether to send without the RRVS protection.", "IANA SMTP Enhanced Status Codes (RFC 7293)"},
}

// adviceFor returns the advice for a specific code such as "4.3.2".
func adviceFor(status string) (statusInfo, bool) {
	if len(status) < 5 || (status[0] != '4' && status[0] != '5') {
		return statusInfo{}, false
	}
	a, ok := statusAdvice[strings.TrimLeft(status[1:], ".")]
	return a, ok
}

func (a statusInfo) fixFor(class int) string {
	if class == 4 {
		return transientFix(a.fix4)
	}
	return a.fix
}

// transientFix is the fix of every 4xx reply: a deferral needs no action
// at once (RFC 5321 §4.5.4.1: the sending server queues and retries), and
// check says what to look at if it keeps coming back.
func transientFix(check string) string {
	if check == "" {
		check = "read the server's text for the cause and ask the recipient's administrator."
	}
	return "Nothing to do at once: the sending server keeps the message and retries by itself. If the deferral persists for hours, " + check
}

// transientReasons replace a label's meaning and fault for a 4xx reply when
// the generic text states a permanent verdict (the mailbox does not exist,
// the domain takes no mail): a transient code says only that it could not
// be done now. check is what to look at if the deferral persists; every
// label has one, so no 4xx fix tells the sender to resend or give up.
var transientReasons = map[string]struct{ meaning, fault, check string }{
	BounceUserUnknown: {"The receiving server could not confirm the mailbox right now (for example its user directory was unreachable); a transient code is no verdict that the address does not exist.", "recipient-server",
		"check the address for typos and ask the recipient's administrator whether the mailbox exists."},
	BounceHostUnknown: {"The destination domain could not be resolved or routed right now (a DNS lookup failed or timed out); a transient code is no verdict that the domain does not exist.", "network",
		"check the domain with `postlab mx DOMAIN` and `postlab diag DOMAIN`."},
	BounceHasMoved: {"The receiving server reports the mailbox as moved but only defers the message, for now.", "recipient",
		"ask the recipient for their current address."},
	BounceRejected: {"The receiving server could not accept the envelope sender (MAIL FROM) right now, typically because it could not verify the sender's address or domain.", "sender-server",
		"check that the sender address is real and its domain resolves, with `postlab mx DOMAIN`."},
	BounceNotAccept: {"The destination is not taking mail right now, or reports that a domain involved takes no mail (null MX, RFC 7505); the deferral is no final verdict.", "recipient-server",
		"check the domain's MX records with `postlab mx DOMAIN`, and ask the recipient's administrator."},
	BounceFiltered: {"The recipient's server deferred this message for a reason of its own (a per-user rule or a mailbox that is not taking mail right now).", "recipient-server",
		"ask the recipient or their administrator why their server holds back your mail."},
	BounceSuspend: {"The recipient's account is disabled or suspended for now.", "recipient",
		"contact the person another way; the account may stay disabled."},
	BounceExpired: {"A server on the way has held the message longer than it wanted (a delay warning): it is still in a queue and still being retried.", "network",
		"check why the destination is unreachable (MX, firewall, the server down) with `postlab mx DOMAIN` and `postlab diag DOMAIN`."},
	BounceMailboxFull:     {"", "", "tell the recipient another way that their mailbox is full."},
	BounceExceedLimit:     {"", "", "send a smaller message (share big files as a link) or ask the recipient about their limit."},
	BounceMesgTooBig:      {"", "", "send smaller attachments or share a link to the file; ask the recipient's administrator about the limit."},
	BounceSystemFull:      {"", "", "tell the recipient's administrator; their server is out of space or overloaded."},
	BounceSystemError:     {"", "", "tell the recipient's administrator; their server has an internal error."},
	BounceNetworkError:    {"", "", "check the domain's MX records with `postlab mx DOMAIN` and that its servers accept connections on port 25."},
	BounceSyntaxError:     {"", "", "update or reconfigure the sending software, and report the text of the error to its maintainers."},
	BounceContentError:    {"", "", "check the message's encoding (quoted-printable or base64 for non-ASCII, SMTPUTF8 for non-ASCII addresses)."},
	BounceSecurityError:   {"", "", "read the server's text for the security requirement (TLS, authentication, a policy) and ask the recipient's administrator."},
	BounceFailedSTARTTLS:  {"", "", "check your server's TLS configuration and certificate, and that it offers modern TLS versions."},
	BounceAuthFailure:     {"", "", "check SPF, DKIM and DMARC for your domain with `postlab diag DOMAIN`."},
	BounceRequirePTR:      {"", "", "ask whoever owns the sending IP to set a PTR record that resolves back to it."},
	BounceSpamDetected:    {"", "", "send more slowly, authenticate your mail (SPF, DKIM, DMARC) and check `postlab headers` on a test copy."},
	BounceBlocked:         {"", "", "check the sending IP on the blocklist named in the text and request delisting."},
	BounceBadReputation:   {"", "", "send more slowly and check the provider's postmaster tools for your IP and domain."},
	BouncePolicyViolation: {"", "", "read the text for the rule that was hit and ask the recipient's administrator."},
	BounceVirusDetected:   {"", "", "scan the attachment, or send the document as a link."},
	BounceSpeeding:        {"", "", "send more slowly and spread large mailings over time."},
	BounceTooManyConn:     {"", "", "open fewer parallel connections to this destination."},
	BounceNoRelaying:      {"", "", "send through your own provider's submission server with authentication."},
	BounceNotCompliantRFC: {"", "", "check the message has exactly one From, Date and Message-ID header."},
	BounceMailerError:     {"", "", "tell the recipient's administrator; their local delivery program fails."},
}

// permanentFixes replace a label's fix for a 5xx reply when the generic
// text promises a retry: after a permanent failure no server retries
// (RFC 5321 §4.2.1), so a person has to send again.
var permanentFixes = map[string]string{
	BounceNetworkError: "The failure was reported as permanent, so no server retries it: check the domain's MX records with `postlab mx DOMAIN` and that its servers accept connections on port 25, then send again.",
	BounceSystemFull:   "Nothing to fix on your side, but the failure was reported as permanent, so no server retries it: tell the recipient's administrator, and send again once their system has room.",
	BounceSpeeding:     "The message was refused, not deferred, so no server retries it: send it again later, more slowly, and spread large mailings over time.",
	BounceTooManyConn:  "The message was refused, not deferred, so no server retries it: open fewer parallel connections to this destination and send it again.",
}

// reasonInfo is a label's text for a reply of this class.
func reasonInfo(reason string, class int) bounceReasonInfo {
	info := bounceReasons[reason]
	if class == 5 && permanentFixes[reason] != "" {
		info.fix = permanentFixes[reason]
	}
	if class != 4 {
		return info
	}
	t := transientReasons[reason]
	if t.meaning != "" {
		info.explanation = t.meaning
	}
	if t.fault != "" {
		info.fault = t.fault
	}
	info.fix = transientFix(t.check)
	return info
}

// codeReason is the label a specific code gives, and whether it beats the
// wording: a 4.Y.Z code the bounce table does not list reads like its
// 5.Y.Z twin (RFC 3463 §3: subject and detail mean the same in both
// classes), so a bare 4.Y.Z and a reply line with the row's title agree.
func codeReason(status string) (string, bool) {
	if len(status) < 5 {
		return "", false
	}
	// X.2.1 is a disabled mailbox (the registry row), not an IP block.
	if status == "4.2.1" {
		return BounceSuspend, true
	}
	if r := reasonByStatus[status]; r != "" {
		return r, !genericStatus[status]
	}
	if status[0] == '4' {
		twin := "5" + status[1:]
		if r := reasonByStatus[twin]; r != "" {
			return r, !genericStatus[twin] && !genericStatus[status]
		}
	}
	return "", false
}
