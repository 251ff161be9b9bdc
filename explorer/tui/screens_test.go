package tui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

func fakeOptions(lab *fakeLab, fs **fakeSession) Options {
	return Options{
		Dial:     fakeDialer(fs),
		Annotate: fakeAnnotate,
		StartLab: func(bool) (Lab, error) { return lab, nil },
	}
}

func TestFirstScreenSaysWhatToPress(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	s := h.waitFor("runs real SMTP and POP3 sessions", "Enter connects to the lab", "? help", "lab: smtp 127.0.0.1:2525")
	t.Log("\n" + s)
}

func TestSessionFlowWithFake(t *testing.T) {
	var fs *fakeSession
	h := startApp(t, fakeOptions(newFakeLab(), &fs), 80, 24)
	h.waitFor("lab: smtp 127.0.0.1:2525")
	h.key(tcell.KeyEnter) // the preset points at the lab
	h.waitFor("S: 220 mail.postlab.test ESMTP [fake]")
	h.line("EHLO [127.0.0.1]")
	s := h.waitFor("C: EHLO [127.0.0.1]", "S: 250-mail.postlab.test Hello [127.0.0.1]", "next:", "MAIL FROM:<alice@postlab.test>")
	t.Log("\n" + s)
	if !strings.Contains(s, "RFC") {
		t.Log("no note yet")
	}
}
