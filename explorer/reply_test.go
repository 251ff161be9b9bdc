package explorer

import (
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	r, err := ParseReply([]string{"250-mx.test greets you", "250-SIZE 1000", "250 8BITMIME"})
	if err != nil || r.Code != 250 || len(r.Lines) != 3 || r.Lines[1] != "SIZE 1000" {
		t.Fatalf("%+v %v", r, err)
	}
	caps := ParseEhlo(r)
	if len(caps) != 2 || caps[0].Keyword != "SIZE" || caps[0].Params[0] != "1000" || caps[1].Keyword != "8BITMIME" {
		t.Errorf("caps %+v", caps)
	}
	cases := []struct {
		line     string
		code     int
		enhanced string
		text     string
		last     bool
	}{
		{"250 2.1.0 Ok", 250, "2.1.0", "Ok", true},
		{"550-5.7.26 Unauthenticated email", 550, "5.7.26", "Unauthenticated email", false},
		{"250 5.1.0 class mismatch kept", 250, "", "5.1.0 class mismatch kept", true},
		{"354 End data", 354, "", "End data", true},
		{"250", 250, "", "", true},
		{"221 2.0.0", 221, "2.0.0", "", true},
		{"451 4.7.1.2 not a code", 451, "", "4.7.1.2 not a code", true},
	}
	for _, tc := range cases {
		rl, err := ParseReplyLine(tc.line)
		if err != nil || rl.Code != tc.code || rl.Enhanced != tc.enhanced || rl.Text != tc.text || rl.Last != tc.last {
			t.Errorf("%q: %+v %v", tc.line, rl, err)
		}
	}
	for _, bad := range [][]string{
		{"250-a", "251 b"},
		{"250 a", "250 b"},
		{"250-a"},
		{},
		{"2500 x"},
	} {
		if _, err := ParseReply(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// AUTH=LOGIN (old servers) keeps a clean keyword.
	caps = ParseEhlo(&Reply{Code: 250, Lines: []string{"hi", "AUTH=LOGIN PLAIN"}})
	if caps[0].Keyword != "AUTH" || strings.Join(caps[0].Params, ",") != "LOGIN,PLAIN" {
		t.Errorf("caps %+v", caps)
	}
}

func TestMaskSASL(t *testing.T) {
	cases := []struct {
		mech, resp string
		step       int
		pw         bool
		want       string
	}{
		{"PLAIN", "AGFsaWNlAHdvbmRlcmxhbmQ=", 1, false, "AGFsaWNl****"},
		{"PLAIN", "YWxpY2UAYWxpY2UAd29uZGVybGFuZA==", 1, false, "YWxpY2UAYWxpY2UA****"},
		{"PLAIN", "not base64!", 1, false, "****"},
		{"PLAIN", "*", 1, false, "*"},
		{"LOGIN", "YWxpY2U=", 1, false, "YWxpY2U="},
		{"LOGIN", "d29uZGVybGFuZA==", 2, true, "****"},
		{"LOGIN", "d29uZGVybGFuZA==", 1, true, "****"},
		{"XOAUTH2", "dXNlcj1hAWF1dGg9QmVhcmVyIHgBAQ==", 1, false, "****"},
		{"CRAM-MD5", "YWxpY2UgYjkxM2E2MDJjN2VkYTdhNDk1YjRlNmU3MzM0ZDM4OTA=", 1, false, "YWxpY2UgYjkxM2E2MDJjN2VkYTdhNDk1YjRlNmU3MzM0ZDM4OTA="},
	}
	for _, tc := range cases {
		if got := maskSASL(tc.mech, tc.resp, tc.step, tc.pw); got != tc.want {
			t.Errorf("maskSASL(%s, %q) = %q, want %q", tc.mech, tc.resp, got, tc.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"plain":       "plain",
		"tab\there":   "tab\there",
		"nul\x00x":    `nul\x00x`,
		"esc\x1b[2J":  `esc\x1b[2J`,
		"caf\xc3\xa9": "caf\u00e9",
		"bad\xff":     `bad\xff`,
		"\ufffd":      "\ufffd",
	}
	for in, want := range cases {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"250 ok", "250-a\n250 b", "550 5.7.1 no", "2", "999 x", "250-\n250-\n250"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		r, err := ParseReply(lines)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 559 || len(r.Lines) != len(lines) {
			t.Fatalf("%q parsed to %+v", s, r)
		}
		if r.Enhanced != "" && int(r.Enhanced[0]-'0') != r.Class() {
			t.Fatalf("%q: enhanced %q of another class", s, r.Enhanced)
		}
		ParseEhlo(r)
		_ = r.String()
	})
}
