package tui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"postlab/explorer"
)

// textMarker is the swaks-style marker of the line-mode transcript.
func textMarker(ev explorer.Event) string {
	switch {
	case ev.Err:
		return "**"
	case ev.Dir == explorer.ClientToServer && ev.TLS:
		return "~>"
	case ev.Dir == explorer.ClientToServer:
		return "->"
	case ev.Dir == explorer.ServerToClient && ev.TLS:
		return "<~"
	case ev.Dir == explorer.ServerToClient:
		return "<-"
	}
	return "=="
}

// WriteText writes an annotated plain-text transcript.
func WriteText(w io.Writer, entries []Entry, notes func(i int) []explorer.Note) error {
	bw := bufio.NewWriter(w)
	for i, e := range entries {
		if e.Prefix != "" {
			fmt.Fprintf(bw, "%s ", e.Prefix)
		}
		fmt.Fprintf(bw, "%s %s\n", textMarker(e.Event), e.Event.Line)
		if notes != nil {
			for _, n := range notes(i) {
				fmt.Fprintf(bw, "     %s (%s)\n", n.Title, n.Ref)
			}
		}
	}
	return bw.Flush()
}

type jsonLine struct {
	T     time.Time       `json:"t"`
	Dir   string          `json:"dir"`
	TLS   bool            `json:"tls"`
	Line  string          `json:"line"`
	Notes []explorer.Note `json:"notes"`
}

// WriteJSONL writes one JSON object per line (the --trace-out schema).
func WriteJSONL(w io.Writer, entries []Entry, notes func(i int) []explorer.Note) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i, e := range entries {
		jl := jsonLine{T: e.Event.Time, Dir: string(e.Event.Dir), TLS: e.Event.TLS, Line: e.Event.Line, Notes: []explorer.Note{}}
		if notes != nil {
			if ns := notes(i); ns != nil {
				jl.Notes = ns
			}
		}
		if err := enc.Encode(jl); err != nil {
			return err
		}
	}
	return bw.Flush()
}
