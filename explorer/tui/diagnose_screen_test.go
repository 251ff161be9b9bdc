package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/diag"
)

// A setting "works" only when a login was verified; otherwise its line
// says what the probe did see, as postlab settings does in its AUTH, LOGIN
// and NOTE columns.
func TestSettingWordsSayWhatWasVerified(t *testing.T) {
	const clearText = "login not tried (the password would cross in clear text)"
	for _, c := range []struct {
		name    string
		s       diag.Setting
		status  string
		summary string // after "PROTO HOST:PORT SECURITY (from SOURCE): "
		detail  []string
	}{
		{"plain, no login offered (the lab)", diag.Setting{Security: "plain", Reachable: true},
			"warn", "connects; no login offered without TLS",
			[]string{"login mechanisms: none offered", "login: not tried (the password would cross in clear text)"}},
		{"plain, with a password", diag.Setting{Security: "plain", Reachable: true, Note: clearText},
			"warn", "connects; " + clearText, []string{"login: not tried (the password would cross in clear text)"}},
		{"plain, AUTH offered in clear", diag.Setting{Security: "plain", Reachable: true, AuthMechanisms: []string{"PLAIN"}},
			"warn", "connects; login offered without TLS, not tried", []string{"login mechanisms: PLAIN"}},
		{"TLS, login offered, no password", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN", "LOGIN"}},
			"pass", "TLS and certificate ok; login offered, not tried",
			[]string{"login mechanisms: PLAIN LOGIN", "login: not tried (Diagnose never logs in; connect from the Session screen (1) with your password to try)"}},
		{"TLS, no login offered", diag.Setting{Security: "starttls", Reachable: true, TLS: true, CertOK: true},
			"info", "TLS and certificate ok; no login offered", []string{"login mechanisms: none offered"}},
		{"TLS, no mechanism postlab speaks", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"XOAUTH2"},
			Note: "login not tried: no AUTH mechanism postlab speaks (PLAIN, LOGIN, CRAM-MD5) is offered"},
			"info", "TLS and certificate ok; login not tried: no AUTH mechanism", []string{"login: not tried: no AUTH mechanism"}},
		{"logged in", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN"}, Login: "ok", User: "alice"},
			"pass", "works: logged in as alice", []string{"login: ok, as alice"}},
		{"login refused", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, AuthMechanisms: []string{"PLAIN"}, Login: "failed", Error: "login failed: 535 5.7.8"},
			"fail", "login failed", []string{"login: failed", "error: login failed: 535 5.7.8"}},
		{"untrusted certificate", diag.Setting{Security: "tls", Reachable: true, TLS: true, AuthMechanisms: []string{"PLAIN"}, Error: "certificate not trusted: self-signed"},
			"warn", "certificate does not verify", []string{"login: not tried (untrusted certificate)"}},
		{"STARTTLS refused", diag.Setting{Security: "starttls", Reachable: true, Error: "STARTTLS refused: 454 4.7.0"},
			"warn", "answers, but TLS could not be set up", []string{"error: STARTTLS refused"}},
		{"EHLO refused", diag.Setting{Security: "tls", Reachable: true, TLS: true, CertOK: true, Error: "EHLO: 554 go away"},
			"warn", "answers, but EHLO: 554 go away", nil},
		{"not there", diag.Setting{Security: "tls", Source: "guess", Error: "cannot connect: connection refused"},
			"info", "no answer", []string{"error: cannot connect"}},
	} {
		s := c.s
		s.Protocol, s.Host, s.Port = "smtp", "mail.postlab.test", 2587
		if s.Source == "" {
			s.Source = "srv"
		}
		if s.Login == "" {
			s.Login = "untested"
		}
		f := settingFinding(&s)
		prefix := "smtp mail.postlab.test:2587 " + s.Security + " (from " + s.Source + "): "
		if f.Status != c.status || !strings.HasPrefix(f.Summary, prefix+c.summary) {
			t.Errorf("%s: %s %q, want %s %q", c.name, f.Status, f.Summary, c.status, prefix+c.summary)
		}
		if strings.Contains(f.Summary, "works") != (s.Login == "ok") {
			t.Errorf("%s: %q says works though the login is %s", c.name, f.Summary, s.Login)
		}
		for _, w := range c.detail {
			if !strings.Contains(f.Detail, w) {
				t.Errorf("%s: detail %q lacks %q", c.name, f.Detail, w)
			}
		}
		if strings.Contains(f.Detail, "untested") {
			t.Errorf("%s: detail %q", c.name, f.Detail)
		}
	}
}

// Against the lab, whose clear-text listeners offer no login before TLS,
// the plain settings say so, and none of the lines claims a login.
func TestLabSettingsSayNoLoginBeforeTLS(t *testing.T) {
	l := startTestLab(t)
	d := DiagDiagnoser{Domain: "postlab.test", LabDNS: func() string { return l.Addr("dns") }, LabCA: l.CertPool, NoProbe: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := d.Diagnose(ctx, "alice@postlab.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var plain []string
	for _, f := range rep.Findings {
		if f.Check != "settings.incoming" && f.Check != "settings.outgoing" {
			continue
		}
		if strings.Contains(f.Summary, "works") {
			t.Errorf("%s: %s, though Diagnose never logs in", f.Check, f.Summary)
		}
		if strings.Contains(f.Summary, " plain (from srv)") {
			plain = append(plain, f.Summary)
			if !strings.HasSuffix(f.Summary, ": connects; no login offered without TLS") || f.Status != "warn" {
				t.Errorf("%s %s: %s", f.Check, f.Status, f.Summary)
			}
		}
	}
	if len(plain) != 2 {
		t.Errorf("want the lab's plain POP3 and submission, got %q", plain)
	}
}

// dnsLab is a fake lab that answers DNS, as the real one does.
type dnsLab struct{ *fakeLab }

func (l dnsLab) Addr(name string) string {
	if name == "dns" {
		return "127.0.0.1:2553"
	}
	return l.fakeLab.Addr(name)
}

// The introduction suggests postlab.test only while a lab answers DNS for
// it, and follows the lab as it comes up.
func TestDiagnoseSuggestsPostlabTestOnlyWithALab(t *testing.T) {
	const try, own = "Try postlab.test", "Type your own domain (example.org)"
	for _, c := range []struct {
		name       string
		set        func(*Options)
		want, not  string
		placeholer string
	}{
		{"no lab", func(o *Options) { o.NoLab = true }, own, try, "example.org  (type a name"},
		{"a lab without DNS", func(o *Options) {}, own, try, "example.org  (type a name"},
		{"the app's lab", func(o *Options) {
			o.StartLab = func(bool) (Lab, error) { return dnsLab{newFakeLab()}, nil }
		}, try + " (or alice@postlab.test", own, "postlab.test  (type a name"},
		{"a teacher's lab", func(o *Options) { o.NoLab = true; o.LabHost = "192.0.2.7" }, "the teacher's lab at", own, "postlab.test  (type a name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := fakeOptions(newFakeLab(), nil)
			o.Diagnoser = fakeDiagnoser{}
			c.set(&o)
			h := startApp(t, o, 120, 30)
			h.rune('4')
			s := h.waitFor(c.want, c.placeholer)
			if strings.Contains(s, c.not) {
				t.Errorf("the introduction says %q:\n%s", c.not, s)
			}
		})
	}
	// A lab that starts while the screen shows: the text follows it.
	release := make(chan struct{})
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = fakeDiagnoser{}
	o.StartLab = func(bool) (Lab, error) { <-release; return dnsLab{newFakeLab()}, nil }
	h := startApp(t, o, 120, 30)
	h.rune('4')
	h.waitFor(own)
	close(release)
	h.waitFor(try)
}

// countingDiagnoser counts its runs.
type countingDiagnoser struct{ runs chan string }

func (c countingDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	c.runs <- target
	return Report{Target: target}, nil
}

// An IP address, or a name with spaces, is refused with a clear line and
// never looked up in DNS as a domain.
func TestDiagnoseRefusesIPAddresses(t *testing.T) {
	d := countingDiagnoser{runs: make(chan string, 10)}
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = d
	h := startApp(t, o, 100, 30)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.rune('/') // digits would switch screens
	const ip = "that is an IP address: type a domain or an address (user@domain)"
	for _, c := range []struct{ in, want string }{
		{"203.0.113.5", ip},
		{"[203.0.113.5]", ip},
		{"2001:db8::1", ip},
		{"[IPv6:2001:db8::1]", ip},
		{"203.0.113.5:25", ip},
		{"me@[203.0.113.5]", ip},
		{"exa mple.org", "a domain or an address has no spaces"},
		{"bad!name", `bad domain "bad!name": want a name like example.com`},
	} {
		h.key(tcell.KeyCtrlU)
		h.line(c.in)
		s := h.waitFor(c.want, "Domain or address: "+c.in)
		if c.want == ip && !strings.Contains(s, "Session screen (1)") {
			t.Errorf("%s: the detail does not say what to do instead:\n%s", c.in, s)
		}
		h.key(tcell.KeyCtrlU)
		h.line("") // clears the line; Enter on nothing says so
		h.waitFor("type a domain or an address first")
	}
	// A domain still runs.
	h.line("example.org")
	select {
	case got := <-d.runs:
		if got != "example.org" {
			t.Errorf("ran %q", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("example.org did not run")
	}
	select {
	case got := <-d.runs:
		t.Errorf("also ran %q", got)
	default:
	}
	// The adapter refuses them too, before any DNS query.
	if _, err := (DiagDiagnoser{Resolver: "127.0.0.1:1"}).Diagnose(context.Background(), "[203.0.113.5]", nil); err == nil || err.Error() != ip {
		t.Errorf("DiagDiagnoser on an IP address: %v", err)
	}
}

// A line too long for the pane ends in "…" at its edge; the detail pane
// has it in full.
func TestDiagnoseCutsLongLinesWithEllipsis(t *testing.T) {
	url := "https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=ann%40example.org: autoconfig.example.org has no address"
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = reportDiagnoser{Report{Findings: []Finding{
		{Check: "settings.found.autoconfig", Status: "warn", Summary: url, Detail: "the autoconfig file"},
	}}}
	h := startApp(t, o, 80, 24)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("ann@example.org")
	s := h.waitFor("autoconfig https://autoconfig.example.org/", "emailaddress=ann%40example.org: autoconfig.example.org has no address")
	var row string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "autoconfig https://") {
			row = l
			break
		}
	}
	if !strings.HasSuffix(row, "…│") && !strings.HasSuffix(row, "…║") {
		t.Errorf("the long line is not cut with …:\n%q\n%s", row, s)
	}
	// Narrower: cut again at the new edge.
	h.sim.SetSize(60, 24)
	h.app.tv.QueueUpdateDraw(func() {})
	s = h.waitFor("autoconfig https://autoconfig")
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "autoconfig https://") && !strings.HasSuffix(l, "…│") && !strings.HasSuffix(l, "…║") {
			t.Errorf("at 60 columns the line is not cut with …:\n%q", l)
		}
	}
}

// feedDiagnoser adds findings to a one-step run as the test sends them on
// lines; closing lines ends the run with all of them in the report.
type feedDiagnoser struct{ lines chan []Finding }

func (f feedDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	return f.DiagnoseProgress(ctx, target, func(p DiagProgress) {
		for _, x := range p.Findings {
			progress(x)
		}
	})
}

func (f feedDiagnoser) DiagnoseProgress(ctx context.Context, target string, progress func(DiagProgress)) (Report, error) {
	running := DiagProgress{Total: 1, Running: []string{"SETTINGS (from the feed)"}}
	progress(running)
	var all []Finding
	for {
		select {
		case fs, ok := <-f.lines:
			if !ok {
				return Report{Target: target, Resolver: "127.0.0.1:53", Findings: all}, nil
			}
			all = append(all, fs...)
			p := running
			p.Findings = fs
			progress(p)
		case <-ctx.Done():
			return Report{}, ctx.Err()
		}
	}
}

func feedLine(i int) Finding {
	return Finding{Check: "settings.outgoing", Status: "info", Summary: fmt.Sprintf("line %02d", i), Detail: fmt.Sprintf("detail of line %02d", i)}
}

// While a run adds lines, the tree shows the newest with the progress
// line in view; once the user picks a line it stays picked, through the
// rest of the run and the report's rebuild.
func TestDiagnoseFollowsNewLinesAndKeepsTheSelection(t *testing.T) {
	f := feedDiagnoser{lines: make(chan []Finding)}
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = f
	h := startApp(t, o, 80, 24)
	h.rune('4')
	h.waitFor("Domain or address:")
	h.line("ann@example.org")
	const prog = "0 of 1 checks done · running: SETTINGS (from the feed)"
	h.waitFor("(running)", prog)
	for i := 1; i <= 30; i++ {
		f.lines <- []Finding{feedLine(i)}
		h.waitFor(fmt.Sprintf("line %02d", i), prog)
	}
	s := h.text()
	if strings.Contains(s, "line 01") {
		t.Errorf("30 lines fit in a tree of 24 rows?\n%s", s)
	}
	// The first key picks the newest line; the view stays on it.
	h.key(tcell.KeyTab)
	h.key(tcell.KeyDown)
	h.waitFor("detail of line 30")
	for i := 31; i <= 45; i++ {
		f.lines <- []Finding{feedLine(i)}
	}
	s = h.waitFor(prog, "line 30", "detail of line 30")
	if strings.Contains(s, "line 45") {
		t.Errorf("the tree left the picked line for the newest:\n%s", s)
	}
	h.key(tcell.KeyUp)
	h.waitFor("detail of line 29")
	close(f.lines)
	s = h.waitFor("findings for ann@example.org:", "detail of line 29")
	if strings.Contains(s, "checks done") {
		t.Errorf("the progress line stays after the report:\n%s", s)
	}
}
