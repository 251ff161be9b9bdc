package lab

import (
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Fault scenarios make the lab's SMTP side misbehave the way real servers
// do, for the troubleshooting lessons. One is active at a time, for every
// SMTP port, and from the next command on.
const (
	ScenarioGreylist    = "greylist"     // RCPT: 451 4.7.1 on the first try of each triple (RFC 6647)
	ScenarioMailboxFull = "mailbox-full" // RCPT to a local user: 552 5.2.2 (RFC 3463 §3.3)
	ScenarioSlowBanner  = "slow-banner"  // the 220 greeting comes late (RFC 5321 §4.5.3.2.1)
	ScenarioClosing421  = "closing-421"  // EHLO/HELO: 421 4.3.2 and the connection closes (RFC 5321 §3.8)
	ScenarioTLSFail     = "tls-fail"     // TLS handshakes fail: the server speaks only TLS 1.0 (RFC 8996)
	ScenarioDropData    = "drop-data"    // the connection drops in the middle of DATA (RFC 5321 §6.1)
)

// Scenarios lists the fault scenarios SetScenario accepts.
var Scenarios = []string{ScenarioGreylist, ScenarioMailboxFull, ScenarioSlowBanner, ScenarioClosing421, ScenarioTLSFail, ScenarioDropData}

type scenarioState struct {
	mu   sync.Mutex
	name string
	grey map[string]time.Time // greylist triple -> first attempt
}

// maxGreylist bounds the greylist table; when full it starts over.
const maxGreylist = 10000

// SetScenario switches a fault scenario on; "" switches it off.
func (l *Lab) SetScenario(name string) error {
	if name != "" {
		ok := false
		for _, s := range Scenarios {
			ok = ok || s == name
		}
		if !ok {
			return fmt.Errorf("unknown scenario %q (known: %v)", name, Scenarios)
		}
	}
	l.faults.mu.Lock()
	defer l.faults.mu.Unlock()
	l.faults.name = name
	l.faults.grey = nil
	return nil
}

// Scenario returns the active fault scenario, "" for none.
func (l *Lab) Scenario() string {
	l.faults.mu.Lock()
	defer l.faults.mu.Unlock()
	return l.faults.name
}

// greylisted reports whether a (client, sender, recipient) triple must wait,
// and how long.
func (l *Lab) greylisted(ip, from, rcpt string) (time.Duration, bool) {
	l.faults.mu.Lock()
	defer l.faults.mu.Unlock()
	if l.faults.name != ScenarioGreylist {
		return 0, false
	}
	if l.faults.grey == nil || len(l.faults.grey) >= maxGreylist {
		l.faults.grey = make(map[string]time.Time)
	}
	key := ip + "\x00" + from + "\x00" + rcpt
	now := l.cfg.Clock()
	first, seen := l.faults.grey[key]
	if !seen {
		l.faults.grey[key] = now
		return l.cfg.GreylistDelay, true
	}
	if wait := l.cfg.GreylistDelay - now.Sub(first); wait > 0 {
		return wait, true
	}
	return 0, false
}

func greylistError(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: fmt.Sprintf("Greylisted: this sender is new here, please try again in %d seconds (RFC 6647)", secs)}
}

var (
	errMailboxFull = func(addr string) error {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2},
			Message: fmt.Sprintf("Mailbox full: <%s> has exceeded its storage allocation", addr)}
	}
	errClosing421 = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Service not available, closing transmission channel"}
)

// scenarioTLS gives a handshake that modern clients refuse when tls-fail is
// on: a server stuck at TLS 1.0, which RFC 8996 forbids.
func (l *Lab) scenarioTLS(base *tls.Config, tr *smtpTracer) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(*tls.ClientHelloInfo) (*tls.Config, error) {
		if l.Scenario() != ScenarioTLSFail {
			return nil, nil
		}
		if tr != nil {
			tr.noteErr("scenario tls-fail: this server offers only TLS 1.0, which RFC 8996 forbids, so a current client refuses the TLS handshake")
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
		return c, nil
	}
}

// waitBanner delays the greeting under slow-banner; it gives up when the
// connection or the lab closes.
func (l *Lab) waitBanner(tc *trackedConn, tr *smtpTracer) {
	if l.Scenario() != ScenarioSlowBanner {
		return
	}
	tr.note("scenario slow-banner: the greeting comes in %s", l.cfg.SlowBannerDelay)
	t := time.NewTimer(l.cfg.SlowBannerDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-tc.done:
	case <-l.done:
	}
}
