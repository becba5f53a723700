package gpt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ccakit/cca/realm"
)

// Granule geometry of the physical memory: the RMM's granule (defined in
// package realm), which the GPT is configured to use as its physical
// granule size (PGS 4 KB).
const (
	GranuleShift = realm.GranuleShift
	GranuleSize  = realm.GranuleSize

	chunkShift      = 9 // granules per directory chunk: 2 MB of address space
	chunkGranules   = 1 << chunkShift
	chunkBytesShift = chunkShift + GranuleShift
)

// Range is a span of physical addresses.
type Range struct {
	Base, Size uint64
}

// End returns the first address after the range (it may wrap to 0 for a range
// ending at 2^64).
func (r Range) End() uint64 { return r.Base + r.Size }

func (r Range) contains(pa, n uint64) bool {
	return pa >= r.Base && pa-r.Base < r.Size && n <= r.Size-(pa-r.Base)
}

// granule is one 4 KB granule of memory, guarded by mu. Its storage is
// attached by the first write that needs it, under mu held for writing, so
// that no access can see a recycled block before it is overwritten, and
// given back when the granule is zeroed.
type granule struct {
	mu   sync.RWMutex
	b    *block        // guarded by mu: nil while the granule reads as zeros
	ref  blockRef      // guarded by mu: b's name in the storage, to give it back
	refs *atomic.Int32 // guarded by mu: b's reference count (b may be shared)
}

// chunk holds the granules of 2 MB of address space, side by side: the
// granules of a realm image, touched in address order, share cache lines,
// and no granule is allocated on its own.
type chunk [chunkGranules]granule

// bank is one contiguous span of backed memory: a directory of chunks,
// allocated on first write.
type bank struct {
	Range
	chunks []atomic.Pointer[chunk]
}

// granule returns the granule at off, nil if its chunk was never written.
func (b *bank) granule(off uint64) *granule {
	c := b.chunks[off>>chunkBytesShift].Load()
	if c == nil {
		return nil
	}
	return &c[off>>GranuleShift&(chunkGranules-1)]
}

// tableArea is the GPT memory: a directly indexed array of 64-bit words, so
// that the GPC reaches a descriptor with one indexed load. Every access to it
// (descriptor fetches, descriptor stores, and byte accesses over the bus) is
// made with 64-bit single-copy-atomic operations, little-endian, so the GPC
// needs no lock. Writers hold mu.
type tableArea struct {
	Range
	mu sync.Mutex
	w  []uint64
}

func (ta *tableArea) read(off uint64, p []byte) {
	for len(p) > 0 {
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], atomic.LoadUint64(&ta.w[off>>3]))
		n := copy(p, buf[off&7:])
		p, off = p[n:], off+uint64(n)
	}
}

func (ta *tableArea) write(off uint64, p []byte) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for len(p) > 0 {
		var buf [8]byte
		w := &ta.w[off>>3]
		if off&7 != 0 || len(p) < 8 {
			binary.LittleEndian.PutUint64(buf[:], atomic.LoadUint64(w))
		}
		n := copy(buf[off&7:], p)
		atomic.StoreUint64(w, binary.LittleEndian.Uint64(buf[:]))
		p, off = p[n:], off+uint64(n)
	}
}

// Memory is the machine's physical memory: banks of 4 KB granules, allocated
// lazily. Untouched granules read as zeros and cost nothing; a write of a
// whole granule of zeros gives the granule's storage back, for reuse by the
// next first write anywhere in the process. The GPT memory, once a
// Table is placed in it, is allocated in full and kept as 64-bit words.
// Memory is safe for concurrent use.
//
// The methods of Memory are the raw bus below the GPC: nothing is checked.
// Security-state accesses go through Table.Read and Table.Write.
type Memory struct {
	banks    []*bank // sorted, non-adjacent, immutable
	tables   atomic.Pointer[tableArea]
	resident atomic.Int64
	barriers atomic.Uint64
	// tableStores counts descriptor stores by the Table builders and
	// transitions (tests use it to prove a failed request wrote nothing).
	tableStores atomic.Uint64
}

// NewMemory returns memory backing the given ranges. Ranges must be granule
// aligned, non-empty and must not overlap; adjacent ranges are merged.
func NewMemory(ranges ...Range) (*Memory, error) {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.Base, b.Base) })
	m := &Memory{}
	var last *bank
	for _, r := range rs {
		if r.Size == 0 || r.Base%GranuleSize != 0 || r.Size%GranuleSize != 0 {
			return nil, fmt.Errorf("%w: memory range [%#x, +%#x) is empty or not 4 KB aligned", ErrConfig, r.Base, r.Size)
		}
		if r.Base > paMask52 || r.Size > paMask52+1-r.Base {
			return nil, fmt.Errorf("%w: memory range [%#x, +%#x) exceeds the 52-bit physical address space", ErrConfig, r.Base, r.Size)
		}
		if last != nil && r.Base < last.End() {
			return nil, fmt.Errorf("%w: memory ranges overlap at %#x", ErrConfig, r.Base)
		}
		if last != nil && r.Base == last.End() {
			last.Size += r.Size
			continue
		}
		last = &bank{Range: r}
		m.banks = append(m.banks, last)
	}
	for _, b := range m.banks {
		b.chunks = make([]atomic.Pointer[chunk], (b.Size+(1<<chunkBytesShift)-1)>>chunkBytesShift)
	}
	return m, nil
}

// Ranges returns the backed ranges (adjacent input ranges merged).
func (m *Memory) Ranges() []Range {
	rs := make([]Range, len(m.banks))
	for i, b := range m.banks {
		rs[i] = b.Range
	}
	return rs
}

// Contains reports whether [pa, pa+n) is entirely backed by one bank.
func (m *Memory) Contains(pa, n uint64) bool { return m.bank(pa, n) != nil }

// Resident returns the number of granules currently holding storage.
func (m *Memory) Resident() int { return int(m.resident.Load()) }

// bank returns the bank holding all of [pa, pa+n), or nil.
func (m *Memory) bank(pa, n uint64) *bank {
	for _, b := range m.banks {
		if b.contains(pa, n) {
			return b
		}
	}
	return nil
}

// alloc returns the granule at off, allocating its chunk (granules with no
// storage: they read as zeros) if needed.
func (m *Memory) alloc(b *bank, off uint64) *granule {
	cp := &b.chunks[off>>chunkBytesShift]
	c := cp.Load()
	if c == nil {
		c = new(chunk)
		if !cp.CompareAndSwap(nil, c) {
			c = cp.Load()
		}
	}
	return &c[off>>GranuleShift&(chunkGranules-1)]
}

// free zeroes g, which the caller holds locked for writing, by giving its
// storage back for reuse.
func (m *Memory) free(g *granule) {
	if g.b != nil {
		dropBlock(g.ref, g.refs)
		g.b, g.refs = nil, nil
		m.resident.Add(-1)
	}
}

// fill makes g, which the caller holds locked for writing, ready to be
// written: storage of its own, holding what g reads as, or (whole) a block
// the caller overwrites entirely before it unlocks g. A granule with no
// storage takes a block; one that shares its block with other granules
// (copy on write) takes a block of its own and lets go of the shared one.
func (m *Memory) fill(g *granule, whole bool) {
	switch {
	case g.b == nil:
		g.b, g.ref, g.refs = takeBlock(whole)
		m.resident.Add(1)
	case blockShared(g.refs):
		old, oldRef, oldRefs := g.b, g.ref, g.refs
		g.b, g.ref, g.refs = takeBlock(true)
		if !whole {
			*g.b = *old
		}
		dropBlock(oldRef, oldRefs)
	}
}

// share makes dst, which the caller holds locked for writing, read as src,
// which the caller holds locked, by sharing src's block (copy on write:
// see fill). src has storage.
func (m *Memory) share(dst, src *granule) {
	if dst.b == src.b {
		return
	}
	shareBlock(src.refs)
	if dst.b == nil {
		m.resident.Add(1)
	} else {
		dropBlock(dst.ref, dst.refs)
	}
	dst.b, dst.ref, dst.refs = src.b, src.ref, src.refs
}

// Release gives the storage of every granule back for reuse by any Memory
// of the process: afterwards the memory reads as zeros, as DRAM keeps
// nothing across a power cycle. GPT memory keeps its contents. Accesses
// remain safe during and after Release; a machine calls it when it is
// switched off.
func (m *Memory) Release() {
	m.eachGranule(func(g *granule) {
		g.mu.Lock()
		m.free(g)
		g.mu.Unlock()
	})
}

// eachGranule calls f with every granule whose chunk exists, in address
// order.
func (m *Memory) eachGranule(f func(*granule)) {
	for _, b := range m.banks {
		for ci := range b.chunks {
			if c := b.chunks[ci].Load(); c != nil {
				for i := range c {
					f(&c[i])
				}
			}
		}
	}
}

// markTables turns r into GPT memory: its contents move into a word array
// allocated in full, and every later access to r goes to that array.
func (m *Memory) markTables(r Range) (*tableArea, error) {
	b := m.bank(r.Base, r.Size)
	if b == nil || r.Base%8 != 0 || r.Size%8 != 0 {
		return nil, fmt.Errorf("%w: GPT memory [%#x, +%#x) is not 8-byte aligned memory within one bank", ErrConfig, r.Base, r.Size)
	}
	ta := &tableArea{Range: r, w: make([]uint64, r.Size/8)}
	if !m.tables.CompareAndSwap(nil, ta) {
		return nil, fmt.Errorf("%w: this memory already holds a GPT", ErrConfig)
	}
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for off := (r.Base - b.Base) &^ (GranuleSize - 1); off < r.Base-b.Base+r.Size; off += GranuleSize {
		g := b.granule(off)
		if g == nil {
			continue
		}
		g.mu.Lock()
		if g.b != nil {
			for i := 0; i < GranuleSize; i += 8 {
				if pa := b.Base + off + uint64(i); r.contains(pa, 8) {
					atomic.StoreUint64(&ta.w[(pa-r.Base)/8], binary.LittleEndian.Uint64(g.b[i:]))
				}
			}
		}
		if r.contains(b.Base+off, GranuleSize) {
			m.free(g) // wholly moved into the word array
		}
		g.mu.Unlock()
	}
	m.resident.Add(int64((r.Size + GranuleSize - 1) / GranuleSize))
	return ta, nil
}

// store64s writes n copies of v at word index i of the GPT memory.
func (m *Memory) store64s(ta *tableArea, i uint64, n int, v uint64) {
	m.tableStores.Add(1)
	ta.mu.Lock()
	for j := range uint64(n) {
		atomic.StoreUint64(&ta.w[i+j], v)
	}
	ta.mu.Unlock()
}

// storeWords writes ws from word index i of the GPT memory on.
func (m *Memory) storeWords(ta *tableArea, i uint64, ws []uint64) {
	m.tableStores.Add(1)
	ta.mu.Lock()
	for j, v := range ws {
		atomic.StoreUint64(&ta.w[i+uint64(j)], v)
	}
	ta.mu.Unlock()
}

// barrier waits until no access that was checked against the old GPT entry
// of the granule at pa is still in flight: every access holds the granule's
// lock from its check until its last byte is copied. This is the emulator's
// "TLBI RPALOS; DSB".
func (m *Memory) barrier(pa uint64) {
	b := m.bank(pa, 1)
	if b == nil {
		return
	}
	if g := b.granule(pa - b.Base); g != nil {
		g.mu.Lock()
		m.barriers.Add(1)
		g.mu.Unlock()
	}
}

// Read copies len(p) bytes from physical address pa into p, with no
// granule protection check. Untouched memory reads as zeros.
func (m *Memory) Read(pa uint64, p []byte) error { return m.access(pa, p, false, nil, 0, 0) }

// Write copies p to physical address pa, with no granule protection check.
func (m *Memory) Write(pa uint64, p []byte) error { return m.access(pa, p, true, nil, 0, 0) }

// ZeroGranule zeroes the granule containing pa and releases its storage,
// with no granule protection check.
func (m *Memory) ZeroGranule(pa uint64) error {
	pa &^= GranuleSize - 1
	b := m.bank(pa, GranuleSize)
	if b == nil {
		return fmt.Errorf("%w: %#x", ErrNoMemory, pa)
	}
	if ta := m.tables.Load(); ta != nil && overlaps(ta.Range, pa, GranuleSize) {
		return m.Write(pa, zeroGranule[:])
	}
	if g := b.granule(pa - b.Base); g != nil {
		g.mu.Lock()
		m.free(g)
		g.mu.Unlock()
	}
	return nil
}

var zeroGranule [GranuleSize]byte

// access performs a read or a write. When t is not nil, every granule the
// access touches must pass t's granule protection check for (s, pas); the
// check of a granule is made (again) while its lock is held so that a
// concurrent transition cannot slip between the check and the copy. A
// failing access copies nothing.
func (m *Memory) access(pa uint64, p []byte, write bool, t *Table, s SecurityState, pas PAS) error {
	n := uint64(len(p))
	if n == 0 {
		return nil
	}
	if pa+n-1 < pa {
		return fmt.Errorf("%w: access at %#x of %d bytes wraps the address space", ErrNoMemory, pa, n)
	}
	if ta := m.tables.Load(); ta != nil && overlaps(ta.Range, pa, n) {
		return m.accessTables(ta, pa, p, write, t, s, pas)
	}
	if pa>>GranuleShift == (pa+n-1)>>GranuleShift {
		return m.accessOne(pa, p, write, t, s, pas)
	}
	if t != nil { // fail fast, before allocating anything
		if err := t.checkSpan(s, pas, pa, n); err != nil {
			return err
		}
	}
	b := m.bank(pa, n)
	if b == nil {
		return fmt.Errorf("%w: [%#x, +%#x)", ErrNoMemory, pa, n)
	}
	return m.accessMany(b, pa, p, write, t, s, pas)
}

// overlaps reports whether [pa, pa+n) meets r (n > 0, no wrap).
func overlaps(r Range, pa, n uint64) bool {
	return pa < r.Base+r.Size && r.Base < pa+n
}

// accessTables handles an access that touches GPT memory: all granules are
// checked first, then the pieces inside and outside GPT memory are copied in
// turn.
func (m *Memory) accessTables(ta *tableArea, pa uint64, p []byte, write bool, t *Table, s SecurityState, pas PAS) error {
	n := uint64(len(p))
	if t != nil {
		if err := t.checkSpan(s, pas, pa, n); err != nil {
			return err
		}
	}
	if m.bank(pa, n) == nil {
		return fmt.Errorf("%w: [%#x, +%#x)", ErrNoMemory, pa, n)
	}
	for len(p) > 0 {
		var k uint64
		switch {
		case pa < ta.Base:
			k = min(uint64(len(p)), ta.Base-pa)
			if err := m.access(pa, p[:k], write, t, s, pas); err != nil {
				return err
			}
		case pa-ta.Base < ta.Size:
			k = min(uint64(len(p)), ta.Size-(pa-ta.Base))
			if write {
				ta.write(pa-ta.Base, p[:k])
			} else {
				ta.read(pa-ta.Base, p[:k])
			}
		default:
			return m.access(pa, p, write, t, s, pas)
		}
		p, pa = p[k:], pa+k
	}
	return nil
}

func (m *Memory) accessOne(pa uint64, p []byte, write bool, t *Table, s SecurityState, pas PAS) error {
	b := m.bank(pa, uint64(len(p)))
	if b == nil {
		if t != nil { // the GPC comes before the memory system
			if err := t.gpc(s, pas, pa); err != nil {
				return err
			}
		}
		return fmt.Errorf("%w: [%#x, +%#x)", ErrNoMemory, pa, len(p))
	}
	off := pa - b.Base
	in := int(off & (GranuleSize - 1))
	whole := len(p) == GranuleSize
	g := b.granule(off)
	if g == nil {
		if t != nil {
			if err := t.gpc(s, pas, pa); err != nil {
				return err
			}
		}
		if !write {
			clear(p)
			return nil
		}
		if whole && bytes.Equal(p, zeroGranule[:]) {
			return nil // zeros over untouched memory: nothing to do
		}
		g = m.alloc(b, off)
	}
	if write {
		g.mu.Lock()
	} else {
		g.mu.RLock()
	}
	if t != nil {
		if err := t.gpc(s, pas, pa); err != nil {
			unlock(g, write)
			return err
		}
	}
	switch {
	case !write && g.b == nil:
		clear(p)
	case !write:
		copy(p, g.b[in:])
	case whole && bytes.Equal(p, zeroGranule[:]):
		m.free(g)
	default:
		m.fill(g, whole)
		copy(g.b[in:], p)
	}
	unlock(g, write)
	return nil
}

func unlock(g *granule, write bool) {
	if write {
		g.mu.Unlock()
	} else {
		g.mu.RUnlock()
	}
}

func (m *Memory) accessMany(b *bank, pa uint64, p []byte, write bool, t *Table, s SecurityState, pas PAS) error {
	first := (pa - b.Base) >> GranuleShift
	last := (pa - b.Base + uint64(len(p)) - 1) >> GranuleShift
	count := int(last - first + 1)
	var stack [16]*granule
	gs := stack[:0]
	if count > len(stack) {
		gs = make([]*granule, 0, count)
	}
	rest := p
	for i := range count {
		off := (first + uint64(i)) << GranuleShift
		seg := segment(pa, rest, b.Base+off)
		rest = rest[len(seg):]
		g := b.granule(off)
		if g == nil && write && !bytes.Equal(seg, zeroGranule[:len(seg)]) {
			g = m.alloc(b, off)
		}
		gs = append(gs, g)
	}
	for _, g := range gs { // in address order, as copyGranule locks
		if g == nil {
			continue
		}
		if write {
			g.mu.Lock()
		} else {
			g.mu.RLock()
		}
	}
	release := func() {
		for _, g := range gs {
			if g != nil {
				unlock(g, write)
			}
		}
	}
	if t != nil {
		for i, g := range gs {
			if g == nil {
				continue // checked before; untouched granules carry no data
			}
			if err := t.gpc(s, pas, b.Base+(first+uint64(i))<<GranuleShift); err != nil {
				release()
				return err
			}
		}
	}
	rest = p
	for i, g := range gs {
		off := (first + uint64(i)) << GranuleShift
		seg := segment(pa, rest, b.Base+off)
		rest = rest[len(seg):]
		in := 0
		if i == 0 {
			in = int(pa & (GranuleSize - 1))
		}
		whole := len(seg) == GranuleSize
		switch {
		case !write && (g == nil || g.b == nil):
			clear(seg)
		case g == nil: // zeros over untouched memory
		case !write:
			copy(seg, g.b[in:])
		case whole && bytes.Equal(seg, zeroGranule[:]):
			m.free(g)
		default:
			m.fill(g, whole)
			copy(g.b[in:], seg)
		}
	}
	release()
	return nil
}

// segment returns the part of rest (the remainder of an access that started
// at pa) that falls in the granule at gpa.
func segment(pa uint64, rest []byte, gpa uint64) []byte {
	start := max(pa, gpa)
	n := min(uint64(len(rest)), gpa+GranuleSize-start)
	return rest[:n]
}

// copyGranule copies the whole granule at src to the whole granule at dst:
// dst shares src's storage until either is written (see fill). When t is
// not nil, src must pass t's granule protection check for (s, srcPAS) and
// dst for (s, dstPAS); both checks are made
// (again) while the granules' locks are held, so that no transition slips
// between a check and the copy, and a failing copy copies nothing. If see is
// not nil it is called, with both locks held and every check passed, with
// the bytes that land in dst, in order, in one or more consecutive pieces
// (once the copy can no longer fail): what it sees is exactly what dst
// holds once the locks are released. It must not keep the slices nor
// access memory.
func (m *Memory) copyGranule(dst, src uint64, t *Table, s SecurityState, dstPAS, srcPAS PAS, see func([]byte)) error {
	if dst&(GranuleSize-1) != 0 || src&(GranuleSize-1) != 0 {
		return fmt.Errorf("%w: granule copy from %#x to %#x", ErrAlignment, src, dst)
	}
	// The granule protection checks are made once, under the granules'
	// locks (the general path's accesses make their own).
	bs, bd := m.bank(src, GranuleSize), m.bank(dst, GranuleSize)
	ta := m.tables.Load()
	if bs == nil || bd == nil || src == dst ||
		ta != nil && (overlaps(ta.Range, src, GranuleSize) || overlaps(ta.Range, dst, GranuleSize)) {
		// Unbacked memory, GPT memory or a copy onto itself: the general
		// path (two accesses) is exact there and never fast.
		var buf [GranuleSize]byte
		if err := m.access(src, buf[:], false, t, s, srcPAS); err != nil {
			return err
		}
		if err := m.access(dst, buf[:], true, t, s, dstPAS); err != nil {
			return err
		}
		if see != nil {
			see(buf[:])
		}
		return nil
	}
	gs, gd := bs.granule(src-bs.Base), bd.granule(dst-bd.Base)
	if gd == nil && gs != nil {
		gd = m.alloc(bd, dst-bd.Base)
	}
	// Locks in address order, as accessMany takes them.
	if src < dst {
		rlock(gs)
		wlock(gd)
	} else {
		wlock(gd)
		rlock(gs)
	}
	defer func() {
		if gs != nil {
			gs.mu.RUnlock()
		}
		if gd != nil {
			gd.mu.Unlock()
		}
	}()
	if t != nil {
		if err := t.gpc(s, srcPAS, src); err != nil {
			return err
		}
		if err := t.gpc(s, dstPAS, dst); err != nil {
			return err
		}
	}
	switch {
	case gs != nil && gs.b != nil:
		// dst shares src's block until either is written (copy on
		// write, see fill): no 4 KB of stores, and the copy cannot fail
		// once both locks are held and every check has passed, so see
		// gets exactly the bytes dst holds when the locks are released.
		m.share(gd, gs)
		if see != nil {
			see(gs.b[:])
		}
	case gd != nil: // the source reads as zeros, which free dst's storage
		m.free(gd)
		fallthrough
	default:
		if see != nil {
			see(zeroGranule[:])
		}
	}
	return nil
}

func rlock(g *granule) {
	if g != nil {
		g.mu.RLock()
	}
}

func wlock(g *granule) {
	if g != nil {
		g.mu.Lock()
	}
}
