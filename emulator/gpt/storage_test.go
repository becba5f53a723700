package gpt

import (
	"bytes"
	"testing"
)

// storageOf returns the block backing the granule at pa (nil if none) and
// its name.
func storageOf(tb testing.TB, m *Memory, pa uint64) (*block, blockRef) {
	tb.Helper()
	b := m.bank(pa, GranuleSize)
	if b == nil {
		tb.Fatalf("%#x is not memory", pa)
	}
	g := b.granule(pa - b.Base)
	if g == nil {
		return nil, 0
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.b, g.ref
}

// TestRecycledStorageIsClean: storage that one owner's granules give back
// (scrubbed by ZeroGranule as the RMM does on delegate, undelegate and
// destroy; overwritten with zeros; or the whole memory switched off) and
// that the next first writes take again never shows the previous owner's
// bytes, whatever the first write: a few bytes, a write across two
// granules, a granule copy from untouched memory or from content.
func TestRecycledStorageIsClean(t *testing.T) {
	const n = 32
	const base, next = 0x10_0000, 0x80_0000 // the old owner's granules; the new owner's
	secret := bytes.Repeat([]byte("SECRET!!"), GranuleSize/8)
	content := bytes.Repeat([]byte{0x3C}, GranuleSize)
	probe := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	giveBack := []struct {
		name string
		// give returns the memory the new owner then uses.
		give func(t *testing.T, m *Memory) *Memory
	}{
		{"ZeroGranule", func(t *testing.T, m *Memory) *Memory {
			for i := range n {
				if err := m.ZeroGranule(base + uint64(i)*GranuleSize); err != nil {
					t.Fatal(err)
				}
			}
			return m
		}},
		{"whole zero write", func(t *testing.T, m *Memory) *Memory {
			if err := m.Write(base, make([]byte, n*GranuleSize)); err != nil {
				t.Fatal(err)
			}
			return m
		}},
		{"Release to another memory", func(t *testing.T, m *Memory) *Memory {
			m.Release()
			if m.Resident() != 0 {
				t.Fatalf("Resident = %d after Release", m.Resident())
			}
			buf := make([]byte, GranuleSize)
			if err := m.Read(base, buf); err != nil || !bytes.Equal(buf, make([]byte, GranuleSize)) {
				t.Fatalf("released memory reads %v, %q...", err, buf[:8])
			}
			return mustMemory(t)
		}},
	}
	zeros := make([]byte, GranuleSize)
	firstWrite := []struct {
		name string
		// write makes the first write at the granule pa (and pa+GranuleSize)
		// and returns what the two granules must then hold.
		write func(t *testing.T, m *Memory, pa uint64) []byte
	}{
		{"a few bytes", func(t *testing.T, m *Memory, pa uint64) []byte {
			if err := m.Write(pa+100, probe); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 2*GranuleSize)
			copy(want[100:], probe)
			return want
		}},
		{"across two granules", func(t *testing.T, m *Memory, pa uint64) []byte {
			if err := m.Write(pa+GranuleSize-4, probe); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 2*GranuleSize)
			copy(want[GranuleSize-4:], probe)
			return want
		}},
		{"copy from untouched memory", func(t *testing.T, m *Memory, pa uint64) []byte {
			if err := m.Write(pa+GranuleSize, probe); err != nil { // the second granule: storage
				t.Fatal(err)
			}
			if err := m.copyGranule(pa, 0x1000, nil, StateRoot, PASRoot, PASRoot, func(landed []byte) {
				if !bytes.Equal(landed, zeros) {
					t.Errorf("the copy saw %q...", landed[:8])
				}
			}); err != nil {
				t.Fatal(err)
			}
			return append(make([]byte, GranuleSize), append(probe, zeros[len(probe):]...)...)
		}},
		{"copy from content", func(t *testing.T, m *Memory, pa uint64) []byte {
			src := uint64(0x2000)
			if err := m.Write(src, content); err != nil {
				t.Fatal(err)
			}
			if err := m.copyGranule(pa, src, nil, StateRoot, PASRoot, PASRoot, nil); err != nil {
				t.Fatal(err)
			}
			return append(bytes.Clone(content), zeros...)
		}},
	}
	for _, gb := range giveBack {
		for _, fw := range firstWrite {
			t.Run(gb.name+"/"+fw.name, func(t *testing.T) {
				old := mustMemory(t)
				if err := old.Write(base, bytes.Repeat(secret, n)); err != nil {
					t.Fatal(err)
				}
				given := map[*block]bool{}
				from := ^blockRef(0)
				for i := range n {
					b, ref := storageOf(t, old, base+uint64(i)*GranuleSize)
					given[b] = true
					from = min(from, ref)
				}
				m := gb.give(t, old)
				// The next blocks taken are the ones just given back.
				storage.mu.Lock()
				storage.cursor = from
				storage.mu.Unlock()
				recycled := 0
				got := make([]byte, 2*GranuleSize)
				for i := range n / 2 {
					pa := next + uint64(2*i)*GranuleSize
					want := fw.write(t, m, pa)
					if err := m.Read(pa, got); err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(got, []byte("SECRET")) || !bytes.Equal(got, want) {
						t.Fatalf("granules at %#x hold %q, want %q", pa, got, want)
					}
					for _, g := range []uint64{pa, pa + GranuleSize} {
						if b, _ := storageOf(t, m, g); given[b] {
							recycled++
						}
					}
				}
				// Without reuse this test would prove nothing.
				if recycled == 0 {
					t.Fatal("no storage given back was reused")
				}
			})
		}
	}
}

func mustMemory(t *testing.T) *Memory {
	t.Helper()
	m, err := NewMemory(Range{0, 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStorageNextFit: blocks are handed out in address order from where
// the last one was taken (granules written in sequence get storage in
// sequence), blocks given back are taken again when the search comes
// round, and slabs wholly free beyond the idle bound go back to the
// runtime.
func TestStorageNextFit(t *testing.T) {
	storage.mu.Lock()
	saved := storage.slabs
	savedCursor, savedIdle := storage.cursor, storage.idle
	storage.slabs, storage.cursor, storage.idle = nil, 0, 0
	storage.mu.Unlock()
	t.Cleanup(func() {
		storage.mu.Lock()
		storage.slabs, storage.cursor, storage.idle = saved, savedCursor, savedIdle
		storage.mu.Unlock()
	})
	take := func() (*block, blockRef) {
		b, ref, _ := takeBlock(true)
		if want := &storage.slabs[ref/slabBlocks].blocks[ref%slabBlocks]; b != want {
			t.Fatalf("block %d is not the slab's block", ref)
		}
		return b, ref
	}
	var refs []blockRef
	for range 3 {
		_, ref := take()
		refs = append(refs, ref)
	}
	if refs[0] != 0 || refs[1] != 1 || refs[2] != 2 || storage.idle != slabBlocks-3 {
		t.Fatalf("first blocks %v, idle %d: want 0 1 2 in address order", refs, storage.idle)
	}
	putBlock(refs[0])
	if _, ref := take(); ref != 3 {
		t.Fatalf("after giving back block 0 the next block is %d, want 3 (next fit)", ref)
	}
	for range slabBlocks - 4 { // blocks 4..511
		take()
	}
	if _, ref := take(); ref != 0 {
		t.Fatalf("the search came round to %d, want the block given back (0)", ref)
	}
	if _, ref := take(); ref != slabBlocks {
		t.Fatalf("a full slab gives %d, want the first block of a new slab", ref)
	}

	// Fill one slab more than the idle bound allows, then give all back.
	slabs := maxIdleBlocks/slabBlocks + 1
	for range slabs*slabBlocks - 2*slabBlocks + slabBlocks - 1 {
		take()
	}
	if storage.idle != 0 || len(storage.slabs) != slabs {
		t.Fatalf("idle %d over %d slabs, want 0 over %d", storage.idle, len(storage.slabs), slabs)
	}
	for ref := range blockRef(slabs * slabBlocks) {
		putBlock(ref)
	}
	kept := 0
	for _, s := range storage.slabs {
		if s != nil {
			kept++
		}
	}
	if storage.idle != maxIdleBlocks || kept*slabBlocks != storage.idle {
		t.Fatalf("idle %d blocks in %d slabs, want %d (the bound)", storage.idle, kept, maxIdleBlocks)
	}
	// A slot given back is skipped by the search and reused by a new slab.
	for range storage.idle {
		take()
	}
	if _, ref := take(); storage.slabs[ref/slabBlocks] == nil || len(storage.slabs) != slabs {
		t.Fatalf("new slab at %d of %d slabs, want a reused slot", ref/slabBlocks, len(storage.slabs))
	}
}
