package tui

import (
	"strings"
	"testing"
)

// The lab's DKIM-Signature shows in the parsed view: who signed, with
// which selector and algorithm, not the base64.
func TestParsedViewShowsTheDKIMSignature(t *testing.T) {
	raw := "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=postlab.test;\r\n s=lab; h=from:to:subject; bh=abc=; b=dGVzdA\r\n ==\r\nFrom: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: hi\r\n\r\nbody\r\n"
	got := renderMessage(newTheme(true), []byte(raw), false, false)
	want := "signed by postlab.test (selector lab, rsa-sha256)"
	if !strings.Contains(got, "DKIM-Signature:") || !strings.Contains(got, want) || strings.Contains(got, "dGVzdA") {
		t.Fatalf("parsed view:\n%s\nwant %q", got, want)
	}
}

// Sizes side by side read in one unit.
func TestSizesReadAlike(t *testing.T) {
	for n, want := range map[int64]string{999: "999B", 1013: "1.0K", 1030: "1.0K", 1000 << 10: "1.0M"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

// The outbox lists where mail would go (the envelope), and says so.
func TestOutboxToColumnSaysEnvelope(t *testing.T) {
	lab := newFakeLab()
	h := startApp(t, fakeOptions(lab, nil), 100, 30)
	h.waitFor("lab: smtp")
	lab.store.deliver("outbox", "alice@postlab.test", "Out", "far away")
	h.rune('2')
	h.waitFor("alice", "outbox")
	h.app.tv.QueueUpdateDraw(func() {
		for i, n := range h.app.mail.names {
			if n == "outbox" {
				h.app.mail.boxes.SetCurrentItem(i)
			}
		}
	})
	h.waitFor("To (envelope)")
}
