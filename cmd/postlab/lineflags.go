package main

import (
	"fmt"
	"net"
	"net/mail"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/net/idna"

	"postlab/diag"
)

// checkLineFlags rejects, up front, flag values that would break the line
// they are sent on: a CR or LF ends an SMTP or POP3 command (RFC 5321
// §2.3.8, RFC 1939 §3) or a header field (RFC 5322 §2.2), and whatever
// follows would run as a command or header of its own. It also refuses an
// explicitly empty --resolver, which would silently mean the system's.
func checkLineFlags(cmd *cobra.Command) error {
	fl := cmd.Flags()
	changed := func(name string) (string, bool) {
		f := fl.Lookup(name)
		if f == nil || !f.Changed {
			return "", false
		}
		return f.Value.String(), true
	}
	if v, ok := changed("resolver"); ok && strings.TrimSpace(v) == "" {
		return usageErrorf("--resolver is empty: give a DNS server HOST:PORT, like 127.0.0.1:2553, or leave the flag out for the system's")
	}
	for _, name := range []string{"user", "subject"} {
		if v, ok := changed(name); ok && strings.ContainsAny(v, "\r\n\x00") {
			return usageErrorf("--%s %q: contains a line break or NUL, which would end the line and smuggle in a command or header of its own", name, v)
		}
	}
	if v, ok := changed("helo"); ok {
		if why := badHelo(v); why != "" {
			return usageErrorf("--helo %q: %s", v, why)
		}
	}
	return nil
}

// badHelo says why name cannot follow EHLO/HELO, which takes a domain or
// an address literal (RFC 5321 §4.1.1.1, §4.1.3), or returns "".
func badHelo(name string) string {
	const want = "want a domain like client.example.com or an address literal like [192.0.2.1] (RFC 5321 §4.1.1.1)"
	if name == "" {
		return "empty: " + want
	}
	if strings.ContainsAny(name, "\r\n\x00") {
		return "contains a line break or NUL, which would end the EHLO line and smuggle in a command of its own; " + want
	}
	if strings.ContainsAny(name, " \t") {
		return "contains a space: " + want
	}
	if lit, ok := strings.CutPrefix(name, "["); ok {
		lit, ok = strings.CutSuffix(lit, "]")
		v6, isV6 := strings.CutPrefix(lit, "IPv6:")
		ip := net.ParseIP(v6)
		if !ok || ip == nil || isV6 == (ip.To4() != nil) {
			return "not an address literal: " + want
		}
		return ""
	}
	d := strings.TrimSuffix(name, ".")
	if len(d) > 253 {
		return fmt.Sprintf("%d characters: a domain name is at most 253 (RFC 1035 §2.3.4)", len(d))
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "not a domain: " + want
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return "not a domain: " + want
			}
		}
	}
	return ""
}

// parseTarget is diag.ParseTarget, saying which length limit a name breaks
// (RFC 1035 §2.3.4: a label is at most 63 octets, a name 255 on the wire,
// 253 characters as text).
func parseTarget(s string) (diag.Target, error) {
	t, err := diag.ParseTarget(s)
	if err == nil {
		return t, nil
	}
	dom := strings.TrimSpace(s)
	if a, perr := mail.ParseAddress(dom); perr == nil && strings.ContainsAny(dom, "<>") {
		dom = a.Address
	}
	if i := strings.LastIndexByte(dom, '@'); i >= 0 {
		dom = dom[i+1:]
	}
	dom = strings.TrimSuffix(dom, ".")
	if a, aerr := idna.Lookup.ToASCII(dom); aerr == nil {
		dom = a
	}
	for _, l := range strings.Split(dom, ".") {
		if len(l) > 63 {
			return t, fmt.Errorf("bad domain %q: the label %q is %d octets long; a label is at most 63 (RFC 1035 §2.3.4)", s, l, len(l))
		}
	}
	if len(dom) > 253 {
		return t, fmt.Errorf("bad domain %q: the name is %d characters long; a domain name is at most 253 (255 octets on the wire, RFC 1035 §2.3.4)", s, len(dom))
	}
	return t, err
}
