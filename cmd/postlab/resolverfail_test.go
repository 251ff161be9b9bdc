package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// rcodeDNS answers every query with rcode and nothing else.
func rcodeDNS(t *testing.T, rcode int) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// A resolver that refuses (or fails) every query is a DNS failure: mx,
// diag and settings all exit 3 with one line naming the resolver, and none
// of them presents a report as its answer.
func TestRefusingResolverExits3(t *testing.T) {
	for _, rcode := range []int{dns.RcodeRefused, dns.RcodeServerFailure} {
		r := rcodeDNS(t, rcode)
		name := dns.RcodeToString[rcode]
		for _, args := range [][]string{
			{"mx", "--resolver", r, "--timeout", "4s", "example.org"},
			{"diag", "--resolver", r, "--timeout", "4s", "--no-probe", "example.org"},
			{"diag", "--resolver", r, "--timeout", "4s", "example.org"},
			{"settings", "--resolver", r, "--timeout", "2s", "bob@example.org"},
		} {
			code, out, errs := runCaptured(t, args...)
			if code != exitNetwork || !strings.Contains(errs, "resolver "+r) || !strings.Contains(errs, name) {
				t.Errorf("%s %v: exit %d, stderr %q; want 3 naming the resolver and %s", name, args, code, errs, name)
			}
			if strings.Contains(out, "answer from") {
				t.Errorf("%s %v: an answer is claimed:\n%s", name, args, out)
			}
			// --json: one object with "error".
			code, out, _ = runCaptured(t, append([]string{args[0], "--json"}, args[1:]...)...)
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitNetwork || v["error"] == nil {
				t.Errorf("%s %v --json: exit %d, %v:\n%s", name, args, code, err, out)
			}
		}
	}
}
