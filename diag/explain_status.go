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
		"Correct the address: look for a typo such as a space, a comma, two @ signs, a missing domain or a trailing dot.", "", "RFC 3463 §3.2"},
	"1.4": {"The recipient address matches more than one mailbox at the destination, so the server cannot tell which one is meant.", "sender",
		"Use the recipient's full, exact address; ask them for it if unsure.", "", "RFC 3463 §3.2"},
	"1.9": {"The message was passed on to a system that cannot report further delivery status; no failure of the address is implied.", "none",
		"Nothing to fix; no further delivery reports will come from beyond that system.", "", "IANA SMTP Enhanced Status Codes (RFC 3886)"},
	"2.4": {"The address is a mailing list and the list could not be expanded into its members.", "recipient-server",
		"Tell the list's owner or the recipient's administrator; the list itself is broken.", "Nothing to fix on your side: the sending server retries; tell the list's owner if it lasts.", "RFC 3463 §3.3"},
	"3.2": {"The receiving server is not accepting mail right now: it is shutting down, overloaded or in maintenance. This says nothing about the address or the message.", "recipient-server",
		"The destination refuses all mail for now; ask the recipient's administrator when it will accept mail again, then send again.",
		"Nothing to fix: the sending server keeps the message and retries later; it goes through once the server is back.", "RFC 3463 §3.4"},
	"3.3": {"The message asks for a feature (an SMTP extension or a conversion) that the destination does not support.", "sender-server",
		"Send without that feature (for example without an extension parameter the server did not announce), or ask the recipient's administrator.", "", "RFC 3463 §3.4"},
	"4.3": {"A directory server, usually DNS, could not be consulted, so the message could not be routed.", "network",
		"Check the domain's DNS with `postlab mx DOMAIN` and `postlab diag DOMAIN`; a broken or unreachable name server is the usual cause.",
		"Usually temporary: the sending server retries. If it lasts, check the domain's DNS with `postlab diag DOMAIN`.", "RFC 3463 §3.5"},
	"4.5": {"The receiving mail system is congested: too busy to take the message now.", "recipient-server",
		"The destination refuses mail while congested; send again later or ask the recipient's administrator.",
		"Nothing to fix: the sending server retries later.", "RFC 3463 §3.5"},
	"4.8": {"The server refuses the message over IPv6 and asks the sender to retry over IPv4.", "sender-server",
		"Deliver to this destination over IPv4, or fix the reputation and reverse DNS of the sending IPv6 address.", "", "IANA SMTP Enhanced Status Codes"},
	"7.10": {"An encryption layer (TLS) must be set up before this is allowed.", "sender",
		"Connect with STARTTLS (port 587) or implicit TLS (port 465), then try again.", "", "RFC 5248 §2.4"},
	"5.4": {"The client sent a valid command with an argument the server does not accept: a value out of range or a parameter it does not support (such as MAIL FROM:<a@b> FOO=1). The sending software caused it, not the recipient.", "client",
		"Change the sending software so it sends only parameters the server announced in its EHLO reply (SIZE, BODY=8BITMIME, SMTPUTF8, DSN's RET/ENVID/NOTIFY/ORCPT) with valid values; the same command fails again unchanged.", "", "RFC 5321 §4.1.1.11"},
	"5.5": {"The client and the server could not agree on a protocol version.", "client",
		"Update or reconfigure the sending software; report the text of the error to its maintainers.", "", "RFC 3463 §3.6"},
	"5.6": {"A base64 response in the AUTH exchange was longer than the server accepts: no message was refused, the login was.", "client",
		"Use another SASL mechanism or a shorter credential; report it to the mail program's maintainers.", "", "RFC 4954 §6"},
	"7.2": {"The sender is not allowed to post to this mailing list.", "sender",
		"Ask the list's owner to let you post, or send from the address you subscribed with.", "", "RFC 3463 §3.8"},
	"7.3": {"The message would have to be converted between secure-messaging formats, and that is not possible.", "sender",
		"Send the message in a format both sides support, or without the security wrapping.", "", "RFC 3463 §3.8"},
	"7.4": {"The message asks for security features the delivery path does not support.", "sender",
		"Send without the security feature, or ask the recipient's administrator which features are supported.", "", "RFC 3463 §3.8"},
	"7.5": {"A system that had to verify or decrypt the message lacked a valid key.", "sender",
		"Check the keys or certificates used to sign or encrypt the message; ask the recipient which key to use.", "", "RFC 3463 §3.8"},
	"7.6": {"The algorithm needed to verify or decrypt the message is not supported by the receiving system.", "sender",
		"Sign or encrypt with a more common algorithm.", "", "RFC 3463 §3.8"},
	"7.7": {"The message was found corrupted or altered on the way (an integrity check failed).", "sender",
		"Send the message again; if it keeps failing, look for a system on the path that alters messages.", "", "RFC 3463 §3.8"},
	"7.14": {"The submission server needs a configured trust relationship with a third-party server (for example to fetch content by URL) and has none.", "sender-server",
		"Ask the administrator of the submission server; it is a configuration between servers.", "", "RFC 4468"},
	"7.15": {"The message's MT-PRIORITY is below what the server accepts right now.", "sender",
		"Send with a higher priority, or later when the server accepts low-priority mail again.", "Nothing to fix: the sending server retries later.", "RFC 6710"},
	"7.19": {"The server cannot tell whether the mailbox changed owner since the date the sender gave (RRVS), because it did not record it.", "sender",
		"Decide whether to send again without the RRVS protection.", "", "RFC 7293"},
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
	if class == 4 && a.fix4 != "" {
		return a.fix4
	}
	return a.fix
}
