package diag

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkDiagnoseSlowResolver runs the whole DNS part of diag for
// good.test (two MX hosts, SPF, DMARC with an external report address, two
// DKIM selectors plus the common ones, MTA-STS, TLS-RPT, DANE, PTR, a
// blocklist) against a server that delays every answer by 50 ms, and
// compares the wall time with the longest chain of dependent queries in
// that report, MX -> A of an exchanger -> PTR of its address -> A of the PTR
// name, timed on its own against the same server.
//
//	go test ./diag -run '^$' -bench DiagnoseSlowResolver -benchtime 20x
func BenchmarkDiagnoseSlowResolver(b *testing.B) {
	const delay = 50 * time.Millisecond
	fe := newFixtureEnv(b, func(z *testZone) { z.delay = delay })
	opts := fe.opts
	opts.DKIMSelectors = []string{"s1", "ed"}
	opts.IPs = []netip.Addr{netip.MustParseAddr("198.51.100.7")}
	ctx := context.Background()

	chainStart := time.Now()
	r := testClient(fe.addr)
	mxs, _, err := LookupMX(ctx, r, "good.test")
	if err != nil || len(mxs) == 0 {
		b.Fatal(mxs, err)
	}
	addrs, _, err := lookupAddrs(ctx, r, mxs[0].Mx, dns.TypeA)
	if err != nil || len(addrs) == 0 {
		b.Fatal(addrs, err)
	}
	names, _, err := LookupPTR(ctx, r, addrs[0])
	if err != nil || len(names) == 0 {
		b.Fatal(names, err)
	}
	if _, _, err := lookupAddrs(ctx, r, names[0], dns.TypeA); err != nil {
		b.Fatal(err)
	}
	chain := time.Since(chainStart)

	before := fe.zone.queries.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Diagnose(ctx, "good.test", opts)
		if err != nil || rep.Failed() {
			b.Fatalf("%v %v", err, rep.Counts())
		}
	}
	b.StopTimer()
	wall := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(wall.Microseconds())/1000, "wall-ms/op")
	b.ReportMetric(float64(chain.Microseconds())/1000, "chain-ms")
	b.ReportMetric(float64(wall)/float64(chain), "wall/chain")
	b.ReportMetric(float64(fe.zone.queries.Load()-before)/float64(b.N), "queries/op")
}
