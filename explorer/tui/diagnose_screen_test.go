package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"postlab/diag"
	"postlab/explorer/lab"
)

// A setting "works" only when a login was verified; otherwise its line
// says what the probe did see, as postlab settings does in its AUTH, LOGIN
// and NOTE columns.
func TestSettingWordsSayWhatWasVerified(t *testing.T) {
	const clearText = "login not tried (the password would cross in clear text)"
	for _, c := range []struct {
		name    string
		s       diag.Setting
		status  string
		summary string // after "PROTO HOST:PORT SECURITY (from SOURCE): "
		detail  []string
	}{
		{"plain, no login offered (the lab)", diag.Setting{Security: "plain", Reachable: true},
			"warn", "connects; no login offered without TLS",
			[]string{"login mechanisms: none offered", "login: not tried (the password would cross in clear text)"}},
		{"plain, with a password", diag.Setting{Security: "plain", Reachable: true, Note: clearText},
			"warn", "connects; " + clearText, []string{"login: not tried (the password would cross in clear text)"}},
		{"plain, AUTH offered in clear", diag.Setting{Security: "plain", Reachable: true, AuthMechanisms: []string{"PLAIN"}},
			"warn", "connects; login offered without TLS, not tried", []string{"login mechanisms: PLAIN"}},
		{"TLS, login offered, no password", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN", "LOGIN"}},
			"pass", "TLS and certificate ok; login offered, not tried",
			[]string{"login mechanisms: PLAIN LOGIN", "login: not tried (Diagnose never logs in; connect from the Session screen (1) with your password to try)"}},
		{"TLS, no login offered", diag.Setting{Security: "starttls", Reachable: true, TLS: true, CertOK: true},
			"info", "TLS and certificate ok; no login offered", []string{"login mechanisms: none offered"}},
		{"TLS, no mechanism postlab speaks", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"XOAUTH2"},
			Note: "login not tried: no AUTH mechanism postlab speaks (PLAIN, LOGIN, CRAM-MD5) is offered"},
			"info", "TLS and certificate ok; login not tried: no AUTH mechanism", []string{"login: not tried: no AUTH mechanism"}},
		{"logged in", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN"}, Login: "ok", User: "alice"},
			"pass", "works: logged in as alice", []string{"login: ok, as alice"}},
		{"login refused", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN"}, Login: "failed", Error: "login failed: 535 5.7.8"},
			"fail", "login failed", []string{"login: failed", "error: login failed: 535 5.7.8"}},
		{"untrusted certificate", diag.Setting{Security: "tls", Reachable: true, TLS: true, AuthMechanisms: []string{"PLAIN"}, Error: "certificate not trusted: self-signed"},
			"warn", "certificate does not verify", []string{"login: not tried (untrusted certificate)"}},
		{"STARTTLS refused", diag.Setting{Security: "starttls", Reachable: true, Error: "STARTTLS refused: 454 4.7.0"},
			"warn", "answers, but TLS could not be set up", []string{"error: STARTTLS refused"}},
		{"EHLO refused", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, Error: "EHLO: 554 go away"},
			"warn", "answers, but EHLO: 554 go away", nil},
		{"not there", diag.Setting{Security: "tls", Source: "guess", Error: "cannot connect: connection refused"},
			"info", "no answer", []string{"error: cannot connect"}},
	} {
		s := c.s
		s.Protocol, s.Host, s.Port = "smtp", "mail.postlab.test", 2587
		if s.Source == "" {
			s.Source = "srv"
		}
		if s.Login == "" {
			s.Login = "untested"
		}
		f := settingFinding(&s)
		prefix := "smtp mail.postlab.test:2587 " + s.Security + " (from " + s.Source + "): "
		if f.Status != c.status || !strings.HasPrefix(f.Summary, prefix+c.summary) {
			t.Errorf("%s: %s %q, want %s %q", c.name, f.Status, f.Summary, c.status, prefix+c.summary)
		}
		if strings.Contains(f.Summary, "works") != (s.Login == "ok") {
			t.Errorf("%s: %q says works though the login is %s", c.name, f.Summary, s.Login)
		}
		for _, w := range c.detail {
			if !strings.Contains(f.Detail, w) {
				t.Errorf("%s: detail %q lacks %q", c.name, f.Detail, w)
			}
		}
		if strings.Contains(f.Detail, "untested") {
			t.Errorf("%s: detail %q", c.name, f.Detail)
		}
	}
}

// Against the lab, whose clear-text listeners offer no login before TLS,
// the plain settings say so, and none of the lines claims a login.
func TestLabSettingsSayNoLoginBeforeTLS(t *testing.T) {
	cfg := lab.DefaultConfig()
	cfg.DataDir = t.TempDir()
	l, err := StartLabWith(cfg)(true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	d := DiagDiagnoser{Domain: "postlab.test", LabDNS: func() string { return l.Addr("dns") }, LabCA: l.CertPool, NoProbe: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := d.Diagnose(ctx, "alice@postlab.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var plain []string
	for _, f := range rep.Findings {
		if f.Check != "settings.incoming" && f.Check != "settings.outgoing" {
			continue
		}
		if strings.Contains(f.Summary, "works") {
			t.Errorf("%s: %s, though Diagnose never logs in", f.Check, f.Summary)
		}
		if strings.Contains(f.Summary, " plain (from srv)") {
			plain = append(plain, f.Summary)
			if !strings.HasSuffix(f.Summary, ": connects; no login offered without TLS") || f.Status != "warn" {
				t.Errorf("%s %s: %s", f.Check, f.Status, f.Summary)
			}
		}
	}
	if len(plain) != 2 {
		t.Errorf("want the lab's plain POP3 and submission, got %q", plain)
	}
}
