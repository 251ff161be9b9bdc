package lab

import (
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
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
	var key *rsa.PrivateKey
	if b.dnsTCP != nil {
		var err error
		key, err = labdns.LoadOrCreateDKIMKey(filepath.Join(l.cfg.DataDir, "dkim", DKIMSelector+".key"))
		if err != nil {
			return fmt.Errorf("dkim key: %w", err)
		}
	}
	for _, p := range []struct {
		name string
		ln   net.Listener
	}{{ListenerPOP3, b.pop3}, {ListenerPOP3S, b.pop3s}} {
		if p.ln == nil {
			continue
		}
		srv := pop3d.NewServer(pop3d.Config{
			Hostname:          l.cfg.Hostname,
			TLSConfig:         l.tls.serverTLSConfig(),
			Auth:              l.users,
			Store:             l.store,
			AllowInsecureAuth: l.cfg.InsecureAuth,
			AuthFailDelay:     l.cfg.AuthFailDelay,
			IdleTimeout:       max(l.cfg.IdleTimeout, 10*time.Minute), // RFC 1939 §3: at least 10 minutes
			Trace:             l.pop3Tracer(p.name),
		})
		ln := p.ln
		if p.name == ListenerPOP3S {
			ln = tls.NewListener(ln, l.tls.serverTLSConfig())
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
		srv := labdns.NewServer(labdns.Zone{
			Domain:       l.cfg.Domain,
			Hostname:     l.cfg.Hostname,
			IPv4:         zoneIP(l.addrs[ListenerSMTP]),
			Ports:        l.ports(),
			DKIMSelector: DKIMSelector,
			DKIMKey:      &key.PublicKey,
			Trace:        l.dnsTracer(),
		})
		for _, serve := range []func() error{
			func() error { return srv.ServeUDP(b.dnsUDP) },
			func() error { return srv.ServeTCP(b.dnsTCP) },
		} {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				if err := serve(); err != nil && err != labdns.ErrServerClosed {
					l.logf("dns: %v", err)
				}
			}()
		}
		l.others = append(l.others, srv.Shutdown)
	}
	return nil
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
