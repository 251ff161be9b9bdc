package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key file that holds no PEM says so once, with one "tls: " prefix.
func TestLoadTLSErrorPrefixOnce(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cf, []byte("garbage"), 0o600)
	os.WriteFile(kf, []byte("garbage"), 0o600)
	_, err := loadTLS(cf, kf)
	if err == nil || !strings.HasPrefix(err.Error(), "tls: ") || strings.Contains(err.Error(), "tls: tls:") {
		t.Fatalf("loadTLS = %v", err)
	}
}
