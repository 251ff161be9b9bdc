package annotate

import (
	"testing"

	"postlab/explorer"
)

// BenchmarkAnnotateSession annotates the typical SMTP and POP3 sessions of
// session_test.go, one Annotator per session.
func BenchmarkAnnotateSession(b *testing.B) {
	var evs []explorer.Event
	for _, s := range append(typicalSMTP, typicalPOP3...) {
		evs = append(evs, explorer.Event{Dir: s.dir, TLS: s.tls, Line: s.line, State: s.st})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a := NewAnnotator()
		for _, ev := range evs {
			a.Annotate(ev)
		}
	}
}
