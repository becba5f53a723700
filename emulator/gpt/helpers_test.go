package gpt

import (
	"bytes"
	"testing"
)

// Test machine: PPS 4 GB (T = 32), L0GPTSZ 1 GB (S = 30), so the L0 table has
// four entries and an L1 table is 128 KB (16384 entries of 64 KB each).
const (
	testGPTBase = 0xFFE0_0000
	testGPTSize = 0x20_0000
	testL1      = 0xFFE2_0000 // first L1 table: L0 table (32 bytes) rounded up to 128 KB

	region0 = 0x0000_0000 // L0 block region
	region1 = 0x4000_0000 // granule-mapped region
	gib     = 1 << 30
)

// newTestTable returns a table with region 0 block-mapped as blockGPI and
// region 1 granule-mapped as NS, with the given fusing limit.
func newTestTable(tb testing.TB, maxBlock uint64, blockGPI GPI) *Table {
	tb.Helper()
	mem, err := NewMemory(
		Range{region0, 16 << 20},
		Range{region1, 64 << 20},
		Range{testGPTBase, testGPTSize},
	)
	if err != nil {
		tb.Fatal(err)
	}
	tbl, err := NewTable(mem, Config{PPS: PPS4GB, PGS: PGS4KB, L0GPTSZ: L0GPTSZ1GB,
		Base: testGPTBase, Size: testGPTSize, MaxBlock: maxBlock})
	if err != nil {
		tb.Fatal(err)
	}
	if err := tbl.MapBlock(region0, gib, blockGPI); err != nil {
		tb.Fatal(err)
	}
	if err := tbl.MapGranules(region1, gib, GPINS); err != nil {
		tb.Fatal(err)
	}
	return tbl
}

// rawL0 and rawL1 read descriptors straight from the GPT memory bytes.
func rawWord(tb testing.TB, tbl *Table, pa uint64) uint64 {
	tb.Helper()
	var b [8]byte
	if err := tbl.mem.Read(pa, b[:]); err != nil {
		tb.Fatal(err)
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func rawL1(tb testing.TB, tbl *Table, index int) uint64 {
	return rawWord(tb, tbl, testL1+uint64(index)*8)
}

// poke stores a raw descriptor, bypassing every builder.
func poke(tbl *Table, pa, v uint64) { tbl.store(pa, 1, v) }

func mustSnapshotEqual(tb testing.TB, before []byte, tbl *Table) {
	tb.Helper()
	if after := tbl.Snapshot(); !bytes.Equal(before, after) {
		tb.Fatalf("GPT bytes changed (%d → %d bytes)", len(before), len(after))
	}
}
