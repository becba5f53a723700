package gpt

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
)

// TestPropertyOwnership drives random transitions and accesses from every
// world and checks them against a plain model of ownership: no world ever
// reads or writes a granule whose GPI does not admit it, every outcome and
// error matches the model, and once everything is back in NS the table is
// fused back into 512 MB blocks.
func TestPropertyOwnership(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPINS)
	var tracked []uint64
	for _, run := range []struct {
		base uint64
		n    int
	}{
		{region1 + 2<<20 - 3*GranuleSize, 6},  // across a 2 MB boundary
		{region1 + 32<<20 - 2*GranuleSize, 4}, // across a 32 MB boundary
		{region1 + 0x10_0000, 16},             // one whole L1 entry
		{region1 + 40<<20, 3},
		{region0 + 0x1000, 2}, // L0 block region: never transitionable
	} {
		for i := range run.n {
			tracked = append(tracked, run.base+uint64(i)*GranuleSize)
		}
	}
	isTracked := map[uint64]bool{}
	for _, pa := range tracked {
		isTracked[pa] = true
	}
	owner := map[uint64]GPI{}    // model: GPI of each tracked granule
	content := map[uint64]byte{} // model: bytes ever written, by PA
	for _, pa := range tracked {
		owner[pa] = GPINS
	}
	states := []SecurityState{StateNonSecure, StateSecure, StateRealm, StateRoot}
	legal := map[SecurityState][]PAS{
		StateNonSecure: {PASNonSecure},
		StateSecure:    {PASSecure, PASNonSecure},
		StateRealm:     {PASRealm, PASNonSecure},
		StateRoot:      {PASRoot, PASSecure, PASNonSecure, PASRealm},
	}
	rng := rand.New(rand.NewSource(1))
	const steps = 6000
	for step := range steps {
		pa := tracked[rng.Intn(len(tracked))]
		s := states[rng.Intn(len(states))]
		block := pa < gib
		switch op := rng.Intn(4); op {
		case 0, 1: // delegate / undelegate
			// Every failure must leave the GPT untouched: no descriptor store
			// at all, and (every 16th step, as the copy is slow under -race)
			// identical bytes.
			stores := tbl.mem.tableStores.Load()
			var before []byte
			if step%16 == 0 {
				before = tbl.Snapshot()
			}
			var err error
			var want error
			next := owner[pa]
			if op == 0 {
				err = tbl.Delegate(pa, GranuleSize, s)
				switch {
				case block || s == StateNonSecure || s == StateRoot:
					want = ErrInvalid
				case owner[pa] != GPINS:
					want = ErrDenied
				default:
					next = s.PAS().GPI()
				}
			} else {
				err = tbl.Undelegate(pa, GranuleSize, s)
				switch {
				case block:
					want = ErrInvalid
				case s == StateRealm && owner[pa] == GPIRealm, s == StateSecure && owner[pa] == GPISecure:
					next = GPINS
				default:
					want = ErrDenied
				}
			}
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("step %d: op %d on %#x by %s (GPI %s): %v, want %v", step, op, pa, s, owner[pa], err, want)
			}
			if want != nil {
				if tbl.mem.tableStores.Load() != stores {
					t.Fatalf("step %d: failed request stored descriptors", step)
				}
				if before != nil {
					mustSnapshotEqual(t, before, tbl)
				}
			}
			owner[pa] = next
		default: // access, sometimes spanning into the next granule
			pas := legal[s][rng.Intn(len(legal[s]))]
			at, n := pa, 8
			span := []uint64{pa}
			if rng.Intn(3) == 0 && isTracked[pa+GranuleSize] {
				at = pa + GranuleSize - 4
				span = append(span, pa+GranuleSize)
			}
			ok := true
			for _, g := range span {
				if owner[g] != pas.GPI() {
					ok = false
				}
			}
			buf := make([]byte, n)
			var err error
			if op == 2 {
				err = tbl.Read(s, pas, at, buf)
			} else {
				rng.Read(buf)
				err = tbl.Write(s, pas, at, buf)
			}
			if ok != (err == nil) {
				t.Fatalf("step %d: %s %s access to %#x (GPIs %v): %v", step, s, pas, at, ownersOf(owner, span), err)
			}
			if err != nil && (!errors.Is(err, ErrGPF) || errors.Is(err, ErrWalk)) {
				t.Fatalf("step %d: fault %v is not a plain GPF", step, err)
			}
			if !ok {
				continue
			}
			for i := range n {
				if op == 2 {
					if buf[i] != content[at+uint64(i)] {
						t.Fatalf("step %d: read %#x = %#x, model %#x", step, at+uint64(i), buf[i], content[at+uint64(i)])
					}
				} else {
					content[at+uint64(i)] = buf[i]
				}
			}
		}
		// The GPT agrees with the model for every tracked granule.
		for _, g := range tracked {
			if got, err := tbl.GPI(g); err != nil || got != owner[g] {
				t.Fatalf("step %d: GPI(%#x) = %s, %v; model %s", step, g, got, err, owner[g])
			}
		}
	}
	// Hand everything back and check the table is fully fused again.
	for _, pa := range tracked {
		if g := owner[pa]; g != GPINS {
			if err := tbl.Undelegate(pa, GranuleSize, map[GPI]SecurityState{GPIRealm: StateRealm, GPISecure: StateSecure}[g]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 16384 {
		if got := rawL1(t, tbl, i); got != 0x391 {
			t.Fatalf("final L1[%d] = %#x, want 0x391", i, got)
		}
	}
	// And the data written survives all the transitions (the gpt package
	// does not scrub; the RMM does).
	for pa, b := range content {
		var got [1]byte
		if err := tbl.mem.Read(pa, got[:]); err != nil || got[0] != b {
			t.Fatalf("content at %#x = %#x, model %#x", pa, got[0], b)
		}
	}
}

func ownersOf(owner map[uint64]GPI, span []uint64) string {
	s := ""
	for _, g := range span {
		s += fmt.Sprintf("%#x:%s ", g, owner[g])
	}
	return s
}
