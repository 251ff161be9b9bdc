package diag

import (
	"strings"
)

// AuthResults is one Authentication-Results field (RFC 8601 §2.2): the
// verdicts one receiving server (authserv-id) wrote down.
type AuthResults struct {
	AuthservID string       `json:"authserv_id"`
	Results    []AuthResult `json:"results"`
}

// AuthResult is one method's verdict: spf=pass smtp.mailfrom=example.com.
type AuthResult struct {
	Method string `json:"method"`
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
	// Comment is the CFWS comment right after the result, where servers
	// often say why: "dkim=fail (body hash did not verify)".
	Comment string            `json:"comment,omitempty"`
	Props   map[string]string `json:"props"`
}

// arToken is a word, a quoted string, or one of ; = /; comment is the
// text of a CFWS comment that directly follows it.
type arToken struct {
	s       string
	quoted  bool
	comment string
}

// tokenizeAR splits an Authentication-Results value, dropping CFWS
// comments (nested parentheses, RFC 5322 §3.2.2) and honouring quotes.
func tokenizeAR(v string) []arToken {
	var out []arToken
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, arToken{s: b.String()})
			b.Reset()
		}
	}
	depth := 0
	var com strings.Builder
	for i := 0; i < len(v) && len(out) < 2000; i++ {
		c := v[i]
		if depth > 0 {
			switch c {
			case '\\':
				i++
				if i < len(v) && com.Len() < 200 {
					com.WriteByte(v[i])
				}
				continue
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				// Keep the first comment after a token.
				if n := len(out); n > 0 && out[n-1].comment == "" {
					out[n-1].comment = strings.Join(strings.Fields(com.String()), " ")
				}
				com.Reset()
			} else if com.Len() < 200 {
				com.WriteByte(c)
			}
			continue
		}
		switch {
		case c == '(':
			flush()
			depth = 1
		case c == '"':
			flush()
			var q strings.Builder
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				q.WriteByte(v[i])
			}
			out = append(out, arToken{s: q.String(), quoted: true})
		case c == ';' || c == '=':
			flush()
			out = append(out, arToken{s: string(c)})
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			flush()
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}

// ParseAuthResults parses one Authentication-Results value. It is
// lenient: unknown methods and odd properties are kept as found.
func ParseAuthResults(v string) AuthResults {
	if len(v) > 16384 {
		v = v[:16384]
	}
	toks := tokenizeAR(v)
	ar := AuthResults{Results: []AuthResult{}}
	i := 0
	// authserv-id [version]; Microsoft omits it and starts with a method.
	if len(toks) > 1 && toks[1].s == "=" && !toks[1].quoted {
		toks = append([]arToken{{s: ";"}}, toks...)
	}
	if i < len(toks) && toks[i].s != ";" {
		ar.AuthservID = toks[i].s
		i++
	}
	for i < len(toks) && toks[i].s != ";" {
		i++ // version and junk before the first ';'
	}
	for i < len(toks) {
		if toks[i].s == ";" && !toks[i].quoted {
			i++
			continue
		}
		// method[/version] = result
		method := strings.ToLower(toks[i].s)
		i++
		if method == "none" {
			continue
		}
		if j := strings.IndexByte(method, '/'); j >= 0 {
			method = method[:j]
		}
		r := AuthResult{Method: method, Props: map[string]string{}}
		if i+1 < len(toks) && toks[i].s == "=" {
			r.Result = strings.ToLower(toks[i+1].s)
			r.Comment = toks[i+1].comment
			i += 2
		} else {
			// A bare word is no method: Microsoft puts its authserv-id
			// between the results ("spf=pass ...; outlook.com; dkim=none").
			if ar.AuthservID == "" {
				ar.AuthservID = toks[i-1].s
			}
			for i < len(toks) && !(toks[i].s == ";" && !toks[i].quoted) {
				i++
			}
			continue
		}
		// reason="..." and ptype.property=value pairs up to the next ';'.
		for i < len(toks) && !(toks[i].s == ";" && !toks[i].quoted) {
			k := toks[i].s
			if i+2 < len(toks) && toks[i+1].s == "=" {
				val := toks[i+2].s
				if strings.EqualFold(k, "reason") {
					r.Reason = val
				} else if len(r.Props) < 50 {
					r.Props[strings.ToLower(k)] = val
				}
				i += 3
				continue
			}
			i++
		}
		ar.Results = append(ar.Results, r)
		if len(ar.Results) >= 100 {
			break
		}
	}
	return ar
}
