package diag

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// FuzzParseAutoconfig: any document either parses into bounded, valid
// servers or is an error; it never panics.
func FuzzParseAutoconfig(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(autoconfigXML, 995, 993, 587)), "alice@example.com")
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="pop3"><hostname>%EMAILDOMAIN%</hostname><port>110</port><socketType>STARTTLS</socketType></incomingServer></emailProvider></clientConfig>`), "a@b.test")
	f.Add([]byte(`<clientConfig><emailProvider>`), "x@y.z")
	for _, name := range []string{"provider.xml", "unsupported.xml"} {
		if b, err := os.ReadFile("testdata/settings/" + name); err == nil {
			f.Add(b, "carol@example.org")
		}
	}
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>`), "@")
	f.Fuzz(func(t *testing.T, data []byte, address string) {
		ss, err := ParseAutoconfig(data, address)
		if err != nil {
			if len(ss) != 0 {
				t.Fatal("servers with an error")
			}
			return
		}
		if len(ss) == 0 || len(ss) > maxAutoconfigServers {
			t.Fatalf("%d servers", len(ss))
		}
		for _, s := range ss {
			if s.Port < 1 || s.Port > 65535 || s.Security != "tls" && s.Security != "starttls" && s.Security != "plain" ||
				s.Protocol != "pop3" && s.Protocol != "imap" && s.Protocol != "smtp" || s.Host == "" || strings.ContainsAny(s.Host, " \r\n") {
				t.Fatalf("bad server %+v", s)
			}
		}
	})
}

func TestParseAutoconfigFiles(t *testing.T) {
	b, err := os.ReadFile("testdata/settings/provider.xml")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ParseAutoconfig(b, "carol@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ss {
		got = append(got, fmt.Sprintf("%s %s %d %s %s", s.Protocol, s.Host, s.Port, s.Security, s.Username))
	}
	want := "imap imap.example.org 993 tls carol@example.org|pop3 pop.example.net 995 tls carol|pop3 pop.example.net 110 starttls carol|" +
		"smtp smtp.example.net 465 tls carol@example.org|smtp smtp.example.net 587 starttls carol@example.org"
	if strings.Join(got, "|") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	b, err = os.ReadFile("testdata/settings/unsupported.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAutoconfig(b, "a@example.com"); err == nil || !strings.Contains(err.Error(), `type "exchange"`) || !strings.Contains(err.Error(), "QUANTUM") {
		t.Errorf("unsupported: %v", err)
	}
}
