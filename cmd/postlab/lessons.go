package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"postlab/explorer/lab"
	"postlab/lessons"
)

func init() { register(newLessonsCmd) }

// lessonsFlags are shared by the lessons subcommands.
type lessonsFlags struct {
	extra string // --lessons DIR
	data  string // --data DIR (progress)
}

func newLessonsCmd() *cobra.Command {
	f := &lessonsFlags{}
	cmd := &cobra.Command{
		Use:   "lessons",
		Short: "List, show and validate lessons",
		Long: "The course teaches SMTP, POP3 and mail DNS step by step against the lab; every\n" +
			"step is checked against what you really did. Open it in the app (postlab, key 5).\n" +
			"Teachers write their own lessons as Markdown (see lessons/FORMAT.md) and add them\n" +
			"with --lessons DIR.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.extra, "lessons", "", "also load the lessons in `DIR` (a teacher's own)")
	pf.StringVar(&f.data, "data", lab.DefaultDataDir(), "data `DIR` that holds lesson progress")
	cmd.AddCommand(newLessonsListCmd(f), newLessonsShowCmd(f), newLessonsValidateCmd())
	return cmd
}

// lessonDir checks a lessons DIR (or file) given on the command line: a
// path that is not there is a usage error, not a problem in the lessons.
func lessonDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		why := "cannot read it"
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such directory or file"
		}
		return usageErrorf("%s%s: %s (give a directory of lesson .md files, e.g. postlab lessons validate ./my-lessons)", flag, dir, why)
	}
	return nil
}

func (f *lessonsFlags) course() (*lessons.Course, error) {
	if err := lessonDir("--lessons ", f.extra); err != nil {
		return nil, err
	}
	c, err := lessons.Load(f.extra)
	if err != nil {
		return nil, failErrorf("%s", firstLine(err))
	}
	return c, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + fmt.Sprintf(" (and %d more; run 'postlab lessons validate')", strings.Count(s, "\n"))
	}
	return s
}

func newLessonsListCmd(f *lessonsFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the course with your progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.course()
			if err != nil {
				return err
			}
			m, err := lessons.NewModel(c, f.data)
			if err != nil {
				return failErrorf("%v", err)
			}
			items := m.List()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Lessons []lessons.Item `json:"lessons"`
				}{items})
			}
			writeLessonList(out, items)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeLessonList(w io.Writer, items []lessons.Item) {
	idw := len("ID")
	for _, it := range items {
		idw = max(idw, len(it.ID))
	}
	fmt.Fprintf(w, "%3s  %-*s  %-8s  %4s  %s\n", "#", idw, "ID", "PROGRESS", "MIN", "TITLE")
	for _, it := range items {
		prog := fmt.Sprintf("%d/%d", it.Passed, it.Steps)
		if it.Status == "done" {
			prog = "done"
		}
		fmt.Fprintf(w, "%3d  %-*s  %-8s  %4d  %s\n", it.Order, idw, it.ID, prog, it.Minutes, it.Title)
	}
}

func newLessonsShowCmd(f *lessonsFlags) *cobra.Command {
	var teacher bool
	cmd := &cobra.Command{
		Use:     "show ID|NUMBER",
		Short:   "Print a lesson: its steps, instructions and checks",
		Example: "  postlab lessons show 2\n  postlab lessons show smtp-by-hand --teacher",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("show takes one lesson ID or number, e.g. postlab lessons show 2 (see 'postlab lessons list')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.course()
			if err != nil {
				return err
			}
			l := c.Find(args[0])
			if l == nil {
				return usageErrorf("no lesson %q: give an ID or a number from 'postlab lessons list' (1 to %d)", args[0], len(c.Lessons))
			}
			writeLesson(cmd.OutOrStdout(), l, teacher)
			return nil
		},
	}
	cmd.Flags().BoolVar(&teacher, "teacher", false, "also print hints and explanations")
	return cmd
}

func writeLesson(w io.Writer, l *lessons.Lesson, teacher bool) {
	fmt.Fprintf(w, "%d. %s  (%s, about %d minutes)\n", l.Order, l.Title, l.ID, l.Minutes)
	fmt.Fprintf(w, "%s\n", l.Summary)
	if len(l.Requires) > 0 {
		fmt.Fprintf(w, "Do first: %s\n", strings.Join(l.Requires, ", "))
	}
	if l.Intro != "" {
		fmt.Fprintf(w, "\n%s\n", l.Intro)
	}
	for i, s := range l.Steps {
		fmt.Fprintf(w, "\n## Step %d/%d: %s\n\n%s\n\n", i+1, len(l.Steps), s.Title, s.Text)
		for _, a := range s.Lab {
			fmt.Fprintf(w, "  (the lab switches on %s %s for this step)\n", a.Kind, a.Arg)
		}
		for _, c := range s.Checks {
			if c.Kind == lessons.KindAnswer {
				fmt.Fprintf(w, "  [ ] %s\n", c.Question)
				for j, ch := range c.Choices {
					fmt.Fprintf(w, "        %c) %s\n", 'a'+j, ch)
				}
				continue
			}
			fmt.Fprintf(w, "  [ ] %s\n", c.Label)
		}
		if teacher {
			for j, h := range s.Hints {
				fmt.Fprintf(w, "\n  Hint %d: %s\n", j+1, indent(h))
			}
			if s.Explanation != "" {
				fmt.Fprintf(w, "\n  Explanation: %s\n", indent(s.Explanation))
			}
		} else if len(s.Hints) > 0 {
			fmt.Fprintf(w, "  (%d hint(s) in the app)\n", len(s.Hints))
		}
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

func newLessonsValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check lesson files; prints FILE:LINE: problem for each mistake",
		Long: "Without DIR it checks the built-in course. With DIR (or one file) it checks\n" +
			"those lessons together with the course, so that requires: may name course\n" +
			"lessons and ids must not clash. Exit status 1 when anything is wrong,\n" +
			"2 when DIR does not exist.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("validate takes at most one DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			flag := ""
			if dir == "" {
				if f, _ := cmd.Flags().GetString("lessons"); f != "" {
					dir, flag = f, "--lessons "
				}
			}
			if err := lessonDir(flag, dir); err != nil {
				return err
			}
			c, err := lessons.Load(dir)
			if err != nil {
				var el lessons.ErrorList
				if !errors.As(err, &el) {
					return failErrorf("%v", err)
				}
				for _, e := range el {
					fmt.Fprintln(cmd.ErrOrStderr(), e.Error())
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s)\n", len(el))
				return silentExit(exitFailed)
			}
			n := len(c.Lessons)
			what := "the built-in course"
			if dir != "" {
				what = dir + " with the built-in course"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d lessons (%s)\n", n, what)
			return nil
		},
	}
}
