package verifier

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

func TestPlatformCacheBounds(t *testing.T) {
	c := newPlatformCache(2)
	cpak, _, _, _ := keys()
	key := []crypto.PublicKey{cpak.Public()}
	toks := [][]byte{[]byte("token one"), []byte("token two"), []byte("token three")}
	d := func(i int) [32]byte { return tokenDigest(toks[i]) }
	for i := 0; i < 2; i++ {
		c.put(d(i), toks[i], key[0])
	}
	if c.verifiedBy(d(0), toks[0], key) != 0 { // 0 is now the most recent
		t.Fatal("miss on a fresh entry")
	}
	c.put(d(2), toks[2], key[0])
	if c.len() != 2 {
		t.Fatalf("len %d, bound 2", c.len())
	}
	if c.verifiedBy(d(1), toks[1], key) >= 0 {
		t.Error("the least recently used entry was not evicted")
	}
	for _, i := range []int{0, 2} {
		if c.verifiedBy(d(i), toks[i], key) < 0 {
			t.Errorf("entry %d evicted", i)
		}
	}
	// Replacing an entry does not grow the cache.
	c.put(d(2), toks[2], key[0])
	if c.len() != 2 {
		t.Fatalf("len %d after a replace", c.len())
	}
	if newPlatformCache(0) != nil {
		t.Error("size 0 must disable the cache")
	}
	var disabled *platformCache
	disabled.put(d(0), toks[0], key[0])
	if disabled.verifiedBy(d(0), toks[0], key) >= 0 || disabled.len() != 0 {
		t.Error("a disabled cache hit")
	}
}

// TestPlatformCacheKeying: only exactly the same bytes under an equal key
// hit.
func TestPlatformCacheKeying(t *testing.T) {
	c := newPlatformCache(8)
	tok := goodToken(t)
	cpak, _, other, _ := keys()
	c.put(tokenDigest(tok), tok, cpak.Public())
	// An equal key, not the same pointer: a database returns new values.
	same := *cpak.Public().(*ecdsa.PublicKey)
	if i := c.verifiedBy(tokenDigest(tok), tok, []crypto.PublicKey{other.Public(), &same}); i != 1 {
		t.Fatalf("verifiedBy %d, want the equal key (1)", i)
	}
	if c.verifiedBy(tokenDigest(tok), tok, []crypto.PublicKey{other.Public()}) >= 0 {
		t.Error("hit under a different key")
	}
	for i := range tok {
		flipped := bytes.Clone(tok)
		flipped[i] ^= 0x01
		if c.verifiedBy(tokenDigest(flipped), flipped, []crypto.PublicKey{cpak.Public()}) >= 0 {
			t.Fatalf("hit with byte %d flipped", i)
		}
	}
	// Even with a (forged) equal digest, different bytes miss.
	longer := append(bytes.Clone(tok), 0)
	if c.verifiedBy(tokenDigest(tok), longer, []crypto.PublicKey{cpak.Public()}) >= 0 {
		t.Error("hit on the digest alone")
	}
}

// platformOf returns the platform token inside a collection.
func platformOf(t testing.TB, tok []byte) []byte {
	coll, err := token.DecodeCollection(tok)
	if err != nil {
		t.Fatal(err)
	}
	return coll.Platform
}

// withPlatform puts platform token pt into collection tok.
func withPlatform(t testing.TB, tok, pt []byte) []byte {
	coll, err := token.DecodeCollection(tok)
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

func TestVerifierCache(t *testing.T) {
	cpak, _, other, _ := keys()
	v := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)))
	a := goodToken(t)
	first := verify(t, v, a, testNonce)
	second := verify(t, v, a, testNonce)
	if first.Platform.Cached || !second.Platform.Cached || !second.Trustworthy {
		t.Fatalf("cached %v then %v; trustworthy %v", first.Platform.Cached, second.Platform.Cached, second.Trustworthy)
	}
	second.Platform.Cached = false
	if first.Text() != second.Text() {
		t.Errorf("a cached platform result differs:\n%s\n%s", first.Text(), second.Text())
	}
	// Modifying a result does not reach the cache.
	second.Platform.Checks[0].Outcome = Mismatched
	second.Platform.InstanceID[0] = 0xFF
	if third := verify(t, v, a, testNonce); !third.Trustworthy || third.Platform.InstanceID[0] != 0x01 {
		t.Fatal("the cache was modified through a result")
	}

	// Another realm on the same machine: the same platform token, a
	// different realm token (same RAK). The platform comes from the cache,
	// the realm is appraised afresh.
	r := sampleRealm()
	r.InitialMeasurement = rep(0x2B, 32)
	b := withPlatform(t, build(t, samplePlatform(), r, cpak, evidence.FormatREL0, testNonce), platformOf(t, a))
	res := verify(t, v, b, testNonce)
	if !res.Platform.Cached || !res.Platform.Trustworthy || res.Realm.Trustworthy {
		t.Fatalf("other realm: platform cached %v trustworthy %v, realm trustworthy %v", res.Platform.Cached, res.Platform.Trustworthy, res.Realm.Trustworthy)
	}
	checkOutcome(t, res.Realm.Checks, CheckInitialMeasurement.String(), NotChecked, true)
	checkOutcome(t, res.Realm.Checks, CheckBinding.String(), Matched, false)

	// One flipped byte of the platform token's signature: a miss, and the
	// signature fails.
	pt := bytes.Clone(platformOf(t, a))
	pt[len(pt)-1] ^= 0x01
	res = verify(t, v, withPlatform(t, a, pt), testNonce)
	if res.Platform.Cached {
		t.Fatal("a flipped byte hit the cache")
	}
	checkOutcome(t, res.Platform.Checks, CheckSignature.String(), Mismatched, false)

	// A token that fails its signature is not cached.
	n := v.cache.len()
	bad := resign(t, a, 0, other)
	for range 2 {
		if res := verify(t, v, bad, testNonce); res.Platform.Cached || res.Trustworthy {
			t.Fatal("a bad platform token was cached")
		}
	}
	if v.cache.len() != n {
		t.Errorf("cache grew from %d to %d on failures", n, v.cache.len())
	}

	// The same platform token under another verifier's different key:
	// caches are per verifier, and its own key decides.
	vOther := newVerifier(t, mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, Key: other.Public()}), WithReferenceValues(sampleRefs(t)))
	if res := verify(t, vOther, a, testNonce); res.Platform.Cached || res.Trustworthy {
		t.Fatal("a token verified under another key")
	}

	// Disabled cache.
	v0 := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)), WithPlatformCacheSize(0))
	for range 2 {
		if res := verify(t, v0, a, testNonce); res.Platform.Cached || !res.Trustworthy {
			t.Fatal("disabled cache hit")
		}
	}
}
