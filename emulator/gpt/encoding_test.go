package gpt

import (
	"errors"
	"testing"
)

// Expected values below are computed by hand from the bit layouts of
// GPCCR_EL3/GPTBR_EL3 (Arm ARM DDI 0487) and the GPT descriptor formats
// (Arm DEN0129), not from the encoders under test.

func TestGPCCREncodeDecode(t *testing.T) {
	tests := []struct {
		name string
		reg  GPCCR
		want uint64
	}{
		// PPS=1 [2:0], IRGN=1 <<8, ORGN=1 <<10, SH=3 <<12, GPC <<16.
		{"tf-a default 64GB", GPCCR{PPS: PPS64GB, IRGN: 1, ORGN: 1, SH: 3, PGS: PGS4KB, GPC: true}, 0x0001_3501},
		// PPS=6, SH=2 <<12 (0x2000), PGS=1 (64 KB) <<14 (0x4000), GPCP <<17, L0GPTSZ=9 <<20.
		{"64KB granules 512GB L0", GPCCR{PPS: PPS4PB, SH: 2, PGS: PGS64KB, GPCP: true, L0GPTSZ: L0GPTSZ512GB}, 0x0092_6006},
		// PPS=2, IRGN=3 (0x300), ORGN=2 (0x800), SH=3 (0x3000), PGS=2 (16 KB) <<14 (0x8000): 0xBB00, GPC, L0GPTSZ=4 <<20.
		{"16KB granules 16GB L0", GPCCR{PPS: PPS1TB, IRGN: 3, ORGN: 2, SH: 3, PGS: PGS16KB, GPC: true, L0GPTSZ: L0GPTSZ16GB}, 0x0041_BB02},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.reg.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.reg.Encode(); got != tc.want {
				t.Fatalf("Encode = %#x, want %#x", got, tc.want)
			}
			back, err := DecodeGPCCR(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if back != tc.reg {
				t.Fatalf("DecodeGPCCR = %+v, want %+v", back, tc.reg)
			}
		})
	}

	bad := []struct {
		name string
		v    uint64
	}{
		{"PPS 7 reserved", 0x0001_3507},
		{"PGS 3 reserved", 0x0001_F501},
		{"L0GPTSZ 1 reserved", 0x0011_3501},
		{"SH 01 reserved", 0x0001_1501},
		{"non-cacheable non-outer-shareable", 0x0001_3001},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeGPCCR(tc.v); !errors.Is(err, ErrConfig) {
				t.Fatalf("DecodeGPCCR(%#x) error = %v, want ErrConfig", tc.v, err)
			}
		})
	}
}

func TestFieldSizes(t *testing.T) {
	for pps, want := range map[PPS]uint{PPS4GB: 32, PPS64GB: 36, PPS1TB: 40, PPS4TB: 42, PPS16TB: 44, PPS256TB: 48, PPS4PB: 52} {
		if got, err := pps.Bits(); err != nil || got != want {
			t.Errorf("PPS %d: T = %d, %v; want %d", pps, got, err, want)
		}
	}
	// The odd order: 1 is 64 KB, 2 is 16 KB.
	for pgs, want := range map[PGS]uint{0: 12, 1: 16, 2: 14} {
		if got, err := pgs.Bits(); err != nil || got != want {
			t.Errorf("PGS %d: P = %d, %v; want %d", pgs, got, err, want)
		}
	}
	for l0, want := range map[L0GPTSZ]uint{0: 30, 4: 34, 6: 36, 9: 39} {
		if got, err := l0.Bits(); err != nil || got != want {
			t.Errorf("L0GPTSZ %d: S = %d, %v; want %d", l0, got, err, want)
		}
	}
	for _, v := range []uint8{1, 2, 3, 5, 7, 8, 10, 15} {
		if _, err := L0GPTSZ(v).Bits(); !errors.Is(err, ErrConfig) {
			t.Errorf("L0GPTSZ %d accepted", v)
		}
	}
	if _, err := PPS(7).Bits(); !errors.Is(err, ErrConfig) {
		t.Error("PPS 7 accepted")
	}
	if _, err := PGS(3).Bits(); !errors.Is(err, ErrConfig) {
		t.Error("PGS 3 accepted")
	}
}

func TestGPTBR(t *testing.T) {
	tests := []struct{ base, want uint64 }{
		{0xFFE0_0000, 0xF_FE00},
		{0x8_8000_0000, 0x88_0000},
		{0x000F_FFFF_FFFF_F000, 0xFF_FFFF_FFFF}, // PA[51:12] fills BADDR[39:0]
	}
	for _, tc := range tests {
		if got := EncodeGPTBR(tc.base); got != tc.want {
			t.Errorf("EncodeGPTBR(%#x) = %#x, want %#x", tc.base, got, tc.want)
		}
		if got := DecodeGPTBR(tc.want); got != tc.base {
			t.Errorf("DecodeGPTBR(%#x) = %#x, want %#x", tc.want, got, tc.base)
		}
	}
}

func TestDescriptorEncodings(t *testing.T) {
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		// L0 block: type 0b0001 in [3:0], GPI in [7:4].
		{"L0 block NS", L0BlockDesc(GPINS), 0x91},
		{"L0 block ANY", L0BlockDesc(GPIAny), 0xF1},
		{"L0 block NO_ACCESS", L0BlockDesc(GPINoAccess), 0x01},
		// L0 table: type 0b0011, L1 address PA[51:12] in place.
		{"L0 table", L0TableDesc(0xFFE2_0000), 0xFFE2_0003},
		{"L0 table high PA", L0TableDesc(0x000F_FFFF_FFFF_F000), 0x000F_FFFF_FFFF_F003},
		// L1 granules: 16 nibbles, granule i in bits [4i+3:4i].
		{"L1 uniform NS", L1UniformDesc(GPINS), 0x9999_9999_9999_9999},
		{"L1 uniform REALM", L1UniformDesc(GPIRealm), 0xBBBB_BBBB_BBBB_BBBB},
		{"L1 mixed", L1GranulesDesc([16]GPI{0: GPISecure, 1: GPINS, 2: GPIRoot, 3: GPIRealm, 15: GPIAny}), 0xF000_0000_0000_BA98},
		// L1 contiguous: 0b0001 in [3:0], GPI [7:4], Contig [9:8].
		{"L1 contig 2MB REALM", L1ContigDesc(GPIRealm, Contig2MB), 0x1B1},
		{"L1 contig 32MB SECURE", L1ContigDesc(GPISecure, Contig32MB), 0x281},
		{"L1 contig 512MB NS", L1ContigDesc(GPINS, Contig512MB), 0x391},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
	sizes := map[Contig]uint64{0: 0, Contig2MB: 2 << 20, Contig32MB: 32 << 20, Contig512MB: 512 << 20}
	for c, want := range sizes {
		if got := c.Size(); got != want {
			t.Errorf("Contig(%d).Size() = %#x, want %#x", c, got, want)
		}
	}
}

func TestGPIValues(t *testing.T) {
	valid := map[GPI]bool{0x0: true, 0x8: true, 0x9: true, 0xA: true, 0xB: true, 0xF: true}
	for g := GPI(0); g < 16; g++ {
		if g.Valid() != valid[g] {
			t.Errorf("GPI %#x Valid = %v", uint8(g), g.Valid())
		}
	}
	if PASRealm.GPI() != GPIRealm || PASNonSecure.GPI() != GPINS || PASSecure.GPI() != GPISecure || PASRoot.GPI() != GPIRoot {
		t.Error("PAS.GPI mismatch")
	}
}
