package diag

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reTypePrefix is an RFC 3464 type prefix ("dns;", "rfc822;", "x-...;").
var reTypePrefix = regexp.MustCompile(`(?i)^\s*(dns|smtp|rfc822|utf-8|x-[a-z0-9-]+)\s*;`)

// TestBounceFieldsHaveNoTypePrefix: the servers and recipients a report
// names are plain names in every fixture (QA: arf.eml said "Reported by
// dns; mail.example.com").
func TestBounceFieldsHaveNoTypePrefix(t *testing.T) {
	var files []string
	for _, dir := range []string{"bounce", "bounces-sisimai"} {
		m, _ := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ParseBounce(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		check := func(what, v string) {
			if reTypePrefix.MatchString(v) {
				t.Errorf("%s: %s %q keeps its type prefix", filepath.Base(f), what, v)
			}
		}
		check("reporting MTA", rep.ReportingMTA)
		for _, r := range append(append([]BounceResult{}, rep.Results...), rep.Delayed...) {
			check("remote MTA", r.RemoteMTA)
			check("recipient", r.Recipient)
			check("diagnostic", r.Diagnostic)
		}
	}
	rep := parseFixture(t, "arf.eml")
	if rep.ReportingMTA != "mail.example.com" {
		t.Errorf("arf: reporting MTA %q", rep.ReportingMTA)
	}
}

func TestDSNTypedValue(t *testing.T) {
	for in, want := range map[string]string{
		"dns; mx.example.com":                       "mx.example.com",
		"X-Outbound-Mail-Relay; Name service error": "Name service error",
		"smtp;550 5.1.1 unknown":                    "550 5.1.1 unknown",
		"550 5.1.1 <a@b>; unknown":                  "550 5.1.1 <a@b>; unknown",
		"this-is-a-long-prefix-but-no-x; text":      "this-is-a-long-prefix-but-no-x; text",
		"x;":                                        "",
		"mx.example.com":                            "mx.example.com",
	} {
		if got := dsnTypedValue(in); got != want {
			t.Errorf("dsnTypedValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBounceNotAMessage: input that is no message says so (like headers)
// instead of being scanned as text with a note full of escaped bytes.
func TestBounceNotAMessage(t *testing.T) {
	garbage := make([]byte, 600)
	for i := range garbage {
		garbage[i] = byte(i*151 + 7) // fixed bytes, no header field
	}
	for name, in := range map[string]string{"empty": "", "garbage": string(garbage), "blank first": "\r\nFrom: a@b\r\n\r\nbody", "prose": "# notes\nabout bounces\n"} {
		rep, err := ParseBounce(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if rep.ParseError == "" || rep.Kind != "not-a-message" || rep.IsBounce || len(rep.Notes) != 0 {
			t.Errorf("%s: kind %q parse error %q notes %q", name, rep.Kind, rep.ParseError, rep.Notes)
		}
	}
	for _, f := range []string{"postfix.eml", "ordinary.eml", "truncated.eml", "malformed-dsn.eml"} {
		if rep := parseFixture(t, f); rep.ParseError != "" {
			t.Errorf("%s: %q", f, rep.ParseError)
		}
	}
}
