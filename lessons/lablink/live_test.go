package lablink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/lessons"
)

// A live script (testdata/live/ID.live) is what a student does in a lesson,
// performed for real against a lab on 127.0.0.1 port 0:
//
//	step N | wrong N          actions for step N (or wrong ones that must not pass it)
//	smtp|pop3 LISTENER        open a session (implicit TLS on submissions and pop3s)
//	> LINE                    send one line exactly as typed (STARTTLS/STLS upgrade)
//	repeat N > LINE           send a line N times
//	close                     hang up without QUIT
//	dns TYPE NAME             ask the lab's DNS server
//	answer ID VALUE
type liveLine struct {
	n          int
	verb, arg  string
	repeat     int
	sectionEnd bool
}

func readLive(t *testing.T, path string) (steps, wrong map[int][]liveLine) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	steps, wrong = map[int][]liveLine{}, map[int][]liveLine{}
	var m map[int][]liveLine
	cur := 0
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "step", "wrong":
			i, err := strconv.Atoi(arg)
			if err != nil {
				t.Fatalf("%s:%d: %s N", path, n, verb)
			}
			m, cur = steps, i
			if verb == "wrong" {
				m = wrong
			}
			m[cur] = []liveLine{}
			continue
		case "repeat":
			cnt, rest, _ := strings.Cut(arg, " ")
			k, err := strconv.Atoi(cnt)
			if err != nil || !strings.HasPrefix(rest, "> ") {
				t.Fatalf("%s:%d: repeat N > LINE", path, n)
			}
			m[cur] = append(m[cur], liveLine{n: n, verb: ">", arg: rest[2:], repeat: k})
			continue
		}
		if m == nil {
			t.Fatalf("%s:%d: action before the first step", path, n)
		}
		m[cur] = append(m[cur], liveLine{n: n, verb: verb, arg: arg, repeat: 1})
	}
	return steps, wrong
}

type liveSession interface {
	Close() error
}

// actor performs live lines against the lab.
type actor struct {
	t    *testing.T
	l    *lab.Lab
	r    *lessons.Runner
	path string
	smtp *explorer.SMTPSession
	pop3 *explorer.POP3Session
	all  []liveSession
	dnsN int
}

func (a *actor) do(ctx context.Context, lines []liveLine) {
	t := a.t
	for _, ln := range lines {
		where := fmt.Sprintf("%s:%d", a.path, ln.n)
		switch ln.verb {
		case "smtp", "pop3":
			listener := strings.TrimSpace(ln.arg)
			opts := explorer.Options{Addr: a.l.Addr(listener), RootCAs: a.l.CertPool(), ServerName: a.l.Hostname(),
				ReplyTimeout: 20 * time.Second}
			if listener == lab.ListenerSubmissions || listener == lab.ListenerPOP3S {
				opts.Security = explorer.ImplicitTLS
			}
			if a.r != nil {
				opts.OnEvent = SessionObserver(a.r, ListenerFor(a.l, opts.Addr))
			}
			var err error
			a.smtp, a.pop3 = nil, nil
			if ln.verb == "smtp" {
				a.smtp, err = explorer.DialSMTP(ctx, opts)
				if err == nil {
					a.all = append(a.all, a.smtp)
				}
			} else {
				a.pop3, err = explorer.DialPOP3(ctx, opts)
				if err == nil {
					a.all = append(a.all, a.pop3)
				}
			}
			if err != nil {
				t.Fatalf("%s: dial %s: %v", where, listener, err)
			}
		case ">":
			for range ln.repeat {
				var err error
				switch {
				case a.smtp != nil:
					_, err = a.smtp.SendLine(ctx, ln.arg)
				case a.pop3 != nil:
					_, err = a.pop3.SendLine(ctx, ln.arg)
				default:
					t.Fatalf("%s: no session open", where)
				}
				if err != nil && !explorer.IsNetwork(err) {
					var pe *explorer.ProtocolError
					if !errors.As(err, &pe) {
						t.Fatalf("%s: %q: %v", where, ln.arg, err)
					}
				}
			}
		case "close":
			if a.smtp != nil {
				a.smtp.Close()
			}
			if a.pop3 != nil {
				a.pop3.Close()
			}
		case "dns":
			f := strings.Fields(ln.arg)
			qt, ok := dns.StringToType[strings.ToUpper(f[0])]
			if len(f) != 2 || !ok {
				t.Fatalf("%s: dns TYPE NAME", where)
			}
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(f[1]), qt)
			c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
			if _, _, err := c.Exchange(m, a.l.Addr(lab.ListenerDNS)); err != nil {
				t.Fatalf("%s: dns: %v", where, err)
			}
			a.dnsN++
		case "answer":
			id, val, _ := strings.Cut(ln.arg, " ")
			if a.r != nil {
				if _, err := a.r.Answer(id, val); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			}
		default:
			t.Fatalf("%s: unknown action %q", where, ln.verb)
		}
	}
}

func (a *actor) closeAll() {
	for _, s := range a.all {
		s.Close()
	}
	a.all, a.smtp, a.pop3 = nil, nil, nil
}

func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Config{DataDir: t.TempDir(), SMTP: "127.0.0.1:0", Submission: "127.0.0.1:0",
		Submissions: "127.0.0.1:0", POP3: "127.0.0.1:0", POP3S: "127.0.0.1:0", DNS: "127.0.0.1:0", AuthFailDelay: -1,
		// Short fault delays: the walkthrough retries a greylisted RCPT at once.
		GreylistDelay: time.Millisecond, SlowBannerDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

// waitFor polls until ok or the bound passes; the bound only keeps a broken
// build from hanging, it is not a speed assertion.
func waitFor(ok func() bool) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ok()
}

func needsLab(st *lessons.Step, ctl lessons.LabControl) error {
	for _, a := range st.Lab {
		var err error
		if a.Kind == "scenario" {
			err = ctl.SetScenario(context.Background(), a.Arg)
		} else {
			err = ctl.SetDNSFaults(context.Background(), []string{a.Arg})
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", a.Kind, a.Arg, err)
		}
	}
	return nil
}

// TestLiveWalkthroughs does every lesson for real against a lab: client
// sessions through the explorer, DNS queries to the lab's server, the
// lab's own trace and mail store as evidence. Every step must pass in
// order. Steps whose fault scenario the lab does not offer yet are
// reported and skipped.
func TestLiveWalkthroughs(t *testing.T) {
	c, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, les := range c.Lessons {
		t.Run(les.ID, func(t *testing.T) {
			path := filepath.Join("testdata", "live", les.ID+".live")
			steps, wrong := readLive(t, path)
			l := startLab(t)
			ctx := context.Background()
			m, err := lessons.NewModel(c, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctl := Control(l)
			m.SetLab(Mailboxes(l), ctl)
			r, err := m.Open(les.ID)
			if err != nil {
				t.Fatal(err)
			}
			stop := Feed(r, l)
			defer stop()
			if err := r.ResetLab(ctx); err != nil {
				t.Fatal(err)
			}
			for i, st := range les.Steps {
				if i > 0 {
					r.Next(ctx)
				}
				if err := needsLab(st, ctl); errors.Is(err, lessons.ErrUnsupported) {
					t.Logf("step %d %q skipped: %v", i+1, st.Title, err)
					continue
				}
				acts, ok := steps[i+1]
				if !ok {
					t.Fatalf("%s has no step %d", path, i+1)
				}
				a := &actor{t: t, l: l, r: r, path: path}
				a.do(ctx, acts)
				passed := waitFor(func() bool { return r.View().Passed })
				a.closeAll()
				if !passed {
					var missing []string
					for _, cv := range r.View().Checks {
						if !cv.Passed {
							missing = append(missing, cv.Label)
						}
					}
					t.Fatalf("step %d %q did not pass; failing: %q", i+1, st.Title, missing)
				}
			}
			for n, acts := range wrong {
				runLiveWrong(t, c, les, l, n, path, acts)
			}
		})
	}
}

// runLiveWrong performs wrong actions, waits until the lab has traced all
// of them, then replays that trace into a fresh runner at step n.
func runLiveWrong(t *testing.T, c *lessons.Course, les *lessons.Lesson, l *lab.Lab, n int, path string, acts []liveLine) {
	ctx := context.Background()
	if err := needsLab(les.Steps[n-1], Control(l)); errors.Is(err, lessons.ErrUnsupported) {
		return
	}
	before := len(l.Traces().Recent(0))
	a := &actor{t: t, l: l, path: path}
	a.do(ctx, acts)
	opened := len(a.all)
	a.closeAll()
	settled := waitFor(func() bool {
		closed, queries := 0, 0
		for _, ev := range l.Traces().Recent(0)[before:] {
			if ev.Listener == lab.ListenerDNS {
				queries++
			} else if ev.State.Phase == explorer.PhaseClosed || ev.Line == "connection closed" {
				closed++
			}
		}
		return closed >= opened && queries >= a.dnsN
	})
	if !settled {
		t.Fatalf("wrong %d: the lab's trace never showed every session closed", n)
	}
	m, _ := lessons.NewModel(c, "")
	m.SetLab(Mailboxes(l), nil)
	r, _ := m.Open(les.ID)
	if n > 1 {
		r.Goto(ctx, n-1)
	}
	for _, ev := range l.Traces().Recent(0)[before:] {
		if e, ok := ServerEvidence(ev); ok {
			r.Observe(e)
		}
	}
	for _, ln := range acts {
		if ln.verb == "answer" {
			id, val, _ := strings.Cut(ln.arg, " ")
			r.Answer(id, val)
		}
	}
	if r.View().Passed {
		t.Errorf("wrong %d: step %q passed with the wrong actions of %s", n, les.Steps[n-1].Title, path)
	}
}

func TestParseDNSLine(t *testing.T) {
	q, ok := ParseDNSLine("postlab.test. IN MX -> NOERROR")
	if !ok || q.Name != "postlab.test." || q.Type != "MX" || q.Rcode != "NOERROR" {
		t.Fatalf("%+v %v", q, ok)
	}
	for _, bad := range []string{"", "postlab.test. IN MX", "a b c d e f", "a IN MX => NOERROR"} {
		if _, ok := ParseDNSLine(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The reset's own delivery never counts as the student's action.
func TestResetDeliveriesAreNotEvidence(t *testing.T) {
	l := startLab(t)
	c, _ := lessons.Builtin()
	m, _ := lessons.NewModel(c, "")
	ctl := Control(l)
	m.SetLab(Mailboxes(l), ctl)
	r, _ := m.Open("smtp-by-hand")
	stop := Feed(r, l)
	defer stop()
	ctx := context.Background()
	if err := ctl.Deliver(ctx, "bob", "seeded"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := Mailboxes(l).Messages("bob")
	if len(msgs) != 1 || msgs[0].Subject != "seeded" {
		t.Fatalf("bob holds %+v", msgs)
	}
	// A real session after the seed: its events arrive after the seed's.
	a := &actor{t: t, l: l, path: "inline"}
	a.do(ctx, []liveLine{{verb: "smtp", arg: "smtp", repeat: 1}, {verb: ">", arg: "NOOP", repeat: 1}, {verb: ">", arg: "QUIT", repeat: 1}})
	a.closeAll()
	if !waitFor(func() bool {
		for _, ev := range l.Traces().Recent(0) {
			if ev.Line == "NOOP" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("no NOOP in the trace")
	}
	// Wait until the runner has seen everything Feed forwards.
	f, want := newSeedFilter(), 0
	for _, ev := range l.Traces().Recent(0) {
		if f.keep(ev) {
			want++
		}
	}
	if !waitFor(func() bool { return r.Observed() >= want }) {
		t.Fatalf("runner saw %d events, want %d", r.Observed(), want)
	}
	if v := r.View(); v.Checks[0].Passed {
		t.Fatal("the reset's EHLO passed the student's EHLO check")
	}
	if err := ctl.ResetMailbox(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := Mailboxes(l).Messages("bob"); len(msgs) != 0 {
		t.Fatalf("after reset bob holds %d", len(msgs))
	}
}
