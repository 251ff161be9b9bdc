package diag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rfc6591Example is RFC 6591 Appendix B's auth-failure report.
const rfc6591Example = "arf-authfailure-rfc6591.eml"

func readBounceFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseString(t *testing.T, s string) BounceResult {
	t.Helper()
	rep, err := ParseBounce(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "feedback" || rep.Format != "arf" || len(rep.Results) != 1 {
		t.Fatalf("kind %q format %q results %+v; want one arf feedback result", rep.Kind, rep.Format, rep.Results)
	}
	return rep.Results[0]
}

// complaintWords are the spam-complaint story, wrong for any report that
// is no abuse report (QA: auth-failure told to unsubscribe the recipient).
var complaintWords = []string{"marked a message as spam", "complained", "unsubscribe"}

func checkNoComplaint(t *testing.T, name string, r BounceResult) {
	t.Helper()
	for _, w := range complaintWords {
		if strings.Contains(r.Explanation+" "+r.Fix, w) {
			t.Errorf("%s: %q in\n  meaning: %s\n  fix: %s", name, w, r.Explanation, r.Fix)
		}
	}
}

func wantIn(t *testing.T, name, field, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %s lacks %q:\n  %s", name, field, w, got)
		}
	}
}

// TestBounceAuthFailureRFC6591: the RFC's own example is a DKIM body-hash
// failure of example.net (selector testkey, from the attached
// DKIM-Signature), explained as such, with a DKIM fix.
func TestBounceAuthFailureRFC6591(t *testing.T) {
	r := parseString(t, readBounceFixture(t, rfc6591Example))
	if r.Recipient != "user@example.com" || r.Reason != BounceFeedback || r.FeedbackType != "auth-failure" {
		t.Errorf("recipient %q reason %q type %q", r.Recipient, r.Reason, r.FeedbackType)
	}
	checkNoComplaint(t, rfc6591Example, r)
	wantIn(t, rfc6591Example, "meaning", r.Explanation, "authentication failure report", "RFC 6591 §3", "body hash", "example.net", "selector testkey", "does not say what the receiver did")
	wantIn(t, rfc6591Example, "fix", r.Fix, "DKIM", "relaxed")
	wantIn(t, rfc6591Example, "diagnostic", r.Diagnostic, "Feedback-Type: auth-failure", "Auth-Failure: bodyhash", "DKIM-Domain: example.net")
}

// TestBounceAuthFailureVariants: each Auth-Failure and Delivery-Result
// value of RFC 6591 §3 changes the story and the fix.
func TestBounceAuthFailureVariants(t *testing.T) {
	base := readBounceFixture(t, rfc6591Example)
	cases := []struct {
		name, fields         string
		meaning, fix, notFix []string
	}{
		{"signature+selector+reject", "Auth-Failure: signature\nDKIM-Selector: sel1\nDelivery-Result: reject",
			[]string{"did not verify", "selector sel1", "rejected the message"}, []string{"sel1._domainkey.example.net", "public key"}, nil},
		{"revoked", "Auth-Failure: revoked\nDelivery-Result: policy",
			[]string{"revoked", "local policy"}, []string{"testkey._domainkey.example.net"}, nil},
		{"spf+spam", "Auth-Failure: spf\nSPF-DNS: txt : example.net : v=spf1 -all\nDelivery-Result: spam",
			[]string{"SPF failed", "SPF domain example.net, sending IP 192.0.2.1", "spam folder"}, []string{"include 192.0.2.1 in the SPF record of example.net"}, []string{"DKIM"}},
		{"dmarc", "Auth-Failure: dmarc\nDelivery-Result: delivered",
			[]string{"DMARC failed", "delivered the message anyway"}, []string{"align the From domain example.net"}, nil},
		{"adsp", "Auth-Failure: adsp",
			[]string{"ADSP"}, []string{"historic"}, nil},
	}
	for _, c := range cases {
		in := strings.Replace(base, "Auth-Failure: bodyhash", c.fields, 1)
		r := parseString(t, in)
		checkNoComplaint(t, c.name, r)
		wantIn(t, c.name, "meaning", r.Explanation, c.meaning...)
		wantIn(t, c.name, "fix", r.Fix, c.fix...)
		for _, w := range c.notFix {
			if strings.Contains(r.Fix, w) {
				t.Errorf("%s: fix names %q: %s", c.name, w, r.Fix)
			}
		}
	}
}

// TestBounceFeedbackTypes: each registered Feedback-Type (RFC 5965 §7.3,
// RFC 6430) gets its own explanation; only abuse is a complaint.
func TestBounceFeedbackTypes(t *testing.T) {
	base := readBounceFixture(t, "arf.eml")
	for ft, want := range map[string]string{
		"fraud":    "fraud or phishing",
		"virus":    "virus",
		"not-spam": "NOT spam",
		"other":    "type other",
		"x-custom": "unregistered type (x-custom",
	} {
		r := parseString(t, strings.Replace(base, "Feedback-Type: abuse", "Feedback-Type: "+ft, 1))
		if r.FeedbackType != ft {
			t.Errorf("%s: feedback_type %q", ft, r.FeedbackType)
		}
		checkNoComplaint(t, ft, r)
		wantIn(t, ft, "meaning", r.Explanation, want)
	}
	r := parseString(t, base)
	if r.FeedbackType != "abuse" || !strings.Contains(r.Explanation, "marked a message as spam") || !strings.Contains(r.Fix, "Stop mailing the person who complained") {
		t.Errorf("abuse: type %q meaning %q fix %q", r.FeedbackType, r.Explanation, r.Fix)
	}
}

// TestBounceAuthFailureCorpus: sisimai's arf-19 is a DKIM auth-failure
// report (no Auth-Failure field; Authentication-Results says dkim=fail)
// that the receiver delivered.
func TestBounceAuthFailureCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "bounces-sisimai", "arf-19.eml"))
	if err != nil {
		t.Fatal(err)
	}
	r := parseString(t, string(b))
	if r.Recipient != "kijitora@example.org" || r.FeedbackType != "auth-failure" {
		t.Errorf("recipient %q type %q", r.Recipient, r.FeedbackType)
	}
	checkNoComplaint(t, "arf-19", r)
	wantIn(t, "arf-19", "meaning", r.Explanation, "DKIM failed", "ietf.org, example.net", "reported domain example.net", "delivered the message anyway")
	wantIn(t, "arf-19", "fix", r.Fix, "._domainkey.example.net")
}

// TestTroubleshootAuthFailure: a pasted auth-failure report goes to the
// bounce analysis and keeps its explanation there.
func TestTroubleshootAuthFailure(t *testing.T) {
	r := Troubleshoot([]byte(readBounceFixture(t, rfc6591Example)), HeadersOptions{})
	if r.Kind != "bounce" || r.Bounce == nil || len(r.Bounce.Results) != 1 {
		t.Fatalf("kind %q: %+v", r.Kind, r.Bounce)
	}
	res := r.Bounce.Results[0]
	if res.FeedbackType != "auth-failure" {
		t.Errorf("feedback_type %q", res.FeedbackType)
	}
	checkNoComplaint(t, "troubleshoot", res)
	wantIn(t, "troubleshoot", "meaning", res.Explanation, "authentication failure report", "selector testkey")
}
