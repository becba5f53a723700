package gpt

import (
	"errors"
	"testing"
)

// TestShatterAndFuse: a transition of one granule inside a 512 MB contiguous
// block shatters exactly the blocks above it, and undoing it fuses them back.
func TestShatterAndFuse(t *testing.T) {
	// Granule 0x25 of the second 32 MB block: L1 entry 512+2, nibble 5.
	const pa = region1 + 32<<20 + 0x2_5000
	const entry = 512 + 2
	tbl := newTestTable(t, Block512MB, GPINS)
	for i := range 16384 {
		if got := rawL1(t, tbl, i); got != 0x391 {
			t.Fatalf("before: L1[%d] = %#x, want 512 MB contiguous NS 0x391", i, got)
		}
	}
	if err := tbl.Delegate(pa, GranuleSize, StateRealm); err != nil {
		t.Fatal(err)
	}
	for i := range 16384 {
		var want uint64
		switch {
		case i == entry:
			want = 0x9999_9999_99B9_9999
		case i >= 512 && i < 512+32: // the 2 MB block: granules descriptors
			want = 0x9999_9999_9999_9999
		case i >= 512 && i < 1024: // the 32 MB block: 2 MB contiguous
			want = 0x191
		case i < 8192: // the 512 MB block: 32 MB contiguous
			want = 0x291
		default: // the other 512 MB block is untouched
			want = 0x391
		}
		if got := rawL1(t, tbl, i); got != want {
			t.Fatalf("after delegate: L1[%d] = %#x, want %#x", i, got, want)
		}
	}
	if g, err := tbl.GPI(pa); err != nil || g != GPIRealm {
		t.Fatalf("GPI = %s, %v", g, err)
	}
	if err := tbl.Undelegate(pa, GranuleSize, StateRealm); err != nil {
		t.Fatal(err)
	}
	for i := range 16384 {
		if got := rawL1(t, tbl, i); got != 0x391 {
			t.Fatalf("after undelegate: L1[%d] = %#x, want 0x391 (fused back)", i, got)
		}
	}
}

// TestFuseLimit: MaxBlock bounds fusing, and 0 disables it.
func TestFuseLimit(t *testing.T) {
	for _, tc := range []struct {
		max  uint64
		want uint64 // every entry after a round trip
	}{
		{0, 0x9999_9999_9999_9999},
		{Block2MB, 0x191},
		{Block32MB, 0x291},
		{Block512MB, 0x391},
	} {
		tbl := newTestTable(t, tc.max, GPINS)
		if err := tbl.Delegate(region1+0x10_0000, GranuleSize, StateSecure); err != nil {
			t.Fatal(err)
		}
		if err := tbl.Undelegate(region1+0x10_0000, GranuleSize, StateSecure); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 16, 31, 32, 600, 9000, 16383} {
			if got := rawL1(t, tbl, i); got != tc.want {
				t.Errorf("MaxBlock %#x: L1[%d] = %#x, want %#x", tc.max, i, got, tc.want)
			}
		}
	}
}

// TestDelegation covers the transition rules and error codes of
// TF-A v2.12 lib/gpt_rme/gpt_rme.c, checking that every failure leaves the GPT bytes
// unchanged.
func TestDelegation(t *testing.T) {
	const (
		g1 = region1 + 0x40_0000
		g2 = region1 + 0x40_1000
	)
	type step struct {
		name   string
		op     func(*Table) error
		want   error // nil, ErrInvalid or ErrDenied
		gpi    GPI   // GPI of g1 afterwards
		checkS SecurityState
		access bool // whether checkS may access g1 in its own PAS afterwards
	}
	del := func(pa, size uint64, s SecurityState) func(*Table) error {
		return func(tbl *Table) error { return tbl.Delegate(pa, size, s) }
	}
	undel := func(pa, size uint64, s SecurityState) func(*Table) error {
		return func(tbl *Table) error { return tbl.Undelegate(pa, size, s) }
	}
	steps := []step{
		{"NS delegate is not a transition", del(g1, GranuleSize, StateNonSecure), ErrInvalid, GPINS, StateNonSecure, true},
		{"Root delegate is not a transition", del(g1, GranuleSize, StateRoot), ErrInvalid, GPINS, StateNonSecure, true},
		{"unaligned", del(g1+0x800, GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"size two granules", del(g1, 2*GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"size zero", del(g1, 0, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"at 2^PPS", del(1<<32, GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"last granule below 2^PPS", del(1<<32-GranuleSize, GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"wraps", del(^uint64(0)&^(GranuleSize-1), GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"L0 block region", del(region0+0x1000, GranuleSize, StateRealm), ErrInvalid, GPINS, StateNonSecure, true},
		{"undelegate NS granule", undel(g1, GranuleSize, StateRealm), ErrDenied, GPINS, StateNonSecure, true},
		{"NS to Realm", del(g1, GranuleSize, StateRealm), nil, GPIRealm, StateRealm, true},
		{"host loses access", nil, nil, GPIRealm, StateNonSecure, false},
		{"already delegated (Realm)", del(g1, GranuleSize, StateRealm), ErrDenied, GPIRealm, StateRealm, true},
		{"already delegated (Secure)", del(g1, GranuleSize, StateSecure), ErrDenied, GPIRealm, StateSecure, false},
		{"Secure undelegates Realm granule", undel(g1, GranuleSize, StateSecure), ErrDenied, GPIRealm, StateRealm, true},
		{"NS undelegates Realm granule", undel(g1, GranuleSize, StateNonSecure), ErrDenied, GPIRealm, StateRealm, true},
		{"Root undelegates Realm granule", undel(g1, GranuleSize, StateRoot), ErrDenied, GPIRealm, StateRealm, true},
		{"undelegate unaligned", undel(g1+8, GranuleSize, StateRealm), ErrInvalid, GPIRealm, StateRealm, true},
		{"Realm back to NS", undel(g1, GranuleSize, StateRealm), nil, GPINS, StateNonSecure, true},
		{"realm loses access", nil, nil, GPINS, StateRealm, false},
		{"NS to Secure", del(g1, GranuleSize, StateSecure), nil, GPISecure, StateSecure, true},
		{"Realm undelegates Secure granule", undel(g1, GranuleSize, StateRealm), ErrDenied, GPISecure, StateSecure, true},
		{"Realm delegates Secure granule", del(g1, GranuleSize, StateRealm), ErrDenied, GPISecure, StateRealm, false},
		{"neighbour unaffected", del(g2, GranuleSize, StateRealm), nil, GPISecure, StateSecure, true},
		{"Secure back to NS", undel(g1, GranuleSize, StateSecure), nil, GPINS, StateNonSecure, true},
	}
	for _, mb := range []uint64{0, Block512MB} {
		tbl := newTestTable(t, mb, GPINS)
		for _, st := range steps {
			if st.op != nil {
				before := tbl.Snapshot()
				err := st.op(tbl)
				switch {
				case st.want == nil && err != nil:
					t.Fatalf("MaxBlock %#x, %s: %v", mb, st.name, err)
				case st.want != nil && !errors.Is(err, st.want):
					t.Fatalf("MaxBlock %#x, %s: %v, want %v", mb, st.name, err, st.want)
				case st.want != nil:
					mustSnapshotEqual(t, before, tbl)
				}
			}
			if g, err := tbl.GPI(g1); err != nil || g != st.gpi {
				t.Fatalf("MaxBlock %#x, %s: GPI = %s, %v; want %s", mb, st.name, g, err, st.gpi)
			}
			if err := tbl.Check(st.checkS, st.checkS.PAS(), g1); (err == nil) != st.access {
				t.Fatalf("MaxBlock %#x, %s: %s access: %v", mb, st.name, st.checkS, err)
			}
		}
	}
}

// TestDelegateMalformedTable: a corrupt entry makes a transition fail
// without writing anything.
func TestDelegateMalformedTable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		addr, desc uint64
	}{
		{"reserved GPI", testL1, 0x9999_9999_9999_9959},
		{"contig RES0", testL1, 0x491},
		{"contig 0", testL1, 0x091},
		{"L0 table misaligned", testGPTBase + 8, (testL1 + 0x1000) | 3},
		{"L0 table outside GPT memory", testGPTBase + 8, region1 | 3},
	} {
		tbl := newTestTable(t, Block512MB, GPINS)
		poke(tbl, tc.addr, tc.desc)
		before := tbl.Snapshot()
		if err := tbl.Delegate(region1+0x1000, GranuleSize, StateRealm); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
		mustSnapshotEqual(t, before, tbl)
	}
}
