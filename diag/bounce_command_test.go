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

// TestSMTPCommandTranscript: the command credited with a transcript's
// failure is the one the failing reply answered, counting replies in order
// (RFC 2920 §3.1), and none when the transcript leaves commands out.
func TestSMTPCommandTranscript(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"pipelined RCPT refused", "... while talking to mx.example.com.:\n>>> MAIL From:<a@example.org> SIZE=9\n>>> RCPT To:<b@example.com>\n>>> DATA\n<<< 250 2.1.0 Sender ok\n<<< 550 5.0.0 <b@example.com>... Not here\n550 5.0.0 <b@example.com>... Not here\n<<< 554 5.5.1 no valid recipients", "RCPT"},
		{"pipelined MAIL refused", ">>> MAIL From:<a@example.org>\n>>> RCPT To:<b@example.com>\n>>> DATA\n<<< 553 5.1.8 Domain of sender address does not exist\n<<< 503 5.0.0 Need MAIL\n<<< 503 5.0.0 Need RCPT", "MAIL"},
		{"pipelined DATA refused", ">>> MAIL From:<a@example.org>\n>>> RCPT To:<b@example.com>\n>>> DATA\n<<< 250 ok\n<<< 250 ok\n<<< 554 5.7.1 no", "DATA"},
		{"one step", ">>> MAIL From:<a@example.org>\n<<< 450 4.7.1 Access denied. IP name lookup failed", "MAIL"},
		{"one step RCPT", "... while talking to mx.example.com.:\n>>> RCPT To:<b@example.com>\n<<< 554 5.7.1 Relay access denied\n554 5.0.0 Service unavailable", "RCPT"},
		{"step by step", ">>> RCPT To:<b@example.com>\n<<< 550 5.1.1 User unknown\n550 5.1.1 <b@example.com>... User unknown\n>>> DATA\n<<< 503 5.0.0 Need RCPT", "RCPT"},
		{"end of data", ">>> DATA\n<<< 354 Enter mail\n>>> .\n<<< 554 5.7.1 Message rejected", "DATA"},
		{"multiline reply", ">>> MAIL From:<a@example.org>\n>>> RCPT To:<b@example.com>\n<<< 250-2.1.0 Sender\n<<< 250 2.1.0 ok\n<<< 550-5.1.1 The email account\n<<< 550 5.1.1 does not exist", "RCPT"},
		{"greeting then RCPT", "<<< 220 mx.example.com ESMTP\n>>> MAIL From:<a@example.org>\n<<< 250 ok\n>>> RCPT To:<b@example.com>\n<<< 550 no", "RCPT"},
		{"greeting refused", "<<< 554 5.7.1 No SMTP service here", "CONN"},
		// Sendmail left the RCPT out: two replies for one command.
		{"command missing", ">>> DATA\n<<< 550 5.1.1 <b@example.com>... User Unknown\n550 5.1.1 <b@example.com>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)", ""},
		{"reply before its command", "<<< 250 ok\n>>> DATA\n<<< 550 no", ""},
		{"unmapped command", ">>> EHLO host.example.org\n<<< 550 go away", ""},
		{"no failure, then Postfix words", ">>> RCPT To:<b@example.com>\n<<< 250 ok\n\nsaid: 550 no (in reply to end of DATA command)", "DATA"},
		{"Postfix", "host mx.example.com said: 550 5.1.1 unknown (in reply to RCPT TO command)", "RCPT"},
		{"Exim", "SMTP error from remote mail server after MAIL FROM:<a@example.org> SIZE=1: 553 no", "MAIL"},
		{"Exim greeting", "SMTP error from remote mail server after initial connection: 554 no", "CONN"},
		{"Courier", "<b@example.jp>:\n    mx.example.jp [192.0.2.45]:\n>>> DATA\n<<< 550 Unknown user b@example.jp\n", "DATA"},
		// Two sessions: the first went well, the second refused RCPT.
		{"second host", "... while talking to mx1.example.com.:\n>>> MAIL From:<a@example.org>\n<<< 250 ok\n>>> QUIT\n<<< 221 bye\n... while talking to mx2.example.com.:\n>>> MAIL From:<a@example.org>\n>>> RCPT To:<b@example.com>\n<<< 250 ok\n<<< 550 no", "RCPT"},
		{"nothing", "The mail could not be delivered.", ""},
	}
	for _, c := range cases {
		if got := smtpCommand(c.text); got != c.want {
			t.Errorf("%s: smtpCommand = %q, want %q", c.name, got, c.want)
		}
	}
}
