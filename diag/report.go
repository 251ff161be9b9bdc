package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"
)

// Status is the verdict of one finding, from best to worst.
type Status string

// The statuses, in the order of severity used for the verdict.
const (
	StatusPass  Status = "pass"
	StatusInfo  Status = "info"
	StatusWarn  Status = "warn"
	StatusFail  Status = "fail"  // the configuration is wrong
	StatusError Status = "error" // the check itself could not finish (DNS failure, timeout)
)

func (s Status) rank() int {
	switch s {
	case StatusPass:
		return 0
	case StatusInfo:
		return 1
	case StatusWarn:
		return 2
	case StatusFail:
		return 3
	case StatusError:
		return 4
	}
	return -1
}

// Finding is one verdict with its explanation. Check names are dotted,
// "area.name" (e.g. "spf.record", "mx.host"); the area groups the text report.
// Server probes add their own areas ("smtp", "tls", ...) the same way.
type Finding struct {
	Check   string `json:"check"`
	Status  Status `json:"status"`
	Summary string `json:"summary"` // one line
	Detail  string `json:"detail"`  // may span lines
	Fix     string `json:"fix"`     // what to change, when something is wrong
	Ref     string `json:"ref"`     // the standard behind the verdict, e.g. "RFC 7208 §4.5"
}

// Area is the part of Check before the first dot.
func (f Finding) Area() string {
	if i := strings.IndexByte(f.Check, '.'); i >= 0 {
		return f.Check[:i]
	}
	return f.Check
}

// Report is the result of a diagnosis: the JSON schema of `postlab diag --json`.
type Report struct {
	Target     string    `json:"target"`
	Resolver   string    `json:"resolver"`
	DurationMS int64     `json:"duration_ms"`
	Findings   []Finding `json:"findings"`
	// Error is one line when the diagnosis could not be made at all (the
	// resolver did not answer): the findings then say nothing about the domain.
	Error string `json:"error,omitempty"`

	// MX is the MX stage's result, for the parts that run after the DNS
	// checks (server probes connect to these hosts). Not in the JSON.
	MX *MXResult `json:"-"`
	// Extra is what later parts put in the JSON next to the findings (for
	// example "probes" with each probe's trace). Keys must not be those above.
	Extra map[string]any `json:"-"`
}

// Add appends findings (for parts that run after the DNS checks, like server probes).
func (r *Report) Add(f ...Finding) { r.Findings = append(r.Findings, f...) }

// Failed reports whether any finding is fail or error (exit status 1).
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Status == StatusFail || f.Status == StatusError {
			return true
		}
	}
	return false
}

// Counts returns how many findings have each status.
func (r *Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, f := range r.Findings {
		m[f.Status]++
	}
	return m
}

// Verdict is the one-line summary at the top of the text report.
func (r *Report) Verdict() string {
	c := r.Counts()
	var word string
	switch {
	case c[StatusError] > 0 && c[StatusFail] == 0:
		word = "INCOMPLETE"
	case c[StatusFail] > 0 || c[StatusError] > 0:
		word = "PROBLEMS"
	case c[StatusWarn] > 0:
		word = "OK WITH WARNINGS"
	default:
		word = "OK"
	}
	var parts []string
	for _, s := range []Status{StatusFail, StatusError, StatusWarn, StatusInfo, StatusPass} {
		if c[s] > 0 {
			parts = append(parts, countWord(c[s], s))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no findings"}
	}
	return fmt.Sprintf("%s: %s — %s", r.Target, word, strings.Join(parts, ", "))
}

// countWord is "1 failed", "9 errors", "2 warnings", "3 passed".
func countWord(n int, s Status) string {
	switch s {
	case StatusFail:
		return fmt.Sprintf("%d failed", n)
	case StatusPass:
		return fmt.Sprintf("%d passed", n)
	case StatusInfo:
		return fmt.Sprintf("%d info", n)
	case StatusWarn:
		s = "warning"
	}
	if n == 1 {
		return fmt.Sprintf("%d %s", n, s)
	}
	return fmt.Sprintf("%d %ss", n, s)
}

// areaRefs is the standard of each check area, for a finding that names
// none (a lookup that failed is still about that standard).
var areaRefs = map[string]string{
	"mx":         "RFC 5321 §5.1",
	"a":          "RFC 5321 §5.1",
	"spf":        "RFC 7208",
	"dmarc":      "RFC 7489",
	"dkim":       "RFC 6376",
	"arc":        "RFC 8617",
	"mtasts":     "RFC 8461",
	"mta-sts":    "RFC 8461",
	"tlsrpt":     "RFC 8460",
	"tls-rpt":    "RFC 8460",
	"tls":        "RFC 3207",
	"dane":       "RFC 7672",
	"ptr":        "RFC 8601 §2.7.3",
	"dnsbl":      "RFC 5782",
	"smtp":       "RFC 5321",
	"pop3":       "RFC 1939",
	"pop":        "RFC 1939",
	"submission": "RFC 6409",
	"bimi":       "RFC 9091",
	"dns":        "RFC 1035",
	"resolver":   "RFC 1035",
}

// withRefs fills the empty Ref of each finding from its check's area
// ("spf.lookup" -> RFC 7208), else RFC 1035 for a DNS failure: every
// finding names the standard it is about.
func withRefs(fs []Finding) []Finding {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		if f.Ref == "" {
			area, _, _ := strings.Cut(strings.ToLower(f.Check), ".")
			if f.Ref = areaRefs[area]; f.Ref == "" && f.Status == StatusError {
				f.Ref = "RFC 1035"
			}
		}
		out[i] = f
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	out.Findings = withRefs(r.Findings)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if len(r.Extra) == 0 {
		return enc.Encode(out)
	}
	m := map[string]any{"target": out.Target, "resolver": out.Resolver, "duration_ms": out.DurationMS, "findings": out.Findings}
	if out.Error != "" {
		m["error"] = out.Error
	}
	for k, v := range r.Extra {
		if _, taken := m[k]; taken {
			return fmt.Errorf("report: extra JSON key %q clashes with a field", k)
		}
		m[k] = v
	}
	return enc.Encode(m)
}

// WriteText writes the human report: the verdict, then the findings grouped
// by area in the order they first appear. Colour only when colorize is set
// (the command passes false on pipes and with NO_COLOR).
func (r *Report) WriteText(w io.Writer, colorize bool) error {
	paint := func(attrs ...color.Attribute) func(string) string {
		c := color.New(attrs...)
		if colorize {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return func(s string) string { return c.Sprint(s) }
	}
	bold := paint(color.Bold)
	dim := paint(color.Faint)
	style := map[Status]func(string) string{
		StatusPass:  paint(color.FgGreen),
		StatusInfo:  paint(color.FgCyan),
		StatusWarn:  paint(color.FgYellow),
		StatusFail:  paint(color.FgRed, color.Bold),
		StatusError: paint(color.FgMagenta, color.Bold),
	}
	verdictStyle := style[StatusPass]
	c := r.Counts()
	switch {
	case c[StatusFail] > 0 || c[StatusError] > 0:
		verdictStyle = style[StatusFail]
	case c[StatusWarn] > 0:
		verdictStyle = style[StatusWarn]
	}
	var b strings.Builder
	b.WriteString(verdictStyle(r.Verdict()) + "\n")
	b.WriteString(dim(fmt.Sprintf("resolver %s, %d ms", r.Resolver, r.DurationMS)) + "\n")

	var areas []string
	byArea := map[string][]Finding{}
	for _, f := range withRefs(r.Findings) {
		a := f.Area()
		if _, ok := byArea[a]; !ok {
			areas = append(areas, a)
		}
		byArea[a] = append(byArea[a], f)
	}
	for _, a := range areas {
		b.WriteString("\n" + bold(areaTitle(a)) + "\n")
		for _, f := range byArea[a] {
			st := style[f.Status]
			if st == nil {
				st = func(s string) string { return s }
			}
			fmt.Fprintf(&b, "  %s %s\n", st(fmt.Sprintf("%-5s", strings.ToUpper(string(f.Status)))), f.Summary)
			if f.Detail != "" {
				for _, line := range strings.Split(strings.TrimRight(f.Detail, "\n"), "\n") {
					b.WriteString("        " + line + "\n")
				}
			}
			if f.Fix != "" {
				b.WriteString("        " + bold("fix: ") + f.Fix + "\n")
			}
			if f.Ref != "" {
				b.WriteString("        " + dim("ref: "+f.Ref) + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// AreaTitles names the areas in the text report. Parts that add findings in
// new areas (server probes: "smtp", "tls", ...) add their titles from init.
var AreaTitles = map[string]string{
	"mx":      "MX (RFC 5321 §5.1, RFC 7505)",
	"spf":     "SPF (RFC 7208)",
	"dmarc":   "DMARC (RFC 7489)",
	"dkim":    "DKIM (RFC 6376)",
	"mta-sts": "MTA-STS (RFC 8461)",
	"tls-rpt": "TLS-RPT (RFC 8460)",
	"dane":    "DANE (RFC 7672)",
	"ptr":     "Reverse DNS",
	"dnsbl":   "Blocklists (RFC 5782)",
	"dns":     "DNS",
}

// areaTitle names an area for the text report; unknown areas (added by
// later parts) are shown upper-cased.
func areaTitle(a string) string {
	if t, ok := AreaTitles[a]; ok {
		return t
	}
	return strings.ToUpper(a)
}
