package tui

import (
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// theme holds the styles of the app. Without colour (NO_COLOR, or a
// monochrome terminal) direction is still carried by the C:/S: markers and
// emphasis by bold, underline and reverse.
type theme struct {
	noColor                         bool
	base, c2s, s2c, note, err, dim  tcell.Style
	sel, title, key, stuffed, label tcell.Style
}

func newTheme(noColor bool) theme {
	d := tcell.StyleDefault
	if noColor {
		return theme{noColor: true, base: d, c2s: d.Bold(true), s2c: d, note: d.Italic(true), err: d.Bold(true).Underline(true),
			dim: d.Dim(true), sel: d.Reverse(true), title: d.Bold(true), key: d.Bold(true).Reverse(true), stuffed: d.Underline(true), label: d.Bold(true)}
	}
	return theme{
		base:    d,
		c2s:     d.Foreground(tcell.ColorGreen),
		s2c:     d.Foreground(tcell.ColorAqua),
		note:    d.Foreground(tcell.ColorFuchsia),
		err:     d.Foreground(tcell.ColorRed).Bold(true),
		dim:     d.Foreground(tcell.ColorGray),
		sel:     d.Reverse(true),
		title:   d.Foreground(tcell.ColorYellow).Bold(true),
		key:     d.Foreground(tcell.ColorBlack).Background(tcell.ColorTeal),
		stuffed: d.Foreground(tcell.ColorYellow).Underline(true),
		label:   d.Foreground(tcell.ColorYellow),
	}
}

// tviewDefaults are tview's own styles, restored for a colour theme.
var tviewDefaults = tview.Styles

// apply sets tview's global styles: the terminal's own background, and
// nothing but default colours without colour. The globals are written
// only when they change, so that apps already drawing (tests run several)
// only read them.
func (t theme) apply() {
	want := tviewDefaults
	s := &want
	s.PrimitiveBackgroundColor = tcell.ColorDefault
	if t.noColor {
		s.ContrastBackgroundColor = tcell.ColorDefault
		s.MoreContrastBackgroundColor = tcell.ColorDefault
		s.BorderColor = tcell.ColorDefault
		s.TitleColor = tcell.ColorDefault
		s.GraphicsColor = tcell.ColorDefault
		s.PrimaryTextColor = tcell.ColorDefault
		s.SecondaryTextColor = tcell.ColorDefault
		s.TertiaryTextColor = tcell.ColorDefault
		s.InverseTextColor = tcell.ColorDefault
		s.ContrastSecondaryTextColor = tcell.ColorDefault
	} else {
		s.ContrastBackgroundColor = tcell.ColorNavy
		s.MoreContrastBackgroundColor = tcell.ColorTeal
	}
	if tview.Styles != want {
		tview.Styles = want
	}
}

// tag is the tview colour tag for a style role ("" without colour).
func (t theme) tag(role string) string {
	if t.noColor {
		switch role {
		case "title", "key", "label", "err", "code":
			return "[::b]"
		}
		return ""
	}
	switch role {
	case "title", "label":
		return "[yellow::b]"
	case "key":
		return "[black:teal]"
	case "err":
		return "[red::b]"
	case "dim":
		return "[gray]"
	case "c2s":
		return "[green]"
	case "s2c":
		return "[aqua]"
	case "ok":
		return "[green]"
	case "warn":
		return "[yellow]"
	case "code":
		return "[green]"
	}
	return ""
}

func (t theme) reset() string {
	if t.noColor {
		return "[::-]"
	}
	return "[-:-:-]"
}

// eventStyle is the style of a trace line.
func (t theme) eventStyle(ev explorer.Event) tcell.Style {
	switch {
	case ev.Err:
		return t.err
	case ev.Dir == explorer.ClientToServer:
		return t.c2s
	case ev.Dir == explorer.ServerToClient:
		return t.s2c
	default:
		return t.note
	}
}

// input makes an empty field visible without colour (where tview's field
// background is the terminal's own): an underlined placeholder. A form
// resets field colours when it draws, but not the placeholder.
func (t theme) input(in *tview.InputField, hasPlaceholder bool) *tview.InputField {
	if !t.noColor {
		return in
	}
	if !hasPlaceholder {
		w := in.GetFieldWidth()
		if w <= 0 {
			w = 20
		}
		in.SetPlaceholder(strings.Repeat("_", w))
	}
	in.SetPlaceholderStyle(tcell.StyleDefault.Underline(true))
	return in
}

// dropDown marks the focused drop-down and gives its open list a
// reverse-video block of its own without colour.
func (t theme) dropDown(d *tview.DropDown) *tview.DropDown {
	if !t.noColor {
		return d
	}
	s := tcell.StyleDefault
	d.SetFocusedStyle(s.Reverse(true))
	d.SetListStyles(s.Reverse(true), s.Bold(true).Underline(true))
	d.SetPrefixStyle(s.Reverse(true).Bold(true))
	return d
}
