package evidence

import (
	"bytes"
	"crypto/elliptic"
	"reflect"
	"testing"

	"github.com/ccakit/cca/internal/classtest"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// fuzzSeeds are valid evidence of every generation (signed with the base
// keys, so that Verify can succeed) and the bad tokens of bad_test.go.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, fm := range []Format{FormatREL0, FormatLegacy, FormatCMW} {
		seeds = append(seeds, newSpec(f, fm).build(f))
	}
	for _, shape := range []func(testing.TB, *spec) *spec{tfrmmMain, tfrmmV09, tfmHybrid, veraisonGood, draft03, draft04} {
		seeds = append(seeds, shape(f, nil).build(f))
	}
	p := samplePlatform()
	p.Challenge = rep(0x0D, 32)
	if payload, err := p.Encode(); err == nil {
		bare, err := token.SignPayload(payload, fixedKey(f, elliptic.P384(), 0x11), nil)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, bare, bare[1:])
	}
	iak, _ := baseKeys(f)
	p256 := fixedKey(f, elliptic.P256(), 0x33)
	for _, fm := range []Format{FormatREL0, FormatLegacy} {
		raw, err := Create(samplePlatform(), sampleRealm(token.SHA512), iak, p256, fm, nil)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, raw)
	}
	for _, tc := range badCases() {
		if raw, _ := tc.build(f); len(raw) < 8<<10 {
			seeds = append(seeds, raw)
		}
	}
	return seeds
}

// oneClass fails unless err wraps exactly one of the token error classes.
var oneClass = classtest.One

// FuzzDecode: Decode, Validate and Verify never panic; every failure has
// exactly one class (and Verify's a leg); and the claims of evidence that
// decodes survive re-encoding and decoding unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	iak, _ := baseKeys(f)
	cpak := iak.Public()
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Decode(data)
		if err != nil {
			oneClass(t, err)
			if ev != nil {
				t.Fatal("evidence returned with an error")
			}
			return
		}
		_ = ev.Kind().String()
		if err := ev.Validate(ValidateOptions{RejectUnknownClaims: true}); err != nil {
			oneClass(t, err)
		}
		if ev.Bare() {
			return // the legs need a realm token
		}
		if err := runLegs(ev, cpak, legOptions{Nonce: nonce}); err != nil {
			oneClass(t, err)
			if failedLeg(err) == "" {
				t.Fatalf("verify error without a leg: %v", err)
			}
		}
		pb, err := ev.Platform.Encode()
		if err != nil {
			t.Fatalf("re-encoding platform claims: %v", err)
		}
		p2, err := platform.Decode(pb)
		if err != nil {
			t.Fatalf("re-encoded platform claims do not decode: %v", err)
		}
		if !reflect.DeepEqual(ev.Platform, p2) {
			t.Fatalf("platform claims changed:\n%+v\n%+v", ev.Platform, p2)
		}
		rb, err := ev.Realm.Encode()
		if err != nil {
			t.Fatalf("re-encoding realm claims: %v", err)
		}
		r2, err := realm.Decode(rb)
		if err != nil {
			t.Fatalf("re-encoded realm claims do not decode: %v", err)
		}
		if rb2, err := r2.Encode(); err != nil || !bytes.Equal(rb, rb2) {
			t.Fatalf("realm claims changed:\n%+v\n%+v", ev.Realm, r2)
		}
	})
}
