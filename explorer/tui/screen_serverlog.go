package tui

import (
	"fmt"

	"github.com/rivo/tview"
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

// labChanged shows a (re)started lab's recent traces and follows new ones.
func (s *serverLogScreen) labChanged(l Lab) {
	if s.cancel != nil {
		s.cancel()
	}
	src := l.Traces()
	if src == nil {
		return
	}
	s.trace.Clear()
	for _, line := range src.Recent(1000) {
		s.trace.Append(serverEntry(line))
	}
	s.cancel = src.Subscribe(func(line ServerLine) {
		s.trace.Append(serverEntry(line))
		s.redraw()
	})
	s.a.mu.Lock()
	s.a.labSubs = append(s.a.labSubs, s.cancel)
	s.a.mu.Unlock()
}

// remoteLab says the server log is out of reach while the app uses a
// teacher's lab ("" when it no longer does).
func (s *serverLogScreen) remoteLab(host string) {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.trace.Clear()
	if host != "" {
		s.view.SetEmptyText("The server log is available only with a local lab. This app uses the\nteacher's lab at " + host + ": the server's side of your sessions stays there.")
	} else {
		s.view.SetEmptyText("No server-side traffic yet. Connect from the Session screen (press 1)\nand the lab's side of the conversation appears here, line by line.")
	}
}
