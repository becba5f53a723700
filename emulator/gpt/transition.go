package gpt

import "fmt"

// Granule transitions: the granule transition service of EL3, after TF-A
// v2.12 lib/gpt_rme/gpt_rme.c gpt_delegate_pas and gpt_undelegate_pas.
// A request that fails leaves the table unchanged: every check comes before
// the first write.

// Delegate moves the granule at base from the NS PAS to the caller's PAS:
// REALM for a Realm caller, SECURE for a Secure caller. size must be one
// granule. It returns an error wrapping ErrInvalid for a malformed request
// (size, alignment, base+size not below 2^PPS, not covered by an L0 table
// descriptor, a caller other than Realm or Secure) and ErrDenied when the
// granule's GPI is not NS.
//
// Only the EL3 monitor calls Delegate.
func (t *Table) Delegate(base, size uint64, caller SecurityState) error {
	if err := t.validateRequest(base, size); err != nil {
		return err
	}
	var target GPI
	switch caller {
	case StateRealm:
		target = GPIRealm
	case StateSecure:
		target = GPISecure
	default:
		return fmt.Errorf("%w: %s state cannot delegate granules", ErrInvalid, caller)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l1, d, cur, err := t.lookupL1(base)
	if err != nil {
		return err
	}
	if cur != GPINS {
		return fmt.Errorf("%w: delegate of %#x by %s, GPI is %s, not NS", ErrDenied, base, caller, cur)
	}
	// Shatter; clean+invalidate to PoPA in the target PAS (no caches here);
	// write the GPI; TLBI RPALOS + DSB; clean to PoPA in NS; try to fuse.
	t.shatter(l1, base, d)
	t.setGPI(l1, base, target)
	t.mem.barrier(base)
	t.fuse(l1, base)
	return nil
}

// Undelegate returns the granule at base from the caller's PAS to NS. Only
// the owning world may do so: a Realm caller for a REALM granule, a Secure
// caller for a SECURE granule; anything else wraps ErrDenied. Malformed
// requests wrap ErrInvalid as for Delegate. The contents are not scrubbed
// here: the RMM zeroes a granule before it undelegates it.
//
// Only the EL3 monitor calls Undelegate.
func (t *Table) Undelegate(base, size uint64, caller SecurityState) error {
	if err := t.validateRequest(base, size); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l1, d, cur, err := t.lookupL1(base)
	if err != nil {
		return err
	}
	if !(caller == StateRealm && cur == GPIRealm || caller == StateSecure && cur == GPISecure) {
		return fmt.Errorf("%w: undelegate of %#x by %s, GPI is %s", ErrDenied, base, caller, cur)
	}
	// GPI to NO_ACCESS; TLBI; flush in the old PAS; flush NS; GPI to NS;
	// TLBI; try to fuse. The NO_ACCESS step closes the window in which the
	// granule could be reached from both PAS.
	t.shatter(l1, base, d)
	t.setGPI(l1, base, GPINoAccess)
	t.mem.barrier(base)
	t.setGPI(l1, base, GPINS)
	t.mem.barrier(base)
	t.fuse(l1, base)
	return nil
}

// validateRequest applies the common input checks of a transition
// (TF-A v2.12 gpt_rme.c; it rejects base+size >= 2^PPS).
func (t *Table) validateRequest(base, size uint64) error {
	switch {
	case size != GranuleSize:
		return fmt.Errorf("%w: size %#x is not one granule", ErrInvalid, size)
	case base%GranuleSize != 0:
		return fmt.Errorf("%w: base %#x is not granule aligned", ErrInvalid, base)
	case base+size < base || base+size >= 1<<t.t:
		return fmt.Errorf("%w: base %#x is outside the protected space (2^%d)", ErrInvalid, base, t.t)
	}
	return nil
}

// lookupL1 walks to the L1 entry of pa. It fails with ErrInvalid when pa is
// not covered by an L0 table descriptor or the walk meets a malformed
// descriptor or reserved GPI.
func (t *Table) lookupL1(pa uint64) (l1, desc uint64, gpi GPI, err error) {
	d0 := t.load(t.l0Entry(pa))
	if d0&descTypeMask != l0TypeTable {
		return 0, 0, 0, fmt.Errorf("%w: %#x is not covered by an L0 table descriptor", ErrInvalid, pa)
	}
	l1 = d0 &^ descTypeMask
	if l1&t.l1Bad != 0 || !t.l1InArea(l1) {
		return 0, 0, 0, fmt.Errorf("%w: malformed L0 table descriptor %#x for %#x", ErrInvalid, d0, pa)
	}
	desc = t.load(t.l1Entry(l1, pa))
	if isContig(desc) {
		if _, ok := uniformGPI(desc); !ok {
			return 0, 0, 0, fmt.Errorf("%w: malformed L1 contiguous descriptor %#x for %#x", ErrInvalid, desc, pa)
		}
		gpi = GPI(desc >> l1GPIShift & 0xF)
	} else {
		gpi = GPI(desc >> ((pa >> t.p & 0xF) * 4) & 0xF)
	}
	if !gpi.Valid() {
		return 0, 0, 0, fmt.Errorf("%w: reserved GPI %s for %#x", ErrInvalid, gpi, pa)
	}
	return l1, desc, gpi, nil
}

// storeBlock writes v into every L1 entry of the naturally aligned block of
// the given size that contains pa.
func (t *Table) storeBlock(l1, pa, size, v uint64) {
	t.store(t.l1Entry(l1, pa&^(size-1)), t.entriesIn(size), v)
}

// shatter breaks the contiguous block holding pa, if any, down to a
// granules descriptor for pa's entry, one level at a time as TF-A does
// (512 MB into 32 MB blocks, the 32 MB block into 2 MB blocks, the 2 MB
// block into granules). Every intermediate table gives every granule the
// same GPI, so no barrier is needed.
func (t *Table) shatter(l1, pa, desc uint64) {
	if !isContig(desc) {
		return
	}
	g := GPI(desc >> l1GPIShift & 0xF)
	switch Contig(desc >> l1ContigShift & 3) {
	case Contig512MB:
		t.storeBlock(l1, pa, Block512MB, L1ContigDesc(g, Contig32MB))
		fallthrough
	case Contig32MB:
		t.storeBlock(l1, pa, Block32MB, L1ContigDesc(g, Contig2MB))
		fallthrough
	default:
		t.storeBlock(l1, pa, Block2MB, L1UniformDesc(g))
	}
}

// setGPI writes gpi into pa's nibble of its L1 granules descriptor.
func (t *Table) setGPI(l1, pa uint64, gpi GPI) {
	e := t.l1Entry(l1, pa)
	sh := (pa >> t.p & 0xF) * 4
	d := t.load(e)
	t.store(e, 1, d&^(0xF<<sh)|uint64(gpi)<<sh)
}

// fuse folds the 2 MB block around pa into a contiguous descriptor when all
// of its granules share one GPI, then the 32 MB and 512 MB blocks above it
// when all their sub-blocks are contiguous with that GPI, up to
// Config.MaxBlock (TF-A fuse_block, RME_GPT_MAX_BLOCK).
func (t *Table) fuse(l1, pa uint64) {
	for _, c := range []Contig{Contig2MB, Contig32MB, Contig512MB} {
		size := c.Size()
		if t.cfg.MaxBlock < size {
			return
		}
		first := t.l1Entry(l1, pa&^(size-1))
		n := t.entriesIn(size)
		g, ok := t.uniformAt(first, n, c != Contig2MB)
		if !ok {
			return
		}
		t.store(first, n, L1ContigDesc(g, c))
	}
}

// uniformAt is uniformRun over the n L1 entries stored from address first.
func (t *Table) uniformAt(first uint64, n int, contigOnly bool) (GPI, bool) {
	var g0 GPI
	for i := range n {
		e := t.load(first + uint64(i)*8)
		g, ok := uniformGPI(e)
		if !ok || i > 0 && g != g0 || contigOnly && !isContig(e) {
			return 0, false
		}
		g0 = g
	}
	return g0, true
}
