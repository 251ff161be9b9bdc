package tui

import (
	"fmt"
	"sync"

	"github.com/rivo/tview"

	"postlab/explorer"
)

// serverLogScreen is screen 3: the lab's side of every session, live.
type serverLogScreen struct {
	a      *App
	root   *responsiveSplit
	trace  *TraceModel
	view   *TraceView
	notes  *NotesView
	cancel func()
	redraw func()

	mu   sync.Mutex
	open map[string]bool // the lab's client connections still open, by listener and session
}

func newServerLogScreen(a *App) *serverLogScreen {
	s := &serverLogScreen{a: a}
	s.trace = NewTraceModel(a.opts.TraceCapacity, a.opts.Annotate)
	s.view = NewTraceView(s.trace, a.th)
	s.view.SetBorder(true).SetTitle(" server log: what the lab saw ").SetTitleAlign(tview.AlignLeft)
	s.view.SetEmptyText("No server-side traffic yet. Connect from the Session screen (press 1)\nand the lab's side of the conversation appears here, line by line.")
	s.notes = NewNotesView(s.trace, a.th)
	s.notes.SetBorder(true).SetTitle(" note ").SetTitleAlign(tview.AlignLeft)
	s.notes.SetHint("Each line starts with the lab's session number and listener.")
	s.root = newResponsiveSplit(s.view, s.notes)
	var want boolFlag
	s.redraw = func() {
		if want.set() {
			a.QueueUpdateDraw(func() { want.clear() })
		}
	}
	return s
}

func (s *serverLogScreen) Name() string                  { return "Server log" }
func (s *serverLogScreen) Root() tview.Primitive         { return s.root }
func (s *serverLogScreen) Focusables() []tview.Primitive { return []tview.Primitive{s.view, s.notes} }
func (s *serverLogScreen) Hints() []Hint {
	return []Hint{{"↑↓", "select", nil}, {"End", "follow", s.trace.End}}
}

func serverEntry(l ServerLine) Entry {
	return Entry{Event: l.Event, Prefix: fmt.Sprintf("#%d %s", l.Session, l.Listener)}
}

// track follows which of the lab's client connections are open: a
// session's last line is in the closed phase (DNS queries are no
// connections). Any goroutine.
func (s *serverLogScreen) track(l ServerLine) {
	if l.Listener == "dns" {
		return
	}
	key := fmt.Sprintf("%s#%d", l.Listener, l.Session)
	s.mu.Lock()
	if l.Event.State.Phase == explorer.PhaseClosed {
		delete(s.open, key)
	} else {
		s.open[key] = true
	}
	s.mu.Unlock()
}

// openClients counts the lab's client connections open now.
func (s *serverLogScreen) openClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// labChanged shows a (re)started lab's recent traces and follows new ones.
func (s *serverLogScreen) labChanged(l Lab) {
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Lock()
	s.open = map[string]bool{}
	s.mu.Unlock()
	src := l.Traces()
	if src == nil {
		return
	}
	s.trace.Clear()
	// Subscribed before the recent lines are read, so no line falls
	// between the two (an open connection would be missed); lines in both
	// are taken once.
	var mu sync.Mutex
	var early []ServerLine
	replayed := false
	s.cancel = src.Subscribe(func(line ServerLine) {
		mu.Lock()
		if !replayed {
			early = append(early, line)
			mu.Unlock()
			return
		}
		mu.Unlock()
		s.track(line)
		s.trace.Append(serverEntry(line))
		s.redraw()
	})
	recent := src.Recent(1000)
	for _, line := range recent {
		s.track(line)
		s.trace.Append(serverEntry(line))
	}
	mu.Lock()
	for _, line := range early {
		if !seen(recent, line) {
			s.track(line)
			s.trace.Append(serverEntry(line))
		}
	}
	replayed = true
	mu.Unlock()
	s.a.mu.Lock()
	s.a.labSubs = append(s.a.labSubs, s.cancel)
	s.a.mu.Unlock()
}

// seen reports whether line is among lines (same session, listener and event).
func seen(lines []ServerLine, line ServerLine) bool {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if l.Session == line.Session && l.Listener == line.Listener && l.Event.Line == line.Event.Line && l.Event.Time.Equal(line.Event.Time) && l.Event.Dir == line.Event.Dir {
			return true
		}
	}
	return false
}

// remoteLab says the server log is out of reach while the app uses a
// teacher's lab ("" when it no longer does).
func (s *serverLogScreen) remoteLab(host string) {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.mu.Lock()
	s.open = map[string]bool{}
	s.mu.Unlock()
	s.trace.Clear()
	if host != "" {
		s.view.SetEmptyText("The server log is available only with a local lab. This app uses the\nteacher's lab at " + host + ": the server's side of your sessions stays there.")
	} else {
		s.view.SetEmptyText("No server-side traffic yet. Connect from the Session screen (press 1)\nand the lab's side of the conversation appears here, line by line.")
	}
}
