package gpt

import "testing"

// BenchmarkCheck is one granule protection check by the Normal world,
// walking the descriptors in memory, for each kind of mapping.
func BenchmarkCheck(b *testing.B) {
	tbl := newTestTable(b, Block512MB, GPINS)
	if err := tbl.Delegate(region1+0x20_0000, GranuleSize, StateRealm); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		pa   uint64
	}{
		{"L0block", region0 + 0x1000},
		{"L1contig", region1 + 100<<20},
		{"L1granules", region1 + 0x20_1000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := tbl.Check(StateNonSecure, PASNonSecure, bc.pa); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead4K is a 4 KB read by the Normal world through the GPC, to be
// compared with BenchmarkCopy4K.
func BenchmarkRead4K(b *testing.B) {
	tbl := newTestTable(b, Block512MB, GPINS)
	src := make([]byte, GranuleSize)
	for i := range src {
		src[i] = byte(i)
	}
	const pa = region1 + 0x30_0000
	if err := tbl.Write(StateNonSecure, PASNonSecure, pa, src); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, GranuleSize)
	b.SetBytes(GranuleSize)
	b.ReportAllocs()
	for range b.N {
		if err := tbl.Read(StateNonSecure, PASNonSecure, pa, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy4K is the baseline: a plain copy of 4 KB.
func BenchmarkCopy4K(b *testing.B) {
	src := make([]byte, GranuleSize)
	dst := make([]byte, GranuleSize)
	b.SetBytes(GranuleSize)
	b.ReportAllocs()
	for range b.N {
		copy(dst, src)
	}
}

// BenchmarkDelegate is a delegate + undelegate round trip of one granule.
// "steady" keeps a neighbour delegated, so the 2 MB block never fuses;
// "shatter-fuse" starts from a fully fused 512 MB block each time, the worst
// case.
func BenchmarkDelegate(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		tbl := newTestTable(b, Block512MB, GPINS)
		if err := tbl.Delegate(region1+0x40_0000, GranuleSize, StateRealm); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for range b.N {
			if err := tbl.Delegate(region1+0x40_1000, GranuleSize, StateRealm); err != nil {
				b.Fatal(err)
			}
			if err := tbl.Undelegate(region1+0x40_1000, GranuleSize, StateRealm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shatter-fuse", func(b *testing.B) {
		tbl := newTestTable(b, Block512MB, GPINS)
		b.ReportAllocs()
		for range b.N {
			if err := tbl.Delegate(region1+0x40_1000, GranuleSize, StateRealm); err != nil {
				b.Fatal(err)
			}
			if err := tbl.Undelegate(region1+0x40_1000, GranuleSize, StateRealm); err != nil {
				b.Fatal(err)
			}
		}
	})
}
