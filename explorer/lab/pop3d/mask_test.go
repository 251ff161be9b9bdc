package pop3d

import (
	"strings"
	"testing"

	"postlab/explorer"
)

func TestMaskLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PASS wonderland", "PASS ****"},
		{"pass correct horse", "pass ****"},
		{"PASS\twonderland", "PASS ****"},
		{"  PASS wonderland", "PASS ****"},
		{"PASS", "PASS"},
		{"APOP alice 0123456789abcdef0123456789abcdef", "APOP alice ****"},
		{"APOP\talice\t0123", "APOP alice ****"},
		{"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "AUTH PLAIN ****"},
		{"AUTH AGFsaWNlAHdvbmRlcmxhbmQ=", "AUTH ****"},
		{"AUTH PLAIN", "AUTH PLAIN"},
		{"USER alice", "USER alice"},
		{"STAT", "STAT"},
	} {
		if got := maskLine(tc.in); got != tc.want {
			t.Errorf("maskLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A SASL response sent after AUTH was refused is read as a command; the
// trace masks it and the reply does not echo it.
func TestTraceMasksSASLAfterRefusedAuth(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.expect("AUTH PLAIN", "-ERR [AUTH]")
	c.expect(plain("", "alice", "wonderland"), "-ERR")
	if got := c.expect("d29uZGVy", "-ERR"); strings.Contains(strings.ToUpper(got), "D29UZGVY") {
		t.Errorf("reply echoes it: %q", got)
	}
	c.expect("wonderland", "-ERR unknown command") // typed as is
	c.expect("CAPA", "+OK")
	c.multi()
	c.expect("NOOPX", "-ERR unknown command NOOPX") // no AUTH before: echoed
	c.expect("QUIT", "+OK")
	waitFor(t, "session end", func() bool {
		evs := ts.trace.events()
		return len(evs) > 0 && evs[len(evs)-1].State.Phase == explorer.PhaseClosed
	})
	masked := 0
	for _, ev := range ts.trace.events() {
		for _, s := range []string{ev.Line, ev.State.Command} {
			if strings.Contains(s, "wonderland") || strings.Contains(s, "AGFsaWNl") || strings.Contains(strings.ToUpper(s), "D29UZGVY") {
				t.Errorf("trace shows %q", s)
			}
		}
		if ev.Dir == explorer.ClientToServer && ev.Line == "****" {
			masked++
		}
	}
	if masked != 3 {
		t.Errorf("%d lines masked, want 3", masked)
	}
}
