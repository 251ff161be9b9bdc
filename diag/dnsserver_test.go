package diag

import (
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone is a tiny authoritative-and-recursive DNS server for tests: it
// answers from zone-file text, follows CNAMEs inside its data, tells NXDOMAIN
// from NODATA (empty non-terminals exist), and can be made slow, failing,
// DNSSEC-validating or truncating.
type testZone struct {
	mu        sync.Mutex
	rrs       map[string]map[uint16][]dns.RR
	names     map[string]bool
	servfail  map[string]bool // names answered with SERVFAIL
	adUnder   []string        // answers for names under these get AD
	delay     time.Duration   // added to every answer (under slowUnder, when set)
	slowUnder string
	truncate  int // UDP answers with more records than this get TC
	queries   atomic.Int64
	tcp       atomic.Int64
}

func newTestZone(t testing.TB, texts ...string) *testZone {
	t.Helper()
	z := &testZone{rrs: map[string]map[uint16][]dns.RR{}, names: map[string]bool{}, servfail: map[string]bool{}}
	for _, text := range texts {
		zp := dns.NewZoneParser(strings.NewReader("$TTL 3600\n"+text), ".", "")
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			z.add(rr)
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("zone: %v", err)
		}
	}
	return z
}

func loadTestZone(t testing.TB, files ...string) *testZone {
	t.Helper()
	var texts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	return newTestZone(t, texts...)
}

// canonName gives one spelling for a name however its bytes were escaped.
func canonName(name string) string {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return strings.ToLower(name)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return strings.ToLower(name)
	}
	return strings.ToLower(out)
}

func (z *testZone) add(rr dns.RR) {
	name := canonName(rr.Header().Name)
	if z.rrs[name] == nil {
		z.rrs[name] = map[uint16][]dns.RR{}
	}
	z.rrs[name][rr.Header().Rrtype] = append(z.rrs[name][rr.Header().Rrtype], rr)
	for n := name; n != "."; {
		z.names[n] = true
		i := strings.IndexByte(n, '.')
		n = n[i+1:]
		if n == "" {
			break
		}
	}
}

func (z *testZone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z.queries.Add(1)
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		z.tcp.Add(1)
	}
	if z.delay > 0 && (z.slowUnder == "" || len(req.Question) == 1 && dns.IsSubDomain(z.slowUnder, strings.ToLower(req.Question[0].Name))) {
		time.Sleep(z.delay)
	}
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(1232, opt.Do())
	}
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	name := canonName(q.Name)
	z.mu.Lock()
	for hops := 0; hops < 8; hops++ {
		if z.servfail[name] {
			resp.Rcode = dns.RcodeServerFailure
			break
		}
		node := z.rrs[name]
		if c := node[dns.TypeCNAME]; len(c) > 0 && q.Qtype != dns.TypeCNAME {
			resp.Answer = append(resp.Answer, c[0])
			name = canonName(c[0].(*dns.CNAME).Target)
			continue
		}
		resp.Answer = append(resp.Answer, node[q.Qtype]...)
		if !z.names[name] {
			resp.Rcode = dns.RcodeNameError
		}
		break
	}
	for _, s := range z.adUnder {
		if dns.IsSubDomain(s, name) {
			resp.AuthenticatedData = true
		}
	}
	z.mu.Unlock()
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		if z.truncate > 0 && len(resp.Answer) > z.truncate {
			resp.Answer = resp.Answer[:z.truncate]
			resp.Truncated = true
		}
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size) // sets TC when the answer does not fit (RFC 2181 §9)
	}
	w.WriteMsg(resp)
}

// start serves z on 127.0.0.1 over UDP and TCP on one port and returns the address.
func (z *testZone) start(t testing.TB) string {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i > 20 {
			t.Fatal(err)
		}
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: z}, {Listener: ln, Handler: z}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { s.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// testClient returns a Client for the server at addr with short timeouts.
func testClient(addr string) *Client {
	return &Client{Servers: []string{addr}, Timeout: 2 * time.Second, Retries: 1}
}
