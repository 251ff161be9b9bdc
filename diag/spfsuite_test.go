package diag

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRFC7208Suite runs the open-spf RFC 7208 test suite (by Stuart
// Gathman, Julian Mehnle and Scott Kitterman, from pyspf; converted from
// YAML to JSON, license in testdata/rfc7208-tests.LICENSE) through CheckHost
// against the in-process DNS server. TIMEOUT records become SERVFAIL: both
// are temperror.
func TestRFC7208Suite(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc7208-tests.json")
	if err != nil {
		t.Fatal(err)
	}
	var suites []map[string]any
	if err := json.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	total, failed := 0, 0
	for _, s := range suites {
		z := &testZone{rrs: map[string]map[uint16][]dns.RR{}, names: map[string]bool{}, servfail: map[string]bool{}}
		zd, _ := s["zonedata"].(map[string]any)
		for dom, recs := range zd {
			fq := dns.Fqdn(strings.ToLower(escapeName(dom)))
			hasTXT := false
			for _, r := range recs.([]any) {
				if m, ok := r.(map[string]any); ok {
					if _, ok := m["TXT"]; ok {
						hasTXT = true
					}
				}
			}
			for _, r := range recs.([]any) {
				m, ok := r.(map[string]any)
				if !ok {
					continue
				}
				for k, v := range m {
					add := func(rr dns.RR) { z.add(rr) }
					h := dns.RR_Header{Name: fq, Class: dns.ClassINET, Ttl: 60}
					switch k {
					case "A", "AAAA":
						for _, ip := range yamlList(v) {
							a, err := netip.ParseAddr(ip)
							if err != nil {
								continue
							}
							if a.Is4() {
								h.Rrtype = dns.TypeA
								add(&dns.A{Hdr: h, A: a.AsSlice()})
							} else {
								h.Rrtype = dns.TypeAAAA
								add(&dns.AAAA{Hdr: h, AAAA: a.AsSlice()})
							}
						}
					case "MX":
						l := v.([]any)
						h.Rrtype = dns.TypeMX
						add(&dns.MX{Hdr: h, Preference: uint16(l[0].(float64)), Mx: dns.Fqdn(fmt.Sprint(l[1]))})
					case "TXT", "SPF":
						if k == "SPF" && hasTXT {
							continue
						}
						l := yamlList(v)
						if len(l) == 1 && l[0] == "NONE" {
							continue
						}
						if len(l) == 0 {
							continue
						}
						h.Rrtype = dns.TypeTXT
						if k == "SPF" {
							l = []string{strings.Join(l, "")}
						}
						add(&dns.TXT{Hdr: h, Txt: l})
					case "PTR":
						for _, p := range yamlList(v) {
							h.Rrtype = dns.TypePTR
							add(&dns.PTR{Hdr: h, Ptr: dns.Fqdn(p)})
						}
					case "CNAME":
						h.Rrtype = dns.TypeCNAME
						add(&dns.CNAME{Hdr: h, Target: dns.Fqdn(fmt.Sprint(v))})
					case "TIMEOUT", "SERVFAIL", "CNAMELOOP":
						z.servfail[fq] = true
					}
				}
			}
		}
		c := &Client{Servers: []string{z.start(t)}, Timeout: time.Second, Retries: 1}
		tests, _ := s["tests"].(map[string]any)
		for name, tv := range tests {
			tc := tv.(map[string]any)
			if tc["skip"] != nil {
				continue
			}
			total++
			ip, err := netip.ParseAddr(fmt.Sprint(tc["host"]))
			if err != nil {
				continue
			}
			mf, _ := tc["mailfrom"].(string)
			helo, _ := tc["helo"].(string)
			domain := helo
			if i := strings.LastIndexByte(mf, '@'); i >= 0 {
				domain = mf[i+1:]
			} else if mf != "" {
				domain = mf
			}
			sender := mf
			if sender == "" {
				sender = "postmaster@" + helo
			}
			o := CheckHost(context.Background(), c, ip, domain, sender, helo)
			want := yamlList(tc["result"])
			ok := false
			for _, w := range want {
				if string(o.Result) == w {
					ok = true
				}
			}
			if !ok {
				failed++
				t.Errorf("%s: %s from %s (%s) = %s want %v\n  %s\n  %s", name, domain, ip, mf, o.Result, want, tc["description"], strings.Join(o.Path, "\n  "))
			}
		}
	}
	if total < 150 {
		t.Fatalf("only %d tests ran", total)
	}
	t.Logf("%d of %d failed", failed, total)
}

func yamlList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
