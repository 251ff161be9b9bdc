package tui

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"postlab/explorer"
)

// Security is how a session protects its connection.
type Security string

const (
	Plain    Security = "plain"    // no TLS
	StartTLS Security = "starttls" // plain, then STARTTLS (SMTP, RFC 3207) or STLS (POP3, RFC 2595)
	TLS      Security = "tls"      // implicit TLS from the first byte (RFC 8314)
)

// Target says where and how to connect.
type Target struct {
	Proto    explorer.Protocol
	Host     string
	Port     int
	Security Security
	User     string
	Password string // never from a URL or a flag; typed in the connect form
	// RootCAs verifies the server's certificate (the lab's own CA for lab
	// presets); nil means the system roots.
	RootCAs *x509.CertPool
}

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// String is the URL form of the target (without password).
func (t Target) String() string {
	scheme := string(t.Proto)
	if t.Security == TLS {
		scheme += "s"
	}
	u := url.URL{Scheme: scheme, Host: t.Addr()}
	if t.User != "" {
		u.User = url.User(t.User)
	}
	if t.Security == StartTLS {
		u.RawQuery = "starttls"
	}
	return u.String()
}

// DefaultPort is the well-known port for a protocol and security.
func DefaultPort(p explorer.Protocol, s Security) int {
	switch {
	case p == explorer.POP3 && s == TLS:
		return 995
	case p == explorer.POP3:
		return 110
	case s == TLS:
		return 465
	default:
		return 25
	}
}

// ParseTarget reads smtp://, smtps://, pop3:// and pop3s:// URLs; a
// "?starttls" query asks for STARTTLS (SMTP) or STLS (POP3).
func ParseTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("bad URL %q: want smtp://HOST[:PORT], smtps://, pop3:// or pop3s:// (add ?starttls for STARTTLS)", s)
	}
	var t Target
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		t.Proto, t.Security = explorer.SMTP, Plain
	case "smtps":
		t.Proto, t.Security = explorer.SMTP, TLS
	case "pop3", "pop":
		t.Proto, t.Security = explorer.POP3, Plain
	case "pop3s", "pops":
		t.Proto, t.Security = explorer.POP3, TLS
	default:
		return Target{}, fmt.Errorf("unknown scheme %q in %q: use smtp, smtps, pop3 or pop3s", u.Scheme, s)
	}
	q := u.Query()
	if _, ok := q["starttls"]; ok || q.Get("tls") == "starttls" {
		if t.Security == TLS {
			return Target{}, fmt.Errorf("%q asks for both implicit TLS and STARTTLS: use %s:// with ?starttls", s, t.Proto)
		}
		t.Security = StartTLS
	}
	t.Host = u.Hostname()
	t.Port = DefaultPort(t.Proto, t.Security)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("bad port %q in %q", p, s)
		}
		t.Port = n
	}
	if u.User != nil {
		t.User = u.User.Username()
	}
	return t, nil
}
