package endorsement

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	c "github.com/ccakit/cca/internal/cbortest"
	"github.com/ccakit/cca/token"
)

var fixedNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// handSigned builds a signed CoRIM without Sign or go-cose: headers with
// cbortest, the signature with crypto/ecdsa over Sig_structure (RFC 9052
// §4.4), P-256/ES256.
func handSigned(t *testing.T, key *ecdsa.PrivateKey, prot, payload []byte) []byte {
	t.Helper()
	tbs := c.Arr(c.Tstr("Signature1"), c.Bstr(prot), c.Bstr(nil), c.Bstr(payload))
	h := sha256.Sum256(tbs)
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return c.Tag(18, c.Arr(c.Bstr(prot), c.Map(), c.Bstr(payload), c.Bstr(sig)))
}

func metaHeader(alg int64, contentType string) []byte {
	return c.Map(c.Int(1), c.Int(alg), c.Int(3), c.Tstr(contentType), c.Int(8), c.Bstr(c.Map(c.Int(0), c.Map(c.Int(0), c.Tstr("ACME")))))
}

func TestSigned(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(fixturePlatform(), fxTAKey, SignOptions{SignerName: "ACME signer"})
	if err != nil {
		t.Fatal(err)
	}
	e := mustDecode(t, signed, DecodeOptions{SignerKey: &fxTAKey.PublicKey})
	if !e.Signed || e.SignerName != "ACME signer" || len(e.Platforms) != 1 {
		t.Errorf("signed CoRIM: %+v", e)
	}
	if e := mustDecode(t, signed, DecodeOptions{SkipSignatureCheckUnsafe: true}); e.Signed || len(e.Platforms) != 1 {
		t.Errorf("unchecked signed CoRIM: Signed %v", e.Signed)
	}
	legacy := c.Cat([]byte{0xd9, 0x01, 0xf4, 0xd9, 0x01, 0xf6}, signed)
	if e := mustDecode(t, legacy, DecodeOptions{SignerKey: &fxTAKey.PublicKey}); !e.Signed {
		t.Error("legacy 500(502()) prefix: not signed")
	}
	if e := mustDecode(t, signed[1:], DecodeOptions{SignerKey: &fxTAKey.PublicKey}); !e.Signed {
		t.Error("untagged COSE_Sign1: not signed")
	}
	hand := handSigned(t, p256, metaHeader(-7, ContentType), fixtureRealm())
	if e := mustDecode(t, hand, DecodeOptions{SignerKey: &p256.PublicKey}); !e.Signed || e.SignerName != "ACME" || len(e.Realms) != 1 {
		t.Errorf("hand-built signed CoRIM: %+v", e)
	}

	tampered := append([]byte{}, signed...)
	i := strings.Index(string(tampered), "acme-fw/refvals")
	tampered[i] = 'A'

	tests := []struct {
		name  string
		in    []byte
		opts  DecodeOptions
		class error
		want  string
	}{
		{"no key", signed, DecodeOptions{}, ErrSignature, "no key to check its signature with"},
		{"wrong key", signed, DecodeOptions{SignerKey: &otherKey.PublicKey}, ErrSignature, "does not verify"},
		{"tampered", tampered, DecodeOptions{SignerKey: &fxTAKey.PublicKey}, ErrSignature, "does not verify"},
		{"key of another algorithm", signed, DecodeOptions{SignerKey: &p256.PublicKey}, ErrAlgorithm, "header alg ES384 but the key is for ES256"},
		{"unsigned but required", fixtureTA(), DecodeOptions{RequireSigned: true}, ErrSignature, "not signed"},
		{"content type", handSigned(t, p256, metaHeader(-7, "application/cbor"), fixtureRealm()), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, `content type "application/cbor"`},
		{"no meta", handSigned(t, p256, c.Map(c.Int(1), c.Int(-7), c.Int(3), c.Tstr(ContentType)), fixtureRealm()), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, "corim-meta (header 8) is missing"},
		{"alg unprotected", c.Tag(18, c.Arr(c.Bstr(c.Map(c.Int(3), c.Tstr(ContentType))), c.Map(c.Int(1), c.Int(-7)), c.Bstr(fixtureRealm()), c.Bstr([]byte{1}))), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, "header 1 must be protected"},
		{"no alg", handSigned(t, p256, c.Map(c.Int(3), c.Tstr(ContentType)), fixtureRealm()), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, "no alg (1)"},
		{"text alg", handSigned(t, p256, c.Map(c.Int(1), c.Tstr("ES256"), c.Int(3), c.Tstr(ContentType)), fixtureRealm()), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, "alg (1) is string"},
		{"header twice", c.Tag(18, c.Arr(c.Bstr(c.Map(c.Int(1), c.Int(-7), c.Tstr("x\x1b[31m"), c.Int(0))), c.Map(c.Tstr("x\x1b[31m"), c.Int(0)), c.Bstr(fixtureRealm()), c.Bstr([]byte{1}))), DecodeOptions{SignerKey: &p256.PublicKey}, ErrInvalid, `header "x\x1b[31m" is in both`},
		{"detached", c.Tag(18, c.Arr(c.Bstr(metaHeader(-7, ContentType)), c.Map(), []byte{0xf6}, c.Bstr([]byte{1}))), DecodeOptions{SignerKey: &p256.PublicKey}, ErrMalformed, "detached"},
		{"three elements", c.Tag(18, c.Arr(c.Bstr(metaHeader(-7, ContentType)), c.Map(), c.Bstr(fixtureRealm()))), DecodeOptions{SkipSignatureCheckUnsafe: true}, ErrMalformed, "3 elements"},
		{"payload not a CoRIM", handSigned(t, p256, metaHeader(-7, ContentType), c.Tstr("x")), DecodeOptions{SignerKey: &p256.PublicKey}, ErrMalformed, "string"},
		{"meta expired", handSigned(t, p256, c.Map(c.Int(1), c.Int(-7), c.Int(3), c.Tstr(ContentType), c.Int(8),
			c.Bstr(c.Map(c.Int(0), c.Map(c.Int(0), c.Tstr("ACME")), c.Int(1), c.Map(c.Int(1), c.Tag(1, c.Int(1700000000)))))), fixtureRealm()),
			DecodeOptions{SignerKey: &p256.PublicKey, Now: fixedNow}, ErrExpired, "signature validity ended 2023-11-14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in, tt.opts)
			if err == nil {
				t.Fatal("decoded")
			}
			if !errors.Is(err, tt.class) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant %q containing %q", err, tt.class, tt.want)
			}
		})
	}
}

// TestSignedX5Chain: with Roots, the signature is checked with the
// x5chain's leaf once the chain verifies to a root (as Veraison requires
// of provisioned signed CoRIMs).
func TestSignedX5Chain(t *testing.T) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "CoRIM signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &fxTAKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(fixtureTA(), fxTAKey, SignOptions{SignerName: "ACME", X5Chain: [][]byte{leafDER}})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	if e := mustDecode(t, signed, DecodeOptions{Roots: roots}); !e.Signed {
		t.Error("not signed")
	}
	if _, err := Decode(signed, DecodeOptions{Roots: x509.NewCertPool()}); !errors.Is(err, ErrSignature) || !errors.Is(err, token.ErrSignature) {
		t.Errorf("unknown root: %v", err)
	}
	plain, err := Sign(fixtureTA(), fxTAKey, SignOptions{SignerName: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(plain, DecodeOptions{Roots: roots}); !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "no x5chain") {
		t.Errorf("no x5chain: %v", err)
	}
}
