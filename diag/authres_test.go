package diag

import (
	"reflect"
	"testing"
)

// Examples from RFC 8601 Appendix B.
func TestParseAuthResultsRFC8601(t *testing.T) {
	cases := []struct {
		in   string
		want AuthResults
	}{
		{"example.org 1; none", AuthResults{"example.org", []AuthResult{}}},
		{"example.com; spf=pass smtp.mailfrom=example.net",
			AuthResults{"example.com", []AuthResult{{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "example.net"}}}}},
		{"example.com; auth=pass (cram-md5) smtp.auth=sender@example.net; spf=pass smtp.mailfrom=example.net",
			AuthResults{"example.com", []AuthResult{
				{Method: "auth", Result: "pass", Comment: "cram-md5", Props: map[string]string{"smtp.auth": "sender@example.net"}},
				{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "example.net"}}}}},
		{"example.com; sender-id=fail header.from=example.com; dkim=pass (good signature) header.d=example.com",
			AuthResults{"example.com", []AuthResult{
				{Method: "sender-id", Result: "fail", Props: map[string]string{"header.from": "example.com"}},
				{Method: "dkim", Result: "pass", Comment: "good signature", Props: map[string]string{"header.d": "example.com"}}}}},
		{`mail-router.example.net; dkim=pass (good signature) header.d=newyork.example.com header.b=oINEO8hg; dkim=fail (bad signature) reason="body changed" header.d=newyork.example.com`,
			AuthResults{"mail-router.example.net", []AuthResult{
				{Method: "dkim", Result: "pass", Comment: "good signature", Props: map[string]string{"header.d": "newyork.example.com", "header.b": "oINEO8hg"}},
				{Method: "dkim", Result: "fail", Reason: "body changed", Comment: "bad signature", Props: map[string]string{"header.d": "newyork.example.com"}}}}},
		// Microsoft writes no authserv-id.
		{"spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100",
			AuthResults{"", []AuthResult{
				{Method: "spf", Result: "pass", Comment: "sender IP is 192.0.2.1", Props: map[string]string{"smtp.mailfrom": "example.com"}},
				{Method: "dkim", Result: "pass", Comment: "signature was verified", Props: map[string]string{"header.d": "example.com"}},
				{Method: "dmarc", Result: "pass", Props: map[string]string{"action": "none", "header.from": "example.com"}},
				{Method: "compauth", Result: "pass", Reason: "100", Props: map[string]string{}}}}},
		{"spf=pass (sender IP is 192.0.2.1) smtp.helo=out.example.com; outlook.com; dkim=none (message not signed) header.d=none;outlook.com; dmarc=pass action=none header.from=outlook.com;",
			AuthResults{"outlook.com", []AuthResult{
				{Method: "spf", Result: "pass", Comment: "sender IP is 192.0.2.1", Props: map[string]string{"smtp.helo": "out.example.com"}},
				{Method: "dkim", Result: "none", Comment: "message not signed", Props: map[string]string{"header.d": "none"}},
				{Method: "dmarc", Result: "pass", Props: map[string]string{"action": "none", "header.from": "outlook.com"}}}}},
		{"example.com (comment; with semicolon); iprev=pass policy.iprev=192.0.2.200",
			AuthResults{"example.com", []AuthResult{{Method: "iprev", Result: "pass", Props: map[string]string{"policy.iprev": "192.0.2.200"}}}}},
	}
	for _, c := range cases {
		got := ParseAuthResults(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseAuthResults(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func FuzzParseAuthResults(f *testing.F) {
	f.Add("example.com; spf=pass smtp.mailfrom=example.net")
	f.Add(`x; dkim=fail reason="a;b" header.d=(c)d; (((`)
	f.Fuzz(func(t *testing.T, s string) {
		ar := ParseAuthResults(s)
		if len(ar.Results) > 100 {
			t.Fatal("unbounded results")
		}
		for _, r := range ar.Results {
			if r.Props == nil {
				t.Fatal("nil props")
			}
		}
	})
}
