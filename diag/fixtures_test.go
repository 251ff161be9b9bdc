package diag

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fixtureEnv serves testdata/fixtures.zone and the MTA-STS policies.
type fixtureEnv struct {
	zone *testZone
	addr string
	opts Options
}

var stsPolicies = map[string]string{
	"good.test":         "version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\nmx: *.good.test\r\nmax_age: 604800\r\n",
	"sts-mismatch.test": "version: STSv1\nmode: enforce\nmx: mx.sts-mismatch.test\nmax_age: 86400\n",
}

func newFixtureEnv(t testing.TB, configure ...func(*testZone)) *fixtureEnv {
	t.Helper()
	z := loadTestZone(t, "testdata/fixtures.zone")
	z.adUnder = []string{"good.test."}
	for _, c := range configure {
		c(z)
	}
	addr := z.start(t)
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := stsPolicies[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(p))
	}))
	t.Cleanup(web.Close)
	return &fixtureEnv{zone: z, addr: addr, opts: Options{
		Resolver:     testClient(addr),
		DNSBLZones:   []string{"bl.test"},
		CheckTimeout: 10 * time.Second,
		HTTPClient:   web.Client(),
		MTASTSURL:    func(d string) string { return web.URL + "/" + d },
	}}
}

// summary renders findings as "check status" lines, the form the fixtures assert.
func summary(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Check + " " + string(f.Status) + "\n")
	}
	return b.String()
}

func TestFixtures(t *testing.T) {
	fe := newFixtureEnv(t)
	tests := []struct {
		target   string
		ips      []string
		dkim     []string
		want     string            // every finding, in order: "check status"
		contains map[string]string // check -> text that a finding of that check must contain
	}{
		{target: "good.test", contains: map[string]string{"spf.eval": "203.0.113.5 sending as good.test (--ip address): fail", "dane.tlsa": "DANE-EE", "dmarc.reports": "authorizes them at good.test._report._dmarc.reports.example"}, ips: []string{"198.51.100.7", "203.0.113.5"}, dkim: []string{"s1", "ed"}, want: `
mx.records pass
mx.host pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
spf.eval fail
spf.eval pass
spf.eval pass
spf.eval pass
dmarc.record pass
dmarc.policy pass
dmarc.reports pass
dmarc.reports pass
dkim.key pass
dkim.key pass
mta-sts.record pass
mta-sts.policy pass
mta-sts.mx pass
tls-rpt.record pass
dane.tlsa pass
dane.tlsa pass
ptr.fcrdns pass
ptr.fcrdns pass
ptr.fcrdns pass
dnsbl.listing pass
dnsbl.listing pass
dnsbl.listing pass
`},
		{target: "spf-many.test", contains: map[string]string{"spf.limits": "more than 10 DNS-querying terms"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits fail
spf.eval fail
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "spf-two.test", contains: map[string]string{"spf.record": "2 SPF records"}, want: `
mx.records pass
mx.host pass
spf.record fail
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "spf-loop.test", contains: map[string]string{"spf.limits": "include loop: spf-loop.test -> b.spf-loop.test -> spf-loop.test"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits fail
spf.eval fail
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "spf-void.test", contains: map[string]string{"spf.limits": "void lookup limit"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits fail
spf.eval fail
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "dmarc-invalid.test", contains: map[string]string{"dmarc.record": "p=maybe: must be none, quarantine or reject"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
dmarc.record fail
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "dmarc-none.test", contains: map[string]string{"dmarc.policy": "p=none"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
dmarc.record pass
dmarc.policy warn
dmarc.reports info
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "dmarc-ext.test", contains: map[string]string{"dmarc.reports": "dmarc-ext.test._report._dmarc.thirdparty.test"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
dmarc.record pass
dmarc.policy pass
dmarc.reports warn
dmarc.reports pass
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "postmaster@sub.org.test", contains: map[string]string{"dmarc.record": "organizational domain", "dmarc.policy": "sp=quarantine"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
dmarc.record info
dmarc.policy pass
dmarc.reports info
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "dkim.test", contains: map[string]string{"dkim.key": "512 bits"}, dkim: []string{"weak", "tiny", "old", "trial", "broken", "missing"}, want: `
mx.records pass
mx.host pass
spf.record pass
spf.limits pass
spf.eval pass
dmarc.record pass
dmarc.policy pass
dmarc.reports pass
dkim.key warn
dkim.key fail
dkim.key warn
dkim.key pass
dkim.key warn
dkim.key fail
dkim.key fail
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "mx-cname.test", contains: map[string]string{"mx.host": "alias (CNAME) for real.mx-cname.test"}, want: `
mx.records pass
mx.host warn
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "mx-noaddr.test", contains: map[string]string{"mx.host": "gone.mx-noaddr.test has no A or AAAA"}, want: `
mx.records pass
mx.host warn
mx.host warn
mx.records fail
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
`},
		{target: "nullmx.test", contains: map[string]string{"mx.records": "null MX"}, want: `
mx.records info
spf.record pass
spf.limits pass
dmarc.record pass
dmarc.policy pass
dmarc.reports info
dkim.selector info
mta-sts.record info
tls-rpt.record info
`},
		{target: "implicit.test", contains: map[string]string{"mx.records": "implicit MX"}, want: `
mx.records info
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "nowhere.test", contains: map[string]string{"mx.records": "no MX record and no address"}, want: `
mx.records fail
spf.record pass
spf.limits pass
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
`},
		{target: "no-such-domain.test", contains: map[string]string{"mx.records": "NXDOMAIN"}, want: `
mx.records fail
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
`},
		{target: "sts-nopolicy.test", contains: map[string]string{"mta-sts.policy": "404"}, want: `
mx.records pass
mx.host pass
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record pass
mta-sts.policy fail
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
dnsbl.listing pass
`},
		{target: "sts-mismatch.test", contains: map[string]string{"mta-sts.mx": "backup.other.test"}, want: `
mx.records pass
mx.host pass
mx.host pass
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record pass
mta-sts.policy pass
mta-sts.mx fail
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
ptr.fcrdns pass
dnsbl.listing pass
dnsbl.listing pass
`},
		{target: "bl-mix.test", contains: map[string]string{"dnsbl.listing": "Listed: spam source"}, want: `
mx.records pass
mx.host pass
mx.host pass
mx.host pass
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns pass
ptr.fcrdns pass
ptr.fcrdns pass
dnsbl.listing fail
dnsbl.listing info
dnsbl.listing pass
`},
		{target: "ptr-bad.test", contains: map[string]string{"ptr.fcrdns": "liar.ptr-bad.test, which does not resolve back"}, want: `
mx.records pass
mx.host pass
mx.host pass
spf.record warn
dmarc.record warn
dkim.selector info
mta-sts.record info
tls-rpt.record info
dane.tlsa info
ptr.fcrdns warn
ptr.fcrdns warn
dnsbl.listing pass
dnsbl.listing pass
`},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			opts := fe.opts
			opts.DKIMSelectors = tc.dkim
			for _, s := range tc.ips {
				opts.IPs = append(opts.IPs, netip.MustParseAddr(s))
			}
			rep, err := Diagnose(context.Background(), tc.target, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(rep.Findings); strings.TrimSpace(got) != strings.TrimSpace(tc.want) {
				var b strings.Builder
				rep.WriteText(&b, false)
				t.Errorf("findings:\n%s\nwant:\n%s\nreport:\n%s", got, tc.want, b.String())
				if testing.Verbose() {
					t.Logf("GOT %s\n%s", tc.target, got)
				}
			}
			for check, text := range tc.contains {
				found := false
				for _, f := range rep.Findings {
					if f.Check == check && strings.Contains(f.Summary+"\n"+f.Detail, text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s finding mentions %q", check, text)
				}
			}
		})
	}
}
