package lab

// Benchmarks of the whole lab (issue 2): POP3 retrieval of a 5,000-message
// Maildir over one session, and SMTP intake of 10 KB messages from 8
// concurrent clients with one connection per message, delivered durably
// (every 250 after the file and its new/ entry are fsynced).
//
//	go test -run '^$' -bench 'BenchmarkLab' -benchtime 3s ./explorer/lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchLab starts a lab on 127.0.0.1 port 0 in a fresh data dir.
func benchLab(b *testing.B, insecure bool) *Lab {
	b.Helper()
	l, err := Start(Config{
		DataDir: b.TempDir(), SMTP: "127.0.0.1:0", Submission: Off, Submissions: Off,
		POP3: "127.0.0.1:0", POP3S: "127.0.0.1:0", DNS: Off,
		AuthFailDelay: -1, InsecureAuth: insecure,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

// benchMessage is a 10 KB message of 78-octet lines.
func benchMessage(size int) []byte {
	var m bytes.Buffer
	m.WriteString("From: load@example.com\r\nTo: alice@postlab.test\r\nSubject: benchmark\r\n\r\n")
	for i := 0; m.Len() < size-80; i++ {
		fmt.Fprintf(&m, "%06d %s\r\n", i, strings.Repeat("x", 70))
	}
	m.WriteString(strings.Repeat("y", size-m.Len()-2) + "\r\n")
	return m.Bytes()
}

// BenchmarkLabSMTPIntakeConnPerMessage: 8 clients send 10 KB messages to
// the MX port over net/smtp, one connection per message as smtplib, curl and
// swaks do, so each message also pays the session setup (BenchmarkSMTPIntake
// keeps one pipelined connection per client).
func BenchmarkLabSMTPIntakeConnPerMessage(b *testing.B) {
	const clients = 8
	msg := benchMessage(10 << 10)
	l := benchLab(b, false)
	addr := l.Addr(ListenerSMTP)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := benchSendOne(addr, msg); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// Every acknowledged message is in alice's new/.
	if n := len(benchEntries(b, l, "alice")); n != b.N {
		b.Fatalf("alice holds %d messages, want %d", n, b.N)
	}
}

// benchSendOne delivers one message on a connection of its own, in
// plaintext (the MX role).
func benchSendOne(addr string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("bench.example"); err != nil {
		return err
	}
	if err := c.Mail("load@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("alice@postlab.test"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func benchEntries(b *testing.B, l *Lab, box string) []*entry {
	m, err := l.store.box(box)
	if err != nil {
		b.Fatal(err)
	}
	es, err := m.scan()
	if err != nil {
		b.Fatal(err)
	}
	return es
}

// benchFill stores n messages in a mailbox through the store, durably, from
// 8 goroutines (their directory fsyncs are shared).
func benchFill(b *testing.B, s *Store, box string, n int, msg []byte) {
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				sf, err := s.create(box)
				if err == nil {
					sf.Write(msg)
					err = sf.commit(nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLabPOP3Retrieve: one session RETRs every message of a
// 5,000-message Maildir of 10 KB messages, over plain POP3 (with
// --insecure-auth) and over POP3S. "unread" starts with every message in
// new/, so each RETR also moves its file to cur/ (a mail client's first
// download); "read" fetches them again from cur/.
func BenchmarkLabPOP3Retrieve(b *testing.B) {
	const count = 5000
	l := benchLab(b, true)
	msg := benchMessage(10 << 10)
	benchFill(b, l.Store(), "alice", count, msg)
	total := int64(count * len(msg))
	for _, mode := range []string{ListenerPOP3, ListenerPOP3S} {
		for _, state := range []string{"unread", "read"} {
			b.Run(mode+"/"+state, func(b *testing.B) {
				b.SetBytes(total)
				var elapsed time.Duration
				for range b.N {
					if state == "unread" {
						b.StopTimer()
						benchMarkUnread(b, l, "alice", count)
						b.StartTimer()
					}
					start := time.Now()
					got := benchRetrAll(b, l, mode, count)
					elapsed += time.Since(start)
					if got != total {
						b.Fatalf("retrieved %d octets, want %d", got, total)
					}
				}
				b.ReportMetric(float64(count*b.N)/elapsed.Seconds(), "msgs/s")
			})
		}
	}
}

// benchMarkUnread moves every message of a mailbox back to new/.
func benchMarkUnread(b *testing.B, l *Lab, box string, count int) {
	m, _ := l.store.box(box)
	es := benchEntries(b, l, box)
	if len(es) != count {
		b.Fatalf("%s holds %d messages, want %d", box, len(es), count)
	}
	for _, e := range es {
		if e.cur {
			base, _, _ := strings.Cut(e.name, ":")
			if err := os.Rename(m.path2(e), filepath.Join(m.path, "new", base)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchRetrAll logs in as alice and RETRs messages 1..count in order,
// returning the octets received (byte-stuffing undone, CRLF kept).
func benchRetrAll(b *testing.B, l *Lab, mode string, count int) int64 {
	var c net.Conn
	var err error
	if mode == ListenerPOP3S {
		c, err = tls.Dial("tcp", l.Addr(mode), l.ClientTLSConfig())
	} else {
		c, err = net.Dial("tcp", l.Addr(mode))
	}
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	line := func() []byte {
		s, err := r.ReadSlice('\n')
		if err != nil {
			b.Fatalf("read: %v", err)
		}
		return s
	}
	ok := func(cmd string) {
		if cmd != "" {
			io.WriteString(c, cmd+"\r\n")
		}
		if s := line(); !bytes.HasPrefix(s, []byte("+OK")) {
			b.Fatalf("%s: %q", cmd, s)
		}
	}
	ok("")
	ok("USER alice")
	ok("PASS wonderland")
	var n int64
	for i := 1; i <= count; i++ {
		ok(fmt.Sprintf("RETR %d", i))
		for {
			s := line()
			if len(s) == 3 && s[0] == '.' {
				break
			}
			if s[0] == '.' {
				s = s[1:]
			}
			n += int64(len(s))
		}
	}
	ok("QUIT")
	return n
}
