package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBounceAuthFailureReport: RFC 6591's example report is explained as
// an authentication failure in the text and in --json, not as a spam
// complaint (QA: "a recipient marked a message as spam", "unsubscribe them").
func TestBounceAuthFailureReport(t *testing.T) {
	f := bounceFixture("arf-authfailure-rfc6591.eml")
	code, out := runCapture(t, "bounce", f)
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	for _, w := range []string{"  meaning:    This is an authentication failure report", "selector testkey", "  fix:        DKIM body hash"} {
		if !strings.Contains(out, w) {
			t.Errorf("text lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "marked a message as spam") || strings.Contains(out, "unsubscribe") {
		t.Errorf("complaint story in:\n%s", out)
	}
	code, out = runCapture(t, "bounce", "--json", f)
	var rep struct {
		Kind    string `json:"kind"`
		Results []struct {
			Reason       string `json:"reason"`
			FeedbackType string `json:"feedback_type"`
			Explanation  string `json:"explanation"`
			Fix          string `json:"fix"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if rep.Kind != "feedback" || len(rep.Results) != 1 || rep.Results[0].FeedbackType != "auth-failure" ||
		!strings.Contains(rep.Results[0].Explanation, "RFC 6591") || strings.Contains(rep.Results[0].Fix, "unsubscribe") {
		t.Errorf("json: %+v", rep)
	}
}
