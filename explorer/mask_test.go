package explorer

import (
	"encoding/base64"
	"strings"
	"testing"
)

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// leaks reports the events that show the password (or its base64 or the
// PLAIN payload) in their line or state.
func leaks(evs []Event, pass string) []string {
	plain := b64s("\x00alice\x00" + pass)
	var out []string
	for _, e := range evs {
		for _, s := range []string{e.Line, e.State.Command, e.State.AuthMech} {
			if strings.Contains(s, pass) || strings.Contains(s, b64s(pass)) || strings.Contains(s, plain) || strings.Contains(s, strings.TrimRight(plain, "=")) {
				out = append(out, e.Line+" / "+e.State.Command)
			}
		}
	}
	return out
}

// Credentials typed after an AUTH the server refused (or answered with a
// malformed reply) are masked like those inside the exchange.
func TestSMTPOrphanSASLResponsesMasked(t *testing.T) {
	const pass = "wonderland"
	plain := b64s("\x00alice\x00" + pass)
	cases := []struct {
		name   string
		script []string
		typed  []string
	}{
		{"PLAIN refused 502", []string{"C: AUTH PLAIN", "S: 502 5.5.1 AUTH not available", "C: " + plain, "S: 500 5.5.2 unrecognised command"},
			[]string{"AUTH PLAIN", plain}},
		{"PLAIN unpadded after 504", []string{"C: AUTH PLAIN", "S: 504 5.5.4 no", "C: " + strings.TrimRight(plain, "="), "S: 500 no"},
			[]string{"AUTH PLAIN", strings.TrimRight(plain, "=")}},
		{"LOGIN refused", []string{"C: AUTH LOGIN", "S: 502 no", "C: " + b64s("alice"), "S: 500 no", "C: " + b64s(pass), "S: 500 no"},
			[]string{"AUTH LOGIN", b64s("alice"), b64s(pass)}},
		{"LOGIN user refused at once", []string{"C: AUTH LOGIN " + b64s("alice"), "S: 535 5.7.8 no", "C: " + b64s(pass), "S: 500 no"},
			[]string{"AUTH LOGIN " + b64s("alice"), b64s(pass)}},
		{"malformed reply", []string{"C: AUTH PLAIN", "S: 33x", "C: " + plain, "S: 500 no"},
			[]string{"AUTH PLAIN", plain}},
		{"payload where a command belongs", []string{"C: " + plain, "S: 500 no"},
			[]string{plain}},
		{"tab separated", []string{"C: AUTH\tPLAIN\t" + plain, "S: 500 no"},
			[]string{"AUTH\tPLAIN\t" + plain}},
		{"payload as the mechanism", []string{"C: AUTH " + plain, "S: 504 no"},
			[]string{"AUTH " + plain}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, append([]string{"S: 220 mx.test", "C: EHLO c", "S: 250 mx.test"}, append(tc.script, "C: QUIT", "S: 221 bye")...)...)
			ctx := testCtx(t)
			c, err := DialSMTP(ctx, testOpts(f.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range append(append([]string{"EHLO c"}, tc.typed...), "QUIT") {
				c.SendLine(ctx, l)
			}
			if got := strings.Join(f.Lines(), "|"); !strings.Contains(got, tc.typed[len(tc.typed)-1]) {
				t.Fatalf("the server did not get the line as typed: %s", got)
			}
			if l := leaks(c.Events(), pass); len(l) > 0 {
				t.Errorf("password in the trace: %q", l)
			}
			// The QUIT after the credentials is still shown as QUIT.
			var quit bool
			for _, e := range c.Events() {
				quit = quit || e.Dir == ClientToServer && e.Line == "QUIT" && e.State.Command == "QUIT"
			}
			if !quit {
				t.Error("QUIT not recorded as a command")
			}
		})
	}
}

func TestPOP3OrphanSASLResponsesMasked(t *testing.T) {
	const pass = "wonderland"
	plain := b64s("\x00alice\x00" + pass)
	f := newFake(t, "S: +OK ready", "C: AUTH PLAIN", "S: -ERR not now", "C: "+plain, "S: -ERR unknown command",
		"C: PASS\t"+pass, "S: -ERR no", "C: QUIT", "S: +OK bye")
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"AUTH PLAIN", plain, "PASS\t" + pass, "QUIT"} {
		c.SendLine(ctx, l)
	}
	if l := leaks(c.Events(), pass); len(l) > 0 {
		t.Errorf("password in the trace: %q", l)
	}
	var shown []string
	for _, e := range c.Events() {
		if e.Dir == ClientToServer {
			shown = append(shown, e.Line)
		}
	}
	if want := "AUTH PLAIN|AGFsaWNl****|PASS\t****|QUIT"; strings.Join(shown, "|") != want {
		t.Errorf("shown %q, want %q", strings.Join(shown, "|"), want)
	}
}

func TestScrubPlain(t *testing.T) {
	plain := b64s("\x00alice\x00wonderland")
	for in, want := range map[string]string{
		"NOOP":                                "NOOP",
		"QUIT":                                "QUIT",
		"X " + plain + " y":                   "X AGFsaWNl**** y",
		"MAIL FROM:<a@b.test>":                "MAIL FROM:<a@b.test>",
		b64s("a\x00b"):                        b64s("a\x00b"), // one NUL: not a PLAIN payload
		b64s("admin\x00bob\x00pw"):            "YWRtaW4AYm9i****",
		"\t" + plain:                          "\tAGFsaWNl****",
		strings.TrimRight(plain, "="):         "****",
		"500 unknown command '" + plain + "'": "500 unknown command 'AGFsaWNl****'",
	} {
		if got, _ := scrubPlain(in); got != want {
			t.Errorf("scrubPlain(%q) = %q, want %q", in, got, want)
		}
	}
}

// A server that echoes the payload in its reply does not put it in the trace.
func TestSMTPEchoedPayloadMasked(t *testing.T) {
	plain := b64s("\x00alice\x00wonderland")
	f := newFake(t, "S: 220 mx.test", "C: "+plain, "S: 500 5.5.2 unknown command '"+plain+"'", "C: NOOP", "S: 250 ok")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	c.SendLine(ctx, plain)
	c.SendLine(ctx, "NOOP")
	if l := leaks(c.Events(), "wonderland"); len(l) > 0 {
		t.Errorf("password in the trace: %q", l)
	}
}

// FuzzScrubPlain: no PLAIN payload survives, and text without one is kept.
func FuzzScrubPlain(f *testing.F) {
	f.Add("AUTH PLAIN " + b64s("\x00alice\x00wonderland"))
	f.Add("500 unknown '" + b64s("a\x00b\x00c") + "'")
	f.Add("MAIL FROM:<a@b.test> SIZE=100")
	f.Fuzz(func(t *testing.T, line string) {
		out, changed := scrubPlain(line)
		if !changed && out != line {
			t.Fatalf("unchanged but different: %q -> %q", line, out)
		}
		if again, ch := scrubPlain(out); ch {
			t.Fatalf("a payload survived: %q -> %q -> %q", line, out, again)
		}
	})
}

// Masking is for credentials only: a long base64-looking argument of a
// command that carries none is shown as typed, on the wire and echoed,
// while PASS, the APOP digest, AUTH initial responses and the lines
// answering 334 or "+ " stay masked.
func TestMaskOnlyCredentials(t *testing.T) {
	zeros := strings.Repeat("A", 60) // base64 of 45 zero octets: NULs, no user, no password
	// An empty or non-UTF-8 user name still leaves a password to hide.
	for _, tok := range []string{b64s("\x00\x00hunter2"), b64s("admin\x00\x00hunter2"), b64s("\x00m\xfcller\x00hunter2")} {
		for _, line := range []string{"NOOP " + tok, "535 5.7.8 " + tok, tok} {
			if got, changed := scrubPlain(line); !changed || strings.Contains(got, tok) {
				t.Errorf("scrubPlain(%q) = %q, want the payload masked", line, got)
			}
		}
	}
	for _, tok := range []string{zeros, b64s("\x00\x00\x00secret"), b64s("\x00\x00"), "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="} {
		for _, line := range []string{"NOOP " + tok, "250 2.0.0 OK " + tok, tok} {
			if got, changed := scrubPlain(line); changed || got != line {
				t.Errorf("scrubPlain(%q) = %q, want it unchanged", line, got)
			}
		}
	}
	f := newFake(t, "S: 220 mx.test", "C: NOOP "+zeros, "S: 250 2.0.0 OK "+zeros, "C: QUIT", "S: 221 bye")
	ctx := testCtx(t)
	c, err := DialSMTP(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	c.SendLine(ctx, "NOOP "+zeros)
	c.SendLine(ctx, "QUIT")
	var shown []string
	for _, e := range c.Events() {
		if e.Dir != Local {
			shown = append(shown, e.Line)
		}
	}
	want := "220 mx.test|NOOP " + zeros + "|250 2.0.0 OK " + zeros + "|QUIT|221 bye"
	if got := strings.Join(shown, "|"); got != want {
		t.Errorf("trace %q\nwant  %q", got, want)
	}
	if st := c.Events()[len(c.Events())-1].State; st.Command != "QUIT" {
		t.Errorf("command %q", st.Command)
	}
}

// The APOP digest stands for the password (an offline guess checks it),
// so the trace keeps the user name only.
func TestPOP3APOPDigestMasked(t *testing.T) {
	const digest = "c4c9334bac560ecc979e58001b3e22fb"
	f := newFake(t, "S: +OK ready <1896.697170952@dbc.mtview.ca.us>", "C: APOP mrose "+digest, "S: -ERR no",
		"C: APOP  bob\t"+digest, "S: -ERR no", "C: APOP carol", "S: -ERR usage", "C: QUIT", "S: +OK bye")
	ctx := testCtx(t)
	c, err := DialPOP3(ctx, testOpts(f.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"APOP mrose " + digest, "APOP  bob\t" + digest, "APOP carol", "QUIT"} {
		c.SendLine(ctx, l)
	}
	var shown []string
	for _, e := range c.Events() {
		if e.Dir == ClientToServer {
			shown = append(shown, e.Line)
		}
	}
	if want := "APOP mrose ****|APOP  bob\t****|APOP carol|QUIT"; strings.Join(shown, "|") != want {
		t.Errorf("shown %q, want %q", strings.Join(shown, "|"), want)
	}
	if got := f.Lines(); len(got) != 4 || got[0] != "APOP mrose "+digest {
		t.Errorf("the server got %q", got)
	}
}
