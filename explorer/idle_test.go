package explorer

import (
	"strings"
	"testing"
	"time"
)

func waitDone(t *testing.T, w *IdleWatch) {
	t.Helper()
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end")
	}
}

// A 421 sent while the user is idle is recorded at once and closes the session.
func TestWatchIdleShows421(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: EHLO c", "S: 250 mx.test", "S: 421 4.4.2 mx.test idle too long", "CLOSE")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ehlo(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	w := c.WatchIdle(ctx)
	waitDone(t, w)
	if w.Err() != nil || !c.Closed() {
		t.Errorf("err %v, closed %v", w.Err(), c.Closed())
	}
	var got *Event
	for _, e := range c.Events() {
		if strings.HasPrefix(e.Line, "421 ") {
			e := e
			got = &e
		}
	}
	if got == nil || got.State.Command != "" || got.Dir != ServerToClient {
		t.Errorf("421 recorded as %+v", got)
	}
}

// Stop interrupts a watch (also inside TLS) and the session goes on.
func TestWatchIdleStopThenSend(t *testing.T) {
	_, pool := certFor(t)
	f := newFake(t, "S: 220 mx.test", "C: STARTTLS", "S: 220 go ahead", "TLS", "C: NOOP", "S: 250 ok", "C: NOOP", "S: 250 ok again")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	opts.RootCAs, opts.ServerName = pool, "mx.test"
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendLine(ctx, "STARTTLS"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"250 ok", "250 ok again"} {
		w := c.WatchIdle(ctx)
		time.Sleep(20 * time.Millisecond) // let the watch block in its read
		w.Stop()
		if w.Err() != nil {
			t.Fatal(w.Err())
		}
		r, err := c.SendLine(ctx, "NOOP")
		if err != nil || r.String() != want {
			t.Fatalf("NOOP after the watch: %v, %v", r, err)
		}
	}
}

// A POP3 server's last words and the end of the connection are shown at once.
func TestWatchIdlePOP3Autologout(t *testing.T) {
	f := newFake(t, "S: +OK ready", "C: NOOP", "S: +OK", "S: -ERR autologout timer expired", "CLOSE")
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	c.Noop(ctx)
	w := c.WatchIdle(ctx)
	waitDone(t, w)
	if !IsNetwork(w.Err()) || !c.Closed() {
		t.Errorf("err %v, closed %v", w.Err(), c.Closed())
	}
	var lines []string
	for _, e := range c.Events() {
		lines = append(lines, e.Line)
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "-ERR autologout") || !strings.Contains(all, "connection closed by the server") {
		t.Errorf("trace:\n%s", all)
	}
}
