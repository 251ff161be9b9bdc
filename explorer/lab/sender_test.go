package lab

import (
	"bytes"
	"fmt"
	"testing"
)

// submitAs opens a submission session (STARTTLS or implicit TLS) logged in
// as user.
func submitAs(t *testing.T, l *Lab, listener, user, pass string) *client {
	t.Helper()
	var c *client
	if listener == ListenerSubmissions {
		c = dialTLS(t, l, l.Addr(listener))
		c.greet()
	} else {
		c = dial(t, l.Addr(listener))
		c.greet()
		c.starttls(l)
		c.cmd("250", "EHLO client.example")
	}
	c.login(user, pass)
	return c
}

func TestSubmissionRefusesSenderNotOwned(t *testing.T) {
	l := startLab(t)
	for _, ln := range []string{ListenerSubmission, ListenerSubmissions} {
		t.Run(ln, func(t *testing.T) {
			c := submitAs(t, l, ln, "alice", "wonderland")
			for _, from := range []string{
				"bob@postlab.test",
				"carol@example.com",
				"alice@example.com",
				"alice@mail.postlab.test", // reaches alice, but is not her address
				"alicex@postlab.test",
				"alice@postlab.test@example.com", // go-smtp: local "alice", domain "postlab.test@example.com"
				"postmaster@postlab.test",
			} {
				c.send("MAIL FROM:<%s>", from)
				code, msg := c.reply()
				got := fmt.Sprintf("%d %s", code, msg)
				if want := "553 5.7.1 <" + from + ">: sender address not owned by user alice"; got != want {
					t.Errorf("MAIL FROM:<%s>: reply %q, want %q", from, got, want)
				}
				// Refused: no transaction is open.
				c.cmd("503 5.5.1", "RCPT TO:<bob@postlab.test>")
			}
			c.cmd("553 5.7.1", `MAIL FROM:<"bob"@postlab.test>`)
			if !traceHas(l, "MAIL FROM refused: alice is logged in and owns only <alice@postlab.test>") {
				t.Errorf("the trace does not say why:\n%s", dump(l.Traces().Recent(0)))
			}

			// The session goes on, and the own address is accepted.
			before := len(newFiles(t, l, "bob"))
			c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, testMsg)
			if n := len(newFiles(t, l, "bob")); n != before+1 {
				t.Errorf("bob has %d messages, want %d", n, before+1)
			}
		})
	}
}

func TestSubmissionOwnSenderMatchesWithoutCase(t *testing.T) {
	l := startLab(t)
	c := submitAs(t, l, ListenerSubmission, "Alice", "wonderland")
	for _, from := range []string{
		"alice@postlab.test",
		"ALICE@PostLab.TEST",
		"Alice@postlab.test.", // the absolute form of the same domain
		`"alice"@postlab.test`,
	} {
		c.cmd("250", "MAIL FROM:<%s>", from)
		c.cmd("250", "RSET")
	}
	if traceHas(l, "MAIL FROM refused") {
		t.Errorf("an own address was refused:\n%s", dump(l.Traces().Recent(0)))
	}
}

// The null reverse-path is allowed after AUTH (see sender.go), with a note.
func TestSubmissionNullSender(t *testing.T) {
	l := startLab(t)
	c := submitAs(t, l, ListenerSubmissions, "bob", "builder")
	c.sendMail("", []string{"alice@postlab.test"}, "From: bob@postlab.test\r\nSubject: Read: hi\r\n\r\nRead.\r\n")
	if b := readNew(t, l, "alice"); !bytes.HasPrefix(b, []byte("Return-Path: <>\r\n")) {
		t.Errorf("stored:\n%s", b)
	}
	if !traceHas(l, "MAIL FROM:<> (the null reverse-path of notifications") {
		t.Errorf("no note on <> in the trace:\n%s", dump(l.Traces().Recent(0)))
	}
}

// An added user owns NAME@DOMAIN of the lab's configured domain.
func TestSubmissionAddedUserOnOtherDomain(t *testing.T) {
	l := startLab(t, func(c *Config) { c.Domain = "School.Test" })
	if err := l.AddUser("dora", "explorer-pw"); err != nil {
		t.Fatal(err)
	}
	c := submitAs(t, l, ListenerSubmission, "dora@school.test", "explorer-pw")
	c.cmd("553 5.7.1 <dora@postlab.test>: sender address not owned by user dora", "MAIL FROM:<dora@postlab.test>")
	c.cmd("553 5.7.1 <alice@school.test>: sender address not owned by user dora", "MAIL FROM:<alice@school.test>")
	c.sendMail("Dora@School.test", []string{"alice@school.test"}, "From: dora@school.test\r\n\r\nHi.\r\n")
	if !traceHas(l, "owns only <dora@school.test>") {
		t.Errorf("the trace does not name dora's address:\n%s", dump(l.Traces().Recent(0)))
	}
}

// The MX port has no AUTH and keeps accepting any sender.
func TestMXPortSenderUnchanged(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSMTP))
	c.greet()
	c.sendMail("bob@postlab.test", []string{"alice@postlab.test"}, testMsg)
	if traceHas(l, "MAIL FROM refused") || traceHas(l, "null reverse-path") {
		t.Errorf("the MX port judged the sender:\n%s", dump(l.Traces().Recent(0)))
	}
}

// A From: field of another lab user is delivered but not signed.
func TestDKIMNotForAnotherUsersFrom(t *testing.T) {
	l := startLab(t)
	c := submitAs(t, l, ListenerSubmissions, "alice", "wonderland")
	c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, "From: Bob <bob@postlab.test>\r\nTo: bob@postlab.test\r\nSubject: as bob\r\n\r\nHi.\r\n")
	if b := readNew(t, l, "bob"); bytes.Contains(b, []byte("DKIM-Signature")) {
		t.Errorf("alice's mail with bob's From: signed:\n%s", b)
	}
	if !traceHas(l, "not DKIM-signed: its From: <bob@postlab.test> is not the address of the logged-in user alice") {
		t.Errorf("the trace does not say why it is unsigned:\n%s", dump(l.Traces().Recent(0)))
	}

	c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, "From: \"A. Liddell\" <Alice@POSTLAB.test>\r\nTo: bob@postlab.test\r\nSubject: as me\r\n\r\nHi.\r\n")
	if signed := signedVerified(t, l, "bob"); signed != 1 {
		t.Errorf("%d messages signed, want 1 (alice's own From:)", signed)
	}
}

func TestOwnsAddress(t *testing.T) {
	for _, tc := range []struct {
		user, addr string
		want       bool
	}{
		{"alice", "alice@postlab.test", true},
		{"alice", "ALICE@POSTLAB.TEST", true},
		{"alice", "alice@postlab.test.", true},
		{"alice", "bob@postlab.test", false},
		{"alice", "alice@mail.postlab.test", false},
		{"alice", "alice", false},
		{"alice", "", false},
		{"", "@postlab.test", false},
		{"alice", "alice@postlab.test..", false},
	} {
		if got := ownsAddress(tc.user, "postlab.test", tc.addr); got != tc.want {
			t.Errorf("ownsAddress(%q, %q) = %v, want %v", tc.user, tc.addr, got, tc.want)
		}
	}
}
