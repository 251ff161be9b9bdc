package labdns

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var labPorts = Ports{SMTP: 2525, Submission: 2587, Submissions: 2465, POP3: 2110, POP3S: 2995}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// dkimKey is one key for the whole test binary: RSA generation is slow.
func dkimKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

func labZone(t testing.TB) Zone {
	return Zone{Domain: "postlab.test", Hostname: "mail.postlab.test", IPv4: net.IPv4(127, 0, 0, 1),
		Ports: labPorts, DKIMSelector: "lab", DKIMKey: &dkimKey(t).PublicKey}
}

// start runs s on UDP and TCP on the same 127.0.0.1 port (so dig's TCP
// retry after TC finds it) and shuts it down at the end of the test.
func start(t testing.TB, s *Server) string {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatal(err)
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- s.ServeUDP(pc) }()
	go func() { errc <- s.ServeTCP(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for range 2 {
			if err := <-errc; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		}
	})
	return pc.LocalAddr().String()
}

func query(t testing.TB, addr, netw, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	c := &dns.Client{Net: netw, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", netw, name, dns.TypeToString[qtype], err)
	}
	if r.Id != m.Id || !r.Response {
		t.Fatalf("bad reply header: %v", r.MsgHdr)
	}
	return r
}

// answerTexts renders the answer section's rdata (no owner/TTL) for checks.
func answerTexts(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		f := strings.SplitN(rr.String(), "\t", 5)
		out = append(out, dns.TypeToString[rr.Header().Rrtype]+" "+f[len(f)-1])
	}
	return out
}

func wantOne(t *testing.T, r *dns.Msg, want string) {
	t.Helper()
	got := answerTexts(r)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(got) != 1 || got[0] != want {
		t.Errorf("%s: rcode %s aa %v answer %q, want NOERROR aa [%q]",
			r.Question[0].Name, dns.RcodeToString[r.Rcode], r.Authoritative, got, want)
	}
}

func TestEveryRecord(t *testing.T) {
	s := NewServer(labZone(t))
	addr := start(t, s)
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"postlab.test", dns.TypeNS, "NS ns.postlab.test."},
		{"postlab.test", dns.TypeA, "A 127.0.0.1"},
		{"mail.postlab.test", dns.TypeA, "A 127.0.0.1"},
		{"ns.postlab.test", dns.TypeA, "A 127.0.0.1"},
		{"postlab.test", dns.TypeMX, "MX 10 mail.postlab.test."},
		{"postlab.test", dns.TypeTXT, `TXT "v=spf1 ip4:127.0.0.0/8 mx -all"`},
		{"_dmarc.postlab.test", dns.TypeTXT, `TXT "v=DMARC1; p=reject; rua=mailto:postmaster@postlab.test"`},
		{"_smtp._tls.postlab.test", dns.TypeTXT, `TXT "v=TLSRPTv1; rua=mailto:postmaster@postlab.test"`},
		{"_submission._tcp.postlab.test", dns.TypeSRV, "SRV 0 1 2587 mail.postlab.test."},
		{"_submissions._tcp.postlab.test", dns.TypeSRV, "SRV 0 1 2465 mail.postlab.test."},
		{"_pop3._tcp.postlab.test", dns.TypeSRV, "SRV 0 1 2110 mail.postlab.test."},
		{"_pop3s._tcp.postlab.test", dns.TypeSRV, "SRV 0 1 2995 mail.postlab.test."},
		{"_imap._tcp.postlab.test", dns.TypeSRV, "SRV 0 0 0 ."},
		{"_imaps._tcp.postlab.test", dns.TypeSRV, "SRV 0 0 0 ."},
		{"1.0.0.127.in-addr.arpa", dns.TypePTR, "PTR mail.postlab.test."},
		{"127.in-addr.arpa", dns.TypeNS, "NS ns.postlab.test."},
	} {
		for _, netw := range []string{"udp", "tcp"} {
			wantOne(t, query(t, addr, netw, tc.name, tc.qtype, false), tc.want)
		}
	}
	for _, apex := range []string{"postlab.test.", "127.in-addr.arpa."} {
		r := query(t, addr, "udp", apex, dns.TypeSOA, true)
		soa, ok := r.Answer[0].(*dns.SOA)
		if len(r.Answer) != 1 || !ok || soa.Ns != "ns.postlab.test." || soa.Mbox != "hostmaster.postlab.test." || soa.Serial == 0 || soa.Minttl != 300 {
			t.Errorf("SOA %s: %v", apex, r.Answer)
		}
	}
	// The MX and SRV answers carry the target's address as a hint.
	r := query(t, addr, "udp", "postlab.test", dns.TypeMX, false)
	if len(r.Extra) != 1 || r.Extra[0].String() != "mail.postlab.test.\t300\tIN\tA\t127.0.0.1" {
		t.Errorf("MX additional: %v", r.Extra)
	}
}

func TestDKIMKeyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dkim.pem")
	key, err := LoadOrCreateDKIMKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key has %d bits", key.N.BitLen())
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, err := LoadOrCreateDKIMKey(path)
	if err != nil || !again.Equal(key) {
		t.Fatalf("second load: %v, same key %v", err, err == nil && again.Equal(key))
	}
	z := labZone(t)
	z.DKIMKey = &key.PublicKey
	addr := start(t, NewServer(z))
	for _, netw := range []string{"udp", "tcp"} {
		r := query(t, addr, netw, "LAB._domainkey.postlab.test", dns.TypeTXT, false)
		if len(r.Answer) != 1 || r.Truncated {
			t.Fatalf("%s: answer %v tc %v", netw, r.Answer, r.Truncated)
		}
		txt := r.Answer[0].(*dns.TXT).Txt
		for _, part := range txt {
			if len(part) > 255 {
				t.Errorf("character-string of %d octets", len(part))
			}
		}
		if len(txt) < 2 {
			t.Errorf("a 2048-bit key record should need several strings, got %d", len(txt))
		}
		pub := parseDKIM(t, strings.Join(txt, ""))
		if !key.PublicKey.Equal(pub) {
			t.Errorf("%s: published key differs from the private key's public half", netw)
		}
	}
}

// parseDKIM reads p= from a DKIM key record the way a verifier does.
func parseDKIM(t *testing.T, rec string) *rsa.PublicKey {
	t.Helper()
	tags := map[string]string{}
	for _, kv := range strings.Split(rec, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		tags[k] = v
	}
	if tags["v"] != "DKIM1" || tags["k"] != "rsa" {
		t.Fatalf("record %q lacks v=DKIM1 k=rsa", rec)
	}
	der, err := base64.StdEncoding.DecodeString(tags["p"])
	if err != nil {
		t.Fatalf("p=: %v", err)
	}
	if len(der) == 0 {
		return nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("p=: %v", err)
	}
	return k.(*rsa.PublicKey)
}

func TestDKIMKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateDKIMKey(bad); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("garbage file: %v", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "not a key" {
		t.Errorf("a bad key file was overwritten")
	}
	// A PKCS#8 key written by another tool is accepted.
	der, err := x509.MarshalPKCS8PrivateKey(dkimKey(t))
	if err != nil {
		t.Fatal(err)
	}
	p8 := filepath.Join(dir, "p8.pem")
	os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if k, err := LoadOrCreateDKIMKey(p8); err != nil || !k.Equal(dkimKey(t)) {
		t.Errorf("PKCS#8 key: %v", err)
	}
}

func TestNegativeAnswers(t *testing.T) {
	addr := start(t, NewServer(labZone(t)))
	for _, tc := range []struct {
		name    string
		qtype   uint16
		rcode   int
		aa, soa bool
	}{
		{"nope.postlab.test", dns.TypeA, dns.RcodeNameError, true, true},
		{"deep.nope.postlab.test", dns.TypeMX, dns.RcodeNameError, true, true},
		{"2.0.0.127.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, true, true},
		{"mail.postlab.test", dns.TypeAAAA, dns.RcodeSuccess, true, true},      // NODATA
		{"postlab.test", dns.TypeSRV, dns.RcodeSuccess, true, true},            // NODATA
		{"_tcp.postlab.test", dns.TypeTXT, dns.RcodeSuccess, true, true},       // empty non-terminal
		{"0.0.127.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, true, true},    // empty non-terminal
		{"_mta-sts.postlab.test", dns.TypeTXT, dns.RcodeNameError, true, true}, // no policy to back it
		{"example.com", dns.TypeA, dns.RcodeRefused, false, false},
		{"test", dns.TypeSOA, dns.RcodeRefused, false, false},
		{"xpostlab.test", dns.TypeA, dns.RcodeRefused, false, false},
		{"1.0.0.10.in-addr.arpa", dns.TypePTR, dns.RcodeRefused, false, false},
		{".", dns.TypeNS, dns.RcodeRefused, false, false},
	} {
		r := query(t, addr, "udp", tc.name, tc.qtype, false)
		hasSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
		if r.Rcode != tc.rcode || r.Authoritative != tc.aa || hasSOA != tc.soa || len(r.Answer) != 0 {
			t.Errorf("%s %s: %s aa=%v authority=%v answer=%v", tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[r.Rcode], r.Authoritative, r.Ns, r.Answer)
		}
		if hasSOA && !strings.HasSuffix(tc.name+".", r.Ns[0].Header().Name) {
			t.Errorf("%s: SOA of the wrong zone %s", tc.name, r.Ns[0].Header().Name)
		}
	}
	// Other classes (CHAOS version.bind) are not ours.
	m := new(dns.Msg)
	m.SetQuestion("version.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	r, err := dns.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS: %v %v", r, err)
	}
}

func TestCaseInsensitive(t *testing.T) {
	addr := start(t, NewServer(labZone(t)))
	r := query(t, addr, "udp", "MaIl.PostLAB.tEsT", dns.TypeA, false)
	wantOne(t, r, "A 127.0.0.1")
	if r.Question[0].Name != "MaIl.PostLAB.tEsT." || r.Answer[0].Header().Name != "MaIl.PostLAB.tEsT." {
		t.Errorf("case not preserved: %v %v", r.Question, r.Answer)
	}
	r = query(t, addr, "udp", "NOPE.POSTLAB.TEST", dns.TypeA, false)
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("upper-case miss: %s", dns.RcodeToString[r.Rcode])
	}
}

func TestANYAndAXFR(t *testing.T) {
	s := NewServer(labZone(t))
	addr := start(t, s)
	r := query(t, addr, "udp", "postlab.test", dns.TypeANY, false)
	if h, ok := r.Answer[0].(*dns.HINFO); len(r.Answer) != 1 || !ok || h.Cpu != "RFC8482" {
		t.Errorf("ANY over UDP: %v", r.Answer)
	}
	r = query(t, addr, "tcp", "postlab.test", dns.TypeANY, false)
	types := map[uint16]int{}
	for _, rr := range r.Answer {
		types[rr.Header().Rrtype]++
	}
	if types[dns.TypeSOA] != 1 || types[dns.TypeNS] != 1 || types[dns.TypeA] != 1 || types[dns.TypeMX] != 1 || types[dns.TypeTXT] != 1 {
		t.Errorf("ANY over TCP: %v", r.Answer)
	}
	r = query(t, addr, "udp", "nope.postlab.test", dns.TypeANY, false)
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("ANY on a missing name: %s", dns.RcodeToString[r.Rcode])
	}
	r = query(t, addr, "udp", "_tcp.postlab.test", dns.TypeANY, false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("ANY on an empty non-terminal: %v", r)
	}

	if r := query(t, addr, "udp", "postlab.test", dns.TypeAXFR, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR over UDP: %s", dns.RcodeToString[r.Rcode])
	}
	tr := new(dns.Transfer)
	m := new(dns.Msg)
	m.SetAxfr("postlab.test.")
	env, err := tr.In(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var got []dns.RR
	for e := range env {
		if e.Error != nil {
			t.Fatal(e.Error)
		}
		got = append(got, e.RR...)
	}
	var want int
	for _, rr := range s.Records() {
		if strings.HasSuffix(rr.Header().Name, "postlab.test.") {
			want++
		}
	}
	if len(got) != want+1 || got[0].Header().Rrtype != dns.TypeSOA || got[len(got)-1].Header().Rrtype != dns.TypeSOA {
		t.Errorf("AXFR: %d records, want %d framed by SOA", len(got), want+1)
	}
}

func TestEDNSAndTruncation(t *testing.T) {
	addr := start(t, NewServer(labZone(t)))
	r := query(t, addr, "udp", "postlab.test", dns.TypeA, true)
	if o := r.IsEdns0(); o == nil || o.UDPSize() != ednsSize || o.Version() != 0 {
		t.Errorf("EDNS not echoed: %v", r.Extra)
	}
	if r := query(t, addr, "udp", "postlab.test", dns.TypeA, false); r.IsEdns0() != nil {
		t.Errorf("OPT in a reply to a query without one")
	}
	m := new(dns.Msg)
	m.SetQuestion("postlab.test.", dns.TypeA)
	m.SetEdns0(1232, true)
	m.IsEdns0().SetVersion(1)
	r, err := dns.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil || len(r.Answer) != 0 {
		t.Errorf("EDNS version 1: %v %v", r, err)
	}
	m.IsEdns0().SetVersion(0)
	if r, err = dns.Exchange(m, addr); err != nil || !r.IsEdns0().Do() {
		t.Errorf("DO bit not echoed: %v %v", r, err)
	}

	// A 4096-bit DKIM key does not fit 512 octets.
	block, _ := pem.Decode(mustRead(t, "testdata/rsa4096.pub.pem"))
	big, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	z := labZone(t)
	z.DKIMKey = big.(*rsa.PublicKey)
	addr = start(t, NewServer(z))
	name := "lab._domainkey.postlab.test"
	r = query(t, addr, "udp", name, dns.TypeTXT, false)
	if !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("512-octet UDP: tc=%v answer=%d", r.Truncated, len(r.Answer))
	}
	r = query(t, addr, "udp", name, dns.TypeTXT, true)
	if r.Truncated || len(r.Answer) != 1 || r.Len() > ednsSize {
		t.Errorf("EDNS 1232 UDP: tc=%v answer=%d len=%d", r.Truncated, len(r.Answer), r.Len())
	}
	r = query(t, addr, "tcp", name, dns.TypeTXT, false)
	if r.Truncated || len(r.Answer) != 1 {
		t.Errorf("TCP: tc=%v answer=%d", r.Truncated, len(r.Answer))
	}
	if pub := parseDKIM(t, strings.Join(r.Answer[0].(*dns.TXT).Txt, "")); !pub.Equal(big) {
		t.Errorf("4096-bit key did not round-trip")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSRVFollowsPorts(t *testing.T) {
	z := labZone(t)
	z.Ports = Ports{SMTP: 0, Submission: 587, Submissions: 0, POP3: 0, POP3S: 995}
	addr := start(t, NewServer(z))
	for name, want := range map[string]string{
		"_submission._tcp.postlab.test":  "SRV 0 1 587 mail.postlab.test.",
		"_submissions._tcp.postlab.test": "SRV 0 0 0 .",
		"_pop3._tcp.postlab.test":        "SRV 0 0 0 .",
		"_pop3s._tcp.postlab.test":       "SRV 0 1 995 mail.postlab.test.",
	} {
		wantOne(t, query(t, addr, "udp", name, dns.TypeSRV, false), want)
	}
	// No SMTP listener: a null MX says the domain takes no mail (RFC 7505).
	wantOne(t, query(t, addr, "udp", "postlab.test", dns.TypeMX, false), "MX 0 .")
}

func TestOtherDomainAndAddress(t *testing.T) {
	z := Zone{Domain: "Class.Example.", IPv4: net.IPv4(10, 1, 2, 3), Ports: labPorts}
	addr := start(t, NewServer(z))
	wantOne(t, query(t, addr, "udp", "mail.class.example", dns.TypeA, false), "A 10.1.2.3")
	wantOne(t, query(t, addr, "udp", "class.example", dns.TypeTXT, false), `TXT "v=spf1 ip4:10.1.2.3 mx -all"`)
	wantOne(t, query(t, addr, "udp", "3.2.1.10.in-addr.arpa", dns.TypePTR, false), "PTR mail.class.example.")
	if r := query(t, addr, "udp", "lab._domainkey.class.example", dns.TypeTXT, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("no key given, yet the selector answers %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, addr, "udp", "postlab.test", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("postlab.test served by a class.example lab")
	}
}

func TestZoneTextAndRecords(t *testing.T) {
	s := NewServer(labZone(t))
	text := s.ZoneText()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if !strings.HasPrefix(lines[0], "; zone postlab.test.") || !strings.Contains(lines[1], "\tSOA\t") || !strings.Contains(lines[2], "\tNS\t") {
		t.Errorf("zone text does not start with the zone's SOA and NS:\n%s", text)
	}
	var parsed []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		parsed = append(parsed, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone text does not parse: %v", err)
	}
	recs := s.Records()
	if len(parsed) != len(recs) {
		t.Fatalf("%d parsed records, %d served", len(parsed), len(recs))
	}
	for i := range recs {
		if !dns.IsDuplicate(parsed[i], recs[i]) {
			t.Errorf("record %d: text %v, served %v", i, parsed[i], recs[i])
		}
	}
	// Records returns copies: changing them changes nothing served.
	recs[0].Header().Name = "evil."
	if s.Records()[0].Header().Name != "postlab.test." {
		t.Errorf("Records exposes the server's own records")
	}
	if NewServer(labZone(t)).ZoneText() != text {
		t.Errorf("zone text is not deterministic")
	}
}

// fakeWriter captures replies for direct ServeDNS calls.
type fakeWriter struct {
	remote net.Addr
	msgs   []*dns.Msg
}

func (w *fakeWriter) LocalAddr() net.Addr         { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (w *fakeWriter) RemoteAddr() net.Addr        { return w.remote }
func (w *fakeWriter) WriteMsg(m *dns.Msg) error   { w.msgs = append(w.msgs, m); return nil }
func (w *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *fakeWriter) Close() error                { return nil }
func (w *fakeWriter) TsigStatus() error           { return nil }
func (w *fakeWriter) TsigTimersOnly(bool)         {}
func (w *fakeWriter) Hijack()                     {}

func TestOddMessages(t *testing.T) {
	var traced []string
	z := labZone(t)
	z.Trace = func(remote string, q dns.Question, rcode int) {
		traced = append(traced, remote+" "+q.Name+" "+dns.RcodeToString[rcode])
	}
	s := NewServer(z)
	udp := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5353}
	for _, tc := range []struct {
		name  string
		m     *dns.Msg
		rcode int // -1: no reply
	}{
		{"no question", &dns.Msg{}, dns.RcodeFormatError},
		{"two questions", &dns.Msg{Question: []dns.Question{{Name: "a.postlab.test.", Qtype: 1, Qclass: 1}, {Name: "b.postlab.test.", Qtype: 1, Qclass: 1}}}, dns.RcodeFormatError},
		{"update", &dns.Msg{MsgHdr: dns.MsgHdr{Opcode: dns.OpcodeUpdate}, Question: []dns.Question{{Name: "postlab.test.", Qtype: dns.TypeSOA, Qclass: 1}}}, dns.RcodeNotImplemented},
		{"notify", &dns.Msg{MsgHdr: dns.MsgHdr{Opcode: dns.OpcodeNotify}, Question: []dns.Question{{Name: "postlab.test.", Qtype: dns.TypeSOA, Qclass: 1}}}, dns.RcodeNotImplemented},
		{"response", &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Question: []dns.Question{{Name: "postlab.test.", Qtype: 1, Qclass: 1}}}, -1},
		{"two OPT", &dns.Msg{Question: []dns.Question{{Name: "postlab.test.", Qtype: 1, Qclass: 1}}, Extra: []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}}}, dns.RcodeFormatError},
		{"not a name", &dns.Msg{Question: []dns.Question{{Name: "", Qtype: 1, Qclass: 1}}}, dns.RcodeRefused},
	} {
		w := &fakeWriter{remote: udp}
		s.ServeDNS(w, tc.m)
		if tc.rcode < 0 {
			if len(w.msgs) != 0 {
				t.Errorf("%s: answered %v", tc.name, w.msgs)
			}
			continue
		}
		if len(w.msgs) != 1 || w.msgs[0].Rcode != tc.rcode {
			t.Errorf("%s: got %v, want rcode %s", tc.name, w.msgs, dns.RcodeToString[tc.rcode])
			continue
		}
		if _, err := w.msgs[0].Pack(); err != nil {
			t.Errorf("%s: reply does not pack: %v", tc.name, err)
		}
	}
	s.ServeDNS(nil, nil)
	s.ServeDNS(&fakeWriter{}, &dns.Msg{Question: []dns.Question{{Name: "postlab.test.", Qtype: 1, Qclass: 1}}})
	want := "127.0.0.9:5353 a.postlab.test. FORMERR"
	if len(traced) != 7 || traced[1] != want || !strings.HasSuffix(traced[6], " postlab.test. NOERROR") {
		t.Errorf("trace: %q", traced)
	}

	// Garbage on the wire: the server stays up and keeps answering.
	addr := start(t, NewServer(labZone(t)))
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, junk := range [][]byte{{}, {1}, make([]byte, 12), []byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"), make([]byte, 3000)} {
		c.Write(junk)
	}
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte{0xff, 0xff, 1, 2, 3})
	tc.Close()
	wantOne(t, query(t, addr, "udp", "mail.postlab.test", dns.TypeA, false), "A 127.0.0.1")
}

func TestShutdown(t *testing.T) {
	s := NewServer(labZone(t))
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown before serving: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := s.ServeUDP(pc); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServeUDP after Shutdown: %v", err)
	}
	if _, err := pc.WriteTo([]byte{0}, pc.LocalAddr()); err == nil {
		t.Errorf("ServeUDP after Shutdown left the socket open")
	}
	// Shutdown racing with a fresh ServeTCP still stops it.
	s = NewServer(labZone(t))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTCP(l) }()
	query(t, l.Addr().String(), "tcp", "postlab.test", dns.TypeA, false)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServeTCP: %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Errorf("listener still accepting after Shutdown")
	}
}

func TestTruncateKeepsAnswerWithoutHints(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("postlab.test.", dns.TypeMX)
	m.Answer = []dns.RR{&dns.MX{Hdr: hdr("postlab.test.", dns.TypeMX), Preference: 10, Mx: "mail.postlab.test."}}
	for i := range 40 {
		m.Extra = append(m.Extra, &dns.A{Hdr: hdr("mail.postlab.test.", dns.TypeA), A: net.IPv4(127, 0, 0, byte(i))})
	}
	truncate(m, 512)
	if m.Truncated || len(m.Answer) != 1 || len(m.Extra) == 40 || m.Len() > 512 {
		t.Errorf("tc=%v answer=%d extra=%d len=%d", m.Truncated, len(m.Answer), len(m.Extra), m.Len())
	}
}
