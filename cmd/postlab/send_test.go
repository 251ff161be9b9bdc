package main

import (
	"context"
	"encoding/json"
	"fmt"
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
		{"unknown recipient", []string{"--server", l.Addr("smtp"), "--to", "nobody@postlab.test"}, exitFailed, "rcpt refused: 550 5.1.1 "},
		{"unknown recipient, no pipelining", []string{"--server", l.Addr("smtp"), "--no-pipelining", "--to", "nobody@postlab.test"}, exitFailed, "rcpt refused: 550 5.1.1 "},
		{"one of two refused", []string{"--server", l.Addr("smtp"), "--to", "bob@postlab.test", "--to", "nobody@postlab.test"}, exitFailed, "1 of 2 recipients: <nobody@postlab.test> 550 5.1.1 "},
		{"relay denied", []string{"--server", l.Addr("smtp"), "--to", "someone@example.com"}, exitFailed, "rcpt refused: 5"},
		{"auth refused, json", []string{"--server", l.Addr("submission"), "--starttls", "--insecure", "--user", "mallory", "--to", "bob@postlab.test", "--json"}, exitFailed, "auth refused: 535 5.7.8"},
		{"auth without TLS", []string{"--server", l.Addr("submission"), "--user", "alice", "--to", "bob@postlab.test"}, exitUsage, "offers AUTH only after STARTTLS (its EHLO lists no AUTH on a clear connection): add --starttls"},
		{"auth on the MX port", []string{"--server", l.Addr("smtp"), "--starttls", "--insecure", "--user", "alice", "--to", "bob@postlab.test"}, exitFailed, "offers no AUTH here"},
		{"plain text on the TLS port", []string{"--server", l.Addr("submissions"), "--to", "bob@postlab.test", "--timeout", "300ms"}, exitNetwork, "add --tls"},
		{"TLS on the plain port", []string{"--server", l.Addr("smtp"), "--tls", "--to", "bob@postlab.test"}, exitNetwork, "speaks plain text on this port; use --starttls"},
		{"untrusted certificate", []string{"--server", l.Addr("submissions"), "--tls", "--to", "bob@postlab.test"}, exitNetwork, "certificate"},
		{"refused connection", []string{"--server", dead, "--to", "bob@postlab.test"}, exitNetwork, "nothing listens on " + dead + " (connection refused): check the host and the port"},
		{"not an address", []string{"--server", dead, "--to", "x"}, exitUsage, `--to "x": no @`},
		{"space in the sender", []string{"--server", dead, "--from", "bad addr@postlab.test", "--to", "b@x"}, exitUsage, `--from "bad addr@postlab.test"`},
		{"quit after tls without TLS", []string{"--server", dead, "--to", "b@x", "--quit-after", "tls"}, exitUsage, "--quit-after tls needs --starttls"},
		{"quit after auth without user", []string{"--server", dead, "--to", "b@x", "--quit-after", "auth"}, exitUsage, "--quit-after auth needs --user"},
		{"bad server address", []string{"--server", "a:b:c", "--to", "b@x"}, exitUsage, "bad address"},
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
		if stage == "tls" || stage == "auth" {
			continue // need --starttls and --user (TestSendFailures)
		}
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
		if want := stage; res.Stage != want {
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
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&authRes); err != nil || code != exitUsage || authRes.Stage != "auth" || authRes.Code != 0 || !strings.Contains(authRes.Error, "STARTTLS") {
		t.Errorf("AUTH without TLS: exit %d, %+v, %v", code, authRes, err)
	}
	if res.Accepted || len(res.Recipients) != 2 || !res.Recipients[0].Accepted || res.Recipients[1].Accepted || res.Recipients[1].Code != 550 || res.Recipients[1].Enhanced != "5.1.1" || res.Code != 250 || res.Enhanced != "2.0.0" {
		t.Errorf("summary %+v", res)
	}
	// A refused recipient keeps its enhanced code; a failed connection names its stage.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args                       []string
		code                       int
		stage                      string
		reply, enhanced, errorText string
	}{
		{[]string{"--server", l.Addr("smtp"), "--to", "nobody@postlab.test"}, exitFailed, "rcpt", "No such user here", "5.1.1", "rcpt refused: 550 5.1.1 No such user here"},
		{[]string{"--server", dead, "--to", "bob@postlab.test"}, exitNetwork, "connect", "", "", "nothing listens on"},
	} {
		out, code := runIO(t, "", append([]string{"send", "--from", "a@postlab.test", "--json"}, tc.args...)...)
		var res sendResult
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != tc.code {
			t.Fatalf("%v: exit %d, %v:\n%s", tc.args, code, err, out)
		}
		if res.Stage != tc.stage || res.Enhanced != tc.enhanced || !strings.HasPrefix(res.Reply, tc.reply) || !strings.Contains(res.Error, tc.errorText) {
			t.Errorf("%v: %+v", tc.args, res)
		}
		var raw map[string]any
		json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &raw)
		if _, ok := raw["stage"]; !ok {
			t.Errorf("no stage in %s", out)
		}
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
		"fallback.test. MX":      {"fallback.test. 60 IN MX 20 mx.postlab.test.", "fallback.test. 60 IN MX 10 dead.fallback.test."},
		"dead.fallback.test. A":  {"dead.fallback.test. 60 IN A 127.0.0.2"},
		"other.test. MX":         {"other.test. 60 IN MX 10 mx.other.test."},
		"mx.other.test. A":       {"mx.other.test. 60 IN A 127.0.0.2"},
		"relay.test. MX":         {"relay.test. 60 IN MX 10 mx.postlab.test."},
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
	// The lookup is shown: records by preference, addresses, the host tried.
	for _, want := range []string{
		"== looking up the MX records of postlab.test via " + resolver,
		"== MX records of postlab.test, lowest preference first: 10 mx.postlab.test, 20 backup.postlab.test\n",
		"== mx.postlab.test has address 127.0.0.1\n",
		"== trying MX mx.postlab.test (preference 10) at 127.0.0.1:" + port + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The preferred MX is down: the next one is tried, and said so.
	out, _ = runIO(t, "", "send", "--resolver", resolver, "--port", port, "--from", "alice@postlab.test", "--to", "bob@fallback.test", "--no-notes", "--timeout", "5s")
	for _, want := range []string{
		"== trying MX dead.fallback.test (preference 10) at 127.0.0.2:" + port + "\n",
		"nothing listens on 127.0.0.2:" + port,
		"== no connection to 127.0.0.2:" + port + "; falling back to the next one, MX mx.postlab.test (preference 20) at 127.0.0.1:" + port,
		"== connected to 127.0.0.1:" + port,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fallback: output lacks %q:\n%s", want, out)
		}
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

// SIZE= declares the octets DATA sends, also for a --data file with bare
// LFs and no final newline (RFC 1870 §3); EHLO uses the documented default.
func TestSendSizeAndHelo(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", func(l string, inData *bool) string {
		if strings.HasPrefix(strings.ToUpper(l), "EHLO") {
			return "250-mx.test\r\n250 SIZE 1000000\r\n"
		}
		return smtpReply(l, inData)
	})
	data := filepath.Join(t.TempDir(), "msg.eml")
	os.WriteFile(data, []byte("Subject: x\n\n.dot\nbody"), 0o644)
	out, code := runIO(t, "", "send", "--server", srv.Addr(), "--from", "a@postlab.test", "--to", "b@postlab.test", "--data", data, "--no-notes")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := srv.Lines()
	var size, sent int
	inData := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "MAIL FROM:"):
			fmt.Sscanf(l[strings.Index(l, "SIZE=")+5:], "%d", &size)
		case l == "DATA":
			inData = true
		case inData && l == ".":
			inData = false
		case inData:
			sent += len(strings.TrimPrefix(l, ".")) + 2 // dot-stuffing is not counted
		}
	}
	if want := len("Subject: x\r\n\r\n.dot\r\nbody\r\n"); size != want || sent != want {
		t.Errorf("SIZE=%d, content %d octets, want both %d; server got %q", size, sent, want, lines)
	}
	if lines[0] != "EHLO "+defaultHelo() {
		t.Errorf("EHLO %q, want the default %q", lines[0], defaultHelo())
	}
	help, _ := runIO(t, "", "send", "--help")
	if !strings.Contains(help, fmt.Sprintf("here %q", defaultHelo())) {
		t.Errorf("--helo help does not say what it sends:\n%s", help)
	}
}

func TestCheckAddress(t *testing.T) {
	good := []string{"bob@postlab.test", "b@x", "first.last+tag@example.com", `"john doe"@example.com`, `"a@b"@example.com`,
		"用户@例子.广告", "jörg@müller.example", "x@[127.0.0.1]", "x@[IPv6:2001:db8::1]", "o'brien@example.com", "Postmaster"}
	bad := []string{"x", "bad addr@example.com", "@example.com", "bob@", "a..b@example.com", ".a@example.com", "a.@example.com",
		"bob@exa mple.com", "bob@-example.com", "bob@example..com", "bob@[not-an-ip]", "a<b@example.com", `"unterminated@example.com`,
		"bob@example.com\r\nRCPT TO:<x@y>", strings.Repeat("a", 65) + "@example.com", "bob@ex_ample.com", "\xff@example.com"}
	for _, a := range good {
		if err := checkAddress(a, true); err != nil {
			t.Errorf("%q refused: %v", a, err)
		}
	}
	for _, a := range bad {
		if err := checkAddress(a, true); err == nil {
			t.Errorf("%q accepted", a)
		}
	}
	if checkAddress("postmaster", false) == nil {
		t.Error("a bare postmaster accepted as the sender")
	}
}

// Recipients in several domains: one transaction per domain, each with its
// domain's MX (RFC 5321 §5.1), its own section and its own result.
func TestSendGroupsRecipientsByDomain(t *testing.T) {
	l, _ := startTestLab(t)
	_, port, _ := net.SplitHostPort(l.Addr("smtp"))
	resolver := startDNS(t, port)
	// other.test's MX is 127.0.0.2 on the lab's port number.
	ln, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Skipf("127.0.0.2:%s: %v", port, err)
	}
	ln.Close()
	other := newLineServerAt(t, "127.0.0.2:"+port, "220 mx.other.test ESMTP\r\n", smtpReply)

	base := []string{"send", "--resolver", resolver, "--port", port, "--from", "alice@postlab.test", "--no-notes", "--no-color"}
	out, code := runIO(t, "", append(base, "--to", "Bob <bob@postlab.test>", "--to", "carol@other.test")...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"== delivery 1 of 2: postlab.test, for bob@postlab.test\n",
		"== delivery 2 of 2: other.test, for carol@other.test\n",
		"== trying MX mx.other.test (preference 10) at 127.0.0.2:" + port + "\n",
		"-> To: Bob <bob@postlab.test>, carol@other.test\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "-> MAIL FROM:<alice@postlab.test>") != 2 || strings.Count(out, "== accepted by") != 2 {
		t.Errorf("want two transactions:\n%s", out)
	}
	got := strings.Join(other.Lines(), "\n")
	if !strings.Contains(got, "RCPT TO:<carol@other.test>") || strings.Contains(got, "RCPT TO:<bob@") {
		t.Errorf("other.test's MX got:\n%s", got)
	}
	if n := len(bobMessages(t, l)); n != 1 {
		t.Errorf("bob got %d messages", n)
	}

	// One domain refuses: exit 1, named in the last line; --json per domain.
	out, code = runIO(t, "", append(base, "--to", "bob@postlab.test", "--to", "carol@relay.test", "--json")...)
	var res sendResult
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != exitFailed {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if res.Accepted || len(res.Domains) != 2 || len(res.Recipients) != 2 || res.Domain != "relay.test" || res.Stage != "rcpt" || res.Code != 550 ||
		!strings.HasPrefix(res.Error, "for relay.test: rcpt refused: 550 5.7.1") {
		t.Errorf("summary %+v", res)
	}
	d0, d1 := res.Domains[0], res.Domains[1]
	if !d0.Accepted || d0.Domain != "postlab.test" || d0.MX == nil || d0.MX.Chosen != "mx.postlab.test" || d0.MX.Address != l.Addr("smtp") ||
		len(d0.MX.Records) != 2 || d0.MX.Records[0].Host != "mx.postlab.test" || d0.MX.Records[0].Addresses[0] != "127.0.0.1" {
		t.Errorf("postlab.test: %+v mx %+v", d0, d0.MX)
	}
	if d1.Accepted || d1.Domain != "relay.test" || len(d1.Recipients) != 1 || d1.Recipients[0].Code != 550 {
		t.Errorf("relay.test: %+v", d1)
	}
	out, _ = runIO(t, "", append(base, "--to", "bob@postlab.test", "--to", "carol@relay.test")...)
	if last := lastLine(out); !strings.HasPrefix(last, "postlab: for relay.test: rcpt refused: 550 5.7.1") || !strings.Contains(out, "== result for relay.test: rcpt refused") {
		t.Errorf("last line %q:\n%s", last, out)
	}
	// A single domain keeps one section without a delivery header, and the MX data.
	out, code = runIO(t, "", append(base, "--to", "bob@postlab.test", "--json")...)
	res = sendResult{}
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != exitOK || res.MX == nil || res.MX.Chosen != "mx.postlab.test" || res.Domains != nil {
		t.Errorf("exit %d %v: %+v\n%s", code, err, res, out)
	}
}

// newLineServerAt is newLineServer on a given address.
func newLineServerAt(t *testing.T, addr, greeting string, reply func(string, *bool) string) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return serveLines(t, ln, greeting, reply)
}

// Addresses as mail clients show them, and the null reverse-path of a bounce.
func TestSendAddressForms(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		rcpt     bool
	}{
		{"<>", "", false},
		{" <> ", "", false},
		{"Bob <bob@x.test>", "bob@x.test", true},
		{"<c@d.test>", "c@d.test", true},
		{`"Doe, John" <john@x.test>`, "john@x.test", true},
		{`John <"john doe"@x.test>`, `"john doe"@x.test`, true},
		{"<用户@例子.广告>", "用户@例子.广告", true},
		{"bob@x.test", "bob@x.test", true},
	} {
		got, err := parseMailbox(tc.in, tc.rcpt)
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"<>", "only possible for --from"},
		{"Bob <bob@x.test", "unbalanced"},
		{"Bob bob@x.test>", "unbalanced"},
		{"Bob <a> <b@x>", "unbalanced"},
		{"Doe, John <john@x.test>", `the display name "Doe, John" does not parse`},
		{"Bob <bob>", "no @"},
		{"bob smith@x.test", "a space in the address: quote the local part"},
	} {
		if _, err := parseMailbox(tc.in, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}

	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	out, code := runIO(t, "", "send", "--server", srv.Addr(), "--from", "<>", "--to", "Bob <bob@postlab.test>", "--to", "<c@d.test>", "--no-notes")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"-> MAIL FROM:<>\n", "-> RCPT TO:<bob@postlab.test>\n", "-> RCPT TO:<c@d.test>\n", "-> From: MAILER-DAEMON@", "-> To: Bob <bob@postlab.test>, <c@d.test>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, code = runIO(t, "", "send", "--server", srv.Addr(), "--from", "a@x.test", "--to", "Bob bob@x.test")
	if code != exitUsage || !strings.Contains(out, "a space in the address") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// --json reports the certificate a failed check refused, and where
// --quit-after stopped with the last reply; the text says so too.
func TestSendJSONCertificateAndQuitAfter(t *testing.T) {
	l, _ := startTestLab(t)
	out, code := runIO(t, "", "send", "--server", l.Addr("submission"), "--starttls", "--from", "a@postlab.test", "--to", "bob@postlab.test", "--json")
	var res sendResult
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != exitNetwork {
		t.Fatalf("exit %d %v:\n%s", code, err, out)
	}
	if res.Stage != "tls" || res.TLS == nil || res.TLS.Established || res.TLS.Verified || !strings.Contains(res.TLS.Subject, "mail.postlab.test") ||
		!strings.Contains(res.TLS.Error, "x509") || res.TLS.Version == "" || len(res.TLS.SANs) == 0 {
		t.Errorf("stage %q, tls %+v", res.Stage, res.TLS)
	}
	// --tls: the same from the first byte.
	out, _ = runIO(t, "", "send", "--server", l.Addr("submissions"), "--tls", "--from", "a@postlab.test", "--to", "bob@postlab.test", "--json")
	res = sendResult{}
	json.NewDecoder(strings.NewReader(out)).Decode(&res)
	if res.Stage != "tls" || res.TLS == nil || res.TLS.Verified || res.TLS.Subject == "" || !strings.HasPrefix(res.Error, "tls: certificate verification failed") {
		t.Errorf("--tls: stage %q, error %q, tls %+v", res.Stage, res.Error, res.TLS)
	}

	for _, tc := range []struct {
		stage string
		code  int
		reply string
	}{
		{"banner", 220, "ESMTP"},
		{"ehlo", 250, "PIPELINING"},
		{"mail", 250, "alice@postlab.test"},
		{"rcpt", 250, "bob@postlab.test"},
	} {
		args := []string{"send", "--server", l.Addr("smtp"), "--from", "alice@postlab.test", "--to", "bob@postlab.test", "--quit-after", tc.stage}
		out, code := runIO(t, "", append(args, "--json")...)
		res := sendResult{}
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || code != exitOK || res.Stage != tc.stage || res.Code != tc.code || !strings.Contains(res.Reply, tc.reply) {
			t.Errorf("--quit-after %s --json: exit %d %v: %+v", tc.stage, code, err, res)
		}
		out, _ = runIO(t, "", append(args, "--no-notes")...)
		want := fmt.Sprintf("== stopped after the %s stage (--quit-after %s); last reply: %d ", tc.stage, tc.stage, tc.code)
		if !strings.HasPrefix(lastLine(out), want) || !strings.Contains(lastLine(out), tc.reply) && tc.stage != "ehlo" {
			t.Errorf("--quit-after %s: last line %q, want %q", tc.stage, lastLine(out), want)
		}
	}
	out, _ = runIO(t, "", "send", "--server", l.Addr("smtp"), "--from", "a@postlab.test", "--to", "bob@postlab.test", "--quit-after", "connect", "--no-notes")
	if !strings.HasPrefix(lastLine(out), "== stopped after the connect stage (--quit-after connect); last reply: none") {
		t.Errorf("connect: %q", lastLine(out))
	}
}
