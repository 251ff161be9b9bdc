package annotate

import "postlab/explorer"

// Suggestion is a next command that makes sense in a session's state.
type Suggestion struct {
	Command string // a command line template, e.g. "RCPT TO:<user@example.com>"
	Why     string
}

// Suggest lists sensible next commands for the state, given the capabilities
// the server announced (EHLO lines or CAPA tags; nil when not known).
func Suggest(st explorer.State, caps []string) []Suggestion {
	return nil
}
