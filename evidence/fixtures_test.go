package evidence

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// rep returns n copies of b, a readable way to write fixed test values.
func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func samplePlatform() *platform.Claims {
	return &platform.Claims{
		ImplementationID: rep(0xAA, 32),
		InstanceID:       append([]byte{0x01}, rep(0xBB, 32)...),
		Config:           []byte{0xCF, 0xE5, 0x00, 0x00},
		Lifecycle:        0x3003,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RSE_BL1_2", MeasurementValue: rep(0x11, 32), SignerID: rep(0x21, 32), MeasurementDesc: "sha-256"},
			{MeasurementType: "RMM", MeasurementValue: rep(0x12, 32), Version: "1.0.0", SignerID: rep(0x22, 32), MeasurementDesc: "sha-256"},
		},
		VerificationService: "https://veraison.example/.well-known/veraison/verification",
		HashAlgID:           "sha-256",
	}
}

func sampleRealm(hash string) *realm.Claims {
	n := 32
	if hash == token.SHA512 {
		n = 64
	}
	return &realm.Claims{
		Challenge:              rep(0xC0, 64),
		PersonalizationValue:   rep(0x50, 64),
		HashAlgID:              hash,
		InitialMeasurement:     rep(0x1A, n),
		ExtensibleMeasurements: [][]byte{rep(0xE1, n), rep(0xE2, n), rep(0xE3, n), rep(0xE4, n)},
	}
}

func newKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixedKey is a key of curve c with the private scalar b, b, ..., b: stable
// keys for golden output and fast test set-up.
func fixedKey(t testing.TB, c elliptic.Curve, b byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.ParseRawPrivateKey(c, rep(b, (c.Params().BitSize+7)/8))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

// testRSAKey is one 2048-bit RSA key shared by the tests (generation is slow).
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() { rsaKey, rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
	if rsaErr != nil {
		t.Fatal(rsaErr)
	}
	return rsaKey
}
