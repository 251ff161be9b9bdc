package pop3d

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"postlab/explorer"
)

// NormalizeUser maps a login name to the maildrop owner: lower case, and the
// local part of an address ("Alice@postlab.test" is "alice"). ok is false for
// names that could not be a maildrop (empty, too long, path characters,
// control characters), which are refused before reaching the backend.
func NormalizeUser(name string) (user string, ok bool) {
	user = strings.ToLower(strings.TrimSpace(name))
	if at := strings.LastIndexByte(user, '@'); at >= 0 {
		user = user[:at]
	}
	if user == "" || len(user) > 64 || user == "." || user == ".." {
		return "", false
	}
	for i := 0; i < len(user); i++ {
		c := user[i]
		if c <= ' ' || c == 0x7f || c == '/' || c == '\\' || c == '@' || c == ':' {
			return "", false
		}
	}
	return user, true
}

// loginName is NormalizeUser for this server: a name with a domain must
// name one of cfg.Domains, so alice@other.test is not alice.
func (s *session) loginName(name string) (string, bool) {
	if at := strings.LastIndexByte(strings.TrimSpace(name), '@'); at >= 0 {
		dom := strings.TrimSuffix(strings.TrimSpace(name)[at+1:], ".")
		found := false
		for _, d := range s.srv.cfg.Domains {
			found = found || strings.EqualFold(dom, strings.TrimSuffix(d, "."))
		}
		if !found {
			return "", false
		}
	}
	return NormalizeUser(name)
}

// handleStls upgrades the connection (RFC 2595 §4).
func (s *session) handleStls(c Command) error {
	if len(c.Args) != 0 {
		return s.bad(errSyntax)
	}
	if s.tls {
		return s.bad(&Error{Msg: "command not permitted when TLS active"})
	}
	if s.srv.cfg.TLSConfig == nil {
		return s.bad(&Error{Msg: "STLS not available on this server"})
	}
	if err := s.ok("Begin TLS negotiation"); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.r.Buffered() > 0 {
		// Plaintext sent after STLS would otherwise be read as if it came
		// through TLS (the CVE-2011-0411 command injection).
		s.note(true, "client sent data after STLS before the TLS handshake: closing")
		return errStopSession
	}
	s.phase = explorer.PhaseTLS
	tc := tls.Server(s.conn, s.srv.cfg.TLSConfig)
	tc.SetDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
	if err := tc.Handshake(); err != nil {
		s.note(true, "TLS handshake failed: "+err.Error())
		return errStopSession
	}
	tc.SetDeadline(time.Time{})
	s.conn = tc
	s.r.Reset(tc)
	s.w.Reset(tc)
	s.tls = true
	s.noteTLS(tc)
	// RFC 2595 §4: the session stays in AUTHORIZATION and the client
	// should ask for CAPA again, since USER and SASL PLAIN now appear.
	s.phase = explorer.PhaseAuthz
	s.user = ""
	return nil
}

func (s *session) handleUser(c Command) error {
	if !s.srv.authAllowed(s.tls) {
		// RFC 2595 §2.2: no plaintext passwords without TLS. RFC 3206 §5
		// names "an attempt to authenticate in violation of policy" as a
		// reason for [AUTH]. Refusing at USER keeps the password unsent.
		return s.bad(errPlaintext)
	}
	if c.Arg == "" {
		return s.bad(&Error{Msg: "usage: USER name"})
	}
	// Whether the user exists is not revealed here (RFC 1939, Security Considerations).
	s.user = c.Arg
	s.userPending = true
	return s.ok("send PASS")
}

func (s *session) handlePass(c Command) error {
	if !s.srv.authAllowed(s.tls) {
		return s.bad(errPlaintext)
	}
	if c.Arg == "" {
		return s.bad(&Error{Msg: "usage: PASS password"})
	}
	// RFC 1939 §7: the whole rest of the line is the password, spaces too.
	pass := c.Arg
	return s.login(s.user, errAuthFailed, func(user string) bool {
		return s.srv.cfg.Auth.Check(user, pass)
	})
}

// handleApop checks MD5(timestamp + secret) (RFC 1939 §7). APOP sends a
// digest, not the password, but it is refused before TLS like the other
// logins: the mailbox would then travel in clear, and whoever records the
// digest can try passwords against it offline (RFC 1939 §7, RFC 2595 §2).
// The greeting keeps its timestamp, since it is not sent again after STLS.
func (s *session) handleApop(c Command) error {
	sa, ok := s.srv.cfg.Auth.(SecretAuthenticator)
	if !ok || s.timestamp == "" {
		return s.bad(&Error{Msg: "APOP not available on this server"})
	}
	if !s.srv.authAllowed(s.tls) {
		return s.bad(errAPOPPlaintext)
	}
	if len(c.Args) != 2 {
		return s.bad(&Error{Msg: "usage: APOP name digest"})
	}
	digest := strings.ToLower(c.Args[1])
	return s.login(c.Args[0], errAPOPFailed, func(user string) bool {
		secret, ok := sa.Secret(user)
		if !ok {
			return false
		}
		sum := md5.Sum([]byte(s.timestamp + secret))
		want := hex.EncodeToString(sum[:])
		return subtle.ConstantTimeCompare([]byte(want), []byte(digest)) == 1
	})
}

// handleAuth runs a SASL exchange (RFC 5034). Only PLAIN (RFC 4616) is
// offered; AUTH without a mechanism lists them, as RFC 1734 clients expect.
func (s *session) handleAuth(c Command) error {
	if len(c.Args) == 0 {
		if err := s.ok("methods supported"); err != nil {
			return err
		}
		if s.srv.authAllowed(s.tls) {
			if err := s.writeLine("PLAIN", true); err != nil {
				return err
			}
		}
		return s.endMulti()
	}
	if len(c.Args) > 2 {
		return s.bad(errSyntax)
	}
	if !strings.EqualFold(c.Args[0], "PLAIN") {
		return s.bad(&Error{Msg: "unsupported authentication mechanism"})
	}
	if !s.srv.authAllowed(s.tls) {
		return s.bad(errPlaintext)
	}
	s.mech = "PLAIN"
	defer func() {
		if !s.authed {
			s.mech = ""
		}
	}()
	var resp string
	if len(c.Args) == 2 {
		resp = c.Args[1]
	} else {
		// An empty challenge: "+ " (RFC 5034 §4).
		s.phase = explorer.PhaseAuth
		if err := s.writeLine("+ ", false); err != nil {
			return err
		}
		line, err := s.readLine(saslLineLimit)
		if err != nil {
			if errors.Is(err, errLongLine) {
				s.phase = explorer.PhaseAuthz
				return s.bad(errLineTooLong)
			}
			s.readFailed(err)
			return errStopSession
		}
		if line == "*" {
			s.emit(explorer.ClientToServer, line, false, false)
			s.phase = explorer.PhaseAuthz
			return &Error{Msg: "authentication cancelled"}
		}
		s.emit(explorer.ClientToServer, "****", false, false)
		s.phase = explorer.PhaseAuthz
		resp = line
	}
	var data []byte
	if resp != "=" { // "=" is an empty initial response (RFC 5034 §4)
		var err error
		if data, err = base64.StdEncoding.DecodeString(resp); err != nil {
			return s.bad(&Error{Msg: "invalid base64 in SASL response"})
		}
	}
	parts := bytes.Split(data, []byte{0})
	if len(parts) != 3 {
		return s.authFailed(&Error{Code: CodeAuth, Msg: "malformed PLAIN response"})
	}
	authz, authc, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" {
		// Logging in as someone else is not supported: the authorization
		// identity, if given, must name the same user.
		a, ok1 := s.loginName(authz)
		b, ok2 := s.loginName(authc)
		if !ok1 || !ok2 || a != b {
			return s.authFailed(errAuthFailed)
		}
	}
	return s.login(authc, errAuthFailed, func(user string) bool {
		return s.srv.cfg.Auth.Check(user, pass)
	})
}

// authFailed waits AuthFailDelay against guessing, then returns e.
func (s *session) authFailed(e *Error) error {
	s.authFails++
	if d := s.srv.cfg.AuthFailDelay; d > 0 {
		s.w.Flush()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.kill:
			t.Stop()
		}
	}
	return e
}

// login checks credentials for name with check, locks the maildrop and
// enters TRANSACTION (RFC 1939 §4).
func (s *session) login(name string, fail *Error, check func(user string) bool) error {
	s.user = ""
	user, ok := s.loginName(name)
	if !ok || s.srv.cfg.Auth == nil || !check(user) {
		return s.authFailed(fail)
	}
	if s.srv.cfg.Store == nil {
		return &Error{Code: CodeSysPerm, Msg: "no maildrops on this server"}
	}
	drop, err := s.srv.cfg.Store.Lock(user)
	if err != nil {
		var pe *Error
		switch {
		case errors.Is(err, ErrInUse):
			return errInUse
		case errors.As(err, &pe):
			return pe
		default:
			s.note(true, "locking maildrop failed: "+err.Error())
			return errLockFailed
		}
	}
	s.drop = drop
	s.msgs = drop.Messages()
	for _, m := range s.msgs {
		if !validUID(m.UID) {
			s.note(true, fmt.Sprintf("store gave a unique-id that RFC 1939 §7 does not allow: %q", m.UID))
		}
	}
	s.deleted = make([]bool, len(s.msgs))
	s.authed = true
	s.phase = explorer.PhaseTrans
	n, size := s.stat()
	return s.ok(fmt.Sprintf("%s's maildrop has %s (%d octets)", user, messages(n), size))
}

// validUID reports whether uid is 1-70 characters in 0x21-0x7E (RFC 1939 §7).
func validUID(uid string) bool {
	if uid == "" || len(uid) > 70 {
		return false
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e {
			return false
		}
	}
	return true
}
