package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// compose opens the DATA helper: headers and body, with the wire form
// (dot-stuffing done and marked) shown as you type.
func (s *sessionScreen) compose() {
	st, _ := s.snapshot()
	if st.Proto != explorer.SMTP {
		s.a.setStatus("compose is for SMTP DATA", true)
		return
	}
	if st.Phase != explorer.PhaseRcpt && st.Phase != explorer.PhaseData {
		s.a.setStatus("compose needs an accepted RCPT first (MAIL FROM, then RCPT TO)", true)
		return
	}
	from, to := s.envelope()
	m := ComposeModel{From: from, To: to, Subject: "Hello from postlab", Body: "Hi, this message went through the lab.\n.a line that starts with a dot gets another dot\n", Date: s.clock()}
	form := tview.NewForm()
	form.SetItemPadding(0).SetBorderPadding(0, 0, 1, 1)
	preview := tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	body := tview.NewTextArea().SetText(m.Body, false).SetSize(4, 0)
	body.SetLabel("Body    ")
	render := func() {
		var b strings.Builder
		fmt.Fprintf(&b, "%s── on the wire after DATA ──%s\n", s.a.tag("title"), s.a.th.reset())
		inBody := false
		m.Date = s.clock()
		for _, l := range m.Lines() {
			switch {
			case !inBody && strings.HasPrefix(l.Text, "Date: "):
				fmt.Fprintf(&b, "%s  %s<- the time you press Send%s\n", tview.Escape(l.Text), s.a.tag("dim"), s.a.th.reset())
			case l.Stuffed:
				fmt.Fprintf(&b, "%s%s%s  %s<- dot-stuffed, RFC 5321 §4.5.2%s\n", s.a.tag("warn"), tview.Escape(l.Text), s.a.th.reset(), s.a.tag("dim"), s.a.th.reset())
			case l.End:
				fmt.Fprintf(&b, "%s.%s  %s<- end of data%s\n", s.a.tag("c2s"), s.a.th.reset(), s.a.tag("dim"), s.a.th.reset())
			case l.Text == "" && !inBody:
				inBody = true
				fmt.Fprintf(&b, "%s<- blank line: the headers end, the body starts%s\n", s.a.tag("dim"), s.a.th.reset())
			default:
				b.WriteString(tview.Escape(l.Text) + "\n")
			}
		}
		preview.SetText(b.String())
	}
	form.AddInputField("From    ", m.From, 40, nil, func(t string) { m.From = t; render() })
	form.AddInputField("To      ", m.To, 40, nil, func(t string) { m.To = t; render() })
	form.AddInputField("Subject ", m.Subject, 40, nil, func(t string) { m.Subject = t; render() })
	form.AddFormItem(body)
	body.SetChangedFunc(func() { m.Body = body.GetText(); render() })
	form.AddButton("Send", func() {
		m.Date = s.clock() // the Date: is when the message goes (RFC 5322 §3.6.1)
		lines := m.Lines()
		s.a.closeDialog()
		s.a.tv.SetFocus(s.cmd)
		st, _ := s.snapshot()
		// Sent for the user, not typed: the history keeps the commands
		// typed at the command line.
		if st.Phase == explorer.PhaseRcpt {
			s.send("DATA", false)
		}
		for _, l := range lines {
			s.send(l.Text, false)
		}
	})
	form.AddButton("Cancel", s.a.closeDialog)
	render()
	frame := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(form, 10, 0, true).AddItem(preview, 0, 1, false)
	frame.SetBorder(true).SetTitle(" compose (Tab moves, Esc closes) ")
	s.a.showDialog("compose", frame, 90, 30, form)
}

// clock is the time for a composed message's Date.
func (s *sessionScreen) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// envelope guesses From/To headers from the MAIL and RCPT lines sent.
func (s *sessionScreen) envelope() (from, to string) {
	from, to = "alice@postlab.test", "bob@postlab.test"
	var rcpts []string
	for _, e := range s.trace.Snapshot() {
		if e.Event.Dir != explorer.ClientToServer {
			continue
		}
		l := strings.ToUpper(e.Event.Line)
		if a := angle(e.Event.Line); a != "" && strings.HasPrefix(l, "MAIL FROM:") {
			from, rcpts = a, nil
		} else if a != "" && strings.HasPrefix(l, "RCPT TO:") {
			rcpts = append(rcpts, a)
		}
	}
	if len(rcpts) > 0 {
		to = strings.Join(rcpts, ", ")
	}
	return from, to
}

func angle(s string) string {
	i, j := strings.IndexByte(s, '<'), strings.IndexByte(s, '>')
	if i >= 0 && j > i+1 {
		return s[i+1 : j]
	}
	return ""
}

// saveDialog asks where to save the transcript and in which format.
func (s *sessionScreen) saveDialog() {
	if s.trace.Len() == 0 {
		s.a.setStatus("nothing to save yet", true)
		return
	}
	name := filepath.Join(s.a.opts.SaveDir, "postlab-"+time.Now().Format("20060102-150405"))
	form := tview.NewForm()
	form.SetItemPadding(1)
	path := tview.NewInputField().SetLabel("File   ").SetText(name + ".txt").SetFieldWidth(44)
	format := tview.NewDropDown().SetLabel("Format ").SetOptions([]string{"text (annotated)", "JSON Lines"}, func(_ string, i int) {
		p := strings.TrimSuffix(strings.TrimSuffix(path.GetText(), ".txt"), ".jsonl")
		if i == 1 {
			path.SetText(p + ".jsonl")
		} else {
			path.SetText(p + ".txt")
		}
	})
	format.SetCurrentOption(0)
	s.a.th.input(path, false)
	s.a.th.dropDown(format)
	form.AddFormItem(path).AddFormItem(format)
	save := func() {
		p := path.GetText()
		i, _ := format.GetCurrentOption()
		entries := s.trace.Snapshot()
		var spilled []explorer.Event
		if s.spill != nil && s.trace.Spilled() > 0 {
			spilled = s.spill.events()
		}
		var notes explorer.NoteFunc
		if s.a.opts.Annotate != nil {
			notes = explorer.NoteFunc(s.a.opts.Annotate)
		}
		s.a.closeDialog()
		s.a.Go("saving "+p, func(ctx context.Context) error {
			return saveTranscript(p, i == 1, spilled, entries, notes)
		}, func(err error) {
			if err == nil {
				abs, _ := filepath.Abs(p)
				s.a.setStatus("saved "+abs, false)
			}
		})
	}
	path.SetDoneFunc(func(k tcell.Key) {
		if k == tcell.KeyEnter {
			save()
		}
	})
	form.AddButton("Save", save).AddButton("Cancel", s.a.closeDialog)
	form.SetBorder(true).SetTitle(" save transcript ")
	s.a.showDialog("save", form, 64, 9, form)
}

// saveTranscript writes entries as the line-mode transcript (swaks-style
// markers, notes indented) or as JSON Lines, with explorer's writers.
func saveTranscript(path string, jsonl bool, spilled []explorer.Event, entries []Entry, notes explorer.NoteFunc) error {
	// A transcript may hold what a server said about an account: only
	// its owner reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("save: %v", err)
	}
	evs := append(make([]explorer.Event, 0, len(spilled)+len(entries)), spilled...)
	for _, e := range entries {
		evs = append(evs, e.Event)
	}
	if jsonl {
		err = explorer.WriteJSONL(f, evs, notes)
	} else {
		err = explorer.WriteText(f, evs, notes)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save %s: %v", path, err)
	}
	return nil
}
