package diag

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseAutoconfig: any document either parses into bounded, valid
// servers or is an error; it never panics.
func FuzzParseAutoconfig(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(autoconfigXML, 995, 993, 587)), "alice@example.com")
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="pop3"><hostname>%EMAILDOMAIN%</hostname><port>110</port><socketType>STARTTLS</socketType></incomingServer></emailProvider></clientConfig>`), "a@b.test")
	f.Add([]byte(`<clientConfig><emailProvider>`), "x@y.z")
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
