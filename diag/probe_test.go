package diag

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"postlab/explorer"
)

const probeHost = "mx.example.com"

// probeOne runs ProbeServers against one fake server on 127.0.0.1.
func probeOne(t *testing.T, addr, service string, zoneText string, opts ProbeOptions) (*Probe, []Finding) {
	t.Helper()
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	z := newTestZone(t, strings.ReplaceAll(`
1.0.0.127.in-addr.arpa. PTR mx.test.
mx.test. A 127.0.0.1
`+zoneText, "PORT", portStr))
	z.adUnder = []string{"example.com."}
	opts.Resolver = testClient(z.start(t))
	opts.Ports = map[string]int{service: port}
	opts.Domain = "example.com"
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	mx := &MXResult{Domain: "example.com", Hosts: []MXHost{{Preference: 10, Host: probeHost,
		Addresses: []MXAddress{{IP: netip.MustParseAddr("127.0.0.1")}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, fs := ProbeServers(ctx, mx, opts)
	if len(ps) != 1 {
		t.Fatalf("%d probes, want 1", len(ps))
	}
	return ps[0], fs
}

// statuses maps each check to its statuses in order, e.g. "fail" or "pass,warn".
func statuses(fs []Finding) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		if m[f.Check] != "" {
			m[f.Check] += ","
		}
		m[f.Check] += string(f.Status)
	}
	return m
}

func spkiTLSA(c tls.Certificate) string {
	s := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}

func TestProbeSMTPCombinations(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	good := leafCert(t, ca, []string{probeHost}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	expired := leafCert(t, ca, []string{probeHost}, now.Add(-90*24*time.Hour), now.Add(-24*time.Hour))
	soon := leafCert(t, ca, []string{probeHost}, now.Add(-time.Hour), now.Add(5*24*time.Hour))
	self := leafCert(t, nil, []string{probeHost}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	other := leafCert(t, ca, []string{"other.example.net"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	enforce := &MTASTSPolicy{Version: "STSv1", Mode: "enforce", MaxAge: 86400, MX: []string{"*.example.com"}}

	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		ln.Close()
		return a
	}()

	tests := []struct {
		name    string
		srv     *fakeServer
		addr    string
		service string
		zone    string
		opts    ProbeOptions
		want    map[string]string
	}{
		{name: "good with DANE and MTA-STS", srv: &fakeServer{proto: "smtp", cert: &good, banner: "mx.test"},
			zone: "_PORT._tcp." + probeHost + ". TLSA 3 1 1 " + spkiTLSA(good),
			opts: ProbeOptions{RootCAs: ca.pool, MTASTS: enforce, RelayTest: true},
			want: map[string]string{"smtp.connect": "pass", "smtp.banner": "pass", "smtp.ehlo": "info", "tls.starttls": "pass", "tls.version": "pass",
				"tls.chain": "pass", "tls.name": "pass", "tls.expiry": "pass", "tls.dane": "pass", "tls.mta-sts": "pass",
				"smtp.size": "warn", "smtp.vrfy": "pass", "smtp.transaction": "pass", "smtp.relay": "pass"}},
		{name: "DANE mismatch", srv: &fakeServer{proto: "smtp", cert: &good, banner: "mx.test"},
			zone: "_PORT._tcp." + probeHost + ". TLSA 3 1 1 " + spkiTLSA(other),
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.chain": "pass", "tls.dane": "fail"}},
		{name: "expired", srv: &fakeServer{proto: "smtp", cert: &expired, banner: "mail.elsewhere.test"},
			opts: ProbeOptions{RootCAs: ca.pool, MTASTS: enforce},
			want: map[string]string{"tls.expiry": "fail", "tls.chain": "warn", "tls.mta-sts": "fail", "smtp.banner": "warn"}},
		{name: "expires soon", srv: &fakeServer{proto: "smtp", cert: &soon},
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.expiry": "warn", "tls.chain": "pass"}},
		{name: "self-signed", srv: &fakeServer{proto: "smtp", cert: &self},
			opts: ProbeOptions{RootCAs: ca.pool, MTASTS: enforce},
			want: map[string]string{"tls.chain": "warn", "tls.name": "pass", "tls.mta-sts": "fail"}},
		{name: "self-signed submission", srv: &fakeServer{proto: "smtp", cert: &self}, service: "submission",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.chain": "fail", "submission.auth": "pass"}},
		{name: "other name", srv: &fakeServer{proto: "smtp", cert: &other},
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.name": "warn", "tls.chain": "pass"}},
		{name: "STARTTLS handshake fails", srv: &fakeServer{proto: "smtp", cert: &good, tlsFail: true},
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.starttls": "fail", "tls.chain": "", "smtp.transaction": "pass"}},
		{name: "STARTTLS refused with 454", srv: &fakeServer{proto: "smtp", cert: &good, refuseTLS: true},
			want: map[string]string{"tls.starttls": "fail", "smtp.transaction": "pass", "smtp.vrfy": "pass"}},
		{name: "no STARTTLS with TLSA", srv: &fakeServer{proto: "smtp"},
			zone: "_PORT._tcp." + probeHost + ". TLSA 3 1 1 " + spkiTLSA(good),
			want: map[string]string{"tls.starttls": "fail", "tls.dane": ""}},
		{name: "no STARTTLS without policy", srv: &fakeServer{proto: "smtp"},
			want: map[string]string{"tls.starttls": "warn"}},
		{name: "no STARTTLS", srv: &fakeServer{proto: "smtp"},
			opts: ProbeOptions{MTASTS: enforce},
			want: map[string]string{"tls.starttls": "fail", "smtp.transaction": "pass"}},
		{name: "HELO only, VRFY exposed, open relay", srv: &fakeServer{proto: "smtp", noEHLO: true, vrfy: true, openRelay: true},
			opts: ProbeOptions{RelayTest: true},
			want: map[string]string{"smtp.ehlo": "warn", "smtp.vrfy": "warn", "smtp.relay": "fail", "tls.starttls": ""}},
		{name: "submission AUTH in clear", srv: &fakeServer{proto: "smtp", authClear: true}, service: "submission",
			want: map[string]string{"tls.starttls": "fail", "submission.auth": "fail"}},
		{name: "accepts and never speaks", srv: &fakeServer{silent: true},
			opts: ProbeOptions{Timeout: 300 * time.Millisecond},
			want: map[string]string{"smtp.banner": "fail", "smtp.connect": ""}},
		{name: "closed port", addr: closed,
			want: map[string]string{"smtp.connect": "fail", "smtp.banner": ""}},
		{name: "pop3 STLS", srv: &fakeServer{proto: "pop3", cert: &good}, service: "pop3",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"pop3.connect": "pass", "tls.starttls": "pass", "tls.chain": "pass", "pop3.capa": "info", "pop3.auth": ""}},
		{name: "pop3 login before STLS", srv: &fakeServer{proto: "pop3", cert: &good, authClear: true}, service: "pop3",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"pop3.auth": "warn", "tls.chain": "pass"}},
		{name: "pop3 STLS handshake fails", srv: &fakeServer{proto: "pop3", cert: &good, tlsFail: true}, service: "pop3",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.starttls": "fail", "tls.chain": ""}},
		{name: "pop3 without STLS", srv: &fakeServer{proto: "pop3"}, service: "pop3",
			want: map[string]string{"tls.starttls": "fail"}},
		{name: "pop3s expired", srv: &fakeServer{proto: "pop3", cert: &expired, implicitTLS: true}, service: "pop3s",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.expiry": "fail", "tls.chain": "fail"}},
		{name: "submissions", srv: &fakeServer{proto: "smtp", cert: &good, implicitTLS: true}, service: "submissions",
			opts: ProbeOptions{RootCAs: ca.pool},
			want: map[string]string{"tls.chain": "pass", "submission.auth": "pass"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if tc.srv != nil {
				addr = tc.srv.start(t)
			}
			svc := tc.service
			if svc == "" {
				svc = "smtp"
			}
			p, fs := probeOne(t, addr, svc, tc.zone, tc.opts)
			got := statuses(fs)
			for check, want := range tc.want {
				if got[check] != want {
					t.Errorf("%s = %q, want %q", check, got[check], want)
				}
			}
			if t.Failed() {
				for _, f := range fs {
					t.Logf("%s %s: %s", f.Check, f.Status, f.Summary)
				}
			}
			if len(p.Trace) == 0 || p.Trace[0].Dir != explorer.Local {
				t.Errorf("trace missing or not starting with the connection note: %d events", len(p.Trace))
			}
			for _, ev := range p.Trace {
				if ev.Dir == explorer.ClientToServer && strings.HasPrefix(ev.Line, "DATA") {
					t.Errorf("the probe sent DATA")
				}
			}
		})
	}
}

func TestProbeRecordsFacts(t *testing.T) {
	ca := newTestCA(t)
	good := leafCert(t, ca, []string{probeHost}, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	addr := (&fakeServer{proto: "smtp", cert: &good, banner: "mx.test", openRelay: true}).start(t)
	p, _ := probeOne(t, addr, "smtp", "_PORT._tcp."+probeHost+". TLSA 3 1 1 "+spkiTLSA(good), ProbeOptions{RootCAs: ca.pool, RelayTest: true})
	if p.Banner != "220 mx.test ESMTP fake" || p.BannerHost != "mx.test" || !p.StartTLS || p.Size != 10240000 {
		t.Errorf("banner %q host %q starttls %v size %d", p.Banner, p.BannerHost, p.StartTLS, p.Size)
	}
	if p.TLS == nil || !p.TLS.Cert.Verified || p.TLS.DANE != "match" || p.TLS.Version == "" {
		t.Fatalf("tls %+v", p.TLS)
	}
	if p.TransactionMS == nil {
		t.Errorf("transaction time not recorded")
	}
	if p.OpenRelay == nil || !*p.OpenRelay {
		t.Errorf("open relay not recorded")
	}
	if fmt.Sprint(p.AuthMechs) != "[PLAIN]" {
		t.Errorf("auth after TLS %v", p.AuthMechs)
	}
	var sawQuit, sawEhloTwice int
	for _, ev := range p.Trace {
		if ev.Dir == explorer.ClientToServer && ev.Line == "QUIT" {
			sawQuit++
		}
		if ev.Dir == explorer.ClientToServer && strings.HasPrefix(ev.Line, "EHLO") {
			sawEhloTwice++
		}
	}
	if sawQuit != 1 || sawEhloTwice != 2 {
		t.Errorf("QUIT %d times, EHLO %d times (want 1 and 2: again after STARTTLS, RFC 3207 §4.2)", sawQuit, sawEhloTwice)
	}
}

func TestParsePorts(t *testing.T) {
	m, err := ParsePorts([]string{"smtp=2525,submission=2587", "pop3s"})
	if err != nil || m["smtp"] != 2525 || m["submission"] != 2587 || m["pop3s"] != 995 || len(m) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"imap=143", "smtp=0", "smtp=x", "smtp=70000"} {
		if _, err := ParsePorts([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every check of a port's TLS (chain, name, expiry, DANE, MTA-STS) reads
// the certificate of the probe's own session: one connection per port.
func TestProbeOneConnectionPerPort(t *testing.T) {
	ca, otherCA := newTestCA(t), newTestCA(t)
	now := time.Now()
	good := leafCert(t, ca, []string{probeHost}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	expired := leafCert(t, ca, []string{probeHost}, now.Add(-90*24*time.Hour), now.Add(-24*time.Hour))
	other := leafCert(t, ca, []string{"other.example.net"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	enforce := &MTASTSPolicy{Version: "STSv1", Mode: "enforce", MaxAge: 86400, MX: []string{probeHost}}

	tests := []struct {
		name    string
		srv     fakeServer
		service string
		tlsa    string // the TLSA record's data at _PORT._tcp
		opts    ProbeOptions
		dane    string // ProbeTLS.DANE
		want    map[string]string
	}{
		{name: "DANE-EE 3 1 1 match", srv: fakeServer{proto: "smtp", cert: &good}, tlsa: "3 1 1 " + spkiTLSA(good),
			opts: ProbeOptions{RootCAs: ca.pool, MTASTS: enforce}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.chain": "pass", "tls.name": "pass", "tls.expiry": "pass", "tls.mta-sts": "pass"}},
		{name: "DANE-EE 3 1 1 mismatch", srv: fakeServer{proto: "smtp", cert: &good}, tlsa: "3 1 1 " + spkiTLSA(other),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "no match",
			want: map[string]string{"tls.dane": "fail", "tls.chain": "pass"}},
		{name: "DANE-TA 2 0 1 match", srv: fakeServer{proto: "smtp", cert: &good}, tlsa: "2 0 1 " + sum(ca.cert.Raw),
			dane: "match", // no --ca: PKIX fails, DANE-TA still matches
			want: map[string]string{"tls.dane": "pass", "tls.chain": "warn"}},
		{name: "DANE-TA 2 0 1 other CA", srv: fakeServer{proto: "smtp", cert: &good}, tlsa: "2 0 1 " + sum(otherCA.cert.Raw),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "no match",
			want: map[string]string{"tls.dane": "fail", "tls.chain": "pass"}},
		{name: "DANE-TA 2 1 1 wrong name", srv: fakeServer{proto: "smtp", cert: &other}, tlsa: "2 1 1 " + sum(ca.cert.RawSubjectPublicKeyInfo),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "no match",
			want: map[string]string{"tls.dane": "fail", "tls.name": "warn", "tls.chain": "pass"}},
		{name: "DANE-EE ignores expiry", srv: fakeServer{proto: "smtp", cert: &expired}, tlsa: "3 1 1 " + spkiTLSA(expired),
			opts: ProbeOptions{RootCAs: ca.pool, MTASTS: enforce}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.expiry": "fail", "tls.chain": "warn", "tls.mta-sts": "fail"}},
		{name: "DANE-EE ignores the name", srv: fakeServer{proto: "smtp", cert: &other}, tlsa: "3 1 1 " + spkiTLSA(other),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.name": "warn", "tls.chain": "pass"}},
		{name: "submission STARTTLS", srv: fakeServer{proto: "smtp", cert: &good}, service: "submission", tlsa: "3 1 1 " + spkiTLSA(good),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.chain": "pass", "submission.auth": "pass"}},
		{name: "submissions", srv: fakeServer{proto: "smtp", cert: &good, implicitTLS: true}, service: "submissions", tlsa: "3 1 1 " + spkiTLSA(good),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.chain": "pass"}},
		{name: "pop3 STLS", srv: fakeServer{proto: "pop3", cert: &good}, service: "pop3", tlsa: "3 0 1 " + sum(good.Leaf.Raw),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "match",
			want: map[string]string{"tls.dane": "pass", "tls.chain": "pass"}},
		{name: "pop3s expired", srv: fakeServer{proto: "pop3", cert: &expired, implicitTLS: true}, service: "pop3s", tlsa: "3 1 1 " + spkiTLSA(good),
			opts: ProbeOptions{RootCAs: ca.pool}, dane: "no match",
			want: map[string]string{"tls.dane": "fail", "tls.expiry": "fail", "tls.chain": "fail"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			tc.srv.accepted = &n
			svc := tc.service
			if svc == "" {
				svc = "smtp"
			}
			p, fs := probeOne(t, tc.srv.start(t), svc, "_PORT._tcp."+probeHost+". TLSA "+tc.tlsa, tc.opts)
			// The fake greets only after Accept, and the probe waits for
			// the greeting: every connection it used is counted by now.
			if got := n.Load(); got != 1 {
				t.Errorf("%d connections to the server, want 1", got)
			}
			got := statuses(fs)
			for check, want := range tc.want {
				if got[check] != want {
					t.Errorf("%s = %q, want %q", check, got[check], want)
				}
			}
			if p.TLS == nil || p.TLS.DANE != tc.dane {
				t.Fatalf("tls %+v, want DANE %q", p.TLS, tc.dane)
			}
			leaf := tc.srv.cert.Leaf
			for _, f := range fs {
				if f.Check == "tls.dane" && !strings.Contains(f.Detail, TLSARecordFor(leaf)+" is the record for") {
					t.Errorf("DANE detail does not give the record for the presented key:\n%s", f.Detail)
				}
			}
			if t.Failed() {
				for _, f := range fs {
					t.Logf("%s %s: %s\n%s", f.Check, f.Status, f.Summary, f.Detail)
				}
			}
		})
	}
}

// The certificate verdicts follow the probe's clock, on the session's
// chain: a report for a later date sees the certificate expired.
func TestProbeCertificateClock(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	good := leafCert(t, ca, []string{probeHost}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	addr := (&fakeServer{proto: "smtp", cert: &good}).start(t)
	later := now.Add(100 * 24 * time.Hour)
	p, fs := probeOne(t, addr, "smtp", "", ProbeOptions{RootCAs: ca.pool, Now: func() time.Time { return later }})
	got := statuses(fs)
	if got["tls.expiry"] != "fail" || got["tls.chain"] != "warn" {
		t.Errorf("expiry %q chain %q, want fail and warn", got["tls.expiry"], got["tls.chain"])
	}
	if p.TLS == nil || p.TLS.Cert.Verified || !p.TLS.Cert.Expired || !strings.Contains(p.TLS.Cert.VerifyError, "expired") {
		t.Errorf("certificate %+v", p.TLS)
	}
}
