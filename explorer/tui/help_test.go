package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

// helpRows are the rows inside the help dialog's border.
func helpRows(t *testing.T, screen string) []string {
	t.Helper()
	var rows []string
	for _, l := range strings.Split(screen, "\n") {
		r := []rune(l)
		start, end := -1, -1
		for i, c := range r {
			if c == '║' {
				if start < 0 {
					start = i
				} else {
					end = i
				}
			}
		}
		if start >= 0 && end > start {
			rows = append(rows, string(r[start+1:end]))
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no help dialog:\n%s", screen)
	}
	return rows
}

// TestHelpAlignsAndSaysItScrolls: every key's description starts in one
// column, wrapped descriptions stay under it, and a help taller than the
// screen says there is more.
func TestHelpAlignsAndSaysItScrolls(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 35}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := startApp(t, fakeOptions(newFakeLab(), nil), size[0], size[1])
			h.waitFor("lab: smtp")
			h.rune('?')
			s := h.waitFor("keys (Esc closes) · ↑↓ PgUp/PgDn scroll", "Everywhere", "more below (↓ PgDn)")
			col := -1
			for _, r := range helpRows(t, s) {
				r = strings.TrimRight(r, " ")
				switch {
				case r == "":
				case !strings.HasPrefix(r, "  "):
					if !isSectionTitle(r) {
						t.Errorf("a help line starts at the border: %q", r)
					}
				case strings.HasPrefix(r, "   "):
					// A description's next line: under the description.
					if n := len(r) - len(strings.TrimLeft(r, " ")); col >= 0 && n != col {
						t.Errorf("a wrapped description starts in column %d, not %d: %q", n, col, r)
					}
				default:
					k := r[2:]
					i := strings.Index(k, "  ")
					if i < 0 {
						continue // a note in prose
					}
					rest := k[i:]
					c := 2 + len([]rune(k[:i])) + len(rest) - len(strings.TrimLeft(rest, " "))
					if col < 0 {
						col = c
					} else if c != col {
						t.Errorf("a description starts in column %d, not %d: %q", c, col, r)
					}
				}
			}
			// Scrolled to the end, the mark says the rest is above.
			h.key(tcell.KeyEnd)
			h.waitFor("Troubleshoot", "more above")
		})
	}
}

func isSectionTitle(r string) bool {
	for _, s := range helpSections {
		if strings.TrimSpace(r) == s.title {
			return true
		}
	}
	return false
}
