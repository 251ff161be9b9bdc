package pop3d

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"postlab/explorer"
)

// Messages that catch wire bugs: a line starting with ".", 8-bit UTF-8, and
// 2 MB of content.
const interopDot = "From: a@postlab.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n"
const interopUTF8 = "From: a@postlab.test\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — ✓\r\n"

func interopBig() string {
	var b strings.Builder
	b.WriteString("From: a@postlab.test\r\nSubject: big\r\n\r\n")
	for i := 0; b.Len() < 2<<20; i++ {
		if i%100 == 0 {
			b.WriteString(".dot line\r\n")
		}
		b.WriteString(strings.Repeat("0123456789", 7) + "\r\n")
	}
	return b.String()
}

// interopServer starts a server with the three messages for alice and writes
// the CA certificate where outside clients can read it.
func interopServer(t *testing.T, mod func(*Config)) (*testServer, string, []string) {
	ts := startServer(t, mod)
	msgs := []string{interopDot, interopUTF8, interopBig()}
	for i, m := range msgs {
		ts.store.add("alice", "1700000000.M"+string(rune('1'+i))+"P1.mail", m)
	}
	der := ts.srv.cfg.TLSConfig.Certificates[0].Certificate[0]
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts, ca, msgs
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	out, err := toolOutput(stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\nstdout: %.2000s", name, args, err, out)
	}
	return out
}

// toolOutput runs a program and returns its stdout; the error carries stderr.
func toolOutput(stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v; stderr: %.2000s", err, errb.String())
	}
	return out.String(), nil
}

const poplibScript = `
import json, poplib, ssl, sys, hashlib
host, port, tlsport, cafile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
out = {}
p = poplib.POP3(host, port, timeout=30)
out["capa_before"] = sorted(p.capa().keys())
p.stls(ctx)
out["capa_after"] = sorted(p.capa().keys())
p.user("alice")
p.pass_("wonderland")
out["stat"] = list(p.stat())
out["list"] = [l.decode() for l in p.list()[1]]
out["uidl"] = [l.decode() for l in p.uidl()[1]]
msgs = []
for i in (1, 2, 3):
    resp, lines, octets = p.retr(i)
    msgs.append({"resp": resp.decode(), "octets": octets, "hex": (b"\r\n".join(lines) + b"\r\n").hex()})
out["retr"] = msgs
out["top"] = [l.decode() for l in p.top(1, 1)[1]]
out["dele"] = p.dele(1).decode()
try:
    p.retr(1)
except poplib.error_proto as e:
    out["retr_deleted"] = str(e)
out["quit"] = p.quit().decode()
s = poplib.POP3_SSL(host, tlsport, context=ctx, timeout=30)
s.apop("alice", "wonderland")
out["stat_after"] = list(s.stat())
s.quit()
print(json.dumps(out))
`

func TestInteropPythonPoplib(t *testing.T) {
	py := needProgram(t, "python3")
	ts, ca, msgs := interopServer(t, nil)
	raw := runTool(t, "", py, "-c", poplibScript, "127.0.0.1", port(ts.addr), port(ts.tlsAdr), ca)
	var out struct {
		CapaBefore []string `json:"capa_before"`
		CapaAfter  []string `json:"capa_after"`
		Stat       []int64
		List, Uidl []string
		Retr       []struct {
			Resp, Hex string
			Octets    int
		}
		Top         []string
		Dele        string
		RetrDeleted string `json:"retr_deleted"`
		Quit        string
		StatAfter   []int64 `json:"stat_after"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("poplib output %q: %v", raw, err)
	}
	if !contains(out.CapaBefore, "STLS") || contains(out.CapaBefore, "USER") || !contains(out.CapaAfter, "USER") || contains(out.CapaAfter, "STLS") {
		t.Fatalf("CAPA before %v after %v", out.CapaBefore, out.CapaAfter)
	}
	total := int64(len(msgs[0]) + len(msgs[1]) + len(msgs[2]))
	if len(out.Stat) != 2 || out.Stat[0] != 3 || out.Stat[1] != total {
		t.Fatalf("STAT %v, want 3 %d", out.Stat, total)
	}
	for i, m := range msgs {
		r := out.Retr[i]
		if r.Octets != len(m) || r.Hex != hexOf(m) {
			t.Errorf("message %d: poplib got %d octets (want %d), equal bytes: %v", i+1, r.Octets, len(m), r.Hex == hexOf(m))
		}
	}
	if strings.Join(out.Top, "|") != "From: a@postlab.test|Subject: dots||.leading dot" {
		t.Errorf("TOP %q", out.Top)
	}
	if !strings.Contains(out.RetrDeleted, "message 1 already deleted") || !strings.Contains(out.Quit, "2 messages left") {
		t.Errorf("DELE/QUIT: %q %q", out.RetrDeleted, out.Quit)
	}
	if len(out.StatAfter) != 2 || out.StatAfter[0] != 2 {
		t.Errorf("STAT over POP3S with APOP after DELE+QUIT: %v", out.StatAfter)
	}
}

func TestInteropCurl(t *testing.T) {
	curl := needProgram(t, "curl")
	ts, ca, msgs := interopServer(t, nil)
	base := "pop3://127.0.0.1:" + port(ts.addr)

	// STLS required: curl upgrades, then authenticates with SASL PLAIN.
	for i, m := range msgs {
		got := runTool(t, "", curl, "-sS", "--ssl-reqd", "--cacert", ca, "--user", "alice:wonderland", base+"/"+string(rune('1'+i)))
		if got != m {
			t.Errorf("curl --ssl-reqd RETR %d: %d octets, want %d (equal: %v)", i+1, len(got), len(m), got == m)
		}
	}
	list := runTool(t, "", curl, "-sS", "--ssl-reqd", "--cacert", ca, "--user", "alice:wonderland", base+"/")
	if !strings.HasPrefix(list, "1 "+strconv.Itoa(len(msgs[0]))+"\r\n2 ") {
		t.Errorf("curl LIST %q", list)
	}

	// Implicit TLS.
	got := runTool(t, "", curl, "-sS", "--cacert", ca, "--user", "alice:wonderland", "pop3s://127.0.0.1:"+port(ts.tlsAdr)+"/2")
	if got != msgs[1] {
		t.Errorf("curl pop3s RETR 2 %q", got)
	}

	// No TLS: USER and SASL PLAIN are not offered, so curl tries APOP,
	// which is refused before TLS too: nothing is retrieved in clear.
	if out, err := toolOutput("", curl, "-sS", "--user", "alice:wonderland", base+"/1"); err == nil || out != "" {
		t.Errorf("curl pop3:// without TLS: err %v, %d octets retrieved", err, len(out))
	}
	refused := false
	for _, ev := range ts.trace.events() {
		refused = refused || ev.Dir == explorer.ServerToClient && strings.HasPrefix(ev.Line, "-ERR [AUTH] APOP is disabled on an unencrypted connection")
	}
	if !refused {
		t.Error("curl without TLS: no APOP refusal in the trace")
	}

	// With --insecure-auth, curl may use SASL PLAIN in the clear.
	ts2, _, msgs2 := interopServer(t, insecure)
	got = runTool(t, "", curl, "-sS", "--login-options", "AUTH=PLAIN", "--user", "alice:wonderland", "pop3://127.0.0.1:"+port(ts2.addr)+"/3")
	if got != msgs2[2] {
		t.Errorf("curl AUTH=PLAIN RETR 3: %d octets", len(got))
	}
	// A curl DELE (custom request) followed by its QUIT deletes.
	runTool(t, "", curl, "-sS", "--user", "alice:wonderland", "-X", "DELE", "--request-target", "1", "-I", "pop3://127.0.0.1:"+port(ts2.addr)+"/1")
	waitFor(t, "delete", func() bool { return len(ts2.store.uids("alice")) == 2 })
}

func TestInteropOpenSSL(t *testing.T) {
	openssl := needProgram(t, "openssl")
	ts, ca, _ := interopServer(t, nil)
	out := runTool(t, "USER alice\nPASS wonderland\nSTAT\nQUIT\n", openssl, "s_client", "-quiet", "-crlf", "-ign_eof",
		"-starttls", "pop3", "-connect", "127.0.0.1:"+port(ts.addr), "-CAfile", ca, "-verify_return_error", "-verify_ip", "127.0.0.1")
	if !strings.Contains(out, "+OK alice's maildrop has 3 messages") || !strings.Contains(out, "+OK 3 ") || !strings.Contains(out, "signing off") {
		t.Fatalf("openssl s_client -starttls pop3:\n%s", out)
	}
	out = runTool(t, "CAPA\nQUIT\n", openssl, "s_client", "-quiet", "-crlf", "-ign_eof",
		"-connect", "127.0.0.1:"+port(ts.tlsAdr), "-CAfile", ca, "-verify_return_error")
	if !strings.Contains(out, "SASL PLAIN") || strings.Contains(out, "STLS") {
		t.Fatalf("openssl s_client POP3S CAPA:\n%s", out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }
