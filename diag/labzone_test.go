package diag_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"strings"
	"testing"
	"time"

	"postlab/diag"
	"postlab/explorer/lab/labdns"
)

// startLab serves the lab's own zone (with the given faults) on 127.0.0.1.
func startLab(t *testing.T, key *rsa.PublicKey, faults ...string) string {
	t.Helper()
	s := labdns.NewServer(labdns.Zone{
		Domain:  "postlab.test",
		Ports:   labdns.Ports{SMTP: 2525, Submission: 2587, Submissions: 2465, POP3: 2110, POP3S: 2995},
		DKIMKey: key,
		Faults:  faults,
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeUDP(pc)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return pc.LocalAddr().String()
}

func labReport(t *testing.T, addr string) *diag.Report {
	t.Helper()
	c, err := diag.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diag.Diagnose(context.Background(), "alice@postlab.test", diag.Options{
		Resolver: c, DKIMSelectors: []string{"lab"}, CheckTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The lab's own zone diagnoses clean: nothing fails, nothing warns.
func TestLabZoneDiagnosesClean(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rep := labReport(t, startLab(t, &key.PublicKey))
	var b strings.Builder
	rep.WriteText(&b, false)
	for _, f := range rep.Findings {
		if f.Status != diag.StatusPass && f.Status != diag.StatusInfo {
			t.Errorf("%s %s: %s", f.Check, f.Status, f.Summary)
		}
	}
	for _, want := range []string{"mx.records", "spf.eval", "dmarc.policy", "dkim.key", "tls-rpt.record", "ptr.fcrdns"} {
		found := false
		for _, f := range rep.Findings {
			if f.Check == want && f.Status == diag.StatusPass {
				found = true
			}
		}
		if !found {
			t.Errorf("no passing %s finding", want)
		}
	}
	if t.Failed() {
		t.Log(b.String())
	}
}

// Every teaching fault of the lab shows up in the diagnosis.
func TestLabFaultsAreFound(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // fault -> "check status" that must appear
		"spf-two-records": "spf.record fail",
		"spf-syntax":      "spf.record fail",
		"spf-missing":     "spf.record warn",
		"dmarc-missing":   "dmarc.record warn",
		"dmarc-none":      "dmarc.policy warn",
		"dkim-revoked":    "dkim.key warn",
		"dkim-weak":       "dkim.key fail",
		"dkim-missing":    "dkim.key fail",
		"mx-cname":        "mx.host warn",
		"mx-no-address":   "mx.records fail",
		"mx-missing":      "mx.records info",
		"ptr-missing":     "ptr.fcrdns warn",
	}
	for _, f := range labdns.Catalog {
		t.Run(f.Name, func(t *testing.T) {
			w, ok := want[f.Name]
			if !ok {
				t.Fatalf("fault %q (%s) has no expected finding here", f.Name, f.Description)
			}
			rep := labReport(t, startLab(t, &key.PublicKey, f.Name))
			var got []string
			for _, fd := range rep.Findings {
				got = append(got, fd.Check+" "+string(fd.Status))
				if fd.Check+" "+string(fd.Status) == w {
					return
				}
			}
			t.Errorf("no %q among %v", w, got)
		})
	}
}
