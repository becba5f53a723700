package monitor

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// TestPropertyWorlds drives random GTSI calls from every world and random
// accesses through the monitor, against a plain model of ownership. The RMM
// behaviour is modelled as TF-RMM's: it scrubs a granule before it
// undelegates it. No world ever reads or writes a granule it does not own,
// every status code matches the model, and the GPT agrees with the model
// after every step.
func TestPropertyWorlds(t *testing.T) {
	m := newTestMonitor(t, Config{})
	var tracked []uint64
	for _, run := range []struct {
		base uint64
		n    int
	}{
		{tDRAMBase + 2<<20 - 3*gpt.GranuleSize, 6}, // across a 2 MB boundary
		{tDRAMBase + 0x40_0000, 4},
		{tDRAMBase + 32<<20 - gpt.GranuleSize, 2}, // across a 32 MB boundary
		{tRealmBase, 2},                           // the RMM's own memory
		{tSecureBase, 2},
		{tRootBase, 1},
		{tIOBase, 2}, // L0 block: never transitionable
	} {
		for i := range run.n {
			tracked = append(tracked, run.base+uint64(i)*gpt.GranuleSize)
		}
	}
	owner := map[uint64]gpt.GPI{}
	tracks := map[uint64]bool{}
	for _, pa := range tracked {
		g, err := m.GPI(pa)
		if err != nil {
			t.Fatal(err)
		}
		owner[pa], tracks[pa] = g, true
	}
	content := map[uint64]byte{}
	block := func(pa uint64) bool { return pa >= tIOBase && pa < tIOBase+1<<30 }
	legal := map[gpt.SecurityState][]gpt.PAS{
		gpt.StateNonSecure: {gpt.PASNonSecure},
		gpt.StateSecure:    {gpt.PASSecure, gpt.PASNonSecure},
		gpt.StateRealm:     {gpt.PASRealm, gpt.PASNonSecure},
		gpt.StateRoot:      {gpt.PASRoot, gpt.PASSecure, gpt.PASNonSecure, gpt.PASRealm},
	}
	states := []gpt.SecurityState{gpt.StateNonSecure, gpt.StateSecure, gpt.StateRealm, gpt.StateRoot}
	rng := rand.New(rand.NewSource(3))
	const steps = 5000
	for step := range steps {
		pa := tracked[rng.Intn(len(tracked))]
		s := states[rng.Intn(len(states))]
		switch op := rng.Intn(5); op {
		case 0, 1: // GTSI delegate / undelegate
			fid := uint64(SMCRMMGTSIDelegate)
			if op == 1 {
				fid = SMCRMMGTSIUndelegate
			}
			want, next := SMCUnknown, owner[pa]
			if s == gpt.StateRealm {
				switch {
				case block(pa):
					want = ERMMBadAddr
				case op == 0 && owner[pa] == gpt.GPINS:
					want, next = ERMMOK, gpt.GPIRealm
				case op == 1 && owner[pa] == gpt.GPIRealm:
					want, next = ERMMOK, gpt.GPINS
					// The RMM scrubs before undelegating.
					if err := m.Access(gpt.StateRealm, gpt.PASRealm, pa, make([]byte, gpt.GranuleSize), true); err != nil {
						t.Fatal(err)
					}
					for i := range uint64(gpt.GranuleSize) {
						delete(content, pa+i)
					}
				default:
					want = ERMMBadPAS
				}
			}
			var before []byte
			if want != ERMMOK && step%25 == 0 {
				before = m.GPTSnapshot()
			}
			if ret := m.SMC(s, fid, pa); ret[0] != want {
				t.Fatalf("step %d: %s FID %#x on %#x (GPI %s): x0 = %#x, want %#x", step, s, fid, pa, owner[pa], ret[0], want)
			}
			if before != nil {
				mustSame(t, before, m, "failed GTSI")
			}
			owner[pa] = next
		default: // access, sometimes across into the next granule
			pas := legal[s][rng.Intn(len(legal[s]))]
			at, span := pa, []uint64{pa}
			if rng.Intn(3) == 0 && tracks[pa+gpt.GranuleSize] {
				at = pa + gpt.GranuleSize - 4
				span = append(span, pa+gpt.GranuleSize)
			}
			ok := true
			for _, g := range span {
				ok = ok && (owner[g] == pas.GPI() || owner[g] == gpt.GPIAny)
			}
			buf := make([]byte, 8)
			write := op == 4
			if write {
				rng.Read(buf)
			}
			err := m.Access(s, pas, at, buf, write)
			if ok != (err == nil) {
				t.Fatalf("step %d: %s→%s access to %#x: %v (model allows: %v)", step, s, pas, at, err, ok)
			}
			if !ok {
				continue
			}
			for i := range uint64(8) {
				if write {
					content[at+i] = buf[i]
				} else if buf[i] != content[at+i] {
					t.Fatalf("step %d: %#x reads %#x, model %#x", step, at+i, buf[i], content[at+i])
				}
			}
		}
		for _, g := range tracked {
			if got, err := m.GPI(g); err != nil || got != owner[g] {
				t.Fatalf("step %d: GPI(%#x) = %s, %v; model %s", step, g, got, err, owner[g])
			}
		}
	}
	// Whatever the host can read now is host data or zeros: realm data was
	// scrubbed before every undelegate.
	for _, pa := range tracked {
		if owner[pa] != gpt.GPINS {
			continue
		}
		got := make([]byte, gpt.GranuleSize)
		if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, got, false); err != nil {
			t.Fatal(err)
		}
		want := make([]byte, gpt.GranuleSize)
		for i := range want {
			want[i] = content[pa+uint64(i)]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("host view of %#x differs from the model", pa)
		}
	}
}
