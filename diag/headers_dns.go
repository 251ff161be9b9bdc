package diag

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// HeadersResolver is the tiny TXT lookup that DKIM and ARC verification need
// (RFC 6376 §3.6.2.2): one server, UDP with a TCP retry on truncation. It
// counts network failures so the command can tell "the check failed" from
// "the network failed".
type HeadersResolver struct {
	server  string
	timeout time.Duration

	mu       sync.Mutex
	attempts int
	netFails int
}

// headersNetError marks a lookup that got no usable answer: no response,
// or SERVFAIL/REFUSED. Both are temporary errors in RFC 6376 terms
// (§6.1.2), as opposed to an answer saying "no key".
type headersNetError struct{ err error }

func (e *headersNetError) Error() string { return e.err.Error() }
func (e *headersNetError) Unwrap() error { return e.err }

// Timeout and Temporary make it a temporary net.Error, which go-msgauth
// turns into a temperror.
func (e *headersNetError) Timeout() bool   { return false }
func (e *headersNetError) Temporary() bool { return true }

// isTempDNSError tells a lookup that may succeed later (no answer,
// SERVFAIL, REFUSED) from one that says the name or record is absent.
func isTempDNSError(err error) bool {
	var he *headersNetError
	var de *DNSError
	var ne *net.DNSError
	switch {
	case err == nil:
		return false
	case errors.As(err, &he), errors.As(err, &de):
		return true
	case errors.As(err, &ne):
		return !ne.IsNotFound && (ne.IsTemporary || ne.IsTimeout)
	}
	return false
}

// errHeadersNXDOMAIN marks a name that does not exist (a permanent result).
var errHeadersNXDOMAIN = errors.New("no such DNS name")

// NewHeadersResolver returns the TXT lookup the headers command uses:
// server (HOST:PORT) or, when empty, the first nameserver of
// /etc/resolv.conf.
func NewHeadersResolver(server string, timeout time.Duration) (*HeadersResolver, error) {
	if server == "" {
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cfg.Servers) == 0 {
			return nil, fmt.Errorf("no DNS server: give --resolver HOST:PORT (reading /etc/resolv.conf: %v)", err)
		}
		server = net.JoinHostPort(cfg.Servers[0], cfg.Port)
	} else if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &HeadersResolver{server: server, timeout: timeout}, nil
}

// LookupTXT has the signature go-msgauth expects.
func (h *HeadersResolver) LookupTXT(name string) ([]string, error) {
	h.mu.Lock()
	h.attempts++
	h.mu.Unlock()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	m.SetEdns0(4096, false)
	c := &dns.Client{Net: "udp", Timeout: h.timeout}
	r, _, err := c.Exchange(m, h.server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, h.server)
	}
	if err == nil && r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		// SERVFAIL, REFUSED and the like say nothing about the name.
		err = fmt.Errorf("%s answered %s", h.server, dns.RcodeToString[r.Rcode])
	}
	if err != nil {
		h.mu.Lock()
		h.netFails++
		h.mu.Unlock()
		return nil, &headersNetError{fmt.Errorf("DNS query for %s to %s failed: %v", name, h.server, err)}
	}
	if r.Rcode == dns.RcodeNameError {
		return nil, fmt.Errorf("%s: %w", name, errHeadersNXDOMAIN)
	}
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no TXT record", name)
	}
	return out, nil
}

// AllFailed reports whether every lookup got no usable answer (no
// response, or SERVFAIL/REFUSED).
func (h *HeadersResolver) AllFailed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts > 0 && h.netFails == h.attempts
}
