package diag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The format label names who reported the failure: the bounce's own From,
// Reporting-MTA, Received and X-Mailer, then the layout of its own text;
// never a provider merely named in a quoted diagnostic (email-amazonses-16:
// an SES bounce whose diagnostic mentions SORBS, delivered to Yahoo) nor a
// phrase several reporters share (Gmail also writes "This is an
// automatically generated Delivery Status Notification").
func TestBounceReporterLabels(t *testing.T) {
	want := map[string]string{
		"arf-19.eml": "arf", "arf-21.eml": "arf", "arf-23.eml": "jmrp", "arf-24.eml": "jmrp", "arf-26.eml": "apple-unsubscribe",
		"courier-02.eml": "rfc3464/courier", "courier-03.eml": "rfc3464/courier", "courier-04.eml": "rfc3464/courier",
		"email-courier-01.eml":   "rfc3464/courier",
		"email-amazonses-03.eml": "rfc3464/amazonses", "email-amazonses-05.eml": "rfc3464/amazonses",
		"email-amazonses-07.eml": "rfc3464/amazonses", "email-amazonses-08.eml": "rfc3464/amazonses",
		"email-amazonses-12.eml": "amazonses-json",
		"email-amazonses-16.eml": "rfc3464/amazonses", "email-amazonses-18.eml": "rfc3464/amazonses",
		"email-amazonses-21.eml": "rfc3464/amazonses",
		"email-domino-01.eml":    "domino",
		// Exchange 5.5/2000's Internet Mail Service, named in X-Mailer and
		// Received.
		"email-exchange2003-03.eml": "exchange", "email-exchange2003-07.eml": "exchange",
		"email-exchange2007-04.eml": "rfc3464/exchange",
		"email-exim-02.eml":         "exim", "email-exim-04.eml": "exim", "email-exim-30.eml": "exim", "email-exim-32.eml": "exim",
		"email-exim-36.eml": "exim", "email-exim-45.eml": "exim", "email-exim-46.eml": "exim", "email-exim-50.eml": "exim",
		"email-exim-52.eml": "exim", "email-exim-56.eml": "exim", "email-exim-57.eml": "exim", "email-exim-59.eml": "exim",
		"email-exim-60.eml":   "rfc3464/exim",
		"email-google-03.eml": "gmail", "email-google-05.eml": "gmail", "email-google-09.eml": "gmail", "email-google-10.eml": "gmail",
		"email-google-16.eml": "gmail", "email-google-18.eml": "gmail", "email-google-19.eml": "gmail",
		"email-postfix-02.eml": "rfc3464/postfix", "email-postfix-03.eml": "rfc3464/postfix", "email-postfix-08.eml": "rfc3464/postfix",
		"email-postfix-09.eml": "rfc3464/postfix", "email-postfix-16.eml": "rfc3464/postfix",
		"email-qmail-01.eml":    "qmail",
		"email-sendmail-01.eml": "rfc3464/sendmail", "email-sendmail-07.eml": "rfc3464/sendmail", "email-sendmail-08.eml": "rfc3464/sendmail",
		"lhost-postfix-30.eml": "rfc3464/postfix", "lhost-postfix-70.eml": "rfc3464/postfix", "lhost-postfix-71.eml": "rfc3464/postfix",
		"rfc3464-03.eml": "rfc3464", "rfc3464-04.eml": "rfc3464/sendmail", "rfc3464-06.eml": "rfc3464/sendmail",
		"rfc3464-08.eml": "rfc3464", "rfc3464-28.eml": "rfc3464/postfix",
		// From MAILER-DAEMON@AOL.com, Reporting-MTA omr-a015e.mx.aol.com:
		// AOL (Yahoo's) reported it, in Postfix's layout.
		"rhost-aol-06.eml":     "rfc3464/yahoo",
		"rhost-outlook-01.eml": "rfc3464/exchange",
	}
	dir := filepath.Join("testdata", "bounces-sisimai")
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus: %v", err)
	}
	for _, p := range files {
		name := filepath.Base(p)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected label in this table", name)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ParseBounce(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Format != w {
			t.Errorf("%s: format %q, want %q (reporting MTA %q)", name, rep.Format, w, rep.ReportingMTA)
		}
	}
}

// A provider named only in the quoted reply, or the address of a person
// who forwarded the bounce, does not make the report theirs.
func TestBounceReporterIgnoresQuotedProviders(t *testing.T) {
	body := "Subject: Undelivered Mail\r\nTo: a@example.org\r\n\r\n" +
		"I could not deliver your message.\r\n\r\n<bob@gmail.example>: host gmail-smtp-in.l.google.com[192.0.2.1] said:\r\n" +
		"    550-5.1.1 The email account that you tried to reach does not exist. x - gsmtp (in reply to RCPT TO command)\r\n" +
		"<carol@yahoo.example>: host mta5.am0.yahoodns.net[192.0.2.2] said: 554 delivery error: dd This user doesn't have a yahoo.com account\r\n"
	for _, c := range []struct{ from, want string }{
		{"MAILER-DAEMON@mx.example.org", "text"},
		{"MAILER-DAEMON@googlemail.com", "gmail"},
		{"Someone <someone@gmail.com>", "text"},
	} {
		rep, err := ParseBounce(strings.NewReader("From: " + c.from + "\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Format != c.want {
			t.Errorf("From %s: format %q, want %q", c.from, rep.Format, c.want)
		}
	}
}
