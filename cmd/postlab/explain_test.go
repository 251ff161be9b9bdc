package main

import (
	"strings"
	"testing"
)

// QA: the greeting's meaning was printed twice (as the meaning and as the
// reply code's detail line).
func TestExplainGreetingSaysItOnce(t *testing.T) {
	for _, in := range []string{"220 mx.google.com ESMTP", "250", "354", "235 2.7.0 Authentication successful"} {
		code, out := runCapture(t, "explain", in)
		if code != exitOK {
			t.Fatalf("%q: exit %d\n%s", in, code, out)
		}
		said := map[string]bool{}
		for _, f := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == ':' }) {
			for _, s := range strings.SplitAfter(f, ". ") {
				s = strings.TrimSpace(s)
				if len(s) > 20 && said[s] {
					t.Errorf("%q: %q is printed twice:\n%s", in, s, out)
				}
				said[s] = true
			}
		}
	}
}
