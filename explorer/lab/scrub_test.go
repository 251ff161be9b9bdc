package lab

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"EHLO client.example", "EHLO client.example"},
		{"tab\tkept", "tab\tkept"},
		{"Grüße, 日本", "Grüße, 日本"},
		{"NOOP \x1b]0;pwned\x07\x1b[31mred", `NOOP \x1b]0;pwned\x07\x1b[31mred`},
		{"a\x00b\rc\x7f", `a\x00b\x0dc\x7f`},
		{"csi \u009b31m", `csi \u{009b}31m`},
		{"bad \xff\xfe utf8 \xc3", `bad \xff\xfe utf8 \xc3`},
		{"bidi \u202eevil\u2066", `bidi \u{202e}evil\u{2066}`},
		{"sep \u2028x", `sep \u{2028}x`},
		{"\x16\x03\x01\x02\x00\x01", `\x16\x03\x01\x02\x00\x01`},
	} {
		got := Printable(tc.in)
		if got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := Printable(got); again != got {
			t.Errorf("Printable not idempotent on %q: %q", got, again)
		}
	}
}

func TestScrubPlain(t *testing.T) {
	payload := b64("\x00alice\x00wonderland")
	for _, tc := range []struct{ in, want string }{
		{payload, "****"},
		{"C: " + payload + " trailing", "C: **** trailing"},
		{"AUTH PLAIN " + payload, "AUTH PLAIN ****"},
		{"AUTH\tPLAIN\t" + payload, "AUTH\tPLAIN\t****"},
		{"500 unknown command '" + payload + "'", "500 unknown command '****'"},
		{strings.TrimRight(payload, "="), "****"},     // padding left off
		{payload[:len(payload)-2], "****"},            // cut short
		{b64("alice\x00alice\x00wonderland"), "****"}, // with an authzid
		{b64("\x00alice\x00"), b64("\x00alice\x00")},  // no password: nothing to hide
		{"YWxpY2U=", "YWxpY2U="},                      // a user name alone
		{"MAIL FROM:<a@b.test> SIZE=100", "MAIL FROM:<a@b.test> SIZE=100"},
		{"", ""},
		// Zero octets are no AUTH PLAIN message: shown as typed.
		{"NOOP " + strings.Repeat("A", 60), "NOOP " + strings.Repeat("A", 60)},
		{b64("\x00\x00\x00pw"), b64("\x00\x00\x00pw")},
	} {
		if got := scrubPlain(tc.in); got != tc.want {
			t.Errorf("scrubPlain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzScrubPlain: whatever surrounds it, an AUTH PLAIN payload with a
// password never survives sanitize, and sanitize's output is printable and
// stable.
func FuzzScrubPlain(f *testing.F) {
	f.Add("C: ", "", "alice", "wonderland", "\r\n")
	f.Add("AUTH PLAIN ", "bob", "bob", "builder", "")
	f.Add("\x1b[31m", "", "u", "p", "\x07")
	f.Add("-ERR '", "", "carol", "correct horse", "'")
	f.Fuzz(func(t *testing.T, before, authz, user, pass, after string) {
		if pass == "" || strings.ContainsRune(authz+user+pass, 0) {
			return
		}
		tok := base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
		if before != "" && isB64(before[len(before)-1]) || after != "" && isB64(after[0]) ||
			strings.Contains(before+after, strings.TrimRight(tok, "=")) {
			// Glued to other base64 characters the token is another one.
			return
		}
		for _, line := range []string{before + tok + after, before + strings.TrimRight(tok, "=") + after} {
			var ev ServerEvent
			ev.Line = line
			out := sanitize(ev)
			got := out.Line
			if strings.Contains(got, strings.TrimRight(tok, "=")) {
				t.Fatalf("payload kept in %q", got)
			}
			if !utf8.ValidString(got) || Printable(got) != got {
				t.Fatalf("not printable: %q", got)
			}
			for _, r := range got {
				if unsafeRune(r) {
					t.Fatalf("control character %U in %q", r, got)
				}
			}
			if again := sanitize(out); again.Line != got {
				t.Fatalf("sanitize not stable: %q then %q", got, again.Line)
			}
		}
	})
}
