package tui

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer"
)

// TestStatusGoesWithTheNextAction: "connected to …" told of the connect;
// the next command sent ends it, while a screen switch keeps it waiting.
func TestStatusGoesWithTheNextAction(t *testing.T) {
	tg := Target{Proto: explorer.SMTP, Host: "127.0.0.1", Port: 2525}
	h, _ := startConnected(t, tg, 100, 30, nil)
	h.waitStatus("said it connected", func(row string) bool { return strings.Contains(row, "connected to smtp://") })
	h.sim.InjectKey(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("outbox")
	h.sim.InjectKey(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitStatus("kept the session's message across a screen switch", func(row string) bool { return strings.Contains(row, "connected to smtp://") })
	h.line("EHLO [127.0.0.1]")
	h.waitLast("250")
	h.waitStatus("let the connect message go after the next command", func(row string) bool { return !strings.Contains(row, "connected to") })
}

// recordDiagnoser remembers what it was asked.
type recordDiagnoser struct {
	mu      *sync.Mutex
	targets *[]string
}

func (r recordDiagnoser) Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error) {
	r.mu.Lock()
	*r.targets = append(*r.targets, target)
	r.mu.Unlock()
	return Report{Target: target, Findings: []Finding{{Check: "mx", Status: "pass", Summary: "MX found"}}}, nil
}

// TestDiagnoseStartsInTheField: on arrival the field has the focus, so
// Enter runs the lab's suggested name and Tab goes to the findings.
func TestDiagnoseStartsInTheField(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	o := fakeOptions(newFakeLab(), nil)
	lab := dnsLab{newFakeLab()}
	o.StartLab = func(bool) (Lab, error) { return lab, nil }
	o.Diagnoser = recordDiagnoser{&mu, &asked}
	h := startApp(t, o, 100, 30)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('4')
	h.waitFor("Domain or address:", "postlab.test  (type a name")
	if !onUI(h, func() bool { return h.app.diag.input.HasFocus() }) {
		t.Fatal("the field does not have the focus on arrival")
	}
	h.key(tcell.KeyEnter)
	h.waitFor("findings for postlab.test")
	// The title shows as the run starts; the call is on its own goroutine.
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		got = strings.Join(asked, ",")
		mu.Unlock()
		if got != "" {
			break
		}
	}
	if got != "postlab.test" {
		t.Fatalf("Enter on the empty field asked %q, want postlab.test", got)
	}
}

// TestDiagnoseEnterOnEmptyFieldWithoutLabAsks: example.org is only an
// example; Enter on the empty field asks for a name.
func TestDiagnoseEnterOnEmptyFieldWithoutLabAsks(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	o := fakeOptions(newFakeLab(), nil)
	o.Diagnoser = recordDiagnoser{&mu, &asked}
	h := startApp(t, o, 100, 30)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEscape)
	h.rune('4')
	h.waitFor("example.org  (type a name")
	h.key(tcell.KeyEnter)
	h.waitStatus("asked for a domain", func(row string) bool { return strings.Contains(row, "type a domain") })
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 0 {
		t.Fatalf("ran %v", asked)
	}
}

// labSigned sends a message from alice to alice through the lab's
// submission port, so the lab signs it, and returns the stored file.
func labSigned(t *testing.T, l Lab) string {
	t.Helper()
	rl := l.(realLab).l
	pass, ok := rl.PracticePassword("alice")
	if !ok {
		t.Fatal("no practice password for alice")
	}
	c, err := smtp.Dial(rl.Addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(rl.ClientTLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice", pass, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@postlab.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("alice@postlab.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "From: alice@postlab.test\r\nTo: alice@postlab.test\r\nSubject: signed\r\nDate: Thu, 26 Nov 2026 07:00:00 +0000\r\nMessage-ID: <signed@postlab.test>\r\n\r\nhello\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	files, _ := filepath.Glob(filepath.Join(rl.DataDir(), "mail", "alice", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("alice's new mail: %v", files)
	}
	return files[0]
}

// labDiagnoser is the Diagnoser cmd/postlab builds, over the app's lab.
func labDiagnoser(app **App) DiagDiagnoser {
	return DiagDiagnoser{Domain: "postlab.test", NoProbe: true, LabDNS: func() string {
		if l := (*app).Lab(); l != nil {
			return l.Addr("dns")
		}
		return ""
	}}
}

// TestTroubleshootVerifiesTheLabsSignature: the lab's DKIM key is in the
// lab's DNS, which Troubleshoot asks as Diagnose does.
func TestTroubleshootVerifiesTheLabsSignature(t *testing.T) {
	var app *App
	o := realLabOptions(t)
	o.Diagnoser = labDiagnoser(&app)
	// The system's resolver knows nothing of postlab.test.
	o.LookupTXT = func(name string) ([]string, error) {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	h := startApp(t, o, 120, 40)
	app = h.app
	h.waitFor("lab: smtp 127.0.0.1:")
	file := labSigned(t, onUI(h, func() Lab { return h.app.Lab() }))
	h.key(tcell.KeyEscape)
	h.rune('6')
	h.waitFor("Open file:")
	h.key(tcell.KeyCtrlO)
	h.line(file)
	s := h.waitFor("postlab.test")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s, "s=lab pass") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		s = h.text()
	}
	if strings.Contains(s, "no DKIM key") || strings.Contains(s, "permerror") || !strings.Contains(s, "s=lab pass") {
		t.Fatalf("the lab's own signature does not verify:\n%s", s)
	}
}
