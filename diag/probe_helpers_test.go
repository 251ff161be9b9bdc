package diag

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is a local certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial int64 = 100
var serialMu sync.Mutex

func nextSerial() *big.Int {
	serialMu.Lock()
	defer serialMu.Unlock()
	serial++
	return big.NewInt(serial)
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "postlab test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &testCA{cert: c, key: key, pool: pool}
}

// leaf issues a server certificate for names valid from nb to na; with
// ca nil it is self-signed.
func leafCert(t testing.TB, ca *testCA, names []string, nb, na time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	chain := [][]byte{der}
	if ca != nil {
		chain = append(chain, ca.cert.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

// fakeServer is a small scripted SMTP or POP3 server for one behaviour.
type fakeServer struct {
	proto       string // "smtp" or "pop3"
	banner      string // greeting host, default mx.test
	implicitTLS bool
	cert        *tls.Certificate // nil: no STARTTLS/STLS and no implicit TLS
	tlsFail     bool             // accept STARTTLS, then send garbage instead of a handshake
	silent      bool             // accept and never speak
	noEHLO      bool             // 502 to EHLO (HELO only)
	vrfy        bool             // 250 to VRFY and EXPN
	openRelay   bool             // accept RCPT for any domain
	authClear   bool             // offer AUTH before TLS
	user, pass  string           // the one account
	inUse       bool             // POP3: right password gives -ERR [IN-USE]
	refuseTLS   bool             // offer STARTTLS, answer it 454
	accepted    *atomic.Int32    // when set, counts the connections accepted
}

// start listens on 127.0.0.1:0 and serves until the test ends.
func (f fakeServer) start(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if f.accepted != nil {
				f.accepted.Add(1)
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				f.serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func (f fakeServer) serve(c net.Conn) {
	if f.silent {
		b := make([]byte, 512)
		for {
			if _, err := c.Read(b); err != nil {
				return
			}
		}
	}
	if f.banner == "" {
		f.banner = "mx.test"
	}
	var conn net.Conn = c
	secure := false
	if f.implicitTLS {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
		if tc.Handshake() != nil {
			return
		}
		conn, secure = tc, true
	}
	br := bufio.NewReader(conn)
	say := func(s string) { conn.Write([]byte(s + "\r\n")) }
	if f.proto == "pop3" {
		f.servePOP3(conn, br, say, secure)
		return
	}
	say("220 " + f.banner + " ESMTP fake")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if f.noEHLO {
				say("502 5.5.1 EHLO not implemented")
				continue
			}
			caps := []string{"250-" + f.banner, "250-SIZE 10240000"}
			if f.cert != nil && !secure {
				caps = append(caps, "250-STARTTLS")
			}
			if secure || f.authClear {
				caps = append(caps, "250-AUTH PLAIN")
			}
			if f.vrfy {
				caps = append(caps, "250-VRFY")
			}
			caps = append(caps, "250 8BITMIME")
			for _, l := range caps {
				say(l)
			}
		case "HELO":
			say("250 " + f.banner)
		case "STARTTLS":
			if f.cert == nil || secure {
				say("502 5.5.1 no")
				continue
			}
			if f.refuseTLS {
				say("454 4.7.0 TLS not available")
				continue
			}
			say("220 2.0.0 go ahead")
			if f.tlsFail {
				// Wait for the ClientHello, then answer with something that is not TLS.
				b := make([]byte, 4096)
				conn.Read(b)
				conn.Write([]byte("this is not TLS\r\n\r\n\r\n"))
				return
			}
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if tc.Handshake() != nil {
				return
			}
			conn, secure = tc, true
			br = bufio.NewReader(conn)
			say = func(s string) { conn.Write([]byte(s + "\r\n")) }
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				say("504 5.5.4 unknown mechanism")
				continue
			}
			if ir == "" {
				say("334 ")
				ir, _ = br.ReadString('\n')
				ir = strings.TrimRight(ir, "\r\n")
			}
			if f.checkPlain(ir) {
				say("235 2.7.0 ok")
			} else {
				say("535 5.7.8 bad credentials")
			}
		case "MAIL":
			say("250 2.1.0 ok")
		case "RCPT":
			if f.openRelay || strings.Contains(strings.ToLower(arg), "@example.com>") {
				say("250 2.1.5 ok")
			} else {
				say("550 5.7.1 relaying denied")
			}
		case "VRFY", "EXPN":
			if f.vrfy {
				say("250 Postmaster <postmaster@example.com>")
			} else {
				say("252 2.5.2 cannot verify")
			}
		case "RSET", "NOOP":
			say("250 2.0.0 ok")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("500 5.5.2 what?")
		}
	}
}

func (f fakeServer) checkPlain(b64 string) bool {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	parts := strings.Split(string(raw), "\x00")
	return len(parts) == 3 && parts[1] == f.user && parts[2] == f.pass
}

func (f fakeServer) servePOP3(conn net.Conn, br *bufio.Reader, say func(string), secure bool) {
	say("+OK fake POP3 ready")
	var user string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "CAPA":
			say("+OK")
			if f.cert != nil && !secure {
				say("STLS")
			}
			if secure || f.authClear {
				say("USER")
				say("SASL PLAIN")
			}
			say("RESP-CODES")
			say(".")
		case "STLS":
			if f.cert == nil || secure {
				say("-ERR no")
				continue
			}
			say("+OK begin TLS")
			if f.tlsFail {
				b := make([]byte, 4096)
				conn.Read(b)
				conn.Write([]byte("garbage\r\n\r\n"))
				return
			}
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if tc.Handshake() != nil {
				return
			}
			conn, secure = tc, true
			br = bufio.NewReader(conn)
			say = func(s string) { conn.Write([]byte(s + "\r\n")) }
		case "USER":
			user = arg
			say("+OK")
		case "PASS":
			f.loginReply(say, user == f.user && arg == f.pass)
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				say("-ERR unknown mechanism")
				continue
			}
			f.loginReply(say, f.checkPlain(ir))
		case "QUIT":
			say("+OK bye")
			return
		default:
			say("-ERR unknown command")
		}
	}
}

func (f fakeServer) loginReply(say func(string), ok bool) {
	switch {
	case ok && f.inUse:
		say("-ERR [IN-USE] maildrop locked")
	case ok:
		say("+OK logged in")
	default:
		say("-ERR [AUTH] invalid login")
	}
}
