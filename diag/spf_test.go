package diag

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// rfc7208Zone is the example data of RFC 7208 Appendix A, with the records
// A.3 and A.4 add; the SPF record of example.com is set per test.
const rfc7208Zone = `
$ORIGIN example.com.
@        MX 10 mail-a
@        MX 20 mail-b
@        A  192.0.2.10
@        A  192.0.2.11
amy      A  192.0.2.65
bob      A  192.0.2.66
mail-a   A  192.0.2.129
mail-b   A  192.0.2.130
www      CNAME example.com.
mobile-users._spf  TXT "v=spf1 exists:%{l1r+}.%{d}"
remote-users._spf  TXT "v=spf1 exists:%{ir}.%{l1r+}.%{d}"
mary.mobile-users._spf A 127.0.0.2
fred.mobile-users._spf A 127.0.0.2
15.15.168.192.joel.remote-users._spf A 127.0.0.2
16.15.168.192.joel.remote-users._spf A 127.0.0.2
$ORIGIN example.org.
@        MX 10 mail-c
mail-c   A  192.0.2.140
$ORIGIN 2.0.192.in-addr.arpa.
10  PTR example.com.
11  PTR example.com.
65  PTR amy.example.com.
66  PTR bob.example.com.
129 PTR mail-a.example.com.
130 PTR mail-b.example.com.
140 PTR mail-c.example.org.
$ORIGIN 0.0.10.in-addr.arpa.
4   PTR bob.example.com.
`

func TestRFC7208AppendixA(t *testing.T) {
	tests := []struct {
		section, record string
		sender          string
		results         map[string]SPFResult // client address -> result
	}{
		// A.1 Simple Examples
		{"A.1", "v=spf1 +all", "", map[string]SPFResult{"192.0.2.10": SPFPass, "203.0.113.1": SPFPass}},
		{"A.1", "v=spf1 a -all", "", map[string]SPFResult{"192.0.2.10": SPFPass, "192.0.2.11": SPFPass, "192.0.2.65": SPFFail}},
		{"A.1", "v=spf1 a:example.org -all", "", map[string]SPFResult{"192.0.2.10": SPFFail, "192.0.2.140": SPFFail}},
		{"A.1", "v=spf1 mx -all", "", map[string]SPFResult{"192.0.2.129": SPFPass, "192.0.2.130": SPFPass, "192.0.2.10": SPFFail}},
		{"A.1", "v=spf1 mx:example.org -all", "", map[string]SPFResult{"192.0.2.140": SPFPass, "192.0.2.129": SPFFail}},
		{"A.1", "v=spf1 mx mx:example.org -all", "", map[string]SPFResult{"192.0.2.129": SPFPass, "192.0.2.130": SPFPass, "192.0.2.140": SPFPass, "192.0.2.65": SPFFail}},
		{"A.1", "v=spf1 mx/30 mx:example.org/30 -all", "", map[string]SPFResult{"192.0.2.131": SPFPass, "192.0.2.128": SPFPass, "192.0.2.141": SPFPass, "192.0.2.143": SPFPass, "192.0.2.132": SPFFail, "192.0.2.65": SPFFail}},
		{"A.1", "v=spf1 ptr -all", "", map[string]SPFResult{"192.0.2.10": SPFPass, "192.0.2.11": SPFPass, "192.0.2.65": SPFPass, "192.0.2.66": SPFPass, "192.0.2.129": SPFPass, "192.0.2.130": SPFPass, "192.0.2.140": SPFFail, "10.0.0.4": SPFFail}},
		{"A.1", "v=spf1 ip4:192.0.2.128/28 -all", "", map[string]SPFResult{"192.0.2.65": SPFFail, "192.0.2.128": SPFPass, "192.0.2.129": SPFPass, "192.0.2.143": SPFPass, "192.0.2.144": SPFFail}},
		// A.3 DNSBL Style Example
		{"A.3", "v=spf1 mx include:mobile-users._spf.%{d} include:remote-users._spf.%{d} -all", "mary@example.com", map[string]SPFResult{"198.51.100.9": SPFPass, "192.0.2.129": SPFPass}},
		{"A.3", "v=spf1 mx include:mobile-users._spf.%{d} include:remote-users._spf.%{d} -all", "joel@example.com", map[string]SPFResult{"192.168.15.15": SPFPass, "192.168.15.16": SPFPass, "192.168.15.17": SPFFail}},
		{"A.3", "v=spf1 mx include:mobile-users._spf.%{d} include:remote-users._spf.%{d} -all", "bill@example.com", map[string]SPFResult{"198.51.100.9": SPFFail}},
		// A.4 Multiple Requirements Example
		{"A.4", "v=spf1 -ip4:192.0.2.0/24 +all", "", map[string]SPFResult{"192.0.2.10": SPFFail, "198.51.100.1": SPFPass}},
		{"A.4", "v=spf1 -ptr +all", "", map[string]SPFResult{"192.0.2.65": SPFFail, "192.0.2.140": SPFPass, "10.0.0.4": SPFPass}},
	}
	for _, tc := range tests {
		z := newTestZone(t, rfc7208Zone, "example.com. TXT \""+strings.ReplaceAll(tc.record, `"`, `\"`)+"\"")
		r := testClient(z.start(t))
		for ip, want := range tc.results {
			o := CheckHost(context.Background(), r, netip.MustParseAddr(ip), "example.com", tc.sender, "")
			if o.Result != want {
				t.Errorf("%s %q from %s (sender %q) = %s, want %s\n%s", tc.section, tc.record, ip, tc.sender, o.Result, want, strings.Join(o.Path, "\n"))
			}
		}
	}
}

// A.2: several domains share one mail system's record.
func TestRFC7208AppendixA2(t *testing.T) {
	z := newTestZone(t, rfc7208Zone, `
example.com.    TXT "v=spf1 mx -all"
example.net.    TXT "v=spf1 ip4:198.51.100.0/28 -all"
example.org.    TXT "v=spf1 include:example.com include:example.net -all"
la.example.org. TXT "v=spf1 redirect=example.org"
ny.example.org. TXT "v=spf1 redirect=example.org"
`)
	r := testClient(z.start(t))
	for _, tc := range []struct {
		domain, ip string
		want       SPFResult
	}{
		{"example.org", "192.0.2.129", SPFPass},
		{"example.org", "198.51.100.3", SPFPass},
		{"la.example.org", "192.0.2.130", SPFPass},
		{"ny.example.org", "198.51.100.15", SPFPass},
		{"ny.example.org", "192.0.2.65", SPFFail},
	} {
		o := CheckHost(context.Background(), r, netip.MustParseAddr(tc.ip), tc.domain, "", "")
		if o.Result != tc.want {
			t.Errorf("%s from %s = %s, want %s\n%s", tc.domain, tc.ip, o.Result, tc.want, strings.Join(o.Path, "\n"))
		}
	}
}

func TestSPFEdgeCases(t *testing.T) {
	z := newTestZone(t, `
$ORIGIN edge.test.
none-here        TXT "not spf"
redir-none       TXT "v=spf1 redirect=none-here.edge.test"
exp              TXT "v=spf1 -all exp=why.edge.test"
why              TXT "%{i} is not one of %{d}'s servers; sender %{S}"
incl-none        TXT "v=spf1 include:none-here.edge.test -all"
soft             TXT "v=spf1 ~all"
neutral          TXT "v=spf1 ip4:10.0.0.0/8"
bad              TXT "v=spf1 foo:bar -all"
temp             TXT "v=spf1 a:broken.edge.test -all"
v6               TXT "v=spf1 ip6:2001:db8::/32 a:v6host.edge.test//64 -all"
v6host           AAAA 2001:db8:1:2::1
macro            TXT "v=spf1 exists:%{l}.%{o}._spf.edge.test -all"
alice.edge.test._spf A 127.0.0.2
`)
	z.servfail["broken.edge.test."] = true
	r := testClient(z.start(t))
	ctx := context.Background()
	v4 := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		domain string
		ip     netip.Addr
		sender string
		want   SPFResult
		text   string // in the reason or explanation
	}{
		{"none-here.edge.test", v4, "", SPFNone, "no SPF record"},
		{"nx.edge.test", v4, "", SPFNone, "does not exist"},
		{"localhost", v4, "", SPFNone, "not a valid domain"},
		{"redir-none.edge.test", v4, "", SPFPermerror, "no SPF record"},
		{"exp.edge.test", v4, "bob@exp.edge.test", SPFFail, "192.0.2.1 is not one of exp.edge.test's servers; sender bob%40exp.edge.test"},
		{"incl-none.edge.test", v4, "", SPFPermerror, "has no SPF record"},
		{"soft.edge.test", v4, "", SPFSoftfail, "~all"},
		{"neutral.edge.test", v4, "", SPFNeutral, "no mechanism matched"},
		{"bad.edge.test", v4, "", SPFPermerror, "unknown mechanism"},
		{"temp.edge.test", v4, "", SPFTemperror, "SERVFAIL"},
		{"v6.edge.test", netip.MustParseAddr("2001:db8:1:2::99"), "", SPFPass, "ip6:2001:db8::/32"},
		{"v6.edge.test", netip.MustParseAddr("2001:db9:1:2::99"), "", SPFFail, "-all"},
		{"v6.edge.test", netip.MustParseAddr("::ffff:192.0.2.1"), "", SPFFail, "-all"},
		{"macro.edge.test", v4, "alice@edge.test", SPFPass, "exists"},
		{"macro.edge.test", v4, "bob@edge.test", SPFFail, "-all"},
	} {
		o := CheckHost(ctx, r, tc.ip, tc.domain, tc.sender, "")
		text := o.Reason + "|" + o.Explanation + "|" + strings.Join(o.Path, "\n")
		if o.Result != tc.want || !strings.Contains(text, tc.text) {
			t.Errorf("%s from %s = %s (%s), want %s containing %q", tc.domain, tc.ip, o.Result, text, tc.want, tc.text)
		}
	}
}

// RFC 7208 §7.4 examples: sender strong-bad@email.example.com from 192.0.2.3
// (and 2001:db8::cb01).
func TestSPFMacroExamples(t *testing.T) {
	env := &macroEnv{sender: "strong-bad@email.example.com", local: "strong-bad", senderDomain: "email.example.com",
		domain: "email.example.com", ip: netip.MustParseAddr("192.0.2.3"), helo: "mx.example.org",
		ptr: func() string { return "unknown" }, now: time.Unix(1000, 0)}
	for in, want := range map[string]string{
		"%{s}":                              "strong-bad@email.example.com",
		"%{o}":                              "email.example.com",
		"%{d}":                              "email.example.com",
		"%{d4}":                             "email.example.com",
		"%{d3}":                             "email.example.com",
		"%{d2}":                             "example.com",
		"%{d1}":                             "com",
		"%{dr}":                             "com.example.email",
		"%{d2r}":                            "example.email",
		"%{l}":                              "strong-bad",
		"%{l-}":                             "strong.bad",
		"%{lr}":                             "strong-bad",
		"%{lr-}":                            "bad.strong",
		"%{l1r-}":                           "strong",
		"%{ir}.%{v}._spf.%{d2}":             "3.2.0.192.in-addr._spf.example.com",
		"%{lr-}.lp._spf.%{d2}":              "bad.strong.lp._spf.example.com",
		"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}":   "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
		"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}":  "3.2.0.192.in-addr.strong.lp._spf.example.com",
		"%{d2}.trusted-domains.example.net": "example.com.trusted-domains.example.net",
		"%%%_%-":                            "% %20",
		"%{S}":                              "strong-bad%40email.example.com",
	} {
		got, err := expandMacros(in, env, false)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	env.ip = netip.MustParseAddr("2001:db8::cb01")
	want := "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
	if got, err := expandMacros("%{ir}.%{v}._spf.%{d2}", env, false); err != nil || got != want {
		t.Errorf("IPv6 expansion = %q, %v; want %q", got, err, want)
	}
	if got, _ := expandMacros("%{c} at %{t}", env, true); got != "2001:db8::cb01 at 1000" {
		t.Errorf("explain macros = %q", got)
	}
	for _, bad := range []string{"%{c}", "%{x}", "%{d0}", "%{d", "%", "%a", "%{l|}"} {
		if _, err := expandMacros(bad, env, false); err == nil {
			t.Errorf("expand(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseSPF(t *testing.T) {
	good := map[string]int{ // record -> number of directives
		"v=spf1":                          0,
		"v=spf1 -all":                     1,
		"V=SPF1 MX -ALL":                  2,
		"v=spf1  ip4:192.0.2.0/24   ~all": 2,
		"v=spf1 a:example.com/24//64 mx/30 ptr:example.org exists:%{i}.bl.example.com include:_spf.example.com ip6:2001:db8::/32 ?all": 7,
		"v=spf1 redirect=_spf.example.com":          0,
		"v=spf1 -all exp=explain.%{d} foo=bar":      1,
		"v=spf1 include:%{d2}":                      1,
		"v=spf1 a:mail.example.com.":                1,
		"v=spf1 ip4:192.0.2.1 ip4:192.0.2.0/0 -all": 3,
	}
	for rec, n := range good {
		r, err := ParseSPF(rec)
		if err != nil {
			t.Errorf("ParseSPF(%q): %v", rec, err)
			continue
		}
		if len(r.Directives) != n {
			t.Errorf("ParseSPF(%q): %d directives, want %d", rec, len(r.Directives), n)
		}
	}
	for _, rec := range []string{
		"v=spf10 -all", "spf1 -all", "v=spf1 all:x.com", "v=spf1 ip4:192.0.2.0/33", "v=spf1 ip4:2001:db8::1",
		"v=spf1 ip6:192.0.2.1", "v=spf1 ip4:192.0.2.0/024", "v=spf1 include", "v=spf1 include:", "v=spf1 a:localhost",
		"v=spf1 mx//129", "v=spf1 redirect=a.com redirect=b.com", "v=spf1 exp=a.com exp=b.com", "v=spf1 foo",
		"v=spf1 exists:%{c}.example.com", "v=spf1 a:example.123", "v=spf1 -all\x01",
	} {
		if _, err := ParseSPF(rec); err == nil {
			t.Errorf("ParseSPF(%q) succeeded, want an error", rec)
		}
	}
	r, _ := ParseSPF("v=spf1 -a:example.com/24//64 redirect=r.example.com")
	d := r.Directives[0]
	if d.Qualifier != '-' || d.Mechanism != "a" || d.Domain != "example.com" || d.CIDR4 != 24 || d.CIDR6 != 64 || r.Redirect != "r.example.com" {
		t.Errorf("parsed %+v redirect %q", d, r.Redirect)
	}
}

// The limits count across includes: eleven lookups spread over three records.
func TestSPFLookupLimitAcrossIncludes(t *testing.T) {
	z := newTestZone(t, `
$ORIGIN lim.test.
@  TXT "v=spf1 include:i1.lim.test include:i2.lim.test -all"
i1 TXT "v=spf1 a:x1.lim.test a:x2.lim.test a:x3.lim.test a:x4.lim.test -all"
i2 TXT "v=spf1 a:x5.lim.test a:x6.lim.test a:x7.lim.test include:i3.lim.test -all"
i3 TXT "v=spf1 a:x8.lim.test ip4:192.0.2.1 -all"
x1 A 198.51.100.1
x2 A 198.51.100.1
x3 A 198.51.100.1
x4 A 198.51.100.1
x5 A 198.51.100.1
x6 A 198.51.100.1
x7 A 198.51.100.1
x8 A 198.51.100.1
`)
	r := testClient(z.start(t))
	o := CheckHost(context.Background(), r, netip.MustParseAddr("192.0.2.1"), "lim.test", "", "")
	if o.Result != SPFPermerror || o.Lookups != 11 || !strings.Contains(o.Reason, "more than 10") {
		t.Fatalf("result %s after %d lookups (%s)\n%s", o.Result, o.Lookups, o.Reason, strings.Join(o.Path, "\n"))
	}
	// An address matched before the limit passes: evaluation stops at the first match.
	o = CheckHost(context.Background(), r, netip.MustParseAddr("198.51.100.1"), "lim.test", "", "")
	if o.Result != SPFPass || o.Lookups != 2 {
		t.Fatalf("result %s after %d lookups", o.Result, o.Lookups)
	}
}
