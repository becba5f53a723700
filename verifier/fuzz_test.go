package verifier

import (
	"context"
	"testing"
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
	v := newVerifier(f, sampleAnchors(f), WithReferenceValues(sampleRefs(f)), WithPlatformCacheSize(0))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := v.Verify(context.Background(), data, testNonce)
		if err != nil {
			t.Fatal(err)
		}
		if res.Trustworthy && len(res.Reasons) != 0 {
			t.Fatal("trustworthy with reasons")
		}
		if _, err := res.EAR(); err != nil {
			t.Fatal(err)
		}
		_ = res.Text()
	})
}

// FuzzParseStores: the store parsers fail cleanly on anything.
func FuzzParseStores(f *testing.F) {
	f.Add([]byte(rvStore()))
	f.Add([]byte(`[{"instance-id": "` + hexInst + `", "pkey": {"kty": "EC"}}]`))
	f.Add([]byte(`{"realm": [{"initial-measurement": null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if rv, err := ParseReferenceValues(data); err == nil && rv == nil {
			t.Fatal("nil store without error")
		}
		if ta, err := ParseTrustAnchors(data); err == nil && ta.Len() == 0 {
			t.Fatal("empty anchors without error")
		}
	})
}
