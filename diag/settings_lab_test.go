package diag_test

// Settings discovery and server probes against the real practice lab, whose
// DNS publishes RFC 6186 SRV records with the ports it really listens on.

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"postlab/diag"
	"postlab/explorer/lab"
)

func startProbeLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: "127.0.0.1:0",
		Submissions: "127.0.0.1:0", POP3: "127.0.0.1:0", POP3S: "127.0.0.1:0", DNS: "127.0.0.1:0", AuthFailDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

func labPort(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

func labResolver(t *testing.T, l *lab.Lab) diag.Resolver {
	c, err := diag.NewClient(l.Addr(lab.ListenerDNS))
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 2 * time.Second
	return c
}

func TestSettingsAgainstLab(t *testing.T) {
	l := startProbeLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := diag.DiscoverSettings(ctx, "alice@postlab.test", diag.SettingsOptions{
		Resolver: labResolver(t, l), RootCAs: l.CertPool(), Timeout: 5 * time.Second,
		Password: "wonderland", HavePassword: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		list     []*diag.Setting
		proto    string
		listener string
		sec      string
	}{
		{res.Incoming, "pop3", lab.ListenerPOP3S, "tls"},
		{res.Incoming, "pop3", lab.ListenerPOP3, "starttls"},
		{res.Outgoing, "smtp", lab.ListenerSubmissions, "tls"},
		{res.Outgoing, "smtp", lab.ListenerSubmission, "starttls"},
	}
	for _, w := range want {
		var got *diag.Setting
		for _, s := range w.list {
			if s.Protocol == w.proto && s.Port == labPort(t, l.Addr(w.listener)) && s.Security == w.sec {
				got = s
			}
		}
		if got == nil {
			t.Errorf("%s listener %s not found from SRV", w.listener, l.Addr(w.listener))
			continue
		}
		if got.Source != "srv" || got.Host != "mail.postlab.test" || !got.Reachable || !got.TLS || !got.CertOK || got.Login != "ok" || got.Error != "" {
			t.Errorf("%s: %+v", w.listener, *got)
		}
	}
	in, out := res.Recommended.Incoming, res.Recommended.Outgoing
	if !res.Works() || in.Port != labPort(t, l.Addr(lab.ListenerPOP3S)) || out.Port != labPort(t, l.Addr(lab.ListenerSubmissions)) {
		t.Errorf("recommended %+v %+v", in, out)
	}
	// No password crossed in clear text: the plain variants were not logged into.
	for _, s := range append(append([]*diag.Setting{}, res.Incoming...), res.Outgoing...) {
		if s.Reachable && len(s.Trace) < 3 {
			t.Errorf("%s:%d %s: trace of %d events", s.Host, s.Port, s.Security, len(s.Trace))
		}
		if s.Security == "plain" && s.Login != "untested" {
			t.Errorf("plain-text login attempted: %+v", *s)
		}
		for _, ev := range s.Trace {
			if strings.Contains(ev.Line, "wonderland") {
				t.Errorf("password in a trace: %q", ev.Line)
			}
		}
	}
}

func TestSettingsLabWithoutItsCertificate(t *testing.T) {
	l := startProbeLab(t)
	res, err := diag.DiscoverSettings(context.Background(), "bob@postlab.test", diag.SettingsOptions{
		Resolver: labResolver(t, l), Timeout: 5 * time.Second, Password: "builder", HavePassword: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Works() {
		t.Fatalf("an untrusted self-signed certificate was recommended: %+v", res.Recommended)
	}
	for _, s := range res.Incoming {
		if s.TLS && (s.CertOK || s.Login != "untested") {
			t.Errorf("%+v", *s)
		}
	}
	if why := strings.Join(res.Recommended.IncomingWhy, " "); !strings.Contains(why, "--ca FILE") {
		t.Errorf("why: %s", why)
	}
}

func TestProbeServersAgainstLab(t *testing.T) {
	l := startProbeLab(t)
	r := labResolver(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mx := diag.LookupMailExchangers(ctx, r, "postlab.test")
	ports := map[string]int{}
	for _, s := range []string{lab.ListenerSMTP, lab.ListenerSubmission, lab.ListenerSubmissions, lab.ListenerPOP3, lab.ListenerPOP3S} {
		ports[s] = labPort(t, l.Addr(s))
	}
	probes, fs := diag.ProbeServers(ctx, mx, diag.ProbeOptions{Resolver: r, Ports: ports, RootCAs: l.CertPool(),
		Timeout: 10 * time.Second, RelayTest: true, Domain: "postlab.test"})
	if len(probes) != 5 {
		t.Fatalf("%d probes", len(probes))
	}
	for _, f := range fs {
		if f.Status == diag.StatusFail || f.Status == diag.StatusError {
			t.Errorf("%s %s: %s", f.Check, f.Status, f.Summary)
		}
	}
	got := map[string]bool{}
	for _, f := range fs {
		got[f.Check+" "+string(f.Status)] = true
	}
	for _, w := range []string{"smtp.banner pass", "smtp.relay pass", "smtp.transaction pass", "tls.chain pass", "submission.auth pass", "pop3.connect pass"} {
		if !got[w] {
			t.Errorf("no %q finding", w)
		}
	}
	for _, p := range probes {
		if p.TLS == nil || !p.TLS.Cert.Verified || len(p.Trace) < 4 {
			t.Errorf("%s: tls %+v, %d trace events", p.Service, p.TLS, len(p.Trace))
		}
	}
}
