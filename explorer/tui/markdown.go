package tui

import (
	"regexp"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/rivo/tview"
)

// A small Markdown renderer for lesson text (CommonMark's common subset:
// ATX headings, paragraphs, emphasis, code spans, fenced and indented code
// blocks, lists, block quotes, links). It wraps to a width itself so list
// items keep a hanging indent and code blocks are never reflowed, and it
// escapes every piece of text for tview before adding its own tags.

// span is a run of text in one style role ("" plain, "b", "i", "code",
// "h" heading, "link").
type span struct {
	text, role string
}

// renderMarkdown returns tview-tagged lines no wider than width.
func renderMarkdown(md string, width int, th theme) string {
	if width < 10 {
		width = 10
	}
	var out []string
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	var para []string
	paraIndent, paraFirst := "", ""
	flush := func() {
		if len(para) == 0 {
			return
		}
		text := strings.Join(para, " ")
		out = append(out, wrapSpans(parseInline(text), width, paraFirst, paraIndent, th)...)
		para = nil
	}
	blank := func() {
		if len(out) > 0 && out[len(out)-1] != "" {
			out = append(out, "")
		}
	}
	for i := 0; i < len(lines); i++ {
		raw := strings.ReplaceAll(lines[i], "\t", "    ")
		trim := strings.TrimSpace(raw)
		switch {
		case trim == "":
			if len(para) > 0 {
				flush()
				blank()
			}
			paraIndent, paraFirst = "", ""
			continue
		case strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~"):
			flush()
			fence := trim[:3]
			ind := len(raw) - len(strings.TrimLeft(raw, " "))
			blank()
			for i++; i < len(lines); i++ {
				l := strings.ReplaceAll(lines[i], "\t", "    ")
				if strings.HasPrefix(strings.TrimSpace(l), fence) {
					break
				}
				l = strings.TrimPrefix(l, strings.Repeat(" ", ind))
				out = append(out, codeLine(l, width, th))
			}
			blank()
			continue
		case strings.HasPrefix(raw, "    ") && len(para) == 0:
			blank()
			for ; i < len(lines); i++ {
				l := strings.ReplaceAll(lines[i], "\t", "    ")
				if strings.TrimSpace(l) == "" {
					// A blank line inside a code block, unless the block ends.
					if i+1 < len(lines) && strings.HasPrefix(strings.ReplaceAll(lines[i+1], "\t", "    "), "    ") {
						out = append(out, "")
						continue
					}
					break
				}
				if !strings.HasPrefix(l, "    ") {
					i--
					break
				}
				out = append(out, codeLine(l[4:], width, th))
			}
			blank()
			continue
		}
		if m := reHeading.FindStringSubmatch(trim); m != nil {
			flush()
			blank()
			text := strings.TrimRight(strings.TrimSpace(m[2]), "#")
			spans := parseInline(strings.TrimSpace(text))
			for j := range spans {
				spans[j].role = "h"
			}
			out = append(out, wrapSpans(spans, width, "", "", th)...)
			continue
		}
		if reRule.MatchString(trim) {
			flush()
			out = append(out, th.tag("dim")+strings.Repeat("─", min(width, 40))+th.reset())
			continue
		}
		if m := reListItem.FindStringSubmatch(raw); m != nil {
			flush()
			depth := len(m[1]) / 2
			marker := "• "
			if m[2] != "-" && m[2] != "*" && m[2] != "+" {
				marker = m[2] + " "
			}
			pad := strings.Repeat("  ", depth)
			paraFirst = pad + marker
			paraIndent = pad + strings.Repeat(" ", runewidth.StringWidth(marker))
			para = append(para, strings.TrimSpace(m[3]))
			continue
		}
		if strings.HasPrefix(trim, ">") {
			flush()
			q := strings.TrimSpace(strings.TrimPrefix(trim, ">"))
			out = append(out, wrapSpans(parseInline(q), width, "│ ", "│ ", th)...)
			continue
		}
		if strings.HasPrefix(trim, "|") {
			// Tables are shown as written, one row per line.
			flush()
			out = append(out, codeLine(trim, width, th))
			continue
		}
		para = append(para, trim)
	}
	flush()
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

var (
	reHeading  = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	reRule     = regexp.MustCompile(`^(\*\s*){3,}$|^(-\s*){3,}$|^(_\s*){3,}$`)
	reListItem = regexp.MustCompile(`^( *)([-*+]|[0-9]{1,3}[.)])\s+(.*)$`)
)

// codeLine is one line of a code block: indented, in the code style, cut
// (not reflowed) at the width.
func codeLine(l string, width int, th theme) string {
	l = "  " + strings.TrimRight(l, " ")
	if runewidth.StringWidth(l) > width {
		l = runewidth.Truncate(l, width, "…")
	}
	return th.tag("code") + tview.Escape(l) + th.reset()
}

// parseInline splits text into styled spans.
func parseInline(s string) []span {
	var out []span
	var cur strings.Builder
	role := ""
	emit := func() {
		if cur.Len() > 0 {
			out = append(out, span{cur.String(), role})
			cur.Reset()
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs) && strings.ContainsRune("\\`*_[]()#+-.!<>", rs[i+1]):
			cur.WriteRune(rs[i+1])
			i++
		case c == '`':
			n := 1
			for i+n < len(rs) && rs[i+n] == '`' {
				n++
			}
			tick := strings.Repeat("`", n)
			end := strings.Index(string(rs[i+n:]), tick)
			if end < 0 {
				cur.WriteString(tick)
				i += n - 1
				continue
			}
			code := []rune(string(rs[i+n:])[:end])
			saved := role
			emit()
			role = "code"
			cur.WriteString(strings.TrimSpace(string(code)))
			emit()
			role = saved
			i += n + len(code) + n - 1
		case (c == '*' || c == '_') && i+1 < len(rs) && rs[i+1] == c:
			// ** or __ toggles bold.
			if role == "b" {
				emit()
				role = ""
			} else if role == "" && strings.Contains(string(rs[i+2:]), string([]rune{c, c})) {
				emit()
				role = "b"
			} else {
				cur.WriteString(string([]rune{c, c}))
			}
			i++
		case c == '*' || c == '_':
			// _ inside a word (snake_case) is a letter, not emphasis.
			inWord := c == '_' && i > 0 && isWordRune(rs[i-1]) && i+1 < len(rs) && isWordRune(rs[i+1])
			switch {
			case inWord:
				cur.WriteRune(c)
			case role == "i":
				emit()
				role = ""
			case role == "" && i+1 < len(rs) && rs[i+1] != ' ' && strings.ContainsRune(string(rs[i+1:]), c):
				emit()
				role = "i"
			default:
				cur.WriteRune(c)
			}
		case c == '[':
			// [text](url)
			rest := string(rs[i:])
			if m := reLink.FindStringSubmatch(rest); m != nil {
				saved := role
				emit()
				role = "link"
				cur.WriteString(m[1])
				emit()
				role = saved
				if m[2] != m[1] && !strings.HasPrefix(m[2], "#") {
					cur.WriteString(" (" + m[2] + ")")
				}
				i += len([]rune(m[0])) - 1
				continue
			}
			cur.WriteRune(c)
		default:
			cur.WriteRune(c)
		}
	}
	emit()
	return out
}

var reLink = regexp.MustCompile(`^\[([^\]]+)\]\(([^)\s]+)\)`)

func isWordRune(r rune) bool {
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

// wrapSpans fills lines of at most width cells: first starts the first
// line, indent the others.
func wrapSpans(spans []span, width int, first, indent string, th theme) []string {
	type word struct {
		text, role string
		space      bool // a space precedes it
	}
	var words []word
	space := false
	for _, sp := range spans {
		parts := strings.Split(sp.text, " ")
		for j, p := range parts {
			if j > 0 {
				space = true
			}
			if p == "" {
				continue
			}
			words = append(words, word{p, sp.role, space})
			space = false
		}
	}
	var lines []string
	var b strings.Builder
	prefix := first
	col := runewidth.StringWidth(prefix)
	b.WriteString(tview.Escape(prefix))
	empty := true
	flushLine := func() {
		lines = append(lines, b.String())
		b.Reset()
		prefix = indent
		b.WriteString(tview.Escape(prefix))
		col = runewidth.StringWidth(prefix)
		empty = true
	}
	// Words written without a space between them (a code span and the
	// comma after it) break as one.
	runW := make([]int, len(words))
	for i := len(words) - 1; i >= 0; i-- {
		runW[i] = runewidth.StringWidth(words[i].text)
		if i+1 < len(words) && !words[i+1].space {
			runW[i] += runW[i+1]
		}
	}
	for i, w := range words {
		glued := i > 0 && !w.space
		need := runW[i]
		if w.space && !empty {
			need++
		}
		if !empty && (!glued && col+need > width || glued && col+runewidth.StringWidth(w.text) > width) {
			flushLine() // (a run longer than a line breaks inside)
		}
		if w.space && !empty {
			b.WriteByte(' ')
			col++
		}
		text := w.text
		for col+runewidth.StringWidth(text) > width && col < width && runewidth.StringWidth(text) > width-runewidth.StringWidth(indent) {
			// A word longer than a line is cut.
			cut := runewidth.Truncate(text, width-col, "")
			if cut == "" {
				break
			}
			b.WriteString(styled(cut, w.role, th))
			text = strings.TrimPrefix(text, cut)
			flushLine()
		}
		b.WriteString(styled(text, w.role, th))
		col += runewidth.StringWidth(text)
		empty = false
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, b.String())
	}
	return lines
}

func styled(text, role string, th theme) string {
	t := tview.Escape(text)
	switch role {
	case "b":
		return "[::b]" + t + "[::-]"
	case "i":
		return "[::i]" + t + "[::-]"
	case "h":
		return th.tag("title") + t + th.reset()
	case "code":
		return th.tag("code") + t + th.reset()
	case "link":
		return "[::u]" + t + "[::-]"
	}
	return t
}
