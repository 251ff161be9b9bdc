package lab_test

// Interoperability of the whole lab with clients we did not write: Python's
// smtplib and poplib, curl, swaks and openssl s_client. Each test sends
// messages that catch wire bugs (lines starting with ".", 8-bit UTF-8 with an
// SMTPUTF8 address, 2 MB) and compares the bytes in the Maildir with what
// was sent. POSTLAB_INTEROP=1 makes a missing program a failure.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab"
)

// interopProgram returns the path of an outside program, skipping the test
// when it is missing, or failing it when POSTLAB_INTEROP=1.
func interopProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("POSTLAB_INTEROP") == "1" {
			t.Fatalf("POSTLAB_INTEROP=1 but %s is not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// interopLab runs a lab on 127.0.0.1 port 0 and writes its certificate where
// outside clients can read it.
func interopLab(t *testing.T) (*lab.Lab, string) {
	t.Helper()
	l, err := lab.Start(lab.Config{
		DataDir:       t.TempDir(),
		SMTP:          "127.0.0.1:0",
		Submission:    "127.0.0.1:0",
		Submissions:   "127.0.0.1:0",
		POP3:          "127.0.0.1:0",
		POP3S:         "127.0.0.1:0",
		DNS:           lab.Off,
		AuthFailDelay: -1,
	})
	if err != nil {
		t.Fatalf("lab.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ca := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := os.WriteFile(ca, l.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return l, ca
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// peerResult is what an outside program did.
type peerResult struct {
	stdout, stderr string
	err            error
}

func (r peerResult) String() string {
	return fmt.Sprintf("exit: %v\nstdout: %.3000s\nstderr: %.3000s", r.err, r.stdout, r.stderr)
}

func runPeer(t *testing.T, stdin string, name string, args ...string) peerResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return peerResult{out.String(), errb.String(), err}
}

// mustPeer runs a program that must succeed and returns its stdout.
func mustPeer(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	r := runPeer(t, stdin, name, args...)
	if r.err != nil {
		t.Fatalf("%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), r)
	}
	return r.stdout
}

// Messages that catch wire bugs.
const (
	dotMsg = "From: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: dots\r\n\r\n" +
		".leading dot\r\n..two dots\r\n.\r\n. space\r\n...\r\nlast line\r\n"
	utf8Msg = "From: =?UTF-8?Q?J=C3=BCrgen?= <jürgen@beispiel.de>\r\nTo: alice@postlab.test\r\n" +
		"Subject: Grüße ✓\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — ✓ 日本語\r\n.ñ starts with a dot\r\n"
	utf8From = "jürgen@beispiel.de"
)

// bigMsg is 2 MB of lines of every length up to the RFC 5321 §4.5.3.1.6
// limit (998 octets and CRLF), some starting with ".".
func bigMsg() string {
	var b strings.Builder
	b.WriteString("From: alice@postlab.test\r\nTo: bob@postlab.test\r\nSubject: big\r\n\r\n")
	for i := 0; b.Len() < 2<<20; i++ {
		n := (i * 37) % 999
		line := strings.Repeat(string(rune('a'+i%26)), n)
		if i%50 == 0 && n > 0 {
			line = "." + line[1:]
		}
		b.WriteString(line + "\r\n")
	}
	return b.String()
}

// fixture writes a message to a file for a program to send.
func fixture(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// boxWatch finds the messages that arrive in a mailbox.
type boxWatch struct {
	l    *lab.Lab
	box  string
	seen map[string]bool
}

func watchBox(t *testing.T, l *lab.Lab, box string) *boxWatch {
	w := &boxWatch{l: l, box: box, seen: map[string]bool{}}
	for _, id := range w.ids(t) {
		w.seen[id] = true
	}
	return w
}

// ids lists the mailbox's unique names, oldest first.
func (w *boxWatch) ids(t *testing.T) []string {
	t.Helper()
	sums, err := w.l.Store().List(w.box)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sums {
		out = append(out, s.ID)
	}
	return out
}

// take returns the bytes of the one message that arrived since the last call.
func (w *boxWatch) take(t *testing.T) []byte {
	t.Helper()
	msgs := w.takeAll(t)
	if len(msgs) != 1 {
		t.Fatalf("%s: %d new messages, want 1", w.box, len(msgs))
	}
	return msgs[0]
}

// takeAll returns the messages that arrived since the last call, in the
// order they were delivered.
func (w *boxWatch) takeAll(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, id := range w.ids(t) {
		if w.seen[id] {
			continue
		}
		w.seen[id] = true
		b, err := w.l.Store().Raw(w.box, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// splitTrace separates the fields the lab prepends (Return-Path or the
// outbox's X-Postlab-Envelope-* fields, then one Received field, then on
// submission from the lab's domain its DKIM-Signature) from the message as
// the client sent it.
func splitTrace(t *testing.T, stored []byte) (trace string, msg []byte) {
	t.Helper()
	rest := stored
	field := func() string {
		end := 0
		for {
			i := bytes.Index(rest[end:], []byte("\r\n"))
			if i < 0 {
				t.Fatalf("unterminated header in %.200q", stored)
			}
			end += i + 2
			if end >= len(rest) || (rest[end] != ' ' && rest[end] != '\t') {
				break
			}
		}
		f := string(rest[:end])
		rest = rest[end:]
		return f
	}
	for bytes.HasPrefix(rest, []byte("Return-Path:")) || bytes.HasPrefix(rest, []byte("X-Postlab-Envelope-")) {
		trace += field()
	}
	if !bytes.HasPrefix(rest, []byte("Received: ")) {
		t.Fatalf("stored message lacks the lab's Received field: %.300q", stored)
	}
	trace += field()
	// Submitted mail from the lab's domain: the lab's DKIM signature.
	if bytes.HasPrefix(rest, []byte("DKIM-Signature: ")) {
		trace += field()
	}
	return trace, rest
}

// checkStored compares a stored message, less the lab's own fields, with
// what was sent.
func checkStored(t *testing.T, what string, stored []byte, sent string) string {
	t.Helper()
	trace, got := splitTrace(t, stored)
	if string(got) != sent {
		t.Errorf("%s: stored %d octets differ from the %d sent at offset %d\nstored: %.200q\nsent:   %.200q",
			what, len(got), len(sent), firstDiff(got, []byte(sent)), got, sent)
	}
	return trace
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// plaintextLines are the lines clients sent to a listener without TLS, from
// the lab's trace.
func plaintextLines(l *lab.Lab, listener string) []string {
	var out []string
	for _, ev := range l.Traces().Recent(0) {
		if ev.Listener == listener && ev.Dir == explorer.ClientToServer && !ev.TLS {
			out = append(out, ev.Line)
		}
	}
	return out
}

// smtplibSpec is the input of testdata/interop/smtp_client.py.
type smtplibSpec struct {
	Host           string       `json:"host"`
	Port           int          `json:"port"`
	TLS            string       `json:"tls"` // none, starttls, implicit
	CAFile         string       `json:"cafile"`
	Auth           *smtplibAuth `json:"auth,omitempty"`
	ProbePlainAuth bool         `json:"probe_plain_auth,omitempty"`
	Messages       []smtplibMsg `json:"messages"`
}

type smtplibAuth struct {
	Mech     string `json:"mech"`
	User     string `json:"user"`
	Password string `json:"password"`
}

type smtplibMsg struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	File    string   `json:"file"`
	Options []string `json:"options,omitempty"`
}

// smtplibOut is its output: reply pairs are [code, text].
type smtplibOut struct {
	Features       []string        `json:"features"`
	FeaturesTLS    []string        `json:"features_tls"`
	StartTLS       []any           `json:"starttls"`
	PlainLogin     smtplibResult   `json:"plain_login"`
	PlainAuthDocmd []any           `json:"plain_auth_docmd"`
	Auth           json.RawMessage `json:"auth"`
	Results        []smtplibResult `json:"results"`
	Quit           []any           `json:"quit"`
}

type smtplibResult struct {
	OK         bool             `json:"ok"`
	Refused    map[string][]any `json:"refused"`
	Error      string           `json:"error"`
	Recipients map[string][]any `json:"recipients"`
	Reply      []any            `json:"reply"`
	Text       string           `json:"text"`
}

// replyText renders a [code, text] pair as "550 5.7.1 ...".
func replyText(r []any) string {
	if len(r) != 2 {
		return fmt.Sprint(r)
	}
	return fmt.Sprintf("%v %v", r[0], r[1])
}

func runSmtplib(t *testing.T, py string, spec smtplibSpec) smtplibOut {
	t.Helper()
	spec.Host = "127.0.0.1"
	js, _ := json.Marshal(spec)
	raw := mustPeer(t, "", py, filepath.Join("testdata", "interop", "smtp_client.py"), string(js))
	var out smtplibOut
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("smtplib output %q: %v", raw, err)
	}
	return out
}

func portNum(t *testing.T, addr string) int {
	n, err := strconv.Atoi(portOf(addr))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestInteropSmtplib sends the three messages through every port and
// security mode with smtplib, then checks the bytes in each Maildir.
func TestInteropSmtplib(t *testing.T) {
	py := interopProgram(t, "python3")
	l, ca := interopLab(t)
	files := map[string]string{
		"dot":  fixture(t, "dot.eml", dotMsg),
		"utf8": fixture(t, "utf8.eml", utf8Msg),
		"big":  fixture(t, "big.eml", bigMsg()),
	}
	sent := map[string]string{"dot": dotMsg, "utf8": utf8Msg, "big": bigMsg()}
	alice := &smtplibAuth{Mech: "PLAIN", User: "alice", Password: "wonderland"}

	cases := []struct {
		name, listener, tls string
		auth                *smtplibAuth
		from                string
		to                  []string
		boxes               []string // where the message must land
	}{
		{"mx plain", lab.ListenerSMTP, "none", nil, "carol@example.com", []string{"alice@postlab.test"}, []string{"alice"}},
		{"mx starttls", lab.ListenerSMTP, "starttls", nil, "carol@example.com", []string{"bob@postlab.test"}, []string{"bob"}},
		{"submission starttls plain", lab.ListenerSubmission, "starttls", alice, "alice@postlab.test", []string{"bob@postlab.test"}, []string{"bob"}},
		{"submission starttls login", lab.ListenerSubmission, "starttls", &smtplibAuth{"LOGIN", "bob", "builder"}, "bob@postlab.test", []string{"alice@postlab.test"}, []string{"alice"}},
		{"submission starttls cram-md5", lab.ListenerSubmission, "starttls", &smtplibAuth{"CRAM-MD5", "alice", "wonderland"}, "alice@postlab.test", []string{"bob@postlab.test"}, []string{"bob"}},
		{"submissions implicit tls", lab.ListenerSubmissions, "implicit", alice, "alice@postlab.test", []string{"bob@postlab.test"}, []string{"bob"}},
		{"submission outside address", lab.ListenerSubmission, "starttls", alice, "alice@postlab.test", []string{"carol@example.com"}, []string{lab.Outbox}},
		{"submissions local and outside", lab.ListenerSubmissions, "implicit", alice, "alice@postlab.test", []string{"bob@postlab.test", "dave@example.net"}, []string{"bob", lab.Outbox}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			watches := map[string]*boxWatch{}
			for _, b := range c.boxes {
				watches[b] = watchBox(t, l, b)
			}
			spec := smtplibSpec{Port: portNum(t, l.Addr(c.listener)), TLS: c.tls, CAFile: ca, Auth: c.auth}
			order := []string{"dot", "utf8", "big"}
			for _, k := range order {
				m := smtplibMsg{From: c.from, To: c.to, File: files[k]}
				if k == "utf8" {
					m.Options = []string{"SMTPUTF8", "BODY=8BITMIME"}
					if c.auth == nil {
						m.From = utf8From // an SMTPUTF8 (RFC 6531) sender
					}
				}
				spec.Messages = append(spec.Messages, m)
			}
			out := runSmtplib(t, py, spec)
			if c.auth != nil && !strings.HasPrefix(string(out.Auth), "[235,") {
				t.Fatalf("AUTH %s: %s", c.auth.Mech, out.Auth)
			}
			for _, kw := range []string{"8bitmime", "smtputf8", "pipelining", "size", "enhancedstatuscodes", "chunking"} {
				if !hasString(out.Features, kw) {
					t.Errorf("EHLO lacks %s: %v", kw, out.Features)
				}
			}
			for i, r := range out.Results {
				if !r.OK || len(r.Refused) != 0 {
					t.Fatalf("sendmail %s: %+v", order[i], r)
				}
			}
			for box, w := range watches {
				got := w.takeAll(t)
				if len(got) != len(order) {
					t.Fatalf("%s got %d messages, want %d", box, len(got), len(order))
				}
				for i, k := range order {
					trace := checkStored(t, box+" "+k, got[i], sent[k])
					if box == lab.Outbox && !strings.Contains(trace, "X-Postlab-Envelope-To: <"+c.to[len(c.to)-1]+">") {
						t.Errorf("outbox copy lacks the envelope: %q", trace)
					}
					wantWith := map[string]string{"none": "with ESMTP ", "starttls": "with ESMTPS ", "implicit": "with ESMTPS"}[c.tls]
					if k == "utf8" {
						wantWith = strings.Replace(wantWith, "ESMTP", "UTF8SMTP", 1)
					}
					if c.auth != nil {
						wantWith = strings.TrimSpace(wantWith) + "A "
					}
					if !strings.Contains(trace, wantWith) {
						t.Errorf("%s %s: Received lacks %q:\n%s", box, k, wantWith, trace)
					}
				}
			}
		})
	}

	t.Run("refusals", func(t *testing.T) {
		// MX: relaying and unknown users, seen through smtplib's exceptions.
		out := runSmtplib(t, py, smtplibSpec{Port: portNum(t, l.Addr(lab.ListenerSMTP)), TLS: "starttls", CAFile: ca, Messages: []smtplibMsg{
			{From: "carol@example.com", To: []string{"dave@example.net"}, File: files["dot"]},
			{From: "carol@example.com", To: []string{"nobody@postlab.test"}, File: files["dot"]},
			{From: "carol@example.com", To: []string{"nobody@postlab.test", "alice@postlab.test"}, File: files["dot"]},
		}})
		if len(out.Results) != 3 {
			t.Fatalf("results %+v", out.Results)
		}
		r := out.Results[0]
		if got := replyText(r.Recipients["dave@example.net"]); r.Error != "SMTPRecipientsRefused" || !strings.HasPrefix(got, "550 5.7.1 ") {
			t.Errorf("relay attempt: %s %q", r.Error, got)
		}
		r = out.Results[1]
		if got := replyText(r.Recipients["nobody@postlab.test"]); r.Error != "SMTPRecipientsRefused" || !strings.HasPrefix(got, "550 5.1.1 ") {
			t.Errorf("unknown user: %s %q", r.Error, got)
		}
		r = out.Results[2]
		if got := replyText(r.Refused["nobody@postlab.test"]); !r.OK || !strings.HasPrefix(got, "550 5.1.1 ") {
			t.Errorf("one good recipient of two: %+v", r)
		}

		// Submission before STARTTLS: no AUTH offered, AUTH refused, MAIL
		// needs AUTH.
		out = runSmtplib(t, py, smtplibSpec{Port: portNum(t, l.Addr(lab.ListenerSubmission)), TLS: "none", CAFile: ca,
			Auth: alice, ProbePlainAuth: true,
			Messages: []smtplibMsg{{From: "alice@postlab.test", To: []string{"bob@postlab.test"}, File: files["dot"]}}})
		if hasString(out.Features, "auth") || !hasString(out.Features, "starttls") {
			t.Errorf("submission EHLO before TLS: %v", out.Features)
		}
		if out.PlainLogin.Error != "SMTPNotSupportedError" {
			t.Errorf("smtplib login over plaintext: %+v", out.PlainLogin)
		}
		if got := replyText(out.PlainAuthDocmd); !strings.HasPrefix(got, "538 5.7.11 ") {
			t.Errorf("AUTH PLAIN over plaintext: %q", got)
		}
		if r := out.Results[0]; r.Error != "SMTPSenderRefused" || !strings.HasPrefix(replyText(r.Reply), "530 5.7.0 ") {
			t.Errorf("MAIL without AUTH: %+v", r)
		}

		// Wrong password under TLS.
		out = runSmtplib(t, py, smtplibSpec{Port: portNum(t, l.Addr(lab.ListenerSubmissions)), TLS: "implicit", CAFile: ca,
			Auth: &smtplibAuth{"LOGIN", "alice", "wrong"}})
		if !strings.Contains(string(out.Auth), `"SMTPAuthenticationError"`) || !strings.Contains(string(out.Auth), "535") {
			t.Errorf("wrong password: %s", out.Auth)
		}
	})
}

// popOut is the output of testdata/interop/pop_client.py.
type popOut struct {
	PlainUser string  `json:"plain_user"`
	Stat      []int64 `json:"stat"`
	UIDL      []string
	List      []string
	Octets    []int64
	Quit      string
}

// TestInteropPoplibRetrievesWhatSmtplibSent: what smtplib delivered comes
// back byte for byte through poplib, over STLS and over POP3S.
func TestInteropPoplibRetrievesWhatSmtplibSent(t *testing.T) {
	py := interopProgram(t, "python3")
	l, ca := interopLab(t)
	msgs := []string{dotMsg, utf8Msg, bigMsg()}
	spec := smtplibSpec{Port: portNum(t, l.Addr(lab.ListenerSMTP)), TLS: "starttls", CAFile: ca}
	for i, m := range msgs {
		sm := smtplibMsg{From: "carol@example.com", To: []string{"alice@postlab.test", "bob@postlab.test"}, File: fixture(t, fmt.Sprintf("%d.eml", i), m)}
		if m == utf8Msg {
			sm.From, sm.Options = utf8From, []string{"SMTPUTF8", "BODY=8BITMIME"}
		}
		spec.Messages = append(spec.Messages, sm)
	}
	out := runSmtplib(t, py, spec)
	for i, r := range out.Results {
		if !r.OK || len(r.Refused) != 0 {
			t.Fatalf("sendmail %d: %+v", i, r)
		}
	}

	for _, mode := range []struct{ user, pass, listener, mode string }{
		{"alice", "wonderland", lab.ListenerPOP3, "stls"},
		{"bob", "builder", lab.ListenerPOP3S, "ssl"},
	} {
		t.Run(mode.listener, func(t *testing.T) {
			// The stored files, oldest first, as POP3 numbers them.
			sums, err := l.Store().List(mode.user)
			if err != nil || len(sums) != len(msgs) {
				t.Fatalf("List(%s) = %d messages, %v", mode.user, len(sums), err)
			}
			stored := make([][]byte, len(sums))
			for i, s := range sums {
				if stored[i], err = l.Store().Raw(mode.user, s.ID); err != nil {
					t.Fatal(err)
				}
				checkStored(t, fmt.Sprintf("%s message %d", mode.user, i+1), stored[i], msgs[i])
			}

			dir := t.TempDir()
			raw := mustPeer(t, "", py, filepath.Join("testdata", "interop", "pop_client.py"),
				"127.0.0.1", portOf(l.Addr(mode.listener)), mode.mode, ca, mode.user, mode.pass, dir)
			var po popOut
			if err := json.Unmarshal([]byte(raw), &po); err != nil {
				t.Fatalf("poplib output %q: %v", raw, err)
			}
			if mode.mode == "stls" && !strings.HasPrefix(po.PlainUser, "b'-ERR") {
				t.Errorf("USER before STLS: %q", po.PlainUser)
			}
			var total int64
			for i, s := range stored {
				total += int64(len(s))
				if want := fmt.Sprintf("%d %s", i+1, sums[i].ID); i >= len(po.UIDL) || po.UIDL[i] != want {
					t.Errorf("UIDL %v, want %q", po.UIDL, want)
				}
				if want := fmt.Sprintf("%d %d", i+1, len(s)); i >= len(po.List) || po.List[i] != want {
					t.Errorf("LIST %v, want %q", po.List, want)
				}
				got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i+1)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, s) {
					t.Errorf("RETR %d: %d octets, stored %d, first difference at %d", i+1, len(got), len(s), firstDiff(got, s))
				}
			}
			if len(po.Stat) != 2 || po.Stat[0] != int64(len(msgs)) || po.Stat[1] != total {
				t.Errorf("STAT %v, want %d %d", po.Stat, len(msgs), total)
			}
			// RETR marked them seen: they are in cur/ now.
			sums, _ = l.Store().List(mode.user)
			for _, s := range sums {
				if !s.Seen {
					t.Errorf("%s not seen after RETR", s.ID)
				}
			}
		})
	}
}

// TestInteropCurl: curl as an SMTP client (smtp:// and smtps://, with and
// without --ssl-reqd) and as a POP3 client fetching what it sent.
func TestInteropCurl(t *testing.T) {
	curl := interopProgram(t, "curl")
	l, ca := interopLab(t)
	msgs := map[string]string{"dot": dotMsg, "utf8": utf8Msg, "big": bigMsg()}
	files := map[string]string{}
	for k, m := range msgs {
		files[k] = fixture(t, k+".eml", m)
	}
	smtpURL := "smtp://127.0.0.1:" + portOf(l.Addr(lab.ListenerSMTP))
	subURL := "smtp://127.0.0.1:" + portOf(l.Addr(lab.ListenerSubmission))
	subsURL := "smtps://127.0.0.1:" + portOf(l.Addr(lab.ListenerSubmissions))

	cases := []struct {
		name  string
		args  []string
		from  string
		to    []string
		boxes []string
		with  string // the Received "with" keyword
	}{
		{"mx plain", []string{smtpURL}, "carol@example.com", []string{"alice@postlab.test"}, []string{"alice"}, "ESMTP"},
		{"mx --ssl-reqd", []string{smtpURL, "--ssl-reqd", "--cacert", ca}, "carol@example.com", []string{"alice@postlab.test"}, []string{"alice"}, "ESMTPS"},
		{"submission --ssl-reqd", []string{subURL, "--ssl-reqd", "--cacert", ca, "--user", "alice:wonderland"}, "alice@postlab.test", []string{"bob@postlab.test"}, []string{"bob"}, "ESMTPSA"},
		{"submission --ssl-reqd LOGIN", []string{subURL, "--ssl-reqd", "--cacert", ca, "--user", "bob:builder", "--login-options", "AUTH=LOGIN"}, "bob@postlab.test", []string{"alice@postlab.test", "eve@example.org"}, []string{"alice", lab.Outbox}, "ESMTPSA"},
		{"smtps", []string{subsURL, "--cacert", ca, "--user", "alice:wonderland"}, "alice@postlab.test", []string{"bob@postlab.test"}, []string{"bob"}, "ESMTPSA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			watches := map[string]*boxWatch{}
			for _, b := range c.boxes {
				watches[b] = watchBox(t, l, b)
			}
			for _, k := range []string{"dot", "utf8", "big"} {
				args := append([]string{"-sS", "--mail-from", c.from}, c.args...)
				if k == "utf8" && !strings.Contains(c.with, "A") {
					args[2] = utf8From // curl announces SMTPUTF8 for it
				}
				for _, to := range c.to {
					args = append(args, "--mail-rcpt", to)
				}
				args = append(args, "--upload-file", files[k])
				mustPeer(t, "", curl, args...)
				for box, w := range watches {
					trace := checkStored(t, box+" "+k, w.take(t), msgs[k])
					with := c.with
					if k == "utf8" && args[2] == utf8From {
						with = strings.Replace(with, "ESMTP", "UTF8SMTP", 1)
					}
					if !strings.Contains(trace, " with "+with+" ") {
						t.Errorf("%s %s: Received lacks %q: %s", box, k, with, trace)
					}
				}
			}
		})
	}

	t.Run("refusals", func(t *testing.T) {
		w := watchBox(t, l, "bob")
		// Without --ssl-reqd on submission curl stays in plaintext, where no
		// AUTH is offered, so MAIL is refused and no password travels.
		r := runPeer(t, "", curl, "-sS", subURL, "--user", "alice:wonderland", "--mail-from", "alice@postlab.test",
			"--mail-rcpt", "bob@postlab.test", "--upload-file", files["dot"])
		if r.err == nil || !strings.Contains(r.stderr, "530") {
			t.Errorf("submission without TLS:\n%s", r)
		}
		// Forcing a mechanism cannot make curl send it unadvertised.
		r = runPeer(t, "", curl, "-sS", subURL, "--user", "alice:wonderland", "--login-options", "AUTH=PLAIN",
			"--mail-from", "alice@postlab.test", "--mail-rcpt", "bob@postlab.test", "--upload-file", files["dot"])
		if r.err == nil {
			t.Errorf("submission without TLS, AUTH=PLAIN:\n%s", r)
		}
		plain := plaintextLines(l, lab.ListenerSubmission)
		if !strings.Contains(strings.Join(plain, "\n"), "\nMAIL FROM:<alice@postlab.test>") {
			t.Errorf("trace lacks the plaintext sessions: %q", plain)
		}
		for _, line := range plain {
			if strings.HasPrefix(strings.ToUpper(line), "AUTH") {
				t.Errorf("a password went over plaintext: %q", line)
			}
		}
		// Relaying through the MX port.
		r = runPeer(t, "", curl, "-sS", smtpURL, "--mail-from", "carol@example.com",
			"--mail-rcpt", "dave@example.net", "--upload-file", files["dot"])
		if r.err == nil || !strings.Contains(r.stderr, "550") {
			t.Errorf("relay attempt:\n%s", r)
		}
		if got := w.takeAll(t); len(got) != 0 {
			t.Errorf("refused sessions delivered %d messages", len(got))
		}
	})

	// POP3: curl retrieves what it sent, byte for byte.
	sums, err := l.Store().List("alice")
	if err != nil || len(sums) == 0 {
		t.Fatalf("alice's mailbox: %d messages, %v", len(sums), err)
	}
	for _, p := range []struct{ name, url string }{
		{"pop3 --ssl-reqd", "pop3://127.0.0.1:" + portOf(l.Addr(lab.ListenerPOP3))},
		{"pop3s", "pop3s://127.0.0.1:" + portOf(l.Addr(lab.ListenerPOP3S))},
	} {
		t.Run(p.name, func(t *testing.T) {
			list := mustPeer(t, "", curl, "-sS", "--ssl-reqd", "--cacert", ca, "--user", "alice:wonderland", p.url+"/")
			if n := strings.Count(list, "\r\n"); n != len(sums) {
				t.Errorf("LIST has %d lines, want %d: %q", n, len(sums), list)
			}
			for i, s := range sums {
				want, err := l.Store().Raw("alice", s.ID)
				if err != nil {
					t.Fatal(err)
				}
				got := mustPeer(t, "", curl, "-sS", "--ssl-reqd", "--cacert", ca, "--user", "alice:wonderland", fmt.Sprintf("%s/%d", p.url, i+1))
				if got != string(want) {
					t.Errorf("RETR %d: %d octets, stored %d, first difference at %d", i+1, len(got), len(want), firstDiff([]byte(got), want))
				}
			}
		})
	}
	t.Run("pop3 without --ssl-reqd", func(t *testing.T) {
		// In plaintext USER/PASS and AUTH PLAIN are not offered; curl
		// falls back to APOP, which the lab refuses before STLS too, so
		// no message travels in clear.
		r := runPeer(t, "", curl, "-sS", "--user", "alice:wonderland", "pop3://127.0.0.1:"+portOf(l.Addr(lab.ListenerPOP3))+"/1")
		if r.err == nil || r.stdout != "" {
			t.Errorf("curl pop3:// without TLS was not refused: %s", r)
		}
		refused := false
		for _, ev := range l.Traces().Recent(0) {
			refused = refused || ev.Listener == lab.ListenerPOP3 && ev.Dir == explorer.ServerToClient &&
				strings.HasPrefix(ev.Line, "-ERR [AUTH] APOP is disabled on an unencrypted connection") && strings.HasSuffix(ev.Line, "use STLS first")
		}
		if !refused {
			t.Errorf("no APOP refusal in the trace:\n%s", strings.Join(plaintextLines(l, lab.ListenerPOP3), "\n"))
		}
		for _, line := range plaintextLines(l, lab.ListenerPOP3) {
			if strings.Contains(line, "wonderland") || strings.HasPrefix(line, "PASS ") && line != "PASS ****" {
				t.Errorf("password in the clear: %q", line)
			}
		}
	})
}

// TestInteropSwaks: swaks with STARTTLS and implicit TLS and each AUTH
// mechanism, on the MX port in plaintext and with STARTTLS, and refusals.
func TestInteropSwaks(t *testing.T) {
	swaks := interopProgram(t, "swaks")
	l, ca := interopLab(t)
	msgs := map[string]string{"dot": dotMsg, "utf8": utf8Msg, "big": bigMsg()}
	files := map[string]string{}
	for k, m := range msgs {
		// swaks ends DATA with "\r\n.\r\n" after the content, so the
		// content's own last CRLF is left off.
		files[k] = fixture(t, k+".eml", strings.TrimSuffix(m, "\r\n"))
	}
	sub := []string{"--server", "127.0.0.1", "--port", portOf(l.Addr(lab.ListenerSubmission))}
	subs := []string{"--server", "127.0.0.1", "--port", portOf(l.Addr(lab.ListenerSubmissions))}
	mx := []string{"--server", "127.0.0.1", "--port", portOf(l.Addr(lab.ListenerSMTP))}
	verify := []string{"--tls-verify", "--tls-ca-path", ca}
	auth := func(mech, user, pass string) []string {
		return []string{"--auth", mech, "--auth-user", user, "--auth-password", pass}
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name string
		args []string
		from string
		to   string
		box  string
		with string
	}{
		{"mx plain", mx, "carol@example.com", "alice@postlab.test", "alice", "ESMTP"},
		{"mx --tls", cat(mx, []string{"--tls"}, verify), "carol@example.com", "bob@postlab.test", "bob", "ESMTPS"},
		{"submission --tls PLAIN", cat(sub, []string{"--tls"}, verify, auth("PLAIN", "alice", "wonderland")), "alice@postlab.test", "bob@postlab.test", "bob", "ESMTPSA"},
		{"submission --tls LOGIN", cat(sub, []string{"--tls"}, verify, auth("LOGIN", "bob", "builder")), "bob@postlab.test", "alice@postlab.test", "alice", "ESMTPSA"},
		{"submission --tls CRAM-MD5", cat(sub, []string{"--tls"}, verify, auth("CRAM-MD5", "alice", "wonderland")), "alice@postlab.test", "bob@postlab.test", "bob", "ESMTPSA"},
		{"submissions --tls-on-connect PLAIN", cat(subs, []string{"--tls-on-connect"}, verify, auth("PLAIN", "bob", "builder")), "bob@postlab.test", "alice@postlab.test", "alice", "ESMTPSA"},
		{"submissions --tls-on-connect outside", cat(subs, []string{"--tls-on-connect"}, verify, auth("LOGIN", "alice", "wonderland")), "alice@postlab.test", "carol@example.com", lab.Outbox, "ESMTPSA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := watchBox(t, l, c.box)
			for _, k := range []string{"dot", "utf8", "big"} {
				args := cat(c.args, []string{"--from", c.from, "--to", c.to, "--data", "@" + files[k]})
				out := mustPeer(t, "", swaks, args...)
				if !strings.Contains(out, "<-  250 2.0.0 OK") && !strings.Contains(out, "<~  250 2.0.0 OK") {
					t.Errorf("swaks did not see the lab's 250:\n%.3000s", out)
				}
				trace := checkStored(t, c.box+" "+k, w.take(t), msgs[k])
				if !strings.Contains(trace, " with "+c.with+" ") {
					t.Errorf("Received lacks %q: %s", c.with, trace)
				}
			}
		})
	}
	t.Run("refusals", func(t *testing.T) {
		// AUTH is not offered before STARTTLS, so swaks will not send it.
		r := runPeer(t, "", swaks, cat(sub, auth("PLAIN", "alice", "wonderland"), []string{"--from", "alice@postlab.test", "--to", "bob@postlab.test"})...)
		if r.err == nil || !strings.Contains(r.stdout+r.stderr, "authentication") {
			t.Errorf("AUTH without TLS:\n%s", r)
		}
		// Relaying on the MX port.
		r = runPeer(t, "", swaks, cat(mx, []string{"--from", "carol@example.com", "--to", "dave@example.net"})...)
		if r.err == nil || !strings.Contains(r.stdout, "<** 550 5.7.1 ") {
			t.Errorf("relay attempt:\n%s", r)
		}
		// A wrong password.
		r = runPeer(t, "", swaks, cat(subs, []string{"--tls-on-connect"}, auth("CRAM-MD5", "alice", "guess"), []string{"--from", "alice@postlab.test", "--to", "bob@postlab.test"})...)
		if r.err == nil || !strings.Contains(r.stdout, "<~* 535 5.7.8 ") {
			t.Errorf("wrong password:\n%s", r)
		}
	})
}

// TestInteropOpenSSLStartTLS: a scripted dialogue through `openssl s_client
// -starttls smtp`, pipelined as s_client sends it, with a message the test
// dot-stuffs itself.
func TestInteropOpenSSLStartTLS(t *testing.T) {
	openssl := interopProgram(t, "openssl")
	l, ca := interopLab(t)
	w := watchBox(t, l, "bob")
	body := strings.ReplaceAll(dotMsg+"Grüße ✓\r\n", "\r\n", "\n")
	stuffed := strings.ReplaceAll("\n"+body, "\n.", "\n..")[1:]
	dialogue := "EHLO openssl.example\n" +
		"AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00wonderland")) + "\n" +
		"MAIL FROM:<alice@postlab.test> BODY=8BITMIME\nRCPT TO:<bob@postlab.test>\nDATA\n" +
		stuffed + ".\nQUIT\n"
	out := mustPeer(t, dialogue, openssl, "s_client", "-quiet", "-crlf", "-ign_eof", "-starttls", "smtp",
		"-connect", "127.0.0.1:"+portOf(l.Addr(lab.ListenerSubmission)), "-CAfile", ca, "-verify_return_error",
		"-verify_ip", "127.0.0.1", "-name", "openssl.example")
	for _, want := range []string{"250-AUTH PLAIN LOGIN", "235 ", "354 ", "250 2.0.0 OK", "221 "} {
		if !strings.Contains(out, want) {
			t.Errorf("s_client transcript lacks %q:\n%s", want, out)
		}
	}
	checkStored(t, "bob", w.take(t), strings.ReplaceAll(body, "\n", "\r\n"))
}

// TestInteropSwaksUTF8WithoutSMTPUTF8: swaks does not know SMTPUTF8 and
// sends a UTF-8 sender without the parameter. RFC 6531 §3.4 requires the
// parameter for a non-ASCII address, and §3.5 gives the refusal: 550 on
// MAIL (553 is for RCPT), with 5.6.7 (Non-ASCII addresses not permitted
// for that sender/recipient).
func TestInteropSwaksUTF8WithoutSMTPUTF8(t *testing.T) {
	swaks := interopProgram(t, "swaks")
	l, _ := interopLab(t)
	w := watchBox(t, l, "alice")
	r := runPeer(t, "", swaks, "--server", "127.0.0.1", "--port", portOf(l.Addr(lab.ListenerSMTP)),
		"--from", utf8From, "--to", "alice@postlab.test", "--data", "@"+fixture(t, "u.eml", "Subject: x\r\n\r\nx"))
	if r.err == nil || !strings.Contains(r.stdout, "<** 550 5.6.7 ") {
		t.Errorf("MAIL FROM:<%s> without SMTPUTF8 was not refused with 550 5.6.7:\n%s", utf8From, r)
	}
	if got := w.takeAll(t); len(got) != 0 {
		t.Errorf("delivered %d messages", len(got))
	}
}

// TestInteropSmtplibSyntaxReplies: what smtplib gets for base64 that does
// not decode (RFC 4954 §4: 501, with 5.5.2 from its §6) and for a malformed
// AUTH= MAIL parameter (RFC 4954 §5, RFC 5321 §4.2: 501 5.5.4).
func TestInteropSmtplibSyntaxReplies(t *testing.T) {
	py := interopProgram(t, "python3")
	l, ca := interopLab(t)
	js, _ := json.Marshal(map[string]any{"host": "127.0.0.1", "port": portNum(t, l.Addr(lab.ListenerSubmission)), "cafile": ca})
	raw := mustPeer(t, "", py, filepath.Join("testdata", "interop", "smtp_errors.py"), string(js))
	var out map[string][]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("smtp_errors.py output %q: %v", raw, err)
	}
	for key, want := range map[string]string{
		"auth_plain_ir":       "501 5.5.2 ",
		"auth_login":          "334 ",
		"auth_login_response": "501 5.5.2 ",
		"mail_auth_param":     "501 5.5.4 ",
		"rset":                "250 ",
		"quit":                "221 ",
	} {
		if got := replyText(out[key]); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q...", key, got, want)
		}
	}
}

// TestInteropSwaksFailedStartTLS: swaks --tls-optional goes on in clear
// after its handshake fails. A server that also went on (go-smtp writes
// "550 5.0.0 Handshake error") has swaks read that line as the reply to
// its MAIL and every later reply one command late; the lab closes the
// connection instead, so swaks stops at MAIL and nothing is delivered.
func TestInteropSwaksFailedStartTLS(t *testing.T) {
	swaks := interopProgram(t, "swaks")
	l, _ := interopLab(t)
	w := watchBox(t, l, "alice")
	l.SetScenario(lab.ScenarioTLSFail)
	r := runPeer(t, "", swaks, "--server", "127.0.0.1", "--port", portOf(l.Addr(lab.ListenerSMTP)), "--tls-optional",
		"--from", "carol@example.com", "--to", "alice@postlab.test")
	if !strings.Contains(r.stderr, "TLS startup failed") {
		t.Fatalf("the handshake did not fail:\n%s", r)
	}
	if strings.Contains(r.stdout, "5.0.0") || strings.Contains(r.stdout, "-> RCPT") {
		t.Errorf("the session went on after the failed handshake:\n%s", r)
	}
	if got := w.takeAll(t); len(got) != 0 {
		t.Errorf("delivered %d messages", len(got))
	}
}
