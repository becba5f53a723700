package verifier_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"
	"strings"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/verifier"
)

func hexOf(b byte, n int) string { return strings.Repeat(fmt.Sprintf("%02x", b), n) }

func Example() {
	// A platform key and a realm key, and evidence signed with them, as a
	// CCA machine (or ccakit's emulator) would produce.
	cpak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	nonce := []byte(strings.Repeat("n", 32))
	challenge := append(append([]byte{}, nonce...), make([]byte, 32)...)
	p := &platform.Claims{
		ImplementationID: []byte(strings.Repeat("\xaa", 32)),
		InstanceID:       append([]byte{1}, strings.Repeat("\xbb", 32)...),
		Config:           []byte{0xcf},
		Lifecycle:        0x3000,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RMM", MeasurementValue: []byte(strings.Repeat("\x11", 32)), SignerID: []byte(strings.Repeat("\x22", 32))},
		},
		HashAlgID: "sha-256",
	}
	r := &realm.Claims{
		Challenge:              challenge,
		PersonalizationValue:   make([]byte, 64),
		HashAlgID:              "sha-256",
		InitialMeasurement:     []byte(strings.Repeat("\x1a", 32)),
		ExtensibleMeasurements: [][]byte{make([]byte, 32), make([]byte, 32), make([]byte, 32), make([]byte, 32)},
	}
	tok, err := evidence.Create(p, r, cpak, rak, evidence.FormatREL0, nil)
	if err != nil {
		log.Fatal(err)
	}

	// The relying party's configuration: the trusted CPAK and the reference
	// values, in the JSON stores users of Veraison tools already have.
	anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: p.InstanceID, Key: cpak.Public()})
	if err != nil {
		log.Fatal(err)
	}
	refs, err := verifier.ParseReferenceValues([]byte(`{
	  "platform": [{"implementation-id": "` + hexOf(0xaa, 32) + `", "platform-configuration": "cf",
	                "sw-components": [{"component-type": "RMM", "measurement-value": "` + hexOf(0x11, 32) + `", "signer-id": "` + hexOf(0x22, 32) + `"}]}],
	  "realm": [{"initial-measurement": "` + hexOf(0x1a, 32) + `"}]
	}`))
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(anchors, verifier.WithReferenceValues(refs))
	if err != nil {
		log.Fatal(err)
	}

	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		log.Fatal(err) // misuse only: evidence problems are in res
	}
	fmt.Println("trustworthy:", res.Trustworthy)
	for _, c := range res.Realm.Checks[5:] {
		fmt.Println(c.Name()+":", c.Outcome)
	}
	// Output:
	// trustworthy: true
	// freshness: matched
	// initial measurement: matched
	// personalization value: not-checked
	// REM 0: not-checked
	// REM 1: not-checked
	// REM 2: not-checked
	// REM 3: not-checked
}
