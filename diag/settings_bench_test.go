package diag

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSettingsHalfSilent probes 24 candidates, half of which accept the
// connection and never speak. The probes run concurrently, so a run takes
// about one probe timeout, not twelve: the reported "x-timeout" is the
// elapsed time divided by the probe timeout.
func BenchmarkSettingsHalfSilent(b *testing.B) {
	ca := newTestCA(b)
	now := time.Now()
	cert := leafCert(b, ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	var extra []Candidate
	for i := 0; i < 12; i++ {
		if i%2 == 0 {
			a := (&fakeServer{proto: "pop3", cert: &cert, implicitTLS: true, user: "alice", pass: "pw"}).start(b)
			extra = append(extra, Candidate{Protocol: "pop3", Host: "127.0.0.1", Port: portOf(b, a), Security: "tls", Source: "guess"})
		} else {
			a := (&fakeServer{proto: "smtp", cert: &cert, user: "alice", pass: "pw"}).start(b)
			extra = append(extra, Candidate{Protocol: "smtp", Host: "127.0.0.1", Port: portOf(b, a), Security: "starttls", Source: "guess"})
		}
		silent := (&fakeServer{silent: true}).start(b)
		extra = append(extra, Candidate{Protocol: "pop3", Host: "127.0.0.1", Port: portOf(b, silent), Security: "tls", Source: "guess"})
	}
	const timeout = 250 * time.Millisecond
	opts := SettingsOptions{Resolver: emptyZone(b), RootCAs: ca.pool, Timeout: timeout, Extra: extra, OnlyExtra: true}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := DiscoverSettings(context.Background(), "alice@example.com", opts)
		total += time.Since(start)
		if err != nil || len(res.Incoming)+len(res.Outgoing) != 24 {
			b.Fatalf("%v: %d results", err, len(res.Incoming)+len(res.Outgoing))
		}
	}
	b.ReportMetric(float64(len(extra)), "candidates")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/run")
	b.ReportMetric(float64(total)/float64(b.N)/float64(timeout), "x-timeout")
}
