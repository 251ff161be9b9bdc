package lab

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"postlab/diag"
)

// labTXT looks TXT records up in the lab's own DNS zone, as a receiver's
// resolver would.
func labTXT(t *testing.T, l *Lab) func(string) ([]string, error) {
	t.Helper()
	addr := l.Addr(ListenerDNS)
	if addr == "" {
		t.Fatal("the lab's DNS listener is off")
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	return func(name string) ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return r.LookupTXT(ctx, name)
	}
}

// verifyDKIM verifies every signature of msg against the lab's DNS.
func verifyDKIM(t *testing.T, l *Lab, msg []byte) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: labTXT(t, l)})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	return vs
}

// splitLabFields cuts the fields the lab adds (Return-Path, the envelope
// fields of the outbox, Received) and the DKIM-Signature below them off a
// stored message.
func splitLabFields(t *testing.T, b []byte) (added []string, sig, rest string) {
	t.Helper()
	s := string(b)
	for {
		name, _, ok := strings.Cut(s, ":")
		if !ok {
			return added, sig, s
		}
		end := 0
		for {
			i := strings.Index(s[end:], "\r\n")
			if i < 0 {
				t.Fatalf("unterminated field in %q", s)
			}
			end += i + 2
			if end >= len(s) || (s[end] != ' ' && s[end] != '\t') {
				break
			}
		}
		switch {
		case name == "DKIM-Signature" && sig == "":
			sig = s[:end]
		case sig == "" && (name == "Return-Path" || name == "Received" || strings.HasPrefix(name, "X-Postlab-Envelope-")):
			added = append(added, name)
		default:
			return added, sig, s
		}
		s = s[end:]
	}
}

const signedMsg = "From: Alice <alice@postlab.test>\r\n" +
	"To: bob@postlab.test\r\n" +
	"Subject: signed  by the lab \r\n" +
	"Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n" +
	"Message-ID: <dkim-1@postlab.test>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"X-Mailer: test\r\n" +
	"\r\n" +
	"Hi Bob,  \r\n" +
	"..a line that was dot-stuffed.\r\n" +
	"\r\n\r\n"

func traceHas(l *Lab, sub string) bool {
	for _, ev := range l.Traces().Recent(0) {
		if strings.Contains(ev.Line, sub) {
			return true
		}
	}
	return false
}

func TestDKIMSignsSubmission(t *testing.T) {
	l := startLab(t)
	c := dialTLS(t, l, l.Addr(ListenerSubmissions))
	c.greet()
	c.login("alice", "wonderland")
	c.sendMail("alice@postlab.test", []string{"bob@postlab.test", "dave@example.org"}, signedMsg)
	sent := strings.Replace(signedMsg, "\r\n..a", "\r\n.a", 1) // as DATA carries it, unstuffed

	for _, box := range []string{"bob", Outbox} {
		stored := readNew(t, l, box)
		added, sig, rest := splitLabFields(t, stored)
		want := []string{"Return-Path", "Received"}
		if box == Outbox {
			want = []string{"X-Postlab-Envelope-From", "X-Postlab-Envelope-To", "Received"}
		}
		if strings.Join(added, ",") != strings.Join(want, ",") || sig == "" {
			t.Fatalf("%s: fields %v above a signature %q, want %v above one:\n%s", box, added, sig, want, stored)
		}
		if rest != sent {
			t.Errorf("%s: the message is not stored byte for byte below the signature:\n%q\nwant\n%q", box, rest, sent)
		}
		for tag, want := range map[string]string{"v": "1", "a": "rsa-sha256", "c": "relaxed/relaxed", "d": "postlab.test", "s": "lab",
			"h": "from:to:subject:date:message-id:mime-version:content-type"} {
			if got := dkimTag(sig, tag); got != want {
				t.Errorf("%s: %s=%q, want %q", box, tag, got, want)
			}
		}
		vs := verifyDKIM(t, l, stored)
		if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "postlab.test" {
			t.Fatalf("%s: verification %+v", box, vs)
		}

		// The same check as postlab headers.
		r, err := diag.NewHeadersResolver(l.Addr(ListenerDNS), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rep := diag.AnalyzeHeaders(stored, diag.HeadersOptions{LookupTXT: r.LookupTXT})
		if len(rep.DKIM) != 1 || rep.DKIM[0].Result != "pass" || rep.DKIM[0].Domain != "postlab.test" || rep.DKIM[0].Selector != "lab" {
			t.Errorf("%s: postlab headers says %+v", box, rep.DKIM)
		}

		// The signature must be able to fail: one changed body byte.
		tampered := bytes.Replace(stored, []byte("Hi Bob"), []byte("Hi Rob"), 1)
		if vs := verifyDKIM(t, l, tampered); len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("%s: a changed body still verifies", box)
		}
	}
	if !traceHas(l, "DKIM-signed with d=postlab.test s=lab") {
		t.Errorf("no signing note in the trace:\n%s", dump(l.Traces().Recent(0)))
	}
}

func TestDKIMSignsOverSTARTTLSAndOnlyTheLabDomain(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSubmission))
	c.greet()
	c.starttls(l)
	c.cmd("250", "EHLO client.example")
	c.login("bob", "builder")
	// The From: domain decides, not the envelope.
	c.sendMail("bob@postlab.test", []string{"alice@postlab.test"}, "From: bob@example.org\r\nTo: alice@postlab.test\r\nSubject: not ours\r\n\r\nHi.\r\n")
	stored := readNew(t, l, "alice")
	if _, sig, _ := splitLabFields(t, stored); sig != "" || bytes.Contains(stored, []byte("DKIM-Signature")) {
		t.Errorf("mail from example.org signed:\n%s", stored)
	}
	if !traceHas(l, "not DKIM-signed: its From: domain example.org is not postlab.test") {
		t.Errorf("the trace does not say why it is unsigned:\n%s", dump(l.Traces().Recent(0)))
	}

	c.sendMail("", []string{"alice@postlab.test"}, "from: =?utf-8?q?B=C3=B6b?= <BOB@PostLab.Test>\r\nSubject: x\r\n\r\nHi.\r\n")
	if files := newFiles(t, l, "alice"); len(files) != 2 {
		t.Fatalf("alice has %v", files)
	}
	if signed := signedVerified(t, l, "alice"); signed != 1 {
		t.Errorf("%d of the messages signed, want 1 (the one from the lab's domain)", signed)
	}
}

func TestDKIMNotOnMXPort(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr(ListenerSMTP))
	c.greet()
	c.sendMail("alice@postlab.test", []string{"bob@postlab.test"}, signedMsg)
	if b := readNew(t, l, "bob"); bytes.Contains(b, []byte("DKIM-Signature")) {
		t.Errorf("mail on the MX port signed:\n%s", b)
	}
	if traceHas(l, "DKIM-signed") {
		t.Errorf("the MX port's trace talks about signing:\n%s", dump(l.Traces().Recent(0)))
	}
}

func TestDKIMSignDecisions(t *testing.T) {
	l := startLab(t, func(c *Config) {
		c.SMTP, c.Submissions, c.POP3, c.POP3S = Off, Off, Off, Off
	})
	for _, tc := range []struct {
		name, msg, why string
	}{
		{"ours", "From: a@postlab.test\r\n\r\n", ""},
		{"ours, other case", "From: \"B, C\" <A@PostLab.Test>\r\n\r\nx\r\n", ""},
		{"another user", "From: b@postlab.test\r\n\r\n", "its From: <b@postlab.test> is not the address of the logged-in user a"},
		{"two authors, one another user", "From: a@postlab.test, \"B, C\" <b@postlab.test>\r\nSender: a@postlab.test\r\n\r\nx\r\n", "its From: <b@postlab.test> is not the address"},
		{"folded From", "From: Alice\r\n <a@postlab.test>\r\n\r\n", ""},
		{"one of two domains", "From: a@postlab.test, b@example.org\r\n\r\n", "its From: domain example.org is not postlab.test"},
		{"subdomain", "From: a@mail.postlab.test\r\n\r\n", "its From: domain mail.postlab.test is not postlab.test"},
		{"no From", "Subject: x\r\n\r\n", "no From: field"},
		{"two From", "From: a@postlab.test\r\nFrom: b@postlab.test\r\n\r\n", "2 From: fields"},
		{"not an address", "From: nobody\r\n\r\n", "is not an address"},
		{"no empty line", "From: a@postlab.test\r\nSubject: x\r\n", "no empty line after its header section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, why := dkimSign(l.dkimKey, "postlab.test", "a", strings.NewReader(tc.msg), int64(len(tc.msg)))
			if tc.why == "" {
				if sig == "" {
					t.Fatalf("not signed: %s", why)
				}
				if vs := verifyDKIM(t, l, []byte(sig+tc.msg)); len(vs) != 1 || vs[0].Err != nil {
					t.Errorf("verification %+v", vs)
				}
				return
			}
			if sig != "" || !strings.Contains(why, tc.why) {
				t.Errorf("signature %q, why %q; want none because %q", sig, why, tc.why)
			}
		})
	}
}

// signedVerified counts the messages in box/new that carry a
// DKIM-Signature, and checks that each verifies against the lab's DNS.
func signedVerified(t *testing.T, l *Lab, box string) int {
	t.Helper()
	signed := 0
	for _, f := range newFiles(t, l, box) {
		b, err := l.Store().Raw(box, uidOf(f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("DKIM-Signature:")) {
			signed++
			if vs := verifyDKIM(t, l, b); len(vs) != 1 || vs[0].Err != nil {
				t.Errorf("verification %+v", vs)
			}
		}
	}
	return signed
}
