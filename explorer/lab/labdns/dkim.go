package labdns

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// dkimBits is the key size RFC 8301 §3.2 says signers SHOULD use.
const dkimBits = 2048

// LoadOrCreateDKIMKey reads the RSA private key at path (PEM, PKCS#1 or
// PKCS#8) or, when there is none, creates a 2048-bit key there with mode
// 0600. A key file that group or others can read is refused. Creation is
// atomic: a concurrent start sees either no file or the whole key, and the
// first writer wins.
func LoadOrCreateDKIMKey(path string) (*rsa.PrivateKey, error) {
	if k, err := loadDKIMKey(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("labdns: DKIM key directory: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, dkimBits)
	if err != nil {
		return nil, fmt.Errorf("labdns: generating DKIM key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".dkim-*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("labdns: writing DKIM key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	if err := errors.Join(f.Chmod(0o600), pem.Encode(f, block), f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("labdns: writing DKIM key: %w", err)
	}
	// Link fails if another process created the key meanwhile: use theirs.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return loadDKIMKey(path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("labdns: writing DKIM key: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new directory entry durable
		d.Close()
	}
	return key, nil
}

func loadDKIMKey(path string) (*rsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A private key others can read is no longer the domain's alone; the
	// lab refuses it, as ssh does, rather than sign with it silently.
	// Windows has no such mode bits.
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("labdns: %s: mode %#o lets other users read the DKIM private key; chmod 600 it, or delete it to create a new DKIM key", path, perm)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("labdns: %s: no PEM block; delete it to create a new DKIM key", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				err = errors.New("not an RSA key")
			}
		}
	default:
		err = fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("labdns: %s: %v; delete it to create a new DKIM key", path, err)
	}
	return key, nil
}
