package tui

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// A server that accepts and then says nothing (or only a greeting).
func silentServer(t *testing.T, greet bool) (port int, conns chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if greet {
				c.Write([]byte("220 quiet.example ESMTP\r\n"))
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ = strconv.Atoi(p)
	return port, conns
}

// Esc says what it cancelled, in words, not with Go's error text.
func TestCancelSaysWhatWasCancelled(t *testing.T) {
	o := realLabOptions(t)
	o.StartLab = nil
	inner := o.Dial
	hang := make(chan bool, 1) // a dial that never connects, once
	o.Dial = func(ctx context.Context, tg Target, events func(explorer.Event)) (Session, error) {
		select {
		case <-hang:
			c, err := explorer.Dial(ctx, tg.Proto, explorer.Options{Addr: tg.Addr(), OnEvent: events,
				Dial: func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }})
			if c == nil {
				return nil, err
			}
			return conversation{c}, err
		default:
			return inner(ctx, tg, events)
		}
	}
	h := startApp(t, o, 120, 30)
	quiet, _ := silentServer(t, false)
	greets, _ := silentServer(t, true)
	connect := func(port int, sec Security) {
		h.app.tv.QueueUpdateDraw(func() {
			h.app.Connect(Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: port, Security: sec})
		})
	}
	esc := func(want string) {
		t.Helper()
		h.key(tcell.KeyEscape)
		s := h.waitFor(want, "Ctrl-N connects again")
		for _, raw := range []string{"context canceled", "operation was canceled", "!! "} {
			if strings.Contains(s, raw) {
				t.Fatalf("after Esc the screen shows %q:\n%s", raw, s)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for h.app.Busy() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}

	hang <- true
	connect(quiet, Plain)
	h.waitFor("connecting to 127.0.0.1:")
	esc("cancelled (Esc) while connecting")

	connect(quiet, Plain)
	h.waitFor("connected; waiting for the server's greeting")
	esc("cancelled (Esc) while waiting for the server's greeting")

	connect(quiet, TLS)
	h.waitFor("TLS handshake with server name")
	esc("cancelled (Esc) during the TLS handshake")

	connect(greets, Plain)
	h.waitFor("S: 220 quiet.example")
	h.line("NOOP")
	h.waitFor("C: NOOP", "Esc cancel")
	esc("cancelled (Esc) while waiting for the reply to NOOP")
}

// The trace of a connection left with Ctrl-N stays out of the next one.
func TestLeftConnectionStaysOutOfTheNextTrace(t *testing.T) {
	late := make(chan func(explorer.Event), 1)
	var fs *fakeSession
	o := fakeOptions(newFakeLab(), &fs)
	fake := o.Dial
	o.Dial = func(ctx context.Context, tg Target, events func(explorer.Event)) (Session, error) {
		if tg.Port == 10025 {
			late <- events
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return fake(ctx, tg, events)
	}
	o.Connect = &Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 10025}
	h := startApp(t, o, 80, 24)
	h.waitFor("connecting to 127.0.0.1:10025")
	events := <-late
	h.key(tcell.KeyCtrlN)
	h.waitFor("Server ")
	h.key(tcell.KeyEnter) // open the Server list
	h.key(tcell.KeyEnter) // keep the lab SMTP: the focus goes to Connect
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 mail.postlab.test")
	events(explorer.Event{Dir: explorer.Local, Err: true, Line: "error: dial: old connection"})
	// A barrier: a command sent now and its reply come after the stale
	// line, had it got in.
	h.line("NOOP")
	s := h.waitFor("C: NOOP", "S: 500 ")
	if strings.Contains(s, "old connection") {
		t.Fatalf("the abandoned dial writes into the new trace:\n%s", s)
	}
	for _, e := range h.app.session.trace.Snapshot() {
		if strings.Contains(e.Event.Line, "old connection") {
			t.Fatalf("the abandoned dial writes into the new trace: %q", e.Event.Line)
		}
	}
}

func TestCancelNoteNamesTheStep(t *testing.T) {
	for _, c := range []struct {
		line  string
		state explorer.State
		want  string
	}{
		{"error: dial: dial tcp 127.0.0.1:25: operation was canceled", explorer.State{Phase: explorer.PhaseConnect}, "cancelled (Esc) while connecting: "},
		{"error: read: context canceled", explorer.State{Phase: explorer.PhaseConnect}, "cancelled (Esc) while waiting for the server's greeting: "},
		{"error: read: context canceled", explorer.State{Phase: explorer.PhaseReady, Command: "STARTTLS"}, "cancelled (Esc) while waiting for the reply to STARTTLS: "},
		{"error: tls: context canceled", explorer.State{Phase: explorer.PhaseConnect}, "cancelled (Esc) during the TLS handshake: "},
		{"error: write: context canceled", explorer.State{Phase: explorer.PhaseReady}, "cancelled (Esc) while sending: "},
	} {
		ev := cancelNote(explorer.Event{Dir: explorer.Local, Err: true, Line: c.line, State: c.state})
		if !strings.HasPrefix(ev.Line, c.want) || ev.Err {
			t.Errorf("%q: %q (err %v), want %q…", c.line, ev.Line, ev.Err, c.want)
		}
	}
	other := explorer.Event{Dir: explorer.Local, Err: true, Line: "error: read: connection closed by the server"}
	if cancelNote(other) != other {
		t.Error("a failure that is not a cancel was rewritten")
	}
}
