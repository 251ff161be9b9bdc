package main

import (
	"strings"
	"testing"
)

// headers and bounce without their FILE (or with two) say what they want
// with an example, like the other commands, not cobra's "accepts 1 arg(s)".
func TestFileCommandsUsage(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"headers", "headers needs a message FILE, or - to read it from stdin, e.g. postlab headers message.eml (see 'postlab headers --help')"},
		{"bounce", "bounce needs a bounce message FILE, or - to read it from stdin, e.g. postlab bounce bounce.eml (see 'postlab bounce --help')"},
	} {
		code, _, errs := runCaptured(t, tc.cmd)
		if code != exitUsage || errs != tc.want {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.cmd, code, errs, tc.want)
		}
		code, _, errs = runCaptured(t, tc.cmd, "a.eml", "b.eml")
		if code != exitUsage || !strings.Contains(errs, "takes one FILE, got 2 arguments (a.eml b.eml)") || strings.Contains(errs, "arg(s)") {
			t.Errorf("%s a b: exit %d, stderr %q", tc.cmd, code, errs)
		}
	}
}
