package explorer

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// NoteFunc explains an event (explorer/annotate.Annotate has this shape;
// explorer does not import it, the caller passes it in).
type NoteFunc func(Event) []Note

// Marker is the swaks-style prefix of an event: "->" sent, "<-" received,
// "~>" and "<~" the same inside TLS, "==" a local note, "**" an error.
func Marker(ev Event) string {
	switch {
	case ev.Err:
		return "**"
	case ev.Dir == ClientToServer && ev.TLS:
		return "~>"
	case ev.Dir == ClientToServer:
		return "->"
	case ev.Dir == ServerToClient && ev.TLS:
		return "<~"
	case ev.Dir == ServerToClient:
		return "<-"
	}
	return "=="
}

// NoteIndent prefixes each note line under its event.
const NoteIndent = "      "

// FormatNote renders one note as the lines shown under an event.
func FormatNote(n Note) []string {
	s := n.Title
	if n.Detail != "" {
		s += ": " + n.Detail
	}
	if n.Ref != "" {
		s += " (" + n.Ref + ")"
	}
	var out []string
	for i, l := range strings.Split(s, "\n") {
		if i == 0 {
			out = append(out, NoteIndent+"== "+l)
		} else {
			out = append(out, NoteIndent+"   "+l)
		}
	}
	return out
}

// FormatText renders an event and its notes as text lines (no newlines).
func FormatText(ev Event, notes []Note) []string {
	out := []string{Marker(ev) + " " + ev.Line}
	for _, n := range notes {
		out = append(out, FormatNote(n)...)
	}
	return out
}

// WriteText writes a whole trace as text; notes may be nil.
func WriteText(w io.Writer, events []Event, notes NoteFunc) error {
	var b strings.Builder
	for _, ev := range events {
		var ns []Note
		if notes != nil {
			ns = notes(ev)
		}
		for _, l := range FormatText(ev, ns) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonEvent is the stable JSON Lines schema of a transcript.
type jsonEvent struct {
	T     string    `json:"t"`
	Dir   Direction `json:"dir"`
	TLS   bool      `json:"tls"`
	Line  string    `json:"line"`
	Notes []Note    `json:"notes"`
	Err   bool      `json:"err,omitempty"`
	Phase Phase     `json:"phase,omitempty"`
}

// JSONLWriter writes one JSON object per event and line, safe for
// concurrent use, so it can be subscribed to a live session.
type JSONLWriter struct {
	mu    sync.Mutex
	enc   *json.Encoder
	notes NoteFunc
	err   error
}

// NewJSONLWriter writes events to w, with notes from notes (may be nil).
func NewJSONLWriter(w io.Writer, notes NoteFunc) *JSONLWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONLWriter{enc: enc, notes: notes}
}

// Write writes one event. After the first error it keeps returning it.
func (j *JSONLWriter) Write(ev Event) error {
	je := jsonEvent{
		T:     ev.Time.Format(time.RFC3339Nano),
		Dir:   ev.Dir,
		TLS:   ev.TLS,
		Line:  ev.Line,
		Notes: []Note{},
		Err:   ev.Err,
		Phase: ev.State.Phase,
	}
	if j.notes != nil {
		if ns := j.notes(ev); ns != nil {
			je.Notes = ns
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = j.enc.Encode(je)
	}
	return j.err
}

// Err is the first write error, if any.
func (j *JSONLWriter) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// WriteJSONL writes a whole trace as JSON Lines.
func WriteJSONL(w io.Writer, events []Event, notes NoteFunc) error {
	j := NewJSONLWriter(w, notes)
	for _, ev := range events {
		if err := j.Write(ev); err != nil {
			return err
		}
	}
	return nil
}
