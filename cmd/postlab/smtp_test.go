package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"postlab/explorer"
)

// runIO runs the command line with in as stdin and returns stdout+stderr
// and the exit code.
func runIO(t *testing.T, in string, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(in))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	if err == nil {
		return out.String(), exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != errSilent {
			out.WriteString("postlab: " + ee.Error() + "\n")
		}
		return out.String(), ee.code
	}
	out.WriteString("postlab: " + err.Error() + "\n")
	return out.String(), exitUsage
}

// lineServer answers each client line with reply(line) ("" = no reply)
// after sending greeting; it records what it received.
type lineServer struct {
	ln  net.Listener
	mu  sync.Mutex
	got []string
}

func newLineServer(t *testing.T, greeting string, reply func(line string, inData *bool) string) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveLines(t, ln, greeting, reply)
}

func serveLines(t *testing.T, ln net.Listener, greeting string, reply func(line string, inData *bool) string) *lineServer {
	s := &lineServer{ln: ln}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if greeting != "" {
				conn.Write([]byte(greeting))
			}
			br := bufio.NewReader(conn)
			inData := false
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					break
				}
				l = strings.TrimRight(l, "\r\n")
				s.mu.Lock()
				s.got = append(s.got, l)
				s.mu.Unlock()
				if r := reply(l, &inData); r != "" {
					conn.Write([]byte(r))
					if strings.HasPrefix(r, "221") || strings.HasPrefix(r, "+OK bye") {
						break
					}
				}
			}
			conn.Close()
		}
	}()
	return s
}

func (s *lineServer) Addr() string { return s.ln.Addr().String() }

func (s *lineServer) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// smtpReply is a tiny SMTP responder for the command-line tests.
func smtpReply(l string, inData *bool) string {
	if *inData {
		if l == "." {
			*inData = false
			return "250 2.0.0 Ok: queued\r\n"
		}
		return ""
	}
	verb, _, _ := strings.Cut(strings.ToUpper(l), " ")
	switch verb {
	case "EHLO":
		return "250-mx.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN LOGIN\r\n"
	case "MAIL":
		return "250 2.1.0 Ok\r\n"
	case "RCPT":
		if strings.Contains(l, "nobody") {
			return "550 5.1.1 <nobody@postlab.test>: Recipient address rejected\r\n"
		}
		return "250 2.1.5 Ok\r\n"
	case "DATA":
		*inData = true
		return "354 End data with <CR><LF>.<CR><LF>\r\n"
	case "AUTH":
		return "235 2.7.0 Authentication successful\r\n"
	case "QUIT":
		return "221 2.0.0 Bye\r\n"
	}
	return "502 5.5.2 Error: command not recognized\r\n"
}

func TestSMTPCommandPiped(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	in := "EHLO x\r\nMAIL FROM:<a@postlab.test>\r\nRCPT TO:<b@postlab.test>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"
	out, code := runIO(t, in, "smtp", "--no-color", "--trace-out", trace, srv.Addr())
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"<- 220 mx.test ESMTP", "-> EHLO x", "<- 250-PIPELINING", "-> Subject: hi", "-> .", "<- 250 2.0.0 Ok: queued", "<- 221 2.0.0 Bye"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Notes are indented under their line.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if l == "-> EHLO x" && (i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "      == ")) {
			t.Errorf("no note under EHLO:\n%s", out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour with --no-color")
	}
	if got := strings.Join(srv.Lines(), "|"); got != "EHLO x|MAIL FROM:<a@postlab.test>|RCPT TO:<b@postlab.test>|DATA|Subject: hi||body|.|QUIT" {
		t.Errorf("server got %s", got)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		for _, k := range []string{"t", "dir", "tls", "line", "notes"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("JSON line lacks %q: %s", k, l)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, obj["t"].(string)); err != nil {
			t.Errorf("t is not RFC 3339: %v", err)
		}
		if obj["line"] == "EHLO x" && len(obj["notes"].([]any)) == 0 {
			t.Error("no notes for EHLO in the JSON trace")
		}
		n++
	}
	if n < 15 {
		t.Errorf("only %d JSON lines", n)
	}
}

func TestSMTPCommandNoNotesAndEOF(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	out, code := runIO(t, "NOOP\n", "smtp", "--no-notes", srv.Addr())
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "      ==") {
		t.Errorf("notes printed with --no-notes:\n%s", out)
	}
	if !strings.Contains(out, "<- 502 5.5.2") || !strings.Contains(out, "== input ended: closing the connection without QUIT") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSMTPCommandAuthMasked(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	out, code := runIO(t, "QUIT\n", "smtp", "--user", "alice", "--allow-plaintext-auth", "--helo", "me.test", srv.Addr())
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "-> AUTH PLAIN AGFsaWNl****") || !strings.Contains(out, "-> EHLO me.test") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(out, "d29uZGVybGFuZA") || strings.Contains(out, "wonderland") {
		t.Error("password in output")
	}
}

func TestSMTPCommandErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"smtp", dead}, exitNetwork, "postlab: connect: nothing listens on " + dead + " (connection refused): check the host and the port"},
		{[]string{"smtp"}, exitUsage, "smtp needs HOST[:PORT], e.g. postlab smtp 127.0.0.1:2525"},
		{[]string{"smtp", "h", "extra"}, exitUsage, "smtp takes one HOST[:PORT], got 2 arguments (h extra): the commands to send are read from stdin"},
		{[]string{"pop3", "h", "extra"}, exitUsage, "pop3 takes one HOST[:PORT], got 2 arguments"},
		{[]string{"pop3"}, exitUsage, "pop3 needs HOST[:PORT]"},
		{[]string{"send", "bob@postlab.test"}, exitUsage, `send takes no arguments, got "bob@postlab.test": give the recipients with --to ADDRESS`},
		{[]string{"smtp", "--tls", "--starttls", "h"}, exitUsage, "exclude"},
		{[]string{"smtp", "h:99999"}, exitUsage, "port"},
		{[]string{"smtp", "--user", "a", "--auth", "XOAUTH9", "h"}, exitUsage, "XOAUTH9"},
	}
	for _, tc := range cases {
		out, code := runIO(t, "", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
}

func TestHostPort(t *testing.T) {
	cases := map[string]string{
		"mx.test":        "mx.test:25",
		"mx.test:2525":   "mx.test:2525",
		"127.0.0.1":      "127.0.0.1:25",
		"::1":            "[::1]:25",
		"[::1]":          "[::1]:25",
		"[::1]:2525":     "[::1]:2525",
		"192.0.2.1:587":  "192.0.2.1:587",
		"2001:db8::1:25": "[2001:db8::1:25]:25",
		"fe80::1%eth0":   "[fe80::1%eth0]:25",
		"[fe80::1%lo]:2": "[fe80::1%lo]:2",
	}
	for in, want := range cases {
		if got, err := hostPort(in, 25); err != nil || got != want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "h:0", "h:x", ":25", "a:b:c", "[a:b]:25", "mx test:25", "h:", "[::1", "::1]", "[::1:25", "[mx.test", "[]"} {
		if _, err := hostPort(bad, 25); err == nil {
			t.Errorf("hostPort(%q) accepted", bad)
		}
	}
}

// Ctrl-C (a cancelled context) ends an interactive session waiting for
// input, with a note, and exit 130 (128+SIGINT).
func TestInteractInterrupted(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := explorer.DialSMTP(ctx, explorer.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	in, w := io.Pipe() // input that never ends
	defer w.Close()
	done := make(chan error)
	go func() { done <- interact(ctx, in, s.Session, s.Line, s.WatchIdle, nil) }()
	w.Write([]byte("NOOP\n"))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if evs := s.Events(); strings.HasPrefix(evs[len(evs)-1].Line, "502") {
			break // the reply is in: now the session waits for input
		}
	}
	cancel()
	select {
	case err := <-done:
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitInterrupted {
			t.Errorf("err = %v, want exit 130", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("interact did not return after the interrupt")
	}
	var lines []string
	for _, e := range s.Events() {
		lines = append(lines, e.Line)
	}
	got := strings.Join(lines, "\n")
	if !strings.Contains(got, "502 5.5.2") || !strings.Contains(got, "interrupted") || !s.Closed() {
		t.Errorf("trace:\n%s", got)
	}
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// The automatic login never sends credentials without TLS unless
// --allow-plaintext-auth, and checks what the server offers first.
func TestAutoLoginNeedsTLS(t *testing.T) {
	l, _ := startTestLab(t)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	smtpSrv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply) // offers AUTH in clear
	popSrv := newLineServer(t, "+OK POP3 ready\r\n", pop3Reply)     // USER in CAPA, no STLS
	cases := []struct {
		name string
		args []string
		code int
		last string
	}{
		{"smtp, AUTH only after STARTTLS", []string{"smtp", "--user", "alice", l.Addr("submission")}, exitUsage, "this server offers AUTH only after STARTTLS (its EHLO lists no AUTH on a clear connection): add --starttls"},
		{"smtp, AUTH offered in clear", []string{"smtp", "--user", "alice", smtpSrv.Addr()}, exitUsage, "not sending the password over a connection without TLS: add --starttls"},
		{"smtp, no AUTH on the MX port", []string{"smtp", "--starttls", "--insecure", "--user", "alice", l.Addr("smtp")}, exitFailed, "offers no AUTH here"},
		{"smtp, mechanism not offered", []string{"smtp", "--user", "alice", "--auth", "CRAM-MD5", "--allow-plaintext-auth", smtpSrv.Addr()}, exitFailed, "does not offer AUTH CRAM-MD5 (it offers PLAIN LOGIN)"},
		{"pop3 PLAIN, only after STLS", []string{"pop3", "--user", "alice", "--auth", "PLAIN", l.Addr("pop3")}, exitUsage, "offers AUTH PLAIN only after STLS"},
		{"pop3 USER in clear", []string{"pop3", "--user", "alice", popSrv.Addr()}, exitUsage, "not sending credentials over a connection without TLS"},
		{"pop3 APOP in clear", []string{"pop3", "--user", "alice", "--auth", "APOP", l.Addr("pop3")}, exitUsage, "APOP sends a digest"},
		{"pop3 PLAIN not offered", []string{"pop3", "--user", "alice", "--auth", "PLAIN", "--allow-plaintext-auth", popSrv.Addr()}, exitFailed, "does not offer AUTH PLAIN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runIO(t, "QUIT\n", tc.args...)
			if code != tc.code || !strings.Contains(lastLine(out), tc.last) {
				t.Errorf("exit %d (want %d), last line %q lacks %q:\n%s", code, tc.code, lastLine(out), tc.last, out)
			}
			for _, leak := range []string{"-> AUTH", "~> AUTH", "-> PASS", "-> APOP", "-> USER"} {
				if strings.Contains(out, leak) {
					t.Errorf("sent %q:\n%s", leak, out)
				}
			}
		})
	}
	for _, got := range append(smtpSrv.Lines(), popSrv.Lines()...) {
		if v, _, _ := strings.Cut(got, " "); v == "AUTH" || v == "PASS" || v == "USER" {
			t.Errorf("a server got %q", got)
		}
	}
}

// A failed automatic login ends the session with exit 1 and the reply.
func TestAutoLoginFailureExits(t *testing.T) {
	l, ca := startTestLab(t)
	t.Setenv("POSTLAB_PASSWORD", "wrong")
	tlsArgs := []string{"--starttls", "--ca", ca, "--servername", l.Hostname(), "--user", "alice"}
	out, code := runIO(t, "QUIT\r\n", append(append([]string{"smtp"}, tlsArgs...), l.Addr("submission"))...)
	if code != exitFailed || !strings.HasPrefix(lastLine(out), "postlab: auth refused: 535 5.7.8") || !strings.Contains(out, "~> QUIT") {
		t.Errorf("smtp: exit %d, last line %q:\n%s", code, lastLine(out), out)
	}
	out, code = runIO(t, "QUIT\r\n", append(append([]string{"pop3"}, tlsArgs...), l.Addr("pop3"))...)
	if code != exitFailed || !strings.HasPrefix(lastLine(out), "postlab: auth refused: -ERR [AUTH]") {
		t.Errorf("pop3: exit %d, last line %q:\n%s", code, lastLine(out), out)
	}
}

// A malformed reply sets exit 3, and a QUIT that was sent is not called missing.
func TestInteractMalformedReplyExit(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", func(l string, inData *bool) string {
		if strings.EqualFold(l, "QUIT") {
			return "221Bye\r\n"
		}
		return smtpReply(l, inData)
	})
	out, code := runIO(t, "NOOP\r\nQUIT\r\n", "smtp", "--no-notes", srv.Addr())
	if code != exitNetwork || !strings.HasPrefix(lastLine(out), "postlab: quit: malformed reply: no space or hyphen after the reply code") || !strings.HasSuffix(lastLine(out), ": the server breaks the protocol; report it to its administrator") {
		t.Errorf("exit %d, last line %q:\n%s", code, lastLine(out), out)
	}
	if strings.Contains(out, "without QUIT") || !strings.Contains(out, "== no proper reply to QUIT") {
		t.Errorf("closing note:\n%s", out)
	}
}

// A 421 the server sends while the user types nothing is shown at once,
// and the session ends with exit 1.
func TestInteractShowsUnpromptedClose(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", func(l string, inData *bool) string {
		if strings.EqualFold(l, "NOOP") {
			return "250 2.0.0 ok\r\n421 4.4.2 mx.test idle for too long\r\n"
		}
		return smtpReply(l, inData)
	})
	in, w := io.Pipe() // input that never ends
	defer w.Close()
	go w.Write([]byte("NOOP\r\n"))
	root := newRoot()
	root.SetArgs([]string{"smtp", "--no-notes", srv.Addr()})
	root.SetIn(in)
	var out bytes.Buffer
	root.SetOut(&out)
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the 421 was not shown until more input came")
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailed || !strings.Contains(ee.Error(), "the server closed the session: 421 4.4.2 mx.test idle for too long") {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(out.String(), "<- 421 4.4.2 mx.test idle for too long\n") || !strings.Contains(out.String(), "unprompted") {
		t.Errorf("output:\n%s", out.String())
	}
}

// Credentials typed after a refused AUTH stay masked on screen and in --trace-out.
func TestSMTPCommandMasksOrphanCredentials(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", func(l string, inData *bool) string {
		if strings.HasPrefix(strings.ToUpper(l), "AUTH") {
			return "502 5.5.1 AUTH not available on this port\r\n"
		}
		return smtpReply(l, inData)
	})
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	payload := "AGFsaWNlAHdvbmRlcmxhbmQ=" // \0alice\0wonderland
	out, code := runIO(t, "EHLO x\r\nAUTH PLAIN\r\n"+payload+"\r\nQUIT\r\n", "smtp", "--trace-out", trace, srv.Addr())
	b, _ := os.ReadFile(trace)
	for name, text := range map[string]string{"output": out, "trace": string(b)} {
		if strings.Contains(text, payload) || strings.Contains(text, "d29uZGVybGFuZA") || strings.Contains(text, "wonderland") {
			t.Errorf("password in the %s:\n%s", name, text)
		}
	}
	if code != exitOK || !strings.Contains(out, "-> AGFsaWNl****\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if got := srv.Lines(); len(got) < 3 || got[2] != payload {
		t.Errorf("the server did not get the line as typed: %q", got)
	}
}

// A failed handshake names its stage once, with what to do.
func TestTLSFailureOneLine(t *testing.T) {
	l, _ := startTestLab(t)
	for _, args := range [][]string{
		{"smtp", "--starttls", l.Addr("smtp")},
		{"send", "--starttls", "--server", l.Addr("smtp"), "--from", "a@postlab.test", "--to", "bob@postlab.test"},
	} {
		out, code := runIO(t, "QUIT\n", args...)
		last := lastLine(out)
		if code != exitNetwork || strings.Contains(last, "tls: tls:") || !strings.Contains(last, "tls: certificate verification failed") || !strings.Contains(last, "--insecure") {
			t.Errorf("%v: exit %d, last line %q", args, code, last)
		}
	}
}

// Flag help names values consistently: --auth MECH on all three, and no
// backquoted text turned into a value name.
func TestConnFlagHelp(t *testing.T) {
	for _, c := range []string{"smtp", "pop3", "send"} {
		help, _ := runIO(t, "", c, "--help")
		for _, l := range strings.Split(help, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "--allow-plaintext-auth":
				if f[1] != "let" {
					t.Errorf("%s: --allow-plaintext-auth shows a value name: %q", c, l)
				}
			case "--auth":
				if f[1] != "MECH" {
					t.Errorf("%s: --auth shows %q, want MECH: %q", c, f[1], l)
				}
			}
		}
	}
}

// A line with octets that are not ASCII is escaped once in the error line,
// and the error names the stage first.
func TestMalformedGreetingEscapedOnce(t *testing.T) {
	srv := newLineServer(t, "220 \xff\xfe bad \x1b[31m red\r\n", smtpReply)
	out, code := runIO(t, "QUIT\r\n", "smtp", "--no-notes", srv.Addr())
	want := `postlab: banner: malformed reply: octet 0xff at column 5 is not US-ASCII: "220 \xff\xfe bad \x1b[31m red": the server breaks the protocol`
	if code != exitNetwork || !strings.HasPrefix(lastLine(out), want) {
		t.Errorf("exit %d, last line %q, want %q", code, lastLine(out), want)
	}
	if !strings.Contains(out, `** error: malformed reply: octet 0xff at column 5 is not US-ASCII: "220 \xff\xfe bad \x1b[31m red"`+"\n") {
		t.Errorf("error event escaped twice:\n%s", out)
	}
}

// A failed STARTTLS ends with one error line and one "connection closed",
// whether --starttls asked for it or the user typed it.
func TestFailedStartTLSReportedOnce(t *testing.T) {
	l, _ := startTestLab(t)
	refuse := newLineServer(t, "220 mx.test ESMTP\r\n", func(line string, inData *bool) string {
		switch strings.ToUpper(line) {
		case "STARTTLS":
			return "454 4.7.0 TLS not available\r\n"
		case "EHLO LOCALHOST", "EHLO X":
			return "250-mx.test\r\n250 STARTTLS\r\n"
		}
		return smtpReply(line, inData)
	})
	inject := newLineServer(t, "220 mx.test ESMTP\r\n", func(line string, inData *bool) string {
		switch strings.ToUpper(line) {
		case "STARTTLS":
			return "220 go ahead\r\n250 injected\r\n"
		case "EHLO LOCALHOST", "EHLO X":
			return "250-mx.test\r\n250 STARTTLS\r\n"
		}
		return smtpReply(line, inData)
	})
	for _, srv := range []string{l.Addr("submission"), refuse.Addr(), inject.Addr()} {
		for _, typed := range []bool{false, true} {
			args, in := []string{"smtp", "--no-notes", "--helo", "localhost", "--starttls", srv}, ""
			if typed {
				args, in = []string{"smtp", "--no-notes", srv}, "EHLO x\r\nSTARTTLS\r\nQUIT\r\n"
			}
			out, code := runIO(t, in, args...)
			lines := 1
			if typed && srv == refuse.Addr() {
				lines = 0 // a refusal of a typed command is the user's to read: exit 0
			}
			if (code == exitOK) != (lines == 0) || strings.Count(out, "\n** error") > 1 || strings.Count(out, "== connection closed") != 1 || strings.Count(out, "postlab: ") != lines {
				t.Errorf("%s typed=%v: exit %d:\n%s", srv, typed, code, out)
			}
		}
	}
}
