package verifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

func TestVerify(t *testing.T) {
	cpak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	nonce := bytes.Repeat([]byte{0x4e}, 64)
	p := &platform.Claims{ImplementationID: bytes.Repeat([]byte{0xaa}, 32), InstanceID: append([]byte{1}, bytes.Repeat([]byte{0xbb}, 32)...),
		Config: []byte{0}, Lifecycle: 0x3000, HashAlgID: "sha-256",
		SwComponents: []platform.SwComponent{{MeasurementValue: bytes.Repeat([]byte{1}, 32), SignerID: bytes.Repeat([]byte{2}, 32)}}}
	r := &realm.Claims{Challenge: nonce, PersonalizationValue: make([]byte, 64), HashAlgID: "sha-256",
		InitialMeasurement: make([]byte, 32), ExtensibleMeasurements: [][]byte{make([]byte, 32), make([]byte, 32), make([]byte, 32), make([]byte, 32)}}
	tok, err := evidence.Create(p, r, cpak, rak, evidence.FormatCMW, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := Verify(tok, cpak.Public(), nonce); err != nil || !bytes.Equal(e.Platform.InstanceID, p.InstanceID) {
		t.Fatalf("good token: %v", err)
	}
	for _, tc := range []struct {
		name  string
		key   *ecdsa.PrivateKey
		nonce []byte
		class error
	}{
		{"another CPAK", other, nonce, token.ErrSignature},
		{"another nonce", cpak, bytes.Repeat([]byte{0x4f}, 64), token.ErrFreshness},
	} {
		if _, err := Verify(tok, tc.key.Public(), tc.nonce); !errors.Is(err, tc.class) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.class)
		}
	}
	if _, err := VerifyWith(tok, cpak.Public(), nonce, verifier.Policy{RejectUnknownClaims: true}); err != nil {
		t.Errorf("strict: %v", err)
	}
}
