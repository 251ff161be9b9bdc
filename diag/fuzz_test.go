package diag

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The parsers take text from DNS and HTTPS, which anyone can publish: they
// must never panic and what they accept must be consistent.

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{"v=spf1 -all", "v=spf1 a:%{d}/24//64 mx ptr include:x.example exists:%{ir}.%{l1r+}.%{d} ip4:1.2.3.4/8 ip6:::1/128 redirect=%{o} exp=e.%{d2}", "v=spf1 %{", "v=spf1 ip4:1.2.3.4/"} {
		f.Add(s)
	}
	env := &macroEnv{sender: "a@b.example", local: "a", senderDomain: "b.example", domain: "b.example",
		ip: netip.MustParseAddr("192.0.2.1"), helo: "h.example", ptr: func() string { return "unknown" }, now: time.Unix(0, 0)}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseSPF(s)
		if err != nil {
			return
		}
		for _, d := range rec.Directives {
			if !strings.ContainsRune("+-~?", rune(d.Qualifier)) {
				t.Fatalf("qualifier %q", d.Qualifier)
			}
			if d.Domain != "" {
				if _, err := expandMacros(d.Domain, env, false); err != nil {
					t.Fatalf("accepted domain-spec %q does not expand: %v", d.Domain, err)
				}
			}
			if (d.Mechanism == "ip4" || d.Mechanism == "ip6") && !d.Prefix.IsValid() {
				t.Fatalf("invalid prefix in %q", d.Raw)
			}
		}
	})
}

func FuzzExpandMacros(f *testing.F) {
	for _, s := range []string{"%{ir}.%{v}._spf.%{d2}", "%{L1r-+}", "%%%_%-", "%{c}%{t}%{r}"} {
		f.Add(s)
	}
	env := &macroEnv{sender: "a.b+c@d.example", local: "a.b+c", senderDomain: "d.example", domain: "d.example",
		ip: netip.MustParseAddr("2001:db8::1"), helo: "h", ptr: func() string { return "unknown" }, now: time.Unix(0, 0)}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandMacros(s, env, true)
		if err == nil && len(out) > 64*len(s)+64 {
			t.Fatalf("expansion of %d bytes grew to %d", len(s), len(out))
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{"v=DMARC1; p=reject; rua=mailto:a@b.example!10m,mailto:c@d.example; ruf=mailto:x@y.example; pct=50; adkim=s; aspf=r; fo=0:1:d:s; rf=afrf; ri=3600; sp=none", "v=DMARC1;p=none", "v=DMARC1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseDMARC(s)
		if err != nil {
			return
		}
		switch rec.Policy {
		case "none", "quarantine", "reject":
		default:
			t.Fatalf("accepted policy %q", rec.Policy)
		}
		if rec.Percent < 0 || rec.Percent > 100 {
			t.Fatalf("pct %d", rec.Percent)
		}
	})
}

func FuzzParseDKIMKey(f *testing.F) {
	for _, s := range []string{"v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALyWXMAOzRp8NEd7+d50fpS8Fjx1JWNM4T1nBm8Eznn0LOh07rn8euq1emdncxpelRj157KbP0+AaM4K5N4xOF8CAwEAAQ==", "v=DKIM1; p=", "k=ed25519; t=y:s; p=WCAu3fPHGPAS1jW+D1D4V7wT+hVkYPjd5Xm3fImIwNM="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseDKIMKey(s)
		if err != nil {
			return
		}
		if !k.Revoked && k.Bits <= 0 {
			t.Fatalf("accepted a key of %d bits", k.Bits)
		}
	})
}

func FuzzParseMTASTSPolicy(f *testing.F) {
	for _, s := range []string{"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n", "version: STSv1\nmode: none\nmax_age: 0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseMTASTSPolicy(s)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > 31557600 || (p.Mode != "none" && len(p.MX) == 0) {
			t.Fatalf("accepted %+v", p)
		}
		for _, m := range p.MX {
			p.Matches(strings.TrimPrefix(m, "*.")) // must not panic
		}
	})
}

func FuzzParseMTASTSRecord(f *testing.F) {
	f.Add("v=STSv1; id=20160831085700Z;")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseMTASTSRecord(s)
		if err == nil && (r.ID == "" || len(r.ID) > 32) {
			t.Fatalf("accepted id %q", r.ID)
		}
	})
}

func FuzzParseTLSRPT(f *testing.F) {
	for _, s := range []string{"v=TLSRPTv1; rua=mailto:reports@example.com,https://reporting.example.com/v1/tlsrpt", "v=TLSRPTv1;rua=mailto:a@b.example;ext=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTLSRPT(s)
		if err == nil && len(r.RUA) == 0 {
			t.Fatal("accepted a record without rua")
		}
	})
}
