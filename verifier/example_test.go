package verifier_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

func hexOf(b byte, n int) string { return strings.Repeat(fmt.Sprintf("%02x", b), n) }

func Example() {
	// Evidence as a CCA machine (or ccakit's emulator) would produce it,
	// signed with a platform key (CPAK) and a realm key; evidence's
	// examples show how it is made.
	tok, nonce, p, _, cpak := sampleEvidence()

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

// sampleEvidence makes the evidence the examples verify: its nonce, its
// claims, and the CPAK that signed it.
func sampleEvidence() (tok, nonce []byte, p *platform.Claims, r *realm.Claims, cpak *ecdsa.PrivateKey) {
	cpak, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rak, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	nonce = []byte(strings.Repeat("n", 32))
	p = &platform.Claims{
		ImplementationID: []byte(strings.Repeat("\xaa", 32)),
		InstanceID:       append([]byte{1}, strings.Repeat("\xbb", 32)...),
		Config:           []byte{0xcf},
		Lifecycle:        0x3000,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RMM", MeasurementValue: []byte(strings.Repeat("\x11", 32)), SignerID: []byte(strings.Repeat("\x22", 32))},
		},
		HashAlgID: "sha-256",
	}
	r = &realm.Claims{
		Challenge:              append(append([]byte{}, nonce...), make([]byte, 32)...),
		PersonalizationValue:   make([]byte, 64),
		HashAlgID:              "sha-256",
		InitialMeasurement:     []byte(strings.Repeat("\x1a", 32)),
		ExtensibleMeasurements: [][]byte{make([]byte, 32), make([]byte, 32), make([]byte, 32), make([]byte, 32)},
	}
	tok, err := evidence.Create(p, r, cpak, rak, evidence.FormatREL0, nil)
	if err != nil {
		log.Fatal(err)
	}
	return tok, nonce, p, r, cpak
}

// fleetDB stands for the relying party's own database of platform keys:
// anything that answers TrustAnchors is a trust-anchor store.
type fleetDB struct{ keys map[string]crypto.PublicKey }

func (db fleetDB) TrustAnchors(_ context.Context, instanceID, _ []byte) ([]verifier.TrustAnchor, error) {
	k, ok := db.keys[string(instanceID)]
	if !ok {
		return nil, nil // unknown platform: not an error
	}
	return []verifier.TrustAnchor{{InstanceID: instanceID, Key: k, Where: "fleet database"}}, nil
}

// Trust anchors from the relying party's own database, and reference
// values from CoRIMs (as Veraison's provisioning takes them) combined with
// a JSON store.
func Example_stores() {
	tok, nonce, p, _, cpak := sampleEvidence()
	db := fleetDB{keys: map[string]crypto.PublicKey{string(p.InstanceID): cpak.Public()}}

	platformCoRIM, _ := endorsement.EncodePlatform("acme-firmware", endorsement.PlatformReference{
		ImplementationID: p.ImplementationID, Config: p.Config, ConfigMask: []byte{0xff},
		SwComponents: []endorsement.SwComponent{{Type: "RMM", Alg: "sha-256",
			Value: p.SwComponents[0].MeasurementValue, SignerID: p.SwComponents[0].SignerID}},
	})
	firmware, err := verifier.ReadReferenceValues(platformCoRIM, endorsement.DecodeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	realms, err := verifier.ReadReferenceValues([]byte(`{"realm": [{"initial-measurement": "`+hexOf(0x1a, 32)+`"}]}`), endorsement.DecodeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(db, verifier.WithReferenceValues(verifier.CombineReferenceValues(firmware, realms.Named("realms.json"))))
	if err != nil {
		log.Fatal(err)
	}
	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trustworthy:", res.Trustworthy)
	c, _ := res.Realm.Check(verifier.CheckInitialMeasurement, 0)
	fmt.Println(c.Detail)
	// Output:
	// trustworthy: true
	// 1a1a1a1a1a1a…1a1a1a1a (reference value realms.json: realm[0])
}

// The EAR of a platform whose firmware no reference value knows: the
// platform is a warning, as Veraison's arm-cca scheme says, and the realm,
// appraised fine on its own, is never above its platform.
func ExampleResult_EAR() {
	tok, nonce, p, _, cpak := sampleEvidence()
	anchors, _ := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: p.InstanceID, Key: cpak.Public()})
	refs, _ := verifier.NewReferenceValues(
		[]verifier.PlatformReference{{ImplementationID: p.ImplementationID, Config: p.Config, SwComponents: []verifier.SwComponentReference{
			{Type: "RMM", Value: []byte(strings.Repeat("\x99", 32)), SignerID: p.SwComponents[0].SignerID}}}},
		[]verifier.RealmReference{{InitialMeasurement: []byte(strings.Repeat("\x1a", 32))}})
	v, _ := verifier.New(anchors, verifier.WithReferenceValues(refs))
	res, _ := v.Verify(context.Background(), tok, nonce)
	ar, err := res.EAR()
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{verifier.SubmodPlatform, verifier.SubmodRealm} {
		a := ar.Submods[name]
		fmt.Printf("%s: %v, executables %d\n", name, *a.Status, a.TrustVector.Executables)
	}
	fmt.Println(*ar.Submods[verifier.SubmodPlatform].AppraisalPolicyID)
	// Output:
	// CCA_SSD_PLATFORM: warning, executables 33
	// CCA_REALM: warning, executables 3
	// policy:ARM_CCA
}

// Why a check failed, by the token layer's error class.
func ExampleCheck_Err() {
	tok, _, p, _, cpak := sampleEvidence()
	anchors, _ := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: p.InstanceID, Key: cpak.Public()})
	v, _ := verifier.New(anchors, verifier.WithPolicy(verifier.Policy{AllowUnknownPlatformUnsafe: true, AllowUnknownRealmUnsafe: true}))
	res, _ := v.Verify(context.Background(), tok, []byte(strings.Repeat("x", 32))) // not the nonce it was made for
	c, _ := res.Realm.Check(verifier.CheckFreshness, 0)
	fmt.Println(c.Outcome, errors.Is(c.Err(), token.ErrFreshness))
	// Output:
	// mismatched true
}
