package tui

import (
	"encoding/json"
	"io"
	"sync"

	"postlab/explorer"
)

// Entry is one line of a trace view: an event and, for server logs, the
// session it belongs to.
type Entry struct {
	Event  explorer.Event
	Prefix string // e.g. "#3 smtp"; empty for client sessions
}

// DefaultTraceCapacity bounds the lines a trace keeps in memory.
const DefaultTraceCapacity = 100_000

// TraceModel is a bounded, append-only list of trace lines with a
// selection. Lines beyond the capacity leave memory oldest first and, when a
// spill writer is set, are written there as JSON Lines so a saved transcript
// stays complete. Notes are computed lazily for the lines someone looks at.
// Safe for concurrent use; listeners are called without the lock held.
type TraceModel struct {
	mu       sync.Mutex
	capacity int
	ring     []Entry
	start    int    // ring index of the oldest line
	next     uint64 // sequence number of the next appended line
	sel      uint64 // selected sequence number
	follow   bool   // selection sticks to the newest line
	notes    map[uint64][]explorer.Note
	annotate Annotator
	spill    io.Writer
	spilled  uint64
	subs     map[int]func()
	subID    int
}

// NewTraceModel keeps at most capacity lines (DefaultTraceCapacity if <= 0).
func NewTraceModel(capacity int, annotate Annotator) *TraceModel {
	if capacity <= 0 {
		capacity = DefaultTraceCapacity
	}
	return &TraceModel{
		capacity: capacity,
		ring:     make([]Entry, 0, min(capacity, 1024)),
		follow:   true,
		notes:    map[uint64][]explorer.Note{},
		annotate: annotate,
		subs:     map[int]func(){},
	}
}

// SetSpill makes lines that leave memory go to w as JSON Lines.
func (m *TraceModel) SetSpill(w io.Writer) {
	m.mu.Lock()
	m.spill = w
	m.mu.Unlock()
}

// Subscribe calls fn after every change (append, selection, clear).
func (m *TraceModel) Subscribe(fn func()) (cancel func()) {
	m.mu.Lock()
	id := m.subID
	m.subID++
	m.subs[id] = fn
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.subs, id)
		m.mu.Unlock()
	}
}

func (m *TraceModel) notify() {
	m.mu.Lock()
	fns := make([]func(), 0, len(m.subs))
	for _, f := range m.subs {
		fns = append(fns, f)
	}
	m.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// Append adds lines at the end.
func (m *TraceModel) Append(es ...Entry) {
	if len(es) == 0 {
		return
	}
	m.mu.Lock()
	for _, e := range es {
		if len(m.ring) < m.capacity {
			m.ring = append(m.ring, e)
		} else {
			old := m.ring[m.start]
			oldSeq := m.next - uint64(m.capacity)
			if m.spill != nil {
				b, _ := json.Marshal(old.Event)
				b = append(b, '\n')
				if _, err := m.spill.Write(b); err == nil {
					m.spilled++
				}
			}
			delete(m.notes, oldSeq)
			m.ring[m.start] = e
			m.start = (m.start + 1) % m.capacity
		}
		m.next++
	}
	if m.follow || m.sel < m.firstLocked() {
		m.sel = m.next - 1
	}
	m.mu.Unlock()
	m.notify()
}

// Clear forgets every line (a new session).
func (m *TraceModel) Clear() {
	m.mu.Lock()
	m.ring = m.ring[:0]
	m.start = 0
	m.next = 0
	m.sel = 0
	m.follow = true
	m.spilled = 0
	m.notes = map[uint64][]explorer.Note{}
	m.mu.Unlock()
	m.notify()
}

func (m *TraceModel) firstLocked() uint64 { return m.next - uint64(len(m.ring)) }

// Bounds returns the sequence numbers of the oldest line held and one past
// the newest (first == end when empty).
func (m *TraceModel) Bounds() (first, end uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.firstLocked(), m.next
}

// Len is the number of lines held in memory.
func (m *TraceModel) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ring)
}

// Spilled is the number of lines written to the spill writer.
func (m *TraceModel) Spilled() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spilled
}

// At returns the line with sequence number seq if it is still held.
func (m *TraceModel) At(seq uint64) (Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.atLocked(seq)
}

func (m *TraceModel) atLocked(seq uint64) (Entry, bool) {
	if seq < m.firstLocked() || seq >= m.next {
		return Entry{}, false
	}
	i := seq - m.firstLocked()
	return m.ring[(m.start+int(i))%len(m.ring)], true
}

// Range calls fn for lines from seq on until fn returns false, holding the
// lock: fn must not call back into the model.
func (m *TraceModel) Range(seq uint64, fn func(seq uint64, e Entry) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq < m.firstLocked() {
		seq = m.firstLocked()
	}
	for ; seq < m.next; seq++ {
		e, _ := m.atLocked(seq)
		if !fn(seq, e) {
			return
		}
	}
}

// Snapshot copies the lines held, oldest first.
func (m *TraceModel) Snapshot() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Entry, 0, len(m.ring))
	out = append(out, m.ring[m.start:]...)
	return append(out, m.ring[:m.start]...)
}

// Selected is the selected line; ok is false when the trace is empty.
func (m *TraceModel) Selected() (seq uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sel, len(m.ring) > 0
}

// Following reports whether the selection sticks to the newest line.
func (m *TraceModel) Following() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.follow
}

// Select moves the selection to seq (clamped); selecting the newest line
// turns following on, anything else turns it off.
func (m *TraceModel) Select(seq uint64) {
	m.mu.Lock()
	if len(m.ring) == 0 {
		m.mu.Unlock()
		return
	}
	first := m.firstLocked()
	seq = max(first, min(seq, m.next-1))
	m.sel = seq
	m.follow = seq == m.next-1
	m.mu.Unlock()
	m.notify()
}

// Move moves the selection by delta lines.
func (m *TraceModel) Move(delta int) {
	m.mu.Lock()
	s := int64(m.sel) + int64(delta)
	m.mu.Unlock()
	if s < 0 {
		s = 0
	}
	m.Select(uint64(s))
}

// End selects the newest line and follows new ones.
func (m *TraceModel) End() {
	m.mu.Lock()
	n := m.next
	m.mu.Unlock()
	if n > 0 {
		m.Select(n - 1)
	}
}

// Notes explains the line seq (computed once, then cached while the line
// is held).
func (m *TraceModel) Notes(seq uint64) []explorer.Note {
	m.mu.Lock()
	if ns, ok := m.notes[seq]; ok {
		m.mu.Unlock()
		return ns
	}
	e, ok := m.atLocked(seq)
	ann := m.annotate
	m.mu.Unlock()
	if !ok || ann == nil {
		return nil
	}
	ns := ann(e.Event)
	m.mu.Lock()
	if seq >= m.firstLocked() {
		m.notes[seq] = ns
	}
	m.mu.Unlock()
	return ns
}

// SelectedNotes explains the selected line.
func (m *TraceModel) SelectedNotes() (Entry, []explorer.Note, bool) {
	seq, ok := m.Selected()
	if !ok {
		return Entry{}, nil, false
	}
	e, ok := m.At(seq)
	if !ok {
		return Entry{}, nil, false
	}
	return e, m.Notes(seq), true
}
