package tui

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"

	"postlab/diag"
)

// diagnoseScreen is screen 4: a domain or address, then its findings as a
// tree (check -> finding -> detail, fix, reference).
type diagnoseScreen struct {
	a      *App
	root   *tview.Flex
	input  *tview.InputField
	tree   *tview.TreeView
	view   *fitTree // the tree as laid out
	detail *tview.TextView
	top    *tview.TreeNode
	nodes  map[string]*tview.TreeNode
	texts  map[*tview.TreeNode]nodeText // every line in full
	count  int
	runs   int  // number of the current run
	live   bool // progress of the current run may still be added
	// follow: during a run, until the user picks a line, nothing is
	// selected and the tree scrolls to the newest line (newest).
	follow bool
	newest *tview.TreeNode
	// intro: the detail pane shows what to type (introText), which
	// follows the lab as it starts, stops or moves to a teacher's.
	intro       bool
	placeholder string
	fresh       bool // the field got the focus by arrival and no key since
	// prog is the "n of m checks done" line above the tree while a
	// ProgressDiagnoser runs, and after it stops (progOn); it stays in
	// view however the tree scrolls. last is what it shows.
	prog     *tview.Box
	progOn   bool
	progText nodeText
	last     DiagProgress
	lastSeq  int // updates may arrive out of order: the line keeps the newest
}

// DiagProgress is a diagnosis under way: the findings of a check that has
// just finished (or of one part of it, such as one server's probe), and
// where the whole stands.
type DiagProgress struct {
	Findings []Finding
	Done     int      // checks finished
	Total    int      // checks in all
	Running  []string // the checks still running, in report order, as people read them ("MX", "SPF")
}

// ProgressDiagnoser is a Diagnoser that also tells, as each check
// finishes, which are done and which still run; the screen then shows
// each area as soon as its check completes. progress may be called from
// any goroutine, but not concurrently, and not after DiagnoseProgress
// returns.
type ProgressDiagnoser interface {
	Diagnoser
	DiagnoseProgress(ctx context.Context, target string, progress func(DiagProgress)) (Report, error)
}

func newDiagnoseScreen(a *App) *diagnoseScreen {
	d := &diagnoseScreen{a: a, intro: true, texts: map[*tview.TreeNode]nodeText{}}
	d.input = tview.NewInputField().SetLabel("Domain or address: ")
	d.input.SetFieldStyle(tcell.StyleDefault.Underline(true)).SetLabelStyle(a.th.label).SetPlaceholderStyle(a.th.dim)
	d.input.SetDoneFunc(func(k tcell.Key) {
		switch k {
		case tcell.KeyEnter:
			target := strings.TrimSpace(d.input.GetText())
			if target == "" && d.suggestion() != "" {
				target = d.suggestion() // Enter takes up the placeholder's offer
				d.input.SetText(target)
			}
			d.run(target)
		case tcell.KeyEscape:
			a.tv.SetFocus(d.tree)
		}
	})
	d.top = tview.NewTreeNode("findings").SetSelectable(false)
	d.tree = tview.NewTreeView().SetRoot(d.top).SetCurrentNode(d.top).SetTopLevel(1)
	d.tree.SetBorder(true).SetTitle(" findings ").SetTitleAlign(tview.AlignLeft)
	d.tree.SetChangedFunc(d.showNode)
	d.tree.SetSelectedFunc(func(n *tview.TreeNode) { n.SetExpanded(!n.IsExpanded()) })
	d.view = &fitTree{d.tree, d}
	// tview's Home/End (g/G) only scroll; here they select, so the detail
	// pane follows, as it does in the other lists of the app.
	d.tree.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		first := ev.Key() == tcell.KeyHome || (ev.Key() == tcell.KeyRune && ev.Rune() == 'g')
		last := ev.Key() == tcell.KeyEnd || (ev.Key() == tcell.KeyRune && ev.Rune() == 'G')
		step := false
		switch ev.Key() {
		case tcell.KeyUp, tcell.KeyDown, tcell.KeyLeft, tcell.KeyRight, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyCtrlF, tcell.KeyCtrlB:
			step = true
		case tcell.KeyRune:
			step = strings.ContainsRune("jkJK", ev.Rune())
		}
		if (first || last || step) && d.tree.GetCurrentNode() == nil && d.newest != nil {
			// Nothing is selected while a run is followed: the first key
			// picks the newest line, and the tree stops following.
			d.follow = false
			d.tree.SetCurrentNode(d.newest)
			d.showNode(d.newest)
			if step {
				return nil
			}
		}
		if !first && !last {
			return ev
		}
		n := d.tree.GetRowCount()
		if first {
			n = -n
		}
		d.tree.Move(n) // by visible selectable nodes, stopping at either end
		return nil
	})
	// A click or the wheel in the tree is the user's: stop following.
	d.tree.SetMouseCapture(func(action tview.MouseAction, ev *tcell.EventMouse) (tview.MouseAction, *tcell.EventMouse) {
		if ev != nil && action != tview.MouseMove && d.tree.InRect(ev.Position()) {
			d.follow = false
		}
		return action, ev
	})
	d.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	d.detail.SetBorder(true).SetTitle(" detail ").SetTitleAlign(tview.AlignLeft)
	d.prog = tview.NewBox()
	d.prog.SetDrawFunc(func(screen tcell.Screen, x, y, w, h int) (int, int, int, int) {
		tview.Print(screen, d.progText.fit(w), x, y, w, tview.AlignLeft, tview.Styles.PrimaryTextColor)
		return x, y, w, h
	})
	d.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(d.input, 1, 0, true).
		AddItem(d.prog, 0, 0, false).
		AddItem(d.view, 0, 3, false).
		AddItem(d.detail, 0, 2, false)
	// Before each frame: the introduction says what the lab answers now.
	d.root.SetDrawFunc(func(_ tcell.Screen, x, y, w, h int) (int, int, int, int) {
		d.refreshIntro()
		return x, y, w, h
	})
	d.refreshIntro()
	return d
}

// introText says what to type. postlab.test exists only where a lab
// answers DNS for it: this app's lab, or a teacher's (--lab-host).
func (d *diagnoseScreen) introText() (text, placeholder string) {
	if d.a.opts.Diagnoser == nil {
		return "Diagnostics are not built into this binary yet. When they are, type a domain (or an address) above and press Enter: postlab looks up its MX, SPF, DMARC and DKIM records and lists what it found, what is wrong, and how to fix it.", ""
	}
	const lab = "postlab.test  (type a name, Enter runs the checks)"
	if l := d.a.Lab(); l != nil && l.Addr("dns") != "" {
		return "Type a domain or an address above and press Enter. Try postlab.test (or alice@postlab.test for the settings of a mail program): the lab answers DNS for it.", lab
	}
	if h := d.a.LabHost(); h != "" {
		return "Type a domain or an address above and press Enter. Try postlab.test (or your classroom address): the teacher's lab at " + h + " answers DNS for it.", lab
	}
	return "Type your own domain (example.org) or address (you@example.org) above and press Enter. No lab answers DNS here now, so postlab.test does not exist for the resolver.", "example.org  (type a name, Enter runs the checks)"
}

// refreshIntro keeps the introduction (and the field's placeholder) in
// step with the lab, until a run or a message replaces it.
func (d *diagnoseScreen) refreshIntro() {
	text, ph := d.introText()
	if ph != d.placeholder {
		d.placeholder = ph
		d.input.SetPlaceholder(ph)
	}
	if d.intro && d.detail.GetText(false) != tview.Escape(text) {
		d.detail.SetText(tview.Escape(text))
	}
}

// targetProblem tells why s cannot be diagnosed ("" when it can): the
// status line's words, and more for the detail pane. An IP address has no
// mail records of its own, so it is not looked up as if it were a name.
func targetProblem(s string) (msg, more string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "type a domain or an address first", ""
	case isIPTarget(s):
		return "that is an IP address: type a domain or an address (user@domain)",
			"Diagnose looks up the mail records of a domain in DNS (MX, SPF, DMARC, DKIM, the settings of a mail program); an IP address has none of its own. To talk to the server at " + s + ", connect to it from the Session screen (1)."
	case strings.IndexFunc(s, unicode.IsSpace) >= 0 && !strings.ContainsAny(s, "<>"):
		return "a domain or an address has no spaces", "Type one name, such as example.org, or one address, such as you@example.org."
	}
	if _, err := diag.ParseTarget(s); err != nil {
		return oneLine(err.Error()), "Type a domain (example.org) or an address (you@example.org)."
	}
	return "", ""
}

// isIPTarget reports whether s is an IP address, alone or after "@": with
// or without brackets or a port, and the "IPv6:" tag of RFC 5321 §4.1.3.
func isIPTarget(s string) bool {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if _, err := netip.ParseAddrPort(s); err == nil {
		return true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if len(s) > 5 && strings.EqualFold(s[:5], "IPv6:") {
		s = s[5:]
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func (d *diagnoseScreen) Name() string          { return "Diagnose" }
func (d *diagnoseScreen) Root() tview.Primitive { return d.root }
func (d *diagnoseScreen) Focusables() []tview.Primitive {
	return []tview.Primitive{d.input, d.tree, d.detail}
}

// arrival is the field: the screen is there to type a name. While it is
// empty, digits still switch screens (see capture); Alt-1..6 always do.
func (d *diagnoseScreen) arrival() tview.Primitive {
	d.fresh = true
	return d.input
}

// suggestion is the name the placeholder offers when a lab answers DNS
// for it ("" otherwise: example.org is only an example).
func (d *diagnoseScreen) suggestion() string {
	_, ph := d.introText()
	if ph == "" || strings.HasPrefix(ph, "example.org") {
		return ""
	}
	name, _, _ := strings.Cut(ph, " ")
	return name
}

// capture sends letters typed outside the field into it.
func (d *diagnoseScreen) capture(ev *tcell.EventKey) *tcell.EventKey {
	r := ev.Rune()
	if d.input.HasFocus() {
		if d.fresh && ev.Key() == tcell.KeyRune && ev.Modifiers()&tcell.ModAlt == 0 &&
			d.input.GetText() == "" && r >= '1' && r <= '9' {
			// Straight after arrival digits still switch screens; once
			// a key went to the field, they are typed (203.0.113.5).
			d.a.Show(int(r - '1'))
			return nil
		}
		d.fresh = false
	}
	if ev.Key() != tcell.KeyRune || ev.Modifiers()&tcell.ModAlt != 0 || d.input.HasFocus() || !d.root.HasFocus() {
		return ev
	}
	if r == '/' {
		d.a.tv.SetFocus(d.input)
		return nil
	}
	// With findings shown, letters move in the tree (j, k, g, G).
	empty := len(d.nodes) == 0
	if empty && ((r >= 'a' && r <= 'z' && r != 'q') || (r >= 'A' && r <= 'Z' && r != 'L') || r == '@') {
		d.a.tv.SetFocus(d.input)
		d.input.SetText(d.input.GetText() + string(r))
		return nil
	}
	return ev
}

func (d *diagnoseScreen) Hints() []Hint {
	return []Hint{{"Enter", "run / expand", nil}, {"/", "name", func() { d.a.tv.SetFocus(d.input) }}}
}

// statusIcon marks a finding's outcome; the word stays for NO_COLOR.
func (d *diagnoseScreen) statusIcon(status string) string {
	switch strings.ToLower(status) {
	case "ok", "pass":
		return d.a.tag("ok") + "✔ ok  " + d.a.th.reset()
	case "warn", "warning":
		return d.a.tag("warn") + "▲ warn" + d.a.th.reset()
	case "fail":
		return d.a.tag("err") + "✘ fail" + d.a.th.reset()
	case "error":
		return d.a.tag("err") + "? err " + d.a.th.reset()
	case "skip":
		return d.a.tag("dim") + "- skip" + d.a.th.reset()
	}
	return d.a.tag("dim") + "i info" + d.a.th.reset()
}

func (d *diagnoseScreen) run(target string) {
	if target == "" {
		d.a.setStatus("type a domain or an address first", true)
		return
	}
	if d.a.opts.Diagnoser == nil {
		d.a.setStatus("diagnostics are not available in this build", true)
		return
	}
	if msg, more := targetProblem(target); msg != "" {
		// Not a name to look up: say so, leaving any earlier findings.
		d.a.setStatus(msg, true)
		d.intro = false
		d.detail.SetText(d.a.tag("warn") + tview.Escape(msg) + d.a.th.reset() + "\n" + tview.Escape(more))
		return
	}
	d.clear()
	d.runs++
	d.live = true
	d.intro = false
	run := d.runs
	// Nothing selected: the tree follows the newest line until the user
	// picks one.
	d.follow = true
	d.tree.SetCurrentNode(nil)
	d.tree.SetTitle(" findings for " + tview.Escape(target) + " (running) ")
	d.detail.SetText("Checking " + tview.Escape(target) + ": each area shows here as its check finishes; the arrows pick a line. Esc stops.")
	pd, staged := d.a.opts.Diagnoser.(ProgressDiagnoser)
	if staged {
		d.last, d.lastSeq = DiagProgress{}, 0
		d.showProgress(false)
	}
	var rep Report
	d.a.Go("checking "+target, func(ctx context.Context) error {
		var err error
		if staged {
			seq := 0 // progress calls are serialised
			rep, err = pd.DiagnoseProgress(ctx, target, func(p DiagProgress) {
				seq++
				n := seq
				d.a.QueueUpdateDraw(func() {
					if d.live && d.runs == run {
						d.progress(p, n)
					}
				})
			})
			return err
		}
		rep, err = d.a.opts.Diagnoser.Diagnose(ctx, target, func(f Finding) {
			d.a.QueueUpdateDraw(func() {
				if d.live && d.runs == run {
					d.add(f)
				}
			})
		})
		return err
	}, func(err error) {
		if d.runs != run {
			return
		}
		d.live = false
		d.follow = false
		if err != nil {
			d.tree.SetTitle(" findings for " + tview.Escape(target) + " (stopped) ")
			d.showProgress(true)
			d.stoppedText()
			return
		}
		// The line the user picked during the run stays picked.
		var picked any
		if n := d.tree.GetCurrentNode(); n != nil {
			picked = n.GetReference()
		}
		// The report is the truth: rebuild from it in its fixed order
		// (progress came in the order the checks finished).
		d.clear()
		for _, f := range rep.Findings {
			d.add(f)
		}
		d.scrollTop()
		d.finishAreas()
		if picked != nil {
			d.reselect(picked)
		}
		d.tree.SetTitle(fmt.Sprintf(" findings for %s: %d in %d ms (resolver %s) ", tview.Escape(rep.Target), len(rep.Findings), rep.DurationMS, tview.Escape(rep.Resolver)))
		d.a.setStatus(d.summary(rep), false)
	})
}

// cancelled ends the running checks' part on the screen at once (Esc):
// their late progress and report are dropped.
func (d *diagnoseScreen) cancelled() {
	if !d.live {
		return
	}
	d.live = false
	d.follow = false
	d.runs++
	d.tree.SetTitle(strings.Replace(d.tree.GetTitle(), "(running)", "(stopped)", 1))
	d.showProgress(true)
	d.stoppedText()
}

// stoppedText replaces "Checking …" in the detail pane when a run stops
// with no line picked.
func (d *diagnoseScreen) stoppedText() {
	if d.tree.GetCurrentNode() != nil {
		return
	}
	if d.count == 0 {
		d.detail.SetText("Stopped before any check finished. Enter in the field runs the checks again.")
		return
	}
	d.detail.SetText("Stopped: above are the findings of the checks that finished; the arrows pick a line. Enter in the field runs the checks again.")
}

// clear empties the tree and hides the progress line.
func (d *diagnoseScreen) clear() {
	d.top.ClearChildren()
	d.nodes = map[string]*tview.TreeNode{}
	d.texts = map[*tview.TreeNode]nodeText{}
	d.count = 0
	d.newest = nil
	d.progOn = false
	d.root.ResizeItem(d.prog, 0, 0)
}

// scrollTop scrolls the tree back to its first line (it may have
// followed a run down); the selection set next stays in view from there.
func (d *diagnoseScreen) scrollTop() {
	if kids := d.top.GetChildren(); len(kids) > 0 {
		d.tree.SetCurrentNode(kids[0])
		d.tree.Move(-1) // from the first line: to the top
	}
}

// reselect puts the cursor on the line whose reference is ref, opening
// what holds it; false if there is none.
func (d *diagnoseScreen) reselect(ref any) bool {
	var path []*tview.TreeNode
	var find func(n *tview.TreeNode) bool
	find = func(n *tview.TreeNode) bool {
		for _, c := range n.GetChildren() {
			path = append(path, c)
			if r := c.GetReference(); r != nil && r == ref || find(c) {
				return true
			}
			path = path[:len(path)-1]
		}
		return false
	}
	if !find(d.top) {
		return false
	}
	for _, p := range path[:len(path)-1] {
		p.SetExpanded(true)
	}
	n := path[len(path)-1]
	d.tree.SetCurrentNode(n)
	d.showNode(n)
	return true
}

// progress adds a finished check's findings and, unless a newer update
// came first, the progress line (UI goroutine).
func (d *diagnoseScreen) progress(p DiagProgress, seq int) {
	for _, f := range p.Findings {
		d.add(f)
	}
	if seq > d.lastSeq {
		d.last, d.lastSeq = p, seq
		d.showProgress(false)
	}
}

// showProgress writes the progress line: "6 of 9 checks done · running:
// MX, SPF", or after Esc or an error what was left unfinished.
func (d *diagnoseScreen) showProgress(stopped bool) {
	if stopped && !d.progOn {
		return // the run had no progress line
	}
	if !d.progOn {
		d.progOn = true
		d.root.ResizeItem(d.prog, 1, 0)
	}
	p := d.last
	names := strings.Join(p.Running, ", ")
	text := fmt.Sprintf("%d of %d checks done", p.Done, p.Total)
	stop := d.a.tag("warn") + "stopped" + d.a.th.reset()
	dim := func(s string) nodeText { return nodeText{pre: d.a.tag("dim"), plain: s, post: d.a.th.reset()} }
	var t nodeText
	switch {
	case p.Total == 0 && stopped:
		t = nodeText{pre: stop}
	case p.Total == 0:
		t = dim("starting the checks")
	case stopped && names != "":
		t = nodeText{pre: stop + ": ", plain: text + " · not finished: " + names}
	case stopped:
		t = nodeText{pre: stop + ": ", plain: text}
	case names != "":
		t = dim(text + " · running: " + names)
	default:
		t = dim(text)
	}
	d.progText = t
}

func (d *diagnoseScreen) summary(rep Report) string {
	n := map[string]int{}
	for _, f := range rep.Findings {
		n[strings.ToLower(f.Status)]++
	}
	return fmt.Sprintf("%s: %d passed, %d info, %d warnings, %d failed, %d could not run", rep.Target, n["ok"]+n["pass"], n["info"], n["warn"]+n["warning"], n["fail"], n["error"])
}

// add puts a finding under its check (UI goroutine).
func (d *diagnoseScreen) add(f Finding) {
	area, name, _ := strings.Cut(f.Check, ".")
	check := d.nodes[area]
	if check == nil {
		check = tview.NewTreeNode("").SetReference(area).
			SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel).SetExpanded(true)
		d.setText(check, d.areaTitle(area, ""))
		d.nodes[area] = check
		d.top.AddChild(check)
	}
	if group, rest, ok := strings.Cut(name, "."); ok {
		// "area.group.name": under a branch of the area.
		check, name = d.group(check, area, group), rest
	}
	label := d.statusIcon(f.Status) + " "
	if name != "" {
		label += d.a.tag("dim") + tview.Escape(name) + d.a.th.reset() + " "
	}
	n := tview.NewTreeNode("").SetReference(f).
		SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel)
	d.setText(n, nodeText{pre: label, plain: sanitize(f.Summary)})
	check.AddChild(n)
	d.count++
	d.newest = n
}

// setText gives a line of the tree its text, kept in full for fitTree.
func (d *diagnoseScreen) setText(n *tview.TreeNode, t nodeText) {
	d.texts[n] = t
	n.SetText(t.full())
}

// areaTitle is an area's line: "SPF  1 failed".
func (d *diagnoseScreen) areaTitle(name, counts string) nodeText {
	t := nodeText{pre: d.a.tag("title") + tview.Escape(strings.ToUpper(name)) + d.a.th.reset()}
	if counts != "" {
		t.pre += "  " + d.a.tag("dim")
		t.plain, t.post = counts, d.a.th.reset()
	}
	return t
}

// nodeText is a line of the tree: colour tags before and after a plain
// text, which alone is cut to fit.
type nodeText struct{ pre, plain, post string }

func (t nodeText) full() string { return t.pre + tview.Escape(t.plain) + t.post }

// fit is the line cut with "…" to width columns.
func (t nodeText) fit(width int) string {
	room := width - tview.TaggedStringWidth(t.pre)
	if room < 1 || runewidth.StringWidth(t.plain) <= room {
		return t.full()
	}
	return t.pre + tview.Escape(runewidth.Truncate(t.plain, room, "…")) + t.post
}

// treeIndent is how much further right each level of a tview tree starts:
// the branch graphics (1) and the default indent (2).
const treeIndent = 3

// fitTree is the findings tree as drawn: each line cut with "…" to the
// pane (the detail pane has it in full), and while a run is followed,
// scrolled so that the newest line shows.
type fitTree struct {
	*tview.TreeView
	d *diagnoseScreen
}

func (f *fitTree) Draw(screen tcell.Screen) {
	d := f.d
	_, _, width, height := f.GetInnerRect()
	var rows, cut []*tview.TreeNode
	var walk func(n *tview.TreeNode, x int)
	walk = func(n *tview.TreeNode, x int) {
		for _, c := range n.GetChildren() {
			rows = append(rows, c)
			if t, ok := d.texts[c]; ok {
				if s := t.fit(width - x); s != c.GetText() {
					c.SetText(s)
					cut = append(cut, c)
				}
			}
			if c.IsExpanded() {
				walk(c, x+treeIndent)
			}
		}
	}
	walk(d.top, 0) // the top level is drawn without indent (SetTopLevel(1))
	if d.follow && d.newest != nil && f.GetCurrentNode() == nil {
		// Without a selection, Move scrolls.
		for i, n := range rows {
			if n != d.newest {
				continue
			}
			off := f.GetScrollOffset()
			want := off
			if i < off {
				want = i
			} else if i >= off+height {
				want = i - height + 1
			}
			if want != off {
				f.Move(want - off)
			}
			break
		}
	}
	f.TreeView.Draw(screen)
	for _, c := range cut {
		c.SetText(d.texts[c].full())
	}
}

// groupRef marks a branch inside an area ("How these were found").
type groupRef struct{ area, name string }

// group returns the branch name of an area's node, adding it at the end.
func (d *diagnoseScreen) group(area *tview.TreeNode, areaName, name string) *tview.TreeNode {
	ref := groupRef{areaName, name}
	for _, c := range area.GetChildren() {
		if r, ok := c.GetReference().(groupRef); ok && r == ref {
			return c
		}
	}
	g := tview.NewTreeNode("").SetReference(ref).
		SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel).SetExpanded(true)
	d.setText(g, d.groupTitle(name, ""))
	area.AddChild(g)
	return g
}

func (d *diagnoseScreen) groupTitle(name, counts string) nodeText {
	title := groupTitles[name]
	if title == "" {
		title = name
	}
	t := nodeText{pre: d.a.tag("label") + tview.Escape(title) + d.a.th.reset()}
	if counts != "" {
		t.pre += "  " + d.a.tag("dim")
		t.plain, t.post = counts, d.a.th.reset()
	}
	return t
}

// severity orders statuses from best to worst.
func severity(status string) int {
	switch strings.ToLower(status) {
	case "ok", "pass":
		return 0
	case "info", "skip":
		return 1
	case "warn", "warning":
		return 2
	case "fail":
		return 3
	case "error":
		return 4
	}
	return 1
}

// finishAreas labels each area with its counts, folds the areas where all
// is well, and puts the cursor on the worst finding.
func (d *diagnoseScreen) finishAreas() {
	var worst *tview.TreeNode
	var worstGroup *tview.TreeNode // the branch worst is in, if any
	worstSev := -1
	// tally counts the findings under n (and its branches), folding each
	// branch where all is well.
	var tally func(n, group *tview.TreeNode, counts map[int]int) int
	tally = func(n, group *tview.TreeNode, counts map[int]int) int {
		nodeWorst := 0
		for _, c := range n.GetChildren() {
			if ref, ok := c.GetReference().(groupRef); ok {
				sub := map[int]int{}
				gw := tally(c, c, sub)
				for k, v := range sub {
					counts[k] += v
				}
				d.setText(c, d.groupTitle(ref.name, countWords(sub)))
				c.SetExpanded(gw >= 2)
				nodeWorst = max(nodeWorst, gw)
				continue
			}
			f, _ := c.GetReference().(Finding)
			sv := severity(f.Status)
			counts[sv]++
			nodeWorst = max(nodeWorst, sv)
			if sv > worstSev {
				worst, worstGroup, worstSev = c, group, sv
			}
		}
		return nodeWorst
	}
	for _, area := range d.top.GetChildren() {
		counts := map[int]int{}
		areaWorst := tally(area, nil, counts)
		name, _ := area.GetReference().(string)
		d.setText(area, d.areaTitle(name, countWords(counts)))
		area.SetExpanded(areaWorst >= 2)
	}
	if worst != nil && worstSev >= 2 {
		if worstGroup != nil {
			worstGroup.SetExpanded(true)
		}
		d.tree.SetCurrentNode(worst)
		d.showNode(worst)
	} else if kids := d.top.GetChildren(); len(kids) > 0 {
		d.tree.SetCurrentNode(kids[0])
		d.detail.SetText("No problems found. Enter on an area opens it; every finding has its detail and reference.")
	}
}

// countWords says how many findings of each outcome: "1 failed, 3 ok".
func countWords(counts map[int]int) string {
	var parts []string
	for _, p := range []struct {
		sev  int
		word string
	}{{4, "could not run"}, {3, "failed"}, {2, "warnings"}, {0, "ok"}, {1, "info"}} {
		if counts[p.sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[p.sev], p.word))
		}
	}
	return strings.Join(parts, ", ")
}

// groupAbout explains a branch in the detail pane.
var groupAbout = map[string]string{
	foundGroup: "How a mail program finds its settings, and what postlab asked: the domain's SRV records (RFC 6186), autoconfig files, the MX host, and guessed names, each tried on the standard ports. Each line says what that source named, or why it named nothing (the same notes as postlab settings ADDRESS prints under Discovery). Enter opens or closes this branch.",
}

func (d *diagnoseScreen) showNode(n *tview.TreeNode) {
	if g, ok := n.GetReference().(groupRef); ok {
		about := groupAbout[g.name]
		if about == "" {
			about = "Enter opens or closes this branch."
		}
		d.detail.SetText(tview.Escape(about))
		return
	}
	f, ok := n.GetReference().(Finding)
	if !ok {
		if len(n.GetChildren()) > 0 {
			d.detail.SetText("Enter opens or closes this area.")
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s%s%s\n", d.statusIcon(f.Status), d.a.tag("title"), tview.Escape(f.Summary), d.a.th.reset())
	if f.Detail != "" {
		b.WriteString(tview.Escape(f.Detail) + "\n")
	}
	if f.Fix != "" {
		fmt.Fprintf(&b, "%sFix:%s %s\n", d.a.tag("label"), d.a.th.reset(), tview.Escape(f.Fix))
	}
	if f.Ref != "" {
		fmt.Fprintf(&b, "%s(%s)%s", d.a.tag("dim"), tview.Escape(f.Ref), d.a.th.reset())
	}
	d.detail.SetText(b.String())
}
