package evidence_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"
	"strings"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
)

// Evidence made as a CCA machine makes it, and taken apart again: the
// decoded claims and their generation. (Verifying it is the verifier
// package's Verifier.Verify.)
func ExampleDecode() {
	cpak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
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
		Challenge:              []byte(strings.Repeat("c", 64)),
		PersonalizationValue:   make([]byte, 64),
		HashAlgID:              "sha-256",
		InitialMeasurement:     []byte(strings.Repeat("\x1a", 32)),
		ExtensibleMeasurements: [][]byte{make([]byte, 32), make([]byte, 32), make([]byte, 32), make([]byte, 32)},
	}
	tok, err := evidence.Create(p, r, cpak, rak, evidence.FormatCMW, nil)
	if err != nil {
		log.Fatal(err)
	}

	e, err := evidence.Decode(tok)
	if err != nil {
		log.Fatal(err)
	}
	if err := e.Validate(evidence.ValidateOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Kind())
	fmt.Println(e.Platform.Profile, e.Realm.Profile)
	fmt.Printf("RIM %x…, %d software component(s)\n", e.Realm.InitialMeasurement[:4], len(e.Platform.SwComponents))
	// Output:
	// CMW collection (tag 907) with 2023 (1.0) profiles
	// tag:arm.com,2023:cca_platform#1.0.0 tag:arm.com,2023:realm#1.0.0
	// RIM 1a1a1a1a…, 1 software component(s)
}
