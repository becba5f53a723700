package platform_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/classtest"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// FuzzDecode: Decode and Validate never panic and fail with one class
// each; claims that decode re-encode to claims that decode equal (present
// claims included), and survive the JSON form.
func FuzzDecode(f *testing.F) {
	f.Add(sampleCBOR())
	for _, p := range createdPayloads(f) {
		f.Add(p)
	}
	f.Add(cMap(cInt(265), cTstr("tag:arm.com,2024:cca_platform#2.0.0"), cInt(2394), cInt(1), cInt(2399), cArr(cMap(cInt(2), cBstr(rep(1, 32)), cInt(5), cBstr(rep(2, 32))))))
	f.Add(cMap(cInt(2395), cInt(0x30ff0), cInt(2399), cArr()))
	f.Add(cMap(cInt(2399), cArr(cMap(cInt(2), cBstr(rep(1, 32)), cInt(2), cBstr(rep(1, 32))))))
	f.Add(cMap(cInt(10), []byte{0xf6}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := platform.Decode(data)
		if err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrSyntax, token.ErrMissingClaim)
			return
		}
		_ = c.Generation()
		if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: true}); err != nil {
			oneClass(t, err, token.ErrMissingClaim, token.ErrSyntax, token.ErrProfile)
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		c2, err := platform.Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("claims changed:\n%+v\n%+v", c, c2)
		}
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		var back platform.Claims
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("JSON %s does not read back: %v", j, err)
		}
		if !sameClaims(&back, c) {
			t.Fatalf("JSON round trip changed the claims: %s", j)
		}
	})
}

var oneClass = classtest.One

// createdPayloads are the platform payloads of evidence of every format.
func createdPayloads(f *testing.F) [][]byte {
	var out [][]byte
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), rep(0x11, 48))
	if err != nil {
		f.Fatal(err)
	}
	for _, fm := range []evidence.Format{evidence.FormatREL0, evidence.FormatLegacy, evidence.FormatCMW} {
		r := &realm.Claims{Challenge: rep(0xC0, 64), PersonalizationValue: rep(0x50, 64), HashAlgID: "sha-256",
			InitialMeasurement: rep(0x1A, 32), ExtensibleMeasurements: [][]byte{rep(1, 32), rep(2, 32), rep(3, 32), rep(4, 32)}}
		p := sample()
		p.Profile = ""
		raw, err := evidence.Create(p, r, k, k, fm, nil)
		if err != nil {
			f.Fatal(err)
		}
		ev, err := evidence.Decode(raw)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, ev.PlatformSign1.Payload)
	}
	return out
}
