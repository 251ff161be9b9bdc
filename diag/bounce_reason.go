package diag

import (
	"regexp"
	"strings"
)

// Bounce reasons: the vocabulary of bounce classifiers (sisimai's labels),
// so results compare with what mail operators already use.
const (
	BounceUserUnknown     = "userunknown"
	BounceHostUnknown     = "hostunknown"
	BounceHasMoved        = "hasmoved"
	BounceMailboxFull     = "mailboxfull"
	BounceMesgTooBig      = "mesgtoobig"
	BounceExceedLimit     = "exceedlimit"
	BounceSystemFull      = "systemfull"
	BounceNotAccept       = "notaccept"
	BounceNoRelaying      = "norelaying"
	BounceBlocked         = "blocked"
	BounceRejected        = "rejected"
	BounceFiltered        = "filtered"
	BounceSpamDetected    = "spamdetected"
	BounceVirusDetected   = "virusdetected"
	BouncePolicyViolation = "policyviolation"
	BounceBadReputation   = "badreputation"
	BounceRequirePTR      = "requireptr"
	BounceAuthFailure     = "authfailure"
	BounceSecurityError   = "securityerror"
	BounceFailedSTARTTLS  = "failedstarttls"
	BounceSyntaxError     = "syntaxerror"
	BounceNotCompliantRFC = "notcompliantrfc"
	BounceContentError    = "contenterror"
	BounceSpeeding        = "speeding"
	BounceTooManyConn     = "toomanyconn"
	BounceSuspend         = "suspend"
	BounceExpired         = "expired"
	BounceNetworkError    = "networkerror"
	BounceSystemError     = "systemerror"
	BounceMailerError     = "mailererror"
	BounceOnHold          = "onhold"
	BounceUndefined       = "undefined"
	BounceVacation        = "vacation"
	BounceFeedback        = "feedback"
	BounceDelivered       = "delivered"
)

// bounceReasonInfo is what a person needs to know about one reason.
type bounceReasonInfo struct {
	fault       string // who must act: sender, recipient, recipient-server, sender-server, network
	hard        bool   // stop sending to this address
	explanation string
	fix         string
}

var bounceReasons = map[string]bounceReasonInfo{
	BounceUserUnknown: {"sender", true,
		"The recipient's mail server says this mailbox does not exist.",
		"Check the address for typos; if it is right, the account was closed. Remove it from your lists and ask the person for a new address another way."},
	BounceHostUnknown: {"sender", true,
		"The domain after the @ does not exist or has no mail server (no MX or A record).",
		"Check the domain for typos (gmial.com, outlok.com); look it up with `postlab mx DOMAIN`."},
	BounceHasMoved: {"recipient", true,
		"The mailbox existed but has moved and no longer accepts mail; there is no forwarding address.",
		"Ask the recipient for their new address and update your records."},
	BounceMailboxFull: {"recipient", false,
		"The recipient's mailbox is over its storage quota.",
		"Nothing is wrong on your side; the recipient must delete mail. Try again later or reach them another way; if it keeps failing for weeks, treat the address as abandoned."},
	BounceMesgTooBig: {"sender", true,
		"The message is larger than the receiving system accepts.",
		"Send smaller attachments (most providers accept 20-25 MB, before base64 grows it by a third) or share a link to the file instead."},
	BounceExceedLimit: {"sender", true,
		"The message is longer than this mailbox accepts: a per-mailbox size limit, smaller than the server's general limit (RFC 3463 X.2.3).",
		"Send a smaller message (share big files as a link); ask the recipient about their limit."},
	BounceSystemFull: {"recipient-server", false,
		"The receiving mail system is out of disk space or is congested.",
		"Nothing to fix on your side; your server keeps retrying. Tell the recipient's administrator if it lasts."},
	BounceNotAccept: {"recipient-server", true,
		"The destination host does not accept mail at all (a null MX, RFC 7505, or a host that refuses mail).",
		"The domain says it receives no mail: check the address; use another way to reach the person."},
	BounceNoRelaying: {"sender-server", true,
		"The server you handed the message to refused to relay it: it is neither the recipient's server nor did you log in.",
		"Send through your own provider's submission server (port 587 or 465) with authentication, or fix the MX/routing so the message goes to the recipient's own server."},
	BounceBlocked: {"sender-server", false,
		"The receiving server refused your sending server's IP address (often because it is on a DNS blocklist such as Spamhaus, or it looks like a home/dynamic connection).",
		"Find the list named in the message, check your IP at the list's website, fix the cause (compromised account, open relay, missing rDNS) and request delisting; send through your provider's relay meanwhile."},
	BounceRejected: {"sender", true,
		"The receiving server refused the envelope sender (MAIL FROM): the sender address or its domain is invalid, unverifiable or not allowed.",
		"Use a real, resolvable sender address whose domain has MX records; check the sending program's return-path setting."},
	BounceFiltered: {"recipient", true,
		"The recipient (or their server's filter) refused this message, for example a per-user block or a disabled mailbox.",
		"Ask the recipient to allow your address, or contact them another way."},
	BounceSpamDetected: {"sender", false,
		"The receiving server's content filter judged the message to be spam.",
		"Authenticate your mail (SPF, DKIM, DMARC), avoid link shorteners and spammy wording, send only to people who asked for it, and check `postlab headers` on a test copy."},
	BounceVirusDetected: {"sender", true,
		"The receiving server found a virus or a forbidden attachment type in the message.",
		"Scan the attachment; send documents as PDF or via a link; never send executables or macro documents."},
	BouncePolicyViolation: {"sender", true,
		"The message broke a policy of the receiving organisation (forbidden attachment, content rule, recipient restriction).",
		"Read the text for the rule that was hit; ask the recipient's administrator if you believe it is wrong."},
	BounceBadReputation: {"sender-server", false,
		"The receiving provider throttled or refused the mail because of the sending IP's or domain's reputation (complaints, volume, spam traps).",
		"Slow down, send only to engaged recipients, authenticate with SPF/DKIM/DMARC, check the provider's postmaster tools (Google Postmaster, Microsoft SNDS, Yahoo Sender Hub)."},
	BounceRequirePTR: {"sender-server", false,
		"The sending server's IP has no reverse DNS (PTR) record, or it does not match the server's name.",
		"Ask whoever owns the IP (your hosting provider) to set a PTR record to your server's hostname, and make that hostname resolve back to the IP."},
	BounceAuthFailure: {"sender-server", true,
		"The message failed sender authentication (SPF, DKIM or DMARC) at the receiving server.",
		"Publish an SPF record that includes every server that sends for your domain, sign with DKIM using the From domain, and publish DMARC; check with `postlab diag DOMAIN`."},
	BounceSecurityError: {"sender", true,
		"A security requirement was not met: authentication was required or failed, or the message was refused for a security reason.",
		"Log in to your submission server (correct user name and password, a supported mechanism, over TLS); read the text for the exact requirement."},
	BounceFailedSTARTTLS: {"sender-server", false,
		"The two servers could not set up TLS (STARTTLS) and one side requires it.",
		"Check your server's TLS configuration and certificate, and that it offers modern TLS versions."},
	BounceSyntaxError: {"sender-server", true,
		"The receiving server did not understand a command your server sent (an SMTP protocol error).",
		"This is a bug or misconfiguration in the sending software; update it or report it with the text of the error."},
	BounceNotCompliantRFC: {"sender", true,
		"The message is not formatted according to the standard (RFC 5322): for example missing or duplicate From/Date/Message-ID headers.",
		"Fix the program that builds the message so it writes exactly one From, Date and Message-ID and valid header syntax."},
	BounceContentError: {"sender", true,
		"Something in the message content or encoding could not be accepted (bad MIME, 8-bit data the server cannot take, invalid headers).",
		"Send the message with a standard mail client, or fix the encoding (use quoted-printable or base64 for non-ASCII)."},
	BounceSpeeding: {"sender-server", false,
		"The receiving server is rate-limiting you: too many messages in too short a time.",
		"Nothing is lost yet: your server retries. Send more slowly and spread large mailings over time."},
	BounceTooManyConn: {"sender-server", false,
		"Your server has too many connections (or sessions) open to the receiving server at once, or opened them too fast.",
		"Nothing is lost: your server retries. Open fewer parallel connections to this destination (a per-destination concurrency limit)."},
	BounceSuspend: {"recipient", true,
		"The recipient's account is disabled or suspended.",
		"The address is not in use; remove it or contact the person another way."},
	BounceExpired: {"network", true,
		"Your server kept trying and gave up: the message stayed in the queue longer than its retry time (usually days).",
		"Check why the destination was unreachable (MX, firewall, the server down); `postlab mx DOMAIN` and `postlab diag DOMAIN` help. Send again once it works."},
	BounceNetworkError: {"network", false,
		"A network or routing problem: the connection failed, timed out, looped or could not be routed.",
		"Usually temporary; if it lasts, check the domain's MX records and that its servers accept connections on port 25."},
	BounceSystemError: {"recipient-server", false,
		"The receiving mail system had an internal error or is misconfigured.",
		"Nothing to fix on your side; try again later and tell the recipient's administrator if it persists."},
	BounceMailerError: {"recipient-server", true,
		"The local delivery program on the receiving system failed.",
		"Tell the recipient's administrator; it is a problem of their server."},
	BounceOnHold: {"unknown", false,
		"The server reported a failure but did not say clearly why.",
		"Read the diagnostic text; contact the recipient's postmaster if it is not clear."},
	BounceUndefined: {"unknown", false,
		"The cause could not be determined from this message.",
		"Read the diagnostic text yourself, or look at the original bounce message."},
	BounceVacation: {"recipient", false,
		"This is an automatic reply (out of office / vacation), not a delivery failure: the message was delivered.",
		"Nothing to fix."},
	BounceFeedback: {"sender", false,
		"This is a feedback (ARF, RFC 5965) report about a message you sent: with Feedback-Type abuse a recipient marked it as spam; auth-failure (RFC 6591) says the receiver's SPF, DKIM or DMARC check failed.",
		"For a complaint (abuse), stop mailing the person who complained; for auth-failure, fix the sender's SPF, DKIM or DMARC as the report says."},
	BounceDelivered: {"", false,
		"The report says the message was delivered successfully.",
		"Nothing to fix."},
}

// reasonRule maps wording found in diagnostic text to a reason. The order
// matters: the specific comes before the general.
type reasonRule struct {
	reason string
	re     *regexp.Regexp
}

func rules(reason string, patterns ...string) []reasonRule {
	out := make([]reasonRule, len(patterns))
	for i, p := range patterns {
		out[i] = reasonRule{reason, regexp.MustCompile("(?i)" + p)}
	}
	return out
}

var reasonTextRules = concatRules(
	rules(BounceNoRelaying, `relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)`, `not (permitted|allowed|authori[sz]ed) to relay`, `unable to relay`, `we do not relay`, `relay access`, `no relaying`, `isn't in my list of allowed rcpthosts`, `not our customer`, `relaying (mail )?to .{0,60} (is )?not allowed`, `cannot relay`, `5\.7\.64\b`),
	rules(BounceMailboxFull, `mailbox (is )?full`, `over (the )?quota`, `quota (exceeded|exceeds|full)`, `exceeded (storage|the storage|its|their|his|her) (allocation|quota)`, `mail(box|folder|drop)? ?(size )?(limit )?exceeded`, `user(s)? mailbox (has )?exceeded`, `(insufficient|not enough) (disk )?(space|storage) (in|for) (the )?(mailbox|user)`, `out of storage`, `storage (quota|limit) (exceeded|reached)`, `mailbox (size )?limit`, `\boverquota\b`, `account is (full|over)`, `inbox is full`, `\b[45]\.2\.2\b`, `too many messages in (this|the) mailbox`, `full mailbox`),
	rules(BounceMesgTooBig, `message (size|length) exceeds`, `message (is )?too (big|large)`, `(exceeds|over) (the )?(maximum |max )?(message )?size`, `size limit`, `too big for system`, `message file too big`, `\b5\.3\.4\b`, `larger than .{0,30}(allowed|limit|permitted)`, `exceeded (the )?max(imum)? message size`),
	rules(BounceExceedLimit, `\b5\.2\.3\b`, `exceeds (an )?administrative limit`),
	rules(BounceSystemFull, `insufficient system storage`, `system (storage|disk) (is )?full`, `mail system full`, `\b[45]\.3\.1\b`, `no space left`, `disk (is )?full`),
	rules(BounceSuspend, `(account|mailbox|user) (has been |is )?(disabled|suspended|deactivated|inactive|locked|blocked by admin|expired)`, `(disabled|suspended|inactive|deactivated|expired) (account|mailbox|user)`, `mailbox (is )?(not active|temporarily disabled|unavailable due to inactivity)`, `recipient (is )?(suspended|disabled)`, `\b5\.7\.13\b`, `\b5\.2\.1\b.{0,60}(disabled|inactive|suspend)`),
	rules(BounceHasMoved, `address (has )?changed`, `has moved`, `no longer (at|with|in)`, `\b5\.1\.6\b`),
	rules(BounceAuthFailure, `\bdmarc\b`, `\bspf\b.{0,40}(fail|check|validat|reject|not (permitted|authori|designat))`, `(fail|not pass).{0,30}\bspf\b`, `\bdkim\b.{0,40}(fail|invalid|not|no )`, `not authenticated.{0,40}(spf|dkim)`, `(unauthenticated|authentication) (email|mail|sender)`, `sender (policy framework|id)`, `does not designate .{0,60} as permitted sender`, `\b[45]\.7\.2[0-46]\b`, `\b5\.7\.509\b`, `\b5\.7\.29\b`),
	rules(BounceRejected, `sender (address )?(rejected|denied|refused|blocked|is not allowed)`, `(sender|from):? (domain|address) (does not exist|is invalid|not found|unknown)`, `unroutable sender`, `provide a valid from`, `purported responsible address`, `address (that )?(has been |is )?(black|block)listed`, `domain of sender address`, `sender verify failed`, `sender verification`, `unable to verify sender`, `invalid sender`, `unknown sender`, `envelope (sender|from) .{0,40}(rejected|invalid|not)`, `mail from (rejected|refused)`, `return path`, `\b[45]\.1\.[78]\b`, `bad sender`, `your (address|domain) .{0,40}(blocked|rejected)`),
	rules(BounceUserUnknown, `user(name)? (is )?unknown`, `unknown (user|recipient|local[- ]part|mailbox|address|account)`, `no such (user|mailbox|recipient|account|address|local user)`, `(user|mailbox|recipient|address|account|e-?mail address) (does )?(not|doesn't|does not) exist`, `(user|mailbox|recipient|account|address) (was )?not found`, `(invalid|bad|non-?existent) (recipient|mailbox|user|address|destination)`, `recipient not found`, `not a (valid|known) (user|mailbox|recipient)`, `user not (found|listed)`, `mailbox unavailable.{0,40}(invalid|not exist|unknown)`, `unrouteable address`, `address (rejected|unknown)`, `recipientnotfound`, `doesn't have an? .{0,30}account`, `no mailbox (here|by that name)`, `the email account that you tried to reach does not exist`, `\baddress does not exist\b`, `not listed in (domino )?directory`, `undeliverable address`, `\b5\.1\.1\b`, `\bresolver\.adr\.recipnotfound`, `user doesn't exist`, `no valid recipients`, `mailbox not available`, `unknown or illegal alias`, `recipient address rejected: (access denied|user unknown|invalid)`, `requested action not taken: mailbox unavailable`, `mailbox (is )?unavailable`, `invalid (e-?mail )?address`, `no account by that name`, `not a (valid|local) (address|recipient|user|mailbox)`, `(mailbox|address|account) (is )?(inactive|invalid)`, `this address no longer accepts mail`, `bad ?(recipient|rcptto|destination mailbox)`, `destination server rejected recipients`, `there is no one at this address`, `address not present in directory`, `unknown e-?mail address`, `email address (could not be found|is wrong|does not exist)`, `(user|recipient|mailbox) .{0,60}(was not found|does not exist|not exist)`, `no such person`, `user(s)? (is )?not (active|known|here)`, `unknown (virtual )?user`, `not found in (the )?(directory|address book)`, `utilisateur inconnu`, `invalid (final delivery )?user ?(id|name|address)?\b`, `ディレクトリのリストにありません`, `ディレクトリ\s*には見つかりません`, `recipient name is not recognized`, `宛先.{0,10}(存在しません|見つかりません)`, `no existe`, `nessun utente`, `adresse nicht gefunden`, `unbekannt(er)? (empf[äa]nger|benutzer)`),
	rules(BounceRequirePTR, `reverse (dns|lookup|hostname)`, `\bptr record`, `\brdns\b`, `no ptr`, `cannot find your hostname`, `hostname .{0,40}does not resolve`, `client host .{0,60}(rejected|refused).{0,40}(hostname|reverse)`, `not have a valid ptr`, `\bip name lookup failed`, `\b[45]\.7\.25\b`, `unresolvable (hostname|address)`),
	rules(BounceNotCompliantRFC, `rfc ?5322`, `rfc ?2822`, `rfc ?822`, `not (rfc|standard)[- ]compliant`, `(multiple|duplicate|missing) (from|date|message-id|subject|to) (header|field)`, `headers? (is )?(not|non) (rfc|compliant)`, `must (have|contain) a (from|date|message-id)`),
	// Before the X.7.0 code such replies carry ("554 5.7.0 Header error").
	rules(BounceContentError, `header error`),
	rules(BounceBadReputation, `reputation`, `unusual rate of unsolicited`, `\bsnds\b`, `sender hub`),
	rules(BounceHostUnknown, `host (or domain name )?(not found|unknown)`, `unknown host`, `domain (name )?(not found|does not exist|doesn't exist)`, `no such domain`, `name service error`, `unrouteable mail domain`, `nxdomain`, `dns error: domain name not found`, `no (mx|mail exchanger|valid mx)`, `host not found`, `unknown domain`, `domain .{0,60} (does not|doesn't) accept mail`, `\b5\.1\.2\b`, `\b5\.4\.4\b`, `mail for .{0,60} loops back to myself`),
	// Before the X.3.2 code in the same reply ("452 4.3.2 Connection rate
	// limit exceeded").
	rules(BounceTooManyConn, `connection rate limit`),
	rules(BounceNotAccept, `does not accept (e-?)?mail`, `null mx`, `not accepting (network )?(messages|mail)`, `\b5\.1\.10\b`, `\b5\.7\.27\b`, `\b[45]\.3\.2\b`),
	rules(BounceVirusDetected, `virus`, `malware`, `infected`, `trojan`, `\bmalicious (content|attachment|payload)`),
	rules(BounceBlocked, `blocked using`, `use the smtp server of your isp`, `use your (isp|provider)'?s? (smtp|mail|outgoing)`, `(blocked|refused) - see`, `ipcheck\.proofpoint`, `envelope blocked`, `ip found in rbl`, `blacklist`, `blocklist`, `block ?list`, `denylist`, `\bdnsbl\b`, `\brbl\b`, `spamhaus`, `barracuda`, `spamcop`, `sorbs`, `abuseat`, `uceprotect`, `listed (at|in|on|by)`, `client host .{0,60}(rejected|blocked|refused)`, `(ip|host|address|network|connection) .{0,50}(is )?(blocked|banned|denied|refused|not allowed|not permitted)`, `banned sending ip`, `(blocked|banned|refused) (ip|host|sending ip)`, `(dynamic|residential|dial-?up) (ip|address|host|pool)`, `not currently accepting mail from your ip`, `temporarily deferred due to (unexpected volume or )?user complaints`, `\btss0[0-9]\b`, `access denied.{0,40}(ip|banned|blocked)`, `5\.7\.(606|708|511|512)`, `\bs3140\b`, `mail server at .{0,60} is blocked`, `service unavailable; client host`, `connection (refused|dropped|rejected)`, `helo command rejected`, `rejected because .{0,40}(ip|host)`),
	rules(BounceSpeeding, `(daily|hourly|relay|sending) (relay )?quota`, `rate limit`, `ratelimit`, `too many (messages|mails|emails)`, `(sending|sent) (too fast|too many)`, `throttl`, `try again later.{0,40}(limit|volume)`, `exceeded .{0,20}(sending|message|connection) (rate|limit)`, `receiving mail at a rate`, `\bts0[0-9]\b`, `message rate`, `too much mail`),
	rules(BounceTooManyConn, `too many (connections|concurrent|sessions|simultaneous)`, `connection limit`, `\b[45]\.5\.3\b`, `too many (recipients|rcpt)`),
	rules(BounceSpamDetected, `spam`, `junk mail`, `\bube\b`, `unsolicited`, `bulk mail`, `content (was )?(rejected|refused|filtered)`, `message (looks|content) suspicious`, `phish`, `\b5\.7\.28\b`, `classified as (spam|junk)`, `high probability`, `score .{0,30}(exceeded|too high)`),
	rules(BounceFailedSTARTTLS, `starttls`, `tls (is )?(required|handshake|negotiation)`, `requiretls`, `must issue a starttls`, `encryption required`, `\b5\.7\.10\b`, `\b5\.7\.30\b`, `secure connection`),
	rules(BounceSecurityError, `authentication (is )?required`, `auth(entication)? (failed|failure|credentials invalid)`, `must (authenticate|log ?in)`, `invalid credentials`, `\b5\.7\.[089]\b`, `\b5\.7\.11\b`, `not authenticated`, `sender address not authori[sz]ed`, `send ?as (denied|permission)`, `submission requires`),
	rules(BounceFiltered, `filtered`, `(refused|rejected|blocked|declined) by (the )?(recipient|user|mailbox owner)`, `recipient .{0,40}(does not|doesn't) (want|accept) (mail|messages) from`, `not accept(ing)? (mail|messages) from you`, `restricted to`, `only accepts mail from`, `delivery not authori[sz]ed`, `refused due to recipient preferences`, `user reject`, `is not accepting any mail`),
	rules(BouncePolicyViolation, `polic(y|ies)`, `anti-?spoofing`, `administrative prohibition`, `prohibited`, `not allowed (attachment|file|content)`, `(attachment|file) (type )?(is )?(blocked|not allowed|forbidden|rejected|prohibited)`, `message (is )?(blocked|rejected) (by|due to) (a |the )?(rule|transport rule|content filter)`, `5\.7\.1 .{0,40}(restricted|not authori[sz]ed to send)`),
	rules(BounceContentError, `\b[45]\.6\.[0-9]\b`, `(invalid|illegal|bad) (header|character|mime|content|encoding)`, `8-?bit`, `line too long`, `header (is )?too (long|large)`, `message content`, `malformed`),
	rules(BounceExpired, `retry (timeout|time) exceeded`, `did not accept our requests to connect`, `(delivery|message) (time )?expired`, `could not be delivered (within|for) `, `(retry|delivery) (period|time) (exceeded|expired)`, `too old`, `giving up`, `was not delivered for .{0,30} (days|hours)`, `has been delayed for`, `message expired`, `timeout waiting`, `\b[45]\.4\.7\b`, `unable to deliver .{0,40} (after|within) `, `queue(d)? too long`),
	rules(BounceNetworkError, `connection (timed out|reset|lost)`, `timed? ?out`, `network (is )?unreachable`, `no route to host`, `could not connect`, `unable to connect`, `connect to .{0,80} (failed|refused)`, `(routing|mail) loop`, `too many hops`, `lost connection`, `dns (lookup|error|failure|temporary)`, `temporary (dns|lookup)`, `\b[45]\.4\.[0-6]\b`, `host unreachable`, `tls (error|failure)`),
	rules(BounceSystemError, `(internal|system|server|local) (error|problem|failure)`, `temporary (failure|error)`, `misconfigur`, `configuration error`, `service (temporarily )?unavailable`, `try again later`, `local error in processing`, `\b[45]\.3\.[0-5]\b`),
	rules(BounceSyntaxError, `syntax error`, `bad sequence of commands`, `command (not )?(unrecogni[sz]ed|implemented)`, `unrecogni[sz]ed command`, `\b[45]\.5\.[0-24]\b`, `invalid command`),
)

func concatRules(lists ...[]reasonRule) []reasonRule {
	var out []reasonRule
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// reasonByStatus maps RFC 3463 enhanced codes to reasons (the mapping bounce
// classifiers agree on; generic codes such as 5.0.0 or 5.7.1 are left to
// the text).
var reasonByStatus = map[string]string{
	"2.1.5": BounceDelivered,
	"4.1.6": BounceHasMoved, "4.1.7": BounceRejected, "4.1.8": BounceRejected,
	"4.2.1": BounceBlocked, "4.2.2": BounceMailboxFull, "4.2.3": BounceExceedLimit,
	"4.2.4": BounceFiltered, "4.3.1": BounceSystemFull, "4.3.2": BounceNotAccept,
	"4.3.3": BounceSystemError, "4.3.5": BounceSystemError, "4.4.1": BounceExpired,
	"4.4.2": BounceNetworkError, "4.4.3": BounceSystemError, "4.4.4": BounceNetworkError,
	"4.4.5": BounceSystemFull, "4.4.6": BounceNetworkError, "4.4.7": BounceExpired, "4.4.8": BounceNetworkError, "5.4.8": BounceNetworkError,
	"4.5.3": BounceTooManyConn, "4.6.0": BounceContentError, "4.7.1": BounceBlocked,
	"4.7.5": BounceSecurityError, "4.7.24": BounceAuthFailure, "4.7.25": BounceRequirePTR,
	"4.7.26": BounceAuthFailure,
	"5.1.0":  BounceUserUnknown, "5.1.1": BounceUserUnknown, "5.1.2": BounceHostUnknown,
	"5.1.3": BounceUserUnknown, "5.1.4": BounceFiltered, "5.1.6": BounceHasMoved,
	"5.1.7": BounceRejected, "5.1.8": BounceRejected, "5.1.9": BounceSystemError,
	"5.1.10": BounceNotAccept, "5.2.0": BounceFiltered, "5.2.1": BounceFiltered,
	"5.2.2": BounceMailboxFull, "5.2.3": BounceExceedLimit, "5.2.4": BounceFiltered,
	"5.3.0": BounceSystemError, "5.3.1": BounceSystemFull, "5.3.2": BounceNotAccept,
	"5.3.3": BounceSystemError, "5.3.4": BounceMesgTooBig, "5.3.5": BounceSystemError,
	"5.4.0": BounceNetworkError, "5.4.3": BounceSystemError, "5.4.4": BounceHostUnknown,
	"5.4.6": BounceNetworkError, "5.4.7": BounceExpired,
	"5.5.2": BounceSyntaxError, "5.5.3": BounceTooManyConn, "5.5.4": BounceSyntaxError,
	"5.5.5": BounceSystemError, "5.5.6": BounceSyntaxError,
	"5.6.0": BounceContentError, "5.6.1": BounceContentError, "5.6.2": BounceContentError,
	"5.6.3": BounceContentError, "5.6.5": BounceContentError, "5.6.6": BounceContentError,
	"5.6.7": BounceContentError, "5.6.8": BounceContentError, "5.6.9": BounceContentError,
	"5.7.0": BounceSecurityError, "5.7.1": BounceSecurityError, "5.7.2": BounceSecurityError,
	"5.7.3": BounceSecurityError, "5.7.4": BounceSecurityError, "5.7.5": BounceSecurityError,
	"5.7.6": BounceSecurityError, "5.7.7": BounceSecurityError, "5.7.8": BounceSecurityError,
	"5.7.9": BounceSecurityError, "5.7.10": BounceSecurityError, "5.7.11": BounceSecurityError,
	"5.7.13": BounceSuspend, "5.7.14": BounceSecurityError, "5.7.15": BounceSecurityError,
	"5.7.16": BounceMesgTooBig, "5.7.17": BounceHasMoved, "5.7.18": BounceHasMoved,
	"5.7.19": BounceSecurityError, "5.7.20": BounceAuthFailure, "5.7.21": BounceAuthFailure,
	"5.7.22": BounceAuthFailure, "5.7.23": BounceAuthFailure, "5.7.24": BounceAuthFailure,
	"5.7.25": BounceRequirePTR, "5.7.26": BounceAuthFailure, "5.7.27": BounceNotAccept,
	"5.7.28": BounceSpamDetected, "5.7.29": BounceAuthFailure, "5.7.30": BounceFailedSTARTTLS,
}

// genericStatus are codes too vague to beat a match in the text.
var genericStatus = map[string]bool{
	"5.0.0": true, "4.0.0": true, "5.7.1": true, "5.7.0": true, "4.7.0": true, "4.7.1": true,
	"5.1.0": true, "5.2.0": true, "5.2.1": true, "5.3.0": true, "5.5.0": true, "4.4.0": true,
	"5.4.0": true, "4.3.0": true, "4.5.0": true, "5.7.606": true, "5.7.708": true,
	"5.7.133": true, "5.7.509": true, "5.7.511": true, "5.7.512": true, "5.7.520": true,
	"5.4.1": true, "5.4.310": true, "4.3.2": true, "5.3.2": true, "5.4.300": true, "5.5.1": true, "5.6.0": true, "5.1.3": true,
}

// classifyBounce picks a reason from the enhanced status code, the SMTP
// reply code and the diagnostic text. The text wins over generic codes;
// specific codes (5.1.1, 5.2.2 ...) win over the text.
func classifyBounce(status string, reply int, text string) string {
	if strings.HasPrefix(status, "2.") {
		return BounceDelivered
	}
	// Greylisting wording beats the code and the rest of the text (a
	// postgrey reply reads "Recipient address rejected: Greylisted").
	if reply < 500 && !strings.HasPrefix(status, "5.") && greylistKind(4, text) == greyStrong {
		return BounceOnHold
	}
	if p, ok := matchProvider(status + " " + text); ok && p.reason != "" {
		// A provider's catch-all "policy" row yields to a reply that names
		// the failed check ("rejected due to example.org's DMARC policy").
		if p.reason == BouncePolicyViolation && textSays(BounceAuthFailure, text) {
			return BounceAuthFailure
		}
		return p.reason
	}
	byCode := ""
	if !genericStatus[status] {
		byCode = reasonByStatus[status]
	}
	low := strings.ToLower(text)
	if byCode == BounceUserUnknown {
		// 5.1.1 is also sent for blocked, full, moved or rejected-sender
		// cases; the text says which.
		for _, r := range reasonTextRules {
			switch r.reason {
			case BounceMailboxFull, BounceHasMoved, BounceRejected, BounceNotAccept, BounceAuthFailure, BounceBlocked, BounceSuspend:
				if r.re.MatchString(low) {
					return r.reason
				}
			}
		}
	}
	if byCode != "" && byCode != BounceSecurityError && byCode != BounceSystemError && byCode != BounceFiltered {
		return byCode
	}
	for _, r := range reasonTextRules {
		if r.re.MatchString(low) {
			return r.reason
		}
	}
	if byCode != "" {
		return byCode
	}
	if r := reasonByStatus[status]; r != "" {
		return r
	}
	if len(status) > 3 {
		switch status[:3] {
		case "5.6", "4.6":
			return BounceContentError
		case "5.7", "4.7":
			return BounceSecurityError
		case "5.1":
			return BounceUserUnknown
		case "4.4", "5.4":
			return BounceNetworkError
		}
	}
	switch {
	case reply >= 500 && reply <= 504:
		return BounceSyntaxError
	case reply == 552:
		return BounceMailboxFull
	case reply == 550 || reply == 551 || reply == 553:
		if strings.TrimSpace(text) != "" {
			return BounceOnHold
		}
	case reply == 521 || reply == 556:
		return BounceNotAccept
	}
	if strings.TrimSpace(text) != "" || status != "" || reply != 0 {
		return BounceOnHold
	}
	return BounceUndefined
}
