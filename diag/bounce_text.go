package diag

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// The non-standard bounces: each MTA writes its own human-readable layout,
// but nearly all of them put each failed address on a line of its own (or
// at the start of a line) and the remote server's reply in the lines that
// follow. One block parser covers them; the signatures below only name the
// format.

const addrPat = `[^\s<>()"',;:@]+@[A-Za-z0-9\[][A-Za-z0-9.\-:\]]*[A-Za-z0-9\]]`

var (
	reAddr = regexp.MustCompile(addrPat)
	// "<a@b>", "a@b", "  a@b", "a@b (a@b)", "<a@b>:", "<a@b> (expanded from <c@d>): text"
	reRcptLine = regexp.MustCompile(`^\s*(?:RCPT TO:|Recipient:|Failed recipient:|Address:|Original-Recipient:|Recipient address:|>>>)?\s*['"<]?(` + addrPat + `)['">]?\.?(?:\s+<[^>]*>)?(?:\s*[(\[]([^)\]]*)[)\]])?(?:\s+on\s+(?:\d|[A-Z][a-z]{2},?\s).*)?\s*(?:(:|\.{3}|\s-\s)\s*(.*))?$`)
	// "Your message wasn't delivered to a@b because ...", "Your message to a@b couldn't be delivered."
	reRcptSentence = regexp.MustCompile(`(?i)(?:(?:wasn't|was not|couldn't be|could not be|has not been|cannot be|can't be|not) delivered to|delivery to|message (?:to|for)|unable to deliver (?:your message )?to|could not deliver mail to|undeliverable to|failed to deliver to|message to recipient)\s*:?\s*<?(` + addrPat + `)>?`)
	reCutMarker    = regexp.MustCompile(`(?im)^\s*(?:-{2,}.{0,20}(?:original message|copy of the message|undelivered message|message headers|returned message|unsent message|message follows|the message|message text|original text|headers of the message|enclosed|attached message)|original message headers:|below this line is a copy|received: (?:from|by) |return-path: <|content-type: message/rfc822|-{3,} ?message truncated)`)
	reRemoteHost   = []*regexp.Regexp{
		regexp.MustCompile(`(?i)host\s+([A-Za-z0-9][A-Za-z0-9.\-]*)\s*\[([0-9A-Fa-f.:]+)\]`),
		regexp.MustCompile(`(?i)([0-9]{1,3}(?:\.[0-9]{1,3}){3}) does not like recipient`),
		regexp.MustCompile(`(?i)while talking to ([A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9])`),
		regexp.MustCompile(`(?i)generating server:\s*([A-Za-z0-9][A-Za-z0-9.\-]*)`),
		regexp.MustCompile(`(?i)remote[- ]mta:\s*(?:dns;\s*)?([A-Za-z0-9][A-Za-z0-9.\-]*)`),
		regexp.MustCompile(`(?i)server at ([A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]) (?:\([^)]*\) )?returned`),
		regexp.MustCompile(`(?i)the (?:mail )?server (?:at )?\[?([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,})\]?`),
		regexp.MustCompile(`(?im)^\s*([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,})\.?\s*\[([0-9A-Fa-f.:]+)\]:?\s*$`),
		regexp.MustCompile(`(?i)by ([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,})\.? \[([0-9A-Fa-f.:]+)\]`),
		regexp.MustCompile(`(?i)host:\s*([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,})`),
		regexp.MustCompile(`(?i)<([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,}) #[245]\.[0-9]+\.[0-9]+>`),
		regexp.MustCompile(`(?i)connect(?:ion)? to ([A-Za-z0-9][A-Za-z0-9.\-]*)\[([0-9A-Fa-f.:]+)\]`),
	}
	reHeaderLike     = regexp.MustCompile(`^(?i)(from|to|cc|bcc|reply-to|sender|return-path|subject|date|message-id|mail from|in-reply-to|references|x-[a-z0-9-]+):`)
	reFailureWords   = regexp.MustCompile(`(?i)invalid|unknown|no such|not (found|exist|listed|delivered)|does not exist|rejected|refused|failed|undeliverable|unable|could not|couldn't|full|quota|disabled|blocked|denied`)
	reSectionSep     = regexp.MustCompile(`^\s*(-{3,}|={3,}|#{5,}|\*{5,})`)
	reTranscriptRcpt = regexp.MustCompile(`(?i)RCPT TO:\s*<(` + addrPat + `)>`)
	reRemoteSaid     = regexp.MustCompile(`(?i)(?:the error that the other server returned was|the response from the remote server was|the response was|remote (?:server|host) (?:returned|said)|server replied|said|returned)\s*:?\s*'?`)
)

// bounceFormats names the layout from its signature wording: the words a
// reporting system writes itself, never a provider's name alone, which a
// quoted diagnostic carries as often ("... refused by mta.yahoo.com",
// "... gsmtp"). Providers are recognised by the bounce's own header
// (reporterFromHeader).
var bounceFormats = []struct {
	name string
	re   *regexp.Regexp
}{
	{"postfix", regexp.MustCompile(`(?i)this is the mail system at host|postfix program|the postfix (program|mail system)`)},
	{"exim", regexp.MustCompile(`(?i)this message was created automatically by mail delivery software|a message that you sent could not be delivered to one or more of its|exim`)},
	{"qmail", regexp.MustCompile(`(?i)this is the qmail-send program|qmail`)},
	{"sendmail", regexp.MustCompile(`(?i)the following addresses had (permanent fatal errors|transient non-fatal errors|delivery problems)|transcript of session follows|sendmail`)},
	{"courier", regexp.MustCompile(`(?i)courier mail server|this is a delivery status notification from`)},
	{"exchange", regexp.MustCompile(`(?i)this is an automatically generated delivery status notification|delivery to the following recipients failed\.|delivery has failed to these recipients|did not reach some or all of the intended recipients|the following recipient\(s\) (cannot|could not) be reached|diagnostic information for administrators|microsoft exchange|your message to .* couldn't be delivered|remote server returned`)},
	{"gmail", regexp.MustCompile(`(?i)delivery to the following recipients? (failed permanently|has been delayed)|google tried to deliver|the response from the remote server was|your message wasn't delivered to`)},
	{"yahoo", regexp.MustCompile(`(?i)sorry, we were unable to deliver your message`)},
	{"amazonses", regexp.MustCompile(`(?i)an error occurred while trying to deliver the mail to the following recipients`)},
	{"domino", regexp.MustCompile(`(?i)was not delivered to:|domino|lotus notes`)},
	{"mdaemon", regexp.MustCompile(`(?i)mdaemon|the attached message had permanent fatal (delivery )?errors`)},
	{"mailenable", regexp.MustCompile(`(?i)mailenable`)},
	{"opensmtpd", regexp.MustCompile(`(?i)this is the mailer-daemon at|opensmtpd`)},
	{"zimbra", regexp.MustCompile(`(?i)zimbra`)},
	{"kerio", regexp.MustCompile(`(?i)kerio`)},
}

// providerHosts name a reporting provider by a host or domain of the
// bounce's own header.
var providerHosts = []struct {
	name string
	re   *regexp.Regexp
}{
	{"gmail", regexp.MustCompile(`(?i)(^|[.@])(google\.com|googlemail\.com|gmail\.com)$`)},
	{"amazonses", regexp.MustCompile(`(?i)(^|[.@])(amazonses\.com|amazonaws\.com)$`)},
	{"yahoo", regexp.MustCompile(`(?i)(^|[.@])(yahoo\.(com|co\.[a-z]{2}|com\.[a-z]{2}|[a-z]{2})|yahoodns\.net|aol\.com|ymail\.com)$`)},
	{"exchange", regexp.MustCompile(`(?i)(^|[.@])(outlook\.com|hotmail\.com|live\.com|msn\.com|microsoft\.com|office365\.com)$`)},
}

var (
	reHostToken = regexp.MustCompile(`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}`)
	// Exchange 5.5/2000's SMTP connector names itself in X-Mailer and
	// Received ("with Internet Mail Service (5.5.2657.72)").
	reExchangeIMS = regexp.MustCompile(`(?i)internet mail service \([0-9.]+\)|microsoft exchange|microsoft mimeole`)
)

func providerOfHost(host string) string {
	host = strings.TrimSuffix(strings.TrimSpace(host), ".")
	for _, p := range providerHosts {
		if p.re.MatchString(host) {
			return p.name
		}
	}
	return ""
}

// reporterFromHeader names the reporting system from the bounce's own
// header: the Reporting-MTA, the From address of a bounce sender
// (mailer-daemon, postmaster), X-Mailer and X-MimeOLE, and the hosts that
// handed the bounce on, oldest Received first. Quoted text plays no part.
func reporterFromHeader(h textproto.Header, reportingMTA string) string {
	if p := providerOfHost(reportingMTA); p != "" {
		return p
	}
	from := h.Get("From")
	bounceSender := from == "" || reBounceFrom.MatchString(strings.ToLower(from))
	if bounceSender {
		if a, err := mail.ParseAddress(from); err == nil {
			if p := providerOfHost(a.Address[strings.LastIndexByte(a.Address, '@')+1:]); p != "" {
				return p
			}
		}
	}
	mailer := h.Get("X-Mailer") + " " + h.Get("X-MimeOLE")
	if reExchangeIMS.MatchString(mailer) {
		return "exchange"
	}
	if strings.TrimSpace(mailer) != "" {
		for _, f := range bounceFormats {
			if f.re.MatchString(mailer) {
				return f.name
			}
		}
	}
	if !bounceSender {
		// A person's message (a forwarded bounce): its path says nothing
		// of who reported the failure.
		return ""
	}
	recv := h.Values("Received")
	for i := len(recv) - 1; i >= 0; i-- {
		r := recv[i]
		if reExchangeIMS.MatchString(r) {
			return "exchange"
		}
		low := strings.ToLower(strings.TrimSpace(r))
		if !strings.HasPrefix(low, "from ") || strings.Contains(low, " with local") {
			// The hop where the bounce was made ("by mx (Postfix) id ...",
			// "with local (Exim 4.86)"): its software is the reporter's.
			for _, f := range bounceFormats {
				if f.re.MatchString(r) {
					return f.name
				}
			}
		}
		// The "from" clause names the host that handed the bounce on;
		// "by" of a later hop is the receiving side.
		fromPart := r
		if j := strings.Index(strings.ToLower(r), " by "); j >= 0 {
			fromPart = r[:j]
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(fromPart)), "from ") {
			continue
		}
		for _, host := range reHostToken.FindAllString(fromPart, 8) {
			if p := providerOfHost(host); p != "" {
				return p
			}
		}
	}
	return ""
}

// bounceFormat names who reported: the evidence of the bounce's own header
// first, then the layout of its own text.
func bounceFormat(txt string, h textproto.Header, reportingMTA string) string {
	if f := reporterFromHeader(h, reportingMTA); f != "" {
		return f
	}
	probe := txt
	if len(probe) > 20000 {
		probe = probe[:20000]
	}
	for _, f := range bounceFormats {
		if f.re.MatchString(probe) {
			return f.name
		}
	}
	return "text"
}

// parseTextBounce finds failed recipients in the human-readable text of a
// bounce.
func parseTextBounce(txt string, h textproto.Header) ([]rawRecipient, string) {
	format := bounceFormat(txt, h, "")
	if len(txt) > 1<<20 {
		txt = txt[:1<<20]
	}
	txt = strings.ReplaceAll(txt, "\r\n", "\n")
	body := txt
	if loc := reCutMarker.FindStringIndex(body); loc != nil {
		body = body[:loc[0]]
	}
	lines := strings.Split(body, "\n")
	if len(lines) > 5000 {
		lines = lines[:5000]
	}
	globalRemote := findRemote(body)

	type block struct {
		rcpt   string
		lines  []string
		before string // the line just above the address (Notes puts the reason there)
		note   string // "(user unknown)" or "[User unknown]" after the address
	}
	var blocks []block
	open := false
	for i := 0; i < len(lines); i++ {
		m := reRcptLine.FindStringSubmatch(lines[i])
		if m == nil || len(blocks) > 500 {
			if reSectionSep.MatchString(lines[i]) {
				open = false // "----- Transcript of session follows -----"
			}
			if open {
				blocks[len(blocks)-1].lines = append(blocks[len(blocks)-1].lines, lines[i])
			}
			continue
		}
		open = true
		b := block{rcpt: m[1], note: m[2]}
		for j := i - 1; j >= 0 && j >= i-2; j-- {
			t := strings.TrimSpace(lines[j])
			if t == "" {
				continue
			}
			if !reSectionSep.MatchString(t) && !strings.HasSuffix(t, ":") && !reRcptLine.MatchString(t) && !isBoilerplate(t) {
				b.before = t
			}
			break
		}
		if strings.TrimSpace(m[4]) != "" {
			b.lines = append(b.lines, m[4])
		}
		blocks = append(blocks, b)
	}

	var out []rawRecipient
	index := map[string]int{}
	for _, b := range blocks {
		if len(b.lines) > 40 {
			b.lines = b.lines[:40]
		}
		r := rawRecipient{rcpt: b.rcpt, action: "failed"}
		r.diag = blockDiag(b.lines)
		if r.diag == "" && b.note != "" && !reAddr.MatchString(b.note) && !strings.HasPrefix(strings.ToLower(b.note), "expanded from") && !strings.HasPrefix(strings.ToLower(b.note), "generated from") {
			r.diag = b.note
		}
		if r.diag == "" {
			r.diag = b.before
		}
		r.remote = findRemote(strings.Join(b.lines, "\n"))
		r.command = smtpCommand(strings.Join(b.lines, "\n"))
		key := strings.ToLower(b.rcpt)
		if i, ok := index[key]; ok {
			// Listed twice (summary and administrator section): keep the
			// block that carries an SMTP reply.
			if !reReplyIn.MatchString(" "+out[i].diag) && r.diag != "" {
				out[i].diag = r.diag
			}
			if out[i].remote == "" {
				out[i].remote = r.remote
			}
			continue
		}
		index[key] = len(out)
		out = append(out, r)
	}
	// Drop address lines that carry nothing when others carry a reply (an
	// address quoted in prose, a "To:" line, the sender's own address).
	if len(out) > 1 {
		var kept []rawRecipient
		for _, r := range out {
			low := strings.ToLower(r.rcpt)
			if strings.HasPrefix(low, "postmaster@") || strings.HasPrefix(low, "mailer-daemon@") {
				continue
			}
			if r.diag != "" {
				kept = append(kept, r)
			}
		}
		if len(kept) > 0 {
			out = kept
		}
	}
	if len(out) == 0 {
		seen := map[string]bool{}
		for _, m := range reRcptSentence.FindAllStringSubmatch(body, 20) {
			a := strings.TrimRight(m[1], ".")
			if seen[strings.ToLower(a)] {
				continue
			}
			seen[strings.ToLower(a)] = true
			out = append(out, rawRecipient{rcpt: a, action: "failed"})
		}
	}
	if len(out) == 0 {
		// Session transcripts (Sendmail, MDaemon, Courier): the reply after
		// each RCPT TO.
		seen := map[string]bool{}
		for _, m := range reTranscriptRcpt.FindAllStringSubmatchIndex(body, 50) {
			a := body[m[2]:m[3]]
			rest := body[m[1]:]
			if len(rest) > 2000 {
				rest = rest[:2000]
			}
			d := firstSMTPLine(rest)
			if d == "" || seen[strings.ToLower(a)] {
				continue
			}
			seen[strings.ToLower(a)] = true
			out = append(out, rawRecipient{rcpt: a, action: "failed", diag: extractSMTPReply(d)})
		}
	}
	if len(out) == 0 {
		// "Invalid final delivery userid: user@example.com": an address
		// inside a line that says what failed.
		for _, l := range lines {
			t := strings.TrimSpace(l)
			a := reAddr.FindString(t)
			if a == "" || reHeaderLike.MatchString(t) || !reFailureWords.MatchString(t) {
				continue
			}
			out = append(out, rawRecipient{rcpt: strings.TrimRight(a, "."), action: "failed", diag: t})
			if len(out) >= 50 {
				break
			}
		}
	}
	if len(out) == 0 {
		for _, a := range reAddr.FindAllString(h.Get("X-Failed-Recipients"), 50) {
			out = append(out, rawRecipient{rcpt: a, action: "failed"})
		}
	}
	// A remote host named once for the whole bounce (Sendmail's "while
	// talking to") applies to all recipients, unless each block names its own.
	ownRemote := false
	for _, r := range out {
		if r.remote != "" {
			ownRemote = true
		}
	}
	for i := range out {
		if out[i].diag == "" || !reReplyIn.MatchString(" "+out[i].diag) {
			if d := globalDiag(body); d != "" && (out[i].diag == "" || len(out) == 1) {
				out[i].diag = strings.TrimSpace(d + " " + out[i].diag)
			}
		}
		if out[i].remote == "" && !ownRemote {
			out[i].remote = globalRemote
		}
		if out[i].diag == "" {
			out[i].diag = firstSentenceAfter(body)
		}
	}
	return out, format
}

// blockDiag picks the diagnostic out of the lines that follow an address.
func blockDiag(lines []string) string {
	// The paragraph holding an SMTP reply wins.
	for i, l := range lines {
		if reReplyIn.MatchString(" " + l) {
			var p []string
			start := i
			// Include a lead-in line such as "SMTP error from remote mail server after RCPT TO:".
			if i > 0 && strings.TrimSpace(lines[i-1]) != "" && !reReplyIn.MatchString(" "+lines[i-1]) {
				start = i - 1
			}
			for _, x := range lines[start:] {
				if strings.TrimSpace(x) == "" {
					break
				}
				p = append(p, strings.TrimSpace(x))
			}
			d := strings.Join(p, " ")
			// Gmail puts its own words before the remote reply ("it was
			// rejected by the recipient domain. ... The error that the
			// other server returned was: 550 ..."); they are no diagnosis.
			if loc := reRemoteReplyLead.FindStringIndex(d); loc != nil && reReplyIn.MatchString(" "+d[loc[1]:]) {
				d = strings.TrimSpace(d[loc[1]:])
			}
			return d
		}
	}
	// Otherwise the first paragraph of text (skipping labels like "because:").
	var p []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			if len(p) > 0 {
				break
			}
			continue
		}
		if strings.HasSuffix(t, ":") && len(t) < 40 && len(p) == 0 {
			continue
		}
		if isBoilerplate(t) {
			if len(p) > 0 {
				break
			}
			continue
		}
		p = append(p, t)
		if len(p) >= 6 {
			break
		}
	}
	return strings.Join(p, " ")
}

var reBoilerplate = regexp.MustCompile(`(?i)^(a message that you sent could not be delivered|recipients\. this is a permanent error|this message was created automatically|i'm sorry to have to inform you|-{2,}|={2,}|\*{2,}|the mail system$|technical details|diagnostic information for administrators|generating server:|original message|reporting-mta|this is an automatically generated|for further assistance|if you do so|please contact|you can delete|<[^>@\s]+@[^>\s]+>$)`)

func isBoilerplate(t string) bool { return reBoilerplate.MatchString(t) }

// globalDiag finds the remote server's reply anywhere in the text (for
// formats that state it once, e.g. Gmail's "The response from the remote
// server was:").
func globalDiag(body string) string {
	if loc := reRemoteSaid.FindStringIndex(body); loc != nil {
		rest := body[loc[1]:]
		if l := firstSMTPLine(rest); l != "" {
			return collapseSpace(extractSMTPReply(l) + continuation(rest, l))
		}
	}
	return smtpParagraph(body)
}

var reRemoteReplyLead = regexp.MustCompile(`(?i)(the error that the other server returned was|the response from the remote server was)\s*:?\s*`)

// smtpParagraph is the first SMTP reply line with the lines just above it
// in the same paragraph (Sendmail's "mail.local: unknown user: bob" before
// "554 ... Service unavailable").
func smtpParagraph(body string) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !reReplyIn.MatchString(" " + t) {
			continue
		}
		if len(t) > 500 {
			t = t[:500]
		}
		p := []string{t}
		for j := i - 1; j >= 0 && j >= i-2; j-- {
			u := strings.TrimSpace(lines[j])
			if u == "" || reSectionSep.MatchString(u) || isBoilerplate(u) || reRcptLine.MatchString(u) {
				break
			}
			p = append([]string{u}, p...)
		}
		return strings.Join(p, " ")
	}
	return ""
}

// continuation returns the lines following first (Gmail's "550-5.1.1 ..."
// multi-line replies) joined, up to the next blank line.
func continuation(rest, first string) string {
	i := strings.Index(rest, first)
	if i < 0 {
		return ""
	}
	var out []string
	for n, l := range strings.Split(rest[i+len(first):], "\n") {
		if n == 0 {
			continue
		}
		t := strings.TrimSpace(l)
		if t == "" || n > 8 {
			break
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return ""
	}
	return " " + strings.Join(out, " ")
}

func firstSentenceAfter(body string) string {
	for _, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || isBoilerplate(t) {
			continue
		}
		low := strings.ToLower(t)
		for _, k := range []string{"unknown", "not exist", "rejected", "full", "denied", "failed", "refused", "expired", "timed out", "blocked", "not found", "couldn't be found", "invalid", "quota", "unable", "could not", "giving up", "exceeded", "limit", "not recognized", "not allowed", "unavailable", "disabled", "見つかりません", "存在しません"} {
			if strings.Contains(low, k) {
				if len(t) > 300 {
					t = t[:300]
				}
				return t
			}
		}
	}
	return ""
}

func findRemote(s string) string {
	for _, re := range reRemoteHost {
		if m := re.FindStringSubmatch(s); m != nil {
			return strings.TrimSuffix(m[1], ".")
		}
	}
	return ""
}
