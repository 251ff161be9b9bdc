package diag

import (
	"regexp"
	"strings"
)

// providerRule recognises the wording of one big provider's common
// rejection. The table is data: each row says who, what it means, the fix
// and where the provider documents it.
type providerRule struct {
	need     *regexp.Regexp // when set, the text must also name the provider
	provider string
	name     string // short name of the rejection
	re       *regexp.Regexp
	reason   string
	fault    string
	meaning  string
	fix      string
	ref      string
}

func prov(provider, name, pattern, reason, fault, meaning, fix, ref string) providerRule {
	return providerRule{nil, provider, name, regexp.MustCompile("(?is)" + pattern), reason, fault, meaning, fix, ref}
}

const (
	refGmailErrors = "https://support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
	refGmailSender = "https://support.google.com/a/answer/81126 (Gmail email sender guidelines)"
	refMSNDR       = "https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online"
	refMSDelist    = "https://sender.office.com (Microsoft delist portal)"
	refYahoo       = "https://senders.yahooinc.com/smtp-error-codes/"
	refSpamhaus    = "https://check.spamhaus.org (Spamhaus IP and domain lookup)"
)

var (
	// Gmail's own phrases count too: a log often keeps only the first line
	// of its multi-line replies, without the final "gsmtp".
	needGmail     = regexp.MustCompile(`gsmtp|google|gmail|our system has detected|the email account that you tried to reach`)
	needMicrosoft = regexp.MustCompile(`outlook|microsoft|hotmail|office ?365|exchange|resolver\.|\.prod\.|protection\.|\(as[0-9]{3,}\)|\bas\([0-9]{3,}\)|\(s[0-9]{4,}\)|rate limited due to ip reputation`)
	needYahoo     = regexp.MustCompile(`yahoo|aol|ymail|\[(ts|tss|bl|pw)[0-9]+\]`)
)

// gated marks a rule whose wording is generic: it applies only when the
// text also names the provider.
func gated(need *regexp.Regexp, r providerRule) providerRule { r.need = need; return r }

// withPattern is r recognised by another wording.
func withPattern(r providerRule, pattern string) providerRule {
	r.re = regexp.MustCompile("(?is)" + pattern)
	return r
}

var (
	gmailUnauthenticated = prov("Gmail", "unauthenticated sender (5.7.26)", `unauthenticated email from .* is not accepted due to domain's dmarc policy|this mail is unauthenticated, which poses a security risk`,
		BounceAuthFailure, "sender-server",
		"Gmail refused the message because it is not authenticated: it failed DMARC for the From domain, or neither SPF nor DKIM passed (required of every sender since 2024).",
		"Publish SPF for every server that sends as your domain, sign with DKIM aligned with the From domain, publish a DMARC record; check with `postlab diag DOMAIN` and `postlab headers` on a copy sent to yourself.",
		refGmailSender)
	gmailPTR = prov("Gmail", "missing or bad PTR (5.7.25)", `the ip address sending this message does not have a ptr`,
		BounceRequirePTR, "sender-server",
		"Gmail requires the sending IP to have reverse DNS (PTR) whose name resolves back to the same IP.",
		"Ask the owner of the sending IP (your host/ISP) to set a PTR record to your mail server's hostname, and an A/AAAA record for that name pointing back.",
		refGmailSender)
)

var providerRules = []providerRule{
	// Gmail (the wording carries "gsmtp" or a support.google.com link).
	// Gmail's own sentences name it; a bare 5.7.26 or 5.7.25 is the
	// registry code any server may send (RFC 7372 §3), Gmail's only when
	// the text names Gmail.
	gmailUnauthenticated,
	gated(needGmail, withPattern(gmailUnauthenticated, `5\.7\.26.*(unauthenticated|authentication|dmarc|spf|dkim)`)),
	gmailPTR,
	gated(needGmail, withPattern(gmailPTR, `5\.7\.25|does not have a ptr record`)),
	gated(needGmail, prov("Gmail", "rate limit (4.7.28 / 4.7.0 unusual rate)", `(4\.7\.28|4\.7\.0).*(unusual rate|rate limit|rate-limited|too many (messages|mails|emails|recipients))|unusual rate of unsolicited mail`,
		BounceBadReputation, "sender-server",
		"Gmail is temporarily rate-limiting mail from your IP or domain because of an unusual volume or spam complaints.",
		"Slow down and keep retrying; check Google Postmaster Tools for your domain's spam rate (keep it under 0.3%), authenticate all mail and send only to people who asked for it.",
		refGmailErrors)),
	gated(needGmail, prov("Gmail", "TLS required / 4.7.0 temporary", `4\.7\.0.*(tls|encryption)`,
		BounceFailedSTARTTLS, "sender-server",
		"Gmail wanted a TLS-protected connection and the TLS negotiation failed.",
		"Make your server offer STARTTLS with a valid certificate and modern TLS versions.",
		refGmailErrors)),
	gated(needGmail, prov("Gmail", "suspicious/spam content (5.7.1 / 4.7.0)", `(5\.7\.1|4\.7\.0).*(likely unsolicited|unsolicited mail|spam|suspicious|harmful|policy that prohibits)`,
		BounceSpamDetected, "sender",
		"Gmail's filters judged this message (its content, links or sending pattern) as likely spam or harmful.",
		"Authenticate the domain, remove link shorteners and suspicious attachments, send only to people who opted in; watch Google Postmaster Tools.",
		refGmailSender)),
	gated(needGmail, prov("Gmail", "blocked by administrator policy (5.7.1)", `5\.7\.1.*(messages from .* are blocked|administrator|not authorized to send to|rejected by the recipient domain's policy)`,
		BouncePolicyViolation, "recipient",
		"The recipient's Google Workspace administrator has a rule that blocks this sender or this kind of message.",
		"Ask the recipient to have their administrator allow your address or domain.",
		refGmailErrors)),
	prov("Gmail", "not RFC 5322 compliant (5.7.1 / 5.7.8)", `not rfc 5322 compliant|rfc 5322.*(gsmtp|gmail)|5\.7\.1.*(multiple|missing) (from|date)`,
		BounceNotCompliantRFC, "sender",
		"Gmail refused a message whose header breaks RFC 5322 (a missing or duplicated From/Date/Message-ID, or a malformed header).",
		"Fix the program that builds the message so that it writes exactly one From, Date and Message-ID with valid syntax.",
		refGmailErrors),
	prov("Gmail", "mailbox does not exist (5.1.1)", `the email account that you tried to reach does not exist|5\.1\.1.*gsmtp`,
		BounceUserUnknown, "sender",
		"Gmail says the Google account does not exist.",
		"Check the spelling; the account may have been deleted.",
		refGmailErrors),
	gated(needGmail, prov("Gmail", "mailbox full (4.2.2 / 5.2.2)", `(4|5)\.2\.2.*(over its storage limit|out of storage|inbox is out of storage|mailbox is full)|email account that you tried to reach is over quota|is out of storage space`,
		BounceMailboxFull, "recipient",
		"The Gmail user's storage (shared with Drive and Photos) is full.",
		"Nothing to fix on your side; the recipient must free storage. Retry later.",
		refGmailErrors)),
	gated(needGmail, prov("Gmail", "message too big (5.3.4)", `5\.3\.4.*(exceeds|size limit)|message exceeded .* limit.*gsmtp`,
		BounceMesgTooBig, "sender",
		"The message is bigger than Gmail's 25 MB limit (after encoding).",
		"Share large files as a link instead of attaching them.",
		refGmailErrors)),
	gated(needGmail, prov("Gmail", "user disabled (5.2.1)", `5\.2\.1.*(account .* is disabled|user you are trying to contact is receiving mail at a rate)|the email account that you tried to reach is disabled`,
		BounceSuspend, "recipient",
		"The Gmail account is disabled (or receiving mail too fast to accept more).",
		"Contact the person another way.",
		refGmailErrors)),
	gated(needGmail, prov("Gmail", "receiving too fast (4.2.1)", `4\.2\.1.*receiving mail (at a rate|too quickly)`,
		BounceSpeeding, "recipient",
		"The Gmail user is receiving mail faster than Gmail allows; delivery will be retried.",
		"Nothing to fix; your server retries.",
		refGmailErrors)),

	// Microsoft 365 / Outlook.com / Exchange Online.
	prov("Microsoft", "5.7.708 traffic not accepted from this IP", `5\.7\.708|traffic not accepted from this ip`,
		BounceBlocked, "sender-server",
		"Microsoft 365 refuses mail from this IP because of its poor reputation (new tenant or IP range with a spam history).",
		"Send through a relay with a good reputation; if you run the IP, ask for delisting at the Microsoft delist portal.",
		refMSNDR),
	prov("Microsoft", "5.7.606-649 banned sending IP", `5\.7\.6[0-4][0-9]|banned sending ip|access denied, banned sender`,
		BounceBlocked, "sender-server",
		"The sending IP is on Microsoft's block list.",
		"Request delisting at the Microsoft delist portal, after fixing whatever sent spam from that IP.",
		refMSDelist),
	prov("Microsoft", "S3140 / not currently accepting mail from your IP", `\bs3140\b|\bs3150\b|not currently accepting mail from your ip|part of their network is on our block list`,
		BounceBlocked, "sender-server",
		"Outlook.com/Hotmail is refusing mail from your IP (on its internal block list).",
		"Fill in the Outlook.com sender support form and join SNDS/JMRP; check your IP's reputation.",
		"https://sendersupport.olc.protection.outlook.com/pm/"),
	prov("Microsoft", "5.4.1 recipient address rejected: access denied", `5\.4\.1.*(recipient address rejected: access denied|relay access denied)|recipient address rejected: access denied\. as\(`,
		BounceUserUnknown, "sender",
		"Exchange Online does not know this recipient (directory-based edge blocking): the address does not exist in the organisation.",
		"Check the address; if it should exist, the recipient's admin must add it (or fix the domain's MX/connector).",
		refMSNDR),
	prov("Microsoft", "5.1.10 recipient not found", `5\.1\.10.*(recipientnotfound|not found by smtp address lookup)|resolver\.adr\.recipientnotfound|recipient not found by smtp address lookup`,
		BounceUserUnknown, "sender",
		"Exchange Online could not find this recipient address.",
		"Check the address for typos; it may have been removed.",
		refMSNDR),
	prov("Microsoft", "5.1.1 bad destination mailbox", `5\.1\.1.*resolver\.adr\.|recipnotfound`,
		BounceUserUnknown, "sender",
		"Exchange says the recipient mailbox does not exist.",
		"Check the address for typos; remove it from your lists if it is right.",
		refMSNDR),
	gated(needMicrosoft, prov("Microsoft", "5.7.1 delivery not authorized / blocked", `5\.7\.1.*(delivery not authorized|not authorized to send to this recipient|rejected by the recipient's organization|blocked by the recipient|sender not allowed|restricted)|resolver\.rst\.`,
		BouncePolicyViolation, "recipient",
		"The recipient (or its organisation) only accepts mail from certain senders, and you are not one of them.",
		"Ask the recipient to allow your address, or the recipient's admin to change the delivery restriction.",
		refMSNDR)),
	prov("Microsoft", "5.7.509/5.7.510/5.7.511/5.7.512 DMARC / sender fails", `5\.7\.509|access denied, sending domain .* does not pass dmarc`,
		BounceAuthFailure, "sender-server",
		"Microsoft rejected the message because the sending domain fails DMARC with a reject policy.",
		"Fix SPF and DKIM so they align with the From domain; check with `postlab diag DOMAIN`.",
		refMSNDR),
	prov("Microsoft", "5.7.515 authentication requirements", `5\.7\.515|does not meet the required authentication level`,
		BounceAuthFailure, "sender-server",
		"Outlook.com requires high-volume senders to pass SPF, DKIM and DMARC.",
		"Publish SPF, DKIM and DMARC for the sending domain (alignment with the From domain).",
		refMSNDR),
	gated(needMicrosoft, prov("Microsoft", "5.7.511 banned sender", `5\.7\.511|access denied, banned sender`,
		BounceBlocked, "sender-server",
		"Microsoft blocked the message: the sending IP or sender is banned.",
		"Use the delist portal or Microsoft sender support with the full NDR.",
		refMSDelist)),
	gated(needMicrosoft, prov("Microsoft", "5.7.512 not RFC 5322 compliant", `5\.7\.512|must be rfc 5322 section 3\.6\.2 compliant`,
		BounceNotCompliantRFC, "sender",
		"Microsoft refused a message whose From header is missing or malformed (RFC 5322 §3.6.2).",
		"Fix the program that builds the message so that it writes one valid From header (a display name and an address in angle brackets, or a bare address).",
		refMSNDR)),
	prov("Microsoft", "5.7.520 external forwarding not allowed", `5\.7\.520|does not allow external forwarding`,
		BouncePolicyViolation, "sender-server",
		"Microsoft 365 did not forward the message to an outside address: the forwarding mailbox's organisation forbids automatic external forwarding (its outbound spam policy).",
		"Whoever set up the forwarding must ask their Microsoft 365 administrator to allow automatic external forwarding for the mailbox, or stop forwarding; the original message reached the mailbox itself.",
		refMSNDR),
	prov("Microsoft", "5.7.60 no Send As permission", `5\.7\.60\b|does not have permissions to send as this sender`,
		BounceSecurityError, "sender",
		"The account that logged in may not send with this From address (it lacks the Send As permission for it).",
		"Send from the account's own address, or have the administrator grant the account Send As permission for that address.",
		refMSNDR),
	gated(needMicrosoft, prov("Microsoft", "5.4.14 / 5.4.6 routing loop", `5\.4\.(14|6).*(hop count|loop)|hop count exceeded`,
		BounceNetworkError, "recipient-server",
		"The message went round in a loop between mail servers (forwarding or MX/connector misconfiguration).",
		"The recipient's admin must fix forwarding or connectors.",
		refMSNDR)),
	gated(needMicrosoft, prov("Microsoft", "5.2.2 mailbox full", `5\.2\.2.*(mailbox full|quotaexceeded|mailbox is full)|\.quotaexceeded`,
		BounceMailboxFull, "recipient",
		"The recipient's Exchange mailbox is over its quota.",
		"Nothing to fix on your side; the recipient must make room.",
		refMSNDR)),
	prov("Microsoft", "5.7.133/5.7.134/5.7.13x group restrictions", `5\.7\.13[3-6]`,
		BouncePolicyViolation, "recipient",
		"The recipient is a group or mailbox that only accepts mail from authenticated or internal senders.",
		"Ask the group owner to allow external senders.",
		refMSNDR),
	prov("Microsoft", "5.7.57 client not authenticated", `5\.7\.57|client was not authenticated to send anonymous mail`,
		BounceSecurityError, "client",
		"The Microsoft 365 submission server requires login before you send.",
		"Turn on SMTP authentication in your client (port 587, STARTTLS) and make sure SMTP AUTH is enabled for the mailbox.",
		refMSNDR),
	gated(needMicrosoft, prov("Microsoft", "4.7.650 / 4.7.500 throttled", `4\.7\.(5\d\d|650|651)|server busy.*try again later.*\[|temporarily rate limited`,
		BounceSpeeding, "sender-server",
		"Microsoft is throttling mail from your IP, often because it is new or has little sending history.",
		"Keep retrying; ramp up volume slowly and keep complaint rates low.",
		refMSNDR)),

	// Yahoo / AOL.
	prov("Yahoo", "[TS03] / [TSS09] permanently deferred", `(\[ts03\]|\[tss09\]|yahoo|aol).*permanently deferred|permanently deferred.*retrying will not succeed`,
		BounceBlocked, "sender-server",
		"Yahoo/AOL refuses all mail from your IP for good, although the reply code is a temporary one: its own text says retrying will not succeed.",
		"Stop relying on retries: the queued messages will not get through from this IP. Find out why the IP is blocked (complaints, spam traps, a compromised account), fix it, and ask Yahoo Sender Hub for a review; meanwhile send from another IP with a good reputation.",
		refYahoo),
	prov("Yahoo", "5.7.9 unauthenticated sender", `5\.7\.9.*(sender is unauthenticated|requires all senders to authenticate)|(yahoo|aol) requires all senders to authenticate`,
		BounceAuthFailure, "sender-server",
		"Yahoo/AOL refused the message because neither SPF nor DKIM passed for it (required of every sender since 2024).",
		"Publish SPF for every server that sends as your domain and sign with DKIM aligned with the From domain; check with `postlab diag DOMAIN` and `postlab headers` on a copy sent to yourself.",
		refYahoo),
	prov("Yahoo", "TSS04 deferred for volume or complaints", `\btss0[1-9]\b|temporarily deferred due to (unexpected volume or )?user complaints`,
		BounceBlocked, "sender-server",
		"Yahoo/AOL is deferring mail from your IP because of unusual volume or user complaints.",
		"Your server keeps retrying; reduce volume, remove unengaged recipients, make unsubscribe easy; register with Yahoo Sender Hub and its complaint feedback loop.",
		refYahoo),
	prov("Yahoo", "421 4.7.0 [TS0x] / [TSS0x] throttling", `\bts0[1-9]\b|421 4\.7\.0.*(yahoo|aol)|4\.7\.0 \[ts`,
		BounceSpeeding, "sender-server",
		"Yahoo/AOL is temporarily refusing mail from your IP (throttling).",
		"Keep retrying with backoff and lower the sending rate.",
		refYahoo),
	prov("Yahoo", "554 5.7.9 not accepted for policy reasons", `5\.7\.9.*(message not accepted for policy reasons|policy reasons)`,
		BouncePolicyViolation, "sender-server",
		"Yahoo/AOL rejected the message for policy reasons: often a DMARC failure of the From domain, otherwise its content or authentication rules.",
		"Make SPF and DKIM pass and align with the From domain; see Yahoo's sender best practices.",
		refYahoo),
	prov("Yahoo", "553 5.1.1/5.1.3 user does not exist", `(this user doesn't have a .* account|mailbox does not exist|5\.1\.1 <.*>: recipient address rejected).*(yahoo|aol|ymail)|this user doesn't have a (yahoo|aol|ymail)`,
		BounceUserUnknown, "sender",
		"The Yahoo/AOL account does not exist.",
		"Check the spelling; remove the address if it is right.",
		refYahoo),
	prov("Yahoo", "554 delivery error / 4.7.1 user over quota", `(yahoo|aol).*(over quota|mailbox is full)`,
		BounceMailboxFull, "recipient",
		"The Yahoo/AOL mailbox is full.",
		"Retry later; the recipient must make room.",
		refYahoo),
	prov("Yahoo", "554 5.7.1 blocked (not accepting mail from your server)", `5\.7\.1.*\[(bl|pw|ts|tss)[0-9]+\]|\[bl[0-9]+\]`,
		BounceBlocked, "sender-server",
		"Yahoo/AOL blocked mail from your IP (its reputation or a block listing).",
		"Check Yahoo Sender Hub, fix complaints, request review.",
		refYahoo),

	// DNS blocklists.
	prov("Spamhaus", "listed on Spamhaus (ZEN/SBL/XBL/PBL/DBL)", `spamhaus`,
		BounceBlocked, "sender-server",
		"The receiving server found your sending IP (or a domain in the message) on a Spamhaus blocklist: SBL (spam source), XBL (infected/exploited host), PBL (end-user IP range that should not send mail directly), DBL (domain).",
		"Look the IP up at check.spamhaus.org; for PBL send through your provider's relay; for XBL/SBL clean the machine or account, then request removal.",
		refSpamhaus),
	prov("Barracuda", "Barracuda Reputation Block List", `barracuda|b\.barracudacentral\.org|\bbbl\b`,
		BounceBlocked, "sender-server",
		"Your sending IP is on the Barracuda Reputation Block List.",
		"Check and request removal at barracudacentral.org/lookups after fixing the cause.",
		"https://www.barracudacentral.org/lookups"),
	prov("SpamCop", "SpamCop blocking list", `spamcop`,
		BounceBlocked, "sender-server",
		"Your sending IP is on the SpamCop Blocking List (recent spam reports).",
		"Entries expire 24 hours after reports stop; fix the source of the spam.",
		"https://www.spamcop.net/bl.shtml"),
	prov("Blocklist", "other DNS blocklist", `(listed (in|on|at|by) .{0,60}(dnsbl|rbl|bl\.|blocklist|blacklist|uceprotect|sorbs|abuseat|mailspike|psbl|0spam|surbl|uribl))|blocked using [a-z0-9.-]+\.[a-z]+|\bdnsbl\b|uceprotect|abuseat\.org|sorbs\.net|psbl\.surriel`,
		BounceBlocked, "sender-server",
		"The receiving server found your sending IP or a domain in the message on a DNS blocklist.",
		"Find the list named in the message, check the IP on its website, fix the cause and request removal.",
		"RFC 5782 (DNS blacklists and whitelists)"),

	// Apple iCloud.
	prov("Apple iCloud", "iCloud CS01/HM08/HM07 policy rejections", `\[(cs|hm)0[0-9]\] message rejected due to local policy|\b(cs0[0-9]|hm0[0-9]|ms0[0-9])\b.*(icloud|apple|me\.com|mac\.com)|(icloud|apple).*\b(cs0[0-9]|hm0[0-9])\b|support\.apple\.com/.*(ht204137|102322)`,
		BouncePolicyViolation, "sender-server",
		"iCloud Mail refused the message under its policies (reputation, authentication or content; the code CS01/HM08 names the rule).",
		"Authenticate with SPF, DKIM and DMARC, check your IP's reputation, and follow Apple's postmaster guidance.",
		"https://support.apple.com/en-us/102322 (iCloud Mail postmaster information)"),
	prov("Apple iCloud", "iCloud 550 5.1.1 unknown user", `5\.1\.1 <.*>: user does not exist.*(icloud|me\.com|mac\.com)|(icloud|me\.com|mac\.com).*user does not exist`,
		BounceUserUnknown, "sender",
		"The iCloud address does not exist.",
		"Check the spelling.",
		"https://support.apple.com/en-us/102322"),

	// Mimecast (codes documented on its knowledge base).
	prov("Mimecast", "Mimecast rejection", `mimecast`,
		"", "recipient-server",
		"The recipient's organisation filters mail through Mimecast, which refused this message (the text names its rule: e.g. 'Envelope blocked', 'Rejected by header-based Anti-Spoofing policy', 'IP found in RBL').",
		"Read the Mimecast reason; for blocks by policy the recipient's admin must add an exception; for RBL/reputation fix your sending IP.",
		"https://community.mimecast.com/s/article/email-security-cloud-gateway-mimecast-smtp-error-codes"),
	// Proofpoint.
	prov("Proofpoint", "Proofpoint blocked / reputation", `proofpoint|pphosted|ipcheck\.proofpoint\.com`,
		"", "sender-server",
		"The recipient's organisation filters mail through Proofpoint, which refused this message (often the sending IP's reputation: 'blocked - see https://ipcheck.proofpoint.com').",
		"Look up the IP at ipcheck.proofpoint.com and request delisting, or ask the recipient's admin for an exception.",
		"https://ipcheck.proofpoint.com"),
	// Amazon SES.
	prov("Amazon SES", "SES identity not verified", `email address is not verified|identities failed the check in region`,
		BounceRejected, "sender",
		"Amazon SES refused to send: the sender address or domain (and, while the account is in the SES sandbox, the recipient too) is not verified in this AWS region.",
		"Verify the From address or domain in the SES console of the region named; while in the sandbox, verify the recipients too or request production access.",
		"https://docs.aws.amazon.com/ses/latest/dg/verify-addresses-and-domains.html"),
	prov("Amazon SES", "SES suppression list", `suppression list|address is on the (account-level )?suppression list|amazonses.*suppress`,
		BounceUserUnknown, "sender",
		"Amazon SES did not send to this address because it is on the suppression list (it hard-bounced or complained before).",
		"Remove the address from your list; only remove it from the suppression list if you are sure it is valid now.",
		"https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"),
}

// matchProvider finds the first provider rule that the text matches.
func matchProvider(text string) (providerRule, bool) {
	if text == "" {
		return providerRule{}, false
	}
	low := strings.ToLower(text)
	if len(low) > 4096 {
		low = low[:4096]
	}
	for _, p := range providerRules {
		if p.re.MatchString(low) && (p.need == nil || p.need.MatchString(low)) {
			return p, true
		}
	}
	return providerRule{}, false
}
