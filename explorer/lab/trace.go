package lab

import (
	"sync"
)

// TraceHub collects server-side trace events: it keeps the most recent ones
// in a ring and passes every event to subscribers. It implements TraceSink.
type TraceHub struct {
	mu   sync.Mutex
	ring []ServerEvent
	next int  // index of the next write
	full bool // the ring has wrapped
	subs fanout[ServerEvent]
}

// DefaultTraceCapacity is how many events a Lab's hub keeps.
const DefaultTraceCapacity = 10000

// NewTraceHub returns a hub that keeps the last capacity events.
func NewTraceHub(capacity int) *TraceHub {
	if capacity < 1 {
		capacity = 1
	}
	return &TraceHub{ring: make([]ServerEvent, capacity)}
}

// Emit records ev; it never blocks.
func (h *TraceHub) Emit(ev ServerEvent) {
	h.mu.Lock()
	h.ring[h.next] = ev
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	h.mu.Unlock()
	h.subs.publish(ev)
}

// Recent returns up to n of the latest events, oldest first (n <= 0: all kept).
func (h *TraceHub) Recent(n int) []ServerEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := h.next
	if h.full {
		size = len(h.ring)
	}
	if n <= 0 || n > size {
		n = size
	}
	out := make([]ServerEvent, n)
	start := h.next - n
	for i := range out {
		out[i] = h.ring[(start+i+len(h.ring))%len(h.ring)]
	}
	return out
}

// Subscribe calls fn for every event emitted from now on, in order, from a
// goroutine of its own, so a slow subscriber never slows a session; events
// beyond a backlog of 1024 are dropped for that subscriber. cancel stops it.
func (h *TraceHub) Subscribe(fn func(ServerEvent)) (cancel func()) {
	return h.subs.subscribe(fn)
}

// fanout delivers values to subscribers without blocking the publisher.
type fanout[T any] struct {
	mu   sync.Mutex
	subs map[*subscriber[T]]struct{}
}

type subscriber[T any] struct {
	ch   chan T
	done chan struct{}
}

const fanoutBacklog = 1024

func (f *fanout[T]) publish(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.ch <- v:
		default: // full: drop rather than block the session
		}
	}
}

func (f *fanout[T]) subscribe(fn func(T)) (cancel func()) {
	s := &subscriber[T]{ch: make(chan T, fanoutBacklog), done: make(chan struct{})}
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[*subscriber[T]]struct{})
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	go func() {
		for {
			select {
			case <-s.done:
				return
			case v := <-s.ch:
				select {
				case <-s.done:
					return
				default:
				}
				fn(v)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, s)
			f.mu.Unlock()
			close(s.done)
		})
	}
}
