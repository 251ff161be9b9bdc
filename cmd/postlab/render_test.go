package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

func TestRendererColoursAndNotes(t *testing.T) {
	var buf bytes.Buffer
	r, err := newRenderer(&buf, &traceFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if r.colors {
		t.Fatal("colour on a buffer, which is not a terminal")
	}
	r.colors = true // as on a terminal
	st := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseRcpt, Command: "RCPT"}
	r.Event(explorer.Event{Dir: explorer.ServerToClient, Line: "550 5.1.1 no such user", State: st})
	r.Event(explorer.Event{Dir: explorer.ClientToServer, TLS: true, Line: "QUIT", State: st})
	r.Event(explorer.Event{Dir: explorer.Local, Line: "error: read: timeout", Err: true, State: st})
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "\x1b[31m<- 550") {
		t.Errorf("5xx not red: %q", lines[0])
	}
	if len(lines) < 3 || !strings.Contains(lines[1], explorer.NoteIndent+"== ") {
		t.Errorf("no note under the reply:\n%s", out)
	}
	if !strings.Contains(out, "~> QUIT") || !strings.Contains(out, "** error: read: timeout") {
		t.Errorf("markers:\n%s", out)
	}
}

func TestUseColor(t *testing.T) {
	if useColor(&bytes.Buffer{}, false) {
		t.Error("colour on a buffer")
	}
	if useColor(os.Stdout, true) {
		t.Error("colour despite --no-color")
	}
	t.Setenv("NO_COLOR", "1")
	if useColor(os.Stdout, false) {
		t.Error("colour despite NO_COLOR")
	}
}

func TestTraceOutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	var buf bytes.Buffer
	r, err := newRenderer(&buf, &traceFlags{traceOut: path, noNotes: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Event(explorer.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Dir: explorer.ClientToServer, Line: "EHLO x", State: explorer.State{Proto: explorer.SMTP, Command: "EHLO"}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), `{"t":"2026-01-02T03:04:05Z","dir":"c2s","tls":false,"line":"EHLO x","notes":[{`) {
		t.Errorf("JSON line %s", b)
	}
	if strings.Contains(buf.String(), "==") {
		t.Errorf("--no-notes printed notes: %s", buf.String())
	}
	if _, err := newRenderer(&buf, &traceFlags{traceOut: filepath.Join(t.TempDir(), "no", "such", "dir")}); err == nil {
		t.Error("unwritable --trace-out accepted")
	}
}
