package main

import (
	"encoding/json"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Input that is no message header (random bytes, an empty file, text
// without header fields) is said to be so, and the command exits 1: the
// thing checked is not there. A real header still exits 0.
func TestHeadersCommandRejectsNonHeaders(t *testing.T) {
	dir := t.TempDir()
	garbage := make([]byte, 300)
	rand.New(rand.NewSource(1)).Read(garbage)
	inputs := map[string][]byte{
		"garbage":   garbage,
		"empty":     nil,
		"blank":     []byte("\r\n\r\n"),
		"plaintext": []byte("hello, this is just a note\nwith two lines\n"),
	}
	for name, data := range inputs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runCapture(t, "headers", "--no-dns", p)
		if code != exitFailed || !strings.Contains(out, "does not parse as a message header") || strings.Contains(out, "No Authentication-Results") {
			t.Errorf("%s: exit %d, out %q", name, code, out)
		}
		code, out = runCapture(t, "headers", "--no-dns", "--json", p)
		var rep struct {
			ParseError string `json:"parse_error"`
		}
		if code != exitFailed || json.Unmarshal([]byte(out), &rep) != nil || rep.ParseError == "" {
			t.Errorf("%s json: exit %d, out %q", name, code, out)
		}
	}
	p := filepath.Join(dir, "ok.eml")
	os.WriteFile(p, []byte("From: x@a.example\r\nSubject: hi\r\n\r\nhi\r\n"), 0o600)
	if code, out := runCapture(t, "headers", "--no-dns", p); code != exitOK || strings.Contains(out, "does not parse") {
		t.Errorf("a header without results: exit %d, out %q", code, out)
	}
}

// A resolver answering REFUSED to every query is a resolver failure
// (exit 3, README's contract), and the output blames no missing key.
func TestHeadersCommandRefusedResolver(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	p := filepath.Join("..", "..", "diag", "testdata", "headers", "rfc8617-example.eml")
	code, out := runCapture(t, "headers", "--resolver", pc.LocalAddr().String(), p)
	if code != exitNetwork || strings.Contains(out, "no DKIM key is published") || !strings.Contains(out, "temperror") {
		t.Errorf("exit %d, out %s", code, out)
	}
}
