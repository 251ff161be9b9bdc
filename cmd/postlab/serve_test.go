package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"postlab/explorer/lab"
)

// serveArgs turns off the listeners a test does not need.
func serveArgs(data string, extra ...string) []string {
	args := []string{"serve", "--data", data, "--smtp", "127.0.0.1:0", "--submission", "off",
		"--submissions", "off", "--pop3", "off", "--pop3s", "off", "--dns", "off"}
	return append(args, extra...)
}

func TestServePortInUseIsUsageError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	args := serveArgs(t.TempDir(), "--pop3", taken.Addr().String())
	if code := run(args); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(new(bytes.Buffer))
	err = root.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("err %v, want a usage error", err)
	}
	want := taken.Addr().String() + " is in use: choose another with --pop3 ADDR"
	if err.Error() != want || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q, want %q", err, want)
	}
}

// syncBuffer is an io.Writer safe for the trace goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRunsUntilStopped(t *testing.T) {
	data := t.TempDir()
	t.Setenv("POSTLAB_PASSWORD", "s3cret-pass")
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *lab.Lab, 1)
	serveContext = func() context.Context { return ctx }
	serveStarted = func(l *lab.Lab) { started <- l }
	defer func() { serveContext, serveStarted = context.Background, nil }()

	var out, errOut syncBuffer
	root := newRoot()
	root.SetArgs(serveArgs(data, "--user", "carol", "--trace", "--scenario", "mailbox-full"))
	root.SetOut(&out)
	root.SetErr(&errOut)
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()

	var l *lab.Lab
	select {
	case l = <-started:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	banner := out.String()
	for _, want := range []string{
		"SMTP (MX)", l.Addr("smtp"), "submission", "off", "postlab.test",
		"alice@postlab.test  password wonderland", "bob@postlab.test    password builder",
		"carol@postlab.test  (stored password)", "data: " + data, "fault scenario: mailbox-full",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if b, err := os.ReadFile(filepath.Join(data, "users")); err != nil || !strings.Contains(string(b), "carol:$2") {
		t.Errorf("users file: %q %v", b, err)
	} else if fi, _ := os.Stat(filepath.Join(data, "users")); fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v", fi.Mode())
	}

	c, err := net.Dial("tcp", l.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tp := textproto.NewConn(c)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	tp.PrintfLine("QUIT")
	if _, _, err := tp.ReadResponse(221); err != nil {
		t.Fatal(err)
	}

	// --trace prints the session (from its own goroutine).
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "C: QUIT"); {
		if time.Now().After(deadline) {
			t.Fatalf("trace lacks the session:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestServeRejectsBadUserName(t *testing.T) {
	t.Setenv("POSTLAB_PASSWORD", "x")
	if code := run(serveArgs(t.TempDir(), "--user", "../root")); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
}

func TestServeRejectsUnknownScenario(t *testing.T) {
	if code := run(serveArgs(t.TempDir(), "--scenario", "nonsense")); code != exitUsage {
		t.Fatalf("--scenario: exit code %d, want %d", code, exitUsage)
	}
	if code := run(serveArgs(t.TempDir(), "--dns-fault", "nonsense")); code != exitUsage {
		t.Fatalf("--dns-fault: exit code %d, want %d", code, exitUsage)
	}
}
