package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// A label with nothing after it, a zero reply, a label run into the
	// next one, or an RFC 3464 type prefix ("dns;", "rfc822;", "x-...;").
	reEmptyLabel  = regexp.MustCompile(`(?m)^\s+[a-z]+:\s*$`)
	reZeroField   = regexp.MustCompile(`(?m):\s*0\s*$|: 0\s`)
	reLabelInto   = regexp.MustCompile(`(?m)^\s+[a-z]+:\s{2,}[a-z]+:`)
	reShownPrefix = regexp.MustCompile(`(?i)(^|[\s(])(dns|smtp|rfc822|utf-8|x-[a-z0-9-]+)\s*;`)
)

// TestBounceTextShowsNoEmptyFields renders every bounce fixture and checks
// that no field is shown empty, as 0 or with its DSN type prefix (QA:
// "reply: 0", "status:       reply: 550", "Reported by dns; mail.example.com").
func TestBounceTextShowsNoEmptyFields(t *testing.T) {
	var files []string
	for _, dir := range []string{"bounce", "bounces-sisimai"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "diag", "testdata", dir, "*.eml"))
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	for _, f := range files {
		code, out := runCapture(t, "bounce", f)
		if code != exitOK && code != exitFailed {
			t.Errorf("%s: exit %d", f, code)
		}
		for _, re := range []*regexp.Regexp{reEmptyLabel, reZeroField, reLabelInto, reShownPrefix} {
			if m := re.FindString(out); m != "" {
				t.Errorf("%s: %q shown:\n%s", filepath.Base(f), m, out)
			}
		}
	}
	for name, want := range map[string]string{
		"exchange2003.eml":  "  status:     5.1.1\n",
		"postfix-delay.eml": "  status:     4.4.1\n",
		"activehunter.eml":  "  reply:      550\n",
		"arf.eml":           "Reported by mail.example.com.\n",
		"postfix.eml":       "  status:     5.1.1  reply: 550\n",
	} {
		if _, out := runCapture(t, "bounce", bounceFixture(name)); !strings.Contains(out, want) {
			t.Errorf("%s: want %q in\n%s", name, want, out)
		}
	}
}

// TestBounceNotAMessage: bytes that are no message get one line and exit 1,
// as headers does, not exit 0 with a note of escaped binary.
func TestBounceNotAMessage(t *testing.T) {
	dir := t.TempDir()
	garbage := make([]byte, 600)
	for i := range garbage {
		garbage[i] = byte(i*151 + 7)
	}
	inputs := map[string][]byte{"garbage": garbage, "empty": nil, "prose": []byte("# Notes on bounces\nnothing here\n")}
	for name, data := range inputs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runCapture(t, "bounce", p)
		if code != exitFailed || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "This does not parse as a message: ") || len(out) > 160 {
			t.Errorf("%s: exit %d, output %q", name, code, out)
		}
		code, out = runCapture(t, "bounce", "--json", p)
		if code != exitFailed || !strings.Contains(out, `"kind": "not-a-message"`) || !strings.Contains(out, `"parse_error": "`) {
			t.Errorf("%s --json: exit %d, output %s", name, code, out)
		}
	}
}
