package explorer

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// Credential masking beyond the SASL exchange itself. A password can reach
// the wire outside the state the recorder expects: a SASL response typed
// after the server refused AUTH (502, 504) or after a malformed reply, or an
// AUTH PLAIN payload typed where a command belongs. The server reads such a
// line as a command, but it still carries the credentials (RFC 4954 §4,
// RFC 4616 §2), so the trace must not show them.

// commandVerbs are the SMTP and POP3 verbs that are also valid base64: a
// line made of one of them is a command, never a SASL response.
var commandVerbs = map[string]bool{
	"HELO": true, "EHLO": true, "LHLO": true, "MAIL": true, "RCPT": true, "DATA": true,
	"BDAT": true, "RSET": true, "VRFY": true, "EXPN": true, "HELP": true, "NOOP": true,
	"QUIT": true, "AUTH": true, "STARTTLS": true, "TURN": true, "ETRN": true,
	"USER": true, "PASS": true, "APOP": true, "STAT": true, "LIST": true, "RETR": true,
	"DELE": true, "UIDL": true, "CAPA": true, "STLS": true, "TOP": true, "UTF8": true, "LANG": true,
}

// decodeB64 decodes standard base64 with or without padding.
func decodeB64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, true
	}
	return nil, false
}

// plainShaped reports whether tok is base64 of an AUTH PLAIN message with
// a password in it (the masked form keeps "authzid NUL authcid NUL" only).
func plainShaped(tok string) bool { return PlainPayload(tok) }

// PlainPayload reports whether tok is base64 (padded or not, or cut one
// character short) of an AUTH PLAIN message "authzid NUL authcid NUL
// passwd" (RFC 4616 §2) with a password in it: exactly two NULs and octets
// after the second. Anything looser masks text that is no secret: base64
// of zero octets ("NOOP AAAA...") has many NULs. Nothing stricter either:
// an empty or non-UTF-8 user name does not make the password less secret.
// The client trace and the lab's server log share this rule.
func PlainPayload(tok string) bool {
	if len(tok) < 6 { // "\0a\0b" is 4 octets: 6 base64 characters
		return false
	}
	b, ok := decodeB64(tok)
	if !ok {
		// A token cut short still holds most of the password: decode
		// the whole quanta.
		raw := strings.TrimRight(tok, "=")
		if strings.Contains(raw, "=") {
			return false
		}
		cut := len(raw) &^ 3
		if cut < 8 {
			return false
		}
		if b, ok = decodeB64(raw[:cut]); !ok {
			return false
		}
	}
	return bytes.Count(b, []byte{0}) == 2 && b[len(b)-1] != 0
}

// looksLikeSASL reports whether a typed line can be a SASL client response:
// one base64 token that is not a command verb.
func looksLikeSASL(line string) bool {
	if line == "" || strings.ContainsAny(line, " \t") || commandVerbs[strings.ToUpper(line)] {
		return false
	}
	_, ok := decodeB64(line)
	return ok
}

// maskOrphan masks a SASL response sent outside an exchange: an AUTH PLAIN
// payload keeps its user part, anything else is masked whole (the server
// never asked, so there is no telling a user name from a password).
func maskOrphan(line string) string {
	if plainShaped(line) {
		return maskSASL("PLAIN", line, 1, false)
	}
	return MaskedSecret
}

// scrubPlain masks every run of base64 characters in a line that is an
// AUTH PLAIN payload, wherever it stands: typed where a command belongs,
// or echoed back by a server in an error reply ("500 unknown command
// 'AGFsaWNl...'"). It reports whether it changed anything.
func scrubPlain(line string) (string, bool) {
	changed := false
	var b strings.Builder
	start := -1
	flush := func(end int) {
		tok := line[start:end]
		if plainShaped(tok) {
			tok = maskSASL("PLAIN", tok, 1, false)
			changed = true
		}
		b.WriteString(tok)
		start = -1
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; isB64(c) {
			if start < 0 {
				start = i
			}
		} else {
			if start >= 0 {
				flush(i)
			}
			b.WriteByte(c)
		}
	}
	if start >= 0 {
		flush(len(line))
	}
	if !changed {
		return line, false
	}
	return b.String(), true
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
