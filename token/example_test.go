package token_test

import (
	"fmt"
	"os"

	"github.com/veraison/go-cose"

	"github.com/ccakit/cca/token"
)

// A collection is taken apart into its two COSE_Sign1 messages, exactly as
// carried; the platform token's signature is checked with the platform's
// attestation key (the CPAK) and an allow-list of algorithms. (A relying
// party calls verifier.Verifier.Verify, which does this and the rest.)
func ExampleDecodeCollection() {
	data, err := os.ReadFile("../testvectors/cmw-es384.cbor")
	if err != nil {
		fmt.Println(err)
		return
	}
	coll, err := token.DecodeCollection(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	platform, err := token.DecodeSign1(coll.Platform, "platform token")
	if err != nil {
		fmt.Println(err)
		return
	}
	pem, err := os.ReadFile("../testvectors/keys/cpak-p384.pub.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	cpak, err := token.ParsePublicKey(pem)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrapper:", coll.Wrapper)
	fmt.Println("platform token:", platform.Alg, token.DescribeKey(cpak))
	fmt.Println("signature:", platform.Verify(cpak, []cose.Algorithm{cose.AlgorithmES384}))
	fmt.Println("ES256 only:", platform.Verify(cpak, []cose.Algorithm{cose.AlgorithmES256}) != nil)
	// Output:
	// wrapper: tag 907 CMW collection
	// platform token: ES384 ECDSA P-384
	// signature: <nil>
	// ES256 only: true
}

// The platform token's challenge is the hash of the realm token's RAK
// claim, with the realm token's RAK hash algorithm (Arm DEN0137 1.0-REL0,
// realm attestation; TF-RMM attestation_key.c): CheckBinding compares them.
func ExampleCheckBinding() {
	rakClaim := []byte{0xa4, 0x01, 0x02} // the bytes of claim 44237 as carried
	challenge, err := token.Binding("sha-256", rakClaim)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(challenge), token.CheckBinding(challenge, "sha-256", rakClaim))
	fmt.Println(token.CheckBinding(challenge, "sha-256", append(rakClaim, 0)) != nil)
	// Output:
	// 32 <nil>
	// true
}
