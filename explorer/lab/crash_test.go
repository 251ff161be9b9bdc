package lab_test

// The crash test of issue 2: the lab runs in a child process (this test
// binary run again), several clients deliver over SMTP, and the child is
// killed with SIGKILL mid-load. Every message that got its 250 must be in
// new/ (or cur/) byte-intact, no partial message may be visible, and a lab
// started again on the same data dir must show POP3 exactly the files in
// new/ and cur/ (tmp/ leftovers stay invisible). Maildir's tmp/ -> new/
// rename is what makes a delivery all-or-nothing
// (https://cr.yp.to/proto/maildir.html); SIGKILL keeps the page cache, so
// this checks atomicity and the order "store, then 250", not power loss.

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"postlab/explorer/lab"
)

// crashChildEnv carries the data dir to the child process.
const crashChildEnv = "POSTLAB_CRASH_CHILD_DATA"

// TestCrashChild is the child process of TestCrashKill9; it does nothing in
// a normal run.
func TestCrashChild(t *testing.T) {
	serveLabChild(t, crashChildEnv, "CRASH-CHILD-", lab.ListenerSMTP, func(dir string) lab.Config {
		return lab.Config{
			DataDir: dir, SMTP: "127.0.0.1:0",
			Submission: lab.Off, Submissions: lab.Off, POP3: lab.Off, POP3S: lab.Off, DNS: lab.Off,
		}
	})
}

// crashMsg builds the message with id n: a unique id, its body's length and
// SHA-256 in the header, and a body of 1 KB to 200 KB with leading dots.
func crashMsg(id string, n int) []byte {
	size := 1024 + (n*7919)%(200<<10)
	var body bytes.Buffer
	for i := 0; body.Len() < size; i++ {
		line := fmt.Sprintf("%s line %d %s", id, i, strings.Repeat(string(rune('A'+(n+i)%26)), (n+i*13)%70))
		if i%17 == 0 {
			line = "." + line
		}
		body.WriteString(line + "\r\n")
	}
	sum := sha256.Sum256(body.Bytes())
	head := fmt.Sprintf("From: load@example.com\r\nTo: alice@postlab.test\r\nSubject: crash load %s\r\nX-Crash-Id: %s\r\nX-Crash-Len: %d\r\nX-Crash-Sum: %s\r\n\r\n",
		id, id, body.Len(), hex.EncodeToString(sum[:]))
	return append([]byte(head), body.Bytes()...)
}

// crashCheck parses a stored message and checks it against its own header;
// it returns the message's id.
func crashCheck(stored []byte) (string, error) {
	// The lab's trace fields, then the message.
	rest := stored
	for _, p := range []string{"Return-Path: ", "Received: "} {
		if !bytes.HasPrefix(rest, []byte(p)) {
			return "", fmt.Errorf("no %q field", p)
		}
		for {
			i := bytes.Index(rest, []byte("\r\n"))
			if i < 0 {
				return "", fmt.Errorf("truncated header")
			}
			rest = rest[i+2:]
			if len(rest) == 0 || (rest[0] != ' ' && rest[0] != '\t') {
				break
			}
		}
	}
	head, body, ok := bytes.Cut(rest, []byte("\r\n\r\n"))
	if !ok {
		return "", fmt.Errorf("no end of header")
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(head), "\r\n") {
		k, v, _ := strings.Cut(line, ": ")
		fields[k] = v
	}
	id := fields["X-Crash-Id"]
	if id == "" {
		return "", fmt.Errorf("no X-Crash-Id")
	}
	if n, _ := strconv.Atoi(fields["X-Crash-Len"]); n != len(body) {
		return id, fmt.Errorf("%s: body %d octets, header says %s", id, len(body), fields["X-Crash-Len"])
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != fields["X-Crash-Sum"] {
		return id, fmt.Errorf("%s: checksum mismatch", id)
	}
	return id, nil
}

// crashChild starts the lab in a child process and returns its SMTP address.
func crashChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	return labChild(t, dir, "TestCrashChild", crashChildEnv, "CRASH-CHILD-")
}

// crashLoad delivers messages from several clients until the connection
// fails; acked receives the id of each message that got its 250 and the
// mailboxes it went to.
type crashLoad struct {
	mu    sync.Mutex
	acked map[string][]string
	count atomic.Int64
}

func (ld *crashLoad) client(addr string, g, round int, wg *sync.WaitGroup) {
	defer wg.Done()
	c, err := smtp.Dial(addr)
	if err != nil {
		return
	}
	defer c.Close()
	for n := 0; ; n++ {
		id := fmt.Sprintf("r%d-g%d-n%d", round, g, n)
		boxes := []string{"alice"}
		if n%3 == 0 {
			boxes = append(boxes, "bob") // a second recipient: a hard link
		}
		if c.Mail("load@example.com") != nil {
			return
		}
		for _, b := range boxes {
			if c.Rcpt(b+"@postlab.test") != nil {
				return
			}
		}
		w, err := c.Data()
		if err != nil {
			return
		}
		if _, err := w.Write(crashMsg(id, g*100000+n)); err != nil {
			return
		}
		if w.Close() != nil { // the 250 (or not)
			return
		}
		ld.mu.Lock()
		ld.acked[id] = boxes
		ld.mu.Unlock()
		ld.count.Add(1)
	}
}

// crashScan checks every file in a mailbox's new/ and cur/ and returns the
// ids found and the number of tmp/ leftovers.
func crashScan(t *testing.T, dir, box string) (map[string]bool, int) {
	t.Helper()
	ids := map[string]bool{}
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(dir, "mail", box, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range des {
			b, err := os.ReadFile(filepath.Join(dir, "mail", box, sub, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			id, err := crashCheck(b)
			if err != nil {
				t.Errorf("%s/%s/%s is not a whole message: %v", box, sub, d.Name(), err)
				continue
			}
			if ids[id] {
				t.Errorf("%s: %s delivered twice", box, id)
			}
			ids[id] = true
			// The S= size in the name is the file's.
			if _, s, ok := strings.Cut(d.Name(), ",S="); ok {
				s, _, _ = strings.Cut(s, ",")
				if n, _ := strconv.Atoi(s); n != len(b) {
					t.Errorf("%s/%s/%s: %d octets, name says %s", box, sub, d.Name(), len(b), s)
				}
			}
		}
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, "mail", box, "tmp"))
	return ids, len(tmp)
}

// pop3Check starts a lab on the data dir and compares what POP3 shows with
// the files in new/ and cur/; it RETRs the first message, which moves it to
// cur/ for the next round.
func pop3Check(t *testing.T, dir string, want map[string]int) {
	t.Helper()
	l, err := lab.Start(lab.Config{
		DataDir: dir, SMTP: lab.Off, Submission: lab.Off, Submissions: lab.Off,
		POP3: lab.Off, POP3S: "127.0.0.1:0", DNS: lab.Off, AuthFailDelay: -1,
	})
	if err != nil {
		t.Fatalf("restart on the data dir: %v", err)
	}
	defer func() {
		if err := l.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	for box, n := range want {
		pass, _ := l.PracticePassword(box)
		c, err := tls.Dial("tcp", l.Addr(lab.ListenerPOP3S), l.ClientTLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute))
		tp := textproto.NewConn(c)
		ok := func(cmd string) string {
			t.Helper()
			if cmd != "" {
				tp.PrintfLine("%s", cmd)
			}
			s, err := tp.ReadLine()
			if err != nil || !strings.HasPrefix(s, "+OK") {
				t.Fatalf("POP3 %q: %q %v", cmd, s, err)
			}
			return s
		}
		ok("")
		ok("USER " + box)
		ok("PASS " + pass)
		var count, octets int
		fmt.Sscanf(ok("STAT"), "+OK %d %d", &count, &octets)
		ok("LIST")
		lines, err := tp.ReadDotLines()
		if err != nil {
			t.Fatal(err)
		}
		if count != n || len(lines) != n {
			t.Errorf("%s: POP3 STAT %d, LIST %d lines; new/+cur/ hold %d", box, count, len(lines), n)
		}
		if n > 0 {
			ok("RETR 1")
			b, err := tp.ReadDotBytes()
			if err != nil {
				t.Fatal(err)
			}
			// ReadDotBytes gives LF line ends.
			if _, err := crashCheck(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))); err != nil {
				t.Errorf("%s: RETR 1: %v", box, err)
			}
		}
		ok("QUIT")
		c.Close()
	}
}

// TestCrashKill9 kills the lab at several moments of a delivery load.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process mid-load")
	}
	dir := t.TempDir()
	acked := map[string][]string{}
	// Moments: after the first 250, after some, after many; the data dir
	// carries over, so later rounds restart after a crash too.
	for round, killAfter := range []int64{1, 37, 150, 400} {
		cmd, addr := crashChild(t, dir)
		ld := &crashLoad{acked: map[string][]string{}}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go ld.client(addr, g, round, &wg)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for ld.count.Load() < killAfter && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		wg.Wait()
		if ld.count.Load() < killAfter {
			t.Fatalf("round %d: only %d messages acknowledged", round, ld.count.Load())
		}
		for id, boxes := range ld.acked {
			acked[id] = boxes
		}

		counts := map[string]int{}
		for _, box := range []string{"alice", "bob"} {
			ids, leftovers := crashScan(t, dir, box)
			counts[box] = len(ids)
			missing := 0
			for id, boxes := range acked {
				if hasString(boxes, box) && !ids[id] {
					missing++
					t.Errorf("round %d: %s got 250 but is not in %s's Maildir", round, id, box)
				}
			}
			t.Logf("round %d (kill after %d acks): %s holds %d messages, %d acknowledged in all, %d missing, %d tmp/ leftovers",
				round, killAfter, box, len(ids), len(acked), missing, leftovers)
		}
		pop3Check(t, dir, counts)
		if t.Failed() {
			return
		}
	}
}
