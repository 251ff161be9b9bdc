package tui

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/diag"
)

// troubleScreen is screen 6: paste or open a reply line, a bounce or a
// whole message; package diag says what it is (diag.Troubleshoot) and the
// answer appears as a tree (recipients, hops, authentication results) with
// the fix on top. Reply codes per RFC 5321 §4.2 and RFC 3463, bounces per
// RFC 3464, headers per RFC 5321 §4.4, RFC 8601 and RFC 8617.
type troubleScreen struct {
	a      *App
	root   *tview.Flex
	file   *tview.InputField
	paste  *pasteArea
	fix    *tview.TextView
	box    *tview.Flex // fix over tree
	tree   *tview.TreeView
	top    *tview.TreeNode
	detail *tview.TextView

	loaded      []byte // a file's content, while the paste area shows it
	loadedShown string // what of it the paste area shows
	runs        int
	last        *diag.TroubleshootResult
}

// pasteArea is a TextArea that analyses what is pasted into it at once.
type pasteArea struct {
	*tview.TextArea
	onPaste func()
}

func (p *pasteArea) PasteHandler() func(string, func(tview.Primitive)) {
	inner := p.TextArea.PasteHandler()
	return func(text string, setFocus func(tview.Primitive)) {
		inner(text, setFocus)
		if p.onPaste != nil {
			p.onPaste()
		}
	}
}

// pasteShowMax is how much of an opened file the paste area shows.
const pasteShowMax = 64 << 10

func newTroubleScreen(a *App) *troubleScreen {
	t := &troubleScreen{a: a}
	t.file = tview.NewInputField().SetLabel("Open file: ").SetPlaceholder("path of a saved bounce or message (.eml), Enter reads it")
	t.file.SetFieldStyle(tcell.StyleDefault.Underline(true)).SetLabelStyle(a.th.label).SetPlaceholderStyle(a.th.dim)
	t.file.SetDoneFunc(func(k tcell.Key) {
		switch k {
		case tcell.KeyEnter:
			t.open(strings.TrimSpace(t.file.GetText()))
		case tcell.KeyEscape:
			a.tv.SetFocus(t.tree)
		}
	})
	t.paste = &pasteArea{TextArea: tview.NewTextArea()}
	t.paste.SetPlaceholder("Paste here: a reply line (550 5.1.1 <bob@example.org>: User unknown), a bounce, or a whole message with its headers. Ctrl-R explains.")
	t.paste.SetPlaceholderStyle(a.th.dim).SetTextStyle(a.th.base)
	t.paste.SetBorder(true).SetTitle(pasteTitle).SetTitleAlign(tview.AlignLeft)
	t.paste.onPaste = func() { t.loaded = nil; t.analyze() }
	t.fix = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	t.top = tview.NewTreeNode("").SetSelectable(false)
	t.tree = tview.NewTreeView().SetRoot(t.top).SetCurrentNode(t.top).SetTopLevel(1)
	t.tree.SetChangedFunc(t.showNode)
	t.tree.SetSelectedFunc(func(n *tview.TreeNode) { n.SetExpanded(!n.IsExpanded()) })
	t.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	t.detail.SetBorder(true).SetTitle(" detail ").SetTitleAlign(tview.AlignLeft)
	results := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(t.fix, 2, 0, false).AddItem(&cutTree{t.tree, t.top}, 0, 1, false)
	results.SetBorder(true).SetTitle(" explanation ").SetTitleAlign(tview.AlignLeft)
	t.box = results
	t.fix.SetText(a.tag("dim") + fixWaiting + a.th.reset())
	t.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(t.file, 1, 0, false).
		AddItem(t.paste, 5, 0, true).
		AddItem(results, 0, 3, false).
		AddItem(t.detail, 0, 1, false)
	t.root.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Key() {
		case tcell.KeyCtrlR:
			t.analyze()
			return nil
		case tcell.KeyCtrlO:
			a.tv.SetFocus(t.file)
			return nil
		case tcell.KeyCtrlL:
			t.clear()
			return nil
		case tcell.KeyEscape:
			if a.tv.GetFocus() == t.paste.TextArea && !a.Busy() {
				a.tv.SetFocus(t.tree)
				return nil
			}
		}
		return ev
	})
	return t
}

func (t *troubleScreen) Name() string          { return "Troubleshoot" }
func (t *troubleScreen) Root() tview.Primitive { return t.root }
func (t *troubleScreen) Focusables() []tview.Primitive {
	return []tview.Primitive{t.paste.TextArea, t.tree, t.detail, t.file}
}
func (t *troubleScreen) Hints() []Hint {
	return []Hint{{"^R", "explain", t.analyze}, {"^O", "open file", func() { t.a.tv.SetFocus(t.file) }}, {"^L", "clear", t.clear}}
}

const (
	pasteTitle = " paste (Ctrl-R explains) "
	fixWaiting = "The fix appears here, the whole explanation below it."
)

// clear empties the paste box (Ctrl-Z there brings the text back) and the
// explanation, for the next thing to paste.
func (t *troubleScreen) clear() {
	if text := t.paste.GetText(); text != "" {
		t.paste.Replace(0, len(text), "")
	}
	t.loaded, t.loadedShown = nil, ""
	t.paste.SetTitle(pasteTitle)
	t.runs++ // an analysis still running is dropped
	t.last = nil
	t.top.ClearChildren()
	t.tree.SetCurrentNode(t.top)
	t.fix.SetText(t.a.tag("dim") + fixWaiting + t.a.th.reset())
	t.box.ResizeItem(t.fix, 2, 0)
	t.detail.SetText("")
	t.a.tv.SetFocus(t.paste.TextArea)
	t.a.setStatus("Cleared: paste the next one (Ctrl-Z brings the text back).", false)
}

// open reads a file and explains it.
func (t *troubleScreen) open(path string) {
	if path == "" {
		t.a.setStatus("type the path of a file first", true)
		return
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = home + path[1:]
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.a.setStatus(oneLine(err.Error()), true)
		return
	}
	raw, cut, err := diag.ReadLimited(f, diag.HeadersMaxBytes)
	f.Close()
	if err != nil {
		t.a.setStatus("reading "+path+": "+oneLine(err.Error()), true)
		return
	}
	show := string(raw)
	if len(show) > pasteShowMax {
		show = show[:pasteShowMax] + "\n[… the rest of the file is read but not shown]"
	}
	t.paste.SetText(show, false)
	t.loaded, t.loadedShown = raw, show
	t.paste.SetTitle(" " + tview.Escape(path) + " (Ctrl-R explains) ")
	if cut {
		t.a.setStatus("only the first 10 MB of "+path+" were read", false)
	}
	t.analyze()
	t.a.tv.SetFocus(t.tree)
}

// analyze explains what the paste area holds (or the file just opened).
func (t *troubleScreen) analyze() {
	input := []byte(t.paste.GetText())
	if t.loaded != nil && string(input) == t.loadedShown {
		input = t.loaded // all of the file, not only what is shown
	}
	if len(strings.TrimSpace(string(input))) == 0 {
		t.a.setStatus("paste a reply line, a bounce or a message first (or Ctrl-O to open a file)", true)
		return
	}
	t.runs++
	run := t.runs
	var res diag.TroubleshootResult
	opt := diag.HeadersOptions{LookupTXT: t.a.lookupTXT()}
	t.a.Go("reading what you pasted", func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			res = diag.Troubleshoot(input, opt)
		}()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, func(err error) {
		if err != nil || run != t.runs {
			return
		}
		t.show(res)
		t.a.setStatus(t.summary(res), false)
	})
}

func (t *troubleScreen) summary(r diag.TroubleshootResult) string {
	switch r.Kind {
	case "explanation":
		return "a reply: " + r.Explanation.Outcome
	case "bounce":
		msg := fmt.Sprintf("a %s (%s format), %s", r.Bounce.Kind, r.Bounce.Format, plural(len(r.Bounce.Results), "recipient"))
		if n := len(r.Bounce.Delayed); n > 0 {
			msg += fmt.Sprintf(", %d delayed", n)
		}
		return msg
	}
	if r.Headers != nil {
		return fmt.Sprintf("a message: %s", plural(len(r.Headers.Hops), "hop"))
	}
	return ""
}

// node makes a tree node whose detail is shown when selected.
func (t *troubleScreen) node(label, detail string) *tview.TreeNode {
	return tview.NewTreeNode(label).SetReference(detail).
		SetTextStyle(t.a.th.base).SetSelectedTextStyle(t.a.th.sel)
}

func (t *troubleScreen) branch(label string) *tview.TreeNode {
	return t.node(t.a.tag("title")+label+t.a.th.reset(), "").SetExpanded(true)
}

// field is a leaf "name: value".
func (t *troubleScreen) field(name, value string) *tview.TreeNode {
	v := sanitize(value)
	return t.node(t.a.tag("label")+tview.Escape(name)+":"+t.a.th.reset()+" "+tview.Escape(v), name+": "+value)
}

// show builds the tree (UI goroutine).
func (t *troubleScreen) show(r diag.TroubleshootResult) {
	t.last = &r
	t.top.ClearChildren()
	fix := ""
	switch r.Kind {
	case "explanation":
		fix = r.Explanation.Fix
		t.top.AddChild(t.explanationTree(r.Explanation))
	case "bounce":
		fix = t.bounceTree(r.Bounce)
		if r.Headers != nil {
			t.headerTree(r.Headers, false)
		}
	case "headers":
		t.headerTree(r.Headers, true)
		fix = r.Headers.Summary
	}
	label := "Fix:"
	if r.Kind == "headers" {
		label = "In short:"
	}
	if strings.TrimSpace(fix) == "" {
		t.fix.SetText(t.a.tag("dim") + "Nothing to fix that postlab could tell." + t.a.th.reset())
	} else {
		t.fix.SetText(t.a.tag("label") + label + t.a.th.reset() + " " + tview.Escape(sanitize(fix)))
	}
	// The fix gets the rows it needs, up to four.
	_, _, w, _ := t.box.GetInnerRect()
	if w <= 0 {
		w = 78
	}
	t.box.ResizeItem(t.fix, min(4, max(1, (len([]rune(label+" "+fix))+w-1)/w+1)), 0)
	if kids := t.top.GetChildren(); len(kids) > 0 {
		first := kids[0]
		if c := first.GetChildren(); len(c) > 0 {
			first = c[0]
		}
		t.tree.SetCurrentNode(first)
		t.showNode(first)
	}
}

func (t *troubleScreen) explanationTree(e *diag.Explanation) *tview.TreeNode {
	title := e.Input
	if title == "" {
		title = "reply"
	}
	n := t.branch(tview.Escape(sanitize(oneLine(title))))
	add := func(name, v string) {
		if strings.TrimSpace(v) != "" {
			n.AddChild(t.field(name, v))
		}
	}
	add("meaning", e.Meaning)
	outcome := e.Outcome
	if e.Permanent {
		outcome += " (permanent: do not retry as is)"
	}
	add("outcome", outcome)
	add("who must act", e.Fault)
	add("what a server does next", e.NextStep)
	add("fix", e.Fix)
	if e.Provider != "" {
		add("provider", e.Provider+" "+e.ProviderRule)
	}
	add("reason", e.Reason)
	for _, d := range e.Details {
		add("detail", d)
	}
	if len(e.Refs) > 0 {
		add("references", strings.Join(e.Refs, "; "))
	}
	return n
}

// bounceTree adds the report's recipients and returns the fix to show on top.
func (t *troubleScreen) bounceTree(b *diag.BounceReport) string {
	head := fmt.Sprintf("%s · format %s", b.Kind, b.Format)
	if b.ReportingMTA != "" {
		head += " · reported by " + b.ReportingMTA
	}
	rec := t.branch(fmt.Sprintf("Recipients (%d)", len(b.Results)) + "  " + t.a.tag("dim") + tview.Escape(head) + t.a.th.reset())
	var fixes []string
	for _, res := range b.Results {
		mark := t.a.tag("warn") + "▲ soft" + t.a.th.reset()
		if res.HardBounce {
			mark = t.a.tag("err") + "✘ hard" + t.a.th.reset()
		}
		switch res.Reason {
		case "delivered", "vacation", "feedback":
			mark = t.a.tag("dim") + "i " + res.Reason + t.a.th.reset()
		}
		code := res.Status
		if res.ReplyCode != 0 {
			code = fmt.Sprintf("%d %s", res.ReplyCode, res.Status)
		}
		rn := t.node(fmt.Sprintf("%s %s  %s%s%s %s", mark, tview.Escape(res.Recipient), t.a.tag("label"), tview.Escape(res.Reason), t.a.th.reset(), tview.Escape(strings.TrimSpace(code))),
			res.Recipient+": "+res.Explanation+"\n\nFix: "+res.Fix).SetExpanded(len(b.Results) <= 3)
		for _, f := range []struct{ k, v string }{
			{"explanation", res.Explanation}, {"fix", res.Fix}, {"status", res.Status},
			{"remote MTA", res.RemoteMTA}, {"diagnostic", res.Diagnostic},
		} {
			if strings.TrimSpace(f.v) != "" {
				rn.AddChild(t.field(f.k, f.v))
			}
		}
		rec.AddChild(rn)
		if res.Fix != "" && !containsStr(fixes, res.Fix) {
			fixes = append(fixes, res.Recipient+": "+res.Fix)
		}
	}
	t.top.AddChild(rec)
	// Delayed recipients have not failed: the sending server is still retrying.
	if len(b.Delayed) > 0 {
		del := t.branch(fmt.Sprintf("Delayed, still being retried (%d)", len(b.Delayed)))
		for _, res := range b.Delayed {
			dn := t.node(t.a.tag("dim")+"… "+t.a.th.reset()+tview.Escape(res.Recipient)+"  "+tview.Escape(strings.TrimSpace(res.Status)),
				res.Recipient+": "+res.Explanation)
			for _, f := range []struct{ k, v string }{
				{"explanation", res.Explanation}, {"status", res.Status},
				{"remote MTA", res.RemoteMTA}, {"diagnostic", res.Diagnostic},
			} {
				if strings.TrimSpace(f.v) != "" {
					dn.AddChild(t.field(f.k, f.v))
				}
			}
			del.AddChild(dn)
		}
		t.top.AddChild(del)
	}
	if len(b.Notes) > 0 || b.Truncated {
		notes := t.branch("Notes")
		for _, n := range b.Notes {
			notes.AddChild(t.node(tview.Escape(sanitize(n)), n))
		}
		if b.Truncated {
			notes.AddChild(t.node("the message was cut: only part of it was read", ""))
		}
		t.top.AddChild(notes)
	}
	if !b.IsBounce {
		return "This is not a bounce (" + b.Kind + "): nothing bounced."
	}
	switch len(fixes) {
	case 0:
		return ""
	case 1:
		_, f, _ := strings.Cut(fixes[0], ": ")
		return f
	}
	return fmt.Sprintf("%s (and %d more recipients, each with its fix below)", fixes[0], len(fixes)-1)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if strings.HasSuffix(x, ": "+s) {
			return true
		}
	}
	return false
}

// headerTree adds hops, authentication results, DKIM, ARC and warnings.
func (t *troubleScreen) headerTree(h *diag.HeaderReport, withSummary bool) {
	if !withSummary && len(h.Hops) == 0 && len(h.AuthResults) == 0 && len(h.DKIM) == 0 && h.ARC.Sets == 0 {
		return // a bounce without a header worth showing
	}
	hops := t.branch(fmt.Sprintf("Hops (%d, oldest first)", len(h.Hops)))
	for _, hop := range h.Hops {
		delay := ""
		if hop.DelayS != nil {
			delay = fmt.Sprintf(" +%ds", *hop.DelayS)
		}
		if h.BiggestDelay != nil && h.BiggestDelay.N == hop.N && hop.DelayS != nil && *hop.DelayS > 0 {
			delay += " (biggest delay)"
		}
		when := ""
		if hop.Time != nil {
			when = hop.Time.UTC().Format("2006-01-02 15:04:05Z")
		}
		label := fmt.Sprintf("%d %s → %s", hop.N, orDash(hop.From), orDash(hop.By))
		detail := fmt.Sprintf("hop %d\nfrom: %s\nby: %s\nwith: %s\nid: %s\nfor: %s\nip: %s\ntime: %s\ndelay:%s", hop.N, hop.From, hop.By, hop.With, hop.ID, hop.For, hop.IP, when, delay)
		hops.AddChild(t.node(tview.Escape(sanitize(label))+t.a.tag("dim")+tview.Escape(" "+hop.With+delay)+t.a.th.reset(), detail))
	}
	t.top.AddChild(hops)
	auth := t.branch(fmt.Sprintf("Authentication results (%d)", len(h.AuthResults)))
	for _, ar := range h.AuthResults {
		an := t.node(tview.Escape(orDash(ar.AuthservID)), "authserv-id "+ar.AuthservID).SetExpanded(true)
		for _, m := range ar.Results {
			var props []string
			for k, v := range m.Props {
				props = append(props, k+"="+v)
			}
			sort.Strings(props)
			line := m.Method + "=" + m.Result
			detail := line
			if m.Reason != "" {
				detail += "\nreason: " + m.Reason
			}
			if len(props) > 0 {
				detail += "\n" + strings.Join(props, "\n")
			}
			an.AddChild(t.node(t.resultMark(m.Result)+" "+tview.Escape(line)+t.a.tag("dim")+" "+tview.Escape(strings.Join(props, " "))+t.a.th.reset(), detail))
		}
		auth.AddChild(an)
	}
	t.top.AddChild(auth)
	if len(h.DKIM) > 0 {
		dk := t.branch(fmt.Sprintf("DKIM signatures (%d)", len(h.DKIM)))
		for _, d := range h.DKIM {
			dk.AddChild(t.node(t.resultMark(d.Result)+" "+tview.Escape(fmt.Sprintf("d=%s s=%s %s", d.Domain, d.Selector, d.Result)), fmt.Sprintf("d=%s s=%s\nresult: %s\n%s", d.Domain, d.Selector, d.Result, d.Reason)))
		}
		t.top.AddChild(dk)
	}
	if h.ARC.Sets > 0 {
		t.top.AddChild(t.branch("ARC").AddChild(t.node(t.resultMark(h.ARC.Verdict)+" "+tview.Escape(fmt.Sprintf("%s: %s %s", plural(h.ARC.Sets, "set"), h.ARC.Verdict, h.ARC.Reason)), "sealers: "+strings.Join(h.ARC.Sealers, ", "))))
	}
	if len(h.Warnings) > 0 {
		w := t.branch(fmt.Sprintf("Warnings (%d)", len(h.Warnings)))
		for _, s := range h.Warnings {
			w.AddChild(t.node(t.a.tag("warn")+"▲"+t.a.th.reset()+" "+tview.Escape(sanitize(s)), s))
		}
		t.top.AddChild(w)
	}
}

func (t *troubleScreen) resultMark(r string) string {
	switch strings.ToLower(r) {
	case "pass":
		return t.a.tag("ok") + "✔" + t.a.th.reset()
	case "fail", "permerror", "softfail":
		return t.a.tag("err") + "✘" + t.a.th.reset()
	}
	return t.a.tag("dim") + "·" + t.a.th.reset()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func (t *troubleScreen) showNode(n *tview.TreeNode) {
	d, _ := n.GetReference().(string)
	if d == "" {
		if len(n.GetChildren()) > 0 {
			t.detail.SetText("Enter opens or closes this branch.")
		}
		return
	}
	t.detail.SetText(tview.Escape(d))
	t.detail.ScrollToBeginning()
}

// cutTree is a tree whose lines cut at the pane's right edge end in "…"
// (as the Diagnose screen's do); the detail pane has them in full.
type cutTree struct {
	*tview.TreeView
	top *tview.TreeNode
}

func (c *cutTree) Draw(screen tcell.Screen) {
	c.TreeView.Draw(screen)
	x0, y0, width, height := c.GetInnerRect()
	off, row := c.GetScrollOffset(), 0
	var walk func(n *tview.TreeNode, x int)
	walk = func(n *tview.TreeNode, x int) {
		for _, k := range n.GetChildren() {
			if y := row - off; y >= 0 && y < height && width > 0 && x+tview.TaggedStringWidth(k.GetText()) > width {
				_, _, style, _ := screen.GetContent(x0+width-1, y0+y)
				screen.SetContent(x0+width-1, y0+y, '…', nil, style)
			}
			row++
			if k.IsExpanded() {
				walk(k, x+treeIndent)
			}
		}
	}
	walk(c.top, 0) // the top level is drawn without indent (SetTopLevel(1))
}
