package diag

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SPF (RFC 7208): the record parser, check_host() written out over our
// Resolver so every step can be shown, and the diag check built on both.

// SPFResult is the outcome of check_host (RFC 7208 §2.6).
type SPFResult string

// The SPF results.
const (
	SPFNone      SPFResult = "none"
	SPFNeutral   SPFResult = "neutral"
	SPFPass      SPFResult = "pass"
	SPFFail      SPFResult = "fail"
	SPFSoftfail  SPFResult = "softfail"
	SPFTemperror SPFResult = "temperror"
	SPFPermerror SPFResult = "permerror"
)

// SPFDirective is one mechanism with its qualifier (RFC 7208 §4.6.2).
type SPFDirective struct {
	Qualifier byte         // '+', '-', '~' or '?'
	Mechanism string       // all, include, a, mx, ptr, ip4, ip6, exists (lower case)
	Domain    string       // domain-spec, macros unexpanded; "" means the current domain
	Prefix    netip.Prefix // ip4 and ip6
	CIDR4     int          // a and mx: prefix length for IPv4 (32 when absent)
	CIDR6     int          // a and mx: prefix length for IPv6 (128 when absent)
	Raw       string       // the term as written
}

// SPFRecord is a parsed "v=spf1" record.
type SPFRecord struct {
	Directives []SPFDirective
	Redirect   string   // redirect= domain-spec, "" when absent
	Exp        string   // exp= domain-spec, "" when absent
	Unknown    []string // unknown modifiers, ignored (RFC 7208 §6)
}

// IsSPFRecord reports whether a TXT string is an SPF record: "v=spf1"
// alone or followed by a space (RFC 7208 §4.5).
func IsSPFRecord(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

// ParseSPF parses an SPF record. Any syntax error makes the whole record a
// permerror (RFC 7208 §4.6).
func ParseSPF(txt string) (*SPFRecord, error) {
	if !IsSPFRecord(txt) {
		return nil, errors.New(`not an SPF record: it must start with "v=spf1"`)
	}
	rec := &SPFRecord{}
	seenRedirect, seenExp := false, false
	for _, term := range strings.Split(txt[6:], " ") {
		if term == "" {
			continue
		}
		for _, c := range []byte(term) {
			if c < 0x21 || c > 0x7e {
				return nil, fmt.Errorf("term %q: character %q is not allowed", term, c)
			}
		}
		if name, val, ok := splitModifier(term); ok {
			switch strings.ToLower(name) {
			case "redirect", "exp":
				if err := checkDomainSpec(val, false); err != nil {
					return nil, fmt.Errorf("%s: %v", term, err)
				}
				if strings.EqualFold(name, "redirect") {
					if seenRedirect {
						return nil, errors.New(`"redirect" appears twice (RFC 7208 §6)`)
					}
					seenRedirect, rec.Redirect = true, val
				} else {
					if seenExp {
						return nil, errors.New(`"exp" appears twice (RFC 7208 §6)`)
					}
					seenExp, rec.Exp = true, val
				}
			default:
				if err := checkMacroString(val, false); err != nil {
					return nil, fmt.Errorf("%s: %v", term, err)
				}
				rec.Unknown = append(rec.Unknown, term)
			}
			continue
		}
		d, err := parseDirective(term)
		if err != nil {
			return nil, err
		}
		rec.Directives = append(rec.Directives, d)
	}
	return rec, nil
}

// splitModifier recognises name=value, where name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
func splitModifier(term string) (string, string, bool) {
	i := strings.IndexByte(term, '=')
	if i <= 0 {
		return "", "", false
	}
	name := term[:i]
	for j, c := range name {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if j == 0 && !alpha || !(alpha || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", "", false
		}
	}
	return name, term[i+1:], true
}

func parseDirective(term string) (SPFDirective, error) {
	d := SPFDirective{Qualifier: '+', Raw: term, CIDR4: 32, CIDR6: 128}
	s := term
	if strings.ContainsRune("+-~?", rune(s[0])) {
		d.Qualifier, s = s[0], s[1:]
	}
	name, arg := s, ""
	hasArg := false
	if i := strings.IndexAny(s, ":/"); i >= 0 {
		name, arg = s[:i], s[i:]
		hasArg = true
	}
	d.Mechanism = strings.ToLower(name)
	bad := func(why string) (SPFDirective, error) {
		return d, fmt.Errorf("term %q: %s", term, why)
	}
	switch d.Mechanism {
	case "all":
		if hasArg {
			return bad(`"all" takes no argument`)
		}
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") || len(arg) == 1 {
			return bad(fmt.Sprintf("%q needs a domain: %s:example.com", d.Mechanism, d.Mechanism))
		}
		d.Domain = arg[1:]
		if err := checkDomainSpec(d.Domain, false); err != nil {
			return bad(err.Error())
		}
	case "a", "mx", "ptr":
		if d.Mechanism != "ptr" {
			var err error
			if arg, err = parseDualCIDR(arg, &d); err != nil {
				return bad(err.Error())
			}
		}
		if arg != "" {
			if !strings.HasPrefix(arg, ":") || len(arg) == 1 {
				return bad("malformed argument")
			}
			d.Domain = arg[1:]
			if err := checkDomainSpec(d.Domain, false); err != nil {
				return bad(err.Error())
			}
		}
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return bad(fmt.Sprintf("%q needs an address: %s:ADDRESS[/LEN]", d.Mechanism, d.Mechanism))
		}
		addr, bits := arg[1:], -1
		if i := strings.IndexByte(addr, '/'); i >= 0 {
			n, ok := cidrLen(addr[i+1:])
			if !ok {
				return bad("bad prefix length")
			}
			addr, bits = addr[:i], n
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Zone() != "" || (d.Mechanism == "ip4") != ip.Is4() {
			return bad("bad " + d.Mechanism + " address")
		}
		if bits < 0 {
			bits = ip.BitLen()
		}
		if bits > ip.BitLen() {
			return bad("prefix length too long")
		}
		d.Prefix = netip.PrefixFrom(ip, bits).Masked()
	default:
		return bad("unknown mechanism")
	}
	return d, nil
}

// parseDualCIDR strips "/n" and "//n" from the end of an a or mx argument.
func parseDualCIDR(arg string, d *SPFDirective) (string, error) {
	if i := strings.LastIndex(arg, "//"); i >= 0 {
		n, ok := cidrLen(arg[i+2:])
		if !ok || n > 128 {
			return "", errors.New("bad IPv6 prefix length")
		}
		d.CIDR6, arg = n, arg[:i]
	}
	if i := strings.LastIndexByte(arg, '/'); i >= 0 {
		n, ok := cidrLen(arg[i+1:])
		if !ok || n > 32 {
			return "", errors.New("bad IPv4 prefix length")
		}
		d.CIDR4, arg = n, arg[:i]
	}
	return arg, nil
}

// cidrLen parses a prefix length without leading zeros (RFC 7208 §5.6 ABNF).
func cidrLen(s string) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// checkDomainSpec validates domain-spec = macro-string domain-end (RFC 7208 §7.1).
func checkDomainSpec(s string, explain bool) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if err := checkMacroString(s, explain); err != nil {
		return err
	}
	// domain-end: a macro-expand, or "." toplabel ["."].
	if strings.HasSuffix(s, "}") || strings.HasSuffix(s, "%%") || strings.HasSuffix(s, "%_") || strings.HasSuffix(s, "%-") {
		return nil
	}
	t := strings.TrimSuffix(s, ".")
	i := strings.LastIndexByte(t, '.')
	if i < 0 {
		return fmt.Errorf("%q is not a fully qualified domain", s)
	}
	top := t[i+1:]
	if !validTopLabel(top) {
		return fmt.Errorf("%q does not end in a valid top-level label", s)
	}
	return nil
}

func validTopLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	alpha := false
	for _, c := range l {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			alpha = true
		case c >= '0' && c <= '9' || c == '-':
		default:
			return false
		}
	}
	return alpha
}

// macroLetters are the macro letters of RFC 7208 §7.2; c, r and t are only
// allowed in explanation text.
const macroLetters = "slodiphv"
const explainLetters = "crt"

// checkMacroString validates the macro syntax of s.
func checkMacroString(s string, explain bool) error {
	_, err := expandMacros(s, nil, explain)
	return err
}

// macroEnv is what macros expand to.
type macroEnv struct {
	sender, local, senderDomain string
	domain                      string
	ip                          netip.Addr
	helo                        string
	ptr                         func() string // %{p}, looked up on demand
	now                         time.Time
}

// expandMacros expands an SPF macro-string (RFC 7208 §7). With env nil it
// only checks the syntax.
func expandMacros(s string, env *macroEnv, explain bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New(`a lone "%" at the end; write "%%" for a percent sign`)
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
			continue
		case '_':
			b.WriteByte(' ')
			continue
		case '-':
			b.WriteString("%20")
			continue
		case '{':
		default:
			return "", fmt.Errorf(`bad macro "%%%c" (RFC 7208 §7.1)`, s[i])
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New(`unterminated macro "%{"`)
		}
		body := s[i+1 : i+end]
		i += end
		v, err := expandOne(body, env, explain)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// expandOne expands the inside of %{...}: letter, digits, "r", delimiters.
func expandOne(body string, env *macroEnv, explain bool) (string, error) {
	if body == "" {
		return "", errors.New(`empty macro "%{}"`)
	}
	letter := body[0]
	lower := letter | 0x20
	if !strings.ContainsRune(macroLetters, rune(lower)) && !(strings.ContainsRune(explainLetters, rune(lower)) && explain) {
		if strings.ContainsRune(explainLetters, rune(lower)) {
			return "", fmt.Errorf(`macro "%%{%c}" is only allowed in explanation text (RFC 7208 §7.2)`, letter)
		}
		return "", fmt.Errorf(`unknown macro letter %q (RFC 7208 §7.2)`, letter)
	}
	rest := body[1:]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	keep := 0
	if j > 0 {
		n, err := strconv.Atoi(rest[:j])
		if err != nil || n == 0 || j > 3 {
			return "", fmt.Errorf(`bad digit transformer in "%%{%s}"`, body)
		}
		keep = n
	}
	rest = rest[j:]
	reverse := false
	if rest != "" && (rest[0] == 'r' || rest[0] == 'R') {
		reverse, rest = true, rest[1:]
	}
	for _, d := range rest {
		if !strings.ContainsRune(".-+,/_=", d) {
			return "", fmt.Errorf(`bad delimiter %q in "%%{%s}"`, d, body)
		}
	}
	if env == nil {
		return "", nil
	}
	var v string
	switch lower {
	case 's':
		v = env.sender
	case 'l':
		v = env.local
	case 'o':
		v = env.senderDomain
	case 'd':
		v = env.domain
	case 'i':
		v = dottedIP(env.ip)
	case 'p':
		v = env.ptr()
	case 'v':
		if env.ip.Is4() {
			v = "in-addr"
		} else {
			v = "ip6"
		}
	case 'h':
		v = env.helo
	case 'c':
		v = env.ip.String()
	case 'r':
		v = "unknown"
	case 't':
		v = strconv.FormatInt(env.now.Unix(), 10)
	}
	delims := rest
	if delims == "" {
		delims = "."
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for a, b := 0, len(parts)-1; a < b; a, b = a+1, b-1 {
			parts[a], parts[b] = parts[b], parts[a]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	v = strings.Join(parts, ".")
	if letter != lower { // upper case: URL-escape (RFC 7208 §7.3)
		v = urlEscape(v)
	}
	return v, nil
}

// dottedIP is the %{i} form: dotted quad, or dot-separated nibbles for IPv6.
func dottedIP(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	b := ip.As16()
	var parts []string
	for _, x := range b {
		parts = append(parts, strconv.FormatUint(uint64(x>>4), 16), strconv.FormatUint(uint64(x&0xf), 16))
	}
	return strings.Join(parts, ".")
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// SPF limits (RFC 7208 §4.6.4).
const (
	spfMaxLookups     = 10
	spfMaxVoidLookups = 2
	spfMaxMX          = 10
	spfMaxPTR         = 10
)

// SPFOutcome is the result of an evaluation with the path that led to it.
type SPFOutcome struct {
	Result      SPFResult
	Reason      string   // why, in one line
	Matched     string   // the directive that decided, e.g. "include:_spf.example.com"
	Lookups     int      // DNS-querying terms evaluated (limit 10)
	VoidLookups int      // lookups that found nothing (limit 2)
	Path        []string // every step, indented by include depth
	Explanation string   // the exp= text on fail, if any
}

// spfEval is the state of one check_host() evaluation, shared by nested calls
// so the limits count across includes (RFC 7208 §4.6.4).
type spfEval struct {
	r       Resolver
	ip      netip.Addr
	sender  string
	local   string
	sdomain string
	helo    string
	now     time.Time

	lookups, voids int
	path           []string
	stack          []string
	ptrName        string // cached %{p}
	ptrDone        bool
}

// CheckHost evaluates the SPF policy of domain for a message from sender
// (an address; "" means postmaster@domain) sent by ip, announcing helo
// (RFC 7208 §4).
func CheckHost(ctx context.Context, r Resolver, ip netip.Addr, domain, sender, helo string) *SPFOutcome {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if sender == "" {
		sender = "postmaster@" + domain
	}
	local, sdomain := "postmaster", domain
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		if i > 0 {
			local = sender[:i]
		}
		sdomain = sender[i+1:]
	} else {
		sdomain = sender
		sender = "postmaster@" + sender
	}
	if helo == "" {
		helo = domain
	}
	ev := &spfEval{r: r, ip: ip.Unmap(), sender: sender, local: local, sdomain: sdomain, helo: helo, now: time.Now()}
	res, reason, matched, expl := ev.checkHost(ctx, domain, false)
	return &SPFOutcome{Result: res, Reason: reason, Matched: matched, Lookups: ev.lookups,
		VoidLookups: ev.voids, Path: ev.path, Explanation: expl}
}

func (ev *spfEval) log(format string, a ...any) {
	ev.path = append(ev.path, strings.Repeat("  ", max(len(ev.stack)-1, 0))+fmt.Sprintf(format, a...))
}

// checkHost is check_host(ip, domain, sender) of RFC 7208 §4; include tells
// whether it was called from an include (whose exp= is not used, §6.2).
func (ev *spfEval) checkHost(ctx context.Context, domain string, include bool) (SPFResult, string, string, string) {
	ev.stack = append(ev.stack, domain)
	defer func() { ev.stack = ev.stack[:len(ev.stack)-1] }()
	if !validLookupName(domain) || !strings.Contains(domain, ".") {
		ev.log("%s: not a valid multi-label domain -> none", domain)
		return SPFNone, domain + " is not a valid domain name", "", ""
	}
	txts, ans, err := LookupTXT(ctx, ev.r, domain)
	if err != nil {
		ev.log("%s: TXT lookup failed: %v -> temperror", domain, err)
		return SPFTemperror, "DNS error looking up the SPF record of " + domain, "", ""
	}
	if ans.NXDomain() {
		ev.log("%s: does not exist -> none", domain)
		return SPFNone, domain + " does not exist", "", ""
	}
	var recs []string
	for _, t := range txts {
		if IsSPFRecord(t) {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		ev.log("%s: no SPF record -> none", domain)
		return SPFNone, domain + " has no SPF record", "", ""
	case 1:
	default:
		ev.log("%s: %d SPF records -> permerror", domain, len(recs))
		return SPFPermerror, fmt.Sprintf("%s has %d SPF records; exactly one is allowed", domain, len(recs)), "", ""
	}
	ev.log("%s: %q", domain, recs[0])
	rec, err := ParseSPF(recs[0])
	if err != nil {
		ev.log("%s: syntax error: %v -> permerror", domain, err)
		return SPFPermerror, fmt.Sprintf("syntax error in the SPF record of %s: %v", domain, err), "", ""
	}
	for _, d := range rec.Directives {
		match, res, reason := ev.mechanism(ctx, domain, d)
		if res != "" {
			return res, reason, d.Raw, ""
		}
		if match {
			res := qualifierResult(d.Qualifier)
			ev.log("%s matched -> %s", d.Raw, res)
			expl := ""
			if res == SPFFail && !include && rec.Exp != "" {
				expl = ev.explanation(ctx, domain, rec.Exp)
			}
			return res, fmt.Sprintf("%s matched in the record of %s", d.Raw, domain), d.Raw, expl
		}
	}
	if rec.Redirect != "" {
		target, err := ev.expandDomain(ctx, rec.Redirect, domain)
		if err != nil {
			ev.log("redirect=%s: %v -> permerror", rec.Redirect, err)
			return SPFPermerror, err.Error(), "redirect=" + rec.Redirect, ""
		}
		if res, reason := ev.count(); res != "" {
			return res, reason, "redirect=" + rec.Redirect, ""
		}
		if ev.inStack(target) {
			ev.log("redirect=%s: loop -> permerror", target)
			return SPFPermerror, "redirect loop: " + strings.Join(append(ev.stack, target), " -> "), "redirect=" + rec.Redirect, ""
		}
		ev.log("redirect=%s", target)
		res, reason, matched, expl := ev.checkHost(ctx, target, false)
		if res == SPFNone {
			ev.log("redirect target %s has no SPF record -> permerror", target)
			return SPFPermerror, "redirect to " + target + ", which has no SPF record", "redirect=" + rec.Redirect, ""
		}
		return res, reason, matched, expl
	}
	ev.log("nothing matched and no redirect -> neutral")
	return SPFNeutral, "no mechanism matched in the record of " + domain, "", ""
}

func (ev *spfEval) inStack(d string) bool {
	for _, s := range ev.stack {
		if strings.EqualFold(s, d) {
			return true
		}
	}
	return false
}

func qualifierResult(q byte) SPFResult {
	switch q {
	case '-':
		return SPFFail
	case '~':
		return SPFSoftfail
	case '?':
		return SPFNeutral
	}
	return SPFPass
}

// count counts one DNS-querying term against the limit of 10.
func (ev *spfEval) count() (SPFResult, string) {
	ev.lookups++
	if ev.lookups > spfMaxLookups {
		ev.log("more than %d DNS lookups -> permerror", spfMaxLookups)
		return SPFPermerror, fmt.Sprintf("more than %d DNS-querying terms (include, a, mx, ptr, exists, redirect)", spfMaxLookups)
	}
	return "", ""
}

// void counts a lookup that found nothing against the limit of 2.
func (ev *spfEval) void() (SPFResult, string) {
	ev.voids++
	if ev.voids > spfMaxVoidLookups {
		ev.log("more than %d void lookups -> permerror", spfMaxVoidLookups)
		return SPFPermerror, fmt.Sprintf("more than %d lookups returned no records (void lookup limit)", spfMaxVoidLookups)
	}
	return "", ""
}

func (ev *spfEval) macroEnv(ctx context.Context, domain string) *macroEnv {
	return &macroEnv{sender: ev.sender, local: ev.local, senderDomain: ev.sdomain, domain: domain,
		ip: ev.ip, helo: ev.helo, now: ev.now, ptr: func() string { return ev.validatedPTR(ctx, domain) }}
}

// expandDomain expands a domain-spec and shortens it to 253 characters by
// dropping labels from the left (RFC 7208 §7.3).
func (ev *spfEval) expandDomain(ctx context.Context, spec, domain string) (string, error) {
	if spec == "" {
		return domain, nil
	}
	s, err := expandMacros(spec, ev.macroEnv(ctx, domain), false)
	if err != nil {
		return "", err
	}
	s = strings.TrimSuffix(s, ".")
	for len(s) > 253 {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return strings.ToLower(s), nil
}

// mechanism evaluates one directive. A non-empty result ends the evaluation
// (an error); otherwise match says whether it matched.
func (ev *spfEval) mechanism(ctx context.Context, domain string, d SPFDirective) (match bool, res SPFResult, reason string) {
	if ctx.Err() != nil {
		ev.log("%s: %v -> temperror", d.Raw, ctx.Err())
		return false, SPFTemperror, "evaluation timed out"
	}
	switch d.Mechanism {
	case "all":
		return true, "", ""
	case "ip4", "ip6":
		m := d.Prefix.Contains(ev.ip)
		if !m {
			ev.log("%s: no match", d.Raw)
		}
		return m, "", ""
	}
	if res, reason := ev.count(); res != "" {
		return false, res, reason
	}
	target, err := ev.expandDomain(ctx, d.Domain, domain)
	if err != nil {
		ev.log("%s: %v -> permerror", d.Raw, err)
		return false, SPFPermerror, err.Error()
	}
	if d.Mechanism != "include" && !validLookupName(target) {
		// A name DNS cannot carry does not exist (RFC 7208 §4.3, §4.8).
		ev.log("%s: %q is not a valid domain name, so it does not exist", d.Raw, target)
		if res, reason := ev.void(); res != "" {
			return false, res, reason
		}
		return false, "", ""
	}
	temp := func(err error) (bool, SPFResult, string) {
		ev.log("%s: DNS error: %v -> temperror", d.Raw, err)
		return false, SPFTemperror, fmt.Sprintf("DNS error evaluating %s: %v", d.Raw, err)
	}
	switch d.Mechanism {
	case "include":
		if ev.inStack(target) {
			ev.log("%s: loop -> permerror", d.Raw)
			return false, SPFPermerror, "include loop: " + strings.Join(append(ev.stack, target), " -> ")
		}
		ev.log("%s:", d.Raw)
		r, reason, _, _ := ev.checkHost(ctx, target, true)
		switch r {
		case SPFPass:
			return true, "", ""
		case SPFFail, SPFSoftfail, SPFNeutral:
			ev.log("%s: included result %s -> no match", d.Raw, r)
			return false, "", ""
		case SPFTemperror:
			return false, SPFTemperror, reason
		case SPFNone:
			ev.log("%s: %s has no SPF record -> permerror", d.Raw, target)
			return false, SPFPermerror, "include:" + target + " has no SPF record"
		default:
			return false, SPFPermerror, reason
		}
	case "a":
		qt := dns.TypeA
		if ev.ip.Is6() {
			qt = dns.TypeAAAA
		}
		addrs, _, err := lookupAddrs(ctx, ev.r, target, qt)
		if err != nil {
			return temp(err)
		}
		if len(addrs) == 0 {
			ev.log("%s: %s has no %s record", d.Raw, target, dns.TypeToString[qt])
			if res, reason := ev.void(); res != "" {
				return false, res, reason
			}
			return false, "", ""
		}
		if m := ev.matchAddrs(addrs, d); m {
			return true, "", ""
		}
		ev.log("%s: no match (%s)", d.Raw, joinAddrs(addrs))
		return false, "", ""
	case "mx":
		mxs, _, err := LookupMX(ctx, ev.r, target)
		if err != nil {
			return temp(err)
		}
		if len(mxs) == 0 {
			ev.log("%s: %s has no MX record", d.Raw, target)
			if res, reason := ev.void(); res != "" {
				return false, res, reason
			}
			return false, "", ""
		}
		if len(mxs) > spfMaxMX {
			ev.log("%s: %d MX records, more than %d -> permerror", d.Raw, len(mxs), spfMaxMX)
			return false, SPFPermerror, fmt.Sprintf("%s has more than %d MX records", target, spfMaxMX)
		}
		qt := dns.TypeA
		if ev.ip.Is6() {
			qt = dns.TypeAAAA
		}
		// The exchangers' addresses are looked up concurrently; any match counts.
		addrs := make([][]netip.Addr, len(mxs))
		errs := make([]error, len(mxs))
		parallel(len(mxs), func(i int) {
			if mxs[i].Mx != "." {
				addrs[i], _, errs[i] = lookupAddrs(ctx, ev.r, mxs[i].Mx, qt)
			}
		})
		var all []netip.Addr
		for i, mx := range mxs {
			all = append(all, addrs[i]...)
			if ev.matchAddrs(addrs[i], d) {
				ev.log("%s: %s matches via %s", d.Raw, ev.ip, trimDot(mx.Mx))
				return true, "", ""
			}
		}
		for _, err := range errs {
			if err != nil {
				return temp(err)
			}
		}
		ev.log("%s: no match (%s)", d.Raw, joinAddrs(all))
		return false, "", ""
	case "ptr":
		names := ev.validatedNames(ctx, target)
		for _, n := range names {
			if strings.EqualFold(n, target) || strings.HasSuffix(strings.ToLower(n), "."+target) {
				ev.log("%s: %s validates as %s", d.Raw, ev.ip, n)
				return true, "", ""
			}
		}
		ev.log("%s: no validated name under %s", d.Raw, target)
		return false, "", ""
	case "exists":
		addrs, _, err := lookupAddrs(ctx, ev.r, target, dns.TypeA)
		if err != nil {
			return temp(err)
		}
		if len(addrs) == 0 {
			ev.log("%s: %s does not exist", d.Raw, target)
			if res, reason := ev.void(); res != "" {
				return false, res, reason
			}
			return false, "", ""
		}
		ev.log("%s: %s exists", d.Raw, target)
		return true, "", ""
	}
	return false, SPFPermerror, "unknown mechanism " + d.Mechanism
}

func (ev *spfEval) matchAddrs(addrs []netip.Addr, d SPFDirective) bool {
	bits := d.CIDR4
	if ev.ip.Is6() {
		bits = d.CIDR6
	}
	for _, a := range addrs {
		if a.Is4() != ev.ip.Is4() {
			continue
		}
		p, err := a.Prefix(bits)
		if err == nil && p.Contains(ev.ip) {
			return true
		}
	}
	return false
}

func joinAddrs(addrs []netip.Addr) string {
	if len(addrs) == 0 {
		return "no addresses"
	}
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

// validatedNames returns the PTR names of the client address whose forward
// lookup contains it (RFC 7208 §5.5), preferring names under target.
// Errors only drop names: the mechanism then fails to match.
func (ev *spfEval) validatedNames(ctx context.Context, target string) []string {
	names, _, err := LookupPTR(ctx, ev.r, ev.ip)
	if err != nil {
		return nil
	}
	// Names under the target domain first, so the limit of 10 keeps them.
	var first, rest []string
	for _, n := range names {
		n = strings.ToLower(trimDot(n))
		if n == target || strings.HasSuffix(n, "."+target) {
			first = append(first, n)
		} else {
			rest = append(rest, n)
		}
	}
	names = append(first, rest...)
	if len(names) > spfMaxPTR {
		names = names[:spfMaxPTR]
	}
	qt := dns.TypeA
	if ev.ip.Is6() {
		qt = dns.TypeAAAA
	}
	var out []string
	for _, n := range names {
		addrs, _, err := lookupAddrs(ctx, ev.r, n, qt)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a == ev.ip {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

func (ev *spfEval) validatedPTR(ctx context.Context, domain string) string {
	if !ev.ptrDone {
		ev.ptrDone = true
		ev.ptrName = "unknown"
		if names := ev.validatedNames(ctx, domain); len(names) > 0 {
			ev.ptrName = names[0]
		}
	}
	return ev.ptrName
}

// explanation fetches and expands the exp= text (RFC 7208 §6.2); any
// problem just means no explanation.
func (ev *spfEval) explanation(ctx context.Context, domain, spec string) string {
	target, err := ev.expandDomain(ctx, spec, domain)
	if err != nil {
		return ""
	}
	txts, _, err := LookupTXT(ctx, ev.r, target)
	if err != nil || len(txts) != 1 {
		return ""
	}
	for _, c := range []byte(txts[0]) {
		if c < 0x20 || c > 0x7e { // explanation text is ASCII (RFC 7208 §6.2)
			return ""
		}
	}
	s, err := expandMacros(txts[0], ev.macroEnv(ctx, domain), true)
	if err != nil {
		return ""
	}
	return s
}

// checkSPF reports on the SPF record of the domain and evaluates it for every
// MX address and every --ip.
func checkSPF(ctx context.Context, e *env) []Finding {
	domain := e.target.Domain
	txts, ans, err := LookupTXT(ctx, e.r, domain)
	if err != nil {
		return []Finding{dnsErrorFinding("spf.record", "the TXT records of "+domain, err)}
	}
	var recs []string
	for _, t := range txts {
		if IsSPFRecord(t) {
			recs = append(recs, t)
		}
	}
	const ref = "RFC 7208 §4.5"
	switch {
	case len(recs) == 0:
		why := "there is no TXT record starting with \"v=spf1\""
		if ans.NXDomain() {
			why = domain + " does not exist"
		}
		return []Finding{{Check: "spf.record", Status: StatusWarn,
			Summary: "no SPF record for " + domain,
			Detail:  "SPF lets receivers check that mail from " + domain + " comes from its servers; " + why + ", so the SPF result is \"none\" and many receivers treat such mail as suspect.",
			Fix:     fmt.Sprintf("Publish a TXT record at %s such as \"v=spf1 mx -all\" (your sending servers, then -all).", domain),
			Ref:     ref}}
	case len(recs) > 1:
		return []Finding{{Check: "spf.record", Status: StatusFail,
			Summary: fmt.Sprintf("%d SPF records for %s: the result is permerror", len(recs), domain),
			Detail:  strings.Join(recs, "\n"),
			Fix:     "Merge them into one TXT record starting with \"v=spf1\".",
			Ref:     ref}}
	}
	rec, err := ParseSPF(recs[0])
	if err != nil {
		return []Finding{{Check: "spf.record", Status: StatusFail,
			Summary: "the SPF record of " + domain + " has a syntax error: the result is permerror",
			Detail:  recs[0] + "\n" + err.Error(),
			Fix:     "Correct the record; see the syntax in RFC 7208 §12.",
			Ref:     "RFC 7208 §4.6"}}
	}
	fs := []Finding{{Check: "spf.record", Status: StatusPass,
		Summary: "one SPF record: " + recs[0],
		Detail:  explainSPF(rec),
		Ref:     ref}}
	fs = append(fs, spfPolicyFindings(rec)...)

	// Walk the whole policy with an address nothing should match, to count
	// the lookups every evaluation may need.
	worst := CheckHost(ctx, e.r, netip.IPv4Unspecified(), domain, "", domain)
	switch {
	case worst.Result == SPFPermerror:
		fs = append(fs, Finding{Check: "spf.limits", Status: StatusFail,
			Summary: "evaluating the SPF policy gives permerror: " + worst.Reason,
			Detail:  strings.Join(worst.Path, "\n"),
			Fix:     "Flatten includes (replace them with ip4:/ip6: ranges), remove loops and terms pointing at names that do not exist.",
			Ref:     "RFC 7208 §4.6.4"})
	case worst.Result == SPFTemperror:
		fs = append(fs, Finding{Check: "spf.limits", Status: StatusError,
			Summary: "could not walk the whole SPF policy: " + worst.Reason,
			Detail:  strings.Join(worst.Path, "\n"), Ref: "RFC 7208 §4.6.4"})
	default:
		f := Finding{Check: "spf.limits", Status: StatusPass,
			Summary: fmt.Sprintf("%d of %d DNS lookups, %d of %d void lookups", worst.Lookups, spfMaxLookups, worst.VoidLookups, spfMaxVoidLookups),
			Ref:     "RFC 7208 §4.6.4"}
		if worst.Lookups >= 8 {
			f.Status = StatusWarn
			f.Detail = "Close to the limit: one more include at a provider can break the whole policy."
			f.Fix = "Replace some includes with ip4:/ip6: ranges."
		}
		fs = append(fs, f)
	}

	type job struct {
		ip     netip.Addr
		source string
	}
	var jobs []job
	for _, ip := range e.opts.IPs {
		jobs = append(jobs, job{ip, "--ip"})
	}
	if m, err := e.mxResult(ctx); err == nil {
		fs = append(fs, m.notChecked("spf.eval", "SPF for the MX addresses")...)
		for _, ip := range m.addrs() {
			jobs = append(jobs, job{ip, "MX"})
		}
	}
	out := make([]Finding, len(jobs))
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		o := CheckHost(ctx, e.r, j.ip, domain, e.target.Address, domain)
		out[i] = spfEvalFinding(domain, j.ip, j.source, o)
		if o.Result == SPFPermerror && worst.Result == SPFPermerror && o.Reason == worst.Reason {
			out[i].Detail = o.Reason + " (the path is shown above)"
		}
	})
	return append(fs, out...)
}

func spfEvalFinding(domain string, ip netip.Addr, source string, o *SPFOutcome) Finding {
	f := Finding{Check: "spf.eval", Ref: "RFC 7208 §2.6, §4",
		Summary: fmt.Sprintf("SPF for %s sending as %s (%s address): %s", ip, domain, source, o.Result),
		Detail:  o.Reason + "\n" + strings.Join(o.Path, "\n")}
	if o.Explanation != "" {
		f.Detail += "\nexplanation: " + o.Explanation
	}
	switch o.Result {
	case SPFPass:
		f.Status = StatusPass
	case SPFPermerror:
		f.Status = StatusFail
		f.Fix = "Fix the SPF record: a permerror makes receivers ignore or reject it."
	case SPFTemperror:
		f.Status = StatusError
	default:
		if source == "MX" {
			f.Status = StatusInfo
			f.Detail = "This MX host may not send mail as " + domain + "; that is fine if it only receives.\n" + f.Detail
		} else {
			f.Status = StatusWarn
			if o.Result == SPFFail {
				f.Status = StatusFail
			}
			f.Fix = fmt.Sprintf("If %s sends mail for %s, add ip%d:%s to the SPF record.", ip, domain, map[bool]int{true: 4, false: 6}[ip.Is4()], ip)
		}
	}
	return f
}

// spfPolicyFindings flags weak or discouraged parts of a valid record.
func spfPolicyFindings(rec *SPFRecord) []Finding {
	var fs []Finding
	var all *SPFDirective
	for i, d := range rec.Directives {
		switch d.Mechanism {
		case "all":
			if all == nil {
				all = &rec.Directives[i]
			}
		case "ptr":
			fs = append(fs, Finding{Check: "spf.record", Status: StatusWarn,
				Summary: "the record uses the ptr mechanism, which should not be used",
				Detail:  "ptr is slow, unreliable and places load on the .arpa name servers; receivers may skip it.",
				Fix:     "Replace " + d.Raw + " with ip4:/ip6: ranges or a/mx.",
				Ref:     "RFC 7208 §5.5"})
		}
	}
	switch {
	case all != nil && all.Qualifier == '+':
		fs = append(fs, Finding{Check: "spf.record", Status: StatusFail,
			Summary: "\"" + all.Raw + "\" authorizes every host on the Internet",
			Fix:     "End the record with -all (or ~all while testing).",
			Ref:     "RFC 7208 §5.1"})
	case all != nil && all.Qualifier == '?':
		fs = append(fs, Finding{Check: "spf.record", Status: StatusWarn,
			Summary: "\"?all\": unlisted hosts get neutral, which protects nothing",
			Fix:     "End the record with -all (or ~all while testing).",
			Ref:     "RFC 7208 §8.2"})
	case all == nil && rec.Redirect == "":
		fs = append(fs, Finding{Check: "spf.record", Status: StatusWarn,
			Summary: "no \"all\" and no redirect: unlisted hosts get neutral",
			Fix:     "End the record with -all (or ~all while testing).",
			Ref:     "RFC 7208 §4.7"})
	}
	return fs
}

// explainSPF says what each term of a record means.
func explainSPF(rec *SPFRecord) string {
	q := map[byte]string{'+': "pass", '-': "fail", '~': "softfail", '?': "neutral"}
	var lines []string
	for _, d := range rec.Directives {
		var what string
		target := d.Domain
		if target == "" {
			target = "the domain"
		}
		switch d.Mechanism {
		case "all":
			what = "any other client"
		case "include":
			what = "clients that pass the SPF policy of " + target
		case "a":
			what = "clients at the addresses of " + target
		case "mx":
			what = "clients at the addresses of the MX hosts of " + target
		case "ptr":
			what = "clients whose verified reverse name is under " + target
		case "ip4", "ip6":
			what = "clients in " + d.Prefix.String()
		case "exists":
			what = "any client, if " + target + " has an A record"
		}
		lines = append(lines, fmt.Sprintf("%-28s %s: %s", d.Raw, what, q[d.Qualifier]))
	}
	if rec.Redirect != "" {
		lines = append(lines, fmt.Sprintf("%-28s if nothing matched, use the policy of %s", "redirect="+rec.Redirect, rec.Redirect))
	}
	if rec.Exp != "" {
		lines = append(lines, fmt.Sprintf("%-28s explanation for rejections, from the TXT of %s", "exp="+rec.Exp, rec.Exp))
	}
	for _, u := range rec.Unknown {
		lines = append(lines, fmt.Sprintf("%-28s unknown modifier, ignored", u))
	}
	return strings.Join(lines, "\n")
}
