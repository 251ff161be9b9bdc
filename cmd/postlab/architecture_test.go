package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the map of the README true: which package may
// import which. A new arrow needs a change of the map, not a quiet cycle.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "postlab/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string][]string{
		"postlab/explorer":            {},
		"postlab/explorer/annotate":   {"postlab/explorer"},
		"postlab/explorer/lab/pop3d":  {"postlab/explorer"},
		"postlab/explorer/lab/labdns": {},
		"postlab/explorer/lab":        {"postlab/explorer", "postlab/explorer/lab/pop3d", "postlab/explorer/lab/labdns"},
		"postlab/diag":                {"postlab/explorer", "postlab/explorer/annotate"},
		"postlab/lessons":             {"postlab/explorer", "postlab/explorer/lab", "postlab/explorer/lab/labdns"},
		"postlab/lessons/lablink":     {"postlab/explorer", "postlab/explorer/lab", "postlab/lessons"},
		"postlab/explorer/tui":        {"*"},
		"postlab/cmd/postlab":         {"*"},
	}
	uiOnly := map[string]bool{"postlab/explorer/tui": true, "postlab/cmd/postlab": true}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not on the map: add it to the README and this test", pkg)
			continue
		}
		seen++
		for _, imp := range imports {
			if (strings.HasPrefix(imp, "github.com/rivo/tview") || strings.HasPrefix(imp, "github.com/gdamore/tcell")) && !uiOnly[pkg] {
				t.Errorf("%s imports %s: only explorer/tui and cmd/postlab may", pkg, imp)
			}
			if !strings.HasPrefix(imp, "postlab/") || (len(rules) == 1 && rules[0] == "*") {
				continue
			}
			ok := false
			for _, r := range rules {
				ok = ok || r == imp
			}
			if !ok {
				t.Errorf("%s imports %s, which the map does not allow", pkg, imp)
			}
		}
	}
	if seen < 8 {
		t.Fatalf("only %d packages checked; go list output: %s", seen, out)
	}
}
