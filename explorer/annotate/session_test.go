package annotate

import (
	"strings"
	"testing"

	"postlab/explorer"
)

// step is one trace line with the state the recorder gives it, and the
// notes expected for it (title prefixes and refs, in order).
type step struct {
	dir    explorer.Direction
	tls    bool
	line   string
	st     explorer.State
	titles []string
	refs   []string
}

func smtpSt(ph explorer.Phase, cmd string) explorer.State {
	return explorer.State{Proto: explorer.SMTP, Phase: ph, Command: cmd}
}

func multi(st explorer.State) explorer.State { st.Multi = true; return st }

func tlsSt(st explorer.State) explorer.State { st.TLS = true; return st }

func withMech(st explorer.State, m string) explorer.State { st.AuthMech = m; return st }

const (
	c2s = explorer.ClientToServer
	s2c = explorer.ServerToClient
)

// typicalSMTP is a submission session as the explorer records it: the
// state of a reply is the state before it (Command = the verb answered).
var typicalSMTP = []step{
	{s2c, false, "220 mail.postlab.test ESMTP ready", smtpSt(explorer.PhaseConnect, ""),
		[]string{"220 Greeting"}, []string{"RFC 5321 §4.2.3"}},
	{c2s, false, "EHLO client.example", smtpSt(explorer.PhaseGreeted, "EHLO"),
		[]string{"EHLO: extended greeting"}, []string{"RFC 5321 §4.1.1.1"}},
	{s2c, false, "250-mail.postlab.test Hello client.example", smtpSt(explorer.PhaseGreeted, "EHLO"),
		[]string{"250 EHLO accepted"}, []string{"RFC 5321 §4.1.1.1"}},
	{s2c, false, "250-PIPELINING", multi(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"PIPELINING"}, []string{"RFC 2920 §3"}},
	{s2c, false, "250-SIZE 10485760", multi(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"SIZE: message size limit"}, []string{"RFC 1870 §3"}},
	{s2c, false, "250-ENHANCEDSTATUSCODES", multi(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"ENHANCEDSTATUSCODES"}, []string{"RFC 2034 §3"}},
	{s2c, false, "250 STARTTLS", multi(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"STARTTLS offered"}, []string{"RFC 3207 §3"}},
	{c2s, false, "STARTTLS", smtpSt(explorer.PhaseReady, "STARTTLS"),
		[]string{"STARTTLS: switch to TLS"}, []string{"RFC 3207 §4"}},
	{s2c, false, "220 2.0.0 Ready to start TLS", smtpSt(explorer.PhaseReady, "STARTTLS"),
		[]string{"220 Ready to start TLS", "2.0.0 Other undefined status"}, []string{"RFC 3207 §4.2", "RFC 3463 §3.1"}},
	{c2s, true, "EHLO client.example", tlsSt(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"EHLO: extended greeting", "EHLO again inside TLS"}, []string{"RFC 5321 §4.1.1.1", "RFC 3207 §4.2"}},
	{s2c, true, "250-mail.postlab.test Hello client.example", tlsSt(smtpSt(explorer.PhaseGreeted, "EHLO")),
		[]string{"250 EHLO accepted"}, []string{"RFC 5321 §4.1.1.1"}},
	{s2c, true, "250 AUTH PLAIN LOGIN", multi(tlsSt(smtpSt(explorer.PhaseGreeted, "EHLO"))),
		[]string{"AUTH: SASL login offered", "SASL PLAIN", "SASL LOGIN"}, []string{"RFC 4954 §3", "RFC 4616 §2", "draft-murchison-sasl-login-00"}},
	{c2s, true, "AUTH PLAIN AGFsaWNl****", withMech(tlsSt(smtpSt(explorer.PhaseReady, "AUTH")), "PLAIN"),
		[]string{"AUTH: authenticate with SASL", "SASL PLAIN", `AUTH PLAIN decoded: user "alice"`}, []string{"RFC 4954 §4", "RFC 4616 §2", "RFC 4616 §2"}},
	{s2c, true, "235 2.7.0 Authentication successful", withMech(tlsSt(smtpSt(explorer.PhaseReady, "AUTH")), "PLAIN"),
		[]string{"235 Authentication succeeded", "2.7.0 Success (security or policy status)"}, []string{"RFC 4954 §6", "RFC 3463 §3.8"}},
	{c2s, true, "MAIL FROM:<alice@postlab.test> SIZE=1200 BODY=8BITMIME", tlsSt(smtpSt(explorer.PhaseReady, "MAIL")),
		[]string{"MAIL FROM", "Envelope sender", "SIZE=1200", "BODY=8BITMIME"}, []string{"RFC 5321 §4.1.1.2", "RFC 5321 §3.3", "RFC 1870 §4", "RFC 6152 §2"}},
	{s2c, true, "250 2.1.0 Ok", tlsSt(smtpSt(explorer.PhaseReady, "MAIL")),
		[]string{"250 Sender accepted", "2.1.0 Other address status"}, []string{"RFC 5321 §4.1.1.2", "RFC 3463 §3.2"}},
	{c2s, true, "RCPT TO:<bob@postlab.test> NOTIFY=FAILURE,DELAY", tlsSt(smtpSt(explorer.PhaseMail, "RCPT")),
		[]string{"RCPT TO", "Envelope recipient", "NOTIFY=FAILURE,DELAY"}, []string{"RFC 5321 §4.1.1.3", "RFC 5321 §3.3", "RFC 3461 §4.1"}},
	{s2c, true, "250 2.1.5 Ok", tlsSt(smtpSt(explorer.PhaseMail, "RCPT")),
		[]string{"250 Recipient accepted", "2.1.5 Destination address valid"}, []string{"RFC 5321 §4.1.1.3", "RFC 3463 §3.2"}},
	{c2s, true, "RCPT TO:<nobody@postlab.test>", tlsSt(smtpSt(explorer.PhaseRcpt, "RCPT")),
		[]string{"RCPT TO", "Envelope recipient"}, []string{"RFC 5321 §4.1.1.3", "RFC 5321 §3.3"}},
	{s2c, true, "550 5.1.1 <nobody@postlab.test>: Recipient address rejected", tlsSt(smtpSt(explorer.PhaseRcpt, "RCPT")),
		[]string{"550 Mailbox unavailable", "5.1.1 Bad destination mailbox address", "Next: this recipient is dropped"}, []string{"RFC 5321 §4.2.3", "RFC 3463 §3.2", "RFC 5321 §6.1"}},
	{c2s, true, "DATA", tlsSt(smtpSt(explorer.PhaseRcpt, "DATA")),
		[]string{"DATA: send the message"}, []string{"RFC 5321 §4.1.1.4"}},
	{s2c, true, "354 End data with <CR><LF>.<CR><LF>", tlsSt(smtpSt(explorer.PhaseRcpt, "DATA")),
		[]string{"354 Start mail input"}, []string{"RFC 5321 §4.1.1.4"}},
	{c2s, true, "From: Alice <alice@postlab.test>", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"From: header"}, []string{"RFC 5322 §3.6.2"}},
	{c2s, true, "Bcc: carol@postlab.test", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"Bcc: header"}, []string{"RFC 5322 §3.6.3"}},
	{c2s, true, "Subject: hello", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"Subject: header"}, []string{"RFC 5322 §3.6.5"}},
	{c2s, true, "", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"End of the header section"}, []string{"RFC 5322 §2.1"}},
	{c2s, true, "..and a line that started with a dot", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"Dot-stuffed line"}, []string{"RFC 5321 §4.5.2"}},
	{c2s, true, "From: this is body text, not a header", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		nil, nil},
	{c2s, true, ".", tlsSt(smtpSt(explorer.PhaseData, ".")),
		[]string{"End of message data"}, []string{"RFC 5321 §4.1.1.4"}},
	{s2c, true, "250 2.0.0 Ok: queued as 4F2A1", tlsSt(smtpSt(explorer.PhaseData, "DATA")),
		[]string{"250 Message accepted", "2.0.0 Other undefined status"}, []string{"RFC 5321 §4.2.5", "RFC 3463 §3.1"}},
	{c2s, true, "QUIT", tlsSt(smtpSt(explorer.PhaseReady, "QUIT")),
		[]string{"QUIT: end the session"}, []string{"RFC 5321 §4.1.1.10"}},
	{s2c, true, "221 2.0.0 Bye", tlsSt(smtpSt(explorer.PhaseReady, "QUIT")),
		[]string{"221 Closing connection", "2.0.0 Other undefined status"}, []string{"RFC 5321 §4.1.1.10", "RFC 3463 §3.1"}},
}

func popSt(ph explorer.Phase, cmd string) explorer.State {
	return explorer.State{Proto: explorer.POP3, Phase: ph, Command: cmd}
}

var typicalPOP3 = []step{
	{s2c, false, "+OK POP3 ready <1896.697170952@postlab.test>", popSt(explorer.PhaseAuthz, ""),
		[]string{"+OK greeting", "APOP timestamp"}, []string{"RFC 1939 §4", "RFC 1939 §7"}},
	{c2s, false, "CAPA", popSt(explorer.PhaseAuthz, "CAPA"),
		[]string{"CAPA: list capabilities"}, []string{"RFC 2449 §5"}},
	{s2c, false, "+OK Capability list follows", popSt(explorer.PhaseAuthz, "CAPA"),
		[]string{"+OK capability list follows"}, []string{"RFC 2449 §5"}},
	{s2c, false, "TOP", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"CAPA TOP"}, []string{"RFC 2449 §6.1"}},
	{s2c, false, "UIDL", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"CAPA UIDL"}, []string{"RFC 2449 §6.8"}},
	{s2c, false, "SASL PLAIN", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"CAPA SASL", "SASL PLAIN"}, []string{"RFC 2449 §6.3", "RFC 4616 §2"}},
	{s2c, false, "RESP-CODES", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"CAPA RESP-CODES"}, []string{"RFC 2449 §6.4"}},
	{s2c, false, "STLS", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"CAPA STLS"}, []string{"RFC 2595 §4"}},
	{s2c, false, ".", multi(popSt(explorer.PhaseAuthz, "CAPA")),
		[]string{"End of the multi-line response"}, []string{"RFC 1939 §3"}},
	{c2s, false, "USER alice", popSt(explorer.PhaseAuthz, "USER"),
		[]string{"USER: give the user name"}, []string{"RFC 1939 §7"}},
	{s2c, false, "+OK", popSt(explorer.PhaseAuthz, "USER"),
		[]string{"+OK send the password"}, []string{"RFC 1939 §7"}},
	{c2s, false, "PASS ****", popSt(explorer.PhaseAuthz, "PASS"),
		[]string{"PASS: give the password", "Warning: credentials sent without TLS"}, []string{"RFC 1939 §7", "RFC 1939 §13"}},
	{s2c, false, "-ERR [IN-USE] mailbox locked", popSt(explorer.PhaseAuthz, "PASS"),
		[]string{"-ERR login refused", "[IN-USE] mailbox locked"}, []string{"RFC 1939 §4", "RFC 2449 §8.1.2"}},
	{c2s, false, "PASS ****", popSt(explorer.PhaseAuthz, "PASS"),
		[]string{"PASS: give the password", "Warning: credentials sent without TLS"}, []string{"RFC 1939 §7", "RFC 1939 §13"}},
	{s2c, false, "+OK maildrop locked and ready", popSt(explorer.PhaseAuthz, "PASS"),
		[]string{"+OK logged in: TRANSACTION state"}, []string{"RFC 1939 §4"}},
	{c2s, false, "STAT", popSt(explorer.PhaseTrans, "STAT"),
		[]string{"STAT: mailbox status"}, []string{"RFC 1939 §5"}},
	{s2c, false, "+OK 2 320", popSt(explorer.PhaseTrans, "STAT"),
		[]string{"+OK 2 messages, 320 octets"}, []string{"RFC 1939 §5"}},
	{c2s, false, "LIST", popSt(explorer.PhaseTrans, "LIST"),
		[]string{"LIST: message sizes"}, []string{"RFC 1939 §5"}},
	{s2c, false, "+OK 2 messages (320 octets)", popSt(explorer.PhaseTrans, "LIST"),
		[]string{"+OK listing follows"}, []string{"RFC 1939 §5"}},
	{s2c, false, "1 120", multi(popSt(explorer.PhaseTrans, "LIST")),
		[]string{"Message 1: 120 octets"}, []string{"RFC 1939 §5"}},
	{s2c, false, ".", multi(popSt(explorer.PhaseTrans, "LIST")),
		[]string{"End of the multi-line response"}, []string{"RFC 1939 §3"}},
	{c2s, false, "UIDL 1", popSt(explorer.PhaseTrans, "UIDL"),
		[]string{"UIDL: unique message ids"}, []string{"RFC 1939 §7"}},
	{s2c, false, "+OK 1 whqtswO00WBw418f9t5JxYwZ", popSt(explorer.PhaseTrans, "UIDL"),
		[]string{`+OK message 1 has unique id "whqtswO00WBw418f9t5JxYwZ"`}, []string{"RFC 1939 §7"}},
	{c2s, false, "RETR 1", popSt(explorer.PhaseTrans, "RETR"),
		[]string{"RETR: download a message"}, []string{"RFC 1939 §5"}},
	{s2c, false, "+OK 120 octets", popSt(explorer.PhaseTrans, "RETR"),
		[]string{"+OK message follows"}, []string{"RFC 1939 §5"}},
	{s2c, false, "Return-Path: <alice@postlab.test>", multi(popSt(explorer.PhaseTrans, "RETR")),
		[]string{"Return-Path: header"}, []string{"RFC 5321 §4.4"}},
	{s2c, false, "", multi(popSt(explorer.PhaseTrans, "RETR")),
		[]string{"End of the header section"}, []string{"RFC 5322 §2.1"}},
	{s2c, false, "..signature", multi(popSt(explorer.PhaseTrans, "RETR")),
		[]string{"Byte-stuffed line"}, []string{"RFC 1939 §3"}},
	{s2c, false, ".", multi(popSt(explorer.PhaseTrans, "RETR")),
		[]string{"End of the multi-line response"}, []string{"RFC 1939 §3"}},
	{c2s, false, "DELE 1", popSt(explorer.PhaseTrans, "DELE"),
		[]string{"DELE: mark a message for deletion"}, []string{"RFC 1939 §5"}},
	{s2c, false, "+OK message 1 deleted", popSt(explorer.PhaseTrans, "DELE"),
		[]string{"+OK marked for deletion"}, []string{"RFC 1939 §5"}},
	{c2s, false, "QUIT", popSt(explorer.PhaseTrans, "QUIT"),
		[]string{"QUIT: end the session", "QUIT commits the deletions"}, []string{"RFC 1939 §6", "RFC 1939 §6"}},
	{s2c, false, "+OK bye", popSt(explorer.PhaseTrans, "QUIT"),
		[]string{"+OK deletions committed"}, []string{"RFC 1939 §6"}},
}

func runSteps(t *testing.T, name string, steps []step) {
	t.Helper()
	a := NewAnnotator()
	for i, s := range steps {
		ev := explorer.Event{Dir: s.dir, TLS: s.tls, Line: s.line, State: s.st}
		notes := a.Annotate(ev)
		if len(notes) != len(s.titles) {
			t.Errorf("%s step %d %q: got %d notes %+v, want titles %q", name, i, s.line, len(notes), notes, s.titles)
			continue
		}
		for j, n := range notes {
			if !strings.HasPrefix(n.Title, s.titles[j]) {
				t.Errorf("%s step %d %q note %d: title %q, want prefix %q", name, i, s.line, j, n.Title, s.titles[j])
			}
			if n.Ref != s.refs[j] {
				t.Errorf("%s step %d %q note %d: ref %q, want %q", name, i, s.line, j, n.Ref, s.refs[j])
			}
			if n.Detail == "" {
				t.Errorf("%s step %d %q note %d: empty detail", name, i, s.line, j)
			}
		}
	}
}

func TestTypicalSMTPSession(t *testing.T) { runSteps(t, "smtp", typicalSMTP) }

func TestTypicalPOP3Session(t *testing.T) { runSteps(t, "pop3", typicalPOP3) }
