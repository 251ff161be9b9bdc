package diag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBounceJMRPNeedsComplaintSender: X-HmXmrOriginalRecipient alone makes
// no complaint (Outlook.com puts it on inbound mail); Microsoft's JMRP
// reports come from staff@hotmail.com and carry no delivery status.
func TestBounceJMRPNeedsComplaintSender(t *testing.T) {
	for _, f := range []string{"arf-23.eml", "arf-24.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "bounces-sisimai", f))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ParseBounce(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Kind != "feedback" || rep.Format != "jmrp" || len(rep.Results) != 1 || rep.Results[0].Recipient != "kijitora@example.com" {
			t.Errorf("%s: kind %q format %q results %+v; want a JMRP complaint by kijitora@example.com", f, rep.Kind, rep.Format, rep.Results)
		}
	}

	rep := parseFixture(t, "courier-hmxmr.eml")
	if rep.Kind != "bounce" || len(rep.Results) != 1 || rep.Results[0].Reason != BounceFiltered {
		t.Errorf("courier DSN with X-HmXmrOriginalRecipient: kind %q format %q results %+v; want the filtered bounce", rep.Kind, rep.Format, rep.Results)
	}

	// A forward of an Outlook.com message by a person: not a complaint.
	fwd := "From: Pat <pat@example.org>\nTo: kim@example.net\nSubject: Fwd: minutes\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nSee below.\n" +
		"--b\nContent-Type: message/rfc822\n\n" +
		"X-HmXmrOriginalRecipient: pat@outlook.example\nFrom: lee@example.com\nTo: pat@outlook.example\nSubject: minutes\n\nhello\n--b--\n"
	rep, err := ParseBounce(strings.NewReader(fwd))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind == "feedback" {
		t.Errorf("forwarded Outlook.com message read as a complaint: %+v", rep.Results)
	}
}
