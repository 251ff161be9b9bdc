package lessons

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"postlab/explorer/lab"
)

// A lesson names where the lab listens with placeholders, {{host}},
// {{port.smtp}}, {{addr.pop3s}}, {{ca}}..., which are replaced by the
// values of the lab the student really uses: the app's lab runs on other
// ports when a default one is taken, and a class uses its teacher's lab.
// `postlab lessons show` shows the defaults. FORMAT.md lists the names.

// Vars are the values the placeholders stand for.
type Vars struct {
	Host   string // the lab's address as clients dial it: 127.0.0.1, or a teacher's lab
	Domain string // the practice domain, postlab.test
	CA     string // the lab's certificate file, for --ca
	// Ports by listener name: smtp, submission, submissions, pop3, pop3s, dns.
	Ports map[string]int
}

// Listeners are the lab's listener names, as placeholders use them.
var Listeners = []string{lab.ListenerSMTP, lab.ListenerSubmission, lab.ListenerSubmissions, lab.ListenerPOP3, lab.ListenerPOP3S, lab.ListenerDNS}

// Placeholders lists every placeholder name.
func Placeholders() []string {
	out := []string{"host", "domain", "ca"}
	for _, n := range Listeners {
		out = append(out, "port."+n)
	}
	for _, n := range Listeners {
		out = append(out, "addr."+n)
	}
	return out
}

// DefaultVars are the lab's defaults: what `postlab serve` and the app use
// when every default port is free.
func DefaultVars() Vars {
	cfg := lab.DefaultConfig()
	v := Vars{Domain: cfg.Domain, CA: ShortHome(filepath.Join(cfg.DataDir, "tls", "cert.pem")), Ports: map[string]int{}}
	for name, addr := range map[string]string{lab.ListenerSMTP: cfg.SMTP, lab.ListenerSubmission: cfg.Submission,
		lab.ListenerSubmissions: cfg.Submissions, lab.ListenerPOP3: cfg.POP3, lab.ListenerPOP3S: cfg.POP3S, lab.ListenerDNS: cfg.DNS} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			continue
		}
		v.Host = host
		v.Ports[name], _ = strconv.Atoi(port)
	}
	return v
}

// ShortHome writes a path under the home directory as ~/..., as a person
// types it.
func ShortHome(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, home+string(filepath.Separator)); ok {
		return "~/" + filepath.ToSlash(rest)
	}
	return path
}

// complete fills what v leaves empty with the defaults.
func (v Vars) complete() Vars {
	d := DefaultVars()
	if v.Host == "" {
		v.Host = d.Host
	}
	if v.Domain == "" {
		v.Domain = d.Domain
	}
	if v.CA == "" {
		v.CA = d.CA
	}
	ports := map[string]int{}
	for _, n := range Listeners {
		ports[n] = d.Ports[n]
		if p := v.Ports[n]; p > 0 {
			ports[n] = p
		}
	}
	v.Ports = ports
	return v
}

// value is the text that placeholder name stands for.
func (v Vars) value(name string) (string, bool) {
	switch name {
	case "host":
		return v.Host, true
	case "domain":
		return v.Domain, true
	case "ca":
		return v.CA, true
	}
	kind, l, _ := strings.Cut(name, ".")
	if !slices.Contains(Listeners, l) {
		return "", false
	}
	port := strconv.Itoa(v.Ports[l])
	switch kind {
	case "port":
		return port, true
	case "addr":
		return net.JoinHostPort(v.Host, port), true
	}
	return "", false
}

// check refuses values that would change a lesson's structure.
func (v Vars) check() error {
	for _, n := range Placeholders() {
		s, _ := v.value(n)
		if strings.ContainsAny(s, "\r\n`") || strings.Contains(s, "{{") {
			return fmt.Errorf("lessons: the value of {{%s}} (%q) may not hold a line break, a backtick or {{", n, s)
		}
	}
	return nil
}

var placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// expand replaces the placeholders of one line; problems are returned
// as messages for the line.
func (v Vars) expand(line string) (string, []string) {
	if !strings.Contains(line, "{{") {
		return line, nil
	}
	var probs []string
	out := placeholderRE.ReplaceAllStringFunc(line, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-2])
		val, ok := v.value(name)
		if !ok {
			probs = append(probs, fmt.Sprintf("unknown placeholder %s (known: {{%s}})", m, strings.Join(Placeholders(), "}}, {{")))
			return m
		}
		return val
	})
	if rest := placeholderRE.ReplaceAllString(line, ""); strings.Contains(rest, "{{") {
		probs = append(probs, "a placeholder opened with {{ is not closed with }} on the same line (write e.g. {{port.smtp}})")
	}
	return out, probs
}
