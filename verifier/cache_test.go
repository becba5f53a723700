package verifier

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

func TestPlatformCacheBounds(t *testing.T) {
	c := newPlatformCache(2)
	var keyA [32]byte
	toks := [][]byte{[]byte("token one"), []byte("token two"), []byte("token three")}
	k := func(i int) cacheKey { return makeCacheKey(toks[i], keyA) }
	for i := 0; i < 2; i++ {
		c.put(k(i), toks[i], &PlatformResult{Profile: string(toks[i])})
	}
	if _, ok := c.get(k(0), toks[0]); !ok { // 0 is now the most recent
		t.Fatal("miss on a fresh entry")
	}
	c.put(k(2), toks[2], &PlatformResult{})
	if c.len() != 2 {
		t.Fatalf("len %d, bound 2", c.len())
	}
	if _, ok := c.get(k(1), toks[1]); ok {
		t.Error("the least recently used entry was not evicted")
	}
	for _, i := range []int{0, 2} {
		if _, ok := c.get(k(i), toks[i]); !ok {
			t.Errorf("entry %d evicted", i)
		}
	}
	// Replacing an entry does not grow the cache.
	c.put(k(2), toks[2], &PlatformResult{})
	if c.len() != 2 {
		t.Fatalf("len %d after a replace", c.len())
	}
	if newPlatformCache(0) != nil {
		t.Error("size 0 must disable the cache")
	}
	var disabled *platformCache
	disabled.put(k(0), toks[0], &PlatformResult{})
	if _, ok := disabled.get(k(0), toks[0]); ok || disabled.len() != 0 {
		t.Error("a disabled cache hit")
	}
}

// TestPlatformCacheKeying: only exactly the same bytes under the same key
// hit.
func TestPlatformCacheKeying(t *testing.T) {
	c := newPlatformCache(8)
	tok := goodToken(t)
	keyA, keyB := sha256.Sum256([]byte("key A")), sha256.Sum256([]byte("key B"))
	c.put(makeCacheKey(tok, keyA), tok, &PlatformResult{Profile: "p"})
	if r, ok := c.get(makeCacheKey(tok, keyA), tok); !ok || r.Profile != "p" {
		t.Fatal("miss on the same bytes and key")
	}
	if _, ok := c.get(makeCacheKey(tok, keyB), tok); ok {
		t.Error("hit under a different key")
	}
	for i := range tok {
		flipped := bytes.Clone(tok)
		flipped[i] ^= 0x01
		if _, ok := c.get(makeCacheKey(flipped, keyA), flipped); ok {
			t.Fatalf("hit with byte %d flipped", i)
		}
	}
	// Even with a (forged) equal digest, different bytes miss.
	other := append(bytes.Clone(tok), 0)
	if _, ok := c.get(makeCacheKey(tok, keyA), other); ok {
		t.Error("hit on the digest alone")
	}
	// What get returns is a copy.
	r, _ := c.get(makeCacheKey(tok, keyA), tok)
	r.Profile = "changed"
	if r2, _ := c.get(makeCacheKey(tok, keyA), tok); r2.Profile != "p" {
		t.Error("the cached result was modified through a returned copy")
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
	checkOutcome(t, res.Realm.Checks, CheckInitialMeasurement, Mismatched, false)
	checkOutcome(t, res.Realm.Checks, CheckBinding, Matched, false)

	// One flipped byte of the platform token's signature: a miss, and the
	// signature fails.
	pt := bytes.Clone(platformOf(t, a))
	pt[len(pt)-1] ^= 0x01
	res = verify(t, v, withPlatform(t, a, pt), testNonce)
	if res.Platform.Cached {
		t.Fatal("a flipped byte hit the cache")
	}
	checkOutcome(t, res.Platform.Checks, CheckSignature, Mismatched, false)

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
