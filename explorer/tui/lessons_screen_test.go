package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/lessons"
)

func TestLessonsListRendersAt80x24(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	h := startApp(t, o, 80, 24)
	h.rune('5')
	s := h.waitFor("lessons: 0 of 14 done", "Your first SMTP session by hand", "14 POP3 or IMAP?", "new", "Enter open lesson", "6 Trouble")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) != 24 || !strings.Contains(lines[23], "quit") {
		t.Fatalf("the Lessons screen does not fit 80x24 with its key hints:\n%s", s)
	}
	// The first lesson's summary is shown under the list.
	h.waitFor("what-happens · 3 steps · about 10 min")
}

// TestLessonFlowAgainstTheLab opens lesson 2 beside a session with the
// real lab, performs its steps on the command line and sees the check
// marks appear; reveals a hint, answers the question, resets bob's
// mailbox, and finds the progress kept in the data dir.
func TestLessonFlowAgainstTheLab(t *testing.T) {
	o := realLabOptions(t)
	o.DataDir = t.TempDir()
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp 127.0.0.1:")
	h.rune('5')
	h.waitFor("Your first SMTP session by hand")
	h.key(tcell.KeyDown)
	h.key(tcell.KeyEnter)
	s := h.waitFor("lesson 2: Your first SMTP session by hand", "Step 1 of 5: Say hello", "☐ EHLO answered with 250", "not connected")
	if !strings.Contains(s, "▶○○○○") {
		t.Errorf("no step progress shown:\n%s", s)
	}

	// A hint, revealed on h.
	h.rune('h')
	h.waitFor("Hint 1", "EHLO student.example")

	// Connect from the list beside the lesson: the lab's SMTP preset.
	h.key(tcell.KeyTab)
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 ")
	if h.app.Current() != 4 {
		t.Fatalf("connecting left the Lessons screen for screen %d", h.app.Current()+1)
	}
	h.line("EHLO student.example")
	// The whole reply, to its last line: Esc while a reply is still
	// arriving would cancel it.
	h.waitFor("✔ EHLO answered with 250", "S: 250 ")

	// The question: a wrong answer, then the right one.
	h.key(tcell.KeyEscape) // out of the command line, to the lesson
	h.rune('a')
	h.waitFor("answer (Esc closes)", "Which reply code did the server greet you with?")
	h.line("250")
	h.waitFor("Not quite (250)")
	h.rune('a')
	h.waitFor("answer (Esc closes)")
	h.line("220")
	h.waitFor("✔ answer: Which reply code", "Step passed", "✔○○○○")

	// The following steps, typed on the command line.
	h.rune('n')
	h.waitFor("Step 2 of 5: Say who is sending", "☐ MAIL FROM accepted (250)")
	h.key(tcell.KeyTab) // lesson -> command line
	h.line("MAIL FROM:<alice@postlab.test>")
	h.waitFor("✔ MAIL FROM accepted (250)")
	h.rune('n') // typed into the command line: not a step key
	h.waitFor("> n")
	h.key(tcell.KeyBackspace2)
	h.sim.InjectKey(tcell.KeyRune, 'n', tcell.ModAlt) // Alt-n works from the command line
	h.waitFor("Step 3 of 5: Say who receives it")
	h.line("RCPT TO:<bob@postlab.test>")
	h.waitFor("✔ RCPT TO bob accepted (250)")
	h.sim.InjectKey(tcell.KeyRune, 'n', tcell.ModAlt)
	h.waitFor("Step 4 of 5: Send the message")
	h.line("DATA")
	h.waitLast("354")
	for _, l := range []string{"Subject: My first SMTP message", "From: alice@postlab.test", "", "Hello Bob.", "."} {
		h.line(l)
	}
	h.waitFor("✔ DATA answered with 354", "✔ the final dot answered with 250", "✔ bob holds")

	// Reset bob's mailbox: the message goes away.
	store := h.app.localLab().Store()
	if ms, _ := store.List("bob"); len(ms) != 1 {
		t.Fatalf("bob holds %d messages before the reset, want 1", len(ms))
	}
	// A stray r (raw/parsed on the Mailboxes screen) deletes nothing; R
	// asks, naming what goes, and only y deletes.
	h.key(tcell.KeyEscape)
	h.rune('r')
	h.waitFor("Shift-R resets the lesson's lab mailbox, after asking.")
	h.rune('R')
	h.waitFor("Delete every message in bob's lab mailbox (1 message", "y delete")
	h.rune('r')
	h.waitFor("Nothing deleted.")
	if ms, _ := store.List("bob"); len(ms) != 1 {
		t.Fatalf("bob holds %d messages after a reset answered no, want 1", len(ms))
	}
	h.rune('R')
	h.waitFor("Delete every message in bob's lab mailbox")
	h.rune('y')
	h.waitFor("bob's lab mailbox is empty again")
	if ms, _ := store.List("bob"); len(ms) != 0 {
		t.Fatalf("bob holds %d messages after the reset, want 0", len(ms))
	}

	// Progress shows in the list and is kept in the data dir.
	h.rune('l')
	h.waitFor("lessons: 0 of 14 done", "4/5 steps")
	c, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	m, err := lessons.NewModel(c, o.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range m.List() {
		if it.ID == "smtp-by-hand" && it.Passed != 4 {
			t.Errorf("saved progress of smtp-by-hand: %d steps passed, want 4", it.Passed)
		}
	}
}

// TestLessonStepSetUp applies a step's lab set-up on s.
func TestLessonStepSetUp(t *testing.T) {
	o := realLabOptions(t)
	h := startApp(t, o, 100, 30)
	h.waitFor("lab: smtp 127.0.0.1:")
	var id string
	var step int
	for _, l := range h.app.lessons.model.Course().Lessons {
		for i, st := range l.Steps {
			if id == "" && len(st.Lab) > 0 {
				id, step = l.ID, i
			}
		}
	}
	if id == "" {
		t.Skip("no lesson step has a lab set-up")
	}
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open(id) })
	h.waitFor("Step 1 of")
	for i := 0; i < step; i++ {
		h.rune('n')
	}
	h.waitFor("lab set-up:", "(s applies it again)")
	h.rune('s')
	s := h.waitFor("lab set up: ")
	if strings.Contains(s, "lab set-up: the lab cannot") {
		t.Errorf("the lab refused the set-up:\n%s", s)
	}
}

func TestMarkdownRendering(t *testing.T) {
	th := newTheme(true)
	md := "# Title\n\nSome *emphasis*, **bold** and `EHLO [127.0.0.1]` here.\n\n" +
		"- one item that is long enough to wrap around the narrow width\n- two\n\n" +
		"    MAIL FROM:<a@b>\n\n```\nRCPT TO:<[x]>\n```\n\nsnake_case_name and [a link](https://example.org).\n"
	out := renderMarkdown(md, 30, th)
	plain := stripTags(out)
	flat := strings.Join(strings.Fields(plain), " ")
	for _, want := range []string{"Title", "Some emphasis, bold and EHLO [127.0.0.1] here.", "• one item that is long", "• two", "snake_case_name", "a link (https://example.org)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("rendered text lacks %q:\n%s", want, plain)
		}
	}
	for _, want := range []string{"\n  to wrap around", "\n  MAIL FROM:<a@b>\n", "\n  RCPT TO:<[x]>\n"} {
		if !strings.Contains(plain, want) {
			t.Errorf("no hanging indent or code line %q:\n%s", want, plain)
		}
	}
	for _, l := range strings.Split(plain, "\n") {
		if w := len([]rune(l)); w > 30 {
			t.Errorf("line wider than 30: %q (%d)", l, w)
		}
	}
	if strings.Contains(plain, "*") || strings.Contains(plain, "`") || strings.Contains(plain, "# ") {
		t.Errorf("Markdown marks left in:\n%s", plain)
	}
}

// stripTags draws tagged text onto a simulation screen to read what shows.
func stripTags(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		sim := tcell.NewSimulationScreen("UTF-8")
		sim.Init()
		sim.SetSize(200, 1)
		tview.Print(sim, l, 0, 0, 200, tview.AlignLeft, tcell.ColorDefault)
		sim.Show()
		cells, w, _ := sim.GetContents()
		var b strings.Builder
		for x := 0; x < w; x++ {
			if len(cells[x].Runes) == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(string(cells[x].Runes))
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
		sim.Fini()
	}
	return strings.Join(out, "\n")
}

// TestLessonWithoutColour: with NO_COLOR the lesson is still legible and
// no style tag leaks into the text.
func TestLessonWithoutColour(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.NoColor = true
	h := startApp(t, o, 80, 24)
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("smtp-by-hand") })
	s := h.waitFor("Step 1 of 5: Say hello", "☐ EHLO answered with 250", "SMTP is a conversation of text lines")
	for _, tag := range []string{"[::", "[green]", "[yellow", "[-:-:-]", "[gray]"} {
		if strings.Contains(s, tag) {
			t.Errorf("style tag %q shows:\n%s", tag, s)
		}
	}
}

// TestMarkdownKeepsPunctuationWithItsWord: a comma after a code span stays
// on the code's line, whatever the width.
func TestMarkdownKeepsPunctuationWithItsWord(t *testing.T) {
	th := newTheme(true)
	md := "Connect to the lab again. This time send `EHLO`, then `STARTTLS`, then *EHLO* again (RFC 3207 §4.2)."
	for w := 12; w <= 60; w++ {
		plain := stripTags(renderMarkdown(md, w, th))
		if got := strings.Join(strings.Fields(plain), " "); got != "Connect to the lab again. This time send EHLO, then STARTTLS, then EHLO again (RFC 3207 §4.2)." {
			t.Fatalf("width %d lost text: %q", w, got)
		}
		for _, l := range strings.Split(plain, "\n") {
			if strings.HasPrefix(l, ",") || strings.HasPrefix(l, ".") || strings.HasPrefix(l, ")") {
				t.Errorf("width %d: a line starts with punctuation cut from its word:\n%s", w, plain)
				break
			}
			if n := len([]rune(l)); n > w {
				t.Errorf("width %d: line %q is %d wide", w, l, n)
			}
		}
	}
}

// lessonOpen reports whether a lesson shows (not the list).
func (h *harness) lessonOpen() bool { return onUI(h, h.app.lessons.lessonOpen) }

// paneText is the lesson pane's text as it reads, whatever the wrapping.
func (h *harness) paneText() string {
	text := onUI(h, func() string { return h.app.lessons.text.GetText(true) })
	return strings.Join(strings.Fields(text), " ")
}

// waitPane polls the lesson pane until it holds (or, with !has, lacks) want.
func (h *harness) waitPane(want string, has bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		h.app.tv.QueueUpdateDraw(func() {})
		if text = h.paneText(); strings.Contains(text, want) == has {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("the lesson pane (want %q: %v) reads:\n%s", want, has, text)
}

// TestLessonSaysChecksNeedThisAppsLab: with the lab's ports taken (another
// postlab runs), the lesson says its checks need this app's lab and L,
// and names the other lab the session went to; after L and a new
// connection the warning goes.
func TestLessonSaysChecksNeedThisAppsLab(t *testing.T) {
	lab := movedLab{newFakeLab()}
	o := fakeOptions(lab.fakeLab, nil)
	o.StartLab = func(free bool) (Lab, error) {
		if !free {
			return nil, fmt.Errorf("%w: 127.0.0.1:2525 (--smtp)", ErrPortTaken)
		}
		return lab, nil
	}
	h := startApp(t, o, 100, 30)
	h.waitFor("lab not started")
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("smtp-by-hand") })
	h.waitFor("Step 1 of 5")
	h.waitPane("Checks need this app's lab, not running: port 2525 is taken (another postlab?). Press L to start it on free ports.", true)

	// The preset points at the default port: another postlab's lab.
	h.key(tcell.KeyTab)
	h.key(tcell.KeyEnter)
	h.waitFor("S: 220 mail.postlab.test")
	h.waitPane("Your session is with 127.0.0.1:2525, not this app's lab.", true)

	// From the command line; terminals send Alt+l as ESC l, without Shift.
	h.sim.InjectKey(tcell.KeyRune, 'l', tcell.ModAlt)
	h.waitFor("lab: smtp 127.0.0.1:41025")
	// Alt+l never leaves the lesson, the lab running or not: l (plain) does.
	h.sim.InjectKey(tcell.KeyRune, 'l', tcell.ModAlt)
	h.typ("x") // keys come in order: once x shows, Alt+l is handled
	h.waitCmd("x")
	h.key(tcell.KeyCtrlU)
	if !h.lessonOpen() {
		t.Fatal("Alt+l went back to the lesson list")
	}
	h.waitPane("Checks need this app's lab", false)
	h.waitPane("Your session is with 127.0.0.1:2525, not this app's lab (smtp 127.0.0.1:41025): checks do not see it. Ctrl-N connects again.", true)

	h.key(tcell.KeyCtrlN)
	h.waitFor("End the session to") // it is live: asked first
	h.rune('y')
	h.waitFor("not connected: Enter opens a session")
	h.key(tcell.KeyEnter)
	h.waitFor("smtp://127.0.0.1:41025", "S: 220 mail.postlab.test")
	h.waitPane("not this app's lab", false)
}

// TestLessonWithoutTheLabSaysSo: --no-lab leaves the checks blind too.
func TestLessonWithoutTheLabSaysSo(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.NoLab = true
	h := startApp(t, o, 100, 30)
	h.waitFor("lab off (--no-lab)")
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("smtp-by-hand") })
	h.waitFor("Step 1 of 5")
	h.waitPane("Checks need this app's lab, not running: it is off (--no-lab).", true)
	if strings.Contains(h.paneText(), "Press L") {
		t.Error("the pane offers L without a lab to start")
	}
}

// hintLesson is a course with a step whose hints are each longer than the
// lesson pane at 80x24.
func hintLesson(t *testing.T) *lessons.Course {
	t.Helper()
	dir := t.TempDir()
	long := func(word string) string {
		var b strings.Builder
		for i := 1; i <= 14; i++ {
			fmt.Fprintf(&b, "%s line %d.\n\n", word, i)
		}
		return b.String()
	}
	md := "---\nid: long-hints\ntitle: Long hints\nsummary: hints longer than the pane\n---\n" +
		"## Step: Read on\n" + long("Step text") + "```check\nsent command=EHLO reply=250\n```\n" +
		"```hint\n" + long("First hint") + "```\n" + "```hint\n" + long("Second hint") + "```\n"
	if err := os.WriteFile(filepath.Join(dir, "long.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := lessons.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHintScrollsIntoView: each h brings the hint it reveals to the top of
// the lesson pane, however long the text above it.
func TestHintScrollsIntoView(t *testing.T) {
	o := fakeOptions(newFakeLab(), nil)
	o.Course = hintLesson(t)
	h := startApp(t, o, 80, 24)
	h.waitFor("lab: smtp")
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("long-hints") })
	h.waitFor("Step 1 of 1: Read on", "Step text line 1.")
	h.rune('h')
	s := h.waitFor("Hint 1", "First hint line 1.", "Hint 1 is in the lesson pane")
	if strings.Contains(s, "Step text line 1.") {
		t.Errorf("the pane did not scroll to the hint:\n%s", s)
	}
	h.rune('h')
	s = h.waitFor("Hint 2", "Second hint line 1.", "Hint 2 is in the lesson pane")
	if strings.Contains(s, "First hint line 1.") {
		t.Errorf("the pane shows the first hint, not the one revealed:\n%s", s)
	}
}

// TestLessonSeparatorSpansThePane: the rule under the checks is as wide
// as the pane.
func TestLessonSeparatorSpansThePane(t *testing.T) {
	h := startApp(t, fakeOptions(newFakeLab(), nil), 80, 24)
	h.waitFor("lab: smtp")
	h.app.tv.QueueUpdateDraw(func() { h.app.lessons.open("smtp-by-hand") })
	s := h.waitFor("Step 1 of 5")
	rule := strings.Repeat("─", 78)
	for _, l := range strings.Split(s, "\n") {
		r := []rune(l)
		if len(r) >= 80 && strings.ContainsRune("│║", r[0]) && string(r[1:79]) == rule {
			return
		}
	}
	t.Fatalf("no rule 78 wide in the lesson pane:\n%s", s)
}
