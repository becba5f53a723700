package realm_test

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

// FuzzDecode: Decode, Validate and RAK never panic and fail with one class
// each; claims that decode re-encode to claims that decode equal, and
// survive the JSON form.
func FuzzDecode(f *testing.F) {
	f.Add(sampleCBOR())
	for _, p := range createdPayloads(f) {
		f.Add(p)
	}
	f.Add(cMap(cInt(265), cTstr("tag:arm.com,2024:realm#2.0.0"), cInt(256), cBstr(rep(1, 33)), cInt(44243), cInt(0)))
	f.Add(cMap(cInt(44239), cArr(cBstr(nil), cBstr(rep(1, 64)), cBstr(rep(1, 32)))))
	f.Add(cMap(cInt(44237), cBstr(gRaw), cInt(44236), cTstr("sha-384")))
	f.Add(cMap(cInt(10), []byte{0xf6}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := realm.Decode(data)
		if err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrSyntax)
			return
		}
		_ = c.Generation()
		if err := c.Validate(realm.ValidateOptions{RejectUnknownClaims: true}); err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrMissingClaim, token.ErrSyntax, token.ErrProfile, token.ErrAlgorithm)
		}
		if _, err := c.RAK(); err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrSyntax, token.ErrProfile, token.ErrAlgorithm)
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		c2, err := realm.Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
		if !reflect.DeepEqual(realm.ForgetRAK(c), realm.ForgetRAK(c2)) {
			t.Fatalf("claims changed:\n%+v\n%+v", c, c2)
		}
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		var back realm.Claims
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("JSON %s does not read back: %v", j, err)
		}
		back.Extra = c.Extra // no JSON form
		if !reflect.DeepEqual(&back, c) {
			t.Fatalf("JSON round trip changed the claims: %s", j)
		}
	})
}

var oneClass = classtest.One

// createdPayloads are the realm payloads of evidence of every format and
// both measurement algorithms.
func createdPayloads(f *testing.F) [][]byte {
	var out [][]byte
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), rep(0x11, 48))
	if err != nil {
		f.Fatal(err)
	}
	p := &platform.Claims{ImplementationID: rep(0xAA, 32), InstanceID: append([]byte{1}, rep(0xBB, 32)...),
		Lifecycle: 0x3003, HashAlgID: "sha-256", SwComponents: []platform.SwComponent{{MeasurementValue: rep(1, 32), SignerID: rep(2, 32)}}}
	for _, fm := range []evidence.Format{evidence.FormatREL0, evidence.FormatLegacy, evidence.FormatCMW} {
		for _, n := range []int{32, 64} {
			r := sample()
			r.Profile, r.PubKey = "", nil
			if n == 64 {
				r.HashAlgID, r.InitialMeasurement = "sha-512", rep(0x1A, 64)
				r.ExtensibleMeasurements = [][]byte{rep(1, 64), rep(2, 64), rep(3, 64), rep(4, 64)}
			}
			raw, err := evidence.Create(p, r, k, k, fm, nil)
			if err != nil {
				f.Fatal(err)
			}
			ev, err := evidence.Decode(raw)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, ev.RealmSign1.Payload)
		}
	}
	return out
}
