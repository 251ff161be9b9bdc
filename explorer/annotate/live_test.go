package annotate

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

// scriptedSMTP serves one connection on 127.0.0.1: it answers each command
// by its verb, reads message data after 354 until ".", and records nothing.
func scriptedSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 lab.postlab.test ESMTP")
		login := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if login > 0 {
				if login == 1 {
					say("334 UGFzc3dvcmQ6")
					login = 2
				} else {
					say("235 2.7.0 Authentication successful")
					login = 0
				}
				continue
			}
			verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
			switch verb {
			case "EHLO":
				say("250-lab.postlab.test")
				say("250-PIPELINING")
				say("250-SIZE 1048576")
				say("250-AUTH PLAIN LOGIN")
				say("250 ENHANCEDSTATUSCODES")
			case "AUTH":
				if strings.Contains(strings.ToUpper(line), "LOGIN") {
					say("334 VXNlcm5hbWU6")
					login = 1
				} else {
					say("235 2.7.0 Authentication successful")
				}
			case "MAIL":
				say("250 2.1.0 Ok")
			case "RCPT":
				if strings.Contains(line, "nobody") {
					say("550 5.1.1 No such user")
				} else {
					say("250 2.1.5 Ok")
				}
			case "DATA":
				say("354 End data with <CR><LF>.<CR><LF>")
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
				}
				say("250 2.0.0 Ok: queued as ABC123")
			case "QUIT":
				say("221 2.0.0 Bye")
				return
			default:
				say("502 5.5.2 Command not implemented")
			}
		}
	}()
	return ln.Addr().String()
}

// TestLiveSession drives the real explorer client against a scripted server
// and checks the notes of the recorded trace: the state the client records
// with each line must be the state the knowledge base expects.
func TestLiveSession(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := explorer.DialSMTP(ctx, explorer.Options{Addr: scriptedSMTP(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			steps := []func() error{
				func() error { _, err := c.Ehlo(ctx, "client.example"); return err },
				func() error { _, err := c.Auth(ctx, mech, "alice", "wonderland"); return err },
				func() error { _, err := c.Mail(ctx, "alice@postlab.test", "SIZE=100"); return err },
				func() error { _, err := c.Rcpt(ctx, "bob@postlab.test"); return err },
				func() error { c.Rcpt(ctx, "nobody@postlab.test"); return nil },
				func() error {
					_, err := c.Data(ctx, []byte("From: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: hi\r\n\r\n.hidden dot\r\nbye\r\n"))
					return err
				},
				func() error { _, err := c.Quit(ctx); return err },
			}
			for i, f := range steps {
				if err := f(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			a := NewAnnotator()
			var all strings.Builder
			got := map[string]bool{}
			for _, ev := range c.Events() {
				for _, n := range a.Annotate(ev) {
					got[n.Title] = true
					all.WriteString(ev.Line + " => " + n.Title + " | " + n.Detail + " [" + n.Ref + "]\n")
				}
			}
			out := all.String()
			if strings.Contains(out, "wonderland") {
				t.Fatalf("password in notes:\n%s", out)
			}
			want := []string{
				"220 Greeting: service ready", "250 EHLO accepted", "PIPELINING: commands sent in batches", "SIZE: message size limit", "SASL PLAIN", "SASL LOGIN",
				"Password mechanisms offered without TLS", "Warning: credentials sent without TLS", "235 Authentication succeeded",
				"SIZE=100: declared message size", "250 Sender accepted", "250 Recipient accepted", "550 Mailbox unavailable",
				"5.1.1 Bad destination mailbox address", "Next: this recipient is dropped; the bounce goes to the sender",
				"354 Start mail input", "From: header (author)", "To: header (display only)", "End of the header section",
				"Dot-stuffed line", "End of message data", "250 Message accepted", "221 Closing connection",
			}
			if mech == "PLAIN" {
				want = append(want, `AUTH PLAIN decoded: user "alice" (may be cut short by the mask)`)
			} else {
				want = append(want, `Challenge decoded: "Username:"`, `AUTH LOGIN user name: "alice"`, `Challenge decoded: "Password:"`, "Credential hidden")
			}
			for _, w := range want {
				if !got[w] {
					t.Errorf("missing note %q in\n%s", w, out)
				}
			}
		})
	}
}

func scriptedPOP3(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		say := func(lines ...string) {
			for _, s := range lines {
				c.Write([]byte(s + "\r\n"))
			}
		}
		say("+OK POP3 lab ready <4711.1700000000@postlab.test>")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimRight(line, "\r\n")), " ")
			switch verb {
			case "CAPA":
				say("+OK Capability list follows", "TOP", "UIDL", "USER", "RESP-CODES", "SASL PLAIN", ".")
			case "USER":
				say("+OK")
			case "PASS":
				say("+OK maildrop has 1 message")
			case "STAT":
				say("+OK 1 52")
			case "LIST":
				say("+OK 1 messages", "1 52", ".")
			case "UIDL":
				say("+OK", "1 abc-1", ".")
			case "RETR":
				say("+OK 52 octets", "Return-Path: <alice@postlab.test>", "Subject: hi", "", "..dot line", ".")
			case "DELE":
				say("+OK message 1 deleted")
			case "QUIT":
				say("+OK bye")
				return
			default:
				say("-ERR unknown command")
			}
		}
	}()
	return ln.Addr().String()
}

func TestLivePOP3Session(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := explorer.DialPOP3(ctx, explorer.Options{Addr: scriptedPOP3(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { _, err := c.Capa(ctx); return err },
		func() error { _, err := c.Login(ctx, "alice", "wonderland"); return err },
		func() error { _, _, _, err := c.Stat(ctx); return err },
		func() error { _, _, err := c.List(ctx, 0); return err },
		func() error { _, _, err := c.Uidl(ctx, 0); return err },
		func() error { _, err := c.Retr(ctx, 1); return err },
		func() error { _, err := c.Dele(ctx, 1); return err },
		func() error { _, err := c.Quit(ctx); return err },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	a := NewAnnotator()
	var all strings.Builder
	got := map[string]bool{}
	for _, ev := range c.Events() {
		for _, n := range a.Annotate(ev) {
			got[n.Title] = true
			all.WriteString(ev.Line + " => " + n.Title + " [" + n.Ref + "]\n")
		}
	}
	out := all.String()
	if strings.Contains(out, "wonderland") {
		t.Fatalf("password in notes:\n%s", out)
	}
	for _, w := range []string{
		"+OK greeting: AUTHORIZATION state", "APOP timestamp in the greeting", "+OK capability list follows", "CAPA TOP", "CAPA SASL", "SASL PLAIN",
		"End of the multi-line response", "USER: give the user name", "+OK send the password", "PASS: give the password",
		"Warning: credentials sent without TLS", "+OK logged in: TRANSACTION state", "+OK 1 message, 52 octets", "Message 1: 52 octets",
		`Message 1: unique id "abc-1"`, "+OK message follows", "Return-Path: header", "Subject: header", "End of the header section",
		"Byte-stuffed line", "+OK marked for deletion", "QUIT commits the deletions", "+OK deletions committed, goodbye",
	} {
		if !got[w] {
			t.Errorf("missing note %q in\n%s", w, out)
		}
	}
}
