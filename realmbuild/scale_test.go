package realmbuild

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestOverlappingPair checks the neighbour-based overlap search against
// comparing every pair, on random ranges, and that it looks at the ranges
// O(n log n) times: a description of a million RAM ranges or images (64 MB
// of JSON) must not cost n² comparisons.
func TestOverlappingPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := rng.IntN(12)
		lo, hi := make([]uint64, n), make([]uint64, n)
		for i := range n {
			lo[i] = uint64(rng.IntN(64))
			hi[i] = lo[i] + 1 + uint64(rng.IntN(8))
		}
		got := overlappingPair(n, func(i int) (uint64, uint64) { return lo[i], hi[i] })
		want := false
		for i := range n {
			for k := range i {
				want = want || lo[i] < hi[k] && lo[k] < hi[i]
			}
		}
		if (got != nil) != want {
			t.Fatalf("round %d: %v %v: pair %v, overlap %v", round, lo, hi, got, want)
		}
		if got != nil {
			i, k := got[0][0], got[0][1]
			if k >= i || !(lo[i] < hi[k] && lo[k] < hi[i]) {
				t.Fatalf("round %d: %v %v: pair %v does not overlap", round, lo, hi, got)
			}
		}
	}
	const n = 1 << 16
	calls := 0
	if p := overlappingPair(n, func(i int) (uint64, uint64) {
		calls++
		return uint64(i) * 2, uint64(i)*2 + 1
	}); p != nil {
		t.Fatalf("disjoint ranges: %v", p)
	}
	if limit := 4 * n * bits.Len(n); calls > limit {
		t.Errorf("%d range look-ups for %d ranges, more than %d", calls, n, limit)
	}
}

// manyRangesDescription is a description of n one-granule RAM ranges, each
// holding a one-byte image: the shape that made validation quadratic.
func manyRangesDescription(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"realm":{"s2sz":48,"hash_algo":"sha-256","num_bps":1,"num_wps":1},"ram":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"base":%d,"size":4096}`, (n-i)*8192)
	}
	b.WriteString(`],"images":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"i%d","ipa":%d,"hex":"00"}`, i, (i+1)*8192)
	}
	b.WriteString(`],"recs":[{"pc":0}]}`)
	return []byte(b.String())
}

// BenchmarkParseManyRanges: 40000 ranges and images (3 MB) took 21 s with
// the pairwise checks, under 1 s with the sorted ones.
func BenchmarkParseManyRanges(b *testing.B) {
	for _, n := range []int{1000, 40000} {
		data := manyRangesDescription(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseDescription(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
