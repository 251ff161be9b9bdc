package lab_test

// RFC 1939 §8 and RFC 2449 §8.1.2: a maildrop is locked for one session, and
// a second session gets -ERR [IN-USE], also when it runs in another lab
// process on the same data dir. The other lab is this test binary run again
// (labchild_test.go).

import (
	"context"
	"net"
	"net/textproto"
	"os/exec"
	"strings"
	"testing"
	"time"

	"postlab/explorer/lab"
)

const lockChildEnv = "POSTLAB_LOCK_CHILD_DATA"

// lockLabConfig is a lab with only plain POP3, where USER/PASS work.
func lockLabConfig(dir string) lab.Config {
	return lab.Config{
		DataDir: dir, SMTP: lab.Off, Submission: lab.Off, Submissions: lab.Off,
		POP3: "127.0.0.1:0", POP3S: lab.Off, DNS: lab.Off,
		InsecureAuth: true, AuthFailDelay: -1,
	}
}

// TestLockChild is the other lab process of TestPOP3LockAcrossProcesses; it
// does nothing in a normal run.
func TestLockChild(t *testing.T) {
	serveLabChild(t, lockChildEnv, "LOCK-CHILD-", lab.ListenerPOP3, lockLabConfig)
}

// lockChild starts the other lab process and returns it and its POP3 address.
func lockChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	return labChild(t, dir, "TestLockChild", lockChildEnv, "LOCK-CHILD-")
}

// pop3Conn is a plain POP3 connection that logs in with USER/PASS.
type pop3Conn struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Conn
}

func pop3Dial(t *testing.T, addr string) *pop3Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(time.Minute))
	t.Cleanup(func() { c.Close() })
	p := &pop3Conn{t: t, c: c, tp: textproto.NewConn(c)}
	p.do("", "+OK")
	return p
}

// do sends cmd (none when empty) and checks that the reply starts with want.
func (p *pop3Conn) do(cmd, want string) string {
	p.t.Helper()
	if cmd != "" {
		if err := p.tp.PrintfLine("%s", cmd); err != nil {
			p.t.Fatal(err)
		}
	}
	s, err := p.tp.ReadLine()
	if err != nil || !strings.HasPrefix(s, want) {
		p.t.Fatalf("POP3 %q: %q %v, want %q", cmd, s, err, want)
	}
	return s
}

// login logs user in and checks the reply to PASS.
func (p *pop3Conn) login(user, want string) {
	p.t.Helper()
	p.do("USER "+user, "+OK")
	p.do("PASS "+map[string]string{"alice": "wonderland", "bob": "builder"}[user], want)
}

func TestPOP3LockAcrossProcesses(t *testing.T) {
	if !lab.HaveFlock {
		t.Skip("no flock(2): the maildrop lock holds within one Store only")
	}
	dir := t.TempDir()
	child, childAddr := lockChild(t, dir)
	here, err := lab.Start(lockLabConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		here.Close(ctx)
	})
	hereAddr := here.Addr(lab.ListenerPOP3)

	// The child holds bob: this process gets [IN-USE], but alice is free.
	held := pop3Dial(t, childAddr)
	held.login("bob", "+OK")
	pop3Dial(t, hereAddr).login("bob", "-ERR [IN-USE]")
	pop3Dial(t, childAddr).login("bob", "-ERR [IN-USE]") // in-process, as before
	a := pop3Dial(t, hereAddr)
	a.login("alice", "+OK")
	a.do("QUIT", "+OK")

	// QUIT releases the lock (before its +OK): now this process holds bob.
	held.do("QUIT", "+OK")
	mine := pop3Dial(t, hereAddr)
	mine.login("bob", "+OK")
	pop3Dial(t, childAddr).login("bob", "-ERR [IN-USE]")
	mine.do("QUIT", "+OK")

	// A connection that drops without QUIT releases it too; poll, as the
	// server notices the drop on its own time.
	dropped := pop3Dial(t, childAddr)
	dropped.login("bob", "+OK")
	dropped.c.Close()
	loginEventually(t, hereAddr, "bob")

	// The process dies holding the lock: the kernel releases it.
	pop3Dial(t, childAddr).login("bob", "+OK")
	pop3Dial(t, hereAddr).login("bob", "-ERR [IN-USE]")
	child.Process.Kill()
	child.Wait()
	p := pop3Dial(t, hereAddr)
	p.login("bob", "+OK")
	p.do("QUIT", "+OK")
}

// loginEventually logs user in at addr, retrying while the maildrop is in
// use, and QUITs.
func loginEventually(t *testing.T, addr, user string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := pop3Dial(t, addr)
		p.do("USER "+user, "+OK")
		p.tp.PrintfLine("PASS %s", map[string]string{"alice": "wonderland", "bob": "builder"}[user])
		s, err := p.tp.ReadLine()
		if err == nil && strings.HasPrefix(s, "+OK") {
			p.do("QUIT", "+OK")
			return
		}
		if err != nil || !strings.HasPrefix(s, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("PASS: %q %v", s, err)
		}
		p.c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}
