package lab

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"postlab/explorer"
)

// trackedConn is the accepted TCP connection under TLS and the protocol. It
// gives an idle timeout that restarts on every read (RFC 5321 §4.5.3.2.7
// asks for minutes between commands, not for a whole DATA transfer), counts
// writes so the trace can tell the server's lines from the client's, and
// lets a shutdown interrupt a session that is idle between transactions.
type trackedConn struct {
	net.Conn
	idle     time.Duration
	writes   atomic.Uint64
	inTx     atomic.Bool // a mail transaction is in progress
	draining atomic.Bool // the lab is shutting down
	hangUp   atomic.Bool // close right after the next write (a 421)

	closeOnce sync.Once
	done      chan struct{}
	onClose   func()
}

func newTrackedConn(c net.Conn, idle time.Duration, onClose func()) *trackedConn {
	return &trackedConn{Conn: c, idle: idle, done: make(chan struct{}), onClose: onClose}
}

var past = time.Unix(1, 0)

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.idle > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
	// Checked after setting the deadline, so a concurrent drain either sees
	// its own past deadline win or is seen here.
	if c.draining.Load() && !c.inTx.Load() {
		c.Conn.SetReadDeadline(past)
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	if c.idle > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	}
	n, err := c.Conn.Write(p)
	if c.hangUp.Load() {
		c.Conn.Close()
	}
	return n, err
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		close(c.done)
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

// drain asks the session to end at its next read outside a transaction.
func (c *trackedConn) drain() {
	c.draining.Store(true)
	if !c.inTx.Load() {
		c.Conn.SetReadDeadline(past)
	}
}

// oneConnListener hands a single connection to a server's Serve loop, then
// blocks until that connection is closed. It lets each session have its
// own smtp.Server and so its own Debug trace writer.
type oneConnListener struct {
	c        net.Conn
	tc       *trackedConn
	released <-chan struct{} // go-smtp let go of c (STARTTLS hands it on)
	once     sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.c })
	if c != nil {
		return c, nil
	}
	select {
	case <-l.tc.done:
	case <-l.released:
	}
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.tc.LocalAddr() }

// ipLimiter counts open connections per client address.
type ipLimiter struct {
	max   int
	mu    sync.Mutex
	count map[string]int
}

func (l *ipLimiter) acquire(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = make(map[string]int)
	}
	if l.max > 0 && l.count[ip] >= l.max {
		return false
	}
	l.count[ip]++
	return true
}

func (l *ipLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count[ip]--; l.count[ip] <= 0 {
		delete(l.count, ip)
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// limitedListener applies the lab's per-address connection limit to a
// listener served by another package (pop3d). Refused connections are
// answered off the accept loop and never reach the server.
type limitedListener struct {
	net.Listener
	lab    *Lab
	name   string // listener name, for the trace
	refuse func(c net.Conn, ip string)
}

func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		if ll.lab.limiter.acquire(ip) {
			return &limitedConn{Conn: c, release: func() { ll.lab.limiter.release(ip) }}, nil
		}
		ll.lab.Emit(ServerEvent{
			Session: ll.lab.nextSession(), Listener: ll.name, Remote: c.RemoteAddr().String(),
			Event: explorer.Event{Time: ll.lab.cfg.Clock(), Dir: explorer.Local, Err: true,
				State: explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseClosed},
				Line:  fmt.Sprintf("refused: %d connections from %s already open (--max-conns-per-ip)", ll.lab.cfg.MaxConnsPerIP, ip)},
		})
		go ll.refuse(c, ip)
	}
}

// limitedConn gives its slot back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
