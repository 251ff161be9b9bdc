package lessons

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"postlab/explorer"
)

// LabControl is what a Runner asks of the lab: set-up for a step and the
// "reset my lab mailbox" key. Any method may return ErrUnsupported.
type LabControl interface {
	// ResetMailbox empties a user's mailbox.
	ResetMailbox(ctx context.Context, user string) error
	// Deliver puts a practice message with this subject into a user's mailbox.
	Deliver(ctx context.Context, user, subject string) error
	// SetScenario switches a fault scenario on; "" switches it off.
	SetScenario(ctx context.Context, name string) error
	// SetDNSFaults publishes these DNS faults (labdns.Catalog); nil clears them.
	SetDNSFaults(ctx context.Context, names []string) error
}

// ErrUnsupported says the lab cannot do what a step asks.
var ErrUnsupported = errors.New("the lab cannot do this yet")

// Runner walks one lesson. Its methods are safe for concurrent use: the
// app feeds Observe from trace goroutines while the UI reads View.
type Runner struct {
	l     *Lesson
	ps    *progressStore
	boxes Mailboxes
	lab   LabControl

	mu     sync.Mutex
	t      *tracker
	cur    int
	since  int // evidence before this does not count for the current step
	labErr string
	// passSeq[i] is the evidence number at which step i passed in this run
	passSeq map[int]int
	subs    map[int]func()
	nextID  int

	onChange func() // tells the model; set once, before use
}

// StepStatus is where a step stands.
type StepStatus string

const (
	StepTodo    StepStatus = "todo"
	StepCurrent StepStatus = "current"
	StepPassed  StepStatus = "passed"
)

// View is everything a screen needs to draw the current step.
type View struct {
	LessonID    string
	LessonTitle string
	Intro       string // Markdown shown above the first step
	Step        int    // 0-based index of the current step
	Steps       []StepSummary
	Title       string
	Text        string // instructions, Markdown
	Checks      []CheckView
	Hints       []string // revealed so far, in order
	HintsLeft   int
	Explanation string // set once the step has passed
	Passed      bool   // the current step has passed
	Done        bool   // every step has passed
	Lab         []LabAction
	LabErr      string // the lab could not set the step up
}

// StepSummary is one line of a step list.
type StepSummary struct {
	Title  string
	Status StepStatus
}

// CheckView is one check mark.
type CheckView struct {
	Kind     string
	Label    string
	Passed   bool
	Question *Question // for answer checks
}

// Question is an answer check as a form.
type Question struct {
	ID      string
	Text    string
	Choices []string // empty: a short free answer
	Given   string   // the last answer given
	Tries   int      // wrong answers so far
}

func newRunner(l *Lesson, ps *progressStore, boxes Mailboxes, lab LabControl) *Runner {
	r := &Runner{l: l, ps: ps, boxes: boxes, lab: lab, t: newTracker(), subs: map[int]func(){}, passSeq: map[int]int{}}
	ps.mu.Lock()
	lp := ps.lesson(l.ID)
	r.cur = min(max(lp.Current, 0), len(l.Steps)-1)
	ps.mu.Unlock()
	return r
}

// Lesson is the lesson being run.
func (r *Runner) Lesson() *Lesson { return r.l }

// Subscribe calls f after every change (a check passed, a hint, a step
// change). f runs on the goroutine that made the change, without locks
// held: a tview screen should QueueUpdateDraw from it.
func (r *Runner) Subscribe(f func()) (cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextID
	r.nextID++
	r.subs[id] = f
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

func (r *Runner) notify() {
	r.mu.Lock()
	fs := make([]func(), 0, len(r.subs))
	for _, f := range r.subs {
		fs = append(fs, f)
	}
	r.mu.Unlock()
	for _, f := range fs {
		f()
	}
	if r.onChange != nil {
		r.onChange()
	}
}

// Observe feeds one piece of evidence and re-evaluates the current step.
func (r *Runner) Observe(ev Evidence) {
	r.mu.Lock()
	s := r.t.add(ev)
	noState := ev.Event.Dir == explorer.ClientToServer || (ev.Event.Dir == explorer.ServerToClient && ev.Event.State.Multi)
	changed := r.evaluateLocked(&evalEnv{only: s, dnsOnly: s == nil, noState: noState})
	r.mu.Unlock()
	if changed {
		r.notify()
	}
}

// Observed is how many pieces of evidence the runner has seen.
func (r *Runner) Observed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t.seq
}

// Refresh re-evaluates the current step; call it when the lab's mail
// store changes (mailbox checks look at state, not at events).
func (r *Runner) Refresh() {
	r.mu.Lock()
	changed := r.evaluateLocked()
	r.mu.Unlock()
	if changed {
		r.notify()
	}
}

// evaluateLocked marks checks of the current step that now hold; once
// passed, a check stays passed. It reports whether anything changed.
func (r *Runner) evaluateLocked(scope ...*evalEnv) bool {
	st := r.l.Steps[r.cur]
	r.ps.mu.Lock()
	defer r.ps.mu.Unlock()
	sp := r.ps.lesson(r.l.ID).step(st.Key)
	if sp.Passed {
		return false
	}
	env := &evalEnv{t: r.t, since: r.since, boxes: r.boxes, answers: sp.Answers}
	if len(scope) > 0 {
		env.only, env.dnsOnly, env.noState = scope[0].only, scope[0].dnsOnly, scope[0].noState
	}
	changed := false
	for i, c := range st.Checks {
		if slices.Contains(sp.Checks, i) {
			continue
		}
		if c.eval(env) {
			sp.Checks = append(sp.Checks, i)
			changed = true
		}
	}
	if changed && len(sp.Checks) == len(st.Checks) {
		sp.Passed = true
		r.passSeq[r.cur] = r.t.seq
	}
	if changed {
		r.ps.save()
	}
	return changed
}

// View returns the current step's state.
func (r *Runner) View() View {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ps.mu.Lock()
	defer r.ps.mu.Unlock()
	lp := r.ps.lesson(r.l.ID)
	st := r.l.Steps[r.cur]
	sp := lp.step(st.Key)
	v := View{
		LessonID: r.l.ID, LessonTitle: r.l.Title, Intro: r.l.Intro, Step: r.cur,
		Title: st.Title, Text: st.Text, Passed: sp.Passed, Lab: st.Lab, LabErr: r.labErr,
	}
	v.Done = true
	for i, s := range r.l.Steps {
		status := StepTodo
		if p := lp.Steps[s.Key]; p != nil && p.Passed {
			status = StepPassed
		} else {
			v.Done = false
			if i == r.cur {
				status = StepCurrent
			}
		}
		v.Steps = append(v.Steps, StepSummary{Title: s.Title, Status: status})
	}
	for i, c := range st.Checks {
		cv := CheckView{Kind: c.Kind, Label: c.Label, Passed: sp.Passed || slices.Contains(sp.Checks, i)}
		if c.Kind == KindAnswer {
			cv.Question = &Question{ID: c.ID, Text: c.Question, Choices: c.Choices, Given: sp.Answers[c.ID], Tries: sp.Tries}
		}
		v.Checks = append(v.Checks, cv)
	}
	n := min(sp.Hints, len(st.Hints))
	v.Hints = append([]string(nil), st.Hints[:n]...)
	v.HintsLeft = len(st.Hints) - n
	if sp.Passed {
		v.Explanation = st.Explanation
	}
	return v
}

// Hint reveals the next hint of the current step; false when none is left.
func (r *Runner) Hint() (string, bool) {
	r.mu.Lock()
	st := r.l.Steps[r.cur]
	r.ps.mu.Lock()
	sp := r.ps.lesson(r.l.ID).step(st.Key)
	if sp.Hints >= len(st.Hints) {
		r.ps.mu.Unlock()
		r.mu.Unlock()
		return "", false
	}
	h := st.Hints[sp.Hints]
	sp.Hints++
	r.ps.save()
	r.ps.mu.Unlock()
	r.mu.Unlock()
	r.notify()
	return h, true
}

// Answer records an answer to the current step's question id and reports
// whether it is right.
func (r *Runner) Answer(id, answer string) (bool, error) {
	r.mu.Lock()
	st := r.l.Steps[r.cur]
	var c *Check
	for _, x := range st.Checks {
		if x.Kind == KindAnswer && x.ID == id {
			c = x
		}
	}
	if c == nil {
		r.mu.Unlock()
		return false, fmt.Errorf("step %q has no question %q", st.Title, id)
	}
	ok := c.Correct(answer)
	r.ps.mu.Lock()
	sp := r.ps.lesson(r.l.ID).step(st.Key)
	if sp.Answers == nil {
		sp.Answers = map[string]string{}
	}
	sp.Answers[id] = normAnswer(answer)
	if !ok {
		sp.Tries++
	}
	r.ps.save()
	r.ps.mu.Unlock()
	r.evaluateLocked()
	r.mu.Unlock()
	r.notify()
	return ok, nil
}

// Next moves to the next step (whether or not this one passed: a student
// may skip). It reports false on the last step.
func (r *Runner) Next(ctx context.Context) bool { return r.Goto(ctx, r.Current()+1) }

// Prev moves back one step.
func (r *Runner) Prev(ctx context.Context) bool { return r.Goto(ctx, r.Current()-1) }

// Current is the index of the current step.
func (r *Runner) Current() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Goto makes step i current, sets the lab up for it and evaluates it over
// the evidence since the previous step passed (so a student who ran ahead
// is not asked to repeat themselves).
func (r *Runner) Goto(ctx context.Context, i int) bool {
	r.mu.Lock()
	if i < 0 || i >= len(r.l.Steps) || i == r.cur {
		r.mu.Unlock()
		return false
	}
	r.cur = i
	r.since = r.t.seq
	if i > 0 {
		r.since = r.passedAt(i - 1)
	}
	r.ps.mu.Lock()
	r.ps.lesson(r.l.ID).Current = i
	r.ps.save()
	r.ps.mu.Unlock()
	r.evaluateLocked()
	r.mu.Unlock()
	r.Prepare(ctx)
	r.notify()
	return true
}

// passedAt is the sequence number from which step i+1 may use evidence:
// when step i passed during this run, else now.
func (r *Runner) passedAt(i int) int {
	if p, ok := r.passSeq[i]; ok {
		return p
	}
	return r.t.seq
}

// Prepare applies the current step's lab set-up: its fault scenario and
// DNS faults (or none). Errors are shown in View.LabErr.
func (r *Runner) Prepare(ctx context.Context) error {
	r.mu.Lock()
	st := r.l.Steps[r.cur]
	r.mu.Unlock()
	if r.lab == nil {
		return nil
	}
	scenario := ""
	var faults []string
	for _, a := range st.Lab {
		switch a.Kind {
		case "scenario":
			scenario = a.Arg
		case "dns-fault":
			faults = append(faults, a.Arg)
		}
	}
	err := r.lab.SetScenario(ctx, scenario)
	if e := r.lab.SetDNSFaults(ctx, faults); err == nil {
		err = e
	}
	if errors.Is(err, ErrUnsupported) && scenario == "" && faults == nil {
		err = nil // nothing to switch off
	}
	r.mu.Lock()
	r.labErr = ""
	if err != nil {
		r.labErr = "lab set-up: " + err.Error()
	}
	r.mu.Unlock()
	r.notify()
	return err
}

// ResetLab empties the lesson's practice mailbox and delivers its seed
// messages ("reset my lab mailbox for this lesson").
func (r *Runner) ResetLab(ctx context.Context) error {
	if r.lab == nil {
		return ErrUnsupported
	}
	users := []string{}
	if r.l.Mailbox != "" {
		users = append(users, r.l.Mailbox)
	}
	for _, s := range r.l.Seeds {
		if !slices.Contains(users, s.User) {
			users = append(users, s.User)
		}
	}
	for _, u := range users {
		if err := r.lab.ResetMailbox(ctx, u); err != nil {
			return fmt.Errorf("reset %s: %w", u, err)
		}
	}
	for _, s := range r.l.Seeds {
		if err := r.lab.Deliver(ctx, s.User, s.Subject); err != nil {
			return fmt.Errorf("deliver to %s: %w", s.User, err)
		}
	}
	r.Refresh()
	return nil
}

// ResetProgress forgets this lesson's progress and starts it over.
func (r *Runner) ResetProgress() {
	r.mu.Lock()
	r.ps.mu.Lock()
	delete(r.ps.p.Lessons, r.l.ID)
	r.ps.save()
	r.ps.mu.Unlock()
	r.cur, r.since = 0, r.t.seq
	r.passSeq = map[int]int{}
	r.mu.Unlock()
	r.notify()
}
