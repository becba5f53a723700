package verifier

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"sync"
	"testing"

	cose "github.com/veraison/go-cose"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Test material is made here, on the fly, with generated keys: no fixture
// is in the library's import graph.

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var (
	keysOnce                     sync.Once
	testCPAK, testRAK, testOther *ecdsa.PrivateKey
	testCPAK256                  *ecdsa.PrivateKey
)

func genKey(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// keys returns the package's test keys: a P-384 CPAK, a P-384 RAK, another
// P-384 key that nobody trusts, and a P-256 CPAK.
func keys() (cpak, rak, other, cpak256 *ecdsa.PrivateKey) {
	keysOnce.Do(func() {
		testCPAK, testRAK, testOther = genKey(elliptic.P384()), genKey(elliptic.P384()), genKey(elliptic.P384())
		testCPAK256 = genKey(elliptic.P256())
	})
	return testCPAK, testRAK, testOther, testCPAK256
}

var (
	testImplID     = rep(0xAA, 32)
	testInstanceID = append([]byte{0x01}, rep(0xBB, 32)...)
	testNonce      = rep(0x4E, 32)
)

func samplePlatform() *platform.Claims {
	return &platform.Claims{
		ImplementationID: bytes.Clone(testImplID),
		InstanceID:       bytes.Clone(testInstanceID),
		Config:           []byte{0xCF, 0xE5, 0x00, 0x00},
		Lifecycle:        0x3003,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RSE_BL1_2", MeasurementValue: rep(0x11, 32), SignerID: rep(0x21, 32), MeasurementDesc: "sha-256"},
			{MeasurementType: "BL2", MeasurementValue: rep(0x12, 32), SignerID: rep(0x21, 32), MeasurementDesc: "sha-256"},
			{MeasurementType: "RMM", MeasurementValue: rep(0x13, 32), Version: "1.0.0", SignerID: rep(0x22, 32), MeasurementDesc: "sha-256"},
		},
		HashAlgID: "sha-256",
	}
}

func sampleRealm() *realm.Claims {
	return &realm.Claims{
		PersonalizationValue:   rep(0x50, 64),
		HashAlgID:              token.SHA256,
		InitialMeasurement:     rep(0x1A, 32),
		ExtensibleMeasurements: [][]byte{rep(0xE1, 32), rep(0xE2, 32), rep(0xE3, 32), rep(0xE4, 32)},
	}
}

// build signs claims into evidence whose realm challenge is the padded
// nonce.
func build(t testing.TB, p *platform.Claims, r *realm.Claims, cpak *ecdsa.PrivateKey, f evidence.Format, nonce []byte) []byte {
	t.Helper()
	_, rak, _, _ := keys()
	rc := *r
	var err error
	if rc.Challenge, err = token.PadNonce(nonce); err != nil {
		t.Fatal(err)
	}
	tok, err := evidence.Create(p, &rc, cpak, rak, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// goodToken is a REL0 token with the sample claims, for testNonce.
func goodToken(t testing.TB) []byte {
	cpak, _, _, _ := keys()
	return build(t, samplePlatform(), sampleRealm(), cpak, evidence.FormatREL0, testNonce)
}

func sampleAnchors(t testing.TB) *TrustAnchors {
	t.Helper()
	cpak, _, _, _ := keys()
	ta, err := NewTrustAnchors(TrustAnchor{InstanceID: testInstanceID, ImplementationID: testImplID, Key: cpak.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return ta
}

// samplePlatformRef and sampleRealmRef describe the sample claims exactly.
func samplePlatformRef() PlatformReference {
	p := samplePlatform()
	ref := PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config}
	for _, sc := range p.SwComponents {
		ref.SwComponents = append(ref.SwComponents, SwComponentReference{
			Type: sc.MeasurementType, Value: sc.MeasurementValue, SignerID: sc.SignerID, Version: sc.Version,
		})
	}
	return ref
}

func sampleRealmRef() RealmReference {
	r := sampleRealm()
	return RealmReference{
		InitialMeasurement:     r.InitialMeasurement,
		PersonalizationValue:   r.PersonalizationValue,
		ExtensibleMeasurements: r.ExtensibleMeasurements,
		HashAlgorithm:          r.HashAlgID,
	}
}

func refValues(t testing.TB, platforms []PlatformReference, realms []RealmReference) *ReferenceValues {
	t.Helper()
	rv, err := NewReferenceValues(platforms, realms)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

func sampleRefs(t testing.TB) *ReferenceValues {
	return refValues(t, []PlatformReference{samplePlatformRef()}, []RealmReference{sampleRealmRef()})
}

func newVerifier(t testing.TB, ta TrustAnchorStore, opts ...Option) *Verifier {
	t.Helper()
	v, err := New(ta, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func verify(t testing.TB, v *Verifier, tok, nonce []byte) *Result {
	t.Helper()
	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// resign replaces the signature of the platform (which == 0) or realm token
// of tok, signing the same payload with key.
func resign(t testing.TB, tok []byte, which int, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	e, err := evidence.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	coll := *e.Collection
	if which == 0 {
		coll.Platform, err = token.SignPayload(e.PlatformSign1.Payload, key, nil)
	} else {
		coll.Realm, err = token.SignPayload(e.RealmSign1.Payload, key, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := coll.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signPlatform signs platform claims as they are (no validation, no
// binding filled in) and pairs them with the realm token of realmFrom.
func signPlatform(t testing.TB, p *platform.Claims, realmFrom []byte, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	payload, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := token.SignPayload(payload, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := token.DecodeCollection(realmFrom)
	if err != nil {
		t.Fatal(err)
	}
	coll.Platform = pt
	out, err := coll.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkOutcome asserts one check's outcome (and Required for not-checked).
func checkOutcome(t testing.TB, checks []Check, name string, want Outcome, required bool) {
	t.Helper()
	c, ok := checkNamed(checks, name)
	if !ok {
		t.Fatalf("no check %q in %+v", name, checks)
	}
	if c.Outcome != want || c.Required != required {
		t.Fatalf("check %q: got %s (required %v, %q), want %s (required %v)", name, c.Outcome, c.Required, c.Detail, want, required)
	}
}

type ecdsaKey = ecdsa.PrivateKey

type coseAlg = cose.Algorithm

const coseES256 = cose.AlgorithmES256

type platformClaims = platform.Claims

// checkNamed finds a check by its display name ("sw component #2 RMM").
func checkNamed(checks []Check, name string) (Check, bool) {
	for _, c := range checks {
		if c.Name() == name {
			return c, true
		}
	}
	return Check{}, false
}
