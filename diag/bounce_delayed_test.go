package diag

import (
	"strings"
	"testing"
)

// delayedDSN is an RFC 3464 report with one "Action: delayed" recipient.
func delayedDSN(status, diagnostic string) string {
	d := ""
	if diagnostic != "" {
		d = "Diagnostic-Code: smtp; " + diagnostic + "\r\n"
	}
	return "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification (Delay)\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nstill trying\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; b@example.com\r\nAction: delayed\r\nStatus: " + status + "\r\n" + d + "\r\n--b--\r\n"
}

// A delayed recipient (RFC 3464 §2.3.3) is still queued and retried: its
// fix says so and never carries a permanent failure's advice (send again,
// check the address), whatever reason the code or text gives.
func TestBounceDelayedFixIsTransient(t *testing.T) {
	cases := []struct {
		reason, status, diag string
	}{
		{BounceNetworkError, "4.4.2", "421 4.4.2 Connection timed out"},
		{BounceNetworkError, "4.4.1", ""},
		{BounceMailboxFull, "4.2.2", "452 4.2.2 Mailbox full"},
		{BounceExceedLimit, "4.2.3", "452 4.2.3 Message exceeds the mailbox size limit"},
		{BounceSystemFull, "4.3.1", "452 4.3.1 Insufficient system storage"},
		{BounceSystemFull, "4.4.5", "451 4.4.5 System congestion"},
		{BounceSystemError, "4.3.5", "451 4.3.5 Local configuration error"},
		{BounceBlocked, "4.7.1", "421 4.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"},
		{BounceNotAccept, "4.3.2", "421 4.3.2 Service shutting down"},
		{BounceHasMoved, "4.1.6", "450 4.1.6 Mailbox has moved"},
		{BounceRejected, "4.1.8", "450 4.1.8 <a@example.org>: Sender address rejected: Domain not found"},
		{BounceFiltered, "4.2.4", "450 4.2.4 Mailing list expansion problem"},
		{BounceTooManyConn, "4.5.3", "452 4.5.3 Too many connections"},
		{BounceContentError, "4.6.0", "451 4.6.0 Content conversion failed"},
		{BounceSecurityError, "4.7.5", "454 4.7.5 Cryptographic failure"},
		{BounceAuthFailure, "4.7.26", "451 4.7.26 Unauthenticated mail is temporarily rate limited"},
		{BounceRequirePTR, "4.7.25", "450 4.7.25 Client host rejected: cannot find your hostname"},
		{BounceOnHold, "4.0.0", ""},
		{BounceUserUnknown, "4.1.1", "450 4.1.1 <b@example.com>: Recipient address rejected: User unknown in local recipient table"},
		{BounceHostUnknown, "4.4.3", "451 4.4.3 Host or domain name not found. Name service error"},
		{BounceSpeeding, "4.7.0", "421 4.7.0 Too many messages, rate limit exceeded, slow down"},
		{BounceSpamDetected, "4.7.0", "451 4.7.0 Message rejected as spam"},
		{BounceMesgTooBig, "4.3.4", "452 4.3.4 Message size exceeds fixed limit"},
		{BounceSuspend, "4.7.0", "451 4.7.0 Account suspended"},
		{BounceVirusDetected, "4.7.0", "451 4.7.0 Virus found in message"},
		{BounceTooManyConn, "4.5.0", "451 4.5.0 Too many connections from your IP"},
		{BounceFailedSTARTTLS, "4.7.0", "450 4.7.0 Must issue a STARTTLS command first"},
		{BounceNoRelaying, "4.7.1", "450 4.7.1 Relaying denied"},
	}
	bad := []string{"send again", "send it again", "try again", "check the address"}
	for _, c := range cases {
		rep, err := ParseBounce(strings.NewReader(delayedDSN(c.status, c.diag)))
		if err != nil || len(rep.Delayed) != 1 || len(rep.Results) != 0 {
			t.Fatalf("%s %s: %v %+v", c.reason, c.status, err, rep)
		}
		d := rep.Delayed[0]
		if d.Reason != c.reason {
			t.Errorf("%s %q: reason %s, want %s", c.status, c.diag, d.Reason, c.reason)
		}
		fix := strings.ToLower(d.Fix)
		// The advice after the common lead (which itself says "do not
		// send it again") is the reason's own.
		_, own, ok := strings.Cut(fix, "after a day or so: ")
		if !ok {
			t.Errorf("%s (%s): no check after the wait advice: %s", c.reason, c.status, d.Fix)
		}
		for _, w := range bad {
			// A deferred unknown user is no verdict on the address, so
			// checking it for typos is the right thing if it persists.
			if c.reason == BounceUserUnknown && w == "check the address" {
				continue
			}
			if strings.Contains(own, w) {
				t.Errorf("%s (%s): delayed fix says %q: %s", c.reason, c.status, w, d.Fix)
			}
		}
		if !strings.HasPrefix(d.Fix, "Wait") || !strings.Contains(fix, "retries by itself") || !strings.Contains(fix, "do not send it again") {
			t.Errorf("%s (%s): delayed fix does not say the server retries: %s", c.reason, c.status, d.Fix)
		}
		if strings.Count(fix, "retries") != 1 {
			t.Errorf("%s (%s): the retry advice is repeated: %s", c.reason, c.status, d.Fix)
		}
		if d.HardBounce {
			t.Errorf("%s (%s): a delayed recipient counted as a hard bounce", c.reason, c.status)
		}
	}
}
