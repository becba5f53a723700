package rmm

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

var (
	propSteps = flag.Int("rmm.steps", 2500, "steps of the RMM model-based property test")
	propSeed  = flag.Uint64("rmm.seed", 1, "seed of the RMM model-based property test")
)

// TestRandomRMISequences drives the RMM with random RMI commands (and realm
// software issuing random RSI calls) over a small pool of granules and
// checks after every step that:
//   - a command that fails changes nothing (RTT and granule contents, GPT,
//     granule states, realm descriptors, pending RIPAS changes);
//   - the granule states and the GPT agree (UNDELEGATED ⇔ GPI NS, every
//     other state ⇔ GPI REALM);
//   - no PA is mapped into two realms or twice, RTT and DATA granules are
//     referenced by their realm's tables, DELEGATED granules are zero;
//   - an active realm's RIM never changes.
//
// Run longer with -rmm.steps=100000 -rmm.seed=N.
func TestRandomRMISequences(t *testing.T) {
	steps := *propSteps
	if testing.Short() || raceEnabled {
		steps /= 10
	}
	succeeded := map[string]int{}
	for _, seed := range []uint64{*propSeed, *propSeed + 1} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runRandomRMI(t, seed, steps, succeeded) })
	}
	t.Logf("successful commands: %v", succeeded)
	// The sequences must reach deep states, not only fail on input checks.
	for _, must := range []string{"DELEGATE", "REALM_CREATE", "RTT_CREATE", "DATA_CREATE_UNKNOWN", "REC_CREATE", "RTT_INIT_RIPAS", "REC_ENTER"} {
		if succeeded[must] == 0 && steps >= 2000 && *propSeed == 1 {
			t.Errorf("no %s ever succeeded: the generator is too weak", must)
		}
	}
}

func runRandomRMI(t *testing.T, seed uint64, steps int, succeeded map[string]int) {
	h := newHost(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const poolSize = 128
	pool := make([]uint64, poolSize)
	for i := range pool {
		pool[i] = h.alloc()
	}
	// A contiguous pair for starting-level RTTs (s2sz 40, level 1).
	pick := func() uint64 {
		switch rng.IntN(12) {
		case 0:
			return pool[rng.IntN(poolSize)] + uint64(rng.IntN(2))*8 // sometimes unaligned
		case 1:
			return tRMMBase // not delegable
		}
		return pool[rng.IntN(poolSize)]
	}
	// inState picks a pool granule in state st most of the time, so that
	// commands get past their input checks and reach deep states.
	var exact bool // inState never strays (for the REC's 16 auxiliary granules)
	inState := func(st granuleState) uint64 {
		if !exact && rng.IntN(5) == 0 {
			return pick()
		}
		var c []uint64
		for _, pa := range pool {
			if h.r.granules.lookup(pa).state == st {
				c = append(c, pa)
			}
		}
		if len(c) == 0 {
			return pick()
		}
		return c[rng.IntN(len(c))]
	}
	delegated := func() uint64 { return inState(granuleDelegated) }
	ipas := []uint64{0, 0x1000, 0x20_0000, 0x20_1000, 0x4000_0000, 0x7F_FFFF_F000, 0x80_0000_0000, 0x80_0020_0000, 0xFF_FFFF_F000, 0x100_0000_0000}
	ipa := func() uint64 { return ipas[rng.IntN(len(ipas))] }
	// Choices over the RMM's maps go through sorted keys: map order would
	// make a seed's sequence irreproducible.
	realms := func() uint64 {
		rds := slices.Sorted(maps.Keys(h.r.realms))
		if len(rds) == 0 || rng.IntN(8) == 0 {
			return pick()
		}
		return rds[rng.IntN(len(rds))]
	}
	recs := func() uint64 {
		all := slices.Sorted(maps.Keys(h.r.recs))
		if len(all) == 0 || rng.IntN(8) == 0 {
			return pick()
		}
		// Prefer a REC that can run: runnable, in an active realm.
		var ready []uint64
		for _, a := range all {
			if rec := h.r.recs[a]; rec.runnable && h.r.realms[rec.owner].state == realmActive {
				ready = append(ready, a)
			}
		}
		if len(ready) > 0 && rng.IntN(2) == 0 {
			return ready[rng.IntN(len(ready))]
		}
		return all[rng.IntN(len(all))]
	}
	// Realm software: a few random RSI calls, then off.
	h.r.cfg.Programs = func(uint64) (Program, bool) {
		return func(cpu RealmCPU) {
			for range 3 {
				switch rng.IntN(4) {
				case 0:
					cpu.SMC(RSIMeasurementExtend, uint64(rng.IntN(6)), uint64(rng.IntN(70)), rng.Uint64())
				case 1:
					_ = cpu.Read(ipa(), make([]byte, 8))
				case 2:
					cpu.SMC(RSIIPAStateSet, ipa(), ipa()+0x1000, uint64(rng.IntN(3)), 0)
				case 3:
					cpu.SMC(RSIMeasurementRead, uint64(rng.IntN(6)))
				}
			}
		}, true
	}
	frozen := map[uint64][64]byte{}
	ops := []struct {
		name string
		fid  uint64
		args func() []uint64
	}{
		{"DELEGATE", RMIGranuleDelegate, func() []uint64 { return []uint64{inState(granuleNS)} }},
		{"DELEGATE", RMIGranuleDelegate, func() []uint64 { return []uint64{inState(granuleNS)} }},
		{"UNDELEGATE", RMIGranuleUndelegate, func() []uint64 { return []uint64{pick()} }},
		{"REALM_CREATE", RMIRealmCreate, func() []uint64 {
			p := h.realmParams(0, uint64(rng.IntN(3)))
			p[RealmParamsRTTNumStart] = 1
			p[RealmParamsS2SZ] = 39 // level 1 start, one table
			if rng.IntN(4) == 0 {
				p[RealmParamsHashAlgo] = uint64(rng.IntN(3))
			}
			p[RealmParamsRTTBase] = delegated()
			return []uint64{delegated(), h.params(p)}
		}},
		{"REALM_ACTIVATE", RMIRealmActivate, func() []uint64 {
			if rng.IntN(4) != 0 {
				return []uint64{pick()} // let realms stay NEW for a while
			}
			return []uint64{realms()}
		}},
		{"REALM_ACTIVATE", RMIRealmActivate, func() []uint64 {
			for _, rd := range slices.Sorted(maps.Keys(h.r.realms)) { // a NEW realm that has a REC
				if rl := h.r.realms[rd]; rl.state == realmNew && rl.numRecs > 0 {
					return []uint64{rd}
				}
			}
			return []uint64{pick()}
		}},
		{"RTT_INIT_RIPAS", RMIRttInitRipas, func() []uint64 { // a whole 1 GB entry of a NEW realm
			for _, rd := range slices.Sorted(maps.Keys(h.r.realms)) {
				if h.r.realms[rd].state == realmNew {
					b := uint64(rng.IntN(2)) << 30
					return []uint64{rd, b, b + 1<<30}
				}
			}
			return []uint64{pick(), 0, 1 << 30}
		}},
		{"REALM_DESTROY", RMIRealmDestroy, func() []uint64 {
			if rng.IntN(8) != 0 {
				return []uint64{pick()} // rarely an RD: let realms live
			}
			return []uint64{realms()}
		}},
		{"REC_CREATE", RMIRecCreate, func() []uint64 {
			rd := realms()
			if rng.IntN(2) == 0 { // prefer a NEW realm, where REC_CREATE can succeed
				for _, r := range slices.Sorted(maps.Keys(h.r.realms)) {
					if h.r.realms[r].state == realmNew {
						rd = r
						break
					}
				}
			}
			mpidr := uint64(rng.IntN(2))
			if rl := h.r.realms[rd]; rl != nil && rng.IntN(4) != 0 {
				mpidr = rl.recIndex
			}
			f := map[uint64]uint64{RecParamsMPIDR: mpidr, RecParamsPC: 0x1000, RecParamsNumAux: recAuxCount,
				RecParamsFlags: uint64(rng.IntN(4)/3 ^ 1)} // mostly runnable
			used := map[uint64]bool{}
			exact = rng.IntN(8) != 0
			defer func() { exact = false }()
			for i := range recAuxCount {
				a := delegated()
				for tries := 0; used[a] && tries < 32; tries++ {
					a = delegated()
				}
				used[a] = true
				f[RecParamsAux+8*uint64(i)] = a
			}
			return []uint64{rd, delegated(), h.params(f)}
		}},
		{"REC_DESTROY", RMIRecDestroy, func() []uint64 {
			if rng.IntN(4) != 0 {
				return []uint64{pick()} // let RECs live long enough to run
			}
			return []uint64{recs()}
		}},
		{"REC_ENTER", RMIRecEnter, func() []uint64 { return []uint64{recs(), h.params(map[uint64]uint64{})} }},
		{"RTT_CREATE", RMIRttCreate, func() []uint64 { return []uint64{realms(), delegated(), ipa(), uint64(rng.IntN(5))} }},
		{"RTT_CREATE", RMIRttCreate, func() []uint64 { return []uint64{realms(), delegated(), ipa(), uint64(2 + rng.IntN(2))} }},
		{"RTT_DESTROY", RMIRttDestroy, func() []uint64 { return []uint64{realms(), ipa(), uint64(rng.IntN(5))} }},
		{"RTT_FOLD", RMIRttFold, func() []uint64 { return []uint64{realms(), ipa(), uint64(rng.IntN(5))} }},
		{"RTT_INIT_RIPAS", RMIRttInitRipas, func() []uint64 {
			b := ipa()
			return []uint64{realms(), b, b + []uint64{0, 0x1000, 0x20_0000, 0x4000_0000}[rng.IntN(4)]}
		}},
		{"RTT_SET_RIPAS", RMIRttSetRipas, func() []uint64 { b := ipa(); return []uint64{realms(), recs(), b, b + 0x1000} }},
		{"DATA_CREATE", RMIDataCreate, func() []uint64 {
			return []uint64{realms(), delegated(), ipa(), h.params(map[uint64]uint64{0: rng.Uint64()}), uint64(rng.IntN(3))}
		}},
		{"DATA_CREATE_UNKNOWN", RMIDataCreateUnknown, func() []uint64 { return []uint64{realms(), delegated(), ipa()} }},
		{"DATA_DESTROY", RMIDataDestroy, func() []uint64 { return []uint64{realms(), ipa()} }},
		{"MAP_UNPROTECTED", RMIRttMapUnprotected, func() []uint64 {
			return []uint64{realms(), ipa(), uint64(1 + rng.IntN(3)), hostNSDesc(pool[rng.IntN(poolSize)])}
		}},
		{"UNMAP_UNPROTECTED", RMIRttUnmapUnprotected, func() []uint64 { return []uint64{realms(), ipa(), uint64(1 + rng.IntN(3))} }},
		{"READ_ENTRY", RMIRttReadEntry, func() []uint64 { return []uint64{realms(), ipa(), uint64(rng.IntN(5))} }},
	}
	// Weight the commands that build state.
	for _, name := range []string{"REC_CREATE", "REC_ENTER", "RTT_INIT_RIPAS", "DATA_CREATE", "RTT_CREATE", "DATA_CREATE_UNKNOWN", "REALM_ACTIVATE"} {
		for _, o := range slices.Clone(ops) {
			if o.name == name {
				ops = append(ops, o, o)
			}
		}
	}
	// Params and run granules are taken past the pool; keep the bump
	// allocator from running out on long runs.
	start := h.next
	for step := range steps {
		if h.next > tDRAMBase+tDRAMSize-64*GranuleSize {
			h.next = start
		}
		op := ops[rng.IntN(len(ops))]
		args := op.args()
		before := h.rmmSnapshot()
		x := h.smc(op.fid, args...)
		st, _ := Unpack(x[0])
		if st == RMISuccess {
			succeeded[op.name]++
		}
		if st != RMISuccess && op.fid != RMIRecEnter {
			if d := before.diff(h.rmmSnapshot()); d != "" {
				t.Fatalf("step %d: failing %s%#x (status %d) changed the %s", step, op.name, args, st, d)
			}
		}
		h.checkRMMInvariants()
		checkGPTAgrees(t, h, step)
		for rd, rl := range h.r.realms {
			if rl.state == realmNew {
				delete(frozen, rd)
				continue
			}
			if old, ok := frozen[rd]; ok && old != rl.rim {
				t.Fatalf("step %d: %s changed the frozen RIM of realm %#x", step, op.name, rd)
			}
			frozen[rd] = rl.rim
		}
	}
	h.r.Close()
}

// checkGPTAgrees: UNDELEGATED granules are GPI NS, all others GPI REALM.
func checkGPTAgrees(t *testing.T, h *host, step int) {
	t.Helper()
	for pa := uint64(tDRAMBase); pa < h.next; pa += GranuleSize {
		g := h.r.granules.lookup(pa)
		gpi, err := h.p.mon.GPI(pa)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]gpt.GPI{true: gpt.GPINS, false: gpt.GPIRealm}[g.state == granuleNS]; gpi != want {
			t.Fatalf("step %d: granule %#x is %v but its GPI is %v", step, pa, g.state, gpi)
		}
	}
}
