package lab

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fastHashes lowers the bcrypt cost for a test: the race detector makes a
// cost-10 hash take most of a second.
func fastHashes(t *testing.T) {
	old := bcryptCost
	bcryptCost = bcrypt.MinCost
	t.Cleanup(func() { bcryptCost = old })
}

// classroomAddr stands for the teacher's network address; the listeners run
// on 127.0.0.1 because tests bind nothing else.
const classroomAddr = "192.0.2.10"

func startClassroom(t *testing.T, mutate ...func(*Config)) *Lab {
	t.Helper()
	return startLab(t, append([]func(*Config){func(c *Config) {
		c.Classroom = true
		c.CertNames = []string{classroomAddr}
	}}, mutate...)...)
}

// classroomTLS verifies the lab's certificate against the classroom address,
// as a student's client given --ca would.
func classroomTLS(l *Lab) *tls.Config {
	c := l.ClientTLSConfig()
	c.ServerName = classroomAddr
	return c
}

// pop is a POP3 client on the test's textproto connection.
type pop struct{ *client }

func dialPOP3S(t *testing.T, l *Lab) pop {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.Addr(ListenerPOP3S), classroomTLS(l))
	if err != nil {
		t.Fatalf("POP3S handshake (certificate for %s): %v", classroomAddr, err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	p := pop{&client{t: t, conn: c, tp: newTextConn(c)}}
	p.want("+OK", "")
	return p
}

// want sends cmd (none when empty) and checks the one-line reply's prefix.
func (p pop) want(prefix, cmd string) string {
	p.t.Helper()
	if cmd != "" {
		p.send("%s", cmd)
	}
	s, err := p.tp.ReadLine()
	if err != nil {
		p.t.Fatalf("%s: %v", cmd, err)
	}
	if !strings.HasPrefix(s, prefix) {
		p.t.Fatalf("%s: %q, want %q", cmd, s, prefix)
	}
	return s
}

func (p pop) login(user, pass string) {
	p.t.Helper()
	p.want("+OK", "USER "+user)
	p.want("+OK", "PASS "+pass)
}

// submit logs in on the submission port after STARTTLS, verifying the
// certificate against the classroom address.
func submit(t *testing.T, l *Lab, user, pass string) *client {
	t.Helper()
	c := dial(t, l.Addr(ListenerSubmission))
	c.greet()
	c.cmd("220", "STARTTLS")
	tc := tls.Client(c.conn, classroomTLS(l))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("STARTTLS handshake (certificate for %s): %v", classroomAddr, err)
	}
	c.conn, c.tp = tc, newTextConn(tc)
	c.cmd("250", "EHLO client.example")
	c.cmd("235 2.7.0", "AUTH PLAIN %s", plainIR(user, pass))
	return c
}

func newTextConn(c net.Conn) *textproto.Conn { return textproto.NewConn(c) }

var passwordRE = regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)

func TestClassroomThirtyStudents(t *testing.T) {
	fastHashes(t)
	l := startClassroom(t)
	if l.PracticeUsers() {
		t.Fatal("practice users active in classroom mode on loopback")
	}
	students, err := l.SetupClassroom(30, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(students) != 30 || students[0].Name != "student01" || students[29].Name != "student30" {
		t.Fatalf("students: %+v", students)
	}
	seen := map[string]bool{}
	for _, s := range students {
		if !s.New || !passwordRE.MatchString(s.Password) || seen[s.Password] {
			t.Fatalf("student %+v: want a new, distinct, readable password", s)
		}
		seen[s.Password] = true
	}
	users := l.Users()
	if len(users) != 30 || users[0] != "student01" {
		t.Fatalf("users %v, want exactly the 30 students", users)
	}
	stored, err := os.ReadFile(filepath.Join(l.DataDir(), "users"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(stored), ":$2a$"); n != 30 {
		t.Errorf("users file has %d bcrypt hashes, want 30", n)
	}
	for _, s := range students {
		if strings.Contains(string(stored), s.Password) {
			t.Fatalf("users file holds %s's password in clear", s.Name)
		}
	}

	// Every student logs in over TLS on submission and POP3S and finds an
	// empty mailbox of their own.
	for _, s := range students {
		c := submit(t, l, s.Name, s.Password)
		c.cmd("221", "QUIT")
		p := dialPOP3S(t, l)
		p.login(s.Name+"@postlab.test", s.Password)
		p.want("+OK 0 0", "STAT")
		p.want("+OK", "QUIT")
	}

	// student01 writes to student02; only student02 can read it.
	s1, s2, s3 := students[0], students[1], students[2]
	c := submit(t, l, s1.Name, s1.Password)
	c.sendMail(s1.Name+"@postlab.test", []string{s2.Name + "@postlab.test"}, "Subject: for student02 only\r\n\r\nsecret\r\n")
	c.cmd("221", "QUIT")

	p := dialPOP3S(t, l)
	p.want("+OK", "USER "+s2.Name)
	p.want("-ERR [AUTH]", "PASS "+s3.Password)
	p.want("+OK", "USER "+s3.Name)
	p.want("-ERR [AUTH]", "PASS "+s2.Password)
	p.want("+OK", "QUIT")
	// The server drops a client after three failures, so a new connection.
	p = dialPOP3S(t, l)
	p.want("-ERR [AUTH]", "AUTH PLAIN "+b64(s2.Name+"\x00"+s3.Name+"\x00"+s3.Password)) // acting as another
	p.login(s3.Name, s3.Password)
	p.want("+OK 0 0", "STAT")
	p.want("-ERR", "RETR 1")
	p.want("+OK", "QUIT")

	p = dialPOP3S(t, l)
	p.login(s2.Name, s2.Password)
	p.want("+OK 1 ", "STAT")
	p.want("+OK", "RETR 1")
	body, err := p.tp.ReadDotBytes()
	if err != nil || !bytes.Contains(body, []byte("for student02 only")) {
		t.Fatalf("student02's RETR: %q %v", body, err)
	}
	p.want("+OK", "QUIT")

	// The submission port cannot act as another student either.
	c = dial(t, l.Addr(ListenerSubmission))
	c.greet()
	c.cmd("220", "STARTTLS")
	tc := tls.Client(c.conn, classroomTLS(l))
	c.conn, c.tp = tc, newTextConn(tc)
	c.cmd("250", "EHLO client.example")
	c.cmd("535 5.7.8", "AUTH PLAIN %s", b64(s2.Name+"\x00"+s3.Name+"\x00"+s3.Password))
	c.cmd("535 5.7.8", "AUTH PLAIN %s", plainIR(s2.Name, s3.Password))
}

func TestClassroomRefusesPracticeAndCleartext(t *testing.T) {
	fastHashes(t)
	if _, err := Start(Config{DataDir: t.TempDir(), Classroom: true, InsecureAuth: true, SMTP: "127.0.0.1:0",
		Submission: Off, Submissions: Off, POP3: Off, POP3S: Off, DNS: Off}); err == nil {
		t.Fatal("Start accepted Classroom with InsecureAuth")
	}
	data := t.TempDir()
	// Even a stored alice may not use the published password there.
	if err := SetUserPassword(data, "alice", "wonderland"); err != nil {
		t.Fatal(err)
	}
	l := startClassroom(t, func(c *Config) { c.DataDir = data })
	for _, u := range []string{"alice", "bob"} {
		if l.users.Check(u, PracticeUsers[u]) {
			t.Errorf("%s logs in with the practice password in classroom mode", u)
		}
		if _, ok := l.PracticePassword(u); ok {
			t.Errorf("%s has a practice password in classroom mode", u)
		}
	}
	if _, err := l.SetupClassroom(2, false, nil); err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr(ListenerSubmission))
	if ehlo := c.greet(); strings.Contains(ehlo, "AUTH") {
		t.Errorf("AUTH offered before TLS: %s", ehlo)
	}
	c.cmd("538 5.7.11", "AUTH PLAIN %s", plainIR("student01", "x"))
	c.cmd("220", "STARTTLS")
	tc := tls.Client(c.conn, classroomTLS(l))
	c.conn, c.tp = tc, newTextConn(tc)
	if ehlo := c.cmd("250", "EHLO client.example"); strings.Contains(ehlo, "CRAM-MD5") {
		t.Errorf("CRAM-MD5 (practice secrets only) offered: %s", ehlo)
	}
	c.cmd("535 5.7.8", "AUTH PLAIN %s", plainIR("alice", "wonderland"))

	// RFC 2595 §2.2: no password before STLS.
	p := pop{dial(t, l.Addr(ListenerPOP3))}
	p.want("+OK", "")
	p.want("-ERR [AUTH]", "USER student01")
	p.want("-ERR", "AUTH PLAIN "+plainIR("student01", "x"))
}

func TestSetupClassroomKeepsPasswords(t *testing.T) {
	fastHashes(t)
	data := t.TempDir()
	l := startClassroom(t, func(c *Config) { c.DataDir = data })
	first, err := l.SetupClassroom(3, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sheet := filepath.Join(t.TempDir(), "class.csv")
	if err := l.NewSheet(classroomAddr, first).WriteSheetFile(sheet); err != nil {
		t.Fatal(err)
	}
	known, err := ReadSheetPasswords(sheet)
	if err != nil || len(known) != 3 || known["student02"] != first[1].Password {
		t.Fatalf("ReadSheetPasswords: %v %v", known, err)
	}

	// A second run: the class grows to 5; the first three keep their
	// passwords and get them back from the sheet, except one the sheet has
	// wrong, which is reported unknown rather than invented.
	known["student03"] = "wrong-wrong-wrong"
	again, err := l.SetupClassroom(5, false, known)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].New || again[0].Password != first[0].Password || again[1].Password != first[1].Password {
		t.Errorf("kept accounts: %+v, first run %+v", again[:2], first[:2])
	}
	if again[2].New || again[2].Password != "" {
		t.Errorf("student03 with a stale sheet entry: %+v", again[2])
	}
	if !again[3].New || !again[4].New || again[4].Name != "student05" {
		t.Errorf("new accounts: %+v", again[3:])
	}
	if !l.users.Check("student03", first[2].Password) {
		t.Error("student03's password changed without --reset-passwords")
	}
	// Without a sheet nothing is known, and nothing changes.
	none, err := l.SetupClassroom(2, false, nil)
	if err != nil || none[0].Password != "" || none[0].New {
		t.Errorf("rerun without sheet: %+v %v", none, err)
	}

	reset, err := l.SetupClassroom(3, true, known)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range reset {
		if !s.New || s.Password == first[i].Password {
			t.Errorf("reset %s: %+v", s.Name, s)
		}
	}
	if l.users.Check("student01", first[0].Password) || !l.users.Check("student01", reset[0].Password) {
		t.Error("reset did not replace student01's password")
	}
	// Accounts beyond the class size stay, with their mail.
	if !l.users.Exists("student05") {
		t.Error("a smaller class removed student05")
	}

	// The users file survives a restart of the lab.
	l2, err := Start(Config{DataDir: t.TempDir(), Classroom: true, SMTP: "127.0.0.1:0",
		Submission: Off, Submissions: Off, POP3: Off, POP3S: Off, DNS: Off})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close(t.Context())
	u, err := loadUsers(data, false)
	if err != nil || !u.Check("student02", reset[1].Password) {
		t.Errorf("users file after reset: %v", err)
	}

	if _, err := l.SetupClassroom(0, false, nil); err == nil {
		t.Error("a class of 0 accepted")
	}
	if _, err := l2.SetupClassroom(MaxStudents+1, false, nil); err == nil {
		t.Error("a class over MaxStudents accepted")
	}
	plain := startLab(t)
	if _, err := plain.SetupClassroom(2, false, nil); err == nil {
		t.Error("SetupClassroom on a lab without Classroom")
	}
}

func TestSheetCSV(t *testing.T) {
	l := startClassroom(t, func(c *Config) { c.DNS = Off })
	students := []Student{{Name: "student01", Password: "aaaa-bbbb-cccc", New: true}, {Name: "student02"}}
	sh := l.NewSheet(classroomAddr, students)
	path := filepath.Join(t.TempDir(), "sub", "sheet.csv")
	// A leftover world-readable file is replaced, not reused.
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("old"), 0o644)
	if err := sh.WriteSheetFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sheet mode %v %v, want 0600", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	port := func(name string) string { _, p, _ := net.SplitHostPort(l.Addr(name)); return p }
	want := "account,address,password,host,submission,submissions,pop3,pop3s,smtp,dns\n" +
		"student01,student01@postlab.test,aaaa-bbbb-cccc,192.0.2.10," + port("submission") + "," + port("submissions") + "," +
		port("pop3") + "," + port("pop3s") + "," + port("smtp") + ",\n" +
		"student02,student02@postlab.test,,192.0.2.10," + port("submission") + "," + port("submissions") + "," +
		port("pop3") + "," + port("pop3s") + "," + port("smtp") + ",\n"
	if string(b) != want {
		t.Errorf("sheet:\n%s\nwant:\n%s", b, want)
	}
	known, err := ReadSheetPasswords(path)
	if err != nil || len(known) != 1 || known["student01"] != "aaaa-bbbb-cccc" {
		t.Errorf("read back: %v %v", known, err)
	}
	if m, err := ReadSheetPasswords(filepath.Join(t.TempDir(), "none.csv")); err != nil || len(m) != 0 {
		t.Errorf("missing sheet: %v %v", m, err)
	}
	other := filepath.Join(t.TempDir(), "grades.csv")
	os.WriteFile(other, []byte("name,grade\nann,A\n"), 0o600)
	if _, err := ReadSheetPasswords(other); !errors.Is(err, ErrNotASheet) {
		t.Errorf("a foreign CSV: %v, want ErrNotASheet", err)
	}
}

func TestNewPasswordAndStudentName(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		pw, err := NewPassword()
		if err != nil || !passwordRE.MatchString(pw) || seen[pw] {
			t.Fatalf("NewPassword: %q %v (repeat %v)", pw, err, seen[pw])
		}
		seen[pw] = true
	}
	for _, c := range []struct {
		i, n int
		want string
	}{{1, 30, "student01"}, {30, 30, "student30"}, {7, 9, "student07"}, {7, 150, "student007"}, {999, 999, "student999"}} {
		if got := StudentName(c.i, c.n); got != c.want || ValidUserName(got) != nil {
			t.Errorf("StudentName(%d, %d) = %q, want %q", c.i, c.n, got, c.want)
		}
	}
}

func TestCertNamesCoverListenerAddresses(t *testing.T) {
	cfg := Config{Domain: "postlab.test", Hostname: "mail.postlab.test", CertNames: []string{"teacher.lan", "[2001:db8::1]"}}
	got := certNames(cfg, map[string]string{"smtp": "192.0.2.7:2525", "pop3": "127.0.0.1:2110", "dns": "0.0.0.0:2553", "pop3s": "192.0.2.7:2995"})
	want := []string{"mail.postlab.test", "postlab.test", "localhost", "127.0.0.1", "::1", "teacher.lan", "2001:db8::1", "192.0.2.7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("certNames = %v, want %v", got, want)
	}
	// A lab whose certificate was made for loopback only gets a new one
	// naming the classroom address.
	data := t.TempDir()
	startLab(t, func(c *Config) { c.DataDir = data; c.DNS = Off }).Close(t.Context())
	l := startClassroom(t, func(c *Config) { c.DataDir = data; c.DNS = Off })
	if err := l.tls.cert.Leaf.VerifyHostname(classroomAddr); err != nil {
		t.Errorf("certificate does not name %s: %v", classroomAddr, err)
	}
	if err := l.tls.cert.Leaf.VerifyHostname("mail.postlab.test"); err != nil {
		t.Errorf("certificate lost the lab's own name: %v", err)
	}
}

func TestPOP3ConnectionsPerIP(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxConnsPerIP = 2 })
	a := dial(t, l.Addr(ListenerSMTP))
	a.expect("220")
	b := pop{dial(t, l.Addr(ListenerPOP3))}
	b.want("+OK", "")
	// The limit counts SMTP and POP3 together.
	c := pop{dial(t, l.Addr(ListenerPOP3))}
	c.want("-ERR [SYS/TEMP]", "")
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("refused POP3 connection left open")
	}
	s, err := tls.Dial("tcp", l.Addr(ListenerPOP3S), l.ClientTLSConfig())
	if err == nil {
		s.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err = s.Read(make([]byte, 1)); err == nil {
			t.Error("POP3S connection over the limit got a greeting")
		}
		s.Close()
	}
	b.want("+OK", "QUIT")
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := pop{dial(t, l.Addr(ListenerPOP3S))}
		d.conn = tls.Client(d.conn, l.ClientTLSConfig())
		d.tp = newTextConn(d.conn)
		if line, err := d.tp.ReadLine(); err == nil && strings.HasPrefix(line, "+OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("POP3 slot not released after QUIT")
		}
		time.Sleep(20 * time.Millisecond)
	}
	found := false
	for _, ev := range l.Traces().Recent(0) {
		if ev.Listener == ListenerPOP3 && ev.Err && strings.Contains(ev.Line, "refused") {
			found = true
		}
	}
	if !found {
		t.Errorf("no trace of the POP3 refusal:\n%s", dump(l.Traces().Recent(0)))
	}
}

func TestAuthSuccessReply(t *testing.T) {
	l := startLab(t)
	c := dialTLS(t, l, l.Addr(ListenerSubmissions))
	c.greet()
	// RFC 4954 §6: 235 2.7.0 (go-smtp's own reply would be 2.0.0).
	c.cmd("235 2.7.0 Authentication successful", "AUTH PLAIN %s", plainIR("alice", "wonderland"))
	c.cmd("503 5.5.1", "AUTH PLAIN %s", plainIR("bob", "builder"))
	c.cmd("250", "MAIL FROM:<alice@postlab.test>")
	c.cmd("221", "QUIT")

	c = dialTLS(t, l, l.Addr(ListenerSubmissions))
	c.greet()
	c.cmd("334", "AUTH LOGIN")
	c.cmd("334", "%s", b64("bob"))
	c.cmd("235 2.7.0", "%s", b64("builder"))
}
