package tui

import (
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"
)

// Palette is a one-line row of suggested commands: Left/Right and Enter or
// the item's key (1-9, then 0) pick one, and so does a click.
type Palette struct {
	*tview.Box
	th     theme
	items  []Suggestion
	sel    int
	label  string
	onPick func(Suggestion)
	spans  [][2]int // x range of each item in the last draw
}

// NewPalette calls onPick with the chosen suggestion.
func NewPalette(th theme, onPick func(Suggestion)) *Palette {
	return &Palette{Box: tview.NewBox(), th: th, onPick: onPick, label: "next:"}
}

// paletteKeys are the keys of the items, in order: every item shown has one.
const paletteKeys = "1234567890"

// SetItems replaces the suggestions; only as many as there are keys show.
func (p *Palette) SetItems(items []Suggestion) {
	if len(items) > len(paletteKeys) {
		items = items[:len(paletteKeys)]
	}
	p.items = items
	if p.sel >= len(items) {
		p.sel = 0
	}
}

// Items are the suggestions shown.
func (p *Palette) Items() []Suggestion { return p.items }

// Draw paints "next: 1 EHLO …  2 QUIT".
func (p *Palette) Draw(screen tcell.Screen) {
	p.Box.DrawForSubclass(screen, p)
	x, y, w, h := p.GetInnerRect()
	if h < 1 {
		return
	}
	p.spans = p.spans[:0]
	cx := x
	put := func(s string, st tcell.Style) {
		for _, r := range s {
			if cx >= x+w {
				return
			}
			screen.SetContent(cx, y, r, nil, st)
			cx += runewidth.RuneWidth(r)
		}
	}
	put(p.label+" ", p.th.dim)
	if len(p.items) == 0 {
		put("(no suggestion: type any command)", p.th.dim)
	}
	for i, it := range p.items {
		start := cx
		st := p.th.base
		if i == p.sel && p.HasFocus() {
			st = p.th.sel
		}
		put(paletteKeys[i:i+1], p.th.label)
		put(" ", st)
		put(sanitize(it.Command), st)
		p.spans = append(p.spans, [2]int{start, cx})
		put("  ", p.th.base)
	}
	if cx >= x+w && w > 0 {
		screen.SetContent(x+w-1, y, '…', nil, p.th.dim)
	}
}

// Selected is the highlighted suggestion.
func (p *Palette) Selected() (Suggestion, bool) {
	if p.sel < len(p.items) {
		return p.items[p.sel], true
	}
	return Suggestion{}, false
}

func (p *Palette) pick(i int) {
	if i >= 0 && i < len(p.items) {
		p.sel = i
		if p.onPick != nil {
			p.onPick(p.items[i])
		}
	}
}

// InputHandler: Left/Right/Enter, the items' keys.
func (p *Palette) InputHandler() func(event *tcell.EventKey, setFocus func(p tview.Primitive)) {
	return p.WrapInputHandler(func(event *tcell.EventKey, setFocus func(tview.Primitive)) {
		switch event.Key() {
		case tcell.KeyLeft:
			if p.sel > 0 {
				p.sel--
			}
		case tcell.KeyRight:
			if p.sel < len(p.items)-1 {
				p.sel++
			}
		case tcell.KeyEnter:
			p.pick(p.sel)
		case tcell.KeyRune:
			if i := strings.IndexRune(paletteKeys, event.Rune()); i >= 0 {
				p.pick(i)
			}
		}
	})
}

// MouseHandler picks the clicked suggestion.
func (p *Palette) MouseHandler() func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(p tview.Primitive)) (bool, tview.Primitive) {
	return p.WrapMouseHandler(func(action tview.MouseAction, event *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		mx, my := event.Position()
		if !p.InRect(mx, my) || action != tview.MouseLeftClick {
			return false, nil
		}
		for i, s := range p.spans {
			if mx >= s[0] && mx < s[1] {
				p.pick(i)
				return true, nil
			}
		}
		setFocus(p)
		return true, nil
	})
}
