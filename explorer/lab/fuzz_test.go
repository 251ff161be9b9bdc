package lab

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// normalizeRef is the reference for copyMessage: bare LF becomes CRLF.
func normalizeRef(in []byte) []byte {
	var out []byte
	for i, c := range in {
		if c == '\n' && (i == 0 || in[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func longestLine(b []byte) int {
	n := 0
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		n = max(n, len(l))
	}
	return n
}

func FuzzCopyMessage(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody\r\n"))
	f.Add([]byte("a\n.\nb\r\n"))
	f.Add([]byte("\r\r\n\n\r"))
	f.Add([]byte(strings.Repeat("x", 998) + "\r\n"))
	f.Add([]byte(strings.Repeat("x", 999) + "\n"))
	f.Add(bytes.Repeat([]byte("y"), 40000))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		// A tiny reader chunk size exercises lines split across reads.
		err := copyMessage(&out, &chunkReader{b: in, n: 7})
		want := normalizeRef(in)
		switch {
		case err == nil:
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("copyMessage(%q) = %q, want %q", in, out.Bytes(), want)
			}
			if longestLine(want) > maxTextLine {
				t.Fatalf("accepted a %d-octet line", longestLine(want))
			}
		case errors.Is(err, errLineTooLong):
			if longestLine(want) <= maxTextLine {
				t.Fatalf("refused lines of at most %d octets", longestLine(want))
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

// FuzzSMTPTracer feeds arbitrary client bytes and server replies to the
// trace parser: it must not panic, must stay bounded and must never show a
// SASL response.
func FuzzSMTPTracer(f *testing.F) {
	f.Add([]byte("EHLO x\r\nAUTH PLAIN\r\nc2VjcmV0\r\nDATA\r\n"), []byte("250 ok\r\n"), uint8(3))
	f.Add([]byte("BDAT 3 LAST\r\nabcMAIL FROM:<a@b>\r\n"), []byte("354 go\r\n"), uint8(1))
	f.Add([]byte("DATA\r\nx\n.\ny\r\n.\r\nQUIT\r\n"), []byte("221-a\r\n221 b\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, client, server []byte, split uint8) {
		var got []ServerEvent
		sink := sinkFunc(func(ev ServerEvent) { got = append(got, ev) })
		tc := &trackedConn{done: make(chan struct{})}
		tr := newSMTPTracer(sink, time.Now, 1, "smtp", "127.0.0.1:1", tc)
		step := int(split%16) + 1
		for i := 0; i < len(client); i += step {
			tr.Write(client[i:min(i+step, len(client))])
			if len(server) > 0 && i%3 == 0 {
				tc.writes.Add(1)
				tr.Write(server)
			}
		}
		if len(tr.partial) > maxTraceLine || len(tr.pending) > 1000 {
			t.Fatalf("unbounded state: partial %d pending %d", len(tr.partial), len(tr.pending))
		}
		for _, ev := range got {
			if len(ev.Line) > maxTraceLine+len("[] more lines…")+64 && ev.Dir != "s2c" {
				t.Fatalf("line of %d octets", len(ev.Line))
			}
		}
		// The SASL response of a lone AUTH PLAIN never appears.
		if bytes.HasPrefix(client, []byte("AUTH PLAIN\r\nc2VjcmV0\r\n")) {
			for _, ev := range got {
				if strings.Contains(ev.Line, "c2VjcmV0") {
					t.Fatalf("SASL response shown: %q", ev.Line)
				}
			}
		}
	})
}

type sinkFunc func(ServerEvent)

func (f sinkFunc) Emit(ev ServerEvent) { f(ev) }
