package explorer_test

// Tests against the real practice lab. They live in package explorer_test
// because the lab imports explorer.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab"
)

func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Config{
		DataDir:       t.TempDir(),
		SMTP:          "127.0.0.1:0",
		Submission:    "127.0.0.1:0",
		Submissions:   "127.0.0.1:0",
		POP3:          "127.0.0.1:0",
		POP3S:         "127.0.0.1:0",
		DNS:           "off",
		AuthFailDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func labOpts(l *lab.Lab, listener string, sec explorer.Security) explorer.Options {
	return explorer.Options{
		Addr:         l.Addr(listener),
		Security:     sec,
		RootCAs:      l.CertPool(),
		ServerName:   l.Hostname(),
		Helo:         "client.test",
		ReplyTimeout: 10 * time.Second,
	}
}

func message(subject string) []byte {
	return []byte("From: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@client.test>\r\n\r\nHello Bob.\r\n.a line that starts with a dot\r\n")
}

func assertNoPassword(t *testing.T, evs []explorer.Event, secrets ...string) {
	t.Helper()
	for _, e := range evs {
		for _, s := range secrets {
			if strings.Contains(e.Line, s) {
				t.Errorf("secret %q in the trace: %q", s, e.Line)
			}
		}
	}
}

// retrieve logs bob in over POP3S and returns the messages.
func retrieve(t *testing.T, l *lab.Lab, user, pass string) [][]string {
	t.Helper()
	ctx := ctxFor(t)
	c, err := explorer.DialPOP3(ctx, labOpts(l, "pop3s", explorer.ImplicitTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	list, _, err := c.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, e := range list {
		r, err := c.Retr(ctx, e.Num)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Lines)
	}
	c.Quit(ctx)
	return out
}

func TestLabSendEveryPortAndMode(t *testing.T) {
	l := startLab(t)
	cases := []struct {
		listener string
		sec      explorer.Security
		auth     bool
	}{
		{"smtp", explorer.Plain, false},
		{"smtp", explorer.StartTLS, false},
		{"submission", explorer.StartTLS, true},
		{"submissions", explorer.ImplicitTLS, true},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s-%s", tc.listener, tc.sec), func(t *testing.T) {
			ctx := ctxFor(t)
			c, err := explorer.DialSMTP(ctx, labOpts(l, tc.listener, tc.sec))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Ehlo(ctx, "client.test"); err != nil {
				t.Fatal(err)
			}
			if tc.sec != explorer.Plain {
				if ti := c.TLS(); ti == nil || !ti.Verified {
					t.Fatalf("TLS not verified: %+v", ti)
				}
			}
			if tc.auth {
				if _, err := c.Auth(ctx, "PLAIN", "alice", "wonderland"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Mail(ctx, "alice@postlab.test"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Rcpt(ctx, "bob@postlab.test"); err != nil {
				t.Fatal(err)
			}
			r, err := c.Data(ctx, message(fmt.Sprintf("mode %d", i)))
			if err != nil || r.Code != 250 {
				t.Fatalf("DATA: %v %v", r, err)
			}
			if _, err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			assertNoPassword(t, c.Events(), "wonderland", "d29uZGVybGFuZA")
			if errs := countErr(c.Events()); errs != 0 {
				t.Errorf("%d error events:\n%s", errs, text(c.Events()))
			}
		})
	}
	msgs := retrieve(t, l, "bob", "builder")
	if len(msgs) != len(cases) {
		t.Fatalf("bob has %d messages, want %d", len(msgs), len(cases))
	}
	for _, m := range msgs {
		if !strings.Contains(strings.Join(m, "\n"), "\n.a line that starts with a dot") {
			t.Errorf("dot-stuffing round trip failed:\n%s", strings.Join(m, "\n"))
		}
	}
}

func countErr(evs []explorer.Event) int {
	n := 0
	for _, e := range evs {
		if e.Err {
			n++
		}
	}
	return n
}

func text(evs []explorer.Event) string {
	var b strings.Builder
	explorer.WriteText(&b, evs, nil)
	return b.String()
}

func TestLabAuthEveryMechanism(t *testing.T) {
	l := startLab(t)
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		t.Run(mech, func(t *testing.T) {
			ctx := ctxFor(t)
			c, err := explorer.DialSMTP(ctx, labOpts(l, "submission", explorer.StartTLS))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Ehlo(ctx, "client.test")
			offered := strings.Join(c.AuthMechanisms(), " ")
			if !strings.Contains(offered, mech) {
				t.Fatalf("lab offers %q", offered)
			}
			if r, err := c.Auth(ctx, mech, "alice", "wonderland"); err != nil || r.Code != 235 {
				t.Fatalf("AUTH %s: %v %v\n%s", mech, r, err, text(c.Events()))
			}
			if st := c.State(); !st.Authed || st.AuthMech != mech {
				t.Errorf("state %+v", st)
			}
			assertNoPassword(t, c.Events(), "wonderland", "d29uZGVybGFuZA")
			c.Quit(ctx)
			// A wrong password is a 535, not a network error.
			c2, _ := explorer.DialSMTP(ctx, labOpts(l, "submissions", explorer.ImplicitTLS))
			defer c2.Close()
			c2.Ehlo(ctx, "client.test")
			_, err = c2.Auth(ctx, mech, "alice", "not-the-password")
			var re *explorer.ReplyError
			if !errors.As(err, &re) || re.Reply.Code != 535 {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

func TestLabBdatAndPipelining(t *testing.T) {
	l := startLab(t)
	ctx := ctxFor(t)
	c, err := explorer.DialSMTP(ctx, labOpts(l, "smtp", explorer.Plain))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Ehlo(ctx, "client.test")
	for _, k := range []string{"PIPELINING", "CHUNKING"} {
		if _, ok := c.Supports(k); !ok {
			t.Fatalf("lab does not offer %s", k)
		}
	}
	// BDAT in small chunks.
	c.Mail(ctx, "alice@postlab.test")
	c.Rcpt(ctx, "bob@postlab.test")
	if r, err := c.Bdat(ctx, message("bdat"), 16); err != nil || r.Code != 250 {
		t.Fatalf("BDAT: %v %v\n%s", r, err, text(c.Events()))
	}
	// Pipelined MAIL, RCPTs (one unknown) and DATA.
	res, err := c.Pipeline(ctx, explorer.Envelope{From: "alice@postlab.test", To: []string{"bob@postlab.test", "nobody@postlab.test"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, text(c.Events()))
	}
	if res.Mail.Code != 250 || res.Rcpt[0].Code != 250 || res.Rcpt[1].Class() != 5 || res.Data.Code != 354 {
		t.Fatalf("pipelined replies: %v %v %v\n%s", res.Mail, res.Rcpt, res.Data, text(c.Events()))
	}
	if r, err := c.WriteMessage(ctx, message("pipelined")); err != nil || r.Code != 250 {
		t.Fatalf("after pipelining: %v %v", r, err)
	}
	c.Quit(ctx)
	msgs := retrieve(t, l, "bob", "builder")
	if len(msgs) != 2 {
		t.Fatalf("bob has %d messages", len(msgs))
	}
	all := strings.Join(msgs[0], "\n") + strings.Join(msgs[1], "\n")
	if !strings.Contains(all, "Subject: bdat") || !strings.Contains(all, "Subject: pipelined") {
		t.Errorf("messages:\n%s", all)
	}
}

func TestLabPOP3EveryCommand(t *testing.T) {
	l := startLab(t)
	ctx := ctxFor(t)
	// Two messages for alice.
	s, err := explorer.DialSMTP(ctx, labOpts(l, "smtp", explorer.Plain))
	if err != nil {
		t.Fatal(err)
	}
	s.Ehlo(ctx, "client.test")
	for i := 0; i < 2; i++ {
		s.Mail(ctx, "bob@postlab.test")
		s.Rcpt(ctx, "alice@postlab.test")
		if _, err := s.Data(ctx, message(fmt.Sprintf("pop %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Quit(ctx)

	c, err := explorer.DialPOP3(ctx, labOpts(l, "pop3", explorer.StartTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Capa(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"USER", "UIDL", "TOP"} {
		if _, ok := c.Supports(k); !ok {
			t.Errorf("CAPA lacks %s: %v", k, c.Capabilities())
		}
	}
	if _, err := c.Login(ctx, "alice", "wonderland"); err != nil {
		t.Fatal(err)
	}
	n, size, _, err := c.Stat(ctx)
	if err != nil || n != 2 || size == 0 {
		t.Fatalf("STAT %d %d %v", n, size, err)
	}
	list, _, err := c.List(ctx, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("LIST %v %v", list, err)
	}
	if one, _, err := c.List(ctx, 2); err != nil || one[0] != list[1] {
		t.Errorf("LIST 2 = %v %v", one, err)
	}
	uidl, _, err := c.Uidl(ctx, 0)
	if err != nil || len(uidl) != 2 || uidl[0].Value == uidl[1].Value {
		t.Errorf("UIDL %v %v", uidl, err)
	}
	if one, _, err := c.Uidl(ctx, 1); err != nil || one[0] != uidl[0] {
		t.Errorf("UIDL 1 = %v %v", one, err)
	}
	r, err := c.Retr(ctx, 1)
	if err != nil || !strings.Contains(strings.Join(r.Lines, "\n"), "\n.a line that starts with a dot") {
		t.Fatalf("RETR: %v %v", r, err)
	}
	top, err := c.Top(ctx, 2, 0)
	if err != nil || strings.Contains(strings.Join(top.Lines, "\n"), "Hello Bob") {
		t.Errorf("TOP 2 0 returned the body: %v %v", top, err)
	}
	if _, err := c.Dele(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retr(ctx, 1); err == nil {
		t.Error("RETR of a deleted message succeeded")
	}
	if _, err := c.Rset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	c.Dele(ctx, 2)
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoPassword(t, c.Events(), "wonderland")
	if errs := countErr(c.Events()); errs != 0 {
		t.Errorf("%d error events:\n%s", errs, text(c.Events()))
	}
	// UPDATE deleted message 2 only.
	if msgs := retrieve(t, l, "alice", "wonderland"); len(msgs) != 1 {
		t.Errorf("alice has %d messages after QUIT, want 1", len(msgs))
	}
}

func TestLabPOP3LoginMethods(t *testing.T) {
	l := startLab(t)
	cases := []struct {
		name  string
		login func(ctx context.Context, c *explorer.POP3Session) (*explorer.Response, error)
	}{
		{"USER/PASS", func(ctx context.Context, c *explorer.POP3Session) (*explorer.Response, error) {
			return c.Login(ctx, "bob", "builder")
		}},
		{"APOP", func(ctx context.Context, c *explorer.POP3Session) (*explorer.Response, error) {
			return c.Apop(ctx, "bob", "builder")
		}},
		{"AUTH PLAIN", func(ctx context.Context, c *explorer.POP3Session) (*explorer.Response, error) {
			return c.AuthPlain(ctx, "bob", "builder")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t)
			c, err := explorer.DialPOP3(ctx, labOpts(l, "pop3s", explorer.ImplicitTLS))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if r, err := tc.login(ctx, c); err != nil {
				t.Fatalf("%v %v\n%s", r, err, text(c.Events()))
			}
			if st := c.State(); !st.Authed || st.Phase != explorer.PhaseTrans {
				t.Errorf("state %+v", st)
			}
			assertNoPassword(t, c.Events(), "builder", "YnVpbGRlcg")
			c.Quit(ctx)
		})
	}
}

// The raw line path works on the real server too, including AUTH LOGIN
// typed by hand and a DATA section.
func TestLabRawLines(t *testing.T) {
	l := startLab(t)
	ctx := ctxFor(t)
	c, err := explorer.DialSMTP(ctx, labOpts(l, "submissions", explorer.ImplicitTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lines := []string{"EHLO client.test", "AUTH LOGIN", "YWxpY2U=", "d29uZGVybGFuZA==",
		"MAIL FROM:<alice@postlab.test>", "RCPT TO:<bob@postlab.test>", "DATA", "Subject: raw", "", "..dot", ".", "QUIT"}
	for _, line := range lines {
		if _, err := c.SendLine(ctx, line); err != nil {
			t.Fatalf("%q: %v\n%s", line, err, text(c.Events()))
		}
	}
	tr := text(c.Events())
	for _, want := range []string{"~> YWxpY2U=", "~> ****", "<~ 235", "<~ 354", "~> ..dot", "<~ 221"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
	assertNoPassword(t, c.Events(), "d29uZGVybGFuZA")
}
