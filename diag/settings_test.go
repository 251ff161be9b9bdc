package diag

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func portOf(t testing.TB, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// fakeIMAP greets like an IMAP server, over implicit TLS or with STARTTLS
// (RFC 9051 §6.2.1).
func fakeIMAP(t *testing.T, cert tls.Certificate, implicit bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if implicit {
					tc := tls.Server(c, cfg)
					tc.Write([]byte("* OK [CAPABILITY IMAP4rev1] fake ready\r\n"))
					tc.Close()
					return
				}
				c.Write([]byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] fake ready\r\n"))
				line, _ := bufio.NewReader(c).ReadString('\n')
				if !strings.HasPrefix(line, "p1 STARTTLS") {
					return
				}
				c.Write([]byte("p1 OK begin TLS\r\n"))
				tls.Server(c, cfg).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

func fakeIMAPS(t *testing.T, cert tls.Certificate) string { return fakeIMAP(t, cert, true) }

func emptyZone(t testing.TB) Resolver {
	return testClient(newTestZone(t, "example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5").start(t))
}

func findSetting(ss []*Setting, proto string, port int, sec string) *Setting {
	for _, s := range ss {
		if s.Protocol == proto && s.Port == port && s.Security == sec {
			return s
		}
	}
	return nil
}

const autoconfigXML = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <incomingServer type="pop3">
      <hostname>127.0.0.1</hostname><port>%d</port><socketType>SSL</socketType>
      <username>%%EMAILLOCALPART%%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>127.0.0.1</hostname><port>%d</port><socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>127.0.0.1</hostname><port>%d</port><socketType>STARTTLS</socketType>
      <username>%%EMAILADDRESS%%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>`

func TestSettingsFromAutoconfig(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	cert := leafCert(t, ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	// Only the local part logs in: the address is tried first and refused.
	pop := (&fakeServer{proto: "pop3", cert: &cert, implicitTLS: true, user: "alice", pass: "pw"}).start(t)
	smtp := (&fakeServer{proto: "smtp", cert: &cert, user: "alice", pass: "pw"}).start(t)
	imap := fakeIMAPS(t, cert)

	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good/config-v1.1.xml":
			if r.URL.Query().Get("emailaddress") != "alice@example.com" {
				http.Error(w, "no address", 400)
				return
			}
			fmt.Fprintf(w, autoconfigXML, portOf(t, pop), portOf(t, imap), portOf(t, smtp))
		case "/bad/config-v1.1.xml":
			fmt.Fprint(w, "<clientConfig><emailProvider><incomingServer type=\"pop3\"><hostname>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(web.Close)

	res, err := DiscoverSettings(context.Background(), "alice@example.com", SettingsOptions{
		Resolver: emptyZone(t), HTTPClient: web.Client(), RootCAs: ca.pool,
		AutoconfigURLs: func(domain, address string) []string {
			q := "?emailaddress=" + address
			return []string{web.URL + "/good/config-v1.1.xml" + q, web.URL + "/bad/config-v1.1.xml" + q}
		},
		Timeout: 5 * time.Second, Password: "pw", HavePassword: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := findSetting(res.Incoming, "pop3", portOf(t, pop), "tls")
	out := findSetting(res.Outgoing, "smtp", portOf(t, smtp), "starttls")
	im := findSetting(res.Incoming, "imap", portOf(t, imap), "tls")
	if in == nil || out == nil || im == nil {
		t.Fatalf("autoconfig servers not probed:\nin %v\nout %v\n%s", res.Incoming, res.Outgoing, strings.Join(res.Discovery, "\n"))
	}
	for _, s := range []*Setting{in, out} {
		if s.Source != "autoconfig" || !s.Reachable || !s.TLS || !s.CertOK || s.Login != "ok" || s.User != "alice" || s.Error != "" {
			t.Errorf("%+v", *s)
		}
	}
	if !im.Reachable || !im.TLS || !im.CertOK || im.Login != "untested" {
		t.Errorf("imap: %+v", *im)
	}
	if fmt.Sprint(out.AuthMechanisms) != "[PLAIN]" || fmt.Sprint(in.AuthMechanisms) != "[USER PLAIN]" {
		t.Errorf("mechanisms %v %v", in.AuthMechanisms, out.AuthMechanisms)
	}
	if res.Recommended.Incoming != in || res.Recommended.Outgoing != out || !res.Works() {
		t.Errorf("recommended %+v", res.Recommended)
	}
	var bad bool
	for _, d := range res.Discovery {
		if strings.Contains(d, "/bad/") && strings.Contains(d, "not a clientConfig document") {
			bad = true
		}
	}
	if !bad {
		t.Errorf("malformed autoconfig not reported:\n%s", strings.Join(res.Discovery, "\n"))
	}
	// Guessed names that do not exist are listed, not probed.
	if !strings.Contains(strings.Join(res.Unresolved, " "), "pop.example.com") {
		t.Errorf("unresolved %v", res.Unresolved)
	}
}

func TestSettingsCombinations(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	ip := []string{"127.0.0.1"}
	good := leafCert(t, ca, ip, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	expired := leafCert(t, ca, ip, now.Add(-90*24*time.Hour), now.Add(-time.Hour))
	self := leafCert(t, nil, ip, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	other := leafCert(t, ca, []string{"other.example.net"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}()
	type want struct {
		reachable, tls, certOK bool
		login, errPart         string
	}
	tests := []struct {
		name  string
		srv   *fakeServer
		addr  string
		proto string
		sec   string
		want  want
	}{
		{"pop3 tls good", &fakeServer{proto: "pop3", cert: &good, implicitTLS: true, user: "alice@example.com", pass: "pw"}, "", "pop3", "tls", want{true, true, true, "ok", ""}},
		{"pop3 tls expired", &fakeServer{proto: "pop3", cert: &expired, implicitTLS: true, user: "alice", pass: "pw"}, "", "pop3", "tls", want{true, true, false, "untested", "expired"}},
		{"pop3 starttls self-signed", &fakeServer{proto: "pop3", cert: &self, user: "alice", pass: "pw"}, "", "pop3", "starttls", want{true, true, false, "untested", "self-signed"}},
		{"pop3 starttls wrong password", &fakeServer{proto: "pop3", cert: &good, user: "alice", pass: "other"}, "", "pop3", "starttls", want{true, true, true, "failed", "login failed"}},
		{"pop3 maildrop in use", &fakeServer{proto: "pop3", cert: &good, user: "alice", pass: "pw", inUse: true}, "", "pop3", "starttls", want{true, true, true, "ok", ""}},
		{"pop3 plain never logs in", &fakeServer{proto: "pop3", authClear: true, user: "alice", pass: "pw"}, "", "pop3", "plain", want{true, false, false, "untested", ""}},
		{"pop3 STLS handshake fails", &fakeServer{proto: "pop3", cert: &good, tlsFail: true}, "", "pop3", "starttls", want{true, false, false, "untested", "tls"}},
		{"pop3 silent", &fakeServer{silent: true}, "", "pop3", "tls", want{false, false, false, "untested", "no answer"}},
		{"smtp tls other name", &fakeServer{proto: "smtp", cert: &other, implicitTLS: true, user: "alice", pass: "pw"}, "", "smtp", "tls", want{true, true, false, "untested", "not valid for the name"}},
		{"smtp starttls good", &fakeServer{proto: "smtp", cert: &good, user: "alice", pass: "pw"}, "", "smtp", "starttls", want{true, true, true, "ok", ""}},
		{"smtp STARTTLS handshake fails", &fakeServer{proto: "smtp", cert: &good, tlsFail: true}, "", "smtp", "starttls", want{true, false, false, "untested", "tls"}},
		{"smtp starttls not offered", &fakeServer{proto: "smtp"}, "", "smtp", "starttls", want{true, false, false, "untested", "STARTTLS refused"}},
		{"smtp silent", &fakeServer{silent: true}, "", "smtp", "starttls", want{false, false, false, "untested", "connected, but no answer"}},
		{"smtp closed", nil, closed, "smtp", "tls", want{false, false, false, "untested", "connection refused"}},
		{"imap starttls", nil, fakeIMAP(t, good, false), "imap", "starttls", want{true, true, true, "untested", ""}},
		{"imap tls expired", nil, fakeIMAP(t, expired, true), "imap", "tls", want{true, true, false, "untested", "expired"}},
		{"imap is not pop3", nil, fakeIMAP(t, good, false), "pop3", "plain", want{true, false, false, "untested", "looks like an IMAP server"}},
	}
	var extra []Candidate
	addrs := map[string]string{}
	for _, tc := range tests {
		addr := tc.addr
		if tc.srv != nil {
			addr = tc.srv.start(t)
		}
		addrs[tc.name] = addr
		extra = append(extra, Candidate{Protocol: tc.proto, Host: "127.0.0.1", Port: portOf(t, addr), Security: tc.sec, Source: "guess"})
	}
	res, err := DiscoverSettings(context.Background(), "alice@example.com", SettingsOptions{
		Resolver: emptyZone(t), RootCAs: ca.pool, Timeout: 700 * time.Millisecond,
		Password: "pw", HavePassword: true, Extra: extra, OnlyExtra: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := res.Incoming
			if tc.proto == "smtp" {
				list = res.Outgoing
			}
			s := findSetting(list, tc.proto, portOf(t, addrs[tc.name]), tc.sec)
			if s == nil {
				t.Fatal("not probed")
			}
			got := want{s.Reachable, s.TLS, s.CertOK, s.Login, ""}
			w := tc.want
			if got.reachable != w.reachable || got.tls != w.tls || got.certOK != w.certOK || got.login != w.login ||
				!strings.Contains(s.Error, w.errPart) || w.errPart == "" && s.Error != "" {
				t.Errorf("got %+v error %q note %q\nwant %+v", got, s.Error, s.Note, w)
			}
		})
	}
	// Implicit TLS beats STARTTLS; plain text is never recommended.
	if r := res.Recommended.Incoming; r == nil || r.Port != portOf(t, addrs["pop3 tls good"]) {
		t.Errorf("incoming recommendation %+v %v", r, res.Recommended.IncomingWhy)
	}
	if r := res.Recommended.Outgoing; r == nil || r.Port != portOf(t, addrs["smtp starttls good"]) || !strings.Contains(strings.Join(res.Recommended.OutgoingWhy, " "), "STARTTLS") {
		t.Errorf("outgoing recommendation %+v %v", r, res.Recommended.OutgoingWhy)
	}
}

// Without a trusted certificate nothing is recommended, and the reason says
// what to do, rather than recommending a login a client would warn about.
func TestSettingsUntrustedRecommendsNothing(t *testing.T) {
	self := leafCert(t, nil, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	pop := (&fakeServer{proto: "pop3", cert: &self, implicitTLS: true, user: "alice", pass: "pw"}).start(t)
	smtp := (&fakeServer{proto: "smtp", authClear: true, user: "alice", pass: "pw"}).start(t)
	res, err := DiscoverSettings(context.Background(), "alice@example.com", SettingsOptions{
		Resolver: emptyZone(t), Timeout: 5 * time.Second, OnlyExtra: true,
		Extra: []Candidate{{Protocol: "pop3", Host: "127.0.0.1", Port: portOf(t, pop), Security: "tls", Source: "srv"},
			{Protocol: "smtp", Host: "127.0.0.1", Port: portOf(t, smtp), Security: "plain", Source: "srv"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Works() || res.Recommended.Incoming != nil || res.Recommended.Outgoing != nil {
		t.Fatalf("recommended %+v", res.Recommended)
	}
	why := strings.Join(res.Recommended.IncomingWhy, " ")
	if !strings.Contains(why, "self-signed") || !strings.Contains(why, "--ca FILE") {
		t.Errorf("incoming why: %s\n%+v", why, *res.Incoming[0])
	}
	if why := strings.Join(res.Recommended.OutgoingWhy, " "); !strings.Contains(why, "clear-text") {
		t.Errorf("outgoing why: %s", why)
	}
}

func TestParseAutoconfig(t *testing.T) {
	good := fmt.Sprintf(autoconfigXML, 995, 993, 587)
	good = strings.ReplaceAll(good, "127.0.0.1", "pop.%EMAILDOMAIN%")
	ss, err := ParseAutoconfig([]byte(good), "bob@example.org")
	if err != nil || len(ss) != 3 {
		t.Fatalf("%v %v", ss, err)
	}
	if s := ss[0]; s.Protocol != "pop3" || s.Host != "pop.example.org" || s.Port != 995 || s.Security != "tls" || s.Username != "bob" {
		t.Errorf("%+v", s)
	}
	if s := ss[2]; s.Protocol != "smtp" || s.Security != "starttls" || s.Username != "bob@example.org" {
		t.Errorf("%+v", s)
	}
	for name, doc := range map[string]string{
		"truncated":     `<clientConfig><emailProvider>`,
		"not xml":       `{"json": true}`,
		"wrong root":    `<html><body>hello</body></html>`,
		"bad port":      `<clientConfig><emailProvider><incomingServer type="pop3"><hostname>a.test</hostname><port>99999</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`,
		"bad socket":    `<clientConfig><emailProvider><incomingServer type="pop3"><hostname>a.test</hostname><port>995</port><socketType>MAGIC</socketType></incomingServer></emailProvider></clientConfig>`,
		"bad hostname":  `<clientConfig><emailProvider><incomingServer type="pop3"><hostname>a b</hostname><port>995</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>`,
		"smtp as in":    `<clientConfig><emailProvider><incomingServer type="smtp"><hostname>a.test</hostname><port>25</port><socketType>plain</socketType></incomingServer></emailProvider></clientConfig>`,
		"empty":         `<clientConfig/>`,
		"other charset": `<?xml version="1.0" encoding="ISO-8859-1"?><clientConfig/>`,
	} {
		if ss, err := ParseAutoconfig([]byte(doc), "a@b.test"); err == nil {
			t.Errorf("%s: accepted: %+v", name, ss)
		}
	}
}

// The certificate verdict is taken from the session's own chain at the
// discovery's clock: a later date sees it expired, on one connection.
func TestSettingsCertificateClock(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	good := leafCert(t, ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	var n atomic.Int32
	addr := (&fakeServer{proto: "pop3", cert: &good, implicitTLS: true, user: "alice", pass: "pw", accepted: &n}).start(t)
	later := now.Add(100 * 24 * time.Hour)
	res, err := DiscoverSettings(context.Background(), "alice@example.com", SettingsOptions{
		Resolver: emptyZone(t), RootCAs: ca.pool, Timeout: 5 * time.Second, Now: func() time.Time { return later },
		Password: "pw", HavePassword: true, OnlyExtra: true,
		Extra: []Candidate{{Protocol: "pop3", Host: "127.0.0.1", Port: portOf(t, addr), Security: "tls", Source: "srv"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := findSetting(res.Incoming, "pop3", portOf(t, addr), "tls")
	if s == nil {
		t.Fatal("not probed")
	}
	if !s.TLS || s.CertOK || s.Cert == nil || !s.Cert.Expired || !strings.Contains(s.Error, "expired") || s.Login == "ok" {
		t.Errorf("tls %v cert_ok %v login %q error %q cert %+v", s.TLS, s.CertOK, s.Login, s.Error, s.Cert)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}
