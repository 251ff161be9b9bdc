package lab

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsersFileAndChecks(t *testing.T) {
	dir := t.TempDir()
	if err := SetUserPassword(dir, "carol", "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := SetUserPassword(dir, "alice", "not-wonderland"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, usersFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "correct horse") || !strings.Contains(string(b), "carol:$2a$") {
		t.Errorf("users file:\n%s", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, usersFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}

	u, err := loadUsers(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(u.List(), ","); got != "alice,bob,carol" {
		t.Errorf("List = %s", got)
	}
	cases := []struct {
		user, pw string
		ok       bool
	}{
		{"carol", "correct horse", true},
		{"carol", "wrong", false},
		{"bob", "builder", true},
		{"alice", "wonderland", false}, // a stored password replaces the practice one
		{"alice", "not-wonderland", true},
		{"nobody", "x", false},
	}
	for _, c := range cases {
		if got := u.Check(c.user, c.pw); got != c.ok {
			t.Errorf("Check(%s, %s) = %v", c.user, c.pw, got)
		}
	}
	if s, ok := u.Secret("bob"); !ok || s != "builder" {
		t.Errorf("Secret(bob) = %q %v", s, ok)
	}
	for _, n := range []string{"alice", "carol", "nobody"} {
		if _, ok := u.Secret(n); ok {
			t.Errorf("Secret(%s) known", n)
		}
	}

	// Beyond loopback: no practice users.
	u, err = loadUsers(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Exists("bob") || u.Check("bob", "builder") || u.PracticeActive() {
		t.Errorf("practice user bob exists without loopback")
	}

	os.WriteFile(filepath.Join(dir, usersFile), []byte("garbage line\n"), 0o600)
	if _, err := loadUsers(dir, true); err == nil {
		t.Errorf("malformed users file accepted")
	}
}

func TestLoopbackDetection(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1:2525": true, "[::1]:2525": true, "localhost:25": true, "127.8.9.10:1": true,
		"0.0.0.0:2525": false, "[::]:2525": false, ":2525": false, "192.0.2.1:25": false,
	} {
		if got := isLoopbackAddr(a); got != want {
			t.Errorf("isLoopbackAddr(%s) = %v", a, got)
		}
	}
}

func TestTLSMaterialKeptAndVerified(t *testing.T) {
	dir := t.TempDir()
	names := labHostNames("postlab.test", "mail.postlab.test")
	m1, err := loadOrCreateTLS(dir, "", "", names, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := loadOrCreateTLS(dir, "", "", names, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if string(m1.certPEM) != string(m2.certPEM) {
		t.Errorf("certificate regenerated on second start")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tls", "key.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	for _, n := range names {
		if err := m1.cert.Leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate does not cover %s: %v", n, err)
		}
	}
	// Expired: a new one.
	m3, err := loadOrCreateTLS(dir, "", "", names, time.Now().Add(6*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(m3.certPEM) == string(m1.certPEM) {
		t.Errorf("expired certificate kept")
	}
	// --cert/--key
	if _, err := loadOrCreateTLS(dir, filepath.Join(dir, "tls", "cert.pem"), "", names, time.Now()); err == nil {
		t.Errorf("--cert without --key accepted")
	}
	m4, err := loadOrCreateTLS(t.TempDir(), filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem"), names, time.Now())
	if err != nil || string(m4.certPEM) != string(m3.certPEM) {
		t.Errorf("--cert/--key: %v", err)
	}
}

func TestTLSVersions(t *testing.T) {
	l := startLab(t)
	cfg := l.ClientTLSConfig()
	cfg.MaxVersion = tls.VersionTLS11
	cfg.MinVersion = tls.VersionTLS10
	if c, err := tls.Dial("tcp", l.Addr("submissions"), cfg); err == nil {
		c.Close()
		t.Errorf("TLS 1.1 accepted")
	}
	cfg = l.ClientTLSConfig()
	cfg.MaxVersion = tls.VersionTLS12
	c, err := tls.Dial("tcp", l.Addr("submissions"), cfg)
	if err != nil {
		t.Fatalf("TLS 1.2: %v", err)
	}
	c.Close()
	for _, host := range []string{"postlab.test", "localhost", "127.0.0.1"} {
		cfg := l.ClientTLSConfig()
		cfg.ServerName = host
		c, err := tls.Dial("tcp", l.Addr("pop3s"), cfg)
		if err != nil {
			t.Errorf("verify as %s: %v", host, err)
			continue
		}
		c.Close()
	}
}

func TestAddUserWhileRunning(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<x@example.com>")
	c.cmd("550 5.1.1", "RCPT TO:<dora@postlab.test>")
	if err := l.AddUser("dora", "explorer-pw"); err != nil {
		t.Fatal(err)
	}
	if err := l.AddUser("Dora!", "x"); err == nil {
		t.Errorf("bad name accepted")
	}
	c.cmd("250", "RCPT TO:<dora@postlab.test>")
	if got := strings.Join(l.Users(), ","); got != "alice,bob,dora" {
		t.Errorf("Users() = %s", got)
	}
	if got := strings.Join(l.Store().Mailboxes(), ","); got != "alice,bob,dora,outbox" {
		t.Errorf("Mailboxes() = %s", got)
	}
	s := dialTLS(t, l, l.Addr("submissions"))
	s.greet()
	s.login("dora", "explorer-pw")
	// CRAM-MD5 needs a plaintext secret, which only practice users have.
	s2 := dialTLS(t, l, l.Addr("submissions"))
	s2.greet()
	s2.cmd("334", "AUTH CRAM-MD5")
	s2.cmd("535", "%s", b64("dora 00000000000000000000000000000000"))
}
