package tui

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"

	"postlab/explorer"
)

// spillFile keeps the lines a TraceModel drops from memory in a temporary
// JSON Lines file, created on the first line, so a saved transcript of a
// very long session is still complete while memory stays bounded.
type spillFile struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	fail bool
}

func (s *spillFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return len(p), nil // best effort: the view never depends on it
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "postlab-trace-*.jsonl")
		if err != nil {
			s.fail = true
			return len(p), nil
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	return s.w.Write(p)
}

// events reads back what was spilled.
func (s *spillFile) events() []explorer.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	s.w.Flush()
	f, err := os.Open(s.f.Name())
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []explorer.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev explorer.Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out
}

// reset removes the file (a new session starts).
func (s *spillFile) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
	s.f, s.w, s.fail = nil, nil, false
}
