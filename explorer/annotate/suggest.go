package annotate

import (
	"strings"

	"postlab/explorer"
)

// Suggestion is a next command that makes sense in a session's state.
type Suggestion struct {
	Command string // a command line, with <...> marking what to fill in
	Why     string
}

// Suggest lists sensible next commands for the state, valid for its
// protocol and phase, given the capabilities the server announced: EHLO
// lines ("SIZE 1000", "AUTH PLAIN LOGIN") or CAPA tags ("SASL PLAIN"); nil
// when not known. The most useful suggestion comes first.
func Suggest(st explorer.State, caps []string) []Suggestion {
	c := parseCaps(caps)
	if st.Proto == explorer.POP3 {
		return suggestPOP3(st, c)
	}
	return suggestSMTP(st, c)
}

// capSet maps an upper-case keyword to its arguments; nil means unknown.
type capSet map[string][]string

func parseCaps(caps []string) capSet {
	if caps == nil {
		return nil
	}
	c := capSet{}
	for _, line := range caps {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		kw := strings.ToUpper(f[0])
		if strings.HasPrefix(kw, "AUTH=") {
			f = append([]string{"AUTH", kw[5:]}, f[1:]...)
			kw = "AUTH"
		}
		c[kw] = append(c[kw], f[1:]...)
	}
	return c
}

// has reports whether the keyword was announced; unknown capabilities
// (nil set) count as present when assume is true.
func (c capSet) has(kw string, assume bool) bool {
	if c == nil {
		return assume
	}
	_, ok := c[kw]
	return ok
}

// mech picks the mechanism to suggest among those offered.
func (c capSet) mech(key string) string {
	offered := map[string]bool{}
	for _, m := range c[key] {
		offered[strings.ToUpper(m)] = true
	}
	for _, m := range []string{"SCRAM-SHA-256", "PLAIN", "LOGIN", "CRAM-MD5"} {
		if offered[m] {
			return m
		}
	}
	return "PLAIN"
}

func suggestSMTP(st explorer.State, c capSet) []Suggestion {
	var s []Suggestion
	add := func(cmd, why string) { s = append(s, Suggestion{cmd, why}) }
	switch st.Phase {
	case explorer.PhaseGreeted:
		add("EHLO <your.host.name>", "Greet the server and learn its extensions (RFC 5321 §4.1.1.1).")
		add("HELO <your.host.name>", "Old-style greeting without extensions.")
		add("QUIT", "End the session.")
	case explorer.PhaseReady:
		if !st.TLS && c.has("STARTTLS", false) {
			add("STARTTLS", "Encrypt the connection before logging in (RFC 3207).")
		}
		if !st.Authed && c.has("AUTH", false) {
			add("AUTH "+c.mech("AUTH"), "Log in; submission servers relay only for authenticated users (RFC 4954).")
		}
		add("MAIL FROM:<sender@example.org>", "Start a message with its envelope sender (RFC 5321 §4.1.1.2).")
		add("NOOP", "Check that the server is still there.")
		add("RSET", "Reset the session state.")
		if c.has("VRFY", false) {
			add("VRFY <user>", "Ask whether a mailbox exists.")
		}
		add("HELP", "Ask the server for help text.")
		add("QUIT", "End the session.")
	case explorer.PhaseMail:
		add("RCPT TO:<recipient@example.org>", "Give a recipient (RFC 5321 §4.1.1.3).")
		add("RSET", "Abort this message.")
		add("QUIT", "End the session without sending.")
	case explorer.PhaseRcpt:
		add("RCPT TO:<another@example.org>", "Add another recipient.")
		add("DATA", "Send the message text (RFC 5321 §4.1.1.4).")
		if c.has("CHUNKING", false) {
			add("BDAT <size> LAST", "Send the message as one counted chunk (RFC 3030).")
		}
		add("RSET", "Abort this message.")
		add("QUIT", "End the session without sending.")
	case explorer.PhaseData:
		if st.Command == "BDAT" {
			add("<message data>", "Send the announced number of octets (RFC 3030 §2).")
			break
		}
		add("Subject: <subject>", "Header lines first, then an empty line, then the body (RFC 5322).")
		add(".", "End the message: a line holding only a dot (RFC 5321 §4.1.1.4).")
	case explorer.PhaseAuth:
		add("<base64 response>", "Answer the server's challenge (RFC 4954 §4).")
		add("*", "Cancel the authentication.")
	}
	return s
}

func suggestPOP3(st explorer.State, c capSet) []Suggestion {
	var s []Suggestion
	add := func(cmd, why string) { s = append(s, Suggestion{cmd, why}) }
	switch st.Phase {
	case explorer.PhaseAuthz:
		if st.Command == "USER" {
			add("PASS <password>", "Second half of the USER/PASS login (RFC 1939 §7).")
		}
		add("CAPA", "List the server's capabilities (RFC 2449 §5).")
		if !st.TLS && c.has("STLS", false) {
			add("STLS", "Encrypt the connection before logging in (RFC 2595 §4).")
		}
		if c.has("USER", true) && st.Command != "USER" {
			add("USER <name>", "Start the plain login (RFC 1939 §7).")
		}
		if c.has("SASL", false) {
			add("AUTH "+c.mech("SASL"), "Log in with SASL (RFC 5034 §4).")
		}
		add("APOP <name> <digest>", "Log in without sending the password, if the greeting had a <timestamp> (RFC 1939 §7).")
		add("QUIT", "End the session.")
	case explorer.PhaseTrans:
		add("STAT", "Count the messages and their total size (RFC 1939 §5).")
		add("LIST", "List each message's size.")
		if c.has("UIDL", true) {
			add("UIDL", "List each message's unique id (RFC 1939 §7).")
		}
		add("RETR <n>", "Download message n.")
		if c.has("TOP", true) {
			add("TOP <n> 0", "Show only the headers of message n.")
		}
		add("DELE <n>", "Mark message n for deletion (done at QUIT).")
		add("RSET", "Undo the deletion marks.")
		add("NOOP", "Keep the connection alive.")
		add("CAPA", "List the capabilities again.")
		add("QUIT", "End the session and commit deletions (RFC 1939 §6).")
	case explorer.PhaseAuth:
		add("<base64 response>", "Answer the server's challenge (RFC 5034 §4).")
		add("*", "Cancel the authentication.")
	}
	return s
}
