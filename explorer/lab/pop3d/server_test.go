package pop3d

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

func insecure(c *Config) { c.AllowInsecureAuth = true }

const msg1 = "From: a@x\r\nSubject: one\r\n\r\nhello\r\n"
const msg2 = "From: b@x\r\nSubject: two\r\n\r\nline 1\r\n.dot line\r\n..two dots\r\nline 4\r\n"

func withMail(ts *testServer) *testServer {
	ts.store.add("alice", "1700000000.M1P1.host", msg1)
	ts.store.add("alice", "1700000001.M2P1.host", msg2)
	return ts
}

func TestGreetingHasAPOPTimestamp(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	re := regexp.MustCompile(`^\+OK mail\.postlab\.test POP3 server ready <\d+\.\d+\.\d+@mail\.postlab\.test>$`)
	if !re.MatchString(c.greeting) {
		t.Fatalf("greeting %q", c.greeting)
	}
	c2 := dial(t, ts.addr)
	if c2.greeting == c.greeting {
		t.Fatal("two greetings share an APOP timestamp")
	}
	// Without a SecretAuthenticator there is no APOP and no timestamp.
	ts2 := startServer(t, func(c *Config) { c.Auth = plainOnly{c.Store.(*memStore)} })
	c3 := dial(t, ts2.addr)
	if strings.Contains(c3.greeting, "<") {
		t.Fatalf("greeting %q offers APOP without secrets", c3.greeting)
	}
	c3.expect("APOP alice 0123456789abcdef0123456789abcdef", "-ERR APOP not available")
}

func TestBasicSession(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	c.expect("USER alice", "+OK")
	if got := c.cmd("PASS wonderland"); got != "+OK alice's maildrop has 2 messages (100 octets)" {
		t.Fatalf("PASS: %q", got)
	}
	if got := c.cmd("STAT"); got != fmt.Sprintf("+OK 2 %d", len(msg1)+len(msg2)) {
		t.Fatalf("STAT: %q", got)
	}
	c.expect("LIST", "+OK 2 messages (100 octets)")
	if got := strings.Join(c.multi(), "|"); got != fmt.Sprintf("1 %d|2 %d", len(msg1), len(msg2)) {
		t.Fatalf("LIST: %q", got)
	}
	if got := c.cmd("LIST 2"); got != fmt.Sprintf("+OK 2 %d", len(msg2)) {
		t.Fatalf("LIST 2: %q", got)
	}
	c.expect("LIST 3", "-ERR no such message, only 2 messages in maildrop")
	c.expect("LIST x", "-ERR invalid message number")
	c.expect("LIST 0", "-ERR no such message")
	c.expect("LIST 1 2", "-ERR invalid command syntax")
	if got := c.cmd("RETR 1"); got != fmt.Sprintf("+OK %d octets", len(msg1)) {
		t.Fatalf("RETR: %q", got)
	}
	if got := string(c.rawMulti()); got != msg1 {
		t.Fatalf("RETR 1 body %q", got)
	}
	c.expect("NOOP", "+OK")
	if got := c.cmd("QUIT"); got != "+OK mail.postlab.test POP3 server signing off (2 messages left)" {
		t.Fatalf("QUIT: %q", got)
	}
	c.expectClosed()
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	if got := ts.store.seen; len(got) != 1 || got[0] != "1700000000.M1P1.host" {
		t.Fatalf("MarkSeen calls %v", got)
	}
	if len(ts.store.deletes) != 0 {
		t.Fatalf("deleted %v", ts.store.deletes)
	}
}

func TestByteStuffingAndExactSizes(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	ts.store.add("alice", "u3", "Subject: x\r\n\r\n.\r\nno final newline")
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("RETR 2", fmt.Sprintf("+OK %d octets", len(msg2)))
	raw := string(c.rawMulti())
	want := strings.ReplaceAll(msg2, "\r\n.", "\r\n..")
	if raw != want {
		t.Fatalf("stuffed body %q, want %q", raw, want)
	}
	// Un-stuffing gives back exactly the octets LIST announced.
	if unstuffed := strings.ReplaceAll(raw, "\r\n..", "\r\n."); len(unstuffed) != len(msg2) {
		t.Fatalf("unstuffed %d octets, LIST said %d", len(unstuffed), len(msg2))
	}
	c.expect("RETR 3", "+OK")
	if got := string(c.rawMulti()); got != "Subject: x\r\n\r\n..\r\nno final newline\r\n" {
		t.Fatalf("RETR 3 %q", got)
	}
}

func TestTop(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("TOP 2 0", "+OK")
	if got := strings.Join(c.multi(), "|"); got != "From: b@x|Subject: two|" {
		t.Fatalf("TOP 2 0: %q", got)
	}
	c.expect("TOP 2 2", "+OK")
	if got := strings.Join(c.multi(), "|"); got != "From: b@x|Subject: two||line 1|..dot line" {
		t.Fatalf("TOP 2 2: %q", got)
	}
	c.expect("TOP 2 99999999999", "+OK")
	if got := len(c.multi()); got != 7 {
		t.Fatalf("TOP 2 huge: %d lines", got)
	}
	c.expect("TOP 2 -1", "-ERR invalid number of lines")
	c.expect("TOP 2", "-ERR invalid command syntax")
	c.expect("TOP 9 1", "-ERR no such message")
	if len(ts.store.seen) != 0 {
		t.Fatal("TOP marked a message seen")
	}
}

func TestUidl(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("UIDL", "+OK")
	if got := strings.Join(c.multi(), "|"); got != "1 1700000000.M1P1.host|2 1700000001.M2P1.host" {
		t.Fatalf("UIDL: %q", got)
	}
	if got := c.cmd("UIDL 2"); got != "+OK 2 1700000001.M2P1.host" {
		t.Fatalf("UIDL 2: %q", got)
	}
	c.expect("DELE 1", "+OK message 1 deleted")
	c.expect("UIDL", "+OK")
	if got := strings.Join(c.multi(), "|"); got != "2 1700000001.M2P1.host" {
		t.Fatalf("UIDL after DELE: %q", got)
	}
	c.expect("UIDL 1", "-ERR message 1 already deleted")
}

func TestDeleteRulesUpdateState(t *testing.T) {
	ts := withMail(startServer(t, insecure))

	// DELE then a dropped connection: nothing is deleted.
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK message 1 deleted")
	c.expect("DELE 1", "-ERR message 1 already deleted")
	c.expect("RETR 1", "-ERR message 1 already deleted")
	c.expect("LIST 1", "-ERR message 1 already deleted")
	c.expect("TOP 1 0", "-ERR message 1 already deleted")
	c.expect("STAT", fmt.Sprintf("+OK 1 %d", len(msg2)))
	c.expect("LIST", "+OK 1 message")
	if got := strings.Join(c.multi(), "|"); got != fmt.Sprintf("2 %d", len(msg2)) {
		t.Fatalf("LIST after DELE %q", got)
	}
	c.conn.Close()
	waitFor(t, "unlock after drop", func() bool { return !ts.store.isLocked("alice") })
	if n := len(ts.store.uids("alice")); n != 2 || len(ts.store.deletes) != 0 {
		t.Fatalf("a dropped connection deleted messages: %d left, deletes %v", n, ts.store.deletes)
	}

	// DELE, RSET, QUIT: nothing deleted.
	c = dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 2", "+OK")
	c.expect("RSET", "+OK maildrop has 2 messages (100 octets)")
	c.expect("RETR 2", "+OK")
	c.rawMulti()
	c.expect("QUIT", "+OK mail.postlab.test POP3 server signing off (2 messages left)")
	c.expectClosed()
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	if len(ts.store.deletes) != 0 {
		t.Fatalf("RSET did not undelete: %v", ts.store.deletes)
	}

	// DELE then QUIT: deleted in UPDATE.
	c = dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "+OK mail.postlab.test POP3 server signing off (1 message left)")
	c.expectClosed()
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	if got := ts.store.uids("alice"); len(got) != 1 || got[0] != "1700000001.M2P1.host" {
		t.Fatalf("after QUIT: %v", got)
	}

	// Deleting everything empties the maildrop.
	c = dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "+OK mail.postlab.test POP3 server signing off (maildrop empty)")
	waitFor(t, "empty", func() bool { return len(ts.store.uids("alice")) == 0 })

	// QUIT in AUTHORIZATION never enters UPDATE.
	c = dial(t, ts.addr)
	c.expect("QUIT", "+OK mail.postlab.test POP3 server signing off")
	c.expectClosed()
}

func TestDeleteFailureReported(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	ts.store.deleteErr = fmt.Errorf("disk on fire")
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "-ERR [SYS/TEMP] some deleted messages not removed")
	c.expectClosed()
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
}

func TestInUse(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c1 := dial(t, ts.addr)
	c1.login("alice", "wonderland")
	c2 := dial(t, ts.addr)
	c2.expect("USER alice", "+OK")
	c2.expect("PASS wonderland", "-ERR [IN-USE] ")
	// Still in AUTHORIZATION: another user may log in on the same connection.
	c2.login("bob", "builder")
	c1.expect("QUIT", "+OK")
	c3 := dial(t, ts.addr)
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	c3.login("alice", "wonderland")
}

func TestLockErrors(t *testing.T) {
	ts := startServer(t, insecure)
	ts.store.lockErr = fmt.Errorf("permission denied")
	c := dial(t, ts.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS wonderland", "-ERR [SYS/TEMP] unable to open maildrop")
	ts.store.mu.Lock()
	ts.store.lockErr = &Error{Code: CodeLoginDelay, Msg: "wait 5 minutes between logins"}
	ts.store.mu.Unlock()
	c.expect("USER alice", "+OK")
	c.expect("PASS wonderland", "-ERR [LOGIN-DELAY] wait 5 minutes between logins")
}

func TestBadCredentials(t *testing.T) {
	delay := 50 * time.Millisecond
	ts := startServer(t, func(c *Config) { c.AllowInsecureAuth = true; c.AuthFailDelay = delay })
	c := dial(t, ts.addr)
	c.expect("PASS wonderland", "-ERR send USER first")
	c.expect("USER alice", "+OK")
	start := time.Now()
	c.expect("PASS wrong", "-ERR [AUTH] invalid user name or password")
	if time.Since(start) < delay {
		t.Fatalf("bad password answered before AuthFailDelay")
	}
	// After a failed PASS, USER must come again.
	c.expect("PASS wonderland", "-ERR send USER first")
	c.expect("USER nobody", "+OK") // existence is not revealed
	c.expect("PASS x", "-ERR [AUTH] invalid user name or password")
	c.expect("USER bob", "+OK")
	c.expect("PASS x", "-ERR [AUTH] invalid user name or password; too many errors, closing connection")
	c.expectClosed()
}

func TestUserNormalised(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	for _, name := range []string{"Alice", "alice@postlab.test", "ALICE@POSTLAB.TEST"} {
		c := dial(t, ts.addr)
		c.expect("USER "+name, "+OK")
		c.expect("PASS wonderland", "+OK alice's maildrop has 2 messages")
		c.expect("QUIT", "+OK")
		c.expectClosed()
		waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	}
	c := dial(t, ts.addr)
	c.expect("USER ../alice", "+OK")
	c.expect("PASS wonderland", "-ERR [AUTH]")
}

// Only the server's own domains (or a bare name) log in: alice@other.test
// is somebody else, for USER/PASS, APOP and AUTH PLAIN alike.
func TestUserOtherDomainRefused(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	for _, name := range []string{"alice@other.test", "alice@postlab.test.evil", "alice@"} {
		c := dial(t, ts.addr)
		c.expect("USER "+name, "+OK")
		c.expect("PASS wonderland", "-ERR [AUTH]")
		c.expect("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+name+"\x00wonderland")), "-ERR [AUTH]")
		c.expect("QUIT", "+OK")
	}
	if ts.store.isLocked("alice") {
		t.Errorf("alice's maildrop was opened")
	}
	c := dial(t, ts.addr)
	c.expect("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00alice@postlab.test.\x00wonderland")), "+OK")
}

func TestNormalizeUser(t *testing.T) {
	for in, want := range map[string]string{
		"alice": "alice", "Bob": "bob", "alice@postlab.test": "alice", " bob ": "bob",
		"": "", "..": "", "a/b": "", `a\b`: "", "@x": "", "a b": "", strings.Repeat("x", 65): "",
	} {
		got, ok := NormalizeUser(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeUser(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestPasswordWithSpaces(t *testing.T) {
	ts := startServer(t, insecure)
	ts.store.passwords["carol"] = "correct horse battery"
	c := dial(t, ts.addr)
	c.expect("USER carol", "+OK")
	c.expect("PASS correct horse battery", "+OK carol's maildrop has 0 messages (0 octets)")
}

func TestPlaintextRefusedBeforeTLS(t *testing.T) {
	ts := withMail(startServer(t, nil))
	c := dial(t, ts.addr)
	c.expect("CAPA", "+OK")
	capa := c.multi()
	for _, cp := range capa {
		if cp == "USER" || strings.HasPrefix(cp, "SASL") {
			t.Fatalf("CAPA offers %q before TLS", cp)
		}
	}
	c.expect("USER alice", "-ERR [AUTH] plaintext authentication is disabled")
	c.expect("PASS wonderland", "-ERR send USER first")
	c.expect("AUTH PLAIN "+plain("", "alice", "wonderland"), "-ERR [AUTH] plaintext authentication is disabled")
	c.expect("AUTH", "+OK")
	if got := c.multi(); len(got) != 0 {
		t.Fatalf("AUTH lists %v before TLS", got)
	}
	// APOP sends no password, but the mailbox would travel in clear: it is
	// refused too, and works after STLS with the greeting's timestamp.
	c.expect("APOP alice "+apopDigest(c.greeting, "wonderland"), "-ERR [AUTH] APOP is disabled on an unencrypted connection")
	c.expect("STLS", "+OK")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: ts.pool, ServerName: "mail.postlab.test"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.r.Reset(tc)
	c.expect("APOP alice "+apopDigest(c.greeting, "wonderland"), "+OK alice's maildrop has 2 messages")

	// --insecure-auth, a teaching switch, allows APOP in clear.
	ts2 := withMail(startServer(t, insecure))
	c2 := dial(t, ts2.addr)
	c2.expect("APOP alice "+apopDigest(c2.greeting, "wonderland"), "+OK alice's maildrop has 2 messages")
}

func TestCapa(t *testing.T) {
	ts := startServer(t, insecure)
	c := dial(t, ts.addr)
	c.expect("CAPA", "+OK Capability list follows")
	want := "TOP|UIDL|USER|SASL PLAIN|STLS|RESP-CODES|PIPELINING|EXPIRE NEVER|AUTH-RESP-CODE|IMPLEMENTATION postlab"
	if got := strings.Join(c.multi(), "|"); got != want {
		t.Fatalf("CAPA %q, want %q", got, want)
	}
	c.login("alice", "wonderland")
	c.expect("CAPA", "+OK")
	if got := strings.Join(c.multi(), "|"); strings.Contains(got, "STLS") {
		t.Fatalf("CAPA in TRANSACTION offers STLS: %q", got)
	}
	c.expect("CAPA x", "-ERR")

	// Without TLS configured there is no STLS.
	ts2 := startServer(t, func(c *Config) { c.TLSConfig = nil })
	c2 := dial(t, ts2.addr)
	c2.expect("CAPA", "+OK")
	if got := strings.Join(c2.multi(), "|"); strings.Contains(got, "STLS") {
		t.Fatalf("CAPA offers STLS without TLS config: %q", got)
	}
	c2.expect("STLS", "-ERR STLS not available")
}

func TestStls(t *testing.T) {
	ts := withMail(startServer(t, nil))
	c := dial(t, ts.addr)
	c.expect("STLS", "+OK Begin TLS negotiation")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: ts.pool, ServerName: "mail.postlab.test"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.r.Reset(tc)
	c.expect("CAPA", "+OK")
	capa := strings.Join(c.multi(), "|")
	if strings.Contains(capa, "STLS") || !strings.Contains(capa, "USER") || !strings.Contains(capa, "SASL PLAIN") {
		t.Fatalf("CAPA after STLS: %q", capa)
	}
	c.expect("STLS", "-ERR command not permitted when TLS active")
	c.login("alice", "wonderland")
	c.expect("STAT", "+OK 2 100")

	// The trace marks the session TLS from the handshake on.
	waitFor(t, "trace", func() bool {
		for _, ev := range ts.trace.events() {
			if ev.Dir == explorer.ClientToServer && ev.Line == "STAT" {
				return ev.TLS && ev.State.TLS && ev.State.Phase == explorer.PhaseTrans
			}
		}
		return false
	})
}

func TestStlsInjectionRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	// A command pipelined behind STLS in plaintext must not be executed.
	c.send("STLS\r\nUSER alice")
	if got := c.line(); got != "+OK Begin TLS negotiation" {
		t.Fatalf("STLS: %q", got)
	}
	c.expectClosed()
}

func TestImplicitTLS(t *testing.T) {
	ts := withMail(startServer(t, nil))
	c := dialTLS(t, ts)
	if !strings.HasPrefix(c.greeting, "+OK") {
		t.Fatalf("greeting %q", c.greeting)
	}
	c.expect("CAPA", "+OK")
	if capa := strings.Join(c.multi(), "|"); strings.Contains(capa, "STLS") || !strings.Contains(capa, "USER") {
		t.Fatalf("POP3S CAPA %q", capa)
	}
	c.expect("STLS", "-ERR command not permitted when TLS active")
	c.expect("AUTH PLAIN "+plain("", "alice", "wonderland"), "+OK")
	c.expect("STAT", "+OK 2 100")
	var greet explorer.Event
	for _, ev := range ts.trace.events() {
		if ev.Dir == explorer.ServerToClient {
			greet = ev
			break
		}
	}
	if !greet.TLS || greet.State.Phase != explorer.PhaseAuthz {
		t.Fatalf("POP3S greeting event %+v", greet)
	}
}

func plain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

func apopDigest(greeting, secret string) string {
	ts := greeting[strings.Index(greeting, "<"):]
	sum := md5.Sum([]byte(ts + secret))
	return hex.EncodeToString(sum[:])
}

func TestApop(t *testing.T) {
	ts := withMail(startServer(t, nil))
	c := dialTLS(t, ts)
	c.expect("APOP alice "+apopDigest(c.greeting, "builder"), "-ERR [AUTH] permission denied")
	c.expect("APOP alice", "-ERR usage: APOP name digest")
	c.expect("APOP Alice@postlab.test "+strings.ToUpper(apopDigest(c.greeting, "wonderland")), "+OK alice's maildrop has 2 messages (100 octets)")
	c.expect("APOP alice x", "-ERR already authenticated")
	// The digest of one greeting does not work with another (replay).
	c2 := dialTLS(t, ts)
	c2.expect("APOP bob "+apopDigest(c.greeting, "builder"), "-ERR [AUTH]")
	c2.expect("APOP bob "+apopDigest(c2.greeting, "builder"), "+OK")
}

func TestAuthPlain(t *testing.T) {
	ts := withMail(startServer(t, insecure))

	c := dial(t, ts.addr)
	c.expect("AUTH", "+OK")
	if got := strings.Join(c.multi(), "|"); got != "PLAIN" {
		t.Fatalf("AUTH list %q", got)
	}
	c.expect("AUTH CRAM-MD5", "-ERR unsupported authentication mechanism")
	c.expect("AUTH PLAIN "+plain("", "alice", "nope"), "-ERR [AUTH]")
	c.expect("AUTH PLAIN "+plain("bob", "alice", "wonderland"), "-ERR [AUTH]")
	c2 := dial(t, ts.addr)
	c2.expect("AUTH plain "+plain("alice", "alice", "wonderland"), "+OK alice's maildrop has 2 messages")
	c2.expect("QUIT", "+OK")

	// Continuation form, cancel with "*", bad base64, then success.
	c3 := dial(t, ts.addr)
	if got := c3.cmd("AUTH PLAIN"); got != "+ " {
		t.Fatalf("AUTH PLAIN continuation %q", got)
	}
	c3.expect("*", "-ERR authentication cancelled")
	c3.expect("AUTH PLAIN", "+ ")
	c3.expect("!!!", "-ERR invalid base64")
	c3.expect("AUTH PLAIN =", "-ERR [AUTH] malformed PLAIN response")
	c3.expect("AUTH PLAIN", "+ ")
	c3.expect(plain("", "alice@postlab.test", "wonderland"), "+OK alice's maildrop")
	c3.expect("STAT", "+OK 2 100")

	// The trace shows the mechanism and masks the credentials.
	waitFor(t, "trace", func() bool {
		var sawCont, sawIR bool
		for _, ev := range ts.trace.events() {
			if strings.Contains(ev.Line, plain("", "alice@postlab.test", "wonderland")) || strings.Contains(ev.Line, plain("alice", "alice", "wonderland")) {
				t.Fatalf("credentials in trace: %q", ev.Line)
			}
			if ev.Dir == explorer.ClientToServer && ev.Line == "****" && ev.State.Phase == explorer.PhaseAuth && ev.State.AuthMech == "PLAIN" {
				sawCont = true
			}
			if ev.Line == "AUTH plain ****" {
				sawIR = true
			}
		}
		return sawCont && sawIR
	})
}

func TestStateErrors(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	for _, cmd := range []string{"STAT", "LIST", "UIDL", "RETR 1", "DELE 1", "RSET", "TOP 1 1", "NOOP"} {
		c.expect(cmd, "-ERR not authenticated")
	}
	c = dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("USER bob", "-ERR already authenticated")
	c.expect("PASS x", "-ERR")
	c.expect("AUTH PLAIN", "-ERR already authenticated")
	c.expect("STLS", "-ERR command not valid in this state")
	c.expect("STAT extra", "-ERR invalid command syntax")
	c.expect("RETR", "-ERR invalid command syntax")
	c.expect("DELE", "-ERR invalid command syntax")
	c.expect("RSET x", "-ERR invalid command syntax")
	c.expect("NOOP x", "-ERR invalid command syntax")
	c.expect("USER", "-ERR")
}

func TestUnknownAndLongLinesThenDrop(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.expect("EHLO example", "-ERR unknown command EHLO")
	c.expect("STARTTLS", "-ERR unknown command STARTTLS")
	c.expect("12 34", "-ERR invalid command syntax")
	c.expect("", "-ERR invalid command syntax")
	c.expect("NOOP"+strings.Repeat(" x", 200), "-ERR line too long")
	// The session still works after a long line.
	c.expect("CAPA", "+OK")
	c.multi()
	for i := 0; i < 4; i++ {
		c.expect("BOGUS", "-ERR unknown command BOGUS")
	}
	c.expect("BOGUS", "-ERR unknown command BOGUS; too many errors, closing connection")
	c.expectClosed()
}

func TestPipelining(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	c.send("USER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nRETR 1\r\nUIDL 2\r\nDELE 2\r\nSTAT\r\nQUIT")
	for _, want := range []string{"+OK send PASS", "+OK alice's maildrop has 2 messages (100 octets)", "+OK 2 100", "+OK 2 messages"} {
		if got := c.line(); !strings.HasPrefix(got, want) {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	if n := len(c.multi()); n != 2 {
		t.Fatalf("LIST %d lines", n)
	}
	c.line()
	if got := string(c.rawMulti()); got != msg1 {
		t.Fatalf("RETR %q", got)
	}
	for _, want := range []string{"+OK 2 1700000001.M2P1.host", "+OK message 2 deleted", fmt.Sprintf("+OK 1 %d", len(msg1)), "+OK mail.postlab.test POP3 server signing off (1 message left)"} {
		if got := c.line(); got != want {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	c.expectClosed()
}

func TestIdleTimeout(t *testing.T) {
	ts := withMail(startServer(t, func(c *Config) { c.AllowInsecureAuth = true; c.IdleTimeout = 100 * time.Millisecond }))
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	// RFC 1939 §3: no response, no UPDATE.
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(c.r)
	if err != nil || len(rest) != 0 {
		t.Fatalf("after idle timeout got %q, %v", rest, err)
	}
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	if len(ts.store.uids("alice")) != 2 {
		t.Fatal("idle timeout deleted messages")
	}
	found := false
	for _, ev := range ts.trace.events() {
		found = found || ev.Dir == explorer.Local && strings.Contains(ev.Line, "idle")
	}
	if !found {
		t.Fatal("no idle note in the trace")
	}
}

// An idle session (waiting for a command) is told why at once and closed
// without UPDATE: RFC 1939 §6 applies deletions only after QUIT. Shutdown
// does not wait for its grace.
func TestShutdownTellsIdleSessions(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(ctx) }()
	if got := c.line(); got != "-ERR [SYS/TEMP] server shutting down" {
		t.Fatalf("idle session got %q", got)
	}
	c.expectClosed()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Shutdown waits for an idle session")
	}
	if ts.store.isLocked("alice") || len(ts.store.uids("alice")) != 2 {
		t.Fatal("shutdown left a lock or applied a deletion without QUIT")
	}
	found := false
	for _, ev := range ts.trace.events() {
		found = found || ev.Dir == explorer.ServerToClient && ev.Line == "-ERR [SYS/TEMP] server shutting down"
	}
	if !found {
		t.Error("the trace lacks the shutdown response")
	}
}

// A response being sent when the shutdown starts is finished first; then
// the session is told and closed like an idle one.
func TestShutdownFinishesResponse(t *testing.T) {
	ts := startServer(t, insecure)
	body := bigBody(bigSize)
	ts.store.add("alice", "small", msg1)
	ts.store.add("alice", "big", body)
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	c.expect("RETR 2", "+OK") // the body is still being sent
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(ctx) }()
	waitFor(t, "listener closed", func() bool {
		_, err := dialRaw(ts.addr)
		return err != nil
	})
	if got := c.rawMulti(); string(got) != body {
		t.Fatalf("RETR body cut: %d of %d octets", len(got), len(body))
	}
	if got := c.line(); got != "-ERR [SYS/TEMP] server shutting down" {
		t.Fatalf("after the response: %q", got)
	}
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(ts.store.uids("alice")) != 2 {
		t.Fatal("shutdown applied a deletion without QUIT")
	}
}

// bigSize is more than the socket buffers of a loopback connection hold.
const bigSize = 32 << 20

func bigBody(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(strings.Repeat("y", 1022) + "\r\n")
	}
	return b.String()
}

// A session still sending when the grace ends is cut: Shutdown says how
// many, releases the lock and deletes nothing.
func TestShutdownCutsBusySessions(t *testing.T) {
	ts := startServer(t, insecure)
	ts.store.add("alice", "small", msg1)
	ts.store.add("alice", "big", bigBody(bigSize))
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("DELE 1", "+OK")
	c.expect("RETR 2", "+OK") // and read no more: the server blocks writing
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ts.srv.Shutdown(ctx)
	var cut *CutShortError
	if !errors.As(err, &cut) || cut.Sessions != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v, want 1 session cut short by context.Canceled", err)
	}
	// Shutdown returns after the maildrop is unlocked, nothing deleted.
	if ts.store.isLocked("alice") || len(ts.store.uids("alice")) != 2 {
		t.Fatal("cut-off session left a lock or deleted mail")
	}
}

func TestTraceSummarisesContent(t *testing.T) {
	ts := startServer(t, insecure)
	var b strings.Builder
	for b.Len() < 2<<20 {
		b.WriteString(strings.Repeat("x", 1022) + "\r\n")
	}
	body := b.String()
	ts.store.add("alice", "big", body)
	c := dial(t, ts.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS wonderland", "+OK")
	c.expect("RETR 1", "+OK 2097152 octets")
	if got := c.rawMulti(); string(got) != body {
		t.Fatalf("2 MB body differs (%d octets)", len(got))
	}
	c.expect("QUIT", "+OK")
	c.expectClosed()
	waitFor(t, "closed", func() bool {
		evs := ts.trace.events()
		return len(evs) > 0 && evs[len(evs)-1].State.Phase == explorer.PhaseClosed
	})
	evs := ts.trace.events()
	if len(evs) > 30 {
		t.Fatalf("%d trace events for one 2 MB RETR", len(evs))
	}
	var sawNote, sawMasked bool
	for _, ev := range evs {
		if ev.Dir == explorer.Local && strings.Contains(ev.Line, "2048 lines, 2097152 octets") {
			sawNote = true
		}
		if strings.Contains(ev.Line, "wonderland") {
			t.Fatalf("password in trace: %q", ev.Line)
		}
		sawMasked = sawMasked || ev.Line == "PASS ****" && ev.Dir == explorer.ClientToServer && ev.State.Command == "PASS"
		if ev.State.Proto != explorer.POP3 {
			t.Fatalf("event without POP3 proto: %+v", ev)
		}
	}
	if !sawNote || !sawMasked {
		t.Fatalf("note %v, masked %v in %+v", sawNote, sawMasked, evs)
	}
	// Phases follow RFC 1939: the QUIT reply is in UPDATE.
	for _, ev := range evs {
		if ev.Dir == explorer.ServerToClient && strings.HasPrefix(ev.Line, "+OK mail.postlab.test POP3 server signing off") && ev.State.Phase != explorer.PhaseUpdate {
			t.Fatalf("QUIT reply phase %q", ev.State.Phase)
		}
	}
}

func TestSlowReaderDropped(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AllowInsecureAuth = true; c.IdleTimeout = 100 * time.Millisecond })
	ts.store.add("alice", "big", strings.Repeat(strings.Repeat("y", 98)+"\r\n", 40000)) // 4 MB
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	// Ask for 40 MB and never read: the write deadline must free the lock.
	c.send(strings.Repeat("RETR 1\r\n", 10) + "QUIT")
	waitFor(t, "unlock of a stalled session", func() bool { return !ts.store.isLocked("alice") })
	if len(ts.store.deletes) != 0 {
		t.Fatal("stalled session deleted mail")
	}
}

type panicStore struct{ *memStore }

func (p panicStore) Lock(user string) (Maildrop, error) { panic("backend bug") }

func TestBackendPanicEndsSessionOnly(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AllowInsecureAuth = true; c.Store = panicStore{c.Store.(*memStore)} })
	c := dial(t, ts.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS wonderland", "-ERR [SYS/TEMP] internal server error")
	c.expectClosed()
	dial(t, ts.addr).expect("NOOP", "-ERR not authenticated")
}

func TestInvalidUIDNoted(t *testing.T) {
	ts := startServer(t, insecure)
	ts.store.add("alice", "has space", msg1)
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	waitFor(t, "note", func() bool {
		for _, ev := range ts.trace.events() {
			if ev.Err && strings.Contains(ev.Line, `"has space"`) {
				return true
			}
		}
		return false
	})
}

func TestMessageReadErrors(t *testing.T) {
	ts := withMail(startServer(t, insecure))
	ts.store.openErr = fmt.Errorf("file vanished")
	c := dial(t, ts.addr)
	c.login("alice", "wonderland")
	c.expect("RETR 1", "-ERR [SYS/TEMP] unable to read message 1")
	c.expect("TOP 2 0", "-ERR [SYS/TEMP] unable to read message 2")
	ts.store.mu.Lock()
	ts.store.openErr, ts.store.readErr = nil, fmt.Errorf("I/O error")
	ts.store.mu.Unlock()
	// Once +OK is out the response cannot turn into -ERR: the server drops
	// the connection, and the client sees no terminating ".".
	c.expect("RETR 1", "+OK")
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, _ := io.ReadAll(c.r)
	if string(rest) != msg1[:10] {
		t.Fatalf("after a read error the client got %q", rest)
	}
	waitFor(t, "unlock", func() bool { return !ts.store.isLocked("alice") })
	if len(ts.store.seen) != 0 {
		t.Fatal("a message that failed to send was marked seen")
	}
}

func TestServeAfterShutdown(t *testing.T) {
	srv := NewServer(Config{})
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); err != ErrServerClosed {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Fatal("listener still open")
	}
}

func TestNoStore(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AllowInsecureAuth = true; c.Store = nil })
	c := dial(t, ts.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS wonderland", "-ERR [SYS/PERM]")
}
