package rmm

import "testing"

// Helpers that bring realms and RECs into the states the conformance
// tables need through the ABI only (RMI from the host, RSI and PSCI from
// realm software), never by writing the RMM's state.

// program registers prog for the entry point pc on h's RMM, keeping the
// programs registered before. Call it before the REC is first entered.
func (h *host) program(pc uint64, prog Program) {
	prev := h.r.cfg.Programs
	h.r.cfg.Programs = func(at uint64) (Program, bool) {
		if at == pc {
			return prog, true
		}
		if prev != nil {
			return prev(at)
		}
		return nil, false
	}
}

// systemOff switches the NEW realm rd off as its software does: a REC
// whose software calls PSCI_SYSTEM_OFF is created, the realm activated and
// the REC entered. The realm's next REC_ENTER fails with ERROR_REALM[1].
func (h *host) systemOff(rd uint64) {
	h.t.Helper()
	entry := 0x7000_0000 + rd&0xFFF_F000 // an entry point of this realm's own
	h.program(entry, func(cpu RealmCPU) { cpu.SMC(PSCISystemOff) })
	rec := h.newREC(rd, 0, entry)
	if x := h.smc(RMIRealmActivate, rd); x[0] != RMISuccess {
		h.t.Fatalf("REALM_ACTIVATE: %#x", x[0])
	}
	run := h.alloc()
	if x := h.smc(RMIRecEnter, rec, run); x[0] != RMISuccess {
		h.t.Fatalf("REC_ENTER: %#x", x[0])
	}
	if reason, _, _, gprs := h.exit(run); reason != ExitPSCI || gprs[0] != PSCISystemOff {
		h.t.Fatalf("exit %d %#x, want PSCI SYSTEM_OFF", reason, gprs[0])
	}
	if x := h.smc(RMIRecEnter, rec, run); x[0] != Pack(RMIErrorRealm, 1) {
		h.t.Fatalf("REC_ENTER after SYSTEM_OFF: %#x, want ERROR_REALM[1]", x[0])
	}
}

// ramAt makes the starting-level (level 1, 1 GB) RTT entry covering ipa
// RIPAS RAM with RMI_RTT_INIT_RIPAS over the whole entry, so that realm
// accesses there exit to the host as data aborts instead of taking an
// SEA. The realm must be NEW.
func (h *host) ramAt(rd, ipa uint64) {
	h.t.Helper()
	base := ipa &^ (szL1 - 1)
	if x := h.smc(RMIRttInitRipas, rd, base, base+szL1); x[0] != RMISuccess || x[1] != base+szL1 {
		h.t.Fatalf("RTT_INIT_RIPAS [%#x, %#x): %#x", base, base+szL1, x)
	}
}

// recDriver runs realm software on one REC step by step: each step is a
// function the software runs on the REC's next entry, and that ends with
// an exit (an RSI or PSCI call the host must answer).
type recDriver struct {
	h        *host
	t        testing.TB
	rec, run uint64
	steps    chan func(RealmCPU)
}

// driveREC gives the REC rec (created with PC pc, not yet entered) to a
// recDriver; its realm must be ACTIVE before the first step.
func (h *host) driveREC(rec, pc uint64) *recDriver {
	d := &recDriver{h: h, t: h.t, rec: rec, run: h.alloc(), steps: make(chan func(RealmCPU), 1)}
	h.program(pc, func(cpu RealmCPU) {
		for step := range d.steps {
			step(cpu)
		}
	})
	return d
}

// step enters the REC to run f and returns the exit reason.
func (d *recDriver) step(f func(RealmCPU)) uint64 {
	d.t.Helper()
	d.steps <- f
	if x := d.h.smc(RMIRecEnter, d.rec, d.run); x[0] != RMISuccess {
		d.t.Fatalf("REC_ENTER: %#x", x[0])
	}
	reason, _, _, _ := d.h.exit(d.run)
	return reason
}

// ipaStateSet makes the REC ask for a RIPAS change with
// RSI_IPA_STATE_SET(base, top, ripas, flags): the REC exits with
// RIPAS_CHANGE and the change is pending until its next entry.
func (d *recDriver) ipaStateSet(base, top uint64, ripas uint8, destroyed bool) {
	d.t.Helper()
	flags := uint64(RIPASNoChangeDestroyed)
	if destroyed {
		flags = RIPASChangeDestroyed
	}
	if reason := d.step(func(cpu RealmCPU) { cpu.SMC(RSIIPAStateSet, base, top, uint64(ripas), flags) }); reason != ExitRIPASChange {
		d.t.Fatalf("RSI_IPA_STATE_SET(%#x, %#x): exit %d, want RIPAS_CHANGE", base, top, reason)
	}
}

// idle makes the REC exit with a PSCI CPU_SUSPEND notification, which
// leaves no request pending.
func (d *recDriver) idle() {
	d.t.Helper()
	if reason := d.step(func(cpu RealmCPU) { cpu.SMC(PSCICPUSuspend, 0, 0, 0) }); reason != ExitPSCI {
		d.t.Fatalf("CPU_SUSPEND: exit %d", reason)
	}
}

// whileRunning runs f on the REC's goroutine while the REC is RUNNING (as
// another CPU of the host would act meanwhile), then lets the REC exit.
func (d *recDriver) whileRunning(f func()) {
	d.t.Helper()
	d.step(func(cpu RealmCPU) {
		f()
		cpu.SMC(PSCICPUSuspend, 0, 0, 0)
	})
}
