package rmm

import (
	"encoding/binary"
	"testing"
)

// recParams returns a RmiRecParams granule for a REC of rd.
func (h *host) recParams(mpidr, pc uint64, runnable bool, gprs ...uint64) uint64 {
	h.t.Helper()
	f := map[uint64]uint64{RecParamsMPIDR: mpidr, RecParamsPC: pc, RecParamsNumAux: recAuxCount}
	if runnable {
		f[RecParamsFlags] = RecFlagRunnable
	}
	for i, g := range gprs {
		f[RecParamsGPRs+8*uint64(i)] = g
	}
	for i := range recAuxCount {
		f[RecParamsAux+8*uint64(i)] = h.delegated()
	}
	return h.params(f)
}

func (h *host) newREC(rd, mpidr, pc uint64) uint64 {
	h.t.Helper()
	rec := h.delegated()
	if x := h.smc(RMIRecCreate, rd, rec, h.recParams(mpidr, pc, true)); x[0] != RMISuccess {
		h.t.Fatalf("REC_CREATE: %#x", x[0])
	}
	return rec
}

// exit reads the exit part of a run granule.
func (h *host) exit(run uint64) (reason, esr, hpfar uint64, gprs [31]uint64) {
	h.t.Helper()
	b := make([]byte, GranuleSize)
	if err := h.read(run, b); err != nil {
		h.t.Fatal(err)
	}
	le := binary.LittleEndian
	for i := range gprs {
		gprs[i] = le.Uint64(b[RunExitGPRs+8*i:])
	}
	return le.Uint64(b[RunExitReason:]), le.Uint64(b[RunExitESR:]), le.Uint64(b[RunExitHPFAR:]), gprs
}

func TestRecCreateConditions(t *testing.T) {
	h := newHost(t)
	rd := h.newRealm(1)
	in := Pack(RMIErrorInput, 0)
	for _, tc := range []struct {
		name   string
		params func() uint64
		rec    func() uint64
		rd     uint64
		want   uint64
	}{
		{"params_align", func() uint64 { return h.recParams(0, 0, true) + 8 }, h.delegated, rd, in},
		{"params_pas", func() uint64 { return h.delegated() }, h.delegated, rd, in},
		{"rec_state", func() uint64 { return h.recParams(0, 0, true) }, h.alloc, rd, in},
		{"rd_state", func() uint64 { return h.recParams(0, 0, true) }, h.delegated, h.delegated(), in},
		{"mpidr_index", func() uint64 { return h.recParams(1, 0, true) }, h.delegated, rd, in},
		{"mpidr_invalid", func() uint64 { return h.recParams(0x10, 0, true) }, h.delegated, rd, in},
		{"num_aux", func() uint64 {
			p := h.recParams(0, 0, true)
			_ = h.write(p+RecParamsNumAux, []byte{3, 0, 0, 0, 0, 0, 0, 0})
			return p
		}, h.delegated, rd, in},
		{"aux_state", func() uint64 {
			p := h.recParams(0, 0, true)
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], h.alloc())
			_ = h.write(p+RecParamsAux, b[:])
			return p
		}, h.delegated, rd, in},
	} {
		before := h.r.realms[rd].rim
		if x := h.smc(RMIRecCreate, tc.rd, tc.rec(), tc.params()); x[0] != tc.want {
			t.Errorf("%s: X0 %#x, want %#x", tc.name, x[0], tc.want)
		}
		if h.r.realms[rd].rim != before || h.r.realms[rd].numRecs != 0 {
			t.Errorf("%s: a failing REC_CREATE changed the realm", tc.name)
		}
	}
	// realm_state beats mpidr_index (REALM before INPUT).
	if x := h.smc(RMIRealmActivate, rd); x[0] != RMISuccess {
		t.Fatal(x)
	}
	if x := h.smc(RMIRecCreate, rd, h.delegated(), h.recParams(5, 0, true)); x[0] != Pack(RMIErrorRealm, 0) {
		t.Errorf("realm_state vs mpidr_index: %#x", x[0])
	}
}

func TestRecEnterRunsRealmSoftware(t *testing.T) {
	h := newHost(t)
	const entry = 0x8000_0000
	var sawReg uint64
	h.r.cfg.Programs = func(pc uint64) (Program, bool) {
		if pc != entry {
			return nil, false
		}
		return func(cpu RealmCPU) {
			sawReg = cpu.Reg(0)
			if x := cpu.SMC(SMCCCVersion); x[0] != 0x10002 {
				t.Errorf("SMCCC_VERSION: %#x", x[0])
			}
			if x := cpu.SMC(0xC4000FFF); x[0] != SMCUnknown {
				t.Errorf("unknown SMC: %#x", x[0])
			}
			// An unmapped protected page: the REC exits with a data abort.
			_ = cpu.Read(0x1000, make([]byte, 8))
		}, true
	}
	rd := h.newRealm(1)
	h.ramAt(rd, 0x1000)
	rec := h.delegated()
	if x := h.smc(RMIRecCreate, rd, rec, h.recParams(0, entry, true, 0x1234)); x[0] != RMISuccess {
		t.Fatal(x)
	}
	run := h.alloc()
	if x := h.smc(RMIRecEnter, rec, run); x[0] != Pack(RMIErrorRealm, 0) {
		t.Fatalf("enter a NEW realm: %#x", x[0])
	}
	h.smc(RMIRealmActivate, rd)
	if x := h.smc(RMIRecEnter, rec, run+1); x[0] != Pack(RMIErrorInput, 0) {
		t.Fatalf("run_align: %#x", x[0])
	}
	if x := h.smc(RMIRecEnter, rec, run); x[0] != RMISuccess {
		t.Fatalf("enter: %#x", x[0])
	}
	reason, esr, hp, _ := h.exit(run)
	if reason != ExitSync || esr>>26 != 0x24 || hp != hpfar(0x1000) {
		t.Fatalf("exit reason %d esr %#x hpfar %#x", reason, esr, hp)
	}
	if sawReg != 0x1234 {
		t.Fatalf("x0 at entry %#x", sawReg)
	}
	// EMUL_MMIO after a protected abort is refused.
	_ = h.write(run+RunEnterFlags, []byte{EntryFlagEmulMMIO, 0, 0, 0, 0, 0, 0, 0})
	if x := h.smc(RMIRecEnter, rec, run); x[0] != Pack(RMIErrorRec, 0) {
		t.Fatalf("EMUL_MMIO without an emulatable abort: %#x", x[0])
	}
	// Inject an SEA: the read fails in the realm, the program returns, and
	// the REC exits as if it had called PSCI CPU_OFF.
	_ = h.write(run+RunEnterFlags, []byte{EntryFlagInjectSEA, 0, 0, 0, 0, 0, 0, 0})
	if x := h.smc(RMIRecEnter, rec, run); x[0] != RMISuccess {
		t.Fatalf("enter: %#x", x[0])
	}
	if reason, _, _, g := h.exit(run); reason != ExitPSCI || g[0] != PSCICPUOff {
		t.Fatalf("exit %d %#x", reason, g[0])
	}
	if x := h.smc(RMIRecEnter, rec, run); x[0] != Pack(RMIErrorRec, 0) {
		t.Fatalf("enter a REC that is off: %#x", x[0])
	}
	if x := h.smc(RMIRealmDestroy, rd); x[0] != Pack(RMIErrorRealm, 0) {
		t.Fatalf("destroy a realm with a REC: %#x", x[0])
	}
	if x := h.smc(RMIRecDestroy, rec); x[0] != RMISuccess {
		t.Fatal(x)
	}
	if x := h.smc(RMIRealmDestroy, rd); x[0] != RMISuccess {
		t.Fatalf("destroy: %#x", x[0])
	}
}

func TestRecDestroyStopsParkedRealm(t *testing.T) {
	h := newHost(t)
	done := make(chan struct{})
	h.r.cfg.Programs = func(uint64) (Program, bool) {
		return func(cpu RealmCPU) {
			defer close(done)
			_ = cpu.Read(0x2000, make([]byte, 1)) // exits; never resumed
			t.Error("the realm ran after its REC was destroyed")
		}, true
	}
	rd := h.newRealm(1)
	h.ramAt(rd, 0x2000)
	rec := h.newREC(rd, 0, 0x8000_0000)
	h.smc(RMIRealmActivate, rd)
	run := h.alloc()
	if x := h.smc(RMIRecEnter, rec, run); x[0] != RMISuccess {
		t.Fatal(x)
	}
	if x := h.smc(RMIRecDestroy, rec); x[0] != RMISuccess {
		t.Fatal(x)
	}
	<-done // the goroutine ended (runtime.Goexit runs deferred calls)
}
