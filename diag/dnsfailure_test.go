package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
)

// failResolver fails chosen questions ("name TYPE", lower case, no trailing
// dot) with SERVFAIL and passes the rest to r.
type failResolver struct {
	r    Resolver
	fail map[string]bool
}

func (f *failResolver) Name() string { return f.r.Name() }

func (f *failResolver) Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	if f.fail[strings.ToLower(strings.TrimSuffix(name, "."))+" "+dns.TypeToString[qtype]] {
		return nil, &DNSError{Name: name, Qtype: qtype, Rcode: dns.RcodeServerFailure, Server: "test"}
	}
	return f.r.Exchange(ctx, name, qtype)
}

// closedUDPAddr is a loopback address where nothing answers.
func closedUDPAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// An unreachable resolver must never read as "record absent": every
// finding is an error, and no check claims that something is missing.
func TestUnreachableResolverReportsOnlyErrors(t *testing.T) {
	c := &Client{Servers: []string{closedUDPAddr(t)}, Timeout: 300 * time.Millisecond, Retries: 1}
	rep, err := Diagnose(context.Background(), "postlab.test", Options{Resolver: c, CheckTimeout: 5 * time.Second})
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnreachableError", err)
	}
	areas := map[string]bool{}
	for _, f := range rep.Findings {
		areas[f.Area()] = true
		if f.Status != StatusError {
			t.Errorf("%s %s: %q; want error", f.Check, f.Status, f.Summary)
		}
		if s := strings.ToLower(f.Summary); strings.HasPrefix(s, "no ") || strings.Contains(s, "no dkim key") {
			t.Errorf("%s claims absence: %q", f.Check, f.Summary)
		}
	}
	for _, a := range []string{"mx", "spf", "dmarc", "dkim", "mta-sts", "tls-rpt", "dane", "ptr", "dnsbl"} {
		if !areas[a] {
			t.Errorf("area %s has no finding (a silent gap)", a)
		}
	}
}

const failZone = `
fail.test.            MX 10 mx.fail.test.
fail.test.            TXT "v=spf1 mx -all"
mx.fail.test.         A 192.0.2.90
mx.fail.test.         AAAA 2001:db8::90
_dmarc.fail.test.     TXT "v=DMARC1; p=reject"
s1._domainkey.fail.test. TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
90.2.0.192.in-addr.arpa. PTR mx.fail.test.
90.2.0.192.bl.test.   A 127.0.0.2
`

func diagnoseWith(t *testing.T, fail map[string]bool, opts Options) *Report {
	t.Helper()
	z := newTestZone(t, failZone)
	addr := z.start(t)
	opts.Resolver = &failResolver{r: testClient(addr), fail: fail}
	if opts.DNSBLZones == nil {
		opts.DNSBLZones = []string{"bl.test"}
	}
	opts.CheckTimeout = 10 * time.Second
	rep, err := Diagnose(context.Background(), "fail.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findingsOf(rep *Report, check string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func TestDKIMCommonSelectorFailuresAreErrors(t *testing.T) {
	all := map[string]bool{}
	for _, s := range CommonDKIMSelectors {
		all[s+"._domainkey.fail.test TXT"] = true
	}
	rep := diagnoseWith(t, all, Options{})
	fs := findingsOf(rep, "dkim.selector")
	if len(fs) != 1 || fs[0].Status != StatusError || strings.Contains(fs[0].Summary, "no DKIM key") {
		t.Fatalf("dkim findings = %+v; want one error, not \"no DKIM key\"", fs)
	}
	if !strings.Contains(fs[0].Summary, "could not look up") || !strings.Contains(fs[0].Detail, "SERVFAIL") {
		t.Errorf("summary/detail = %q / %q", fs[0].Summary, fs[0].Detail)
	}

	// One failing selector beside a key that was found: the key passes and
	// the failed selector is still reported, by name.
	rep = diagnoseWith(t, map[string]bool{"selector1._domainkey.fail.test TXT": true}, Options{})
	got := summary(append(findingsOf(rep, "dkim.key"), findingsOf(rep, "dkim.selector")...))
	if got != "dkim.key pass\ndkim.selector error\n" {
		t.Errorf("findings:\n%s", got)
	}
	if fs := findingsOf(rep, "dkim.selector"); len(fs) == 1 && !strings.Contains(fs[0].Summary, "selector1") {
		t.Errorf("summary %q does not name the selector", fs[0].Summary)
	}
}

func TestMXAddressFailureIsNotNoAddress(t *testing.T) {
	rep := diagnoseWith(t, map[string]bool{"mx.fail.test A": true, "mx.fail.test AAAA": true}, Options{})
	for _, f := range rep.Findings {
		if f.Area() == "mx" && f.Status != StatusPass && f.Status != StatusError {
			t.Errorf("%s %s %q: a failed lookup read as a verdict", f.Check, f.Status, f.Summary)
		}
	}
	// Only AAAA fails: the A address is used, the AAAA failure is reported.
	rep = diagnoseWith(t, map[string]bool{"mx.fail.test AAAA": true}, Options{})
	got := summary(findingsOf(rep, "mx.host"))
	if got != "mx.host error\nmx.host pass\n" {
		t.Errorf("mx.host findings:\n%s", got)
	}
}

func TestPTRForwardFailureIsNotUnconfirmed(t *testing.T) {
	z := newTestZone(t, failZone)
	r := &failResolver{r: testClient(z.start(t)), fail: map[string]bool{"mx.fail.test A": true}}
	f := ptrFinding(context.Background(), r, netip.MustParseAddr("192.0.2.90"))
	if f.Status != StatusError || strings.Contains(f.Summary, "does not resolve back") {
		t.Errorf("ptr finding = %s %q; want error", f.Status, f.Summary)
	}
	// Without the failure it is confirmed.
	f = ptrFinding(context.Background(), testClient(z.start(t)), netip.MustParseAddr("192.0.2.90"))
	if f.Status != StatusPass {
		t.Errorf("ptr finding = %s %q; want pass", f.Status, f.Summary)
	}
}

func TestDNSBLReasonLookupFailure(t *testing.T) {
	rep := diagnoseWith(t, map[string]bool{"90.2.0.192.bl.test TXT": true}, Options{})
	fs := findingsOf(rep, "dnsbl.listing")
	if len(fs) != 2 || fs[0].Status != StatusFail || !strings.HasPrefix(fs[0].Summary, "192.0.2.90 is listed") {
		t.Fatalf("dnsbl findings = %+v", fs)
	}
	if strings.Contains(fs[0].Detail, "no TXT record") || !strings.Contains(fs[0].Detail, "could not be looked up") {
		t.Errorf("detail = %q", fs[0].Detail)
	}
}

func TestSpecialScope(t *testing.T) {
	for ip, want := range map[string]string{
		"127.0.0.1":        "a loopback address",
		"::1":              "a loopback address",
		"::ffff:127.0.0.1": "a loopback address",
		"10.1.2.3":         "a private address",
		"192.168.1.20":     "a private address",
		"172.31.0.1":       "a private address",
		"100.64.0.1":       "a shared (carrier-grade NAT) address",
		"169.254.10.1":     "a link-local address",
		"fe80::1":          "a link-local IPv6 address",
		"fd00::1":          "a unique local IPv6 address",
		"192.0.2.1":        "a documentation address (TEST-NET-1)",
		"2001:db8::1":      "a documentation address",
		"0.0.0.0":          "a \"this network\" address",
		"::":               "an unspecified address",
		"224.0.0.1":        "a multicast address",
	} {
		sc, ok := SpecialScope(netip.MustParseAddr(ip))
		if !ok || sc.AName() != want {
			t.Errorf("%s: %q, %v; want %q", ip, sc.AName(), ok, want)
		}
	}
	for _, ip := range []string{"8.8.8.8", "172.32.0.1", "100.128.0.1", "2a00:1450::1"} {
		if sc, ok := SpecialScope(netip.MustParseAddr(ip)); ok {
			t.Errorf("%s is %q; want an ordinary address", ip, sc.Name)
		}
	}
}

func TestLoopbackMXIsCalledLoopback(t *testing.T) {
	z := newTestZone(t, `
lo.test.     MX 10 mx.lo.test.
mx.lo.test.  A 127.0.0.1
cg.test.     MX 10 mx.cg.test.
mx.cg.test.  A 100.64.3.4
`)
	addr := z.start(t)
	for dom, want := range map[string]string{"lo.test": "127.0.0.1 is a loopback address", "cg.test": "100.64.3.4 is a shared (carrier-grade NAT) address"} {
		rep, err := Diagnose(context.Background(), dom, Options{Resolver: testClient(addr), DNSBLZones: []string{"bl.test"}, CheckTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		rep.WriteText(&all, false)
		if strings.Contains(all.String(), "private") {
			t.Errorf("%s: report says private:\n%s", dom, all.String())
		}
		fs := findingsOf(rep, "dnsbl.listing")
		if len(fs) != 1 || !strings.HasPrefix(fs[0].Summary, want) {
			t.Errorf("%s: dnsbl findings %+v; want %q", dom, fs, want)
		}
		if fs := findingsOf(rep, "ptr.fcrdns"); len(fs) != 1 || !strings.Contains(fs[0].Detail, want) {
			t.Errorf("%s: ptr findings %+v; want %q", dom, fs, want)
		}
	}
}

// POP3 CAPA tags are explained from POP3's table even where SMTP has a
// keyword of the same name.
func TestPOP3CapabilitiesUsePOP3Entries(t *testing.T) {
	caps := []explorer.Capability{{Keyword: "PIPELINING"}, {Keyword: "SASL", Params: []string{"PLAIN"}}, {Keyword: "TOP"}, {Keyword: "X-ODD"}}
	f := capsFinding("pop3.capa", "pop3 127.0.0.1:110 (x)", caps)
	lines := strings.Split(f.Detail, "\n")
	if len(lines) != 4 {
		t.Fatalf("detail:\n%s", f.Detail)
	}
	for i, want := range []string{"RFC 2449 §6.6", "RFC 2449 §6.3", "RFC 2449 §6.1", "IANA POP3 Extension Mechanism registry"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %q lacks %q", lines[i], want)
		}
	}
	if strings.Contains(f.Detail, "RFC 2920") || strings.Contains(f.Detail, "RFC 4954") {
		t.Errorf("SMTP references in a POP3 capability list:\n%s", f.Detail)
	}
	// SMTP keeps its own.
	if s := capsFinding("smtp.ehlo", "smtp", caps[:1]); !strings.Contains(s.Detail, "RFC 2920 §3") {
		t.Errorf("smtp detail: %s", s.Detail)
	}
}

func TestConnectFailureExplainsPort25(t *testing.T) {
	refused := &explorer.ConnError{Op: "dial", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	timeout := &explorer.ConnError{Op: "dial", Err: fmt.Errorf("no connection within 5s (timeout)")}
	public := netip.MustParseAddr("192.0.2.25")
	for name, err := range map[string]error{"refused": refused, "timeout": timeout} {
		f := connectFailure("smtp.connect", "smtp", "smtp", public, 25, err)
		if f.Status != StatusFail || !strings.Contains(f.Detail, "Outbound port 25 is often blocked") || !strings.Contains(f.Detail, "To tell the difference") {
			t.Errorf("%s on 25: %+v", name, f)
		}
		if f := connectFailure("smtp.connect", "smtp", "smtp", public, 2525, err); strings.Contains(f.Detail, "Outbound port 25") {
			t.Errorf("%s on 2525 blames port 25: %q", name, f.Detail)
		}
	}
	if f := connectFailure("smtp.connect", "smtp", "smtp", public, 25, timeout); !strings.HasPrefix(f.Detail, "Timeout") {
		t.Errorf("timeout detail: %q", f.Detail)
	}
	// Refused on loopback: nothing runs there; point at the lab's port.
	f := connectFailure("smtp.connect", "smtp", "smtp", netip.MustParseAddr("127.0.0.1"), 25, refused)
	if !strings.Contains(f.Fix, "--port smtp=2525") || !strings.Contains(f.Detail, "loopback") {
		t.Errorf("loopback refused: %+v", f)
	}
	// A real refused connection is recognised as such.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	probes, fs := ProbeServers(context.Background(), &MXResult{Hosts: []MXHost{{Host: "mx.lo.test", Addresses: []MXAddress{{IP: netip.MustParseAddr("127.0.0.1")}}}}},
		ProbeOptions{Resolver: testClient(closedUDPAddr(t)), Ports: map[string]int{"smtp": port}, Timeout: 3 * time.Second})
	if len(probes) != 1 || len(fs) == 0 || !strings.HasPrefix(fs[0].Detail, "Connection refused") {
		t.Errorf("live refused: %+v", fs)
	}
}

// When the MX lookup fails, the checks that need the MX hosts say they
// were not made instead of going quiet.
func TestChecksAfterFailedMXSayNotChecked(t *testing.T) {
	fe := newFixtureEnv(t)
	opts := fe.opts
	opts.Resolver = &failResolver{r: opts.Resolver, fail: map[string]bool{"good.test MX": true}}
	rep, err := Diagnose(context.Background(), "good.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range []string{"spf.eval", "mta-sts.mx", "dane.tlsa", "ptr.fcrdns", "dnsbl.listing"} {
		fs := findingsOf(rep, check)
		if len(fs) != 1 || fs[0].Status != StatusError || !strings.Contains(fs[0].Summary, "not checked: the MX hosts could not be looked up") {
			t.Errorf("%s: %+v", check, fs)
		}
	}
	if fs := findingsOf(rep, "spf.record"); len(fs) != 1 || fs[0].Status != StatusPass {
		t.Errorf("spf.record: %+v", fs)
	}
}

// A candidate host whose address lookup fails is not "not in DNS".
func TestSettingsLookupFailureIsNotUnresolved(t *testing.T) {
	z := newTestZone(t, `
example.test.                      MX 10 mx.example.test.
_submissions._tcp.example.test.    SRV 0 1 465 smtp.example.test.
_pop3s._tcp.example.test.          SRV 0 1 995 nohost.example.test.
smtp.example.test.                 A 127.0.0.1
`)
	r := &failResolver{r: testClient(z.start(t)), fail: map[string]bool{"smtp.example.test A": true, "smtp.example.test AAAA": true}}
	res, err := DiscoverSettings(context.Background(), "alice@example.test", SettingsOptions{Resolver: r, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LookupFailed) != 1 || !strings.HasPrefix(res.LookupFailed[0], "smtp.example.test: ") || !strings.Contains(res.LookupFailed[0], "SERVFAIL") {
		t.Errorf("LookupFailed = %q", res.LookupFailed)
	}
	joined := "," + strings.Join(res.Unresolved, ",") + ","
	if strings.Contains(joined, ",smtp.example.test,") || !strings.Contains(joined, ",nohost.example.test,") {
		t.Errorf("Unresolved = %q", res.Unresolved)
	}
}
