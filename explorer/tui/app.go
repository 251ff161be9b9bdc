package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/lessons"
)

// Options wires the app to the rest of postlab. Every field may be left
// empty: the matching feature says it is not available instead.
type Options struct {
	Dial      Dialer
	Annotate  Annotator
	Suggest   Suggester
	StartLab  LabStarter // nil or NoLab: no lab
	NoLab     bool
	Connect   *Target // open straight into a session with this target
	Diagnoser Diagnoser
	// Lessons builds the Lessons screen instead of the built-in one.
	Lessons func(a *App) Screen
	// Course is the course the Lessons screen lists (nil: the built-in
	// one); CourseErr says why a teacher's lessons did not load.
	Course    *lessons.Course
	CourseErr error
	// DataDir keeps lesson progress ("" keeps it in memory).
	DataDir string
	// LabHost is a teacher's lab (postlab serve --classroom): the lab
	// presets point at it with the lab's default ports, no practice
	// password is filled in, and no lab starts here. LabRoots then
	// verifies its certificate.
	LabHost string
	// LookupTXT resolves DKIM keys for the Troubleshoot screen (nil: the
	// signatures are not checked).
	LookupTXT     func(name string) ([]string, error)
	NoColor       bool
	TraceCapacity int
	// SpillDir, when set, keeps session lines beyond TraceCapacity in a
	// temporary file there so saved transcripts stay complete.
	SpillDir string
	// LabRoots verifies the lab's certificate when the lab runs outside
	// the app (--no-lab with `postlab serve`): the lab presets use it.
	LabRoots *x509.CertPool
	// SaveDir is where transcripts are saved by default ("" = the current
	// directory).
	SaveDir string
}

// Hint is one entry of the key-hint bar; clicking it runs Do.
type Hint struct {
	Key, Label string
	Do         func()
}

// Screen is one page of the app, switched to with its number key.
type Screen interface {
	Name() string
	Root() tview.Primitive
	// Focusables are the panes Tab cycles through; the first gets focus
	// when the screen is shown.
	Focusables() []tview.Primitive
	Hints() []Hint
}

// App is the postlab terminal app.
type App struct {
	opts    Options
	tv      *tview.Application
	th      theme
	pages   *tview.Pages // screens
	layers  *tview.Pages // main layout plus dialogs
	header  *tview.TextView
	status  *tview.TextView
	hintBar *tview.TextView
	screens []Screen
	current int

	session     *sessionScreen
	mail        *mailboxScreen
	slog        *serverLogScreen
	diag        *diagnoseScreen
	lessons     *lessonsScreen // nil when Options.Lessons replaces it
	trouble     *troubleScreen
	labHostAddr string // the teacher's lab in use ("" = local)

	mu      sync.Mutex
	lab     Lab
	labMsg  string // lab status text
	labWarn bool   // labMsg names a problem: it stays in sight
	labFree bool   // offer the lab on free ports
	labDown string // why there is no lab of this app's own ("" = there is, or it is starting)
	labSubs []func()

	// Status messages belong to the screen that made them (msgs[i]) or to
	// the whole app (msgs[appWide]: the lab, running work); the newest of
	// the current screen's and the app's shows.
	msgs     map[int]statusMsg
	msgSeq   uint64
	msgOwner int // the screen messages go to now (see Go)
	busy     atomic.Int32
	spin     int
	cancels  map[int]context.CancelFunc
	work     map[int]string // labels of the running work, for the quit question
	cancelID int
	stopped  atomic.Bool
	hints    []Hint
	dialog   string
	// dialogBack is the pane that had the focus when the dialog opened;
	// dialogBox holds the dialog, to tell whether it still has the focus.
	dialogBack tview.Primitive
	dialogBox  *tview.Grid
	// confirm is the open yes/no question: y runs yes, any other key no.
	confirm *confirmation

	pendingConnect *Target // --connect, once the lab has started (or failed to)
}

func (a *App) connectPending() {
	if t := a.pendingConnect; t != nil {
		a.pendingConnect = nil
		// The session's messages are the Session screen's, even when the
		// lab's start (app-wide) brings them.
		prev := a.msgOwner
		a.msgOwner = ownerCurrent
		a.session.connect(*t)
		a.msgOwner = prev
	}
}

// New builds the app; Run shows it.
func New(o Options) *App {
	a := &App{opts: o, tv: tview.NewApplication(), th: newTheme(o.NoColor), cancels: map[int]context.CancelFunc{},
		work: map[int]string{}, msgs: map[int]statusMsg{}, msgOwner: ownerCurrent}
	a.th.apply()
	a.tv.EnableMouse(true)
	a.tv.EnablePaste(true)
	a.header = tview.NewTextView().SetDynamicColors(true).SetRegions(true).SetWrap(false)
	a.status = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	a.hintBar = tview.NewTextView().SetDynamicColors(true).SetRegions(true).SetWrap(false)
	a.pages = tview.NewPages()

	a.session = newSessionScreen(a)
	a.mail = newMailboxScreen(a)
	a.slog = newServerLogScreen(a)
	a.diag = newDiagnoseScreen(a)
	a.labHostAddr = o.LabHost
	var ls Screen
	if o.Lessons != nil {
		ls = o.Lessons(a)
	}
	if ls == nil {
		course, err := o.Course, o.CourseErr
		if course == nil {
			var berr error
			course, berr = lessons.Builtin()
			if err == nil {
				err = berr
			}
		}
		a.lessons = newLessonsScreen(a, course, err)
		ls = a.lessons
	}
	a.trouble = newTroubleScreen(a)
	a.screens = []Screen{a.session, a.mail, a.slog, a.diag, ls, a.trouble}
	for i, s := range a.screens {
		a.pages.AddPage(fmt.Sprint(i), s.Root(), true, i == 0)
	}
	a.header.SetHighlightedFunc(func(added, removed, remaining []string) {
		if len(added) == 1 {
			var n int
			if _, err := fmt.Sscan(added[0], &n); err == nil {
				a.header.Highlight() // so the same tab can be clicked again
				a.Show(n - 1)
			}
		}
	})
	a.hintBar.SetHighlightedFunc(func(added, removed, remaining []string) {
		if len(added) == 1 {
			var n int
			fmt.Sscan(added[0], &n)
			a.hintBar.Highlight()
			if n >= 0 && n < len(a.hints) && a.hints[n].Do != nil {
				a.hints[n].Do()
			}
		}
	})

	main := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(clickOnly{a.header}, 1, 0, false).
		AddItem(a.pages, 0, 1, true).
		AddItem(clickOnly{a.status}, 1, 0, false).
		AddItem(clickOnly{a.hintBar}, 1, 0, false)
	a.layers = tview.NewPages().AddPage("main", main, true, true)
	a.tv.SetRoot(a.layers, true)
	a.tv.SetInputCapture(a.capture)
	// Nothing here uses double clicks: two quick clicks in different places
	// (a tab, then a hint) must both count as clicks.
	a.tv.SetMouseCapture(func(ev *tcell.EventMouse, action tview.MouseAction) (*tcell.EventMouse, tview.MouseAction) {
		if action == tview.MouseLeftDoubleClick {
			action = tview.MouseLeftClick
		}
		return ev, action
	})
	a.tv.SetBeforeDrawFunc(func(scr tcell.Screen) bool {
		// The screen's width, not the bars' last rectangles: after a
		// resize those are stale until the layout runs in this draw.
		w, _ := scr.Size()
		a.refreshChrome(w)
		return false
	})
	a.current = -1
	a.Show(0)
	return a
}

// Application is the underlying tview application (tests, lessons).
func (a *App) Application() *tview.Application { return a.tv }

// Theme-aware tag helpers for screens outside this file.
func (a *App) tag(role string) string { return a.th.tag(role) }

// Styled returns text escaped for tview and marked with a role of the
// app's theme ("title", "label", "key", "err", "dim", "ok", "warn", "c2s",
// "s2c"), for screens plugged in from outside; without colour only bold
// remains.
func (a *App) Styled(role, text string) string {
	return a.th.tag(role) + tview.Escape(text) + a.th.reset()
}

// SetScreen runs the app on s (tests use tcell.NewSimulationScreen).
func (a *App) SetScreen(s tcell.Screen) { a.tv.SetScreen(s) }

// Run starts the lab (unless disabled), opens --connect if given, shows the
// app until the user quits, then stops the lab and any session cleanly.
func (a *App) Run() error {
	if a.opts.Connect != nil {
		a.pendingConnect = a.opts.Connect
		a.session.form.fill(*a.opts.Connect)
	}
	if a.labHostAddr != "" {
		a.useLabHost(a.labHostAddr, a.opts.LabRoots)
		a.connectPending()
	} else if a.opts.StartLab != nil && !a.opts.NoLab {
		a.startLab(false) // connects when the lab is up: it may be the target
	} else {
		a.setLabMsg("lab off (--no-lab)", false)
		a.mu.Lock()
		a.labDown = "it is off (--no-lab)"
		a.mu.Unlock()
		a.mail.setEmpty("The lab is off (--no-lab), so there are no mailboxes to show here. A lab run by postlab serve keeps its mail there: read it with a POP3 session (screen 1).")
		a.slog.view.SetEmptyText("The lab is off (--no-lab): only a lab running in this app shows its side\nof your sessions here. Start postlab without --no-lab to see both sides.")
		a.connectPending()
	}
	err := a.tv.Run()
	a.shutdown()
	return err
}

// Stop quits the app; Run then stops the lab.
func (a *App) Stop() {
	if a.stopped.Swap(true) {
		return
	}
	a.cancelAll()
	a.tv.Stop()
}

func (a *App) shutdown() {
	a.stopped.Store(true)
	a.cancelAll()
	a.session.close()
	if a.session.spill != nil {
		a.session.spill.reset()
	}
	a.mu.Lock()
	lab := a.lab
	subs := a.labSubs
	a.lab, a.labSubs = nil, nil
	a.mu.Unlock()
	for _, c := range subs {
		c()
	}
	if lab != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lab.Close(ctx)
	}
}

// SubscribeSession calls fn (from any goroutine, quickly) with every trace
// event of the Session screen's conversations; session numbers each
// connection from 1. Lessons use it as client-side evidence.
func (a *App) SubscribeSession(fn func(session uint64, ev explorer.Event)) (cancel func()) {
	return a.session.subscribe(fn)
}

// Connect opens a session to t on the Session screen (UI goroutine).
func (a *App) Connect(t Target) { a.session.connect(t) }

// Lab is the running lab, or nil.
func (a *App) Lab() Lab {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lab
}

// QueueUpdateDraw runs f on the UI goroutine unless the app has stopped.
func (a *App) QueueUpdateDraw(f func()) {
	if a.stopped.Load() {
		return
	}
	go func() {
		if !a.stopped.Load() {
			a.tv.QueueUpdateDraw(f)
		}
	}()
}

// Go runs work in a goroutine with a context that Esc cancels, showing
// label and a spinner meanwhile; done runs on the UI goroutine. The
// returned function cancels this work alone. Its messages (an error, and
// those done sets) belong to the screen that started it.
func (a *App) Go(label string, work func(ctx context.Context) error, done func(err error)) context.CancelFunc {
	return a.goFor(a.owner(), label, work, done)
}

// goFor is Go with the messages' owner given (appWide for the lab).
func (a *App) goFor(owner int, label string, work func(ctx context.Context) error, done func(err error)) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	id := a.cancelID
	a.cancelID++
	a.cancels[id] = cancel
	a.work[id] = label
	a.mu.Unlock()
	if a.busy.Add(1) == 1 {
		go a.spinLoop()
	}
	busyMsg := label + "…  (Esc cancels)"
	// Esc cancels from any screen, so every screen says what runs; the
	// message it covers comes back when the work ends.
	a.putStatus(busyOwner, statusMsg{text: busyMsg})
	go func() {
		err := work(ctx)
		a.mu.Lock()
		delete(a.cancels, id)
		delete(a.work, id)
		a.mu.Unlock()
		cancel()
		a.busy.Add(-1)
		a.QueueUpdateDraw(func() {
			if m := a.msgs[busyOwner]; m.text == busyMsg {
				a.clearStatus(busyOwner)
			}
			prev := a.msgOwner
			a.msgOwner = owner
			defer func() { a.msgOwner = prev }()
			if errors.Is(err, context.Canceled) {
				a.setStatus("cancelled", true)
			} else if err != nil {
				a.setStatus(oneLine(err.Error()), true)
			}
			if done != nil {
				done(err)
			}
		})
	}()
	return cancel
}

// workLabels are the labels of the work running now.
func (a *App) workLabels() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]int, 0, len(a.work))
	for id := range a.work {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, a.work[id])
	}
	return out
}

// Busy reports whether network work is running.
func (a *App) Busy() bool { return a.busy.Load() > 0 }

func (a *App) cancelAll() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.cancels)
	for _, c := range a.cancels {
		c()
	}
	return n > 0
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (a *App) spinLoop() {
	t := time.NewTicker(120 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if a.busy.Load() == 0 || a.stopped.Load() {
			a.QueueUpdateDraw(func() {})
			return
		}
		a.QueueUpdateDraw(func() { a.spin++ })
	}
}

// statusMsg is one message of the status bar.
type statusMsg struct {
	text      string
	err       bool
	seq       uint64
	transient bool // gone at the next key
}

const (
	appWide      = -1 // the owner of app-wide messages
	ownerCurrent = -2 // messages go to the screen shown
	busyOwner    = -3 // the work running now (see Go)
)

// owner is the screen a message set now belongs to.
func (a *App) owner() int {
	if a.msgOwner != ownerCurrent {
		return a.msgOwner
	}
	return a.current
}

func (a *App) putStatus(owner int, m statusMsg) {
	a.msgSeq++
	m.seq = a.msgSeq
	a.msgs[owner] = m
}

// setStatus shows a one-line message in the status bar while the screen
// that made it is shown (UI goroutine).
func (a *App) setStatus(msg string, isErr bool) {
	a.putStatus(a.owner(), statusMsg{text: msg, err: isErr})
}

// setAppStatus shows a message on every screen (the lab's state).
func (a *App) setAppStatus(msg string, isErr bool) {
	a.putStatus(appWide, statusMsg{text: msg, err: isErr})
}

// notice shows news from elsewhere (new mail) on every screen until the
// next key.
func (a *App) notice(msg string) {
	a.putStatus(appWide, statusMsg{text: msg, transient: true})
}

func (a *App) clearStatus(owner int) { delete(a.msgs, owner) }

// shownStatus is the message the status bar shows now.
func (a *App) shownStatus() statusMsg {
	m := a.msgs[a.current]
	for _, o := range []int{appWide, busyOwner} {
		if x := a.msgs[o]; x.seq > m.seq {
			m = x
		}
	}
	return m
}

// actionKey tells a key that acts (Enter, Tab, Esc, a control key, typing
// into a field) from one that only looks around or does nothing (a letter
// or an arrow outside a field).
func (a *App) actionKey(ev *tcell.EventKey) bool {
	switch ev.Key() {
	case tcell.KeyRune, tcell.KeyBackspace, tcell.KeyBackspace2, tcell.KeyDelete,
		tcell.KeyUp, tcell.KeyDown, tcell.KeyLeft, tcell.KeyRight,
		tcell.KeyHome, tcell.KeyEnd, tcell.KeyPgUp, tcell.KeyPgDn:
		return a.typing()
	}
	return true
}

// keyPressed lets transient messages go, and the shown screen's own
// message: it told of the last action, and the key starts the next one
// (whose handler may set a new message). It returns what to put back when
// the key only switches screens, so that message waits on its screen.
func (a *App) keyPressed(ev *tcell.EventKey) (restore func()) {
	for k, m := range a.msgs {
		if m.transient {
			delete(a.msgs, k)
		}
	}
	cur := a.current
	m, ok := a.msgs[cur]
	if !ok || !a.actionKey(ev) || a.confirm != nil && a.dialog == a.confirm.name {
		return func() {}
	}
	delete(a.msgs, cur)
	return func() {
		if _, set := a.msgs[cur]; a.current != cur && !set {
			a.msgs[cur] = m
		}
	}
}

// lookupTXT resolves DKIM keys as Diagnose resolves names (the lab's DNS
// for the practice domain), else with Options.LookupTXT; nil: unchecked.
func (a *App) lookupTXT() func(name string) ([]string, error) {
	if l, ok := a.opts.Diagnoser.(interface {
		LookupTXT(name string) ([]string, error)
	}); ok {
		return l.LookupTXT
	}
	return a.opts.LookupTXT
}

// SetStatus is setStatus for screens plugged in from outside.
func (a *App) SetStatus(msg string, isErr bool) { a.setStatus(msg, isErr) }

// setLabMsg sets the lab indicator at the right of the status bar; warn
// keeps it in sight however long the message beside it.
func (a *App) setLabMsg(msg string, warn bool) {
	a.mu.Lock()
	a.labMsg, a.labWarn = msg, warn
	a.mu.Unlock()
}

// startLab starts the lab in the background; a taken port offers free ports.
func (a *App) startLab(free bool) {
	a.setLabMsg("lab starting…", false)
	a.mu.Lock()
	a.labFree, a.labDown = false, ""
	a.mu.Unlock()
	var lab Lab
	a.goFor(appWide, "starting the lab", func(ctx context.Context) error {
		var err error
		lab, err = a.opts.StartLab(free)
		if err == nil && a.stopped.Load() {
			// The user quit while the lab started: nobody will show it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			lab.Close(ctx)
			lab = nil
			return context.Canceled
		}
		return err
	}, func(err error) {
		defer a.connectPending()
		if err != nil {
			if errors.Is(err, ErrPortTaken) {
				taken := strings.TrimPrefix(oneLine(err.Error()), ErrPortTaken.Error()+": ")
				port := takenPort(taken)
				a.setLabMsg("lab not started: port "+port+" taken (L)", true)
				a.mu.Lock()
				a.labFree = true
				a.labDown = "port " + port + " is taken (another postlab?)"
				a.mu.Unlock()
				a.setAppStatus("Lab port "+taken+" is taken (another postlab?); L starts the lab on free ports", true)
			} else {
				a.setLabMsg("lab not started", true)
				a.mu.Lock()
				a.labDown = "it did not start: " + oneLine(err.Error())
				a.mu.Unlock()
				a.setAppStatus("lab: "+oneLine(err.Error()), true)
			}
			if a.lessons != nil {
				a.lessons.text.dirty = true
			}
			return
		}
		if a.stopped.Load() {
			lab.Close(context.Background())
			return
		}
		a.mu.Lock()
		a.lab = lab
		a.mu.Unlock()
		a.setLabMsg("lab: smtp "+lab.Addr("smtp")+"  pop3 "+lab.Addr("pop3"), false)
		if free {
			// Short, so the ports beside it stay in sight at 80 columns.
			a.setAppStatus("The lab runs on free ports.", false)
		} else if m := a.msgs[appWide]; m.err {
			a.clearStatus(appWide) // an old failure no longer holds
		}
		a.session.labChanged(lab)
		a.mail.labChanged(lab)
		a.slog.labChanged(lab)
		if a.lessons != nil {
			a.lessons.labChanged()
		}
	})
}

// offerFree reports whether L starts the lab on free ports now.
func (a *App) offerFree() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.labFree
}

// takenPort is the port of "127.0.0.1:2525 (--smtp)".
func takenPort(taken string) string {
	addr, _, _ := strings.Cut(taken, " ")
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return addr
}

// Show switches to screen i (0-based).
func (a *App) Show(i int) {
	if i < 0 || i >= len(a.screens) {
		return
	}
	if a.current == a.lessonsIndex() && i != a.current && a.lessons != nil && a.lessons.lessonOpen() {
		a.lessons.leave()
	}
	a.current = i
	a.pages.SwitchToPage(fmt.Sprint(i))
	if act, ok := a.screens[i].(interface{ Activated() }); ok {
		act.Activated()
	}
	if ar, ok := a.screens[i].(interface{ arrival() tview.Primitive }); ok {
		a.tv.SetFocus(ar.arrival())
	} else if f := a.screens[i].Focusables(); len(f) > 0 {
		a.tv.SetFocus(f[0])
	}
}

// Current is the index of the screen shown.
func (a *App) Current() int { return a.current }

func (a *App) refreshChrome(hw int) {
	// Narrower and narrower until every tab fits: short names (80
	// columns), then without the title (60), then names of four letters.
	for level := 0; level <= 3; level++ {
		a.header.SetText(a.tabs(level))
		if tview.TaggedStringWidth(a.header.GetText(false)) <= hw {
			break
		}
	}

	a.status.SetText(a.statusLine(hw))

	a.hints = fitHints(a.currentHints(), hw)
	var k strings.Builder
	for i, hn := range a.hints {
		fmt.Fprintf(&k, `["%d"]%s%s%s %s[""] `, i, a.th.tag("key"), tview.Escape(hn.Key), a.th.reset(), tview.Escape(hn.Label))
	}
	a.hintBar.SetText(k.String())
}

// fitHints drops the hints anybody learns first (screens, leaving a
// field, help) while the bar is wider than w, so quitting stays in sight.
func fitHints(hs []Hint, w int) []Hint {
	width := func() int {
		n := 0
		for _, h := range hs {
			n += runewidth.StringWidth(h.Key) + runewidth.StringWidth(h.Label) + 2
		}
		return n - 1
	}
	for _, label := range []string{"screens", "out", "help", "next field"} {
		if width() <= w {
			break
		}
		for i, h := range hs {
			if h.Label == label {
				hs = append(hs[:i:i], hs[i+1:]...)
				break
			}
		}
	}
	return hs
}

// statusLine is the status bar for a width: the message on the left, the
// lab on the right. A lab fault or a lab that did not start stays in
// sight, the message cut to make room; otherwise the message wins.
func (a *App) statusLine(w int) string {
	m := a.shownStatus()
	spin := ""
	if a.busy.Load() > 0 {
		spin = spinner[a.spin%len(spinner)] + " "
	}
	a.mu.Lock()
	labMsg, keep := a.labMsg, a.labWarn
	a.mu.Unlock()
	right, role := labMsg, "dim"
	if keep {
		role = "warn"
	}
	if fault := a.labFaults(); fault != "" {
		right, role, keep = fault, "warn", true
		if runewidth.StringWidth(spin+m.text+fault+"  "+labMsg)+3 <= w {
			right += "  " + labMsg
		}
	}
	msg := m.text
	used := runewidth.StringWidth(spin + msg)
	rw := runewidth.StringWidth(right)
	if right != "" && used+1+rw+1 > w {
		if !keep && msg != "" {
			right, rw = "", 0
		} else if room := w - runewidth.StringWidth(spin) - rw - 3; msg != "" {
			msg = runewidth.Truncate(msg, max(1, room), "…")
			used = runewidth.StringWidth(spin + msg)
		}
	}
	var st strings.Builder
	st.WriteString(spin)
	if m.err {
		st.WriteString(a.th.tag("err") + tview.Escape(msg) + a.th.reset())
	} else {
		st.WriteString(tview.Escape(msg))
	}
	if right != "" {
		st.WriteString(strings.Repeat(" ", max(1, w-used-rw-1)) + a.th.tag(role) + tview.Escape(right) + a.th.reset())
	}
	return st.String()
}

func (a *App) currentHints() []Hint { return dedupeHints(a.allHints()) }

// dedupeHints keeps the first hint of each key: the one the key does
// (Esc cancels running work before it leaves a field).
func dedupeHints(hs []Hint) []Hint {
	seen := map[string]bool{}
	out := hs[:0:0]
	for _, h := range hs {
		if !seen[h.Key] {
			seen[h.Key] = true
			out = append(out, h)
		}
	}
	return out
}

func (a *App) allHints() []Hint {
	if c := a.confirm; c != nil && a.dialog == c.name {
		return []Hint{{"y", c.yesLabel, func() { a.answerConfirm(true) }}, {"any other key", "no", func() { a.answerConfirm(false) }}}
	}
	if a.dialog == "help" {
		return []Hint{{"Esc", "close", a.closeDialog}, {"↑↓ PgUp/PgDn", "scroll", nil}, {"^C", "quit", a.Stop}}
	}
	if a.dialog != "" {
		return []Hint{{"Esc", "close", a.closeDialog}, {"Tab", "next field", nil}, {"^C", "quit", a.Stop}}
	}
	var hs []Hint
	if a.current >= 0 {
		hs = append(hs, a.screens[a.current].Hints()...)
	}
	if a.offerFree() {
		key := "L"
		if a.typingChrome() {
			key = "Alt-L"
		}
		hs = append(hs, Hint{key, "lab on free ports", func() { a.startLab(true) }})
	}
	if a.Busy() {
		hs = append(hs, Hint{"Esc", "cancel", func() { a.cancelAll() }})
	}
	if a.typingChrome() {
		return append(hs, Hint{"Esc", "out", nil}, Hint{"Alt-1..6", "screens", nil}, Hint{"^C", "quit", a.Stop})
	}
	if a.session.palette.HasFocus() {
		// Digits pick a command here.
		return append(hs, Hint{"1-9", "pick", nil}, Hint{"Alt-1..6", "screens", nil}, Hint{"?", "help", a.showHelp}, Hint{"q", "quit", a.quit})
	}
	return append(hs, Hint{"1-6", "screens", nil}, Hint{"?", "help", a.showHelp}, Hint{"q", "quit", a.quit})
}

// typing reports whether the focused widget takes text, so plain keys
// (q, digits, ?) belong to it.
func (a *App) typing() bool {
	switch a.tv.GetFocus().(type) {
	case *tview.InputField, *tview.TextArea:
		return true
	}
	return false
}

// typingChrome is typing for the draw callback, which runs under the
// application's lock and so cannot call GetFocus.
func (a *App) typingChrome() bool {
	if a.current < 0 {
		return false
	}
	isText := func(p tview.Primitive) bool {
		switch p.(type) {
		case *tview.InputField, *tview.TextArea:
			return true
		}
		return false
	}
	for _, p := range a.screens[a.current].Focusables() {
		if !p.HasFocus() {
			continue
		}
		if f, ok := p.(*tview.Form); ok {
			if i, _ := f.GetFocusedItemIndex(); i >= 0 {
				return isText(f.GetFormItem(i))
			}
			return false
		}
		return isText(p)
	}
	return false
}

// capture handles the app-wide keys.
func (a *App) capture(ev *tcell.EventKey) *tcell.EventKey {
	defer a.keyPressed(ev)()
	return a.captureKey(ev)
}

func (a *App) captureKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		// The way out that never asks (q asks when something would be lost).
		a.Stop()
		return nil
	}
	if c := a.confirm; c != nil && a.dialog == c.name {
		a.answerConfirm(ev.Key() == tcell.KeyRune && (ev.Rune() == 'y' || ev.Rune() == 'Y'))
		return nil
	}
	switch ev.Key() {
	case tcell.KeyEscape:
		if a.cancelAll() {
			// Say so now: work that ignores its context ends late, and
			// the screens drop what it brings.
			a.setStatus("cancelled", true)
			for _, s := range a.screens {
				if c, ok := s.(interface{ cancelled() }); ok {
					c.cancelled()
				}
			}
			return nil
		}
		if a.dialog != "" {
			a.closeDialog()
			return nil
		}
		return a.screenCapture(ev)
	case tcell.KeyF1:
		a.showHelp()
		return nil
	}
	if a.dialog != "" {
		return ev
	}
	// Alt-L starts the lab from a text field too, before any screen's
	// keys; most terminals send Alt+l without Shift, so both count.
	if ev.Key() == tcell.KeyRune && ev.Modifiers()&tcell.ModAlt != 0 && (ev.Rune() == 'L' || ev.Rune() == 'l') {
		if a.offerFree() {
			a.startLab(true)
			return nil
		}
		if l := a.Lab(); l != nil {
			// Say so rather than do nothing: the key is advertised.
			a.setStatus("The lab already runs (SMTP "+l.Addr("smtp")+").", false)
			return nil
		}
	}
	// A screen's own keys come first: tview.Pages hands keys to whichever
	// page holds the focus, visible or not, and the Lessons screen shows
	// the Session screen's command line.
	if ev = a.screenCapture(ev); ev == nil {
		return nil
	}
	if ev.Key() == tcell.KeyRune && ev.Modifiers()&tcell.ModAlt != 0 && ev.Rune() >= '1' && ev.Rune() <= '9' {
		a.Show(int(ev.Rune() - '1'))
		return nil
	}
	if ev.Key() == tcell.KeyTab || ev.Key() == tcell.KeyBacktab {
		if a.cycleFocus(ev.Key() == tcell.KeyTab) {
			return nil
		}
		return ev
	}
	if a.typing() || ev.Key() != tcell.KeyRune {
		return ev
	}
	if _, ok := a.tv.GetFocus().(*Palette); ok && ev.Rune() >= '1' && ev.Rune() <= '9' {
		return ev
	}
	switch r := ev.Rune(); {
	case r >= '1' && r <= '9':
		a.Show(int(r - '1'))
		return nil
	case r == '?':
		a.showHelp()
		return nil
	case r == 'q':
		a.quit()
		return nil
	case r == 'L':
		if a.offerFree() {
			a.startLab(true)
			return nil
		}
	}
	return ev
}

// cycleFocus moves focus along the screen's panes when the focused
// primitive is one of them (forms keep Tab for their own fields).
func (a *App) cycleFocus(forward bool) bool {
	if a.current < 0 {
		return false
	}
	ring := a.screens[a.current].Focusables()
	focus := a.tv.GetFocus()
	for i, p := range ring {
		if p == focus {
			if in, ok := p.(*tview.InputField); ok && forward && in == a.session.cmd && a.session.completeOnTab() {
				return true
			}
			n := len(ring)
			j := (i + 1) % n
			if !forward {
				j = (i + n - 1) % n
			}
			a.tv.SetFocus(ring[j])
			return true
		}
	}
	return false
}

// showDialog puts p over the screen; Esc closes it.
func (a *App) showDialog(name string, p tview.Primitive, width, height int, focus tview.Primitive) {
	// Centred, at most the screen less the header and hint rows.
	grid := tview.NewGrid().SetColumns(0, width, 0).SetRows(1, 0, height, 0, 1).AddItem(p, 2, 1, 1, 1, 0, 0, true)
	_, _, sw, sh := a.layers.GetRect()
	if width <= 0 || width > sw {
		grid.SetColumns(0, max(10, sw), 0)
	}
	if height <= 0 || height > sh-2 {
		grid.SetRows(1, 0, max(5, sh-2), 0, 1)
	}
	if a.dialog == "" {
		a.dialogBack = a.focusedPane()
	}
	a.layers.AddPage("dialog", grid, true, true)
	a.dialog = name
	a.dialogBox = grid
	if focus == nil {
		focus = p
	}
	a.tv.SetFocus(focus)
}

// closeDialog removes the dialog and gives the focus back to the pane that
// opened it. A form closed from a field's done handler moves its own focus
// to its next item after the handler returns, so the focus is checked
// again once the key has been handled.
func (a *App) closeDialog() {
	if a.dialog == "" {
		return
	}
	a.layers.RemovePage("dialog")
	a.dialog = ""
	a.confirm = nil
	back, box := a.dialogBack, a.dialogBox
	a.dialogBack, a.dialogBox = nil, nil
	if back == nil || !a.onScreen(back) {
		a.Show(a.current)
		back = nil
	} else {
		a.tv.SetFocus(back)
	}
	a.QueueUpdateDraw(func() {
		if a.dialog != "" || box == nil || !box.HasFocus() {
			return
		}
		if back != nil {
			a.tv.SetFocus(back)
		} else {
			a.Show(a.current)
		}
	})
}

// focusedPane is the current screen's pane that holds the focus (a form
// rather than its button), or the focused primitive itself.
func (a *App) focusedPane() tview.Primitive {
	f := a.tv.GetFocus()
	if a.current >= 0 && f != nil && !a.onScreen(f) {
		for _, p := range a.screens[a.current].Focusables() {
			if p.HasFocus() {
				return p
			}
		}
	}
	return f
}

// onScreen reports whether p is one of the current screen's panes.
func (a *App) onScreen(p tview.Primitive) bool {
	if a.current < 0 {
		return false
	}
	for _, f := range a.screens[a.current].Focusables() {
		if f == p {
			return true
		}
	}
	return false
}

// confirmation is a yes/no question in a dialog.
type confirmation struct {
	name     string
	yesLabel string // the hint for y: "quit", "delete"
	yes      func()
	no       string // status message when the answer is no
}

// ask puts a question that y answers yes and any other key no; the
// question says what yes does, the hint bar names it in one word.
func (a *App) ask(name, title, question, yesLabel string, yes func(), no string) {
	text := question + "\n\n" + a.th.tag("key") + "y" + a.th.reset() + " " + yesLabel + " · any other key: no"
	tv := tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true).SetText(text)
	tv.SetBorder(true).SetTitle(" " + title + " ").SetTitleAlign(tview.AlignLeft)
	const width = 64
	_, _, sw, _ := a.layers.GetRect()
	inner := min(width, max(10, sw)) - 2
	lines := 0
	for _, l := range strings.Split(text, "\n") {
		lines += max(1, len(tview.WordWrap(l, inner)))
	}
	a.showDialog(name, tv, width, lines+2, tv)
	a.confirm = &confirmation{name: name, yesLabel: yesLabel, yes: yes, no: no}
}

// answerConfirm closes the question and acts on the answer.
func (a *App) answerConfirm(yes bool) {
	c := a.confirm
	a.confirm = nil
	a.closeDialog()
	if c == nil {
		return
	}
	if yes {
		c.yes()
	} else if c.no != "" {
		a.setStatus(c.no, false)
	}
}

// quit stops the app, asking first when that would end something live.
func (a *App) quit() {
	losses := a.quitLosses()
	if len(losses) == 0 {
		a.Stop()
		return
	}
	a.ask("quit", "quit", "Quit postlab? "+strings.Join(losses, " "), "quit", a.Stop, "Not quitting.")
}

// quitLosses says what quitting now would end: the session, the lab's
// client connections, running work (a diagnose run); none: nothing lost.
func (a *App) quitLosses() []string {
	var out []string
	t, live := a.liveSession()
	if live {
		out = append(out, "The session to "+t.String()+" will be closed.")
	}
	n := a.slog.openClients()
	if live && n > 0 && a.labListener(t) != "" {
		n-- // the session just named
	}
	if n > 0 {
		out = append(out, fmt.Sprintf("The lab stops and drops %s.", plural(n, "other client connection")))
	}
	for _, w := range a.workLabels() {
		// The session's own work is named above; the lab starting is not lost.
		if strings.HasPrefix(w, "connecting to ") || w == "waiting for the server" || w == "starting the lab" {
			continue
		}
		out = append(out, strings.ToUpper(w[:1])+w[1:]+" stops.")
	}
	return out
}

// liveSession is the Session screen's connection, when one is open or
// being dialled (a closed one is not live).
func (a *App) liveSession() (Target, bool) {
	s := a.session
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connecting {
		return s.curTarget, true
	}
	if s.sess == nil || s.sess.State().Phase == explorer.PhaseClosed {
		return Target{}, false
	}
	return s.curTarget, true
}

// Dialog is the name of the open dialog ("" when none).
func (a *App) Dialog() string { return a.dialog }

// helpSection is one part of the help: its keys, then notes in prose.
type helpSection struct {
	title string
	keys  [][2]string // key, what it does
	notes []string
}

// helpSections are every key of the app, screen by screen.
var helpSections = []helpSection{
	{"Everywhere", [][2]string{
		{"1-6", "switch screen outside text fields (also click the tabs)"},
		{"Alt+1-6", "switch screen anywhere, text fields included"},
		{"Tab, Shift-Tab", "move between panes"},
		{"Esc", "cancel running network work / leave a field / close a dialog"},
		{"?, F1", "this help"},
		{"q", "quit (stops the lab); asks first while a session, a lab client or a diagnose run is live"},
		{"Ctrl-C", "quit at once, without asking"},
		{"L, Alt-L", "start the lab on free ports when its own are taken"},
		{"mouse", "click to focus and select, wheel to scroll"},
	}, nil},
	{"Session", [][2]string{
		{"Enter", "send the command line (connect from the form)"},
		{"Up/Down", "command history"},
		{"Tab", "complete a command valid now (empty line: next pane)"},
		{"Ctrl-P", "pick from the palette of next commands (or click it)"},
		{"Ctrl-O", "compose a message for DATA (dot-stuffing shown)"},
		{"Ctrl-S", "save the transcript (text or JSON Lines)"},
		{"Ctrl-N", "new connection"},
		{"Teacher's lab…", "(connect form) use a classroom lab instead of your own"},
	}, []string{"In the trace: Up/Down j/k PgUp/PgDn Home/End g/G move; the notes follow."}},
	{"Mailboxes", [][2]string{
		{"Enter, click", "open a mailbox, then a message"},
		{"r", "raw / parsed"},
	}, nil},
	{"Server log", nil, []string{"The lab's side of every session, live; move as in the trace."}},
	{"Diagnose", [][2]string{
		{"Enter", "run the checks for the domain or address typed"},
		{"Esc", "stop them"},
	}, nil},
	{"Lessons", [][2]string{
		{"Enter", "open a lesson beside a session; Tab moves between them"},
		{"n / p", "next / previous step"},
		{"h", "reveal the next hint"},
		{"a", "answer the step's question"},
		{"R", "reset my lab mailbox for this lesson (asks first)"},
		{"s", "set the lab up for this step (fault scenario, DNS)"},
		{"l", "back to the list (plain l only: Alt-l is the lab's key)"},
		{"PgUp/PgDn", "scroll the lesson, also from the command line"},
		{"Alt+letter", "the same from the command line; Esc leaves it"},
	}, nil},
	{"Troubleshoot", [][2]string{
		{"Ctrl-R", "explain what is pasted"},
		{"Ctrl-O", "open a file: type its path, then Enter"},
		{"Ctrl-L", "clear the paste box (Ctrl-Z brings it back)"},
	}, []string{"The fix comes first, then recipients, hops and authentication results as a tree."}},
}

// helpText lays the help out for a width: one column of keys as wide as
// the longest key, descriptions wrapped under their own column.
func helpText(th theme, width int) []string {
	keyW := 0
	for _, s := range helpSections {
		for _, k := range s.keys {
			keyW = max(keyW, runewidth.StringWidth(k[0]))
		}
	}
	const indent = 2
	descCol := indent + keyW + 2
	if width-descCol < 20 {
		descCol = indent + 2 // too narrow: descriptions under their keys
	}
	pad := strings.Repeat(" ", descCol)
	var out []string
	for i, s := range helpSections {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, th.tag("title")+tview.Escape(s.title)+th.reset())
		for _, k := range s.keys {
			desc := tview.WordWrap(k[1], max(10, width-descCol))
			key := strings.Repeat(" ", indent) + k[0]
			if kw := runewidth.StringWidth(key); kw+2 <= descCol {
				out = append(out, tview.Escape(key)+strings.Repeat(" ", descCol-kw)+tview.Escape(desc[0]))
				desc = desc[1:]
			} else {
				out = append(out, tview.Escape(key))
			}
			for _, d := range desc {
				out = append(out, pad+tview.Escape(d))
			}
		}
		for _, n := range s.notes {
			for _, l := range tview.WordWrap(n, max(10, width-indent)) {
				out = append(out, strings.Repeat(" ", indent)+tview.Escape(l))
			}
		}
	}
	return out
}

// helpView is the help text, laid out at its width, with a mark on its
// bottom border while more of it is out of sight.
type helpView struct {
	*tview.TextView
	th    theme
	lastW int
	lines int
}

func (h *helpView) Draw(screen tcell.Screen) {
	_, _, w, ht := h.GetInnerRect()
	if w != h.lastW {
		h.lastW = w
		lines := helpText(h.th, w)
		h.lines = len(lines)
		h.SetText(strings.Join(lines, "\n"))
	}
	if h.lines > ht {
		h.SetTitle(" keys (Esc closes) · ↑↓ PgUp/PgDn scroll ")
	} else {
		h.SetTitle(" keys (Esc closes) ")
	}
	h.TextView.Draw(screen)
	if h.lines <= ht {
		return
	}
	x, y, bw, bh := h.GetRect()
	row, _ := h.GetScrollOffset()
	mark := " ▼ more below (↓ PgDn) "
	switch {
	case row+ht >= h.lines:
		mark = " ▲ more above (↑ PgUp) "
	case row > 0:
		mark = " ▲▼ more (↑↓ PgUp/PgDn) "
	}
	tview.Print(screen, h.th.tag("title")+mark+h.th.reset(), x+1, y+bh-1, bw-3, tview.AlignRight, tcell.ColorDefault)
}

func (a *App) showHelp() {
	hv := &helpView{TextView: tview.NewTextView().SetDynamicColors(true).SetWrap(false), th: a.th}
	hv.SetBorder(true).SetTitle(" keys (Esc closes) ")
	const width = 78
	_, _, sw, _ := a.layers.GetRect()
	lines := len(helpText(a.th, min(width, max(10, sw))-2))
	a.showDialog("help", hv, width, lines+2, hv)
}

// boolFlag coalesces redraw requests.
type boolFlag struct{ v atomic.Bool }

func (b *boolFlag) set() bool { return b.v.CompareAndSwap(false, true) }
func (b *boolFlag) clear()    { b.v.Store(false) }

// clickOnly is a text bar that reacts to clicks but never takes focus, so
// clicking a tab or a key hint leaves the keyboard where it was.
type clickOnly struct{ *tview.TextView }

func (c clickOnly) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	inner := c.TextView.MouseHandler()
	return func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
		return inner(action, event, func(tview.Primitive) {})
	}
}

// labFaults names the lab's active fault scenario and DNS faults ("" when
// the lab runs normally), for the status bar.
func (a *App) labFaults() string {
	l := a.localLab()
	if l == nil {
		return ""
	}
	var on []string
	if s := l.Scenario(); s != "" {
		on = append(on, s)
	}
	on = append(on, l.DNSFaults()...)
	if len(on) == 0 {
		return ""
	}
	return "⚠ lab fault: " + strings.Join(on, ", ")
}

// lessonsIndex is the Lessons screen's index.
func (a *App) lessonsIndex() int { return 4 }

// showSession brings the session into view: beside the lesson when one is
// open on the Lessons screen, else the Session screen.
func (a *App) showSession() {
	if a.hostedSession() {
		a.Show(a.current)
		return
	}
	a.Show(0)
}

// hostedSession reports whether the Lessons screen shows the session now.
func (a *App) hostedSession() bool {
	return a.lessons != nil && a.lessons.hosting()
}

// localLab is the lab running in this process, or nil (none, a fake, or a
// teacher's lab elsewhere).
func (a *App) localLab() *lab.Lab {
	if rl, ok := a.Lab().(realLab); ok {
		return rl.l
	}
	return nil
}

// LabHost is the teacher's lab in use ("" when the lab is local); any
// goroutine.
func (a *App) LabHost() string { return a.labHost() }

// LabRoots verifies the teacher's lab (or a lab run by postlab serve).
func (a *App) LabRoots() *x509.CertPool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.opts.LabRoots
}

// labHost is the teacher's lab in use ("" when the lab is local).
func (a *App) labHost() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.labHostAddr
}

// labListener names the lab listener t talks to ("" when t is not the lab).
func (a *App) labListener(t Target) string {
	if l := a.Lab(); l != nil {
		for _, n := range []string{"smtp", "submission", "submissions", "pop3", "pop3s"} {
			if ad := l.Addr(n); ad != "" && ad == t.Addr() {
				return n
			}
		}
		return ""
	}
	if h := a.labHost(); h != "" && strings.EqualFold(h, t.Host) {
		for _, p := range presets {
			if p.listener != "" && p.defPort == t.Port {
				return p.listener
			}
		}
	}
	return ""
}

// useLabHost switches the app to a teacher's lab at host (UI goroutine):
// a lab running here stops, the presets point at host with the lab's
// default ports, and roots verify its certificate. host "" goes back to a
// lab of our own.
func (a *App) useLabHost(host string, roots *x509.CertPool) {
	a.mu.Lock()
	old := a.lab
	a.lab = nil
	a.labHostAddr = host
	subs := a.labSubs
	a.labSubs = nil
	a.mu.Unlock()
	for _, c := range subs {
		c()
	}
	if old != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			old.Close(ctx)
		}()
	}
	a.mu.Lock()
	a.opts.LabRoots = roots
	a.labFree, a.labDown = false, ""
	a.mu.Unlock()
	if host == "" {
		a.session.form.remote = ""
		a.mail.remoteLab("")
		a.slog.remoteLab("")
		if a.opts.StartLab != nil {
			a.startLab(false)
		} else {
			a.setLabMsg("lab off", false)
			a.mu.Lock()
			a.labDown = "it is off"
			a.mu.Unlock()
		}
		if a.lessons != nil {
			a.lessons.labChanged()
		}
		return
	}
	a.setLabMsg("teacher's lab: "+host, false)
	a.session.form.remote = host
	a.session.form.labChanged(nil)
	a.mail.remoteLab(host)
	a.slog.remoteLab(host)
	if a.lessons != nil {
		a.lessons.labChanged()
	}
}

// shortNames fit all the tabs in 80 columns.
var shortNames = map[string]string{"Mailboxes": "Mail", "Server log": "Log", "Troubleshoot": "Trouble"}

// tabs is the header line: the screens, the current one marked.
func (a *App) tabs(level int) string {
	var h strings.Builder
	if level < 2 {
		h.WriteString(a.th.tag("title") + " postlab " + a.th.reset())
	}
	for i, s := range a.screens {
		name := s.Name()
		if n, ok := shortNames[name]; ok && level >= 1 {
			name = n
		}
		if r := []rune(name); level >= 3 && len(r) > 4 {
			name = string(r[:4])
		}
		if i == a.current {
			fmt.Fprintf(&h, `["%d"]%s %d %s %s[""] `, i+1, a.th.tag("key"), i+1, name, a.th.reset())
		} else {
			fmt.Fprintf(&h, `["%d"] %d %s [""] `, i+1, i+1, name)
		}
	}
	return h.String()
}

// screenCapture gives the current screen its own keys first, when it has
// any.
func (a *App) screenCapture(ev *tcell.EventKey) *tcell.EventKey {
	if a.current < 0 {
		return ev
	}
	if c, ok := a.screens[a.current].(interface {
		capture(*tcell.EventKey) *tcell.EventKey
	}); ok {
		return c.capture(ev)
	}
	return ev
}
