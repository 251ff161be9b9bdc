package diag

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedResolver holds back every answer for names under hold until the
// gate is closed: the checks that ask for them finish last.
type gatedResolver struct {
	Resolver
	hold string
	gate chan struct{}
}

func (g gatedResolver) Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	if strings.HasSuffix(strings.ToLower(strings.TrimSuffix(name, "."))+".", g.hold) {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Resolver.Exchange(ctx, name, qtype)
}

// Progress reports each check once as it finishes, before Diagnose
// returns, while slower checks still run; the report is the same with
// and without the hook.
func TestDiagnoseProgress(t *testing.T) {
	fe := newFixtureEnv(t)
	plain := fe.opts
	plain.DKIMSelectors = []string{"s1"}
	want, err := Diagnose(context.Background(), "good.test", plain)
	if err != nil {
		t.Fatal(err)
	}

	gate := make(chan struct{})
	hooked := plain
	hooked.Resolver = gatedResolver{Resolver: plain.Resolver, hold: "_dmarc.good.test.", gate: gate}
	var (
		mu       sync.Mutex
		calls    = map[string]int{}
		order    []string
		got      = map[string][]Finding{}
		returned atomic.Bool
		late     atomic.Bool
		mxSeen   = make(chan struct{})
		mxOnce   sync.Once
	)
	hooked.Progress = func(check string, fs []Finding) {
		if returned.Load() {
			late.Store(true)
		}
		mu.Lock()
		calls[check]++
		order = append(order, check)
		got[check] = fs
		mu.Unlock()
		if check == "mx" {
			mxOnce.Do(func() { close(mxSeen) })
		}
	}
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Diagnose(context.Background(), "good.test", hooked)
		returned.Store(true)
		done <- result{rep, err}
	}()
	// MX is reported while DMARC is still waiting for its answer.
	select {
	case <-mxSeen:
	case r := <-done:
		t.Fatalf("Diagnose returned (%v) before any progress for mx", r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no progress for mx while dmarc was held back")
	}
	mu.Lock()
	if calls["dmarc"] != 0 {
		t.Errorf("dmarc reported before its answers were let through")
	}
	mu.Unlock()
	close(gate)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if late.Load() {
		t.Error("Progress was called after Diagnose returned")
	}

	names := CheckNames()
	if len(names) != 9 || names[0] != "mx" || names[len(names)-1] != "dnsbl" {
		t.Fatalf("CheckNames() = %v", names)
	}
	var fromHook []Finding
	for _, n := range names {
		if calls[n] != 1 {
			t.Errorf("Progress called %d times for %s, want once", calls[n], n)
		}
		fromHook = append(fromHook, got[n]...)
	}
	if len(calls) != len(names) {
		t.Errorf("Progress called for %v, want exactly %v", order, names)
	}
	// The findings handed to the hook, in check order, are the report's.
	if !reflect.DeepEqual(fromHook, r.rep.Findings) {
		t.Errorf("findings from Progress differ from the report:\n%s\nvs\n%s", summary(fromHook), summary(r.rep.Findings))
	}
	// The report does not depend on the hook.
	if !reflect.DeepEqual(r.rep.Findings, want.Findings) || r.rep.Target != want.Target || r.rep.Resolver != want.Resolver {
		t.Errorf("report with Progress:\n%s\nwithout:\n%s", summary(r.rep.Findings), summary(want.Findings))
	}
	if !reflect.DeepEqual(r.rep.MX.Hosts, want.MX.Hosts) {
		t.Errorf("MX hosts differ: %+v vs %+v", r.rep.MX.Hosts, want.MX.Hosts)
	}
}

// Changing the findings handed to Progress leaves the report alone.
func TestDiagnoseProgressGetsACopy(t *testing.T) {
	fe := newFixtureEnv(t)
	opts := fe.opts
	opts.Progress = func(check string, fs []Finding) {
		for i := range fs {
			fs[i].Summary = "changed by the hook"
		}
	}
	rep, err := Diagnose(context.Background(), "good.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range rep.Findings {
		if f.Summary == "changed by the hook" {
			t.Fatalf("%s: the hook changed the report", f.Check)
		}
	}
}

// ProbeOptions.Progress reports each probe once, counting up to the total,
// and the findings are the same as without it.
func TestProbeServersProgress(t *testing.T) {
	// A port with nothing listening: every probe fails fast to connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	z := newTestZone(t, "mx.example.com. A 127.0.0.1\n")
	mx := &MXResult{Domain: "example.com", Hosts: []MXHost{
		{Preference: 10, Host: "mx1.example.com.", Addresses: []MXAddress{{IP: netip.MustParseAddr("127.0.0.1")}}},
		{Preference: 20, Host: "mx2.example.com.", Addresses: []MXAddress{{IP: netip.MustParseAddr("127.0.0.1")}, {IP: netip.MustParseAddr("127.0.0.2")}}},
	}}
	opts := ProbeOptions{Resolver: testClient(z.start(t)), Ports: map[string]int{"smtp": port, "pop3": port},
		Timeout: 5 * time.Second, Domain: "example.com"}
	ctx := context.Background()
	wantProbes, want := ProbeServers(ctx, mx, opts)

	var dones []int
	seen := map[*Probe]int{}
	returned := false
	opts.Progress = func(p *Probe, done, total int) {
		if returned {
			t.Error("Progress after ProbeServers returned")
		}
		if total != len(wantProbes) {
			t.Errorf("total = %d, want %d", total, len(wantProbes))
		}
		dones = append(dones, done)
		seen[p]++
	}
	probes, got := ProbeServers(ctx, mx, opts)
	returned = true
	if len(probes) != 6 {
		t.Fatalf("%d probes, want 6 (3 addresses x smtp, pop3)", len(probes))
	}
	for i, d := range dones {
		if d != i+1 {
			t.Fatalf("done counts %v, want 1..%d in order", dones, len(probes))
		}
	}
	if len(dones) != len(probes) {
		t.Errorf("%d Progress calls for %d probes", len(dones), len(probes))
	}
	for _, p := range probes {
		if seen[p] != 1 {
			t.Errorf("probe %s %s reported %d times", p.Service, p.Addr, seen[p])
		}
	}
	if summary(got) != summary(want) {
		t.Errorf("findings with Progress:\n%s\nwithout:\n%s", summary(got), summary(want))
	}
}
