package verifier_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/verifier"
)

// A store that keeps CoRIM entries one by one (a database) converts each as
// FromEndorsements does.
func ExampleEndorsedRealm() {
	rim := []byte(strings.Repeat("\x1a", 32))
	ref := verifier.EndorsedRealm(endorsement.RealmReference{RIM: rim, HashAlg: "sha-256", Where: "triple 0"})
	fmt.Println(ref.HashAlgorithm, ref.ExtensibleMeasurements == nil, ref.Where)
	ref = verifier.EndorsedRealm(endorsement.RealmReference{RIM: rim, REMs: [4][]byte{2: make([]byte, 32)}})
	fmt.Println(len(ref.ExtensibleMeasurements), ref.ExtensibleMeasurements[0] == nil)
	// Output:
	// sha-256 true triple 0
	// 4 true
}

// The EAR without the tokens' claims, for a caller that writes them into
// its own encoding of the EAR (PlatformResult.ClaimsJSON,
// RealmResult.ClaimsJSON).
func ExampleResult_UnannotatedEAR() {
	tok, nonce, p, _, cpak := sampleEvidence()
	anchors, _ := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: p.InstanceID, Key: cpak.Public()})
	v, _ := verifier.New(anchors)
	res, _ := v.Verify(context.Background(), tok, nonce)
	bare, _ := res.UnannotatedEAR()
	full, _ := res.EAR()
	claims, _ := res.Platform.ClaimsJSON()
	fmt.Println(bare.Submods[verifier.SubmodPlatform].VeraisonAnnotatedEvidence == nil,
		full.Submods[verifier.SubmodPlatform].VeraisonAnnotatedEvidence != nil, len(claims) > 0)
	fmt.Println(*bare.Submods[verifier.SubmodRealm].Status == *full.Submods[verifier.SubmodRealm].Status)
	// Output:
	// true true true
	// true
}
