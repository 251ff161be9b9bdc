package explorer

import (
	"context"
	"sync"
	"time"
)

// IdleWatch shows what the server sends while a line-mode session waits
// for the user: a 421 before an idle timeout (RFC 5321 §3.8, §4.5.3.2), a
// POP3 server's last -ERR before its autologout timer closes the
// connection (RFC 1939 §3), or the connection simply ending. Replies are
// otherwise read only after a command, so without a watch such a line
// would appear when the user next types something.
//
// The watch peeks at the connection; Stop interrupts the peek with a read
// deadline in the past (which crypto/tls and net survive) and waits for
// the watch to end, so that only one goroutine ever reads. Data already
// buffered when the watch starts is unprompted too (every reply due has
// been read); data that arrives just as Stop is called is left for the
// next reply read.
type IdleWatch struct {
	s    *Session
	mu   sync.Mutex
	stop bool // Stop was called
	busy bool // reading a reply: Stop waits instead of interrupting
	done chan struct{}
	err  error
}

// Done is closed when the watch ends by itself: the server closed the
// session (421, the connection ending) or Stop was called.
func (w *IdleWatch) Done() <-chan struct{} { return w.done }

// Err is the first error of an unprompted reply: a network error that
// ended the watch or a malformed line. Call it after Done or Stop.
func (w *IdleWatch) Err() error { return w.err }

// Stop ends the watch and waits for it; the caller may then send.
func (w *IdleWatch) Stop() {
	w.mu.Lock()
	w.stop = true
	if !w.busy {
		w.s.conn.SetReadDeadline(time.Unix(1, 0))
	}
	w.mu.Unlock()
	<-w.done
}

// watchIdle starts a watch that reads unprompted replies with read.
func (s *Session) watchIdle(ctx context.Context, read func(context.Context) error) *IdleWatch {
	w := &IdleWatch{s: s, done: make(chan struct{})}
	if s.broken != nil || s.Closed() {
		close(w.done)
		return w
	}
	go w.run(ctx, read)
	return w
}

func (w *IdleWatch) run(ctx context.Context, read func(context.Context) error) {
	defer close(w.done)
	s := w.s
	for {
		w.mu.Lock()
		if w.stop {
			w.mu.Unlock()
			return
		}
		s.conn.SetReadDeadline(time.Time{})
		w.mu.Unlock()
		_, err := s.br.Peek(1)
		w.mu.Lock()
		if w.stop || s.Closed() {
			w.mu.Unlock()
			return
		}
		w.busy = true
		w.mu.Unlock()
		if err != nil {
			// The connection ended without a word (or broke).
			w.err = s.netErr(ctx, "read", err)
			return
		}
		s.note("the server sent this without being asked (unprompted)")
		err = read(ctx)
		w.mu.Lock()
		w.busy = false
		w.mu.Unlock()
		if err != nil && w.err == nil {
			w.err = err
		}
		if s.broken != nil || s.Closed() {
			return
		}
	}
}

// WatchIdle watches for replies the server sends without a command (a 421
// before closing) and records them as they come; see IdleWatch.
func (c *SMTPSession) WatchIdle(ctx context.Context) *IdleWatch {
	return c.watchIdle(ctx, func(ctx context.Context) error {
		prev := c.State().Command
		c.update(func(s *State) { s.Command = "" }) // it answers no command
		_, err := c.readReply(ctx)
		c.update(func(s *State) {
			if s.Command == "" {
				s.Command = prev // DATA content goes on after a stray line
			}
		})
		return err
	})
}

// WatchIdle watches for responses the server sends without a command (a
// last -ERR before an autologout) and records them as they come.
func (c *POP3Session) WatchIdle(ctx context.Context) *IdleWatch {
	return c.watchIdle(ctx, func(ctx context.Context) error {
		prev := c.State().Command
		c.update(func(s *State) { s.Command = "" })
		_, err := c.readResponse(ctx, "", false)
		c.update(func(s *State) {
			if s.Command == "" {
				s.Command = prev
			}
		})
		return err
	})
}
