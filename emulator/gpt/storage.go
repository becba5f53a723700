package gpt

import "sync"

// block is the backing storage of one granule.
type block = [GranuleSize]byte

// maxIdleBlocks bounds the storage kept for reuse: 64 MB, four times the
// largest realm image the benchmarks build. Blocks given back beyond it
// are left to the garbage collector.
const maxIdleBlocks = 64 << 20 / GranuleSize

// storage recycles granule storage across every Memory of the process.
// A granule's first write takes a block from here, and the zeroing that
// gives a granule back to "reads as zeros" (ZeroGranule, a write of a whole
// granule of zeros, GPT memory taking a granule over, Memory.Release)
// returns its block. Reusing blocks spares the first write into a granule
// the allocation, the runtime's zeroing and, above all, the page faults of
// fresh memory, which cost more than the 4 KB copy itself (a realm image is
// all first writes: RMI_DATA_CREATE copies into granules the host has just
// delegated, and delegated granules hold no storage). A sync.Pool would
// not do: it drops what survives two collections, and building a realm
// image allocates enough to trigger them between one machine's Close and
// the next machine's image.
var storage struct {
	mu   sync.Mutex
	idle []*block // LIFO: the most recently used block is the warmest
}

// takeBlock returns storage for a granule about to be written while its
// lock is held for writing. A recycled block still holds the bytes of the
// granule it last backed, perhaps another realm's: it is cleared here
// unless the caller overwrites all of it (whole) before releasing the
// granule's lock, so that no access ever sees them.
func takeBlock(whole bool) *block {
	storage.mu.Lock()
	n := len(storage.idle)
	if n == 0 {
		storage.mu.Unlock()
		return new(block)
	}
	b := storage.idle[n-1]
	storage.idle[n-1] = nil
	storage.idle = storage.idle[:n-1]
	storage.mu.Unlock()
	if !whole {
		clear(b[:])
	}
	return b
}

// putBlock gives b back for reuse. The caller must hold no reference to it.
func putBlock(b *block) {
	storage.mu.Lock()
	if len(storage.idle) < maxIdleBlocks {
		storage.idle = append(storage.idle, b)
	}
	storage.mu.Unlock()
}
