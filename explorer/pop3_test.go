package explorer

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

var typicalPOP3 = []string{
	"S: +OK POP3 ready <1896.697170952@mx.test>",
	"C: CAPA",
	"S: +OK Capability list follows",
	"S: TOP",
	"S: UIDL",
	"S: USER",
	"S: RESP-CODES",
	"S: SASL PLAIN",
	"S: .",
	"C: USER alice",
	"S: +OK",
	"C: PASS wonderland",
	"S: +OK maildrop has 2 messages (320 octets)",
	"C: STAT",
	"S: +OK 2 320",
	"C: LIST",
	"S: +OK 2 messages",
	"S: 1 120",
	"S: 2 200",
	"S: .",
	"C: UIDL 2",
	"S: +OK 2 QhdPYR:00WBw1Ph7x7",
	"C: RETR 1",
	"S: +OK 120 octets",
	"S: Subject: hello",
	"S: ",
	"S: ..a stuffed line",
	"S: last line",
	"S: .",
	"C: TOP 2 0",
	"S: +OK",
	"S: Subject: second",
	"S: ",
	"S: .",
	"C: DELE 1",
	"S: +OK message 1 deleted",
	"C: RETR 1",
	"S: -ERR message 1 already deleted",
	"C: NOOP",
	"S: +OK",
	"C: RSET",
	"S: +OK maildrop has 2 messages",
	"C: QUIT",
	"S: +OK bye",
}

func TestPOP3TypicalSessionGolden(t *testing.T) {
	f := newFake(t, typicalPOP3...)
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timestamp != "<1896.697170952@mx.test>" || c.State().Phase != PhaseAuthz {
		t.Errorf("timestamp %q, state %+v", c.Timestamp, c.State())
	}
	if _, err := c.Capa(ctx); err != nil {
		t.Fatal(err)
	}
	if k, ok := c.Supports("sasl"); !ok || k.Params[0] != "PLAIN" {
		t.Errorf("SASL capability %+v", k)
	}
	if _, err := c.Login(ctx, "alice", "wonderland"); err != nil {
		t.Fatal(err)
	}
	if st := c.State(); st.Phase != PhaseTrans || !st.Authed {
		t.Errorf("after PASS: %+v", st)
	}
	if n, size, _, err := c.Stat(ctx); err != nil || n != 2 || size != 320 {
		t.Errorf("STAT = %d %d %v", n, size, err)
	}
	if l, _, err := c.List(ctx, 0); err != nil || len(l) != 2 || l[1] != (ListEntry{2, "200"}) {
		t.Errorf("LIST = %v %v", l, err)
	}
	if l, _, err := c.Uidl(ctx, 2); err != nil || len(l) != 1 || l[0].Value != "QhdPYR:00WBw1Ph7x7" {
		t.Errorf("UIDL 2 = %v %v", l, err)
	}
	r, err := c.Retr(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Lines, "|"); got != "Subject: hello||.a stuffed line|last line" {
		t.Errorf("RETR lines %q (dot-unstuffing?)", got)
	}
	if r, err := c.Top(ctx, 2, 0); err != nil || len(r.Lines) != 2 {
		t.Errorf("TOP = %v %v", r, err)
	}
	if _, err := c.Dele(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = c.Retr(ctx, 1)
	var pe *POP3Error
	if !errors.As(err, &pe) || pe.Command != "RETR" || pe.Resp.OK {
		t.Errorf("RETR of deleted: %v", err)
	}
	c.Noop(ctx)
	c.Rset(ctx)
	if _, err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	evs := c.Events()
	for _, e := range evs {
		if strings.Contains(e.Line, "wonderland") {
			t.Errorf("password in trace: %q", e.Line)
		}
		if e.Dir == ServerToClient && e.Line == "+OK bye" && e.State.Phase != PhaseTrans {
			t.Errorf("QUIT answered in phase %s", e.State.Phase)
		}
		if e.Dir == ServerToClient && e.Line == "..a stuffed line" && (!e.State.Multi || e.State.Command != "RETR") {
			t.Errorf("body line state %+v", e.State)
		}
	}
	if evs[len(evs)-1].State.Phase != PhaseUpdate {
		t.Errorf("closing note phase %s, want update", evs[len(evs)-1].State.Phase)
	}
	var text, jsonl bytes.Buffer
	WriteText(&text, evs, pop3StubNotes)
	WriteJSONL(&jsonl, evs, pop3StubNotes)
	port := f.Addr()
	local := c.conn.LocalAddr().String()
	clean := func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(port), []byte("127.0.0.1:PORT")), []byte(local), []byte("127.0.0.1:LOCAL"))
	}
	golden(t, "pop3_session.golden", clean(text.Bytes()))
	golden(t, "pop3_session.jsonl.golden", clean(jsonl.Bytes()))
}

func pop3StubNotes(ev Event) []Note {
	if ev.State.Multi || ev.Dir == Local {
		return nil
	}
	return []Note{{Title: string(ev.State.Phase) + " " + ev.State.Command, Ref: "RFC 1939 §3"}}
}

func TestPOP3APOPAndAuthPlain(t *testing.T) {
	ts := "<1896.697170952@dbc.mtview.ca.us>"
	sum := md5.Sum([]byte(ts + "tanstaaf"))
	t.Run("APOP", func(t *testing.T) {
		// RFC 1939 §7's example digest.
		if hex.EncodeToString(sum[:]) != "c4c9334bac560ecc979e58001b3e22fb" {
			t.Fatal("test vector")
		}
		f := newFake(t, "S: +OK POP3 server ready "+ts, "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb", "S: +OK mrose's maildrop has 2 messages")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		if _, err := c.Apop(ctx, "mrose", "tanstaaf"); err != nil {
			t.Fatal(err)
		}
		if !c.State().Authed {
			t.Error("not authed")
		}
		c.Close()
	})
	t.Run("APOP without timestamp", func(t *testing.T) {
		f := newFake(t, "S: +OK ready")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		if _, err := c.Apop(ctx, "a", "b"); err == nil || !strings.Contains(err.Error(), "timestamp") {
			t.Errorf("err = %v", err)
		}
		c.Close()
	})
	t.Run("AUTH PLAIN continuation", func(t *testing.T) {
		payload := base64.StdEncoding.EncodeToString([]byte("\x00bob\x00builder"))
		f := newFake(t, "S: +OK ready", "C: AUTH PLAIN "+payload, "S: + ", "C: "+payload, "S: +OK logged in")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		if _, err := c.AuthPlain(ctx, "bob", "builder"); err != nil {
			t.Fatal(err)
		}
		if st := c.State(); !st.Authed || st.Phase != PhaseTrans || st.AuthMech != "PLAIN" {
			t.Errorf("state %+v", st)
		}
		for _, e := range c.Events() {
			if strings.Contains(e.Line, payload) {
				t.Errorf("credentials in trace: %q", e.Line)
			}
		}
		c.Close()
	})
	t.Run("refused with RESP-CODE", func(t *testing.T) {
		f := newFake(t, "S: +OK ready", "C: USER alice", "S: +OK", "C: PASS x", "S: -ERR [IN-USE] maildrop already locked")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		_, err := c.Login(ctx, "alice", "x")
		var pe *POP3Error
		if !errors.As(err, &pe) || pe.Resp.Code != "IN-USE" || pe.Resp.Text != "maildrop already locked" {
			t.Fatalf("err = %v", err)
		}
		if st := c.State(); st.Phase != PhaseAuthz || st.Authed {
			t.Errorf("state %+v", st)
		}
		c.Close()
	})
}

func TestPOP3STLS(t *testing.T) {
	_, pool := certFor(t)
	f := newFake(t, "S: +OK ready", "C: STLS", "S: +OK begin TLS", "TLS", "C: CAPA", "S: +OK", "S: USER", "S: .", "C: QUIT", "S: +OK bye")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	opts.Security, opts.RootCAs = StartTLS, pool
	c, err := DialPOP3(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.State(); !st.TLS || st.Phase != PhaseAuthz {
		t.Errorf("state %+v", st)
	}
	c.Capa(ctx)
	c.Quit(ctx)
	text := eventText(c.Events())
	for _, want := range []string{"-> STLS", "== TLS established", "~> CAPA", "<~ USER", "<~ +OK bye"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
}

func TestPOP3Malformed(t *testing.T) {
	cases := []struct {
		name   string
		script []string
		want   string
	}{
		{"no status", []string{"S: hello"}, `does not start with "+OK"`},
		{"lower case", []string{"S: +ok ready"}, `does not start with "+OK"`},
		{"no space", []string{"S: +OKready"}, "no space after"},
		{"bare LF", []string{"RAW: +OK ready\n"}, "bare LF"},
		{"non-ASCII", []string{"S: +OK r\xffady"}, "not US-ASCII"},
		{"overlong", []string{"S: +OK " + strings.Repeat("y", MaxReplyLine)}, "longer than"},
		{"continuation", []string{"S: + go on"}, "continuation outside AUTH"},
		{"closed", []string{"CLOSE"}, "connection closed"},
		{"silent", []string{"HANG"}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.script...)
			opts := testOpts(f.Addr())
			opts.ReplyTimeout = 300 * time.Millisecond
			c, err := DialPOP3(testCtx(t), opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errs := errEvents(c.Events()); !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("error events %q", errs)
			}
			c.Close()
		})
	}
}

func TestPOP3MalformedBody(t *testing.T) {
	t.Run("closed mid-body", func(t *testing.T) {
		f := newFake(t, "S: +OK", "C: RETR 1", "S: +OK", "S: Subject: x", "CLOSE")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		if _, err := c.Retr(ctx, 1); err == nil || !IsNetwork(err) || !strings.Contains(err.Error(), "closed") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("overlong body line", func(t *testing.T) {
		f := newFake(t, "S: +OK", "C: RETR 1", "S: +OK", "S: "+strings.Repeat("z", MaxContentLine+5), "S: after", "S: .", "C: NOOP", "S: +OK")
		ctx := testCtx(t)
		c, _ := DialPOP3(ctx, testOpts(f.Addr()))
		r, err := c.Retr(ctx, 1)
		if err == nil || !strings.Contains(err.Error(), "longer than") {
			t.Errorf("err = %v", err)
		}
		if r == nil || strings.Join(r.Lines, "|") != "after" {
			t.Errorf("response %+v", r)
		}
		// The stream stays in step.
		if r, err := c.Noop(ctx); err != nil || !r.OK {
			t.Errorf("NOOP after: %v %v", r, err)
		}
		c.Close()
	})
}

// A 2 MB message: every line is read, the trace keeps a bounded number.
func TestPOP3LargeMessageBounded(t *testing.T) {
	line := strings.Repeat("x", 98)
	var big strings.Builder
	big.WriteString("+OK\r\n")
	for i := 0; i < 20000; i++ {
		big.WriteString(line + "\r\n")
	}
	big.WriteString(".\r\n")
	f := newFake(t, "S: +OK", "C: RETR 1", "RAW: "+big.String(), "C: QUIT", "S: +OK")
	ctx := testCtx(t)
	opts := testOpts(f.Addr())
	opts.MaxMessage = 1 << 20
	c, _ := DialPOP3(ctx, opts)
	r, err := c.Retr(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Truncated || len(r.Lines) != (1<<20)/100 {
		t.Errorf("kept %d lines, truncated %v", len(r.Lines), r.Truncated)
	}
	evs := c.Events()
	if len(evs) > DefaultTraceContentLines+20 {
		t.Errorf("%d events for one message", len(evs))
	}
	if !strings.Contains(eventText(evs), "19800 more lines (1980000 octets) received but not shown") {
		t.Errorf("no summary note:\n%s", eventText(evs[len(evs)-5:]))
	}
	if _, err := c.Quit(ctx); err != nil {
		t.Error(err)
	}
}

func TestPOP3RawLines(t *testing.T) {
	f := newFake(t, "S: +OK ready", "C: user alice", "S: +OK", "C: pass wonderland", "S: +OK",
		"C: list", "S: +OK", "S: 1 10", "S: .", "C: LIST 1", "S: +OK 1 10", "C: AUTH", "S: +OK methods", "S: PLAIN", "S: .", "C: QUIT", "S: +OK bye")
	ctx := testCtx(t)
	c, _ := DialPOP3(ctx, testOpts(f.Addr()))
	for _, l := range []string{"user alice", "pass wonderland", "list", "LIST 1", "AUTH", "QUIT"} {
		if _, err := c.SendLine(ctx, l); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
	}
	text := eventText(c.Events())
	if !strings.Contains(text, "-> pass ****") || strings.Contains(text, "wonderland") {
		t.Errorf("PASS not masked:\n%s", text)
	}
	if !c.Closed() {
		t.Error("not closed after QUIT")
	}
}

func TestParsePOP3Status(t *testing.T) {
	cases := []struct {
		in   string
		want Response
	}{
		{"+OK", Response{OK: true}},
		{"+OK 2 320", Response{OK: true, Text: "2 320"}},
		{"-ERR [SYS/TEMP] try later", Response{Code: "SYS/TEMP", Text: "try later"}},
		{"-ERR", Response{}},
		{"+ ", Response{OK: true, Cont: true}},
		{"+ VXNlcm5hbWU6", Response{OK: true, Cont: true, Text: "VXNlcm5hbWU6"}},
		{"+OK [unterminated", Response{OK: true, Text: "[unterminated"}},
	}
	for _, tc := range cases {
		r, err := ParsePOP3Status(tc.in)
		if err != nil || r.OK != tc.want.OK || r.Cont != tc.want.Cont || r.Code != tc.want.Code || r.Text != tc.want.Text {
			t.Errorf("%q: %+v %v, want %+v", tc.in, r, err, tc.want)
		}
	}
	for _, bad := range []string{"", "OK", "+OKAY", "-ERROR", "+ok", " +OK"} {
		if _, err := ParsePOP3Status(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParsePOP3Status(f *testing.F) {
	for _, s := range []string{"+OK", "-ERR [IN-USE] locked", "+ ", "+OK [", "-ERR ]["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePOP3Status(s)
		if err == nil {
			if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "-ERR") {
				t.Fatalf("accepted %q", s)
			}
			if r.OK != strings.HasPrefix(s, "+") {
				t.Fatalf("%q: OK=%v", s, r.OK)
			}
		}
		ParseListing([]string{s})
	})
}

func TestPOP3STLSInjection(t *testing.T) {
	opts := testOpts("pipe:110")
	opts.Dial = pipeDialOpen([]byte("+OK ready\r\n+OK begin TLS\r\n+OK injected\r\n"))
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stls(ctx); err == nil || !strings.Contains(err.Error(), "injection") {
		t.Fatalf("err = %v", err)
	}
	c.Close()
}
