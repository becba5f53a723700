package endorsement

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	c "github.com/ccakit/cca/internal/cbortest"
)

// FuzzDecode: Decode never panics, and every failure wraps one of the
// package's errors; a decoded CoRIM's contents hold the profile's sizes.
// Seeds: testdata/*.cbor and the hand-built shapes of the tests.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.cbor"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(c.Map(c.Int(0), c.Bstr(fxUUID), c.Int(1), c.Arr(c.Bstr(c.Tag(506, legacyPlatformCoMID(2)))), c.Int(3), c.Arr(c.Tstr(ProfilePlatformSSD))))
	f.Add(corim("r", c.Tstr(ProfileRealmLegacy), c.Tag(506, c.Bstr(legacyRealmCoMID()))))
	if signed, err := Sign(fixturePlatform(), fxTAKey, SignOptions{SignerName: "x"}); err == nil {
		f.Add(signed)
	}
	sentinels := []error{ErrMalformed, ErrProfile, ErrInvalid, ErrAlgorithm, ErrSignature, ErrExpired}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data, DecodeOptions{SkipSignatureCheckUnsafe: true})
		IsCoRIM(data)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no package error: %v", err)
		}
		for _, ta := range e.TrustAnchors {
			if len(ta.ImplementationID) != implIDSize || len(ta.InstanceID) != instanceIDSize || ta.Key == nil {
				t.Fatalf("trust anchor %+v", ta)
			}
		}
		for _, r := range e.Realms {
			if len(r.RIM) != digestSizes[r.HashAlg] {
				t.Fatalf("realm %+v", r)
			}
		}
	})
}
