package explorer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Network and TLS errors rewritten as one line that says what happened and
// what to try, instead of Go's "dial tcp A: connect: connection refused".
// The original error stays wrapped for errors.Is/As.

type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explainDial describes a failed TCP connection to addr.
func explainDial(err error, addr string) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &explained{fmt.Sprintf("nothing listens on %s (connection refused): check the host and the port", addr), err}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &explained{fmt.Sprintf("host %q not found in DNS: check the name", dnsErr.Name), err}
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return &explained{fmt.Sprintf("no route to %s (%v): check the address and the network; -4 or -6 picks the IP version", addr, rootCause(err)), err}
	case errors.Is(err, syscall.ECONNRESET):
		return &explained{fmt.Sprintf("%s reset the connection at once: something listens but refuses us (a firewall or a wrong port?)", addr), err}
	}
	return &explained{fmt.Sprintf("cannot connect to %s: %v", addr, rootCause(err)), err}
}

// rootCause drops Go's "dial tcp ADDR: connect:" layers.
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		err = sc.Err
	}
	return err
}

// explainTLS describes a failed handshake; implicit is true when TLS was
// to start with the first byte (not after STARTTLS/STLS).
func (s *Session) explainTLS(err error, implicit bool) error {
	var rh tls.RecordHeaderError
	tlsPort := "465 for SMTP"
	upgrade := "--starttls (STARTTLS)"
	if s.State().Proto == POP3 {
		tlsPort, upgrade = "995 for POP3", "--starttls (STLS)"
	}
	switch {
	case errors.As(err, &rh) && implicit:
		return &explained{fmt.Sprintf("the server answered in plain text (%q), not TLS: it speaks plain text on this port; use %s here, or the implicit-TLS port (%s)",
			printable(string(rh.RecordHeader[:])), upgrade, tlsPort), err}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		hint := "it accepts none of our TLS versions and ciphers, or does not speak TLS here"
		if implicit {
			hint += " (try " + upgrade + ")"
		}
		return &explained{"the server closed the connection during the TLS handshake: " + hint, err}
	case errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "deadline exceeded"):
		msg := fmt.Sprintf("no TLS handshake within %s (timeout)", s.opts.replyTimeout())
		if implicit {
			msg += ": the server may speak plain text here and wait for us; try " + upgrade
		}
		return &explained{msg, err}
	}
	// crypto/tls prefixes its errors with "tls: ", and so does ConnError.
	return &explained{strings.TrimPrefix(err.Error(), "tls: "), err}
}

// WrongServiceError is a greeting from another protocol's server (a POP3
// "+OK" on an SMTP session, an SMTP "220" on a POP3 one, an IMAP, SSH or
// HTTP banner): the port is wrong, not the server. The session is closed
// without sending anything more.
type WrongServiceError struct {
	Want Protocol // what the session speaks
	Seen string   // "SMTP", "POP3", "IMAP", "SSH" or "HTTP"
	Line string   // the greeting, printable
}

func (e *WrongServiceError) Error() string {
	what := map[string]string{"SMTP": "an SMTP", "POP3": "a POP3", "IMAP": "an IMAP", "SSH": "an SSH", "HTTP": "a web (HTTP)"}[e.Seen]
	usual := "SMTP submission is usually 587"
	if e.Want == POP3 {
		usual = "POP3 is usually 110, or 995 with --tls"
	}
	return fmt.Sprintf("this looks like %s server: wrong port? (%s)", what, usual)
}

// foreignGreeting names the protocol whose greeting line is, when it is
// not want's: POP3 (RFC 1939 §4), SMTP (RFC 5321 §4.3.1), IMAP (RFC 9051
// §7.1), SSH (RFC 4253 §4.2), HTTP (a status line, RFC 9112 §4).
func foreignGreeting(line string, want Protocol) string {
	switch {
	case strings.HasPrefix(line, "SSH-"):
		return "SSH"
	case strings.HasPrefix(line, "HTTP/"):
		return "HTTP"
	case strings.HasPrefix(line, "* OK") || strings.HasPrefix(line, "* PREAUTH") || strings.HasPrefix(line, "* BYE"):
		return "IMAP"
	case want == SMTP && (strings.HasPrefix(line, "+OK") || strings.HasPrefix(line, "-ERR")):
		return "POP3"
	case want == POP3:
		if _, err := ParseReplyLine(line); err == nil {
			return "SMTP"
		}
	}
	return ""
}

// wrongService checks a greeting that did not parse: another protocol's
// is recorded as such, and the session is closed at once (a QUIT would be
// a command of the wrong protocol). It returns nil for any other line.
func (s *Session) wrongService(line string, st State) error {
	if st.Phase != PhaseConnect {
		return nil
	}
	seen := foreignGreeting(line, st.Proto)
	if seen == "" {
		return nil
	}
	err := &WrongServiceError{Want: st.Proto, Seen: seen, Line: printable(line)}
	s.broken = err
	s.emitWith(Event{Dir: Local, Line: "error: " + err.Error(), Err: true}, st)
	s.Close()
	return err
}
