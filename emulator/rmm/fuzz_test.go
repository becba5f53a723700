package rmm

import (
	"encoding/binary"
	"testing"
)

// rmiFIDs are the RMI commands the fuzzers pick from, plus slots RMM 1.0
// leaves unused and a FID outside the range.
var rmiFIDs = []uint64{
	RMIVersion, RMIGranuleDelegate, RMIGranuleUndelegate, RMIDataCreate, RMIDataCreateUnknown, RMIDataDestroy,
	RMIRealmActivate, RMIRealmCreate, RMIRealmDestroy, RMIRecCreate, RMIRecDestroy, RMIRecEnter, RMIRttCreate,
	RMIRttDestroy, RMIRttMapUnprotected, RMIRttReadEntry, RMIRttUnmapUnprotected, RMIPsciComplete, RMIFeatures,
	RMIRttFold, RMIRecAuxCount, RMIRttInitRipas, RMIRttSetRipas, fidBase | 0x156, fidBase | 0x18E, RMIVersion | SVEHint,
}

// fuzzInput reads values from fuzz data, returning zeros once it runs out.
type fuzzInput struct{ b []byte }

func (f *fuzzInput) byte() byte {
	if len(f.b) == 0 {
		return 0
	}
	v := f.b[0]
	f.b = f.b[1:]
	return v
}

func (f *fuzzInput) u64() uint64 {
	var w [8]byte
	n := copy(w[:], f.b)
	f.b = f.b[n:]
	return binary.LittleEndian.Uint64(w[:])
}

// arg draws an argument: mostly addresses that mean something to the RMM
// (the pool of granules it tracks, the realm's RD and RECs, IPAs on level
// boundaries, small levels), sometimes raw fuzz bytes.
func (f *fuzzInput) arg(h *host, pool []uint64) uint64 {
	switch k := f.byte(); k % 8 {
	case 0, 1, 2:
		return pool[int(f.byte())%len(pool)]
	case 3:
		return uint64(f.byte()%5) << (12 + 9*uint64(f.byte()%3)) // IPAs on 4K/2M/1G boundaries
	case 4:
		return uint64(f.byte() % 5) // levels, indices, flags
	case 5:
		for rd := range h.r.realms {
			return rd
		}
		return 0
	case 6:
		for rec := range h.r.recs {
			return rec
		}
		return 0
	}
	return f.u64()
}

// FuzzRMI drives the RMI dispatcher with fuzz-chosen commands, registers
// and parameter granules, and checks after each call that a failing call
// changed nothing and that the RMM's invariants hold. It never panics.
func FuzzRMI(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0, 2, 0, 0, 7, 0, 1, 2, 3})
	f.Add([]byte("\x01\x00\x00\x01\x00\x01\x01\x00\x02\x07\x00\x03\x00\x04\x0c\x00\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHost(t)
		in := &fuzzInput{b: data}
		pool := make([]uint64, 24)
		for i := range pool {
			pool[i] = h.alloc()
		}
		for step := 0; step < 16 && len(in.b) > 0; step++ {
			fid := rmiFIDs[int(in.byte())%len(rmiFIDs)]
			// One granule of fuzzed parameters, usable as params_ptr/src/run_ptr.
			var params [GranuleSize]byte
			for i := 0; i < 8; i++ {
				binary.LittleEndian.PutUint64(params[[]int{0, 8, 0x10, 0x18, 0x20, 0x30, 0x808, 0x810}[i]:], in.arg(h, pool))
			}
			pp := pool[int(in.byte())%len(pool)]
			_ = h.write(pp, params[:]) // fails harmlessly if pp is delegated
			args := make([]uint64, 6)
			for i := range args {
				args[i] = in.arg(h, pool)
			}
			before := h.rmmSnapshot()
			x := h.smc(fid, args...)
			if st, _ := Unpack(x[0]); st != RMISuccess && fid != RMIRecEnter && x[0] != SMCUnknown {
				if d := before.diff(h.rmmSnapshot()); d != "" {
					t.Fatalf("failing RMI %#x%#x (X0 %#x) changed the %s", fid, args, x[0], d)
				}
			}
			h.checkRMMInvariants()
		}
		h.r.Close()
	})
}

// FuzzRSI runs realm software that issues fuzz-chosen RSI and PSCI calls
// with fuzz-chosen registers, answering its exits as a host would, and
// checks that nothing panics and the RMM's invariants hold.
func FuzzRSI(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{4, 0x40, 0, 0, 0, 0, 0, 0, 0, 5, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHost(t)
		in := &fuzzInput{b: data}
		fids := []uint64{RSIVersion, RSIFeatures, RSIMeasurementRead, RSIMeasurementExtend, RSIAttestationTokenInit,
			RSIAttestationTokenContinue, RSIRealmConfig, RSIIPAStateSet, RSIIPAStateGet, RSIHostCall,
			fidBase | 0x1AF, PSCIVersion, PSCIFeatures, PSCIAffinityInfo, PSCICPUSuspend, SMCCCVersion}
		ipas := []uint64{0, 0x1000, 0x20_0000, 1 << 30, 1<<30 + 0x100, 1<<39 - 0x1000, 1 << 39, 1 << 40}
		h.r.cfg.Programs = func(uint64) (Program, bool) {
			return func(cpu RealmCPU) {
				for len(in.b) > 0 {
					fid := fids[int(in.byte())%len(fids)]
					args := make([]uint64, 10)
					for i := range args {
						if in.byte()%2 == 0 {
							args[i] = ipas[int(in.byte())%len(ipas)]
						} else {
							args[i] = in.u64()
						}
					}
					cpu.SMC(fid, args...)
				}
			}, true
		}
		rd := h.newRealm(1)
		h.ramAt(rd, 1<<30) // RIPAS RAM at 1 GB: aborts there go to the host
		rec := h.newREC(rd, 0, 0x1000)
		h.smc(RMIRealmActivate, rd)
		run := h.alloc()
		for i := 0; i < 64; i++ {
			x := h.smc(RMIRecEnter, rec, run)
			if x[0] != RMISuccess {
				break
			}
			reason, _, hp, _ := h.exit(run)
			var flags uint64
			switch reason {
			case ExitSync:
				// Back a protected page when the realm faults on one;
				// otherwise make it take an abort.
				ipa := hp >> 4 << 12
				if ipa < 1<<39 && ipa >= 1<<30 && ipa < 1<<30+2<<20 {
					h.rttsDownTo(rd, ipa, 3)
					if x := h.smc(RMIDataCreateUnknown, rd, h.delegated(), ipa); x[0] != RMISuccess {
						flags = EntryFlagInjectSEA
					}
				} else {
					flags = EntryFlagInjectSEA
				}
			case ExitPSCI:
				if c := h.r.recs[rec]; c != nil && c.psciPending {
					h.smc(RMIPsciComplete, rec, rec, PSCISuccess)
				}
			}
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], flags)
			_ = h.write(run+RunEnterFlags, b[:])
			h.checkRMMInvariants()
		}
		h.r.Close()
	})
}
