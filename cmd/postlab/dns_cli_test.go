package main

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"postlab/diag"
	"postlab/explorer/lab"
)

// A missing target says what is missing and gives an example (exit 2).
func TestMissingTargetUsage(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"mx", "mx needs a DOMAIN or an ADDRESS, e.g. postlab mx example.com"},
		{"diag", "diag needs a DOMAIN or an ADDRESS, e.g. postlab diag example.com"},
		{"settings", "settings needs an ADDRESS, e.g. postlab settings alice@example.com"},
	} {
		code, _, errs := runCaptured(t, tc.cmd)
		if code != exitUsage || !strings.Contains(errs, tc.want) || strings.Contains(errs, "arg(s)") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.cmd, code, errs, tc.want)
		}
		code, _, errs = runCaptured(t, tc.cmd, "Alice", "<alice@postlab.test>")
		if code != exitUsage || !strings.Contains(errs, "got 2 arguments") || !strings.Contains(errs, "'Alice <alice@example.com>'") {
			t.Errorf("%s with two args: exit %d, stderr %q", tc.cmd, code, errs)
		}
	}
}

// --resolver must be an address or a host name that resolves; anything
// else is a usage error with an example, never a network error.
func TestResolverFlagValidation(t *testing.T) {
	saved := diag.LookupResolverHost
	defer func() { diag.LookupResolverHost = saved }()
	diag.LookupResolverHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "labdns.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	clean := startLabDNS(t, nil)
	_, port, _ := net.SplitHostPort(clean)
	for _, cmd := range []string{"mx", "diag", "settings"} {
		target := "alice@postlab.test"
		for _, bad := range []string{"nonsense", "a:b:c", "127.0.0.1:99999", "not a host"} {
			args := []string{cmd, "--resolver", bad, target}
			if cmd == "diag" {
				args = append(args, "--no-probe")
			}
			code, _, errs := runCaptured(t, args...)
			if code != exitUsage || !strings.Contains(errs, "--resolver") || !strings.Contains(errs, "e.g. --resolver 127.0.0.1:2553") {
				t.Errorf("%s --resolver %q: exit %d, stderr %q; want a usage error with an example", cmd, bad, code, errs)
			}
		}
	}
	code, _, errs := runCaptured(t, "mx", "--resolver", "nonsense", "postlab.test")
	if !strings.Contains(errs, `host name "nonsense" does not resolve`) || code != exitUsage {
		t.Errorf("exit %d: %q", code, errs)
	}
	// A name that resolves works, with the port given.
	if code, out, errs := runCaptured(t, "mx", "--resolver", "labdns.test:"+port, "postlab.test"); code != exitOK || !strings.Contains(out, "mail.postlab.test") {
		t.Errorf("resolvable name: exit %d\n%s%s", code, out, errs)
	}
}

// With --json, an unreachable resolver still gives one JSON object, with
// "error" set, and exit 3.
func TestJSONOnUnreachableResolver(t *testing.T) {
	silent := silentDNS(t)
	for _, args := range [][]string{
		{"mx", "--json", "--resolver", silent, "--timeout", "400ms", "postlab.test"},
		{"diag", "--no-probe", "--json", "--resolver", silent, "--timeout", "400ms", "postlab.test"},
		{"settings", "--json", "--resolver", silent, "--timeout", "400ms", "alice@postlab.test"},
	} {
		code, out, errs := runCaptured(t, args...)
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%s: stdout is not one JSON object (%v):\n%s", args[0], err, out)
			continue
		}
		e, _ := v["error"].(string)
		if code != exitNetwork || !strings.Contains(e, "no answer from resolver "+silent) {
			t.Errorf("%s: exit %d, error %q, stderr %q", args[0], code, e, errs)
		}
	}
	// A working lookup has no "error" key.
	code, out, _ := runCaptured(t, "mx", "--json", "--resolver", startLabDNS(t, nil), "postlab.test")
	if code != exitOK || strings.Contains(out, `"error"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// An address with a display name, as copied from a mail client, works.
func TestDisplayNameTarget(t *testing.T) {
	clean := startLabDNS(t, nil)
	code, out, errs := runCaptured(t, "mx", "--resolver", clean, "Alice <alice@postlab.test>")
	if code != exitOK || !strings.Contains(out, "MX for postlab.test") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = runCaptured(t, "mx", "--resolver", clean, "Alice <alice@postlab.test")
	if code != exitUsage || !strings.Contains(errs, `"Name <user@domain>"`) {
		t.Errorf("unclosed <: exit %d %q", code, errs)
	}
}

// The README's command diagnoses the running lab clean: its SMTP is on its
// own port (--port smtp=N), its certificate comes from its data dir (--ca).
func TestDiagLabCleanWithProbes(t *testing.T) {
	l, ca := startDNSLab(t)
	ports := "smtp=" + portOf(l.Addr(lab.ListenerSMTP)) + ",submission=" + portOf(l.Addr(lab.ListenerSubmission)) +
		",submissions=" + portOf(l.Addr(lab.ListenerSubmissions)) + ",pop3=" + portOf(l.Addr(lab.ListenerPOP3)) + ",pop3s=" + portOf(l.Addr(lab.ListenerPOP3S))
	for _, p := range []string{"smtp=" + portOf(l.Addr(lab.ListenerSMTP)), ports} {
		code, out, errs := runCaptured(t, "diag", "--resolver", l.Addr(lab.ListenerDNS), "--port", p, "--ca", ca, "--dkim-selector", "lab", "postlab.test")
		if code != exitOK || !strings.Contains(out, "postlab.test: OK") {
			t.Errorf("--port %s: exit %d\n%s%s", p, code, out, errs)
		}
		for _, bad := range []string{"FAIL ", "ERROR", "WARN ", "private"} {
			if strings.Contains(out, bad) {
				t.Errorf("--port %s: output has %q:\n%s", p, bad, out)
			}
		}
	}
}

// serveZone answers from zone text on a UDP port of 127.0.0.1 (NXDOMAIN for
// names it does not hold, NODATA for other types).
func serveZone(t *testing.T, text string) string {
	t.Helper()
	rrs := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader("$TTL 300\n"+text), ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		n := strings.ToLower(rr.Header().Name)
		rrs[n] = append(rrs[n], rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		have, ok := rrs[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range have {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// A policy that cannot be fetched is not "no policy": the probes say they
// did not hold the servers to it.
func TestDiagProbeSaysMTASTSUnchecked(t *testing.T) {
	l, ca := startDNSLab(t)
	addr := serveZone(t, `
postlab.test.              MX 10 mail.postlab.test.
mail.postlab.test.         A 127.0.0.1
_mta-sts.postlab.test.     TXT "v=STSv1; id=20260101"
`)
	_, out, errs := runCaptured(t, "diag", "--resolver", addr, "--port", "smtp="+portOf(l.Addr(lab.ListenerSMTP)), "--ca", ca, "--dnsbl", "", "--timeout", "5s", "postlab.test")
	if !strings.Contains(out, "MTA-STS not checked on the servers: the policy could not be looked up or fetched") {
		t.Errorf("no MTA-STS note:\n%s%s", out, errs)
	}
	if !strings.Contains(out, "STARTTLS offered and the upgrade worked") {
		t.Errorf("the probe did not run:\n%s", out)
	}
}

// The JSON target is the parsed address, not the display name; settings
// says that nothing was tried when DNS failed, rather than that nothing
// answered.
func TestTargetParsedAndSettingsDNSFailure(t *testing.T) {
	silent := silentDNS(t)
	for _, args := range [][]string{
		{"diag", "--no-probe", "--json", "--resolver", startLabDNS(t, nil), "--timeout", "2s", "Alice <alice@postlab.test>"},
		{"diag", "--no-probe", "--json", "--resolver", silent, "--timeout", "400ms", "Alice <alice@postlab.test>"},
	} {
		_, out, _ := runCaptured(t, args...)
		var v struct{ Target string }
		if err := json.Unmarshal([]byte(out), &v); err != nil || v.Target != "alice@postlab.test" {
			t.Errorf("%v: target %q, %v", args, v.Target, err)
		}
	}
	code, out, _ := runCaptured(t, "settings", "--resolver", silent, "--timeout", "400ms", "Alice <alice@postlab.test>")
	if code != exitNetwork || strings.Contains(out, "answered at any candidate") ||
		!strings.Contains(out, "no POP3 candidate could be found, so none was tried: DNS failed") ||
		!strings.Contains(out, "no SMTP candidate could be found, so none was tried: DNS failed") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
