package evidence

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"testing"

	"github.com/ccakit/cca/token"
)

// benchEvidence is REL0 evidence signed ES384 by both keys, the common case
// (TF-A and TF-RMM sign with P-384 keys).
func benchEvidence(b *testing.B) ([]byte, *ecdsa.PrivateKey) {
	b.Helper()
	iak, rak := fixedKey(b, elliptic.P384(), 0x11), fixedKey(b, elliptic.P384(), 0x22)
	raw, err := Create(samplePlatform(), sampleRealm(token.SHA256), iak, rak, FormatREL0, nil)
	if err != nil {
		b.Fatal(err)
	}
	return raw, iak
}

func BenchmarkDecodeValidate(b *testing.B) {
	raw, _ := benchEvidence(b)
	b.ReportAllocs()
	for b.Loop() {
		ev, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := ev.Validate(ValidateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAndLegs(b *testing.B) {
	raw, iak := benchEvidence(b)
	opts := legOptions{Nonce: nonce}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeAndRunLegs(raw, &iak.PublicKey, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTwoP384Verifications is the floor for BenchmarkDecodeAndLegs: the two
// ECDSA P-384 verifications it cannot avoid, on precomputed SHA-384
// digests, and nothing else.
func BenchmarkTwoP384Verifications(b *testing.B) {
	k1, k2 := fixedKey(b, elliptic.P384(), 0x11), fixedKey(b, elliptic.P384(), 0x22)
	d1, d2 := sha512.Sum384([]byte("platform Sig_structure")), sha512.Sum384([]byte("realm Sig_structure"))
	s1, err := ecdsa.SignASN1(rand.Reader, k1, d1[:])
	if err != nil {
		b.Fatal(err)
	}
	s2, err := ecdsa.SignASN1(rand.Reader, k2, d2[:])
	if err != nil {
		b.Fatal(err)
	}
	p1, p2 := &k1.PublicKey, &k2.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(p1, d1[:], s1) || !ecdsa.VerifyASN1(p2, d2[:], s2) {
			b.Fatal("verification failed")
		}
	}
}
