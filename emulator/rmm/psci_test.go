package rmm

import (
	"fmt"
	"testing"
)

// psciExit checks that x is RMI_EXIT_PSCI for fid with gprs[1] = arg1 and
// nothing else (CPU_ON's entry point and context stay hidden).
func psciExit(t *testing.T, x guestExit, fid, arg1 uint64) {
	t.Helper()
	want := [31]uint64{fid, arg1}
	if x.reason != ExitPSCI || x.gprs != want {
		t.Fatalf("%v gprs %#x, want a PSCI exit with gprs %#x", x, x.gprs[:4], want[:4])
	}
}

func TestPSCIVersionFeatures(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		wantRegs(t, "PSCI_VERSION", cpu.SMC(PSCIVersion, 0, 0, 0, 9), PSCIVersion11, 0, 0, 0, 9)
		for _, tc := range []struct {
			fid  uint64
			want uint64
		}{
			{PSCICPUSuspend, PSCISuccess}, {PSCICPUSuspend32, PSCISuccess}, {PSCICPUOff, PSCISuccess},
			{PSCICPUOn, PSCISuccess}, {PSCICPUOn32, PSCISuccess}, {PSCIAffinityInfo, PSCISuccess},
			{PSCIAffinityInfo32, PSCISuccess}, {PSCISystemOff, PSCISuccess}, {PSCISystemReset, PSCISuccess},
			{PSCIFeatures, PSCISuccess}, {SMCCCVersion, PSCISuccess},
			{1<<32 | PSCICPUOn, PSCISuccess}, // TF-RMM compares 32 bits
			{PSCIVersion, PSCINotSupported}, {0xC4000008, PSCINotSupported}, {0x84000005, PSCINotSupported},
			{RSIVersion, PSCINotSupported},
		} {
			wantRegs(t, fmt.Sprintf("PSCI_FEATURES(%#x)", tc.fid), cpu.SMC(PSCIFeatures, tc.fid), tc.want, 0, 0, 0)
		}
		wantRegs(t, "unhandled PSCI function (MIGRATE)", cpu.SMC(0xC4000005), PSCINotSupported)
	})
	w.finish(g, g.recs[0], nil)
}

func TestPSCICPUOnAffinityInfo(t *testing.T) {
	w := newGuestWorld(t)
	const ctx1, ctx2 = 0x1234, 0x5678
	var ranB, ranC bool
	e1 := w.entryPoint(func(cpu RealmCPU) {
		ranB = true
		if cpu.Reg(0) != ctx1 {
			t.Errorf("REC 1 started with x0 = %#x, want the context id %#x", cpu.Reg(0), ctx1)
		}
	})
	e2 := w.entryPoint(func(cpu RealmCPU) {
		ranC = true
		if cpu.Reg(0) != ctx2 {
			t.Errorf("REC 1 restarted with x0 = %#x, want %#x", cpu.Reg(0), ctx2)
		}
		wantRegs(t, "CPU_SUSPEND", cpu.SMC(PSCICPUSuspend, 0, gRAM, 0), PSCISuccess, 0, 0, 0)
	})
	g := w.newGuestRealm(guestOpts{recs: 2}, func(cpu RealmCPU) {
		wantRegs(t, "CPU_ON", cpu.SMC(PSCICPUOn, 1, e1, ctx1, 44), PSCISuccess, 0, 0, 0, 44)
		wantRegs(t, "CPU_ON an on REC", cpu.SMC(PSCICPUOn, 1, e1, ctx1), PSCIAlreadyOn, 0, 0, 0)
		wantRegs(t, "AFFINITY_INFO on", cpu.SMC(PSCIAffinityInfo, 1, 0), PSCIAffinityOn, 0, 0, 0)
		guestYield(t, cpu, 4) // REC 1 runs its program, which ends
		wantRegs(t, "AFFINITY_INFO32 off", cpu.SMC(PSCIAffinityInfo32, 1, 0), PSCIAffinityOff, 0, 0, 0)
		wantRegs(t, "CPU_ON denied", cpu.SMC(PSCICPUOn, 1, e2, ctx2), PSCIDenied, 0, 0, 0)
		wantRegs(t, "AFFINITY_INFO after a denial", cpu.SMC(PSCIAffinityInfo, 1, 0), PSCIAffinityOff)
		// Answered by the RMM, without an exit.
		for _, tc := range []struct {
			name string
			fid  uint64
			args []uint64
			want uint64
		}{
			{"CPU_ON entry outside the PAR", PSCICPUOn, []uint64{1, gPAR, 0}, PSCIInvalidAddress},
			{"CPU_ON entry outside the IPA space", PSCICPUOn32, []uint64{1, gIPA + e1, 0}, PSCIInvalidAddress},
			{"CPU_ON entry before mpidr", PSCICPUOn, []uint64{7, gPAR, 0}, PSCIInvalidAddress},
			{"CPU_ON no such REC", PSCICPUOn, []uint64{3, e1, 0}, PSCIInvalidParams},
			{"CPU_ON invalid MPIDR", PSCICPUOn, []uint64{0x10, e1, 0}, PSCIInvalidParams},
			{"CPU_ON Aff1", PSCICPUOn, []uint64{1 << 8, e1, 0}, PSCIInvalidParams},
			{"CPU_ON self", PSCICPUOn, []uint64{0, e1, 0}, PSCIAlreadyOn},
			{"AFFINITY_INFO self", PSCIAffinityInfo, []uint64{0, 0}, PSCIAffinityOn},
			{"AFFINITY_INFO level", PSCIAffinityInfo, []uint64{1, 1}, PSCIInvalidParams},
			{"AFFINITY_INFO no such REC", PSCIAffinityInfo32, []uint64{5, 0}, PSCIInvalidParams},
		} {
			wantRegs(t, tc.name, cpu.SMC(tc.fid, tc.args...), tc.want, 0, 0, 0)
		}
		wantRegs(t, "CPU_ON32", cpu.SMC(PSCICPUOn32, 1, e2, ctx2), PSCISuccess)
		guestYield(t, cpu, 10) // REC 1 runs again, at e2
		cpu.SMC(PSCISystemOff)
		t.Error("the realm ran after SYSTEM_OFF")
	})
	rec0, rec1 := g.recs[0], g.recs[1]
	complete := func(what string, st uint64, want uint8) {
		t.Helper()
		w.must(what, w.smc(RMIPsciComplete, rec0, rec1, st), want, 0)
	}

	psciExit(t, w.drive(g, rec0, nil), PSCICPUOn, 1)
	if x0, _ := w.enter(g, rec0); x0 != Pack(RMIErrorRec, 0) {
		t.Errorf("REC_ENTER with a PSCI request pending: %#x", x0)
	}
	if x0, _ := w.enter(g, rec1); x0 != Pack(RMIErrorRec, 0) {
		t.Errorf("REC_ENTER of a REC that is off: %#x", x0)
	}
	complete("PSCI_COMPLETE CPU_ON", PSCISuccess, RMISuccess)
	complete("PSCI_COMPLETE again", PSCISuccess, RMIErrorInput)

	psciExit(t, w.drive(g, rec0, nil), PSCICPUOn, 1)
	complete("PSCI_COMPLETE DENIED for an on REC", PSCIDenied, RMIErrorInput)
	complete("PSCI_COMPLETE CPU_ON (already on)", PSCISuccess, RMISuccess)

	psciExit(t, w.drive(g, rec0, nil), PSCIAffinityInfo, 1)
	complete("PSCI_COMPLETE AFFINITY_INFO DENIED", PSCIDenied, RMIErrorInput)
	complete("PSCI_COMPLETE AFFINITY_INFO", PSCISuccess, RMISuccess)

	w.untilYield(g, rec0, 4)
	w.finish(g, rec1, nil)
	if !ranB {
		t.Fatal("REC 1 did not run the program at its CPU_ON entry point")
	}

	psciExit(t, w.drive(g, rec0, nil), PSCIAffinityInfo32, 1)
	complete("PSCI_COMPLETE AFFINITY_INFO32", PSCISuccess, RMISuccess)
	psciExit(t, w.drive(g, rec0, nil), PSCICPUOn, 1)
	complete("PSCI_COMPLETE deny", PSCIDenied, RMISuccess)
	if x0, _ := w.enter(g, rec1); x0 != Pack(RMIErrorRec, 0) {
		t.Errorf("REC_ENTER of a REC whose CPU_ON was denied: %#x", x0)
	}
	psciExit(t, w.drive(g, rec0, nil), PSCIAffinityInfo, 1)
	complete("PSCI_COMPLETE AFFINITY_INFO", PSCISuccess, RMISuccess)
	psciExit(t, w.drive(g, rec0, nil), PSCICPUOn32, 1)
	complete("PSCI_COMPLETE CPU_ON32", PSCISuccess, RMISuccess)

	w.untilYield(g, rec0, 10)
	psciExit(t, w.drive(g, rec1, nil), PSCICPUSuspend, 0)
	w.finish(g, rec1, nil)
	if !ranC {
		t.Fatal("REC 1 did not run the program at its second entry point")
	}

	psciExit(t, w.drive(g, rec0, nil), PSCISystemOff, 0)
	for _, rec := range []uint64{rec0, rec1, g.recs[2]} {
		if x0, _ := w.enter(g, rec); x0 != Pack(RMIErrorRealm, 1) {
			t.Errorf("REC_ENTER after SYSTEM_OFF: %#x", x0)
		}
	}
	for _, rec := range g.recs {
		w.must("REC_DESTROY", w.smc(RMIRecDestroy, rec), RMISuccess, 0)
	}
}

// TestPSCICPUOnResetsRegisters: a REC that PSCI_CPU_ON turns on starts at
// the entry point with x0 = the context ID and x1..x30 zero, whatever its
// RmiRecParams gprs were (Arm DEN0137 1.0-REL0 B4.3.7.3 on_success).
func TestPSCICPUOnResetsRegisters(t *testing.T) {
	w := newGuestWorld(t)
	const ctx = 0xC0DE
	var got [31]uint64
	ran := false
	e := w.entryPoint(func(cpu RealmCPU) {
		ran = true
		for i := range got {
			got[i] = cpu.Reg(i)
		}
	})
	g := w.newGuestRealm(guestOpts{recs: 1, recGPRs: []uint64{11, 22, 33, 44, 55, 66, 77, 88}}, func(cpu RealmCPU) {
		wantRegs(t, "CPU_ON", cpu.SMC(PSCICPUOn, 1, e, ctx), PSCISuccess, 0, 0, 0)
	})
	psciExit(t, w.drive(g, g.recs[0], nil), PSCICPUOn, 1)
	w.must("PSCI_COMPLETE", w.smc(RMIPsciComplete, g.recs[0], g.recs[1], PSCISuccess), RMISuccess, 0)
	w.finish(g, g.recs[0], nil)
	w.finish(g, g.recs[1], nil)
	if !ran {
		t.Fatal("REC 1 did not run the program at its CPU_ON entry point")
	}
	if want := [31]uint64{ctx}; got != want {
		t.Errorf("REC 1 started with x0..x30 = %#x, want %#x", got, want)
	}
}

func TestPSCICompleteConditions(t *testing.T) {
	w := newGuestWorld(t)
	e := w.entryPoint(func(RealmCPU) {})
	g := w.newGuestRealm(guestOpts{recs: 2}, func(cpu RealmCPU) {
		wantRegs(t, "CPU_ON", cpu.SMC(PSCICPUOn, 1, e, 0), PSCISuccess)
	})
	other := w.newGuestRealm(guestOpts{recs: 1}, func(RealmCPU) {})
	rec0, rec1, rec2 := g.recs[0], g.recs[1], g.recs[2]
	psciExit(t, w.drive(g, rec0, nil), PSCICPUOn, 1)
	data := w.backPage(g.rd, gRAM)
	rtt := w.r.realms[g.rd].rttBase
	in := uint8(RMIErrorInput)
	for _, tc := range []struct {
		name                  string
		calling, target, stat uint64
	}{
		{"alias", rec1, rec1, PSCISuccess},
		{"alias (calling)", rec0, rec0, PSCISuccess},
		{"calling_align", rec0 + 8, rec1, PSCISuccess},
		{"calling_bound", 0x1000, rec1, PSCISuccess},
		{"calling_bound (beyond the PA space)", 1 << 52, rec1, PSCISuccess},
		{"calling_state (undelegated)", w.alloc(), rec1, PSCISuccess},
		{"calling_state (delegated)", w.delegated(), rec1, PSCISuccess},
		{"calling_state (RD)", g.rd, rec1, PSCISuccess},
		{"calling_state (RTT)", rtt, rec1, PSCISuccess},
		{"calling_state (DATA)", data, rec1, PSCISuccess},
		{"target_align", rec0, rec1 + 8, PSCISuccess},
		{"target_bound", rec0, 0x1000, PSCISuccess},
		{"target_state (undelegated)", rec0, w.alloc(), PSCISuccess},
		{"target_state (delegated)", rec0, w.delegated(), PSCISuccess},
		{"target_state (RD)", rec0, g.rd, PSCISuccess},
		{"target_state (RTT)", rec0, rtt, PSCISuccess},
		{"target_state (DATA)", rec0, data, PSCISuccess},
		{"pending", other.recs[0], other.recs[1], PSCISuccess},
		{"pending (target's realm)", rec1, rec0, PSCISuccess},
		{"owner", rec0, other.recs[1], PSCISuccess},
		{"target (mpidr)", rec0, rec2, PSCISuccess},
		{"status (NOT_SUPPORTED)", rec0, rec1, PSCINotSupported},
		{"status (INVALID_PARAMS)", rec0, rec1, PSCIInvalidParams},
		{"status (ALREADY_ON)", rec0, rec1, PSCIAlreadyOn},
		{"status (1)", rec0, rec1, 1},
	} {
		w.must(tc.name, w.smc(RMIPsciComplete, tc.calling, tc.target, tc.stat), in, 0)
		w.r.mu.Lock()
		c, t1 := w.r.recs[rec0], w.r.recs[rec1]
		changed := !c.psciPending || c.psci.result != 0 || t1.runnable
		w.r.mu.Unlock()
		if changed {
			t.Fatalf("%s: a failing PSCI_COMPLETE changed the RECs", tc.name)
		}
	}
	w.must("PSCI_COMPLETE", w.smc(RMIPsciComplete, rec0, rec1, PSCISuccess), RMISuccess, 0)
	w.finish(g, rec0, nil)
	w.finish(g, rec1, nil)
}

func TestPSCINotifications(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		wantRegs(t, "CPU_SUSPEND", cpu.SMC(PSCICPUSuspend, 0x10000, gRAM, 0x33, 44), PSCISuccess, 0, 0, 0, 44)
		wantRegs(t, "CPU_SUSPEND32", cpu.SMC(PSCICPUSuspend32), PSCISuccess)
		cpu.SMC(PSCICPUOff)
		t.Error("the REC ran after CPU_OFF")
	})
	rec := g.recs[0]
	psciExit(t, w.drive(g, rec, nil), PSCICPUSuspend, 0)
	psciExit(t, w.drive(g, rec, nil), PSCICPUSuspend32, 0)
	psciExit(t, w.drive(g, rec, nil), PSCICPUOff, 0)
	if x0, _ := w.enter(g, rec); x0 != Pack(RMIErrorRec, 0) {
		t.Errorf("REC_ENTER after CPU_OFF: %#x", x0)
	}
	w.must("REC_DESTROY", w.smc(RMIRecDestroy, rec), RMISuccess, 0)

	r := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		cpu.SMC(PSCISystemReset)
		t.Error("the realm ran after SYSTEM_RESET")
	})
	psciExit(t, w.drive(r, r.recs[0], nil), PSCISystemReset, 0)
	if x0, _ := w.enter(r, r.recs[0]); x0 != Pack(RMIErrorRealm, 1) {
		t.Errorf("REC_ENTER after SYSTEM_RESET: %#x", x0)
	}
	w.must("REC_DESTROY", w.smc(RMIRecDestroy, r.recs[0]), RMISuccess, 0)
}
