package annotate

// enhancedCodes is the IANA "SMTP Enhanced Status Codes" registry
// (RFC 5248), keyed "subject.detail": the codes of RFC 3463 §3 and every
// later addition. The class digit is added when a code is looked up.
var enhancedCodes = map[string]Entry{
	// X.0.x: other (RFC 3463 §3.1)
	"0.0": {Title: "Other undefined status", Detail: "There is no more specific information than the class: success, temporary or permanent failure.", Ref: "RFC 3463 §3.1"},

	// X.1.x: addressing (RFC 3463 §3.2)
	"1.0":  {Title: "Other address status", Detail: "Something about an address in the envelope caused this status.", Ref: "RFC 3463 §3.2"},
	"1.1":  {Title: "Bad destination mailbox address", Detail: "The mailbox does not exist: the part left of the @ is unknown at this server. Check the recipient's spelling.", Ref: "RFC 3463 §3.2"},
	"1.2":  {Title: "Bad destination system address", Detail: "The domain right of the @ does not exist or cannot receive mail.", Ref: "RFC 3463 §3.2"},
	"1.3":  {Title: "Bad destination mailbox address syntax", Detail: "The recipient address is not syntactically valid.", Ref: "RFC 3463 §3.2"},
	"1.4":  {Title: "Destination mailbox address ambiguous", Detail: "The address matches more than one mailbox at the destination.", Ref: "RFC 3463 §3.2"},
	"1.5":  {Title: "Destination address valid", Detail: "The recipient address was accepted; the usual code in a 250 reply to RCPT TO.", Ref: "RFC 3463 §3.2"},
	"1.6":  {Title: "Destination mailbox has moved, no forwarding address", Detail: "The address used to be valid but no longer accepts mail.", Ref: "RFC 3463 §3.2"},
	"1.7":  {Title: "Bad sender's mailbox address syntax", Detail: "The sender address (MAIL FROM) is not syntactically valid.", Ref: "RFC 3463 §3.2"},
	"1.8":  {Title: "Bad sender's system address", Detail: "The sender's domain does not exist or cannot receive replies, so bounces could not be returned.", Ref: "RFC 3463 §3.2"},
	"1.9":  {Title: "Message relayed to non-compliant mailer", Detail: "The address was valid but the message went on to a system that cannot report further status.", Ref: "IANA SMTP Enhanced Status Codes (RFC 3886)"},
	"1.10": {Title: "Recipient address has null MX", Detail: "The recipient's domain publishes a null MX: it declares that it receives no mail at all.", Ref: "IANA SMTP Enhanced Status Codes (RFC 7505)"},

	// X.2.x: mailbox (RFC 3463 §3.3)
	"2.0": {Title: "Other or undefined mailbox status", Detail: "The mailbox exists but something about it caused this status.", Ref: "RFC 3463 §3.3"},
	"2.1": {Title: "Mailbox disabled, not accepting messages", Detail: "The mailbox exists but is switched off, for a while or for good.", Ref: "RFC 3463 §3.3"},
	"2.2": {Title: "Mailbox full", Detail: "The recipient is over quota; it may work later once they delete mail.", Ref: "RFC 3463 §3.3"},
	"2.3": {Title: "Message length exceeds administrative limit", Detail: "The message is bigger than this mailbox's own size limit.", Ref: "RFC 3463 §3.3"},
	"2.4": {Title: "Mailing list expansion problem", Detail: "The address is a mailing list that could not be expanded into its members.", Ref: "RFC 3463 §3.3"},

	// X.3.x: mail system (RFC 3463 §3.4)
	"3.0": {Title: "Other or undefined mail system status", Detail: "The receiving system normally accepts mail but something about it caused this status.", Ref: "RFC 3463 §3.4"},
	"3.1": {Title: "Mail system full", Detail: "The receiving system is out of storage as a whole.", Ref: "RFC 3463 §3.4"},
	"3.2": {Title: "System not accepting network messages", Detail: "The host is not taking mail now, e.g. because of shutdown, load or maintenance.", Ref: "RFC 3463 §3.4"},
	"3.3": {Title: "System not capable of selected features", Detail: "The message asks for features (such as an extension) the destination does not support.", Ref: "RFC 3463 §3.4"},
	"3.4": {Title: "Message too big for system", Detail: "The message exceeds the server's size limit (compare with the SIZE announced after EHLO).", Ref: "RFC 3463 §3.4"},
	"3.5": {Title: "System incorrectly configured", Detail: "The receiving system is misconfigured in a way that prevents accepting this message.", Ref: "RFC 3463 §3.4"},
	"3.6": {Title: "Requested priority was changed", Detail: "The message was accepted but its MT-PRIORITY was changed by the server.", Ref: "IANA SMTP Enhanced Status Codes (RFC 6710)"},

	// X.4.x: network and routing (RFC 3463 §3.5)
	"4.0": {Title: "Other or undefined network or routing status", Detail: "Something went wrong with networking or routing.", Ref: "RFC 3463 §3.5"},
	"4.1": {Title: "No answer from host", Detail: "The next server could not be reached or did not answer.", Ref: "RFC 3463 §3.5"},
	"4.2": {Title: "Bad connection", Detail: "The connection was made but broke or timed out before the transaction finished.", Ref: "RFC 3463 §3.5"},
	"4.3": {Title: "Directory server failure", Detail: "A directory service, typically DNS, could not be consulted.", Ref: "RFC 3463 §3.5"},
	"4.4": {Title: "Unable to route", Detail: "No next hop could be found for the domain, e.g. it has no MX and no address records.", Ref: "RFC 3463 §3.5"},
	"4.5": {Title: "Mail system congestion", Detail: "The mail system is too busy right now.", Ref: "RFC 3463 §3.5"},
	"4.6": {Title: "Routing loop detected", Detail: "The message was passed around too many times (too many Received: lines), usually a forwarding loop.", Ref: "RFC 3463 §3.5"},
	"4.7": {Title: "Delivery time expired", Detail: "The message waited in a queue too long and delivery was given up.", Ref: "RFC 3463 §3.5"},

	// X.5.x: mail delivery protocol (RFC 3463 §3.6)
	"5.0": {Title: "Other or undefined protocol status", Detail: "A status about the SMTP conversation itself that no more specific code describes.", Ref: "RFC 3463 §3.6"},
	"5.1": {Title: "Invalid command", Detail: "The command was out of sequence or not supported.", Ref: "RFC 3463 §3.6"},
	"5.2": {Title: "Syntax error", Detail: "The command could not be understood: wrong syntax or an unknown verb.", Ref: "RFC 3463 §3.6"},
	"5.3": {Title: "Too many recipients", Detail: "More recipients than the server takes in one transaction; send the rest in another.", Ref: "RFC 3463 §3.6"},
	"5.4": {Title: "Invalid command arguments", Detail: "The command was valid but an argument was out of range or unknown.", Ref: "RFC 3463 §3.6"},
	"5.5": {Title: "Wrong protocol version", Detail: "The two sides could not agree on a protocol version.", Ref: "RFC 3463 §3.6"},
	"5.6": {Title: "Authentication exchange line is too long", Detail: "A base64 AUTH response was longer than the server accepts.", Ref: "RFC 4954 §6"},

	// X.6.x: message content or media (RFC 3463 §3.7)
	"6.0":  {Title: "Other or undefined media error", Detail: "Something about the message content made it undeliverable.", Ref: "RFC 3463 §3.7"},
	"6.1":  {Title: "Media not supported", Detail: "The message's media type cannot be carried to the next system.", Ref: "RFC 3463 §3.7"},
	"6.2":  {Title: "Conversion required and prohibited", Detail: "The content would have to be converted but conversion is not allowed.", Ref: "RFC 3463 §3.7"},
	"6.3":  {Title: "Conversion required but not supported", Detail: "The content must be converted (e.g. 8-bit to 7-bit) and this system cannot do it.", Ref: "RFC 3463 §3.7"},
	"6.4":  {Title: "Conversion with loss performed", Detail: "The message was delivered but a conversion lost some data.", Ref: "RFC 3463 §3.7"},
	"6.5":  {Title: "Conversion failed", Detail: "A required conversion of the content did not succeed.", Ref: "RFC 3463 §3.7"},
	"6.6":  {Title: "Message content not available", Detail: "Content to be fetched from elsewhere (BURL) could not be retrieved.", Ref: "IANA SMTP Enhanced Status Codes (RFC 4468)"},
	"6.7":  {Title: "Non-ASCII addresses not permitted for that sender/recipient", Detail: "An internationalized (UTF-8) address was used where this server allows only ASCII: 553 for a RCPT TO, 550 for a MAIL FROM.", Ref: "RFC 6531 §3.5"},
	"6.8":  {Title: "UTF-8 string reply is required, but not permitted by the SMTP client", Detail: "The reply to VRFY or EXPN would have to show the mailbox name in UTF-8, but the client did not send the SMTPUTF8 parameter with that command.", Ref: "RFC 6531 §3.7.4.2"},
	"6.9":  {Title: "UTF-8 header message cannot be transferred to one or more recipients", Detail: "The message has UTF-8 headers and a recipient's server cannot take them, so the whole message is refused after its final dot (554).", Ref: "RFC 6531 §3.5"},
	"6.10": {Title: "Duplicate of X.6.8 (deprecated)", Detail: "A duplicate of X.6.8 and so deprecated; servers should not send it.", Ref: "RFC 6531 §4.2"},

	// X.7.x: security or policy (RFC 3463 §3.8)
	"7.0":  {Title: "Other or undefined security status", Detail: "A security or policy reason, deliberately unspecified. Seen as 4.7.0 for temporary blocks, greylisting or 'TLS required', and in 530 5.7.0 'authentication required'.", Ref: "RFC 3463 §3.8"},
	"7.1":  {Title: "Delivery not authorized, message refused", Detail: "Policy refuses this sender, client or recipient: relaying denied (you are not authenticated and the domain is not local), a blocklisted IP, or a spam or SPF rejection.", Ref: "RFC 3463 §3.8"},
	"7.2":  {Title: "Mailing list expansion prohibited", Detail: "The sender may not post to this mailing list.", Ref: "RFC 3463 §3.8"},
	"7.3":  {Title: "Security conversion required but not possible", Detail: "A conversion between secure messaging protocols was needed and impossible.", Ref: "RFC 3463 §3.8"},
	"7.4":  {Title: "Security features not supported", Detail: "The message asks for security features the delivery path does not support.", Ref: "RFC 3463 §3.8"},
	"7.5":  {Title: "Cryptographic failure", Detail: "A system that should validate or decrypt the message lacked a valid key.", Ref: "RFC 3463 §3.8"},
	"7.6":  {Title: "Cryptographic algorithm not supported", Detail: "The algorithm needed to validate or decrypt is not supported.", Ref: "RFC 3463 §3.8"},
	"7.7":  {Title: "Message integrity failure", Detail: "The message was found corrupted or altered.", Ref: "RFC 3463 §3.8"},
	"7.8":  {Title: "Authentication credentials invalid", Detail: "AUTH failed: wrong user name or password (535 5.7.8). Check them; many providers need an app password.", Ref: "RFC 4954 §6"},
	"7.9":  {Title: "Authentication mechanism is too weak", Detail: "The server's policy needs a stronger SASL mechanism for this user.", Ref: "RFC 4954 §6"},
	"7.10": {Title: "Encryption needed", Detail: "An encryption layer such as TLS is needed before this mechanism may be used.", Ref: "RFC 5248 §2.4"},
	"7.11": {Title: "Encryption required for requested authentication mechanism", Detail: "This mechanism may only be used over TLS: send STARTTLS first (538 5.7.11).", Ref: "RFC 4954 §6"},
	"7.12": {Title: "A password transition is needed", Detail: "The user must log in once with PLAIN (over TLS) before this mechanism works.", Ref: "RFC 4954 §6"},
	"7.13": {Title: "User account disabled", Detail: "The credentials were right but the account is disabled; only an administrator can help.", Ref: "RFC 5248 §2.4"},
	"7.14": {Title: "Trust relationship required", Detail: "The submission server needs a configured trust relationship with a third-party server.", Ref: "RFC 5248 §2.4"},
	"7.15": {Title: "Priority level is too low", Detail: "The MT-PRIORITY given is below what the server accepts right now.", Ref: "IANA SMTP Enhanced Status Codes (RFC 6710)"},
	"7.16": {Title: "Message is too big for the specified priority", Detail: "At this MT-PRIORITY only smaller messages are accepted.", Ref: "IANA SMTP Enhanced Status Codes (RFC 6710)"},
	"7.17": {Title: "Mailbox owner has changed", Detail: "RRVS check: the mailbox changed owner since the date the sender gave.", Ref: "IANA SMTP Enhanced Status Codes (RFC 7293)"},
	"7.18": {Title: "Domain owner has changed", Detail: "RRVS check: the recipient's domain changed owner since the date the sender gave.", Ref: "IANA SMTP Enhanced Status Codes (RFC 7293)"},
	"7.19": {Title: "RRVS test cannot be completed", Detail: "The server cannot tell whether the mailbox changed owner since the given date.", Ref: "IANA SMTP Enhanced Status Codes (RFC 7293)"},
	"7.20": {Title: "No passing DKIM signature found", Detail: "The receiver's policy wants a valid DKIM signature and the message has none.", Ref: "RFC 7372 §3"},
	"7.21": {Title: "No acceptable DKIM signature found", Detail: "DKIM signatures verified, but none from a domain the receiver accepts.", Ref: "RFC 7372 §3"},
	"7.22": {Title: "No valid author-matched DKIM signature found", Detail: "The receiver found no valid DKIM signature whose domain matches the From: header.", Ref: "RFC 7372 §3"},
	"7.23": {Title: "SPF validation failed", Detail: "The sending IP is not allowed by the SPF record of the MAIL FROM domain.", Ref: "RFC 7372 §3"},
	"7.24": {Title: "SPF validation error", Detail: "SPF could not be evaluated (a DNS error or a broken SPF record).", Ref: "RFC 7372 §3"},
	"7.25": {Title: "Reverse DNS validation failed", Detail: "The client's IP address has no matching reverse DNS (PTR) name, which the receiver requires.", Ref: "RFC 7372 §3"},
	"7.26": {Title: "Multiple authentication checks failed", Detail: "More than one check (SPF, DKIM, DMARC...) failed; big providers use it when a message is unauthenticated.", Ref: "RFC 7372 §3"},
	"7.27": {Title: "Sender address has null MX", Detail: "The MAIL FROM domain publishes a null MX, so bounces could never be delivered; the receiver refuses it.", Ref: "IANA SMTP Enhanced Status Codes (RFC 7505)"},
	"7.28": {Title: "Mail flood detected", Detail: "The message looks like part of a flood of similar messages; the sender is being throttled.", Ref: "IANA SMTP Enhanced Status Codes registry"},
	"7.29": {Title: "ARC validation failure", Detail: "The message's ARC chain (forwarding authentication) did not validate.", Ref: "IANA SMTP Enhanced Status Codes (RFC 8617)"},
	"7.30": {Title: "REQUIRETLS support required", Detail: "The message demands REQUIRETLS and the next hop does not offer it.", Ref: "IANA SMTP Enhanced Status Codes (RFC 8689)"},
}
