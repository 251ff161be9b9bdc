package lessons

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"postlab/explorer"
)

// A walkthrough (testdata/walk/ID.walk) is a recorded transcript of a
// student doing a lesson, in the spirit of chasquid's .cmy dialogues:
//
//	step N               evidence that must make step N pass (and not before)
//	wrong N              evidence that must NOT make step N pass
//	session NAME [source=client|server] [listener=L] [proto=pop3]
//	c: LINE              a client line      s: LINE   a server line
//	m: LINE              a server line inside a multi-line response
//	tls                  the session is encrypted from here on
//	note: TEXT           a local note       error: TEXT   a local error note
//	close                the connection ends
//	dns TYPE NAME [RCODE]
//	mail USER SUBJECT    a message arrives  read USER SUBJECT  it is RETRieved
//	delete USER SUBJECT  it is removed
//	answer ID VALUE
type walk struct {
	steps map[int]*section
	wrong map[int]*section
}

type section struct{ lines []walkLine }

type walkLine struct {
	n    int
	verb string
	arg  string
}

func readWalk(t *testing.T, path string) *walk {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &walk{steps: map[int]*section{}, wrong: map[int]*section{}}
	var cur *section
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		if verb == "step" || verb == "wrong" {
			i, err := strconv.Atoi(arg)
			if err != nil {
				t.Fatalf("%s:%d: %s N", path, n, verb)
			}
			m := w.steps
			if verb == "wrong" {
				m = w.wrong
			}
			if m[i] != nil {
				t.Fatalf("%s:%d: %s %d twice", path, n, verb, i)
			}
			cur = &section{}
			m[i] = cur
			continue
		}
		if cur == nil {
			t.Fatalf("%s:%d: evidence before the first step", path, n)
		}
		cur.lines = append(cur.lines, walkLine{n: n, verb: verb, arg: arg})
	}
	return w
}

// fakeLab is an in-memory mail store and lab control.
type fakeLab struct {
	mu       sync.Mutex
	boxes    map[string][]Message
	scenario string
	faults   []string
	next     int
}

func newFakeLab() *fakeLab { return &fakeLab{boxes: map[string][]Message{}} }

func (f *fakeLab) Messages(user string) ([]Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.boxes[user]...), nil
}

func (f *fakeLab) ResetMailbox(_ context.Context, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.boxes, user)
	return nil
}

func (f *fakeLab) Deliver(_ context.Context, user, subject string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.boxes[user] = append(f.boxes[user], Message{ID: strconv.Itoa(f.next), Subject: subject, From: "postlab@postlab.test"})
	return nil
}

func (f *fakeLab) SetScenario(_ context.Context, name string) error {
	f.mu.Lock()
	f.scenario = name
	f.mu.Unlock()
	return nil
}

func (f *fakeLab) SetDNSFaults(_ context.Context, names []string) error {
	f.mu.Lock()
	f.faults = names
	f.mu.Unlock()
	return nil
}

func (f *fakeLab) mark(user, subject string, seen, remove bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.boxes[user] {
		if m.Subject == subject {
			if remove {
				f.boxes[user] = slices.Delete(f.boxes[user], i, i+1)
			} else {
				f.boxes[user][i].Seen = seen
			}
			return nil
		}
	}
	return fmt.Errorf("no message %q in %s", subject, user)
}

// player turns walk lines into Evidence.
type player struct {
	r        *Runner
	lab      *fakeLab
	sess     string
	source   Source
	listener string
	proto    explorer.Protocol
	tls      map[string]bool
	authed   map[string]bool
	last     map[string]string // last client verb per session
}

func newPlayer(r *Runner, lab *fakeLab) *player {
	return &player{r: r, lab: lab, sess: "1", source: FromServer, listener: "smtp", proto: explorer.SMTP,
		tls: map[string]bool{}, authed: map[string]bool{}, last: map[string]string{}}
}

func (p *player) play(t *testing.T, file string, lines []walkLine) {
	t.Helper()
	for _, l := range lines {
		where := fmt.Sprintf("%s:%d", file, l.n)
		ev := explorer.Event{TLS: p.tls[p.sess], State: explorer.State{Proto: p.proto, TLS: p.tls[p.sess], Authed: p.authed[p.sess]}}
		send := func() {
			p.r.Observe(Evidence{Source: p.source, Session: p.sess, Listener: p.listener, Event: ev})
		}
		switch l.verb {
		case "session":
			f := strings.Fields(l.arg)
			if len(f) == 0 {
				t.Fatalf("%s: session NAME", where)
			}
			p.sess, p.source, p.listener, p.proto = f[0], FromServer, "smtp", explorer.SMTP
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "source":
					p.source = Source(v)
				case "listener":
					p.listener = v
				case "proto":
					p.proto = explorer.Protocol(v)
				default:
					t.Fatalf("%s: unknown session option %q", where, k)
				}
			}
			if p.listener == "pop3" || p.listener == "pop3s" {
				p.proto = explorer.POP3
			}
			if p.listener == "submissions" || p.listener == "pop3s" {
				p.tls[p.sess] = true
			}
		case "c:":
			ev.Dir, ev.Line = explorer.ClientToServer, l.arg
			send()
			verb, _, _ := strings.Cut(l.arg, " ")
			p.last[p.sess] = strings.ToUpper(verb)
		case "s:", "m:":
			ev.Dir, ev.Line, ev.State.Multi = explorer.ServerToClient, l.arg, l.verb == "m:"
			send()
			if strings.HasPrefix(l.arg, "235") || (p.proto == explorer.POP3 && strings.HasPrefix(l.arg, "+OK") && p.last[p.sess] == "PASS") {
				p.authed[p.sess] = true
			}
		case "tls":
			p.tls[p.sess] = true
		case "note:", "error:":
			ev.Dir, ev.Line, ev.Err = explorer.Local, l.arg, l.verb == "error:"
			send()
		case "close":
			ev.Dir, ev.Line, ev.State.Phase = explorer.Local, "connection closed", explorer.PhaseClosed
			send()
		case "dns":
			f := strings.Fields(l.arg)
			if len(f) < 2 {
				t.Fatalf("%s: dns TYPE NAME [RCODE]", where)
			}
			q := &DNSQuery{Type: f[0], Name: f[1], Rcode: "NOERROR"}
			if len(f) > 2 {
				q.Rcode = f[2]
			}
			p.r.Observe(Evidence{Source: FromDNS, DNS: q})
		case "mail", "read", "delete":
			user, subj, _ := strings.Cut(l.arg, " ")
			var err error
			switch l.verb {
			case "mail":
				err = p.lab.Deliver(context.Background(), user, subj)
			case "read":
				err = p.lab.mark(user, subj, true, false)
			case "delete":
				err = p.lab.mark(user, subj, false, true)
			}
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			p.r.Refresh()
		case "answer":
			id, val, _ := strings.Cut(l.arg, " ")
			if _, err := p.r.Answer(id, val); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		default:
			t.Fatalf("%s: unknown walk line %q", where, l.verb)
		}
	}
}

func walkPath(id string) string { return filepath.Join("testdata", "walk", id+".walk") }

// TestWalkthroughs runs every lesson of the course from recorded student
// actions: each step must not pass before its actions and must pass after
// them, in order; each "wrong" action must leave its step unpassed.
func TestWalkthroughs(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Lessons) < 14 {
		t.Fatalf("course has %d lessons, want at least 14", len(c.Lessons))
	}
	for _, l := range c.Lessons {
		t.Run(l.ID, func(t *testing.T) {
			w := readWalk(t, walkPath(l.ID))
			runWalk(t, c, l, w)
			if len(w.wrong) == 0 {
				t.Fatalf("%s has no \"wrong N\" section: every lesson needs a negative test", walkPath(l.ID))
			}
			for n, sec := range w.wrong {
				runWrong(t, c, l, n, sec.lines)
			}
		})
	}
}

func runWalk(t *testing.T, c *Course, l *Lesson, w *walk) {
	ctx := context.Background()
	m, err := NewModel(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lab := newFakeLab()
	m.SetLab(lab, lab)
	r, err := m.Open(l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ResetLab(ctx); err != nil {
		t.Fatal(err)
	}
	r.Prepare(ctx)
	p := newPlayer(r, lab)
	for i, st := range l.Steps {
		sec, ok := w.steps[i+1]
		if !ok {
			t.Fatalf("%s has no \"step %d\" (%s)", walkPath(l.ID), i+1, st.Title)
		}
		if v := r.View(); v.Step != i || v.Passed {
			t.Fatalf("step %d %q: before its actions: step %d, passed %v", i+1, st.Title, v.Step, v.Passed)
		}
		wantScenario, wantFaults := "", []string(nil)
		for _, a := range st.Lab {
			if a.Kind == "scenario" {
				wantScenario = a.Arg
			} else {
				wantFaults = append(wantFaults, a.Arg)
			}
		}
		if lab.scenario != wantScenario || !slices.Equal(lab.faults, wantFaults) {
			t.Errorf("step %d: lab set up with scenario %q faults %v, want %q %v", i+1, lab.scenario, lab.faults, wantScenario, wantFaults)
		}
		p.play(t, walkPath(l.ID), sec.lines)
		v := r.View()
		if !v.Passed {
			var missing []string
			for _, cv := range v.Checks {
				if !cv.Passed {
					missing = append(missing, cv.Label)
				}
			}
			t.Fatalf("step %d %q did not pass; failing checks: %q", i+1, st.Title, missing)
		}
		if st.Explanation != "" && v.Explanation != st.Explanation {
			t.Errorf("step %d: explanation not shown after passing", i+1)
		}
		if i < len(l.Steps)-1 && !r.Next(ctx) {
			t.Fatalf("step %d: Next refused", i+1)
		}
	}
	if extra := len(w.steps) - len(l.Steps); extra > 0 {
		t.Errorf("%s has %d step sections more than the lesson's %d steps", walkPath(l.ID), extra, len(l.Steps))
	}
	if !r.View().Done {
		t.Error("lesson not done after every step passed")
	}
	items := m.List()
	if it := items[l.Order-1]; it.ID != l.ID || it.Status != "done" || it.Passed != len(l.Steps) {
		t.Errorf("list after the walkthrough: %+v", it)
	}
}

func runWrong(t *testing.T, c *Course, l *Lesson, n int, lines []walkLine) {
	ctx := context.Background()
	if n < 1 || n > len(l.Steps) {
		t.Fatalf("wrong %d: the lesson has %d steps", n, len(l.Steps))
	}
	m, _ := NewModel(c, "")
	lab := newFakeLab()
	m.SetLab(lab, lab)
	r, _ := m.Open(l.ID)
	if err := r.ResetLab(ctx); err != nil {
		t.Fatal(err)
	}
	if n > 1 && !r.Goto(ctx, n-1) {
		t.Fatalf("wrong %d: Goto failed", n)
	}
	newPlayer(r, lab).play(t, walkPath(l.ID), lines)
	if v := r.View(); v.Passed {
		t.Errorf("wrong %d: step %q passed with the wrong actions of %s", n, v.Title, walkPath(l.ID))
	}
}
