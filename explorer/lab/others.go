package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"postlab/explorer"
	"postlab/explorer/lab/labdns"
	"postlab/explorer/lab/pop3d"
)

// DKIMSelector is the selector of the lab's DKIM key record.
const DKIMSelector = "lab"

// startOthers serves POP3 (package pop3d) and DNS (package labdns) on the
// sockets bound by Start.
func (l *Lab) startOthers(b *bound) error {
	// Everything that can fail comes before anything starts serving.
	if err := l.loadDKIMKey(b); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		ln   net.Listener
	}{{ListenerPOP3, b.pop3}, {ListenerPOP3S, b.pop3s}} {
		if p.ln == nil {
			continue
		}
		tlsCfg := l.tls.serverTLSConfig()
		tlsCfg.GetConfigForClient = l.scenarioTLS(tlsCfg, nil)
		srv := pop3d.NewServer(pop3d.Config{
			Hostname:          l.cfg.Hostname,
			Domains:           []string{l.cfg.Domain, l.cfg.Hostname},
			TLSConfig:         tlsCfg,
			Auth:              l.users,
			Store:             l.store,
			AllowInsecureAuth: l.cfg.InsecureAuth,
			AuthFailDelay:     l.cfg.AuthFailDelay,
			IdleTimeout:       max(l.cfg.IdleTimeout, 10*time.Minute), // RFC 1939 §3: at least 10 minutes
			Trace:             l.pop3Tracer(p.name),
		})
		// The per-address limit counts POP3 connections too (the wrapper
		// sits under TLS, so a refusal costs no handshake).
		var ln net.Listener = &limitedListener{Listener: p.ln, lab: l, name: p.name, refuse: l.refusePOP3(p.name == ListenerPOP3S)}
		if p.name == ListenerPOP3S {
			ln = tls.NewListener(ln, tlsCfg)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if err := srv.Serve(ln); err != nil && err != pop3d.ErrServerClosed {
				l.logf("%s: %v", p.name, err)
			}
		}()
		l.others = append(l.others, srv.Shutdown)
	}

	if b.dnsTCP != nil {
		l.dns = &dnsState{zone: labdns.Zone{
			Domain:       l.cfg.Domain,
			Hostname:     l.cfg.Hostname,
			IPv4:         zoneIP(l.addrs[ListenerSMTP]),
			Ports:        l.ports(),
			DKIMSelector: DKIMSelector,
			DKIMKey:      &l.dkimKey.PublicKey,
			Trace:        l.dnsTracer(),
		}}
		l.startDNS(b.dnsTCP, b.dnsUDP)
		l.others = append(l.others, l.stopDNS)
	}
	return nil
}

// refusePOP3 answers a connection over the per-address limit with an -ERR
// greeting carrying RFC 3206 §4's [SYS/TEMP] (a temporary problem: try
// later) on the plain port; on the implicit-TLS port no clear text may be
// sent, so the connection is just closed.
func (l *Lab) refusePOP3(implicitTLS bool) func(net.Conn, string) {
	return func(c net.Conn, ip string) {
		if !implicitTLS {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "-ERR [SYS/TEMP] %s: too many connections from %s; try again later\r\n", l.cfg.Hostname, ip)
		}
		c.Close()
	}
}

// dnsState is the running DNS server.
type dnsState struct {
	mu   sync.Mutex
	zone labdns.Zone
	srv  *labdns.Server
	wg   sync.WaitGroup
}

// startDNS serves l.dns.zone on the sockets.
func (l *Lab) startDNS(ln net.Listener, pc net.PacketConn) {
	d := l.dns
	srv := labdns.NewServer(d.zone)
	d.srv = srv
	for _, serve := range []func() error{
		func() error { return srv.ServeUDP(pc) },
		func() error { return srv.ServeTCP(ln) },
	} {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := serve(); err != nil && err != labdns.ErrServerClosed {
				l.logf("dns: %v", err)
			}
		}()
	}
}

func (l *Lab) stopDNS(ctx context.Context) error {
	d := l.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv == nil {
		return nil
	}
	err := d.srv.Shutdown(ctx)
	d.wg.Wait()
	d.srv = nil
	return err
}

// SetDNSFaults publishes the zone with these deliberate faults (see
// labdns.Catalog); nil or empty restores the correct zone. The running
// server swaps the zone between two queries: none goes unanswered.
func (l *Lab) SetDNSFaults(names []string) error {
	if err := labdns.CheckFaults(names); err != nil {
		return err
	}
	if l.dns == nil {
		return errors.New("the lab's DNS listener is off")
	}
	d := l.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv == nil {
		return errors.New("the lab is closed")
	}
	d.zone.Faults = append([]string(nil), names...)
	d.srv.SetFaults(d.zone.Faults)
	return nil
}

// DNSFaults returns the faults the zone currently publishes.
func (l *Lab) DNSFaults() []string {
	if l.dns == nil {
		return nil
	}
	l.dns.mu.Lock()
	defer l.dns.mu.Unlock()
	return append([]string(nil), l.dns.zone.Faults...)
}

// zoneIP is the address the zone publishes for its hosts: the SMTP
// listener's when it has a specific one, else 127.0.0.1.
func zoneIP(addr string) net.IP {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(h); ip != nil && ip.To4() != nil && !ip.IsUnspecified() {
			return ip.To4()
		}
	}
	return net.IPv4(127, 0, 0, 1).To4()
}

func (l *Lab) ports() labdns.Ports {
	p := func(name string) int {
		_, port, err := net.SplitHostPort(l.addrs[name])
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(port)
		return n
	}
	return labdns.Ports{
		SMTP: p(ListenerSMTP), Submission: p(ListenerSubmission), Submissions: p(ListenerSubmissions),
		POP3: p(ListenerPOP3), POP3S: p(ListenerPOP3S),
	}
}

// pop3Tracer maps pop3d's per-server session numbers to lab-wide ones.
func (l *Lab) pop3Tracer(listener string) func(uint64, string, explorer.Event) {
	var mu sync.Mutex
	ids := make(map[uint64]uint64)
	return func(sid uint64, remote string, ev explorer.Event) {
		mu.Lock()
		id, ok := ids[sid]
		if !ok {
			id = l.nextSession()
			ids[sid] = id
		}
		if ev.State.Phase == explorer.PhaseClosed {
			delete(ids, sid)
		}
		mu.Unlock()
		l.Emit(ServerEvent{Session: id, Listener: listener, Remote: remote, Event: ev})
	}
}

// dnsTracer records each answered query as one local event.
func (l *Lab) dnsTracer() func(string, dns.Question, int) {
	return func(remote string, q dns.Question, rcode int) {
		l.Emit(ServerEvent{
			Session:  l.nextSession(),
			Listener: ListenerDNS,
			Remote:   remote,
			Event: explorer.Event{
				Time: l.cfg.Clock(),
				Dir:  explorer.Local,
				Line: fmt.Sprintf("%s %s %s -> %s", q.Name, dns.Class(q.Qclass), dns.Type(q.Qtype), dns.RcodeToString[rcode]),
			},
		})
	}
}
