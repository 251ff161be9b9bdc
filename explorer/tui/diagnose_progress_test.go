package tui

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// stagedDiagnoser finishes its checks one at a time, each when the test
// sends its name on release; the report lists them in a fixed order.
type stagedDiagnoser struct {
	release chan string
}

var stagedChecks = []struct {
	name string
	f    Finding
}{
	{"mx", Finding{Check: "mx.records", Status: "pass", Summary: "2 MX hosts"}},
	{"spf", Finding{Check: "spf.record", Status: "fail", Summary: "no SPF record", Fix: "publish v=spf1 mx -all"}},
	{"dmarc", Finding{Check: "dmarc.record", Status: "warn", Summary: "DMARC p=none"}},
}

func (s stagedDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	return s.DiagnoseProgress(ctx, target, func(p DiagProgress) {
		for _, f := range p.Findings {
			progress(f)
		}
	})
}

func (s stagedDiagnoser) DiagnoseProgress(ctx context.Context, target string, progress func(DiagProgress)) (Report, error) {
	done := map[string]bool{}
	snapshot := func(fs []Finding) DiagProgress {
		p := DiagProgress{Findings: fs, Total: len(stagedChecks)}
		for _, c := range stagedChecks {
			if done[c.name] {
				p.Done++
			} else {
				p.Running = append(p.Running, strings.ToUpper(c.name))
			}
		}
		return p
	}
	progress(snapshot(nil))
	for len(done) < len(stagedChecks) {
		select {
		case name := <-s.release:
			for _, c := range stagedChecks {
				if c.name == name && !done[name] {
					done[name] = true
					progress(snapshot([]Finding{c.f}))
				}
			}
		case <-ctx.Done():
			return Report{}, ctx.Err()
		}
	}
	rep := Report{Target: target, Resolver: "127.0.0.1:2553", DurationMS: 7}
	for _, c := range stagedChecks {
		rep.Findings = append(rep.Findings, c.f)
	}
	return rep, nil
}

// The tree grows as each check finishes, with the "n of m" line, and the
// final report replaces it in its fixed order.
func TestDiagnoseShowsChecksAsTheyFinish(t *testing.T) {
	release := make(chan string)
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = stagedDiagnoser{release: release}
	h := startApp(t, o, 100, 30)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	s := h.waitFor("(running)", "0 of 3 checks done · running: MX, SPF, DMARC")
	if strings.Contains(s, "no SPF record") {
		t.Fatalf("a finding shows before its check finished:\n%s", s)
	}
	release <- "spf"
	s = h.waitFor("1 of 3 checks done · running: MX, DMARC", "SPF", "no SPF record")
	if strings.Contains(s, "2 MX hosts") || strings.Contains(s, "DMARC p=none") {
		t.Fatalf("findings of running checks show:\n%s", s)
	}
	release <- "mx"
	s = h.waitFor("2 of 3 checks done · running: DMARC", "2 MX hosts", "no SPF record")
	// Areas appear in the order their checks finished.
	if strings.Index(s, "no SPF record") > strings.Index(s, "2 MX hosts") {
		t.Errorf("MX shows above SPF before the report is in:\n%s", s)
	}
	release <- "dmarc"
	s = h.waitFor("findings for example.org: 3 in 7 ms", "MX  1 ok", "SPF  1 failed", "DMARC  1 warnings")
	if strings.Contains(s, "checks done") {
		t.Errorf("the progress line stays after the report:\n%s", s)
	}
	mx, spf, dmarc := strings.Index(s, "MX  1 ok"), strings.Index(s, "SPF  1 failed"), strings.Index(s, "DMARC  1 warnings")
	if !(mx < spf && spf < dmarc) {
		t.Errorf("the report's order is MX, SPF, DMARC:\n%s", s)
	}
}

// Esc stops a staged run: the line says what was not finished, and checks
// that end later add nothing.
func TestDiagnoseProgressStopsOnEsc(t *testing.T) {
	release := make(chan string, 3)
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = stagedDiagnoser{release: release}
	h := startApp(t, o, 100, 30)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("example.org")
	release <- "dmarc"
	h.waitFor("1 of 3 checks done · running: MX, SPF", "DMARC p=none")
	h.key(tcell.KeyEscape)
	s := h.waitFor("cancelled", "(stopped)", "stopped: 1 of 3 checks done · not finished: MX, SPF", "DMARC p=none",
		"Stopped: above are the findings of the checks that finished")
	if strings.Contains(s, "no SPF record") {
		t.Fatalf("findings of unfinished checks show:\n%s", s)
	}
	// Nothing was picked during the run: the first arrow picks the newest line.
	h.key(tcell.KeyTab)
	h.key(tcell.KeyUp)
	h.waitFor("│▲ warn DMARC p=none")
	h.key(tcell.KeyBacktab) // back to the field
	// A new run starts from an empty tree.
	h.key(tcell.KeyEnter)
	s = h.waitFor("(running)", "0 of 3 checks done · running: MX, SPF, DMARC")
	if strings.Contains(s, "DMARC p=none") || strings.Contains(s, "stopped:") {
		t.Fatalf("the stopped run's findings stay in the new run:\n%s", s)
	}
	for _, c := range []string{"mx", "spf", "dmarc"} {
		release <- c
	}
	h.waitFor("findings for example.org: 3 in 7 ms", "SPF  1 failed")
}

// DiagDiagnoser reports each of diag's checks once, counting up to all of
// them, and hands on every finding of the report.
func TestDiagDiagnoserProgress(t *testing.T) {
	l := startTestLab(t)
	d := DiagDiagnoser{Domain: "postlab.test", LabDNS: func() string { return l.Addr("dns") }, LabCA: l.CertPool, NoProbe: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var steps []DiagProgress
	returned := false
	rep, err := d.DiagnoseProgress(ctx, "bob@postlab.test", func(p DiagProgress) {
		if returned {
			t.Error("progress after DiagnoseProgress returned")
		}
		steps = append(steps, p)
	})
	returned = true
	if err != nil {
		t.Fatal(err)
	}
	const total = 10 // nine DNS checks and the settings
	if first := steps[0]; first.Done != 0 || first.Total != total || len(first.Running) != total || first.Running[0] != "MX" || first.Running[total-1] != "SETTINGS" {
		t.Errorf("first progress = %+v", first)
	}
	// Each check finishes once; between, the settings tell how far their
	// discovery has got, with each note and setting as it comes.
	var got, want []string
	var settingsLabels []string
	done := 0
	for i, p := range steps {
		if p.Done != done && p.Done != done+1 || p.Total != total || len(p.Running) != total-p.Done {
			t.Errorf("progress %d: %d of %d done after %d, running %v", i, p.Done, p.Total, done, p.Running)
		}
		if p.Done == done && i > 0 && len(p.Findings) > 0 && !strings.HasPrefix(p.Findings[0].Check, "settings.") {
			t.Errorf("progress %d has findings but finished no check: %+v", i, p)
		}
		done = p.Done
		for _, r := range p.Running {
			if strings.HasPrefix(r, "SETTINGS (") {
				settingsLabels = append(settingsLabels, r)
			}
		}
		for _, f := range p.Findings {
			got = append(got, fmt.Sprint(f))
		}
	}
	if done != total {
		t.Errorf("%d checks finished, want %d", done, total)
	}
	if last := steps[len(steps)-1]; len(last.Running) != 0 || len(last.Findings) == 0 || !strings.HasPrefix(last.Findings[0].Check, "settings.") {
		t.Errorf("last progress = %+v, want the settings, with nothing left running", last)
	}
	// The newest count before the settings finished: the six SRV lookups
	// of RFC 6186/8314, the MX and the two autoconfig URLs all answered,
	// and every probe that connected was counted back.
	if len(settingsLabels) == 0 {
		t.Fatal("no progress of the settings discovery")
	}
	m := regexp.MustCompile(`^SETTINGS \((\d+) of (\d+) sources, (\d+) of (\d+) probes\)$`).FindStringSubmatch(settingsLabels[len(settingsLabels)-1])
	if m == nil || m[1] != "9" || m[2] != "9" || m[3] != m[4] || m[3] == "0" {
		t.Errorf("last settings progress %q, want all 9 sources and every probe done", settingsLabels[len(settingsLabels)-1])
	}
	for _, f := range rep.Findings {
		want = append(want, fmt.Sprint(f))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings from progress:\n%s\nreport:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
