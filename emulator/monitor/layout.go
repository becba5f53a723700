package monitor

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/ccakit/cca/emulator/gpt"
)

// Region is one entry of the platform memory map, like TF-A's pas_region_t:
// a span of backed memory, the GPI it gets at boot, and how the GPT maps it.
type Region struct {
	Name       string
	Base, Size uint64
	GPI        gpt.GPI
	// Granules maps the region with L1 granule descriptors, so that its
	// granules can be delegated (GPT_MAP_REGION_GRANULE). Otherwise the
	// region is made of L0 block descriptors and must be aligned to the L0
	// region size (GPT_MAP_REGION_BLOCK).
	Granules bool
}

// Layout is the machine's physical memory map and GPT shape.
type Layout struct {
	PPS     gpt.PPS
	L0GPTSZ gpt.L0GPTSZ
	// MaxBlock bounds the contiguous descriptors the GPT fuses into (TF-A
	// RME_GPT_MAX_BLOCK); 0 disables fusing.
	MaxBlock uint64
	Regions  []Region
	// GPT is the memory that holds the tables. It must lie inside a Root
	// region (GPT tables sit in Root PAS: Arm DEN0129; TF-A gpt_rme.c) and is
	// allocated in full at boot.
	GPT gpt.Range
	// SharedPage is the 4 KB EL3↔RMM shared buffer. It must lie in a Realm
	// region (TF-A v2.12 plat/arm/board/fvp/include/fvp_pas_def.h:
	// ARM_PAS_REALM covers the RMM and the shared area).
	SharedPage uint64
}

// Default memory map, loosely after the FVP (TF-A plat/arm/board/fvp
// fvp_pas_def.h) but with round numbers; it is this emulator's choice, not a
// specification. PPS is 64 GB and L0GPTSZ 1 GB, so the L0 table has 64
// entries and each L1 table is 128 KB.
const (
	DefaultIOBase      = 0x4000_0000   // 1 GB NS device window, one L0 block
	DefaultIOSize      = 0x4000_0000   //
	DefaultDRAM0Base   = 0x8000_0000   // NS DRAM bank 0 (the host's memory at reset)
	DefaultDRAM0Size   = 0x7C00_0000   // 1984 MB
	DefaultRealmBase   = 0xFC00_0000   // the RMM's own memory, REALM
	DefaultRealmSize   = 0x0200_0000   // 32 MB
	DefaultSharedPage  = 0xFDFF_F000   // last page of the RMM's memory
	DefaultSecureBase  = 0xFE00_0000   // Secure world, SECURE
	DefaultSecureSize  = 0x0100_0000   // 16 MB
	DefaultRootBase    = 0xFF00_0000   // EL3 firmware and GPT, ROOT
	DefaultRootSize    = 0x0100_0000   // 16 MB
	DefaultGPTBase     = 0xFFE0_0000   // GPT memory: L0 table then L1 tables
	DefaultGPTSize     = 0x0010_0000   // 1 MB: room for 7 L1 tables
	DefaultDRAM1Base   = 0x8_8000_0000 // NS DRAM bank 1
	DefaultDRAM1Size   = 0x8000_0000   // 2 GB
	defaultGranuleSize = gpt.GranuleSize
)

// DefaultLayout returns the default memory map (see the Default* constants).
func DefaultLayout() Layout {
	return Layout{
		PPS:      gpt.PPS64GB,
		L0GPTSZ:  gpt.L0GPTSZ1GB,
		MaxBlock: gpt.Block512MB,
		Regions: []Region{
			{"io", DefaultIOBase, DefaultIOSize, gpt.GPINS, false},
			{"dram0", DefaultDRAM0Base, DefaultDRAM0Size, gpt.GPINS, true},
			{"rmm", DefaultRealmBase, DefaultRealmSize, gpt.GPIRealm, true},
			{"secure", DefaultSecureBase, DefaultSecureSize, gpt.GPISecure, true},
			{"el3", DefaultRootBase, DefaultRootSize, gpt.GPIRoot, true},
			{"dram1", DefaultDRAM1Base, DefaultDRAM1Size, gpt.GPINS, true},
		},
		GPT:        gpt.Range{Base: DefaultGPTBase, Size: DefaultGPTSize},
		SharedPage: DefaultSharedPage,
	}
}

// HostDRAM returns the regions the Normal world owns at reset: NS regions
// mapped by granules (so that the host can delegate from them), in address
// order.
func (l Layout) HostDRAM() []Region {
	var rs []Region
	for _, r := range l.sorted() {
		if r.GPI == gpt.GPINS && r.Granules {
			rs = append(rs, r)
		}
	}
	return rs
}

func (l Layout) sorted() []Region {
	rs := slices.Clone(l.Regions)
	slices.SortFunc(rs, func(a, b Region) int { return cmp.Compare(a.Base, b.Base) })
	return rs
}

// regionOf returns the region holding [pa, pa+n).
func (l Layout) regionOf(pa, n uint64) (Region, bool) {
	for _, r := range l.Regions {
		if pa >= r.Base && pa-r.Base < r.Size && n <= r.Size-(pa-r.Base) {
			return r, true
		}
	}
	return Region{}, false
}

// Validate checks the map: regions non-empty, 4 KB aligned, GPIs valid,
// below 2^PPS, not overlapping, block regions aligned to the L0 region size;
// GPT memory inside a Root region; the shared page inside a Realm region.
func (l Layout) Validate() error {
	t, err := l.PPS.Bits()
	if err != nil {
		return err
	}
	s, err := l.L0GPTSZ.Bits()
	if err != nil {
		return err
	}
	if len(l.Regions) == 0 {
		return fmt.Errorf("%w: no memory regions", ErrConfig)
	}
	rs := l.sorted()
	for i, r := range rs {
		switch {
		case r.Size == 0 || r.Base%defaultGranuleSize != 0 || r.Size%defaultGranuleSize != 0:
			return fmt.Errorf("%w: region %q [%#x, +%#x) is empty or not 4 KB aligned", ErrConfig, r.Name, r.Base, r.Size)
		case !r.GPI.Valid():
			return fmt.Errorf("%w: region %q has reserved GPI %s", ErrConfig, r.Name, r.GPI)
		case r.Base+r.Size < r.Base || r.Base+r.Size > 1<<t:
			return fmt.Errorf("%w: region %q [%#x, +%#x) exceeds 2^PPS = %#x", ErrConfig, r.Name, r.Base, r.Size, uint64(1)<<t)
		case !r.Granules && (r.Base%(1<<s) != 0 || r.Size%(1<<s) != 0):
			return fmt.Errorf("%w: block region %q [%#x, +%#x) is not made of %#x-byte L0 regions", ErrConfig, r.Name, r.Base, r.Size, uint64(1)<<s)
		case i > 0 && r.Base < rs[i-1].Base+rs[i-1].Size:
			return fmt.Errorf("%w: regions %q and %q overlap", ErrConfig, rs[i-1].Name, r.Name)
		}
	}
	if g, ok := l.regionOf(l.GPT.Base, l.GPT.Size); !ok || g.GPI != gpt.GPIRoot || l.GPT.Size == 0 {
		return fmt.Errorf("%w: GPT memory [%#x, +%#x) is not inside a Root region", ErrConfig, l.GPT.Base, l.GPT.Size)
	}
	if l.SharedPage%defaultGranuleSize != 0 {
		return fmt.Errorf("%w: shared page %#x is not 4 KB aligned", ErrConfig, l.SharedPage)
	}
	if r, ok := l.regionOf(l.SharedPage, defaultGranuleSize); !ok || r.GPI != gpt.GPIRealm {
		return fmt.Errorf("%w: shared page %#x is not inside a Realm region", ErrConfig, l.SharedPage)
	}
	return nil
}
