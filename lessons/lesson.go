package lessons

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Lesson is one parsed lesson file.
type Lesson struct {
	ID       string
	Title    string
	Summary  string
	Minutes  int
	Requires []string // ids of lessons to do first
	Mailbox  string   // the practice mailbox the lesson works with (for "reset")
	Seeds    []Seed   // messages delivered by a lab reset
	Intro    string   // Markdown before the first step
	Steps    []*Step
	File     string // where it came from, for messages
	Order    int    // position in the course

	requiresLine int
	src          string // the file's text, placeholders unreplaced
	body         int    // index of the first line after the front matter
}

// Seed is a message a lab reset delivers so that a lesson has mail to read.
type Seed struct {
	User, Subject string
}

// Step is one thing the student does.
type Step struct {
	Title       string
	Text        string // instructions, Markdown
	Checks      []*Check
	Hints       []string
	Explanation string
	Lab         []LabAction // lab set-up while this step is current
	Line        int         // line of the "## Step:" heading
	Key         string      // stable key for progress: the index and a slug of the title
	checkBlocks int
}

// LabAction is one line of a step's ```lab block.
type LabAction struct {
	Kind string // "scenario" or "dns-fault"
	Arg  string
	Line int
}

// ParseError is a problem in a lesson file, at a line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// ErrorList is every problem found in one or more files.
type ErrorList []*ParseError

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// maxLessonSize bounds a lesson file: lessons are text a person wrote.
const maxLessonSize = 1 << 20

// Parse reads one lesson, its placeholders replaced by the lab's defaults
// (DefaultVars). name is used in error messages (file:line). Every problem
// found is returned as an ErrorList.
func Parse(name string, data []byte) (*Lesson, error) {
	if len(data) > maxLessonSize {
		return nil, ErrorList{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", maxLessonSize)}}
	}
	return parseWith(name, strings.ReplaceAll(string(data), "\r\n", "\n"), DefaultVars())
}

// Expand returns the lesson with its placeholders replaced by v's values
// (a lab on other ports, a teacher's lab); what v leaves empty keeps its
// default. Step keys, and so progress, do not depend on the values.
func (l *Lesson) Expand(v Vars) (*Lesson, error) {
	v = v.complete()
	if err := v.check(); err != nil {
		return nil, err
	}
	nl, err := parseWith(l.File, l.src, v)
	if err != nil {
		return nil, err
	}
	nl.Order = l.Order
	return nl, nil
}

// NamesLiterally reports whether the lesson's body writes word out, as a
// whole word, rather than through a placeholder: a lesson written before
// placeholders that names the lab's default port 2525, say.
func (l *Lesson) NamesLiterally(word string) bool {
	lines := strings.Split(l.src, "\n")
	body := strings.Join(lines[min(l.body, len(lines)):], "\n")
	return containsWord(body, word)
}

// containsWord reports whether word occurs in s with no letter, digit or
// underscore right before or after it (regexp's \b, without compiling one
// per call: the app asks on every redraw).
func containsWord(s, word string) bool {
	isWord := func(b byte) bool {
		return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; word != ""; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before := start > 0 && isWord(s[start-1])
		after := end < len(s) && isWord(s[end])
		if before != isWord(word[0]) && after != isWord(word[len(word)-1]) {
			return true
		}
		i = start + 1
	}
	return false
}

func parseWith(name, text string, v Vars) (*Lesson, error) {
	p := &parser{file: name, l: &Lesson{File: name, src: text}, vars: v.complete()}
	p.lines = strings.Split(text, "\n")
	p.parse()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.l, nil
}

type parser struct {
	file  string
	lines []string // the body's placeholders replaced
	raw   []string // as written
	vars  Vars
	errs  ErrorList
	l     *Lesson
}

// expandBody replaces the placeholders of the lines from first on.
func (p *parser) expandBody(first int) {
	p.raw = slices.Clone(p.lines)
	for i := first; i < len(p.lines); i++ {
		out, probs := p.vars.expand(p.lines[i])
		for _, m := range probs {
			p.errorf(i+1, "%s", m)
		}
		p.lines[i] = out
	}
}

func (p *parser) errorf(line int, format string, a ...any) {
	if len(p.errs) >= 100 {
		return
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) parse() {
	i := p.frontMatter()
	p.l.body = i
	p.expandBody(i)
	var cur *Step
	var text []string
	flush := func() {
		t := trimBlock(text)
		if cur == nil {
			p.l.Intro = t
		} else {
			cur.Text = t
		}
		text = nil
	}
	for ; i < len(p.lines); i++ {
		line := p.lines[i]
		n := i + 1
		if strings.HasPrefix(line, "## ") || line == "##" {
			h := strings.TrimSpace(strings.TrimPrefix(line, "##"))
			title, ok := strings.CutPrefix(h, "Step:")
			if !ok {
				if strings.HasPrefix(strings.ToLower(h), "step") {
					p.errorf(n, "malformed step heading %q: want \"## Step: TITLE\"", line)
				} else {
					text = append(text, line)
				}
				continue
			}
			flush()
			title = strings.TrimSpace(title)
			if title == "" {
				p.errorf(n, "step without a title")
			}
			p.finishStep(cur)
			cur = &Step{Title: title, Line: n}
			p.l.Steps = append(p.l.Steps, cur)
			// The key comes from the title as written, so that progress
			// holds whatever the placeholders' values.
			rawTitle, _ := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(p.raw[i], "##")), "Step:")
			cur.Key = fmt.Sprintf("%d-%s", len(p.l.Steps), slug(strings.TrimSpace(rawTitle)))
			continue
		}
		if fence, info, ok := openFence(line); ok {
			end := closeFence(p.lines, i+1, fence)
			if end < 0 {
				p.errorf(n, "code block opened here is never closed")
				return
			}
			body := p.lines[i+1 : end]
			if p.block(cur, info, body, n) {
				i = end
				continue
			}
			text = append(text, p.lines[i:end+1]...)
			i = end
			continue
		}
		text = append(text, line)
	}
	flush()
	p.finishStep(cur)
	if len(p.l.Steps) == 0 && len(p.errs) == 0 {
		p.errorf(len(p.lines), "lesson has no steps: add \"## Step: TITLE\" sections")
	}
}

// trimBlock joins lines without the blank lines around them. The first
// line keeps its indentation: an indented code block that opens the text
// would otherwise lose its first line to a paragraph (CommonMark §4.4).
func trimBlock(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\r\n")
}

// block handles a fenced block whose info string is one of ours; it
// reports false for any other code block, which stays in the text.
func (p *parser) block(cur *Step, info string, body []string, line int) bool {
	kind := strings.ToLower(strings.Fields(info + " x")[0])
	switch kind {
	case "check", "hint", "explain", "lab":
	default:
		return false
	}
	if cur == nil {
		p.errorf(line, "```%s block before the first \"## Step:\"", kind)
		return true
	}
	joined := trimBlock(body)
	switch kind {
	case "check":
		cur.checkBlocks++
		for j, l := range body {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			c, err := parseCheck(l, line+1+j)
			if err != nil {
				p.errorf(line+1+j, "%v", err)
				continue
			}
			cur.Checks = append(cur.Checks, c)
		}
	case "hint":
		if joined == "" {
			p.errorf(line, "empty hint")
		}
		cur.Hints = append(cur.Hints, joined)
	case "explain":
		if cur.Explanation != "" {
			p.errorf(line, "second ```explain block in step %q", cur.Title)
		}
		if joined == "" {
			p.errorf(line, "empty explanation")
		}
		cur.Explanation = joined
	case "lab":
		for j, l := range body {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			f := strings.Fields(l)
			n := line + 1 + j
			if len(f) != 2 {
				p.errorf(n, "lab line %q: want \"scenario NAME\" or \"dns-fault NAME\"", l)
				continue
			}
			switch f[0] {
			case "scenario":
				if !knownScenario(f[1]) {
					p.errorf(n, "unknown lab scenario %q (known: %s)", f[1], strings.Join(Scenarios, ", "))
					continue
				}
			case "dns-fault":
				if err := checkDNSFault(f[1]); err != nil {
					p.errorf(n, "%v", err)
					continue
				}
			default:
				p.errorf(n, "unknown lab action %q: want scenario or dns-fault", f[0])
				continue
			}
			cur.Lab = append(cur.Lab, LabAction{Kind: f[0], Arg: f[1], Line: n})
		}
	}
	return true
}

func (p *parser) finishStep(s *Step) {
	if s == nil {
		return
	}
	if s.checkBlocks == 0 {
		p.errorf(s.Line, "step %q has no ```check block", s.Title)
	} else if len(s.Checks) == 0 && len(p.errs) == 0 {
		p.errorf(s.Line, "step %q has an empty ```check block", s.Title)
	}
	if s.Text == "" {
		p.errorf(s.Line, "step %q has no instructions", s.Title)
	}
	ids := map[string]bool{}
	for _, c := range s.Checks {
		if c.Kind == KindAnswer {
			if ids[c.ID] {
				p.errorf(c.Line, "answer id %q used twice in this step", c.ID)
			}
			ids[c.ID] = true
		}
	}
}

// frontMatter parses the "---" block and returns the index of the first body line.
func (p *parser) frontMatter() int {
	if len(p.lines) == 0 || strings.TrimSpace(p.lines[0]) != "---" {
		p.errorf(1, "lesson must start with front matter: a line \"---\", then id:, title:, ..., then \"---\"")
		return 0
	}
	end := -1
	for i := 1; i < len(p.lines); i++ {
		if strings.TrimSpace(p.lines[i]) == "---" {
			end = i
			break
		}
	}
	if end < 0 {
		p.errorf(1, "front matter is never closed with \"---\"")
		return len(p.lines)
	}
	seen := map[string]int{}
	l := p.l
	for i := 1; i < end; i++ {
		n := i + 1
		raw := strings.TrimSpace(p.lines[i])
		if raw == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		if strings.Contains(raw, "{{") {
			p.errorf(n, "placeholders such as {{port.smtp}} work in the lesson body, not in the front matter")
		}
		k, v, ok := strings.Cut(raw, ":")
		if !ok {
			p.errorf(n, "front matter line %q: want \"key: value\"", raw)
			continue
		}
		// The value is everything after the first colon, so an unquoted
		// "title: POP3: the basics" is the whole "POP3: the basics".
		// Double quotes around it are optional and removed.
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.HasSuffix(v, `\"`) {
			v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
		} else if strings.HasPrefix(v, `"`) {
			p.errorf(n, "%s: the quote opened here is never closed (quotes are optional: %s: %s)", k, k, strings.TrimPrefix(v, `"`))
			continue
		}
		if prev, dup := seen[k]; dup && k != "seed" {
			p.errorf(n, "%s: given twice (first on line %d)", k, prev)
			continue
		}
		seen[k] = n
		switch k {
		case "id":
			if !idRE.MatchString(v) {
				p.errorf(n, "id %q: use lower-case letters, digits and '-'", v)
			}
			l.ID = v
		case "title":
			l.Title = v
		case "summary":
			l.Summary = v
		case "minutes":
			m, err := strconv.Atoi(v)
			if err != nil || m <= 0 || m > 600 {
				p.errorf(n, "minutes %q: want a whole number of minutes", v)
			}
			l.Minutes = m
		case "requires":
			l.requiresLine = n
			for _, r := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
				if !idRE.MatchString(r) {
					p.errorf(n, "requires: %q is not a lesson id", r)
					continue
				}
				l.Requires = append(l.Requires, r)
			}
		case "mailbox":
			if !userRE.MatchString(v) {
				p.errorf(n, "mailbox %q: want a lab user name", v)
			}
			l.Mailbox = v
		case "seed":
			u, subj, _ := strings.Cut(v, " ")
			subj = strings.TrimSpace(subj)
			if !userRE.MatchString(u) || subj == "" {
				p.errorf(n, "seed %q: want \"seed: USER SUBJECT\"", v)
				continue
			}
			l.Seeds = append(l.Seeds, Seed{User: u, Subject: subj})
		default:
			p.errorf(n, "unknown front matter key %q (known: id, title, summary, minutes, requires, mailbox, seed)", k)
		}
	}
	for _, k := range []string{"id", "title", "summary"} {
		if _, ok := seen[k]; !ok {
			p.errorf(1, "front matter has no %q line", k+":")
		}
	}
	if l.Minutes == 0 {
		l.Minutes = 10
	}
	return end + 1
}

var userRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// openFence recognises a fenced code block opening (CommonMark: three or
// more backticks, then an info string).
func openFence(line string) (fence, info string, ok bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || !strings.HasPrefix(t, "```") {
		return "", "", false
	}
	n := 0
	for n < len(t) && t[n] == '`' {
		n++
	}
	info = strings.TrimSpace(t[n:])
	if strings.Contains(info, "`") {
		return "", "", false
	}
	return t[:n], info, true
}

func closeFence(lines []string, from int, fence string) int {
	for i := from; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, fence) && strings.Trim(t, "`") == "" {
			return i
		}
	}
	return -1
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
