package gpt

import (
	"errors"
	"fmt"
	"testing"
)

// outcome of one granule protection check.
type outcome int

const (
	allowed   outcome = iota
	failed            // plain GPF: FaultFail
	walkFault         // FaultWalk
	illegal           // the state cannot emit the PAS at all
)

func (o outcome) String() string {
	return [...]string{"allowed", "GPF", "walk fault", "illegal PAS"}[o]
}

func classify(err error) outcome {
	var f *Fault
	switch {
	case err == nil:
		return allowed
	case errors.Is(err, ErrIllegalPAS):
		return illegal
	case errors.As(err, &f) && f.Kind == FaultFail && errors.Is(err, ErrGPF) && !errors.Is(err, ErrWalk):
		return failed
	case errors.As(err, &f) && f.Kind == FaultWalk && errors.Is(err, ErrWalk) && errors.Is(err, ErrGPF):
		return walkFault
	}
	return -1
}

// accessMatrix is the GPC rule of Arm DEN0129 written out by hand: for each security
// state and each PAS, the GPIs that admit the access. Everything not listed
// for a legal (state, PAS) pair is a GPF; reserved GPIs are walk faults;
// illegal pairs never reach the GPC.
var accessMatrix = map[SecurityState]map[PAS][]GPI{
	StateNonSecure: {PASNonSecure: {GPINS, GPIAny}},
	StateSecure:    {PASSecure: {GPISecure, GPIAny}, PASNonSecure: {GPINS, GPIAny}},
	StateRealm:     {PASRealm: {GPIRealm, GPIAny}, PASNonSecure: {GPINS, GPIAny}},
	StateRoot: {PASRoot: {GPIRoot, GPIAny}, PASSecure: {GPISecure, GPIAny},
		PASNonSecure: {GPINS, GPIAny}, PASRealm: {GPIRealm, GPIAny}},
}

func expected(s SecurityState, pas PAS, g GPI) outcome {
	okGPIs, legal := accessMatrix[s][pas]
	switch {
	case !legal:
		return illegal
	case g >= 1 && g <= 7 || g >= 0xC && g <= 0xE:
		return walkFault
	}
	for _, a := range okGPIs {
		if a == g {
			return allowed
		}
	}
	return failed
}

// TestAccessMatrix checks every (security state, PAS, GPI) triple, reserved
// GPIs included, with the GPI held by an L0 block, an L1 granules descriptor
// and an L1 contiguous descriptor.
func TestAccessMatrix(t *testing.T) {
	const pa = region1 + 0x3000 // granule 3 of the first L1 entry
	holders := []struct {
		name  string
		place func(tbl *Table, g GPI)
		level uint8
	}{
		{"L0 block", func(tbl *Table, g GPI) { poke(tbl, testGPTBase+8, L0BlockDesc(g)) }, 0},
		{"L1 granules", func(tbl *Table, g GPI) {
			var gs [16]GPI
			for i := range gs {
				gs[i] = GPINS
			}
			gs[3] = g
			poke(tbl, testL1, L1GranulesDesc(gs))
		}, 1},
		{"L1 contiguous", func(tbl *Table, g GPI) { poke(tbl, testL1, L1ContigDesc(g, Contig2MB)) }, 1},
	}
	states := []SecurityState{StateNonSecure, StateSecure, StateRealm, StateRoot}
	pases := []PAS{PASSecure, PASNonSecure, PASRoot, PASRealm}
	for _, h := range holders {
		tbl := newTestTable(t, 0, GPINS)
		for g := GPI(0); g < 16; g++ {
			h.place(tbl, g)
			for _, s := range states {
				for _, pas := range pases {
					name := fmt.Sprintf("%s/GPI=%s/%s->%s", h.name, g, s, pas)
					err := tbl.Check(s, pas, pa)
					want := expected(s, pas, g)
					if got := classify(err); got != want {
						t.Errorf("%s: %s (%v), want %s", name, got, err, want)
						continue
					}
					var f *Fault
					if errors.As(err, &f) {
						if f.PA != pa || f.PAS != pas || f.State != s || f.Level != h.level || f.GPI != g {
							t.Errorf("%s: fault %+v", name, f)
						}
						wantSC := uint8(0b001100) | h.level // Fail
						if want == walkFault {
							wantSC = 0b000100 | h.level
						}
						if f.GPCSC() != wantSC || f.FSC() != 0x28 {
							t.Errorf("%s: GPCSC %#b FSC %#x", name, f.GPCSC(), f.FSC())
						}
					}
				}
			}
		}
	}
}

// TestAddressSize: above 2^PPS NS accesses pass and the others fault.
func TestAddressSize(t *testing.T) {
	tbl := newTestTable(t, 0, GPINS)
	for _, pa := range []uint64{1 << 32, 1<<32 + 0x1000, 1 << 40, ^uint64(0)} {
		for s, pases := range accessMatrix {
			for pas := range pases {
				err := tbl.Check(s, pas, pa)
				if pas == PASNonSecure {
					if err != nil {
						t.Errorf("%s NS access to %#x: %v", s, pa, err)
					}
					continue
				}
				var f *Fault
				if !errors.As(err, &f) || f.Kind != FaultAddressSize || f.GPCSC() != 0 || !errors.Is(err, ErrGPF) {
					t.Errorf("%s %s access to %#x: %v, want address size fault", s, pas, pa, err)
				}
			}
		}
	}
}

// TestWalkFaults: malformed descriptors make the walk fault at the right level.
func TestWalkFaults(t *testing.T) {
	const pa = region1 + 0x1000
	tests := []struct {
		name  string
		addr  uint64 // descriptor to overwrite
		desc  uint64
		kind  FaultKind
		level uint8
		gpcsc uint8
	}{
		{"L0 invalid type 0", testGPTBase + 8, 0x0, FaultWalk, 0, 0b000100},
		{"L0 invalid type 2", testGPTBase + 8, 0x92, FaultWalk, 0, 0b000100},
		{"L0 block RES0 bit 8", testGPTBase + 8, 0x191, FaultWalk, 0, 0b000100},
		{"L0 table bits [11:4] set", testGPTBase + 8, testL1 | 0x13, FaultWalk, 0, 0b000100},
		{"L0 table misaligned L1", testGPTBase + 8, (testL1 + 0x1000) | 3, FaultWalk, 0, 0b000100},
		{"L0 table above PPS", testGPTBase + 8, 1<<32 | 3, FaultWalk, 0, 0b000100},
		{"L0 table outside GPT memory", testGPTBase + 8, 0x4000_0000 | 3, FaultEABT, 1, 0b010101},
		{"L1 contig Contig=0", testL1, 0x091, FaultWalk, 1, 0b000101},
		{"L1 contig RES0 bit 10", testL1, 0x591, FaultWalk, 1, 0b000101},
		{"L1 granules reserved GPI", testL1, 0x9999_9999_9999_9949, FaultWalk, 1, 0b000101},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl := newTestTable(t, 0, GPINS)
			poke(tbl, tc.addr, tc.desc)
			err := tbl.Check(StateNonSecure, PASNonSecure, pa)
			var f *Fault
			if !errors.As(err, &f) || f.Kind != tc.kind || f.Level != tc.level || f.GPCSC() != tc.gpcsc {
				t.Fatalf("Check = %v, want %s at level %d", err, tc.kind, tc.level)
			}
			if !errors.Is(err, ErrWalk) || !errors.Is(err, ErrGPF) {
				t.Fatalf("%v does not match ErrWalk and ErrGPF", err)
			}
			if _, err := tbl.GPI(pa); !errors.Is(err, ErrWalk) {
				t.Fatalf("GPI = %v, want walk fault", err)
			}
		})
	}
}

// TestBuiltTableBytes checks the bytes the builders write, descriptor by
// descriptor, against values computed by hand.
func TestBuiltTableBytes(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPISecure)
	// One Realm granule: region1 + 3*64 KB + 5*4 KB is L1 entry 3, nibble 5.
	if err := tbl.MapGranules(region1+3<<16+5<<12, GranuleSize, GPIRealm); err != nil {
		t.Fatal(err)
	}
	wantL0 := []uint64{0x81, 0xFFE2_0003, 0xF1, 0xF1} // SECURE block, table, ANY, ANY
	for i, want := range wantL0 {
		if got := rawWord(t, tbl, testGPTBase+uint64(i)*8); got != want {
			t.Errorf("L0[%d] = %#x, want %#x", i, got, want)
		}
	}
	if got, want := tbl.GPTBR(), uint64(0xFFE00); got != want {
		t.Errorf("GPTBR = %#x, want %#x", got, want)
	}
	if got, want := tbl.GPCCR(), uint64(0x1_3500); got != want { // PPS 0, WB RA WA, IS, 4 KB, GPC, 1 GB
		t.Errorf("GPCCR = %#x, want %#x", got, want)
	}
	for i := range 16384 {
		var want uint64
		switch {
		case i == 3:
			want = 0x9999_9999_99B9_9999
		case i < 32: // rest of the first 2 MB block
			want = 0x9999_9999_9999_9999
		case i < 512: // rest of the first 32 MB block: 2 MB contiguous NS
			want = 0x191
		case i < 8192: // rest of the first 512 MB block: 32 MB contiguous NS
			want = 0x291
		default: // second 512 MB block
			want = 0x391
		}
		if got := rawL1(t, tbl, i); got != want {
			t.Fatalf("L1[%d] = %#x, want %#x", i, got, want)
		}
	}
}

// TestMappingsCheck: block, contiguous and granule mappings all give the
// right answers.
func TestMappingsCheck(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPISecure)
	mustMap := func(base, size uint64, g GPI) {
		t.Helper()
		if err := tbl.MapGranules(base, size, g); err != nil {
			t.Fatal(err)
		}
	}
	mustMap(region1+32<<20, 32<<20, GPIRealm)    // one 32 MB contiguous block
	mustMap(region1+64<<20, 2<<20, GPIRoot)      // one 2 MB contiguous block
	mustMap(region1+0x7000, GranuleSize, GPIAny) // one granule
	mustMap(region1+0x8000, GranuleSize, GPINoAccess)
	tests := []struct {
		pa   uint64
		want GPI
	}{
		{region0, GPISecure},
		{region0 + gib - GranuleSize, GPISecure},
		{region1, GPINS},
		{region1 + 0x7000, GPIAny},
		{region1 + 0x8000, GPINoAccess},
		{region1 + 0x9000, GPINS},
		{region1 + 32<<20, GPIRealm},
		{region1 + 64<<20 - GranuleSize, GPIRealm},
		{region1 + 64<<20, GPIRoot},
		{region1 + 66<<20, GPINS},
		{region1 + 512<<20, GPINS},
		{2 * gib, GPIAny}, // untouched L0 entry, as TF-A initialises it
	}
	for _, tc := range tests {
		got, err := tbl.GPI(tc.pa)
		if err != nil || got != tc.want {
			t.Errorf("GPI(%#x) = %s, %v; want %s", tc.pa, got, err, tc.want)
		}
		for s, pases := range accessMatrix {
			for pas := range pases {
				if got, want := classify(tbl.Check(s, pas, tc.pa)), expected(s, pas, tc.want); got != want {
					t.Errorf("%s->%s at %#x (GPI %s): %s, want %s", s, pas, tc.pa, tc.want, got, want)
				}
			}
		}
	}
	// Descriptor kinds actually used.
	if d := rawL1(t, tbl, (32<<20)>>16); d != L1ContigDesc(GPIRealm, Contig32MB) || d != 0x2B1 {
		t.Errorf("32 MB Realm block descriptor %#x", d)
	}
	if d := rawL1(t, tbl, (64<<20)>>16); d != 0x1A1 {
		t.Errorf("2 MB Root block descriptor %#x", d)
	}
	if d := rawL1(t, tbl, 0); d != 0x9999_9990_F999_9999 {
		t.Errorf("granules descriptor %#x", d)
	}
}

func TestConfigErrors(t *testing.T) {
	mem, err := NewMemory(Range{testGPTBase, testGPTSize})
	if err != nil {
		t.Fatal(err)
	}
	base := Config{PPS: PPS4GB, L0GPTSZ: L0GPTSZ1GB, Base: testGPTBase, Size: testGPTSize}
	tests := []struct {
		name string
		mod  func(*Config)
		want error
	}{
		{"PGS 64KB", func(c *Config) { c.PGS = PGS64KB }, ErrUnsupported},
		{"PGS reserved", func(c *Config) { c.PGS = 3 }, ErrConfig},
		{"PPS reserved", func(c *Config) { c.PPS = 7 }, ErrConfig},
		{"L0GPTSZ reserved", func(c *Config) { c.L0GPTSZ = 2 }, ErrConfig},
		{"MaxBlock odd", func(c *Config) { c.MaxBlock = 4 << 20 }, ErrConfig},
		{"base unaligned", func(c *Config) { c.Base += 8 }, ErrConfig},
		{"too small", func(c *Config) { c.Size = 16 }, ErrConfig},
		{"not backed", func(c *Config) { c.Base = 0 }, ErrConfig},
		{"above PPS", func(c *Config) { c.Base = 1 << 32 }, ErrConfig},
	}
	for _, tc := range tests {
		cfg := base
		tc.mod(&cfg)
		if _, err := NewTable(mem, cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := NewTable(nil, base); !errors.Is(err, ErrConfig) {
		t.Errorf("nil memory: %v", err)
	}

	tbl := newTestTable(t, 0, GPINS)
	mapErrs := []struct {
		name string
		err  error
	}{
		{"block unaligned", tbl.MapBlock(region0+GranuleSize, gib, GPINS)},
		{"block over table", tbl.MapBlock(region1, gib, GPINS)},
		{"block reserved GPI", tbl.MapBlock(2*gib, gib, 0x4)},
		{"block above PPS", tbl.MapBlock(4*gib, gib, GPINS)},
		{"granules unaligned", tbl.MapGranules(region1+1, GranuleSize, GPINS)},
		{"granules empty", tbl.MapGranules(region1, 0, GPINS)},
		{"granules reserved GPI", tbl.MapGranules(region1, GranuleSize, 0xC)},
		{"granules above PPS", tbl.MapGranules(4*gib-GranuleSize, 2*GranuleSize, GPINS)},
	}
	for _, tc := range mapErrs {
		if !errors.Is(tc.err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, tc.err)
		}
	}
	// Room for 15 L1 tables at most in 2 MB; the 4 GB space has only 4 L0
	// regions, so use a tiny GPT memory to run out.
	mem2, _ := NewMemory(Range{testGPTBase, 0x2_0000 + 0x2_0000})
	tbl2, err := NewTable(mem2, Config{PPS: PPS4GB, L0GPTSZ: L0GPTSZ1GB, Base: testGPTBase, Size: 0x4_0000})
	if err != nil {
		t.Fatal(err)
	}
	before := tbl2.Snapshot()
	if err := tbl2.MapGranules(0, 2*gib, GPINS); !errors.Is(err, ErrConfig) {
		t.Fatalf("out of GPT memory: %v", err)
	}
	mustSnapshotEqual(t, before, tbl2)
}
