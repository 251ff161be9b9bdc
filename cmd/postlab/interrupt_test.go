package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// interruptAfter is a stdin that gives one line, then plays Ctrl-C and
// blocks, as a terminal does while the user looks at the trace.
type interruptAfter struct {
	line   string
	cancel func()
	block  chan struct{}
	mu     sync.Mutex
	n      int
}

func (r *interruptAfter) Read(p []byte) (int, error) {
	r.mu.Lock()
	r.n++
	n := r.n
	r.mu.Unlock()
	if n == 1 {
		return copy(p, r.line), nil
	}
	r.cancel()
	<-r.block
	return 0, io.EOF
}

// withSignal makes signalContext return ctx for the test.
func withSignal(t *testing.T, ctx context.Context) {
	old := signalContext
	signalContext = func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	t.Cleanup(func() { signalContext = old })
}

func runWithStdin(t *testing.T, in io.Reader, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(in)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), exitOK
	case errors.As(err, &ee):
		if ee.err != errSilent {
			out.WriteString("postlab: " + ee.Error() + "\n")
		}
		return out.String(), ee.code
	}
	return out.String() + err.Error(), exitUsage
}

// Ctrl-C ends an interactive session with 130 (128+SIGINT), as shells
// expect, after closing the connection without QUIT.
func TestInterruptExits130(t *testing.T) {
	smtpSrv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	popSrv := newLineServer(t, "+OK ready\r\n", pop3Reply)
	for _, args := range [][]string{{"smtp", smtpSrv.Addr()}, {"pop3", popSrv.Addr()}} {
		ctx, cancel := context.WithCancel(context.Background())
		withSignal(t, ctx)
		in := &interruptAfter{line: "NOOP\r\n", cancel: cancel, block: make(chan struct{})}
		out, code := runWithStdin(t, in, args...)
		close(in.block)
		cancel()
		if code != exitInterrupted || !strings.Contains(out, "== interrupted") || strings.Contains(out, "-> QUIT") {
			t.Errorf("%v: exit %d, want 130:\n%s", args, code, out)
		}
	}
}

// Ctrl-C before the connection is up, and during send, exits 130 too.
func TestInterruptBeforeConnectExits130(t *testing.T) {
	srv := newLineServer(t, "220 mx.test ESMTP\r\n", smtpReply)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	withSignal(t, ctx)
	for _, args := range [][]string{
		{"smtp", srv.Addr()},
		{"pop3", srv.Addr()},
		{"send", "--server", srv.Addr(), "--from", "a@postlab.test", "--to", "bob@postlab.test"},
	} {
		if out, code := runIO(t, "QUIT\r\n", args...); code != exitInterrupted {
			t.Errorf("%v: exit %d, want 130:\n%s", args, code, out)
		}
	}
}

// cancelOnWrite cancels once the output shows want: Ctrl-C at a known
// point of the trace.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   string
	cancel func()
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOnWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Ctrl-C while waiting for a slow banner: send says it was interrupted,
// like smtp and pop3, not "error: read: context canceled".
func TestInterruptDuringBannerSaysInterrupted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c // silent: no banner
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(conns) > 0 {
			(<-conns).Close()
		}
	})
	for _, args := range [][]string{
		{"smtp", ln.Addr().String()},
		{"pop3", ln.Addr().String()},
		{"send", "--from", "a@postlab.test", "--to", "bob@postlab.test", "--server", ln.Addr().String()},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		withSignal(t, ctx)
		w := &cancelOnWrite{want: "== connected to", cancel: cancel}
		root := newRoot()
		root.SetArgs(args)
		root.SetIn(strings.NewReader("QUIT\r\n"))
		root.SetOut(w)
		root.SetErr(w)
		err := root.Execute()
		cancel()
		var ee *exitError
		out := w.String()
		if !errors.As(err, &ee) || ee.code != exitInterrupted || !strings.Contains(out, "== interrupted") || strings.Contains(out, "context canceled") {
			t.Errorf("%v: %v, want exit 130 and an interrupted note:\n%s", args, err, out)
		}
	}
}
