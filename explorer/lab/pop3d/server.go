package pop3d

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"postlab/explorer"
)

// Config configures a Server. The zero value of each optional field picks the
// default noted beside it.
type Config struct {
	Hostname          string      // in the greeting and the APOP timestamp; default "localhost"
	TLSConfig         *tls.Config // nil: no STLS
	Auth              Authenticator
	Store             MaildropStore
	AllowInsecureAuth bool          // allow USER/PASS, AUTH PLAIN and APOP without TLS (a teaching switch)
	AuthFailDelay     time.Duration // pause before answering bad credentials; default 1s, <0 for none
	IdleTimeout       time.Duration // autologout timer; default 10 min, the minimum of RFC 1939 §3
	MaxLineLength     int           // octets per command line including CRLF; default 255 (RFC 2449 §4)
	// Domains are the mail domains whose users log in here: a login name
	// "user@domain" must name one of them (a bare "user" always may).
	// Empty: no name with a domain is accepted.
	Domains []string
	// Trace receives every line in both directions, credentials masked
	// (PASS, APOP digests, AUTH data, and lines that may be SASL data
	// after an AUTH). Lines are otherwise as sent, control bytes included:
	// whoever prints them escapes them (the lab does, in Lab.Emit). It is
	// called from the session's goroutine and must not block.
	Trace func(session uint64, remote string, ev explorer.Event)
}

// Defaults (see Config).
const (
	DefaultAuthFailDelay = time.Second
	DefaultIdleTimeout   = 10 * time.Minute
	DefaultMaxLineLength = 255
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pop3d: server closed")

// Server is a POP3 server. Serve may be called for several listeners (for
// example the plain port and the implicit-TLS port) on one Server.
type Server struct {
	cfg    Config
	pid    int
	nextID atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	closing   bool
	done      chan struct{} // closed by Shutdown
	wg        sync.WaitGroup
}

// NewServer returns a server for cfg with defaults filled in.
func NewServer(cfg Config) *Server {
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.AuthFailDelay == 0 {
		cfg.AuthFailDelay = DefaultAuthFailDelay
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxLineLength <= 0 {
		cfg.MaxLineLength = DefaultMaxLineLength
	}
	return &Server{
		cfg:       cfg,
		pid:       os.Getpid(),
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*session]struct{}),
		done:      make(chan struct{}),
	}
}

// Serve accepts connections on l until Shutdown or a permanent accept error.
// A listener made by tls.NewListener gives implicit TLS (POP3S, RFC 8314):
// the handshake runs before the greeting and the session is marked TLS.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		sess := s.newSession(c)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				if v := recover(); v != nil {
					// A backend panic outside a command (Unlock) drops this
					// session only.
					sess.phase = explorer.PhaseClosed
					sess.note(true, fmt.Sprintf("internal error: %v", v))
					sess.raw.Close()
				}
				s.mu.Lock()
				delete(s.sessions, sess)
				s.mu.Unlock()
				s.wg.Done()
			}()
			sess.serve()
		}()
	}
}

// Shutdown stops accepting and ends every session at its next wait for the
// client: it answers "-ERR [SYS/TEMP] server shutting down" (RFC 2449 §8,
// RFC 3206 §4) and closes without UPDATE, so nothing is deleted (RFC 1939
// §6 applies deletions only after QUIT). A response being sent is finished
// first. Sessions still open when ctx ends are closed, and Shutdown waits
// for their maildrops to be unlocked; it then returns a *CutShortError
// that unwraps to ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.done)
	}
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	for sess := range s.sessions {
		sess.drain()
	}
	s.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return err
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := 0
	for sess := range s.sessions {
		if !sess.ending.Load() { // one already told and closing is not cut short
			n++
		}
		sess.forceClose()
	}
	s.mu.Unlock()
	<-finished
	if n == 0 {
		return err
	}
	return &CutShortError{Sessions: n, Err: ctx.Err()}
}

func (s *Server) authAllowed(isTLS bool) bool {
	return isTLS || s.cfg.AllowInsecureAuth
}
