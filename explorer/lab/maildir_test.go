package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"postlab/explorer/lab/pop3d"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	s, err := newStore(filepath.Join(t.TempDir(), "mail"), "mail.postlab.test", time.Now, func() []string { return []string{"alice"} })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put stores one message in mailbox and returns its UID.
func put(t *testing.T, s *Store, mailbox, msg string, extra ...string) string {
	t.Helper()
	sf, err := s.create(mailbox)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(sf, msg)
	if err := sf.commit(extra); err != nil {
		t.Fatal(err)
	}
	return uidOf(sf.name)
}

func TestMaildropLockSizesAndUIDs(t *testing.T) {
	s := testStore(t)
	m1 := "Subject: one\r\n\r\nfirst\r\n"
	m2 := "Subject: two\r\n\r\nsecond message\r\n"
	u1 := put(t, s, "alice", m1)
	u2 := put(t, s, "alice", m2)

	d, err := s.Lock("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock("alice"); !errors.Is(err, pop3d.ErrInUse) {
		t.Fatalf("second Lock: %v, want ErrInUse", err)
	}
	msgs := d.Messages()
	if len(msgs) != 2 || msgs[0].UID != u1 || msgs[1].UID != u2 {
		t.Fatalf("messages %+v, want %s %s in order", msgs, u1, u2)
	}
	if msgs[0].Size != int64(len(m1)) || msgs[1].Size != int64(len(m2)) || msgs[0].Seen {
		t.Errorf("sizes %+v, want %d %d unseen", msgs, len(m1), len(m2))
	}
	// A message delivered while locked is not in the snapshot (RFC 1939 §5).
	put(t, s, "alice", m1)
	if len(d.Messages()) != 2 {
		t.Errorf("snapshot changed")
	}
	r, err := d.Open(u2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != m2 {
		t.Errorf("Open = %q", b)
	}
	if err := d.MarkSeen(u1); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkSeen(u1); err != nil {
		t.Fatal(err)
	}
	cur, _ := os.ReadDir(filepath.Join(s.root, "alice", "cur"))
	if len(cur) != 1 || !strings.HasPrefix(cur[0].Name(), u1+",") || !strings.HasSuffix(cur[0].Name(), ":2,S") {
		t.Errorf("cur/ = %v", cur)
	}
	// Still readable after the move.
	if r, err := d.Open(u1); err != nil {
		t.Errorf("Open after MarkSeen: %v", err)
	} else {
		r.Close()
	}
	if err := d.Delete([]string{u2}); err != nil {
		t.Fatal(err)
	}
	d.Unlock()
	d.Unlock() // idempotent

	d, err = s.Lock("alice")
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	defer d.Unlock()
	msgs = d.Messages()
	if len(msgs) != 2 || msgs[0].UID != u1 || !msgs[0].Seen || msgs[1].UID == u2 {
		t.Errorf("after reopen: %+v (u1 %s must be kept and seen, u2 %s gone)", msgs, u1, u2)
	}
}

func TestMaildropForeignFiles(t *testing.T) {
	s := testStore(t)
	if _, err := s.box("alice"); err != nil {
		t.Fatal(err)
	}
	// A message dropped in by hand, with LF line ends and a flagged name.
	name := "1700000000.M1P2.otherhost:2,F"
	os.WriteFile(filepath.Join(s.root, "alice", "cur", name), []byte("Subject: lf\n\nline\n"), 0o600)
	os.WriteFile(filepath.Join(s.root, "alice", "new", ".hidden"), []byte("x"), 0o600)
	d, err := s.Lock("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Unlock()
	msgs := d.Messages()
	if len(msgs) != 1 || msgs[0].UID != "1700000000.M1P2.otherhost" || msgs[0].Seen {
		t.Fatalf("messages %+v", msgs)
	}
	want := "Subject: lf\r\n\r\nline\r\n"
	if msgs[0].Size != int64(len(want)) {
		t.Errorf("size %d, want %d (CRLF)", msgs[0].Size, len(want))
	}
	r, _ := d.Open(msgs[0].UID)
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != want {
		t.Errorf("Open = %q, want %q", b, want)
	}
	if err := d.MarkSeen(msgs[0].UID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "alice", "cur", "1700000000.M1P2.otherhost:2,FS")); err != nil {
		t.Errorf("flags not merged: %v", err)
	}
}

func TestUIDOf(t *testing.T) {
	for name, want := range map[string]string{
		"1.2_3_ab.host,S=10,W=10":     "1.2_3_ab.host",
		"1.2_3_ab.host,S=10,W=10:2,S": "1.2_3_ab.host",
		"plain":                       "plain",
		strings.Repeat("a", 70):       strings.Repeat("a", 70),
		strings.Repeat("a", 71):       "",
		"has space":                   "",
		"\xff":                        "",
	} {
		got := uidOf(name)
		if want == "" {
			if len(got) != 33 || got[0] != 'x' {
				t.Errorf("uidOf(%q) = %q, want a hashed UID", name, got)
			}
			continue
		}
		if got != want {
			t.Errorf("uidOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestUserNamesCannotEscape(t *testing.T) {
	for _, bad := range []string{"", "..", "../x", "a/b", ".hidden", "Alice", "a b", "outbox", "-x", "a\x00", strings.Repeat("a", 65), "é"} {
		if ValidUserName(bad) == nil {
			t.Errorf("ValidUserName(%q) accepted", bad)
		}
	}
	for _, good := range []string{"alice", "bob", "carol.smith", "x_1-2", "9lives"} {
		if err := ValidUserName(good); err != nil {
			t.Errorf("ValidUserName(%q): %v", good, err)
		}
	}
	s := testStore(t)
	for _, bad := range []string{"../evil", "..", "/etc"} {
		if _, err := s.Lock(bad); err == nil {
			t.Errorf("Lock(%q) accepted", bad)
		}
		if _, err := s.List(bad); err == nil {
			t.Errorf("List(%q) accepted", bad)
		}
		if _, err := s.create(bad); err == nil {
			t.Errorf("create(%q) accepted", bad)
		}
	}
	if err := SetUserPassword(t.TempDir(), "../evil", "pw"); err == nil {
		t.Errorf("SetUserPassword accepted ../evil")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.root), "evil")); err == nil {
		t.Errorf("a directory escaped the mail root")
	}
}

// TestConcurrentDeliveries checks group commit: many deliveries at once,
// each visible and complete when commit returns.
func TestConcurrentDeliveries(t *testing.T) {
	s := testStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sf, err := s.create("alice")
			if err != nil {
				errs <- err
				return
			}
			msg := fmt.Sprintf("Subject: %d\r\n\r\n%s\r\n", i, strings.Repeat("x", i*100))
			io.WriteString(sf, msg)
			if err := sf.commit([]string{"bob"}); err != nil {
				errs <- err
				return
			}
			for _, box := range []string{"alice", "bob"} {
				b, err := os.ReadFile(filepath.Join(s.root, box, "new", sf.fileName()))
				if err != nil || string(b) != msg {
					errs <- fmt.Errorf("%s: %v %d octets", box, err, len(b))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if es, _ := os.ReadDir(filepath.Join(s.root, "bob", "new")); len(es) != 64 {
		t.Errorf("bob has %d messages", len(es))
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s := testStore(t)
	sf, err := s.create("alice")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(sf, "partial")
	sf.abort()
	for _, sub := range []string{"tmp", "new", "cur"} {
		if es, _ := os.ReadDir(filepath.Join(s.root, "alice", sub)); len(es) != 0 {
			t.Errorf("%s/ = %v", sub, es)
		}
	}
}

func TestCleanTmp(t *testing.T) {
	s := testStore(t)
	s.box("alice")
	old := filepath.Join(s.root, "alice", "tmp", "old")
	fresh := filepath.Join(s.root, "alice", "tmp", "fresh")
	os.WriteFile(old, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)
	s.cleanTmp()
	if _, err := os.Stat(old); err == nil {
		t.Errorf("old tmp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh tmp file removed")
	}
}

// Where O_TMPFILE works, a message being written has no name anywhere:
// neither tmp/ nor new/ shows it until commit, and commit names it in new/
// (and in the extra mailboxes) without touching tmp/.
func TestUnnamedSpoolFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("O_TMPFILE is Linux only")
	}
	s, err := newStore(filepath.Join(t.TempDir(), "mail"), "mail.postlab.test", time.Now, func() []string { return []string{"alice", "bob"} })
	if err != nil {
		t.Fatal(err)
	}
	if !s.anon {
		t.Skip("this file system does not support O_TMPFILE")
	}
	sf, err := s.create("alice")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(sf, "Subject: x\r\n\r\nhello\r\n")
	sf.w.Flush()
	for _, sub := range []string{"tmp", "new"} {
		if es, _ := os.ReadDir(filepath.Join(s.root, "alice", sub)); len(es) != 0 {
			t.Errorf("message in progress visible in %s/: %v", sub, es)
		}
	}
	if err := sf.commit([]string{"bob"}); err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"alice", "bob"} {
		es, _ := os.ReadDir(filepath.Join(s.root, box, "new"))
		if len(es) != 1 || es[0].Name() != sf.fileName() {
			t.Fatalf("%s/new = %v, want %s", box, es, sf.fileName())
		}
		b, _ := os.ReadFile(filepath.Join(s.root, box, "new", es[0].Name()))
		if string(b) != "Subject: x\r\n\r\nhello\r\n" {
			t.Errorf("%s: %q", box, b)
		}
		if es, _ := os.ReadDir(filepath.Join(s.root, box, "tmp")); len(es) != 0 {
			t.Errorf("%s/tmp = %v", box, es)
		}
	}
}

// Without O_TMPFILE the store falls back to tmp/ and rename.
func TestNamedSpoolFileFallback(t *testing.T) {
	s := testStore(t)
	s.anon = false
	sf, err := s.create("alice")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(sf, "x\r\n")
	if es, _ := os.ReadDir(filepath.Join(s.root, "alice", "tmp")); len(es) != 1 {
		t.Errorf("tmp/ = %v", es)
	}
	if err := sf.commit(nil); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(filepath.Join(s.root, "alice", "new")); len(es) != 1 {
		t.Errorf("new/ = %v", es)
	}
	if es, _ := os.ReadDir(filepath.Join(s.root, "alice", "tmp")); len(es) != 0 {
		t.Errorf("tmp/ = %v", es)
	}
}

// Two Stores on one data dir (two labs) exclude each other through the
// flock, as two processes do (TestPOP3LockAcrossProcesses); the lock file
// is not a message.
func TestMaildropLockTwoStores(t *testing.T) {
	if !haveFlock {
		t.Skip("no flock(2): the maildrop lock holds within one Store only")
	}
	root := filepath.Join(t.TempDir(), "mail")
	stores := make([]*Store, 2)
	for i := range stores {
		s, err := newStore(root, "mail.postlab.test", time.Now, func() []string { return []string{"alice"} })
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	put(t, stores[0], "alice", "Subject: one\r\n\r\nfirst\r\n")
	d, err := stores[0].Lock("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].Lock("alice"); !errors.Is(err, pop3d.ErrInUse) {
		t.Fatalf("Lock in the second Store: %v, want ErrInUse", err)
	}
	d.Unlock()
	d2, err := stores[1].Lock("alice")
	if err != nil {
		t.Fatalf("Lock after Unlock in the other Store: %v", err)
	}
	defer d2.Unlock()
	if n := len(d2.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	if _, err := stores[0].Lock("alice"); !errors.Is(err, pop3d.ErrInUse) {
		t.Errorf("Lock back in the first Store: %v, want ErrInUse", err)
	}
}
