package diag

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // RFC 2047 and body charsets beyond UTF-8/ASCII
	"github.com/emersion/go-message/textproto"
)

// BounceMaxBytes caps how much of a message ParseBounce reads: a bounce
// with the original attached is rarely over a few MB, and a cap keeps
// memory and time bounded on hostile input.
const BounceMaxBytes = 10 << 20

// Limits of the MIME walk (hostile nesting and part counts).
const (
	bounceMaxDepth   = 8
	bounceMaxParts   = 200
	bounceMaxPartLen = 2 << 20
)

// BounceReport is what ParseBounce found in one message.
type BounceReport struct {
	IsBounce bool `json:"is_bounce"`
	// Kind: bounce, delay, auto-reply, feedback, delivered, ordinary, or
	// not-a-message (see ParseError).
	Kind string `json:"kind"`
	// ParseError says why the input is no message at all (empty, or its
	// first line is no header field, RFC 5322 §2.2), as for headers.
	ParseError string `json:"parse_error,omitempty"`
	// Format names the layout recognised: rfc3464, postfix, exim, qmail, ...
	Format       string `json:"format"`
	ReportingMTA string `json:"reporting_mta,omitempty"`
	// Results holds one entry per failed recipient (for a report that is no
	// bounce: per recipient it reports on, e.g. reason vacation).
	Results []BounceResult `json:"results"`
	// Delayed holds the recipients of an RFC 3464 "Action: delayed" (or a
	// textual delay warning): not failed, the sender's server still retries.
	Delayed   []BounceResult `json:"delayed,omitempty"`
	Notes     []string       `json:"notes,omitempty"`
	Truncated bool           `json:"truncated,omitempty"`
}

// BounceResult is one recipient of a bounce (or of a non-bounce report:
// reason vacation, feedback or delivered).
type BounceResult struct {
	Recipient  string `json:"recipient"`
	Reason     string `json:"reason"`
	Status     string `json:"status"`
	ReplyCode  int    `json:"reply_code"`
	HardBounce bool   `json:"hard_bounce"`
	RemoteMTA  string `json:"remote_mta"`
	// FeedbackType is the Feedback-Type of a feedback report (RFC 5965
	// §7.3, RFC 6591): abuse, fraud, virus, other, not-spam, auth-failure.
	FeedbackType string `json:"feedback_type,omitempty"`
	Diagnostic   string `json:"diagnostic"`
	Explanation  string `json:"explanation"`
	Fix          string `json:"fix"`
}

// rawRecipient is what a format parser extracts before classification.
type rawRecipient struct {
	rcpt, status, diag, remote, action string
	// command is the SMTP command the remote reply answered: MAIL, RCPT,
	// DATA or CONN (the greeting), when the bounce says so.
	command string
	reply   int
}

// bounceMsg is the evidence collected from one message's MIME tree.
type bounceMsg struct {
	header      textproto.Header
	contentType string
	reportType  string
	dsn         [][]byte // message/delivery-status and message/global-delivery-status bodies
	feedback    []byte   // message/feedback-report
	texts       []string // human-readable text parts
	nested      [][]byte // message/rfc822 parts (the original, or a forwarded bounce)
	origHeaders []byte   // text/rfc822-headers
	notes       []string
	parts       int
}

// ParseBounce reads one message (raw RFC 5322, an .eml file or one mbox
// entry) and reports each failed recipient. It reads at most BounceMaxBytes;
// input that is no message at all gets ParseError; in a message, what it
// could not understand is reported as reason undefined with a note saying why.
func ParseBounce(r io.Reader) (*BounceReport, error) {
	data, err := io.ReadAll(io.LimitReader(r, BounceMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the message: %v", err)
	}
	rep := &BounceReport{Results: []BounceResult{}}
	if len(data) > BounceMaxBytes {
		data = data[:BounceMaxBytes]
		rep.Truncated = true
		rep.Notes = append(rep.Notes, fmt.Sprintf("only the first %d MB were read", BounceMaxBytes>>20))
	}
	if bytes.HasPrefix(data, []byte("From ")) {
		// An mbox file: read its first message only.
		if loc := reMboxSep.FindIndex(data[5:]); loc != nil {
			data = data[:5+loc[0]+1]
			rep.Notes = append(rep.Notes, "the mbox file holds more than one message; only the first was read")
		}
	}
	raw := stripMboxFrom(data)
	if fields, _ := splitHeaderFields(raw); headerParseError(raw, fields) != "" {
		rep.Kind, rep.Format = "not-a-message", "none"
		rep.ParseError = headerParseError(raw, fields)
		return rep, nil
	}
	parseBounceData(rep, data, 0)
	tidyTypedFields(rep)
	return rep, nil
}

var (
	reInlineDSN      = regexp.MustCompile(`(?im)^final-recipient:\s*\S`)
	reInlineDSNStart = regexp.MustCompile(`(?im)^(reporting-mta|original-envelope-id|action|final-recipient|original-recipient|status):`)
)

// reMboxSep finds the "From sender date" line that starts the next
// message of an mbox file.
var reMboxSep = regexp.MustCompile(`\nFrom \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d`)

func parseBounceData(rep *BounceReport, data []byte, depth int) {
	data = stripMboxFrom(data)
	m := collectMessage(data)
	rep.Notes = append(rep.Notes, m.notes...)
	if len(m.header.Map()) == 0 && len(bytes.TrimSpace(data)) == 0 {
		rep.Kind, rep.Format = "ordinary", "empty"
		rep.Notes = append(rep.Notes, "the input is empty")
		return
	}
	from := strings.ToLower(m.header.Get("From"))
	subject := decodeHeader(m.header.Get("Subject"))
	rep.ReportingMTA = ""

	// RFC 5965 feedback report.
	if m.reportType == "feedback-report" || m.feedback != nil {
		rep.Format = "arf"
		fields := parseFields(m.feedback)
		rcpt := decodeDSNAddress(firstField(fields, "original-rcpt-to", "removal-recipient"))
		if rcpt == "" {
			// Original-Rcpt-To is optional (RFC 5965 §3.2): the
			// complaining mailbox is then the To of the reported message.
			rcpt = reportedTo(m)
		}
		ft := strings.ToLower(strings.TrimSpace(firstNonEmpty(firstField(fields, "feedback-type"), "abuse")))
		diag := "Feedback-Type: " + ft
		// The fields that say what an auth-failure report is about.
		for _, n := range []string{"auth-failure", "reported-domain", "dkim-domain", "dkim-selector", "dkim-identity", "spf-dns", "delivery-result", "user-agent"} {
			if v := firstField(fields, n); v != "" {
				diag += "; " + feedbackFieldName[n] + ": " + v
			}
		}
		expl, fix := feedbackExplain(ft, fields, m)
		addFeedbackInfo(rep, rcpt, ft, diag, expl, fix)
		rep.ReportingMTA = dsnTypedValue(firstField(fields, "reporting-mta"))
		return
	}
	// Microsoft's older complaint format (JMRP): the reported message is
	// attached and names the complaining mailbox in its own header.
	if rcpt := hotmailComplaint(m); rcpt != "" {
		rep.Format = "jmrp"
		addFeedback(rep, rcpt, "abuse", "Feedback-Type: abuse (Microsoft JMRP complaint)")
		return
	}
	// Apple Mail's "unsubscribe" message: the recipient asks to be
	// removed from a list (it carries Auto-Submitted like an auto-reply).
	if strings.EqualFold(strings.TrimSpace(m.header.Get("X-Apple-Unsubscribe")), "true") {
		rep.Format = "apple-unsubscribe"
		addFeedback(rep, addrOnly(m.header.Get("From")), "opt-out", "Feedback-Type: opt-out (Apple Mail unsubscribe)")
		return
	}

	// Delivery-status fields pasted into the text (a broken multipart, or
	// an MTA that writes them inline).
	if len(m.dsn) == 0 {
		if txt := cutOriginal(strings.Join(m.texts, "\n")); reInlineDSN.MatchString(txt) {
			if loc := reInlineDSNStart.FindStringIndex(txt); loc != nil {
				m.dsn = append(m.dsn, []byte(txt[loc[0]:]))
			}
		}
	}

	// RFC 3464 / RFC 6533 delivery status.
	if len(m.dsn) > 0 {
		raws, mta, ok := parseDSNParts(m.dsn)
		localRecipients(raws, m.header)
		rep.ReportingMTA = mta
		rep.Format = "rfc3464"
		if f := bounceFormat(strings.Join(m.texts, "\n"), m.header, mta); f != "text" {
			rep.Format += "/" + f
		}
		if !ok {
			rep.Notes = append(rep.Notes, "the delivery-status part is malformed; the human-readable part was used instead")
		}
		// Fill missing diagnostics from the human-readable text.
		txt := strings.Join(m.texts, "\n")
		textRaws, tf := parseTextBounce(txt, m.header)
		if len(raws) == 0 {
			raws = textRaws
			if tf != "" && tf != "text" {
				rep.Format = tf
			}
		} else {
			mergeText(raws, textRaws, txt)
		}
		if finishDSN(rep, raws, subject, from) {
			return
		}
	}

	// Provider JSON notifications (Amazon SES via SNS/email).
	if raws, ok := parseSESJSON(strings.Join(m.texts, "\n")); ok {
		rep.Format = "amazonses-json"
		finishDSN(rep, raws, "", "")
		return
	}

	strong := looksLikeBounce(m.header, from, subject)
	forward := reForwardSubject.MatchString(subject)
	weak := !forward && reBounceSubject.MatchString(subject)
	if !strong && !weak && isAutoReply(m.header, subject) {
		rep.Kind, rep.Format = "auto-reply", "rfc3834"
		info := bounceReasons[BounceVacation]
		rcpt := addrOnly(m.header.Get("From"))
		rep.Results = append(rep.Results, BounceResult{Recipient: rcpt, Reason: BounceVacation,
			Diagnostic: subject, Explanation: info.explanation, Fix: info.fix})
		return
	}

	txt := strings.Join(m.texts, "\n")
	if strong || weak || m.reportType == "delivery-status" {
		raws, format := parseTextBounce(txt, m.header)
		rep.Format = format
		if len(raws) == 0 && depth < 3 {
			if nested := nestedBounce(m, depth); nested != nil && nested.IsBounce {
				*rep = mergeNested(rep, nested)
				return
			}
		}
		d := firstSMTPLine(cutOriginal(txt))
		if len(raws) == 0 && !strong && m.reportType != "delivery-status" && d == "" {
			// Only the subject sounded like a bounce.
			rep.Kind, rep.Format = "ordinary", "rfc5322"
			rep.Notes = append(rep.Notes, "the subject sounds like a bounce but the message names no failed recipient and no server error")
			return
		}
		if len(raws) == 0 {
			rep.IsBounce, rep.Kind = true, "bounce"
			why := "no failed recipient could be found in this bounce"
			if strings.TrimSpace(txt) == "" {
				why = "the bounce has no readable text (truncated or malformed)"
			} else if strings.Contains(strings.Join(rep.Notes, " "), "malformed") {
				why = "the bounce is truncated or malformed and names no failed recipient"
			}
			rep.Notes = append(rep.Notes, why)
			info := bounceReasons[BounceUndefined]
			res := BounceResult{Recipient: addrOnly(m.header.Get("X-Failed-Recipients")), Reason: BounceUndefined,
				Diagnostic: d, Explanation: info.explanation + " (" + why + ")", Fix: info.fix}
			if d != "" {
				res.ReplyCode, res.Status, _ = splitReply(extractSMTPReply(d))
				if r := classifyBounce(res.Status, res.ReplyCode, d); r != BounceOnHold && r != BounceUndefined {
					res.Reason = r
					res.Explanation = ""
					fillResultText(&res, false)
				}
				res.HardBounce = isHardBounce(res.Reason, res.Status, res.ReplyCode)
			}
			rep.Results = append(rep.Results, res)
			return
		}
		if textDelayed(subject, txt) {
			for i := range raws {
				raws[i].action = "delayed"
			}
		}
		finishBounce(rep, raws, subject)
		return
	}

	// A bounce forwarded as an attachment or inline.
	if depth < 3 {
		if nested := nestedBounce(m, depth); nested != nil && (nested.IsBounce || nested.Kind == "feedback") {
			*rep = mergeNested(rep, nested)
			rep.Notes = append(rep.Notes, "the bounce was found inside a forwarded message")
			return
		}
		if inner := forwardedInline(txt); inner != nil {
			sub := &BounceReport{Results: []BounceResult{}}
			parseBounceData(sub, inner, depth+1)
			if sub.IsBounce {
				*rep = mergeNested(rep, sub)
				rep.Notes = append(rep.Notes, "the bounce was found inside a forwarded message")
				return
			}
		}
	}
	rep.Kind, rep.Format = "ordinary", "rfc5322"
	rep.Notes = append(rep.Notes, "this is not a bounce: no delivery report, no mailer-daemon sender, no failure wording")
}

func addFeedback(rep *BounceReport, rcpt, ft, diag string) {
	info := feedbackInfo[ft]
	addFeedbackInfo(rep, rcpt, ft, diag, info.explanation, info.fix)
}

func addFeedbackInfo(rep *BounceReport, rcpt, ft, diag, expl, fix string) {
	rep.Kind = "feedback"
	rep.Results = append(rep.Results, BounceResult{Recipient: rcpt, Reason: BounceFeedback,
		FeedbackType: ft, Diagnostic: diag, Explanation: expl, Fix: fix})
}

// reportedTo is the To address of the message a report is about (its
// attached headers or the attached message).
func reportedTo(m *bounceMsg) string {
	for _, raw := range append([][]byte{m.origHeaders}, m.nested...) {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err == nil {
			if to := addrOnly(h.Get("To")); to != "" {
				return to
			}
		}
	}
	return ""
}

// jmrpSender is the From of Microsoft's JMRP complaints (sisimai's ARF
// decoder keys on it too).
const jmrpSender = "staff@hotmail.com"

// hotmailComplaint is the complaining mailbox of a JMRP report. Outlook.com
// puts X-HmXmrOriginalRecipient on the mail it receives, so a bounce of mail
// forwarded out of such a mailbox carries it as well: only a message from
// Microsoft's complaint sender without a delivery-status part is a complaint.
func hotmailComplaint(m *bounceMsg) string {
	if len(m.dsn) > 0 || m.reportType == "delivery-status" || !strings.EqualFold(addrOnly(m.header.Get("From")), jmrpSender) {
		return ""
	}
	for _, raw := range m.nested {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err == nil {
			if r := addrOnly(h.Get("X-HmXmrOriginalRecipient")); r != "" {
				return r
			}
		}
	}
	return ""
}

// localRecipients: a Final-Recipient that is no address (Exim's "save to
// /var/mail/..." local delivery) takes the address X-Failed-Recipients
// lists for it, when both list as many.
func localRecipients(raws []rawRecipient, h textproto.Header) {
	failed := reAddr.FindAllString(h.Get("X-Failed-Recipients"), 50)
	if len(failed) != len(raws) {
		return
	}
	for i := range raws {
		if !strings.Contains(raws[i].rcpt, "@") {
			raws[i].rcpt = failed[i]
		}
	}
}

func mergeNested(outer, inner *BounceReport) BounceReport {
	r := *inner
	r.Notes = append(append([]string{}, outer.Notes...), inner.Notes...)
	r.Truncated = outer.Truncated || inner.Truncated
	return r
}

func nestedBounce(m *bounceMsg, depth int) *BounceReport {
	for _, n := range m.nested {
		sub := &BounceReport{Results: []BounceResult{}}
		parseBounceData(sub, n, depth+1)
		if sub.IsBounce || sub.Kind == "feedback" {
			return sub
		}
	}
	return nil
}

var reForwardMarker = regexp.MustCompile(`(?im)^[ >]*-{2,}\s*(Forwarded message|Original Message|Begin forwarded message)[^\n]*\n|^Begin forwarded message:\s*\n`)

// forwardedInline returns the header-and-body of a message forwarded
// inline (the "---------- Forwarded message ---------" block).
func forwardedInline(txt string) []byte {
	loc := reForwardMarker.FindStringIndex(txt)
	if loc == nil {
		return nil
	}
	rest := txt[loc[1]:]
	var b strings.Builder
	for _, l := range strings.Split(rest, "\n") {
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(l, ">"), " "))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// finishDSN classifies the recipients of a standard DSN; false if it held
// no recipients (so the caller falls back to other parsers).
func finishDSN(rep *BounceReport, raws []rawRecipient, subject, from string) bool {
	if len(raws) == 0 {
		return false
	}
	failed, delayed, success := 0, 0, 0
	for _, r := range raws {
		switch strings.ToLower(r.action) {
		case "failed":
			failed++
		case "delayed":
			delayed++
		case "delivered", "relayed", "expanded":
			success++
		default:
			if strings.HasPrefix(r.status, "2.") {
				success++
			} else {
				failed++
			}
		}
	}
	if failed == 0 && delayed == 0 {
		rep.Kind = "delivered"
		info := bounceReasons[BounceDelivered]
		for _, r := range raws {
			if r.reply == 0 {
				r.reply, _, _ = splitReply(extractSMTPReply(r.diag))
			}
			rep.Results = append(rep.Results, BounceResult{Recipient: r.rcpt, Reason: BounceDelivered,
				Status: r.status, ReplyCode: r.reply, RemoteMTA: r.remote, Diagnostic: r.diag,
				Explanation: info.explanation, Fix: info.fix})
		}
		return true
	}
	var keep []rawRecipient
	for _, r := range raws {
		a := strings.ToLower(r.action)
		if a == "delivered" || a == "relayed" || a == "expanded" {
			continue
		}
		keep = append(keep, r)
	}
	finishBounce(rep, keep, subject)
	return true
}

var (
	reTextDelayed    = regexp.MustCompile(`(?i)delivery (to the following recipients? )?(has been|is|was) delayed|delayed mail|still being retried|will (continue to )?(retry|try)|not yet been delivered|delivery delayed|warning: message .{0,60}delayed|could not be delivered yet|message delayed`)
	reTextFailed     = regexp.MustCompile(`(?i)failed permanently|permanent(ly)? (error|failure|fatal)|giving up|gave up|will not be retried|could not be delivered to one or more|undeliverable|not (be )?delivered|delivery (has )?failed|wasn't delivered|couldn't be delivered`)
	reForwardSubject = regexp.MustCompile(`(?i)^\s*(re|fwd?|wg|tr|aw|sv|vs|rv|enc|doorst|antw)\s*:`)
)

// textDelayed: a human-readable warning that delivery is late, not failed.
func textDelayed(subject, txt string) bool {
	probe := subject + "\n" + cutOriginal(txt)
	if len(probe) > 20000 {
		probe = probe[:20000]
	}
	return reTextDelayed.MatchString(probe) && !reTextFailed.MatchString(probe)
}

// cutOriginal drops the returned original message from a bounce text.
func cutOriginal(txt string) string {
	if len(txt) > 1<<20 {
		txt = txt[:1<<20]
	}
	if loc := reCutMarker.FindStringIndex(txt); loc != nil {
		return txt[:loc[0]]
	}
	return txt
}

// finishBounce classifies the recipients of a bounce: failed ones go to
// Results, delayed ones (RFC 3464 §2.3.3 action "delayed") to Delayed. A
// report with delayed recipients only is a delay notification, no bounce.
func finishBounce(rep *BounceReport, raws []rawRecipient, subject string) {
	seen := map[string]int{}
	seenDelayed := map[string]int{}
	for _, r := range raws {
		res := classifyRaw(r)
		list, idx := &rep.Results, seen
		if strings.EqualFold(r.action, "delayed") {
			list, idx = &rep.Delayed, seenDelayed
		}
		key := strings.ToLower(res.Recipient)
		if i, ok := idx[key]; ok && key != "" {
			// The same recipient twice (text and DSN): keep the richer one.
			if (*list)[i].Diagnostic == "" || (*list)[i].Reason == BounceUndefined {
				(*list)[i] = res
			}
			continue
		}
		idx[key] = len(*list)
		*list = append(*list, res)
	}
	switch {
	case len(rep.Results) > 0:
		rep.IsBounce, rep.Kind = true, "bounce"
		if len(rep.Delayed) > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d other recipient(s) delayed, not failed: the message is still queued and being retried for them", len(rep.Delayed)))
		}
	case len(rep.Delayed) > 0:
		rep.IsBounce, rep.Kind = false, "delay"
		rep.Notes = append(rep.Notes, "a delay notification: the message is still queued and being retried; it has not bounced (yet)")
	default:
		rep.IsBounce, rep.Kind = true, "bounce"
	}
}

func classifyRaw(r rawRecipient) BounceResult {
	diag := strings.TrimSpace(collapseSpace(r.diag))
	if len(diag) > 2000 {
		diag = diag[:2000]
	}
	res := BounceResult{Recipient: r.rcpt, Status: r.status, ReplyCode: r.reply, RemoteMTA: r.remote, Diagnostic: diag}
	if res.ReplyCode == 0 || res.Status == "" {
		rc, st, _ := splitReply(extractSMTPReply(diag))
		if res.ReplyCode == 0 {
			res.ReplyCode = rc
		}
		if st != "" && (res.Status == "" || genericStatus[res.Status] || strings.HasSuffix(res.Status, ".0.0")) {
			res.Status = st
		}
	}
	if res.Status == "" {
		res.Status = findEnhancedCode(diag)
	}
	if res.RemoteMTA == "" {
		res.RemoteMTA = findRemote(diag)
	}
	act := strings.ToLower(r.action)
	res.Reason = classifyBounce(res.Status, res.ReplyCode, diag)
	switch {
	case res.Reason == BounceExpired && act == "failed" && diag != "" && !textSays(BounceExpired, diag):
		// The status says the retries ran out (X.4.7); the remote reply
		// that kept refusing says why, and that is what to fix.
		rc, st, _ := splitReply(extractSMTPReply(diag))
		if why := classifyBounce(st, rc, diag); specificReason(why) {
			res.Reason = why
		}
	case res.Reason == BounceUserUnknown && r.command == "DATA" && !specificUserStatus(res.Status):
		// The server took the address at RCPT TO and refused only after
		// the message: a filter on the message or the mailbox, not an
		// unknown address (as sisimai reads it too).
		res.Reason = BounceFiltered
		res.Explanation = "The server accepted the address at RCPT TO and refused the message only after DATA, saying the user is unknown: a filter or a system behind it refused this message, so the address may well exist."
	case (res.Reason == BounceOnHold || res.Reason == BounceUndefined) && r.command == "MAIL":
		// Refused at MAIL FROM: the envelope sender was not accepted.
		res.Reason = BounceRejected
	}
	// A delayed recipient is still queued: nothing has expired yet, whatever
	// the code (4.4.1 no answer, 4.4.7 in a warning) suggests.
	if act == "delayed" && res.Reason == BounceExpired {
		res.Reason = BounceNetworkError
		if textSays(BounceExpired, diag) && !strings.HasPrefix(res.Status, "4.4.") {
			res.Reason = BounceOnHold
		}
	}
	// A temporary status on a failed recipient: the MTA retried until the
	// message expired (RFC 3464 §2.3.3).
	if act == "failed" && strings.HasPrefix(res.Status, "4.") {
		switch res.Reason {
		case BounceNetworkError, BounceSystemError, BounceOnHold, BounceUndefined:
			res.Reason = BounceExpired
		}
	}
	// Greylisting (RFC 6647) is a deliberate temporary refusal, whatever
	// the code and other words ("Recipient address rejected") suggest.
	if res.ReplyCode < 500 && !strings.HasPrefix(res.Status, "5.") && greylistKind(4, diag) == greyStrong {
		if act == "delayed" {
			res.Reason = BounceOnHold
			res.Explanation = "The receiving server greylisted the message: it refuses the first attempts of senders it has not seen before, on purpose and for a while. Your server is still retrying and the message usually gets through within the hour (RFC 6647)."
		} else {
			res.Reason = BounceExpired
			res.Explanation = "The receiving server greylisted the message (a deliberate temporary refusal of unknown senders, RFC 6647) and your server's retries never got through before the message expired, often because each retry came from another IP address of a pool."
		}
	}
	if res.Reason == BounceUndefined && diag == "" && res.Status == "" {
		res.Explanation = bounceReasons[BounceUndefined].explanation + " (the bounce gives no status code and no diagnostic text)"
	}
	res.HardBounce = act != "delayed" && isHardBounce(res.Reason, res.Status, res.ReplyCode)
	fillResultText(&res, act == "delayed")
	if act == "delayed" {
		explainDelayed(&res)
	}
	return res
}

// specificReason: a reason that names a cause, not only that something
// failed or timed out.
func specificReason(r string) bool {
	switch r {
	case BounceOnHold, BounceUndefined, BounceExpired, BounceNetworkError, BounceSystemError:
		return false
	}
	return true
}

// specificUserStatus: an enhanced code that itself says the mailbox does
// not exist (X.1.1, X.1.10).
func specificUserStatus(st string) bool {
	return strings.HasSuffix(st, ".1.1") || strings.HasSuffix(st, ".1.10")
}

// explainDelayed: a delayed recipient (RFC 3464 §2.3.3) has not failed;
// the message is still in the sending server's queue. Sending it again
// now would deliver it twice once the retries get through.
func explainDelayed(res *BounceResult) {
	why := res.Explanation
	generic := why == ""
	for _, r := range []string{BounceOnHold, BounceUndefined} {
		generic = generic || why == bounceReasons[r].explanation || why == reasonInfo(r, 4).explanation
	}
	if generic {
		why = "The report does not say clearly why."
	}
	if !strings.Contains(why, "still retrying") {
		res.Explanation = "Still in the queue: your server keeps retrying and nothing has bounced yet. " + why
	}
	// The transient fix already says the server retries; keep only what
	// to check, so the advice reads once.
	check, ok := transientCheck(res.Fix)
	if !ok {
		check = lowerFirst(res.Fix)
	}
	if generic || check == "" {
		check = "read the diagnostic text for the cause."
	}
	res.Fix = "Wait: your server keeps the message and retries by itself; do not send it again (it is still queued and would arrive twice). Only if it is still delayed after a day or so: " + check
}

// transientCheck is what a transientFix text says to check if the
// deferral persists, without its common lead.
func transientCheck(fix string) (string, bool) {
	lead, _, _ := strings.Cut(transientFix("\x00"), "\x00")
	return strings.CutPrefix(fix, lead)
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// fillResultText: a failed recipient has been given up on even with a 4.x
// status (the retries expired), so only a delayed one gets the transient fix.
func fillResultText(res *BounceResult, delayed bool) {
	class := 5
	if delayed {
		class = 4
	}
	// A delayed recipient takes the transient text (RFC 3464 §2.3.3): the
	// permanent one says to send again or check the address.
	info := bounceReasons[res.Reason]
	if delayed {
		info = reasonInfo(res.Reason, class)
	}
	if p, ok := matchProvider(res.Status + " " + res.Diagnostic); ok && res.Diagnostic != "" {
		res.Explanation = p.provider + " (" + p.name + "): " + p.meaning
		res.Fix = p.fix
		return
	}
	if res.Reason == BounceTooManyConn && res.Explanation == "" && (reTooManyRcpts.MatchString(res.Diagnostic) || strings.HasSuffix(res.Status, ".5.3")) {
		// sisimai files "too many recipients" under toomanyconn too.
		res.Explanation = "Too many recipients for one transaction: the server refused the recipients over its per-message limit. This is no verdict on the address."
		res.Fix = "Usually nothing to do: a sending server sends the refused recipients again in another transaction (RFC 5321 §4.5.3.1.10). If this bounced, send to fewer recipients per message."
		return
	}
	if a, ok := adviceFor(res.Status); ok && res.Explanation == "" {
		res.Explanation, res.Fix = a.meaning, a.fixFor(class)
		return
	}
	if res.Explanation == "" {
		res.Explanation = info.explanation
	}
	res.Fix = info.fix
}

// isHardBounce: stop sending to this address. Only reasons that say the
// address itself is dead are hard (as bounce classifiers do); everything
// else is about the sender, the content or a passing state, and is soft.
// Unclassified failures follow the code class.
func isHardBounce(reason, status string, reply int) bool {
	switch reason {
	case BounceUserUnknown, BounceHostUnknown, BounceHasMoved, BounceNotAccept:
		return !strings.HasPrefix(status, "4.") && !(reply >= 400 && reply < 500)
	case BounceOnHold, BounceUndefined:
		return strings.HasPrefix(status, "5.") || (reply >= 500 && reply < 600)
	}
	return false
}

// stripMboxFrom drops a leading mbox "From " separator line.
func stripMboxFrom(data []byte) []byte {
	if bytes.HasPrefix(data, []byte("From ")) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return data[i+1:]
		}
	}
	return data
}

func collectMessage(data []byte) *bounceMsg {
	m := &bounceMsg{}
	br := bufio.NewReader(bytes.NewReader(data))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		m.notes = append(m.notes, "the message header could not be parsed ("+oneLine(err.Error())+"); the text was scanned as is")
		m.texts = append(m.texts, string(data))
		return m
	}
	m.header = h
	body := data[len(data)-br.Buffered():]
	if rest, err := io.ReadAll(br); err == nil {
		body = rest
	}
	ent, err := message.New(message.Header{Header: h}, bytes.NewReader(body))
	if err != nil && ent == nil {
		m.notes = append(m.notes, "the MIME structure is broken ("+oneLine(err.Error())+"); the text was scanned as is")
		m.texts = append(m.texts, string(body))
		return m
	}
	ct, params, _ := ent.Header.ContentType()
	m.contentType = ct
	m.reportType = strings.ToLower(params["report-type"])
	walkEntity(m, ent, 0)
	return m
}

func walkEntity(m *bounceMsg, e *message.Entity, depth int) {
	m.parts++
	if m.parts > bounceMaxParts {
		if m.parts == bounceMaxParts+1 {
			m.notes = append(m.notes, fmt.Sprintf("only the first %d MIME parts were read", bounceMaxParts))
		}
		return
	}
	ct, params, err := e.Header.ContentType()
	if err != nil || ct == "" {
		ct = "text/plain"
	}
	ct = strings.ToLower(ct)
	if strings.HasPrefix(ct, "multipart/") {
		if depth >= bounceMaxDepth {
			m.notes = append(m.notes, "MIME nesting too deep; inner parts ignored")
			return
		}
		if rt := strings.ToLower(params["report-type"]); rt != "" && m.reportType == "" {
			m.reportType = rt
		}
		// Keep the raw body: when the boundary never appears, the whole
		// body is the text.
		raw, _ := io.ReadAll(io.LimitReader(e.Body, BounceMaxBytes))
		h := e.Header.Copy()
		h.Del("Content-Transfer-Encoding")
		ent, err := message.New(h, bytes.NewReader(raw))
		var mr message.MultipartReader
		if ent != nil {
			mr = ent.MultipartReader()
		}
		parts := 0
		for mr != nil {
			p, err := mr.NextPart()
			if p != nil && err != nil && (message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)) {
				// Keep the part undecoded (UTF-7, x-unknown, ...).
				err = nil
			}
			if err != nil {
				if err != io.EOF {
					m.notes = append(m.notes, "a MIME part is malformed ("+oneLine(err.Error())+")")
				}
				break
			}
			parts++
			walkEntity(m, p, depth+1)
		}
		if parts == 0 && len(bytes.TrimSpace(raw)) > 0 {
			if err == nil {
				m.notes = append(m.notes, "the multipart body has no parts (its boundary never appears); it was read as text")
			}
			if len(raw) > bounceMaxPartLen {
				raw = raw[:bounceMaxPartLen]
			}
			m.texts = append(m.texts, string(raw))
		}
		return
	}
	body, rerr := io.ReadAll(io.LimitReader(e.Body, bounceMaxPartLen))
	if rerr != nil && len(body) == 0 {
		m.notes = append(m.notes, "a part could not be decoded ("+oneLine(rerr.Error())+")")
		return
	}
	switch {
	case ct == "message/delivery-status" || ct == "message/global-delivery-status" || ct == "text/delivery-status" || ct == "message/x-delivery-status":
		m.dsn = append(m.dsn, body)
	case ct == "message/feedback-report":
		m.feedback = body
	case ct == "message/rfc822" || ct == "message/global" || ct == "message/partial":
		m.nested = append(m.nested, body)
	case ct == "text/rfc822-headers" || ct == "message/global-headers":
		m.origHeaders = body
	case ct == "text/plain" || ct == "text/html" || strings.HasPrefix(ct, "text/"):
		s := string(body)
		if ct == "text/html" {
			s = htmlToText(s)
		}
		if len(m.texts) < 8 {
			m.texts = append(m.texts, s)
		}
	}
}

var (
	reHTMLTag   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	reHTMLBreak = regexp.MustCompile(`(?i)<(br|/p|/div|/tr|/li|/h[1-6])[^>]*>`)
)

func htmlToText(s string) string {
	s = reHTMLBreak.ReplaceAllString(s, "\n$0")
	s = reHTMLTag.ReplaceAllString(s, "")
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ")
	return r.Replace(s)
}

// dsnField is one "Name: value" of a delivery-status group.
type dsnField struct{ name, value string }

// parseFields reads header-style fields with continuation lines.
func parseFields(b []byte) []dsnField {
	var out []dsnField
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			out = append(out, dsnField{}) // group separator
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 && out[len(out)-1].name != "" {
			out[len(out)-1].value += " " + strings.TrimSpace(line)
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 || strings.ContainsAny(line[:i], " \t") {
			continue
		}
		out = append(out, dsnField{strings.ToLower(strings.TrimSpace(line[:i])), strings.TrimSpace(line[i+1:])})
	}
	return out
}

func firstField(fs []dsnField, names ...string) string {
	for _, n := range names {
		for _, f := range fs {
			if f.name == n && f.value != "" {
				return f.value
			}
		}
	}
	return ""
}

// parseDSNParts parses RFC 3464 §2.2/§2.3 fields. Groups are normally
// separated by blank lines; when a sender forgot them, a new group starts
// at each Final-Recipient. ok is false when no recipient group was valid.
func parseDSNParts(parts [][]byte) ([]rawRecipient, string, bool) {
	var out []rawRecipient
	mta := ""
	ok := false
	for _, p := range parts {
		fields := parseFields(p)
		var cur *rawRecipient
		hasOrig, hasFinal := false, false
		flush := func() {
			if cur != nil && (cur.rcpt != "" || cur.status != "" || cur.diag != "") {
				out = append(out, *cur)
			}
			cur = nil
			hasOrig, hasFinal = false, false
		}
		for _, f := range fields {
			if f.name == "" {
				flush()
				continue
			}
			switch f.name {
			case "reporting-mta":
				if mta == "" {
					mta = dsnTypedValue(f.value)
				}
				continue
			case "final-recipient", "original-recipient", "x-actual-recipient":
				// Without blank lines between groups, a repeated field
				// starts the next recipient.
				if cur != nil && ((f.name == "final-recipient" && hasFinal) || (f.name == "original-recipient" && hasOrig)) {
					flush()
				}
				if cur == nil {
					cur = &rawRecipient{}
				}
				addr := decodeDSNAddress(f.value)
				switch f.name {
				case "final-recipient":
					hasFinal = true
					if addr != "" {
						cur.rcpt = addr
					}
				case "original-recipient":
					hasOrig = true
					if cur.rcpt == "" {
						cur.rcpt = addr
					}
				default:
					if cur.rcpt == "" {
						cur.rcpt = addr
					}
				}
				continue
			}
			if cur == nil {
				switch f.name {
				case "action", "status", "diagnostic-code", "remote-mta":
					cur = &rawRecipient{}
				default:
					continue
				}
			}
			// A second Action or Status after a recipient starts the next
			// group (blank line missing, fields in recipient-last order).
			if (f.name == "action" && cur.action != "" || f.name == "status" && cur.status != "") && (hasFinal || hasOrig) {
				flush()
				cur = &rawRecipient{}
			}
			switch f.name {
			case "action":
				cur.action = strings.ToLower(strings.Fields(f.value + " x")[0])
			case "status":
				st := findEnhancedCode(f.value)
				if st == "" {
					st = strings.TrimSpace(f.value)
					if !reEnhancedOnly.MatchString(st) {
						st = ""
					}
				}
				cur.status = st
			case "diagnostic-code":
				cur.diag = dsnDiag(f.value)
			case "remote-mta":
				cur.remote = strings.TrimSuffix(strings.Fields(dsnTypedValue(f.value) + " ")[0], ".")
			}
		}
		flush()
	}
	for _, r := range out {
		if r.rcpt != "" && (r.action != "" || r.status != "") {
			ok = true
		}
	}
	return out, mta, ok
}

// dsnTypedValue strips the "type;" prefix of a DSN field (RFC 3464 §2.1.2):
// dns, smtp, rfc822, or a longer private x- type (X-Outbound-Mail-Relay).
func dsnTypedValue(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 && !strings.ContainsAny(v[:i], " <@") {
		typ := strings.TrimSpace(v[:i])
		if i < 20 || i <= 64 && len(typ) > 2 && strings.EqualFold(typ[:2], "x-") {
			return strings.TrimSpace(v[i+1:])
		}
	}
	return strings.TrimSpace(v)
}

// tidyTypedFields strips a type prefix any format parser left on the
// server and recipient fields: they are shown as plain names.
func tidyTypedFields(rep *BounceReport) {
	rep.ReportingMTA = dsnTypedValue(rep.ReportingMTA)
	for _, list := range [][]BounceResult{rep.Results, rep.Delayed} {
		for i := range list {
			list[i].RemoteMTA = dsnTypedValue(list[i].RemoteMTA)
			list[i].Recipient = dsnTypedValue(list[i].Recipient)
		}
	}
}

func dsnDiag(v string) string {
	v = dsnTypedValue(v)
	return decodeUTF8Escapes(v)
}

var reXtext = regexp.MustCompile(`\+([0-9A-Fa-f]{2})`)
var reUTF8Esc = regexp.MustCompile(`\\x\{([0-9A-Fa-f]{1,6})\}`)

// decodeDSNAddress decodes "rfc822; user@host" (xtext, RFC 3461 §4) and
// "utf-8; ..." (RFC 6533 §3) recipient fields.
func decodeDSNAddress(v string) string {
	typ := ""
	if i := strings.IndexByte(v, ';'); i >= 0 {
		typ = strings.ToLower(strings.TrimSpace(v[:i]))
		v = v[i+1:]
	}
	v = strings.TrimSpace(v)
	if typ == "utf-8" {
		v = decodeUTF8Escapes(v)
	} else {
		v = reXtext.ReplaceAllStringFunc(v, func(s string) string {
			n, _ := strconv.ParseUint(s[1:], 16, 8)
			return string(rune(n))
		})
	}
	v = strings.Trim(v, "<> \t")
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = strings.Trim(v[i:], "<> ")
	}
	return v
}

func decodeUTF8Escapes(v string) string {
	return reUTF8Esc.ReplaceAllStringFunc(v, func(s string) string {
		n, err := strconv.ParseUint(s[3:len(s)-1], 16, 32)
		if err != nil || n > 0x10FFFF {
			return s
		}
		return string(rune(n))
	})
}

var reReplyIn = regexp.MustCompile(`(?m)(?:^|[\s:'"(\[#=])([45][0-9][0-9])( - |[ -]|:\s)(?:[245]\.[0-9]{1,3}\.[0-9]{1,3}|[#<\[A-Za-z"])`)

// extractSMTPReply returns the part of s from the first SMTP reply code on.
func extractSMTPReply(s string) string {
	loc := reReplyIn.FindStringSubmatchIndex(s)
	if loc == nil {
		return s
	}
	return s[loc[2]:]
}

func firstSMTPLine(txt string) string {
	for _, l := range strings.Split(txt, "\n") {
		l = strings.TrimSpace(l)
		if reReplyIn.MatchString(" " + l) {
			if len(l) > 500 {
				l = l[:500]
			}
			return l
		}
	}
	return ""
}

// mergeText fills DSN recipients that lack a diagnostic from the
// human-readable part (some MTAs put the remote reply only there).
func mergeText(raws, textRaws []rawRecipient, txt string) {
	for i := range raws {
		for _, t := range textRaws {
			if !strings.EqualFold(t.rcpt, raws[i].rcpt) {
				continue
			}
			if raws[i].command == "" {
				raws[i].command = t.command
			}
			if raws[i].diag == "" && t.diag != "" {
				raws[i].diag = t.diag
				if raws[i].remote == "" {
					raws[i].remote = t.remote
				}
			}
		}
		if len(raws) != 1 {
			continue
		}
		body := cutOriginal(txt)
		if raws[i].command == "" {
			raws[i].command = smtpCommand(body)
		}
		if raws[i].diag == "" {
			raws[i].diag = globalDiag(body)
		}
		if raws[i].diag == "" {
			// No SMTP reply at all (a local delivery): the sentence that
			// says what failed ("mailbox is full: retry timeout exceeded").
			raws[i].diag = firstSentenceAfter(body)
		}
	}
}

var reSMTPCommand = regexp.MustCompile(`(?i)in reply to (MAIL FROM|RCPT TO|end of DATA|DATA)\b|after (MAIL FROM|RCPT TO|end of data|DATA|initial connection)\b`)

var (
	// reXscriptCmd and reXscriptReply are the lines of an SMTP transcript
	// (Sendmail, Courier): ">>> command" sent, "<<< reply" received.
	reXscriptCmd   = regexp.MustCompile(`^\s*>>> (\S+)`)
	reXscriptReply = regexp.MustCompile(`^\s*<<< ([2-5]\d\d)([ -]|$)`)
	// reXscriptStart opens a new session in a Sendmail transcript.
	reXscriptStart = regexp.MustCompile(`(?i)while talking to `)
)

// smtpCommand names the SMTP command a remote reply answered, from the
// bounce's own words: Postfix "(in reply to RCPT TO command)", Exim "after
// MAIL FROM:", or the transcript of Sendmail and Courier (">>> DATA" then
// "<<< 550 ..."). "" when the bounce does not say or the transcript is
// ambiguous.
func smtpCommand(text string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if reXscriptCmd.MatchString(lines[i]) || reXscriptReply.MatchString(lines[i]) {
			end := i + 1
			for end < len(lines) && strings.TrimSpace(lines[end]) != "" && !reXscriptStart.MatchString(lines[end]) {
				end++
			}
			if c, found := transcriptCommand(lines[i:end]); found {
				return c
			}
			i = end - 1
			continue
		}
		m := reSMTPCommand.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		c := strings.ToUpper(m[1] + m[2])
		switch {
		case strings.HasPrefix(c, "MAIL"):
			return "MAIL"
		case strings.HasPrefix(c, "RCPT"):
			return "RCPT"
		case strings.Contains(c, "DATA"):
			return "DATA"
		default:
			return "CONN"
		}
	}
	return ""
}

// transcriptCommand reads one SMTP session of a transcript: the command
// whose reply was the first failure (4xx or 5xx), and whether the session
// held a failure at all. Replies come back in the order the commands were
// sent, pipelined or not (RFC 2920 §3.1), so the Nth reply answers the Nth
// command. A transcript that leaves commands out (more replies than
// commands, or a reply before its command) gives "": a wrong command is
// worse than none, since it changes the reason.
func transcriptCommand(lines []string) (string, bool) {
	var cmds []string
	var replies []int // the reply's code; the reply pairs with cmds[i]
	var seen []int    // how many commands had been sent when reply i came
	for _, l := range lines {
		if m := reXscriptCmd.FindStringSubmatch(l); m != nil {
			cmds = append(cmds, strings.ToUpper(m[1]))
			continue
		}
		m := reXscriptReply.FindStringSubmatch(l)
		if m == nil || m[2] == "-" {
			// Not a reply, or a line of a multiline reply before its last.
			continue
		}
		code, _ := strconv.Atoi(m[1])
		if len(cmds) == 0 && len(replies) == 0 {
			// The greeting, before any command: 220, or 554 and 421 when
			// the server refuses the session (RFC 5321 §3.1, §4.2.2).
			switch code {
			case 220:
				continue
			case 554, 421:
				return "CONN", true
			}
		}
		replies = append(replies, code)
		seen = append(seen, len(cmds))
	}
	for i, code := range replies {
		if code < 400 {
			continue
		}
		if len(replies) > len(cmds) || seen[i] <= i {
			return "", true
		}
		switch cmds[i] {
		case "MAIL":
			return "MAIL", true
		case "RCPT":
			return "RCPT", true
		case "DATA", "BDAT", ".":
			return "DATA", true
		}
		return "", true
	}
	return "", false
}

func looksLikeBounce(h textproto.Header, from, subject string) bool {
	if h.Get("X-Failed-Recipients") != "" {
		return true
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" && !isAutoReply(h, subject) {
		return true
	}
	return reBounceFrom.MatchString(from)
}

var reBounceFrom = regexp.MustCompile(`(?i)mailer-daemon|postmaster@|mail delivery (subsystem|system|service)|post_master@|^"?mail ?delivery|mdaemon@|\bpostmaster\b|microsoftexchange|nobody@.*bounce|bounce[s]?@|<>|^"?(mail|system) administrator|mail ?daemon|^"?(mail delivery|delivery status)`)
var reBounceSubject = regexp.MustCompile(`(?i)unzustellbar|nicht zustellbar|non remis|impossible de remettre|no se puede entregar|onbestelbaar|non recapitabile|não é possível entregar|olevererbar|nie można dostarczyć|nedoručitelné|kézbesíthetetlen|配信不能|無法傳遞|无法投递|退信|недоставлен|не доставлен|возвращ[её]нное письмо|undeliver|undelivered|delivery (status notification|failure|failed|has failed|problem|report)|mail delivery failed|returned mail|failure notice|non-?delivery|nondeliverable|not delivered|could not (be )?deliver|permanent (delivery )?failure|delivery notification|mail system error|rejected:|returned to sender|message you sent (was |has been )?blocked|warning: (could not send|message .* delayed)|delayed mail|delivery delayed`)

var reAutoSubject = regexp.MustCompile(`(?i)^(auto(matic|matische|matisch)?[ -]?(reply|response|antwort)|risposta automatica|resposta autom[aá]tica|respuesta autom[aá]tica|automatisch antwoord|autosvar|odpowied[zź] automatyczna|自動返信|自动回复|ooo\b|out of (the )?office|abwesenheit|absence|vacation|away from|r[ée]ponse automatique|respuesta autom[aá]tica|autoreply|auto:|i am (currently )?(out|away))`)

func isAutoReply(h textproto.Header, subject string) bool {
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Auto-Response-Suppress") != "" && reAutoSubject.MatchString(subject) {
		return true
	}
	prec := strings.ToLower(h.Get("Precedence"))
	if prec == "auto_reply" {
		return true
	}
	return reAutoSubject.MatchString(strings.TrimSpace(subject))
}

func decodeHeader(v string) string {
	dec := new(mime.WordDecoder)
	dec.CharsetReader = message.CharsetReader
	if s, err := dec.DecodeHeader(v); err == nil {
		return s
	}
	return v
}

func addrOnly(v string) string {
	v = decodeHeader(strings.TrimSpace(v))
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err == nil {
		return a.Address
	}
	if m := reAddr.FindString(v); m != "" {
		return m
	}
	return v
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func oneLine(s string) string {
	s = collapseSpace(s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// parseSESJSON reads an Amazon SES bounce notification (the JSON that SES
// publishes through SNS, sometimes forwarded as mail).
func parseSESJSON(txt string) ([]rawRecipient, bool) {
	i := strings.Index(txt, `"notificationType"`)
	if i < 0 {
		i = strings.Index(txt, `"eventType"`)
	}
	if i < 0 {
		return nil, false
	}
	start := strings.LastIndex(txt[:i], "{")
	end := strings.LastIndex(txt, "}")
	if start < 0 || end <= start {
		return nil, false
	}
	var n struct {
		Delivery struct {
			Recipients   []string `json:"recipients"`
			SMTPResponse string   `json:"smtpResponse"`
			ReportingMTA string   `json:"reportingMTA"`
		} `json:"delivery"`
		Bounce struct {
			BounceType        string `json:"bounceType"`
			ReportingMTA      string `json:"reportingMTA"`
			BouncedRecipients []struct {
				EmailAddress   string `json:"emailAddress"`
				Action         string `json:"action"`
				Status         string `json:"status"`
				DiagnosticCode string `json:"diagnosticCode"`
			} `json:"bouncedRecipients"`
		} `json:"bounce"`
	}
	if err := json.Unmarshal([]byte(txt[start:end+1]), &n); err != nil {
		return nil, false
	}
	var out []rawRecipient
	// A "Delivery" notification: SES reports a success.
	for _, r := range n.Delivery.Recipients {
		reply, st, _ := splitReply(n.Delivery.SMTPResponse)
		out = append(out, rawRecipient{rcpt: r, action: "delivered", status: st, reply: reply,
			diag: n.Delivery.SMTPResponse, remote: n.Delivery.ReportingMTA})
	}
	for _, r := range n.Bounce.BouncedRecipients {
		out = append(out, rawRecipient{rcpt: r.EmailAddress, action: firstNonEmpty(r.Action, "failed"),
			status: findEnhancedCode(r.Status), diag: dsnDiag(r.DiagnosticCode), remote: dsnTypedValue(n.Bounce.ReportingMTA)})
	}
	return out, len(out) > 0
}
