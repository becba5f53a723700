package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// FuzzVerify: whatever the bytes, Verify returns a Result (never an error,
// never a panic) that renders as EAR and text (EAR,
// not EARJSON, whose map order would make coverage vary between runs). The cache is off: a hit
// changes the coverage of a repeated input, which stalls the fuzzer's
// minimisation.
func FuzzVerify(f *testing.F) {
	good := goodToken(f)
	f.Add(good)
	f.Add(resign(f, good, 1, testOther))
	f.Add([]byte{0xd9, 0x01, 0x8f, 0xa0})
	f.Add(mainToken(f, realm.MECPolicyOf(true)))
	f.Add(bareToken(f, token.ProfilePlatform1))
	v := newVerifier(f, sampleAnchors(f), WithReferenceValues(sampleRefs(f)), WithPlatformCacheSize(0))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := v.Verify(context.Background(), data, testNonce)
		if err != nil {
			t.Fatal(err)
		}
		if res.Trustworthy && len(res.Reasons) != 0 {
			t.Fatal("trustworthy with reasons")
		}
		ar, err := res.EAR()
		if err != nil {
			t.Fatal(err)
		}
		// The EAR agrees with the Result: affirming exactly when trustworthy.
		if a := ar.Submods[SubmodPlatform]; a != nil && (*a.Status == ear.TrustTierAffirming) != res.Platform.Trustworthy {
			t.Fatalf("platform %v, trustworthy %v", *a.Status, res.Platform.Trustworthy)
		}
		if a := ar.Submods[SubmodRealm]; a != nil && (*a.Status == ear.TrustTierAffirming) != res.Realm.Trustworthy {
			t.Fatalf("realm %v, trustworthy %v", *a.Status, res.Realm.Trustworthy)
		}
		if a := ar.Submods[SubmodFailure]; a != nil && res.Trustworthy {
			t.Fatal("a failure shape for a trustworthy result")
		}
		_ = res.Text()
	})
}

// FuzzParseStores: the store parsers (JSON, CoRIM, a single PEM or JWK key)
// fail cleanly on anything.
func FuzzParseStores(f *testing.F) {
	f.Add([]byte(rvStore()))
	f.Add([]byte(`[{"instance-id": "` + hexInst + `", "pkey": {"kty": "EC"}}]`))
	f.Add([]byte(`{"realm": [{"initial-measurement": null}]}`))
	f.Add(corimTA(f))
	f.Add(corimPlatform(f, sampleEndorsedPlatform()))
	f.Add(corimRealm(f, sampleEndorsedRealm()))
	f.Add(goodToken(f)) // neither store: described
	if cpak, _, _, _ := keys(); cpak != nil {
		pemKey, _ := token.MarshalPublicPEM(cpak.Public())
		f.Add(pemKey) // a single key (ParseTrustAnchorKey)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rv, err := ReadReferenceValues(data, endorsement.DecodeOptions{})
		if err == nil && rv == nil {
			t.Fatal("nil store without error")
		}
		if err == nil {
			// What the store writes reads back as the same store.
			if out, err := rv.MarshalJSON(); err == nil {
				back, err := ParseReferenceValues(out)
				if err != nil {
					t.Fatalf("written store does not read back: %v\n%s", err, out)
				}
				if again, _ := back.MarshalJSON(); !bytes.Equal(again, out) {
					t.Fatalf("second write differs:\n%s\n%s", out, again)
				}
			}
		}
		// A store without a usable entry is kept only for the warnings
		// its bad entries give.
		if ta, err := ReadTrustAnchors(data, endorsement.DecodeOptions{}); err == nil && ta.Len() == 0 && len(ta.Warnings()) == 0 {
			t.Fatal("empty anchors without error or warning")
		}
		// A single key (PEM or JWK) is one usable anchor for any instance.
		if ta, err := ParseTrustAnchorKey(data); err == nil && ta.Len() != 1 {
			t.Fatalf("a single key gives %d usable anchors", ta.Len())
		}
	})
}

// FuzzResultJSON: a Result read back from JSON (a relying party's log, a
// service's answer) renders as text, EAR and JSON without panicking, and
// its text rendering holds no control character but the newlines that end
// its lines, whatever the strings it carries.
func FuzzResultJSON(f *testing.F) {
	v := newVerifier(f, sampleAnchors(f), WithReferenceValues(sampleRefs(f)), WithPlatformCacheSize(0))
	for _, tok := range [][]byte{goodToken(f), resign(f, goodToken(f), 1, testOther), {0xd9, 0x01, 0x8f, 0xa0}} {
		res, err := v.Verify(context.Background(), tok, testNonce)
		if err != nil {
			f.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"platform": {"checks": [{"check": "sw component", "component-type": "a\nb\u001b[2J", "outcome": "mismatched", "detail": "\u202e"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Result
		if json.Unmarshal(data, &r) != nil {
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(r.Text(), "\n"), "\n") {
			for _, c := range line {
				if unicode.IsControl(c) {
					t.Fatalf("text line %q holds control character %U", line, c)
				}
			}
		}
		_, _ = r.EAR()
		_, _ = json.Marshal(&r)
	})
}
