package annotate

import (
	"strings"
	"testing"

	"postlab/explorer"
)

// TestCAPAPerUserValue: RFC 2449 §6.5 and §6.7 let LOGIN-DELAY and EXPIRE
// end in USER, meaning the value may differ per user and a CAPA after
// login gives the user's own; without USER the value is the same for all.
func TestCAPAPerUserValue(t *testing.T) {
	st := multi(popSt(explorer.PhaseAuthz, "CAPA"))
	for _, c := range []struct {
		line    string
		perUser bool
		ref     string
	}{
		{"LOGIN-DELAY 900 USER", true, "RFC 2449 §6.5"},
		{"EXPIRE 5 USER", true, "RFC 2449 §6.7"},
		{"expire 30 user", true, "RFC 2449 §6.7"},
		{"LOGIN-DELAY 900", false, "RFC 2449 §6.5"},
		{"EXPIRE NEVER", false, "RFC 2449 §6.7"},
		{"EXPIRE USER", false, "RFC 2449 §6.7"}, // no value: malformed, no per-user claim
	} {
		notes := NewAnnotator().Annotate(explorer.Event{Dir: s2c, Line: c.line, State: st})
		if len(notes) != 1 || notes[0].Ref != c.ref {
			t.Errorf("%q: got %+v, want one note citing %s", c.line, notes, c.ref)
			continue
		}
		if got := strings.Contains(notes[0].Detail, "USER: the value differs per user"); got != c.perUser {
			t.Errorf("%q: per-user explanation %v, want %v: %q", c.line, got, c.perUser, notes[0].Detail)
		}
	}
}
