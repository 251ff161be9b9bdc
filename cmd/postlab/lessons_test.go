package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCaptured runs the command line like run does, with output captured.
func runCaptured(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	code = exitOK
	if err != nil {
		code = exitUsage
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.err != errSilent {
				errb.WriteString(ee.Error())
			}
		} else {
			errb.WriteString(err.Error())
		}
	}
	return code, out.String(), errb.String()
}

func TestLessonsListJSON(t *testing.T) {
	code, out, errs := runCaptured(t, "lessons", "list", "--json", "--data", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Lessons []struct {
			Order  int    `json:"order"`
			ID     string `json:"id"`
			Title  string `json:"title"`
			Steps  int    `json:"steps"`
			Passed int    `json:"passed"`
			Status string `json:"status"`
		} `json:"lessons"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Lessons) < 14 {
		t.Fatalf("%d lessons", len(got.Lessons))
	}
	first, last := got.Lessons[0], got.Lessons[13]
	if first.ID != "what-happens" || first.Order != 1 || first.Status != "new" || first.Steps == 0 {
		t.Errorf("first lesson %+v", first)
	}
	if last.ID != "pop3-or-imap" || last.Order != 14 {
		t.Errorf("lesson 14 %+v", last)
	}
}

func TestLessonsListText(t *testing.T) {
	code, out, _ := runCaptured(t, "lessons", "list", "--data", t.TempDir())
	if code != exitOK || !strings.Contains(out, "smtp-by-hand") || !strings.Contains(out, "0/5") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestLessonsShow(t *testing.T) {
	code, out, _ := runCaptured(t, "lessons", "show", "pop3-deletion")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"POP3 deletion", "## Step 2/4: Hang up instead of QUIT", "[ ] DELE, no QUIT", "c) UPDATE"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q", want)
		}
	}
	if strings.Contains(out, "Explanation:") {
		t.Error("show prints explanations without --teacher")
	}
	_, out, _ = runCaptured(t, "lessons", "show", "--teacher", "pop3-deletion")
	if !strings.Contains(out, "Explanation: ") || !strings.Contains(out, "Hint 1: ") {
		t.Error("--teacher does not print hints and explanations")
	}
	if code, _, errs := runCaptured(t, "lessons", "show", "no-such-lesson"); code != exitUsage || !strings.Contains(errs, "no lesson") {
		t.Errorf("unknown id: exit %d %q", code, errs)
	}
	if code, _, _ := runCaptured(t, "lessons", "show"); code != exitUsage {
		t.Errorf("no id: exit %d", code)
	}
}

func TestLessonsValidate(t *testing.T) {
	code, out, _ := runCaptured(t, "lessons", "validate")
	if code != exitOK || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("built-in course: exit %d %q", code, out)
	}
	bad := filepath.Join("..", "..", "lessons", "testdata", "bad")
	code, _, errs := runCaptured(t, "lessons", "validate", bad)
	if code != exitFailed {
		t.Fatalf("bad lessons: exit %d", code)
	}
	for _, want := range []string{
		filepath.Join(bad, "unknown-kind.md") + ":10: unknown check kind",
		filepath.Join(bad, "unclosed-fence.md") + ":8: ",
		filepath.Join(bad, "bad-key.md") + ":9: mailbox: unknown key",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}

	dir := t.TempDir()
	good := "---\nid: teacher-one\ntitle: Mine\nsummary: a teacher's lesson\nrequires: smtp-by-hand\n---\n## Step: hi\nSay hi.\n```check\nsent command=EHLO reply=250\n```\n"
	os.WriteFile(filepath.Join(dir, "mine.md"), []byte(good), 0o644)
	if code, out, errs := runCaptured(t, "lessons", "validate", dir); code != exitOK || !strings.Contains(out, "ok: 15 lessons") {
		t.Fatalf("good teacher dir: exit %d %q %q", code, out, errs)
	}
	// The teacher's lesson appears in the list with --lessons.
	if _, out, _ := runCaptured(t, "lessons", "list", "--lessons", dir, "--data", t.TempDir()); !strings.Contains(out, "teacher-one") {
		t.Errorf("--lessons not listed:\n%s", out)
	}
	// A directory that is not there is a usage error (2), not a lesson problem.
	missing := filepath.Join(dir, "missing")
	if code, _, errs := runCaptured(t, "lessons", "validate", missing); code != exitUsage || !strings.Contains(errs, missing+": no such directory or file") {
		t.Errorf("missing dir: exit %d %q", code, errs)
	}
	if code, _, errs := runCaptured(t, "lessons", "list", "--lessons", missing, "--data", t.TempDir()); code != exitUsage || !strings.Contains(errs, "--lessons "+missing+": no such directory or file") {
		t.Errorf("missing --lessons dir: exit %d %q", code, errs)
	}
}

// show takes the number of the # column of list as well as the id.
func TestLessonsShowByNumber(t *testing.T) {
	_, byID, _ := runCaptured(t, "lessons", "show", "smtp-by-hand")
	for _, ref := range []string{"2", "#2"} {
		code, out, errs := runCaptured(t, "lessons", "show", ref)
		if code != exitOK || out != byID || !strings.HasPrefix(out, "2. ") {
			t.Errorf("show %s: exit %d %q\n%.200s", ref, code, errs, out)
		}
	}
	for _, ref := range []string{"0", "99", "nope"} {
		code, _, errs := runCaptured(t, "lessons", "show", ref)
		if code != exitUsage || !strings.Contains(errs, "an ID or a number") {
			t.Errorf("show %s: exit %d %q", ref, code, errs)
		}
	}
}
