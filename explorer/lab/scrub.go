package lab

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"postlab/explorer"
)

// Every ServerEvent passes through sanitize on its way out of the lab
// (Lab.Emit), whichever protocol made it: the trace reaches terminals
// (`postlab serve --trace`) and the app's Server log, and in classroom mode
// anyone on the LAN types into it.

// sanitize masks leftover credentials and escapes what a terminal would
// act on in an event's text.
func sanitize(ev ServerEvent) ServerEvent {
	ev.Line = Printable(scrubPlain(ev.Line))
	ev.State.Command = Printable(scrubPlain(ev.State.Command))
	ev.State.AuthMech = Printable(scrubPlain(ev.State.AuthMech))
	return ev
}

// Printable escapes control characters (C0, DEL, C1), invalid UTF-8 and
// the Unicode format characters that reorder or split a line (bidi
// controls, line and paragraph separators), so that a trace line never
// carries a terminal control sequence. Bytes become \xNN, runes \u{NNNN};
// printable text, UTF-8 included, and tabs are kept. Printable is
// idempotent: its output contains nothing it would escape.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unsafeRune(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\t' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune: control characters and the format characters a terminal or
// viewer uses to reorder text (Trojan Source, CVE-2021-42574).
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// scrubPlain replaces every base64 token that decodes to an AUTH PLAIN
// message with a password in it ("authzid NUL authcid NUL passwd", RFC
// 4616 §2) by "****", wherever it stands: typed where a command belongs,
// after a refused AUTH, or echoed in a reply. It is the catch-all behind the
// per-protocol masking, which knows the state but can be fooled.
func scrubPlain(line string) string {
	var b strings.Builder
	changed := false
	start := -1
	flush := func(end int) {
		tok := line[start:end]
		if plainShaped(tok) {
			tok = maskedSecret
			changed = true
		}
		b.WriteString(tok)
		start = -1
	}
	for i := 0; i < len(line); i++ {
		if isB64(line[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			flush(i)
		}
		b.WriteByte(line[i])
	}
	if start >= 0 {
		flush(len(line))
	}
	if !changed {
		return line
	}
	return b.String()
}

// maskedSecret stands for a credential in the trace.
const maskedSecret = "****"

// plainShaped is the client trace's rule (explorer.PlainPayload): both
// sides of a session must hide the same payloads.
func plainShaped(tok string) bool { return explorer.PlainPayload(tok) }

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// commandVerbs are the SMTP and POP3 verbs: a line made of one of them is a
// command, never SASL data, even where SASL data could follow.
var commandVerbs = map[string]bool{
	"HELO": true, "EHLO": true, "LHLO": true, "MAIL": true, "RCPT": true, "DATA": true,
	"BDAT": true, "RSET": true, "VRFY": true, "EXPN": true, "HELP": true, "NOOP": true,
	"QUIT": true, "AUTH": true, "STARTTLS": true, "TURN": true, "ETRN": true,
	"USER": true, "PASS": true, "APOP": true, "STAT": true, "LIST": true, "RETR": true,
	"DELE": true, "UIDL": true, "CAPA": true, "STLS": true, "TOP": true, "UTF8": true, "LANG": true,
}

// looksLikeSASL reports whether a line typed after an AUTH command may be
// SASL data (RFC 4954 §4, RFC 5034 §4): one token that is not a command
// verb. Base64 or not: a password typed as it is must not show either.
func looksLikeSASL(line string) bool {
	line = strings.TrimSpace(line)
	if line == "" || line == "*" || strings.ContainsAny(line, " \t") {
		return false
	}
	return !commandVerbs[strings.ToUpper(line)]
}

// firstWord splits a command line at its first space or tab, after any
// leading white space.
func firstWord(line string) (verb, rest string) {
	line = strings.TrimLeft(line, " \t")
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, ""
}
