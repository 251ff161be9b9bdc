package lab

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"postlab/explorer/lab/pop3d"
)

// The Maildir layout (https://cr.yp.to/proto/maildir.html): a message is
// written to tmp/, fsynced, renamed into new/ and the directory fsynced; only
// then is it visible and only then does SMTP answer 250. A reader that has
// seen it moves it to cur/ and appends the info ":2,S". Names are
// "time.pid_counter_random.host,S=size,W=size": the part before the first
// "," is the unique name, which is also the POP3 UID (RFC 1939 §7). S= and W=
// (the Dovecot convention) record the file size and the size with CRLF line
// ends; postlab writes only CRLF, so the two are equal and POP3 can answer
// LIST without reading the file.

// maxUIDLen is the longest unique-id RFC 1939 §7 allows.
const maxUIDLen = 70

// Store holds the lab's mailboxes: one Maildir per user and the outbox.
// It implements pop3d.MaildropStore.
type Store struct {
	root  string // DATA/mail
	host  string // host part of new names
	clock Clock
	pid   int
	seq   atomic.Uint64
	users func() []string
	anon  bool // unnamed files (O_TMPFILE) can be created and linked here

	mu     sync.Mutex
	boxes  map[string]*maildir
	locked map[string]bool

	notes fanout[MailNote]
}

// MailNote announces a message that has just become visible in a mailbox.
type MailNote struct{ Mailbox, ID string }

type maildir struct {
	path           string
	newSync, cSync *dirSyncer
}

func newStore(root, host string, clock Clock, users func() []string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("mail store: %w", err)
	}
	return &Store{
		root:   root,
		host:   nameHost(host),
		clock:  clock,
		pid:    os.Getpid(),
		users:  users,
		boxes:  make(map[string]*maildir),
		locked: make(map[string]bool),
		anon:   anonWorks(root),
	}, nil
}

// anonWorks probes whether unnamed files can be created and linked in dir
// (file system, kernel and /proc all have to play along).
func anonWorks(dir string) bool {
	f, err := openAnon(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	probe := filepath.Join(dir, fmt.Sprintf(".probe-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := linkAnon(f, probe); err != nil {
		return false
	}
	return os.Remove(probe) == nil
}

// nameHost makes a host name safe for a Maildir name: the convention
// replaces "/" and ":"; postlab also drops "," (its size separator) and keeps
// it short so a UID stays within 70 characters.
func nameHost(h string) string {
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 24 {
		s = s[:24]
	}
	if s == "" {
		s = "localhost"
	}
	return s
}

// box returns the Maildir for a mailbox name, creating its directories.
func (s *Store) box(name string) (*maildir, error) {
	if err := validMailbox(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.boxes[name]; m != nil {
		return m, nil
	}
	p := filepath.Join(s.root, name)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(p, sub), 0o700); err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", name, err)
		}
	}
	m := &maildir{
		path:    p,
		newSync: &dirSyncer{path: filepath.Join(p, "new")},
		cSync:   &dirSyncer{path: filepath.Join(p, "cur")},
	}
	s.boxes[name] = m
	return m, nil
}

// close releases the directory descriptors kept for fsync.
func (s *Store) close() {
	s.mu.Lock()
	boxes := make([]*maildir, 0, len(s.boxes))
	for _, m := range s.boxes {
		boxes = append(boxes, m)
	}
	s.mu.Unlock()
	for _, m := range boxes {
		m.newSync.close()
		m.cSync.close()
	}
}

// validMailbox accepts user names (see ValidUserName) and "outbox".
func validMailbox(name string) error {
	if name == Outbox {
		return nil
	}
	return ValidUserName(name)
}

// Mailboxes lists the users' mailboxes and the outbox.
func (s *Store) Mailboxes() []string {
	out := append([]string(nil), s.users()...)
	return append(out, Outbox)
}

// Subscribe calls fn, from its own goroutine and in order, for every message
// delivered from now on. fn must not block for long; notes beyond a backlog
// of 1024 are dropped. cancel stops the calls.
func (s *Store) Subscribe(fn func(mailbox, id string)) (cancel func()) {
	return s.notes.subscribe(func(n MailNote) { fn(n.Mailbox, n.ID) })
}

// newName returns a fresh unique name (without the size suffix).
func (s *Store) newName() string {
	var rb [4]byte
	rand.Read(rb[:])
	return fmt.Sprintf("%d.%d_%d_%s.%s", s.clock().Unix(), s.pid, s.seq.Add(1), hex.EncodeToString(rb[:]), s.host)
}

// spoolFile is a message being written into a Maildir's tmp/.
type spoolFile struct {
	store   *Store
	mailbox string
	box     *maildir
	name    string // unique name
	tmp     string
	f       *os.File
	w       *bufio.Writer
	size    int64
	done    bool
}

// create opens a new message file in mailbox's tmp/.
func (s *Store) create(mailbox string) (*spoolFile, error) {
	m, err := s.box(mailbox)
	if err != nil {
		return nil, err
	}
	name := s.newName()
	if s.anon {
		// Written unnamed in new/, named there once durable (commit).
		f, err := openAnon(filepath.Join(m.path, "new"))
		if err == nil {
			return &spoolFile{store: s, mailbox: mailbox, box: m, name: name, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
		}
	}
	tmp := filepath.Join(m.path, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &spoolFile{store: s, mailbox: mailbox, box: m, name: name, tmp: tmp, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (sf *spoolFile) Write(p []byte) (int, error) {
	n, err := sf.w.Write(p)
	sf.size += int64(n)
	return n, err
}

// abort removes the unfinished file.
func (sf *spoolFile) abort() {
	if sf.done {
		return
	}
	sf.done = true
	sf.f.Close()
	if sf.tmp != "" { // an unnamed file just goes away
		os.Remove(sf.tmp)
	}
}

// fileName is the final name with the size suffix.
func (sf *spoolFile) fileName() string {
	return fmt.Sprintf("%s,S=%d,W=%d", sf.name, sf.size, sf.size)
}

// commit makes the message durable and visible in its own mailbox and, by
// hard links (copies across file systems), in the extra mailboxes: flush,
// fsync the file, link (an unnamed O_TMPFILE file) or rename (from tmp/)
// into new/, fsync every new/ directory.
// Only after commit returns nil may the server acknowledge the message.
func (sf *spoolFile) commit(extra []string) error {
	if sf.done {
		return errors.New("mail store: message already committed")
	}
	fail := func(err error) error { sf.abort(); return fmt.Errorf("mail store: %w", err) }
	if err := sf.w.Flush(); err != nil {
		return fail(err)
	}
	if err := sf.f.Sync(); err != nil {
		return fail(err)
	}
	final := sf.fileName()
	var syncs []*dirSyncer
	for _, mb := range extra {
		m, err := sf.store.box(mb)
		if err != nil {
			return fail(err)
		}
		dst := filepath.Join(m.path, "new", final)
		if err := sf.link(dst); err != nil {
			if err := copyFileSync(io.NewSectionReader(sf.f, 0, sf.size), filepath.Join(m.path, "tmp", final), dst); err != nil {
				return fail(err)
			}
		}
		syncs = append(syncs, m.newSync)
	}
	own := filepath.Join(sf.box.path, "new", final)
	if sf.tmp == "" {
		// The unnamed file gets its name; tmp/ is never touched.
		if err := linkAnon(sf.f, own); err != nil {
			return fail(err)
		}
	}
	if err := sf.f.Close(); err != nil {
		if sf.tmp == "" {
			os.Remove(own)
		}
		return fail(err)
	}
	sf.done = true
	if sf.tmp != "" {
		if err := os.Rename(sf.tmp, own); err != nil {
			os.Remove(sf.tmp)
			return fmt.Errorf("mail store: %w", err)
		}
	}
	syncs = append(syncs, sf.box.newSync)
	for _, d := range syncs {
		if err := d.sync(); err != nil {
			return fmt.Errorf("mail store: %w", err)
		}
	}
	return nil
}

// link gives the message one more name (a hard link to another mailbox).
func (sf *spoolFile) link(dst string) error {
	if sf.tmp == "" {
		return linkAnon(sf.f, dst)
	}
	return os.Link(sf.tmp, dst)
}

// copyFileSync copies in to tmp, fsyncs it and renames it to dst (used when
// a hard link is not possible).
func copyFileSync(in io.Reader, tmp, dst string) error {
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// dirSyncer fsyncs a directory with group commit: every caller that renamed
// a file into the directory before calling sync is covered by one fsync that
// started after its call, so concurrent deliveries share fsyncs.
type dirSyncer struct {
	path string

	mu        sync.Mutex
	cond      *sync.Cond
	requested uint64
	done      uint64
	running   bool
	f         *os.File // the directory, opened on first use
}

func (d *dirSyncer) sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cond == nil {
		d.cond = sync.NewCond(&d.mu)
	}
	d.requested++
	mine := d.requested
	for d.done < mine {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		target := d.requested
		d.mu.Unlock()
		err := d.fsync()
		d.mu.Lock()
		d.running = false
		if err == nil && target > d.done {
			d.done = target
		}
		d.cond.Broadcast()
		if err != nil {
			return err
		}
	}
	return nil
}

// close releases the kept descriptor once no fsync is running.
func (d *dirSyncer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.running {
		d.cond.Wait()
	}
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// fsync syncs the directory through a descriptor kept open between calls
// (only the one running syncer uses it).
func (d *dirSyncer) fsync() error {
	if d.f == nil {
		f, err := os.Open(d.path)
		if err != nil {
			return err
		}
		d.f = f
	}
	err := d.f.Sync()
	if err != nil {
		d.f.Close()
		d.f = nil
	}
	return err
}

// entry is one message file found in a Maildir.
type entry struct {
	uid   string
	name  string // file name in its directory
	cur   bool   // in cur/ rather than new/
	size  int64  // file size
	vsize int64  // size with CRLF line ends; -1 when unknown
	sec   int64  // delivery time from the name
	seq   uint64 // counter from the name
}

func (e *entry) seen() bool {
	if !e.cur {
		return false
	}
	_, info, ok := strings.Cut(e.name, ":2,")
	return ok && strings.Contains(info, "S")
}

// uidOf returns the unique name of a Maildir file name: the part before the
// info (":") and before the size fields (","). Names that would not make a
// valid POP3 UID (RFC 1939 §7: 1 to 70 characters 0x21-0x7E) get a hash.
func uidOf(name string) string {
	u, _, _ := strings.Cut(name, ":")
	u, _, _ = strings.Cut(u, ",")
	ok := len(u) > 0 && len(u) <= maxUIDLen
	for i := 0; ok && i < len(u); i++ {
		ok = u[i] >= 0x21 && u[i] <= 0x7e
	}
	if ok {
		return u
	}
	h := sha256.Sum256([]byte(u))
	return "x" + hex.EncodeToString(h[:16])
}

// parseName reads time, counter and sizes from a name made by newName.
func parseEntry(name string, cur bool) *entry {
	e := &entry{uid: uidOf(name), name: name, cur: cur, vsize: -1}
	base, _, _ := strings.Cut(name, ":")
	parts := strings.Split(base, ",")
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "W="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				e.vsize = n
			}
		}
	}
	t, rest, _ := strings.Cut(parts[0], ".")
	e.sec, _ = strconv.ParseInt(t, 10, 64)
	if f := strings.Split(rest, "_"); len(f) >= 2 {
		e.seq, _ = strconv.ParseUint(f[1], 10, 64)
	}
	return e
}

// scan lists the messages of a Maildir, oldest first.
func (m *maildir) scan() ([]*entry, error) {
	var out []*entry
	seen := make(map[string]bool)
	for _, sub := range []string{"cur", "new"} {
		des, err := os.ReadDir(filepath.Join(m.path, sub))
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			if !de.Type().IsRegular() || strings.HasPrefix(de.Name(), ".") {
				continue
			}
			info, err := de.Info()
			if err != nil {
				continue // renamed or deleted meanwhile
			}
			e := parseEntry(de.Name(), sub == "cur")
			if seen[e.uid] {
				continue // a second file with the same unique name is not addressable
			}
			seen[e.uid] = true
			e.size = info.Size()
			if e.vsize != e.size {
				e.vsize = -1
			}
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return a.name < b.name
	})
	return out, nil
}

func (m *maildir) path2(e *entry) string {
	if e.cur {
		return filepath.Join(m.path, "cur", e.name)
	}
	return filepath.Join(m.path, "new", e.name)
}

// find locates a message by UID.
func (m *maildir) find(uid string) (*entry, error) {
	es, err := m.scan()
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.uid == uid {
			return e, nil
		}
	}
	return nil, fmt.Errorf("no message %q", uid)
}

// crlfSize counts a file's octets with every bare LF made CRLF. Only files
// that postlab did not write need this.
func crlfSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	var prev byte
	buf := make([]byte, 32<<10)
	for {
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' && prev != '\r' {
				n++
			}
			prev = c
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// crlfReader turns bare LF into CRLF.
type crlfReader struct {
	r       *bufio.Reader
	prev    byte
	pending bool // owe a '\n' after an inserted '\r'
}

func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if c.pending {
			p[n] = '\n'
			n++
			c.pending = false
			c.prev = '\n'
			continue
		}
		b, err := c.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b == '\n' && c.prev != '\r' {
			p[n] = '\r'
			n++
			c.pending = true
			c.prev = '\r'
			continue
		}
		p[n] = b
		n++
		c.prev = b
	}
	return n, nil
}

type fileReadCloser struct {
	io.Reader
	f *os.File
}

func (r fileReadCloser) Close() error { return r.f.Close() }

// openEntry opens a message in CRLF form.
func (m *maildir) openEntry(e *entry) (io.ReadCloser, error) {
	f, err := os.Open(m.path2(e))
	if err != nil {
		return nil, err
	}
	if e.vsize == e.size {
		return f, nil // already CRLF throughout
	}
	return fileReadCloser{&crlfReader{r: bufio.NewReader(f)}, f}, nil
}

// markSeen moves a message to cur/ with the S flag.
func (m *maildir) markSeen(e *entry) error {
	if e.seen() {
		return nil
	}
	var newName string
	switch base, info, ok := strings.Cut(e.name, ":2,"); {
	case !e.cur:
		newName = strings.SplitN(e.name, ":", 2)[0] + ":2,S"
	case ok:
		flags := []byte(info + "S")
		sort.Slice(flags, func(i, j int) bool { return flags[i] < flags[j] })
		newName = base + ":2," + string(flags)
	default:
		newName = strings.SplitN(e.name, ":", 2)[0] + ":2,S"
	}
	if err := os.Rename(m.path2(e), filepath.Join(m.path, "cur", newName)); err != nil {
		return err
	}
	e.cur, e.name = true, newName
	return nil
}

// maildropLock is the file in a Maildir that a POP3 session holds an
// flock(2) on, so that labs in other processes see the maildrop in use.
const maildropLock = "pop3.lock"

// Lock implements pop3d.MaildropStore: it takes the user's maildrop for one
// session (RFC 1939 §8) and snapshots its messages. The lock is exclusive
// within this Store (a map) and, where there is flock(2) (haveFlock), across
// Stores and processes sharing the data dir (an flock on
// mail/USER/pop3.lock); either way a second session gets
// pop3d.ErrInUse at once, never a wait.
func (s *Store) Lock(user string) (pop3d.Maildrop, error) {
	m, err := s.box(user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.locked[user] {
		s.mu.Unlock()
		return nil, pop3d.ErrInUse
	}
	s.locked[user] = true
	s.mu.Unlock()
	lf, ok, err := lockFile(filepath.Join(m.path, maildropLock))
	switch {
	case err != nil:
		s.unlock(user)
		return nil, fmt.Errorf("maildrop %s: lock: %w", user, err)
	case !ok:
		s.unlock(user)
		return nil, pop3d.ErrInUse
	}
	es, err := m.scan()
	if err == nil {
		for _, e := range es {
			if e.vsize < 0 {
				if e.vsize, err = crlfSize(m.path2(e)); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		if lf != nil {
			lf.Close()
		}
		s.unlock(user)
		return nil, fmt.Errorf("maildrop %s: %w", user, err)
	}
	d := &maildrop{store: s, user: user, box: m, lockf: lf, byUID: make(map[string]*entry, len(es))}
	for _, e := range es {
		d.list = append(d.list, e)
		d.byUID[e.uid] = e
	}
	return d, nil
}

func (s *Store) unlock(user string) {
	s.mu.Lock()
	delete(s.locked, user)
	s.mu.Unlock()
}

// maildrop is a locked snapshot; it implements pop3d.Maildrop.
type maildrop struct {
	store *Store
	user  string
	box   *maildir
	lockf *os.File // holds the flock; nil where there is none

	mu       sync.Mutex
	list     []*entry
	byUID    map[string]*entry
	unlocked bool
}

func (d *maildrop) Messages() []pop3d.MessageInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]pop3d.MessageInfo, len(d.list))
	for i, e := range d.list {
		out[i] = pop3d.MessageInfo{UID: e.uid, Size: e.vsize, Seen: e.seen()}
	}
	return out
}

func (d *maildrop) entry(uid string) (*entry, error) {
	e := d.byUID[uid]
	if e == nil {
		return nil, fmt.Errorf("maildrop %s: no message %q", d.user, uid)
	}
	return e, nil
}

func (d *maildrop) Open(uid string) (io.ReadCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.entry(uid)
	if err != nil {
		return nil, err
	}
	return d.box.openEntry(e)
}

func (d *maildrop) MarkSeen(uid string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.entry(uid)
	if err != nil {
		return err
	}
	return d.box.markSeen(e)
}

// Delete removes messages and fsyncs the directories, so that +OK to QUIT
// means they are gone (RFC 1939 §6).
func (d *maildrop) Delete(uids []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first error
	dirs := map[*dirSyncer]bool{}
	for _, uid := range uids {
		e, err := d.entry(uid)
		if err == nil {
			err = os.Remove(d.box.path2(e))
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			if e.cur {
				dirs[d.box.cSync] = true
			} else {
				dirs[d.box.newSync] = true
			}
		}
		if err != nil && first == nil {
			first = err
		}
	}
	for ds := range dirs {
		if err := ds.sync(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (d *maildrop) Unlock() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.unlocked {
		d.unlocked = true
		// The flock goes first: once the map says free, a session of this
		// Store may take the file lock at once.
		if d.lockf != nil {
			d.lockf.Close()
		}
		d.store.unlock(d.user)
	}
}

// List describes the messages of a mailbox, oldest first.
func (s *Store) List(mailbox string) ([]MessageSummary, error) {
	m, err := s.box(mailbox)
	if err != nil {
		return nil, err
	}
	es, err := m.scan()
	if err != nil {
		return nil, err
	}
	out := make([]MessageSummary, 0, len(es))
	for _, e := range es {
		sum := MessageSummary{ID: e.uid, Size: e.size, Seen: e.seen(), Date: time.Unix(e.sec, 0)}
		if f, err := os.Open(m.path2(e)); err == nil {
			fillSummary(&sum, io.LimitReader(f, 64<<10))
			f.Close()
		}
		out = append(out, sum)
	}
	return out, nil
}

// Raw returns a message exactly as stored.
func (s *Store) Raw(mailbox, id string) ([]byte, error) {
	m, err := s.box(mailbox)
	if err != nil {
		return nil, err
	}
	for range 3 { // a POP3 session may move the file to cur/ meanwhile
		e, err := m.find(id)
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", mailbox, err)
		}
		b, err := os.ReadFile(m.path2(e))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("mailbox %s: message %q moved while reading", mailbox, id)
}

// Delete removes one message (for the app's outbox view and lessons).
func (s *Store) Delete(mailbox, id string) error {
	m, err := s.box(mailbox)
	if err != nil {
		return err
	}
	e, err := m.find(id)
	if err != nil {
		return fmt.Errorf("mailbox %s: %w", mailbox, err)
	}
	if err := os.Remove(m.path2(e)); err != nil {
		return err
	}
	if e.cur {
		return m.cSync.sync()
	}
	return m.newSync.sync()
}

// cleanTmp removes leftovers of deliveries interrupted by a crash; at start
// no delivery of this lab is in progress. Maildir allows removing tmp files
// older than 36 hours; a file younger than a minute may belong to another
// process, so it stays.
func (s *Store) cleanTmp() {
	des, err := os.ReadDir(s.root)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-time.Minute)
	for _, de := range des {
		if !de.IsDir() || validMailbox(de.Name()) != nil {
			continue
		}
		tmp := filepath.Join(s.root, de.Name(), "tmp")
		fes, _ := os.ReadDir(tmp)
		for _, fe := range fes {
			if info, err := fe.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
				os.Remove(filepath.Join(tmp, fe.Name()))
			}
		}
	}
}
