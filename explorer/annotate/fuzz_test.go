package annotate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"postlab/explorer"
)

var (
	fuzzPhases = []explorer.Phase{"", explorer.PhaseConnect, explorer.PhaseGreeted, explorer.PhaseReady, explorer.PhaseMail, explorer.PhaseRcpt, explorer.PhaseData, explorer.PhaseAuth, explorer.PhaseTLS, explorer.PhaseAuthz, explorer.PhaseTrans, explorer.PhaseUpdate, explorer.PhaseClosed}
	fuzzCmds   = []string{"", "EHLO", "HELO", "MAIL", "RCPT", "DATA", ".", "BDAT", "AUTH", "STARTTLS", "QUIT", "RSET", "USER", "PASS", "STAT", "LIST", "UIDL", "RETR", "TOP", "CAPA", "DELE", "STLS"}
	fuzzMechs  = []string{"", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "SCRAM-SHA-256", "EXTERNAL", "FOO"}
	fuzzDirs   = []explorer.Direction{explorer.ClientToServer, explorer.ServerToClient, explorer.Local, "bogus"}
)

func FuzzAnnotate(f *testing.F) {
	for _, s := range append(typicalSMTP, typicalPOP3...) {
		f.Add(s.line, uint8(0), uint8(1), uint8(2), uint8(0), true, false)
	}
	for _, seed := range []string{"", ".", "..", "334 ", "334 ====", "+ ", "250-AUTH=LOGIN PLAIN", "MAIL FROM:<", "RCPT TO:<a@b> ORCPT=rfc822;a+", "-ERR [", "-ERR [SYS/", "AUTH PLAIN AAAA****", "5.7.1", "250 5.999.999 x", "+OK 99999999999999999999999 1", "BDAT 18446744073709551616 LAST"} {
		f.Add(seed, uint8(1), uint8(2), uint8(3), uint8(1), false, true)
	}
	f.Fuzz(func(t *testing.T, line string, dir, phase, cmd, mech uint8, pop, multi bool) {
		st := explorer.State{
			Proto:    explorer.SMTP,
			Phase:    fuzzPhases[int(phase)%len(fuzzPhases)],
			Command:  fuzzCmds[int(cmd)%len(fuzzCmds)],
			AuthMech: fuzzMechs[int(mech)%len(fuzzMechs)],
			Multi:    multi,
			TLS:      mech%2 == 0,
		}
		if pop {
			st.Proto = explorer.POP3
		}
		ev := explorer.Event{Dir: fuzzDirs[int(dir)%len(fuzzDirs)], Line: line, State: st, TLS: st.TLS}
		a := NewAnnotator()
		for _, notes := range [][]explorer.Note{Annotate(ev), a.Annotate(ev), a.Annotate(ev)} {
			if len(notes) > maxNotes {
				t.Fatalf("%d notes", len(notes))
			}
			for _, n := range notes {
				if n.Title == "" || n.Detail == "" || !refPattern.MatchString(n.Ref) {
					t.Fatalf("bad note %+v for %q", n, line)
				}
				if !utf8.ValidString(n.Title) || !utf8.ValidString(n.Detail) {
					t.Fatalf("invalid UTF-8 in note %+v", n)
				}
				if len(n.Title) > 400 || len(n.Detail) > 1000 {
					t.Fatalf("oversized note %+v", n)
				}
			}
		}
		_ = Suggest(st, strings.Fields(line))
	})
}
