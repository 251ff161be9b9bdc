package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"postlab/explorer/lab/labdns"
)

// startLabDNS serves the lab's zone (with faults) on a UDP port of 127.0.0.1.
func startLabDNS(t *testing.T, key *rsa.PublicKey, faults ...string) string {
	t.Helper()
	s := labdns.NewServer(labdns.Zone{Domain: "postlab.test", Ports: labdns.Ports{SMTP: 2525, Submission: 2587, POP3: 2110},
		DKIMKey: key, Faults: faults})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeUDP(pc)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return pc.LocalAddr().String()
}

// silentDNS is a UDP port that reads queries and never answers.
func silentDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		b := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

// execute runs the command line like run does and returns the exit code and output.
func execute(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	code := exitOK
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else {
			code = exitUsage
		}
	}
	return code, out.String(), errb.String()
}

func TestDiagCommandExitCodes(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clean := startLabDNS(t, &key.PublicKey)
	broken := startLabDNS(t, &key.PublicKey, "spf-two-records")
	silent := silentDNS(t)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"clean", []string{"diag", "--no-probe", "--resolver", clean, "--dkim-selector", "lab", "alice@postlab.test"}, exitOK, "postlab.test"},
		{"clean json", []string{"diag", "--no-probe", "--resolver", clean, "--json", "--dnsbl", "bl.postlab.test", "postlab.test"}, exitOK, `"findings": [`},
		{"broken", []string{"diag", "--no-probe", "--resolver", broken, "postlab.test"}, exitFailed, "2 SPF records"},
		{"spf fails for --ip", []string{"diag", "--no-probe", "--resolver", clean, "--ip", "192.0.2.1", "postlab.test"}, exitFailed, "SPF for 192.0.2.1"},
		{"unreachable", []string{"diag", "--no-probe", "--resolver", silent, "--timeout", "400ms", "postlab.test"}, exitNetwork, ""},
		{"bad ip", []string{"diag", "--no-probe", "--resolver", clean, "--ip", "nope", "postlab.test"}, exitUsage, ""},
		{"bad target", []string{"diag", "--no-probe", "--resolver", clean, "not a domain"}, exitUsage, ""},
		{"no target", []string{"diag"}, exitUsage, ""},
		{"bad resolver", []string{"diag", "--no-probe", "--resolver", "a:b:c", "postlab.test"}, exitUsage, ""},
		{"no-probe with port", []string{"diag", "--no-probe", "--port", "smtp=2525", "--resolver", clean, "postlab.test"}, exitUsage, ""},
		{"mx", []string{"mx", "--resolver", clean, "bob@postlab.test"}, exitOK, "mail.postlab.test"},
		{"mx json", []string{"mx", "--resolver", clean, "--json", "postlab.test"}, exitOK, `"preference": 10`},
		{"mx no address", []string{"mx", "--resolver", startLabDNS(t, nil, "mx-no-address"), "postlab.test"}, exitFailed, "no A or AAAA record"},
		{"mx unreachable", []string{"mx", "--resolver", silent, "--timeout", "400ms", "postlab.test"}, exitNetwork, ""},
		{"mx usage", []string{"mx", "a", "b"}, exitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := execute(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("exit %d, want %d; output contains %q: %v\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.out, strings.Contains(out, tc.out), out, errs)
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour escape codes in output that is not a terminal")
			}
		})
	}
}

func TestDiagJSONSchema(t *testing.T) {
	addr := startLabDNS(t, nil)
	code, out, _ := execute(t, "diag", "--no-probe", "--resolver", addr, "--json", "postlab.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Target     string `json:"target"`
		Resolver   string `json:"resolver"`
		DurationMS *int64 `json:"duration_ms"`
		Findings   []struct {
			Check, Status, Summary, Detail, Fix, Ref string
		} `json:"findings"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Target != "postlab.test" || rep.Resolver != addr || rep.DurationMS == nil || len(rep.Findings) == 0 || rep.Findings[0].Check != "mx.records" {
		t.Fatalf("%+v", rep)
	}
}

func TestTraceIsDigLike(t *testing.T) {
	addr := startLabDNS(t, nil)
	code, _, errs := execute(t, "mx", "--trace", "--resolver", addr, "postlab.test")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{";; QUESTION SECTION:", ";postlab.test.\tIN\t MX", ";; ANSWER SECTION:", ";; SERVER: " + addr} {
		if !strings.Contains(errs, want) {
			t.Errorf("trace lacks %q:\n%s", want, errs)
		}
	}
}

// --trace goes to stderr, so --json output stays machine-readable.
func TestDiagTraceKeepsJSONClean(t *testing.T) {
	addr := startLabDNS(t, nil)
	code, out, errs := execute(t, "diag", "--no-probe", "--json", "--trace", "--resolver", addr, "postlab.test")
	var v map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(errs, ";; ANSWER SECTION:") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%.400s", code, out, errs)
	}
}
