package rot_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"

	"github.com/veraison/go-cose"

	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// The root of trust signs platform tokens with its CPAK. The token's
// instance id is the UEID of type RAND (0x01) followed by SHA-256 of the
// CPAK's uncompressed point, computed here again from the key.
func ExampleRoT_PlatformToken() {
	r, err := rot.New(rot.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	challenge := bytes.Repeat([]byte{0xc4}, 64) // the hash of a RAK claim, in the RMM's use
	raw, err := r.PlatformToken(challenge)
	if err != nil {
		fmt.Println(err)
		return
	}
	sign1, err := token.DecodeSign1(raw, "platform token")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signature:", sign1.Verify(r.CPAK(), []cose.Algorithm{cose.AlgorithmES384}))
	claims, err := platform.Decode(sign1.Payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	pub, err := r.CPAK().(*ecdsa.PublicKey).ECDH()
	if err != nil {
		fmt.Println(err)
		return
	}
	digest := sha256.Sum256(pub.Bytes())
	fmt.Println("instance id:", bytes.Equal(claims.InstanceID, append([]byte{0x01}, digest[:]...)))
	fmt.Println("challenge:", bytes.Equal(claims.Challenge, challenge), "lifecycle:", claims.Lifecycle)
	// Output:
	// signature: <nil>
	// instance id: true
	// challenge: true lifecycle: 0x3003 (secured)
}
