package labdns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A private key that group or others can read is refused, and left as it
// is; once its owner alone can read it, it loads.
func TestDKIMKeyReadableByOthersRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX mode bits")
	}
	path := filepath.Join(t.TempDir(), "dkim", "lab.key")
	key, err := LoadOrCreateDKIMKey(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateDKIMKey(path)
		if err == nil || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), "lets other users read the DKIM private key; chmod 600 it") ||
			!strings.Contains(err.Error(), fmt.Sprintf("mode %#o ", mode)) {
			t.Errorf("mode %#o: err %v, want a refusal naming the file, its mode and the fix", mode, err)
		}
		if b, _ := os.ReadFile(path); string(b) != string(before) {
			t.Fatalf("mode %#o: the refused key file was changed", mode)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if k, err := LoadOrCreateDKIMKey(path); err != nil || !k.Equal(key) {
			t.Errorf("mode %#o: %v", mode, err)
		}
	}
}
