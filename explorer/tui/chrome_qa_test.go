package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// At 60 columns every tab still shows, the last one too.
func TestTabsFitIn60Columns(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	h := startApp(t, o, 60, 24)
	s := h.waitFor("lab: smtp")
	first := strings.SplitN(s, "\n", 2)[0]
	_, last, _ := strings.Cut(first, " 6 ")
	if last = strings.TrimSpace(last); last != "Trouble" && last != "Trou" {
		t.Fatalf("the tabs at 60 columns: %q", first)
	}
}

// A key shows once in the hint bar: the first hint, what it does now.
func TestHintsOnceByKey(t *testing.T) {
	got := dedupeHints([]Hint{{"^R", "explain", nil}, {"Esc", "cancel", nil}, {"Esc", "out", nil}, {"^C", "quit", nil}})
	var keys []string
	for _, h := range got {
		keys = append(keys, h.Key+" "+h.Label)
	}
	if s := strings.Join(keys, ", "); s != "^R explain, Esc cancel, ^C quit" {
		t.Fatalf("hints: %s", s)
	}
}

// A Troubleshoot line too long for the pane ends in "…" at its edge.
func TestTroubleshootCutLinesEndInEllipsis(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 60, 30)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('6')
	h.waitFor("Open file:")
	h.paste("550 5.1.1 <bob.with.a.rather.long.name.for.this.test@example.org>: Recipient address rejected: User unknown in virtual mailbox table")
	s := h.waitFor("explanation")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s, "…│") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		s = h.text()
	}
	if !strings.Contains(s, "…│") {
		t.Fatalf("no cut line ends in …:\n%s", s)
	}
}
