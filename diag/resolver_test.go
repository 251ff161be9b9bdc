package diag

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestClientTCPFallbackOnTruncation(t *testing.T) {
	z := newTestZone(t, `
big.test. A 192.0.2.1
big.test. A 192.0.2.2
big.test. A 192.0.2.3
big.test. A 192.0.2.4
`)
	z.truncate = 2
	c := testClient(z.start(t))
	var trace bytes.Buffer
	c.Trace = &trace
	ans, err := c.Exchange(context.Background(), "big.test", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if !ans.TCP || len(ans.Records(dns.TypeA)) != 4 || z.tcp.Load() != 1 {
		t.Fatalf("TCP=%v, %d records, %d TCP queries", ans.TCP, len(ans.Records(dns.TypeA)), z.tcp.Load())
	}
	for _, want := range []string{"Truncated, retrying in TCP mode", ";; QUESTION SECTION:", ";; ANSWER SECTION:", "big.test.\t3600\tIN\tA\t192.0.2.4", "(TCP)", "flags: qr", "; EDNS: version 0; flags: do"} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, trace.String())
		}
	}
}

func TestClientReportsADAndRcodes(t *testing.T) {
	z := newTestZone(t, "signed.test. TXT \"x\"\nplain.test. TXT \"y\"\n")
	z.adUnder = []string{"signed.test."}
	z.servfail["broken.test."] = true
	c := testClient(z.start(t))
	ctx := context.Background()
	if a, err := c.Exchange(ctx, "signed.test", dns.TypeTXT); err != nil || !a.AD {
		t.Errorf("signed: %+v %v", a, err)
	}
	if a, err := c.Exchange(ctx, "plain.test", dns.TypeTXT); err != nil || a.AD {
		t.Errorf("plain: %+v %v", a, err)
	}
	if a, err := c.Exchange(ctx, "nope.test", dns.TypeTXT); err != nil || !a.NXDomain() {
		t.Errorf("nope: %+v %v", a, err)
	}
	if a, err := c.Exchange(ctx, "plain.test", dns.TypeMX); err != nil || a.Rcode != dns.RcodeSuccess || len(a.Msg.Answer) != 0 {
		t.Errorf("NODATA: %+v %v", a, err)
	}
	_, err := c.Exchange(ctx, "broken.test", dns.TypeTXT)
	var de *DNSError
	if !errors.As(err, &de) || de.Rcode != dns.RcodeServerFailure || de.Unreachable() {
		t.Errorf("broken: %v", err)
	}
}

// silentServer reads UDP queries and never answers.
func silentServer(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

func TestClientRetriesNextServer(t *testing.T) {
	z := newTestZone(t, "ok.test. A 192.0.2.1\n")
	good := z.start(t)
	c := &Client{Servers: []string{silentServer(t), good}, Timeout: 200 * time.Millisecond, Retries: 1}
	a, err := c.Exchange(context.Background(), "ok.test", dns.TypeA)
	if err != nil || a.Server != good {
		t.Fatalf("answer %+v, %v; want one from %s", a, err, good)
	}
}

func TestClientUnreachable(t *testing.T) {
	c := &Client{Servers: []string{silentServer(t)}, Timeout: 100 * time.Millisecond, Retries: 2}
	_, err := c.Exchange(context.Background(), "ok.test", dns.TypeA)
	var de *DNSError
	if !errors.As(err, &de) || !de.Unreachable() {
		t.Fatalf("err = %v, want an unreachable DNSError", err)
	}
}

func TestNewClientAddresses(t *testing.T) {
	// Host names go to the system resolver: a fake one here.
	saved := LookupResolverHost
	defer func() { LookupResolverHost = saved }()
	LookupResolverHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "dns.example":
			return []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.53")}, nil
		case "v6.example":
			return []netip.Addr{netip.MustParseAddr("2001:db8::53")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	for in, want := range map[string]string{"127.0.0.1:2553": "127.0.0.1:2553", "192.0.2.1": "192.0.2.1:53", "::1": "[::1]:53",
		"[2001:db8::1]:5353": "[2001:db8::1]:5353", "[::1]": "[::1]:53", "dns.example": "192.0.2.53:53", "dns.example:5353": "192.0.2.53:5353",
		"v6.example:54": "[2001:db8::53]:54"} {
		c, err := NewClient(in)
		if err != nil || c.Name() != want {
			t.Errorf("NewClient(%q) = %v, %v; want %s", in, c, err, want)
		}
	}
	for bad, why := range map[string]string{"a:b:c": "not an address", ":53": "not an IP address or a host name", "host:": `"" is not a port number`,
		"127.0.0.1:99999": "not a port number", "127.0.0.1:0": "port 0", "nonsense": `host name "nonsense" does not resolve: no such host`,
		"no such.example": "not an IP address or a host name", "http://x": "not a port number", "dns.example:dns": "not a port number"} {
		_, err := NewClient(bad)
		var re *ResolverAddrError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "e.g. --resolver 127.0.0.1:2553") {
			t.Errorf("NewClient(%q) = %v; want a ResolverAddrError saying %q", bad, err, why)
		}
	}
}

func TestCacheSharesQueries(t *testing.T) {
	z := newTestZone(t, "once.test. A 192.0.2.1\n")
	z.delay = 20 * time.Millisecond
	c := newCache(testClient(z.start(t)))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if addrs, _, err := lookupAddrs(context.Background(), c, "ONCE.test.", dns.TypeA); err != nil || len(addrs) != 1 {
				t.Errorf("lookup: %v %v", addrs, err)
			}
		}()
	}
	wg.Wait()
	if n := z.queries.Load(); n != 1 {
		t.Fatalf("%d queries reached the server, want 1", n)
	}
}

func TestLookupHelpers(t *testing.T) {
	z := newTestZone(t, `
$ORIGIN h.test.
@                    MX   10 mx
@                    TXT  "v=spf1 " "-all"
@                    TXT  "with \"quote\" and \\backslash"
mx                   A    192.0.2.1
mx                   AAAA 2001:db8::1
_submission._tcp     SRV  0 1 587 mx
1.2.0.192.in-addr.arpa. PTR mx.h.test.
`)
	r := testClient(z.start(t))
	ctx := context.Background()
	txts, _, err := LookupTXT(ctx, r, "h.test")
	if err != nil || len(txts) != 2 || txts[0] != "v=spf1 -all" || txts[1] != `with "quote" and \backslash` {
		t.Errorf("TXT %q %v", txts, err)
	}
	ips, err := LookupIP(ctx, r, "mx.h.test", true, true)
	if err != nil || len(ips) != 2 || ips[0].String() != "192.0.2.1" || ips[1].String() != "2001:db8::1" {
		t.Errorf("IP %v %v", ips, err)
	}
	srvs, _, err := LookupSRV(ctx, r, "_submission._tcp.h.test")
	if err != nil || len(srvs) != 1 || srvs[0].Port != 587 || srvs[0].Target != "mx.h.test." {
		t.Errorf("SRV %v %v", srvs, err)
	}
	f, err := LookupFCrDNS(ctx, r, netip.MustParseAddr("192.0.2.1"))
	if err != nil || len(f.Confirmed) != 1 || f.Confirmed[0] != "mx.h.test" {
		t.Errorf("FCrDNS %+v %v", f, err)
	}
	mxs, ans, err := LookupMX(ctx, r, "nope.h.test")
	if err != nil || len(mxs) != 0 || !ans.NXDomain() {
		t.Errorf("MX of a missing name: %v %+v %v", mxs, ans, err)
	}
}
