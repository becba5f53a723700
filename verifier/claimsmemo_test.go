package verifier

import (
	"bytes"
	"testing"
)

// TestPlatformClaimsMemo: with the platform cache, the Results of one
// platform token render its claims once, the same JSON a Verifier without
// the cache renders, and a caller that changes the JSON it got does not
// change another Result's.
func TestPlatformClaimsMemo(t *testing.T) {
	tok := goodToken(t)
	cached := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)))
	uncached := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)), WithPlatformCacheSize(0))
	want, err := verify(t, uncached, tok, testNonce).Platform.ClaimsJSON()
	if err != nil || len(want) == 0 {
		t.Fatalf("uncached claims %q, %v", want, err)
	}
	if m := verify(t, uncached, tok, testNonce).Platform.claims; m != nil {
		t.Fatal("a claims memo without the cache")
	}
	first, second := verify(t, cached, tok, testNonce), verify(t, cached, tok, testNonce)
	if first.Platform.claims == nil || first.Platform.claims != second.Platform.claims {
		t.Fatalf("the two Results of one token do not share a claims memo: %p %p", first.Platform.claims, second.Platform.claims)
	}
	a, err := first.Platform.ClaimsJSON()
	if err != nil || !bytes.Equal(a, want) {
		t.Fatalf("memoised claims %s, %v; want %s", a, err, want)
	}
	a[0] = 'X'
	if b, err := second.Platform.ClaimsJSON(); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("claims after a caller changed its copy: %s, %v", b, err)
	}
	// A Result read back from JSON keeps the claims it carries.
	withClaims := *second
	withClaims.Platform.Claims = []byte(`{"x":1}`)
	if c, _ := withClaims.Platform.ClaimsJSON(); string(c) != `{"x":1}` {
		t.Errorf("claims %s, want the Result's own", c)
	}
}
