package gpt

import (
	"bytes"
	"errors"
	"testing"
)

func TestNewMemoryErrors(t *testing.T) {
	tests := []struct {
		name string
		rs   []Range
	}{
		{"empty", []Range{{0x1000, 0}}},
		{"unaligned base", []Range{{0x1001, 0x1000}}},
		{"unaligned size", []Range{{0x1000, 0x800}}},
		{"overlap", []Range{{0x1000, 0x2000}, {0x2000, 0x1000}}},
		{"beyond 52 bits", []Range{{1 << 52, 0x1000}}},
		{"wraps", []Range{{^uint64(0) &^ 0xFFF, 0x2000}}},
	}
	for _, tc := range tests {
		if _, err := NewMemory(tc.rs...); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
	m, err := NewMemory(Range{0x3000, 0x1000}, Range{0x1000, 0x2000}, Range{0x10000, 0x1000})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Ranges(); len(got) != 2 || got[0] != (Range{0x1000, 0x3000}) || got[1] != (Range{0x10000, 0x1000}) {
		t.Fatalf("Ranges = %v, want adjacent ranges merged", got)
	}
	// An access across the merged boundary works.
	if err := m.Write(0x2FFC, []byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryLazy(t *testing.T) {
	m, err := NewMemory(Range{0, 1 << 40}) // a terabyte of address space
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3*GranuleSize)
	for i := range buf {
		buf[i] = 0xAA
	}
	if err := m.Read(1<<39, buf); err != nil || !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Fatalf("untouched memory reads %v, %x...", err, buf[:8])
	}
	if m.Resident() != 0 {
		t.Fatalf("a read allocated %d granules", m.Resident())
	}
	data := []byte("hello, granule boundary")
	pa := uint64(1<<39 + GranuleSize - 5)
	if err := m.Write(pa, data); err != nil {
		t.Fatal(err)
	}
	if m.Resident() != 2 {
		t.Fatalf("Resident = %d, want 2", m.Resident())
	}
	got := make([]byte, len(data))
	if err := m.Read(pa, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q, %v", got, err)
	}
	// Zeros over an untouched granule allocate nothing.
	if err := m.Write(1<<38, make([]byte, GranuleSize)); err != nil || m.Resident() != 2 {
		t.Fatalf("zero write: %v, Resident %d", err, m.Resident())
	}
	// A whole-granule zero write releases the granule; ZeroGranule too.
	if err := m.Write(1<<39+GranuleSize, make([]byte, GranuleSize)); err != nil || m.Resident() != 1 {
		t.Fatalf("zeroing write: %v, Resident %d", err, m.Resident())
	}
	if err := m.ZeroGranule(1<<39 + 17); err != nil || m.Resident() != 0 {
		t.Fatalf("ZeroGranule: %v, Resident %d", err, m.Resident())
	}
	if err := m.Read(pa, got); err != nil || !bytes.Equal(got, make([]byte, len(got))) {
		t.Fatalf("after zeroing: %x, %v", got, err)
	}
	// A multi-granule write allocates only granules that receive non-zero
	// bytes; a zero write frees the granules it covers wholly.
	big := make([]byte, 4*GranuleSize)
	big[0], big[len(big)-1] = 1, 1
	if err := m.Write(0, big); err != nil || m.Resident() != 2 {
		t.Fatalf("big write: %v, Resident %d", err, m.Resident())
	}
	if err := m.Write(0, make([]byte, 4*GranuleSize)); err != nil || m.Resident() != 0 {
		t.Fatalf("big zero write: %v, Resident %d", err, m.Resident())
	}
	if err := m.ZeroGranule(1 << 41); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("ZeroGranule unbacked: %v", err)
	}
}

func TestMemoryBounds(t *testing.T) {
	m, err := NewMemory(Range{0x10000, 0x2000})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pa uint64
		n  int
	}{
		{0xF000, 8}, {0x11FFC, 8}, {0x12000, 1}, {^uint64(0) - 2, 8}, {0x10000, 0x2001},
	} {
		if err := m.Write(tc.pa, make([]byte, tc.n)); !errors.Is(err, ErrNoMemory) {
			t.Errorf("write %#x+%d: %v", tc.pa, tc.n, err)
		}
		if err := m.Read(tc.pa, make([]byte, tc.n)); !errors.Is(err, ErrNoMemory) {
			t.Errorf("read %#x+%d: %v", tc.pa, tc.n, err)
		}
	}
	if err := m.Read(0, nil); err != nil {
		t.Errorf("empty read: %v", err)
	}
	if !m.Contains(0x10000, 0x2000) || m.Contains(0x10000, 0x2001) {
		t.Error("Contains")
	}
}

// TestCheckedAccessAllOrNothing: an access that spans granules checks them
// all before copying, so a fault copies nothing.
func TestCheckedAccessAllOrNothing(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPINS)
	realm := uint64(region1 + 0x5000)
	if err := tbl.Delegate(realm, GranuleSize, StateRealm); err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{0x5E}, GranuleSize)
	if err := tbl.Write(StateRealm, PASRealm, realm, secret); err != nil {
		t.Fatal(err)
	}
	nsData := bytes.Repeat([]byte{0x11}, GranuleSize)
	if err := tbl.Write(StateNonSecure, PASNonSecure, realm-GranuleSize, nsData); err != nil {
		t.Fatal(err)
	}

	// Host write across NS|Realm: faults on the Realm granule, NS untouched.
	span := bytes.Repeat([]byte{0xEE}, 2*GranuleSize)
	err := tbl.Write(StateNonSecure, PASNonSecure, realm-GranuleSize, span)
	var f *Fault
	if !errors.As(err, &f) || f.Kind != FaultFail || f.PA != realm || !errors.Is(err, ErrGPF) {
		t.Fatalf("spanning write: %v", err)
	}
	got := make([]byte, GranuleSize)
	if err := tbl.Read(StateNonSecure, PASNonSecure, realm-GranuleSize, got); err != nil || !bytes.Equal(got, nsData) {
		t.Fatalf("NS granule changed by a faulting write: %v", err)
	}
	// Host read across NS|Realm: faults, destination untouched.
	dst := bytes.Repeat([]byte{0x77}, 2*GranuleSize)
	if err := tbl.Read(StateNonSecure, PASNonSecure, realm-GranuleSize+100, dst); !errors.Is(err, ErrGPF) {
		t.Fatalf("spanning read: %v", err)
	}
	if !bytes.Equal(dst, bytes.Repeat([]byte{0x77}, 2*GranuleSize)) {
		t.Fatal("a faulting read copied bytes")
	}
	// Unaligned small read that crosses into the Realm granule.
	small := []byte{1, 2, 3, 4}
	if err := tbl.Read(StateNonSecure, PASNonSecure, realm-2, small); !errors.Is(err, ErrGPF) || !bytes.Equal(small, []byte{1, 2, 3, 4}) {
		t.Fatalf("crossing read: %v %v", err, small)
	}
	// Realm reads its own data, and NS data through the NS PAS.
	if err := tbl.Read(StateRealm, PASRealm, realm, got); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("realm read: %v", err)
	}
	if err := tbl.Read(StateRealm, PASNonSecure, realm-GranuleSize, got); err != nil || !bytes.Equal(got, nsData) {
		t.Fatalf("realm read of NS: %v", err)
	}
	// Illegal PAS for the state.
	if err := tbl.Read(StateNonSecure, PASRealm, realm, got); !errors.Is(err, ErrIllegalPAS) {
		t.Fatalf("NS state emitting Realm PAS: %v", err)
	}
	if err := tbl.Write(StateRealm, PASSecure, realm, got); !errors.Is(err, ErrIllegalPAS) {
		t.Fatalf("Realm state emitting Secure PAS: %v", err)
	}
	// A GPF takes precedence over missing memory; unbacked NS memory is ErrNoMemory.
	if err := tbl.Read(StateRealm, PASRealm, 2*gib+0x1000, got); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("unbacked ANY region: %v", err)
	}
	if err := tbl.Read(StateNonSecure, PASNonSecure, region1+gib/2, got); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("unbacked NS: %v", err)
	}
	if err := tbl.Read(StateSecure, PASSecure, region1+gib/2, got); !errors.Is(err, ErrGPF) {
		t.Fatalf("unbacked Secure access to NS granule: %v", err)
	}
}

// TestTableMemoryViaBus: GPT memory read through the byte interface shows
// the little-endian descriptors, and bytes written into it are what the walk
// sees.
func TestTableMemoryViaBus(t *testing.T) {
	tbl := newTestTable(t, 0, GPINS)
	var b [8]byte
	// The test GPT memory lies in L0 region 3, left ANY, so Root may read it.
	if err := tbl.Read(StateRoot, PASRoot, testGPTBase+8, b[:]); err != nil {
		t.Fatal(err)
	}
	if want := [8]byte{0x03, 0x00, 0xE2, 0xFF, 0, 0, 0, 0}; b != want {
		t.Fatalf("L0[1] bytes %x, want %x", b, want)
	}
	// Root rewrites the first L1 entry byte by byte: granule 0 becomes REALM.
	if err := tbl.Write(StateRoot, PASRoot, testL1, []byte{0x9B}); err != nil {
		t.Fatal(err)
	}
	if g, err := tbl.GPI(region1); err != nil || g != GPIRealm {
		t.Fatalf("GPI after byte write = %s, %v", g, err)
	}
	if g, err := tbl.GPI(region1 + GranuleSize); err != nil || g != GPINS {
		t.Fatalf("neighbour GPI = %s, %v", g, err)
	}
}

// TestGPTMemoryKeepsContents: placing a table moves what the GPT memory held
// into the word array; the L0 table overwrites only its own bytes.
func TestGPTMemoryKeepsContents(t *testing.T) {
	m, err := NewMemory(Range{testGPTBase, testGPTSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(testGPTBase+0x1000-4, []byte("EL3 data")); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTable(m, Config{PPS: PPS4GB, L0GPTSZ: L0GPTSZ1GB, Base: testGPTBase, Size: testGPTSize}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 8)
	if err := m.Read(testGPTBase+0x1000-4, got); err != nil || string(got) != "EL3 data" {
		t.Fatalf("%q, %v", got, err)
	}
	if m.Resident() != testGPTSize/GranuleSize {
		t.Fatalf("Resident = %d", m.Resident())
	}
	if err := m.ZeroGranule(testGPTBase + 0x1000); err != nil {
		t.Fatal(err)
	}
	if err := m.Read(testGPTBase+0x1000-4, got); err != nil || string(got) != "EL3 \x00\x00\x00\x00" {
		t.Fatalf("after ZeroGranule: %q, %v", got, err)
	}
	if _, err := NewTable(m, Config{PPS: PPS4GB, L0GPTSZ: L0GPTSZ1GB, Base: testGPTBase, Size: testGPTSize}); !errors.Is(err, ErrConfig) {
		t.Fatalf("second table in the same memory: %v", err)
	}
}
