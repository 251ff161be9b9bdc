package diag

import (
	"strings"
	"testing"
)

// Real rejection lines of the providers whose wording the providers table
// and the login story know: meaning, next step, fix and fault must tell the
// story of the text, also where the code formally means something else
// (Yahoo's 554 5.7.9 is no weak AUTH mechanism; RFC 3207's 530 5.7.0 asks
// for STARTTLS, not for a login).
func TestExplainTextDecidesOverCode(t *testing.T) {
	cases := []struct {
		in     string
		reason string
		fault  string
		want   []string // in meaning + next step + fix
		not    []string // in meaning + next step + fix
	}{
		{"530 5.7.0 Must issue a STARTTLS command first", BounceFailedSTARTTLS, "client",
			[]string{"STARTTLS", "SSL/TLS", "RFC 3207"}, []string{"Turn on SMTP authentication", "log in first"}},
		{"530-5.7.0 Must issue a STARTTLS command first. d2si123 - gsmtp", BounceFailedSTARTTLS, "client",
			[]string{"STARTTLS", "SSL/TLS"}, []string{"Turn on SMTP authentication"}},
		{"530 5.7.0 Authentication required", BounceSecurityError, "client",
			[]string{"Turn on SMTP authentication"}, []string{"STARTTLS first"}},
		{"554 5.7.9 Message not accepted for policy reasons.", BouncePolicyViolation, "sender-server",
			[]string{"Yahoo", "policy", "DMARC"}, []string{"too weak", "authentication method", "login"}},
		{"554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes", BouncePolicyViolation, "sender-server",
			[]string{"policy"}, []string{"too weak", "authentication method"}},
		{"550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.", BounceAuthFailure, "sender-server",
			[]string{"SPF", "DKIM"}, []string{"too weak", "authentication method", "log in"}},
		// Not Yahoo: the text still decides over the AUTH-only code.
		{"550 5.7.9 Message rejected by local policy", BouncePolicyViolation, "sender",
			[]string{"policy"}, []string{"too weak", "authentication method", "log in"}},
		{"534-5.7.9 Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor gsmtp", BounceSecurityError, "client",
			[]string{"app password"}, []string{"too weak", "Choose another authentication method"}},
		{"534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and then try again. gsmtp", BounceSecurityError, "client",
			[]string{"web browser"}, []string{"too weak", "Choose another authentication method", "trust relationship"}},
		{"534 5.7.9 Authentication mechanism is too weak", BounceSecurityError, "client",
			[]string{"too weak", "another authentication method"}, nil},
		{"454 4.7.0 Too many login attempts, please try again later. gsmtp", BounceSecurityError, "server",
			[]string{"log in again"}, []string{"unsolicited", "Postmaster Tools", "spam complaints"}},
		{"421 4.7.1 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes", BounceBlocked, "sender-server",
			[]string{"Yahoo", "will not succeed"}, []string{"Keep retrying"}},
		{"421 4.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes", BounceBlocked, "sender-server",
			[]string{"Yahoo", "will not succeed"}, []string{"Keep retrying"}},
		{"550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrator for further assistance. AS(7555)", BouncePolicyViolation, "sender-server",
			[]string{"forwarding"}, []string{"banned", "Log in to your submission server"}},
		{"550 5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant and include a valid From address. [x.prod.outlook.com]", BounceNotCompliantRFC, "sender",
			[]string{"From"}, []string{"banned"}},
		{"550 5.7.511 Access denied, banned sender[192.0.2.1]. To request removal from this list please forward this message to delist@microsoft.com.", BounceBlocked, "sender-server",
			[]string{"delist"}, nil},
		{"550 5.7.60 SMTP; Client does not have permissions to send as this sender", BounceSecurityError, "sender",
			[]string{"Send As"}, []string{"Log in to your submission server"}},
		{"554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@example.com", BounceRejected, "sender",
			[]string{"Amazon SES", "verif"}, nil},
		{"530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful", BounceSecurityError, "client",
			[]string{"Microsoft 365", "SMTP AUTH"}, nil},
	}
	for _, c := range cases {
		e := Explain(c.in)
		all := e.Meaning + "\n" + e.NextStep + "\n" + e.Fix
		bad := e.Reason != c.reason || e.Fault != c.fault
		for _, w := range c.want {
			bad = bad || !strings.Contains(all, w)
		}
		for _, w := range c.not {
			bad = bad || strings.Contains(all, w)
		}
		if bad {
			t.Errorf("Explain(%q): reason %q fault %q (want %q %q), want %q, not %q\nmeaning: %s\nnext: %s\nfix: %s",
				c.in, e.Reason, e.Fault, c.reason, c.fault, c.want, c.not, e.Meaning, e.NextStep, e.Fix)
		}
	}
}

// Where the text overrides an AUTH-only code, the code's formal meaning
// is still mentioned, after the text's.
func TestExplainMentionsFormalMeaning(t *testing.T) {
	for _, in := range []string{"554 5.7.9 Message not accepted for policy reasons.", "550 5.7.9 Message rejected by local policy", "530 5.7.0 Must issue a STARTTLS command first"} {
		e := Explain(in)
		d := strings.Join(e.Details, "\n")
		if !strings.Contains(d, "Formally") {
			t.Errorf("Explain(%q): details lack the formal meaning: %q", in, e.Details)
		}
	}
}
