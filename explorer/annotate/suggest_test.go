package annotate

import (
	"strings"
	"testing"

	"postlab/explorer"
)

func verbs(s []Suggestion) []string {
	var v []string
	for _, x := range s {
		f := strings.Fields(x.Command)
		v = append(v, f[0])
	}
	return v
}

func TestSuggestValidPerPhase(t *testing.T) {
	ehlo := []string{"PIPELINING", "SIZE 10485760", "STARTTLS", "AUTH PLAIN LOGIN", "CHUNKING", "8BITMIME"}
	cases := []struct {
		st       explorer.State
		caps     []string
		first    string
		allowed  string // the verbs valid in this phase
		required []string
	}{
		{smtpSt(explorer.PhaseGreeted, ""), nil, "EHLO", "EHLO HELO QUIT", []string{"EHLO", "HELO", "QUIT"}},
		{smtpSt(explorer.PhaseReady, "EHLO"), ehlo, "STARTTLS", "STARTTLS AUTH MAIL NOOP RSET VRFY HELP QUIT EHLO", []string{"STARTTLS", "AUTH", "MAIL", "QUIT"}},
		{tlsSt(smtpSt(explorer.PhaseReady, "EHLO")), ehlo, "AUTH", "AUTH MAIL NOOP RSET VRFY HELP QUIT EHLO", []string{"AUTH", "MAIL"}},
		{smtpSt(explorer.PhaseMail, "MAIL"), ehlo, "RCPT", "RCPT RSET QUIT NOOP", []string{"RCPT", "RSET"}},
		{smtpSt(explorer.PhaseRcpt, "RCPT"), ehlo, "RCPT", "RCPT DATA BDAT RSET QUIT NOOP", []string{"RCPT", "DATA", "BDAT", "RSET"}},
		{smtpSt(explorer.PhaseRcpt, "RCPT"), nil, "RCPT", "RCPT DATA RSET QUIT NOOP", []string{"RCPT", "DATA", "RSET"}},
		{smtpSt(explorer.PhaseData, "DATA"), nil, "Subject:", "Subject: .", []string{"."}},
		{withMech(smtpSt(explorer.PhaseAuth, "AUTH"), "LOGIN"), nil, "<base64", "<base64 *", []string{"*"}},
		{popSt(explorer.PhaseAuthz, ""), []string{"USER", "STLS", "SASL PLAIN", "UIDL", "TOP"}, "CAPA", "CAPA STLS USER AUTH APOP QUIT", []string{"STLS", "USER", "AUTH", "QUIT"}},
		{popSt(explorer.PhaseAuthz, "USER"), nil, "PASS", "PASS CAPA APOP QUIT", []string{"PASS"}},
		{popSt(explorer.PhaseTrans, "PASS"), nil, "STAT", "STAT LIST UIDL RETR TOP DELE RSET NOOP CAPA QUIT", []string{"STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "QUIT"}},
		{popSt(explorer.PhaseTrans, "PASS"), []string{"USER"}, "STAT", "STAT LIST RETR DELE RSET NOOP CAPA QUIT", []string{"STAT", "RETR", "QUIT"}},
	}
	for i, c := range cases {
		s := Suggest(c.st, c.caps)
		v := verbs(s)
		if len(v) == 0 || v[0] != c.first {
			t.Errorf("case %d: first suggestion %v, want %s", i, v, c.first)
		}
		allowed := map[string]bool{}
		for _, a := range strings.Fields(c.allowed) {
			allowed[a] = true
		}
		got := map[string]bool{}
		for j, x := range v {
			if !allowed[x] {
				t.Errorf("case %d: %q is not valid in %s/%s", i, x, c.st.Proto, c.st.Phase)
			}
			if s[j].Why == "" {
				t.Errorf("case %d: %q has no reason", i, x)
			}
			got[x] = true
		}
		for _, r := range c.required {
			if !got[r] {
				t.Errorf("case %d: %s missing from %v", i, r, v)
			}
		}
		if c.st.TLS && got["STARTTLS"] {
			t.Errorf("case %d: STARTTLS suggested inside TLS", i)
		}
	}
	for _, ph := range []explorer.Phase{explorer.PhaseConnect, explorer.PhaseTLS, explorer.PhaseClosed} {
		if s := Suggest(smtpSt(ph, ""), nil); len(s) != 0 {
			t.Errorf("SMTP %s: %v", ph, s)
		}
	}
	for _, ph := range []explorer.Phase{explorer.PhaseUpdate, explorer.PhaseClosed} {
		if s := Suggest(popSt(ph, ""), nil); len(s) != 0 {
			t.Errorf("POP3 %s: %v", ph, s)
		}
	}
	// The mechanism suggested is one the server offered.
	s := Suggest(tlsSt(smtpSt(explorer.PhaseReady, "EHLO")), []string{"AUTH=LOGIN", "AUTH LOGIN CRAM-MD5"})
	if s[0].Command != "AUTH LOGIN" {
		t.Errorf("AUTH suggestion %q", s[0].Command)
	}
}
