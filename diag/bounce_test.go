package diag

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseFixture(t *testing.T, name string) *BounceReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", name))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ParseBounce(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// One fixture per format, written from each MTA's documented layout.
func TestBounceFixtures(t *testing.T) {
	type want struct {
		rcpt, reason, status string
		reply                int
		hard                 bool
		remote               string
	}
	cases := []struct {
		file, kind, format string
		isBounce           bool
		results            []want
	}{
		{"postfix.eml", "bounce", "rfc3464/postfix", true, []want{{"nobody@example.net", BounceUserUnknown, "5.1.1", 550, true, "mx.example.net"}}},
		{"exim.eml", "bounce", "exim", true, []want{{"someone@example.com", BounceMailboxFull, "5.2.2", 552, false, "mx.example.com"}}},
		{"qmail.eml", "bounce", "qmail", true, []want{{"ghost@example.com", BounceUserUnknown, "5.1.1", 550, true, "203.0.113.9"}}},
		{"sendmail.eml", "bounce", "rfc3464/sendmail", true, []want{{"big@example.com", BounceMesgTooBig, "5.3.4", 552, false, "mx.example.com"}}},
		{"courier.eml", "bounce", "rfc3464/courier", true, []want{{"peggy@example.com", BounceBlocked, "5.7.1", 550, false, "mx.example.com"}}},
		{"exchange.eml", "bounce", "exchange", true, []want{{"frank@fabrikam.com", BounceUserUnknown, "5.1.10", 550, true, "BN6PR11MB1234.namprd11.prod.outlook.com"}}},
		{"gmail.eml", "bounce", "rfc3464/gmail", true, []want{{"heidi@example.com", BounceUserUnknown, "5.1.1", 550, true, "mx.example.com"}}},
		{"yahoo.eml", "bounce", "yahoo", true, []want{{"judy@example.org", BouncePolicyViolation, "5.7.9", 554, false, ""}}},
		{"amazonses.eml", "bounce", "rfc3464/amazonses", true, []want{{"bounce@simulator.amazonses.com", BounceUserUnknown, "5.1.1", 550, true, ""}}},
		{"domino.eml", "bounce", "domino", true, []want{{"lee@notes.example.com", BounceUserUnknown, "", 0, true, ""}}},
		{"mdaemon.eml", "bounce", "mdaemon", true, []want{{"nancy@example.net", BounceUserUnknown, "5.1.1", 550, true, ""}}},
		{"rfc3464-example.eml", "bounce", "rfc3464/sendmail", true, []want{{"louisl@larry.slip.umd.edu", BounceExpired, "4.0.0", 426, false, ""}}},
		{"rfc3464-multi.eml", "bounce", "rfc3464/sendmail", true, []want{
			{"arathib@vnet.ibm.com", BounceOnHold, "5.0.0", 550, true, "vnet.ibm.com"},
			{"wsnell@sdcc13.ucsd.edu", BounceUserUnknown, "5.0.0", 550, true, "sdcc13.ucsd.edu"}}},
		{"forwarded.eml", "bounce", "postfix", true, []want{{"zed@example.com", BounceBlocked, "5.7.1", 554, false, "mx.example.com"}}},
		{"malformed-dsn.eml", "bounce", "rfc3464", true, []want{{"xena@example.com", BounceNoRelaying, "5.7.1", 550, false, "mx.example.com"}}},
		{"vacation.eml", "auto-reply", "rfc3834", false, []want{{"quentin@example.com", BounceVacation, "", 0, false, ""}}},
		{"arf.eml", "feedback", "arf", false, []want{{"user@example.com", BounceFeedback, "", 0, false, ""}}},
		{"success.eml", "delivered", "rfc3464/postfix", false, []want{{"tina@example.net", BounceDelivered, "2.0.0", 250, false, "mx.example.net"}}},
		{"ordinary.eml", "ordinary", "rfc5322", false, nil},
		{"exchange2003.eml", "bounce", "exchange", true, []want{{"ben@example.net", BounceUserUnknown, "5.1.1", 0, true, "mx.example.net"}}},
		{"exchange2010.eml", "bounce", "exchange", true, []want{{"dora@fabrikam.com", BounceUserUnknown, "5.1.1", 550, true, "EX01.contoso.com"}}},
		{"gmail-old.eml", "bounce", "gmail", true, []want{{"fred@example.org", BounceMailboxFull, "5.2.2", 552, false, "mx.example.org"}}},
		{"gmx.eml", "bounce", "exim", true, []want{{"hank@example.com", BounceBlocked, "5.7.1", 554, false, "mx.example.com"}}},
		{"postfix-delay.eml", "delay", "rfc3464/postfix", false, nil},
		{"exim-expired.eml", "bounce", "exim", true, []want{{"liam@example.com", BounceExpired, "", 0, false, ""}}},
		{"human-reply.eml", "ordinary", "rfc5322", false, nil},
		{"auto-german.eml", "auto-reply", "rfc3834", false, []want{{"otto@example.de", BounceVacation, "", 0, false, ""}}},
		{"postfix-multi.eml", "bounce", "postfix", true, []want{
			{"r1@example.net", BounceUserUnknown, "5.1.1", 550, true, "mx.example.net"},
			{"r2@example.com", BounceMailboxFull, "5.2.2", 552, false, "mx.example.com"},
			{"r3@nx.example", BounceHostUnknown, "", 0, true, ""}}},
		{"exim-old.eml", "bounce", "exim", true, []want{
			{"t1@example.com", BounceUserUnknown, "5.1.1", 550, true, "mx.example.com"},
			{"t2@example.net", BounceVirusDetected, "5.7.1", 554, false, "mx.example.net"}}},
		{"sendmail-text.eml", "bounce", "sendmail", true, []want{
			{"v1@example.com", BounceUserUnknown, "5.1.1", 550, true, "mx.example.com"},
			{"v2@example.com", BounceNoRelaying, "5.7.1", 550, false, "mx.example.com"}}},
		{"yahoo-dd.eml", "bounce", "yahoo", true, []want{{"xyz@yahoo.com", BounceUserUnknown, "", 554, true, ""}}},
		{"ses-json.eml", "bounce", "amazonses-json", true, []want{{"nobody@example.com", BounceUserUnknown, "5.1.1", 550, true, "a8-1.smtp-out.amazonses.com"}}},
		{"pmdf-inline.eml", "bounce", "rfc3464", true, []want{{"bo@example.org", BounceUserUnknown, "5.7.1", 550, true, "mx.example.org"}}},
		{"notes-ja.eml", "bounce", "text", true, []want{{"di@notes.example.co.jp", BounceUserUnknown, "", 0, true, ""}}},
		{"imail.eml", "bounce", "text", true, []want{{"flo@imail.example.com", BounceUserUnknown, "", 0, true, ""}}},
		{"verizon.eml", "bounce", "text", true, []want{{"5555550100@vtext.com", BounceUserUnknown, "", 550, true, ""}}},
		{"openmail.eml", "bounce", "text", true, []want{{"ida@example.org", BounceUserUnknown, "", 0, true, ""}}},
		{"activehunter.eml", "bounce", "sendmail", true, []want{{"kay@ah.example.ed.jp", BounceUserUnknown, "", 550, true, ""}}},
		{"exchange55.eml", "bounce", "text", true, []want{{"max@legacy.example.net", BounceUserUnknown, "", 0, true, ""}}},
		{"biglobe.eml", "bounce", "sendmail", true, []want{{"oli@isp.example.ne.jp", BounceMailboxFull, "", 0, false, ""}}},
		{"hotmail-utf7.eml", "bounce", "rfc3464/exchange", true, []want{{"raj@example.jp", BounceMailboxFull, "5.2.2", 550, false, ""}}},
		{"global.eml", "bounce", "rfc3464/postfix", true, []want{{"用户@例子.测试", BounceUserUnknown, "5.1.1", 550, true, "mx.例子.测试"}}},
		// sisimai's courier-02 with X-HmXmrOriginalRecipient on the attached
		// message (Outlook.com adds it to mail it receives): still a bounce.
		{"courier-hmxmr.eml", "bounce", "rfc3464/courier", true, []want{{"kijitora@example.jp", BounceFiltered, "5.0.0", 550, false, "mfsmax.example.jp"}}},
		// Pipelined: the 550 answers RCPT TO (the second command), not MAIL FROM.
		{"sendmail-pipelined.eml", "bounce", "rfc3464/sendmail", true, []want{{"gone@example.com", BounceOnHold, "5.0.0", 550, true, "mx.example.com"}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rep := parseFixture(t, c.file)
			if rep.IsBounce != c.isBounce || rep.Kind != c.kind || rep.Format != c.format {
				t.Errorf("is_bounce %v kind %q format %q; want %v %q %q (notes %q)", rep.IsBounce, rep.Kind, rep.Format, c.isBounce, c.kind, c.format, rep.Notes)
			}
			if len(rep.Results) != len(c.results) {
				t.Fatalf("%d results, want %d: %+v", len(rep.Results), len(c.results), rep.Results)
			}
			for i, w := range c.results {
				r := rep.Results[i]
				if r.Recipient != w.rcpt || r.Reason != w.reason || r.Status != w.status || r.ReplyCode != w.reply || r.HardBounce != w.hard || r.RemoteMTA != w.remote {
					t.Errorf("result %d = %q %q %q %d hard=%v %q; want %+v", i, r.Recipient, r.Reason, r.Status, r.ReplyCode, r.HardBounce, r.RemoteMTA, w)
				}
				if r.Explanation == "" || r.Fix == "" {
					t.Errorf("result %d has no explanation or fix", i)
				}
			}
		})
	}
}

func TestBounceMalformedAndTruncated(t *testing.T) {
	rep := parseFixture(t, "truncated.eml")
	if !rep.IsBounce || len(rep.Results) != 1 || rep.Results[0].Reason != BounceUndefined {
		t.Fatalf("truncated: %+v", rep)
	}
	if !strings.Contains(rep.Results[0].Explanation, "truncated or malformed") {
		t.Errorf("undefined without the reason why: %q", rep.Results[0].Explanation)
	}
	rep = parseFixture(t, "malformed-dsn.eml")
	if !strings.Contains(strings.Join(rep.Notes, " "), "delivery-status part is malformed") {
		t.Errorf("malformed DSN not noted: %q", rep.Notes)
	}
	for _, in := range []string{"", "\x00\x01\x02", "From: MAILER-DAEMON\n\n", "Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\n"} {
		if _, err := ParseBounce(strings.NewReader(in)); err != nil {
			t.Errorf("ParseBounce(%q): %v", in, err)
		}
	}
}

func TestBounceHugeIsBounded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\nContent-Type: text/plain\n\n<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown user\n\n")
	line := strings.Repeat("x", 1000) + "\n"
	for b.Len() < BounceMaxBytes+(2<<20) {
		b.WriteString(line)
	}
	rep, err := ParseBounce(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Truncated || len(rep.Results) != 1 || rep.Results[0].Reason != BounceUserUnknown {
		t.Errorf("huge: truncated=%v results=%+v", rep.Truncated, rep.Results)
	}
}

func TestBounceNestedDepthBounded(t *testing.T) {
	inner := "From: x@example.com\nSubject: hi\n\nhello\n"
	for i := 0; i < 50; i++ {
		inner = "Content-Type: multipart/mixed; boundary=b" + string(rune('a'+i%26)) + "\n\n--b" + string(rune('a'+i%26)) + "\nContent-Type: message/rfc822\n\n" + inner + "\n--b" + string(rune('a'+i%26)) + "--\n"
	}
	if _, err := ParseBounce(strings.NewReader(inner)); err != nil {
		t.Fatal(err)
	}
}

func TestClassifyBounce(t *testing.T) {
	cases := []struct {
		status string
		reply  int
		text   string
		want   string
	}{
		{"5.1.1", 550, "whatever", BounceUserUnknown},
		{"5.0.0", 550, "Requested action not taken: mailbox unavailable: user does not exist", BounceUserUnknown},
		{"4.2.2", 452, "", BounceMailboxFull},
		{"5.7.1", 550, "Relay access denied", BounceNoRelaying},
		{"", 550, "Host or domain name not found. Name service error for name=nx.example type=MX", BounceHostUnknown},
		{"5.7.1", 554, "Message rejected because it contains a virus", BounceVirusDetected},
		{"5.7.1", 550, "Message rejected as spam by Content Filtering", BounceSpamDetected},
		{"4.7.1", 450, "Client host rejected: cannot find your reverse hostname, [192.0.2.1]", BounceRequirePTR},
		{"5.7.0", 550, "Must issue a STARTTLS command first", BounceFailedSTARTTLS},
		{"5.7.8", 535, "Authentication credentials invalid", BounceSecurityError},
		{"5.1.8", 553, "Sender address rejected: Domain not found", BounceRejected},
		{"4.4.7", 0, "retry timeout exceeded", BounceExpired},
		{"", 0, "", BounceUndefined},
		{"2.0.0", 250, "ok", BounceDelivered},
		{"5.7.1", 550, "not RFC 5322 compliant: multiple From headers", BounceNotCompliantRFC},
		{"4.7.0", 421, "Too many connections from your IP", BounceTooManyConn},
		{"5.2.1", 550, "Account disabled", BounceSuspend},
		{"5.7.1", 550, "DMARC policy of the sender domain is reject", BounceAuthFailure},
		// Wordings seen in the wild.
		{"5.2.1", 550, "<u@example.com>: Mailbox disabled, not accepting messages", BounceSuspend},
		{"5.7.1", 554, "<unknown[192.0.2.1]>: Client host rejected: Access denied", BounceBlocked},
		{"5.7.1", 550, "Unauthenticated email from example.com is not accepted due to domain's DMARC policy. - gsmtp", BounceAuthFailure},
		{"5.4.14", 554, "Hop count exceeded - possible mail loop ATTR34", BounceNetworkError},
		{"4.3.2", 421, "Service not available", BounceNotAccept},
		{"5.3.0", 553, "<u@example.com>... No such user", BounceUserUnknown},
		{"5.7.1", 550, "<u@example.com>... Relaying denied. IP name lookup failed [192.0.2.1]", BounceNoRelaying},
		{"", 550, "Message was not accepted -- invalid mailbox. Local mailbox u@example.ru is unavailable: user not found", BounceUserUnknown},
		{"5.3.4", 552, "Error: message file too big", BounceMesgTooBig},
		{"5.7.1", 553, "[BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list", BounceBlocked},
		{"", 554, "30 Sorry, your message to u@yahoo.com cannot be delivered. This mailbox is disabled (554.30).", BounceSuspend},
		{"5.5.0", 550, "Requested action not taken: mailbox unavailable", BounceUserUnknown},
		{"5.1.3", 501, "Invalid address", BounceUserUnknown},
		{"", 550, "SPF check failed", BounceAuthFailure},
		{"5.7.0", 550, "Local Policy Violation", BouncePolicyViolation},
		{"", 550, "Verification failed for <s@example.org> Unrouteable address Sender verify failed", BounceRejected},
		{"5.1.1", 550, "<u@example.com>: Recipient address rejected: Mailbox full", BounceMailboxFull},
		{"4.4.1", 0, "connect to mx.example.com[192.0.2.1]:25: Connection timed out", BounceExpired},
		{"", 550, "Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550", BounceBlocked},
		{"5.7.1", 550, "Rejected by header based Anti-Spoofing policy: a@example.com", BouncePolicyViolation},
		{"5.7.1", 554, "Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", BounceBlocked},
		{"5.7.1", 550, "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137", BouncePolicyViolation},
	}
	for _, c := range cases {
		if got := classifyBounce(c.status, c.reply, c.text); got != c.want {
			t.Errorf("classifyBounce(%q, %d, %q) = %q, want %q", c.status, c.reply, c.text, got, c.want)
		}
	}
}

func FuzzParseBounce(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bounce", "*.eml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseBounce(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if _, ok := bounceReasons[r.Reason]; !ok {
				t.Fatalf("unknown reason %q", r.Reason)
			}
		}
	})
}

func BenchmarkParseBounce(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "bounce", "postfix.eml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseBounce(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseBounceHuge(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\nContent-Type: text/plain\n\n<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown user\n\n")
	for buf.Len() < BounceMaxBytes {
		buf.WriteString(strings.Repeat("y", 999) + "\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseBounce(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBounceMboxFirstMessageOnly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", "qmail.eml"))
	if err != nil {
		t.Fatal(err)
	}
	mbox := "From MAILER-DAEMON Wed Mar 12 09:00:00 2025\n" + string(b) +
		"\nFrom someone@example.com Wed Mar 12 10:00:00 2025\nFrom: someone@example.com\nSubject: other\n\n<other@example.com>: 550 5.1.1 unknown\n"
	rep, err := ParseBounce(strings.NewReader(mbox))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Recipient != "ghost@example.com" || !strings.Contains(strings.Join(rep.Notes, " "), "only the first") {
		t.Errorf("mbox: %+v %q", rep.Results, rep.Notes)
	}
}

func TestParseDSNGroups(t *testing.T) {
	// Blank lines missing between groups, fields in unusual orders.
	dsn := "Reporting-MTA: dns; mx.example.org\n\n" +
		"Final-Recipient: rfc822; a@example.com\nOriginal-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n" +
		"Action: failed\nStatus: 5.2.2\nFinal-Recipient: rfc822; b@example.com\n" +
		"Original-Recipient: rfc822; c+2Bx@example.com\nFinal-Recipient: rfc822; c+x@example.com\nAction: delayed\nStatus: 4.4.1\n"
	raws, mta, ok := parseDSNParts([][]byte{[]byte(dsn)})
	if !ok || mta != "mx.example.org" {
		t.Fatalf("ok=%v mta=%q", ok, mta)
	}
	want := []rawRecipient{{rcpt: "a@example.com", status: "5.1.1", action: "failed"}, {rcpt: "b@example.com", status: "5.2.2", action: "failed"}, {rcpt: "c+x@example.com", status: "4.4.1", action: "delayed"}}
	if len(raws) != len(want) {
		t.Fatalf("got %+v", raws)
	}
	for i := range want {
		if raws[i] != want[i] {
			t.Errorf("group %d = %+v, want %+v", i, raws[i], want[i])
		}
	}
}

// Delayed recipients (RFC 3464 §2.3.3 "Action: delayed") are still being
// retried: they are reported apart from the failed ones and never count as
// bounced.
func TestBounceDelayedRecipientsApart(t *testing.T) {
	rep := parseFixture(t, "rfc3464-multi.eml")
	if !rep.IsBounce || rep.Kind != "bounce" || len(rep.Results) != 2 || len(rep.Delayed) != 1 ||
		rep.Delayed[0].Recipient != "johnh@hpnjld.njd.hp.com" || rep.Delayed[0].HardBounce {
		t.Fatalf("mixed report: %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Recipient == "johnh@hpnjld.njd.hp.com" {
			t.Errorf("delayed recipient among the failed: %+v", r)
		}
	}
	rep = parseFixture(t, "postfix-delay.eml")
	if rep.IsBounce || rep.Kind != "delay" || len(rep.Results) != 0 || len(rep.Delayed) != 1 ||
		rep.Delayed[0].Recipient != "jack@example.net" || rep.Delayed[0].Status != "4.4.1" || rep.Delayed[0].RemoteMTA != "mx.example.net" {
		t.Fatalf("delay only: %+v", rep)
	}
	msg := "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n" +
		"Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 mailbox full\r\n\r\n--b--\r\n"
	rep, _ = ParseBounce(strings.NewReader(msg))
	if rep.Kind != "bounce" || len(rep.Results) != 1 || rep.Results[0].Recipient != "a@example.com" || len(rep.Delayed) != 1 || rep.Delayed[0].Reason != BounceMailboxFull {
		t.Fatalf("failed + delayed: %+v", rep)
	}
}

// A greylisting deferral in a DSN is no unknown user: a delayed recipient
// is still being retried, a failed one expired while greylisted.
func TestBounceGreylisted(t *testing.T) {
	msg := "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 4.2.0\r\nDiagnostic-Code: smtp; 450 4.2.0 <a@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n\r\n" +
		"Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: 4.2.0\r\nDiagnostic-Code: smtp; 450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n\r\n--b--\r\n"
	rep, _ := ParseBounce(strings.NewReader(msg))
	if len(rep.Results) != 1 || rep.Results[0].Reason != BounceExpired || rep.Results[0].HardBounce || !strings.Contains(rep.Results[0].Explanation, "greylisted") {
		t.Errorf("failed: %+v", rep.Results)
	}
	if len(rep.Delayed) != 1 || rep.Delayed[0].Reason == BounceUserUnknown || !strings.Contains(rep.Delayed[0].Explanation, "still retrying") {
		t.Errorf("delayed: %+v", rep.Delayed)
	}
}

// A delayed recipient is still queued: never "expired", never "send again"
// (that would deliver it twice), whatever its 4.4.x code.
func TestBounceDelayedNeverExpired(t *testing.T) {
	for _, st := range []string{"4.4.1", "4.4.7"} {
		msg := "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification (Delay)\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
			"Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n" +
			"Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: " + st + "\r\n\r\n--b--\r\n"
		rep, _ := ParseBounce(strings.NewReader(msg))
		if len(rep.Delayed) != 1 {
			t.Fatalf("%s: delayed %+v", st, rep.Delayed)
		}
		d := rep.Delayed[0]
		if d.Reason == BounceExpired || d.HardBounce || strings.Contains(d.Explanation, "gave up") ||
			strings.Contains(d.Fix, "Send again") || !strings.Contains(d.Fix, "Wait") {
			t.Errorf("%s: delayed recipient %+v", st, d)
		}
		for _, n := range rep.Notes {
			if strings.Contains(n, "more recipient") {
				t.Errorf("%s: note %q says \"more\" for recipients that are not more failures", st, n)
			}
		}
	}
}

// A code's own meaning reaches bounce results too: 4.3.2 is a server that
// is not taking mail now, never a null MX; a failed recipient (its retries
// expired) gets the permanent advice, a delayed one is told to wait.
func TestBounceStatusAdvice(t *testing.T) {
	mk := func(action string) string {
		return "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
			"Final-Recipient: rfc822; a@example.com\r\nAction: " + action + "\r\nStatus: 4.3.2\r\nDiagnostic-Code: smtp; 421 4.3.2 Service shutting down\r\n\r\n--b--\r\n"
	}
	rep, _ := ParseBounce(strings.NewReader(mk("failed")))
	if len(rep.Results) != 1 || strings.Contains(rep.Results[0].Explanation, "null MX") || strings.HasPrefix(rep.Results[0].Fix, "Nothing to fix") {
		t.Errorf("failed 4.3.2: %+v", rep.Results)
	}
	rep, _ = ParseBounce(strings.NewReader(mk("delayed")))
	if len(rep.Delayed) != 1 || strings.Contains(rep.Delayed[0].Explanation, "null MX") || !strings.HasPrefix(rep.Delayed[0].Fix, "Wait") {
		t.Errorf("delayed 4.3.2: %+v", rep.Delayed)
	}
}
