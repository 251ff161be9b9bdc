package lessons

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// ProgressFile is the name of the progress file in the data dir.
const ProgressFile = "lessons-progress.json"

// Progress is what a student has done, saved as JSON.
type Progress struct {
	Version int                        `json:"version"`
	Lessons map[string]*LessonProgress `json:"lessons"`
}

// LessonProgress is one lesson's progress.
type LessonProgress struct {
	Current int                      `json:"current"` // step index the student is on
	Steps   map[string]*StepProgress `json:"steps"`   // by Step.Key
}

// StepProgress is one step's progress.
type StepProgress struct {
	Passed  bool              `json:"passed"`
	Checks  []int             `json:"checks,omitempty"`  // indexes of checks that passed
	Hints   int               `json:"hints,omitempty"`   // hints revealed
	Answers map[string]string `json:"answers,omitempty"` // answer id -> last answer given
	Tries   int               `json:"tries,omitempty"`   // wrong answers
}

// progressStore loads and saves Progress atomically.
type progressStore struct {
	mu   sync.Mutex
	path string // "" keeps progress in memory only
	p    Progress
}

func openProgress(dir string) (*progressStore, error) {
	ps := &progressStore{p: Progress{Version: 1, Lessons: map[string]*LessonProgress{}}}
	if dir == "" {
		return ps, nil
	}
	ps.path = filepath.Join(dir, ProgressFile)
	b, err := os.ReadFile(ps.path)
	if os.IsNotExist(err) {
		return ps, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lesson progress: %w", err)
	}
	var p Progress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("lesson progress %s is damaged (%v): move it away to start over", ps.path, err)
	}
	if p.Lessons == nil {
		p.Lessons = map[string]*LessonProgress{}
	}
	for _, lp := range p.Lessons {
		if lp != nil && lp.Steps == nil {
			lp.Steps = map[string]*StepProgress{}
		}
	}
	p.Version = 1
	ps.p = p
	return ps, nil
}

// lesson returns the progress of id, creating it; call with mu held.
func (ps *progressStore) lesson(id string) *LessonProgress {
	lp := ps.p.Lessons[id]
	if lp == nil {
		lp = &LessonProgress{Steps: map[string]*StepProgress{}}
		ps.p.Lessons[id] = lp
	}
	return lp
}

func (lp *LessonProgress) step(key string) *StepProgress {
	sp := lp.Steps[key]
	if sp == nil {
		sp = &StepProgress{}
		lp.Steps[key] = sp
	}
	return sp
}

// save writes the file atomically (temp file, fsync, rename); call with mu held.
func (ps *progressStore) save() error {
	if ps.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(ps.p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(ps.path), 0o700); err != nil {
		return fmt.Errorf("lesson progress: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(ps.path), ".progress-*")
	if err != nil {
		return fmt.Errorf("lesson progress: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), ps.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("lesson progress: %w", err)
	}
	return nil
}
