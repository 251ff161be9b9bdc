package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"postlab/explorer"
	"postlab/explorer/annotate"
)

// traceFlags are the output flags shared by smtp, pop3 and send.
type traceFlags struct {
	noColor  bool
	noNotes  bool
	traceOut string
}

func (f *traceFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.noColor, "no-color", false, "never colour the trace (NO_COLOR is respected too)")
	cmd.Flags().BoolVar(&f.noNotes, "no-notes", false, "print the bare trace without explanations")
	cmd.Flags().StringVar(&f.traceOut, "trace-out", "", "also write the trace to `FILE` as JSON Lines")
}

// renderer prints a live trace swaks-style, each note indented under its line.
type renderer struct {
	mu     sync.Mutex
	w      io.Writer
	notes  explorer.NoteFunc
	colors bool
	jsonl  *explorer.JSONLWriter
	file   *os.File
	// interrupted: the trace already says Ctrl-C ended the session.
	interrupted bool
}

// interruptNote is what the trace says when Ctrl-C ends a session.
const interruptNote = "interrupted: closing the connection without QUIT"

// Interrupted says, once, that Ctrl-C ended the session (screen only).
func (r *renderer) Interrupted() {
	r.mu.Lock()
	done := r.interrupted
	r.mu.Unlock()
	if !done {
		r.Event(explorer.Event{Time: time.Now(), Dir: explorer.Local, Line: interruptNote})
	}
}

// newRenderer sets up printing to w and the optional JSON Lines file. The
// JSON Lines file always carries the notes; --no-notes is about the screen.
func newRenderer(w io.Writer, f *traceFlags) (*renderer, error) {
	r := &renderer{w: w, colors: useColor(w, f.noColor)}
	if !f.noNotes {
		// One stateful annotator per consumer: it follows the session in order
		// (headers vs body, the AUTH LOGIN user name vs password).
		r.notes = annotate.NewAnnotator().Annotate
	}
	if f.traceOut != "" {
		fh, err := os.Create(f.traceOut)
		if err != nil {
			return nil, usageErrorf("--trace-out: %v", err)
		}
		r.file = fh
		r.jsonl = explorer.NewJSONLWriter(fh, annotate.NewAnnotator().Annotate)
	}
	return r, nil
}

// useColor: only on a terminal, never with --no-color or NO_COLOR.
func useColor(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" || color.NoColor {
		return false
	}
	f, ok := w.(*os.File)
	return ok && f == os.Stdout
}

// Event prints one event (safe to call from the session's goroutine).
func (r *renderer) Event(ev explorer.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Dir == explorer.Local {
		// Ctrl-C cancels the read or write under way; the session records
		// that as "error: read: context canceled". Say it once, in words.
		canceled := ev.Err && (strings.Contains(ev.Line, "context canceled") || strings.Contains(ev.Line, "operation was canceled"))
		if canceled || strings.HasPrefix(ev.Line, "interrupted") {
			if r.interrupted {
				return
			}
			r.interrupted = true
			if canceled {
				ev.Line, ev.Err = interruptNote, false
			}
		}
	}
	if r.jsonl != nil {
		r.jsonl.Write(ev)
	}
	var notes []explorer.Note
	if r.notes != nil {
		notes = r.notes(ev)
	}
	lines := explorer.FormatText(ev, notes)
	var b strings.Builder
	for i, l := range lines {
		if r.colors {
			l = r.paint(ev, i, l)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	io.WriteString(r.w, b.String())
}

// Printf prints a local line of the command itself (not part of the trace).
func (r *renderer) Printf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, format, a...)
}

func (r *renderer) paint(ev explorer.Event, i int, l string) string {
	c := color.New()
	c.EnableColor()
	switch {
	case i > 0:
		c.Add(color.Faint)
	case ev.Err:
		c.Add(color.FgRed, color.Bold)
	case ev.Dir == explorer.Local:
		c.Add(color.FgBlue)
	case ev.Dir == explorer.ClientToServer:
		c.Add(color.FgCyan)
	default:
		switch {
		case strings.HasPrefix(ev.Line, "-ERR"), strings.HasPrefix(ev.Line, "5"):
			c.Add(color.FgRed)
		case strings.HasPrefix(ev.Line, "4"):
			c.Add(color.FgYellow)
		case strings.HasPrefix(ev.Line, "+OK"), strings.HasPrefix(ev.Line, "2"):
			c.Add(color.FgGreen)
		}
	}
	return c.Sprint(l)
}

// Close flushes the JSON Lines file.
func (r *renderer) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.jsonl.Err()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return failErrorf("--trace-out: %v", err)
	}
	return nil
}
