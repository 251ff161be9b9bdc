package lessons

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

//go:embed course/*.md
var embedded embed.FS

// Course is an ordered set of lessons.
type Course struct {
	Lessons []*Lesson
	byID    map[string]*Lesson
}

// Lesson returns the lesson with this id, or nil.
func (c *Course) Lesson(id string) *Lesson { return c.byID[id] }

// Find returns the lesson named by ref: its id or, failing that, its
// number in the course (the # column of `postlab lessons list`); nil if none.
func (c *Course) Find(ref string) *Lesson {
	ref = strings.TrimSpace(ref)
	if l := c.byID[ref]; l != nil {
		return l
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(ref, "#")); err == nil && n >= 1 && n <= len(c.Lessons) {
		return c.Lessons[n-1]
	}
	return nil
}

// Builtin is the embedded course.
func Builtin() (*Course, error) { return Load("") }

// Load returns the embedded course followed by the lessons in extraDir
// (a teacher's own; "" for none). All problems come back as an ErrorList
// of file:line messages.
func Load(extraDir string) (*Course, error) {
	ls, errs := parseFS(embedded, "course", "course")
	if extraDir != "" {
		more, e := ParseDir(extraDir)
		ls = append(ls, unchangedCopies(ls, more)...)
		errs = append(errs, e...)
	}
	c, e := assemble(ls)
	errs = append(errs, e...)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// unchangedCopies drops the extra lessons that are byte-identical copies of
// a built-in one (a teacher's folder that starts from the course, or the
// course's own source folder): they are the same lesson, not a clash.
func unchangedCopies(builtin, extra []*Lesson) []*Lesson {
	byID := map[string]*Lesson{}
	for _, l := range builtin {
		byID[l.ID] = l
	}
	var out []*Lesson
	for _, l := range extra {
		if b := byID[l.ID]; b != nil {
			mine, err1 := os.ReadFile(l.File)
			theirs, err2 := fs.ReadFile(embedded, filepath.ToSlash(b.File))
			if err1 == nil && err2 == nil && bytes.Equal(mine, theirs) {
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

// ParseDir parses every *.md file of dir (not FORMAT.md or README.md), in
// name order; problems come back as an ErrorList.
func ParseDir(dir string) ([]*Lesson, ErrorList) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, ErrorList{{File: dir, Msg: "cannot read lessons: " + err.Error()}}
	}
	if !st.IsDir() {
		b, err := os.ReadFile(dir)
		if err != nil {
			return nil, ErrorList{{File: dir, Msg: err.Error()}}
		}
		l, err := Parse(dir, b)
		if err != nil {
			return nil, err.(ErrorList)
		}
		return []*Lesson{l}, nil
	}
	return parseFS(os.DirFS(dir), ".", dir)
}

func parseFS(fsys fs.FS, root, shown string) ([]*Lesson, ErrorList) {
	ents, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, ErrorList{{File: shown, Msg: "cannot read lessons: " + err.Error()}}
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".md") || n == "FORMAT.md" || n == "README.md" {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*Lesson
	var errs ErrorList
	for _, n := range names {
		name := filepath.Join(shown, n)
		b, err := fs.ReadFile(fsys, path.Join(root, n))
		if err != nil {
			errs = append(errs, &ParseError{File: name, Msg: err.Error()})
			continue
		}
		l, err := Parse(name, b)
		if err != nil {
			errs = append(errs, err.(ErrorList)...)
			continue
		}
		out = append(out, l)
	}
	return out, errs
}

// assemble orders the lessons and checks what spans files: unique ids and
// known requirements.
func assemble(ls []*Lesson) (*Course, ErrorList) {
	c := &Course{byID: map[string]*Lesson{}}
	var errs ErrorList
	for _, l := range ls {
		if prev := c.byID[l.ID]; prev != nil {
			errs = append(errs, &ParseError{File: l.File, Line: 2, Msg: fmt.Sprintf("lesson id %q is already used by %s: give this lesson its own id", l.ID, prev.File)})
			continue
		}
		l.Order = len(c.Lessons) + 1
		c.byID[l.ID] = l
		c.Lessons = append(c.Lessons, l)
	}
	for _, l := range c.Lessons {
		for _, r := range l.Requires {
			if c.byID[r] == nil {
				errs = append(errs, &ParseError{File: l.File, Line: l.requiresLine, Msg: fmt.Sprintf("requires unknown lesson %q", r)})
			}
		}
	}
	return c, errs
}
