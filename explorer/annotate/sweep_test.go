package annotate

import (
	"fmt"
	"strings"
	"testing"

	"postlab/explorer"
)

// TestEveryReplyInEveryContext answers every command in every phase with
// every known reply code: the first note always explains that code (or the
// challenge for 334) with a well-formed reference, and 4xx/5xx replies
// always say what happens next.
func TestEveryReplyInEveryContext(t *testing.T) {
	cmds := []string{"", "EHLO", "HELO", "MAIL", "RCPT", "DATA", ".", "BDAT", "RSET", "VRFY", "NOOP", "QUIT", "STARTTLS", "AUTH"}
	phases := []explorer.Phase{explorer.PhaseConnect, explorer.PhaseGreeted, explorer.PhaseReady, explorer.PhaseMail, explorer.PhaseRcpt, explorer.PhaseData, explorer.PhaseAuth}
	for code := range replyCodes {
		for _, cmd := range cmds {
			for _, ph := range phases {
				line := fmt.Sprintf("%d 5.0.0 text", code)
				n := Annotate(explorer.Event{Dir: s2c, Line: line, State: explorer.State{Proto: explorer.SMTP, Phase: ph, Command: cmd, AuthMech: "LOGIN"}})
				if len(n) == 0 {
					t.Fatalf("%s after %s in %s: no notes", line, cmd, ph)
				}
				for _, x := range n {
					if !refPattern.MatchString(x.Ref) || x.Title == "" || x.Detail == "" {
						t.Errorf("%s after %s in %s: bad note %+v", line, cmd, ph, x)
					}
				}
				if code != 334 && !strings.HasPrefix(n[0].Title, fmt.Sprint(code)) {
					t.Errorf("%s after %s in %s: first note %q", line, cmd, ph, n[0].Title)
				}
				if code >= 400 && !hasTitle(n, "Next: ") {
					t.Errorf("%s after %s in %s: no next-step note", line, cmd, ph)
				}
				if code < 400 && hasTitle(n, "Next: ") {
					t.Errorf("%s after %s in %s: next-step note on success", line, cmd, ph)
				}
			}
		}
	}
}

// TestEveryCapabilityLine annotates each known EHLO keyword and CAPA tag as
// it appears in a reply.
func TestEveryCapabilityLine(t *testing.T) {
	st := multi(smtpSt(explorer.PhaseGreeted, "EHLO"))
	for kw, e := range ehloKeywords {
		n := Annotate(explorer.Event{Dir: s2c, Line: "250-" + kw, State: st})
		if len(n) == 0 || n[0].Title != e.Title {
			t.Errorf("EHLO %s: %+v", kw, n)
		}
	}
	pst := multi(popSt(explorer.PhaseAuthz, "CAPA"))
	for tag, e := range pop3Caps {
		n := Annotate(explorer.Event{Dir: s2c, Line: tag, State: pst})
		if len(n) == 0 || n[0].Title != e.Title {
			t.Errorf("CAPA %s: %+v", tag, n)
		}
	}
	for code, e := range pop3RespCodes {
		n := Annotate(explorer.Event{Dir: s2c, Line: "-ERR [" + code + "] no", State: popSt(explorer.PhaseAuthz, "PASS")})
		if !hasTitle(n, e.Title) {
			t.Errorf("-ERR [%s]: %+v", code, n)
		}
	}
}
