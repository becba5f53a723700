package gpt

import (
	"fmt"

	"github.com/ccakit/cca/internal/enumname"
)

// GPI is a 4-bit Granule Protection Information value
// (Arm DEN0129, GPI encodings; TF-A include/lib/gpt_rme/gpt_rme.h GPT_GPI_*).
type GPI uint8

// Architectural GPI encodings (Arm DEN0129). A "PAS" GPI is
// 0b10xx | PAS code; every value not listed here is reserved and makes the
// GPT walk fault.
const (
	GPINoAccess GPI = 0x0 // GPT_GPI_NO_ACCESS: no PAS may access the granule
	GPISecure   GPI = 0x8 // GPT_GPI_SECURE
	GPINS       GPI = 0x9 // GPT_GPI_NS
	GPIRoot     GPI = 0xA // GPT_GPI_ROOT
	GPIRealm    GPI = 0xB // GPT_GPI_REALM
	GPIAny      GPI = 0xF // GPT_GPI_ANY: every PAS may access the granule
)

// Valid reports whether g is one of the architectural (non-reserved) GPIs.
func (g GPI) Valid() bool {
	switch g {
	case GPINoAccess, GPISecure, GPINS, GPIRoot, GPIRealm, GPIAny:
		return true
	}
	return false
}

var gpiNames = map[GPI]string{
	GPINoAccess: "NO_ACCESS", GPISecure: "SECURE", GPINS: "NS",
	GPIRoot: "ROOT", GPIRealm: "REALM", GPIAny: "ANY",
}

func (g GPI) String() string { return enumname.Name(g, gpiNames, "reserved(%#x)") }

// PAS is a physical address space, encoded as the {NSE, NS} pair
// (Arm DEN0129: Secure 00, NS 01, Root 10, Realm 11; TF-A GPT_NSE_*; QEMU
// ARMSecuritySpace uses the same codes).
type PAS uint8

// Physical address spaces.
const (
	PASSecure    PAS = 0
	PASNonSecure PAS = 1
	PASRoot      PAS = 2
	PASRealm     PAS = 3
)

// GPI returns the GPI that grants exactly this PAS (0b10 << 2 | PAS).
func (p PAS) GPI() GPI { return GPI(0x8 | p&3) }

var pasNames = map[PAS]string{PASSecure: "Secure", PASNonSecure: "NonSecure", PASRoot: "Root", PASRealm: "Realm"}

func (p PAS) String() string { return enumname.Name(p, pasNames, "PAS(%d)") }

// SecurityState is the security state of the requester, encoded like
// SCR_EL3.{NSE, NS} and therefore like PAS.
type SecurityState uint8

// Security states. StateNonSecure is the Normal world (the host hypervisor
// and its VMs).
const (
	StateSecure    SecurityState = 0
	StateNonSecure SecurityState = 1
	StateRoot      SecurityState = 2
	StateRealm     SecurityState = 3
)

// PAS returns the security state's own physical address space.
func (s SecurityState) PAS() PAS { return PAS(s) }

// stateNames are the names of the PAS of the same code: a security state
// is named after its own physical address space.
var stateNames = map[SecurityState]string{
	StateSecure: "Secure", StateNonSecure: "NonSecure", StateRoot: "Root", StateRealm: "Realm",
}

func (s SecurityState) String() string { return enumname.Name(s, stateNames, "SecurityState(%d)") }

// emitMask[state] has bit p set when the state may emit PAS p
// (Arm DEN0129, physical address spaces; TF-A docs/components/granule-protection-tables-design.rst).
var emitMask = [4]uint8{
	StateSecure:    1<<PASSecure | 1<<PASNonSecure,
	StateNonSecure: 1 << PASNonSecure,
	StateRoot:      0xF,
	StateRealm:     1<<PASRealm | 1<<PASNonSecure,
}

// CanAccess reports whether security state s may emit accesses to PAS p.
func (s SecurityState) CanAccess(p PAS) bool {
	return s < 4 && p < 4 && emitMask[s]>>p&1 != 0
}

// PPS is GPCCR_EL3.PPS, the protected physical address size
// (Arm ARM DDI 0487 GPCCR_EL3; TF-A lib/gpt_rme/gpt_rme_private.h gpt_t_val_e).
type PPS uint8

// PPS encodings.
const (
	PPS4GB   PPS = 0 // T = 32
	PPS64GB  PPS = 1 // T = 36
	PPS1TB   PPS = 2 // T = 40
	PPS4TB   PPS = 3 // T = 42
	PPS16TB  PPS = 4 // T = 44
	PPS256TB PPS = 5 // T = 48
	PPS4PB   PPS = 6 // T = 52
)

var ppsBits = [...]uint{32, 36, 40, 42, 44, 48, 52}

// Bits returns T, the width of the protected physical address space.
func (p PPS) Bits() (uint, error) {
	if int(p) >= len(ppsBits) {
		return 0, fmt.Errorf("%w: GPCCR_EL3.PPS %d is reserved", ErrConfig, p)
	}
	return ppsBits[p], nil
}

// PGS is GPCCR_EL3.PGS, the GPT granule size. Note the odd order of the
// encodings: 1 is 64 KB and 2 is 16 KB (Arm ARM DDI 0487 GPCCR_EL3; TF-A
// gpt_p_val_e "this is not a typo").
type PGS uint8

// PGS encodings.
const (
	PGS4KB  PGS = 0 // P = 12
	PGS64KB PGS = 1 // P = 16
	PGS16KB PGS = 2 // P = 14
)

// Bits returns P, log2 of the granule size.
func (p PGS) Bits() (uint, error) {
	switch p {
	case PGS4KB:
		return 12, nil
	case PGS64KB:
		return 16, nil
	case PGS16KB:
		return 14, nil
	}
	return 0, fmt.Errorf("%w: GPCCR_EL3.PGS %d is reserved", ErrConfig, p)
}

// L0GPTSZ is GPCCR_EL3.L0GPTSZ, the size of the region one L0 entry covers
// (Arm ARM DDI 0487 GPCCR_EL3; TF-A GPT_S_VAL = L0GPTSZ + 30). The field is
// read-only in hardware; here the platform chooses it.
type L0GPTSZ uint8

// L0GPTSZ encodings; every other value is reserved.
const (
	L0GPTSZ1GB   L0GPTSZ = 0 // S = 30
	L0GPTSZ16GB  L0GPTSZ = 4 // S = 34
	L0GPTSZ64GB  L0GPTSZ = 6 // S = 36
	L0GPTSZ512GB L0GPTSZ = 9 // S = 39
)

// Bits returns S, log2 of the L0 region size.
func (l L0GPTSZ) Bits() (uint, error) {
	switch l {
	case L0GPTSZ1GB, L0GPTSZ16GB, L0GPTSZ64GB, L0GPTSZ512GB:
		return 30 + uint(l), nil
	}
	return 0, fmt.Errorf("%w: GPCCR_EL3.L0GPTSZ %d is reserved", ErrConfig, l)
}

// GPCCR_EL3 field positions (Arm ARM DDI 0487; TF-A include/arch/aarch64/arch.h
// GPCCR_*_SHIFT).
const (
	gpccrPPSShift     = 0  // [2:0]
	gpccrIRGNShift    = 8  // [9:8]
	gpccrORGNShift    = 10 // [11:10]
	gpccrSHShift      = 12 // [13:12]
	gpccrPGSShift     = 14 // [15:14]
	gpccrGPCBit       = 16 // [16]
	gpccrGPCPBit      = 17 // [17]
	gpccrL0GPTSZShift = 20 // [23:20]
)

// Cacheability and shareability values TF-A programs for GPT fetches
// (TF-A lib/gpt_rme/gpt_rme.c gpt_enable: Inner Shareable, WB RA WA).
const (
	GPCCRShareInner   = 0b11 // GPCCR_SH_IS
	GPCCRShareOuter   = 0b10 // GPCCR_SH_OS
	GPCCRCacheWBRAWA  = 0b01 // GPCCR_IRGN/ORGN_WB_RA_WA
	gpccrShareReserve = 0b01
)

// GPCCR is the decoded GPCCR_EL3 register. Fields not listed are RES0 in
// RME 1.0 (the RME GPC2 disable bits are not modelled).
type GPCCR struct {
	PPS     PPS
	IRGN    uint8 // inner cacheability of GPT fetches, 2 bits
	ORGN    uint8 // outer cacheability, 2 bits
	SH      uint8 // shareability, 2 bits; 0b01 is reserved
	PGS     PGS
	GPC     bool // granule protection checks enabled
	GPCP    bool // GPC priority (fault reporting), not modelled
	L0GPTSZ L0GPTSZ
}

// Encode packs the register. Fields wider than their bit range are
// truncated; call Validate first to reject reserved values.
func (r GPCCR) Encode() uint64 {
	v := uint64(r.PPS&7)<<gpccrPPSShift |
		uint64(r.IRGN&3)<<gpccrIRGNShift |
		uint64(r.ORGN&3)<<gpccrORGNShift |
		uint64(r.SH&3)<<gpccrSHShift |
		uint64(r.PGS&3)<<gpccrPGSShift |
		uint64(r.L0GPTSZ&0xF)<<gpccrL0GPTSZShift
	if r.GPC {
		v |= 1 << gpccrGPCBit
	}
	if r.GPCP {
		v |= 1 << gpccrGPCPBit
	}
	return v
}

// Validate rejects reserved encodings of PPS, PGS, SH and L0GPTSZ, and the
// non-shareable/non-cacheable combination QEMU treats as a walk fault
// (QEMU target/arm/ptw.c granule_protection_check).
func (r GPCCR) Validate() error {
	if _, err := r.PPS.Bits(); err != nil {
		return err
	}
	if _, err := r.PGS.Bits(); err != nil {
		return err
	}
	if _, err := r.L0GPTSZ.Bits(); err != nil {
		return err
	}
	if r.IRGN > 3 || r.ORGN > 3 || r.SH > 3 {
		return fmt.Errorf("%w: GPCCR_EL3 IRGN/ORGN/SH wider than 2 bits", ErrConfig)
	}
	if r.SH == gpccrShareReserve {
		return fmt.Errorf("%w: GPCCR_EL3.SH 0b01 is reserved", ErrConfig)
	}
	if r.SH != GPCCRShareOuter && r.IRGN == 0 && r.ORGN == 0 {
		return fmt.Errorf("%w: GPCCR_EL3 non-cacheable GPT fetches must be Outer Shareable", ErrConfig)
	}
	return nil
}

// DecodeGPCCR unpacks a GPCCR_EL3 value and validates it.
func DecodeGPCCR(v uint64) (GPCCR, error) {
	r := GPCCR{
		PPS:     PPS(v >> gpccrPPSShift & 7),
		IRGN:    uint8(v >> gpccrIRGNShift & 3),
		ORGN:    uint8(v >> gpccrORGNShift & 3),
		SH:      uint8(v >> gpccrSHShift & 3),
		PGS:     PGS(v >> gpccrPGSShift & 3),
		GPC:     v>>gpccrGPCBit&1 != 0,
		GPCP:    v>>gpccrGPCPBit&1 != 0,
		L0GPTSZ: L0GPTSZ(v >> gpccrL0GPTSZShift & 0xF),
	}
	return r, r.Validate()
}

// GPTBR_EL3.BADDR[39:0] holds L0 table PA[51:12] (Arm ARM DDI 0487 GPTBR_EL3;
// TF-A GPTBR_BADDR_*).
const (
	gptbrBADDRMask  = 1<<40 - 1
	gptbrBADDRShift = 12
)

// EncodeGPTBR returns the GPTBR_EL3 value for an L0 table at base.
func EncodeGPTBR(base uint64) uint64 { return base >> gptbrBADDRShift & gptbrBADDRMask }

// DecodeGPTBR returns the L0 table base address held in a GPTBR_EL3 value.
func DecodeGPTBR(v uint64) uint64 { return (v & gptbrBADDRMask) << gptbrBADDRShift }

// Descriptor encodings (Arm DEN0129, GPT descriptor formats; TF-A
// lib/gpt_rme/gpt_rme_private.h).
const (
	descTypeMask  = 0xF
	l0TypeBlock   = 0x1                // GPT_L0_TYPE_BLK_DESC
	l0TypeTable   = 0x3                // GPT_L0_TYPE_TBL_DESC
	l0GPIShift    = 4                  // GPT_L0_BLK_DESC_GPI_SHIFT, GPI in [7:4]
	l0AddrMask    = 0xFFFFFFFFFF << 12 // GPT_L0_TBL_DESC_L1ADDR_MASK << 12, PA[51:12]
	l1TypeContig  = 0x1                // GPT_L1_TYPE_CONT_DESC, [3:0] == 0b0001
	l1GPIShift    = 4                  // GPT_L1_CONT_DESC_GPI_SHIFT, GPI in [7:4]
	l1ContigShift = 8                  // GPT_L1_CONT_DESC_CONTIG_SHIFT, Contig in [9:8]
	l0BlockRES0   = ^uint64(0xFF)      // block descriptor bits above 7 are RES0
	l1ContigRES0  = ^uint64(0x3FF)     // contiguous descriptor bits above 9 are RES0
	uniformMul    = 0x1111111111111111 // GPT_BUILD_L1_DESC: GPI replicated into every nibble
	maxPABits     = 52                 // FEAT_LPA PA width; bits above are never valid
	paMask52      = uint64(1)<<maxPABits - 1
)

// Contig is the Contig field [9:8] of an L1 contiguous descriptor
// (Arm DEN0129, GPT contiguous descriptor; TF-A GPT_L1_CONTIG_*). 0 is
// reserved.
type Contig uint8

// Contiguous block sizes.
const (
	Contig2MB   Contig = 1
	Contig32MB  Contig = 2
	Contig512MB Contig = 3
)

// Size returns the block size in bytes, or 0 for the reserved encoding.
func (c Contig) Size() uint64 {
	switch c {
	case Contig2MB:
		return 2 << 20
	case Contig32MB:
		return 32 << 20
	case Contig512MB:
		return 512 << 20
	}
	return 0
}

// L0BlockDesc returns an L0 block descriptor giving a whole L0 region one GPI
// (TF-A GPT_L0_BLK_DESC).
func L0BlockDesc(gpi GPI) uint64 { return l0TypeBlock | uint64(gpi&0xF)<<l0GPIShift }

// L0TableDesc returns an L0 table descriptor pointing at the L1 table at l1
// (TF-A GPT_L0_TBL_DESC). l1 must be 4 KB aligned.
func L0TableDesc(l1 uint64) uint64 { return l0TypeTable | l1&l0AddrMask }

// L1GranulesDesc returns an L1 granules descriptor holding the 16 GPIs in
// order: gpis[i] is the GPI of the i-th granule of the 16 the entry covers,
// stored in bits [4i+3:4i].
func L1GranulesDesc(gpis [16]GPI) uint64 {
	var d uint64
	for i, g := range gpis {
		d |= uint64(g&0xF) << (4 * i)
	}
	return d
}

// L1UniformDesc returns the L1 granules descriptor with every GPI set to gpi
// (TF-A GPT_BUILD_L1_DESC).
func L1UniformDesc(gpi GPI) uint64 { return uint64(gpi&0xF) * uniformMul }

// L1ContigDesc returns an L1 contiguous descriptor (TF-A GPT_L1_CONT_DESC_SIZE).
func L1ContigDesc(gpi GPI, c Contig) uint64 {
	return l1TypeContig | uint64(gpi&0xF)<<l1GPIShift | uint64(c&3)<<l1ContigShift
}

// isContig reports whether an L1 descriptor is a contiguous descriptor.
func isContig(d uint64) bool { return d&descTypeMask == l1TypeContig }

// uniformGPI returns the single GPI an L1 entry gives all of its granules, and
// false when the entry holds mixed GPIs or is a malformed contiguous
// descriptor.
func uniformGPI(d uint64) (GPI, bool) {
	if isContig(d) {
		if d&l1ContigRES0 != 0 || d>>l1ContigShift&3 == 0 {
			return 0, false
		}
		return GPI(d >> l1GPIShift & 0xF), true
	}
	g := GPI(d & 0xF)
	return g, d == L1UniformDesc(g)
}
