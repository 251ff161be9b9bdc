package annotate

import (
	"fmt"
	"strings"
	"testing"

	"postlab/explorer"
)

// bounceWording: a note that tells the reader a message goes back to its
// sender.
func bounceWording(notes []explorer.Note) (string, bool) {
	for _, n := range notes {
		low := strings.ToLower(n.Title + " " + n.Detail)
		if strings.Contains(low, "bounce") || strings.Contains(low, "returned to its sender") || strings.Contains(low, "returns the message") {
			return n.Title + " | " + n.Detail, true
		}
	}
	return "", false
}

// TestNoBounceForCommandReplies sweeps (command, phase, code): only a
// refusal that concerns a message a relay holds may speak of a bounce:
// the end of DATA content, DATA/BDAT, MAIL, RCPT inside a transaction
// (with a code that is no syntax or sequence error), and the refused
// greeting, after which a relay tries the next MX or returns the message.
// A 4xx on those says the message stays queued; anything else is about the
// command alone.
func TestNoBounceForCommandReplies(t *testing.T) {
	cmds := []string{"", "EHLO", "HELO", "MAIL", "RCPT", "DATA", ".", "BDAT", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH", "FOO"}
	phases := []explorer.Phase{explorer.PhaseConnect, explorer.PhaseGreeted, explorer.PhaseReady, explorer.PhaseMail, explorer.PhaseRcpt, explorer.PhaseData, explorer.PhaseAuth}
	var codes []int
	for c := range replyCodes {
		if c >= 400 {
			codes = append(codes, c)
		}
	}
	for _, code := range codes {
		for _, cmd := range cmds {
			for _, ph := range phases {
				st := smtpSt(ph, cmd)
				line := fmt.Sprintf("%d %d.0.0 text", code, code/100)
				n := Annotate(explorer.Event{Dir: s2c, Line: line, State: st})
				text, bounce := bounceWording(n)
				if !bounce {
					continue
				}
				endOfContent := ph == explorer.PhaseData && (cmd == "DATA" || cmd == ".")
				inTxn := ph == explorer.PhaseMail || ph == explorer.PhaseRcpt
				syntax := code == 500 || code == 501 || code == 502 || code == 503 || code == 504 || code == 555
				ok := endOfContent ||
					(cmd == "DATA" || cmd == "BDAT" || cmd == "MAIL") && ph != explorer.PhaseAuth && !syntax ||
					cmd == "RCPT" && inTxn && !syntax ||
					cmd == "" && code/100 == 5 && ph != explorer.PhaseAuth
				if !ok {
					t.Errorf("%s answering %q in phase %s speaks of a bounce: %s", line, cmd, ph, text)
				}
			}
		}
	}
}

// The tester's cases, each with the note that was wrong.
func TestNextNotesFollowTheCommand(t *testing.T) {
	cases := []struct {
		name, line string
		st         explorer.State
		want, not  string
	}{
		{"503 on RCPT", "503 5.5.1 Error: need MAIL command", smtpSt(explorer.PhaseReady, "RCPT"), "MAIL FROM", "bounce"},
		{"typed . after a refused DATA", "500 5.5.2 Error: command not recognized", smtpSt(explorer.PhaseRcpt, "."), "fix the command", "bounce"},
		{"AUTH without mechanism", "501 5.5.4 Syntax: AUTH mechanism", smtpSt(explorer.PhaseReady, "AUTH"), "No credentials", "check the user name"},
		{"end of data refused", "554 5.7.1 spam", smtpSt(explorer.PhaseData, "DATA"), "bounce", ""},
		{"RCPT unknown user", "550 5.1.1 no such user", smtpSt(explorer.PhaseMail, "RCPT"), "bounce", ""},
		{"VRFY refused", "550 5.7.1 no", smtpSt(explorer.PhaseReady, "VRFY"), "concerns no message", "bounce"},
	}
	for _, c := range cases {
		n := Annotate(explorer.Event{Dir: s2c, Line: c.line, State: c.st})
		all := strings.ToLower(titles(n))
		if !strings.Contains(all, strings.ToLower(c.want)) || c.not != "" && strings.Contains(all, strings.ToLower(c.not)) {
			t.Errorf("%s: want %q, not %q:\n%s", c.name, c.want, c.not, titles(n))
		}
		if c.name == "typed . after a refused DATA" && strings.Contains(all, "refused after it was sent") {
			t.Errorf("%s: reply to a command read as the end of data:\n%s", c.name, titles(n))
		}
	}
}

// POP3: a TRANSACTION command before login is refused for its state, not
// for its message number.
func TestPOP3ErrInWrongState(t *testing.T) {
	n := Annotate(explorer.Event{Dir: s2c, Line: "-ERR unknown command", State: popSt(explorer.PhaseAuthz, "RETR")})
	all := titles(n)
	if !hasTitle(n, "-ERR not valid before login") || strings.Contains(all, "message number does not exist") {
		t.Errorf("RETR before login:\n%s", all)
	}
	n = Annotate(explorer.Event{Dir: s2c, Line: "-ERR no such message", State: popSt(explorer.PhaseTrans, "RETR")})
	if !hasTitle(n, "-ERR no such message") {
		t.Errorf("RETR 9 after login:\n%s", titles(n))
	}
}

// Wording and references the tester checked against the RFCs.
func TestWordingFixes(t *testing.T) {
	ehloTLS := Annotate(explorer.Event{Dir: c2s, TLS: true, Line: "EHLO x", State: smtpSt(explorer.PhaseGreeted, "")})
	for _, x := range ehloTLS {
		if strings.Contains(x.Detail, "must start over") || strings.Contains(x.Detail, "must send EHLO") {
			t.Errorf("RFC 3207 §4.2 says SHOULD: %+v", x)
		}
	}
	if d := pop3Commands["CAPA"].Detail; strings.Contains(d, "any state") || !strings.Contains(d, "AUTHORIZATION and TRANSACTION") {
		t.Errorf("CAPA (RFC 2449 §5): %q", d)
	}
	n := Annotate(explorer.Event{Dir: c2s, Line: "Subject: =?UTF-8?B?w6k=?=", State: smtpSt(explorer.PhaseData, "DATA")})
	if !hasTitle(n, "Subject") || !hasTitle(n, "Encoded word") || n[len(n)-1].Ref != "RFC 2047 §2" {
		t.Errorf("encoded Subject: %s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "PASS ****", State: popSt(explorer.PhaseAuthz, "")})
	if !hasTitle(n, "Warning: credentials sent without TLS") || n[len(n)-1].Ref != "RFC 1939 §13" {
		t.Errorf("PASS without TLS: %s", titles(n))
	}
	if pop3Caps["AUTH-RESP-CODE"].Ref != "IANA POP3 Extension Mechanism (RFC 3206)" || ehloKeywords["LIMITS"].Ref != "IANA SMTP Service Extensions (RFC 9422)" {
		t.Errorf("refs: %q %q", pop3Caps["AUTH-RESP-CODE"].Ref, ehloKeywords["LIMITS"].Ref)
	}
	e, _ := EnhancedCode("2.5.0")
	if strings.Contains(e.Detail, "was wrong") {
		t.Errorf("2.5.0 is a success: %q", e.Detail)
	}
	for _, k := range []string{"1.1", "7.1", "5.2", "2.2"} {
		if e, _ := EnhancedCode("2." + k); strings.Contains(e.Detail, "does not exist") || strings.Contains(e.Detail, "refuses") || strings.Contains(e.Detail, "full") && !strings.Contains(e.Detail, "success") {
			t.Errorf("2.%s reads as a failure: %q", k, e.Detail)
		}
	}
	e, _ = EnhancedCode("4.7.1")
	r, _ := ReplyCode(451)
	if !strings.Contains(e.Detail, "greylisting") || !strings.Contains(r.Detail, "greylisting") {
		t.Errorf("451 4.7.1 should name greylisting: %q / %q", r.Detail, e.Detail)
	}
	for kw, e := range ehloKeywords {
		if strings.EqualFold(strings.TrimSpace(e.Title), kw) {
			t.Errorf("EHLO %s: the title only repeats the keyword", kw)
		}
	}
}
