package diag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sisimaiWant is one recipient as sisimai's own test tables expect it.
// ours is set only where we deliberately report another reason; the
// comment on the row says why.
type sisimaiWant struct {
	rcpt, reason, ours string
}

// sisimaiCorpus: real bounces from sisimai's corpus (testdata/bounces-sisimai,
// see its README) with the reasons from sisimai's test tables; src names the
// table and its row.
var sisimaiCorpus = []struct {
	file, src string
	want      []sisimaiWant
}{
	{"email-postfix-02.eml", "lhost-postfix 02", []sisimaiWant{{"filtered@example.co.jp", BounceUserUnknown, ""}, {"userunknown@example.co.jp", BounceUserUnknown, ""}}},
	{"email-postfix-03.eml", "lhost-postfix 03", []sisimaiWant{{"kijitora@example.net", BounceFiltered, ""}}},
	{"email-postfix-08.eml", "lhost-postfix 08", []sisimaiWant{{"kijitora@example.com", BounceExpired, ""}}},
	{"email-postfix-09.eml", "lhost-postfix 09", []sisimaiWant{{"kijitora@example.ne.jp", BounceTooManyConn, ""}}},
	{"email-postfix-16.eml", "lhost-postfix 16", []sisimaiWant{{"kijitora@example.go.jp", BounceHasMoved, ""}}},
	{"lhost-postfix-30.eml", "lhost-postfix 30", []sisimaiWant{{"kijitora@example.br", BounceUserUnknown, ""}}},
	{"lhost-postfix-70.eml", "lhost-postfix 70", []sisimaiWant{{"kijitora@google.example.com", BounceAuthFailure, ""}}},
	{"lhost-postfix-71.eml", "lhost-postfix 71", []sisimaiWant{{"kijitora@apple.example.com", BounceAuthFailure, ""}}},
	{"email-exim-02.eml", "lhost-exim 02", []sisimaiWant{{"kijitora@example.jp", BounceUserUnknown, ""}, {"sabatora@example.jp", BounceUserUnknown, ""}}},
	{"email-exim-04.eml", "lhost-exim 04", []sisimaiWant{{"kijitora@example.ed.jp", BounceBlocked, ""}}},
	{"email-exim-30.eml", "lhost-exim 30", []sisimaiWant{{"kijitora@exmaple.ch", BounceUserUnknown, ""}}},
	{"email-exim-32.eml", "lhost-exim 32", []sisimaiWant{{"kijitora@example.net", BounceRequirePTR, ""}}},
	{"email-exim-36.eml", "lhost-exim 36", []sisimaiWant{{"kijitora@example.edu", BounceRejected, ""}}},
	{"email-exim-45.eml", "lhost-exim 45", []sisimaiWant{{"kijitora@example.com", BounceRejected, ""}}},
	// "554 5.7.1 [C14] Missing reverse DNS": the reply names the missing
	// PTR, the fix is the PTR record (sisimai files rows 32-43 alike).
	{"email-exim-46.eml", "lhost-exim 46", []sisimaiWant{{"kijitora@example.com", BounceBlocked, BounceRequirePTR}}},
	{"email-exim-50.eml", "lhost-exim 50", []sisimaiWant{{"kijitora@neko.example.com", BounceRejected, ""}}},
	// Exim's "malformed recipient address" is about a To: header the sender
	// wrote, not an SMTP command: a content error is what to fix.
	{"email-exim-52.eml", "lhost-exim 52", []sisimaiWant{{"kijitora@example.com", BounceSyntaxError, BounceContentError}}},
	// "You've reached your daily relay quota": a sending limit, not a
	// block of the IP; it lifts by itself.
	{"email-exim-56.eml", "lhost-exim 56", []sisimaiWant{{"kijitora@example.com", BounceBlocked, BounceSpeeding}}},
	{"email-exim-57.eml", "lhost-exim 57", []sisimaiWant{{"kijitora@example.com", BounceRejected, ""}}},
	{"email-exim-59.eml", "lhost-exim 59", []sisimaiWant{{"kijitora@icloud.example.com", BounceUserUnknown, ""}}},
	{"email-exim-60.eml", "lhost-exim 60", []sisimaiWant{{"nyaan%gol.com@q002.kijitora.gol.com", BounceMailboxFull, ""}}},
	{"email-sendmail-01.eml", "lhost-sendmail 01", []sisimaiWant{{"userunknown@bouncehammer.jp", BounceUserUnknown, ""}}},
	{"email-sendmail-07.eml", "lhost-sendmail 07", []sisimaiWant{{"kijitora@example.org", BounceNoRelaying, ""}}},
	{"email-sendmail-08.eml", "lhost-sendmail 08", []sisimaiWant{{"neko@example.org", BounceRequirePTR, ""}}},
	{"email-courier-01.eml", "lhost-courier 01", []sisimaiWant{{"kijitora@example.co.jp", BounceUserUnknown, ""}}},
	{"courier-02.eml", "lhost-courier 02", []sisimaiWant{{"kijitora@example.jp", BounceFiltered, ""}}},
	{"courier-03.eml", "lhost-courier 03", []sisimaiWant{{"kijitora@example.jp", BounceRejected, ""}}},
	{"courier-04.eml", "lhost-courier 04", []sisimaiWant{{"kijitora@example.cat", BounceHostUnknown, ""}}},
	// RESOLVER.RST.AuthRequired: the recipient accepts mail only from
	// authenticated (internal) senders; no login of the sender's would
	// help, so it is the recipient organisation's restriction (a policy),
	// not a security error the sender can fix.
	{"email-exchange2007-04.eml", "lhost-exchange2007 04", []sisimaiWant{{"neko-nyaan@example.jp", BounceSecurityError, BouncePolicyViolation}}},
	{"email-exchange2003-03.eml", "lhost-exchange2003 03", []sisimaiWant{{"kijitora@example.jp", BounceUserUnknown, ""}}},
	{"email-exchange2003-07.eml", "lhost-exchange2003 07", []sisimaiWant{{"kijitora@example.org", BounceUserUnknown, ""}}},
	// "554 5.7.0 Header error": the message's header was refused; the
	// fix is in the message (content), not a recipient's filter.
	{"email-google-03.eml", "lhost-gmail 03", []sisimaiWant{{"kijitora@example.co.jp", BounceFiltered, BounceContentError}}},
	{"email-google-05.eml", "lhost-gmail 05", []sisimaiWant{{"shironeko@example.jp", BounceSecurityError, ""}}},
	// A "Delay" notice: Gmail still retries, nothing has failed yet, so
	// the recipient is listed as delayed (sisimai counts it as expired).
	{"email-google-09.eml", "lhost-gmail 09", []sisimaiWant{{"kijitora@9jo.example.jp", BounceExpired, "delayed"}}},
	{"email-google-10.eml", "lhost-gmail 10", []sisimaiWant{{"kijitora@6jo.example.co.jp", BounceExpired, ""}}},
	{"email-google-16.eml", "lhost-gmail 16", []sisimaiWant{{"mailboxfull@bouncehammer.jp", BounceMailboxFull, ""}}},
	{"email-google-18.eml", "lhost-gmail 18", []sisimaiWant{{"kijitora@example.or.jp", BounceUserUnknown, ""}}},
	{"email-google-19.eml", "lhost-gmail 19", []sisimaiWant{{"neko-nyaan@google.example.com", BounceMailboxFull, ""}}},
	{"email-qmail-01.eml", "lhost-qmail 01", []sisimaiWant{{"kijitora@example.ne.jp", BounceUserUnknown, ""}}},
	{"email-domino-01.eml", "lhost-domino 01", []sisimaiWant{{"kijitora@example.jp", BounceUserUnknown, ""}}},
	{"email-amazonses-03.eml", "lhost-amazonses 03", []sisimaiWant{{"kijitora@example.jp", BounceMailboxFull, ""}}},
	{"email-amazonses-05.eml", "lhost-amazonses 05", []sisimaiWant{{"bounce@simulator.amazonses.com", BounceUserUnknown, ""}}},
	{"email-amazonses-07.eml", "lhost-amazonses 07", []sisimaiWant{{"6@neko.nyaan.example.org", BounceSecurityError, ""}}},
	{"email-amazonses-08.eml", "lhost-amazonses 08", []sisimaiWant{{"e@neko.nyaan.example.org", BounceSecurityError, ""}}},
	{"email-amazonses-12.eml", "lhost-amazonses 12", []sisimaiWant{{"success@simulator.amazonses.com", BounceDelivered, ""}}},
	{"email-amazonses-16.eml", "lhost-amazonses 16", []sisimaiWant{{"kijitora@example.com", BounceBlocked, ""}}},
	{"email-amazonses-18.eml", "lhost-amazonses 18", []sisimaiWant{{"kijitora@neko.nyaan.example.edu", BounceHostUnknown, ""}}},
	{"email-amazonses-21.eml", "lhost-amazonses 21", []sisimaiWant{{"kijitora@example.com", BounceNoRelaying, ""}}},
	// "Name service error ... Malformed or unexpected name server reply"
	// for the MX: the domain's DNS is broken; nothing says it refuses mail
	// (a null MX would), so it reads as an unresolvable domain.
	{"rhost-aol-06.eml", "rhost-aol 06", []sisimaiWant{{"neko@libsisimai.org", BounceNotAccept, BounceHostUnknown}}},
	{"rhost-outlook-01.eml", "rhost-outlook 01", []sisimaiWant{{"kijitora@example.jp", BounceMailboxFull, ""}}},
	{"arf-19.eml", "arf 19", []sisimaiWant{{"kijitora@example.org", BounceFeedback, ""}}},
	{"arf-21.eml", "arf 21", []sisimaiWant{{"kijitora@example.org", BounceFeedback, ""}}},
	{"arf-23.eml", "arf 23", []sisimaiWant{{"kijitora@example.com", BounceFeedback, ""}}},
	{"arf-24.eml", "arf 24", []sisimaiWant{{"kijitora@example.com", BounceFeedback, ""}}},
	{"arf-26.eml", "arf 26", []sisimaiWant{{"example@icloud.com", BounceFeedback, ""}}},
	{"rfc3464-03.eml", "rfc3464 03", []sisimaiWant{{"kijitora@example.com", BouncePolicyViolation, ""}}},
	{"rfc3464-04.eml", "rfc3464 04", []sisimaiWant{{"kijitora@mailx-53.neko.example.edu", BounceSystemError, ""}}},
	{"rfc3464-06.eml", "rfc3464 06", []sisimaiWant{{"kijitora@example.net", BounceUserUnknown, ""}}},
	{"rfc3464-08.eml", "rfc3464 08", []sisimaiWant{{"kijitora@example.net", BounceSpamDetected, ""}}},
	// An mbox of two reports: ParseBounce reads one message (the first)
	// and says so in a note; sisimai reads both.
	{"rfc3464-28.eml", "rfc3464 28", []sisimaiWant{{"kijitora@neko.example.jp", BounceDelivered, ""}, {"info@neko.example.jp", BounceDelivered, "absent"}}},
}

// TestBounceSisimaiCorpus checks each recipient of real bounces against
// sisimai's expectation (or our documented deviation) and reports the
// agreement figure.
func TestBounceSisimaiCorpus(t *testing.T) {
	total, agree := 0, 0
	for _, c := range sisimaiCorpus {
		b, err := os.ReadFile(filepath.Join("testdata", "bounces-sisimai", c.file))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ParseBounce(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		got := map[string]string{}
		for _, r := range rep.Results {
			got[strings.ToLower(r.Recipient)] = r.Reason
		}
		for _, r := range rep.Delayed {
			got[strings.ToLower(r.Recipient)] = "delayed"
		}
		for _, w := range c.want {
			total++
			reason, ok := got[strings.ToLower(w.rcpt)]
			if !ok {
				reason = "absent"
			}
			want := w.reason
			if w.ours != "" {
				want = w.ours
			}
			if reason == w.reason {
				agree++
			}
			if reason != want {
				t.Errorf("%s (%s): %s: reason %q, want %q (kind %s, results %v)", c.file, c.src, w.rcpt, reason, want, rep.Kind, got)
			}
		}
		if len(got) > len(c.want) {
			t.Errorf("%s: %d recipients reported, want %d: %v", c.file, len(got), len(c.want), got)
		}
	}
	t.Logf("%d/%d recipients agree with sisimai's own expectations", agree, total)
}
