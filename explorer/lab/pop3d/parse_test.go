package pop3d

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Command
		err  error
	}{
		{"stat", Command{Name: "STAT"}, nil},
		{"LIST 1", Command{Name: "LIST", Arg: "1", Args: []string{"1"}}, nil},
		{"TOP 1 10", Command{Name: "TOP", Arg: "1 10", Args: []string{"1", "10"}}, nil},
		{"PASS a b  c", Command{Name: "PASS", Arg: "a b  c", Args: []string{"a", "b", "c"}}, nil},
		{"pass p\xc3\xa4ss", Command{Name: "PASS", Arg: "p\xc3\xa4ss", Args: []string{"p\xc3\xa4ss"}}, nil},
		{"", Command{}, ErrEmptyCommand},
		{" STAT", Command{}, ErrBadKeyword},
		{"ST4T", Command{}, ErrBadKeyword},
		{strings.Repeat("A", 17), Command{}, ErrBadKeyword},
		{"USER a\x00b", Command{}, ErrBadCharacter},
		{"NOOP\x7f", Command{}, ErrBadCharacter},
	} {
		got, err := ParseCommand(tc.line)
		if err != tc.err || got.Name != tc.want.Name || got.Arg != tc.want.Arg || strings.Join(got.Args, "|") != strings.Join(tc.want.Args, "|") {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "LIST 1", "TOP 1 2", "PASS a b", "AUTH PLAIN =", "", " ", "A\x00", "\xff\xfe", "USER alice@postlab.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseCommand(line)
		if err != nil {
			return
		}
		if c.Name == "" || len(c.Name) > maxKeyword || strings.ToUpper(c.Name) != c.Name {
			t.Fatalf("bad keyword %q from %q", c.Name, line)
		}
		if !strings.HasPrefix(strings.ToUpper(line), c.Name) {
			t.Fatalf("keyword %q not a prefix of %q", c.Name, line)
		}
		if len(c.Arg) >= len(line) {
			t.Fatalf("arg %q longer than line %q", c.Arg, line)
		}
	})
}

// FuzzSession feeds arbitrary client input to a whole session: it must
// neither panic nor hang, and every response line must end in CRLF and stay
// within RFC 2449's 512 octets.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"USER alice\r\nPASS wonderland\r\nLIST\r\nRETR 2\r\nTOP 2 1\r\nDELE 1\r\nRSET\r\nUIDL\r\nQUIT\r\n",
		"AUTH PLAIN\r\nAGFsaWNlAHdvbmRlcmxhbmQ=\r\nSTAT\r\n",
		"AUTH PLAIN\r\n*\r\nCAPA\r\nAPOP a b\r\n",
		"STLS\r\nUSER x\r\n",
		"\x00\xff\r\n\n\n" + strings.Repeat("x", 300) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	store := newMemStore()
	store.add("alice", "u1", msg1)
	store.add("alice", "u2", msg2)
	tcfg, _ := testCert(f)
	srv := NewServer(Config{Hostname: "h", Auth: store, Store: store, TLSConfig: tcfg, AllowInsecureAuth: true, AuthFailDelay: -1})
	f.Fuzz(func(t *testing.T, input []byte) {
		cs, cc := net.Pipe()
		sess := srv.newSession(cs)
		done := make(chan struct{})
		go func() { sess.serve(); close(done) }()
		go func() {
			cc.SetWriteDeadline(time.Now().Add(2 * time.Second))
			cc.Write(input)
			cc.Write([]byte("\r\nQUIT\r\n"))
		}()
		cc.SetReadDeadline(time.Now().Add(5 * time.Second))
		out, _ := io.ReadAll(cc)
		cc.Close()
		<-done
		for _, l := range bytes.SplitAfter(out, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			if !bytes.HasSuffix(l, []byte("\r\n")) {
				t.Fatalf("response line %q without CRLF", l)
			}
			if (bytes.HasPrefix(l, []byte("+OK")) || bytes.HasPrefix(l, []byte("-ERR"))) && len(l) > 512 {
				t.Fatalf("status line of %d octets", len(l))
			}
		}
		if store.isLocked("alice") {
			t.Fatal("maildrop left locked")
		}
	})
}
