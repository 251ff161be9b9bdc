package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCapture runs the command line like run does, capturing stdout.
func runCapture(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK, out.String()
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String()
	}
	return exitUsage, out.String()
}

func bounceFixture(name string) string {
	return filepath.Join("..", "..", "diag", "testdata", "bounce", name)
}

func TestExplainCommand(t *testing.T) {
	code, out := runCapture(t, "explain", "550", "5.7.1", "<x@example.com>:", "Relay", "access", "denied")
	if code != exitOK || !strings.Contains(out, "norelaying") || !strings.Contains(out, "fix:") {
		t.Fatalf("code %d out %s", code, out)
	}
	code, out = runCapture(t, "explain", "--json", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints")
	var e struct {
		Provider  string `json:"provider"`
		Permanent bool   `json:"permanent"`
		Reason    string `json:"reason"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &e) != nil || e.Provider != "Yahoo" || e.Permanent || e.Reason != "blocked" {
		t.Fatalf("json: code %d %+v %s", code, e, out)
	}
	if code, _ := runCapture(t, "explain"); code != exitUsage {
		t.Errorf("no argument: exit %d", code)
	}
}

func TestBounceCommand(t *testing.T) {
	code, out := runCapture(t, "bounce", "--json", bounceFixture("postfix.eml"))
	var rep struct {
		IsBounce bool `json:"is_bounce"`
		Results  []map[string]any
	}
	if code != exitFailed || json.Unmarshal([]byte(out), &rep) != nil || !rep.IsBounce || len(rep.Results) != 1 {
		t.Fatalf("code %d out %s", code, out)
	}
	for _, k := range []string{"recipient", "reason", "status", "reply_code", "hard_bounce", "remote_mta", "diagnostic", "explanation", "fix"} {
		if _, ok := rep.Results[0][k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	code, out = runCapture(t, "bounce", bounceFixture("vacation.eml"))
	if code != exitOK || !strings.Contains(out, "Not a bounce: auto-reply") {
		t.Errorf("vacation: code %d out %s", code, out)
	}
	if code, _ := runCapture(t, "bounce", filepath.Join(t.TempDir(), "missing.eml")); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestHeadersCommand(t *testing.T) {
	msg := "Received: from b.example by c.example with ESMTPS id 2; Mon, 10 Mar 2025 10:00:30 +0000\r\n" +
		"Received: from a.example (a.example [192.0.2.1]) by b.example with ESMTP id 1; Mon, 10 Mar 2025 10:00:00 +0000\r\n" +
		"Authentication-Results: c.example; spf=pass smtp.mailfrom=a.example\r\n" +
		"From: x@a.example\r\n\r\nhi\r\n"
	p := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(p, []byte(msg), 0o600)
	code, out := runCapture(t, "headers", "--json", "--no-dns", p)
	var rep struct {
		ReceivedCount int `json:"received_count"`
		Hops          []struct {
			N      int    `json:"n"`
			By     string `json:"by"`
			DelayS *int64 `json:"delay_s"`
		} `json:"hops"`
		AuthenticationResults []struct {
			AuthservID string `json:"authserv_id"`
		} `json:"authentication_results"`
		ARC struct {
			Sets    int    `json:"sets"`
			Verdict string `json:"verdict"`
		} `json:"arc"`
		DKIM     []any    `json:"dkim"`
		Warnings []string `json:"warnings"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("code %d out %s", code, out)
	}
	if rep.ReceivedCount != 2 || rep.Hops[0].N != 1 || rep.Hops[0].By != "b.example" || rep.Hops[0].DelayS != nil || rep.Hops[1].DelayS == nil || *rep.Hops[1].DelayS != 30 ||
		rep.AuthenticationResults[0].AuthservID != "c.example" || rep.ARC.Verdict != "none" || rep.DKIM == nil || rep.Warnings == nil {
		t.Errorf("report: %+v", rep)
	}

	// A DKIM signature and a resolver that does not answer: network failure.
	signed := "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=a.example; s=s1; h=from; bh=AAAA; b=AAAA\r\n" + msg
	os.WriteFile(p, []byte(signed), 0o600)
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close()
	if code, out := runCapture(t, "headers", "--resolver", addr, "--timeout", "300ms", p); code != exitNetwork {
		t.Errorf("unreachable resolver: exit %d, out %s", code, out)
	}
}

func TestExplainCommandPOP3Line(t *testing.T) {
	code, out := runCapture(t, "explain", "-ERR", "[IN-USE]", "mailbox", "locked")
	if code != exitOK || !strings.Contains(out, "IN-USE") || !strings.Contains(out, "RFC 2449") {
		t.Errorf("code %d out %s", code, out)
	}
	code, out = runCapture(t, "explain", "--json", "--", "-ERR", "--json")
	if code != exitOK || !strings.Contains(out, `"input": "-ERR --json"`) {
		t.Errorf("code %d out %s", code, out)
	}
}

// Input that is no reply is refused (exit 2), and so are mistyped flags;
// a POP3 -ERR line works as one quoted argument, and text that starts
// with '-' works after --.
func TestExplainCommandRefusesNonReplies(t *testing.T) {
	for _, args := range [][]string{{"999"}, {"hello", "world"}, {"--bogus-flag"}, {"--jsn", "550"}, {"550", "--bogus"}} {
		code, out := runCapture(t, append([]string{"explain"}, args...)...)
		if code != exitUsage || strings.Contains(out, "meaning:") {
			t.Errorf("explain %q: exit %d, out %s", args, code, out)
		}
	}
	code, out := runCapture(t, "explain", "-ERR [IN-USE] mailbox locked", "--json")
	if code != exitOK || !strings.Contains(out, `"kind": "pop3"`) || !strings.Contains(out, "IN-USE") {
		t.Errorf("quoted -ERR: exit %d, out %s", code, out)
	}
	code, out = runCapture(t, "explain", "--json", "550")
	if code != exitOK || !strings.Contains(out, `"refs": [`) || strings.Contains(out, "null") {
		t.Errorf("refs: exit %d, out %s", code, out)
	}
	if code, out := runCapture(t, "explain", "--help"); code != exitOK || !strings.Contains(out, "postlab explain '-ERR [IN-USE] mailbox locked'") {
		t.Errorf("help: exit %d, out %s", code, out)
	}
}

// Untrusted text is never written raw: an escape sequence in the input
// comes out as visible \x1b escapes.
func TestExplainCommandEscapesControls(t *testing.T) {
	code, out := runCapture(t, "explain", "550 5.1.1 \x1b[2J\x1b]0;pwned\x07 user unknown")
	if code != exitOK || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `\x1b[2J\x1b]0;pwned\x07`) {
		t.Errorf("exit %d, out %q", code, out)
	}
	if code, out := runCapture(t, "explain", "\x1b[31m"); code != exitUsage || strings.Contains(out, "\x1b") {
		t.Errorf("unrecognised: exit %d, out %q", code, out)
	}
}

// A malformed header line is quoted in a note: its escape sequences must
// not reach the terminal.
func TestBounceCommandEscapesControls(t *testing.T) {
	p := filepath.Join(t.TempDir(), "e.eml")
	os.WriteFile(p, []byte("Subject: ok\r\n\x1b[2J\x1b]0;pwned\x07 x\r\n\r\nb\r\n"), 0o600)
	code, out := runCapture(t, "bounce", p)
	if code != exitOK || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `\x1b`) {
		t.Errorf("exit %d, out %q", code, out)
	}
}

// Delayed recipients are no failures: not counted, shown apart, and a
// delay notice alone exits 0.
func TestBounceCommandDelayed(t *testing.T) {
	code, out := runCapture(t, "bounce", bounceFixture("rfc3464-multi.eml"))
	if code != exitFailed || !strings.Contains(out, "2 recipients failed; 1 recipient delayed") || !strings.Contains(out, "johnh@hpnjld.njd.hp.com (delayed") {
		t.Errorf("mixed: exit %d, out %s", code, out)
	}
	code, out = runCapture(t, "bounce", bounceFixture("postfix-delay.eml"))
	// Counted as delayed, never as failed or expired; the fix is to wait.
	if code != exitOK || !strings.Contains(out, "delay notice") || strings.Contains(out, "failed;") ||
		strings.Contains(out, "expired") || strings.Contains(out, "Send again") || !strings.Contains(out, "Wait") {
		t.Errorf("delay: exit %d, out %s", code, out)
	}
	code, out = runCapture(t, "bounce", "--json", bounceFixture("rfc3464-multi.eml"))
	var rep struct {
		Results []struct{ Recipient string } `json:"results"`
		Delayed []struct{ Recipient string } `json:"delayed"`
	}
	if json.Unmarshal([]byte(out), &rep) != nil || len(rep.Results) != 2 || len(rep.Delayed) != 1 {
		t.Errorf("json: exit %d, %+v", code, rep)
	}
}

// One hop is "1 hop"; delays of 0 s everywhere are no "biggest delay";
// header values cannot smuggle escape sequences to the terminal.
func TestHeadersCommandWording(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(p, []byte("Received: from a.example by b.example with ESMTP id 1; Mon, 10 Mar 2025 10:00:00 +0000\r\nFrom: x@a.example\r\n\r\nhi\r\n"), 0o600)
	code, out := runCapture(t, "headers", "--no-dns", p)
	if code != exitOK || !strings.Contains(out, "(1 hop, oldest first)") {
		t.Errorf("one hop: exit %d, out %s", code, out)
	}
	os.WriteFile(p, []byte("Received: from b.example by c.example with ESMTP id 2; Mon, 10 Mar 2025 10:00:00 +0000\r\n"+
		"Received: from a.example by b.example with ESMTP id 1\x1b]0;pwned\x07; Mon, 10 Mar 2025 10:00:00 +0000\r\n"+
		"Authentication-Results: c.example; dkim=fail (body hash did not verify\x1b[2J) header.d=a.example\r\nFrom: x@a.example\r\n\r\nhi\r\n"), 0o600)
	code, out = runCapture(t, "headers", "--no-dns", p)
	if code != exitOK || strings.Contains(out, "biggest delay") || !strings.Contains(out, "no measurable delay") ||
		strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "body hash did not verify") {
		t.Errorf("zero delays: exit %d, out %q", code, out)
	}
}

// Every example in the help of explain, bounce and headers runs as shown.
func TestTroubleshootHelpExamplesWork(t *testing.T) {
	root := newRoot()
	for _, name := range []string{"explain"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(c.Example, "\n") {
			args := shellWords(t, strings.TrimSpace(line))
			if len(args) < 2 || args[0] != "postlab" {
				continue
			}
			if code, out := runCapture(t, args[1:]...); code != exitOK || !strings.Contains(out, "meaning") {
				t.Errorf("%s: exit %d, out %s", line, code, out)
			}
		}
	}
}

// shellWords splits a help example like a POSIX shell would for the
// quoting the examples use (single quotes only).
func shellWords(t *testing.T, s string) []string {
	var out []string
	var b strings.Builder
	in, have := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, have = !in, true
		case r == ' ' && !in:
			if have {
				out = append(out, b.String())
			}
			b.Reset()
			have = false
		default:
			b.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, b.String())
	}
	if in {
		t.Fatalf("unbalanced quote in %q", s)
	}
	return out
}
