package explorer

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipeDial serves data as the whole of the server's side and then closes.
func pipeDial(data []byte) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			go func() { // swallow what the client sends
				buf := make([]byte, 4096)
				for {
					if _, err := server.Read(buf); err != nil {
						return
					}
				}
			}()
			server.SetWriteDeadline(time.Now().Add(2 * time.Second))
			server.Write(data)
		}()
		return client, nil
	}
}

// pipeDialOpen is pipeDial that keeps the server side open (reading)
// until the client closes.
func pipeDialOpen(data []byte) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			server.SetDeadline(time.Now().Add(10 * time.Second))
			server.Write(data)
			buf := make([]byte, 4096)
			for {
				if _, err := server.Read(buf); err != nil {
					return
				}
			}
		}()
		return client, nil
	}
}

var fuzzCommands = []string{"EHLO x", "AUTH LOGIN", "dXNlcg==", "cGFzcw==", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "x", ".", "BDAT 3 LAST", "abc", "STARTTLS", "QUIT"}

// FuzzSMTPSession feeds arbitrary server bytes to a session running a
// whole transaction: it must end (deadline or EOF) without panicking, and
// never record the raw control characters.
func FuzzSMTPSession(f *testing.F) {
	f.Add([]byte("220 ok\r\n250-a\r\n250 PIPELINING\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n"))
	f.Add([]byte("220-a\r\n220\r\n421 bye\r\n"))
	f.Add([]byte("220 a\n250\x00\r\n"))
	f.Add([]byte("220 ok\r\n220 go\r\n\x16\x03\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Addr: "fuzz:25", ReplyTimeout: 200 * time.Millisecond, Dial: pipeDial(data)}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := DialSMTP(ctx, opts)
		if c == nil {
			if err == nil {
				t.Fatal("nil session without error")
			}
			return
		}
		defer c.Close()
		for _, l := range fuzzCommands {
			if _, err := c.SendLine(ctx, l); err != nil && (IsNetwork(err) || errors.Is(err, ErrClosed)) {
				break
			}
		}
		for _, e := range c.Events() {
			if strings.ContainsAny(e.Line, "\x00\r\n\x1b") {
				t.Fatalf("raw control character in the trace: %q", e.Line)
			}
		}
	})
}

// FuzzPOP3Session is the same for POP3.
func FuzzPOP3Session(f *testing.F) {
	f.Add([]byte("+OK <a@b>\r\n+OK\r\nTOP\r\n.\r\n+OK\r\n+OK\r\n+OK 1 2\r\n+OK\r\n1 2\r\n.\r\n+OK\r\n..x\r\n.\r\n+OK\r\n"))
	f.Add([]byte("+OK\r\n+ \r\n-ERR [AUTH] no\r\n"))
	f.Add([]byte("-ERR [SYS/TEMP] busy\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Addr: "fuzz:110", ReplyTimeout: 200 * time.Millisecond, Dial: pipeDial(data)}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := DialPOP3(ctx, opts)
		if c == nil {
			if err == nil {
				t.Fatal("nil session without error")
			}
			return
		}
		defer c.Close()
		for _, l := range []string{"CAPA", "AUTH PLAIN", "AGEAYg==", "USER a", "PASS b", "STAT", "LIST", "UIDL 1", "RETR 1", "TOP 1 0", "STLS", "QUIT"} {
			if _, err := c.SendLine(ctx, l); err != nil && (IsNetwork(err) || errors.Is(err, ErrClosed)) {
				break
			}
		}
		for _, e := range c.Events() {
			if strings.Contains(e.Line, "PASS b") || strings.ContainsAny(e.Line, "\x00\r\n\x1b") {
				t.Fatalf("bad trace line %q", e.Line)
			}
		}
	})
}

// Close from another goroutine (the app's Esc) ends a blocked read quietly.
func TestCloseWhileReading(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "HANG")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var sendErr error
	go func() {
		defer wg.Done()
		_, sendErr = c.SendLine(ctx, "NOOP")
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	wg.Wait()
	if !errors.Is(sendErr, ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", sendErr)
	}
	if errs := errEvents(c.Events()); len(errs) != 0 {
		t.Errorf("a deliberate close is not an error: %v", errs)
	}
}

// Subscribers see every event in order, and can leave.
func TestSubscribe(t *testing.T) {
	f := newFake(t, "S: 220 mx.test", "C: NOOP", "S: 250 ok", "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	var live []Event
	opts := testOpts(f.Addr())
	opts.OnEvent = func(e Event) { live = append(live, e) }
	c, err := DialSMTP(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var late []string
	cancel := c.Subscribe(func(e Event) { late = append(late, e.Line) })
	c.Noop(ctx)
	cancel()
	c.Quit(ctx)
	all := c.Events()
	if len(live) != len(all) {
		t.Fatalf("OnEvent saw %d events, trace has %d", len(live), len(all))
	}
	for i := range all {
		if live[i] != all[i] {
			t.Errorf("event %d differs: %+v vs %+v", i, live[i], all[i])
		}
	}
	if strings.Join(late, "|") != "NOOP|250 ok" {
		t.Errorf("subscriber saw %q", late)
	}
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("220 v6 ready\r\n"))
		time.Sleep(100 * time.Millisecond)
		c.Close()
	}()
	opts := testOpts(ln.Addr().String())
	opts.Network = "tcp6"
	c, err := DialSMTP(testCtx(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.RemoteAddr().String(), "[::1]:") || c.Greeting.Text() != "v6 ready" {
		t.Errorf("remote %s greeting %v", c.RemoteAddr(), c.Greeting)
	}
	// tcp4 to an IPv6 address is refused locally, as a network error.
	opts.Network = "tcp4"
	if _, err := DialSMTP(testCtx(t), opts); !IsNetwork(err) {
		t.Errorf("tcp4 to [::1]: %v", err)
	}
}

func TestConnectTimeout(t *testing.T) {
	opts := testOpts("192.0.2.1:25")
	opts.ConnectTimeout = 50 * time.Millisecond
	opts.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done() // a black-holed address
		return nil, ctx.Err()
	}
	_, err := DialSMTP(testCtx(t), opts)
	if !IsNetwork(err) || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("err = %v", err)
	}
}

func TestDialConversation(t *testing.T) {
	f := newFake(t, "S: +OK ready", "C: CAPA", "S: +OK", "S: SASL PLAIN", "S: USER", "S: .")
	ctx := testCtx(t)
	c, err := Dial(ctx, POP3, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Line(ctx, "CAPA"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Caps(), ","); got != "SASL PLAIN,USER" {
		t.Errorf("caps %q", got)
	}
	if c.State().Proto != POP3 {
		t.Errorf("state %+v", c.State())
	}
	if _, err := Dial(ctx, "imap", testOpts(f.Addr())); err == nil {
		t.Error("imap accepted")
	}
}

func BenchmarkParseReplyLine(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ParseReplyLine("250-5.7.26 Unauthenticated email from example.com is not accepted")
	}
}

// BenchmarkPOP3Retr2MB downloads a 2 MB message (20,000 lines) per
// iteration over an in-memory pipe, with the default trace bound.
func BenchmarkPOP3Retr2MB(b *testing.B) {
	var msg strings.Builder
	msg.WriteString("+OK ready\r\n+OK 2000000 octets\r\n")
	for i := 0; i < 20000; i++ {
		msg.WriteString(strings.Repeat("x", 98) + "\r\n")
	}
	msg.WriteString(".\r\n")
	data := []byte(msg.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		c, err := DialPOP3(ctx, Options{Addr: "bench:110", Dial: pipeDial(data)})
		if err != nil {
			b.Fatal(err)
		}
		r, err := c.Retr(ctx, 1)
		if err != nil || len(r.Lines) != 20000 {
			b.Fatal(err)
		}
		c.Close()
	}
}
