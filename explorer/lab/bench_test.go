package lab

import (
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSMTPIntake measures durable intake on the MX port: 10 KB
// messages from 8 concurrent clients, each message fsynced (file and
// directory) before its 250. Run:
//
//	go test -run '^$' -bench SMTPIntake -benchtime 5000x ./explorer/lab
func BenchmarkSMTPIntake(b *testing.B) {
	l := startLab(b, func(c *Config) {
		c.Submission, c.Submissions, c.POP3, c.POP3S, c.DNS = Off, Off, Off, Off, Off
	})
	benchIntake(b, l, "smtp", "carol@example.com", "")
}

// BenchmarkSubmissionSignedIntake is the same on the submission port, where
// every message from the lab's domain is DKIM-signed before it is stored
// (AUTH without TLS here, so that TLS does not hide what signing costs).
// Run:
//
//	go test -run '^$' -bench SubmissionSignedIntake -benchtime 2000x ./explorer/lab
func BenchmarkSubmissionSignedIntake(b *testing.B) {
	l := startLab(b, func(c *Config) {
		c.SMTP, c.Submissions, c.POP3, c.POP3S = Off, Off, Off, Off
		c.InsecureAuth = true
	})
	benchIntake(b, l, "submission", "alice@postlab.test", plainIR("alice", "wonderland"))
	fs := newFiles(b, l, "alice")
	if got, err := os.ReadFile(filepath.Join(l.DataDir(), "mail", "alice", "new", fs[len(fs)-1])); err != nil || !strings.Contains(string(got), "DKIM-Signature:") {
		b.Fatalf("the stored message is not signed (%v)", err)
	}
}

func benchIntake(b *testing.B, l *Lab, listener, from, auth string) {
	var body strings.Builder
	body.WriteString("From: " + from + "\r\nTo: alice@postlab.test\r\nSubject: bench\r\nDate: Thu, 26 Nov 2026 06:00:00 +0000\r\nMessage-ID: <bench@postlab.test>\r\n\r\n")
	for body.Len() < 10*1024 {
		body.WriteString("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n")
	}
	msg := body.String()
	const clients = 8
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := intakeClient(l.Addr(listener), from, auth, msg, &left); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	if got := len(newFiles(b, l, "alice")); got != b.N {
		b.Fatalf("%d messages stored, want %d", got, b.N)
	}
}

// intakeClient sends messages on one connection, pipelining MAIL, RCPT and
// DATA (RFC 2920), until the shared budget is spent.
func intakeClient(addr, from, auth, msg string, left *atomic.Int64) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	tp := textproto.NewConn(c)
	expect := func(code int) error {
		_, _, err := tp.ReadResponse(code)
		return err
	}
	if err := expect(220); err != nil {
		return err
	}
	tp.PrintfLine("EHLO bench.example")
	if err := expect(250); err != nil {
		return err
	}
	if auth != "" {
		tp.PrintfLine("AUTH PLAIN %s", auth)
		if err := expect(235); err != nil {
			return err
		}
	}
	for left.Add(-1) >= 0 {
		fmt.Fprintf(tp.W, "MAIL FROM:<%s>\r\nRCPT TO:<alice@postlab.test>\r\nDATA\r\n", from)
		tp.W.Flush()
		for _, code := range []int{250, 250, 354} {
			if err := expect(code); err != nil {
				return err
			}
		}
		tp.W.WriteString(msg)
		tp.W.WriteString(".\r\n")
		tp.W.Flush()
		if err := expect(250); err != nil {
			return err
		}
	}
	tp.PrintfLine("QUIT")
	return expect(221)
}
