package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"postlab/explorer/lab"
)

// serveArgs turns off the listeners a test does not need.
func serveArgs(data string, extra ...string) []string {
	args := []string{"serve", "--data", data, "--smtp", "127.0.0.1:0", "--submission", "off",
		"--submissions", "off", "--pop3", "off", "--pop3s", "off", "--dns", "off"}
	return append(args, extra...)
}

func TestServePortInUseIsUsageError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	args := serveArgs(t.TempDir(), "--pop3", taken.Addr().String())
	if code := run(args); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(new(bytes.Buffer))
	err = root.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("err %v, want a usage error", err)
	}
	want := taken.Addr().String() + " is in use: choose another with --pop3 ADDR"
	if err.Error() != want || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q, want %q", err, want)
	}
}

// syncBuffer is an io.Writer safe for the trace goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRunsUntilStopped(t *testing.T) {
	data := t.TempDir()
	t.Setenv("POSTLAB_PASSWORD", "s3cret-pass")
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *lab.Lab, 1)
	serveContext = func() context.Context { return ctx }
	serveStarted = func(l *lab.Lab) { started <- l }
	defer func() { serveContext, serveStarted = context.Background, nil }()

	var out, errOut syncBuffer
	root := newRoot()
	root.SetArgs(serveArgs(data, "--user", "carol", "--trace", "--scenario", "mailbox-full"))
	root.SetOut(&out)
	root.SetErr(&errOut)
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()

	var l *lab.Lab
	select {
	case l = <-started:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	banner := out.String()
	for _, want := range []string{
		"SMTP (MX)", l.Addr("smtp"), "submission", "off", "postlab.test",
		"alice@postlab.test  password wonderland", "bob@postlab.test    password builder",
		"carol@postlab.test  (stored password)", "data: " + data, "fault scenario: mailbox-full",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if b, err := os.ReadFile(filepath.Join(data, "users")); err != nil || !strings.Contains(string(b), "carol:$2") {
		t.Errorf("users file: %q %v", b, err)
	} else if fi, _ := os.Stat(filepath.Join(data, "users")); fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v", fi.Mode())
	}

	c, err := net.Dial("tcp", l.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tp := textproto.NewConn(c)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	tp.PrintfLine("QUIT")
	if _, _, err := tp.ReadResponse(221); err != nil {
		t.Fatal(err)
	}

	// --trace prints the session (from its own goroutine).
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "C: QUIT"); {
		if time.Now().After(deadline) {
			t.Fatalf("trace lacks the session:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestServeRejectsBadUserName(t *testing.T) {
	t.Setenv("POSTLAB_PASSWORD", "x")
	if code := run(serveArgs(t.TempDir(), "--user", "../root")); code != exitUsage {
		t.Fatalf("exit code %d, want %d", code, exitUsage)
	}
}

func TestServeRejectsUnknownScenario(t *testing.T) {
	if code := run(serveArgs(t.TempDir(), "--scenario", "nonsense")); code != exitUsage {
		t.Fatalf("--scenario: exit code %d, want %d", code, exitUsage)
	}
	if code := run(serveArgs(t.TempDir(), "--dns-fault", "nonsense")); code != exitUsage {
		t.Fatalf("--dns-fault: exit code %d, want %d", code, exitUsage)
	}
}

// runningServe is a `postlab serve` started by a test.
type runningServe struct {
	lab         *lab.Lab
	out, errOut *syncBuffer
	stop        func() error
}

// startServe runs serve with args until the test calls stop (or ends).
func startServe(t *testing.T, args ...string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *lab.Lab, 1)
	serveContext = func() context.Context { return ctx }
	serveStarted = func(l *lab.Lab) { started <- l }
	rs := &runningServe{out: new(syncBuffer), errOut: new(syncBuffer)}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(rs.out)
	root.SetErr(rs.errOut)
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	stopped := false
	rs.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		defer func() { serveContext, serveStarted = context.Background, nil }()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop")
		}
	}
	t.Cleanup(func() { rs.stop() })
	select {
	case rs.lab = <-started:
	case err := <-done:
		t.Fatalf("serve ended early: %v\n%s", err, rs.errOut.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return rs
}

// classroomServeArgs puts every listener on port 0 (the host comes from
// --listen, or classroomBindHost in tests).
func classroomServeArgs(data string, extra ...string) []string {
	args := []string{"serve", "--data", data, "--smtp", ":0", "--submission", ":0", "--submissions", ":0",
		"--pop3", ":0", "--pop3s", ":0", "--dns", ":0"}
	return append(args, extra...)
}

// testClassroomIP stands for the teacher's address (TEST-NET-1, RFC 5737).
const testClassroomIP = "192.0.2.10"

// bindLoopbackForClassroom runs classroom listeners on 127.0.0.1 for one test.
func bindLoopbackForClassroom(t *testing.T) {
	classroomBindHost = "127.0.0.1"
	t.Cleanup(func() { classroomBindHost = "" })
}

var sheetRow = regexp.MustCompile(`(?m)^  (student\d+)  +([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}|\(issued earlier\))$`)

// sheetPasswords reads the printed sheet's rows.
func sheetPasswords(out string) map[string]string {
	m := map[string]string{}
	for _, r := range sheetRow.FindAllStringSubmatch(out, -1) {
		m[r[1]] = r[2]
	}
	return m
}

// popLogin logs in on POP3S trusting only the certificate file students
// get, verified for the classroom address, and returns the reply to PASS.
func popLogin(t *testing.T, l *lab.Lab, certFile, user, pass string) string {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.Addr("pop3s"),
		&tls.Config{RootCAs: pool, ServerName: testClassroomIP})
	if err != nil {
		t.Fatalf("POP3S with --ca %s for %s: %v", certFile, testClassroomIP, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	line := func(cmd string) string {
		t.Helper()
		if cmd != "" {
			tp.PrintfLine("%s", cmd)
		}
		s, err := tp.ReadLine()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return s
	}
	line("")
	line("USER " + user)
	r := line("PASS " + pass)
	line("QUIT")
	return r
}

func TestServeClassroom(t *testing.T) {
	bindLoopbackForClassroom(t)
	data := t.TempDir()
	sheet := filepath.Join(t.TempDir(), "class.csv")
	rs := startServe(t, classroomServeArgs(data, "--classroom", "3", "--listen", testClassroomIP, "--sheet", sheet)...)
	l, out := rs.lab, rs.out.String()
	pws := sheetPasswords(out)
	if len(pws) != 3 || pws["student01"] == "" || pws["student01"] == "(issued earlier)" || pws["student01"] == pws["student02"] {
		t.Fatalf("printed sheet: %v\n%s", pws, out)
	}
	_, pop3sPort, _ := net.SplitHostPort(l.Addr("pop3s"))
	_, subPort, _ := net.SplitHostPort(l.Addr("submission"))
	cert := filepath.Join(data, "tls", "cert.pem")
	for _, want := range []string{
		"classroom sheet: 3 student accounts on 192.0.2.10 (domain postlab.test)",
		"student01..student03@postlab.test  (on the classroom sheet below)",
		"students connect to 192.0.2.10",
		"  submission   " + subPort + "  STARTTLS",
		"certificate: " + cert + " (give it to students: --ca FILE)",
		"e.g. postlab pop3 --tls --ca cert.pem --user student01 192.0.2.10:" + pop3sPort,
		"sheet written to " + sheet,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wonderland") || strings.Contains(out, "alice") || l.PracticeUsers() {
		t.Errorf("practice users shown or active in classroom mode:\n%s", out)
	}
	if !strings.Contains(rs.errOut.String(), "classroom mode: practice users alice and bob are disabled") {
		t.Errorf("stderr: %s", rs.errOut.String())
	}

	// The CSV: mode 0600, the printed passwords, the host and real ports.
	fi, err := os.Stat(sheet)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sheet file: %v %v", fi, err)
	}
	recs, err := csv.NewReader(mustOpen(t, sheet)).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("sheet CSV: %v %v", recs, err)
	}
	if got := strings.Join(recs[0], ","); got != "account,address,password,host,submission,submissions,pop3,pop3s,smtp,dns" {
		t.Errorf("CSV header %q", got)
	}
	for i, r := range recs[1:] {
		name := fmt.Sprintf("student%02d", i+1)
		if r[0] != name || r[1] != name+"@postlab.test" || r[2] != pws[name] || r[3] != testClassroomIP || r[4] != subPort || r[7] != pop3sPort {
			t.Errorf("CSV row %v", r)
		}
	}

	// Students log in over TLS, verifying the certificate for the
	// classroom address with the file they are given; a wrong password and
	// the practice password fail.
	if r := popLogin(t, l, cert, "student01", pws["student01"]); !strings.HasPrefix(r, "+OK") {
		t.Errorf("student01 POP3S login: %s", r)
	}
	if r := popLogin(t, l, cert, "student02", pws["student01"]); !strings.HasPrefix(r, "-ERR [AUTH]") {
		t.Errorf("student02 with student01's password: %s", r)
	}
	if r := popLogin(t, l, cert, "alice", "wonderland"); !strings.HasPrefix(r, "-ERR [AUTH]") {
		t.Errorf("alice in classroom mode: %s", r)
	}
	if err := rs.stop(); err != nil {
		t.Fatal(err)
	}

	// Again with the same sheet: the accounts and passwords are kept and
	// printed again; one more student gets a new password.
	rs = startServe(t, classroomServeArgs(data, "--classroom", "4", "--listen", testClassroomIP, "--sheet", sheet)...)
	again := sheetPasswords(rs.out.String())
	for _, n := range []string{"student01", "student02", "student03"} {
		if again[n] != pws[n] {
			t.Errorf("rerun: %s password %q, was %q", n, again[n], pws[n])
		}
	}
	if again["student04"] == "" || again["student04"] == "(issued earlier)" {
		t.Errorf("rerun: student04 %q", again["student04"])
	}
	pws["student04"] = again["student04"]
	rs.stop()

	// Without the sheet the kept passwords cannot be printed.
	rs = startServe(t, classroomServeArgs(data, "--classroom", "4", "--listen", testClassroomIP)...)
	if hidden := sheetPasswords(rs.out.String()); hidden["student01"] != "(issued earlier)" || hidden["student04"] != "(issued earlier)" ||
		!strings.Contains(rs.out.String(), "4 password(s) were issued by an earlier run") {
		t.Errorf("rerun without sheet:\n%s", rs.out.String())
	}
	if r := popLogin(t, rs.lab, cert, "student04", pws["student04"]); !strings.HasPrefix(r, "+OK") {
		t.Errorf("student04 after a rerun: %s", r)
	}
	rs.stop()

	// --reset-passwords issues new ones and rewrites the sheet.
	rs = startServe(t, classroomServeArgs(data, "--classroom", "2", "--listen", testClassroomIP, "--sheet", sheet, "--reset-passwords")...)
	reset := sheetPasswords(rs.out.String())
	if len(reset) != 2 || reset["student01"] == pws["student01"] || reset["student01"] == "(issued earlier)" {
		t.Errorf("reset: %v", reset)
	}
	if r := popLogin(t, rs.lab, cert, "student01", pws["student01"]); !strings.HasPrefix(r, "-ERR [AUTH]") {
		t.Errorf("old password after reset: %s", r)
	}
	if known, err := lab.ReadSheetPasswords(sheet); err != nil || known["student01"] != reset["student01"] {
		t.Errorf("sheet after reset: %v %v", known, err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestServeClassroomUsageErrors(t *testing.T) {
	lookupListenHost = func(host string) ([]net.IP, error) {
		switch host {
		case "debian-box": // Debian maps the host name to 127.0.1.1
			return []net.IP{net.ParseIP("127.0.1.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	defer func(old func(string) ([]net.IP, error)) { lookupListenHost = old }(lookupListenHost)
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--classroom", "30"}, "--classroom needs --listen ADDR"},
		{[]string{"--classroom", "30", "--listen", ""}, "--classroom needs --listen ADDR"},
		{[]string{"--classroom", "30", "--listen", "127.0.0.1"}, "--listen 127.0.0.1 is a loopback address: students"},
		{[]string{"--classroom", "30", "--listen", "127.9.9.9"}, "is a loopback address"},
		{[]string{"--classroom", "30", "--listen", "::1"}, "is a loopback address"},
		{[]string{"--classroom", "30", "--listen", "[::1]"}, "is a loopback address"},
		{[]string{"--classroom", "30", "--listen", "localhost"}, "is a loopback address"},
		{[]string{"--classroom", "30", "--listen", "debian-box"}, "--listen debian-box (127.0.1.1) is a loopback address"},
		{[]string{"--classroom", "30", "--listen", "0.0.0.0"}, "means every address"},
		{[]string{"--classroom", "30", "--listen", "nowhere.invalid"}, "cannot resolve it"},
		{[]string{"--classroom", "30", "--listen", "192.0.2.10:2525"}, "without a port"},
		{[]string{"--classroom", "0", "--listen", testClassroomIP}, "--classroom 0: give the number of students"},
		{[]string{"--classroom", "1000", "--listen", testClassroomIP}, "1 to 999"},
		{[]string{"--classroom", "3", "--listen", testClassroomIP, "--insecure-auth"}, "--insecure-auth cannot be used with --classroom"},
		{[]string{"--classroom", "3", "--listen", testClassroomIP, "--smtp", "10.1.1.1:25"}, "every listener is on --listen's address"},
		{[]string{"--classroom", "3", "--listen", testClassroomIP, "--pop3", "1.2.3"}, "--pop3 1.2.3: want a port"},
		{[]string{"--listen", testClassroomIP}, "go with --classroom N"},
		{[]string{"--sheet", "x.csv"}, "go with --classroom N"},
	} {
		args := append([]string{"serve", "--data", data}, c.args...)
		root := newRoot()
		root.SetArgs(args)
		root.SetOut(new(bytes.Buffer))
		root.SetErr(new(bytes.Buffer))
		err := root.Execute()
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want a one-line usage error with %q", c.args, err, c.want)
		}
	}
	if code := run([]string{"serve", "--data", data, "--classroom", "30", "--listen", "127.0.0.1"}); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if _, err := os.Stat(filepath.Join(data, "users")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused classroom created users: %v", err)
	}

	// A foreign file is never overwritten as a sheet.
	foreign := filepath.Join(t.TempDir(), "grades.csv")
	os.WriteFile(foreign, []byte("name,grade\nann,A\n"), 0o600)
	if code := run([]string{"serve", "--data", data, "--classroom", "3", "--listen", testClassroomIP, "--sheet", foreign}); code != exitUsage {
		t.Errorf("foreign --sheet: exit code %d, want %d", code, exitUsage)
	}
	if b, _ := os.ReadFile(foreign); string(b) != "name,grade\nann,A\n" {
		t.Errorf("foreign file changed: %q", b)
	}
}

func TestCheckClassroomHost(t *testing.T) {
	lookup := func(host string) ([]net.IP, error) {
		if host == "teacher.lan" {
			return []net.IP{net.ParseIP("192.0.2.10"), net.ParseIP("2001:db8::10")}, nil
		}
		return nil, errors.New("no such host")
	}
	for in, want := range map[string]string{
		"192.0.2.10":   "192.0.2.10",
		"fd00::1":      "fd00::1",
		"[fd00::1]":    "fd00::1",
		"teacher.lan":  "teacher.lan 192.0.2.10 2001:db8::10",
		"Teacher.LAN.": "teacher.lan 192.0.2.10 2001:db8::10",
	} {
		got, err := checkClassroomHost(in, lookup)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("checkClassroomHost(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

// TestServeClassroomOnNetworkAddress binds a real non-loopback address, so it
// runs only when asked: tests stay on loopback unless
// POSTLAB_TEST_LISTEN=ADDR names an address of this machine to use.
func TestServeClassroomOnNetworkAddress(t *testing.T) {
	addr := os.Getenv("POSTLAB_TEST_LISTEN")
	if addr == "" {
		t.Skip("set POSTLAB_TEST_LISTEN to a non-loopback address of this machine to run it")
	}
	ip := net.ParseIP(addr).To4()
	if ip == nil || ip.IsLoopback() {
		t.Fatalf("POSTLAB_TEST_LISTEN=%q: want a non-loopback IPv4 address", addr)
	}
	data := t.TempDir()
	rs := startServe(t, classroomServeArgs(data, "--classroom", "1", "--listen", ip.String(), "--dns", "off")...)
	pw := sheetPasswords(rs.out.String())["student01"]
	for _, name := range []string{"smtp", "submission", "submissions", "pop3", "pop3s"} {
		if h, _, _ := net.SplitHostPort(rs.lab.Addr(name)); h != ip.String() {
			t.Errorf("%s listens on %s, want %s", name, rs.lab.Addr(name), ip)
		}
	}
	pem, _ := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := tls.Dial("tcp", rs.lab.Addr("pop3s"), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("POP3S on %s verifying the certificate for the address: %v", ip, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	tp.ReadLine()
	tp.PrintfLine("USER student01")
	tp.ReadLine()
	tp.PrintfLine("PASS %s", pw)
	if r, err := tp.ReadLine(); err != nil || !strings.HasPrefix(r, "+OK") {
		t.Errorf("student01 on %s: %q %v", ip, r, err)
	}
}

// --idle-timeout says how it applies to POP3, whose autologout timer RFC
// 1939 §3 wants at least 10 minutes (the lab uses max(idle, 10m) there).
func TestServeIdleTimeoutHelp(t *testing.T) {
	fl := newServeCmd().Flags().Lookup("idle-timeout")
	if fl == nil {
		t.Fatal("no --idle-timeout flag")
	}
	if !strings.Contains(fl.Usage, "POP3") || !strings.Contains(fl.Usage, "10m") {
		t.Errorf("--idle-timeout help does not say what happens for POP3: %q", fl.Usage)
	}
}

// `serve --trace` never prints a password typed after a refused AUTH, nor a
// control sequence a client sent (SMTP and POP3 alike).
func TestServeTraceMasksAndEscapes(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *lab.Lab, 1)
	serveContext = func() context.Context { return ctx }
	serveStarted = func(l *lab.Lab) { started <- l }
	defer func() { serveContext, serveStarted = context.Background, nil }()

	var out, errOut syncBuffer
	root := newRoot()
	root.SetArgs([]string{"serve", "--data", data, "--smtp", "off", "--submission", "127.0.0.1:0",
		"--submissions", "off", "--pop3", "127.0.0.1:0", "--pop3s", "off", "--dns", "off", "--trace"})
	root.SetOut(&out)
	root.SetErr(&errOut)
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	var l *lab.Lab
	select {
	case l = <-started:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	talk := func(addr, script, last string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(script)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		buf := make([]byte, 4096)
		for !strings.Contains(got.String(), last) {
			n, err := c.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("%s: %v after %q", addr, err, got.String())
			}
		}
	}
	talk(l.Addr("submission"), "EHLO x\r\nAUTH PLAIN\r\nAGFsaWNlAHdvbmRlcmxhbmQ=\r\nAUTH LOGIN\r\nYWxpY2U=\r\nd29uZGVybGFuZA==\r\nQUIT\r\n", "221 ")
	talk(l.Addr("pop3"), "AUTH PLAIN\r\nAGFsaWNlAHdvbmRlcmxhbmQ=\r\nNOOP \x1b]0;pwned\x07\x1b[31mred\r\nQUIT\r\n", "signing off")

	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "connection closed") < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("trace lacks the sessions:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	_, text, _ := strings.Cut(out.String(), "press Ctrl-C to stop") // after the banner and its practice passwords
	for _, secret := range []string{"AGFsaWNlAHdvbmRlcmxhbmQ", "YWxpY2U=", "d29uZGVybGFuZA", "wonderland"} {
		if strings.Contains(text, secret) {
			t.Errorf("trace shows %q:\n%s", secret, text)
		}
	}
	if strings.ContainsAny(text, "\x1b\x07\u009b") {
		t.Errorf("trace carries control characters:\n%q", text)
	}
	if !strings.Contains(text, `C: NOOP \x1b]0;pwned\x07\x1b[31mred`) {
		t.Errorf("escaped NOOP line missing:\n%s", text)
	}
}

// A flag error leaves nothing behind: the data dir is created only once
// every flag has been checked, and each error is one line naming its flag.
func TestServeFlagErrorsCreateNothing(t *testing.T) {
	withTTY(t, nil)
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	key := filepath.Join(dir, "k.pem")
	writeTestCert(t, cert, key)
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  string // POSTLAB_PASSWORD
		args []string
		want string
	}{
		{"", []string{"--user", "carol"}, "POSTLAB_PASSWORD is empty"},
		{"", []string{"--smtp", "127.0.0.1:99999"}, "--smtp 127.0.0.1:99999: want HOST:PORT"},
		{"", []string{"--smtp", "nonsense"}, "--smtp nonsense: want HOST:PORT"},
		{"", []string{"--cert", cert}, "--cert " + cert + " needs --key FILE"},
		{"", []string{"--key", key}, "--key " + key + " needs --cert FILE"},
		{"", []string{"--cert", cert, "--key", garbage}, "--key " + garbage + ": no PEM private key"},
		{"", []string{"--cert", garbage, "--key", key}, "--cert " + garbage + ": no PEM certificate"},
		{"", []string{"--cert", cert, "--key", filepath.Join(dir, "missing")}, "--key " + filepath.Join(dir, "missing") + ": no such file"},
		{"x", []string{"--user", "../root"}, "--user"},
	} {
		t.Setenv("POSTLAB_PASSWORD", tc.env)
		data := filepath.Join(t.TempDir(), "data")
		code, _, errs := runCaptured(t, serveArgs(data, tc.args...)...)
		if code != exitUsage || !strings.Contains(errs, tc.want) || strings.Contains(errs, "\n") || strings.Contains(errs, "tls: ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: the data dir was created (%v)", tc.args, err)
		}
	}
}

// writeTestCert writes a self-signed certificate and its key (PEM).
func writeTestCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.postlab.test"},
		DNSNames: []string{"mail.postlab.test"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// busySMTP opens an SMTP session in the middle of DATA: it holds the
// shutdown until the grace ends.
func busySMTP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tp := textproto.NewConn(c)
	for _, step := range []struct {
		cmd  string
		code int
	}{{"", 220}, {"EHLO x", 250}, {"MAIL FROM:<carol@example.com>", 250}, {"RCPT TO:<alice@postlab.test>", 250}, {"DATA", 354}} {
		if step.cmd != "" {
			tp.PrintfLine("%s", step.cmd)
		}
		if _, _, err := tp.ReadResponse(step.code); err != nil {
			t.Fatalf("%s: %v", step.cmd, err)
		}
	}
	return c
}

func waitOutput(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(b.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A session still busy when the grace ends is cut, and stderr says how
// many, in words rather than Go's context error.
func TestServeGraceCutSaysHowMany(t *testing.T) {
	old := shutdownGrace
	shutdownGrace = 100 * time.Millisecond
	t.Cleanup(func() { shutdownGrace = old })
	rs := startServe(t, serveArgs(t.TempDir())...)
	busySMTP(t, rs.lab.Addr("smtp"))
	if err := rs.stop(); err != nil {
		t.Fatalf("serve returned %v, want nil (exit 0)", err)
	}
	want := "postlab: stopped: 1 session was still busy after the 100ms grace and was cut short\n"
	if got := rs.errOut.String(); !strings.HasSuffix(got, want) || strings.Contains(got, "context") {
		t.Errorf("stderr %q, want it to end in %q", got, want)
	}
}

// A second Ctrl-C during the grace cuts the busy sessions at once and
// exits 130, like any command Ctrl-C interrupts.
func TestServeSecondInterruptStopsAtOnce(t *testing.T) {
	old := shutdownGrace
	shutdownGrace = time.Hour // without the second Ctrl-C the test would time out
	sigs := make(chan os.Signal, 2)
	serveSignals = func() (<-chan os.Signal, func()) { return sigs, func() {} }
	t.Cleanup(func() {
		shutdownGrace = old
		serveSignals = defaultServeSignals
	})
	rs := startServe(t, serveArgs(t.TempDir(), "--pop3", "127.0.0.1:0")...)
	busySMTP(t, rs.lab.Addr("smtp"))
	pop := dialPOP3Idle(t, rs.lab.Addr("pop3"))
	sigs <- os.Interrupt
	// The idle POP3 session is told at once, while SMTP holds the grace.
	if line, err := pop.ReadString('\n'); err != nil || line != "-ERR [SYS/TEMP] server shutting down\r\n" {
		t.Fatalf("idle POP3 session got %q, %v", line, err)
	}
	waitOutput(t, rs.out, "Ctrl-C again to stop at once")
	sigs <- os.Interrupt
	err := rs.stop()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitInterrupted {
		t.Fatalf("serve returned %v, want exit 130", err)
	}
	want := "postlab: stopped at once: 1 session cut short by the second Ctrl-C\n"
	if got := rs.errOut.String(); !strings.HasSuffix(got, want) {
		t.Errorf("stderr %q, want it to end in %q", got, want)
	}
}

// dialPOP3Idle connects to POP3 and reads the greeting; the session then
// waits for a command.
func dialPOP3Idle(t *testing.T, addr string) *bufio.Reader {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("POP3 greeting %q, %v", line, err)
	}
	return r
}
