package gpt

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// block is the backing storage of one granule.
type block = [GranuleSize]byte

// Granule storage comes from slabs of 2 MB, kept for reuse by every Memory
// of the process. A granule's first write takes a block, and the zeroing
// that gives a granule back to "reads as zeros" (ZeroGranule, a write of a
// whole granule of zeros, GPT memory taking a granule over, Memory.Release)
// returns it. Two costs decide how fast a realm image is built (all first
// writes: RMI_DATA_CREATE copies into granules the host has just
// delegated, and delegated granules hold no storage): fresh memory costs
// the runtime's zeroing and a page fault per 4 KB, more than the copy
// itself, and granules scattered over the heap defeat the hardware
// prefetchers, which the copy and the hash of each granule depend on.
// Recycled slabs avoid the first; handing blocks out next-fit, in address
// order from where the last one was taken, gives granules written in
// sequence (an image loaded by the host, then copied by DATA_CREATE)
// storage in sequence, which avoids the second.
const (
	slabBlocks = 512
	slabWords  = slabBlocks / 64
	// maxIdleBlocks bounds the storage kept idle: 64 MB, four times the
	// largest realm image the benchmarks build. A slab wholly free beyond
	// it is left to the garbage collector.
	maxIdleBlocks = 64 << 20 / GranuleSize
)

type slab struct {
	blocks [slabBlocks]block
	// refs counts the granules a block backs (copy on write, see
	// shareBlock); a free block has none. Atomic: a granule shares or
	// drops its block under its own lock, not the storage's.
	refs  [slabBlocks]atomic.Int32
	free  [slabWords]uint64 // bit set: the block is free
	nfree int
}

// blockRef names a block: slab index × slabBlocks + block index.
type blockRef uint32

var storage struct {
	mu     sync.Mutex
	slabs  []*slab  // nil: a slab given back to the runtime; its index is reused
	cursor blockRef // next-fit: the search for a free block starts here
	idle   int      // free blocks over all slabs
}

// takeBlock returns storage for a granule about to be written while its
// lock is held for writing, with one reference (the caller's). A recycled
// block still holds the bytes of the granule it last backed, perhaps
// another realm's: it is cleared here unless the caller overwrites all of
// it (whole) before releasing the granule's lock, so that no access ever
// sees them.
func takeBlock(whole bool) (*block, blockRef, *atomic.Int32) {
	st := &storage
	st.mu.Lock()
	if st.idle == 0 {
		st.cursor = blockRef(addSlab() * slabBlocks)
	}
	ref := nextFree()
	s := st.slabs[ref/slabBlocks]
	i := ref % slabBlocks
	s.free[i/64] &^= 1 << (i % 64)
	s.nfree--
	st.idle--
	st.cursor = ref + 1
	st.mu.Unlock()
	b := &s.blocks[i]
	if !whole {
		clear(b[:])
	}
	s.refs[i].Store(1)
	return b, ref, &s.refs[i]
}

// A block may back several granules at once: a granule copy
// (Memory.copyGranule) makes the destination share the source's block
// instead of copying 4 KB, and the first write to any of the granules
// sharing it gives that granule a block of its own first (Memory.fill),
// so that a write never reaches another granule. A block is written only
// by the one granule that holds its only reference, under that granule's
// lock; the reference count, an atomic, orders the last reads of a granule
// that has let go of the block before the writes of the one that keeps it.
// The count rises only through a granule that holds a reference, under
// that granule's lock: a granule that sees a count of 1 (its own) owns the
// block until it lets go.

// shareBlock adds a reference to a block that the caller's granule holds.
func shareBlock(refs *atomic.Int32) { refs.Add(1) }

// blockShared reports whether a block the caller's granule holds backs
// another granule too.
func blockShared(refs *atomic.Int32) bool { return refs.Load() > 1 }

// dropBlock lets go of one reference to block ref; the last one gives the
// block back for reuse.
func dropBlock(ref blockRef, refs *atomic.Int32) {
	if refs.Add(-1) == 0 {
		putBlock(ref)
	}
}

// addSlab adds a slab of free blocks and returns its index.
func addSlab() int {
	st := &storage
	s := &slab{nfree: slabBlocks}
	for w := range s.free {
		s.free[w] = ^uint64(0)
	}
	st.idle += slabBlocks
	for i, old := range st.slabs {
		if old == nil {
			st.slabs[i] = s
			return i
		}
	}
	st.slabs = append(st.slabs, s)
	return len(st.slabs) - 1
}

// nextFree returns the first free block at or after the cursor, wrapping
// around; there is one (storage.idle > 0).
func nextFree() blockRef {
	st := &storage
	words := len(st.slabs) * slabWords
	if int(st.cursor) >= words*64 {
		st.cursor = 0
	}
	w0 := int(st.cursor) / 64
	for n := 0; n <= words; n++ {
		w := (w0 + n) % words
		s := st.slabs[w/slabWords]
		if s == nil {
			continue
		}
		bitsFree := s.free[w%slabWords]
		if n == 0 {
			bitsFree &^= 1<<(st.cursor%64) - 1 // only at or after the cursor
		}
		if bitsFree != 0 {
			return blockRef(w*64 + bits.TrailingZeros64(bitsFree))
		}
	}
	panic("gpt: granule storage accounting is broken")
}

// putBlock gives the block ref back for reuse. Nobody may hold a reference
// to it (dropBlock calls it when the last one goes).
func putBlock(ref blockRef) {
	st := &storage
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.slabs[ref/slabBlocks]
	i := ref % slabBlocks
	s.free[i/64] |= 1 << (i % 64)
	s.nfree++
	st.idle++
	if s.nfree == slabBlocks && st.idle > maxIdleBlocks {
		st.slabs[ref/slabBlocks] = nil
		st.idle -= slabBlocks
	}
}
