package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"postlab/explorer/annotate"
	"postlab/explorer/lab"
)

// classroomLab starts a classroom lab on the lab's default ports of a
// loopback address of its own (127.x.y.z), so that it takes no port a
// developer's own lab uses, and returns its address, a student and the
// certificate a teacher hands out.
func classroomLab(t *testing.T) (string, lab.Student, string) {
	t.Helper()
	for try := 0; try < 20; try++ {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250), 2+rand.IntN(250))
		at := func(port int) string { return fmt.Sprintf("%s:%d", ip, port) }
		dir := t.TempDir()
		l, err := lab.Start(lab.Config{DataDir: dir, SMTP: at(2525), Submission: at(2587), Submissions: at(2465),
			POP3: at(2110), POP3S: at(2995), DNS: lab.Off, Classroom: true, CertNames: []string{ip}, AuthFailDelay: -1})
		var inUse *lab.AddrInUseError
		if errors.As(err, &inUse) {
			continue
		}
		if err != nil && strings.Contains(err.Error(), "assign requested address") {
			t.Skipf("this system has no loopback address but 127.0.0.1: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close(context.Background()) })
		st, err := l.SetupClassroom(2, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ip, st[0], filepath.Join(dir, "tls", "cert.pem")
	}
	t.Fatal("no free loopback address for the classroom lab")
	return "", lab.Student{}, ""
}

// TestTeachersLab is classroom mode from the student's side: the presets
// point at the teacher's lab, its certificate is trusted from cert.pem,
// no practice password is filled in, the student's own password is never
// shown nor kept in the history, and the lab-only screens say so.
func TestTeachersLab(t *testing.T) {
	ip, student, certFile := classroomLab(t)
	pool, err := LoadCA(certFile)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Dial:     ExplorerDialer("client.postlab.test"),
		Annotate: annotate.Annotate,
		Suggest:  AnnotateSuggest,
		LabHost:  ip,
		LabRoots: pool,
		StartLab: func(bool) (Lab, error) { t.Error("a lab was started here"); return nil, errors.New("no") },
	}
	h := startApp(t, o, 100, 30)
	h.waitFor("teacher's lab: "+ip, "Host      "+ip, "Port      2525", "Enter connects to the teacher's lab")

	h.rune('2')
	h.waitFor("available only with a local lab")
	h.rune('3')
	h.waitFor("available only with a local lab")
	h.rune('1')
	h.waitFor("Teacher's lab…")

	// The submission preset: the teacher's address, no practice account.
	h.app.tv.QueueUpdateDraw(func() {
		f := h.app.session.form
		f.form.SetFocus(0)
		h.app.tv.SetFocus(f.form)
		f.preset.SetCurrentOption(1)
	})
	h.waitFor("lab submission", "Port      2587")
	ch := make(chan [3]string, 1)
	h.app.tv.QueueUpdate(func() {
		f := h.app.session.form
		ch <- [3]string{f.host.GetText(), f.user.GetText(), f.pass.GetText()}
	})
	if got := <-ch; got[0] != ip || got[1] != "" || got[2] != "" {
		t.Fatalf("submission preset on the teacher's lab: host %q user %q password %q", got[0], got[1], got[2])
	}
	// The focus waits in the User field: type the account and password.
	h.typ(student.Name)
	h.key(tcell.KeyTab)
	h.typ(student.Password)
	s := h.waitFor("Password  ****")
	if strings.Contains(s, student.Password) {
		t.Fatalf("the password shows in the form:\n%s", s)
	}
	h.key(tcell.KeyEnter)
	h.waitFor(`certificate verification for "` + ip + `": passed`)
	h.waitFor("connected to smtp://" + student.Name)
	h.line("EHLO student.example")
	h.waitLast("250 ")
	h.waitFor("AUTH PLAIN <credentials>") // the palette follows the EHLO
	// AUTH PLAIN from the palette carries the typed password, unseen.
	var auth Suggestion
	found := make(chan bool, 1)
	h.app.tv.QueueUpdate(func() {
		for _, it := range h.app.session.palette.Items() {
			if strings.HasPrefix(it.Command, "AUTH PLAIN") {
				auth = it
			}
		}
		found <- auth.Command != ""
	})
	if !<-found {
		t.Fatalf("no AUTH PLAIN in the palette:\n%s", h.text())
	}
	h.app.tv.QueueUpdateDraw(func() { h.app.session.pick(auth) })
	h.waitCmd("AUTH PLAIN <credentials>") // a pick waits for Enter
	h.key(tcell.KeyEnter)
	s = h.waitFor("235 ")
	for _, hist := range h.app.session.cmds.History() {
		if strings.Contains(hist, student.Password) || strings.Contains(hist, "AUTH PLAIN ") {
			t.Errorf("the history keeps the login: %q", hist)
		}
	}
	if strings.Contains(s, student.Password) {
		t.Errorf("the password shows on screen:\n%s", s)
	}
	if !strings.Contains(s, "🔒") {
		t.Errorf("no TLS lock mark after STARTTLS with the teacher's certificate:\n%s", s)
	}
	// A practice password would not work there and is never filled in.
	if strings.Contains(h.app.session.fill("PASS <password>", false), "wonderland") {
		t.Error("a practice password is filled in for the teacher's lab")
	}
	var _ *x509.CertPool = pool
}

func TestParseLabHost(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.10": "192.0.2.10", " lab.school.example ": "lab.school.example", "[2001:db8::1]": "2001:db8::1"} {
		if got, err := ParseLabHost(in); err != nil || got != want {
			t.Errorf("ParseLabHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "192.0.2.10:2525", "a b", "user@host"} {
		if _, err := ParseLabHost(bad); err == nil {
			t.Errorf("ParseLabHost(%q) accepted", bad)
		}
	}
}

// TestTypedPasswordsStayOutOfTheHistory: lines with credentials are sent
// but Up never brings them back.
func TestTypedPasswordsStayOutOfTheHistory(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp")
	h.key(tcell.KeyEnter)
	h.waitFor("220 mail.postlab.test")
	for _, l := range []string{"EHLO a.example", "AUTH PLAIN AHN0dWRlbnQwMQBzM2NyZXQ=", "PASS s3cret", "NOOP"} {
		h.line(l)
		h.waitFor("C: " + strings.Fields(l)[0])
	}
	h.waitLast("500") // the fake server knows none of them after EHLO
	hist := make(chan []string, 1)
	h.app.tv.QueueUpdate(func() { hist <- h.app.session.cmds.History() })
	got := strings.Join(<-hist, "|")
	if got != "EHLO a.example|NOOP" {
		t.Fatalf("history %q, want only the lines without credentials", got)
	}
}
