package lessons

import (
	"fmt"
	"sync"
)

// Model is the course with the student's progress: what a Lessons screen
// lists and opens. It knows no UI.
type Model struct {
	course *Course
	ps     *progressStore

	mu     sync.Mutex
	boxes  Mailboxes
	lab    LabControl
	vars   *Vars // nil: the defaults the course was parsed with
	subs   map[int]func()
	nextID int
}

// NewModel loads progress from dataDir ("" keeps it in memory only).
func NewModel(c *Course, dataDir string) (*Model, error) {
	ps, err := openProgress(dataDir)
	if err != nil {
		return nil, err
	}
	return &Model{course: c, ps: ps, subs: map[int]func(){}}, nil
}

// Subscribe calls f whenever the progress of any lesson opened from this
// model changes (so a list can redraw its progress column). f runs on the
// goroutine that made the change, without locks held.
func (m *Model) Subscribe(f func()) (cancel func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextID
	m.nextID++
	m.subs[id] = f
	return func() {
		m.mu.Lock()
		delete(m.subs, id)
		m.mu.Unlock()
	}
}

func (m *Model) notify() {
	m.mu.Lock()
	fs := make([]func(), 0, len(m.subs))
	for _, f := range m.subs {
		fs = append(fs, f)
	}
	m.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// SetLab gives runners opened from now on the lab's mail store and
// controls (either may be nil).
func (m *Model) SetLab(boxes Mailboxes, lab LabControl) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boxes, m.lab = boxes, lab
}

// SetVars gives lessons opened from now on the placeholder values of the
// lab in use (its real ports, a teacher's host).
func (m *Model) SetVars(v Vars) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vars = &v
}

// Course is the model's course.
func (m *Model) Course() *Course { return m.course }

// Item is one line of the lesson list.
type Item struct {
	Order    int      `json:"order"`
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Minutes  int      `json:"minutes"`
	Requires []string `json:"requires,omitempty"`
	Steps    int      `json:"steps"`
	Passed   int      `json:"passed"` // steps passed
	Status   string   `json:"status"` // "new", "started" or "done"
	// Ready is false while a required lesson is not done (a suggestion,
	// not a lock: a student may open any lesson).
	Ready bool   `json:"ready"`
	File  string `json:"file"`
}

// List returns the course in order with progress.
func (m *Model) List() []Item {
	m.ps.mu.Lock()
	defer m.ps.mu.Unlock()
	done := map[string]bool{}
	items := make([]Item, 0, len(m.course.Lessons))
	for _, l := range m.course.Lessons {
		it := Item{Order: l.Order, ID: l.ID, Title: l.Title, Summary: l.Summary, Minutes: l.Minutes,
			Requires: l.Requires, Steps: len(l.Steps), File: l.File, Status: "new"}
		if lp := m.ps.p.Lessons[l.ID]; lp != nil {
			for _, s := range l.Steps {
				if sp := lp.Steps[s.Key]; sp != nil && sp.Passed {
					it.Passed++
				}
			}
			if it.Passed > 0 || len(lp.Steps) > 0 {
				it.Status = "started"
			}
		}
		if it.Passed == it.Steps {
			it.Status = "done"
			done[l.ID] = true
		}
		items = append(items, it)
	}
	for i := range items {
		items[i].Ready = true
		for _, r := range items[i].Requires {
			if !done[r] {
				items[i].Ready = false
			}
		}
	}
	return items
}

// Open starts a Runner on lesson id at the step the student reached.
func (m *Model) Open(id string) (*Runner, error) {
	l := m.course.Lesson(id)
	if l == nil {
		return nil, fmt.Errorf("no lesson %q: see 'postlab lessons list'", id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vars != nil {
		el, err := l.Expand(*m.vars)
		if err != nil {
			return nil, err
		}
		l = el
	}
	r := newRunner(l, m.ps, m.boxes, m.lab)
	r.onChange = m.notify
	return r, nil
}
