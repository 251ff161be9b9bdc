package diag

import (
	"bytes"
	"regexp"
)

// TroubleshootResult is what Troubleshoot made of pasted evidence: exactly
// one of Explanation (a reply, code or diagnostic line), Bounce (a bounce
// or other report) and Headers (an ordinary message) is set; a bounce also
// carries its header analysis. Plain data, for a UI to show as a tree.
type TroubleshootResult struct {
	Kind        string        `json:"kind"` // explanation, bounce, headers
	Explanation *Explanation  `json:"explanation,omitempty"`
	Bounce      *BounceReport `json:"bounce,omitempty"`
	Headers     *HeaderReport `json:"headers,omitempty"`
}

var reLooksLikeHeader = regexp.MustCompile(`(?m)^(From |[A-Za-z][A-Za-z0-9-]*:[ \t])`)

// Troubleshoot decides what the input is (a few lines of reply text, or a
// whole message) and runs the matching analysis.
func Troubleshoot(input []byte, opt HeadersOptions) TroubleshootResult {
	if len(input) > HeadersMaxBytes {
		input = input[:HeadersMaxBytes]
	}
	trimmed := bytes.TrimSpace(input)
	lines := bytes.Count(trimmed, []byte("\n")) + 1
	isMessage := lines >= 3 && reLooksLikeHeader.Match(trimmed) && bytes.Contains(input, []byte("\n\n")) ||
		bytes.Contains(input, []byte("\r\n\r\n")) && reLooksLikeHeader.Match(trimmed)
	if !isMessage {
		e := Explain(string(trimmed))
		return TroubleshootResult{Kind: "explanation", Explanation: &e}
	}
	// A paste often starts with blank lines: the header starts after them.
	input = bytes.TrimLeft(input, "\r\n\t ")
	b, _ := ParseBounce(bytes.NewReader(input))
	// No message at all goes to the header analysis, which says why.
	if b != nil && b.Kind != "ordinary" && b.ParseError == "" {
		h := AnalyzeHeaders(input, opt)
		return TroubleshootResult{Kind: "bounce", Bounce: b, Headers: h}
	}
	return TroubleshootResult{Kind: "headers", Headers: AnalyzeHeaders(input, opt)}
}
