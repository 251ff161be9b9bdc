package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// tlsMaterial is the lab's certificate and its trust pool.
type tlsMaterial struct {
	cert    tls.Certificate
	certPEM []byte
	pool    *x509.CertPool
}

// labHostNames are the names the generated certificate is valid for.
func labHostNames(domain, hostname string) []string {
	names := []string{hostname, domain, "localhost", "127.0.0.1", "::1"}
	return slices.Compact(names)
}

// loadOrCreateTLS loads certFile/keyFile when given, or the lab's own
// certificate from DATA/tls, creating a self-signed one on first start (and
// again when it has expired or does not cover the names).
func loadOrCreateTLS(dataDir, certFile, keyFile string, names []string, now time.Time) (*tlsMaterial, error) {
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, errors.New("tls: give both --cert and --key")
		}
		return loadTLS(certFile, keyFile)
	}
	dir := filepath.Join(dataDir, "tls")
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if m, err := loadTLS(cf, kf); err == nil && coversNames(m.cert.Leaf, names, now) {
		return m, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	certPEM, keyPEM, err := selfSigned(names, now)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(kf, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if err := writeFileAtomic(cf, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return loadTLS(cf, kf)
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func loadTLS(certFile, keyFile string) (*tlsMaterial, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// crypto/tls's errors already start with "tls: ".
		if strings.HasPrefix(err.Error(), "tls: ") {
			return nil, err
		}
		return nil, fmt.Errorf("tls: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return &tlsMaterial{cert: cert, certPEM: pemBytes, pool: pool}, nil
}

func coversNames(leaf *x509.Certificate, names []string, now time.Time) bool {
	if leaf == nil || now.After(leaf.NotAfter.Add(-24*time.Hour)) || now.Before(leaf.NotBefore) {
		return false
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// selfSigned makes an ECDSA P-256 certificate that is its own CA, so that a
// client can trust exactly this certificate (curl --cacert, openssl -CAfile).
func selfSigned(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"postlab practice lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// serverTLSConfig is TLS 1.2 and newer (RFC 8996 retires 1.0 and 1.1).
func (m *tlsMaterial) serverTLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{m.cert},
		MinVersion:   tls.VersionTLS12,
	}
}
