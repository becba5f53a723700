package gpt

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"
	"testing"
)

// TestCopyOnWrite: after a granule copy, the two granules share storage,
// and every kind of write to either (a few bytes, across two granules, a
// whole granule, zeros that free the storage, ZeroGranule, another copy
// onto it) changes that granule only. Each row starts from a = content
// and b = copy of a, then acts, then checks both against the bytes a plain
// model of two separate granules holds.
func TestCopyOnWrite(t *testing.T) {
	const a, b, c = 0x10_0000, 0x20_0000, 0x30_0000
	content := bytes.Repeat([]byte("cow-src!"), GranuleSize/8)
	other := bytes.Repeat([]byte{0x77}, GranuleSize)
	probe := []byte("PROBE")
	zeros := make([]byte, GranuleSize)
	with := func(base []byte, off int, p []byte) []byte {
		out := bytes.Clone(base)
		copy(out[off:], p)
		return out
	}
	tests := []struct {
		name string
		act  func(t *testing.T, m *Memory)
		// wantA and wantB: what a and b hold afterwards.
		wantA, wantB []byte
	}{
		{"nothing", func(*testing.T, *Memory) {}, content, content},
		{"a few bytes into the source", func(t *testing.T, m *Memory) { mustWrite(t, m, a+100, probe) },
			with(content, 100, probe), content},
		{"a few bytes into the copy", func(t *testing.T, m *Memory) { mustWrite(t, m, b+100, probe) },
			content, with(content, 100, probe)},
		{"a whole granule into the source", func(t *testing.T, m *Memory) { mustWrite(t, m, a, other) },
			other, content},
		{"a whole granule into the copy", func(t *testing.T, m *Memory) { mustWrite(t, m, b, other) },
			content, other},
		{"zeros over the source", func(t *testing.T, m *Memory) { mustWrite(t, m, a, zeros) },
			zeros, content},
		{"ZeroGranule on the copy", func(t *testing.T, m *Memory) {
			if err := m.ZeroGranule(b); err != nil {
				t.Fatal(err)
			}
		}, content, zeros},
		{"a write across the copy and the next granule", func(t *testing.T, m *Memory) {
			mustWrite(t, m, b+GranuleSize-2, probe)
		}, content, with(content, GranuleSize-2, probe[:2])},
		{"a third granule copied from the copy, then the copy written", func(t *testing.T, m *Memory) {
			mustCopy(t, m, c, b)
			mustWrite(t, m, b, probe)
			if got := mustRead(t, m, c); !bytes.Equal(got, content) {
				t.Errorf("the third granule holds %q...", got[:8])
			}
		}, content, with(content, 0, probe)},
		{"the source copied onto the copy again", func(t *testing.T, m *Memory) { mustCopy(t, m, b, a) },
			content, content},
		{"the copy copied back onto the source, then the source written", func(t *testing.T, m *Memory) {
			mustCopy(t, m, a, b)
			mustWrite(t, m, a+8, probe)
		}, with(content, 8, probe), content},
		{"another granule copied over the copy", func(t *testing.T, m *Memory) {
			mustWrite(t, m, c, other)
			mustCopy(t, m, b, c)
		}, content, other},
		{"untouched memory copied over the copy", func(t *testing.T, m *Memory) { mustCopy(t, m, b, c) },
			content, zeros},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustMemory(t)
			mustWrite(t, m, a, content)
			mustCopy(t, m, b, a)
			tc.act(t, m)
			if got := mustRead(t, m, a); !bytes.Equal(got, tc.wantA) {
				t.Errorf("source holds %q..., want %q...", got[:16], tc.wantA[:16])
			}
			if got := mustRead(t, m, b); !bytes.Equal(got, tc.wantB) {
				t.Errorf("copy holds %q..., want %q...", got[:16], tc.wantB[:16])
			}
			checkReferences(t, m)
			m.Release()
			checkReferences(t, m)
		})
	}
}

// TestCopyOnWriteProperty drives random writes, zeroings and copies over a
// few granules and checks every granule against a model of separate
// granules after each step, and the storage's reference counts against the
// granules that hold each block.
func TestCopyOnWriteProperty(t *testing.T) {
	m := mustMemory(t)
	const n = 6
	model := make([][]byte, n)
	for i := range model {
		model[i] = make([]byte, GranuleSize)
	}
	pa := func(i int) uint64 { return 0x40_0000 + uint64(i)*GranuleSize }
	rng := rand.New(rand.NewSource(7))
	for step := range 4000 {
		i, j := rng.Intn(n), rng.Intn(n)
		switch rng.Intn(5) {
		case 0: // a few bytes
			off := rng.Intn(GranuleSize - 8)
			p := []byte(fmt.Sprintf("%08d", step))
			mustWrite(t, m, pa(i)+uint64(off), p)
			copy(model[i][off:], p)
		case 1: // a whole granule
			p := bytes.Repeat([]byte{byte(step)}, GranuleSize)
			mustWrite(t, m, pa(i), p)
			copy(model[i], p)
		case 2: // zeroing
			if err := m.ZeroGranule(pa(i)); err != nil {
				t.Fatal(err)
			}
			clear(model[i])
		default: // a copy (two chances in five: sharing is the subject)
			mustCopy(t, m, pa(i), pa(j))
			copy(model[i], model[j])
		}
		for k := range n {
			if got := mustRead(t, m, pa(k)); !bytes.Equal(got, model[k]) {
				t.Fatalf("step %d: granule %d differs from the model at byte %d", step, k, firstDiff(got, model[k]))
			}
		}
		if step%100 == 0 {
			checkReferences(t, m)
		}
	}
	checkReferences(t, m)
}

// TestCopyOnWriteConcurrent: goroutines write to granules that share one
// block, while others read them and copy between them. Each writer owns
// one granule, so every read of it must show only its writer's bytes; run
// with -race to check the reference counting too.
func TestCopyOnWriteConcurrent(t *testing.T) {
	m := mustMemory(t)
	const writers, rounds = 4, 300
	base := uint64(0x50_0000)
	seed := uint64(0x60_0000)
	mustWrite(t, m, seed, bytes.Repeat([]byte{0xEE}, GranuleSize))
	var wg sync.WaitGroup
	errc := make(chan error, 2*writers)
	for w := range writers {
		wg.Add(2)
		go func() { // owner: copy the seed in, then write its own byte
			defer wg.Done()
			pa := base + uint64(w)*GranuleSize
			mine := bytes.Repeat([]byte{byte(w + 1)}, 64)
			got := make([]byte, GranuleSize)
			for r := range rounds {
				if err := m.copyGranule(pa, seed, nil, StateRoot, PASRoot, PASRoot, nil); err != nil {
					errc <- err
					return
				}
				off := uint64(r%64) * 64
				if err := m.Write(pa+off, mine); err != nil {
					errc <- err
					return
				}
				if err := m.Read(pa, got); err != nil {
					errc <- err
					return
				}
				for i, v := range got {
					in := uint64(i) >= off && uint64(i) < off+64
					if in && v != byte(w+1) || !in && v != 0xEE {
						errc <- fmt.Errorf("writer %d round %d: byte %d is %#x", w, r, i, v)
						return
					}
				}
			}
		}()
		go func() { // reader of the seed and of a neighbour, which it also copies
			defer wg.Done()
			got := make([]byte, GranuleSize)
			for range rounds {
				if err := m.Read(seed, got); err != nil || got[0] != 0xEE || got[GranuleSize-1] != 0xEE {
					errc <- fmt.Errorf("the seed changed: %v %#x", err, got[0])
					return
				}
				if err := m.copyGranule(base+uint64(writers+w)*GranuleSize, base+uint64(w)*GranuleSize, nil, StateRoot, PASRoot, PASRoot, nil); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	checkReferences(t, m)
}

// checkReferences checks that each block's reference count is the number
// of m's granules it backs (m being the only memory sharing blocks).
func checkReferences(t *testing.T, m *Memory) {
	t.Helper()
	holders := map[*block]int32{}
	counts := map[*block]int32{}
	resident := 0
	m.eachGranule(func(g *granule) {
		g.mu.RLock()
		defer g.mu.RUnlock()
		if g.b == nil {
			return
		}
		holders[g.b]++
		counts[g.b] = g.refs.Load()
		resident++
		storage.mu.Lock()
		want := &storage.slabs[g.ref/slabBlocks].blocks[g.ref%slabBlocks]
		storage.mu.Unlock()
		if want != g.b {
			t.Errorf("a granule's block is not the one its name gives")
		}
	})
	for b, n := range holders {
		if counts[b] != n {
			t.Errorf("a block backs %d granules but counts %d references", n, counts[b])
		}
	}
	if resident != m.Resident() {
		t.Errorf("%d granules hold storage, Resident says %d", resident, m.Resident())
	}
}

func mustWrite(t *testing.T, m *Memory, pa uint64, p []byte) {
	t.Helper()
	if err := m.Write(pa, p); err != nil {
		t.Fatal(err)
	}
}

func mustCopy(t *testing.T, m *Memory, dst, src uint64) {
	t.Helper()
	if err := m.copyGranule(dst, src, nil, StateRoot, PASRoot, PASRoot, nil); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, m *Memory, pa uint64) []byte {
	t.Helper()
	p := make([]byte, GranuleSize)
	if err := m.Read(pa, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
