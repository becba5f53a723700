package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCert issues a certificate for cn signed by parent (self-signed when
// parent is nil) and returns it with its key.
func testCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: ca, BasicConstraintsValid: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, k, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writePEMKey(t *testing.T, path string, k *ecdsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServeMTLS: with --tls-cert and --client-ca the public listener serves
// HTTPS to anyone, and the admin listener (provisioning) only to clients
// with a certificate from the CA — also on a non-loopback address.
func TestServeMTLS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	ca, caKey, caPEM := testCert(t, "ccakit test CA", nil, nil, true)
	_, srvKey, srvPEM := testCert(t, "127.0.0.1", ca, caKey, false)
	_, cliKey, cliPEM := testCert(t, "operator", ca, caKey, false)
	for name, b := range map[string][]byte{"ca.pem": caPEM, "srv.pem": srvPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePEMKey(t, filepath.Join(dir, "srv.key"), srvKey)
	o := serveOptions{listen: "127.0.0.1:0", adminListen: "0.0.0.0:0", nonceEncoding: "compat", logFormat: "text", logLevel: "error",
		nonceSize: 48, sessionTTL: time.Minute, maxBody: 1 << 20, shutdown: 5 * time.Second,
		tlsCert: filepath.Join(dir, "srv.pem"), tlsKey: filepath.Join(dir, "srv.key"), caCrt: filepath.Join(dir, "ca.pem")}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, os.Stderr, o, func(p, a string) { addrs <- [2]string{p, a} }) }()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	_, adminPort, _ := net.SplitHostPort(a[1])
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	get := func(url string, certs []tls.Certificate) (int, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		res, err := c.Get(url)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if s, err := get("https://"+a[0]+"/.well-known/veraison/verification", nil); err != nil || s != 200 {
		t.Fatalf("public over TLS: %d %v", s, err)
	}
	admin := "https://127.0.0.1:" + adminPort + "/.well-known/veraison/provisioning"
	if _, err := get(admin, nil); err == nil {
		t.Fatal("admin listener answered a client without a certificate")
	}
	pair, err := tls.X509KeyPair(cliPEM, func() []byte {
		der, _ := x509.MarshalPKCS8PrivateKey(cliKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := get(admin, []tls.Certificate{pair}); err != nil || s != 200 {
		t.Fatalf("admin with a client certificate: %d %v", s, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
