package annotate

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// citation finds an RFC reference in source text: "RFC 5321 §4.1.1.4",
// "RFC 5321 §F.1", "RFC 4422 Appendix A", or a bare "RFC 7505".
var citation = regexp.MustCompile(`RFC ?[0-9]+(?: (?:§(?:[0-9]+|[A-Z])(?:\.[0-9]+)*|Appendix [A-Z]))?`)

// citedFiles are the sources whose notes cite RFCs: this package's and the
// explanations of diag (diag/explain*.go), which build on this one.
func citedFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.go", filepath.Join("..", "..", "diag", "explain*.go")} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d source files found: %v", len(files), files)
	}
	return files
}

// checkedRefs reads testdata/rfc-refs.txt: reference -> how it was checked.
func checkedRefs(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "rfc-refs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	refs := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, " | ")
		if len(parts) != 3 || parts[1] == "" || citation.FindString(parts[0]) != parts[0] {
			t.Errorf("rfc-refs.txt:%d: want \"RFC N §S | section title | how checked\", got %q", n, line)
			continue
		}
		switch parts[2] {
		case "text", "quoted", "registry", "unchecked":
		default:
			t.Errorf("rfc-refs.txt:%d: unknown check %q", n, parts[2])
		}
		if _, dup := refs[parts[0]]; dup {
			t.Errorf("rfc-refs.txt:%d: %s listed twice", n, parts[0])
		}
		refs[parts[0]] = parts[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestRFCReferencesAreChecked: every RFC section a note cites is one that
// was looked up in the RFC (testdata/rfc-refs.txt), so a citation written
// from memory fails here until someone checks it and lists it.
func TestRFCReferencesAreChecked(t *testing.T) {
	listed := checkedRefs(t)
	cited := map[string][]string{}
	for _, f := range citedFiles(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range citation.FindAllString(string(src), -1) {
			cited[ref] = append(cited[ref], filepath.Base(f))
		}
	}
	var unchecked []string
	for ref, files := range cited {
		how, ok := listed[ref]
		switch {
		case !strings.HasPrefix(ref, "RFC "):
			t.Errorf("%s (in %s): write \"RFC N\" with a space", ref, files[0])
		case !ok:
			t.Errorf("%s (in %s) is not in testdata/rfc-refs.txt: check the section against the RFC, then list it", ref, files[0])
		case how == "unchecked":
			unchecked = append(unchecked, ref)
		}
	}
	for ref := range listed {
		if cited[ref] == nil {
			t.Errorf("testdata/rfc-refs.txt lists %s, which nothing cites any more", ref)
		}
	}
	sort.Strings(unchecked)
	t.Logf("%d cited references, %d not yet checked: %s", len(cited), len(unchecked), strings.Join(unchecked, ", "))
}

// The references this package's entries carry are citations too: a Ref
// field is checked like any text (the scan above sees it in the source),
// and one built at run time must be a listed reference as well.
func TestEntryRefsAreListed(t *testing.T) {
	listed := checkedRefs(t)
	check := func(where, ref string) {
		for _, r := range citation.FindAllString(ref, -1) {
			if _, ok := listed[r]; !ok {
				t.Errorf("%s: %s is not in testdata/rfc-refs.txt", where, r)
			}
		}
	}
	for _, code := range []string{"2.1.5", "4.7.1", "5.1.1", "5.6.8", "2.6.10", "5.7.26", "4.4.99", "5.9.1"} {
		e, _ := EnhancedCode(code)
		check(code, e.Ref)
	}
	for c := 200; c < 600; c++ {
		if e, ok := ReplyCode(c); ok {
			check("reply code", e.Ref)
		}
	}
}
