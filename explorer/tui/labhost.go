package tui

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// ParseLabHost checks the address of a teacher's lab: a host name or IP
// address without a port (the lab's ports are its defaults).
func ParseLabHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("give the teacher's lab address, e.g. 192.168.1.10")
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return "", fmt.Errorf("give the host %q without a port: the lab's ports are its defaults (SMTP 2525, submission 2587, POP3 2110...)", h)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.ContainsAny(s, " /@") {
		return "", fmt.Errorf("%q is not a host name or IP address", s)
	}
	return s, nil
}

// LoadCA reads a PEM certificate file (the cert.pem a teacher hands out)
// as a pool of roots.
func LoadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the lab's certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate: use the cert.pem your teacher handed out", file)
	}
	return pool, nil
}

// labHostDialog is the app's setting for classroom mode: use a teacher's
// lab (and trust its certificate) instead of a lab of our own.
func (a *App) labHostDialog() {
	form := tview.NewForm()
	form.SetItemPadding(0).SetButtonsAlign(tview.AlignLeft)
	form.SetFieldBackgroundColor(tcell.ColorDefault)
	host := tview.NewInputField().SetLabel("Lab address ").SetFieldWidth(32).SetText(a.labHost())
	ca := tview.NewInputField().SetLabel("CA file     ").SetFieldWidth(32).SetPlaceholder("cert.pem from your teacher")
	for _, in := range []*tview.InputField{host, ca} {
		in.SetFieldStyle(tcell.StyleDefault.Underline(true))
	}
	use := func() {
		h, err := ParseLabHost(host.GetText())
		if err != nil {
			a.setStatus(err.Error(), true)
			return
		}
		var pool *x509.CertPool
		if f := strings.TrimSpace(ca.GetText()); f != "" {
			if pool, err = LoadCA(f); err != nil {
				a.setStatus(oneLine(err.Error()), true)
				return
			}
		} else {
			pool = a.opts.LabRoots
		}
		a.closeDialog()
		a.useLabHost(h, pool)
		a.setStatus("Using the teacher's lab at "+h+": log in with your own account", false)
	}
	a.th.input(host, false)
	a.th.input(ca, true)
	form.AddFormItem(host).AddFormItem(ca).AddButton("Use the teacher's lab", use)
	form.AddButton("Use my own lab", func() {
		a.closeDialog()
		if a.labHost() == "" {
			return
		}
		a.useLabHost("", nil)
		a.setStatus("Back to a lab of your own.", false)
	})
	intro := tview.NewTextView().SetWrap(true).SetWordWrap(true).
		SetText("In a class, your teacher runs the lab (postlab serve --classroom) and hands out its address, your account and cert.pem.")
	box := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(intro, 3, 0, false).AddItem(form, 0, 1, true)
	box.SetBorder(true).SetTitle(" teacher's lab (Esc closes) ").SetTitleAlign(tview.AlignLeft)
	form.SetBorderPadding(0, 0, 1, 1)
	a.showDialog("teacher's lab", box, 64, 10, form)
}
