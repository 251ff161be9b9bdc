package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A long token that is no credential is shown as typed on screen and in
// --trace-out; a password on the same session stays masked.
func TestTraceShowsNonSecretTokens(t *testing.T) {
	srv := newLineServer(t, "+OK ready <1.2@mx.test>\r\n", pop3Reply)
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	zeros := strings.Repeat("A", 60)
	out, code := runIO(t, "NOOP "+zeros+"\r\nUSER alice\r\nPASS wonderland\r\nQUIT\r\n", "pop3", "--no-color", "--trace-out", trace, srv.Addr())
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if code != exitOK || !strings.Contains(out, "-> NOOP "+zeros+"\n") || !strings.Contains(out, "-> PASS ****\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(string(b), `"line":"NOOP `+zeros+`"`) || strings.Contains(string(b), "NOOP ****") {
		t.Errorf("--trace-out masks the NOOP argument:\n%s", b)
	}
	if strings.Contains(out+string(b), "wonderland") {
		t.Error("password in the trace")
	}
}
