package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// TraceView draws a TraceModel. It is virtual: each draw wraps and paints
// only the lines that fit on screen, so its cost does not grow with the
// length of the trace. Server text is painted cell by cell, never parsed
// for tview tags, and control characters are shown in caret notation.
type TraceView struct {
	*tview.Box
	model   *TraceModel
	th      theme
	top     uint64   // first line drawn
	rows    []uint64 // sequence number drawn on each row of the last draw
	rowsY   int
	onEnter func(seq uint64)
	empty   string
}

// NewTraceView shows model.
func NewTraceView(model *TraceModel, th theme) *TraceView {
	return &TraceView{Box: tview.NewBox(), model: model, th: th}
}

// SetEmptyText is shown while the trace has no lines.
func (v *TraceView) SetEmptyText(s string) *TraceView { v.empty = s; return v }

const gutter = 5 // lock mark (2) + "C: "

// marker is the direction mark of a line: C:/S: as in the RFCs' examples.
func marker(ev explorer.Event) string {
	switch {
	case ev.Err:
		return "!! "
	case ev.Dir == explorer.ClientToServer:
		return "C: "
	case ev.Dir == explorer.ServerToClient:
		return "S: "
	}
	return "== "
}

// lockMark shows that a line travelled inside TLS.
const lockMark = "🔒"

// sanitize makes server text safe to paint: tabs become spaces, other
// control characters caret notation, invalid UTF-8 U+FFFD.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case r >= 0x80 && r < 0xa0:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wrap cuts s into pieces of at most width cells, after a space where
// the piece has one (words stay whole), else anywhere (a long token).
// brkW is measured from the piece's start.
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	if len(s) <= width && isASCII(s) {
		return []string{s}
	}
	var out []string
	start, w := 0, 0
	brk, brkW := -1, 0 // just after the last space in the piece, and the width before it
	for i, r := range s {
		rw := runewidth.RuneWidth(r)
		if w+rw > width && i > start {
			if brk > start && brkW >= width/4 {
				// (A short head before one long token, like "C: EHLO "
				// and a long name, is cut in the token instead.)
				out = append(out, s[start:brk])
				start, w = brk, w-brkW
			} else {
				out = append(out, s[start:i])
				start, w = i, 0
			}
			brk = -1
			// A space between the new start and here is a break again.
			cw := 0
			for j, c := range s[start:i] {
				cw += runewidth.RuneWidth(c)
				if c == ' ' {
					brk, brkW = start+j+1, cw
				}
			}
		}
		w += rw
		if r == ' ' {
			brk, brkW = i+1, w
		}
	}
	return append(out, s[start:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (v *TraceView) text(e Entry) string {
	t := sanitize(e.Event.Line)
	if e.Prefix != "" {
		return e.Prefix + " " + t
	}
	return t
}

// height is the number of rows line e takes at text width w.
func (v *TraceView) height(e Entry, w int) int {
	t := v.text(e)
	if len(t) <= w && isASCII(t) {
		return 1
	}
	return len(wrap(t, w))
}

// Draw paints the visible lines.
func (v *TraceView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, width, height := v.GetInnerRect()
	v.rows = v.rows[:0]
	v.rowsY = y
	if width <= gutter || height <= 0 {
		return
	}
	tw := width - gutter
	first, end := v.model.Bounds()
	if first == end {
		if v.empty != "" {
			for i, l := range strings.Split(v.empty, "\n") {
				if i < height {
					tview.Print(screen, l, x+1, y+i, width-1, tview.AlignLeft, tcell.ColorDefault)
				}
			}
		}
		return
	}
	sel, _ := v.model.Selected()
	v.model.mu.Lock()
	get := func(seq uint64) Entry { e, _ := v.model.atLocked(seq); return e }
	// Keep the selection on screen: scroll up to it, or back from it far
	// enough that it is the last line that fits.
	if v.top < first {
		v.top = first
	}
	if v.top > sel {
		v.top = sel
	} else {
		rows := 0
		for s := v.top; s <= sel && rows <= height; s++ {
			rows += v.height(get(s), tw)
		}
		if rows > height {
			rows, v.top = 0, sel
			for s := sel; ; s-- {
				h := v.height(get(s), tw)
				if rows+h > height && s != sel {
					break
				}
				rows += h
				v.top = s
				if s == first {
					break
				}
			}
		}
	}
	// Fill the bottom when the end of the trace is on screen.
	rows := 0
	for s := v.top; s < end && rows < height; s++ {
		rows += v.height(get(s), tw)
	}
	for rows < height && v.top > first {
		h := v.height(get(v.top-1), tw)
		if rows+h > height {
			break
		}
		v.top--
		rows += h
	}
	row := 0
	for s := v.top; s < end && row < height; s++ {
		e := get(s)
		st := v.th.eventStyle(e.Event)
		if s == sel {
			st = st.Reverse(true)
		}
		mark := marker(e.Event)
		for i, piece := range wrap(v.text(e), tw) {
			if row >= height {
				break
			}
			cx := x
			if i == 0 {
				screen.SetContent(cx+1, y+row, ' ', nil, st)
				if e.Event.TLS {
					screen.SetContent(cx, y+row, []rune(lockMark)[0], nil, st)
				} else {
					screen.SetContent(cx, y+row, ' ', nil, st)
				}
				cx += 2
				for _, r := range mark {
					screen.SetContent(cx, y+row, r, nil, st)
					cx++
				}
			} else {
				cx += gutter
			}
			cx = x + gutter
			for _, r := range piece {
				screen.SetContent(cx, y+row, r, nil, st)
				cx += runewidth.RuneWidth(r)
			}
			if s == sel {
				for ; cx < x+width; cx++ {
					screen.SetContent(cx, y+row, ' ', nil, st)
				}
			}
			v.rows = append(v.rows, s)
			row++
		}
	}
	v.model.mu.Unlock()
}

// InputHandler moves the selection.
func (v *TraceView) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return v.WrapInputHandler(func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
		_, _, _, h := v.GetInnerRect()
		page := max(1, h-1)
		switch event.Key() {
		case tcell.KeyUp:
			v.model.Move(-1)
		case tcell.KeyDown:
			v.model.Move(1)
		case tcell.KeyPgUp:
			v.model.Move(-page)
		case tcell.KeyPgDn:
			v.model.Move(page)
		case tcell.KeyHome:
			v.model.Select(0)
		case tcell.KeyEnd:
			v.model.End()
		case tcell.KeyEnter:
			if seq, ok := v.model.Selected(); ok && v.onEnter != nil {
				v.onEnter(seq)
			}
		case tcell.KeyRune:
			switch event.Rune() {
			case 'k':
				v.model.Move(-1)
			case 'j':
				v.model.Move(1)
			case 'g':
				v.model.Select(0)
			case 'G':
				v.model.End()
			}
		}
	})
}

// MouseHandler selects the clicked line and scrolls with the wheel.
func (v *TraceView) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (consumed bool, capture tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (consumed bool, capture tview.Primitive) {
		mx, my := event.Position()
		if !v.InRect(mx, my) {
			return false, nil
		}
		switch action {
		case tview.MouseLeftDown:
			setFocus(v)
			if i := my - v.rowsY; i >= 0 && i < len(v.rows) {
				v.model.Select(v.rows[i])
			}
			return true, nil
		case tview.MouseScrollUp:
			v.model.Move(-3)
			return true, nil
		case tview.MouseScrollDown:
			v.model.Move(3)
			return true, nil
		}
		return false, nil
	})
}
