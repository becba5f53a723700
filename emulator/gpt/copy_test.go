package gpt

import (
	"bytes"
	"errors"
	"testing"
)

// TestCopyGranule: the copy primitive moves a whole NS granule into a
// Realm granule through the GPC, shows the callback what landed, and on
// any refused check, alignment or PAS copies nothing.
func TestCopyGranule(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPINS)
	ns, ns2 := uint64(region1+0x10000), uint64(region1+0x11000)
	realm, realm2 := uint64(region1+0x20000), uint64(region1+0x21000)
	untouched := uint64(region1 + 0x30000) // NS, never written: zeros
	for _, pa := range []uint64{realm, realm2} {
		if err := tbl.Delegate(pa, GranuleSize, StateRealm); err != nil {
			t.Fatal(err)
		}
	}
	content := bytes.Repeat([]byte("granule!"), GranuleSize/8)
	old := bytes.Repeat([]byte{0x5E}, GranuleSize)
	if err := tbl.Write(StateNonSecure, PASNonSecure, ns, content); err != nil {
		t.Fatal(err)
	}
	reset := func() {
		t.Helper()
		for _, pa := range []uint64{realm, realm2} {
			if err := tbl.Write(StateRealm, PASRealm, pa, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(pa uint64) []byte {
		t.Helper()
		b := make([]byte, GranuleSize)
		if err := tbl.mem.Read(pa, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name           string
		s              SecurityState
		dstPAS, srcPAS PAS
		dst, src       uint64
		want           []byte // dst afterwards; nil: unchanged
		err            error
		faultPA        uint64
	}{
		{"NS into Realm", StateRealm, PASRealm, PASNonSecure, realm, ns, content, nil, 0},
		{"untouched source gives zeros", StateRealm, PASRealm, PASNonSecure, realm, untouched, make([]byte, GranuleSize), nil, 0},
		{"Realm to Realm, lower destination", StateRealm, PASRealm, PASRealm, realm, realm2, old, nil, 0},
		{"source not NS", StateRealm, PASRealm, PASNonSecure, realm2, realm, nil, ErrGPF, realm},
		{"destination not Realm", StateRealm, PASRealm, PASNonSecure, ns2, ns, nil, ErrGPF, ns2},
		{"host writing Realm PAS", StateNonSecure, PASRealm, PASNonSecure, realm, ns, nil, ErrIllegalPAS, 0},
		{"unaligned source", StateRealm, PASRealm, PASNonSecure, realm, ns + 8, nil, ErrAlignment, 0},
		{"unaligned destination", StateRealm, PASRealm, PASNonSecure, realm + 8, ns, nil, ErrAlignment, 0},
		{"unbacked source", StateRealm, PASRealm, PASNonSecure, realm, region1 + gib/2, nil, ErrNoMemory, 0},
	}
	for _, tc := range tests {
		reset()
		var seen []byte // the pieces see gets, in order
		err := tbl.CopyGranule(tc.s, tc.dstPAS, tc.dst, tc.srcPAS, tc.src, func(b []byte) { seen = append(seen, b...) })
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			continue
		}
		if f := (*Fault)(nil); errors.As(err, &f) && f.PA != tc.faultPA {
			t.Errorf("%s: fault at %#x, want %#x", tc.name, f.PA, tc.faultPA)
		}
		if tc.want == nil {
			if seen != nil {
				t.Errorf("%s: a failed copy called see", tc.name)
			}
			if !bytes.Equal(read(realm), old) || !bytes.Equal(read(realm2), old) {
				t.Errorf("%s: a failed copy changed a Realm granule", tc.name)
			}
			continue
		}
		if got := read(tc.dst); !bytes.Equal(got, tc.want) || !bytes.Equal(seen, tc.want) {
			t.Errorf("%s: destination %x..., see got %x..., want %x...", tc.name, got[:8], seen[:8], tc.want[:8])
		}
	}
	// The source is left as it was, and a nil see is allowed.
	if err := tbl.CopyGranule(StateRealm, PASRealm, realm, PASNonSecure, ns, nil); err != nil || !bytes.Equal(read(ns), content) {
		t.Fatalf("copy without see: %v", err)
	}
}

// copyBench benchmarks after copies a granule from an NS granule full of
// content into a delegated Realm granule, then calls after (if not nil)
// with the table and the Realm granule's address.
func copyBench(b *testing.B, after func(tbl *Table, realm uint64)) {
	tbl := newTestTable(b, Block512MB, GPINS)
	ns, realm := uint64(region1+0x10000), uint64(region1+0x20000)
	if err := tbl.Delegate(realm, GranuleSize, StateRealm); err != nil {
		b.Fatal(err)
	}
	if err := tbl.Write(StateNonSecure, PASNonSecure, ns, bytes.Repeat([]byte{1}, GranuleSize)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(GranuleSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := tbl.CopyGranule(StateRealm, PASRealm, realm, PASNonSecure, ns, nil); err != nil {
			b.Fatal(err)
		}
		if after != nil {
			after(tbl, realm)
		}
	}
}

// BenchmarkCopyGranule is the platform copy of one granule through the GPC:
// the destination shares the source's storage (compare with
// BenchmarkCopy4K, the bare memmove).
func BenchmarkCopyGranule(b *testing.B) { copyBench(b, nil) }

// BenchmarkWriteAfterCopyGranule is the copy of a granule followed by the
// first write to the copy, a few bytes: the write gives the copy storage
// of its own, holding the shared bytes, so this pair costs what an eager
// copy would plus the write (the deferred half of BenchmarkCopyGranule).
func BenchmarkWriteAfterCopyGranule(b *testing.B) {
	word := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	copyBench(b, func(tbl *Table, realm uint64) {
		if err := tbl.Write(StateRealm, PASRealm, realm+64, word); err != nil {
			b.Fatal(err)
		}
	})
}
