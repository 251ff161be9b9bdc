package tui

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// sessionScreen is screen 1: the connect form, then the live session.
type sessionScreen struct {
	a       *App
	root    *tview.Pages
	form    *connectForm
	trace   *TraceModel
	view    *TraceView
	notes   *NotesView
	palette *Palette
	cmd     *tview.InputField
	body    *responsiveSplit
	cmds    *CommandModel

	target Target
	spill  *spillFile

	mu         sync.Mutex
	sess       Session
	queue      []string
	pumping    bool
	connecting bool
	dialCancel context.CancelFunc
	templates  map[string]string // palette entry shown -> its template
	state      explorer.State
	caps       []string
	drawWant   atomic.Bool

	completing bool
	// quitThenNew is the connection (connNum) to leave for the connect
	// form once the QUIT sent for Ctrl-N is answered; 0: none.
	quitThenNew uint64
	// inserted are the placeholders (<name>, <digest>...) that a palette
	// pick or a completion left on the command line: a line still holding
	// one is not sent.
	inserted []string
	// now is the clock for the Date of a composed message (nil: time.Now).
	now func() time.Time

	// onPage is told when the screen switches between "connect" and
	// "session" (the Lessons screen shows the same session beside a lesson).
	onPage    func(name string)
	curTarget Target // the target of the current connection, under mu

	subMu   sync.Mutex
	subs    map[int]func(uint64, explorer.Event)
	subID   int
	connNum atomic.Uint64 // number of the current connection
}

func (s *sessionScreen) subscribe(fn func(uint64, explorer.Event)) func() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.subs == nil {
		s.subs = map[int]func(uint64, explorer.Event){}
	}
	id := s.subID
	s.subID++
	s.subs[id] = fn
	return func() {
		s.subMu.Lock()
		delete(s.subs, id)
		s.subMu.Unlock()
	}
}

func newSessionScreen(a *App) *sessionScreen {
	s := &sessionScreen{a: a, root: tview.NewPages(), cmds: NewCommandModel(a.opts.Suggest)}
	// Completion offers what the palette shows: values, not templates.
	s.cmds.SetFill(func(c string) string { return s.fill(c, false) })
	s.trace = NewTraceModel(a.opts.TraceCapacity, a.opts.Annotate)
	if a.opts.SpillDir != "" {
		s.spill = &spillFile{dir: a.opts.SpillDir}
		s.trace.SetSpill(s.spill)
	}
	s.view = NewTraceView(s.trace, a.th)
	s.view.SetBorder(true).SetTitle(" trace ").SetTitleAlign(tview.AlignLeft)
	s.view.SetEmptyText("connecting…")
	s.notes = NewNotesView(s.trace, a.th)
	s.notes.SetBorder(true).SetTitle(" note ").SetTitleAlign(tview.AlignLeft)
	s.notes.SetHint("Select a line of the trace to see what it means.")
	s.palette = NewPalette(a.th, s.pick)
	s.cmd = tview.NewInputField().SetLabel("> ").SetPlaceholder("type a command, Enter sends; Tab completes; Ctrl-P palette")
	s.cmd.SetFieldStyle(tcell.StyleDefault).SetLabelStyle(a.th.label).SetPlaceholderStyle(a.th.dim)
	s.cmd.SetAutocompleteStyles(tcell.ColorDefault, a.th.base, a.th.sel)
	s.cmd.SetAutocompleteFunc(func(text string) []string {
		if !s.completing {
			return nil
		}
		st, caps := s.snapshot()
		return s.cmds.Complete(st, caps, text)
	})
	s.cmd.SetAutocompletedFunc(func(text string, index, source int) bool {
		if source == tview.AutocompletedNavigate {
			return false
		}
		s.setLine(text)
		s.completing = false
		return true
	})
	s.cmd.SetChangedFunc(func(string) {
		if s.cmd.GetText() == "" {
			s.completing = false
			s.inserted = nil // a line typed from scratch is the user's own
		}
	})
	s.cmd.SetInputCapture(s.cmdKeys)
	s.cmd.SetDoneFunc(func(k tcell.Key) {
		switch k {
		case tcell.KeyEnter:
			line := s.cmd.GetText()
			if line == "" && !s.blankLineMeant() {
				// An empty command line is a slip, not a command (it
				// would only earn a 500 or -ERR).
				s.a.setStatus("type a command (Ctrl-P shows what fits now)", false)
				return
			}
			if left := s.leftPlaceholders(line); len(left) > 0 {
				s.a.setStatus("replace "+strings.Join(left, ", ")+" with a value first: it would be sent as typed", true)
				return
			}
			s.cmd.SetText("")
			s.Send(line)
		case tcell.KeyEscape:
			if !a.hostedSession() {
				a.tv.SetFocus(s.view)
			}
		}
	})
	s.view.onEnter = func(uint64) { a.tv.SetFocus(s.cmd) }

	s.body = newResponsiveSplit(s.view, s.notes)
	session := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(s.body, 0, 1, false).
		AddItem(s.palette, 1, 0, false).
		AddItem(&pasteLines{s.cmd, s.Send, s.challenged}, 1, 0, true)
	session.SetInputCapture(s.sessionKeys)
	s.form = newConnectForm(a, s.connect)
	s.root.AddPage("connect", s.form.root, true, true)
	s.root.AddPage("session", session, true, false)
	return s
}

func (s *sessionScreen) Name() string          { return "Session" }
func (s *sessionScreen) Root() tview.Primitive { return s.root }

func (s *sessionScreen) Focusables() []tview.Primitive {
	if name, _ := s.root.GetFrontPage(); name == "connect" {
		return []tview.Primitive{s.form.form}
	}
	return []tview.Primitive{s.cmd, s.view, s.notes, s.palette}
}

func (s *sessionScreen) Hints() []Hint {
	if name, _ := s.root.GetFrontPage(); name == "connect" {
		return []Hint{{"Enter", "connect", s.form.submit}, {"Tab", "next field", nil}}
	}
	hs := []Hint{{"^P", "palette", s.focusPalette}}
	if st, _ := s.snapshot(); st.Proto == explorer.SMTP {
		hs = append(hs, Hint{"^O", "compose", s.compose})
	}
	return append(hs, Hint{"^S", "save", s.saveDialog}, Hint{"^N", "new", s.askNewConnection})
}

// sessionKeys are the Session screen's own shortcuts.
func (s *sessionScreen) sessionKeys(ev *tcell.EventKey) *tcell.EventKey {
	switch ev.Key() {
	case tcell.KeyCtrlP:
		s.focusPalette()
	case tcell.KeyCtrlO:
		s.compose()
	case tcell.KeyCtrlS:
		s.saveDialog()
	case tcell.KeyCtrlN:
		s.askNewConnection()
	default:
		return ev
	}
	return nil
}

// cmdKeys gives the command line its history.
func (s *sessionScreen) cmdKeys(ev *tcell.EventKey) *tcell.EventKey {
	if s.completing {
		return ev
	}
	switch ev.Key() {
	case tcell.KeyUp:
		s.cmd.SetText(s.cmds.Prev(s.cmd.GetText()))
		return nil
	case tcell.KeyDown:
		s.cmd.SetText(s.cmds.Next())
		return nil
	}
	return ev
}

// completeOnTab completes the command line; false when there is nothing to
// complete (an empty line: Tab moves focus instead).
func (s *sessionScreen) completeOnTab() bool {
	text := s.cmd.GetText()
	if text == "" {
		return false
	}
	st, caps := s.snapshot()
	c := s.cmds.Complete(st, caps, text)
	switch len(c) {
	case 0:
		s.a.setStatus("no command valid now starts with "+text, false)
	case 1:
		s.setLine(c[0])
	default:
		s.completing = true
		s.cmd.Autocomplete()
	}
	return true
}

func (s *sessionScreen) focusPalette() {
	if name, _ := s.root.GetFrontPage(); name == "session" {
		s.a.tv.SetFocus(s.palette)
	}
}

func (s *sessionScreen) snapshot() (explorer.State, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.caps
}

// refreshPalette reads the session's state (UI goroutine).
func (s *sessionScreen) refreshPalette() {
	s.mu.Lock()
	if s.sess != nil {
		s.state, s.caps = s.sess.State(), s.sess.Caps()
	}
	st, caps := s.state, s.caps
	s.mu.Unlock()
	items := s.cmds.Palette(st, caps)
	s.templates = map[string]string{}
	for i := range items {
		shown := s.fill(items[i].Command, false)
		s.templates[shown] = items[i].Command
		items[i].Command = shown
	}
	if st.Proto == explorer.SMTP && (st.Phase == explorer.PhaseRcpt || st.Phase == explorer.PhaseData) {
		items = append([]Suggestion{{Command: composeCommand, Why: "write the message with a helper"}}, items...)
	}
	if st.Phase == explorer.PhaseClosed {
		items = []Suggestion{{Command: newCommand, Why: "connect again"}}
	}
	s.palette.SetItems(items)
}

const (
	// Shown instead of a password or SASL credentials; the real ones are
	// filled in only when the line is sent.
	passwordPlaceholder    = "••••"
	credentialsPlaceholder = "<credentials>"
	digestPlaceholder      = "<digest>" // APOP's, filled in as the line is sent

	composeCommand = "compose…"
	newCommand     = "new connection…"
)

// pick handles a palette choice: helpers open, commands go to the
// command line and wait for Enter, those with credentials too (their
// placeholder is replaced only as the line is sent).
func (s *sessionScreen) pick(sg Suggestion) {
	switch sg.Command {
	case composeCommand:
		s.compose()
		return
	case newCommand:
		s.askNewConnection()
		return
	}
	line := sg.Command
	if tpl, ok := s.templates[sg.Command]; ok {
		line = s.fill(tpl, false)
	}
	why := sg.Why
	if placeholderRE.MatchString(line) && placeholderRE.FindString(line) == line {
		// Only a placeholder (<base64 response>): the user types it all.
		line, why = "", "type it: "+strings.TrimSuffix(why, ".")
	}
	s.setLine(line)
	s.a.tv.SetFocus(s.cmd)
	switch left := s.leftPlaceholders(line); {
	case len(left) > 0:
		s.a.setStatus("replace "+strings.Join(left, ", ")+" with a value, then Enter sends", false)
	case line != s.reveal(line):
		s.a.setStatus("Enter sends it with the connect form's credentials (never shown; the trace masks them)", false)
	case why != "":
		s.a.setStatus(why, false)
	}
}

// placeholderRE finds a template placeholder such as <your.host.name> or
// <base64 response>: words in angle brackets, without the @ of an address.
var placeholderRE = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9 ._-]*>`)

// setLine puts a line made by the app (a pick, a completion) on the command
// line and remembers the placeholders it holds.
func (s *sessionScreen) setLine(line string) {
	s.cmd.SetText(line)
	s.inserted = placeholderRE.FindAllString(line, -1)
}

// leftPlaceholders are the inserted placeholders that line would still
// send as typed once the credentials are filled in.
func (s *sessionScreen) leftPlaceholders(line string) []string {
	if len(s.inserted) == 0 {
		return nil
	}
	sent := s.reveal(line)
	var left []string
	for _, p := range s.inserted {
		if strings.Contains(sent, p) && !slices.Contains(left, p) {
			left = append(left, p)
		}
	}
	return left
}

// fill turns a suggestion template into a line that works: placeholders
// get the connect form's user and password, and the lab's users when the
// session is with the lab. Only the lab's practice passwords are put where
// they show, unless reveal is set.
func (s *sessionScreen) fill(c string, reveal bool) string {
	u, p := s.target.User, s.target.Password
	lab := s.target.Host != "" && s.a.labListener(s.target) != ""
	remote := lab && s.a.Lab() == nil // a teacher's lab: no practice users
	if strings.EqualFold(strings.TrimSpace(c), "AUTH PLAIN") && u != "" && p != "" {
		if !reveal {
			// Shown on the screen: the base64 is the password in clear.
			return "AUTH PLAIN " + credentialsPlaceholder
		}
		return "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+u+"\x00"+p))
	}
	if strings.Contains(c, digestPlaceholder) && p != "" && reveal {
		// Shown as <digest>: 32 hex digits would push the rest of the
		// palette (QUIT) off an 80-column screen.
		if d := s.apopDigest(p); d != "" {
			c = strings.ReplaceAll(c, digestPlaceholder, d)
		}
	}
	if p != "" && !reveal {
		// Never shown, practice passwords included: the same rule for all.
		p = passwordPlaceholder
	}
	from, to, other := "sender@example.org", "recipient@example.org", "another@example.org"
	if remote && u != "" {
		me := u
		if !strings.Contains(me, "@") {
			me += "@postlab.test"
		}
		from, to, other = me, me, me
	} else if remote {
		from, to, other = "student@postlab.test", "student@postlab.test", "student@postlab.test"
	} else if lab {
		from, to, other = "alice@postlab.test", "bob@postlab.test", "alice@postlab.test"
		if u == "bob" {
			from, to, other = "bob@postlab.test", "alice@postlab.test", "bob@postlab.test"
		}
	} else if strings.Contains(u, "@") {
		from = u // another server: the account's own address sends
	}
	name := u
	if name == "" && lab && !remote {
		name = "bob"
	}
	r := []string{
		"<your.host.name>", "client.postlab.test",
		"<sender@example.org>", "<" + from + ">",
		"<recipient@example.org>", "<" + to + ">",
		"<another@example.org>", "<" + other + ">",
		"<n>", "1",
		"<subject>", "hello from postlab",
	}
	if name != "" {
		r = append(r, "<name>", name, "<user>", name)
	}
	if p != "" {
		r = append(r, "<password>", p)
	}
	return strings.NewReplacer(r...).Replace(c)
}

// apopDigest is the APOP answer for the greeting's timestamp: the MD5 of
// timestamp and password in hex (RFC 1939 §7).
func (s *sessionScreen) apopDigest(password string) string {
	first, end := s.trace.Bounds()
	for q := first; q < end && q < first+20; q++ {
		e, _ := s.trace.At(q)
		if e.Event.Dir == explorer.ServerToClient && strings.HasPrefix(e.Event.Line, "+OK") {
			i, j := strings.IndexByte(e.Event.Line, '<'), strings.LastIndexByte(e.Event.Line, '>')
			if i >= 0 && j > i {
				sum := md5.Sum([]byte(e.Event.Line[i:j+1] + password))
				return hex.EncodeToString(sum[:])
			}
			return ""
		}
	}
	return ""
}

// onEvent receives trace events from any goroutine.
func (s *sessionScreen) onEvent(ev explorer.Event) {
	ev = cancelNote(ev)
	s.cmds.Observe(ev)
	s.trace.Append(Entry{Event: ev})
	if ev.Dir == explorer.Local && strings.HasPrefix(ev.Line, "connected to ") {
		n := s.connNum.Load()
		s.a.QueueUpdateDraw(func() {
			s.mu.Lock()
			waiting := s.connecting && s.connNum.Load() == n
			s.mu.Unlock()
			if waiting {
				s.a.setStatus("connected; waiting for the server's greeting…  (Esc cancels)", false)
			}
		})
	}
	s.subMu.Lock()
	fns := make([]func(uint64, explorer.Event), 0, len(s.subs))
	for _, f := range s.subs {
		fns = append(fns, f)
	}
	s.subMu.Unlock()
	n := s.connNum.Load()
	for _, f := range fns {
		f(n, ev)
	}
	s.requestDraw()
}

// requestDraw asks for one redraw however many events arrive meanwhile.
func (s *sessionScreen) requestDraw() {
	if s.drawWant.CompareAndSwap(false, true) {
		s.a.QueueUpdateDraw(func() { s.drawWant.Store(false) })
	}
}

// connect dials t and shows the session.
func (s *sessionScreen) connect(t Target) {
	if s.a.opts.Dial == nil {
		s.a.setStatus("sessions are not available in this build", true)
		return
	}
	s.close()
	if h := s.a.labHost(); h != "" && t.RootCAs == nil && strings.EqualFold(h, t.Host) {
		t.RootCAs = s.a.opts.LabRoots // the certificate the teacher handed out
	}
	if l := s.a.Lab(); l != nil && t.RootCAs == nil {
		// The lab's certificate is its own: trust it for the lab's addresses.
		for _, n := range []string{"smtp", "submission", "submissions", "pop3", "pop3s"} {
			if a := l.Addr(n); a != "" && a == t.Addr() {
				t.RootCAs = l.CertPool()
			}
		}
	}
	s.target = t
	s.mu.Lock()
	s.curTarget = t
	s.mu.Unlock()
	myConn := s.connNum.Add(1)
	s.mu.Lock()
	s.connecting = true
	s.mu.Unlock()
	s.trace.Clear()
	s.cmds.Reset()
	l := s.a.labListener(t)
	s.cmds.SetSubmission(l == "submission" || l == "submissions" || l == "" && (t.Port == 587 || t.Port == 465))
	if s.spill != nil {
		s.spill.reset()
	}
	s.mu.Lock()
	s.state = explorer.State{Proto: t.Proto, Phase: explorer.PhaseConnect}
	s.caps = nil
	s.mu.Unlock()
	s.refreshPalette()
	s.view.SetTitle(" " + tview.Escape(t.String()) + " ")
	s.setPage("session")
	s.a.showSession()
	s.a.tv.SetFocus(s.cmd)
	var sess Session
	// Events of a connection the user has left (Ctrl-N) stay out of the
	// next one's trace.
	events := func(ev explorer.Event) {
		if s.connNum.Load() == myConn {
			s.onEvent(ev)
		}
	}
	s.dialCancel = s.a.Go("connecting to "+t.Addr(), func(ctx context.Context) error {
		var err error
		sess, err = s.a.opts.Dial(ctx, t, events)
		return err
	}, func(err error) {
		if s.connNum.Load() != myConn {
			// The user moved on (a new connection) while this one dialled.
			if sess != nil {
				sess.Close()
			}
			return
		}
		s.mu.Lock()
		s.connecting = false
		if sess == nil {
			s.queue = nil
		}
		s.mu.Unlock()
		if sess == nil {
			// explorer records its own failures; add one only if it did not.
			_, end := s.trace.Bounds()
			last, ok := s.trace.At(end - 1)
			switch recorded := end > 0 && ok && (last.Event.Err || strings.HasPrefix(last.Event.Line, cancelledPrefix)); {
			case recorded:
			case errors.Is(err, context.Canceled):
				s.trace.Append(Entry{Event: explorer.Event{Time: time.Now(), Dir: explorer.Local, Line: cancelledPrefix + " while connecting: " + connectAgain}})
			default:
				s.trace.Append(Entry{Event: explorer.Event{Time: time.Now(), Dir: explorer.Local, Err: true, Line: "connect: " + oneLine(errString(err))}})
			}
			s.mu.Lock()
			s.state.Phase = explorer.PhaseClosed
			s.mu.Unlock()
			s.refreshPalette()
			return
		}
		// A session may come with an error (a refused greeting or
		// STARTTLS): keep it, its trace says what happened.
		s.mu.Lock()
		s.sess = sess
		s.mu.Unlock()
		s.refreshPalette()
		if err == nil {
			s.a.setStatus("connected to "+t.String()+": pick a command below (Ctrl-P) or type one", false)
		}
		s.pump() // lines typed while connecting
	})
}

const (
	cancelledPrefix = "cancelled (Esc)"
	connectAgain    = "the connection is closed; Ctrl-N connects again"
)

// cancelNote turns explorer's record of an operation the user cancelled
// ("error: read: context canceled") into what happened, in the app's words.
func cancelNote(ev explorer.Event) explorer.Event {
	l := ev.Line
	if ev.Dir != explorer.Local || !ev.Err || !strings.Contains(l, "context canceled") && !strings.Contains(l, "operation was canceled") {
		return ev
	}
	op, _, _ := strings.Cut(strings.TrimPrefix(l, "error: "), ":")
	what := "while waiting for the server"
	switch op {
	case "dial":
		what = "while connecting"
	case "tls":
		what = "during the TLS handshake"
	case "write":
		what = "while sending"
	case "read":
		if ev.State.Phase == explorer.PhaseConnect {
			what = "while waiting for the server's greeting"
		} else if ev.State.Command != "" {
			what = "while waiting for the reply to " + ev.State.Command
		}
	}
	ev.Line = cancelledPrefix + " " + what + ": " + connectAgain
	ev.Err = false // the user's doing, not a failure
	return ev
}

func errString(err error) string {
	if err == nil {
		return "no session"
	}
	return err.Error()
}

// Send queues one typed line for the session.
func (s *sessionScreen) Send(line string) { s.send(line, true) }

func (s *sessionScreen) send(line string, remember bool) {
	line = s.reveal(line)
	s.mu.Lock()
	if s.sess == nil && !s.connecting {
		s.mu.Unlock()
		s.a.setStatus("not connected: Ctrl-N opens the connect form", true)
		return
	}
	secret := s.carriesSecret(line)
	// The history is for commands: a message's lines typed after DATA's
	// 354 are content.
	content := s.state.Proto == explorer.SMTP && s.state.Phase == explorer.PhaseData
	if remember && !secret && !content {
		s.cmds.Add(line)
	}
	s.queue = append(s.queue, line)
	early := s.sess == nil
	s.mu.Unlock()
	if early {
		// The server has not spoken yet: say the line waits, not lost.
		shown := line
		if secret {
			shown = "(a line with credentials)"
		}
		s.trace.Append(Entry{Event: explorer.Event{Time: time.Now(), Dir: explorer.Local, Line: "queued until the server's greeting: " + shown}})
		s.a.setStatus("waiting for the greeting… the line is sent once the server speaks", false)
	}
	s.trace.End() // what you send and its reply come into view
	s.pump()
}

// pump sends the queued lines in order, one goroutine at a time; lines
// typed while connecting wait for the session.
func (s *sessionScreen) pump() {
	s.mu.Lock()
	sess := s.sess
	if sess == nil || s.pumping || len(s.queue) == 0 {
		s.mu.Unlock()
		return
	}
	s.pumping = true
	s.mu.Unlock()
	s.a.Go("waiting for the server", func(ctx context.Context) error {
		for {
			s.mu.Lock()
			if len(s.queue) == 0 || s.sess != sess {
				s.queue, s.pumping = nil, false
				s.mu.Unlock()
				return nil
			}
			l := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if err := sess.SendLine(ctx, l); err != nil {
				s.mu.Lock()
				s.queue, s.pumping = nil, false
				s.mu.Unlock()
				return err
			}
		}
	}, func(err error) {
		s.refreshPalette()
		if n := s.quitThenNew; n != 0 && n == s.connNum.Load() {
			s.quitThenNew = 0
			t := s.connTarget()
			s.newConnection()
			s.a.setStatus("sent QUIT to "+t.String()+"; the form connects again", false)
		}
	})
}

// close ends the current session, if any.
func (s *sessionScreen) close() {
	s.mu.Lock()
	sess := s.sess
	s.sess, s.queue = nil, nil
	s.mu.Unlock()
	if sess != nil {
		sess.Close()
	}
}

// blankLineMeant reports whether an empty line is meant now: a line of a
// message after DATA (the blank line ending the headers), an empty SASL
// answer.
func (s *sessionScreen) blankLineMeant() bool {
	st, _ := s.snapshot()
	return st.Phase == explorer.PhaseData || st.Phase == explorer.PhaseAuth || s.challenged()
}

// askNewConnection opens the connect form (Ctrl-N), asking first while a
// session is open, as quitting does: y ends it with QUIT (which commits a
// POP3 session's DELE marks, RFC 1939 §6), any other key keeps it.
func (s *sessionScreen) askNewConnection() {
	t, live := s.a.liveSession()
	s.mu.Lock()
	sess, dialling := s.sess, s.connecting
	s.mu.Unlock()
	if !live || dialling || sess == nil {
		s.newConnection() // nothing said yet is lost: a dial is abandoned
		return
	}
	st := sess.State()
	q := "End the session to " + t.String() + "? y sends QUIT first, then opens the connect form; any other key keeps the session."
	yes := func() {
		s.quitThenNew = s.connNum.Load()
		s.send("QUIT", false)
	}
	switch {
	case st.Phase == explorer.PhaseData:
		q = "End the session to " + t.String() + "? QUIT would be a line of the message: y drops the connection, the message is not sent; any other key keeps the session."
		yes = s.newConnection
	case st.Phase == explorer.PhaseAuth || s.challenged():
		q = "End the session to " + t.String() + "? The server waits for a login answer: y drops the connection; any other key keeps the session."
		yes = s.newConnection
	case st.Proto == explorer.POP3 && st.Phase == explorer.PhaseTrans:
		q += " QUIT makes the server delete the messages marked with DELE (RFC 1939 §6); RSET first to keep them."
	}
	s.a.ask("new", "new connection", q, "end it, then new", yes, "Kept the session to "+t.String()+".")
}

func (s *sessionScreen) newConnection() {
	s.close()
	s.connNum.Add(1) // a dial still running is abandoned
	if s.dialCancel != nil {
		s.dialCancel()
	}
	s.mu.Lock()
	s.connecting = false
	s.mu.Unlock()
	s.setPage("connect")
	// Always the first field, wherever the form's focus was left: Tab,
	// Tab, Enter must do the same thing every time. Form.SetFocus marks
	// the field focused on its own; only the app may give it the keys
	// (tview hands keys to whatever says it has the focus, even hidden).
	s.form.form.SetFocus(0)
	s.form.preset.Blur()
	s.a.showSession()
	if s.a.hostedSession() {
		// Beside a lesson the picker of lab sessions stands for the form:
		// it takes the keys, so Enter opens a session.
		s.a.tv.SetFocus(s.a.lessons.presets)
	}
}

// setPage shows the connect form ("connect") or the session ("session").
func (s *sessionScreen) setPage(name string) {
	s.root.SwitchToPage(name)
	if s.onPage != nil {
		s.onPage(name)
	}
}

// pageName is the page shown: "connect" or "session".
func (s *sessionScreen) pageName() string {
	name, _ := s.root.GetFrontPage()
	return name
}

// connTarget is the target of the current connection (any goroutine).
func (s *sessionScreen) connTarget() Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.curTarget
}

// labChanged points the connect form at a (re)started lab.
func (s *sessionScreen) labChanged(l Lab) { s.form.labChanged(l) }

// responsiveSplit puts the notes beside the trace on wide terminals and
// below it otherwise (80x24 keeps 4 lines of note). With sideShare the
// side gets about half the room (a lesson beside its session).
type responsiveSplit struct {
	*tview.Flex
	main, side tview.Primitive
	wide       bool
	init       bool
	sideShare  bool
}

func newResponsiveSplit(main, side tview.Primitive) *responsiveSplit {
	r := &responsiveSplit{Flex: tview.NewFlex(), main: main, side: side}
	r.AddItem(main, 0, 1, true).AddItem(side, 6, 0, false)
	r.SetDirection(tview.FlexRow)
	return r
}

func (r *responsiveSplit) Draw(screen tcell.Screen) {
	_, _, w, h := r.GetRect()
	wide := w >= 120
	if wide != r.wide || !r.init {
		r.wide, r.init = wide, true
		if wide {
			r.SetDirection(tview.FlexColumn)
		} else {
			r.SetDirection(tview.FlexRow)
		}
	}
	switch {
	case wide && r.sideShare:
		r.ResizeItem(r.side, w*11/20, 0)
	case wide:
		r.ResizeItem(r.side, w*2/5, 0)
	case r.sideShare:
		r.ResizeItem(r.side, max(6, h/2), 0)
	default:
		r.ResizeItem(r.side, max(4, min(10, h/3)), 0)
	}
	r.Flex.Draw(screen)
}

// connectForm is the Session screen's first page.
type connectForm struct {
	a        *App
	root     *tview.Flex
	intro    *tview.TextView
	form     *tview.Form
	preset   *tview.DropDown
	proto    *tview.DropDown
	host     *tview.InputField
	port     *tview.InputField
	security *tview.DropDown
	user     *tview.InputField
	pass     *tview.InputField
	onGo     func(Target)
	lab      Lab
	ready    bool
	remote   string // a teacher's lab host, or ""
}

type preset struct {
	label, listener string
	proto           explorer.Protocol
	sec             Security
	user, pass      string
	defPort         int
}

var presets = []preset{
	{"lab SMTP (MX role, no login)", "smtp", explorer.SMTP, Plain, "", "", 2525},
	{"lab submission (STARTTLS + login)", "submission", explorer.SMTP, StartTLS, "alice", "wonderland", 2587},
	{"lab submissions (TLS + login)", "submissions", explorer.SMTP, TLS, "alice", "wonderland", 2465},
	{"lab POP3 (STLS)", "pop3", explorer.POP3, StartTLS, "bob", "builder", 2110},
	{"lab POP3S (TLS)", "pop3s", explorer.POP3, TLS, "bob", "builder", 2995},
	{"another server", "", explorer.SMTP, StartTLS, "", "", 587},
}

var securities = []Security{Plain, StartTLS, TLS}

func newConnectForm(a *App, onGo func(Target)) *connectForm {
	f := &connectForm{a: a, onGo: onGo}
	f.intro = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	f.setIntro()
	f.form = tview.NewForm()
	f.form.SetItemPadding(0).SetButtonsAlign(tview.AlignLeft)
	f.form.SetFieldBackgroundColor(tcell.ColorDefault)
	if a.th.noColor {
		f.form.SetButtonStyle(tcell.StyleDefault.Reverse(true)).SetButtonActivatedStyle(tcell.StyleDefault.Reverse(true).Bold(true))
	}
	labels := make([]string, len(presets))
	for i, p := range presets {
		labels[i] = p.label
	}
	f.preset = tview.NewDropDown().SetLabel("Server   ").SetOptions(labels, func(_ string, i int) {
		f.applyPreset(i)
		if f.ready && presets[i].listener != "" && f.form.HasFocus() {
			if f.remote != "" && presets[i].user != "" {
				// On a teacher's lab the account is the student's own.
				f.form.SetFocus(5)
				a.tv.SetFocus(f.form)
				return
			}
			// A lab preset is complete: Enter connects.
			f.form.SetFocus(f.form.GetFormItemCount())
			a.tv.SetFocus(f.form)
		}
	})
	f.proto = tview.NewDropDown().SetLabel("Protocol ").SetOptions([]string{"SMTP", "POP3"}, nil)
	f.host = tview.NewInputField().SetLabel("Host     ").SetFieldWidth(30)
	f.port = tview.NewInputField().SetLabel("Port     ").SetFieldWidth(6).SetAcceptanceFunc(tview.InputFieldInteger)
	f.security = tview.NewDropDown().SetLabel("Security ").SetOptions([]string{"plain", "STARTTLS / STLS", "TLS (implicit)"}, nil)
	f.user = tview.NewInputField().SetLabel("User     ").SetFieldWidth(30)
	f.pass = tview.NewInputField().SetLabel("Password ").SetFieldWidth(30).SetMaskCharacter('*')
	for _, d := range []*tview.DropDown{f.preset, f.proto, f.security} {
		d.SetListStyles(a.th.base, a.th.sel)
		if a.th.noColor {
			d.SetFieldStyle(tcell.StyleDefault.Underline(true))
		}
	}
	for _, in := range []*tview.InputField{f.host, f.port, f.user, f.pass} {
		if a.th.noColor {
			in.SetFieldStyle(tcell.StyleDefault.Underline(true))
		}
		in.SetDoneFunc(func(k tcell.Key) {
			if k == tcell.KeyEnter {
				// After the form has moved its own focus on Enter, so the
				// session's command line keeps the focus connect gives it.
				a.QueueUpdateDraw(f.submit)
			}
		})
	}
	for _, d := range []*tview.DropDown{f.preset, f.proto, f.security} {
		a.th.dropDown(d)
	}
	for _, in := range []*tview.InputField{f.host, f.port, f.user, f.pass} {
		a.th.input(in, false)
	}
	f.form.AddFormItem(f.preset).AddFormItem(f.proto).AddFormItem(f.host).AddFormItem(f.port).
		AddFormItem(f.security).AddFormItem(f.user).AddFormItem(f.pass).
		AddButton("Connect", f.submit).
		AddButton("Teacher's lab…", func() { a.labHostDialog() })
	f.form.SetBorder(true).SetTitle(" connect ").SetTitleAlign(tview.AlignLeft)
	f.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(f.intro, 3, 0, false).
		AddItem(f.form, 0, 1, true)
	f.preset.SetCurrentOption(0)
	f.form.SetFocus(f.form.GetFormItemCount()) // the Connect button: Enter goes
	f.ready = true
	return f
}

func (f *connectForm) labAddr(p preset) (string, int) {
	if f.remote != "" && p.listener != "" {
		return f.remote, p.defPort
	}
	if f.lab != nil && p.listener != "" {
		if host, port, err := net.SplitHostPort(f.lab.Addr(p.listener)); err == nil {
			n, _ := strconv.Atoi(port)
			return host, n
		}
	}
	if p.listener == "" {
		return "", p.defPort
	}
	return "127.0.0.1", p.defPort
}

func (f *connectForm) applyPreset(i int) {
	if i < 0 || i >= len(presets) {
		return
	}
	p := presets[i]
	host, port := f.labAddr(p)
	if f.remote != "" {
		p.user, p.pass = "", "" // students type their own account
	}
	f.fill(Target{Proto: p.proto, Host: host, Port: port, Security: p.sec, User: p.user, Password: p.pass})
}

// fill shows t in the fields.
func (f *connectForm) fill(t Target) {
	if t.Proto == explorer.POP3 {
		f.proto.SetCurrentOption(1)
	} else {
		f.proto.SetCurrentOption(0)
	}
	f.host.SetText(t.Host)
	f.port.SetText(strconv.Itoa(t.Port))
	for i, s := range securities {
		if s == t.Security {
			f.security.SetCurrentOption(i)
		}
	}
	f.user.SetText(t.User)
	f.pass.SetText(t.Password)
}

// setIntro says what postlab is and what Enter does.
func (f *connectForm) setIntro() {
	a := f.a
	k := func(s string) string { return a.th.tag("label") + s + a.th.reset() }
	where := "the lab (a practice mail server here)"
	// The lab's practice users (README, "The lab's defaults"), so that a
	// login typed by hand is not a guess.
	logins := "Practice logins: " + k("alice") + " / wonderland, " + k("bob") + " / builder (the presets fill them in)"
	if f.remote != "" {
		where = "the teacher's lab at " + tview.Escape(f.remote)
		logins = "Log in with the account and password your teacher gave you."
	} else if f.a.opts.NoLab || f.a.opts.StartLab == nil {
		where = "the server in the form (no lab here: --no-lab)"
		logins = ""
	}
	f.intro.SetText(a.th.tag("title") + "postlab" + a.th.reset() + " runs real SMTP and POP3 sessions and explains every line, with its RFC.\n" +
		k("Enter") + " connects to " + where + " · " + k("Tab") + " moves · " + k("?") + " help\n" + logins)
}

func (f *connectForm) labChanged(l Lab) {
	f.setIntro()
	f.lab = l
	i, _ := f.preset.GetCurrentOption()
	f.applyPreset(i)
}

// target reads the fields.
func (f *connectForm) target() (Target, error) {
	var t Target
	if i, _ := f.proto.GetCurrentOption(); i == 1 {
		t.Proto = explorer.POP3
	} else {
		t.Proto = explorer.SMTP
	}
	i, _ := f.security.GetCurrentOption()
	t.Security = securities[max(0, i)]
	t.Host = strings.TrimSpace(f.host.GetText())
	if t.Host == "" {
		return t, fmt.Errorf("type a host name")
	}
	n, err := strconv.Atoi(f.port.GetText())
	if err != nil || n < 1 || n > 65535 {
		return t, fmt.Errorf("the port must be a number from 1 to 65535")
	}
	t.Port = n
	t.User = strings.TrimSpace(f.user.GetText())
	t.Password = f.pass.GetText()
	if pi, _ := f.preset.GetCurrentOption(); pi >= 0 && presets[pi].listener != "" {
		if f.lab != nil && f.remote == "" {
			t.RootCAs = f.lab.CertPool()
		} else {
			t.RootCAs = f.a.opts.LabRoots
		}
	}
	return t, nil
}

func (f *connectForm) submit() {
	t, err := f.target()
	if err != nil {
		f.a.setStatus(err.Error(), true)
		return
	}
	f.onGo(t)
}

// pasteLines is the command line as a paste target: a pasted text of
// several lines is sent line by line, as if each were typed and Entered.
type pasteLines struct {
	*tview.InputField
	send  func(string)
	blind func() bool // the whole line is a secret (a SASL answer)
}

func (p *pasteLines) PasteHandler() func(string, func(tview.Primitive)) {
	inner := p.InputField.PasteHandler()
	return func(text string, setFocus func(tview.Primitive)) {
		lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
		for _, l := range lines[:len(lines)-1] {
			line := p.GetText() + l
			p.SetText("")
			p.send(line)
		}
		inner(lines[len(lines)-1], setFocus)
	}
}

// Draw draws the command line, then covers the secret a typed line
// carries (PASS's argument, APOP's digest, AUTH's initial response, a
// whole line after a SASL challenge) with '*': the line is sent as typed,
// only the screen hides it.
func (p *pasteLines) Draw(screen tcell.Screen) {
	p.InputField.Draw(screen)
	text := p.GetText()
	k := secretStart(text)
	if text != "" && p.blind != nil && p.blind() {
		k = 0 // asked for at draw time: the challenge may be new
	}
	if k < 0 {
		return
	}
	x, y, w, h := p.GetInnerRect()
	if h < 1 {
		return
	}
	// The field scrolls a long line: find which part of the text each
	// cell shows by matching the cells against the text.
	var xs []int
	var shown []rune
	for cx := x + tview.TaggedStringWidth(p.GetLabel()); cx < x+w; {
		r, _, _, cw := screen.GetContent(cx, y)
		xs, shown = append(xs, cx), append(shown, r)
		cx += max(1, cw)
	}
	t := []rune(text)
	from := utf8.RuneCountInString(text[:k])
	mask := make([]bool, len(shown))
	matched := false
	for off := 0; off <= len(t); off++ {
		ok := true
		for i, r := range shown {
			if j := off + i; j < len(t) && r != t[j] || j >= len(t) && r != ' ' && r != 0 {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		matched = true // every reading that fits is masked: never too little
		for i := range shown {
			if j := off + i; j >= from && j < len(t) {
				mask[i] = true
			}
		}
	}
	for i, cx := range xs {
		if mask[i] || !matched && shown[i] != ' ' && shown[i] != 0 {
			_, _, st, _ := screen.GetContent(cx, y)
			screen.SetContent(cx, y, '*', nil, st)
		}
	}
}

// secretStart is where the secret of a typed line begins: the argument of
// PASS and APOP's digest (RFC 1939 §7), the initial response of AUTH
// (RFC 4954 §4, RFC 5034 §4); -1 when the line has none, or holds the
// app's own placeholder.
func secretStart(line string) int {
	words := 1 // PASS: the secret is the second word
	verb, _, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
	switch strings.ToUpper(verb) {
	case "PASS":
	case "AUTH", "APOP":
		words = 2
	default:
		return -1
	}
	i := len(line) - len(strings.TrimLeft(line, " "))
	for n := 0; n < words; n++ {
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			return -1
		}
		i += j
		i += len(line[i:]) - len(strings.TrimLeft(line[i:], " "))
	}
	if rest := strings.TrimSpace(line[i:]); rest == "" || rest == passwordPlaceholder || rest == credentialsPlaceholder || rest == digestPlaceholder {
		return -1
	}
	return i
}

// carriesSecret reports whether a typed line holds a password or a SASL
// answer (PASS, APOP's digest, AUTH with an initial response, any line
// answering a 334 or "+ " challenge): such lines are sent but never kept
// in the history.
func (s *sessionScreen) carriesSecret(line string) bool {
	f := strings.Fields(strings.ToUpper(line))
	switch {
	case len(f) >= 2 && f[0] == "PASS":
		return true
	case len(f) >= 3 && f[0] == "AUTH":
		return true // the initial response carries the credentials
	case len(f) >= 3 && f[0] == "APOP":
		return true // the digest stands for the password
	}
	return s.challenged()
}

// challenged reports whether the server's last line is a SASL challenge
// (334 or "+ "), so the next line typed is a credential.
func (s *sessionScreen) challenged() bool {
	_, end := s.trace.Bounds()
	// Sequence numbers are unsigned: count back, never below zero.
	for n := uint64(1); n <= 5 && n <= end; n++ {
		e, ok := s.trace.At(end - n)
		if !ok {
			break
		}
		if e.Event.Dir == explorer.ServerToClient {
			l := e.Event.Line
			return strings.HasPrefix(l, "334 ") || l == "334" || strings.HasPrefix(l, "+ ") || l == "+"
		}
		if e.Event.Dir == explorer.ClientToServer {
			return false
		}
	}
	return false
}

// reveal puts the connect form's password where a line shows its
// placeholder, just before the line is sent.
func (s *sessionScreen) reveal(line string) string {
	if s.target.Password == "" {
		return line
	}
	if strings.EqualFold(strings.TrimSpace(line), "AUTH PLAIN "+credentialsPlaceholder) {
		return s.fill("AUTH PLAIN", true)
	}
	if strings.Contains(line, digestPlaceholder) {
		if d := s.apopDigest(s.target.Password); d != "" {
			line = strings.ReplaceAll(line, digestPlaceholder, d)
		}
	}
	return strings.ReplaceAll(line, passwordPlaceholder, s.target.Password)
}
