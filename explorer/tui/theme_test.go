package tui

import "testing"

// TestThemeApplyOnlyReadsWhenUnchanged: a second app of the same theme
// (tests start several) leaves tview's global styles alone while the
// first draws; under -race a write here is a reported race.
func TestThemeApplyOnlyReadsWhenUnchanged(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	for range 200 {
		h.app.tv.QueueUpdateDraw(func() {})
		newTheme(false).apply()
	}
	h.waitFor("lab: smtp")
}
