package diag

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// gateResolver holds back the answer to one question until its gate closes.
type gateResolver struct {
	Resolver
	gates map[string]chan struct{} // "TYPE name." -> gate
}

func (g gateResolver) Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	if gate, ok := g.gates[dns.TypeToString[qtype]+" "+strings.ToLower(dns.Fqdn(name))]; ok {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Resolver.Exchange(ctx, name, qtype)
}

// closeConn runs onClose once, when the connection is closed.
type closeConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *closeConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.onClose)
	return err
}

// Progress gets every note and every setting of the result exactly once,
// as the result has them, while the discovery still runs: the MX lookup
// is only answered once the hook has seen an SRV note. A setting first
// offered as a guess and probed before the SRV record naming it arrives
// is reported with the SRV label the result gives it.
func TestSettingsProgress(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	cert := leafCert(t, ca, []string{"srv.example.com", "127.0.0.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	pop := (&fakeServer{proto: "pop3", cert: &cert, implicitTLS: true, user: "alice", pass: "pw"}).start(t)
	smtp := (&fakeServer{proto: "smtp", cert: &cert, user: "alice", pass: "pw"}).start(t)
	imap := fakeIMAPS(t, cert)
	popPort, smtpPort, imapPort := portOf(t, pop), portOf(t, smtp), portOf(t, imap)

	// mx.example.com and the guessed names have no address: only the
	// listeners above are probed.
	zone := newTestZone(t,
		"example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5",
		"example.com. MX 10 mx.example.com.",
		"srv.example.com. A 127.0.0.1",
		fmt.Sprintf("_pop3s._tcp.example.com. SRV 0 1 %d srv.example.com.", popPort),
		fmt.Sprintf("_imaps._tcp.example.com. SRV 0 1 %d srv.example.com.", imapPort),
		fmt.Sprintf("_submission._tcp.example.com. SRV 0 1 %d srv.example.com.", smtpPort),
	)
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mail/config-v1.1.xml" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<clientConfig version="1.1"><emailProvider id="example.com"><outgoingServer type="smtp">
<hostname>127.0.0.1</hostname><port>%d</port><socketType>STARTTLS</socketType></outgoingServer></emailProvider></clientConfig>`, smtpPort)
	}))
	t.Cleanup(web.Close)

	popClosed, sawSRV := make(chan struct{}), make(chan struct{})
	var popOnce, srvOnce sync.Once
	r := gateResolver{Resolver: testClient(zone.start(t)), gates: map[string]chan struct{}{
		"SRV _pop3s._tcp.example.com.": popClosed,
		"MX example.com.":              sawSRV,
	}}
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil || !strings.HasSuffix(addr, ":"+strconv.Itoa(popPort)) {
			return c, err
		}
		return &closeConn{Conn: c, onClose: func() { popOnce.Do(func() { close(popClosed) }) }}, nil
	}

	// No lock in the hook: calls are serialised, and -race tells if not
	// (an atomic flag here would itself order the calls and hide it).
	var (
		events   []SettingsProgress
		snaps    = map[*Setting]Setting{}
		returned atomic.Bool
	)
	progress := func(ev SettingsProgress) {
		if returned.Load() {
			t.Error("Progress called after DiscoverSettings returned")
		}
		events = append(events, ev)
		if ev.Setting != nil {
			snaps[ev.Setting] = *ev.Setting
		}
		if strings.HasPrefix(ev.Note, "SRV _pop3s._tcp.example.com: srv.example.com port") {
			srvOnce.Do(func() { close(sawSRV) })
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := DiscoverSettings(ctx, "alice@example.com", SettingsOptions{
		Resolver: r, HTTPClient: web.Client(), RootCAs: ca.pool, Timeout: 10 * time.Second, Dial: dial,
		AutoconfigURLs: func(domain, address string) []string {
			return []string{web.URL + "/mail/config-v1.1.xml", web.URL + "/missing.xml"}
		},
		Extra:    []Candidate{{Protocol: "pop3", Host: "srv.example.com", Port: popPort, Security: "tls", Source: "guess"}},
		Progress: progress,
	})
	returned.Store(true)
	if err != nil {
		t.Fatal(err)
	}

	// The MX was answered only after the hook saw the SRV note.
	if !contains(res.Discovery, "MX example.com: mx.example.com") {
		t.Errorf("no MX note: Progress did not get the SRV note while the discovery ran:\n%s", strings.Join(res.Discovery, "\n"))
	}

	var notes []string
	seen := map[*Setting]int{}
	done, answered, started := 0, 0, 0
	for i, ev := range events {
		if (ev.Note == "") == (ev.Setting == nil) {
			t.Errorf("event %d is not either a note or a setting: %+v", i, ev)
		}
		if ev.Setting != nil {
			seen[ev.Setting]++
			done++
		} else {
			notes = append(notes, ev.Note)
		}
		if ev.Sources != 9 || ev.ProbesDone != done || ev.SourcesAnswered < answered || ev.Probes < started ||
			ev.SourcesAnswered > ev.Sources || ev.ProbesDone > ev.Probes {
			t.Errorf("event %d counts %d/%d sources, %d/%d probes after %d, %d, %d", i, ev.SourcesAnswered, ev.Sources, ev.ProbesDone, ev.Probes, answered, started, done)
		}
		answered, started = ev.SourcesAnswered, ev.Probes
	}
	sort.Strings(notes)
	if strings.Join(notes, "\n") != strings.Join(res.Discovery, "\n") {
		t.Errorf("notes from Progress:\n%s\nresult:\n%s", strings.Join(notes, "\n"), strings.Join(res.Discovery, "\n"))
	}

	all := append(append([]*Setting{}, res.Incoming...), res.Outgoing...)
	if len(all) != 5 { // pop3s (the extra), imaps, submission starttls and plain, autoconfig's
		t.Errorf("%d settings, want 5", len(all))
	}
	for _, s := range all {
		name := fmt.Sprintf("%s %s:%d %s", s.Protocol, s.Host, s.Port, s.Security)
		if seen[s] != 1 {
			t.Errorf("%s reported %d times", name, seen[s])
			continue
		}
		if !reflect.DeepEqual(snaps[s], *s) {
			r := snaps[s]
			t.Errorf("%s reported from %s, reachable %v, error %q; the result has it from %s, reachable %v, error %q",
				name, r.Source, r.Reachable, r.Error, s.Source, s.Reachable, s.Error)
		}
		delete(seen, s)
	}
	for s := range seen {
		t.Errorf("reported but not in the result: %+v", *s)
	}
	if s := findSetting(res.Incoming, "pop3", popPort, "tls"); s == nil || s.Source != "srv" || !s.Reachable {
		t.Errorf("the guessed POP3S setting named by SRV: %+v", s)
	}
	last := events[len(events)-1]
	if last.SourcesAnswered != 9 || last.ProbesDone != len(all) || last.Probes != len(all) {
		t.Errorf("last event %+v: want all 9 sources answered and %d of %d probes", last, len(all), len(all))
	}
}

// A domain without MX, or with a null MX, says so: each source leaves a
// note, so the last event counts every source answered.
func TestSettingsNoMXNote(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"", "MX example.com: none"},
		{"example.com. MX 0 .", `MX example.com: ".": the domain accepts no mail (RFC 7505)`},
	} {
		zone := newTestZone(t, "example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5", tc.zone)
		var last SettingsProgress
		res, err := DiscoverSettings(context.Background(), "alice@example.com", SettingsOptions{
			Resolver: testClient(zone.start(t)), Timeout: 5 * time.Second,
			AutoconfigURLs: func(domain, address string) []string { return nil },
			Progress:       func(ev SettingsProgress) { last = ev },
		})
		if err != nil {
			t.Fatal(err)
		}
		if !contains(res.Discovery, tc.want) {
			t.Errorf("no %q in\n%s", tc.want, strings.Join(res.Discovery, "\n"))
		}
		if last.Sources != 7 || last.SourcesAnswered != 7 || last.Probes != 0 {
			t.Errorf("last event %+v, want 7 of 7 sources and no probe", last)
		}
	}
}
