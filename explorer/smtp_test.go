package explorer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// stubNotes gives every command and reply a note so the golden file shows
// the layout of notes under their line without depending on annotate.
func stubNotes(ev Event) []Note {
	switch ev.Dir {
	case ClientToServer:
		return []Note{{Title: "sent in phase " + string(ev.State.Phase), Detail: "command " + ev.State.Command, Ref: "RFC 5321 §4.1"}}
	case ServerToClient:
		if ev.State.Multi {
			return nil
		}
		return []Note{{Title: "reply to " + ev.State.Command, Ref: "RFC 5321 §4.2"}}
	}
	return nil
}

var typicalSMTP = []string{
	"S: 220 mx.test ESMTP ready",
	"C: EHLO client.test",
	"S: 250-mx.test greets client.test",
	"S: 250-PIPELINING",
	"S: 250-SIZE 10240000",
	"S: 250-AUTH PLAIN LOGIN",
	"S: 250-CHUNKING",
	"S: 250 8BITMIME",
	"C: MAIL FROM:<alice@postlab.test>",
	"S: 250 2.1.0 Ok",
	"C: RCPT TO:<bob@postlab.test>",
	"S: 250 2.1.5 Ok",
	"C: DATA",
	"S: 354 End data with <CR><LF>.<CR><LF>",
	"DATA",
	"S: 250 2.0.0 Ok: queued as 12345",
	"C: QUIT",
	"S: 221 2.0.0 Bye",
}

func TestSMTPTypicalSessionGolden(t *testing.T) {
	f := newFake(t, typicalSMTP...)
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Ehlo(ctx, "client.test")
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 250 || len(r.Lines) != 6 {
		t.Fatalf("EHLO reply = %+v", r)
	}
	if k, ok := c.Supports("size"); !ok || k.Params[0] != "10240000" {
		t.Errorf("SIZE capability = %+v %v", k, ok)
	}
	if got := c.AuthMechanisms(); strings.Join(got, ",") != "PLAIN,LOGIN" {
		t.Errorf("AUTH mechanisms = %v", got)
	}
	if r, err := c.Mail(ctx, "alice@postlab.test"); err != nil || r.Enhanced != "2.1.0" || r.Text() != "Ok" {
		t.Fatalf("MAIL = %+v, %v", r, err)
	}
	if c.State().Phase != PhaseMail {
		t.Errorf("phase after MAIL = %s", c.State().Phase)
	}
	if _, err := c.Rcpt(ctx, "bob@postlab.test"); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: hi\n\n.leading dot\nsecond line\n"
	if r, err := c.Data(ctx, []byte(msg)); err != nil || r.Code != 250 {
		t.Fatalf("DATA = %+v, %v", r, err)
	}
	if c.State().Phase != PhaseReady {
		t.Errorf("phase after DATA = %s", c.State().Phase)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Closed() {
		t.Error("session not closed after QUIT")
	}
	if got := f.messages[0]; got != "Subject: hi\r\n\r\n..leading dot\r\nsecond line" {
		t.Errorf("server received %q (dot-stuffing?)", got)
	}
	var text, jsonl bytes.Buffer
	WriteText(&text, c.Events(), stubNotes)
	WriteJSONL(&jsonl, c.Events(), stubNotes)
	text.WriteString("--- without notes\n")
	WriteText(&text, c.Events(), nil)
	// The address has a random port: take it out of the golden files.
	port := f.Addr()
	local := c.conn.LocalAddr().String()
	clean := func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(port), []byte("127.0.0.1:PORT")), []byte(local), []byte("127.0.0.1:LOCAL"))
	}
	golden(t, "smtp_session.golden", clean(text.Bytes()))
	golden(t, "smtp_session.jsonl.golden", clean(jsonl.Bytes()))
}

func TestSMTPStatePerEvent(t *testing.T) {
	f := newFake(t, typicalSMTP...)
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"EHLO client.test", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "DATA", "Subject: x", "", "body", "."} {
		if _, err := c.SendLine(ctx, l); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
	}
	c.SendLine(ctx, "QUIT")
	find := func(dir Direction, line string) Event {
		for _, e := range c.Events() {
			if e.Dir == dir && e.Line == line {
				return e
			}
		}
		t.Fatalf("no event %s %q", dir, line)
		return Event{}
	}
	cases := []struct {
		ev           Event
		phase        Phase
		cmd          string
		multi        bool
		wantMultiSet bool
	}{
		{find(ServerToClient, "220 mx.test ESMTP ready"), PhaseConnect, "", false, true},
		{find(ServerToClient, "250-mx.test greets client.test"), PhaseGreeted, "EHLO", false, true},
		{find(ServerToClient, "250-PIPELINING"), PhaseGreeted, "EHLO", true, true},
		{find(ServerToClient, "250 8BITMIME"), PhaseGreeted, "EHLO", true, true},
		{find(ServerToClient, "354 End data with <CR><LF>.<CR><LF>"), PhaseRcpt, "DATA", false, true},
		{find(ClientToServer, "Subject: x"), PhaseData, "DATA", false, true},
		{find(ClientToServer, "."), PhaseData, "DATA", false, true},
		{find(ServerToClient, "250 2.0.0 Ok: queued as 12345"), PhaseData, "DATA", false, true},
		{find(ServerToClient, "221 2.0.0 Bye"), PhaseReady, "QUIT", false, true},
	}
	for _, tc := range cases {
		if tc.ev.State.Phase != tc.phase || tc.ev.State.Command != tc.cmd || tc.ev.State.Multi != tc.multi || tc.ev.State.Proto != SMTP {
			t.Errorf("%q: state %+v, want phase %s command %q multi %v", tc.ev.Line, tc.ev.State, tc.phase, tc.cmd, tc.multi)
		}
	}
	if got := f.Lines(); strings.Join(got, "|") != "EHLO client.test|MAIL FROM:<alice@postlab.test>|RCPT TO:<bob@postlab.test>|DATA|Subject: x||body|.|QUIT" {
		t.Errorf("server got %q", got)
	}
}

// Every reply class, and what the session makes of it.
func TestSMTPReplyClasses(t *testing.T) {
	f := newFake(t,
		"S: 220 mx.test",
		"C: HELO a",
		"S: 250 mx.test",
		"C: MAIL FROM:<a@b>",
		"S: 451 4.7.1 Greylisted, try again later",
		"C: MAIL FROM:<a@b>",
		"S: 250 ok",
		"C: RCPT TO:<x@y>",
		"S: 550 5.1.1 <x@y>: no such user",
		"C: RCPT TO:<z@y>",
		"S: 251 2.1.5 will forward",
		"C: DATA",
		"S: 354 go ahead",
		"DATA",
		"S: 554 5.7.1 rejected as spam",
		"C: VRFY bob",
		"S: 252 cannot verify",
		"C: EXPN list",
		"S: 502 5.5.1 not implemented",
		"C: NOOP",
		"S: 421 4.3.2 shutting down",
	)
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Helo(ctx, "a"); err != nil || c.State().Phase != PhaseReady {
		t.Fatal(err, c.State())
	}
	_, err = c.Mail(ctx, "a@b")
	var re *ReplyError
	if !errors.As(err, &re) || !re.Temporary() || re.Reply.Enhanced != "4.7.1" || re.Command != "MAIL" {
		t.Fatalf("greylisted MAIL: %v", err)
	}
	if c.State().Phase != PhaseReady {
		t.Errorf("phase after refused MAIL = %s", c.State().Phase)
	}
	c.Mail(ctx, "a@b")
	if _, err := c.Rcpt(ctx, "x@y"); !errors.As(err, &re) || re.Temporary() || re.Reply.Code != 550 {
		t.Fatalf("RCPT 550: %v", err)
	}
	if c.State().Phase != PhaseMail {
		t.Errorf("phase after refused RCPT = %s", c.State().Phase)
	}
	if _, err := c.Rcpt(ctx, "z@y"); err != nil {
		t.Fatalf("251: %v", err)
	}
	if _, err := c.Data(ctx, []byte("x")); !errors.As(err, &re) || re.Reply.Code != 554 || re.Command != "DATA" {
		t.Fatalf("554 after data: %v", err)
	}
	if r, err := c.SendLine(ctx, "VRFY bob"); err != nil || r.Code != 252 {
		t.Fatal(r, err)
	}
	if r, err := c.SendLine(ctx, "EXPN list"); err != nil || r.Code != 502 {
		t.Fatal(r, err)
	}
	if r, err := c.SendLine(ctx, "NOOP"); err != nil || r.Code != 421 {
		t.Fatal(r, err)
	}
	if !c.Closed() || c.State().Phase != PhaseClosed {
		t.Errorf("421 must close the session: %+v", c.State())
	}
	if _, err := c.SendLine(ctx, "NOOP"); !errors.Is(err, ErrClosed) {
		t.Errorf("after 421: %v", err)
	}
}

func TestSMTPGreetingRefused(t *testing.T) {
	f := newFake(t, "S: 554-mx.test no service for you", "S: 554 5.7.1 go away", "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	var re *ReplyError
	if !errors.As(err, &re) || re.Reply.Code != 554 || len(re.Reply.Lines) != 2 {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

// Malformed replies: a clear error and error event, no hang, no panic.
func TestSMTPMalformedReplies(t *testing.T) {
	long := "250 " + strings.Repeat("x", MaxReplyLine+10)
	cases := []struct {
		name   string
		script []string
		want   string // in the error
		soft   bool   // the reply is still returned
	}{
		{"no space after code", []string{"S: 220mx.test ready"}, "no space or hyphen", false},
		{"bare LF", []string{"RAW: 220 mx.test ready\n"}, "bare LF", true},
		{"overlong", []string{"S: " + long}, "longer than", false},
		{"non-ASCII", []string{"S: 220 mx.t\xe9st ready"}, "not US-ASCII", true},
		{"NUL byte", []string{"S: 220 mx\x00test"}, "not US-ASCII", true},
		{"escaped once", []string{"S: 220 \xff\xfe bad \x1b[31m red"}, `not US-ASCII: "220 \xff\xfe bad \x1b[31m red"`, true},
		{"closed mid-reply", []string{"S: 220-mx.test", "S: 220-still going", "CLOSE"}, "connection closed", false},
		{"closed mid-line", []string{"RAW: 220 mx.te", "CLOSE"}, "connection closed", false},
		{"closed before greeting", []string{"CLOSE"}, "connection closed", false},
		{"letters for code", []string{"S: abc hello"}, "does not start with a code", false},
		{"code 600", []string{"S: 600 hello"}, "does not start with a code", false},
		{"code 1xx", []string{"S: 120 hello"}, "does not start with a code", false},
		{"two digits", []string{"S: 22 hi"}, "does not start with a code", false},
		{"short", []string{"S: 22"}, "shorter than", false},
		{"empty line", []string{"S: "}, "shorter than", false},
		{"mixed codes", []string{"S: 220-mx.test", "S: 250 ok"}, "inside a 220 reply", false},
		{"silent server", []string{"HANG"}, "timeout", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.script...)
			opts := testOpts(f.Addr())
			opts.ReplyTimeout = 300 * time.Millisecond
			c, err := DialSMTP(testCtx(t), opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if c == nil {
				t.Fatal("no session returned")
			}
			errs := errEvents(c.Events())
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("error events %q do not say %q", errs, tc.want)
			}
			if tc.soft != (c.Greeting != nil) {
				t.Errorf("greeting = %v, want returned: %v", c.Greeting, tc.soft)
			}
			for _, e := range c.Events() {
				if strings.ContainsAny(e.Line, "\x00\r\n") {
					t.Errorf("control characters reached the trace: %q", e.Line)
				}
			}
			c.Close()
		})
	}
}

func TestSMTPContextCancel(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "HANG")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		// cancel once the server has the command, so the read is under way
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if len(f.Lines()) > 0 {
				break
			}
		}
		cancel()
	}()
	_, err = c.SendLine(cctx, "NOOP")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !IsNetwork(err) || !c.Closed() {
		t.Errorf("a cancelled session must be closed and the error a network one")
	}
}

func TestSMTPDialFailure(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	var events []Event
	opts := testOpts(addr)
	opts.OnEvent = func(e Event) { events = append(events, e) }
	_, err := DialSMTP(testCtx(t), opts)
	if !IsNetwork(err) || !strings.Contains(err.Error(), "dial") {
		t.Fatalf("err = %v", err)
	}
	if len(errEvents(events)) != 1 {
		t.Errorf("want one error event, got %v", events)
	}
}

func authScript(mechLines ...string) []string {
	s := []string{"S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 AUTH PLAIN LOGIN CRAM-MD5"}
	return append(s, mechLines...)
}

func TestSMTPAuthMasksPassword(t *testing.T) {
	const user, pass = "alice", "wonderland"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		mech   string
		script []string
		shown  []string // client lines as recorded
	}{
		{"PLAIN", []string{"C: AUTH PLAIN " + b64("\x00alice\x00wonderland"), "S: 235 2.7.0 ok"},
			[]string{"AUTH PLAIN AGFsaWNl****"}},
		{"LOGIN", []string{"C: AUTH LOGIN", "S: 334 " + b64("Username:"), "C: " + b64(user), "S: 334 " + b64("Password:"), "C: " + b64(pass), "S: 235 ok"},
			[]string{"AUTH LOGIN", b64(user), "****"}},
		{"CRAM-MD5", []string{"C: AUTH CRAM-MD5", "S: 334 " + b64("<1896.697170952@postoffice.example.net>"),
			// RFC 2195 style digest of the challenge with key "wonderland"
			"C* ", "S: 235 ok"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.mech, func(t *testing.T) {
			f := newFake(t, authScript(tc.script...)...)
			ctx := testCtx(t)
			c, err := DialSMTP(ctx, testOpts(f.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			c.Ehlo(ctx, "c")
			r, err := c.Auth(ctx, tc.mech, user, pass)
			if err != nil || r.Code != 235 {
				t.Fatalf("auth: %v %v", r, err)
			}
			st := c.State()
			if !st.Authed || st.Phase != PhaseReady || st.AuthMech != tc.mech {
				t.Errorf("state after AUTH: %+v", st)
			}
			var shown []string
			for _, e := range c.Events() {
				if strings.Contains(e.Line, pass) || strings.Contains(e.Line, b64(pass)) || strings.Contains(e.Line, b64("\x00alice\x00wonderland")) {
					t.Errorf("password in the trace: %q", e.Line)
				}
				if e.Dir == ClientToServer && e.State.Command == "AUTH" {
					shown = append(shown, e.Line)
					if e.State.AuthMech != tc.mech {
						t.Errorf("%q: AuthMech %q", e.Line, e.State.AuthMech)
					}
				}
			}
			if tc.shown != nil && strings.Join(shown, "|") != strings.Join(tc.shown, "|") {
				t.Errorf("recorded %q, want %q", shown, tc.shown)
			}
			if tc.mech == "CRAM-MD5" {
				got := f.Lines()
				dec, _ := base64.StdEncoding.DecodeString(got[len(got)-1])
				// HMAC-MD5("wonderland", challenge), computed independently.
				if want := "alice " + hmacMD5Hex(pass, "<1896.697170952@postoffice.example.net>"); string(dec) != want {
					t.Errorf("CRAM-MD5 response %q, want %q", dec, want)
				}
			}
		})
	}
}

func TestSMTPAuthRefused(t *testing.T) {
	f := newFake(t, authScript("C* AUTH PLAIN ", "S: 535 5.7.8 Authentication credentials invalid")...)
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	c.Ehlo(ctx, "c")
	_, err := c.Auth(ctx, "PLAIN", "alice", "wrong")
	var re *ReplyError
	if !errors.As(err, &re) || re.Reply.Code != 535 {
		t.Fatalf("err = %v", err)
	}
	if st := c.State(); st.Authed || st.Phase != PhaseReady {
		t.Errorf("state %+v", st)
	}
}

func TestSMTPRawAuthLoginMasked(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	f := newFake(t, authScript("C: AUTH LOGIN "+b64("alice"), "S: 334 "+b64("Password:"), "C: "+b64("secret"), "S: 235 ok")...)
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	for _, l := range []string{"EHLO c", "AUTH LOGIN " + b64("alice"), b64("secret")} {
		if _, err := c.SendLine(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range c.Events() {
		if strings.Contains(e.Line, b64("secret")) {
			t.Errorf("password in trace: %q", e.Line)
		}
	}
	if !c.State().Authed {
		t.Error("not authenticated")
	}
}

func TestSMTPStartTLS(t *testing.T) {
	script := []string{"S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 STARTTLS", "C: STARTTLS", "S: 220 go ahead", "TLS",
		"C: EHLO c", "S: 250-mx.test", "S: 250 AUTH PLAIN", "C: QUIT", "S: 221 bye"}
	_, pool := certFor(t)
	t.Run("verified", func(t *testing.T) {
		f := newFake(t, script...)
		ctx := testCtx(t)
		opts := testOpts(f.Addr())
		opts.Security, opts.Helo, opts.RootCAs = StartTLS, "c", pool
		c, err := DialSMTP(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if st := c.State(); !st.TLS || st.Phase != PhaseGreeted || c.Capabilities() != nil {
			t.Errorf("after STARTTLS: %+v caps %v", st, c.Capabilities())
		}
		if _, err := c.Ehlo(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Supports("AUTH"); !ok {
			t.Error("capabilities after TLS not read")
		}
		c.Quit(ctx)
		text := eventText(c.Events())
		for _, want := range []string{"~> EHLO c", "<~ 221 bye", "-> STARTTLS", "== TLS established: TLS 1.3", `certificate subject "CN=mx.test"`, "127.0.0.1", `certificate verification for "127.0.0.1": passed`} {
			if !strings.Contains(text, want) {
				t.Errorf("trace lacks %q:\n%s", want, text)
			}
		}
		if ti := c.TLS(); ti == nil || !ti.Verified || ti.Subject != "CN=mx.test" {
			t.Errorf("TLS info %+v", ti)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		f := newFake(t, script[:7]...)
		opts := testOpts(f.Addr())
		opts.Security, opts.Helo = StartTLS, "c"
		c, err := DialSMTP(testCtx(t), opts)
		if err == nil || !IsNetwork(err) || !strings.Contains(err.Error(), "certificate verification failed") || !strings.Contains(err.Error(), "--insecure") {
			t.Fatalf("err = %v", err)
		}
		if !c.Closed() {
			t.Error("not closed")
		}
		if tr := eventText(c.Events()); !strings.Contains(tr, `certificate subject "CN=mx.test"`) || !strings.Contains(tr, "FAILED: x509") {
			t.Errorf("the refused certificate is not described:\n%s", tr)
		}
		// The error carries what was seen, for a summary (send --json).
		var ce *CertificateError
		if !errors.As(err, &ce) || ce.Info == nil || ce.Info.Verified || ce.Info.Subject != "CN=mx.test" || ce.Info.Version == "" || !strings.Contains(ce.Info.VerifyErr, "x509") {
			t.Errorf("no certificate in the error: %#v", ce)
		}
	})
	t.Run("insecure still reports", func(t *testing.T) {
		f := newFake(t, script...)
		ctx := testCtx(t)
		opts := testOpts(f.Addr())
		opts.Security, opts.Insecure, opts.ServerName, opts.Helo = StartTLS, true, "other.test", "c"
		c, err := DialSMTP(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		c.Ehlo(ctx, "c")
		c.Quit(ctx)
		text := eventText(c.Events())
		if !strings.Contains(text, `verification for "other.test": FAILED`) || !strings.Contains(text, "NOT verified") {
			t.Errorf("trace does not report the failed verification:\n%s", text)
		}
	})
}

func TestSMTPImplicitTLS(t *testing.T) {
	f := newFake(t, "TLS", "S: 220 mx.test", "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	_, pool := certFor(t)
	opts := testOpts(f.Addr())
	opts.Security, opts.RootCAs = ImplicitTLS, pool
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(eventText(c.Events()), "<~ 220 mx.test") {
		t.Error("greeting not marked as inside TLS")
	}
}

// Lines sent in clear after the 220 to STARTTLS would be read as if they
// came inside TLS (CVE-2011-0411): the session refuses to go on. An
// in-memory pipe delivers everything in one read, so the test is exact.
func TestSMTPStartTLSInjection(t *testing.T) {
	opts := testOpts("pipe:25")
	opts.Dial = pipeDialOpen([]byte("220 mx.test\r\n220 go ahead\r\n250 injected\r\n"))
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendLine(ctx, "STARTTLS")
	if err == nil || !IsNetwork(err) || !strings.Contains(err.Error(), "injection") {
		t.Fatalf("err = %v", err)
	}
	if c.State().TLS {
		t.Error("TLS started despite the injected data")
	}
	c.Close()
}

type countConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countConn) Write(b []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(b) }

func TestSMTPPipelining(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 PIPELINING",
		"C: MAIL FROM:<a@x> SIZE=10", "C: RCPT TO:<b@x>", "C: RCPT TO:<nobody@x>", "C: RCPT TO:<c@x>", "C: DATA",
		"S: 250 ok", "S: 250 ok", "S: 550 no such user", "S: 250 ok", "S: 354 go",
		"DATA", "S: 250 queued", "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	var writes atomic.Int32
	opts := testOpts(f.Addr())
	opts.Dial = func(ctx context.Context, n, a string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, n, a)
		return countConn{c, &writes}, err
	}
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.Ehlo(ctx, "c")
	before := writes.Load()
	res, err := c.Pipeline(ctx, Envelope{From: "a@x", FromParams: []string{"SIZE=10"}, To: []string{"b@x", "nobody@x", "c@x"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := writes.Load() - before; n != 1 {
		t.Errorf("pipelined batch took %d writes, want 1", n)
	}
	if res.Mail.Code != 250 || len(res.Rcpt) != 3 || res.Rcpt[1].Code != 550 || res.Data.Code != 354 || res.Accepted() != 2 {
		t.Fatalf("result %+v", res)
	}
	if r, err := c.WriteMessage(ctx, []byte("Subject: p\r\n\r\nhi\r\n")); err != nil || r.Code != 250 {
		t.Fatal(r, err)
	}
	c.Quit(ctx)
	// Replies carry the command they answer.
	var cmds []string
	for _, e := range c.Events() {
		if e.Dir == ServerToClient && e.State.Phase != PhaseConnect {
			cmds = append(cmds, e.State.Command)
		}
	}
	if got := strings.Join(cmds, ","); got != "EHLO,EHLO,MAIL,RCPT,RCPT,RCPT,DATA,DATA,QUIT" {
		t.Errorf("reply commands %s", got)
	}
}

func TestSMTPPipelineNeedsCapability(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250 mx.test")
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	c.Ehlo(ctx, "c")
	if _, err := c.Pipeline(ctx, Envelope{From: "a", To: []string{"b"}}); err == nil {
		t.Error("pipelined without PIPELINING")
	}
	c.Close()
}

func TestSMTPBdat(t *testing.T) {
	msg := "Subject: b\r\n\r\n.dot stays\r\n"
	// Structured BDAT: the server reads the raw octets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer conn.Close()
		conn.Write([]byte("220 mx.test\r\n"))
		var all bytes.Buffer
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			all.Write(buf[:n])
			if err != nil {
				break
			}
			s := all.String()
			switch {
			case strings.HasSuffix(s, "EHLO c\r\n"):
				conn.Write([]byte("250-mx.test\r\n250 CHUNKING\r\n"))
			case strings.HasSuffix(s, "QUIT\r\n"):
				conn.Write([]byte("221 bye\r\n"))
				got <- s
				return
			case bdatComplete(s):
				conn.Write([]byte("250 2.0.0 chunk ok\r\n"))
			}
		}
		got <- all.String()
	}()
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	c.Ehlo(ctx, "c")
	r, err := c.Bdat(ctx, []byte(msg), 10)
	if err != nil || r.Code != 250 {
		t.Fatal(r, err)
	}
	if st := c.State(); st.Phase != PhaseReady {
		t.Errorf("phase after BDAT LAST: %s", st.Phase)
	}
	c.Quit(ctx)
	wire := <-got
	want := "EHLO c\r\nBDAT 10\r\nSubject: bBDAT 10\r\n\r\n\r\n.dot sBDAT 6 LAST\r\ntays\r\nQUIT\r\n"
	if wire != want {
		t.Errorf("wire %q\nwant %q", wire, want)
	}
}

// bdatComplete reports whether the last BDAT chunk in s has all its octets.
func bdatComplete(s string) bool {
	i := strings.LastIndex(s, "BDAT ")
	if i < 0 {
		return false
	}
	line, rest, ok := strings.Cut(s[i:], "\r\n")
	if !ok {
		return false
	}
	var n int
	fmt.Sscanf(line, "BDAT %d", &n)
	return len(rest) == n
}

func TestSMTPRawBdatAndData(t *testing.T) {
	f := newFake(t, "S: 220 mx.test",
		"C: BDAT 7 LAST", "C: hello", "S: 250 ok",
		"C: DATA", "S: 354 go", "C: .x", "C: ", "C: .", "S: 250 queued")
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	steps := []struct {
		line  string
		reply bool
	}{{"BDAT 7 LAST", false}, {"hello", true}, {"DATA", true}, {".x", false}, {"", false}, {".", true}}
	for _, s := range steps {
		r, err := c.SendLine(ctx, s.line)
		if err != nil {
			t.Fatalf("%q: %v", s.line, err)
		}
		if (r != nil) != s.reply {
			t.Errorf("%q: reply %v, want one: %v", s.line, r, s.reply)
		}
	}
	if c.State().Phase != PhaseReady {
		t.Errorf("phase %s", c.State().Phase)
	}
	c.Close()
}

func TestSMTPTraceBound(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: MAIL FROM:<a>", "S: 250 ok", "C: RCPT TO:<b>", "S: 250 ok", "C: DATA", "S: 354 go", "DATA", "S: 250 ok")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	opts.TraceContentLines = 10
	c, _ := DialSMTP(ctx, opts)
	c.Mail(ctx, "a")
	c.Rcpt(ctx, "b")
	msg := strings.Repeat("line of text\n", 5000)
	if _, err := c.Data(ctx, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	content := 0
	summary := ""
	for _, e := range c.Events() {
		if e.Dir == ClientToServer && e.Line == "line of text" {
			content++
		}
		if e.Dir == Local && strings.Contains(e.Line, "not shown") {
			summary = e.Line
		}
	}
	if content != 10 || !strings.Contains(summary, "4990 more message lines (69860 octets)") {
		t.Errorf("content events %d, summary %q", content, summary)
	}
	if got := len(strings.Split(f.messages[0], "\r\n")); got != 5000 {
		t.Errorf("server got %d lines", got)
	}
	c.Close()
}

func hmacMD5Hex(key, msg string) string {
	h := hmac.New(md5.New, []byte(key))
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

func eventText(evs []Event) string {
	var b strings.Builder
	WriteText(&b, evs, nil)
	return b.String()
}

// Valid UTF-8 in reply text is outside RFC 5321's US-ASCII but readable:
// a warning, not a failure.
func TestSMTPUTF8ReplyWarns(t *testing.T) {
	f := newFake(t, "S: 220 mx.test prêt (RFC 5321 §4.2)", "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Greeting.Text() != "mx.test prêt (RFC 5321 §4.2)" {
		t.Errorf("greeting %q", c.Greeting.Text())
	}
	if !strings.Contains(eventText(c.Events()), "== warning: reply text is UTF-8") {
		t.Errorf("no warning:\n%s", eventText(c.Events()))
	}
	c.Quit(ctx)
}

func TestSMTPPipelineAssumedStates(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250-mx.test", "S: 250 PIPELINING",
		"C: MAIL FROM:<a@x>", "C: RCPT TO:<b@x>", "C: RCPT TO:<c@x>", "C: DATA",
		"S: 250 ok", "S: 250 ok", "S: 250 ok", "S: 354 go")
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	c.Ehlo(ctx, "c")
	if _, err := c.Pipeline(ctx, Envelope{From: "a@x", To: []string{"b@x", "c@x"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range c.Events() {
		if e.Dir == ClientToServer && e.State.Command != "EHLO" {
			got = append(got, e.State.Command+":"+string(e.State.Phase))
		}
	}
	if strings.Join(got, " ") != "MAIL:ready RCPT:mail RCPT:rcpt DATA:rcpt" {
		t.Errorf("pipelined states %v", got)
	}
	c.Close()
}

// A command between BDAT chunks is a command, answered as itself.
func TestSMTPCommandBetweenBdatChunks(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: BDAT 3", "C: ab", "S: 250 3 octets", "C: RSET", "S: 250 reset")
	ctx := testCtx(t)
	c, _ := DialSMTP(ctx, testOpts(f.Addr()))
	for _, l := range []string{"BDAT 3", "ab"} {
		if _, err := c.SendLine(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.State(); st.Phase != PhaseData || st.Command != "BDAT" {
		t.Fatalf("between chunks: %+v", st)
	}
	r, err := c.SendLine(ctx, "RSET")
	if err != nil || r.Code != 250 {
		t.Fatal(r, err)
	}
	if st := c.State(); st.Phase != PhaseReady || st.Command != "RSET" {
		t.Errorf("after RSET: %+v", st)
	}
	c.Close()
}

// A context cancelled before an operation starts also ends the session:
// a cancel that lands between a command and the read of its reply would
// otherwise leave it open with the stream position unknown.
func TestSMTPCancelledBeforeTheRead(t *testing.T) {
	f := newFake(t, "S: 220 mx.test")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SendLine(cctx, "NOOP"); !errors.Is(err, context.Canceled) || !IsNetwork(err) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !c.Closed() {
		t.Error("the session is still open after a cancelled operation")
	}
}
