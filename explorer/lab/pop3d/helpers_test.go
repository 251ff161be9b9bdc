package pop3d

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
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"postlab/explorer"
)

// memStore is an in-memory MaildropStore and SecretAuthenticator for tests.
type memStore struct {
	mu        sync.Mutex
	passwords map[string]string
	boxes     map[string][]*memMsg
	locked    map[string]bool
	seen      []string
	deletes   [][]string
	lockErr   error
	deleteErr error
	openErr   error
	readErr   error // returned after the first 10 octets of a message
}

type memMsg struct {
	uid  string
	data []byte
	seen bool
}

func newMemStore() *memStore {
	return &memStore{
		passwords: map[string]string{"alice": "wonderland", "bob": "builder"},
		boxes:     map[string][]*memMsg{},
		locked:    map[string]bool{},
	}
}

func (m *memStore) add(user, uid, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boxes[user] = append(m.boxes[user], &memMsg{uid: uid, data: []byte(data)})
}

func (m *memStore) uids(user string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, msg := range m.boxes[user] {
		out = append(out, msg.uid)
	}
	return out
}

func (m *memStore) isLocked(user string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.locked[user]
}

func (m *memStore) Check(user, password string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passwords[user]
	return ok && p == password
}

func (m *memStore) Secret(user string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passwords[user]
	return p, ok
}

func (m *memStore) Lock(user string) (Maildrop, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lockErr != nil {
		return nil, m.lockErr
	}
	if m.locked[user] {
		return nil, ErrInUse
	}
	m.locked[user] = true
	d := &memDrop{store: m, user: user, msgs: append([]*memMsg(nil), m.boxes[user]...), byUID: map[string]*memMsg{}}
	for _, msg := range d.msgs {
		d.byUID[msg.uid] = msg
	}
	return d, nil
}

type memDrop struct {
	store *memStore
	user  string
	msgs  []*memMsg
	byUID map[string]*memMsg
}

func (d *memDrop) Messages() []MessageInfo {
	out := make([]MessageInfo, len(d.msgs))
	for i, m := range d.msgs {
		out[i] = MessageInfo{UID: m.uid, Size: int64(len(m.data)), Seen: m.seen}
	}
	return out
}

func (d *memDrop) Open(uid string) (io.ReadCloser, error) {
	d.store.mu.Lock()
	openErr, readErr := d.store.openErr, d.store.readErr
	d.store.mu.Unlock()
	if openErr != nil {
		return nil, openErr
	}
	m, ok := d.byUID[uid]
	if !ok {
		return nil, errors.New("no such message")
	}
	if readErr != nil {
		return io.NopCloser(io.MultiReader(bytes.NewReader(m.data[:10]), iotest.ErrReader(readErr))), nil
	}
	return io.NopCloser(bytes.NewReader(m.data)), nil
}

func (d *memDrop) MarkSeen(uid string) error {
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	d.store.seen = append(d.store.seen, uid)
	return nil
}

func (d *memDrop) Delete(uids []string) error {
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	if d.store.deleteErr != nil {
		return d.store.deleteErr
	}
	d.store.deletes = append(d.store.deletes, uids)
	gone := map[string]bool{}
	for _, u := range uids {
		gone[u] = true
	}
	var keep []*memMsg
	for _, m := range d.store.boxes[d.user] {
		if !gone[m.uid] {
			keep = append(keep, m)
		}
	}
	d.store.boxes[d.user] = keep
	return nil
}

func (d *memDrop) Unlock() {
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	delete(d.store.locked, d.user)
}

// plainOnly hides Secret so that APOP is off.
type plainOnly struct{ s *memStore }

func (p plainOnly) Check(u, pw string) bool { return p.s.Check(u, pw) }

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mail.postlab.test"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(1<<33, 0),
		DNSNames:              []string{"localhost", "mail.postlab.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}

// traceLog collects trace events.
type traceLog struct {
	mu  sync.Mutex
	evs []explorer.Event
}

func (l *traceLog) add(_ uint64, _ string, ev explorer.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *traceLog) events() []explorer.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]explorer.Event(nil), l.evs...)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testServer struct {
	srv    *Server
	store  *memStore
	trace  *traceLog
	addr   string // plain listener
	tlsAdr string // implicit-TLS listener
	pool   *x509.CertPool
}

// startServer runs a server on 127.0.0.1:0 (plain with STLS, and implicit
// TLS); mod may adjust the config first.
func startServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	store := newMemStore()
	tcfg, pool := testCert(t)
	tr := &traceLog{}
	cfg := Config{
		Hostname:      "mail.postlab.test",
		Domains:       []string{"postlab.test"},
		TLSConfig:     tcfg,
		Auth:          store,
		Store:         store,
		AuthFailDelay: time.Millisecond,
		Trace:         tr.add,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv := NewServer(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.Serve(l); done <- struct{}{} }()
	go func() { srv.Serve(tls.NewListener(tl, tcfg)); done <- struct{}{} }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		<-done
	})
	return &testServer{srv: srv, store: store, trace: tr, addr: l.Addr().String(), tlsAdr: tl.Addr().String(), pool: pool}
}

// client is a raw line-level POP3 client.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	// greeting is the first line the server sent.
	greeting string
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.greeting = c.line()
	if !strings.HasPrefix(c.greeting, "+OK") {
		t.Fatalf("greeting %q", c.greeting)
	}
	return c
}

func dialTLS(t testing.TB, ts *testServer) *client {
	t.Helper()
	conn, err := tls.Dial("tcp", ts.tlsAdr, &tls.Config{RootCAs: ts.pool, ServerName: "mail.postlab.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.greeting = c.line()
	return c
}

func (c *client) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends line and returns the one-line response.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line)
	return c.line()
}

// expect sends line and checks the response starts with prefix.
func (c *client) expect(line, prefix string) string {
	c.t.Helper()
	got := c.cmd(line)
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("%s: got %q, want prefix %q", line, got, prefix)
	}
	return got
}

// multi reads the body of a multi-line response, raw (still byte-stuffed),
// up to but not including the terminating ".".
func (c *client) multi() []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

// rawMulti reads a multi-line response body as exact bytes, terminator excluded.
func (c *client) rawMulti() []byte {
	c.t.Helper()
	var buf bytes.Buffer
	for {
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if l == ".\r\n" {
			return buf.Bytes()
		}
		buf.WriteString(l)
	}
}

// closed reports whether the server closed the connection (EOF).
func (c *client) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err == nil {
		c.t.Fatalf("expected the server to close the connection, got %q", l)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		c.t.Fatalf("expected EOF, got %v", err)
	}
}

func (c *client) login(user, pass string) {
	c.t.Helper()
	c.expect("USER "+user, "+OK")
	c.expect("PASS "+pass, "+OK")
}

// needProgram returns the path of an outside program, skipping the test when
// it is missing, or failing it when POSTLAB_INTEROP=1 asks for every
// interoperability test to run.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("POSTLAB_INTEROP") == "1" {
			t.Fatalf("POSTLAB_INTEROP=1 but %s is not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func dialRaw(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return c, err
}
