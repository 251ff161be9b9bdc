package explorer

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer plays a script to one client on 127.0.0.1:0. Script steps:
//
//	"S: text"   send text + CRLF
//	"RAW: text" send text as is (Go escapes are not interpreted: build it in Go)
//	"C: text"   expect the client to send exactly this line
//	"C* text"   expect a line starting with text
//	"DATA"      read lines until a lone "." (the message)
//	"TLS"       server side TLS handshake with the test certificate
//	"TLS1.0"    the same, with a server stuck at TLS 1.0 (also "TLS1.1", "TLS1.2")
//	"CLOSE"     close the connection
//	"HANG"      read until the client goes away, send nothing
type fakeServer struct {
	t    *testing.T
	ln   net.Listener
	done chan struct{}

	mu       sync.Mutex
	conn     net.Conn
	got      []string // every line the client sent
	messages []string // bodies received with DATA
}

var testCert struct {
	once sync.Once
	cert tls.Certificate
	pool *x509.CertPool
}

// certFor returns a self-signed certificate for mx.test and 127.0.0.1.
func certFor(t testing.TB) (tls.Certificate, *x509.CertPool) {
	testCert.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "mx.test"},
			DNSNames:              []string{"mx.test"},
			IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore:             time.Unix(0, 0),
			NotAfter:              time.Unix(1<<33, 0),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		c, _ := x509.ParseCertificate(der)
		testCert.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
		testCert.pool = x509.NewCertPool()
		testCert.pool.AddCert(c)
	})
	return testCert.cert, testCert.pool
}

func newFake(t *testing.T, script ...string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, done: make(chan struct{})}
	go f.serve(script)
	t.Cleanup(func() {
		ln.Close()
		// The client may be left connected: end the drain.
		f.mu.Lock()
		if f.conn != nil {
			f.conn.SetDeadline(time.Now())
		}
		f.mu.Unlock()
		select {
		case <-f.done:
		case <-time.After(10 * time.Second):
			t.Error("fake server did not finish")
		}
	})
	return f
}

func (f *fakeServer) Addr() string { return f.ln.Addr().String() }

func (f *fakeServer) Lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeServer) serve(script []string) {
	defer close(f.done)
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	f.mu.Lock()
	f.conn = conn
	f.mu.Unlock()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	readLine := func() (string, bool) {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		f.mu.Lock()
		f.got = append(f.got, l)
		f.mu.Unlock()
		return l, true
	}
	for i, step := range script {
		switch {
		case strings.HasPrefix(step, "S: "):
			conn.Write([]byte(step[3:] + "\r\n"))
		case strings.HasPrefix(step, "RAW: "):
			conn.Write([]byte(step[5:]))
		case strings.HasPrefix(step, "C: "), strings.HasPrefix(step, "C* "):
			l, ok := readLine()
			if !ok {
				f.t.Errorf("fake: step %d: client went away, wanted %q", i, step)
				return
			}
			if step[1] == ':' && l != step[3:] || step[1] == '*' && !strings.HasPrefix(l, step[3:]) {
				f.t.Errorf("fake: step %d: client sent %q, want %q", i, l, step)
			}
		case step == "DATA":
			var msg []string
			for {
				l, ok := readLine()
				if !ok {
					f.t.Errorf("fake: client went away in DATA")
					return
				}
				if l == "." {
					break
				}
				msg = append(msg, l)
			}
			f.mu.Lock()
			f.messages = append(f.messages, strings.Join(msg, "\r\n"))
			f.mu.Unlock()
		case step == "TLS" || strings.HasPrefix(step, "TLS1."):
			cert, _ := certFor(f.t)
			cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
			if v, ok := map[string]uint16{"TLS1.0": tls.VersionTLS10, "TLS1.1": tls.VersionTLS11, "TLS1.2": tls.VersionTLS12}[step]; ok {
				cfg.MinVersion, cfg.MaxVersion = v, v
			}
			tc := tls.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				return // the client may refuse the certificate: that is the test
			}
			conn = tc
			br = bufio.NewReader(conn)
		case step == "CLOSE":
			return
		case step == "HANG":
			for {
				if _, ok := readLine(); !ok {
					return
				}
			}
		default:
			panic("bad script step " + step)
		}
	}
	// Drain until the client closes so its last writes do not fail.
	for {
		if _, ok := readLine(); !ok {
			return
		}
	}
}

// testClock is a fixed clock that advances one millisecond per reading.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func testOpts(addr string) Options {
	return Options{Addr: addr, ReplyTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Now: testClock()}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// errEvents returns the lines of the error events.
func errEvents(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Err {
			out = append(out, e.Line)
		}
	}
	return out
}
