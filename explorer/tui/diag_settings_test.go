package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"postlab/diag"
)

// exampleSettings is a discovery for ann@example.org as DiscoverSettings
// returns it: a working pair published in SRV, one guessed setting, a
// name not in DNS and one whose lookup failed.
func exampleSettings() *diag.SettingsResult {
	in := &diag.Setting{Protocol: "pop3", Host: "mail.example.org", Port: 995, Security: "tls", Source: "srv", Reachable: true, TLS: true, CertOK: true, Login: "untested", AuthMechanisms: []string{"USER", "PLAIN"}}
	out := &diag.Setting{Protocol: "smtp", Host: "mail.example.org", Port: 465, Security: "tls", Source: "srv", Reachable: true, TLS: true, CertOK: true, Login: "untested", AuthMechanisms: []string{"PLAIN", "LOGIN"}}
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
	h.key(tcell.KeyEnter) // folds the branch
	h.waitGone("mx example.org: mx1.example.org")
	h.waitFor("How these were found  1 warnings")
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

// streamDiagnoser runs the settings step of exampleSettings the way
// DiagDiagnoser does, through settingsStream: the discovery's first events,
// then, when the test releases it, the rest and the report.
type streamDiagnoser struct {
	release chan struct{}
	sent    chan []Finding // what progress carried, for the test
}

func (s streamDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	return s.DiagnoseProgress(ctx, target, func(p DiagProgress) {
		for _, f := range p.Findings {
			progress(f)
		}
	})
}

func (s streamDiagnoser) DiagnoseProgress(ctx context.Context, target string, progress func(DiagProgress)) (Report, error) {
	res := exampleSettings()
	var sent []Finding
	tr := newStepTracker([]string{"settings"}, func(p DiagProgress) {
		sent = append(sent, p.Findings...)
		progress(p)
	})
	tr.report("", nil, false)
	st := &settingsStream{tr: tr}
	ev := func(note string, set *diag.Setting, answered, probes, done int) {
		st.progress(diag.SettingsProgress{Note: note, Setting: set, Sources: 9, SourcesAnswered: answered, Probes: probes, ProbesDone: done})
	}
	// As diag reports them: notes as made, settings as probed.
	ev(res.Discovery[2], nil, 1, 0, 0) // SRV _pop3s
	ev(res.Discovery[0], nil, 2, 0, 0) // MX
	ev("", res.Incoming[0], 2, 3, 1)
	select {
	case <-s.release:
	case <-ctx.Done():
		return Report{}, ctx.Err()
	}
	ev(res.Discovery[1], nil, 3, 3, 1)
	ev(res.Discovery[3], nil, 9, 3, 1)
	ev(res.Discovery[4], nil, 9, 3, 1)
	ev("", res.Outgoing[0], 9, 3, 2)
	ev("", res.Incoming[1], 9, 3, 3)
	rep := Report{Target: target, Resolver: "127.0.0.1:53", DurationMS: 5, Findings: settingsFindings(res)}
	st.finish(rep.Findings)
	s.sent <- sent
	return rep, nil
}

// The settings show as the discovery goes: its notes under "How these
// were found" and each setting as it is probed, with the counts; the
// report then puts the tree in its fixed order, and progress has carried
// each of its findings once.
func TestDiagnoseShowsSettingsAsFound(t *testing.T) {
	d := streamDiagnoser{release: make(chan struct{}), sent: make(chan []Finding, 1)}
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = d
	h := startApp(t, o, 120, 40)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("ann@example.org")
	s := h.waitFor("(running)", "0 of 1 checks done · running: SETTINGS (2 of 9 sources, 1 of 3 probes)",
		"How these were found",
		"srv _pop3s._tcp.example.org: mail.example.org port 995",
		"mx example.org: mx1.example.org",
		"incoming pop3 mail.example.org:995 tls (from srv): TLS and certificate ok; login offered")
	for _, later := range []string{"_imap._tcp", "autoconfig", "outgoing", "recommended", "unresolved"} {
		if strings.Contains(s, later) {
			t.Errorf("%q shows before its event:\n%s", later, s)
		}
	}
	close(d.release)
	s = h.waitFor("findings for ann@example.org: 12 in 5 ms", "SETTINGS  1 warnings, 6 ok, 5 info",
		"How these were found  1 warnings, 3 ok, 4 info",
		"srv _imap._tcp.example.org: none",
		"unresolved no address, so not tried: smtp.example.org")
	if strings.Contains(s, "checks done") {
		t.Errorf("the progress line stays after the report:\n%s", s)
	}
	// The report's order: the recommendation, the matrix, then the branch
	// in source order, whatever order the events came in.
	// Each line once: nothing of the live tree is left over.
	order := []string{"recommended incoming pop3", "incoming pop3 mail.example.org:995 tls (from srv)", "incoming pop3 pop.example.org:110",
		"outgoing smtp mail.example.org:465 tls (from srv)", "How these were found", "srv _imap._tcp", "srv _pop3s._tcp", "srv _submissions._tcp",
		"autoconfig https://", "mx example.org", "guess 1 setting", "unresolved", "lookup failed"}
	at := -1
	for i, w := range order {
		if n := strings.Count(s, w); n != 1 {
			t.Errorf("%q shows %d times in the final tree", w, n)
		}
		j := strings.Index(s, w)
		if j <= at {
			t.Errorf("%q is not after %q in the final tree:\n%s", w, order[max(0, i-1)], s)
		}
		at = j
	}
	var got, want []string
	for _, f := range <-d.sent {
		got = append(got, fmt.Sprint(f))
	}
	for _, f := range settingsFindings(exampleSettings()) {
		want = append(want, fmt.Sprint(f))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress carried:\n%s\nthe report has:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An MX note that names no host is information, not a pass.
func TestMXNoteStatus(t *testing.T) {
	for note, want := range map[string]string{
		"MX example.org: mx1.example.org":                            "pass",
		"MX example.org: none":                                       "info",
		`MX example.org: ".": the domain accepts no mail (RFC 7505)`: "info",
		"MX example.org: no answer from 127.0.0.1:53 (timeout)":      "info",
	} {
		if f := noteFinding(note); f.Check != "settings.found.mx" || f.Status != want {
			t.Errorf("%q: %s %s, want settings.found.mx %s", note, f.Check, f.Status, want)
		}
	}
}
