package diag

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTroubleshootPicksTheAnalysis(t *testing.T) {
	if r := Troubleshoot([]byte("550 5.1.1 <a@example.com>: User unknown\n"), HeadersOptions{}); r.Kind != "explanation" || r.Explanation.Reason != BounceUserUnknown {
		t.Errorf("reply line: %+v", r)
	}
	if r := Troubleshoot([]byte("Diagnostic-Code: smtp; 552 5.2.2 Mailbox full"), HeadersOptions{}); r.Kind != "explanation" || r.Explanation.Reason != BounceMailboxFull {
		t.Errorf("diagnostic code: %+v", r)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", "exim.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if r := Troubleshoot(b, HeadersOptions{}); r.Kind != "bounce" || len(r.Bounce.Results) != 1 || r.Headers == nil {
		t.Errorf("bounce: %+v", r)
	}
	if r := Troubleshoot([]byte(headersMessage), HeadersOptions{}); r.Kind != "headers" || r.Headers.ReceivedCount != 3 {
		t.Errorf("message: %+v", r)
	}
}

// A paste whose first line is prose is no message: the header analysis
// says so, not a bounce report of kind not-a-message.
func TestTroubleshootNoMessage(t *testing.T) {
	in := "Here is what I got back:\nFrom: MAILER-DAEMON@example.com\nSubject: Undelivered\n\nbody\n"
	if r := Troubleshoot([]byte(in), HeadersOptions{}); r.Kind != "headers" || r.Headers.ParseError == "" {
		t.Errorf("prose first: kind %q, %+v", r.Kind, r.Headers)
	}
}
