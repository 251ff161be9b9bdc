package lab

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// SetDNSFaults swaps the zone under the running server: queries sent all
// the while, over UDP and TCP, are every one answered (no timeout, no
// refused connection), each with the MX of one zone or the other.
func TestSetDNSFaultsNoGap(t *testing.T) {
	l := startLab(t)
	addr := l.Addr(ListenerDNS)
	var answered atomic.Int64
	// Each answer kicks the switch loop awake; a kick already pending
	// stands for the new one too, so the queries never wait on it.
	kick := make(chan struct{}, 1)
	stop := make(chan struct{})
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	for _, netw := range []string{"udp", "udp", "tcp"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: netw, Timeout: 10 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion("postlab.test.", dns.TypeMX)
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, _, err := c.Exchange(m, addr)
				switch {
				case err != nil:
				case r.Rcode != dns.RcodeSuccess:
					err = fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
				case len(r.Answer) > 1:
					err = fmt.Errorf("%d MX records", len(r.Answer))
				case len(r.Answer) == 1:
					// mail. in the correct zone, smtp. under mx-cname.
					if mx, ok := r.Answer[0].(*dns.MX); !ok || mx.Mx != "mail.postlab.test." && mx.Mx != "smtp.postlab.test." {
						err = fmt.Errorf("answer %v", r.Answer[0])
					}
				}
				if err != nil {
					errs <- fmt.Errorf("%s query after %d answers: %w", netw, answered.Load(), err)
					return
				}
				answered.Add(1)
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}()
	}
	// Stopping waits for the queries in flight: one lost in the last
	// switch fails only when its client times out.
	finish := sync.OnceFunc(func() {
		close(stop)
		wg.Wait()
	})
	defer finish()
	faults := [][]string{{"mx-missing"}, nil, {"mx-cname", "dkim-revoked"}, {"spf-two-records"}}
	const switches = 200
	quiet := time.NewTimer(time.Minute)
	defer quiet.Stop()
	for i := range switches {
		if err := l.SetDNSFaults(faults[i%len(faults)]); err != nil {
			t.Fatal(err)
		}
		// A few answers between switches, so that queries and switches
		// interleave however the goroutines are scheduled.
		want := answered.Load() + 3
		quiet.Reset(time.Minute)
		for answered.Load() < want {
			select {
			case <-kick:
			case err := <-errs:
				t.Fatalf("switch %d: %v", i, err)
			case <-quiet.C:
				t.Fatalf("switch %d: no answers for a minute", i)
			}
		}
	}
	finish()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	t.Logf("%d queries answered across %d fault switches", answered.Load(), switches)
}
