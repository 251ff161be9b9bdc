package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

func TestTraceHubRingAndSubscribe(t *testing.T) {
	h := NewTraceHub(3)
	got := make(chan uint64, 10)
	cancel := h.Subscribe(func(ev ServerEvent) { got <- ev.Session })
	for i := uint64(1); i <= 5; i++ {
		h.Emit(ServerEvent{Session: i})
	}
	r := h.Recent(0)
	if len(r) != 3 || r[0].Session != 3 || r[2].Session != 5 {
		t.Errorf("Recent(0) = %+v", r)
	}
	if r := h.Recent(2); len(r) != 2 || r[0].Session != 4 {
		t.Errorf("Recent(2) = %+v", r)
	}
	for i := uint64(1); i <= 5; i++ {
		select {
		case s := <-got:
			if s != i {
				t.Fatalf("subscriber got %d, want %d", s, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("subscriber not called")
		}
	}
	cancel()
	cancel()
	h.Emit(ServerEvent{Session: 9})
	select {
	case s := <-got:
		t.Errorf("called after cancel: %d", s)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestTraceHubSlowSubscriber: a subscriber that never returns does not
// block Emit.
func TestTraceHubSlowSubscriber(t *testing.T) {
	h := NewTraceHub(10)
	block := make(chan struct{})
	defer close(block)
	cancel := h.Subscribe(func(ServerEvent) { <-block })
	defer cancel()
	done := make(chan struct{})
	go func() {
		for range 5 * fanoutBacklog {
			h.Emit(ServerEvent{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked on a slow subscriber")
	}
}

// sessionEvents waits until the listener's last session has closed and
// returns the listener's events.
func sessionEvents(t *testing.T, l *Lab, listener string) []ServerEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var evs []ServerEvent
		for _, ev := range l.Traces().Recent(0) {
			if ev.Listener == listener {
				evs = append(evs, ev)
			}
		}
		if n := len(evs); n > 0 && evs[n-1].State.Phase == explorer.PhaseClosed {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no closed %s session in the trace: %+v", listener, evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dump(evs []ServerEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s tls=%v %s %s\n", ev.Dir, ev.TLS, ev.State.Phase, ev.Line)
	}
	return b.String()
}

func TestSMTPTrace(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("submission"))
	c.greet()
	c.starttls(l)
	c.cmd("250", "EHLO client.example")
	c.cmd("334", "AUTH LOGIN")
	c.cmd("334", "%s", b64("alice"))
	c.cmd("235", "%s", b64("wonderland"))
	var body strings.Builder
	body.WriteString("Subject: traced\r\n\r\n")
	for i := range 50 {
		fmt.Fprintf(&body, "line %d\r\n", i)
	}
	c.raw("MAIL FROM:<alice@postlab.test>\r\nRCPT TO:<bob@postlab.test>\r\nDATA\r\n")
	c.expect("250")
	c.expect("250")
	c.expect("354")
	c.raw(body.String() + ".\r\n")
	c.expect("250")
	c.cmd("221", "QUIT")

	evs := sessionEvents(t, l, ListenerSubmission)
	text := dump(evs)
	for _, secret := range []string{b64("alice"), b64("wonderland"), "wonderland"} {
		if strings.Contains(text, secret) {
			t.Errorf("trace reveals %q:\n%s", secret, text)
		}
	}
	find := func(dir explorer.Direction, prefix string) ServerEvent {
		t.Helper()
		for _, ev := range evs {
			if ev.Dir == dir && strings.HasPrefix(ev.Line, prefix) {
				return ev
			}
		}
		t.Fatalf("no %s line %q in:\n%s", dir, prefix, text)
		return ServerEvent{}
	}
	if ev := find(explorer.ServerToClient, "220 mail.postlab.test"); ev.TLS || ev.State.Proto != explorer.SMTP {
		t.Errorf("greeting %+v", ev)
	}
	if ev := find(explorer.ClientToServer, "EHLO client.example"); ev.TLS {
		t.Errorf("first EHLO marked TLS")
	}
	if ev := find(explorer.ServerToClient, "250-PIPELINING"); !ev.State.Multi || ev.State.Command != "EHLO" {
		t.Errorf("EHLO reply line %+v", ev)
	}
	find(explorer.Local, "TLS established: TLS 1.3")
	if ev := find(explorer.ServerToClient, "250-AUTH PLAIN LOGIN CRAM-MD5"); !ev.TLS {
		t.Errorf("EHLO after STARTTLS not marked TLS")
	}
	if ev := find(explorer.ClientToServer, "****"); ev.State.AuthMech != "LOGIN" || !ev.TLS {
		t.Errorf("masked SASL line %+v", ev)
	}
	if ev := find(explorer.ServerToClient, "235"); !ev.State.Authed {
		t.Errorf("235 not marked authenticated")
	}
	if ev := find(explorer.ServerToClient, "354"); ev.State.Phase != explorer.PhaseData {
		t.Errorf("354 phase %s", ev.State.Phase)
	}
	find(explorer.ClientToServer, "Subject: traced")
	find(explorer.ClientToServer, "line 27")
	for _, ev := range evs {
		if ev.Line == "line 40" {
			t.Errorf("content beyond %d lines shown", dataLinesShown)
		}
	}
	find(explorer.Local, "[22 more lines of message content not shown")
	find(explorer.ClientToServer, ".")
	if ev := find(explorer.ServerToClient, "250 2.0.0 OK id="); ev.State.Command != "." || ev.State.Phase != explorer.PhaseReady {
		t.Errorf("reply to end of data %+v", ev)
	}
	find(explorer.ServerToClient, "221")
	for _, ev := range evs {
		if ev.Session != evs[0].Session || ev.Remote == "" {
			t.Errorf("event of another session or without remote: %+v", ev)
		}
	}
}

func TestSMTPTraceMasksPipelinedAuth(t *testing.T) {
	l := startLab(t, func(c *Config) { c.InsecureAuth = true })
	c := dial(t, l.Addr("submission"))
	c.greet()
	// The SASL response arrives together with the AUTH command.
	c.raw("AUTH PLAIN\r\n" + plainIR("bob", "builder") + "\r\nQUIT\r\n")
	c.expect("334")
	c.expect("235")
	c.expect("221")
	text := dump(sessionEvents(t, l, ListenerSubmission))
	if strings.Contains(text, plainIR("bob", "builder")) {
		t.Errorf("pipelined SASL response shown:\n%s", text)
	}
	if !strings.Contains(text, "AUTH PLAIN") || !strings.Contains(text, "QUIT") {
		t.Errorf("trace:\n%s", text)
	}
}

func TestSMTPTraceBDATAndBareLF(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.raw("BDAT 5 LAST\r\nab\r\nc")
	c.expect("250")
	c.cmd("250", "MAIL FROM:<carol@example.com>")
	c.cmd("250", "RCPT TO:<alice@postlab.test>")
	c.cmd("354", "DATA")
	c.raw("a\n.\nb\r\n.\r\n")
	c.expect("250")
	c.cmd("221", "QUIT")
	text := dump(sessionEvents(t, l, ListenerSMTP))
	for _, want := range []string{"c2s tls=false data BDAT 5 LAST", "[5 octets of message data]", "2 line(s) ended in a bare LF", "c2s tls=false data .\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
}

func TestTraceRefusedConnection(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxConnsPerIP = 1 })
	a := dial(t, l.Addr("smtp"))
	a.expect("220")
	b := dial(t, l.Addr("smtp"))
	b.expect("421 4.7.0")
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, ev := range l.Traces().Recent(0) {
			if ev.Err && strings.Contains(ev.Line, "refused") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trace of the refusal:\n%s", dump(l.Traces().Recent(0)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSMTPTraceFailedHandshake(t *testing.T) {
	l := startLab(t)
	c := dial(t, l.Addr("smtp"))
	c.greet()
	c.cmd("220", "STARTTLS")
	c.raw("this is not a TLS client hello\r\n")
	evs := sessionEvents(t, l, ListenerSMTP)
	after := false
	for _, ev := range evs {
		if ev.Dir == explorer.ServerToClient && after {
			t.Errorf("server line after the failed handshake: %+v", ev)
		}
		after = after || strings.HasPrefix(ev.Line, "220 2.0.0")
		if ev.TLS {
			t.Errorf("TLS on in the trace: %+v", ev)
		}
	}
	if text := dump(evs); !strings.Contains(text, "TLS handshake after STARTTLS did not complete") {
		t.Errorf("no note of the unfinished handshake:\n%s", text)
	}
}
