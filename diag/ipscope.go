package diag

import (
	"fmt"
	"net/netip"
	"strings"
)

// Special-purpose address blocks (the IANA registries of RFC 6890), so that
// reports call 127.0.0.1 loopback rather than "private", and say what each
// kind means for mail.

// AddrScope describes the special-purpose block an address is in.
type AddrScope struct {
	Prefix netip.Prefix
	Name   string // "loopback", "private", "link-local", ...
	Means  string // what it means for mail, one sentence
	Ref    string
	// Local: the address can never be a public sender or receiver on the
	// Internet, so blocklists and public reverse DNS say nothing about it.
	Local bool
}

var addrScopes = func() []AddrScope {
	const (
		thisHost = "It means this machine itself: only programs on the same computer can connect to it."
		internal = "It is only reachable inside a local network; mail servers on the Internet cannot connect to it."
		docs     = "It is reserved for examples and documentation and is never used on the Internet."
	)
	mk := func(p, name, means, ref string, local bool) AddrScope {
		return AddrScope{Prefix: netip.MustParsePrefix(p), Name: name, Means: means, Ref: ref, Local: local}
	}
	return []AddrScope{
		mk("0.0.0.0/8", "\"this network\" address", "It is not a destination at all; a record pointing at it is a mistake.", "RFC 1122 §3.2.1.3", true),
		mk("127.0.0.0/8", "loopback address", thisHost, "RFC 1122 §3.2.1.3", true),
		mk("10.0.0.0/8", "private address", internal, "RFC 1918 §3", true),
		mk("172.16.0.0/12", "private address", internal, "RFC 1918 §3", true),
		mk("192.168.0.0/16", "private address", internal, "RFC 1918 §3", true),
		mk("100.64.0.0/10", "shared (carrier-grade NAT) address", "It belongs to a provider's carrier-grade NAT; it is not reachable from the Internet.", "RFC 6598", true),
		mk("169.254.0.0/16", "link-local address", "It only works on one network segment (it is what a machine picks when DHCP fails).", "RFC 3927 §1", true),
		mk("192.0.0.0/24", "IETF protocol assignment", "It is reserved for protocol use and is not a mail server's address.", "RFC 6890 §2.2.2", true),
		mk("192.0.2.0/24", "documentation address (TEST-NET-1)", docs, "RFC 5737 §3", false),
		mk("198.51.100.0/24", "documentation address (TEST-NET-2)", docs, "RFC 5737 §3", false),
		mk("203.0.113.0/24", "documentation address (TEST-NET-3)", docs, "RFC 5737 §3", false),
		mk("198.18.0.0/15", "benchmarking address", "It is reserved for network benchmark tests.", "RFC 2544 §C.2.2", true),
		mk("224.0.0.0/4", "multicast address", "It addresses a group, never one mail server.", "RFC 5771", true),
		mk("255.255.255.255/32", "broadcast address", "It is the limited broadcast address, never one mail server.", "RFC 919 §7", true),
		mk("240.0.0.0/4", "reserved address", "It is reserved for future use and not routed.", "RFC 1112 §4", true),
		mk("::/128", "unspecified address", "It is not a destination at all; a record pointing at it is a mistake.", "RFC 4291 §2.5.2", true),
		mk("::1/128", "loopback address", thisHost, "RFC 4291 §2.5.3", true),
		mk("fc00::/7", "unique local IPv6 address", internal, "RFC 4193 §3", true),
		mk("fe80::/10", "link-local IPv6 address", "It only works on one network segment.", "RFC 4291 §2.5.6", true),
		mk("ff00::/8", "multicast address", "It addresses a group, never one mail server.", "RFC 4291 §2.7", true),
		mk("2001:db8::/32", "documentation address", docs, "RFC 3849", false),
		mk("3fff::/20", "documentation address", docs, "RFC 9637", false),
		mk("100::/64", "discard-only address", "Traffic to it is dropped on purpose.", "RFC 6666", true),
	}
}()

// SpecialScope returns the special-purpose block of ip, if any (an
// IPv4-mapped IPv6 address is looked at as IPv4).
func SpecialScope(ip netip.Addr) (AddrScope, bool) {
	ip = ip.Unmap()
	for _, s := range addrScopes {
		if s.Prefix.Contains(ip) {
			return s, true
		}
	}
	return AddrScope{}, false
}

// Describe says what ip is, e.g. "127.0.0.1 is a loopback address
// (127.0.0.0/8, RFC 1122 §3.2.1.3)".
func (s AddrScope) Describe(ip netip.Addr) string {
	return fmt.Sprintf("%s is %s (%s, %s)", ip, s.AName(), s.Prefix, s.Ref)
}

// AName is the name with its article: "a loopback address", "an unspecified address".
func (s AddrScope) AName() string {
	// "an" before a vowel sound ("a unique local...": a consonant sound).
	if s.Name != "" && strings.ContainsRune("aeio", rune(s.Name[0])) || strings.HasPrefix(s.Name, "un") && !strings.HasPrefix(s.Name, "uni") {
		return "an " + s.Name
	}
	return "a " + s.Name
}
