package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// diagnoseScreen is screen 4: a domain or address, then its findings as a
// tree (check -> finding -> detail, fix, reference).
type diagnoseScreen struct {
	a      *App
	root   *tview.Flex
	input  *tview.InputField
	tree   *tview.TreeView
	detail *tview.TextView
	top    *tview.TreeNode
	nodes  map[string]*tview.TreeNode
	count  int
	runs   int  // number of the current run
	live   bool // progress of the current run may still be added
	// prog is the "n of m checks done" line atop the tree while a
	// ProgressDiagnoser runs (nil otherwise); last is what it shows.
	prog    *tview.TreeNode
	last    DiagProgress
	lastSeq int // updates may arrive out of order: the line keeps the newest
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
	d := &diagnoseScreen{a: a}
	d.input = tview.NewInputField().SetLabel("Domain or address: ").SetPlaceholder("postlab.test  (type a name, Enter runs the checks)")
	d.input.SetFieldStyle(tcell.StyleDefault.Underline(true)).SetLabelStyle(a.th.label).SetPlaceholderStyle(a.th.dim)
	d.input.SetDoneFunc(func(k tcell.Key) {
		switch k {
		case tcell.KeyEnter:
			d.run(strings.TrimSpace(d.input.GetText()))
		case tcell.KeyEscape:
			a.tv.SetFocus(d.tree)
		}
	})
	d.top = tview.NewTreeNode("findings").SetSelectable(false)
	d.tree = tview.NewTreeView().SetRoot(d.top).SetCurrentNode(d.top).SetTopLevel(1)
	d.tree.SetBorder(true).SetTitle(" findings ").SetTitleAlign(tview.AlignLeft)
	d.tree.SetChangedFunc(d.showNode)
	d.tree.SetSelectedFunc(func(n *tview.TreeNode) { n.SetExpanded(!n.IsExpanded()) })
	// tview's Home/End (g/G) only scroll; here they select, so the detail
	// pane follows, as it does in the other lists of the app.
	d.tree.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		first := ev.Key() == tcell.KeyHome || (ev.Key() == tcell.KeyRune && ev.Rune() == 'g')
		last := ev.Key() == tcell.KeyEnd || (ev.Key() == tcell.KeyRune && ev.Rune() == 'G')
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
	d.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	d.detail.SetBorder(true).SetTitle(" detail ").SetTitleAlign(tview.AlignLeft)
	if a.opts.Diagnoser == nil {
		d.detail.SetText("Diagnostics are not built into this binary yet. When they are, type a domain (or an address) above and press Enter: postlab looks up its MX, SPF, DMARC and DKIM records and lists what it found, what is wrong, and how to fix it.")
	} else {
		d.detail.SetText("Type a domain or an address above and press Enter. Try postlab.test: the lab answers DNS for it.")
	}
	d.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(d.input, 1, 0, true).
		AddItem(d.tree, 0, 3, false).
		AddItem(d.detail, 0, 2, false)
	return d
}

func (d *diagnoseScreen) Name() string          { return "Diagnose" }
func (d *diagnoseScreen) Root() tview.Primitive { return d.root }
func (d *diagnoseScreen) Focusables() []tview.Primitive {
	return []tview.Primitive{d.input, d.tree, d.detail}
}

// arrival is the findings tree, so the screen keys (1-6, q) work on
// arrival; typing a name starts in the field.
func (d *diagnoseScreen) arrival() tview.Primitive { return d.tree }

// capture sends letters typed outside the field into it.
func (d *diagnoseScreen) capture(ev *tcell.EventKey) *tcell.EventKey {
	r := ev.Rune()
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
	d.top.ClearChildren()
	d.nodes = map[string]*tview.TreeNode{}
	d.count = 0
	d.prog = nil
	d.runs++
	d.live = true
	run := d.runs
	d.tree.SetTitle(" findings for " + tview.Escape(target) + " (running) ")
	d.detail.SetText("Checking " + tview.Escape(target) + ": each area shows here as its check finishes. Esc stops.")
	pd, staged := d.a.opts.Diagnoser.(ProgressDiagnoser)
	if staged {
		d.last, d.lastSeq = DiagProgress{}, 0
		d.prog = tview.NewTreeNode("").SetSelectable(false).SetTextStyle(d.a.th.base)
		d.top.AddChild(d.prog)
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
		if err != nil {
			d.tree.SetTitle(" findings for " + tview.Escape(target) + " (stopped) ")
			d.showProgress(true)
			return
		}
		// The report is the truth: rebuild from it in its fixed order
		// (progress came in the order the checks finished).
		d.top.ClearChildren()
		d.nodes = map[string]*tview.TreeNode{}
		d.count = 0
		d.prog = nil
		for _, f := range rep.Findings {
			d.add(f)
		}
		d.finishAreas()
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
	d.runs++
	d.tree.SetTitle(strings.Replace(d.tree.GetTitle(), "(running)", "(stopped)", 1))
	d.showProgress(true)
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
	if d.prog == nil {
		return
	}
	p := d.last
	var names []string
	for _, n := range p.Running {
		names = append(names, tview.Escape(n))
	}
	text := fmt.Sprintf("%d of %d checks done", p.Done, p.Total)
	switch {
	case p.Total == 0 && stopped:
		text = d.a.tag("warn") + "stopped" + d.a.th.reset()
	case p.Total == 0:
		text = d.a.tag("dim") + "starting the checks" + d.a.th.reset()
	case stopped && len(names) > 0:
		text = d.a.tag("warn") + "stopped" + d.a.th.reset() + ": " + text + " · not finished: " + strings.Join(names, ", ")
	case stopped:
		text = d.a.tag("warn") + "stopped" + d.a.th.reset() + ": " + text
	case len(names) > 0:
		text = d.a.tag("dim") + text + " · running: " + strings.Join(names, ", ") + d.a.th.reset()
	default:
		text = d.a.tag("dim") + text + d.a.th.reset()
	}
	d.prog.SetText(text)
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
		check = tview.NewTreeNode(d.a.tag("title") + tview.Escape(strings.ToUpper(area)) + d.a.th.reset()).SetReference(area).
			SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel).SetExpanded(true)
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
	n := tview.NewTreeNode(label + tview.Escape(sanitize(f.Summary))).SetReference(f).
		SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel)
	check.AddChild(n)
	d.count++
	if d.count == 1 {
		d.tree.SetCurrentNode(n)
		d.showNode(n)
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
	g := tview.NewTreeNode(d.groupTitle(name, "")).SetReference(ref).
		SetTextStyle(d.a.th.base).SetSelectedTextStyle(d.a.th.sel).SetExpanded(true)
	area.AddChild(g)
	return g
}

func (d *diagnoseScreen) groupTitle(name, counts string) string {
	title := groupTitles[name]
	if title == "" {
		title = name
	}
	s := d.a.tag("label") + tview.Escape(title) + d.a.th.reset()
	if counts != "" {
		s += "  " + d.a.tag("dim") + counts + d.a.th.reset()
	}
	return s
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
				c.SetText(d.groupTitle(ref.name, countWords(sub)))
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
		area.SetText(d.a.tag("title") + tview.Escape(strings.ToUpper(name)) + d.a.th.reset() + "  " + d.a.tag("dim") + countWords(counts) + d.a.th.reset())
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
