package tui

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
	"postlab/lessons"
	"postlab/lessons/lablink"
)

// lessonsScreen is screen 5: the course with progress; an open lesson sits
// beside the Session screen's trace and command line, so a student reads a
// step, types, and sees its check marks appear as the lab and the session
// report what happened.
type lessonsScreen struct {
	a     *App
	left  bool // the open lesson's faults were switched off on leaving it
	model *lessons.Model
	err   string // the course could not be loaded

	root  *tview.Pages // "list" or "lesson"
	list  *tview.Table
	about *tview.TextView
	items []lessons.Item

	split   *responsiveSplit
	text    *mdView
	mirror  *tview.Pages // the session: "connect" (a preset list) or "session"
	presets *tview.List

	mu        sync.Mutex
	runner    *lessons.Runner
	stops     []func()
	observers map[uint64]func(explorer.Event)
	redraw    boolFlag
}

func newLessonsScreen(a *App, course *lessons.Course, loadErr error) *lessonsScreen {
	ls := &lessonsScreen{a: a, root: tview.NewPages(), observers: map[uint64]func(explorer.Event){}}
	if loadErr != nil {
		ls.err = oneLine(loadErr.Error())
	}
	if course != nil {
		m, err := lessons.NewModel(course, a.opts.DataDir)
		if err != nil {
			ls.err = "lesson progress: " + oneLine(err.Error())
			m, _ = lessons.NewModel(course, "")
		}
		ls.model = m
	}

	ls.list = tview.NewTable().SetSelectable(true, false).SetFixed(1, 0)
	ls.list.SetSelectedStyle(a.th.sel)
	ls.list.SetBorder(true).SetTitle(" lessons ").SetTitleAlign(tview.AlignLeft)
	ls.list.SetSelectionChangedFunc(func(row, _ int) { ls.showAbout(row - 1) })
	ls.list.SetSelectedFunc(func(row, _ int) {
		if row >= 1 && row-1 < len(ls.items) {
			ls.open(ls.items[row-1].ID)
		}
	})
	ls.about = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	ls.about.SetBorder(true).SetTitleAlign(tview.AlignLeft)
	listPage := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(ls.list, 0, 2, true).AddItem(ls.about, 4, 0, false)
	ls.root.AddPage("list", listPage, true, true)

	ls.text = newMDView(ls.renderStep)
	ls.text.mode = a.typingChrome // the keys it names depend on the focus
	ls.text.SetBorder(true).SetTitleAlign(tview.AlignLeft)
	s := a.session
	ls.presets = tview.NewList().ShowSecondaryText(false).SetHighlightFullLine(true)
	ls.presets.SetSelectedStyle(a.th.sel).SetMainTextStyle(a.th.base)
	ls.presets.SetBorder(true).SetTitle(" not connected: Enter opens a session ").SetTitleAlign(tview.AlignLeft)
	for i, p := range presets {
		i := i
		label := p.label
		if p.listener == "" {
			label = "another server… (the Session screen's form)"
		}
		ls.presets.AddItem(tview.Escape(label), "", 0, func() { ls.connectPreset(i) })
	}
	inner := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(s.view, 0, 1, false).
		AddItem(s.notes, 0, 0, false).
		AddItem(s.palette, 1, 0, false).
		AddItem(&pasteLines{s.cmd, s.Send, s.challenged}, 1, 0, true)
	inner.SetInputCapture(s.sessionKeys)
	// The notes of the selected line join the trace when there is room.
	sessionPane := &beforeDraw{Flex: inner, fn: func(_, h int) {
		if h >= 24 {
			inner.ResizeItem(s.notes, min(10, h/3), 0)
		} else {
			inner.ResizeItem(s.notes, 0, 0)
		}
	}}
	ls.mirror = tview.NewPages()
	ls.mirror.AddPage("connect", ls.presets, true, true)
	ls.mirror.AddPage("session", sessionPane, true, false)
	ls.split = newResponsiveSplit(ls.text, ls.mirror)
	ls.split.sideShare = true
	ls.root.AddPage("lesson", ls.split, true, false)

	s.onPage = func(name string) {
		if ls.mirrorName() != name {
			ls.mirror.SwitchToPage(name)
		}
		if name == "connect" {
			ls.presets.SetCurrentItem(0) // each time from the top
		}
	}
	a.SubscribeSession(ls.observe)
	if ls.model != nil {
		ls.model.SetVars(ls.labVars()) // the data dir's certificate before any lab runs
		ls.model.Subscribe(func() {
			if ls.redraw.set() {
				a.QueueUpdateDraw(func() { ls.redraw.clear(); ls.refresh() })
			}
		})
	}
	ls.refreshList()
	return ls
}

func (ls *lessonsScreen) Name() string          { return "Lessons" }
func (ls *lessonsScreen) Root() tview.Primitive { return ls.root }

func (ls *lessonsScreen) mirrorName() string { n, _ := ls.mirror.GetFrontPage(); return n }

// hosting reports whether an open lesson shows the session beside it.
func (ls *lessonsScreen) hosting() bool {
	n, _ := ls.root.GetFrontPage()
	return n == "lesson" && ls.a.current == ls.a.lessonsIndex()
}

func (ls *lessonsScreen) Focusables() []tview.Primitive {
	if !ls.lessonOpen() {
		return []tview.Primitive{ls.list}
	}
	if ls.mirrorName() == "connect" {
		return []tview.Primitive{ls.text, ls.presets}
	}
	s := ls.a.session
	return []tview.Primitive{ls.text, s.cmd, s.view, s.palette}
}

func (ls *lessonsScreen) lessonOpen() bool {
	n, _ := ls.root.GetFrontPage()
	return n == "lesson"
}

func (ls *lessonsScreen) Hints() []Hint {
	if ls.lessonOpen() && ls.a.typingChrome() {
		return []Hint{{"Alt-n/p", "step", ls.next}, {"Alt-h", "hint", ls.hint}, {"PgUp/Dn", "read", nil}}
	}
	if !ls.lessonOpen() {
		return []Hint{{"Enter", "open lesson", func() {
			row, _ := ls.list.GetSelection()
			if row >= 1 && row-1 < len(ls.items) {
				ls.open(ls.items[row-1].ID)
			}
		}}}
	}
	r := ls.current()
	if r == nil {
		return nil
	}
	v := r.View()
	hs := []Hint{{"n/p", "step", ls.next}}
	if v.HintsLeft > 0 {
		hs = append(hs, Hint{"h", "hint", ls.hint})
	}
	if q := openQuestion(v); q != nil {
		hs = append(hs, Hint{"a", "answer", ls.answer})
	}
	local := ls.a.localLab() != nil // a teacher's lab is not ours to reset
	if local && len(resetUsers(r.Lesson())) > 0 {
		hs = append(hs, Hint{"R", "reset mailbox", ls.askReset})
	}
	if local && len(v.Lab) > 0 {
		hs = append(hs, Hint{"s", "set up lab", ls.prepare})
	}
	return append(hs, Hint{"l", "list", ls.backToList})
}

// Activated refreshes the list when the screen is shown.
func (ls *lessonsScreen) Activated() {
	ls.refresh()
	if ls.lessonOpen() {
		ls.mirror.SwitchToPage(ls.a.session.pageName())
		if ls.left {
			ls.left = false
			ls.prepareQuiet() // the step's faults again, as they were
		}
	}
}

// leave switches the lesson's faults off when the student leaves it (for
// the list or another screen): a lab that misbehaves elsewhere confuses.
func (ls *lessonsScreen) leave() {
	ls.left = true
	if l := ls.a.localLab(); l != nil {
		l.SetScenario("")
		l.SetDNSFaults(nil)
	}
}

// keys are the lesson page's own keys: plain letters when no text field
// has the focus, Alt+letter anywhere (also from the command line).
func (ls *lessonsScreen) capture(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() != tcell.KeyRune {
		if (ev.Key() == tcell.KeyPgUp || ev.Key() == tcell.KeyPgDn) && ls.lessonOpen() && ls.a.tv.GetFocus() == ls.a.session.cmd {
			// The command line has no use for them: they page the lesson.
			ls.text.InputHandler()(ev, func(p tview.Primitive) {})
			return nil
		}
		if ev.Key() == tcell.KeyEscape && ls.lessonOpen() && ls.a.tv.GetFocus() != ls.text && !ls.a.Busy() {
			ls.a.tv.SetFocus(ls.text)
			return nil
		}
		return ev
	}
	if !ls.lessonOpen() {
		return ev
	}
	alt := ev.Modifiers()&tcell.ModAlt != 0
	if !alt && ls.a.typing() {
		return ev
	}
	if !alt {
		if _, ok := ls.a.tv.GetFocus().(*Palette); ok {
			return ev
		}
	}
	switch ev.Rune() {
	case 'n':
		ls.next()
	case 'p':
		ls.prev()
	case 'h':
		ls.hint()
	case 'a':
		ls.answer()
	case 'R':
		ls.askReset()
	case 'r':
		// A stray r (raw/parsed on the Mailboxes screen) deletes nothing.
		if r := ls.current(); r != nil && len(resetUsers(r.Lesson())) > 0 {
			ls.a.setStatus("Shift-R resets the lesson's lab mailbox, after asking.", false)
		} else {
			return ev
		}
	case 's':
		ls.prepare()
	case 'l':
		if alt {
			// Alt-l is the app's key for the lab (Alt-L without Shift).
			return ev
		}
		ls.backToList()
	default:
		return ev
	}
	return nil
}

func (ls *lessonsScreen) current() *lessons.Runner {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.runner
}

// refreshList reloads the course list with progress.
func (ls *lessonsScreen) refreshList() {
	t := ls.list
	t.Clear()
	head := func(s string) *tview.TableCell {
		return tview.NewTableCell(ls.a.tag("label") + s + ls.a.th.reset()).SetSelectable(false)
	}
	t.SetCell(0, 0, head(" #")).SetCell(0, 1, head("lesson")).SetCell(0, 2, head("progress")).SetCell(0, 3, head("min"))
	if ls.model == nil {
		ls.items = nil
		ls.about.SetTitle(" course ")
		ls.about.SetText(ls.a.tag("err") + "The course could not be loaded: " + tview.Escape(ls.err) + ls.a.th.reset())
		return
	}
	ls.items = ls.model.List()
	for i, it := range ls.items {
		prog := ls.a.tag("dim") + "new" + ls.a.th.reset()
		switch it.Status {
		case "done":
			prog = ls.a.tag("ok") + "✔ done" + ls.a.th.reset()
		case "started":
			prog = fmt.Sprintf("%d/%d steps", it.Passed, it.Steps)
		}
		t.SetCell(i+1, 0, tview.NewTableCell(fmt.Sprintf("%2d", i+1)))
		t.SetCell(i+1, 1, tview.NewTableCell(tview.Escape(it.Title)).SetExpansion(1).SetMaxWidth(60))
		t.SetCell(i+1, 2, tview.NewTableCell(prog))
		t.SetCell(i+1, 3, tview.NewTableCell(strconv.Itoa(it.Minutes)).SetAlign(tview.AlignRight))
	}
	done := 0
	for _, it := range ls.items {
		if it.Status == "done" {
			done++
		}
	}
	t.SetTitle(fmt.Sprintf(" lessons: %d of %d done (Enter opens) ", done, len(ls.items)))
	row, _ := t.GetSelection()
	if row < 1 && len(ls.items) > 0 {
		t.Select(1, 0)
		row = 1
	}
	ls.showAbout(row - 1)
}

func (ls *lessonsScreen) showAbout(i int) {
	if i < 0 || i >= len(ls.items) {
		return
	}
	it := ls.items[i]
	ls.about.SetTitle(fmt.Sprintf(" %s · %d steps · about %d min ", tview.Escape(it.ID), it.Steps, it.Minutes))
	var b strings.Builder
	b.WriteString(tview.Escape(it.Summary))
	if len(it.Requires) > 0 {
		fmt.Fprintf(&b, "\n%sdo first: %s", ls.a.tag("dim"), tview.Escape(strings.Join(it.Requires, ", ")))
		if !it.Ready {
			b.WriteString(" (not done yet, but you may start)")
		}
		b.WriteString(ls.a.th.reset())
	}
	if ls.err != "" {
		b.WriteString("\n" + ls.a.tag("err") + tview.Escape(ls.err) + ls.a.th.reset())
	}
	ls.about.SetText(b.String())
}

// refresh redraws whatever page is shown (UI goroutine).
func (ls *lessonsScreen) refresh() {
	if ls.lessonOpen() {
		ls.text.dirty = true
	}
	ls.refreshList()
}

// open starts lesson id beside the session.
func (ls *lessonsScreen) open(id string) {
	if ls.model == nil {
		return
	}
	r, err := ls.model.Open(id)
	if err != nil {
		ls.a.setStatus(err.Error(), true)
		return
	}
	ls.attach(r)
	ls.root.SwitchToPage("lesson")
	ls.mirror.SwitchToPage(ls.a.session.pageName())
	ls.text.ScrollToBeginning()
	ls.text.dirty = true
	ls.a.Show(ls.a.lessonsIndex())
	ls.a.tv.SetFocus(ls.text)
	ls.a.setStatus("Read the step, act in the session (Tab goes there); n next step", false)
	ls.prepareQuiet()
}

// attach makes r the runner fed by the lab and the app's sessions.
func (ls *lessonsScreen) attach(r *lessons.Runner) {
	ls.mu.Lock()
	for _, s := range ls.stops {
		s()
	}
	ls.stops = nil
	ls.runner = r
	ls.observers = map[uint64]func(explorer.Event){}
	ls.mu.Unlock()
	if r == nil {
		return
	}
	var want boolFlag
	stop := r.Subscribe(func() {
		if want.set() {
			ls.a.QueueUpdateDraw(func() {
				want.clear()
				ls.text.dirty = true
			})
		}
	})
	stops := []func(){stop}
	if l := ls.a.localLab(); l != nil {
		stops = append(stops, lablink.Feed(r, l))
	}
	ls.mu.Lock()
	ls.stops = stops
	ls.mu.Unlock()
}

// labChanged gives the model the lab (nil: none or a remote one) and
// reopens the lesson so its runner uses it.
func (ls *lessonsScreen) labChanged() {
	if ls.model == nil {
		return
	}
	if l := ls.a.localLab(); l != nil {
		ls.model.SetLab(lablink.Mailboxes(l), lablink.Control(l))
	} else {
		ls.model.SetLab(nil, nil)
	}
	ls.model.SetVars(ls.labVars())
	if r := ls.current(); r != nil {
		if nr, err := ls.model.Open(r.Lesson().ID); err == nil {
			ls.attach(nr)
			ls.text.dirty = true
		}
	}
}

// observe passes the app's own session events to the runner, one
// observer per connection.
func (ls *lessonsScreen) observe(conn uint64, ev explorer.Event) {
	ls.mu.Lock()
	r := ls.runner
	if r == nil {
		ls.mu.Unlock()
		return
	}
	obs := ls.observers[conn]
	fresh := obs == nil
	if fresh {
		obs = lablink.SessionObserver(r, ls.a.labListener(ls.a.session.connTarget()))
		ls.observers[conn] = obs
	}
	ls.mu.Unlock()
	obs(ev)
	if fresh || ev.State.Phase == explorer.PhaseClosed {
		// The lab warning names the session's server.
		ls.a.QueueUpdateDraw(func() { ls.text.dirty = true })
	}
}

func (ls *lessonsScreen) backToList() {
	ls.leave()
	ls.root.SwitchToPage("list")
	ls.refreshList()
	ls.a.Show(ls.a.lessonsIndex())
}

func (ls *lessonsScreen) next() {
	if r := ls.current(); r != nil {
		if !r.Next(context.Background()) {
			if r.View().Done {
				ls.a.setStatus("Lesson done. l goes back to the list for the next one.", false)
			} else {
				ls.a.setStatus("This is the last step; p goes back to steps not passed yet.", false)
			}
		}
		ls.text.ScrollToBeginning()
		ls.text.dirty = true
	}
}

func (ls *lessonsScreen) prev() {
	if r := ls.current(); r != nil {
		r.Prev(context.Background())
		ls.text.ScrollToBeginning()
		ls.text.dirty = true
	}
}

func (ls *lessonsScreen) hint() {
	r := ls.current()
	if r == nil {
		return
	}
	if _, ok := r.Hint(); !ok {
		ls.a.setStatus("No more hints for this step.", false)
		return
	}
	ls.text.dirty = true
	ls.text.scrollToHints = true
	ls.a.setStatus(fmt.Sprintf("Hint %d is in the lesson pane; PgUp goes back to the step.", len(r.View().Hints)), false)
}

// labWarning says why the checks cannot see the student's work: this app
// runs no lab (checks read the lab's side), or the session goes to a lab
// that is not this app's (another postlab's, on the same ports). "" when
// they can.
func (ls *lessonsScreen) labWarning() string {
	a := ls.a
	if a.labHost() != "" {
		return "" // a teacher's lab: the checks follow it
	}
	var out []string
	if a.Lab() == nil {
		a.mu.Lock()
		down, free := a.labDown, a.labFree
		a.mu.Unlock()
		if down == "" {
			return "" // starting
		}
		m := "Checks need this app's lab, not running: " + down + "."
		if free {
			m += " Press L to start it on free ports."
		}
		out = append(out, m)
	}
	if t, live := a.liveSession(); live && a.labListener(t) == "" {
		m := "Your session is with " + t.Addr() + ", not this app's lab"
		if l := a.Lab(); l != nil {
			m += " (smtp " + l.Addr("smtp") + "): checks do not see it. Ctrl-N connects again."
		} else {
			m += "."
		}
		out = append(out, m)
	}
	return strings.Join(out, " ")
}

// resetUsers are the lab users whose mailboxes a reset of lesson l
// empties, in order.
func resetUsers(l *lessons.Lesson) []string {
	var users []string
	if l.Mailbox != "" {
		users = append(users, l.Mailbox)
	}
	for _, s := range l.Seeds {
		if !slices.Contains(users, s.User) {
			users = append(users, s.User)
		}
	}
	return users
}

// askReset asks before a reset: it deletes mail. The question names the
// mailboxes and what they hold now.
func (ls *lessonsScreen) askReset() {
	r := ls.current()
	if r == nil {
		return
	}
	l := r.Lesson()
	lab := ls.a.localLab()
	if lab == nil {
		ls.a.setStatus("Resetting a mailbox works only with a local lab (this app's own).", true)
		return
	}
	users := resetUsers(l)
	if len(users) == 0 {
		ls.a.setStatus("This lesson has no lab mailbox to reset.", false)
		return
	}
	var boxes []string
	for _, u := range users {
		box := u + "'s lab mailbox"
		if ms, err := lab.Store().List(u); err == nil {
			box += " (" + plural(len(ms), "message") + " now)"
		}
		boxes = append(boxes, box)
	}
	q := "Delete every message in " + strings.Join(boxes, " and in ") + "?"
	if n := len(l.Seeds); n > 0 {
		q += fmt.Sprintf(" Then lesson %d delivers %s.", l.Order, plural(n, "practice message"))
	}
	ls.a.ask("reset", "reset the lab mailbox", q, "delete", ls.resetLab, "Nothing deleted.")
}

// resetLab empties the lesson's mailboxes and delivers its practice mail.
func (ls *lessonsScreen) resetLab() {
	r := ls.current()
	if r == nil {
		return
	}
	l := r.Lesson()
	if ls.a.localLab() == nil {
		ls.a.setStatus("Resetting a mailbox works only with a local lab (this app's own).", true)
		return
	}
	users := resetUsers(l)
	boxes := strings.Join(users, "'s and ") + "'s lab mailbox"
	if len(users) > 1 {
		boxes += "es"
	}
	ls.a.Go("resetting "+boxes, func(ctx context.Context) error {
		return r.ResetLab(ctx)
	}, func(err error) {
		if err == nil {
			msg := boxes + " is empty again"
			if len(users) > 1 {
				msg = boxes + " are empty again"
			}
			if n := len(l.Seeds); n > 0 {
				msg = fmt.Sprintf("%s reset: %s delivered", boxes, plural(n, "practice message"))
			}
			ls.a.setStatus(msg, false)
		}
	})
}

// prepare applies the step's lab set-up (fault scenario, DNS faults).
func (ls *lessonsScreen) prepare() {
	r := ls.current()
	if r == nil {
		return
	}
	if ls.a.localLab() == nil {
		ls.a.setStatus("Lab set-up works only with a local lab (this app's own).", true)
		return
	}
	v := r.View()
	ls.a.Go("setting the lab up", func(ctx context.Context) error {
		return r.Prepare(ctx)
	}, func(err error) {
		if err != nil {
			return
		}
		var parts []string
		for _, x := range v.Lab {
			parts = append(parts, x.Kind+" "+x.Arg)
		}
		if len(parts) == 0 {
			ls.a.setStatus("This step needs no lab set-up; the lab runs normally.", false)
		} else {
			ls.a.setStatus("lab set up: "+strings.Join(parts, ", "), false)
		}
	})
}

// prepareQuiet applies the set-up on opening a lesson; problems show in
// the lesson pane, not as an error.
func (ls *lessonsScreen) prepareQuiet() {
	r := ls.current()
	if r == nil || ls.a.localLab() == nil {
		return
	}
	go r.Prepare(context.Background())
}

func openQuestion(v lessons.View) *lessons.Question {
	for _, c := range v.Checks {
		if c.Question != nil && !c.Passed {
			return c.Question
		}
	}
	return nil
}

// answer opens a form for the step's first open question.
func (ls *lessonsScreen) answer() {
	r := ls.current()
	if r == nil {
		return
	}
	q := openQuestion(r.View())
	if q == nil {
		ls.a.setStatus("This step asks no open question.", false)
		return
	}
	back := ls.a.tv.GetFocus() // where the student was: the command line, often
	give := func(ans, shown string) {
		ls.a.closeDialog()
		ok, err := r.Answer(q.ID, ans)
		switch {
		case err != nil:
			ls.a.setStatus(err.Error(), true)
		case ok:
			ls.a.setStatus("Right: "+shown, false)
		default:
			ls.a.setStatus("Not quite ("+shown+"). Try again; "+ls.keyFrom(back, "h")+" shows a hint.", true)
		}
		ls.text.dirty = true
		ls.a.tv.SetFocus(back)
	}
	title := tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	title.SetText(ls.a.tag("title") + tview.Escape(q.Text) + ls.a.th.reset())
	box := tview.NewFlex().SetDirection(tview.FlexRow)
	box.SetBorder(true).SetTitle(" answer (Esc closes) ").SetTitleAlign(tview.AlignLeft)
	lines := (len([]rune(q.Text)) + 53) / 54
	box.AddItem(title, lines, 0, false)
	var focus tview.Primitive
	height := lines + 3
	if len(q.Choices) > 0 {
		list := tview.NewList().ShowSecondaryText(false).SetHighlightFullLine(true)
		list.SetSelectedStyle(ls.a.th.sel).SetMainTextStyle(ls.a.th.base)
		for i, c := range q.Choices {
			letter := string(rune('a' + i))
			list.AddItem(tview.Escape(c), "", rune('a'+i), func() { give(letter, c) })
		}
		box.AddItem(list, len(q.Choices), 0, true)
		height += len(q.Choices)
		focus = list
	} else {
		in := tview.NewInputField().SetLabel("Your answer: ")
		in.SetFieldStyle(tcell.StyleDefault.Underline(true)).SetLabelStyle(ls.a.th.label)
		in.SetDoneFunc(func(k tcell.Key) {
			if k == tcell.KeyEnter && strings.TrimSpace(in.GetText()) != "" {
				give(strings.TrimSpace(in.GetText()), strings.TrimSpace(in.GetText()))
			}
		})
		box.AddItem(in, 1, 0, true)
		height++
		focus = in
	}
	// A Flex leaves rows it does not fill unpainted: the screen behind
	// would show through.
	box.AddItem(tview.NewBox(), 0, 1, false)
	ls.a.showDialog("answer", box, 60, height, focus)
}

// connectPreset opens a session from the list shown while not connected.
func (ls *lessonsScreen) connectPreset(i int) {
	f := ls.a.session.form
	f.preset.SetCurrentOption(i)
	p := presets[i]
	if p.listener == "" || (p.user != "" && ls.a.labHost() != "") {
		// Another server, or a login on the teacher's lab: the form asks
		// for what a preset cannot know (your own password).
		ls.a.Show(0)
		ls.a.session.setPage("connect")
		ls.a.Show(0)
		if p.listener != "" {
			f.form.SetFocus(5) // User
			ls.a.tv.SetFocus(f.form)
			ls.a.setStatus("Type your account and password, then Enter; 5 returns to the lesson.", false)
		}
		return
	}
	f.submit()
}

// labVars are the values of the lessons' placeholders: where the lab in
// use listens, and its certificate.
func (ls *lessonsScreen) labVars() lessons.Vars {
	v := lessons.Vars{Ports: map[string]int{}}
	if h := ls.a.labHost(); h != "" {
		// A teacher's lab: the default ports, the cert.pem handed out.
		v.Host, v.CA = h, "cert.pem"
		return v
	}
	if d := ls.a.opts.DataDir; d != "" {
		v.CA = lessons.ShortHome(filepath.Join(d, "tls", "cert.pem"))
	}
	if l := ls.a.Lab(); l != nil {
		for _, n := range lessons.Listeners {
			host, port, err := net.SplitHostPort(l.Addr(n))
			if err != nil {
				continue // off: the text keeps the default
			}
			if p, err := strconv.Atoi(port); err == nil {
				v.Ports[n] = p
			}
			if v.Host == "" {
				v.Host = host
			}
		}
	}
	return v
}

// labDefaults are the ports a lesson written without placeholders names.
var labDefaults = lessons.DefaultVars()

// portsNote says where the lab really listens when the lesson writes the
// default ports out (a lesson without placeholders) and the lab is on
// others: "" otherwise, the course's lessons follow the lab by themselves.
func (ls *lessonsScreen) portsNote(lesson *lessons.Lesson) string {
	l := ls.a.Lab()
	if l == nil {
		return ""
	}
	var diff []string
	for _, n := range lessons.Listeners {
		def := strconv.Itoa(labDefaults.Ports[n])
		_, port, err := net.SplitHostPort(l.Addr(n))
		if err == nil && port != def && lesson.NamesLiterally(def) {
			diff = append(diff, n+" "+port)
		}
	}
	if len(diff) == 0 {
		return ""
	}
	return "ports here (not as the text says): " + strings.Join(diff, ", ")
}

// keyFrom names the lesson key k as pressed with the focus on p: a text
// field (the command line) types plain letters, Alt+letter works there.
func (ls *lessonsScreen) keyFrom(p tview.Primitive, k string) string {
	switch p.(type) {
	case *tview.InputField, *tview.TextArea:
		return "Alt-" + k
	}
	return k
}

// renderStep draws the lesson pane for a width (UI goroutine).
func (ls *lessonsScreen) renderStep(width int) string {
	r := ls.current()
	if r == nil {
		return ""
	}
	// Drawn under the app's lock: the focus is read as the hints read it.
	key := func(k string) string { return k }
	list := "l"
	if ls.a.typingChrome() {
		key = func(k string) string { return "Alt-" + k }
		list = "Esc, then l" // Alt-l is the lab's key
	}
	v := r.View()
	th := ls.a.th
	t := ls.a.tag
	var b strings.Builder
	ls.text.SetTitle(fmt.Sprintf(" lesson %d: %s ", r.Lesson().Order, tview.Escape(v.LessonTitle)))
	var dots strings.Builder
	for i, s := range v.Steps {
		switch {
		case s.Status == lessons.StepPassed:
			dots.WriteString(t("ok") + "✔" + th.reset())
		case i == v.Step:
			dots.WriteString(t("title") + "▶" + th.reset())
		default:
			dots.WriteString("○")
		}
	}
	// Lines written here are wrapped here too, so that a row of the pane
	// is a line of the text (hintRow counts on it).
	line := func(text string) {
		for _, l := range tview.WordWrap(text, max(1, width)) {
			b.WriteString(strings.TrimRight(l, " ") + "\n")
		}
	}
	if note := ls.portsNote(r.Lesson()); note != "" {
		line(t("warn") + tview.Escape(note) + th.reset())
	}
	line(fmt.Sprintf("%s  %sStep %d of %d: %s%s", dots.String(), t("title"), v.Step+1, len(v.Steps), tview.Escape(v.Title), th.reset()))
	if warn := ls.labWarning(); warn != "" {
		line(t("warn") + "⚠ " + tview.Escape(warn) + th.reset())
	}
	passed := 0
	for _, c := range v.Checks {
		if c.Passed {
			passed++
		}
	}
	if key := fmt.Sprintf("%s/%d", v.LessonID, v.Step); key == ls.text.shownStep && passed > ls.text.shownPassed {
		ls.text.scrollTop = true // a new check mark: bring it into view
	} else if key != ls.text.shownStep {
		ls.text.shownStep = key
	}
	ls.text.shownPassed = passed
	for _, c := range v.Checks {
		mark := "☐"
		if c.Passed {
			mark = t("ok") + "✔" + th.reset()
		}
		label := c.Label
		if c.Question != nil && !c.Passed {
			label += "  (" + key("a") + " answers)"
			if c.Question.Given != "" {
				label += fmt.Sprintf(" · you said %q", c.Question.Given)
			}
		}
		for i, l := range strings.Split(renderMarkdown(label, width-2, th), "\n") {
			if i == 0 {
				fmt.Fprintf(&b, "%s %s\n", mark, l)
			} else {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
	}
	switch {
	case v.Done:
		b.WriteString(t("ok") + "✔ Every step of this lesson has passed." + th.reset() + " " + list + ": the list\n")
	case v.Passed:
		b.WriteString(t("ok") + "✔ Step passed." + th.reset() + " Why it works is below; " + key("n") + ": next step\n")
	}
	if v.LabErr != "" {
		line(t("err") + tview.Escape(v.LabErr) + th.reset())
	}
	if len(v.Lab) > 0 {
		var parts []string
		for _, x := range v.Lab {
			parts = append(parts, x.Kind+" "+x.Arg)
		}
		line(t("dim") + "lab set-up: " + tview.Escape(strings.Join(parts, ", ")) + " (" + key("s") + " applies it again)" + th.reset())
	}
	b.WriteString(t("dim") + strings.Repeat("─", max(4, width)) + th.reset() + "\n")
	if v.Step == 0 && strings.TrimSpace(v.Intro) != "" {
		b.WriteString(renderMarkdown(v.Intro, width, th) + "\n\n")
	}
	b.WriteString(renderMarkdown(v.Text, width, th))
	b.WriteString("\n")
	for i, h := range v.Hints {
		b.WriteString("\n")
		if i == len(v.Hints)-1 {
			// The newest hint is where h scrolls to.
			ls.text.hintRow = wrappedRows(b.String(), width)
		}
		fmt.Fprintf(&b, "%sHint %d%s\n%s\n", t("label"), i+1, th.reset(), renderMarkdown(h, width, th))
	}
	if v.HintsLeft > 0 {
		fmt.Fprintf(&b, "\n%s%s more: press %s%s\n", t("dim"), plural(v.HintsLeft, "hint"), key("h"), th.reset())
	}
	if v.Explanation != "" {
		fmt.Fprintf(&b, "\n%sWhy%s\n%s\n", t("label"), th.reset(), renderMarkdown(v.Explanation, width, th))
	}
	return b.String()
}

// wrappedRows is how many rows text takes in a pane of width (text ends
// with a newline).
func wrappedRows(text string, width int) int {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	n := 0
	for _, l := range lines {
		n += max(1, len(tview.WordWrap(l, max(1, width))))
	}
	return n
}

// mdView is a text pane re-rendered at its width whenever that changes or
// its content is marked dirty, keeping the scroll position.
type mdView struct {
	*tview.TextView
	render        func(width int) string
	mode          func() bool // when it changes, render again
	lastMode      bool
	lastW         int
	dirty         bool
	hintRow       int  // the row of the newest hint's title
	scrollToHints bool // show hintRow at the top at the next draw
	scrollTop     bool
	shownStep     string // lesson/step last rendered
	shownPassed   int    // its checks passed then
}

func newMDView(render func(int) string) *mdView {
	tv := tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	return &mdView{TextView: tv, render: render}
}

func (m *mdView) Draw(screen tcell.Screen) {
	_, _, w, _ := m.GetInnerRect()
	if m.mode != nil {
		if md := m.mode(); md != m.lastMode {
			m.lastMode, m.dirty = md, true
		}
	}
	if w != m.lastW || m.dirty {
		m.lastW, m.dirty = w, false
		row, col := m.GetScrollOffset()
		m.SetText(m.render(w))
		if m.scrollToHints {
			m.scrollToHints = false
			row = m.hintRow
		}
		if m.scrollTop {
			m.scrollTop = false
			row = 0
		}
		m.ScrollTo(row, col)
	}
	m.TextView.Draw(screen)
}

// beforeDraw is a Flex that adjusts itself to its size before drawing.
type beforeDraw struct {
	*tview.Flex
	fn func(w, h int)
}

func (b *beforeDraw) Draw(screen tcell.Screen) {
	_, _, w, h := b.GetRect()
	b.fn(w, h)
	b.Flex.Draw(screen)
}
