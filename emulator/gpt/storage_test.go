package gpt

import (
	"bytes"
	"testing"
)

// storageOf returns the block backing the granule at pa, nil if none.
func storageOf(tb testing.TB, m *Memory, pa uint64) *block {
	tb.Helper()
	b := m.bank(pa, GranuleSize)
	if b == nil {
		tb.Fatalf("%#x is not memory", pa)
	}
	g := b.granule(pa - b.Base)
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.b
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
				for i := range n {
					given[storageOf(t, old, base+uint64(i)*GranuleSize)] = true
				}
				m := gb.give(t, old)
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
						if given[storageOf(t, m, g)] {
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
