package token_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/classtest"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

var fuzzKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), rep(0x11, 48))
	if err != nil {
		panic(err)
	}
	return k
}()

// seedEvidence is evidence of every format, signed with fuzzKey, and the
// pieces it is made of: the collections, the COSE_Sign1 tokens, the RAK
// claims.
func seedEvidence(f *testing.F) (colls, sign1s, raks [][]byte) {
	rak := ecKey(f, elliptic.P384())
	for _, fm := range []evidence.Format{evidence.FormatREL0, evidence.FormatLegacy, evidence.FormatCMW} {
		p := &platform.Claims{ImplementationID: rep(0xAA, 32), InstanceID: append([]byte{1}, rep(0xBB, 32)...),
			Lifecycle: 0x3003, HashAlgID: "sha-256", SwComponents: []platform.SwComponent{{MeasurementValue: rep(1, 32), SignerID: rep(2, 32)}}}
		r := &realm.Claims{Challenge: rep(0xC0, 64), PersonalizationValue: rep(0x50, 64), HashAlgID: "sha-256",
			InitialMeasurement: rep(0x1A, 32), ExtensibleMeasurements: [][]byte{rep(1, 32), rep(2, 32), rep(3, 32), rep(4, 32)}}
		raw, err := evidence.Create(p, r, fuzzKey, rak, fm, nil)
		if err != nil {
			f.Fatal(err)
		}
		ev, err := evidence.Decode(raw)
		if err != nil {
			f.Fatal(err)
		}
		colls = append(colls, raw)
		sign1s = append(sign1s, ev.Collection.Platform, ev.Collection.Realm)
		raks = append(raks, ev.Realm.PubKey)
	}
	return colls, sign1s, raks
}

var oneClass = classtest.One

// FuzzDecodeCollection: no panic; failures are ErrMalformed; a collection
// that decodes re-encodes to one that decodes to the same tokens.
func FuzzDecodeCollection(f *testing.F) {
	colls, sign1s, _ := seedEvidence(f)
	for _, c := range colls {
		f.Add(c)
		f.Add(c[:len(c)-1])
		f.Add(append(bytes.Clone(c), 0))
	}
	p, r := sign1s[0], sign1s[1]
	f.Add(cTag(399, cMap(cInt(44234), cBstr(p), cInt(44234), cBstr(p), cInt(44241), cBstr(r))))
	f.Add(cTag(907, cMap(cInt(44234), cArr(cInt(262), cBstr(p)), cInt(44241), cArr(cInt(263), cBstr(r)))))
	f.Add(cTag(399, cIndefMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))))
	f.Add(cTag(398, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := token.DecodeCollection(data)
		if err != nil {
			oneClass(t, err, token.ErrMalformed)
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		c2, err := token.DecodeCollection(enc)
		if err != nil {
			t.Fatalf("re-encoded collection does not decode: %v", err)
		}
		if c2.Wrapper != c.Wrapper || !bytes.Equal(c2.Platform, c.Platform) || !bytes.Equal(c2.Realm, c.Realm) {
			t.Fatalf("collection changed in the round trip")
		}
		if len(data) > len(enc) {
			t.Fatalf("decoded %d bytes, re-encoded in %d: something was skipped", len(data), len(enc))
		}
	})
}

// FuzzDecodeSign1: no panic; decode failures are ErrMalformed or
// ErrAlgorithm, verification failures ErrAlgorithm, ErrSignature or ErrKey;
// what decodes stops decoding when the tag is dropped or a byte is added;
// payload and signature are carried in the input.
func FuzzDecodeSign1(f *testing.F) {
	_, sign1s, _ := seedEvidence(f)
	for _, s := range sign1s {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	payload := cMap(cInt(10), cBstr(rep(1, 32)))
	f.Add(signES(f, fuzzKey, crypto.SHA384, cMap(cInt(1), cInt(-35)), cMap(), payload))
	f.Add(cTag(18, cArr(cBstr(cMap(cInt(1), cInt(-7))), cMap(), cBstr(payload), cBstr(rep(0, 64)))))
	f.Add(cTag(18, cArr(cBstr(cMap(cInt(1), cInt(-35), cInt(1), cInt(-35))), cMap(), cBstr(payload), cBstr(rep(0, 96)))))
	f.Add(cTag(18, cArr(cBstr(cMap(cInt(1), cInt(-35))), cMap(), []byte{0xf6}, cBstr(rep(0, 96)))))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := token.DecodeSign1(data, "fuzz")
		if err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrAlgorithm)
			return
		}
		if !bytes.Contains(data, s.Payload) || !bytes.Contains(data, s.Signature()) {
			t.Fatal("payload or signature not taken from the input")
		}
		if _, err := token.DecodeSign1(data[1:], "fuzz"); err == nil {
			t.Fatal("decodes without its tag")
		}
		if _, err := token.DecodeSign1(append(bytes.Clone(data), 0), "fuzz"); err == nil {
			t.Fatal("decodes with a trailing byte")
		}
		if err := s.Verify(&fuzzKey.PublicKey, nil); err != nil {
			oneClass(t, err, token.ErrAlgorithm, token.ErrSignature, token.ErrKey)
		}
	})
}

// FuzzDecodeCOSEKey: no panic; failures are ErrMalformed, ErrSyntax or
// ErrAlgorithm; a key that decodes re-encodes (canonically) to the same key.
func FuzzDecodeCOSEKey(f *testing.F) {
	_, _, raks := seedEvidence(f)
	for _, r := range raks {
		f.Add(r)
	}
	point := stdPoint(f, p384Scalar)
	x, y := point[1:49], point[49:]
	f.Add(cMap(cInt(1), cInt(2), cInt(3), cInt(-35), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)))
	f.Add(cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y), cInt(-4), cBstr(p384Scalar)))
	f.Add(cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-2), cBstr(x), cInt(-3), cBstr(y)))
	f.Add(cMap(cInt(1), cInt(2), cInt(-1), cInt(1), cInt(-2), cBstr(x[:32]), cInt(-3), cBstr(y[:32])))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := token.DecodeCOSEKey(data)
		if err != nil {
			oneClass(t, err, token.ErrMalformed, token.ErrSyntax, token.ErrAlgorithm)
			return
		}
		enc, err := token.EncodeCOSEKey(k)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		k2, err := token.DecodeCOSEKey(enc)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("re-encoded key: %v", err)
		}
		raw, _ := k.Bytes()
		if k3, err := token.DecodeRawPoint(raw); err != nil || !k3.Equal(k) {
			t.Fatalf("raw point of the key: %v", err)
		}
	})
}
