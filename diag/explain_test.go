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
