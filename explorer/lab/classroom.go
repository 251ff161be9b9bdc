package lab

import (
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Classroom mode: one lab serves a class on a shared network. Every
// student gets an account studentNN with a random password, stored as a
// bcrypt hash like any other user; the practice users and their published
// passwords are never active (Config.Classroom).

// MaxStudents bounds --classroom N.
const MaxStudents = 999

// Student is one classroom account.
type Student struct {
	Name     string // "student01"
	Password string // "" when it was issued by an earlier run and is not known now
	New      bool   // the password was issued by this call
}

// StudentName is the account name of student i (1-based) in a class of n:
// two digits at least, so that names sort in order.
func StudentName(i, n int) string {
	w := max(2, len(strconv.Itoa(n)))
	return fmt.Sprintf("student%0*d", w, i)
}

// passwordAlphabet is RFC 4648 base32 in lower case: no 0/1/8/9, so
// nothing reads as O, l or B on a printed sheet.
const passwordAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewPassword returns a random password of 12 base32 characters (60 bits)
// in three groups of four, e.g. "k7qm-4xzt-p2ha", easy to read aloud and type.
func NewPassword() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(passwordAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	return s.String(), nil
}

// SetupClassroom makes sure student accounts 1..n exist in the running lab,
// each with a mailbox. New accounts, and every account when reset is true,
// get a new random password. An existing account keeps its password; since
// only its hash is stored, the password is returned only when known (for
// example read back from the earlier sheet by ReadSheetPasswords) holds it
// and it still matches the hash. Accounts beyond n are left alone, mail
// included.
func (l *Lab) SetupClassroom(n int, reset bool, known map[string]string) ([]Student, error) {
	if !l.cfg.Classroom {
		return nil, errors.New("classroom accounts need a lab started with Config.Classroom")
	}
	if n < 1 || n > MaxStudents {
		return nil, fmt.Errorf("classroom size %d: want 1 to %d", n, MaxStudents)
	}
	students := make([]Student, n)
	issue := make(map[string]string)
	var verify []int
	for i := range students {
		s := &students[i]
		s.Name = StudentName(i+1, n)
		if !reset && l.users.hasStored(s.Name) {
			if pw := known[s.Name]; pw != "" {
				s.Password = pw
				verify = append(verify, i)
			}
			continue
		}
		pw, err := NewPassword()
		if err != nil {
			return nil, err
		}
		s.Password, s.New = pw, true
		issue[s.Name] = pw
	}
	parallel(len(verify), func(j int) {
		s := &students[verify[j]]
		if !l.users.checkStored(s.Name, s.Password) {
			s.Password = "" // the sheet is older than the password
		}
	})
	if len(issue) > 0 {
		if err := l.users.setMany(issue); err != nil {
			return nil, err
		}
	}
	for _, s := range students {
		if _, err := l.store.box(s.Name); err != nil {
			return nil, err
		}
	}
	return students, nil
}

// Sheet is what a teacher hands out: accounts, passwords and where the lab
// is.
type Sheet struct {
	Host     string            // the address students connect to
	Domain   string            // the practice domain
	Ports    map[string]string // listener name -> port; missing when off
	Students []Student
}

// NewSheet describes the running lab's classroom on host.
func (l *Lab) NewSheet(host string, students []Student) Sheet {
	sh := Sheet{Host: host, Domain: l.cfg.Domain, Ports: make(map[string]string), Students: students}
	for _, name := range sheetListeners {
		if _, port, err := net.SplitHostPort(l.addrs[name]); err == nil {
			sh.Ports[name] = port
		}
	}
	return sh
}

// sheetListeners are the sheet's port columns, in order.
var sheetListeners = []string{ListenerSubmission, ListenerSubmissions, ListenerPOP3, ListenerPOP3S, ListenerSMTP, ListenerDNS}

// sheetHeader is the CSV header row. "account" and "password" are what
// ReadSheetPasswords looks for.
var sheetHeader = append([]string{"account", "address", "password", "host"}, sheetListeners...)

// WriteCSV writes one row per student (RFC 4180), the host and ports on
// every row so that a mail merge can print one slip per student.
func (sh Sheet) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(sheetHeader)
	for _, s := range sh.Students {
		row := []string{s.Name, s.Name + "@" + sh.Domain, s.Password, sh.Host}
		for _, name := range sheetListeners {
			row = append(row, sh.Ports[name])
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// WriteSheetFile writes the sheet as CSV, readable by its owner only (it
// holds passwords), replacing the file atomically.
func (sh Sheet) WriteSheetFile(path string) error {
	var b strings.Builder
	if err := sh.WriteCSV(&b); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	// CreateTemp makes the file 0600 from the start, so the passwords are
	// never readable by others, not even for a moment.
	f, err := os.CreateTemp(dir, ".postlab-sheet-*")
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("sheet: %w", err)
	}
	return nil
}

// ErrNotASheet says a file is not a sheet written by postlab.
var ErrNotASheet = errors.New("not a postlab classroom sheet (CSV with account and password columns)")

// ReadSheetPasswords reads account -> password from a sheet written by
// WriteCSV. A missing file gives an empty map and no error.
func ReadSheetPasswords(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sheet: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(io.LimitReader(f, 1<<20)) // a sheet of 999 students is far below 1 MiB
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("sheet %s: %w", path, ErrNotASheet)
	}
	acc, pwc := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(h) {
		case "account":
			acc = i
		case "password":
			pwc = i
		}
	}
	if acc < 0 || pwc < 0 {
		return nil, fmt.Errorf("sheet %s: %w", path, ErrNotASheet)
	}
	out := make(map[string]string)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", path, err)
		}
		if acc < len(rec) && pwc < len(rec) && rec[pwc] != "" {
			out[rec[acc]] = rec[pwc]
		}
	}
}

// hasStored reports whether name has a stored (hashed) password.
func (u *Users) hasStored(name string) bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	_, ok := u.hashed[name]
	return ok
}

// checkStored compares password with name's stored hash only.
func (u *Users) checkStored(name, password string) bool {
	u.mu.RLock()
	h, ok := u.hashed[name]
	u.mu.RUnlock()
	return ok && bcrypt.CompareHashAndPassword(h, []byte(password)) == nil
}
