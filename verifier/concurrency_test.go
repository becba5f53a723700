package verifier

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ccakit/cca/evidence"
)

// TestConcurrentVerify runs many goroutines through one Verifier whose small
// cache is constantly hit, missed and evicted (run it with -race). Tokens
// come from three machines, each with several realms sharing the machine's
// platform token, plus tokens that must fail; every result must be the one a
// fresh verifier gives.
func TestConcurrentVerify(t *testing.T) {
	cpak, _, other, _ := keys()
	type item struct{ tok []byte }
	var items []item
	realmRefs := []RealmReference{sampleRealmRef()}
	for m := range 3 {
		p := samplePlatform()
		p.InstanceID[1] = byte(m) // a distinct machine
		base := build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce)
		pt := platformOf(t, base)
		for r := range 3 {
			rc := sampleRealm()
			rc.InitialMeasurement = rep(byte(0x30+r), 32)
			if m == 0 {
				rr := sampleRealmRef()
				rr.InitialMeasurement = rc.InitialMeasurement
				realmRefs = append(realmRefs, rr)
			}
			// The machine's platform token with this realm.
			items = append(items, item{withPlatform(t, build(t, p, rc, cpak, evidence.FormatREL0, testNonce), pt)})
		}
		items = append(items, item{resign(t, base, 0, other)})
	}
	var anchors []TrustAnchor
	for m := range 3 {
		id := append([]byte{}, testInstanceID...)
		id[1] = byte(m)
		anchors = append(anchors, TrustAnchor{InstanceID: id, Key: cpak.Public()})
	}
	ta := mustAnchors(t, anchors...)
	refs := refValues(t, []PlatformReference{samplePlatformRef()}, realmRefs)
	// The expected verdicts come from a verifier without a cache.
	ref := newVerifier(t, ta, WithReferenceValues(refs), WithPlatformCacheSize(0))
	want := make([]string, len(items))
	for i, it := range items {
		want[i] = verify(t, ref, it.tok, testNonce).Text()
	}

	v := newVerifier(t, ta, WithReferenceValues(refs), WithPlatformCacheSize(2))
	const workers, rounds = 8, 1
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for k := range items {
					i := (k + w + r) % len(items)
					res, err := v.Verify(context.Background(), items[i].tok, testNonce)
					if err != nil {
						errs <- err
						return
					}
					res.Platform.Cached = false
					if got := res.Text(); got != want[i] {
						errs <- fmt.Errorf("item %d: got\n%s\nwant\n%s", i, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := v.cache.len(); n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
	if v.cache.hits == 0 || v.cache.misses == 0 {
		t.Errorf("hits %d misses %d: the test did not exercise the cache", v.cache.hits, v.cache.misses)
	}
}
