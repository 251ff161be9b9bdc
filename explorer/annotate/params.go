package annotate

// mailParam explains a MAIL FROM or RCPT TO parameter (RFC 5321 §4.1.2
// esmtp-param) and names the EHLO keyword that allows it.
type mailParam struct {
	Entry
	onRcpt  bool   // RCPT TO parameter (else MAIL FROM)
	keyword string // EHLO keyword the server must have announced
}

var mailParams = map[string]mailParam{
	"SIZE":        {Entry{Title: "SIZE=: declared message size", Detail: "The client announces roughly how big the message will be, so the server can refuse it now (552) instead of after the upload.", Ref: "RFC 1870 §4"}, false, "SIZE"},
	"BODY":        {Entry{Title: "BODY=: body type", Detail: "7BIT is plain ASCII; 8BITMIME allows 8-bit bytes such as UTF-8 text; BINARYMIME allows raw binary and needs BDAT.", Ref: "RFC 6152 §2"}, false, "8BITMIME"},
	"SMTPUTF8":    {Entry{Title: "SMTPUTF8: internationalized message", Detail: "Says this message uses UTF-8 in addresses or headers; the server must have announced SMTPUTF8.", Ref: "RFC 6531 §3.4"}, false, "SMTPUTF8"},
	"RET":         {Entry{Title: "RET=: what a bounce returns", Detail: "FULL asks that a failure report include the whole message, HDRS only its headers.", Ref: "RFC 3461 §4.3"}, false, "DSN"},
	"ENVID":       {Entry{Title: "ENVID=: envelope id", Detail: "An id chosen by the sender that comes back in every delivery report, to match reports to messages (xtext-encoded).", Ref: "RFC 3461 §4.4"}, false, "DSN"},
	"NOTIFY":      {Entry{Title: "NOTIFY=: when to report", Detail: "Asks for delivery reports for this recipient: SUCCESS, FAILURE, DELAY (comma-separated) or NEVER.", Ref: "RFC 3461 §4.1"}, true, "DSN"},
	"ORCPT":       {Entry{Title: "ORCPT=: original recipient", Detail: "The address the sender originally used (before forwarding), as 'rfc822;user@example.org' in xtext; reported back in delivery reports.", Ref: "RFC 3461 §4.2"}, true, "DSN"},
	"AUTH":        {Entry{Title: "AUTH=: authenticated submitter", Detail: "The identity that originally submitted the message, passed between trusted relays; <> means unknown.", Ref: "RFC 4954 §5"}, false, "AUTH"},
	"BY":          {Entry{Title: "BY=: deliver-by deadline", Detail: "Seconds until the deadline, then ;R (return the message if late) or ;N (just notify).", Ref: "IANA SMTP Service Extensions (RFC 2852)"}, false, "DELIVERBY"},
	"MT-PRIORITY": {Entry{Title: "MT-PRIORITY=: message priority", Detail: "A priority from -9 (lowest) to 9 (highest) that relays may honour.", Ref: "IANA SMTP Service Extensions (RFC 6710)"}, false, "MT-PRIORITY"},
	"REQUIRETLS":  {Entry{Title: "REQUIRETLS: TLS all the way", Detail: "Every relay must pass this message on only over verified TLS, or bounce it.", Ref: "RFC 8689 §2"}, false, "REQUIRETLS"},
	"HOLDFOR":     {Entry{Title: "HOLDFOR=: release later", Detail: "Asks the server to hold the message for this many seconds before delivering it.", Ref: "IANA SMTP Service Extensions (RFC 4865)"}, false, "FUTURERELEASE"},
	"HOLDUNTIL":   {Entry{Title: "HOLDUNTIL=: release at a time", Detail: "Asks the server to hold the message until the given date and time.", Ref: "IANA SMTP Service Extensions (RFC 4865)"}, false, "FUTURERELEASE"},
	"RRVS":        {Entry{Title: "RRVS=: recipient valid since", Detail: "Refuse delivery if this mailbox changed owner after the given time.", Ref: "IANA SMTP Service Extensions (RFC 7293)"}, true, "RRVS"},
	"MTRK":        {Entry{Title: "MTRK=: tracking request", Detail: "Asks to be able to track this message later.", Ref: "IANA SMTP Service Extensions (RFC 3885)"}, false, "MTRK"},
	"SOLICIT":     {Entry{Title: "SOLICIT=: solicitation keywords", Detail: "Marks the message as a solicitation of the given kinds.", Ref: "IANA SMTP Service Extensions (RFC 3865)"}, false, "NO-SOLICITING"},
	"SUBMITTER":   {Entry{Title: "SUBMITTER=: responsible submitter", Detail: "Names who is responsible for this submission, for Sender ID checks (historic).", Ref: "IANA SMTP Service Extensions (RFC 4405)"}, false, "SUBMITTER"},
	"TRANSID":     {Entry{Title: "TRANSID=: transaction id", Detail: "Identifies the transfer so an interrupted one can be resumed.", Ref: "IANA SMTP Service Extensions (RFC 1845)"}, false, "CHECKPOINT"},
}

// headerFields explains the message header fields learners meet most, as
// they appear inside DATA or in a POP3 RETR (RFC 5322 §3.6).
var headerFields = map[string]Entry{
	"FROM":                      {Title: "From: header (author)", Detail: "Who wrote the message, as the reader's mail program shows it. It is part of the content and can differ from the envelope sender given in MAIL FROM; DMARC checks that they align.", Ref: "RFC 5322 §3.6.2"},
	"SENDER":                    {Title: "Sender: header", Detail: "Who actually sent the message when it differs from the author (a secretary, a list).", Ref: "RFC 5322 §3.6.2"},
	"REPLY-TO":                  {Title: "Reply-To: header", Detail: "Where replies should go, if not to From:.", Ref: "RFC 5322 §3.6.2"},
	"TO":                        {Title: "To: header (display only)", Detail: "The primary recipients as shown to readers. Delivery does not look at it: only the RCPT TO commands decide who receives the message.", Ref: "RFC 5322 §3.6.3"},
	"CC":                        {Title: "Cc: header (display only)", Detail: "Carbon-copy recipients as shown to readers; each still needs its own RCPT TO to receive the message.", Ref: "RFC 5322 §3.6.3"},
	"BCC":                       {Title: "Bcc: header (blind copies)", Detail: "Blind copies work by giving those addresses only in RCPT TO. A Bcc: line left in the content shows them to every recipient, so mail programs remove it, or keep it only in the copy sent to the blind recipients.", Ref: "RFC 5322 §3.6.3"},
	"SUBJECT":                   {Title: "Subject: header", Detail: "The topic shown in the message list; non-ASCII text is written as =?UTF-8?...?= encoded words (RFC 2047 §2).", Ref: "RFC 5322 §3.6.5"},
	"DATE":                      {Title: "Date: header", Detail: "When the author sent the message, e.g. 'Mon, 2 Mar 2026 10:00:00 +0100'. Required in every message.", Ref: "RFC 5322 §3.6.1"},
	"MESSAGE-ID":                {Title: "Message-ID: header", Detail: "A worldwide unique id like <random@host> that replies refer to in In-Reply-To: and References:.", Ref: "RFC 5322 §3.6.4"},
	"IN-REPLY-TO":               {Title: "In-Reply-To: header", Detail: "The Message-ID of the message this one answers; mail programs use it for threads.", Ref: "RFC 5322 §3.6.4"},
	"REFERENCES":                {Title: "References: header", Detail: "The Message-IDs of the whole thread so far.", Ref: "RFC 5322 §3.6.4"},
	"RETURN-PATH":               {Title: "Return-Path: header", Detail: "Added by the final delivery server from the MAIL FROM address: where bounces go. A client should not send one.", Ref: "RFC 5321 §4.4"},
	"RECEIVED":                  {Title: "Received: header (trace)", Detail: "Each server that handles the message adds one at the top, so reading them bottom-up follows its path.", Ref: "RFC 5321 §4.4"},
	"MIME-VERSION":              {Title: "MIME-Version: header", Detail: "Says the message uses MIME (attachments, character sets); always 1.0.", Ref: "RFC 2045 §4"},
	"CONTENT-TYPE":              {Title: "Content-Type: header", Detail: "The kind of content, e.g. text/plain; charset=utf-8, or multipart/mixed with a boundary separating the parts.", Ref: "RFC 2045 §5"},
	"CONTENT-TRANSFER-ENCODING": {Title: "Content-Transfer-Encoding: header", Detail: "How the body is encoded for transport: 7bit, 8bit, binary, quoted-printable or base64.", Ref: "RFC 2045 §6"},
	"DKIM-SIGNATURE":            {Title: "DKIM-Signature: header", Detail: "A cryptographic signature by the sending domain over headers and body; receivers check it with a public key in DNS.", Ref: "RFC 6376 §3.5"},
	"AUTHENTICATION-RESULTS":    {Title: "Authentication-Results: header", Detail: "The receiving server's verdict on SPF, DKIM and DMARC for this message.", Ref: "RFC 8601 §2.2"},
}
