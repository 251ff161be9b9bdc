package annotate

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"postlab/explorer"
)

// masked is how the trace recorder hides a secret.
const masked = "****"

// decodeB64 decodes base64 leniently: a trailing mask ("****") is cut off
// and only the longest decodable prefix is used. cut reports that a mask
// was found.
func decodeB64(s string) (raw []byte, cut, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "*"); i >= 0 {
		s, cut = s[:i], true
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
		return raw, cut, true
	}
	// Unpadded, or cut by the mask: decode as much as there is.
	s = strings.TrimRight(s, "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, cut, false
	}
	return raw, cut, true
}

// show quotes text for a note, bounded and with control bytes escaped.
func show(b []byte) string {
	const max = 80
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return fmt.Sprintf("%q", s)
}

// clean returns a short printable-ASCII token as is and quotes anything else.
func clean(s string) string {
	if len(s) == 0 || len(s) > 60 {
		return show([]byte(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return show([]byte(s))
		}
	}
	return s
}

func printableText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' {
			return false
		}
	}
	return true
}

// saslRef is the reference for the SASL exchange in a protocol.
func saslRef(p explorer.Protocol) string {
	if p == explorer.POP3 {
		return "RFC 5034 §4"
	}
	return "RFC 4954 §4"
}

// challengeNote explains a server challenge (SMTP 334, POP3 "+ ").
func challengeNote(mech, b64 string, p explorer.Protocol) explorer.Note {
	ref := saslRef(p)
	b64 = strings.TrimSpace(b64)
	if b64 == "" || b64 == "=" {
		d := "The server waits for the client's first SASL message, base64-encoded."
		if mech == "PLAIN" {
			d = "The server waits for the PLAIN credentials: base64 of authzid NUL user NUL password."
		}
		return explorer.Note{Title: "Empty challenge: your turn", Detail: d, Ref: ref}
	}
	raw, _, ok := decodeB64(b64)
	if !ok {
		return explorer.Note{Title: "Challenge is not valid base64", Detail: "SASL challenges must be base64; this server sent something else, so a strict client would cancel with '*'.", Ref: ref}
	}
	low := strings.ToLower(string(raw))
	switch {
	case strings.HasPrefix(low, "user"):
		return explorer.Note{Title: "Challenge decoded: " + show(raw), Detail: "AUTH LOGIN asks for the user name. Answer with it in base64; base64 is an encoding anyone can reverse, not encryption.", Ref: saslMechs["LOGIN"].Ref}
	case strings.HasPrefix(low, "pass"):
		return explorer.Note{Title: "Challenge decoded: " + show(raw), Detail: "AUTH LOGIN asks for the password. It is sent in base64, readable by anyone on the path unless the connection uses TLS.", Ref: saslMechs["LOGIN"].Ref}
	case mech == "CRAM-MD5" || (strings.HasPrefix(low, "<") && strings.HasSuffix(low, ">")):
		return explorer.Note{Title: "CRAM-MD5 challenge: " + show(raw), Detail: "A one-time string. The client answers base64('user ' + hex HMAC-MD5(password, challenge)), so the password itself never crosses the wire.", Ref: saslMechs["CRAM-MD5"].Ref}
	case strings.HasPrefix(mech, "SCRAM-") || strings.HasPrefix(low, "r="):
		return explorer.Note{Title: "SCRAM server-first message: " + show(raw), Detail: "r= is the combined nonce, s= the salt and i= the iteration count the client needs to derive its proof from the password.", Ref: saslMechs["SCRAM-SHA-256"].Ref}
	case strings.HasPrefix(low, "{") && strings.Contains(low, "status"):
		return explorer.Note{Title: "OAuth error: " + show(raw), Detail: "The access token was refused (expired or wrong scope). The client sends an empty line to receive the final error reply.", Ref: saslMechs["OAUTHBEARER"].Ref}
	case printableText(raw):
		return explorer.Note{Title: "Challenge decoded: " + show(raw), Detail: "The base64 text after the code, decoded.", Ref: ref}
	}
	return explorer.Note{Title: fmt.Sprintf("Binary challenge (%d bytes)", len(raw)), Detail: "The mechanism exchanges binary data, shown base64-encoded on the wire.", Ref: ref}
}

// loginRole says what an AUTH LOGIN response carries when known.
type loginRole int

const (
	roleUnknown loginRole = iota
	roleUser
	rolePass
)

// responseNotes explains one client SASL message (an initial response or
// a line in the exchange), decoding it without ever showing a password.
func responseNotes(mech, resp string, role loginRole, ev explorer.Event) []explorer.Note {
	ref := saslRef(ev.State.Proto)
	resp = strings.TrimSpace(resp)
	switch resp {
	case "*":
		return []explorer.Note{{Title: "Cancel authentication", Detail: "'*' aborts the SASL exchange; the server answers with a 501 (SMTP) or -ERR (POP3).", Ref: ref}}
	case "=":
		return []explorer.Note{{Title: "Empty initial response", Detail: "'=' stands for a present but empty initial response.", Ref: ref}}
	case "":
		return []explorer.Note{{Title: "Empty response", Detail: "An empty line answers the challenge with nothing (e.g. to get the final error after an OAuth failure).", Ref: ref}}
	}
	var notes []explorer.Note
	secret := false
	raw, cut, ok := decodeB64(resp)
	switch {
	case resp == masked || (cut && len(raw) == 0):
		secret = true
		notes = append(notes, explorer.Note{Title: "Credential hidden", Detail: "postlab masked this line in the trace because it carries the password or a token. On the wire it is base64, which anyone can decode.", Ref: ref})
	case !ok:
		notes = append(notes, explorer.Note{Title: "Response is not valid base64", Detail: "SASL responses must be base64; expect the server to reject it (501 in SMTP).", Ref: ref})
	case mech == "PLAIN":
		secret = true
		notes = append(notes, plainNote(raw, cut))
	case mech == "LOGIN":
		secret = true
		notes = append(notes, loginNote(raw, role))
	case mech == "CRAM-MD5":
		user, digest, _ := strings.Cut(string(raw), " ")
		notes = append(notes, explorer.Note{Title: "CRAM-MD5 response: user " + show([]byte(user)), Detail: fmt.Sprintf("The user name and a %d-character HMAC-MD5 digest of the challenge keyed with the password; the password itself is not sent.", len(digest)), Ref: saslMechs["CRAM-MD5"].Ref})
	case mech == "XOAUTH2" || mech == "OAUTHBEARER":
		secret = true
		notes = append(notes, oauthNote(mech, raw))
	case strings.HasPrefix(mech, "SCRAM-"):
		notes = append(notes, scramNote(raw))
	case mech == "EXTERNAL":
		notes = append(notes, explorer.Note{Title: "EXTERNAL identity: " + show(raw), Detail: "The identity to act as; the proof is the TLS client certificate, no password is sent.", Ref: saslMechs["EXTERNAL"].Ref})
	default:
		notes = append(notes, explorer.Note{Title: fmt.Sprintf("SASL response (%d bytes)", len(raw)), Detail: "A base64-encoded message of the chosen mechanism.", Ref: ref})
	}
	if secret && !ev.TLS {
		notes = append(notes, plaintextWarning("RFC 4616 §1"))
	}
	return notes
}

// refPassCleartext: the cleartext risk of USER/PASS is discussed in RFC
// 1939's Security Considerations (and RFC 2595, TLS for POP3).
const refPassCleartext = "RFC 1939 §13"

// plaintextWarning is the note for credentials that crossed without TLS;
// ref names the mechanism's own warning.
func plaintextWarning(ref string) explorer.Note {
	how := "base64 is an encoding, not encryption"
	if ref == refPassCleartext {
		how = "PASS sends the password as plain text; RFC 2595 adds STLS for this"
	}
	return explorer.Note{Title: "Warning: credentials sent without TLS",
		Detail: "This connection is not encrypted, so anyone on the network path can read this login (" + how + "). Use STARTTLS/STLS first, or the implicit-TLS port (465, 995).",
		Ref:    ref}
}

// plainNote decodes "authzid NUL authcid NUL password"; the password is
// never shown, whether or not the recorder masked it.
func plainNote(raw []byte, cut bool) explorer.Note {
	parts := bytes.SplitN(raw, []byte{0}, 3)
	ref := saslMechs["PLAIN"].Ref
	if len(parts) < 2 {
		return explorer.Note{Title: "AUTH PLAIN credentials (user name cut by the mask)", Detail: "Base64 of authzid NUL user NUL password. The password part is masked; anyone who sees this line on the wire could decode all of it.", Ref: ref}
	}
	user := parts[1]
	title := "AUTH PLAIN decoded: user " + show(user)
	if len(parts) == 2 && cut {
		title = "AUTH PLAIN decoded: user " + show(user) + " (may be cut short by the mask)"
	}
	d := "Base64 of authzid NUL user NUL password"
	if len(parts[0]) > 0 {
		d += "; authzid " + show(parts[0]) + " asks to act as another identity"
	}
	d += ". The password is shown here as " + masked + ", but on the wire anyone could decode it: base64 is not encryption."
	return explorer.Note{Title: title, Detail: d, Ref: ref}
}

func loginNote(raw []byte, role loginRole) explorer.Note {
	ref := saslMechs["LOGIN"].Ref
	switch role {
	case roleUser:
		return explorer.Note{Title: "AUTH LOGIN user name: " + show(raw), Detail: "The user name, base64-encoded; decoding it needs no key.", Ref: ref}
	case rolePass:
		return explorer.Note{Title: "AUTH LOGIN password (" + masked + ")", Detail: "The password in base64; not shown here, but readable by anyone on the path unless TLS is on.", Ref: ref}
	}
	// Unknown step: it may be the password, so nothing of it is shown.
	return explorer.Note{Title: fmt.Sprintf("AUTH LOGIN response (%d characters, not shown)", utf8.RuneCount(raw)), Detail: "LOGIN answers 'Username:' and then 'Password:', each in base64. Without the challenge before it this line may be the password, so it is not decoded here.", Ref: ref}
}

func oauthNote(mech string, raw []byte) explorer.Note {
	user := ""
	for _, f := range bytes.FieldsFunc(raw, func(r rune) bool { return r == 1 || r == ',' }) {
		switch {
		case bytes.HasPrefix(f, []byte("user=")):
			user = string(f[5:])
		case bytes.HasPrefix(f, []byte("a=")):
			user = string(f[2:])
		}
	}
	title := mech + " response"
	if user != "" {
		title += ": user " + show([]byte(user))
	}
	return explorer.Note{Title: title, Detail: "The user and an OAuth access token (Bearer ...). The token is not shown: like a password it lets anyone who copies it log in until it expires.", Ref: saslMechs[mech].Ref}
}

func scramNote(raw []byte) explorer.Note {
	s := string(raw)
	ref := saslMechs["SCRAM-SHA-256"].Ref
	if strings.Contains(s, "p=") && strings.Contains(s, "c=") {
		return explorer.Note{Title: "SCRAM client-final message", Detail: "c= carries the channel binding, r= the nonce and p= the client proof computed from the salted password; the password itself is never sent.", Ref: ref}
	}
	user := ""
	for _, f := range strings.Split(s, ",") {
		if strings.HasPrefix(f, "n=") {
			user = f[2:]
		}
	}
	return explorer.Note{Title: "SCRAM client-first message: user " + show([]byte(user)), Detail: "The user name (n=) and a random client nonce (r=); the GS2 header in front says whether channel binding is used.", Ref: ref}
}
