package rmm

import (
	"encoding/binary"
	"testing"

	"github.com/ccakit/cca/realm"
)

func TestRttInitRipas(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	active := w.newRealm(2)
	w.wantStatus("activate", w.smc(RMIRealmActivate, active), RMISuccess, 0)
	off := w.newRealm(3)
	w.systemOff(off)
	args := func(rd, base, top uint64) func() []uint64 { return fixedArgs(rd, base, top) }
	tests := append([]rmiStimulus{
		{msg: "size_valid", args: args(rd, 2*szL1, 2*szL1), status: RMIErrorInput},
		{msg: "size_valid", args: args(rd, 2*szL1, szL1), status: RMIErrorInput},
		{msg: "size_valid_compare_rd_state", args: args(w.data5, 2*szL1, szL1), status: RMIErrorInput},
	}, w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, 2 * szL1, 3 * szL1} })...)
	tests = append(tests, []rmiStimulus{
		{msg: "base_gran_align", args: args(rd, 2*szL1+0x800, 3*szL1), status: RMIErrorInput},
		{msg: "top_gran_align", args: args(rd, 2*szL1, 3*szL1+0x800), status: RMIErrorInput},
		{msg: "top_bound", args: args(rd, 2*szL1, par40+szL3), status: RMIErrorInput},
		{msg: "top_bound", args: args(rd, par40, par40+szL1), status: RMIErrorInput},
		{msg: "realm_state", args: args(active, 0, szL1), status: RMIErrorRealm},
		{msg: "realm_state", args: args(off, 0, szL1), status: RMIErrorRealm},
		{msg: "base_align", args: args(rd, 2*szL1+szL2, 3*szL1), status: RMIErrorRtt, index: 1},
		{msg: "base_align", args: args(rd, 4*szL2+szL3, 5*szL2), status: RMIErrorRtt, index: 2},
		{msg: "rtte_state", args: args(rd, w.ipaData5, w.ipaData5+szL3), status: RMIErrorRtt, index: 3},
		{msg: "no_progress", args: args(rd, 2*szL1, 2*szL1+szL2), status: RMIErrorRtt, index: 1},
		{msg: "no_progress", args: args(rd, 4*szL2, 5*szL2-szL3), status: RMIErrorRtt, index: 2},
		{msg: "top_gran_align_compare_no_progress", args: args(rd, 2*szL1, 2*szL1+0x800), status: RMIErrorInput},
		{msg: "realm_state_compare_base_align", args: args(active, 2*szL1+szL2, 3*szL1), status: RMIErrorRealm},
		// From 0 the walk reaches l3a; entries 0-4 change, DATA at 5 stops it.
		{msg: "success", args: args(rd, 0, 3*szL1), status: RMISuccess, out: []uint64{w.ipaData5}},
		{msg: "success", args: args(rd, 6*szL3, 3*szL1), status: RMISuccess, out: []uint64{w.ipaData9}},
		// The RTT's end stops it too.
		{msg: "success", args: args(rd, 10*szL3, 3*szL1), status: RMISuccess, out: []uint64{szL2}},
	}...)
	w.runStimuli(t, RMIRttInitRipas, tests)

	for _, ipa := range []uint64{0, 4 * szL3, 6 * szL3, szL2 - szL3} {
		if e := w.rttRead(rd, ipa, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASRAM}) {
			t.Errorf("%#x after INIT_RIPAS: %+v", ipa, e)
		}
	}
	if e := w.rttRead(rd, w.ipaData5, 3); e != (rtteOut{3, RTTEStateAssigned, w.data5, RIPASRAM}) {
		t.Errorf("DATA entry: %+v", e)
	}
}

// TestRttInitRipasMeasurement: each RTT entry INIT_RIPAS processes extends
// the RIM with one RIPAS descriptor of the entry's range, so the same IPA
// range measures differently under different RTT geometries (Arm DEN0137 1.0-REL0
// A7.1, RMI_RTT_INIT_RIPAS). The expected RIMs are computed here with the realm package's
// functions, independently of the RMM.
func TestRttInitRipasMeasurement(t *testing.T) {
	h := newHost(t)
	t.Cleanup(h.checkRMMInvariants)
	newRealm := func(vmid uint64, hash realm.HashAlgorithm) uint64 {
		p := h.realmParams(h.contiguousDelegated(2), vmid)
		p[RealmParamsHashAlgo] = uint64(hash)
		rd := h.delegated()
		h.wantStatus("REALM_CREATE", h.smc(RMIRealmCreate, rd, h.params(p)), RMISuccess, 0)
		return rd
	}
	initRipas := func(rd, base, top, wantTop uint64) {
		t.Helper()
		x := h.wantStatus("INIT_RIPAS", h.smc(RMIRttInitRipas, rd, base, top), RMISuccess, 0)
		if x[1] != wantTop {
			t.Fatalf("INIT_RIPAS(%#x, %#x): out_top %#x, want %#x", base, top, x[1], wantTop)
		}
	}
	for _, hash := range []realm.HashAlgorithm{realm.HashSHA256, realm.HashSHA512} {
		// Realm A: an L3 RTT at [0, 2 MB).
		a := newRealm(1+2*uint64(hash), hash)
		want := h.r.realms[a].rim
		h.rttsDownTo(a, 0, 3)
		initRipas(a, 0, 2*szL2, szL2) // 512 L3 entries
		for i := range uint64(entriesPerRTT) {
			want.ExtendRIPAS(hash, i*szL3, (i+1)*szL3)
		}
		viaL3 := h.r.realms[a].rim
		initRipas(a, szL2, 2*szL2, 2*szL2) // one L2 entry
		want.ExtendRIPAS(hash, szL2, 2*szL2)
		initRipas(a, szL1, 3*szL1, 3*szL1) // two L1 entries
		want.ExtendRIPAS(hash, szL1, 2*szL1)
		want.ExtendRIPAS(hash, 2*szL1, 3*szL1)
		initRipas(a, 0, 2*szL3, 2*szL3) // RAM stays RAM, and is measured again
		want.ExtendRIPAS(hash, 0, szL3)
		want.ExtendRIPAS(hash, szL3, 2*szL3)
		initRipas(a, szL1-szL2, 2*szL1, szL1) // the last entry of the L2 RTT
		want.ExtendRIPAS(hash, szL1-szL2, szL1)
		if got := h.r.realms[a].rim; got != want {
			t.Errorf("%v: RIM %x, want %x", hash, got.Value(hash), want.Value(hash))
		}

		// Realm B: the same range [0, 2 MB) under an L2 entry: one
		// descriptor, and another RIM.
		b := newRealm(2+2*uint64(hash), hash)
		wantB := h.r.realms[b].rim
		h.rttsDownTo(b, 0, 2)
		initRipas(b, 0, szL2, szL2)
		wantB.ExtendRIPAS(hash, 0, szL2)
		if got := h.r.realms[b].rim; got != wantB {
			t.Errorf("%v: L2 RIM %x, want %x", hash, got.Value(hash), wantB.Value(hash))
		}
		if viaL3 == wantB {
			t.Errorf("%v: the RIM does not depend on the RTT geometry", hash)
		}
		// And A's RIM after its first call is what a fresh realm with the
		// same (measured) parameters gets from 512 descriptors.
		if got := realmRIMAfter512(h.r.realms[b], hash); got != viaL3 {
			t.Errorf("%v: RIM through the L3 RTT %x, want %x", hash, viaL3.Value(hash), got.Value(hash))
		}

		// Once ACTIVE, the RIM is frozen.
		h.wantStatus("activate", h.smc(RMIRealmActivate, b), RMISuccess, 0)
		h.wantStatus("INIT_RIPAS on ACTIVE", h.smc(RMIRttInitRipas, b, szL2, 2*szL2), RMIErrorRealm, 0)
		if h.r.realms[b].rim != wantB {
			t.Errorf("%v: RIM changed after activation", hash)
		}
	}
}

// realmRIMAfter512 is the RIM a fresh realm with rl's parameters would have
// after INIT_RIPAS of [0, 2 MB) through an L3 RTT.
func realmRIMAfter512(rl *realmDesc, hash realm.HashAlgorithm) realm.Measurement {
	m := realm.InitialRIM(realm.RealmParams{Flags: rl.flags, S2SZ: uint32(rl.s2sz), SVEVL: uint32(rl.sveVL),
		NumBPS: uint32(rl.numBPS), NumWPS: uint32(rl.numWPS), PMUNumCtrs: uint32(rl.pmuCtrs), HashAlgo: hash})
	for i := range uint64(entriesPerRTT) {
		m.ExtendRIPAS(hash, i*szL3, (i+1)*szL3)
	}
	return m
}

func TestRttSetRipas(t *testing.T) {
	w := newRTTWorld(t)
	rd, rec := w.rd, w.rec
	other := w.newRealm(2)
	otherRec := w.newREC(other, 0, 0x1000)
	recd := w.r.recs[rec]
	// The realm runs: its REC asks for each RIPAS change with
	// RSI_IPA_STATE_SET, as realm software does.
	d := w.driveREC(rec, 0x1000)
	w.wantStatus("activate", w.smc(RMIRealmActivate, rd), RMISuccess, 0)
	rim := w.r.realms[rd].rim
	pending := d.ipaStateSet
	with := func(base, top uint64, args ...uint64) func() []uint64 {
		return func() []uint64 { pending(base, top, RIPASRAM, false); return args }
	}
	const b0, t0 = 0, szL2
	tests := []rmiStimulus{
		{msg: "size_valid", args: with(b0, t0, rd, rec, b0, b0), status: RMIErrorInput},
		{msg: "size_valid_compare_rec_owner", args: with(b0, t0, rd, otherRec, t0, b0), status: RMIErrorInput},
	}
	tests = append(tests, w.rdStimuli(rd, func(rd uint64) []uint64 { pending(b0, t0, RIPASRAM, false); return []uint64{rd, rec, b0, t0} })...)
	tests = append(tests, []rmiStimulus{
		{msg: "rec_align", args: with(b0, t0, rd, rec+8, b0, t0), status: RMIErrorInput},
		{msg: "rec_bound", args: with(b0, t0, rd, outsidePA, b0, t0), status: RMIErrorInput},
		{msg: "rec_gran_state", args: func() []uint64 { return []uint64{rd, w.alloc(), b0, t0} }, status: RMIErrorInput},
		{msg: "rec_gran_state", args: func() []uint64 { return []uint64{rd, w.delegated(), b0, t0} }, status: RMIErrorInput},
		{msg: "rec_gran_state", args: with(b0, t0, rd, rd, b0, t0), status: RMIErrorInput},
		{msg: "rec_gran_state", args: with(b0, t0, rd, w.l3a, b0, t0), status: RMIErrorInput},
		{msg: "rec_gran_state", args: with(b0, t0, rd, w.data5, b0, t0), status: RMIErrorInput},
		{msg: "rec_owner", args: with(b0, t0, rd, otherRec, b0, t0), status: RMIErrorRec},
		{msg: "rec_owner_compare_base_bound", args: with(b0, t0, rd, otherRec, szL3, t0), status: RMIErrorRec},
		{msg: "base_bound", args: with(b0, t0, rd, rec, szL3, t0), status: RMIErrorInput},
		{msg: "base_bound", args: func() []uint64 { // no change pending
			d.idle()
			return []uint64{rd, rec, b0, t0}
		}, status: RMIErrorInput},
		{msg: "top_bound", args: with(b0, t0, rd, rec, b0, t0+szL3), status: RMIErrorInput},
		{msg: "base_align", args: with(2*szL1+szL2, 3*szL1, rd, rec, 2*szL1+szL2, 3*szL1), status: RMIErrorRtt, index: 1},
		{msg: "top_gran_align", args: with(b0, t0, rd, rec, b0, b0+0x800), status: RMIErrorInput},
		{msg: "top_gran_align", args: with(b0, t0, rd, rec, b0, szL3+1), status: RMIErrorInput},
		{msg: "no_progress", args: with(2*szL1, 3*szL1, rd, rec, 2*szL1, 2*szL1+szL3), status: RMIErrorRtt, index: 1},
		{msg: "top_gran_align_compare_no_progress", args: with(2*szL1, 3*szL1, rd, rec, 2*szL1, 2*szL1+szL3+0x10), status: RMIErrorInput},
		{msg: "base_bound_compare_base_align", args: with(2*szL1+szL2, 3*szL1, rd, rec, 2*szL1+2*szL2, 3*szL1), status: RMIErrorInput},
		{msg: "success", args: with(b0, t0, rd, rec, b0, t0), status: RMISuccess, out: []uint64{t0}},
	}...)
	w.runStimuli(t, RMIRttSetRipas, tests)
	if recd.ripasAddr != t0 {
		t.Errorf("progress address %#x, want %#x", recd.ripasAddr, t0)
	}
	// rec_state: the host calls SET_RIPAS while the REC runs (on another
	// CPU), here from the realm's goroutine; a failing call changes nothing.
	pending(b0, t0, RIPASRAM, false)
	d.whileRunning(func() {
		before := w.rmmSnapshot()
		if x := w.smc(RMIRttSetRipas, rd, rec, b0, t0); x[0] != Pack(RMIErrorRec, 0) {
			t.Errorf("rec_state: X0 %#x, want RMI_ERROR_REC", x[0])
		}
		if diff := before.diff(w.rmmSnapshot()); diff != "" {
			t.Errorf("rec_state: a failing call changed the state: %s", diff)
		}
	})

	set := func(base, top uint64, ripas uint8, destroyed bool, wantTop uint64) {
		t.Helper()
		pending(base, top, ripas, destroyed)
		x := w.wantStatus("SET_RIPAS", w.smc(RMIRttSetRipas, rd, rec, base, top), RMISuccess, 0)
		if x[1] != wantTop || recd.ripasAddr != wantTop {
			t.Fatalf("SET_RIPAS(%#x, %#x): out_top %#x, progress %#x, want %#x", base, top, x[1], recd.ripasAddr, wantTop)
		}
	}
	translates := func(ipa uint64) bool {
		_, _, f := w.r.translate(w.r.realms[rd], ipa)
		return f == nil
	}
	if e := w.rttRead(rd, szL3, 3); e.ripas != RIPASRAM || e.state != RTTEStateUnassigned {
		t.Errorf("UNASSIGNED after SET_RIPAS RAM: %+v", e)
	}
	// ASSIGNED RAM → EMPTY: the PA stays, the mapping goes.
	set(0, szL2, RIPASEmpty, false, szL2)
	if e := w.rttRead(rd, w.ipaData5, 3); e != (rtteOut{3, RTTEStateAssigned, w.data5, RIPASEmpty}) || translates(w.ipaData5) {
		t.Errorf("ASSIGNED EMPTY: %+v", e)
	}
	w.checkRMMInvariants()
	set(0, szL2, RIPASRAM, false, szL2)
	if e := w.rttRead(rd, w.ipaData5, 3); e != (rtteOut{3, RTTEStateAssigned, w.data5, RIPASRAM}) || !translates(w.ipaData5) {
		t.Errorf("ASSIGNED RAM again: %+v", e)
	}
	// DESTROYED entries stop the change unless RSI_CHANGE_DESTROYED.
	w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, rd, w.ipaData9), RMISuccess, 0)
	set(0, szL2, RIPASEmpty, false, w.ipaData9)
	pending(w.ipaData9, szL2, RIPASEmpty, false)
	w.wantStatus("SET_RIPAS at DESTROYED", w.smc(RMIRttSetRipas, rd, rec, w.ipaData9, szL2), RMIErrorRtt, 3)
	set(w.ipaData9, szL2, RIPASRAM, true, szL2)
	if e := w.rttRead(rd, w.ipaData9, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASRAM}) {
		t.Errorf("DESTROYED changed: %+v", e)
	}
	// Whole L1 entries; unprotected entries have no RIPAS.
	set(szL1, 3*szL1, RIPASRAM, false, 3*szL1)
	if e := w.rttRead(rd, 2*szL1, 3); e != (rtteOut{1, RTTEStateUnassigned, 0, RIPASRAM}) {
		t.Errorf("L1 entry: %+v", e)
	}
	if w.r.realms[rd].rim != rim {
		t.Error("SET_RIPAS changed the RIM")
	}
}

// TestRttSetRipasAnswersRealm runs the whole RIPAS change: the realm asks
// with RSI_IPA_STATE_SET, the REC exits with RIPAS_CHANGE, the host
// answers with RMI_RTT_SET_RIPAS in two steps, and the realm sees the
// progress when it is entered again.
func TestRttSetRipasAnswersRealm(t *testing.T) {
	h := newHost(t)
	const entry, base, top = 0x8000_0000, 0x10000, 0x14000
	result := make(chan [9]uint64, 1)
	h.r.cfg.Programs = func(pc uint64) (Program, bool) {
		return func(cpu RealmCPU) { result <- cpu.SMC(RSIIPAStateSet, base, top, RIPASRAM, 0) }, pc == entry
	}
	rd := h.newRealm(1)
	h.rttsDownTo(rd, base, 3)
	rec := h.newREC(rd, 0, entry)
	h.wantStatus("activate", h.smc(RMIRealmActivate, rd), RMISuccess, 0)
	run := h.alloc()
	h.wantStatus("enter", h.smc(RMIRecEnter, rec, run), RMISuccess, 0)
	exit := make([]byte, GranuleSize)
	if err := h.read(run, exit); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if r, b, tp := le.Uint64(exit[RunExitReason:]), le.Uint64(exit[RunExitRIPASBase:]), le.Uint64(exit[RunExitRIPASTop:]); r != ExitRIPASChange || b != base || tp != top {
		t.Fatalf("exit %d [%#x, %#x)", r, b, tp)
	}
	h.wantStatus("SET_RIPAS beyond top", h.smc(RMIRttSetRipas, rd, rec, base, top+szL3), RMIErrorInput, 0)
	h.wantStatus("SET_RIPAS part", h.smc(RMIRttSetRipas, rd, rec, base, base+szL3), RMISuccess, 0)
	h.wantStatus("SET_RIPAS stale base", h.smc(RMIRttSetRipas, rd, rec, base, top), RMIErrorInput, 0)
	h.wantStatus("SET_RIPAS rest", h.smc(RMIRttSetRipas, rd, rec, base+szL3, top), RMISuccess, 0)
	h.wantStatus("enter", h.smc(RMIRecEnter, rec, run), RMISuccess, 0)
	if x := <-result; x[0] != RSISuccess || x[1] != top || x[2] != RSIAccept {
		t.Errorf("RSI_IPA_STATE_SET returned %#x", x[:3])
	}
	if e := h.rttRead(rd, top-szL3, 3); e.ripas != RIPASRAM {
		t.Errorf("entry after the change: %+v", e)
	}
	h.wantStatus("SET_RIPAS after completion", h.smc(RMIRttSetRipas, rd, rec, top, top+szL3), RMIErrorInput, 0)
}
