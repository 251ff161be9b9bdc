package lessons

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// otherLab is a lab on other ports and another host, none of them a
// standard port or a default of the lab.
var otherLab = Vars{Host: "192.0.2.7", CA: "/srv/lab/tls/cert.pem", Ports: map[string]int{
	"smtp": 41025, "submission": 41587, "submissions": 41465, "pop3": 41110, "pop3s": 41995, "dns": 41053}}

const placeholderLesson = `---
id: ph
title: Placeholders
summary: every place a placeholder may stand
---
Intro: the lab's SMTP is {{addr.smtp}}.

## Step: Submission on {{port.submission}}

Connect to {{host}} port {{ port.submission }}, with ` + "`--ca {{ca}}`" + ` for {{domain}}.

` + "```check" + `
sent command=EHLO reply=250 label="EHLO on {{port.submission}}"
answer id=p question="Which port does the SRV record of {{domain}} name?" expect={{port.submission}}
` + "```" + `

` + "```hint" + `
dig @{{host}} -p {{port.dns}} _submission._tcp.{{domain}} SRV
` + "```" + `

` + "```explain" + `
POP3S is on {{addr.pop3s}}, POP3 on {{port.pop3}}, submissions on {{port.submissions}}.
` + "```" + `
`

// Placeholders are replaced everywhere in the body, by the defaults when
// parsed and by a lab's own values when expanded; the step keys (and so
// progress) stay the same.
func TestPlaceholdersAreReplaced(t *testing.T) {
	def, err := Parse("ph.md", []byte(placeholderLesson))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultVars()
	if d.Host != "127.0.0.1" || d.Ports["smtp"] != 2525 || d.Ports["dns"] != 2553 || d.Domain != "postlab.test" || !strings.HasSuffix(d.CA, "/tls/cert.pem") {
		t.Fatalf("DefaultVars = %+v", d)
	}
	other, err := def.Expand(otherLab)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		l    *Lesson
		want []string
	}{
		{def, []string{"127.0.0.1:2525", "Submission on 2587", "Connect to 127.0.0.1 port 2587, with `--ca " + d.CA + "` for postlab.test", "EHLO on 2587", "record of postlab.test name?", "dig @127.0.0.1 -p 2553 _submission._tcp.postlab.test SRV", "127.0.0.1:2995, POP3 on 2110, submissions on 2465"}},
		{other, []string{"192.0.2.7:41025", "Submission on 41587", "Connect to 192.0.2.7 port 41587, with `--ca /srv/lab/tls/cert.pem` for postlab.test", "EHLO on 41587", "dig @192.0.2.7 -p 41053 _submission", "192.0.2.7:41995, POP3 on 41110, submissions on 41465"}},
	} {
		text := lessonText(tc.l)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q missing from:\n%s", w, text)
			}
		}
		if strings.Contains(text, "{{") {
			t.Errorf("a placeholder is left:\n%s", text)
		}
	}
	if def.Steps[0].Key != other.Steps[0].Key || def.Steps[0].Key != "1-submission-on-port-submission" {
		t.Errorf("step keys %q and %q: want both from the title as written", def.Steps[0].Key, other.Steps[0].Key)
	}
	// The answer expected is the lab's real port.
	r := newRunner(other, mustProgress(t), nil, nil)
	if ok, err := r.Answer("p", "2587"); ok || err != nil {
		t.Errorf("the default port is accepted on another lab (%v, %v)", ok, err)
	}
	if ok, err := r.Answer("p", "41587"); !ok || err != nil {
		t.Errorf("the lab's real port is refused (%v, %v)", ok, err)
	}
	// A value that would break the lesson's lines is refused.
	if _, err := def.Expand(Vars{Host: "a\n## Step: x"}); err == nil {
		t.Error("a host with a line break was accepted")
	}
}

func mustProgress(t *testing.T) *progressStore {
	t.Helper()
	ps, err := openProgress("")
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// lessonText is everything of a lesson a student reads: introduction,
// steps, hints, explanations, check labels, questions and choices.
func lessonText(l *Lesson) string {
	var b strings.Builder
	b.WriteString(l.Title + "\n" + l.Summary + "\n" + l.Intro + "\n")
	for _, s := range l.Steps {
		b.WriteString(s.Title + "\n" + s.Text + "\n" + strings.Join(s.Hints, "\n") + "\n" + s.Explanation + "\n")
		for _, c := range s.Checks {
			b.WriteString(c.Label + "\n" + c.Question + "\n" + strings.Join(c.Choices, "\n") + "\n" + strings.Join(c.expect, "\n") + "\n")
		}
	}
	return b.String()
}

// Every course lesson, shown for a lab on other ports and another host,
// names that lab: no default port of the lab, its address or the default
// certificate path is left, while the standard ports the lessons teach
// (25, 587, 465, 110, 995...) stay as they are.
func TestCourseFollowsTheLabsPorts(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultVars()
	stale := regexp.MustCompile(`\b(2525|2587|2465|2110|2995|2553|127\.0\.0\.1)\b`)
	standard := regexp.MustCompile(`\b(25|53|110|143|465|587|993|995)\b`)
	count := func(re *regexp.Regexp, s string) map[string]int {
		n := map[string]int{}
		for _, m := range re.FindAllString(s, -1) {
			n[m]++
		}
		return n
	}
	named := 0
	for _, l := range c.Lessons {
		other, err := l.Expand(otherLab)
		if err != nil {
			t.Fatalf("%s: %v", l.File, err)
		}
		text := lessonText(other)
		for _, line := range strings.Split(text, "\n") {
			if stale.MatchString(line) || strings.Contains(line, d.CA) {
				t.Errorf("%s: names the default lab, not the one in use: %q", l.File, line)
			}
		}
		if strings.Contains(text, "{{") {
			t.Errorf("%s: a placeholder is left", l.File)
		}
		if a, b := fmt.Sprint(count(standard, lessonText(l))), fmt.Sprint(count(standard, text)); a != b {
			t.Errorf("%s: standard ports changed with the lab's: %s with the defaults, %s on other ports", l.File, a, b)
		}
		if regexp.MustCompile(`\b41(025|587|465|110|995|053)\b|192\.0\.2\.7`).MatchString(text) {
			named++
		}
	}
	if named < 12 {
		t.Errorf("only %d of %d lessons name the lab's address or ports", named, len(c.Lessons))
	}
}

// A lesson written without placeholders is known to name the defaults.
func TestNamesLiterally(t *testing.T) {
	old, err := Parse("old.md", []byte("---\nid: old\ntitle: Old\nsummary: s\n---\n## Step: one\nConnect to 127.0.0.1:2525.\n```check\nsent command=EHLO\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !old.NamesLiterally("2525") || old.NamesLiterally("2587") || old.NamesLiterally("252") {
		t.Error("NamesLiterally misreads 127.0.0.1:2525")
	}
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Lessons {
		for _, p := range []string{"2525", "2587", "2465", "2110", "2995", "2553"} {
			if l.NamesLiterally(p) {
				t.Errorf("%s writes %s out: use its placeholder", l.File, p)
			}
		}
	}
}

// A model given a lab's values opens its lessons with them, and the
// progress made holds when the values change.
func TestModelOpensLessonsForTheLabInUse(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m.SetVars(otherLab)
	r, err := m.Open("ports")
	if err != nil {
		t.Fatal(err)
	}
	if v := r.View(); !strings.Contains(v.Intro, "41025") || strings.Contains(v.Intro, "2525") {
		t.Errorf("intro for the lab on other ports:\n%s", v.Intro)
	}
	r.Goto(t.Context(), 1)
	if ok, err := r.Answer("465", "no"); !ok || err != nil {
		t.Fatalf("answer: %v %v", ok, err)
	}
	m.SetVars(DefaultVars())
	r, err = m.Open("ports")
	if err != nil {
		t.Fatal(err)
	}
	v := r.View()
	if v.Step != 1 || !strings.Contains(v.Checks[1].Label, "2465") || !v.Checks[1].Passed {
		t.Errorf("after the lab moved back: step %d, check %+v", v.Step, v.Checks[1])
	}
}
