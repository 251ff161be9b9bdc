package diag

import "strings"

// dedupeExplanation drops sentences the reader has already been told: a
// detail that repeats the meaning (a code's registry entry is often both),
// or one detail repeating another. A detail of the form "Title: text" whose
// text was all said already is dropped whole.
func dedupeExplanation(e *Explanation) {
	seen := map[string]bool{}
	e.Meaning = dropSeenSentences(e.Meaning, seen)
	var keep []string
	for _, d := range e.Details {
		title, body := splitTitle(d)
		if seen[strings.TrimSuffix(title, ": ")] {
			title = "" // the meaning is this title already
		}
		body = dropSeenSentences(body, seen)
		if body == "" {
			continue
		}
		keep = append(keep, title+body)
	}
	e.Details = keep
}

// dropSeenSentences removes from s the sentences already in seen (and
// repeats within s), and adds the rest to seen. s is returned unchanged
// when nothing was removed.
func dropSeenSentences(s string, seen map[string]bool) string {
	parts := splitSentences(s)
	kept := parts[:0:0]
	for _, p := range parts {
		k := strings.TrimSpace(p)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		kept = append(kept, k)
	}
	if len(kept) == len(parts) {
		return s
	}
	return strings.Join(kept, " ")
}

// splitSentences cuts s after each '.', '!' or '?' that a space follows.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' {
			out = append(out, s[start:i+1])
			start = i + 2
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// splitTitle splits "550 Requested action not taken: text" into its
// title (with the ": ") and text; a detail without such a title has none.
func splitTitle(d string) (title, body string) {
	i := strings.Index(d, ": ")
	if i < 0 || i > 80 || strings.Contains(d[:i], ". ") {
		return "", d
	}
	return d[:i+2], d[i+2:]
}
