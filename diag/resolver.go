package diag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver sends one DNS question and returns the answer. Every check takes
// one as a parameter, so tests point them at an in-process server.
//
// A nil error means a response arrived; the caller looks at Answer.Rcode
// (NXDOMAIN is an answer, not an error). An error means no usable response:
// a timeout, an unreachable server, a malformed reply.
type Resolver interface {
	Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error)
	// Name describes the resolver for reports, e.g. "127.0.0.1:53".
	Name() string
}

// Answer is one DNS response with where and how it was obtained.
type Answer struct {
	Msg    *dns.Msg
	Server string        // the server that answered, host:port
	RTT    time.Duration // round-trip time of the final exchange
	Rcode  int           // dns.RcodeSuccess, dns.RcodeNameError, ...
	AD     bool          // the resolver validated the answer with DNSSEC (RFC 4035 §3.2.3)
	TCP    bool          // the answer came over TCP (after a truncated UDP reply)
}

// NXDomain reports whether the name does not exist.
func (a *Answer) NXDomain() bool { return a.Rcode == dns.RcodeNameError }

// Records returns the answer-section records of type qtype, in order.
func (a *Answer) Records(qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range a.Msg.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out
}

// CNAMEs returns the CNAME chain in the answer section.
func (a *Answer) CNAMEs() []*dns.CNAME {
	var out []*dns.CNAME
	for _, rr := range a.Msg.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			out = append(out, c)
		}
	}
	return out
}

// DNSError is a lookup that produced no usable answer: a SERVFAIL or REFUSED
// rcode, or no response at all. Temporary reports whether retrying later may help.
type DNSError struct {
	Name   string
	Qtype  uint16
	Rcode  int   // -1 when no response arrived
	Err    error // transport error, when Rcode is -1
	Server string
}

func (e *DNSError) Error() string {
	q := e.Name + " " + dns.TypeToString[e.Qtype]
	if e.Rcode >= 0 {
		return fmt.Sprintf("%s: server %s answered %s", q, e.Server, dns.RcodeToString[e.Rcode])
	}
	return fmt.Sprintf("%s: %v", q, e.Err)
}

func (e *DNSError) Unwrap() error { return e.Err }

// Unreachable reports whether no response arrived at all.
func (e *DNSError) Unreachable() bool { return e.Rcode < 0 }

// Client is the default Resolver: a stub resolver speaking to recursive
// servers with miekg/dns. UDP first, TCP when the reply is truncated
// (RFC 7766 §5), EDNS0 with the DO bit so a validating resolver reports AD
// (RFC 6840 §5.8), retries over the list of servers.
type Client struct {
	Servers []string      // host:port, tried in order
	Timeout time.Duration // per attempt; default 2s
	Retries int           // rounds over Servers; default 2
	// Trace, when set, receives every query and answer printed the way dig does.
	Trace io.Writer

	mu sync.Mutex // serialises Trace output
}

// NewClient returns a Client for server or, when server is empty, for the
// servers in /etc/resolv.conf. server is an IP address (port 53), IP:PORT,
// [IPv6]:PORT, or HOST[:PORT] with a host name that the system resolves;
// see ParseResolverAddr.
func NewClient(server string) (*Client, error) {
	if server != "" {
		addr, err := ParseResolverAddr(context.Background(), server)
		if err != nil {
			return nil, err
		}
		return &Client{Servers: []string{addr}}, nil
	}
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("reading system resolvers: %v (use --resolver HOST:PORT)", err)
	}
	c := &Client{}
	for _, s := range conf.Servers {
		c.Servers = append(c.Servers, net.JoinHostPort(s, conf.Port))
	}
	if len(c.Servers) == 0 {
		return nil, errors.New("no nameserver in /etc/resolv.conf (use --resolver HOST:PORT)")
	}
	if conf.Timeout > 0 {
		c.Timeout = time.Duration(conf.Timeout) * time.Second
	}
	return c, nil
}

// ResolverAddrError is a --resolver value that cannot be used: not an
// address, or a host name that does not resolve.
type ResolverAddrError struct {
	Value  string
	Reason string
}

func (e *ResolverAddrError) Error() string {
	return fmt.Sprintf("--resolver %q: %s; want IP, IP:PORT or HOST:PORT, e.g. --resolver 127.0.0.1:2553 (the lab) or --resolver 9.9.9.9", e.Value, e.Reason)
}

// LookupResolverHost resolves a host name given as the resolver, with the
// system's resolver (there is no other to ask yet). Tests replace it.
var LookupResolverHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// ParseResolverAddr turns a --resolver value into IP:PORT. An IP alone
// gets port 53; a host name must resolve (within 5 seconds), and its first
// IPv4 address (else its first address) is used.
func ParseResolverAddr(ctx context.Context, s string) (string, error) {
	bad := func(reason string) (string, error) { return "", &ResolverAddrError{Value: s, Reason: reason} }
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return bad("port 0 is not a port")
		}
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	host, port := s, "53"
	if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return bad("not an address")
		}
		host, port = h, p
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return bad(fmt.Sprintf("%q is not a port number", port))
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, uint16(n)).String(), nil
	}
	if host == "" || !validDomain(host) || strings.Contains(host, "_") {
		return bad("not an IP address or a host name")
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := LookupResolverHost(lctx, host)
	if err != nil || len(addrs) == 0 {
		why := "no such host"
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound {
			why = "the system resolver could not look it up (" + de.Err + ")"
		}
		return bad(fmt.Sprintf("host name %q does not resolve: %s", host, why))
	}
	a := addrs[0].Unmap()
	for _, x := range addrs {
		if x.Unmap().Is4() {
			a = x.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(a, uint16(n)).String(), nil
}

// Name implements Resolver.
func (c *Client) Name() string { return strings.Join(c.Servers, ",") }

// Exchange implements Resolver.
func (c *Client) Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	retries := c.Retries
	if retries <= 0 {
		retries = 2
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(escapeName(name)), qtype)
	q.RecursionDesired = true
	q.AuthenticatedData = true
	q.SetEdns0(1232, true) // 1232: the DNS flag day 2020 size that avoids fragmentation

	var lastErr error
	lastServer := ""
	for round := 0; round < retries; round++ {
		for _, srv := range c.Servers {
			if err := ctx.Err(); err != nil {
				return nil, &DNSError{Name: name, Qtype: qtype, Rcode: -1, Err: err, Server: srv}
			}
			ans, err := c.exchangeOne(ctx, q, srv, timeout)
			if err != nil {
				lastErr, lastServer = err, srv
				continue
			}
			// SERVFAIL and REFUSED from one server may not hold for the next.
			if ans.Rcode == dns.RcodeServerFailure || ans.Rcode == dns.RcodeRefused {
				lastErr = &DNSError{Name: name, Qtype: qtype, Rcode: ans.Rcode, Server: srv}
				lastServer = srv
				continue
			}
			return ans, nil
		}
	}
	var de *DNSError
	if errors.As(lastErr, &de) {
		return nil, de
	}
	return nil, &DNSError{Name: name, Qtype: qtype, Rcode: -1, Err: lastErr, Server: lastServer}
}

func (c *Client) exchangeOne(ctx context.Context, q *dns.Msg, srv string, timeout time.Duration) (*Answer, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q.Id = dns.Id()
	cl := &dns.Client{Net: "udp", Timeout: timeout, UDPSize: 1232}
	r, rtt, err := cl.ExchangeContext(actx, q, srv)
	tcp := false
	if err == nil && r.Truncated {
		c.trace(q, r, srv, rtt, false, nil)
		tcp = true
		cl = &dns.Client{Net: "tcp", Timeout: timeout}
		r, rtt, err = cl.ExchangeContext(actx, q, srv)
	}
	c.trace(q, r, srv, rtt, tcp, err)
	if err != nil {
		return nil, err
	}
	if r.Id != q.Id || len(r.Question) != 1 || !sameName(r.Question[0].Name, q.Question[0].Name) {
		return nil, errors.New("reply does not match the question")
	}
	return &Answer{Msg: r, Server: srv, RTT: rtt, Rcode: r.Rcode, AD: r.AuthenticatedData, TCP: tcp}, nil
}

// trace prints one exchange like dig: the question, the reply sections and
// the statistics footer.
func (c *Client) trace(q, r *dns.Msg, srv string, rtt time.Duration, tcp bool, err error) {
	if c.Trace == nil {
		return
	}
	var b strings.Builder
	proto := "UDP"
	if tcp {
		proto = "TCP"
	}
	fmt.Fprintf(&b, "; <<>> postlab <<>> @%s %s %s\n", srv, q.Question[0].Name, dns.TypeToString[q.Question[0].Qtype])
	if err != nil {
		fmt.Fprintf(&b, ";; no answer: %v\n\n", err)
	} else {
		b.WriteString(r.String())
		if r.Truncated && !tcp {
			b.WriteString(";; Truncated, retrying in TCP mode.\n")
		}
		fmt.Fprintf(&b, ";; Query time: %d msec\n;; SERVER: %s(%s)\n;; MSG SIZE  rcvd: %d\n\n", rtt.Milliseconds(), srv, proto, r.Len())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.Trace, b.String())
}

// cache wraps a Resolver for the duration of one report: identical questions
// asked by different checks share one query (and one in-flight wait), and it
// remembers whether any response arrived at all.
type cache struct {
	r        Resolver
	mu       sync.Mutex
	entries  map[cacheKey]*cacheEntry
	answered bool
	lastErr  error
}

type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	done chan struct{}
	ans  *Answer
	err  error
}

func newCache(r Resolver) *cache {
	return &cache{r: r, entries: map[cacheKey]*cacheEntry{}}
}

func (c *cache) Name() string { return c.r.Name() }

func (c *cache) Exchange(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	k := cacheKey{strings.ToLower(dns.Fqdn(name)), qtype}
	c.mu.Lock()
	e, ok := c.entries[k]
	if !ok {
		e = &cacheEntry{done: make(chan struct{})}
		c.entries[k] = e
		c.mu.Unlock()
		e.ans, e.err = c.r.Exchange(ctx, name, qtype)
		c.mu.Lock()
		if e.err == nil {
			c.answered = true
		} else {
			c.lastErr = e.err
			var de *DNSError
			if !errors.As(e.err, &de) || de.Unreachable() {
				// A transport failure (perhaps this check's timeout) is not
				// remembered: another check may ask again.
				delete(c.entries, k)
			}
		}
		c.mu.Unlock()
		close(e.done)
		return e.ans, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.ans, e.err
	case <-ctx.Done():
		return nil, &DNSError{Name: name, Qtype: qtype, Rcode: -1, Err: ctx.Err()}
	}
}

// status reports whether any response arrived, and the last error seen.
func (c *cache) status() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered, c.lastErr
}

// lookup asks r and returns the records of qtype. A name that does not exist
// or has no such records gives no records and no error (RFC 2308); the Answer
// is returned so callers can tell the two apart.
func lookup(ctx context.Context, r Resolver, name string, qtype uint16) ([]dns.RR, *Answer, error) {
	ans, err := r.Exchange(ctx, name, qtype)
	if err != nil {
		return nil, nil, err
	}
	if ans.Rcode != dns.RcodeSuccess && ans.Rcode != dns.RcodeNameError {
		return nil, ans, &DNSError{Name: name, Qtype: qtype, Rcode: ans.Rcode, Server: ans.Server}
	}
	return ans.Records(qtype), ans, nil
}

// LookupTXT returns the TXT strings at name, each record's strings joined
// (RFC 7208 §3.3).
func LookupTXT(ctx context.Context, r Resolver, name string) ([]string, *Answer, error) {
	rrs, ans, err := lookup(ctx, r, name, dns.TypeTXT)
	var out []string
	for _, rr := range rrs {
		var parts []string
		for _, p := range rr.(*dns.TXT).Txt {
			parts = append(parts, txtString(p))
		}
		out = append(out, strings.Join(parts, ""))
	}
	return out, ans, err
}

// LookupIP returns the A (and, with v6, AAAA) addresses of name, asked concurrently.
func LookupIP(ctx context.Context, r Resolver, name string, v4, v6 bool) ([]netip.Addr, error) {
	type res struct {
		addrs []netip.Addr
		err   error
	}
	var wg sync.WaitGroup
	var a, aaaa res
	if v4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.addrs, _, a.err = lookupAddrs(ctx, r, name, dns.TypeA)
		}()
	}
	if v6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			aaaa.addrs, _, aaaa.err = lookupAddrs(ctx, r, name, dns.TypeAAAA)
		}()
	}
	wg.Wait()
	out := append(a.addrs, aaaa.addrs...)
	if a.err != nil {
		return out, a.err
	}
	return out, aaaa.err
}

// lookupAddrs returns the addresses of one type with the answer.
func lookupAddrs(ctx context.Context, r Resolver, name string, qtype uint16) ([]netip.Addr, *Answer, error) {
	rrs, ans, err := lookup(ctx, r, name, qtype)
	var out []netip.Addr
	for _, rr := range rrs {
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			ip = v.A
		case *dns.AAAA:
			ip = v.AAAA
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			if qtype == dns.TypeA {
				a = a.Unmap()
			}
			out = append(out, a)
		}
	}
	return out, ans, err
}

// LookupPTR returns the names the reverse zone gives for ip.
func LookupPTR(ctx context.Context, r Resolver, ip netip.Addr) ([]string, *Answer, error) {
	arpa, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return nil, nil, err
	}
	rrs, ans, err := lookup(ctx, r, arpa, dns.TypePTR)
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.(*dns.PTR).Ptr)
	}
	return out, ans, err
}

// LookupMX returns the MX records of name.
func LookupMX(ctx context.Context, r Resolver, name string) ([]*dns.MX, *Answer, error) {
	rrs, ans, err := lookup(ctx, r, name, dns.TypeMX)
	var out []*dns.MX
	for _, rr := range rrs {
		out = append(out, rr.(*dns.MX))
	}
	return out, ans, err
}

// escapeName turns a name made of raw label bytes (as SPF macros can
// produce: spaces, percent signs) into miekg/dns presentation format.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	return b.String()
}

// sameName compares two presentation-format names by their wire form, so
// different escapings of the same bytes are equal (case-insensitively, RFC 4343).
func sameName(a, b string) bool {
	ba, bb := make([]byte, 256), make([]byte, 256)
	na, err1 := dns.PackDomainName(dns.Fqdn(a), ba, 0, nil, false)
	nb, err2 := dns.PackDomainName(dns.Fqdn(b), bb, 0, nil, false)
	return err1 == nil && err2 == nil && bytes.EqualFold(ba[:na], bb[:nb])
}

// txtString undoes the presentation-format escaping miekg/dns applies to TXT
// strings (\DDD and \X), giving the bytes that were published.
func txtString(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// validLookupName checks the RFC 1035 limits that any DNS name must meet:
// labels of 1 to 63 octets, 253 in all (any octets are allowed).
func validLookupName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// LookupSRV returns the SRV records of name (RFC 2782) in the order served.
func LookupSRV(ctx context.Context, r Resolver, name string) ([]*dns.SRV, *Answer, error) {
	rrs, ans, err := lookup(ctx, r, name, dns.TypeSRV)
	var out []*dns.SRV
	for _, rr := range rrs {
		out = append(out, rr.(*dns.SRV))
	}
	return out, ans, err
}

// trimDot drops the root dot for display.
func trimDot(s string) string {
	if len(s) > 1 {
		return strings.TrimSuffix(s, ".")
	}
	return s
}
