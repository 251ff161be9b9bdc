package tui

import (
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// NotesView shows the notes of a TraceModel's selected line and follows
// the selection: it re-renders when the selection changes, at draw time.
type NotesView struct {
	*tview.TextView
	model   *TraceModel
	th      theme
	shown   uint64
	shownOK bool
	hint    string
}

// NewNotesView follows model's selection.
func NewNotesView(model *TraceModel, th theme) *NotesView {
	v := &NotesView{TextView: tview.NewTextView(), model: model, th: th}
	v.SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	return v
}

// SetHint is shown while nothing is selected.
func (v *NotesView) SetHint(s string) { v.hint = s; v.shownOK = false }

// Draw refreshes the text when the selection moved, then draws.
func (v *NotesView) Draw(screen tcell.Screen) {
	seq, ok := v.model.Selected()
	if ok != v.shownOK || seq != v.shown || !ok {
		v.shown, v.shownOK = seq, ok
		v.SetText(v.render())
		v.ScrollToBeginning()
	}
	v.TextView.Draw(screen)
}

func (v *NotesView) render() string {
	e, notes, ok := v.model.SelectedNotes()
	if !ok {
		return v.hint
	}
	return renderNotes(v.th, e, notes)
}

// renderNotes is the note pane's text for one line (tview tags; all
// outside text escaped).
func renderNotes(th theme, e Entry, notes []explorer.Note) string {
	var b strings.Builder
	ev := e.Event
	where := map[explorer.Direction]string{explorer.ClientToServer: "sent by the client", explorer.ServerToClient: "sent by the server", explorer.Local: "observed locally"}[ev.Dir]
	if where == "" {
		where = string(ev.Dir)
	}
	tls := "in clear text"
	if ev.TLS {
		tls = "inside TLS"
	}
	fmt.Fprintf(&b, "%s%s%s  %s, %s", th.tag("dim"), ev.Time.Format("15:04:05.000"), th.reset(), where, tls)
	if ev.State.Phase != "" {
		fmt.Fprintf(&b, ", state %s", tview.Escape(string(ev.State.Phase)))
	}
	b.WriteString("\n")
	if len(notes) == 0 {
		fmt.Fprintf(&b, "%sNo note for this line.%s", th.tag("dim"), th.reset())
	}
	for i, n := range notes {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s%s%s", th.tag("title"), tview.Escape(n.Title), th.reset())
		if n.Ref != "" {
			fmt.Fprintf(&b, "  %s(%s)%s", th.tag("dim"), tview.Escape(n.Ref), th.reset())
		}
		b.WriteString("\n")
		if n.Detail != "" {
			b.WriteString(tview.Escape(n.Detail))
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
