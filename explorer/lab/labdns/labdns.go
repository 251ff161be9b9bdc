// Package labdns is the lab's authoritative DNS server: it answers for the
// practice domain (postlab.test by default) and for the reverse zone of its
// address (127.in-addr.arpa), over UDP and TCP, so that MX lookups, SPF
// (RFC 7208), DKIM keys (RFC 6376), DMARC (RFC 7489), TLS-RPT (RFC 8460),
// service discovery SRV records (RFC 6186, RFC 8314) and reverse lookups can
// all be practised without touching the Internet.
//
// It follows the authoritative-server rules of RFC 1034 §4.3.2 and RFC 2308:
// answers carry the AA bit; a name that exists without the asked type gets
// NOERROR with the SOA in the authority section (NODATA); a missing name under
// the zone gets NXDOMAIN with the SOA; empty non-terminals such as
// _tcp.postlab.test exist (RFC 8020); names outside the zones are REFUSED.
// EDNS(0) is echoed (RFC 6891), UDP answers that do not fit the client's
// buffer are truncated with TC set (RFC 2181 §9) and TCP carries the full
// answer (RFC 7766). ANY over UDP gets the RFC 8482 synthesized HINFO; over
// TCP the whole node, and AXFR over TCP returns the zone, for lessons.
//
// Try it with dig against the lab's default port:
//
//	dig @127.0.0.1 -p 2553 postlab.test MX
//	dig @127.0.0.1 -p 2553 lab._domainkey.postlab.test TXT
//	dig @127.0.0.1 -p 2553 _submission._tcp.postlab.test SRV
//	dig @127.0.0.1 -p 2553 -x 127.0.0.1
//	dig @127.0.0.1 -p 2553 postlab.test AXFR
//
// Zone.Faults switches on deliberately broken records for teaching (two SPF
// records, a revoked DKIM key, an MX pointing at a CNAME...); Catalog lists
// them with what each breaks and the rule it breaks. SetFaults changes them
// on a running server: the new zone replaces the old one whole, between two
// queries, with the listeners left running.
package labdns

import (
	"context"
	"crypto/rsa"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Ports are the lab's listener ports, published in the RFC 6186 SRV records.
// 0 means the listener is off: its SRV record gets the target "." which
// means "decidedly not available" (RFC 2782, RFC 6186). SMTP 0 publishes a
// null MX (RFC 7505): the domain accepts no mail.
type Ports struct{ SMTP, Submission, Submissions, POP3, POP3S int }

// Zone is what the server publishes.
type Zone struct {
	Domain       string // practice domain, default "postlab.test"
	Hostname     string // mail host, default "mail." + Domain
	IPv4         net.IP // address of every host, default 127.0.0.1
	Ports        Ports
	DKIMSelector string         // default "lab"
	DKIMKey      *rsa.PublicKey // nil: no DKIM key record
	// Trace, when set, is called once per answered query. It must not block.
	Trace func(remote string, q dns.Question, rcode int)
	// Faults names deliberately broken variants (see Catalog). Unknown
	// names are ignored; check them first with CheckFaults.
	Faults []string
}

// ErrServerClosed is returned by ServeUDP and ServeTCP after Shutdown.
var ErrServerClosed = errors.New("labdns: server closed")

// Server answers DNS queries for a Zone. It is a dns.Handler.
type Server struct {
	cur   atomic.Pointer[published] // read once per query, never changed in place
	setMu sync.Mutex                // serialises SetFaults
	mu    sync.Mutex
	runs  []*run
	close bool
}

// published is one version of the zone and its records.
type published struct {
	zone Zone
	data *zoneData
}

type run struct {
	srv     *dns.Server
	started chan struct{}
	done    chan struct{}
}

// NewServer builds the zone's records. It does not listen.
func NewServer(z Zone) *Server {
	s := &Server{}
	s.publish(z)
	return s
}

func (s *Server) publish(z Zone) {
	z = z.withDefaults()
	s.cur.Store(&published{zone: z, data: buildZone(z)})
}

// SetFaults publishes the zone with these faults (see Catalog) in place of
// the current ones; nil or empty publishes the correct zone. The zone is
// built first and swapped in at once: every query is answered from the old
// zone or the new one, never a mix, and never goes unanswered. Unknown names
// are ignored, as in Zone.Faults.
func (s *Server) SetFaults(names []string) {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	z := s.cur.Load().zone
	z.Faults = names
	s.publish(z)
}

// Faults returns the faults the zone publishes now.
func (s *Server) Faults() []string {
	return append([]string(nil), s.cur.Load().zone.Faults...)
}

// ServeUDP answers queries arriving on pc until Shutdown, then closes pc and
// returns ErrServerClosed.
func (s *Server) ServeUDP(pc net.PacketConn) error {
	// Read buffer larger than 512 so EDNS queries with options are not cut.
	return s.serve(&dns.Server{PacketConn: pc, UDPSize: 4096})
}

// ServeTCP answers queries on connections accepted from l until Shutdown,
// then closes l and returns ErrServerClosed.
func (s *Server) ServeTCP(l net.Listener) error {
	return s.serve(&dns.Server{Listener: l})
}

func (s *Server) serve(srv *dns.Server) error {
	r := &run{srv: srv, started: make(chan struct{}), done: make(chan struct{})}
	var once sync.Once
	srv.Handler = s
	srv.NotifyStartedFunc = func() { once.Do(func() { close(r.started) }) }
	s.mu.Lock()
	if s.close {
		s.mu.Unlock()
		if srv.PacketConn != nil {
			srv.PacketConn.Close()
		} else {
			srv.Listener.Close()
		}
		return ErrServerClosed
	}
	s.runs = append(s.runs, r)
	s.mu.Unlock()

	err := srv.ActivateAndServe()
	close(r.done)
	s.mu.Lock()
	closed := s.close
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops every listener and waits, bounded by ctx, for queries in
// flight to be answered.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.close = true
	runs := s.runs
	s.runs = nil
	s.mu.Unlock()
	var first error
	for _, r := range runs {
		select {
		case <-r.started:
			if err := r.srv.ShutdownContext(ctx); err != nil && first == nil && ctx.Err() != nil {
				first = err
			}
		case <-r.done:
		case <-ctx.Done():
			if first == nil {
				first = ctx.Err()
			}
		}
	}
	return first
}

func (z Zone) withDefaults() Zone {
	if z.Domain == "" {
		z.Domain = "postlab.test"
	}
	z.Domain = dns.CanonicalName(z.Domain)
	if z.Hostname == "" {
		z.Hostname = "mail." + z.Domain
	}
	z.Hostname = dns.CanonicalName(z.Hostname)
	if z.IPv4 == nil || z.IPv4.To4() == nil {
		z.IPv4 = net.IPv4(127, 0, 0, 1)
	}
	z.IPv4 = z.IPv4.To4()
	if z.DKIMSelector == "" {
		z.DKIMSelector = "lab"
	}
	z.Faults = append([]string(nil), z.Faults...)
	return z
}
