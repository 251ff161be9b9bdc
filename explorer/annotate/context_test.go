package annotate

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"postlab/explorer"
)

// The first EHLO on an implicit-TLS port is no "EHLO again": only an
// Annotator that saw STARTTLS says so (RFC 3207 §4.2, RFC 8314 §3.3), and
// the stateless note is true either way.
func TestEHLOInsideTLSContext(t *testing.T) {
	ehlo := explorer.Event{Dir: c2s, TLS: true, Line: "EHLO client.example", State: tlsSt(smtpSt(explorer.PhaseGreeted, "EHLO"))}
	a := NewAnnotator()
	a.Annotate(explorer.Event{Dir: s2c, TLS: true, Line: "220 mx.example ESMTP", State: tlsSt(smtpSt(explorer.PhaseConnect, ""))})
	n := a.Annotate(ehlo)
	if hasTitle(n, "EHLO again") || !hasTitle(n, "EHLO over implicit TLS") {
		t.Errorf("implicit TLS: %s", titles(n))
	}
	a = NewAnnotator()
	a.Annotate(explorer.Event{Dir: c2s, Line: "STARTTLS", State: smtpSt(explorer.PhaseReady, "STARTTLS")})
	a.Annotate(explorer.Event{Dir: s2c, Line: "220 2.0.0 Ready to start TLS", State: smtpSt(explorer.PhaseReady, "STARTTLS")})
	if n := a.Annotate(ehlo); !hasTitle(n, "EHLO again inside TLS") {
		t.Errorf("after STARTTLS: %s", titles(n))
	}
	n = Annotate(ehlo)
	if hasTitle(n, "EHLO again") || !hasTitle(n, "EHLO inside TLS") || !strings.Contains(noteDetail(n, "EHLO inside TLS"), "465") {
		t.Errorf("stateless: %s", titles(n))
	}
}

// RFC 1870 §3: SIZE 0 means no fixed maximum; SIZE without a number says
// nothing about the limit.
func TestSIZEKeywordWording(t *testing.T) {
	st := multi(smtpSt(explorer.PhaseGreeted, "EHLO"))
	zero := Annotate(explorer.Event{Dir: s2c, Line: "250-SIZE 0", State: st})
	none := Annotate(explorer.Event{Dir: s2c, Line: "250-SIZE", State: st})
	if d := zero[0].Detail; !strings.Contains(d, "Here: 0, no fixed maximum") || zero[0].Ref != "RFC 1870 §3" {
		t.Errorf("SIZE 0: %+v", zero)
	}
	if d := none[0].Detail; !strings.Contains(d, "says nothing about its limit") || strings.Contains(d, "Here: no fixed") {
		t.Errorf("SIZE: %+v", none)
	}
	if strings.Contains(ehloKeywords["SIZE"].Detail, "0 or no number") {
		t.Error("table still says 0 and no number mean the same")
	}
}

// A -ERR says why: a syntax error is no "no such message", and a login
// command after login is invalid in TRANSACTION, not a refused login.
func TestPOP3ErrorsByTextAndState(t *testing.T) {
	n := Annotate(explorer.Event{Dir: s2c, Line: "-ERR invalid command syntax", State: popSt(explorer.PhaseTrans, "TOP")})
	if hasTitle(n, "-ERR no such message") || !hasTitle(n, "-ERR syntax error") || !strings.Contains(n[0].Detail, "TOP 1 10") {
		t.Errorf("TOP syntax: %s", titles(n))
	}
	a := NewAnnotator()
	a.Annotate(explorer.Event{Dir: c2s, Line: "TOP 1", State: popSt(explorer.PhaseTrans, "TOP")})
	if n := a.Annotate(explorer.Event{Dir: s2c, Line: "-ERR", State: popSt(explorer.PhaseTrans, "TOP")}); !hasTitle(n, "-ERR syntax error") {
		t.Errorf("TOP 1 with a bare -ERR: %s", titles(n))
	}
	if n := Annotate(explorer.Event{Dir: s2c, Line: "-ERR no such message, only 2 messages in maildrop", State: popSt(explorer.PhaseTrans, "RETR")}); !hasTitle(n, "-ERR no such message") {
		t.Errorf("RETR 9: %s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: s2c, Line: "-ERR already authenticated", State: popSt(explorer.PhaseTrans, "APOP")})
	if hasTitle(n, "-ERR login refused") || !hasTitle(n, "-ERR not valid after login") || strings.Contains(n[0].Detail, "stays in AUTHORIZATION") {
		t.Errorf("APOP after login: %s", titles(n))
	}
	if n := Annotate(explorer.Event{Dir: s2c, Line: "-ERR [AUTH] invalid password", State: popSt(explorer.PhaseAuthz, "PASS")}); !hasTitle(n, "-ERR login refused") {
		t.Errorf("bad password: %s", titles(n))
	}
}

// A second AUTH is a bad sequence, not a failed login; too many
// recipients means "another transaction now", not "retry later".
func TestSMTPNextStepInContext(t *testing.T) {
	for _, line := range []string{"503 Already authenticated", "503 5.5.1 Error: already authenticated"} {
		st := withMech(tlsSt(smtpSt(explorer.PhaseReady, "AUTH")), "PLAIN")
		st.Authed = true
		n := Annotate(explorer.Event{Dir: s2c, TLS: true, Line: line, State: st})
		if hasTitle(n, "Next: fix the login") || !hasTitle(n, "Next: nothing to fix, the session is already logged in") {
			t.Errorf("%q: %s", line, titles(n))
		}
	}
	for _, line := range []string{"452 4.5.3 Too many recipients", "452 Too many recipients", "552 5.5.3 Too many recipients"} {
		n := Annotate(explorer.Event{Dir: s2c, Line: line, State: smtpSt(explorer.PhaseRcpt, "RCPT")})
		if hasTitle(n, "Next: retry") || hasTitle(n, "Next: this recipient is dropped") || !hasTitle(n, "Next: send the other recipients in another transaction") {
			t.Errorf("%q: %s", line, titles(n))
		}
	}
	if n := Annotate(explorer.Event{Dir: s2c, Line: "530 5.7.0 Authentication required", State: smtpSt(explorer.PhaseReady, "MAIL")}); !hasTitle(n, "Next: log in first") {
		t.Errorf("530 on MAIL: %s", titles(n))
	}
}

// QUIT commits deletions only if some are pending (RFC 1939 §6).
func TestPOP3QuitAfterRSET(t *testing.T) {
	a := NewAnnotator()
	steps := []explorer.Event{
		{Dir: c2s, Line: "DELE 1", State: popSt(explorer.PhaseTrans, "DELE")},
		{Dir: s2c, Line: "+OK message 1 deleted", State: popSt(explorer.PhaseTrans, "DELE")},
		{Dir: c2s, Line: "RSET", State: popSt(explorer.PhaseTrans, "RSET")},
		{Dir: s2c, Line: "+OK", State: popSt(explorer.PhaseTrans, "RSET")},
	}
	for _, ev := range steps {
		a.Annotate(ev)
	}
	quit := explorer.Event{Dir: c2s, Line: "QUIT", State: popSt(explorer.PhaseTrans, "QUIT")}
	bye := explorer.Event{Dir: s2c, Line: "+OK bye", State: popSt(explorer.PhaseTrans, "QUIT")}
	if n := a.Annotate(quit); hasTitle(n, "QUIT commits") || !hasTitle(n, "QUIT with nothing marked") {
		t.Errorf("QUIT after RSET: %s", titles(n))
	}
	if n := a.Annotate(bye); hasTitle(n, "+OK deletions committed") || !hasTitle(n, "+OK goodbye, mailbox unchanged") {
		t.Errorf("+OK after RSET: %s", titles(n))
	}
	n := Annotate(quit)
	if hasTitle(n, "QUIT commits") || !strings.Contains(noteDetail(n, "QUIT enters"), "if any") {
		t.Errorf("stateless QUIT: %s", titles(n))
	}
	if n := Annotate(bye); hasTitle(n, "+OK deletions committed") {
		t.Errorf("stateless +OK: %s", titles(n))
	}
}

var reLeadCode = regexp.MustCompile(`^([0-9]{3}|[245]\.[0-9]+\.[0-9]+|\+OK|-ERR)\s+`)

// words returns the lower-case words of s, without punctuation.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '=' || r == '-')
	})
}

// repeats reports a Detail that starts by repeating its Title's words
// ("250 EHLO accepted: EHLO accepted.").
func repeats(n explorer.Note) bool {
	tw, dw := words(reLeadCode.ReplaceAllString(n.Title, "")), words(n.Detail)
	k := len(tw)
	if k > 2 {
		k = 2
	}
	if k == 0 || len(dw) < k {
		return false
	}
	for i := 0; i < k; i++ {
		if tw[i] != dw[i] {
			return false
		}
	}
	return true
}

// No note repeats its title at the start of its detail: every table row,
// and the notes built in code for every reply in every context.
func TestNoTitleRepeatedInDetail(t *testing.T) {
	tables := map[string]map[string]Entry{"ehlo": ehloKeywords, "sasl": saslMechs, "pop3caps": pop3Caps, "pop3resp": pop3RespCodes,
		"smtpcmd": smtpCommands, "pop3cmd": pop3Commands, "enhanced": enhancedCodes, "headers": headerFields}
	for name, tab := range tables {
		for k, e := range tab {
			if repeats(e.note()) {
				t.Errorf("%s %s: %q / %q", name, k, e.Title, e.Detail)
			}
		}
	}
	for k, e := range mailParams {
		if repeats(e.note()) {
			t.Errorf("param %s: %q / %q", k, e.Title, e.Detail)
		}
	}
	for c, e := range replyCodes {
		if repeats(e.note()) {
			t.Errorf("reply %d: %q / %q", c, e.Title, e.Detail)
		}
	}
	cmds := []string{"", "EHLO", "HELO", "MAIL", "RCPT", "DATA", ".", "BDAT", "RSET", "VRFY", "NOOP", "QUIT", "STARTTLS", "AUTH"}
	for code := range replyCodes {
		for _, cmd := range cmds {
			for _, sep := range []string{" ", "-"} {
				line := fmt.Sprintf("%d%s5.0.0 text", code, sep)
				for _, n := range Annotate(explorer.Event{Dir: s2c, Line: line, State: smtpSt(explorer.PhaseReady, cmd)}) {
					if repeats(n) {
						t.Errorf("%s after %s: %q / %q", line, cmd, n.Title, n.Detail)
					}
				}
			}
		}
	}
	for _, l := range []string{"250 mx.example", "250-mx.example Hello"} {
		for _, n := range Annotate(explorer.Event{Dir: s2c, Line: l, State: smtpSt(explorer.PhaseGreeted, "EHLO")}) {
			if repeats(n) {
				t.Errorf("%s: %q / %q", l, n.Title, n.Detail)
			}
		}
	}
	pop := []string{"", "USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "QUIT", "STLS", "CAPA", "NOOP"}
	for _, cmd := range pop {
		for _, l := range []string{"+OK 2 320", "-ERR no", "-ERR [IN-USE] locked"} {
			for _, ph := range []explorer.Phase{explorer.PhaseAuthz, explorer.PhaseTrans} {
				for _, n := range Annotate(explorer.Event{Dir: s2c, Line: l, State: popSt(ph, cmd)}) {
					if repeats(n) {
						t.Errorf("%s after %s: %q / %q", l, cmd, n.Title, n.Detail)
					}
				}
			}
		}
	}
}

func noteDetail(n []explorer.Note, prefix string) string {
	for _, x := range n {
		if strings.HasPrefix(x.Title, prefix) {
			return x.Detail
		}
	}
	return ""
}
