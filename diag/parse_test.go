package diag

import (
	"strings"
	"testing"
)

func TestParseDMARC(t *testing.T) {
	rec, err := ParseDMARC("v=DMARC1; p=Quarantine; sp=reject; pct=25; rua=mailto:a@b.example!10m, mailto:c@d.example; ruf=mailto:e@f.example; adkim=s; fo=1:d; ri=3600; foo=bar")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Policy != "quarantine" || rec.SubdomainPolicy != "reject" || rec.Percent != 25 || len(rec.RUA) != 2 ||
		rec.RUA[0].Limit != "10m" || rec.RUA[1].Address() != "c@d.example" || rec.ADKIM != "s" || rec.ASPF != "r" ||
		strings.Join(rec.FO, ":") != "1:d" || rec.RI != 3600 {
		t.Errorf("parsed %+v", rec)
	}
	for _, bad := range []string{"", "p=reject", "v=DMARC2; p=reject", "v=DMARC1", "v=DMARC1; p=maybe", "v=DMARC1; p=none; pct=101",
		"v=DMARC1; p=none; rua=a@b.example", "v=DMARC1; p=none; adkim=x", "v=DMARC1; p=none; fo=2", "v=DMARC1; p=none; p=reject",
		"v=DMARC1; p=none; rua=mailto:nobody", "v=DMARC1; p=none; ri=-1", "v=DMARC1; p=none; rua=mailto:a@b.example!10x"} {
		if _, err := ParseDMARC(bad); err == nil {
			t.Errorf("ParseDMARC(%q) succeeded, want an error", bad)
		}
	}
	if OrgDomain("a.b.example.co.uk") != "example.co.uk" || OrgDomain("mail.example.com") != "example.com" {
		t.Errorf("OrgDomain: %s %s", OrgDomain("a.b.example.co.uk"), OrgDomain("mail.example.com"))
	}
}

func TestParseDKIMKey(t *testing.T) {
	k, err := ParseDKIMKey("v=DKIM1; k=rsa; t=y:s; h=sha256; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALyWXMAOzRp8NEd7+d50fpS8Fjx1JWNM 4T1nBm8Eznn0LOh07rn8euq1emdncxpelRj157KbP0+AaM4K5N4xOF8CAwEAAQ==")
	if err != nil || k.Bits != 512 || !k.Testing() || k.Hashes[0] != "sha256" {
		t.Fatalf("key %+v, %v", k, err)
	}
	if k, err := ParseDKIMKey("v=DKIM1; p="); err != nil || !k.Revoked {
		t.Fatalf("revoked key: %+v, %v", k, err)
	}
	for _, bad := range []string{"v=DKIM1", "v=DKIM2; p=", "k=rsa; v=DKIM1; p=", "p=!!", "k=ed25519; p=AAAA", "k=dsa; p=AAAA", "p=AAAA", "p"} {
		if _, err := ParseDKIMKey(bad); err == nil {
			t.Errorf("ParseDKIMKey(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseMTASTS(t *testing.T) {
	p, err := ParseMTASTSPolicy("version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n")
	if err != nil || p.Mode != "testing" || p.MaxAge != 86400 || len(p.MX) != 2 {
		t.Fatalf("%+v %v", p, err)
	}
	for host, want := range map[string]bool{"mail.example.com": true, "MAIL.example.com.": true, "a.example.net": true,
		"example.net": false, "a.b.example.net": false, "mail2.example.com": false} {
		if p.Matches(host) != want {
			t.Errorf("Matches(%q) = %v", host, !want)
		}
	}
	for _, bad := range []string{"", "mode: enforce\nmx: a.example\nmax_age: 1", "version: STSv1\nmode: enforce\nmax_age: 1",
		"version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601",
		"version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1", "version: STSv1\nmode: enforce\nmx: a.example", "garbage"} {
		if _, err := ParseMTASTSPolicy(bad); err == nil {
			t.Errorf("ParseMTASTSPolicy(%q) succeeded, want an error", bad)
		}
	}
	if r, err := ParseMTASTSRecord("v=STSv1; id=20160831085700Z;"); err != nil || r.ID != "20160831085700Z" {
		t.Errorf("record %+v %v", r, err)
	}
	for _, bad := range []string{"v=STSv1;", "id=1; v=STSv1", "v=STSv1; id=a-b", "v=STSv1; id=" + strings.Repeat("1", 33), "v=STSv2; id=1"} {
		if _, err := ParseMTASTSRecord(bad); err == nil {
			t.Errorf("ParseMTASTSRecord(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseTLSRPT(t *testing.T) {
	r, err := ParseTLSRPT("v=TLSRPTv1; rua=mailto:reports@example.com,https://reporting.example.com/v1/tlsrpt")
	if err != nil || len(r.RUA) != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"v=TLSRPTv1", "rua=mailto:a@b.example", "v=TLSRPTv1; rua=http://x.example/", "v=TLSRPTv1; rua=mailto:nobody", "v=TLSRPTv1; rua=https:///x"} {
		if _, err := ParseTLSRPT(bad); err == nil {
			t.Errorf("ParseTLSRPT(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"Example.COM.":        {Domain: "example.com"},
		"bob@example.com":     {Domain: "example.com", Address: "bob@example.com"},
		"bücher.example":      {Domain: "xn--bcher-kva.example"},
		"\"a@b\"@example.org": {Domain: "example.org", Address: "\"a@b\"@example.org"},
		// The display-name form, as copied from a mail client (RFC 5322 §3.4).
		"Alice <alice@postlab.test>":       {Domain: "postlab.test", Address: "alice@postlab.test"},
		" \"Smith, J\" <J@Example.com> ":   {Domain: "example.com", Address: "J@Example.com"},
		"<bob@example.com>":                {Domain: "example.com", Address: "bob@example.com"},
		"=?utf-8?q?J=C3=B6rg?= <j@x.test>": {Domain: "x.test", Address: "j@x.test"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "@example.com", "bob@", "exa mple.com", "a..b", strings.Repeat("a", 64) + ".com", "Alice <alice@postlab.test", "Alice <>"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) succeeded", bad)
		}
	}
	if _, err := ParseTarget("Alice <alice@postlab.test"); err == nil || !strings.Contains(err.Error(), `"Name <user@domain>"`) {
		t.Errorf("error %v does not show the accepted forms", err)
	}
}
