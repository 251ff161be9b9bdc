package diag

import (
	"strconv"
	"strings"
	"testing"
)

// TestExplainNoRepeatedSentence: no sentence of the meaning and details is
// said twice, for every reply code, every status code in each class, and
// reply lines with them (QA: "220 mx.google.com ESMTP" said its meaning
// twice, once as the meaning and once as the code's detail line).
func TestExplainNoRepeatedSentence(t *testing.T) {
	inputs := []string{"220 mx.google.com ESMTP", "250 2.0.0 Ok", "235 2.7.0 Authentication successful", "2.1.5",
		"550 5.7.1 <x@example.com>: Relay access denied", "421 4.7.0 [TSS04] Messages temporarily deferred",
		"Diagnostic-Code: X-Postfix; host mx.example.com said: 550 5.1.1 User unknown"}
	for c := 200; c < 600; c++ {
		inputs = append(inputs, strconv.Itoa(c), strconv.Itoa(c)+" mx.example.com says hello")
	}
	for key := range statusDetails {
		for _, class := range []string{"2", "4", "5"} {
			code := class + "." + key
			inputs = append(inputs, code, map[string]string{"2": "250", "4": "451", "5": "550"}[class]+" "+code+" text")
		}
	}
	for _, in := range inputs {
		e := Explain(in)
		said := map[string]bool{}
		for _, s := range splitSentences(e.Meaning) {
			said[strings.TrimSpace(s)] = true
		}
		for _, d := range e.Details {
			_, body := splitTitle(d)
			if body == e.Meaning || d == e.Meaning {
				t.Errorf("%q: a detail repeats the meaning: %q", in, d)
				continue
			}
			for _, s := range splitSentences(body) {
				if s = strings.TrimSpace(s); said[s] {
					t.Errorf("%q: %q is said twice (meaning %q, details %q)", in, s, e.Meaning, e.Details)
				}
				said[s] = true
			}
		}
	}
}

func TestDropSeenSentences(t *testing.T) {
	seen := map[string]bool{}
	if got := dropSeenSentences("One. Two. One.", seen); got != "One. Two." {
		t.Errorf("got %q", got)
	}
	if got := dropSeenSentences("Two.  Three (RFC 5321 §4.2).", seen); got != "Three (RFC 5321 §4.2)." {
		t.Errorf("got %q", got)
	}
	if got := dropSeenSentences("Four.  Five", seen); got != "Four.  Five" {
		t.Errorf("unchanged text was rewritten: %q", got)
	}
}
