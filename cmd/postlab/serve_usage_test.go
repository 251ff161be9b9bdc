package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad --data, a limit that is not positive and a lab with every listener
// off are usage errors (exit 2) that name the flag; nothing starts.
func TestServeFlagErrorsNameTheFlag(t *testing.T) {
	// A serve that starts after all stops at once (exit 0) instead of
	// running until the test times out.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	serveContext = func() context.Context { return ctx }
	t.Cleanup(func() { serveContext = context.Background })
	file := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(file, []byte("root:x:0:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	allOff := []string{"serve", "--data", t.TempDir(), "--smtp", "off", "--submission", "off", "--submissions", "OFF",
		"--pop3", "off", "--pop3s", "off", "--dns", "off"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{serveArgs(file), []string{"--data " + file, "not a directory"}},
		{serveArgs(filepath.Join(file, "sub")), []string{"--data " + filepath.Join(file, "sub"), "not a directory"}},
		{serveArgs(t.TempDir(), "--max-message-size", "-5"), []string{"--max-message-size -5", "positive"}},
		{serveArgs(t.TempDir(), "--max-message-size", "0"), []string{"--max-message-size 0"}},
		{serveArgs(t.TempDir(), "--idle-timeout", "0"), []string{"--idle-timeout 0s", "positive"}},
		{serveArgs(t.TempDir(), "--max-recipients", "0"), []string{"--max-recipients 0"}},
		{serveArgs(t.TempDir(), "--max-conns-per-ip", "-1"), []string{"--max-conns-per-ip -1"}},
		{allOff, []string{"nothing to serve"}},
	} {
		code, _, errs := runCaptured(t, tc.args...)
		ok := code == exitUsage && !strings.Contains(errs, "\n")
		for _, w := range tc.want {
			ok = ok && strings.Contains(errs, w)
		}
		if !ok {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args[1:], code, errs, tc.want)
		}
	}
}
