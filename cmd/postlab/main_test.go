package main

import "testing"

func TestUnknownCommandIsUsageError(t *testing.T) {
	if code := run([]string{"no-such-command"}); code != exitUsage {
		t.Fatalf("exit code = %d, want %d", code, exitUsage)
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	if code := run([]string{"--no-such-flag"}); code != exitUsage {
		t.Fatalf("exit code = %d, want %d", code, exitUsage)
	}
}
