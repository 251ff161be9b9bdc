package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A signed copy that cannot be created or written is a signing problem, not
// a delivery failure: the message is acknowledged and stored unsigned,
// byte for byte, and the trace says why.
func TestDKIMSignedCopyFailureStoresUnsigned(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(*Store, string) (*spoolFile, error)
	}{
		{"create", func(*Store, string) (*spoolFile, error) {
			return nil, errors.New("injected: no room for the signed copy")
		}},
		{"write", func(st *Store, mailbox string) (*spoolFile, error) {
			sf, err := st.create(mailbox)
			if err == nil {
				sf.f.Close() // the buffered writes fail when flushed
			}
			return sf, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := createSignedCopy
			t.Cleanup(func() { createSignedCopy = orig }) // after the lab has closed
			var calls atomic.Int32
			createSignedCopy = func(st *Store, mailbox string) (*spoolFile, error) {
				calls.Add(1)
				return tc.fail(st, mailbox)
			}
			var mu sync.Mutex
			var logged []string
			l := startLab(t, func(c *Config) {
				c.Logf = func(f string, a ...any) {
					mu.Lock()
					defer mu.Unlock()
					logged = append(logged, fmt.Sprintf(f, a...))
				}
			})
			c := dialTLS(t, l, l.Addr(ListenerSubmissions))
			c.greet()
			c.login("alice", "wonderland")
			reply := c.sendMail("alice@postlab.test", []string{"bob@postlab.test", "dave@example.org"}, signedMsg)
			if n := calls.Load(); n != 1 {
				t.Fatalf("the signed copy was attempted %d times, want 1 (reply %q)", n, reply)
			}
			sent := strings.Replace(signedMsg, "\r\n..a", "\r\n.a", 1)

			for _, box := range []string{"bob", Outbox} {
				stored := readNew(t, l, box)
				_, sig, rest := splitLabFields(t, stored)
				if sig != "" {
					t.Errorf("%s: stored with a signature %q", box, sig)
				}
				if rest != sent {
					t.Errorf("%s: not stored byte for byte:\n%q\nwant\n%q", box, rest, sent)
				}
			}
			if !traceHas(l, "not DKIM-signed: the mail store could not write the signed copy") {
				t.Errorf("no note on why the message is unsigned:\n%s", dump(l.Traces().Recent(0)))
			}
			if traceHas(l, "DKIM-signed with") {
				t.Errorf("the trace claims a signature:\n%s", dump(l.Traces().Recent(0)))
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(strings.Join(logged, "\n"), "store: DKIM-signed copy: ") {
				t.Errorf("the log does not say what failed: %q", logged)
			}
			// No half-written signed copy is left behind in tmp/.
			for _, box := range []string{"bob", Outbox} {
				if fs := tmpFiles(t, l, box); len(fs) != 0 {
					t.Errorf("%s/tmp keeps %v", box, fs)
				}
			}
		})
	}
}

func tmpFiles(t *testing.T, l *Lab, box string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(l.DataDir(), "mail", box, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}
