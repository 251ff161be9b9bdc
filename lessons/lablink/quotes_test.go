package lablink

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/lessons"
)

// quoteRE finds the replies the course quotes word for word: a reply code,
// perhaps an enhanced status code, and text (`235 2.7.0 Authentication
// successful`), or a POP3 -ERR with a response code (`-ERR [IN-USE]`). Codes
// without text such as `452 4.2.2` ("some servers use...") are not checked.
var quoteRE = regexp.MustCompile("`([2-5][0-9][0-9] (?:[245]\\.[0-9]{1,3}\\.[0-9]{1,3} )?[A-Za-z][^`]*|-ERR \\[[A-Z/-]+\\])`")

// TestCourseQuotesWhatTheLabSends runs the sessions behind the course's
// quoted replies against a real lab and checks that the lab really sends
// each quote (as the start of one of its lines).
func TestCourseQuotesWhatTheLabSends(t *testing.T) {
	c, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	type quote struct{ text, file string }
	var quotes []quote
	space := regexp.MustCompile(`\s+`)
	for _, l := range c.Lessons {
		text := l.Intro
		for _, s := range l.Steps {
			text += "\n" + s.Text + "\n" + strings.Join(s.Hints, "\n") + "\n" + s.Explanation
		}
		for _, m := range quoteRE.FindAllStringSubmatch(space.ReplaceAllString(text, " "), -1) {
			quotes = append(quotes, quote{m[1], l.File})
		}
	}
	if len(quotes) < 5 {
		t.Fatalf("found only %d quoted replies in the course: %v", len(quotes), quotes)
	}

	l := startLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []string
	open := func(listener string) (send func(lines ...string), closeFn func()) {
		opts := explorer.Options{Addr: l.Addr(listener), RootCAs: l.CertPool(), ServerName: l.Hostname(), ReplyTimeout: 20 * time.Second,
			OnEvent: func(ev explorer.Event) {
				if ev.Dir == explorer.ServerToClient {
					mu.Lock()
					got = append(got, ev.Line)
					mu.Unlock()
				}
			}}
		if listener == lab.ListenerSubmissions || listener == lab.ListenerPOP3S {
			opts.Security = explorer.ImplicitTLS
		}
		var sendLine func(context.Context, string) (any, error)
		var closer func() error
		if listener == lab.ListenerPOP3 || listener == lab.ListenerPOP3S {
			s, err := explorer.DialPOP3(ctx, opts)
			if err != nil {
				t.Fatalf("dial %s: %v", listener, err)
			}
			sendLine = func(ctx context.Context, line string) (any, error) { return s.SendLine(ctx, line) }
			closer = s.Close
		} else {
			s, err := explorer.DialSMTP(ctx, opts)
			if err != nil && s == nil {
				t.Fatalf("dial %s: %v", listener, err)
			}
			sendLine = func(ctx context.Context, line string) (any, error) { return s.SendLine(ctx, line) }
			closer = s.Close
		}
		return func(lines ...string) {
				for _, ln := range lines {
					sendLine(ctx, ln) // refusals are what we came for
				}
			}, func() {
				closer()
			}
	}
	const alice = "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=" // alice / wonderland

	// Lessons 6 and 7: submission before and after STARTTLS and AUTH.
	send, done := open(lab.ListenerSubmission)
	send("EHLO student.example", alice, "MAIL FROM:<alice@postlab.test>", "STARTTLS", "EHLO student.example",
		"MAIL FROM:<alice@postlab.test>", alice, alice, "QUIT")
	done()
	// Lesson 4: the MX role refuses unknown users and relaying.
	send, done = open(lab.ListenerSMTP)
	send("EHLO student.example", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<nobody@postlab.test>", "RCPT TO:<someone@example.com>", "QUIT")
	done()
	// Lesson 8: a second POP3 session while the first holds the maildrop.
	send, done = open(lab.ListenerPOP3S)
	send("USER bob", "PASS builder")
	send2, done2 := open(lab.ListenerPOP3S)
	send2("USER bob", "PASS builder", "QUIT")
	done2()
	send("QUIT")
	done()
	// Lesson 13: the fault scenarios.
	ctl := Control(l)
	for _, sc := range []struct {
		name  string
		lines []string
	}{
		{lab.ScenarioClosing421, []string{"EHLO student.example"}},
		{lab.ScenarioGreylist, []string{"EHLO student.example", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "QUIT"}},
		{lab.ScenarioMailboxFull, []string{"EHLO student.example", "MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "QUIT"}},
	} {
		if err := ctl.SetScenario(ctx, sc.name); err != nil {
			t.Fatal(err)
		}
		send, done = open(lab.ListenerSMTP)
		send(sc.lines...)
		done()
	}
	ctl.SetScenario(ctx, "")

	mu.Lock()
	defer mu.Unlock()
	for _, q := range quotes {
		found := false
		for _, line := range got {
			if strings.HasPrefix(line, q.text) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s quotes %q, which the lab does not send; it sent:\n%s", q.file, q.text, strings.Join(got, "\n"))
		}
	}
}
