package lab

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SASL server mechanisms for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN
// (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195). Each returns an
// *smtp.SMTPError so the client gets the RFC 4954 §6 code.

var (
	// authOK is RFC 4954 §6's success reply. go-smtp v0.25 writes
	// "235 2.0.0" itself when a mechanism finishes without error, so the
	// mechanisms finish with this "error", which go-smtp sends as is. The
	// session then refuses a second AUTH itself (go-smtp does not know).
	authOK        = &smtp.SMTPError{Code: 235, EnhancedCode: smtp.EnhancedCode{2, 7, 0}, Message: "Authentication successful"}
	errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errAuthSyntax = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Malformed SASL response"}
	errAuthNoIR   = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "CRAM-MD5 takes no initial response (RFC 2195)"}
)

// authChecker verifies credentials and records the result.
type authChecker struct {
	users  *Users
	domain string
	delay  time.Duration
	ok     func(user string)
}

// normUser turns "Alice" or "alice@postlab.test" into "alice"; other
// domains are not ours.
func normUser(login, domain string) (string, bool) {
	u := strings.ToLower(strings.TrimSpace(login))
	if local, dom, ok := strings.Cut(u, "@"); ok {
		if !strings.EqualFold(dom, domain) {
			return "", false
		}
		u = local
	}
	return u, ValidUserName(u) == nil
}

func (a *authChecker) fail() error {
	if a.delay > 0 {
		time.Sleep(a.delay) // slows down password guessing
	}
	return errAuthFailed
}

func (a *authChecker) check(login, password string) error {
	u, ok := normUser(login, a.domain)
	if !ok || !a.users.Check(u, password) {
		return a.fail()
	}
	a.ok(u)
	return authOK
}

// plainServer: one message "authzid NUL authcid NUL passwd" (RFC 4616 §2).
type plainServer struct {
	a    *authChecker
	done bool
}

func (s *plainServer) Next(resp []byte) ([]byte, bool, error) {
	if s.done {
		return nil, false, sasl.ErrUnexpectedClientResponse
	}
	if resp == nil {
		return []byte{}, false, nil // empty challenge: "334 "
	}
	s.done = true
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 {
		return nil, false, errAuthSyntax
	}
	authz, authc, pw := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" {
		zu, _ := normUser(authz, s.a.domain)
		cu, _ := normUser(authc, s.a.domain)
		if zu != cu {
			return nil, false, s.a.fail() // no acting as another user
		}
	}
	return nil, true, s.a.check(authc, pw)
}

// loginServer: "Username:" then "Password:" challenges. A client may send
// the user name as an initial response.
type loginServer struct {
	a     *authChecker
	step  int
	login string
}

func (s *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		s.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		s.login = string(resp)
		s.step = 2
		return []byte("Password:"), false, nil
	case 2:
		s.step = 3
		return nil, true, s.a.check(s.login, string(resp))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// cramServer: challenge "<random.time@host>", response "user hex(HMAC-MD5)".
type cramServer struct {
	a         *authChecker
	host      string
	challenge []byte
}

func (s *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if s.challenge == nil {
		if resp != nil {
			return nil, false, errAuthNoIR
		}
		var r [8]byte
		rand.Read(r[:])
		s.challenge = fmt.Appendf(nil, "<%s.%d@%s>", hex.EncodeToString(r[:]), time.Now().Unix(), s.host)
		return s.challenge, false, nil
	}
	login, digest, ok := strings.Cut(string(resp), " ")
	if !ok {
		return nil, false, errAuthSyntax
	}
	u, ok := normUser(login, s.a.domain)
	if !ok {
		return nil, false, s.a.fail()
	}
	secret, ok := s.a.users.Secret(u)
	if !ok {
		return nil, false, s.a.fail()
	}
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write(s.challenge)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(digest))) {
		return nil, false, s.a.fail()
	}
	s.a.ok(u)
	return nil, true, authOK
}
