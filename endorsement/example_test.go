package endorsement_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ccakit/cca/endorsement"
)

// A realm's reference values written as a CoRIM of the CCA realm profile
// and read back.
func ExampleEncodeRealm() {
	corim, err := endorsement.EncodeRealm("my-realm", endorsement.RealmReference{
		RIM:     bytes.Repeat([]byte{0xaa}, 32),
		HashAlg: "sha-256",
		REMs:    [4][]byte{bytes.Repeat([]byte{0xbb}, 32)},
	})
	if err != nil {
		panic(err)
	}
	e, err := endorsement.Decode(corim, endorsement.DecodeOptions{})
	if err != nil {
		panic(err)
	}
	r := e.Realms[0]
	fmt.Println(e.Profile)
	fmt.Printf("RIM %x… (%s), REM0 given: %v, REM1 given: %v\n", r.RIM[:4], r.HashAlg, r.REMs[0] != nil, r.REMs[1] != nil)
	fmt.Println(r.Where)
	// Output:
	// tag:arm.com,2025:cca_realm#1.0.0
	// RIM aaaaaaaa… (sha-256), REM0 given: true, REM1 given: false
	// CoRIM "my-realm", CoMID 0 (tag-id "my-realm/realm"), reference value triple 0
}

// A signed CoRIM is read only with its signer's key, unless the check is
// skipped explicitly.
func ExampleDecode_signed() {
	signer, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	cpak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	unsigned, err := endorsement.EncodeTrustAnchors("fleet-keys", endorsement.TrustAnchor{
		ImplementationID: bytes.Repeat([]byte{0x01}, 32),
		InstanceID:       append([]byte{0x01}, bytes.Repeat([]byte{0x02}, 32)...),
		Key:              &cpak.PublicKey,
	})
	if err != nil {
		panic(err)
	}
	signed, err := endorsement.Sign(unsigned, signer, endorsement.SignOptions{SignerName: "ACME"})
	if err != nil {
		panic(err)
	}
	fmt.Println(endorsement.IsCoRIM(signed))

	_, err = endorsement.Decode(signed, endorsement.DecodeOptions{})
	fmt.Println(errors.Is(err, endorsement.ErrSignature))

	e, err := endorsement.Decode(signed, endorsement.DecodeOptions{SignerKey: &signer.PublicKey})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Signed, e.SignerName, len(e.TrustAnchors))
	// Output:
	// true
	// true
	// true ACME 1
}

// Errors name the place and the defect.
func ExampleDecode_error() {
	bad, _ := endorsement.EncodeRealm("r", endorsement.RealmReference{RIM: bytes.Repeat([]byte{1}, 32), HashAlg: "sha-256"})
	bad = bytes.Replace(bad, []byte("cca.rim"), []byte("cca.rem"), 1)
	_, err := endorsement.Decode(bad, endorsement.DecodeOptions{})
	fmt.Println(err)
	// Output:
	// invalid CoRIM: CoRIM "r", CoMID 0 (tag-id "r/realm"), reference value triple 0, measurement 0: invalid mkey "cca.rem", expected 'cca.rim', 'cca.rem0'-'cca.rem3', or 'cca.rpv'
}
