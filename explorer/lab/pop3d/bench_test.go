package pop3d

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"postlab/explorer"
)

// BenchmarkRetr measures RETR throughput: one op logs in, retrieves every
// message of a 5,000-message maildrop (10 KB each, pipelined) and quits.
//
//	go test -run XXX -bench Retr -benchtime 5x ./explorer/lab/pop3d
func BenchmarkRetr(b *testing.B) {
	const n, size = 5000, 10 << 10
	line := strings.Repeat("abcdefghij", 7) + "\r\n"
	var body strings.Builder
	body.WriteString("From: a@postlab.test\r\nSubject: bench\r\n\r\n")
	for body.Len() < size-len(line) {
		body.WriteString(line)
	}
	body.WriteString(".dot\r\n")
	msg := body.String()

	for _, bc := range []struct {
		name  string
		trace bool
		tls   bool
	}{{"plain", false, false}, {"traced", true, false}, {"pop3s", false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			var events atomic.Int64
			ts := startServer(b, func(c *Config) {
				c.AllowInsecureAuth = true
				c.Trace = nil
				if bc.trace {
					c.Trace = func(uint64, string, explorer.Event) { events.Add(1) }
				}
			})
			for i := 0; i < n; i++ {
				ts.store.add("alice", fmt.Sprintf("m%d", i), msg)
			}
			var cmds bytes.Buffer
			cmds.WriteString("USER alice\r\nPASS wonderland\r\n")
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&cmds, "RETR %d\r\n", i)
			}
			cmds.WriteString("QUIT\r\n")
			b.SetBytes(int64(n * len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var conn net.Conn
				var err error
				if bc.tls {
					conn, err = tls.Dial("tcp", ts.tlsAdr, &tls.Config{RootCAs: ts.pool, ServerName: "mail.postlab.test"})
				} else {
					conn, err = net.Dial("tcp", ts.addr)
				}
				if err != nil {
					b.Fatal(err)
				}
				go conn.Write(cmds.Bytes())
				got, err := countMessages(bufio.NewReaderSize(conn, 64<<10))
				conn.Close()
				if err != nil || got != n {
					b.Fatalf("retrieved %d messages: %v", got, err)
				}
			}
			b.StopTimer()
			if bc.trace && events.Load() == 0 {
				b.Fatal("no trace events")
			}
		})
	}
}

// countMessages reads a whole pipelined session and counts RETR responses.
func countMessages(r *bufio.Reader) (int, error) {
	n, inMsg := 0, false
	for {
		l, err := r.ReadSlice('\n')
		if err == io.EOF {
			return n, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return n, err
		}
		switch {
		case inMsg && string(l) == ".\r\n":
			inMsg = false
			n++
		case !inMsg && bytes.HasSuffix(l, []byte(" octets\r\n")):
			inMsg = true
		case !inMsg && bytes.HasPrefix(l, []byte("-ERR")):
			return n, fmt.Errorf("%s", l)
		}
	}
}
