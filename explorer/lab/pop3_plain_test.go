package lab

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

func (p *pop3Line) multi() []string {
	p.t.Helper()
	var out []string
	for {
		l := p.expect("")
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func apopLine(greeting, user, secret string) string {
	ts := greeting[strings.Index(greeting, "<"):]
	sum := md5.Sum([]byte(ts + secret))
	return "APOP " + user + " " + hex.EncodeToString(sum[:])
}

// On the plain POP3 port CAPA offers only what the connection accepts, and
// every login, APOP included, is refused until STLS (RFC 2595 §2.2), as
// the submission port hides AUTH before STARTTLS.
func TestPOP3PlainPortRefusesLoginsBeforeSTLS(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		l := startLab(t, func(c *Config) { c.InsecureAuth = insecure })
		p := dialPOP3NoGreeting(t, l.Addr(ListenerPOP3))
		greeting := p.expect("+OK")
		if !strings.Contains(greeting, "<") {
			t.Fatalf("greeting without APOP timestamp: %q", greeting)
		}
		p.cmd("+OK", "CAPA")
		capa := "|" + strings.Join(p.multi(), "|") + "|"
		if !strings.Contains(capa, "|STLS|") {
			t.Errorf("insecure=%v: CAPA lacks STLS: %s", insecure, capa)
		}
		offers := strings.Contains(capa, "|USER|") || strings.Contains(capa, "|SASL PLAIN|")
		if offers != insecure {
			t.Errorf("insecure=%v: CAPA %s", insecure, capa)
		}
		if !insecure {
			for _, line := range []string{"USER bob", "AUTH PLAIN " + plainIR("bob", "builder"), apopLine(greeting, "bob", "builder")} {
				if got := p.cmd("-ERR [AUTH]", line); !strings.HasSuffix(got, "use STLS first") {
					t.Errorf("%s: %q", strings.Fields(line)[0], got)
				}
			}
			p.cmd("+OK", "QUIT")
			continue
		}
		p.cmd("+OK bob's maildrop", apopLine(greeting, "bob", "builder"))
		p.cmd("+OK", "QUIT")
	}
}
