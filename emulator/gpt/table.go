package gpt

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Block sizes a Table may fuse L1 entries into (Config.MaxBlock).
const (
	Block2MB   = 2 << 20
	Block32MB  = 32 << 20
	Block512MB = 512 << 20
)

// Config shapes a GPT and places it in memory.
type Config struct {
	PPS     PPS
	PGS     PGS // only PGS4KB is implemented
	L0GPTSZ L0GPTSZ

	// Base and Size delimit the GPT memory: the L0 table is at Base
	// (GPTBR_EL3.BADDR) and L1 tables are carved from the rest. The GPT must
	// sit in Root PAS memory (Arm DEN0129; TF-A gpt_rme.c), which the caller maps. A
	// descriptor pointing outside this memory makes the walk fail with
	// FaultEABT: the emulator only fetches descriptors from GPT memory. The
	// GPT memory is allocated in full (Size bytes) by NewTable.
	Base, Size uint64

	// MaxBlock is the largest contiguous block L1 entries are fused into:
	// 0 (never fuse), Block2MB, Block32MB or Block512MB. It plays the role of
	// TF-A's RME_GPT_MAX_BLOCK build option.
	MaxBlock uint64
}

// Table is a Granule Protection Table stored in the bytes of a Memory, and the
// Granule Protection Check that walks it. Every check reads the descriptors
// from memory; nothing caches them.
//
// The checking and access methods (Check, GPI, Read, Write, Snapshot and the
// register accessors) may be called by anyone, concurrently. The methods
// that change the table (MapBlock, MapGranules, Delegate, Undelegate) are
// EL3's: only the monitor (emulator/monitor), which owns the Table, calls
// them. All methods are safe for concurrent use.
type Table struct {
	mem  *Memory
	cfg  Config
	area Range      // GPT memory
	ta   *tableArea // its words
	w    []uint64   // ta.w: w[i] is the descriptor at area.Base + 8*i

	// Geometry, from GPCCR_EL3 (Arm ARM DDI 0487).
	t, s, p   uint
	l0        uint64 // L0 table base (GPTBR_EL3.BADDR << 12)
	l0i       uint64 // index of the L0 table in w
	outside   uint64 // PA bits at or above 2^PPS
	l1Size    uint64 // bytes per L1 table, 2^(S-P-1)
	l1IdxMask uint64 // L1 index = PA[S-1:P+4]
	l1Bad     uint64 // bits of an L1 table address that must be zero
	gpccr     uint64
	gptbr     uint64

	mu   sync.Mutex // serialises every change of the table (TF-A gpt_lock)
	next uint64     // next free L1 table address
}

// NewTable writes an empty GPT into mem: every L0 entry a block descriptor
// with GPI ANY, as TF-A's gpt_init_l0_tables does. Regions are then carved
// out with MapBlock and MapGranules.
func NewTable(mem *Memory, cfg Config) (*Table, error) {
	if mem == nil {
		return nil, fmt.Errorf("%w: nil memory", ErrConfig)
	}
	reg := GPCCR{PPS: cfg.PPS, PGS: cfg.PGS, L0GPTSZ: cfg.L0GPTSZ,
		IRGN: GPCCRCacheWBRAWA, ORGN: GPCCRCacheWBRAWA, SH: GPCCRShareInner, GPC: true}
	if err := reg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PGS != PGS4KB {
		return nil, fmt.Errorf("%w: PGS %d (only 4 KB granules are emulated)", ErrUnsupported, cfg.PGS)
	}
	switch cfg.MaxBlock {
	case 0, Block2MB, Block32MB, Block512MB:
	default:
		return nil, fmt.Errorf("%w: MaxBlock %#x is not 0, 2 MB, 32 MB or 512 MB", ErrConfig, cfg.MaxBlock)
	}
	t := &Table{mem: mem, cfg: cfg, area: Range{cfg.Base, cfg.Size}}
	t.t, _ = cfg.PPS.Bits()
	t.s, _ = cfg.L0GPTSZ.Bits()
	t.p, _ = cfg.PGS.Bits()
	l0Size := uint64(8)
	if t.t > t.s {
		l0Size <<= t.t - t.s
	}
	// The L0 table is aligned to its size, at least 4 KB (QEMU ptw.c:
	// align = MAX(pps - l0gptsz + 3, 12)); L1 tables are aligned to their
	// size, 2^(S-P-1) bytes (align = MAX(l0gptsz - pgs - 1, 12)).
	l0Align := max(l0Size, GranuleSize)
	t.l1Size = 1 << (t.s - t.p - 1)
	t.l1IdxMask = 1<<(t.s-t.p-4) - 1
	t.l1Bad = ^(uint64(1)<<t.t - 1) | (max(t.l1Size, GranuleSize) - 1)
	if cfg.Base%l0Align != 0 {
		return nil, fmt.Errorf("%w: GPT base %#x is not aligned to %#x", ErrConfig, cfg.Base, l0Align)
	}
	if cfg.Size < l0Size || cfg.Base+cfg.Size < cfg.Base || cfg.Base+cfg.Size > 1<<t.t {
		return nil, fmt.Errorf("%w: GPT memory [%#x, +%#x) must hold the %d-byte L0 table below 2^%d", ErrConfig, cfg.Base, cfg.Size, l0Size, t.t)
	}
	ta, err := mem.markTables(t.area)
	if err != nil {
		return nil, err
	}
	t.ta, t.w = ta, ta.w
	t.l0, t.l0i = cfg.Base, 0
	t.outside = ^(uint64(1)<<t.t - 1)
	t.next = alignUp(cfg.Base+l0Size, t.l1Size)
	t.gpccr = reg.Encode()
	t.gptbr = EncodeGPTBR(cfg.Base)
	t.store(t.l0, int(l0Size/8), L0BlockDesc(GPIAny))
	return t, nil
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// Config returns the configuration the table was built with.
func (t *Table) Config() Config { return t.cfg }

// GPCCR returns the GPCCR_EL3 value that enables this table.
func (t *Table) GPCCR() uint64 { return t.gpccr }

// GPTBR returns the GPTBR_EL3 value pointing at this table's L0 table.
func (t *Table) GPTBR() uint64 { return t.gptbr }

// ProtectedSize returns 2^PPS, the size of the protected physical address space.
func (t *Table) ProtectedSize() uint64 { return 1 << t.t }

// validGPIs has bit g set for each architectural GPI (Arm DEN0129).
const validGPIs = 1<<GPINoAccess | 1<<GPISecure | 1<<GPINS | 1<<GPIRoot | 1<<GPIRealm | 1<<GPIAny

// walk looks pa up in the table. kind is 0 on success, FaultAddressSize for
// a PA at or above 2^PPS, and FaultWalk or FaultEABT when the table cannot be
// walked. It follows QEMU's granule_protection_check (target/arm/ptw.c),
// fetching each descriptor from GPT memory with one atomic load.
func (t *Table) walk(pa uint64) (gpi GPI, level uint8, kind FaultKind) {
	if pa>>t.t != 0 {
		return 0, 0, FaultAddressSize
	}
	w := t.w
	i := t.l0i + pa>>t.s // inside GPT memory: checked by NewTable
	d := atomic.LoadUint64(&w[i])
	switch d & descTypeMask {
	case l0TypeBlock:
		if d&l0BlockRES0 != 0 {
			return 0, 0, FaultWalk
		}
		gpi = GPI(d >> l0GPIShift & 0xF)
	case l0TypeTable:
		l1 := d &^ descTypeMask
		if l1&t.l1Bad != 0 {
			return 0, 0, FaultWalk
		}
		level = 1
		i = (l1-t.area.Base)>>3 + pa>>(t.p+4)&t.l1IdxMask
		if i >= uint64(len(w)) || l1 < t.area.Base {
			return 0, 1, FaultEABT
		}
		d = atomic.LoadUint64(&w[i])
		if d&descTypeMask == l1TypeContig {
			if d&l1ContigRES0 != 0 || d>>l1ContigShift&3 == 0 {
				return 0, 1, FaultWalk
			}
			gpi = GPI(d >> l1GPIShift & 0xF)
		} else {
			gpi = GPI(d >> ((pa >> t.p & 0xF) * 4) & 0xF)
		}
	default:
		return 0, 0, FaultWalk
	}
	if validGPIs>>gpi&1 == 0 {
		return gpi, level, FaultWalk
	}
	return gpi, level, 0
}

// load returns the descriptor at pa, which must lie in GPT memory.
func (t *Table) load(pa uint64) uint64 { return atomic.LoadUint64(&t.w[(pa-t.area.Base)>>3]) }

// store writes n copies of v from pa on, inside GPT memory.
func (t *Table) store(pa uint64, n int, v uint64) {
	t.mem.store64s(t.ta, (pa-t.area.Base)>>3, n, v)
}

// checkSpan checks every granule of [pa, pa+n), n > 0, stopping at the first
// fault.
func (t *Table) checkSpan(s SecurityState, pas PAS, pa, n uint64) error {
	gpa := pa &^ (GranuleSize - 1)
	for range (pa+n-1)>>GranuleShift - pa>>GranuleShift + 1 {
		if err := t.gpc(s, pas, gpa); err != nil {
			return err
		}
		gpa += GranuleSize
	}
	return nil
}

// granuleShift4K is P for PGS 4 KB, the only granule size NewTable accepts;
// the fast path uses it as a constant.
const granuleShift4K = 12

// gpc is the granule protection check for one access. It returns nil when the
// access may proceed, ErrIllegalPAS when s cannot emit pas, else a *Fault.
// The fast path decides "allowed" with at most two descriptor loads; every
// other outcome is worked out by fault, which must agree with it
// (TestAccessMatrix and TestWalkFaults go through both).
func (t *Table) gpc(s SecurityState, pas PAS, pa uint64) error {
	if !s.CanAccess(pas) {
		return illegalPAS(s, pas)
	}
	if pa&t.outside != 0 {
		// Above the protected space NS passes and every other PAS faults
		// (Arm ARM rule R_CPDSB, as QEMU target/arm/ptw.c applies it).
		if pas == PASNonSecure {
			return nil
		}
		return t.fault(s, pas, pa)
	}
	w := t.w
	d := atomic.LoadUint64(&w[t.l0i+pa>>(t.s&63)])
	var gpi uint64
	switch d & descTypeMask {
	case l0TypeBlock:
		gpi = d >> l0GPIShift // RES0 bits above 7 must be zero: a set bit fails below
	case l0TypeTable:
		// An l1 below the GPT memory wraps i past len(w).
		l1 := d &^ descTypeMask
		i := (l1-t.area.Base)>>3 + pa>>(granuleShift4K+4)&t.l1IdxMask
		if l1&t.l1Bad != 0 || i >= uint64(len(w)) {
			return t.fault(s, pas, pa)
		}
		d = atomic.LoadUint64(&w[i])
		if d&descTypeMask != l1TypeContig {
			gpi = d >> (pa >> granuleShift4K & 0xF * 4) & 0xF
		} else if d&l1ContigRES0 == 0 && d>>l1ContigShift != 0 {
			gpi = d >> l1GPIShift & 0xF
		}
	}
	// Allowed iff GPI is ANY or names the target PAS (Arm DEN0129; QEMU
	// granule_protection_check).
	// gpi is 0 (NO_ACCESS) for the malformed cases above.
	if gpi == uint64(GPIAny) || gpi == 0x8|uint64(pas) {
		return nil
	}
	return t.fault(s, pas, pa)
}

// fault works out why the access failed the fast path, by a full walk. It
// returns a nil error if the access passes after all (the table changed in
// between).
func (t *Table) fault(s SecurityState, pas PAS, pa uint64) error {
	gpi, level, kind := t.walk(pa)
	switch kind {
	case 0:
		if gpi == GPIAny || gpi == 0x8|GPI(pas) {
			return nil // the table changed under us; the access passes now
		}
		// NO_ACCESS and the other PAS GPIs fail.
		kind = FaultFail
	case FaultAddressSize:
		if pas == PASNonSecure {
			return nil
		}
	}
	return &Fault{PA: pa, PAS: pas, State: s, Kind: kind, Level: level, GPI: gpi}
}

func illegalPAS(s SecurityState, pas PAS) error {
	return fmt.Errorf("%w: %s state, %s PAS", ErrIllegalPAS, s, pas)
}

// Check performs the granule protection check for an access by security state
// s to physical address pa in PAS pas. It returns nil when the access is
// allowed, a *Fault when the GPC refuses it, and ErrIllegalPAS when s cannot
// emit pas at all.
func (t *Table) Check(s SecurityState, pas PAS, pa uint64) error { return t.gpc(s, pas, pa) }

// GPI returns the GPI the table gives the granule at pa, or a *Fault when pa
// is above the protected space or the walk faults.
func (t *Table) GPI(pa uint64) (GPI, error) {
	gpi, level, kind := t.walk(pa)
	if kind != 0 {
		return gpi, &Fault{PA: pa, PAS: PASRoot, State: StateRoot, Kind: kind, Level: level, GPI: gpi}
	}
	return gpi, nil
}

// Read copies len(p) bytes at physical address pa into p on behalf of
// security state s, in PAS pas. Each granule touched is checked first; if any
// check fails, nothing is copied and the *Fault of the first failing granule
// is returned. Unbacked addresses give ErrNoMemory.
func (t *Table) Read(s SecurityState, pas PAS, pa uint64, p []byte) error {
	if !s.CanAccess(pas) {
		return illegalPAS(s, pas)
	}
	return t.mem.access(pa, p, false, t, s, pas)
}

// Write is the store counterpart of Read. Writing a whole granule of zeros
// releases the granule's storage.
func (t *Table) Write(s SecurityState, pas PAS, pa uint64, p []byte) error {
	if !s.CanAccess(pas) {
		return illegalPAS(s, pas)
	}
	return t.mem.access(pa, p, true, t, s, pas)
}

// CopyGranule copies the whole granule at src, read in PAS srcPAS, to the
// whole granule at dst, written in PAS dstPAS, on behalf of security state
// s, with the granule protection check of both granules made under their
// locks, so that a failing copy copies nothing (the *Fault of the failing
// granule is returned). It is the platform's copy primitive for the RMM's
// RMI_DATA_CREATE: the content moves from the host's granule into the
// realm's without a bounce buffer, and the two share storage until either
// is written (copy on write: the 4 KB copy is made, if ever, by the first
// write, and no write to one ever shows in the other). If see is not nil it is called
// under both granules' locks with exactly the bytes that land in dst, in
// order, in one or more consecutive pieces (the RMM measures them: what the
// realm gets, whatever the host does to src later); it must neither keep
// the slices nor access memory.
func (t *Table) CopyGranule(s SecurityState, dstPAS PAS, dst uint64, srcPAS PAS, src uint64, see func([]byte)) error {
	if !s.CanAccess(srcPAS) {
		return illegalPAS(s, srcPAS)
	}
	if !s.CanAccess(dstPAS) {
		return illegalPAS(s, dstPAS)
	}
	return t.mem.copyGranule(dst, src, t, s, dstPAS, srcPAS, see)
}

// Snapshot returns a copy of the GPT memory in use (the L0 table and every L1
// table allocated so far), for comparisons in tests and audits.
func (t *Table) Snapshot() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf := make([]byte, t.next-t.area.Base)
	_ = t.mem.Read(t.area.Base, buf) // inside GPT memory, which is backed
	return buf
}

// l1InArea reports whether a whole L1 table at l1 lies in GPT memory.
func (t *Table) l1InArea(l1 uint64) bool {
	return l1 >= t.area.Base && t.area.Size >= t.l1Size && l1-t.area.Base <= t.area.Size-t.l1Size
}

// l0Entry returns the address of the L0 entry for pa (pa < 2^PPS).
func (t *Table) l0Entry(pa uint64) uint64 { return t.l0 + pa>>t.s<<3 }

// l1Entry returns the address of the entry for pa in the L1 table at l1.
func (t *Table) l1Entry(l1, pa uint64) uint64 { return l1 + (pa>>(t.p+4)&t.l1IdxMask)<<3 }

// entriesIn returns the number of L1 entries covering size bytes.
func (t *Table) entriesIn(size uint64) int { return int(size >> (t.p + 4)) }

// MapBlock gives the L0 regions in [base, base+size) the GPI gpi with L0
// block descriptors. base and size must be multiples of the L0 region size
// and the regions must not already be granule-mapped. Memory mapped this way
// cannot be transitioned. It is a boot-time builder: accesses in flight are
// not waited for.
func (t *Table) MapBlock(base, size uint64, gpi GPI) error {
	region := uint64(1) << t.s
	if !gpi.Valid() {
		return fmt.Errorf("%w: GPI %s", ErrConfig, gpi)
	}
	if size == 0 || base%region != 0 || size%region != 0 || base+size < base || base+size > 1<<t.t {
		return fmt.Errorf("%w: block mapping [%#x, +%#x) must be a non-empty run of %#x-byte L0 regions below 2^%d", ErrConfig, base, size, region, t.t)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for pa := base; pa-base < size; pa += region {
		if t.load(t.l0Entry(pa))&descTypeMask == l0TypeTable {
			return fmt.Errorf("%w: L0 region at %#x is already granule-mapped", ErrConfig, pa)
		}
	}
	t.store(t.l0Entry(base), int(size/region), L0BlockDesc(gpi))
	return nil
}

// MapGranules gives the granules in [base, base+size) the GPI gpi through L1
// tables, creating the L1 tables it needs. Runs of equal GPIs are fused into
// contiguous descriptors up to Config.MaxBlock. Memory mapped this way can be
// transitioned. It is a boot-time builder: accesses in flight are not waited
// for.
func (t *Table) MapGranules(base, size uint64, gpi GPI) error {
	if !gpi.Valid() {
		return fmt.Errorf("%w: GPI %s", ErrConfig, gpi)
	}
	if size == 0 || base%GranuleSize != 0 || size%GranuleSize != 0 || base+size < base || base+size > 1<<t.t {
		return fmt.Errorf("%w: granule mapping [%#x, +%#x) must be non-empty, 4 KB aligned and below 2^%d", ErrConfig, base, size, t.t)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	region := uint64(1) << t.s
	end := base + size
	// Check there is room for every new L1 table before writing anything.
	need := uint64(0)
	for rb := base &^ (region - 1); rb < end; rb += region {
		if t.load(t.l0Entry(rb))&descTypeMask != l0TypeTable {
			need += t.l1Size
		}
	}
	if t.next+need < t.next || t.next+need > t.area.End() {
		return fmt.Errorf("%w: GPT memory [%#x, +%#x) has no room for %d more %#x-byte L1 tables", ErrConfig, t.area.Base, t.area.Size, need/t.l1Size, t.l1Size)
	}
	for rb := base &^ (region - 1); rb < end; rb += region {
		from, to := max(base, rb), min(end, rb+region)
		if err := t.fillRegion(rb, from, to, gpi); err != nil {
			return err
		}
	}
	return nil
}

// fillRegion rewrites the L1 table of the L0 region at rb so that [from, to)
// has GPI gpi, creating the table from the region's block descriptor if
// needed.
func (t *Table) fillRegion(rb, from, to uint64, gpi GPI) error {
	l0e := t.l0Entry(rb)
	d := t.load(l0e)
	n := int(t.l1Size / 8)
	buf := make([]uint64, n)
	var l1 uint64
	fresh := d&descTypeMask != l0TypeTable
	if fresh {
		old := GPIAny
		if d&descTypeMask == l0TypeBlock {
			old = GPI(d >> l0GPIShift & 0xF)
		}
		l1 = t.next // room checked by MapGranules
		for i := range buf {
			buf[i] = L1UniformDesc(old)
		}
	} else {
		l1 = d &^ descTypeMask
		if l1&t.l1Bad != 0 || !t.l1InArea(l1) {
			return fmt.Errorf("%w: L0 entry %#x for region %#x is malformed", ErrConfig, d, rb)
		}
		for i := range buf {
			e := t.load(l1 + uint64(i)*8)
			if g, ok := uniformGPI(e); ok && isContig(e) {
				e = L1UniformDesc(g)
			}
			buf[i] = e
		}
	}
	// Granules at the edges one nibble at a time; every L1 entry wholly
	// inside [from, to) in one store (16 granules per entry).
	entry := uint64(GranuleSize) << 4
	for pa := from; pa < to; {
		i := (pa - rb) >> (t.p + 4)
		if pa%entry == 0 && pa+entry <= to {
			buf[i] = L1UniformDesc(gpi)
			pa += entry
			continue
		}
		sh := (pa >> t.p & 0xF) * 4
		buf[i] = buf[i]&^(0xF<<sh) | uint64(gpi)<<sh
		pa += GranuleSize
	}
	t.fuseAll(buf)
	t.mem.storeWords(t.ta, (l1-t.area.Base)>>3, buf)
	if fresh {
		t.next += t.l1Size
		t.store(l0e, 1, L0TableDesc(l1))
	}
	return nil
}

// fuseAll fuses every fusable block of an L1 table held in buf, smallest
// blocks first, up to Config.MaxBlock.
func (t *Table) fuseAll(buf []uint64) {
	for _, c := range []Contig{Contig2MB, Contig32MB, Contig512MB} {
		if t.cfg.MaxBlock < c.Size() {
			return
		}
		n := t.entriesIn(c.Size())
		for i := 0; i+n <= len(buf); i += n {
			if g, ok := uniformRun(buf[i:i+n], c != Contig2MB); ok {
				v := L1ContigDesc(g, c)
				for j := i; j < i+n; j++ {
					buf[j] = v
				}
			}
		}
	}
}

// uniformRun reports whether every entry of run gives all its granules the
// same GPI. When contigOnly is set the entries must also all be contiguous
// descriptors (the sub-blocks of a 32 MB or 512 MB block must be fused
// already).
func uniformRun(run []uint64, contigOnly bool) (GPI, bool) {
	g0, ok := uniformGPI(run[0])
	if !ok {
		return 0, false
	}
	for _, e := range run {
		g, ok := uniformGPI(e)
		if !ok || g != g0 || contigOnly && !isContig(e) {
			return 0, false
		}
	}
	return g0, true
}
