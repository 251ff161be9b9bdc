package diag

import (
	"fmt"
	"strconv"
	"strings"

	"postlab/explorer/annotate"
)

// codeEntry mirrors the knowledge base's entry (explorer/annotate): a title,
// a detail, a reference and whether the failure is permanent.
type codeEntry struct {
	Title, Detail, Ref string
	Permanent          bool
}

// replyCodeLookup and enhancedCodeLookup ask the explorer's knowledge base
// first and fall back to the short tables below for codes it does not list.
func replyCodeLookup(code int) (codeEntry, bool) {
	if e, ok := annotate.ReplyCode(code); ok {
		return codeEntry(e), true
	}
	return fallbackReplyCode(code)
}

func enhancedCodeLookup(code string) (codeEntry, bool) {
	e, ok := annotate.EnhancedCode(code)
	if ok && !strings.Contains(e.Detail, "not in the registry") && !strings.Contains(e.Detail, "is not registered") {
		return codeEntry(e), true
	}
	if f, fok := fallbackEnhancedCode(code); fok {
		return f, true
	}
	return codeEntry(e), ok
}

var fallbackReplies = map[int]string{
	211: "System status", 214: "Help message", 220: "Service ready", 221: "Closing connection",
	235: "Authentication succeeded", 250: "Requested action completed", 251: "User not local; will forward",
	252: "Cannot verify the user, but will try delivery", 334: "Authentication challenge", 354: "Start mail input",
	421: "Service not available, closing the connection", 432: "Password transition needed",
	450: "Mailbox unavailable (busy, or temporarily blocked; greylisting uses it)", 451: "Local error in processing; aborted",
	452: "Insufficient system storage, or too many recipients", 453: "You have no mail (ATRN, On-Demand Mail Relay)", 454: "Temporary authentication or TLS failure",
	455: "Server unable to accommodate parameters",
	500: "Syntax error, command unrecognised", 501: "Syntax error in parameters or arguments",
	502: "Command not implemented", 503: "Bad sequence of commands", 504: "Command parameter not implemented",
	521: "Host does not accept mail", 530: "Authentication required", 534: "Authentication mechanism too weak",
	535: "Authentication credentials invalid", 538: "Encryption required for this authentication mechanism",
	550: "Mailbox unavailable or action refused (no such user, or refused by policy)", 551: "User not local",
	552: "Exceeded storage allocation (message too big or mailbox full)", 553: "Mailbox name not allowed (bad address syntax)",
	554: "Transaction failed (or: no SMTP service here)", 555: "MAIL FROM/RCPT TO parameters not recognised",
	556: "Domain does not accept mail",
}

var replyRefs = map[int]string{
	235: "RFC 4954 §6", 334: "RFC 4954 §4", 432: "RFC 4954 §6", 454: "RFC 4954 §6", 530: "RFC 4954 §6",
	534: "RFC 4954 §6", 535: "RFC 4954 §6", 538: "RFC 4954 §6", 521: "RFC 7504", 556: "RFC 7504",
	453: "RFC 2645",
}

func fallbackReplyCode(code int) (codeEntry, bool) {
	t, ok := fallbackReplies[code]
	if !ok {
		if code < 200 || code > 599 {
			return codeEntry{}, false
		}
		t = map[int]string{2: "Positive completion", 3: "Positive intermediate", 4: "Transient negative completion (try again later)", 5: "Permanent negative completion"}[code/100]
	}
	ref := replyRefs[code]
	if ref == "" {
		ref = "RFC 5321 §4.2"
	}
	return codeEntry{Title: fmt.Sprintf("%d %s", code, t), Ref: ref, Permanent: code >= 500}, true
}

var statusSubjects = map[string]string{
	"0": "Other or undefined status", "1": "Addressing status", "2": "Mailbox status", "3": "Mail system status",
	"4": "Network and routing status", "5": "Mail delivery protocol status", "6": "Message content or media status",
	"7": "Security or policy status",
}

var statusDetails = map[string]string{
	"0.0": "Other undefined status",
	"1.0": "Other address status", "1.1": "Bad destination mailbox address", "1.2": "Bad destination system address",
	"1.3": "Bad destination mailbox address syntax", "1.4": "Destination mailbox address ambiguous",
	"1.5": "Destination address valid", "1.6": "Destination mailbox has moved, no forwarding address",
	"1.7": "Bad sender's mailbox address syntax", "1.8": "Bad sender's system address",
	"1.9": "Message relayed to non-compliant mailer", "1.10": "Recipient address has null MX",
	"2.0": "Other or undefined mailbox status", "2.1": "Mailbox disabled, not accepting messages",
	"2.2": "Mailbox full", "2.3": "Message length exceeds administrative limit", "2.4": "Mailing list expansion problem",
	"3.0": "Other or undefined mail system status", "3.1": "Mail system full", "3.2": "System not accepting network messages",
	"3.3": "System not capable of selected features", "3.4": "Message too big for system", "3.5": "System incorrectly configured",
	"3.6": "Requested priority was changed",
	"4.0": "Other or undefined network or routing status", "4.1": "No answer from host", "4.2": "Bad connection",
	"4.3": "Directory server failure", "4.4": "Unable to route", "4.5": "Mail system congestion",
	"4.6": "Routing loop detected", "4.7": "Delivery time expired",
	// X.4.8 is no registry row; it is kept for the IPv6-reputation
	// deferrals some bounces carry.
	"4.8": "Retry on IPv4 (not in the IANA registry; used when the IPv6 address has a bad reputation)",
	"5.0": "Other or undefined protocol status", "5.1": "Invalid command", "5.2": "Syntax error",
	"5.3": "Too many recipients", "5.4": "Invalid command arguments", "5.5": "Wrong protocol version",
	"5.6": "Authentication exchange line is too long",
	"6.0": "Other or undefined media error", "6.1": "Media not supported", "6.2": "Conversion required and prohibited",
	"6.3": "Conversion required but not supported", "6.4": "Conversion with loss performed", "6.5": "Conversion failed",
	"6.6": "Message content not available", "6.7": "Non-ASCII addresses not permitted", "6.8": "UTF-8 string reply is required",
	"6.9": "UTF-8 header message cannot be transferred", "6.10": "Duplicate of X.6.8 (deprecated)",
	"7.0": "Other or undefined security status", "7.1": "Delivery not authorized, message refused",
	"7.2": "Mailing list expansion prohibited", "7.3": "Security conversion required but not possible",
	"7.4": "Security features not supported", "7.5": "Cryptographic failure", "7.6": "Cryptographic algorithm not supported",
	"7.7": "Message integrity failure", "7.8": "Authentication credentials invalid", "7.9": "Authentication mechanism is too weak",
	"7.10": "Encryption needed", "7.11": "Encryption required for requested authentication mechanism",
	"7.12": "A password transition is needed", "7.13": "User account disabled", "7.14": "Trust relationship required",
	"7.15": "Priority level is too low", "7.16": "Message is too big for the specified priority",
	"7.17": "Mailbox owner has changed", "7.18": "Domain owner has changed", "7.19": "RRVS test cannot be completed",
	"7.20": "No passing DKIM signature found", "7.21": "No acceptable DKIM signature found",
	"7.22": "No valid author-matched DKIM signature found", "7.23": "SPF validation failed",
	"7.24": "SPF validation error", "7.25": "Reverse DNS validation failed", "7.26": "Multiple authentication checks failed",
	"7.27": "Sender address has null MX", "7.28": "Mail flood detected", "7.29": "ARC validation failure",
	"7.30": "REQUIRETLS support required",
}

// statusRef is where a row of the registry is defined: RFC 3463 §3 for the
// original codes, the registering document for every later one.
func statusRef(detail string) string {
	if r, ok := laterStatusRefs[detail]; ok {
		return r
	}
	if detail >= "7.20" && detail <= "7.26" && len(detail) == 4 {
		return "RFC 7372 §3"
	}
	return "RFC 3463 §3." + subjectSection(detail)
}

// laterStatusRefs are the rows added after RFC 3463, as the IANA registry
// lists their references.
var laterStatusRefs = map[string]string{
	"1.9":  "IANA SMTP Enhanced Status Codes (RFC 3886)",
	"1.10": "IANA SMTP Enhanced Status Codes (RFC 7505)",
	"3.6":  "IANA SMTP Enhanced Status Codes (RFC 6710)",
	"5.6":  "RFC 4954 §6",
	"6.6":  "IANA SMTP Enhanced Status Codes (RFC 4468)",
	"6.7":  "RFC 6531 §3.5",
	"6.8":  "RFC 6531 §3.7.4.2",
	"6.9":  "RFC 6531 §3.5",
	"6.10": "RFC 6531 §4.2",
	"7.8":  "RFC 4954 §6",
	"7.9":  "RFC 4954 §6",
	"7.10": "RFC 5248 §2.4",
	"7.11": "RFC 4954 §6",
	"7.12": "RFC 4954 §6",
	"7.13": "RFC 5248 §2.4",
	"7.14": "RFC 5248 §2.4",
	"7.15": "IANA SMTP Enhanced Status Codes (RFC 6710)",
	"7.16": "IANA SMTP Enhanced Status Codes (RFC 6710)",
	"7.17": "IANA SMTP Enhanced Status Codes (RFC 7293)",
	"7.18": "IANA SMTP Enhanced Status Codes (RFC 7293)",
	"7.19": "IANA SMTP Enhanced Status Codes (RFC 7293)",
	"7.27": "IANA SMTP Enhanced Status Codes (RFC 7505)",
	"7.28": "IANA SMTP Enhanced Status Codes registry",
	"7.29": "IANA SMTP Enhanced Status Codes (RFC 8617)",
	"7.30": "IANA SMTP Enhanced Status Codes (RFC 8689)",
}

func subjectSection(detail string) string {
	if i := strings.IndexByte(detail, '.'); i > 0 {
		if n, err := strconv.Atoi(detail[:i]); err == nil {
			return strconv.Itoa(n + 1)
		}
	}
	return "1"
}

func fallbackEnhancedCode(code string) (codeEntry, bool) {
	parts := strings.Split(code, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return codeEntry{}, false
	}
	detail := parts[1] + "." + parts[2]
	title, ok := statusDetails[detail]
	if !ok {
		subj, ok := statusSubjects[parts[1]]
		if !ok {
			return codeEntry{}, false
		}
		title = subj + " (detail " + parts[2] + " is not registered; provider-specific)"
	}
	class := map[string]string{"2": "Success", "4": "Persistent transient failure", "5": "Permanent failure"}[parts[0]]
	if parts[0] == "2" {
		// Class 2 is success (RFC 3463 §2): a title that names a failure
		// does not describe it.
		return codeEntry{Title: code + " Success (" + strings.ToLower(statusSubjects[parts[1]]) + ")",
			Detail: "The server reports success; nothing went wrong. X." + detail + " is known as \"" + title + "\"; its failure reading does not apply to a success.",
			Ref:    statusRef(detail)}, true
	}
	return codeEntry{Title: code + " " + title, Detail: class + "; " + statusSubjects[parts[1]] + ".",
		Ref: statusRef(detail), Permanent: parts[0] == "5"}, true
}
