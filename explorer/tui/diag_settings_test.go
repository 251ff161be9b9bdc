package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"postlab/diag"
)

// exampleSettings is a discovery for ann@example.org as DiscoverSettings
// returns it: a working pair published in SRV, one guessed setting, a
// name not in DNS and one whose lookup failed.
func exampleSettings() *diag.SettingsResult {
	in := &diag.Setting{Protocol: "pop3", Host: "mail.example.org", Port: 995, Security: "tls", Source: "srv", Reachable: true, TLS: true, CertOK: true, Login: "untested"}
	out := &diag.Setting{Protocol: "smtp", Host: "mail.example.org", Port: 465, Security: "tls", Source: "srv", Reachable: true, TLS: true, CertOK: true, Login: "untested"}
	guessed := &diag.Setting{Protocol: "pop3", Host: "pop.example.org", Port: 110, Security: "starttls", Source: "guess", Error: "cannot connect: connection refused (nothing listens on that port)"}
	return &diag.SettingsResult{
		Address:  "ann@example.org",
		Incoming: []*diag.Setting{in, guessed},
		Outgoing: []*diag.Setting{out},
		Recommended: diag.Recommended{Incoming: in, Outgoing: out,
			IncomingWhy: []string{"published by the domain in its SRV records (RFC 6186)"}},
		Discovery: []string{
			"MX example.org: mx1.example.org",
			"SRV _imap._tcp.example.org: none",
			"SRV _pop3s._tcp.example.org: mail.example.org port 995",
			"SRV _submissions._tcp.example.org: mail.example.org port 465",
			"autoconfig https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=ann%40example.org: autoconfig.example.org has no address",
		},
		Unresolved:   []string{"smtp.example.org"},
		LookupFailed: []string{"pop3.example.org: no answer from 127.0.0.1:53 (timeout)"},
	}
}

// The settings come with what each source of the discovery said, as
// `postlab settings` prints it: SRV, autoconfig, MX, guesses, and the
// names that could not be tried.
func TestSettingsFindingsSayHowTheyWereFound(t *testing.T) {
	fs := settingsFindings(exampleSettings())
	if fs[0].Check != "settings.recommended" || fs[0].Status != "pass" {
		t.Errorf("the recommendation comes first: %+v", fs[0])
	}
	var got []string
	for _, f := range fs {
		if rest, ok := strings.CutPrefix(f.Check, "settings.found."); ok {
			got = append(got, rest+" "+f.Status+" "+f.Summary)
			if f.Detail == "" || f.Ref == "" {
				t.Errorf("%s has no explanation or reference: %+v", f.Check, f)
			}
		}
	}
	want := []string{
		"srv info _imap._tcp.example.org: none",
		"srv pass _pop3s._tcp.example.org: mail.example.org port 995",
		"srv pass _submissions._tcp.example.org: mail.example.org port 465",
		"autoconfig info https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=ann%40example.org: autoconfig.example.org has no address",
		"mx pass example.org: mx1.example.org",
		"guess info 1 setting on pop.example.org",
		"unresolved info no address, so not tried: smtp.example.org",
		"lookup warn failed, so not tried: pop3.example.org: no answer from 127.0.0.1:53 (timeout)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("how they were found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	last := fs[len(fs)-1]
	if strings.Contains(last.Fix, "--resolver") && !strings.Contains(last.Fix, "start the app with --resolver") {
		t.Errorf("the fix names a flag the app does not have: %q", last.Fix)
	}
}

// reportDiagnoser hands on a fixed report.
type reportDiagnoser struct{ rep Report }

func (r reportDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	for _, f := range r.rep.Findings {
		progress(f)
	}
	rep := r.rep
	rep.Target = target
	return rep, nil
}

// The Diagnose screen shows the discovery notes as a branch of the
// settings; a problem inside it opens it, with the cursor on the problem.
func TestDiagnoseShowsHowTheSettingsWereFound(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = reportDiagnoser{Report{Resolver: "127.0.0.1:53", DurationMS: 5, Findings: settingsFindings(exampleSettings())}}
	h := startApp(t, o, 120, 40)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("ann@example.org")
	s := h.waitFor("findings for ann@example.org:", "SETTINGS  1 warnings, 6 ok, 5 info",
		"How these were found  1 warnings, 3 ok, 4 info",
		"srv _pop3s._tcp.example.org: mail.example.org port 995",
		"autoconfig https://autoconfig.example.org/",
		"mx example.org: mx1.example.org",
		"unresolved no address, so not tried: smtp.example.org",
		"lookup failed, so not tried: pop3.example.org",
		"Fix: retry, or pick another resolver (start the app with --resolver HOST:PORT)")
	// The branch sits under the settings, after the matrix.
	if strings.Index(s, "How these were found") < strings.Index(s, "outgoing smtp mail.example.org:465") {
		t.Errorf("the branch is not after the matrix:\n%s", s)
	}
	// Up to the branch: the detail explains it; Enter folds it.
	h.key(tcell.KeyTab)
	for range 8 {
		h.key(tcell.KeyUp)
	}
	h.waitFor("How a mail program finds its settings")
	h.key(tcell.KeyEnter)
	s = h.waitFor("How these were found  1 warnings")
	if strings.Contains(s, "mx example.org: mx1.example.org") {
		t.Errorf("Enter did not fold the branch:\n%s", s)
	}
}

// Where all is well, the branch is folded like an area.
func TestHowFoundFoldsWhenAllIsWell(t *testing.T) {
	res := exampleSettings()
	res.LookupFailed = nil
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = reportDiagnoser{Report{Findings: settingsFindings(res)}}
	h := startApp(t, o, 120, 40)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("ann@example.org")
	h.waitFor("SETTINGS  6 ok, 5 info")
	h.key(tcell.KeyTab)
	h.key(tcell.KeyEnter) // opens SETTINGS
	s := h.waitFor("How these were found  3 ok, 4 info")
	if strings.Contains(s, "mx example.org: mx1.example.org") {
		t.Errorf("the branch is open though nothing is wrong in it:\n%s", s)
	}
}
