package lab

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// PracticeUsers are the lab's well-known accounts. They exist only while
// every listener is on loopback.
var PracticeUsers = map[string]string{"alice": "wonderland", "bob": "builder"}

// usersFile is DATA/users: one "name:bcrypt-hash" per line, mode 0600.
const usersFile = "users"

// ValidUserName reports whether name can be a lab user: 1 to 64 characters
// of a-z, 0-9, ".", "_", "-", starting with a letter or digit. That keeps a
// name a single safe path element (no "/", "..", or hidden files) and a
// plain RFC 5321 local part. "outbox" is reserved.
func ValidUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q: must be 1 to 64 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("user name %q: use lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit)", name)
		}
	}
	if name == Outbox {
		return fmt.Errorf("user name %q is reserved for the outbox", name)
	}
	return nil
}

// Users checks the lab's credentials. It implements pop3d.Authenticator and,
// for the practice users only, pop3d.SecretAuthenticator: challenge-response
// mechanisms (APOP, CRAM-MD5) need the plaintext secret, which postlab keeps
// only for the practice users, whose passwords are public anyway.
type Users struct {
	path     string
	mu       sync.RWMutex
	hashed   map[string][]byte
	practice map[string]string // nil when practice users are disabled
	// noWellKnown refuses the practice passwords even for a stored user of
	// that name (classroom mode: those passwords are printed in the README).
	noWellKnown bool
}

// bcryptCost is the cost of stored hashes; tests lower it.
var bcryptCost = bcrypt.DefaultCost

func loadUsers(dataDir string, practice bool) (*Users, error) {
	u := &Users{path: filepath.Join(dataDir, usersFile), hashed: make(map[string][]byte)}
	if practice {
		u.practice = PracticeUsers
	}
	b, err := os.ReadFile(u.path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, hash, ok := strings.Cut(t, ":")
		if !ok || ValidUserName(name) != nil {
			return nil, fmt.Errorf("users: %s line %d: want name:bcrypt-hash", u.path, line)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("users: %s line %d: %v", u.path, line, err)
		}
		u.hashed[name] = []byte(hash)
	}
	return u, nil
}

// SetUserPassword adds a user to the data dir (or changes its password),
// stored as a bcrypt hash. A running lab picks it up with Lab.AddUser.
func SetUserPassword(dataDir, name, password string) error {
	if err := ValidUserName(name); err != nil {
		return err
	}
	if password == "" {
		return errors.New("empty password")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	u, err := loadUsers(dataDir, false)
	if err != nil {
		return err
	}
	return u.set(name, password)
}

func (u *Users) set(name, password string) error {
	return u.setMany(map[string]string{name: password})
}

// setMany hashes the passwords (on every core: bcrypt is slow on purpose)
// and writes the users file once.
func (u *Users) setMany(pws map[string]string) error {
	names := sortedKeys(pws)
	for _, n := range names {
		if err := ValidUserName(n); err != nil {
			return err
		}
		if pws[n] == "" {
			return fmt.Errorf("user %s: empty password", n)
		}
	}
	hashes := make([][]byte, len(names))
	errs := make([]error, len(names))
	parallel(len(names), func(i int) {
		hashes[i], errs[i] = bcrypt.GenerateFromPassword([]byte(pws[names[i]]), bcryptCost)
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	merged := make(map[string][]byte, len(u.hashed)+len(names))
	for n, h := range u.hashed {
		merged[n] = h
	}
	for i, n := range names {
		merged[n] = hashes[i]
	}
	var b bytes.Buffer
	b.WriteString("# postlab users: name:bcrypt-hash\n")
	for _, n := range sortedKeys(merged) {
		fmt.Fprintf(&b, "%s:%s\n", n, merged[n])
	}
	// The file first: a user the lab accepts is one it will still know
	// after a restart.
	if err := writeFileAtomic(u.path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	u.hashed = merged
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// List returns every user name, sorted.
func (u *Users) List() []string {
	u.mu.RLock()
	defer u.mu.RUnlock()
	set := make(map[string]bool)
	for n := range u.hashed {
		set[n] = true
	}
	for n := range u.practice {
		set[n] = true
	}
	return sortedKeys(set)
}

// Exists reports whether name is a user.
func (u *Users) Exists(name string) bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	_, ok := u.hashed[name]
	_, ok2 := u.practice[name]
	return ok || ok2
}

// dummyHash keeps the time of a check for an unknown user close to that of
// a known one (same cost), so timing does not reveal which names exist.
// It is made on first use: hashing at the real cost takes a while.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("postlab-dummy"), bcryptCost)
	return h
})

// Check implements pop3d.Authenticator.
func (u *Users) Check(user, password string) bool {
	u.mu.RLock()
	h, ok := u.hashed[user]
	pw, isPractice := u.practice[user]
	noWellKnown := u.noWellKnown
	u.mu.RUnlock()
	if noWellKnown {
		if wk, isWK := PracticeUsers[user]; isWK && subtle.ConstantTimeCompare([]byte(wk), []byte(password)) == 1 {
			return false
		}
	}
	if ok {
		return bcrypt.CompareHashAndPassword(h, []byte(password)) == nil
	}
	if isPractice {
		return subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1
	}
	bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
	return false
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Secret implements pop3d.SecretAuthenticator for the practice users.
func (u *Users) Secret(user string) (string, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if _, ok := u.hashed[user]; ok {
		return "", false // a stored user's password is only known as a hash
	}
	pw, ok := u.practice[user]
	return pw, ok
}

// PracticeActive reports whether the practice users exist.
func (u *Users) PracticeActive() bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.practice != nil
}
