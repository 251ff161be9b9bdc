package annotate

import (
	"encoding/base64"
	"strings"
	"testing"

	"postlab/explorer"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func titles(notes []explorer.Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.Title + " | " + n.Detail + " | " + n.Ref + "\n")
	}
	return b.String()
}

func hasTitle(notes []explorer.Note, prefix string) bool {
	for _, n := range notes {
		if strings.HasPrefix(n.Title, prefix) {
			return true
		}
	}
	return false
}

func authEv(proto explorer.Protocol, mech, line string, tls bool) explorer.Event {
	st := explorer.State{Proto: proto, Phase: explorer.PhaseAuth, Command: "AUTH", AuthMech: mech, TLS: tls}
	return explorer.Event{Dir: c2s, TLS: tls, Line: line, State: st}
}

func TestPlainNeverShowsThePassword(t *testing.T) {
	unmasked := b64("\x00alice\x00wonderland")
	for _, ev := range []explorer.Event{
		authEv(explorer.SMTP, "PLAIN", unmasked, false),
		authEv(explorer.POP3, "PLAIN", unmasked, false),
		{Dir: c2s, Line: "AUTH PLAIN " + unmasked, State: explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady}},
		{Dir: c2s, Line: "AUTH PLAIN " + b64("admin\x00alice\x00wonderland"), State: explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady}},
	} {
		notes := Annotate(ev)
		out := titles(notes)
		if strings.Contains(out, "wonderland") {
			t.Fatalf("password leaked for %q:\n%s", ev.Line, out)
		}
		if !strings.Contains(out, `user "alice"`) {
			t.Errorf("user not decoded for %q:\n%s", ev.Line, out)
		}
		if !hasTitle(notes, "Warning: credentials sent without TLS") {
			t.Errorf("no plain-text warning for %q:\n%s", ev.Line, out)
		}
	}
	// With TLS: decoded, no warning.
	notes := Annotate(authEv(explorer.SMTP, "PLAIN", unmasked, true))
	if hasTitle(notes, "Warning") || !hasTitle(notes, `AUTH PLAIN decoded: user "alice"`) {
		t.Errorf("PLAIN over TLS:\n%s", titles(notes))
	}
	// The explorer's masked form keeps the user and hides the rest.
	notes = Annotate(authEv(explorer.SMTP, "PLAIN", "AGJvYg****", true))
	if !hasTitle(notes, `AUTH PLAIN decoded: user "bob"`) {
		t.Errorf("masked PLAIN:\n%s", titles(notes))
	}
	notes = Annotate(authEv(explorer.SMTP, "PLAIN", "AGJv****", true))
	if !hasTitle(notes, `AUTH PLAIN decoded: user "bo" (may be cut short`) {
		t.Errorf("cut PLAIN:\n%s", titles(notes))
	}
}

func TestLoginDecodedWithRoles(t *testing.T) {
	a := NewAnnotator()
	st := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady, Command: "AUTH", AuthMech: "LOGIN"}
	a.Annotate(explorer.Event{Dir: c2s, Line: "AUTH LOGIN", State: st})
	st.Phase = explorer.PhaseReady
	n := a.Annotate(explorer.Event{Dir: s2c, Line: "334 VXNlcm5hbWU6", State: st})
	if !hasTitle(n, `Challenge decoded: "Username:"`) {
		t.Errorf("334 Username:\n%s", titles(n))
	}
	n = a.Annotate(authEv(explorer.SMTP, "LOGIN", b64("alice"), false))
	if !hasTitle(n, `AUTH LOGIN user name: "alice"`) || !hasTitle(n, "Warning") {
		t.Errorf("LOGIN user:\n%s", titles(n))
	}
	st.Phase = explorer.PhaseAuth
	n = a.Annotate(explorer.Event{Dir: s2c, Line: "334 UGFzc3dvcmQ6", State: st})
	if !hasTitle(n, `Challenge decoded: "Password:"`) {
		t.Errorf("334 Password:\n%s", titles(n))
	}
	// Even unmasked, a password answer is never shown.
	n = a.Annotate(authEv(explorer.SMTP, "LOGIN", b64("wonderland"), false))
	if strings.Contains(titles(n), "wonderland") || !hasTitle(n, "AUTH LOGIN password") {
		t.Errorf("LOGIN password:\n%s", titles(n))
	}
	// The state-less Annotate cannot tell, so shows nothing of it.
	n = Annotate(authEv(explorer.SMTP, "LOGIN", b64("wonderland"), true))
	if strings.Contains(titles(n), "wonderland") || !hasTitle(n, "AUTH LOGIN response (10 characters, not shown)") {
		t.Errorf("state-less LOGIN:\n%s", titles(n))
	}
	// The recorder's mask.
	n = Annotate(authEv(explorer.SMTP, "LOGIN", "****", false))
	if !hasTitle(n, "Credential hidden") || !hasTitle(n, "Warning") {
		t.Errorf("masked LOGIN:\n%s", titles(n))
	}
	// Cancel.
	n = Annotate(authEv(explorer.SMTP, "LOGIN", "*", false))
	if !hasTitle(n, "Cancel authentication") || hasTitle(n, "Warning") {
		t.Errorf("cancel:\n%s", titles(n))
	}
}

func TestOtherMechanisms(t *testing.T) {
	n := Annotate(authEv(explorer.SMTP, "CRAM-MD5", b64("alice 0123456789abcdef0123456789abcdef"), false))
	if !hasTitle(n, `CRAM-MD5 response: user "alice"`) || hasTitle(n, "Warning") {
		t.Errorf("CRAM-MD5:\n%s", titles(n))
	}
	n = Annotate(authEv(explorer.SMTP, "XOAUTH2", b64("user=alice@example.org\x01auth=Bearer ya29.SECRETTOKEN\x01\x01"), true))
	if strings.Contains(titles(n), "SECRETTOKEN") || !hasTitle(n, `XOAUTH2 response: user "alice@example.org"`) {
		t.Errorf("XOAUTH2:\n%s", titles(n))
	}
	n = Annotate(authEv(explorer.SMTP, "SCRAM-SHA-256", b64("n,,n=alice,r=abc123"), false))
	if !hasTitle(n, `SCRAM client-first message: user "alice"`) {
		t.Errorf("SCRAM:\n%s", titles(n))
	}
	st := explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseAuth, Command: "AUTH", AuthMech: "CRAM-MD5"}
	n = Annotate(explorer.Event{Dir: s2c, Line: "334 " + b64("<1896.697170952@postoffice.example.net>"), State: st})
	if !hasTitle(n, "CRAM-MD5 challenge") {
		t.Errorf("CRAM challenge:\n%s", titles(n))
	}
	st = explorer.State{Proto: explorer.POP3, Phase: explorer.PhaseAuth, Command: "AUTH", AuthMech: "PLAIN"}
	n = Annotate(explorer.Event{Dir: s2c, Line: "+ ", State: st})
	if !hasTitle(n, "Empty challenge") || n[0].Ref != "RFC 5034 §4" {
		t.Errorf("POP3 continuation:\n%s", titles(n))
	}
}

func TestContextualReplies(t *testing.T) {
	cases := []struct {
		line  string
		st    explorer.State
		title string
		ref   string
	}{
		{"354 go ahead", smtpSt(explorer.PhaseRcpt, "DATA"), "354 Start mail input", "RFC 5321 §4.1.1.4"},
		{"421 4.3.2 Service shutting down", smtpSt(explorer.PhaseMail, "RCPT"), "421 Service not available: the server is closing the connection", "RFC 5321 §3.8"},
		{"250 2.0.0 Ok: queued", smtpSt(explorer.PhaseData, "DATA"), "250 Message accepted", "RFC 5321 §4.2.5"},
		{"250 2.0.0 Ok: queued", smtpSt(explorer.PhaseData, "."), "250 Message accepted", "RFC 5321 §4.2.5"},
		{"220 2.0.0 go", smtpSt(explorer.PhaseReady, "STARTTLS"), "220 Ready to start TLS", "RFC 3207 §4.2"},
		{"554 5.7.1 Spam", smtpSt(explorer.PhaseConnect, ""), "554 No SMTP service here", "RFC 5321 §3.1"},
		{"535 5.7.8 Authentication credentials invalid", withMech(smtpSt(explorer.PhaseAuth, "AUTH"), "PLAIN"), "535 Authentication credentials invalid", "RFC 4954 §6"},
		{"250 mx.example", smtpSt(explorer.PhaseGreeted, "EHLO"), "250 EHLO accepted", "RFC 5321 §4.1.1.1"},
	}
	for _, c := range cases {
		n := Annotate(explorer.Event{Dir: s2c, Line: c.line, State: c.st})
		if len(n) == 0 || n[0].Title != c.title || n[0].Ref != c.ref {
			t.Errorf("%q in %+v:\n%s", c.line, c.st, titles(n))
		}
	}
	n := Annotate(explorer.Event{Dir: s2c, Line: "250 mx.example", State: smtpSt(explorer.PhaseGreeted, "EHLO")})
	if !strings.Contains(n[0].Detail, "No extensions") {
		t.Errorf("single-line EHLO: %s", titles(n))
	}
}

func TestFourVersusFive(t *testing.T) {
	grey := Annotate(explorer.Event{Dir: s2c, Line: "450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, try again later", State: smtpSt(explorer.PhaseMail, "RCPT")})
	if !hasTitle(grey, "Next: retry this recipient later") || !hasTitle(grey, "Greylisting") || hasTitle(grey, "Next: do not retry") {
		t.Errorf("450:\n%s", titles(grey))
	}
	bounce := Annotate(explorer.Event{Dir: s2c, Line: "550 5.7.1 Message rejected as spam", State: smtpSt(explorer.PhaseData, "DATA")})
	if !hasTitle(bounce, "Next: the message bounces to the sender") || !hasTitle(bounce, "5.7.1 Delivery not authorized") {
		t.Errorf("550 after dot:\n%s", titles(bounce))
	}
	relay := Annotate(explorer.Event{Dir: s2c, Line: "554 5.7.1 <x@example.com>: Relay access denied", State: smtpSt(explorer.PhaseMail, "RCPT")})
	if !hasTitle(relay, "Relaying denied") {
		t.Errorf("relay:\n%s", titles(relay))
	}
	temp := Annotate(explorer.Event{Dir: s2c, Line: "451 4.3.0 Temporary lookup failure", State: smtpSt(explorer.PhaseReady, "MAIL")})
	if !hasTitle(temp, "Next: retry later (temporary failure)") {
		t.Errorf("451:\n%s", titles(temp))
	}
	syntax := Annotate(explorer.Event{Dir: s2c, Line: "501 5.5.4 Syntax: MAIL FROM:<address>", State: smtpSt(explorer.PhaseReady, "MAIL")})
	if !hasTitle(syntax, "Next: fix the command") {
		t.Errorf("501:\n%s", titles(syntax))
	}
	multiAuth := Annotate(explorer.Event{Dir: s2c, Line: "550 5.7.26 This mail has been blocked because the sender is unauthenticated.", State: smtpSt(explorer.PhaseData, "DATA")})
	if !hasTitle(multiAuth, "5.7.26 Multiple authentication checks failed") {
		t.Errorf("5.7.26:\n%s", titles(multiAuth))
	}
}

func TestEnvelopeVersusHeaders(t *testing.T) {
	n := Annotate(explorer.Event{Dir: c2s, Line: "MAIL FROM:<>", State: smtpSt(explorer.PhaseReady, "MAIL")})
	if !hasTitle(n, "Null reverse-path <>") {
		t.Errorf("null sender:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "MAIL FROM: alice@example.org", State: smtpSt(explorer.PhaseReady, "MAIL")})
	if !hasTitle(n, "Space after the colon") || !hasTitle(n, "Address without angle brackets") || !hasTitle(n, `Envelope sender "<alice@example.org>"`) {
		t.Errorf("sloppy MAIL:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "RCPT TO:<bob@example.org> SIZE=100 ORCPT=rfc822;bob+2Bx@example.org", State: smtpSt(explorer.PhaseMail, "RCPT")})
	out := titles(n)
	if !strings.Contains(out, "belongs on MAIL FROM") || !strings.Contains(out, `Decoded: "rfc822;bob+x@example.org"`) {
		t.Errorf("RCPT params:\n%s", out)
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "MAIL FROM:<a@b> FROBNICATE=1", State: smtpSt(explorer.PhaseReady, "MAIL")})
	if !hasTitle(n, `Unknown parameter "FROBNICATE"`) {
		t.Errorf("unknown param:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "To: Bob <bob@example.org>", State: smtpSt(explorer.PhaseData, "DATA")})
	if !hasTitle(n, "To: header (display only)") {
		t.Errorf("To header:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: ".hidden", State: smtpSt(explorer.PhaseData, "DATA")})
	if !hasTitle(n, "Warning: line starts with a single dot") {
		t.Errorf("single dot:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "..x", State: smtpSt(explorer.PhaseData, "BDAT")})
	if len(n) != 0 {
		t.Errorf("BDAT content is not dot-stuffed:\n%s", titles(n))
	}
}

func TestSequenceWarnings(t *testing.T) {
	cases := []struct {
		line, title string
		st          explorer.State
	}{
		{"RCPT TO:<a@b>", "RCPT before MAIL", smtpSt(explorer.PhaseReady, "RCPT")},
		{"DATA", "No accepted recipient yet", smtpSt(explorer.PhaseMail, "DATA")},
		{"MAIL FROM:<a@b>", "EHLO first", smtpSt(explorer.PhaseGreeted, "MAIL")},
		{"MAIL FROM:<a@b>", "A transaction is already open", smtpSt(explorer.PhaseRcpt, "MAIL")},
		{"STARTTLS", "Already inside TLS", tlsSt(smtpSt(explorer.PhaseReady, "STARTTLS"))},
	}
	for _, c := range cases {
		n := Annotate(explorer.Event{Dir: c2s, Line: c.line, State: c.st})
		if !hasTitle(n, c.title) {
			t.Errorf("%q: want %q in\n%s", c.line, c.title, titles(n))
		}
	}
	n := Annotate(explorer.Event{Dir: c2s, Line: "RETR 1", State: popSt(explorer.PhaseAuthz, "RETR")})
	if !hasTitle(n, "Wrong state for RETR") {
		t.Errorf("RETR before login:\n%s", titles(n))
	}
	n = Annotate(explorer.Event{Dir: c2s, Line: "USER alice", State: popSt(explorer.PhaseTrans, "USER")})
	if !hasTitle(n, "Wrong state for USER") {
		t.Errorf("USER after login:\n%s", titles(n))
	}
}

func TestMalformedLines(t *testing.T) {
	for _, line := range []string{"25O ok", "250ok", "hello", "99 x", "600 x"} {
		n := Annotate(explorer.Event{Dir: s2c, Line: line, State: smtpSt(explorer.PhaseReady, "NOOP")})
		if !hasTitle(n, "Not a valid SMTP reply line") {
			t.Errorf("%q:\n%s", line, titles(n))
		}
	}
	n := Annotate(explorer.Event{Dir: s2c, Line: "OK fine", State: popSt(explorer.PhaseTrans, "STAT")})
	if !hasTitle(n, "Not a valid POP3 status line") {
		t.Errorf("pop3 junk:\n%s", titles(n))
	}
	if n := Annotate(explorer.Event{Dir: explorer.Local, Line: "TLS 1.3"}); n != nil {
		t.Errorf("local note annotated: %v", n)
	}
	// Without a protocol in the state, the line's look decides.
	n = Annotate(explorer.Event{Dir: s2c, Line: "+OK 3 100", State: explorer.State{Command: "STAT"}})
	if !hasTitle(n, "+OK 3 messages") {
		t.Errorf("state-less POP3:\n%s", titles(n))
	}
}
