package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func pop3Reply(l string, _ *bool) string {
	verb, arg, _ := strings.Cut(l, " ")
	switch strings.ToUpper(verb) {
	case "CAPA":
		return "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n"
	case "USER":
		return "+OK\r\n"
	case "PASS":
		if arg == "wonderland" {
			return "+OK maildrop has 1 message\r\n"
		}
		return "-ERR [AUTH] invalid login\r\n"
	case "STAT":
		return "+OK 1 40\r\n"
	case "LIST":
		if arg != "" {
			return "+OK 1 40\r\n"
		}
		return "+OK\r\n1 40\r\n.\r\n"
	case "UIDL":
		return "+OK\r\n1 abc\r\n.\r\n"
	case "RETR", "TOP":
		return "+OK 40 octets\r\nSubject: hi\r\n\r\n..dotted\r\n.\r\n"
	case "DELE", "NOOP", "RSET":
		return "+OK\r\n"
	case "QUIT":
		return "+OK bye\r\n"
	}
	return "-ERR unknown command\r\n"
}

func TestPOP3CommandPiped(t *testing.T) {
	srv := newLineServer(t, "+OK POP3 ready <1.2@mx.test>\r\n", pop3Reply)
	in := "CAPA\r\nUSER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 1 0\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n"
	out, code := runIO(t, in, "pop3", "--no-color", srv.Addr())
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"-> PASS ****", "<- ..dotted", "<- +OK bye", "-> RETR 1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wonderland") {
		t.Error("password in the output")
	}
	if got := len(srv.Lines()); got != 12 {
		t.Errorf("server got %d lines: %q", got, srv.Lines())
	}
}

func TestPOP3CommandLogin(t *testing.T) {
	srv := newLineServer(t, "+OK POP3 ready\r\n", pop3Reply)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	out, code := runIO(t, "STAT\nQUIT\n", "pop3", "--user", "alice", "--allow-plaintext-auth", srv.Addr())
	if code != exitOK || !strings.Contains(out, "<- +OK 1 40") || !strings.Contains(out, "-> PASS ****") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = runIO(t, "", "pop3", "--user", "alice", "--auth", "nope", srv.Addr())
	if code != exitUsage {
		t.Errorf("bad --auth: exit %d:\n%s", code, out)
	}
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// Golden files of the rendered line-mode trace (bare, so that they do not
// change with every edit of the knowledge base).
func TestRenderedTraceGolden(t *testing.T) {
	cases := []struct {
		name, greeting, in string
		reply              func(string, *bool) string
		args               []string
	}{
		{"smtp_session", "220 mx.test ESMTP\r\n", "EHLO client.test\r\nMAIL FROM:<alice@postlab.test>\r\nRCPT TO:<nobody@postlab.test>\r\nRCPT TO:<bob@postlab.test>\r\nDATA\r\nSubject: hi\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n", smtpReply, []string{"smtp"}},
		{"pop3_session", "+OK POP3 ready <1.2@mx.test>\r\n", "CAPA\r\nUSER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n", pop3Reply, []string{"pop3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newLineServer(t, tc.greeting, tc.reply)
			out, code := runIO(t, tc.in, append(tc.args, "--no-notes", srv.Addr())...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			got := []byte(portRE.ReplaceAllString(out, "127.0.0.1:PORT"))
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(path, got, 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("rendered trace differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// --starttls against a server without it stops instead of going on in clear.
func TestStartTLSRefusedStops(t *testing.T) {
	pop := newLineServer(t, "+OK ready\r\n", pop3Reply)
	out, code := runIO(t, "USER alice\n", "pop3", "--starttls", pop.Addr())
	if code != exitFailed || !strings.Contains(out, "tls refused: -ERR") || !strings.Contains(out, "not continuing without TLS") || strings.Contains(out, "-> USER alice") {
		t.Errorf("pop3: exit %d:\n%s", code, out)
	}
	smtp := newLineServer(t, "220 mx.test\r\n", smtpReply)
	out, code = runIO(t, "MAIL FROM:<a@b>\n", "smtp", "--starttls", smtp.Addr())
	if code != exitFailed || !strings.Contains(out, "tls refused: 502") || !strings.Contains(out, "not continuing without TLS; its EHLO does not offer STARTTLS") || strings.Contains(out, "-> MAIL") || !strings.Contains(out, "-> QUIT") {
		t.Errorf("smtp: exit %d:\n%s", code, out)
	}
}
