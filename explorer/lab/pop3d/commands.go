package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"postlab/explorer"
)

// Which RFC 1939 states a command is valid in.
type states uint8

const (
	inAuthz states = 1 << iota
	inTrans
	inBoth = inAuthz | inTrans
)

type handler struct {
	valid states
	fn    func(*session, Command) error
}

// handlers has one entry per command; each handler writes its positive
// response itself and returns an *Error for a negative one.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CAPA": {inBoth, (*session).handleCapa},
		"QUIT": {inBoth, (*session).handleQuit},
		"NOOP": {inTrans, (*session).handleNoop},
		"STLS": {inAuthz, (*session).handleStls},
		"USER": {inAuthz, (*session).handleUser},
		"PASS": {inAuthz, (*session).handlePass},
		"APOP": {inAuthz, (*session).handleApop},
		"AUTH": {inAuthz, (*session).handleAuth},
		"STAT": {inTrans, (*session).handleStat},
		"LIST": {inTrans, (*session).handleList},
		"UIDL": {inTrans, (*session).handleUidl},
		"TOP":  {inTrans, (*session).handleTop},
		"RETR": {inTrans, (*session).handleRetr},
		"DELE": {inTrans, (*session).handleDele},
		"RSET": {inTrans, (*session).handleRset},
	}
}

func (s *session) dispatch(c Command) (err error) {
	defer func() {
		// A panicking backend ends this session, not the server.
		if v := recover(); v != nil {
			s.note(true, fmt.Sprintf("internal error in %s: %v", c.Name, v))
			s.replyError(&Error{Code: CodeSysTemp, Msg: "internal server error"})
			err = errStopSession
		}
	}()
	pending := s.userPending
	s.userPending = false
	h, ok := handlers[c.Name]
	if !ok {
		return s.bad(&Error{Msg: "unknown command " + c.Name})
	}
	if s.drop == nil && h.valid&inAuthz == 0 {
		return s.bad(errNeedAuth)
	}
	if s.drop != nil && h.valid&inTrans == 0 {
		if c.Name == "STLS" {
			return s.bad(errWrongState)
		}
		return s.bad(errAuthed)
	}
	if c.Name == "PASS" && !pending {
		// RFC 1939 §7: PASS may only be given right after a successful USER.
		return s.bad(&Error{Msg: "send USER first"})
	}
	return h.fn(s, c)
}

func (s *session) handleCapa(c Command) error {
	if len(c.Args) != 0 {
		return s.bad(errSyntax)
	}
	if err := s.ok("Capability list follows"); err != nil {
		return err
	}
	// RFC 2449 §6. USER and SASL PLAIN are plaintext password methods, so
	// they are offered only where they would be accepted (RFC 2595 §2.2).
	caps := []string{"TOP", "UIDL"}
	if s.srv.authAllowed(s.tls) {
		caps = append(caps, "USER", "SASL PLAIN")
	}
	if !s.tls && s.srv.cfg.TLSConfig != nil && s.drop == nil {
		caps = append(caps, "STLS")
	}
	caps = append(caps, "RESP-CODES", "PIPELINING", "EXPIRE NEVER", "AUTH-RESP-CODE", "IMPLEMENTATION postlab")
	for _, cp := range caps {
		if err := s.writeLine(cp, true); err != nil {
			return err
		}
	}
	return s.endMulti()
}

func (s *session) handleNoop(c Command) error {
	if len(c.Args) != 0 {
		return s.bad(errSyntax)
	}
	return s.ok("")
}

func (s *session) handleQuit(Command) error {
	if s.drop == nil {
		s.ok(s.srv.cfg.Hostname + " POP3 server signing off")
		return errStopSession
	}
	// RFC 1939 §6: QUIT in TRANSACTION enters UPDATE, the only place
	// where messages are removed.
	s.phase = explorer.PhaseUpdate
	var uids []string
	for i, m := range s.msgs {
		if s.deleted[i] {
			uids = append(uids, m.UID)
		}
	}
	if len(uids) > 0 {
		if err := s.drop.Delete(uids); err != nil {
			s.note(true, "deleting messages failed: "+err.Error())
			s.drop.Unlock()
			s.drop = nil
			s.replyError(&Error{Code: CodeSysTemp, Msg: "some deleted messages not removed"})
			return errStopSession
		}
	}
	left := len(s.msgs) - len(uids)
	s.drop.Unlock()
	s.drop = nil
	if left == 0 {
		s.ok(s.srv.cfg.Hostname + " POP3 server signing off (maildrop empty)")
	} else {
		s.ok(fmt.Sprintf("%s POP3 server signing off (%s left)", s.srv.cfg.Hostname, messages(left)))
	}
	return errStopSession
}

// stat counts the messages not marked as deleted and their octets.
func (s *session) stat() (n int, size int64) {
	for i, m := range s.msgs {
		if !s.deleted[i] {
			n++
			size += m.Size
		}
	}
	return n, size
}

func (s *session) countDeleted() int {
	n := 0
	for _, d := range s.deleted {
		if d {
			n++
		}
	}
	return n
}

func (s *session) handleStat(c Command) error {
	if len(c.Args) != 0 {
		return s.bad(errSyntax)
	}
	n, size := s.stat()
	return s.ok(fmt.Sprintf("%d %d", n, size))
}

// msgNumber parses a message-number argument (RFC 1939 §5) and returns its
// index; messages marked as deleted do not exist for any command.
func (s *session) msgNumber(arg string) (int, error) {
	if arg == "" || len(arg) > 9 {
		return 0, s.bad(errBadMsgNumber)
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] < '0' || arg[i] > '9' {
			return 0, s.bad(errBadMsgNumber)
		}
	}
	n, _ := strconv.Atoi(arg)
	if n < 1 || n > len(s.msgs) {
		return 0, &Error{Msg: fmt.Sprintf("no such message, only %s in maildrop", messages(len(s.msgs)))}
	}
	if s.deleted[n-1] {
		return 0, &Error{Msg: fmt.Sprintf("message %d already deleted", n)}
	}
	return n - 1, nil
}

func (s *session) handleList(c Command) error {
	return s.listing(c, func(i int) string { return strconv.FormatInt(s.msgs[i].Size, 10) })
}

func (s *session) handleUidl(c Command) error {
	return s.listing(c, func(i int) string { return s.msgs[i].UID })
}

// listing answers LIST and UIDL, which differ only in the value per message.
func (s *session) listing(c Command, value func(i int) string) error {
	switch len(c.Args) {
	case 0:
		n, size := s.stat()
		head := "unique-id listing follows"
		if c.Name == "LIST" {
			head = fmt.Sprintf("%s (%d octets)", messages(n), size)
		}
		if err := s.ok(head); err != nil {
			return err
		}
		for i := range s.msgs {
			if s.deleted[i] {
				continue
			}
			if err := s.writeLine(strconv.Itoa(i+1)+" "+value(i), true); err != nil {
				return err
			}
		}
		return s.endMulti()
	case 1:
		i, err := s.msgNumber(c.Args[0])
		if err != nil {
			return err
		}
		return s.ok(strconv.Itoa(i+1) + " " + value(i))
	default:
		return s.bad(errSyntax)
	}
}

func (s *session) handleDele(c Command) error {
	if len(c.Args) != 1 {
		return s.bad(errSyntax)
	}
	i, err := s.msgNumber(c.Args[0])
	if err != nil {
		return err
	}
	s.deleted[i] = true
	return s.ok(fmt.Sprintf("message %d deleted", i+1))
}

func (s *session) handleRset(c Command) error {
	if len(c.Args) != 0 {
		return s.bad(errSyntax)
	}
	clear(s.deleted)
	n, size := s.stat()
	return s.ok(fmt.Sprintf("maildrop has %s (%d octets)", messages(n), size))
}

func (s *session) handleRetr(c Command) error {
	if len(c.Args) != 1 {
		return s.bad(errSyntax)
	}
	i, err := s.msgNumber(c.Args[0])
	if err != nil {
		return err
	}
	m := s.msgs[i]
	if err := s.sendMessage(i, fmt.Sprintf("%d octets", m.Size), -1); err != nil {
		return err
	}
	if err := s.drop.MarkSeen(m.UID); err != nil {
		s.note(true, "marking message as seen failed: "+err.Error())
	}
	return nil
}

func (s *session) handleTop(c Command) error {
	if len(c.Args) != 2 {
		return s.bad(errSyntax)
	}
	i, err := s.msgNumber(c.Args[0])
	if err != nil {
		return err
	}
	k, kerr := strconv.ParseUint(c.Args[1], 10, 31)
	if kerr != nil && !errors.Is(kerr, strconv.ErrRange) {
		return s.bad(&Error{Msg: "invalid number of lines"})
	}
	if kerr != nil {
		k = 1<<31 - 1
	}
	return s.sendMessage(i, "top of message follows", int(k))
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// sendMessage sends message i as a multi-line response: all of it when
// bodyLines < 0 (RETR), else its header and bodyLines lines of its body
// (TOP). Content lines are not traced one by one: one note sums them up.
func (s *session) sendMessage(i int, okText string, bodyLines int) error {
	m := s.msgs[i]
	rc, err := s.drop.Open(m.UID)
	if err != nil {
		s.note(true, "opening message failed: "+err.Error())
		return &Error{Code: CodeSysTemp, Msg: fmt.Sprintf("unable to read message %d", i+1)}
	}
	defer rc.Close()
	if err := s.ok(okText); err != nil {
		return err
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(rc)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()
	var lines, octets int64
	if bodyLines < 0 {
		lines, octets, err = s.stuffAll(br)
	} else {
		lines, octets, err = s.stuffTop(br, bodyLines)
	}
	if err != nil {
		// The +OK is out: the only honest end is to drop the connection.
		s.note(true, "reading message failed mid-response: "+err.Error())
		return errStopSession
	}
	s.note(false, fmt.Sprintf("… %d lines, %d octets of message content (not traced line by line)", lines, octets))
	if bodyLines < 0 && octets != m.Size {
		s.note(true, fmt.Sprintf("size mismatch: LIST said %d octets, %d were sent", m.Size, octets))
	}
	return s.endMulti()
}

var crlfDot = []byte("\n.")

// stuffAll copies the whole message, byte-stuffing every line that starts
// with "." (RFC 1939 §3) and making sure the terminator follows a CRLF.
func (s *session) stuffAll(br *bufio.Reader) (lines, octets int64, err error) {
	atStart := true
	for {
		chunk, rerr := br.Peek(br.Size())
		octets += int64(len(chunk))
		lines += int64(bytes.Count(chunk, []byte{'\n'}))
		p := chunk
		for len(p) > 0 {
			if atStart && p[0] == '.' {
				s.w.WriteByte('.')
			}
			j := bytes.Index(p, crlfDot)
			if j < 0 {
				s.w.Write(p)
				atStart = p[len(p)-1] == '\n'
				break
			}
			s.w.Write(p[:j+1])
			p = p[j+1:]
			atStart = true
		}
		br.Discard(len(chunk))
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return lines, octets, rerr
		}
	}
	if !atStart {
		lines++
		_, err = s.w.WriteString("\r\n")
	}
	return lines, octets, err
}

// stuffTop copies the header, the blank line and n body lines.
func (s *session) stuffTop(br *bufio.Reader, n int) (lines, octets int64, err error) {
	atStart, inHeader, body := true, true, 0
	for !(atStart && !inHeader && body >= n) {
		frag, rerr := br.ReadSlice('\n')
		if len(frag) > 0 {
			if atStart && frag[0] == '.' {
				s.w.WriteByte('.')
			}
			s.w.Write(frag)
			octets += int64(len(frag))
			wasStart := atStart
			atStart = frag[len(frag)-1] == '\n'
			if atStart {
				lines++
				switch {
				case !inHeader:
					body++
				case wasStart && (len(frag) == 1 || len(frag) == 2 && frag[0] == '\r'):
					inHeader = false
				}
			}
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return lines, octets, rerr
		}
	}
	if !atStart {
		lines++
		_, err = s.w.WriteString("\r\n")
	}
	return lines, octets, err
}

// messages is "1 message" or "n messages".
func messages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return strconv.Itoa(n) + " messages"
}
