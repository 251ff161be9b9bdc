package tui

import (
	"strings"
	"testing"

	"postlab/lessons"
)

// An indented code block may follow a heading but cannot interrupt a
// paragraph (CommonMark §4.4): after a heading each line stays a code line,
// after a paragraph's line the indented line continues the paragraph.
func TestMarkdownIndentedCodeAfterHeading(t *testing.T) {
	th := newTheme(true)
	got := stripTags(renderMarkdown("## Log in\n    USER bob\n    PASS builder\n", 40, th))
	if want := "Log in\n\n  USER bob\n  PASS builder"; got != want {
		t.Errorf("after a heading: got %q, want %q", got, want)
	}
	got = stripTags(renderMarkdown("Send\n    USER bob\n", 40, th))
	if want := "Send USER bob"; got != want {
		t.Errorf("after a paragraph: got %q, want %q", got, want)
	}
}

// The built-in lesson 8 opens step 1 with two command lines: the app shows
// them as two code lines, not as one paragraph "USER bob PASS builder".
func TestLessonStepOpeningWithCodeBlock(t *testing.T) {
	c, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lesson("pop3-by-hand")
	if l == nil {
		t.Fatal("no lesson pop3-by-hand")
	}
	got := stripTags(renderMarkdown(l.Steps[0].Text, 60, newTheme(true)))
	if !strings.Contains(got, "  USER bob\n  PASS builder") {
		t.Errorf("step 1 of pop3-by-hand renders as:\n%s", got)
	}
}
