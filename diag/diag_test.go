package diag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDiagnoseUnreachableResolver(t *testing.T) {
	c := &Client{Servers: []string{silentServer(t)}, Timeout: 50 * time.Millisecond, Retries: 1}
	rep, err := Diagnose(context.Background(), "good.test", Options{Resolver: c, CheckTimeout: 2 * time.Second})
	var ue *UnreachableError
	if !errors.As(err, &ue) || rep == nil || !rep.Failed() {
		t.Fatalf("err = %v, report %v", err, rep)
	}
}

func TestDiagnoseCheckTimeout(t *testing.T) {
	fe := newFixtureEnv(t, func(z *testZone) {
		z.delay = time.Second
		z.slowUnder = "_dmarc.good.test."
	})
	opts := fe.opts
	opts.CheckTimeout = 300 * time.Millisecond
	rep, err := Diagnose(context.Background(), "good.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	// Only the DMARC check gives up, and says so; the others report as usual, in order.
	var got []string
	var areas []string
	for _, f := range rep.Findings {
		if f.Area() == "dmarc" {
			got = append(got, f.Check+" "+string(f.Status))
		}
		if len(areas) == 0 || areas[len(areas)-1] != f.Area() {
			areas = append(areas, f.Area())
		}
	}
	if strings.Join(got, ",") != "dmarc.record error,dmarc.timeout error" {
		t.Errorf("DMARC findings: %v", got)
	}
	if got := strings.Join(areas, " "); got != "mx spf dmarc dkim mta-sts tls-rpt dane ptr dnsbl" {
		t.Errorf("areas in order: %s", got)
	}
}

func TestDiagnoseRejectsBadTarget(t *testing.T) {
	if _, err := Diagnose(context.Background(), "not a domain", Options{Resolver: testClient("127.0.0.1:1")}); err == nil {
		t.Fatal("no error for a bad target")
	}
}

func TestLookupMailExchangersJSONFields(t *testing.T) {
	fe := newFixtureEnv(t)
	m := LookupMailExchangers(context.Background(), fe.opts.Resolver, "good.test")
	if m.Err != nil || len(m.Hosts) != 2 || m.Hosts[0].Host != "mx1.good.test" || m.Hosts[0].Preference != 10 ||
		len(m.Hosts[0].Addresses) != 2 || m.Hosts[0].Addresses[0].TTL != 3600 || !m.DNSSEC || m.Resolver != fe.addr {
		t.Fatalf("%+v", m)
	}
}

func TestLookupMailExchangersBoundsHosts(t *testing.T) {
	var zone strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&zone, "many.test. MX %d mx%d.many.test.\nmx%d.many.test. A 192.0.2.%d\n", i, i, i, i+1)
	}
	z := newTestZone(t, zone.String())
	m := LookupMailExchangers(context.Background(), testClient(z.start(t)), "many.test")
	// One MX query (two if it had to retry over TCP), then A and AAAA of 32 hosts only.
	if q := z.queries.Load(); len(m.Hosts) != maxMXHosts || len(m.Hosts[31].Addresses) != 1 || q < 1+2*maxMXHosts || q > 2+2*maxMXHosts {
		t.Fatalf("%d hosts, %d queries", len(m.Hosts), z.queries.Load())
	}
	if got := summary(m.Findings); !strings.HasPrefix(got, "mx.records pass\nmx.records warn\n") {
		t.Fatalf("findings:\n%s", got)
	}
}
