package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
	"postlab/explorer/lab"
)

func startTestLab(t *testing.T) (*lab.Lab, string) {
	t.Helper()
	l, err := lab.Start(lab.Config{
		DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: "127.0.0.1:0", Submissions: "127.0.0.1:0",
		POP3: "127.0.0.1:0", POP3S: "127.0.0.1:0", DNS: "off", AuthFailDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, l.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return l, ca
}

// bobMessages reads bob's mailbox over POP3S.
func bobMessages(t *testing.T, l *lab.Lab) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := explorer.DialPOP3(ctx, explorer.Options{Addr: l.Addr("pop3s"), Security: explorer.ImplicitTLS, RootCAs: l.CertPool(), ServerName: l.Hostname()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Login(ctx, "bob", "builder"); err != nil {
		t.Fatal(err)
	}
	list, _, _ := c.List(ctx, 0)
	var out []string
	for _, e := range list {
		r, err := c.Retr(ctx, e.Num)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(r.Lines, "\n"))
	}
	c.Quit(ctx)
	return out
}

func TestSendToLab(t *testing.T) {
	l, ca := startTestLab(t)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	base := []string{"send", "--from", "alice@postlab.test", "--to", "bob@postlab.test", "--no-color"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"mx plain", []string{"--server", l.Addr("smtp"), "--subject", "plain"}, []string{"-> MAIL FROM:<alice@postlab.test>", "== accepted by"}},
		{"mx starttls", []string{"--server", l.Addr("smtp"), "--starttls", "--ca", ca, "--servername", l.Hostname(), "--subject", "starttls"}, []string{"-> STARTTLS", "~> MAIL FROM:", `verification for "mail.postlab.test": passed`}},
		{"submission", []string{"--server", l.Addr("submission"), "--starttls", "--ca", ca, "--servername", l.Hostname(), "--user", "alice", "--subject", "submission"}, []string{"~> AUTH PLAIN AGFsaWNl****", "<~ 235"}},
		{"submissions login", []string{"--server", l.Addr("submissions"), "--tls", "--insecure", "--user", "alice", "--auth", "login", "--subject", "submissions"}, []string{"~> AUTH LOGIN", "~> ****", "NOT verified"}},
		{"cram-md5 bdat", []string{"--server", l.Addr("submissions"), "--tls", "--ca", ca, "--servername", l.Hostname(), "--user", "alice", "--auth", "CRAM-MD5", "--bdat", "--chunk-size", "50", "--subject", "bdat"}, []string{"~> BDAT 50", "LAST"}},
		{"8bit body", []string{"--server", l.Addr("smtp"), "--subject", "8bit", "--body", "Grüße"}, []string{"SIZE=", "BODY=8BITMIME", "-> Grüße"}},
		{"no pipelining, headers, timing", []string{"--server", l.Addr("smtp"), "--no-pipelining", "--header", "X-Test: yes", "--subject", "headers", "--body", "line one\n.dotted", "--timing"}, []string{"-> X-Test: yes", "-> ..dotted", "== timing: rcpt took"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runIO(t, "", append(base, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "wonderland") || strings.Contains(out, "d29uZGVybGFuZA") {
				t.Error("password in the output")
			}
		})
	}
	msgs := bobMessages(t, l)
	if len(msgs) != len(cases) {
		t.Fatalf("bob got %d messages, want %d", len(msgs), len(cases))
	}
	all := strings.Join(msgs, "\n----\n")
	for _, w := range []string{"Subject: bdat", "X-Test: yes", "\n.dotted", "Subject: submissions"} {
		if !strings.Contains(all, w) {
			t.Errorf("delivered messages lack %q:\n%s", w, all)
		}
	}
}

func TestSendFailures(t *testing.T) {
	l, _ := startTestLab(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	cases := []struct {
		name string
		args []string
		code int
		last string // in the last line of the output
	}{
		{"unknown recipient", []string{"--server", l.Addr("smtp"), "--to", "nobody@postlab.test"}, exitFailed, "rcpt refused"},
		{"unknown recipient, no pipelining", []string{"--server", l.Addr("smtp"), "--no-pipelining", "--to", "nobody@postlab.test"}, exitFailed, "rcpt refused"},
		{"one of two refused", []string{"--server", l.Addr("smtp"), "--to", "bob@postlab.test", "--to", "nobody@postlab.test"}, exitFailed, "1 of 2 recipients"},
		{"relay denied", []string{"--server", l.Addr("smtp"), "--to", "someone@example.com"}, exitFailed, "rcpt refused: 5"},
		{"auth refused, json", []string{"--server", l.Addr("submission"), "--user", "alice", "--to", "bob@postlab.test", "--json"}, exitFailed, "auth refused"},
		{"auth without TLS", []string{"--server", l.Addr("submission"), "--user", "alice", "--to", "bob@postlab.test"}, exitFailed, "auth refused"},
		{"untrusted certificate", []string{"--server", l.Addr("submissions"), "--tls", "--to", "bob@postlab.test"}, exitNetwork, "certificate"},
		{"refused connection", []string{"--server", dead, "--to", "bob@postlab.test"}, exitNetwork, "connection refused"},
		{"no --to", []string{"--server", dead}, exitUsage, "--to"},
		{"bad stage", []string{"--server", dead, "--to", "b@x", "--quit-after", "lunch"}, exitUsage, "quit-after"},
		{"data and body", []string{"--server", dead, "--to", "b@x", "--data", "f", "--body", "x"}, exitUsage, "--data"},
		{"bad header", []string{"--server", dead, "--to", "b@x", "--header", "nocolon"}, exitUsage, "header"},
	}
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runIO(t, "", append([]string{"send", "--no-color", "--from", "alice@postlab.test"}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != tc.code || !strings.Contains(lines[len(lines)-1], tc.last) {
				t.Errorf("exit %d (want %d), last line %q does not say %q:\n%s", code, tc.code, lines[len(lines)-1], tc.last, out)
			}
		})
	}
}

func TestSendQuitAfterAndJSON(t *testing.T) {
	l, _ := startTestLab(t)
	for _, stage := range sendStages {
		out, code := runIO(t, "", "send", "--server", l.Addr("smtp"), "--from", "a@postlab.test", "--to", "bob@postlab.test", "--quit-after", stage, "--json")
		if code != exitOK {
			t.Fatalf("%s: exit %d:\n%s", stage, code, out)
		}
		var res sendResult
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", stage, err, out)
		}
		if res.Accepted || res.Server != l.Addr("smtp") {
			t.Errorf("%s: %+v", stage, res)
		}
		want := stage
		if stage == "tls" || stage == "auth" {
			want = "ehlo" // neither step was asked for
		}
		if res.Stage != want {
			t.Errorf("--quit-after %s stopped at %q", stage, res.Stage)
		}
	}
	if n := len(bobMessages(t, l)); n != 0 {
		t.Errorf("--quit-after delivered %d messages", n)
	}
	out, code := runIO(t, "", "send", "--server", l.Addr("smtp"), "--from", "a@postlab.test", "--to", "bob@postlab.test", "--to", "nobody@postlab.test", "--json")
	var res sendResult
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != exitFailed {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if res.Stage != "data" {
		t.Errorf("stage %q, want data", res.Stage)
	}
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	out, code = runIO(t, "", "send", "--server", l.Addr("submission"), "--user", "alice", "--from", "alice@postlab.test", "--to", "bob@postlab.test", "--json")
	var authRes sendResult
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&authRes); err != nil || code != exitFailed || authRes.Stage != "auth" || authRes.Code/100 != 5 || authRes.Error == "" {
		t.Errorf("AUTH without TLS: exit %d, %+v, %v", code, authRes, err)
	}
	if res.Accepted || len(res.Recipients) != 2 || !res.Recipients[0].Accepted || res.Recipients[1].Accepted || res.Recipients[1].Code != 550 || res.Code != 250 {
		t.Errorf("summary %+v", res)
	}
}

// A DNS server with MX records for the practice domains.
func startDNS(t *testing.T, port string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	zone := map[string][]string{
		"postlab.test. MX":       {"postlab.test. 60 IN MX 20 backup.postlab.test.", "postlab.test. 60 IN MX 10 mx.postlab.test."},
		"mx.postlab.test. A":     {"mx.postlab.test. 60 IN A 127.0.0.1"},
		"backup.postlab.test. A": {"backup.postlab.test. 60 IN A 127.0.0.2"},
		"null.test. MX":          {"null.test. 60 IN MX 0 ."},
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		rrs, ok := zone[q.Name+" "+dns.TypeToString[q.Qtype]]
		known := false
		for k := range zone {
			known = known || strings.HasPrefix(k, q.Name+" ")
		}
		if !known {
			m.Rcode = dns.RcodeNameError
		}
		if ok {
			for _, s := range rrs {
				rr, _ := dns.NewRR(s)
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestSendViaMX(t *testing.T) {
	l, _ := startTestLab(t)
	_, port, _ := net.SplitHostPort(l.Addr("smtp"))
	resolver := startDNS(t, port)
	out, code := runIO(t, "", "send", "--resolver", resolver, "--port", port, "--from", "alice@postlab.test", "--to", "bob@postlab.test", "--no-notes")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "connected to 127.0.0.1:"+port) {
		t.Errorf("did not use the preferred MX:\n%s", out)
	}
	if len(bobMessages(t, l)) != 1 {
		t.Error("message not delivered")
	}
	for _, tc := range []struct {
		to   string
		code int
		want string
	}{
		{"x@null.test", exitFailed, "null MX"},
		{"x@nowhere.test", exitFailed, "NXDOMAIN"},
	} {
		out, code := runIO(t, "", "send", "--resolver", resolver, "--from", "a@b.test", "--to", tc.to)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d:\n%s", tc.to, code, out)
		}
	}
}

func TestBuildMessage(t *testing.T) {
	f := &sendFlags{from: "a@x.test", to: []string{"b@y.test", "c@y.test"}, subject: "s", body: "one\ntwo", headers: []string{"Subject: replaced", "X-A: 1"}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := f.buildMessage(strings.NewReader(""), now)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(b)
	for _, w := range []string{"Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n", "To: b@y.test, c@y.test\r\n", "Subject: replaced\r\n", "X-A: 1\r\n", "@x.test>\r\n", "\r\n\r\none\r\ntwo\r\n"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
	if strings.Count(msg, "Subject:") != 1 {
		t.Errorf("Subject not replaced:\n%s", msg)
	}
	f = &sendFlags{from: "a@x", to: []string{"b@y"}, body: "-"}
	b, _ = f.buildMessage(strings.NewReader("from stdin\n"), now)
	if !strings.HasSuffix(string(b), "\r\n\r\nfrom stdin\r\n") {
		t.Errorf("stdin body: %q", b)
	}
}
