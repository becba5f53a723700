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
	"github.com/ccakit/cca/token"
)

// The shape of evidence is named by its pairing of profiles, whatever the
// wrapper; Coherent says whether real firmware emits it, Draft whether
// only a draft defines it.
func ExampleKind() {
	for _, k := range []evidence.Kind{
		{Wrapper: token.Wrapper907, Platform: token.Gen1, Realm: token.Gen2,
			PlatformProfile: token.ProfilePlatform1, RealmProfile: token.ProfileRealm2},
		{Wrapper: token.Wrapper907, Platform: token.GenLegacy, Realm: token.GenLegacy,
			PlatformProfile: token.ProfilePlatformLegacy},
		{Wrapper: token.Wrapper907, Platform: token.Gen2026, Realm: token.Gen2026,
			PlatformProfile: token.ProfilePlatform2026Delegated, RealmProfile: token.ProfileRealm2026},
	} {
		fmt.Printf("%v\n  coherent %v, draft %v\n", k, k.Coherent(), k.Draft())
	}
	// Output:
	// CMW collection, 2023 platform profile, realm 2.0 profile
	//   coherent true, draft false
	// legacy tokens in a CMW collection (tag 907): CCA-SSD platform profile, profile-less realm, raw-point RAK
	//   coherent true, draft false
	// CMW collection, 2026 platform profile, realm 2026 profile (shape of draft-ffm-rats-cca-token-04; no producer emits it)
	//   coherent false, draft true
}

// Pairings is the coherence table, each row with its source.
func ExamplePairings() {
	for _, p := range evidence.Pairings() {
		if p.Coherent {
			fmt.Printf("%s: %s\n", p.Name, p.Sources)
		}
	}
	// Output:
	// CCA-SSD platform profile, profile-less realm, raw-point RAK: TF-RMM v0.5.0 with TF-A ≤ v2.11's sample platform token; Islet RMM rsi/attestation; tf-m-tools cca_example_token_legacy.cbor (tag 907)
	// 2023 platform profile, realm 1.0 profile: TF-RMM v0.6.0–v0.9.0 with TF-A ≥ v2.12's sample platform token; tf-m-tools at TF-Mv2.3.0
	// 2023 platform profile, realm 2.0 profile: TF-RMM main 72aea692 with TF-A's sample platform token; tf-m-tools cca_example_token.cbor
}

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
