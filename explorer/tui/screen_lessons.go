package tui

import "github.com/rivo/tview"

// lessonsPlaceholder stands in for the Lessons screen until the lessons
// package plugs its own Screen in through Options.Lessons.
type lessonsPlaceholder struct {
	a    *App
	text *tview.TextView
}

func newLessonsPlaceholder(a *App) *lessonsPlaceholder {
	t := tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	t.SetBorder(true).SetTitle(" lessons ").SetTitleAlign(tview.AlignLeft)
	t.SetText(a.tag("title") + "Lessons are coming." + a.th.reset() + "\n\n" +
		"A course that teaches SMTP, POP3 and mail DNS by doing, step by step against the lab, is being written.\n\n" +
		"Until then, learn by trying:\n" +
		"  1  Session: connect to the lab and press through a whole SMTP transaction\n" +
		"     with the palette of next commands; every line is explained.\n" +
		"  2  Mailboxes: see the message arrive in bob's mailbox.\n" +
		"  3  Server log: the same conversation from the server's side.\n" +
		"  4  Diagnose: the mail DNS of a domain.")
	return &lessonsPlaceholder{a: a, text: t}
}

func (l *lessonsPlaceholder) Name() string                  { return "Lessons" }
func (l *lessonsPlaceholder) Root() tview.Primitive         { return l.text }
func (l *lessonsPlaceholder) Focusables() []tview.Primitive { return []tview.Primitive{l.text} }
func (l *lessonsPlaceholder) Hints() []Hint {
	return []Hint{{"1", "start a session", func() { l.a.Show(0) }}}
}
