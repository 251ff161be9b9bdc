package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postlab/explorer/lab"
)

// startDNSLab runs the whole lab, DNS included, on ports chosen by the
// system; its SRV records publish those ports. It returns the lab and the
// certificate file it wrote (DATA/tls/cert.pem), the one --ca takes.
func startDNSLab(t *testing.T) (*lab.Lab, string) {
	t.Helper()
	data := t.TempDir()
	l, err := lab.Start(lab.Config{DataDir: data, SMTP: "127.0.0.1:0", Submission: "127.0.0.1:0", Submissions: "127.0.0.1:0",
		POP3: "127.0.0.1:0", POP3S: "127.0.0.1:0", DNS: "127.0.0.1:0", AuthFailDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l, filepath.Join(data, "tls", "cert.pem")
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestSettingsFindsEveryLabListenerAndLogsIn(t *testing.T) {
	l, ca := startDNSLab(t)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	code, out, errs := execute(t, "settings", "--show-traces", "--resolver", l.Addr(lab.ListenerDNS), "--ca", ca, "alice@postlab.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, ln := range []string{lab.ListenerSubmission, lab.ListenerSubmissions, lab.ListenerPOP3, lab.ListenerPOP3S} {
		p := portOf(l.Addr(ln))
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 10 || f[1] != "mail.postlab.test" || f[2] != p || f[4] != "srv" || f[5] != "yes" || f[6] != "yes" || f[7] != "ok" {
				continue
			}
			for _, w := range f[9:] { // after the AUTH column: the login
				if w == "ok" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s (port %s) not found from SRV with a login:\n%s", ln, p, out)
		}
	}
	for _, want := range []string{"incoming: POP3 mail.postlab.test port " + portOf(l.Addr(lab.ListenerPOP3S)) + ", SSL/TLS",
		"outgoing: SMTP mail.postlab.test port " + portOf(l.Addr(lab.ListenerSubmissions)) + ", SSL/TLS", "logged in as alice@postlab.test",
		"── trace: pop3 mail.postlab.test:" + portOf(l.Addr(lab.ListenerPOP3S)) + " tls", "C: AUTH PLAIN", "C: QUIT"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, "wonderland") {
		t.Error("the password appears in the output")
	}
}

func TestSettingsJSONSchema(t *testing.T) {
	l, ca := startDNSLab(t)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	code, out, _ := execute(t, "settings", "--json", "--resolver", l.Addr(lab.ListenerDNS), "--ca", ca, "alice@postlab.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	type entry struct {
		Protocol       string   `json:"protocol"`
		Host           string   `json:"host"`
		Port           int      `json:"port"`
		Security       string   `json:"security"`
		Source         string   `json:"source"`
		Reachable      bool     `json:"reachable"`
		TLS            bool     `json:"tls"`
		CertOK         bool     `json:"cert_ok"`
		AuthMechanisms []string `json:"auth_mechanisms"`
		Login          string   `json:"login"`
		Error          *string  `json:"error"`
	}
	var doc struct {
		Address     string  `json:"address"`
		Incoming    []entry `json:"incoming"`
		Outgoing    []entry `json:"outgoing"`
		Recommended struct {
			Incoming *entry `json:"incoming"`
			Outgoing *entry `json:"outgoing"`
		} `json:"recommended"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	in, outg := doc.Recommended.Incoming, doc.Recommended.Outgoing
	if doc.Address != "alice@postlab.test" || len(doc.Incoming) == 0 || len(doc.Outgoing) == 0 || in == nil || outg == nil {
		t.Fatalf("%+v", doc)
	}
	if in.Protocol != "pop3" || in.Login != "ok" || !in.CertOK || in.Security != "tls" || in.Error == nil || *in.Error != "" ||
		outg.Protocol != "smtp" || outg.Login != "ok" || outg.AuthMechanisms == nil {
		t.Errorf("recommended %+v %+v", *in, *outg)
	}
	for _, e := range append(doc.Incoming, doc.Outgoing...) {
		if e.Login != "ok" && e.Login != "failed" && e.Login != "untested" || e.AuthMechanisms == nil || e.Error == nil {
			t.Errorf("entry %+v", e)
		}
	}
}

func TestSettingsExitCodes(t *testing.T) {
	l, ca := startDNSLab(t)
	dns := l.Addr(lab.ListenerDNS)
	t.Setenv("POSTLAB_PASSWORD", "wonderland")
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"self-signed without --ca", []string{"settings", "--resolver", dns, "alice@postlab.test"}, exitFailed, "pass its certificate with --ca FILE"},
		{"wrong password", []string{"settings", "--resolver", dns, "--ca", ca, "bob@postlab.test"}, exitFailed, "check the password"},
		{"not an address", []string{"settings", "--resolver", dns, "postlab.test"}, exitUsage, ""},
		{"bad --ca", []string{"settings", "--resolver", dns, "--ca", ca + ".missing", "alice@postlab.test"}, exitUsage, ""},
		{"unreachable resolver", []string{"settings", "--resolver", silentDNS(t), "--timeout", "400ms", "alice@postlab.test"}, exitNetwork, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := execute(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("exit %d, want %d; want %q in:\n%s\nstderr: %s", code, tc.code, tc.out, out, errs)
			}
		})
	}
}

func TestDiagProbesLab(t *testing.T) {
	l, ca := startDNSLab(t)
	ports := "smtp=" + portOf(l.Addr(lab.ListenerSMTP)) + ",submission=" + portOf(l.Addr(lab.ListenerSubmission)) +
		",submissions=" + portOf(l.Addr(lab.ListenerSubmissions)) + ",pop3=" + portOf(l.Addr(lab.ListenerPOP3)) +
		",pop3s=" + portOf(l.Addr(lab.ListenerPOP3S))
	dns := l.Addr(lab.ListenerDNS)
	code, out, errs := execute(t, "diag", "--resolver", dns, "--port", ports, "--ca", ca, "--relay-test", "--show-traces", "postlab.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"── trace: smtp", "C: EHLO localhost", "C: STARTTLS", "not an open relay", "certificate chain verified for mail.postlab.test",
		"SMTP\n", "POP3 server (RFC 1939, RFC 2595)", "banner host mail.postlab.test matches the PTR name"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "C: DATA") {
		t.Error("a probe sent DATA")
	}
	code, out, _ = execute(t, "diag", "--resolver", dns, "--port", ports, "--json", "postlab.test")
	var rep struct {
		Findings []struct{ Check, Status string } `json:"findings"`
		Probes   []struct {
			Service string           `json:"service"`
			Trace   []map[string]any `json:"trace"`
			TLS     *struct {
				Certificate struct {
					Verified   bool `json:"verified"`
					SelfSigned bool `json:"self_signed"`
				} `json:"certificate"`
			} `json:"tls"`
		} `json:"probes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// Without --ca the lab's self-signed certificate is not trusted: the
	// submission and POP3 probes fail, port 25 only warns.
	if code != exitFailed || len(rep.Probes) != 5 {
		t.Fatalf("exit %d, %d probes", code, len(rep.Probes))
	}
	for _, p := range rep.Probes {
		if len(p.Trace) < 4 || p.TLS == nil || p.TLS.Certificate.Verified || !p.TLS.Certificate.SelfSigned {
			t.Errorf("%s: %d events, tls %+v", p.Service, len(p.Trace), p.TLS)
		}
	}
	if code, _, _ := execute(t, "diag", "--resolver", dns, "--port", "imap=143", "postlab.test"); code != exitUsage {
		t.Errorf("bad --port: exit %d", code)
	}
}
