package pop3d

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"postlab/explorer"
)

// TestTraceTranscript checks the server-side trace of a whole session, line
// by line: direction, phase, TLS, the command answered, masking.
func TestTraceTranscript(t *testing.T) {
	ts := withMail(startServer(t, nil))
	c := dial(t, ts.addr)
	c.expect("STLS", "+OK")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: ts.pool, ServerName: "mail.postlab.test"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.r.Reset(tc)
	c.expect("USER Alice@postlab.test", "+OK")
	c.expect("PASS wonderland", "+OK")
	c.expect("UIDL 1", "+OK")
	c.expect("RETR 2", "+OK")
	c.rawMulti()
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "+OK")
	c.expectClosed()
	waitFor(t, "closed", func() bool {
		evs := ts.trace.events()
		return len(evs) > 0 && evs[len(evs)-1].State.Phase == explorer.PhaseClosed
	})

	var got []string
	tlsRE := regexp.MustCompile(`TLS established: .*`)
	stampRE := regexp.MustCompile(`<[^>]+>`)
	for _, ev := range ts.trace.events() {
		line := stampRE.ReplaceAllString(tlsRE.ReplaceAllString(ev.Line, "TLS established: …"), "<stamp>")
		line = regexp.MustCompile(`connection from \S+`).ReplaceAllString(line, "connection from …")
		multi := ""
		if ev.State.Multi {
			multi = " multi"
		}
		got = append(got, fmt.Sprintf("%-4s %-13s tls=%-5v %-4s authed=%-5v%s | %s", ev.Dir, ev.State.Phase, ev.TLS, ev.State.Command, ev.State.Authed, multi, line))
	}
	want := strings.TrimSpace(`
note connect       tls=false      authed=false | connection from …
s2c  authorization tls=false      authed=false | +OK mail.postlab.test POP3 server ready <stamp>
c2s  authorization tls=false STLS authed=false | STLS
s2c  authorization tls=false STLS authed=false | +OK Begin TLS negotiation
note tls           tls=true  STLS authed=false | TLS established: …
c2s  authorization tls=true  USER authed=false | USER Alice@postlab.test
s2c  authorization tls=true  USER authed=false | +OK send PASS
c2s  authorization tls=true  PASS authed=false | PASS ****
s2c  transaction   tls=true  PASS authed=true  | +OK alice's maildrop has 2 messages (100 octets)
c2s  transaction   tls=true  UIDL authed=true  | UIDL 1
s2c  transaction   tls=true  UIDL authed=true  | +OK 1 1700000000.M1P1.host
c2s  transaction   tls=true  RETR authed=true  | RETR 2
s2c  transaction   tls=true  RETR authed=true  | +OK 66 octets
note transaction   tls=true  RETR authed=true  | … 7 lines, 66 octets of message content (not traced line by line)
s2c  transaction   tls=true  RETR authed=true  multi | .
c2s  transaction   tls=true  DELE authed=true  | DELE 1
s2c  transaction   tls=true  DELE authed=true  | +OK message 1 deleted
c2s  transaction   tls=true  QUIT authed=true  | QUIT
s2c  update        tls=true  QUIT authed=true  | +OK mail.postlab.test POP3 server signing off (1 message left)
note closed        tls=true  QUIT authed=true  | connection closed`)
	if g := strings.Join(got, "\n"); g != want {
		t.Fatalf("trace:\n%s\n\nwant:\n%s", g, want)
	}
}
