package labdns

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needProgram skips the test when name is not installed, or fails it when
// POSTLAB_INTEROP=1 asks for every interoperability test to run.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("POSTLAB_INTEROP") == "1" {
			t.Fatalf("POSTLAB_INTEROP=1 but %s is not installed (apt-get install dnsutils)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return path
}

func dig(t *testing.T, digPath, addr string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, digPath, append([]string{"@" + host, "-p", port, "+tries=1", "+time=5"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestDig(t *testing.T) {
	digPath := needProgram(t, "dig")
	addr := start(t, NewServer(labZone(t)))
	for _, tc := range []struct {
		args []string
		want string // the +short output, lines joined with "|"
	}{
		{[]string{"postlab.test", "SOA"}, "ns.postlab.test. hostmaster.postlab.test. "},
		{[]string{"postlab.test", "NS"}, "ns.postlab.test."},
		{[]string{"postlab.test", "A"}, "127.0.0.1"},
		{[]string{"mail.postlab.test", "A"}, "127.0.0.1"},
		{[]string{"ns.postlab.test", "A"}, "127.0.0.1"},
		{[]string{"postlab.test", "MX"}, "10 mail.postlab.test."},
		{[]string{"postlab.test", "TXT"}, `"v=spf1 ip4:127.0.0.0/8 mx -all"`},
		{[]string{"_dmarc.postlab.test", "TXT"}, `"v=DMARC1; p=reject; rua=mailto:postmaster@postlab.test"`},
		{[]string{"_smtp._tls.postlab.test", "TXT"}, `"v=TLSRPTv1; rua=mailto:postmaster@postlab.test"`},
		{[]string{"lab._domainkey.postlab.test", "TXT"}, `"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA`},
		{[]string{"_submission._tcp.postlab.test", "SRV"}, "0 1 2587 mail.postlab.test."},
		{[]string{"_submissions._tcp.postlab.test", "SRV"}, "0 1 2465 mail.postlab.test."},
		{[]string{"_pop3._tcp.postlab.test", "SRV"}, "0 1 2110 mail.postlab.test."},
		{[]string{"_pop3s._tcp.postlab.test", "SRV"}, "0 1 2995 mail.postlab.test."},
		{[]string{"_imap._tcp.postlab.test", "SRV"}, "0 0 0 ."},
		{[]string{"_imaps._tcp.postlab.test", "SRV"}, "0 0 0 ."},
		{[]string{"-x", "127.0.0.1"}, "mail.postlab.test."},
		{[]string{"127.in-addr.arpa", "SOA"}, "ns.postlab.test. hostmaster.postlab.test. "},
	} {
		for _, transport := range []string{"+notcp", "+tcp"} {
			out := dig(t, digPath, addr, append(tc.args, "+short", transport)...)
			got := strings.Join(strings.Fields(strings.TrimSpace(out)), " ")
			want := strings.Join(strings.Fields(tc.want), " ")
			if !strings.HasPrefix(got, want) || strings.Contains(out, "\n"+want) {
				t.Errorf("dig %v %s: %q, want %q", tc.args, transport, out, tc.want)
			}
		}
	}

	// Full output: flags and status, as a student reads them.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"mail.postlab.test", "A"}, []string{"status: NOERROR", " aa", "EDNS: version: 0"}},
		{[]string{"nope.postlab.test", "A"}, []string{"status: NXDOMAIN", " aa", "AUTHORITY: 1", "IN\tSOA\tns.postlab.test."}},
		{[]string{"mail.postlab.test", "AAAA"}, []string{"status: NOERROR", "ANSWER: 0", "AUTHORITY: 1"}},
		{[]string{"example.com", "A"}, []string{"status: REFUSED"}},
		{[]string{"postlab.test", "ANY", "+notcp"}, []string{"status: NOERROR", "HINFO\t\"RFC8482\""}},
		{[]string{"postlab.test", "AXFR"}, []string{"IN\tSOA\t", "_submission._tcp.postlab.test. 300 IN\tSRV\t0 1 2587", "XFR size: "}},
	} {
		out := dig(t, digPath, addr, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("dig %v: missing %q in\n%s", tc.args, w, out)
			}
		}
	}

	// Without EDNS a 4096-bit DKIM key does not fit 512 octets: dig sees TC
	// and retries over TCP on the same port.
	block, _ := pem.Decode(mustRead(t, "testdata/rsa4096.pub.pem"))
	big, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	z := labZone(t)
	z.DKIMKey = big.(*rsa.PublicKey)
	addr = start(t, NewServer(z))
	out := dig(t, digPath, addr, "+noedns", "lab._domainkey.postlab.test", "TXT")
	for _, w := range []string{"Truncated, retrying in TCP mode", "ANSWER: 1", "(TCP)"} {
		if !strings.Contains(out, w) {
			t.Errorf("dig +noedns: missing %q in\n%s", w, out)
		}
	}
	out = dig(t, digPath, addr, "+noedns", "+ignore", "+notcp", "lab._domainkey.postlab.test", "TXT")
	if !strings.Contains(out, " tc ") || !strings.Contains(out, "ANSWER: 0") {
		t.Errorf("dig +ignore: want the truncated UDP answer, got\n%s", out)
	}
}
