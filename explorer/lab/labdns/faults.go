package labdns

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Fault is a deliberately broken variant of the zone, for teaching: the lab
// publishes it and the diagnostics and lessons find it.
type Fault struct {
	Name        string
	Description string // what changes and what a checker should report
	Ref         string // the rule it breaks
	apply       func(rrs []dns.RR, z Zone) []dns.RR
}

// weakDKIMKey is a 512-bit RSA public key (SubjectPublicKeyInfo, base64),
// generated once for the "dkim-weak" fault; its private half was discarded.
const weakDKIMKey = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALyWXMAOzRp8NEd7+d50fpS8Fjx1JWNM" +
	"4T1nBm8Eznn0LOh07rn8euq1emdncxpelRj157KbP0+AaM4K5N4xOF8CAwEAAQ=="

// Catalog lists every fault NewServer understands, in a stable order.
var Catalog = []Fault{
	{"spf-two-records", "the apex publishes two v=spf1 TXT records; SPF evaluation ends in permerror",
		"RFC 7208 §4.5", func(rrs []dns.RR, z Zone) []dns.RR {
			return append(rrs, &dns.TXT{Hdr: hdr(z.Domain, dns.TypeTXT), Txt: []string{"v=spf1 a ~all"}})
		}},
	{"spf-syntax", "the SPF record has an invalid ip4 prefix length (/33); SPF evaluation ends in permerror",
		"RFC 7208 §5.6, §4.6", func(rrs []dns.RR, z Zone) []dns.RR {
			return replaceSPF(rrs, z, "v=spf1 ip4:127.0.0.0/33 mx -all")
		}},
	{"spf-missing", "no SPF record at the apex; SPF evaluation gives none",
		"RFC 7208 §4.5", func(rrs []dns.RR, z Zone) []dns.RR {
			return replaceSPF(rrs, z, "")
		}},
	{"dmarc-missing", "no _dmarc record; receivers apply no DMARC policy",
		"RFC 7489 §6.6.3", func(rrs []dns.RR, z Zone) []dns.RR {
			return drop(rrs, "_dmarc."+z.Domain, dns.TypeTXT)
		}},
	{"dmarc-none", "the DMARC policy is p=none: failing mail is only reported, not rejected",
		"RFC 7489 §6.3", func(rrs []dns.RR, z Zone) []dns.RR {
			name := "_dmarc." + z.Domain
			return append(drop(rrs, name, dns.TypeTXT), &dns.TXT{Hdr: hdr(name, dns.TypeTXT),
				Txt: []string{"v=DMARC1; p=none; rua=mailto:postmaster@" + strings.TrimSuffix(z.Domain, ".")}})
		}},
	{"dkim-revoked", "the DKIM key record has an empty p=: the key is revoked and signatures with it fail",
		"RFC 6376 §3.6.1", func(rrs []dns.RR, z Zone) []dns.RR {
			return setDKIM(rrs, z, []string{"v=DKIM1; k=rsa; p="})
		}},
	{"dkim-weak", "the DKIM key record publishes a 512-bit RSA key (not the lab's signing key); signers must use at least 1024 bits and verifiers refuse shorter keys, so signatures fail",
		"RFC 8301 §3.2", func(rrs []dns.RR, z Zone) []dns.RR {
			return setDKIM(rrs, z, splitTXT("v=DKIM1; k=rsa; p="+weakDKIMKey))
		}},
	{"dkim-missing", "no DKIM key record at the selector; signatures fail with a key lookup error",
		"RFC 6376 §6.1.2", func(rrs []dns.RR, z Zone) []dns.RR {
			return drop(rrs, z.DKIMSelector+"._domainkey."+z.Domain, dns.TypeTXT)
		}},
	{"mx-cname", "the MX points at smtp.DOMAIN, which is a CNAME for the mail host; an MX target must be a host name with addresses, not an alias",
		"RFC 2181 §10.3, RFC 5321 §5.1", func(rrs []dns.RR, z Zone) []dns.RR {
			alias := "smtp." + z.Domain
			return append(setMX(rrs, z, alias),
				&dns.CNAME{Hdr: hdr(alias, dns.TypeCNAME), Target: z.Hostname})
		}},
	{"mx-no-address", "the MX points at mx-old.DOMAIN, which does not exist; mail cannot be delivered",
		"RFC 5321 §5.1", func(rrs []dns.RR, z Zone) []dns.RR {
			return setMX(rrs, z, "mx-old."+z.Domain)
		}},
	{"mx-missing", "no MX record; senders fall back to the apex's A record (the implicit MX)",
		"RFC 5321 §5.1", func(rrs []dns.RR, z Zone) []dns.RR {
			return drop(rrs, z.Domain, dns.TypeMX)
		}},
	{"ptr-missing", "no PTR record for the mail host's address; forward-confirmed reverse DNS fails",
		"RFC 1912 §2.1, RFC 8601 §3 (iprev)", func(rrs []dns.RR, z Zone) []dns.RR {
			name, _ := dns.ReverseAddr(z.IPv4.String())
			return drop(rrs, name, dns.TypePTR)
		}},
}

var faultByName = func() map[string]*Fault {
	m := map[string]*Fault{}
	for i := range Catalog {
		m[Catalog[i].Name] = &Catalog[i]
	}
	return m
}()

// CheckFaults returns an error naming the first unknown fault.
func CheckFaults(names []string) error {
	for _, n := range names {
		if _, ok := faultByName[n]; !ok {
			known := make([]string, len(Catalog))
			for i, f := range Catalog {
				known[i] = f.Name
			}
			return fmt.Errorf("labdns: unknown fault %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

func drop(rrs []dns.RR, name string, t uint16) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if h := rr.Header(); h.Rrtype == t && strings.EqualFold(h.Name, name) {
			continue
		}
		out = append(out, rr)
	}
	return out
}

// replaceSPF swaps every v=spf1 record at the apex for spf ("" removes it).
func replaceSPF(rrs []dns.RR, z Zone, spf string) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok && strings.EqualFold(t.Hdr.Name, z.Domain) &&
			strings.HasPrefix(strings.ToLower(strings.Join(t.Txt, "")), "v=spf1") {
			continue
		}
		out = append(out, rr)
	}
	if spf != "" {
		out = append(out, &dns.TXT{Hdr: hdr(z.Domain, dns.TypeTXT), Txt: []string{spf}})
	}
	return out
}

func setDKIM(rrs []dns.RR, z Zone, txt []string) []dns.RR {
	name := z.DKIMSelector + "._domainkey." + z.Domain
	return append(drop(rrs, name, dns.TypeTXT), &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: txt})
}

func setMX(rrs []dns.RR, z Zone, target string) []dns.RR {
	return append(drop(rrs, z.Domain, dns.TypeMX),
		&dns.MX{Hdr: hdr(z.Domain, dns.TypeMX), Preference: 10, Mx: target})
}
