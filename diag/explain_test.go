package diag

import (
	"strings"
	"testing"
)

func TestExplainKinds(t *testing.T) {
	cases := []struct {
		in, kind, reason, outcome, provider string
		reply                               int
		status                              string
	}{
		{"550", "reply-code", "", "permanent", "", 550, ""},
		{"421", "reply-code", "", "transient", "", 421, ""},
		{"250", "reply-code", "", "success", "", 250, ""},
		{"4.2.2", "enhanced-code", BounceMailboxFull, "transient", "", 0, "4.2.2"},
		{"550 5.7.1 <x@y>: Relay access denied", "reply-line", BounceNoRelaying, "permanent", "", 550, "5.7.1"},
		{"550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked.\n550 5.7.26 gsmtp", "reply-line", BounceAuthFailure, "permanent", "Gmail", 550, "5.7.26"},
		{"550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", "reply-line", BounceBlocked, "permanent", "Microsoft", 550, "5.7.708"},
		{"550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM.prod.outlook.com]", "reply-line", BounceUserUnknown, "permanent", "Microsoft", 550, "5.4.1"},
		{"550 5.7.606 Access denied, banned sending IP [192.0.2.1]", "reply-line", BounceBlocked, "permanent", "Microsoft", 550, "5.7.606"},
		{"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints", "reply-line", BounceBlocked, "transient", "Yahoo", 421, "4.7.0"},
		{"554 5.7.9 Message not accepted for policy reasons. See https://help.yahoo.com", "reply-line", BouncePolicyViolation, "permanent", "Yahoo", 554, "5.7.9"},
		{"550 5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup - gsmtp", "reply-line", BounceRequirePTR, "permanent", "Gmail", 550, "5.7.25"},
		{"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "reply-line", BounceBlocked, "permanent", "Spamhaus", 554, "5.7.1"},
		{"550 5.7.1 Mail from 192.0.2.1 refused by b.barracudacentral.org", "reply-line", BounceBlocked, "permanent", "Barracuda", 550, "5.7.1"},
		{"Diagnostic-Code: smtp; 550 5.1.1 <a@b>: Recipient address rejected: User unknown", "diagnostic-code", BounceUserUnknown, "permanent", "", 550, "5.1.1"},
		{"Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection timed out", "diagnostic-code", BounceNetworkError, "transient", "", 0, ""},
	}
	for _, c := range cases {
		e := Explain(c.in)
		if e.Kind != c.kind || e.Reason != c.reason || e.Outcome != c.outcome || e.Provider != c.provider || e.ReplyCode != c.reply || e.EnhancedCode != c.status {
			t.Errorf("Explain(%q) = kind %q reason %q outcome %q provider %q reply %d status %q; want %q %q %q %q %d %q",
				c.in, e.Kind, e.Reason, e.Outcome, e.Provider, e.ReplyCode, e.EnhancedCode, c.kind, c.reason, c.outcome, c.provider, c.reply, c.status)
		}
		if e.Meaning == "" || len(e.Refs) == 0 && c.kind != "diagnostic-code" {
			t.Errorf("Explain(%q): empty meaning or no references: %+v", c.in, e)
		}
	}
}

func TestExplainNextStepAndFix(t *testing.T) {
	e := Explain("452 4.2.2 Mailbox full")
	if !strings.Contains(e.NextStep, "retries") || e.Permanent || e.Fix == "" || e.Fault != "recipient" {
		t.Errorf("transient mailbox full: %+v", e)
	}
	e = Explain("550 5.1.1 no such user")
	if !e.Permanent || !strings.Contains(e.NextStep, "does not retry") || e.Fault != "sender" {
		t.Errorf("permanent unknown user: %+v", e)
	}
}

func TestExplainPOP3(t *testing.T) {
	e := Explain("-ERR [AUTH] invalid password")
	if e.Kind != "pop3" || e.Fault != "client" || !e.Permanent || !strings.Contains(strings.Join(e.Refs, " "), "RFC 3206") {
		t.Errorf("pop3 auth: %+v", e)
	}
	e = Explain("-ERR [SYS/TEMP] try later")
	if e.Permanent || e.Fault != "server" {
		t.Errorf("pop3 sys/temp: %+v", e)
	}
	if e := Explain("+OK 2 messages"); e.Outcome != "success" {
		t.Errorf("+OK: %+v", e)
	}
}

func TestExplainNeverEmpty(t *testing.T) {
	for _, in := range []string{"", "hello", "999", "9.9.9", "5.99.99", strings.Repeat("x", 100000), "550-", "-ERR", "Diagnostic-Code:"} {
		e := Explain(in)
		if e.Meaning == "" || e.Kind == "" {
			t.Errorf("Explain(%.20q) has no meaning/kind: %+v", in, e)
		}
	}
}

func TestFindEnhancedCodeSkipsIPs(t *testing.T) {
	if got := findEnhancedCode("connect to 5.1.1.2 failed"); got != "" {
		t.Errorf("IP taken as status: %q", got)
	}
	if got := findEnhancedCode("said: 550 5.1.1 <x>"); got != "5.1.1" {
		t.Errorf("got %q", got)
	}
}

// Greylisting is a deliberate, temporary deferral: the sending server
// retries by itself and nobody has anything to fix (RFC 6647). Its wording
// must beat the generic meanings of the codes it comes with (4.2.0, 4.7.1).
func TestExplainGreylisting(t *testing.T) {
	for _, in := range []string{
		"450 4.2.0 <x@y>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/",
		"451 4.7.1 Greylisted, please try again",
		"450 4.7.1 <a@example.org>: Recipient address rejected: Greylisted for 300 seconds (see http://isg.ee.ethz.ch/tools/postgrey/help/example.org.html)",
		"451 4.7.1 Greylisting in action, please come back in 00:05:00",
		"451 4.7.1 Please try again later (greylisted)",
		"450 4.2.1 Mailbox temporarily unavailable - graylisted",
		"Diagnostic-Code: smtp; 450 4.7.1 Service unavailable - greylisted, try again later",
		"451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451",
		"451 Message temporarily deferred - [160]",
	} {
		e := Explain(in)
		if e.Outcome != "transient" || e.Permanent || e.Reason == BounceUserUnknown || e.Reason == BounceBlocked ||
			!strings.Contains(strings.ToLower(e.Meaning), "greylist") || !strings.Contains(e.NextStep, "retries by itself") ||
			!strings.Contains(e.Fix, "Nothing to fix") || e.Fault != "none" || !strings.Contains(strings.Join(e.Refs, " "), "RFC 6647") {
			t.Errorf("Explain(%q):\n%+v", in, e)
		}
	}
	// Generic "try again later" wording on a 4xx without a more specific
	// cause: a temporary deferral the server retries by itself.
	for _, in := range []string{"451 Temporarily deferred, please retry", "450 Try again later", "451 4.3.0 Mail server temporarily rejected message."} {
		e := Explain(in)
		if e.Outcome != "transient" || !strings.Contains(e.NextStep, "retries by itself") || strings.Contains(e.Fix, "delisting") || e.Reason == BounceUserUnknown {
			t.Errorf("Explain(%q):\n%+v", in, e)
		}
	}
	// Specific causes still win over the generic deferral wording.
	if e := Explain("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints"); e.Provider != "Yahoo" || e.Reason != BounceBlocked {
		t.Errorf("Yahoo TSS04: %+v", e)
	}
	if e := Explain("452 4.2.2 Mailbox full, try again later"); e.Reason != BounceMailboxFull {
		t.Errorf("mailbox full: %+v", e)
	}
}

// Input that is no reply, code or known wording is not "explained".
func TestExplainRejectsNonReplies(t *testing.T) {
	for _, in := range []string{"999", "hello world", "9.9.9", "199", "--bogus-flag", "x"} {
		if e := Explain(in); e.Kind != KindUnrecognised || e.Reason != "" || e.Outcome != "unknown" {
			t.Errorf("Explain(%q) = %+v", in, e)
		}
	}
	for _, in := range []string{"User unknown", "Connection timed out", "550", "5.7.26", "Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection timed out"} {
		if e := Explain(in); e.Kind == KindUnrecognised {
			t.Errorf("Explain(%q) refused: %+v", in, e)
		}
	}
	if e := Explain("hello"); e.Refs == nil {
		t.Error("Refs is nil: JSON would say null")
	}
}

// 452 4.5.3: too many recipients in one transaction. RFC 5321
// §4.5.3.1.10 and RFC 3463 X.5.3: the client sends the remaining
// recipients in another transaction, right away; it is no size limit.
func TestExplainTooManyRecipients(t *testing.T) {
	for _, in := range []string{"452 4.5.3 Too many recipients", "452 Too many recipients", "4.5.3", "552 5.5.3 Too many recipients"} {
		e := Explain(in)
		if e.Reason != BounceTooManyConn || strings.Contains(e.Meaning, "size") || strings.Contains(e.NextStep, "retries later") ||
			!strings.Contains(e.NextStep, "another transaction") || !strings.Contains(strings.Join(e.Refs, " "), "RFC 5321 §4.5.3.1.10") {
			t.Errorf("Explain(%q):\n%+v", in, e)
		}
	}
}

// A login failure is not a bounce: nothing is returned to a sender.
func TestExplainAuthFailureIsNoBounce(t *testing.T) {
	for _, in := range []string{"535 5.7.8 Authentication credentials invalid", "535", "5.7.8", "534 5.7.9 Authentication mechanism is too weak", "530 5.7.0 Authentication required", "538 5.7.11 Encryption required"} {
		e := Explain(in)
		if strings.Contains(e.NextStep, "returns a bounce") || strings.Contains(e.NextStep, "DSN") || e.Fault != "client" ||
			!strings.Contains(e.NextStep, "login") {
			t.Errorf("Explain(%q):\n%+v", in, e)
		}
	}
	if e := Explain("454 4.7.0 Temporary authentication failure"); strings.Contains(e.NextStep, "keeps the message in its queue") || e.Outcome != "transient" {
		t.Errorf("454: %+v", e)
	}
	// A syntax error answers one command; nothing is queued or bounced.
	if e := Explain("503 5.5.1 Bad sequence of commands"); strings.Contains(e.NextStep, "returns a bounce") || strings.Contains(e.NextStep, "queue and retries") {
		t.Errorf("503: %+v", e)
	}
}

// Gmail words its rate limit over several lines; the first line alone
// (what a log often keeps) must still be recognised.
func TestExplainGmailMultiLine(t *testing.T) {
	for _, in := range []string{
		"421-4.7.28 [192.0.2.1 15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit",
		"421-4.7.28 [192.0.2.1 15] Our system has detected an unusual rate of\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\n421 4.7.28 rate limited. d2si123 - gsmtp",
		"452-4.2.2 The email account that you tried to reach is over quota. Please direct",
	} {
		if e := Explain(in); e.Provider != "Gmail" || e.Outcome != "transient" {
			t.Errorf("Explain(%q): %+v", in, e)
		}
	}
}

func FuzzExplain(f *testing.F) {
	for _, s := range []string{"550", "5.7.26", "452 4.5.3 Too many recipients", "451 4.7.1 Greylisted", "-ERR [IN-USE] x", "Diagnostic-Code: smtp; 550 5.1.1 x", "421-4.7.28 a\n421 4.7.28 b gsmtp", "535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Explain(s)
		if e.Meaning == "" || e.Kind == "" || e.Refs == nil {
			t.Fatalf("Explain(%q) = %+v", s, e)
		}
	})
}

// A live 4xx reply with a routing code has not "expired": only a bounce
// after days of retries says that.
func TestExplainLiveRoutingCodeIsNotExpired(t *testing.T) {
	if e := Explain("451 4.4.1 No answer from host"); e.Reason == BounceExpired || e.Outcome != "transient" {
		t.Errorf("451 4.4.1: %+v", e)
	}
	if e := Explain("Diagnostic-Code: smtp; 451 4.4.1 No answer from host"); e.Reason != BounceExpired {
		t.Errorf("in a DSN: %+v", e)
	}
	if e := Explain("451 4.4.7 Message expired, retry timeout exceeded"); e.Reason != BounceExpired {
		t.Errorf("says expired: %+v", e)
	}
}

// A POP3 -ERR after login or after a malformed command is no login failure.
func TestExplainPOP3SequenceAndSyntax(t *testing.T) {
	if e := Explain("-ERR already authenticated"); strings.Contains(e.Fix, "password") || !strings.Contains(strings.Join(e.Details, " "), "AUTHORIZATION") {
		t.Errorf("already authenticated: %+v", e)
	}
	if e := Explain("-ERR invalid command syntax"); !strings.Contains(e.Fix, "TOP 1 10") {
		t.Errorf("syntax: %+v", e)
	}
	if e := Explain("-ERR invalid password"); !strings.Contains(e.Fix, "password") {
		t.Errorf("password: %+v", e)
	}
}

// Microsoft's throttling replies name no product, only their (ASnnn) or
// (Snnnn) rule: "Server busy" is Microsoft's rate limit, not greylisting.
func TestExplainMicrosoftThrottling(t *testing.T) {
	for _, in := range []string{
		"451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS761)",
		"451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.",
	} {
		if e := Explain(in); e.Provider != "Microsoft" || e.Outcome != "transient" {
			t.Errorf("Explain(%q): %+v", in, e)
		}
	}
}
