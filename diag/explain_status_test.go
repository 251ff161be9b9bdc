package diag

import (
	"sort"
	"strings"
	"testing"
)

// reasonFits lists, per bounce label, the registry rows (subject.detail)
// whose meaning that label's generic explanation and fix describe. A row
// explained with the generic text of a label that does not fit it needs an
// entry in statusAdvice instead.
var reasonFits = map[string][]string{
	BounceUserUnknown:    {"1.0", "1.1"},
	BounceHostUnknown:    {"1.2", "4.4"},
	BounceHasMoved:       {"1.6", "7.17", "7.18"},
	BounceRejected:       {"1.7", "1.8"},
	BounceNotAccept:      {"1.10"},
	BounceFiltered:       {"2.0", "2.1", "7.1"},
	BounceMailboxFull:    {"2.2"},
	BounceExceedLimit:    {"2.3"},
	BounceSystemError:    {"3.0", "3.5"},
	BounceSystemFull:     {"3.1", "4.5"},
	BounceMesgTooBig:     {"3.4", "7.16"},
	BounceNetworkError:   {"4.0", "4.1", "4.2", "4.4", "4.6", "4.8"}, // 4.4.4 is networkerror: "could not be routed"
	BounceExpired:        {"4.7"},
	BounceSyntaxError:    {"5.1", "5.2"},
	BounceContentError:   {"6.0", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8", "6.9", "6.10"},
	BounceSecurityError:  {"7.0", "7.1", "7.8", "7.9", "7.11", "7.12"},
	BounceFailedSTARTTLS: {"7.10", "7.30"},
	BounceSuspend:        {"2.1", "7.13"},
	BounceOnHold:         {"0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "7.0"},
	BounceAuthFailure:    {"7.20", "7.21", "7.22", "7.23", "7.24", "7.26", "7.29"},
	BounceRequirePTR:     {"7.25"},
}

// explainAllowed are rows whose explanation legitimately comes from
// elsewhere than the code: X.1.5 and X.3.6 are success statuses that make
// no sense in a failure; X.5.3 has its own "too many recipients" story
// (explainTooManyRecipients).
var explainAllowed = map[string]bool{"1.5": true, "3.6": true, "5.3": true}

// loginRows answer AUTH (RFC 4954 §6), not a message: a transient one tells
// the person at the mail program to log in again, as no server queues it.
var loginRows = map[string]bool{"7.8": true, "7.9": true, "7.11": true, "7.12": true}

// transientReply is the 4xx reply whose RFC 5321 §4.2.2 meaning fits a
// row's subject (RFC 3463 §3): 452 for storage and recipient limits, 450
// (mailbox unavailable) for address, mailbox and policy statuses, 451
// (local error) for system, network, protocol and content statuses.
// TestExplainTransientReplyCodes checks the other 4xx replies read alike.
func transientReply(key string) string {
	switch key {
	case "2.2", "2.3", "3.1", "3.4", "4.5", "5.3":
		return "452"
	}
	switch key[:strings.IndexByte(key, '.')] {
	case "1", "2", "7":
		return "450"
	}
	return "451"
}

// retryWords must not appear in a permanent fix: no server retries a 5xx.
var retryWords = []string{"keeps retrying", "your server retries", "usually temporary", "retries by itself", "sending server retries"}

// permanentWords must not appear in a transient fix: the sending server
// resends by itself, and a deferral is no verdict on the address.
var permanentWords = []string{"send again", "send the message again", "check the address for typos; if it is right", "remove it", "try again", "gave up"}

// TestExplainAgreesWithRegistryRow runs Explain on "5xx X.Y.Z <title>" and
// "4xx ..." for every row of the enhanced status code registry: the row's
// own title must not turn the code into another label, a specific code's
// label must win over wording patterns, and the meaning and fix must be
// either the code's own (statusAdvice, the registry entry) or the generic
// ones of a label that fits the row.
func TestExplainAgreesWithRegistryRow(t *testing.T) {
	fits := map[string]map[string]bool{}
	for r, rows := range reasonFits {
		fits[r] = map[string]bool{}
		for _, d := range rows {
			fits[r][d] = true
		}
	}
	var keys []string
	for k := range statusDetails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if explainAllowed[key] {
			continue
		}
		for _, class := range []string{"5", "4"} {
			code := class + "." + key
			reply := "550"
			if class == "4" {
				reply = transientReply(key)
			}
			line := reply + " " + code + " " + statusDetails[key]
			e := Explain(line)
			bare := Explain(code)
			if _, specific := codeReason(code); e.Reason != bare.Reason && specific {
				t.Errorf("%q: reason %q, but the bare code %s gives %q: the row's own title changed the reading", line, e.Reason, code, bare.Reason)
			}
			if class == "5" {
				low := strings.ToLower(e.Fix)
				for _, w := range retryWords {
					if strings.Contains(low, w) {
						t.Errorf("%q: a permanent code with a fix that promises a retry (%q): %q", line, w, e.Fix)
					}
				}
			}
			if b := Explain(reply + " " + code); b.Reason != bare.Reason || b.Meaning != bare.Meaning || b.Fix != bare.Fix || b.Fault != bare.Fault {
				t.Errorf("%s: bare code gives %q/%q/%q, %q gives %q/%q/%q", code, bare.Reason, bare.Fault, bare.Meaning, reply+" "+code, b.Reason, b.Fault, b.Meaning)
			}
			if class == "4" {
				checkTransient(t, line, key, e)
			}
			// A live 4.4.1 is no "expired" verdict (see fillExplanation).
			if want, specific := codeReason(code); want != "" && specific && e.Reason != want &&
				!(class == "4" && want == BounceExpired && e.Reason == BounceNetworkError) {
				t.Errorf("%q: reason %q, want the code's own %q", line, e.Reason, want)
			}
			// A registry title names no provider.
			if e.Provider != "" {
				t.Errorf("%q: attributed to %s (%s), but the text names no provider", line, e.Provider, e.ProviderRule)
			}
			if e.Reason == "" || e.Provider != "" {
				continue
			}
			info := reasonInfo(e.Reason, int(class[0]-'0'))
			generic := e.Meaning == info.explanation
			if generic && !fits[e.Reason][key] {
				t.Errorf("%q: explained with the generic text of %q (%q), which does not describe row %s %q; add it to statusAdvice",
					line, e.Reason, e.Meaning, key, statusDetails[key])
			}
			if generic != (e.Fix == info.fix) && !strings.HasPrefix(e.Meaning, "Greylisting") {
				t.Errorf("%q: meaning and fix come from different sources: meaning %q, fix %q", line, e.Meaning, e.Fix)
			}
			if a, ok := statusAdvice[key]; ok && e.Meaning != a.meaning {
				t.Errorf("%q: meaning %q, want the code's own %q", line, e.Meaning, a.meaning)
			}
		}
	}
}

// checkTransient: a 4xx reply is transient, its fix says the sending server
// retries by itself and what to check if it persists, never a permanent
// remedy.
func checkTransient(t *testing.T, line, key string, e Explanation) {
	t.Helper()
	if e.Outcome != "transient" || e.Permanent {
		t.Errorf("%q: outcome %q permanent %v, want transient", line, e.Outcome, e.Permanent)
	}
	if loginRows[key] {
		return
	}
	if !strings.Contains(e.Fix, "retries by itself") || !strings.Contains(e.Fix, "persists") {
		t.Errorf("%q: fix %q does not say the sending server retries by itself and what to check if it persists", line, e.Fix)
	}
	low := strings.ToLower(e.Fix + " " + e.Meaning)
	for _, w := range permanentWords {
		if strings.Contains(low, w) {
			t.Errorf("%q: transient code with a permanent fix or meaning (%q): %q / %q", line, w, e.Meaning, e.Fix)
		}
	}
	if strings.Contains(strings.ToLower(e.Meaning), "does not exist") && !strings.Contains(e.Meaning, "no verdict") {
		t.Errorf("%q: a transient code read as a final verdict: %q", line, e.Meaning)
	}
}

// The tester's cases, word for word.
func TestExplainSpecificCodes(t *testing.T) {
	for _, c := range []struct {
		in, fault, outcome, wantMeaning, notMeaning, wantFix, notFix string
	}{
		{"421 4.3.2 Service shutting down", "recipient-server", "transient", "shutting down", "null MX", "retries", "check the address"},
		{"4.3.2", "recipient-server", "transient", "shutting down", "null MX", "retries", "check the address"},
		{"555 5.5.4 MAIL FROM parameter FOO not recognized", "client", "permanent", "parameter", "internal error", "EHLO", "try again later"},
		{"5.5.4", "client", "permanent", "parameter", "internal error", "EHLO", "try again later"},
		{"550 5.1.3 Bad recipient address syntax", "sender", "permanent", "syntax", "does not exist", "typo", "account was closed"},
		// X.7.27 is the sender's null MX, not the recipient's domain.
		{"550 5.7.27 Sender address has null MX", "sender", "permanent", "sender's domain", "destination host", "Send from an address", "reach the person"},
		{"450 4.7.27 Sender address has null MX", "sender", "transient", "sender's domain", "destination host", "retries by itself", "reach the person"},
		// X.7.28 is a flood of messages, not one message's content.
		{"550 5.7.28 Mail flood detected", "sender-server", "permanent", "flood", "content filter", "more slowly", "try again"},
		// A transient X.1.1 is no verdict that the mailbox does not exist.
		{"450 4.1.1 Bad destination mailbox address", "recipient-server", "transient", "right now", "mailbox does not exist", "retries by itself", "account was closed"},
		{"4.1.1", "recipient-server", "transient", "right now", "mailbox does not exist", "retries by itself", "account was closed"},
	} {
		e := Explain(c.in)
		if e.Fault != c.fault || e.Outcome != c.outcome {
			t.Errorf("%q: fault %q outcome %q, want %q %q", c.in, e.Fault, e.Outcome, c.fault, c.outcome)
		}
		if !strings.Contains(e.Meaning, c.wantMeaning) || strings.Contains(e.Meaning, c.notMeaning) {
			t.Errorf("%q: meaning %q, want %q and not %q", c.in, e.Meaning, c.wantMeaning, c.notMeaning)
		}
		if !strings.Contains(e.Fix, c.wantFix) || strings.Contains(strings.ToLower(e.Fix), c.notFix) {
			t.Errorf("%q: fix %q, want %q and not %q", c.in, e.Fix, c.wantFix, c.notFix)
		}
	}
}

// "Too many connections" is about connections only; "too many recipients"
// keeps sisimai's label (toomanyconn, its text rule) with its own story.
func TestExplainTooManyConnections(t *testing.T) {
	e := Explain("421 4.7.0 Too many connections")
	if e.Reason != BounceTooManyConn || strings.Contains(e.Meaning, "recipients") {
		t.Errorf("too many connections: reason %q meaning %q", e.Reason, e.Meaning)
	}
	e = Explain("452 4.5.3 Too many recipients")
	if e.Reason != BounceTooManyConn || !strings.Contains(e.Meaning, "recipients") || e.Outcome != "transient" {
		t.Errorf("too many recipients: %+v", e)
	}
}

// TestExplainTransientReplyCodes: every 4xx reply that can carry a
// transient enhanced code reads the row the same way; only a 454 about a
// login (RFC 4954 §6) tells the login's own story. Wording such as
// "authorized" or "author-matched" in a row's title is no login.
func TestExplainTransientReplyCodes(t *testing.T) {
	var keys []string
	for k := range statusDetails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if explainAllowed[key] {
			continue
		}
		want := Explain(transientReply(key) + " 4." + key + " " + statusDetails[key])
		for _, reply := range []string{"421", "450", "451", "452", "454"} {
			if reply == "454" && (loginRows[key] || key == "5.6") {
				continue
			}
			line := reply + " 4." + key + " " + statusDetails[key]
			e := Explain(line)
			checkTransient(t, line, key, e)
			if e.Reason != want.Reason || e.Meaning != want.Meaning || e.Fix != want.Fix {
				t.Errorf("%q: reason %q meaning %q, but under %s: %q %q", line, e.Reason, e.Meaning, transientReply(key), want.Reason, want.Meaning)
			}
		}
	}
}

// successTitles are the registry rows whose own title reads as a success
// (RFC 3463 §3: X.1.5 "Destination address valid", X.6.4 a delivery with a
// lossy conversion, X.3.6 a changed priority) or says nothing either way
// ("Other or undefined ..."); every other title names a failure.
var successTitles = map[string]bool{"0.0": true, "1.0": true, "1.5": true, "2.0": true, "3.0": true, "3.6": true, "4.0": true, "5.0": true, "6.4": true, "7.0": true}

// TestExplainSuccessCodes runs Explain on "250 2.Y.Z <title>" and the bare
// 2.Y.Z for every registry row: class 2 is success (RFC 3463 §2), so the
// outcome is success with nobody at fault and nothing to fix, and a row
// whose title names a failure is not read as that failure.
func TestExplainSuccessCodes(t *testing.T) {
	var keys []string
	for k := range statusDetails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		code := "2." + key
		for _, in := range []string{"250 " + code + " " + statusDetails[key], code} {
			e := Explain(in)
			if e.Outcome != "success" || e.Permanent || e.Fault != "none" || e.Reason != "" || e.Provider != "" {
				t.Errorf("%q: outcome %q permanent %v fault %q reason %q provider %q, want a success", in, e.Outcome, e.Permanent, e.Fault, e.Reason, e.Provider)
			}
			if !strings.HasPrefix(e.NextStep, "Nothing") || e.Fix != "" {
				t.Errorf("%q: next step %q fix %q, want nothing to do", in, e.NextStep, e.Fix)
			}
			if successTitles[key] {
				continue
			}
			if strings.Contains(e.Meaning, statusDetails[key]) || !strings.Contains(strings.ToLower(e.Meaning), "success") && !strings.Contains(e.Meaning, "completed") {
				t.Errorf("%q: meaning %q reads the failure row %q, want a success", in, e.Meaning, statusDetails[key])
			}
			for _, d := range e.Details {
				if strings.HasPrefix(d, code+" "+statusDetails[key]) {
					t.Errorf("%q: detail %q titles a success with the failure row", in, d)
				}
			}
		}
	}
}

// TestExplainBareCodeClass: a bare X.Y.Z is read by its class alone, for
// every registry row: 4.Y.Z is transient and 5.Y.Z permanent (RFC 3463 §2).
func TestExplainBareCodeClass(t *testing.T) {
	for key := range statusDetails {
		if e := Explain("4." + key); e.Outcome != "transient" || e.Permanent {
			t.Errorf("4.%s: outcome %q permanent %v, want transient", key, e.Outcome, e.Permanent)
		}
		if e := Explain("5." + key); e.Outcome != "permanent" || !e.Permanent {
			t.Errorf("5.%s: outcome %q permanent %v, want permanent", key, e.Outcome, e.Permanent)
		}
	}
}
