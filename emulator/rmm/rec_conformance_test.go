package rmm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/ccakit/cca/realm"
)

// RMI_REC_CREATE, RMI_REC_DESTROY, RMI_REC_AUX_COUNT and RMI_REC_ENTER
// conformance tables (granule_conformance_test.go explains the method).

// recCall is an RMI_REC_CREATE call being built: rd, rec and the
// RmiRecParams fields.
type recCall struct {
	rd, rec uint64
	f       map[uint64]uint64
}

func auxSlot(i int) uint64 { return RecParamsAux + 8*uint64(i) }

// aux returns the i-th auxiliary granule of the call.
func (c *recCall) aux(i int) uint64 { return c.f[auxSlot(i)] }

// recCreate builds REC_CREATE arguments for a runnable REC of rd with
// mpidr: a spare delegated REC granule, 16 spare delegated auxiliary
// granules, pc 0x1000 and gprs x0..x7 = 1..8; mod, if not nil, changes
// the call before the params granule is written.
func (w *confWorld) recCreate(rd, mpidr uint64, mod func(*recCall)) func() []uint64 {
	return func() []uint64 {
		c := &recCall{rd: rd, f: map[uint64]uint64{RecParamsFlags: RecFlagRunnable, RecParamsMPIDR: mpidr,
			RecParamsPC: 0x1000, RecParamsNumAux: MaxRecAuxGranules}}
		for i := range 8 {
			c.f[RecParamsGPRs+8*uint64(i)] = uint64(i + 1)
		}
		for i := range MaxRecAuxGranules {
			c.f[auxSlot(i)] = w.spare(fmt.Sprint("aux", i))
		}
		c.rec = w.spare("rec")
		if mod != nil {
			mod(c)
		}
		return []uint64{c.rd, c.rec, w.params(c.f)}
	}
}

// confMPIDR is the RmiRecMpidr of REC index i (RMM 1.0 A2.3.3): Aff0 holds
// bits [3:0] of the index, Aff1 [11:4], Aff2 [19:12], Aff3 [27:20].
func confMPIDR(i uint64) uint64 {
	return i&0xF | (i>>4&0xFF)<<8 | (i>>12&0xFF)<<16 | (i>>20&0xFF)<<24
}

// confRIMExtendREC is the RIM after REC_CREATE of a runnable REC (RMM 1.0
// B4.3.12.4): the hash of an RmmMeasurementDescriptorRec (desc_type 1 at
// 0, len 0x100 at 8, the RIM at 0x10, at 0x50 the hash of a zero-filled
// RmiRecParams holding only flags, pc and gprs).
func confRIMExtendREC(alg realm.HashAlgorithm, rim realm.Measurement, flags, pc uint64, gprs []uint64) realm.Measurement {
	le := binary.LittleEndian
	params := make([]byte, GranuleSize)
	le.PutUint64(params[RecParamsFlags:], flags)
	le.PutUint64(params[RecParamsPC:], pc)
	for i, g := range gprs {
		le.PutUint64(params[RecParamsGPRs+8*i:], g)
	}
	content := confDigest(alg, params)
	desc := make([]byte, 0x100)
	desc[0] = 1
	le.PutUint64(desc[8:], 0x100)
	copy(desc[0x10:0x50], rim[:])
	copy(desc[0x50:0x90], content[:])
	return confDigest(alg, desc)
}

func TestRecCreateConformance(t *testing.T) {
	w := newConfWorld(t) // w.rd is NEW with REC 0: the next index is 1
	active := w.newRealm(2)
	w.wantStatus("activate", w.smc(RMIRealmActivate, active), RMISuccess, 0)
	off, _ := w.systemOffRealm() // RECs 0 and 1
	next := func(mod func(*recCall)) func() []uint64 { return w.recCreate(w.rd, 1, mod) }
	withParams := func(ptr uint64) []uint64 { return []uint64{w.rd, w.delegated(), ptr} }
	withREC := func(rec uint64) []uint64 { return next(func(c *recCall) { c.rec = rec })() }
	withRD := func(rd uint64) []uint64 { return w.recCreate(rd, 0, nil)() }
	setAux := func(i int, pa func(c *recCall) uint64) func() []uint64 {
		return next(func(c *recCall) { c.f[auxSlot(i)] = pa(c) })
	}
	fixedAux := func(i int, pa uint64) func() []uint64 {
		return setAux(i, func(*recCall) uint64 { return pa })
	}
	field := func(off, v uint64) func() []uint64 { return next(func(c *recCall) { c.f[off] = v }) }

	tests := w.addrRows("params", func() uint64 { return next(nil)()[2] }, withParams)
	tests = append(tests, w.nsPASRows("params", withParams)...)
	tests = append(tests, w.addrRows("rec", w.delegated, withREC, kUndelegated, kSecure, kRD, kREC, kRECAux, kRTT, kData)...)
	tests = append(tests, w.addrRows("rd", func() uint64 { return w.rd }, withRD, kUndelegated, kSecure, kDelegated, kREC, kRECAux, kRTT, kData)...)
	tests = append(tests, []rmiStimulus{
		{msg: "realm_state (ACTIVE)", args: w.recCreate(active, 0, nil), status: RMIErrorRealm},
		{msg: "realm_state (SYSTEM_OFF)", args: w.recCreate(off.rd, 2, nil), status: RMIErrorRealm},
		{msg: "mpidr_index (index 0, taken)", args: field(RecParamsMPIDR, 0), status: RMIErrorInput},
		{msg: "mpidr_index (index 2, skips 1)", args: field(RecParamsMPIDR, 2), status: RMIErrorInput},
		{msg: "mpidr_index (index 16)", args: field(RecParamsMPIDR, confMPIDR(16)), status: RMIErrorInput},
		// mpidr values no index has: Aff0[7:4] and bits [63:32] are not
		// part of an RmiRecMpidr (TF-RMM rec_mpidr_is_valid).
		{msg: "mpidr_index (Aff0[4])", args: field(RecParamsMPIDR, 1|0x10), status: RMIErrorInput},
		{msg: "mpidr_index (Aff0[7:4])", args: field(RecParamsMPIDR, 1|0xF0), status: RMIErrorInput},
		{msg: "mpidr_index (bit 32)", args: field(RecParamsMPIDR, 1|1<<32), status: RMIErrorInput},
		{msg: "mpidr_index (bit 63)", args: field(RecParamsMPIDR, 1|1<<63), status: RMIErrorInput},
		{msg: "num_aux (0)", args: field(RecParamsNumAux, 0), status: RMIErrorInput},
		{msg: "num_aux (15)", args: field(RecParamsNumAux, 15), status: RMIErrorInput},
		{msg: "num_aux (17)", args: field(RecParamsNumAux, 17), status: RMIErrorInput},
		{msg: "num_aux (2^32)", args: field(RecParamsNumAux, 1<<32), status: RMIErrorInput},
		{msg: "aux_align", args: setAux(5, func(c *recCall) uint64 { return c.aux(5) + 8 }), status: RMIErrorInput},
		{msg: "aux_alias (two aux)", args: setAux(3, func(c *recCall) uint64 { return c.aux(0) }), status: RMIErrorInput},
		{msg: "aux_alias (first and last aux)", args: setAux(15, func(c *recCall) uint64 { return c.aux(0) }), status: RMIErrorInput},
		{msg: "aux_alias (aux is the REC)", args: setAux(15, func(c *recCall) uint64 { return c.rec }), status: RMIErrorInput},
		{msg: "aux_state (UNDELEGATED)", args: setAux(7, func(*recCall) uint64 { return w.alloc() }), status: RMIErrorInput},
		{msg: "aux_state (UNDELEGATED, GPT SECURE)", args: fixedAux(7, confSecure), status: RMIErrorInput},
		{msg: "aux_state (RD of the realm)", args: fixedAux(0, w.rd), status: RMIErrorInput},
		{msg: "aux_state (REC)", args: fixedAux(7, w.rec), status: RMIErrorInput},
		{msg: "aux_state (REC_AUX)", args: fixedAux(7, w.aux), status: RMIErrorInput},
		{msg: "aux_state (RTT)", args: fixedAux(7, w.rtt), status: RMIErrorInput},
		{msg: "aux_state (DATA)", args: fixedAux(15, w.data), status: RMIErrorInput},
		{msg: "aux_state (not delegable)", args: fixedAux(7, outsidePA), status: RMIErrorInput},
		{msg: "aux_state (RMM memory)", args: fixedAux(7, tRMMBase), status: RMIErrorInput},
		// RMM 1.0 B4.3.12.2.1 orders only [rd_bound, rd_state] before
		// [realm_state, num_recs], which no call can provoke together (a
		// granule that is not an RD has no realm). The realm_state pairs
		// below pin TF-RMM's order (realm state before the params checks
		// that follow it in smc_rec_create); the specification leaves them
		// unordered.
		{msg: "realm_state_compare_mpidr_index", args: w.recCreate(active, 5, nil), status: RMIErrorRealm},
		{msg: "realm_state_compare_num_aux", args: w.recCreate(active, 0, func(c *recCall) { c.f[RecParamsNumAux] = 15 }), status: RMIErrorRealm},
	}...)
	var made recCall
	rim := w.r.realms[w.rd].rim
	tests = append(tests, rmiStimulus{msg: "success", args: next(func(c *recCall) { made = *c })})
	w.runStimuli(t, RMIRecCreate, tests)

	// Positive observability: the REC and its auxiliary granules are in
	// use, the realm is live, the next index is 2, and the RIM was
	// extended with the REC's flags, pc and gprs.
	inUse := []uint64{made.rec}
	for i := range MaxRecAuxGranules {
		inUse = append(inUse, made.aux(i))
	}
	for _, g := range inUse {
		w.wantStatus(fmt.Sprintf("UNDELEGATE %#x of the new REC", g), w.smc(RMIGranuleUndelegate, g), RMIErrorInput, 0)
	}
	w.wantStatus("REALM_DESTROY", w.smc(RMIRealmDestroy, w.rd), RMIErrorRealm, 0)
	gprs := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if got, want := w.r.realms[w.rd].rim, confRIMExtendREC(realm.HashSHA256, rim, RecFlagRunnable, 0x1000, gprs); got != want {
		t.Errorf("RIM after REC_CREATE %x, want %x", got, want)
	}
	w.wantStatus("REC_CREATE index 1 again", w.smc(RMIRecCreate, w.recCreate(w.rd, 1, nil)()...), RMIErrorInput, 0)
	w.wantStatus("REC_CREATE index 2", w.smc(RMIRecCreate, w.recCreate(w.rd, 2, nil)()...), RMISuccess, 0)
	w.wantStatus("REC_DESTROY", w.smc(RMIRecDestroy, made.rec), RMISuccess, 0)
	w.wantStatus("UNDELEGATE the REC", w.smc(RMIGranuleUndelegate, made.rec), RMISuccess, 0)
	for i := range MaxRecAuxGranules {
		w.wantStatus("UNDELEGATE an aux granule", w.smc(RMIGranuleUndelegate, made.aux(i)), RMISuccess, 0)
	}
}

// TestRecCreateNumRecs: a realm brought through REC_CREATE to
// 2^MAX_RECS_ORDER - 2 RECs (17 granules each: about 70 MB of delegated
// memory) takes one more, and then no more (RMM 1.0 B4.3.12.2, num_recs;
// the limit is RMI_FEATURE_REGISTER_0.MAX_RECS_ORDER). A table of its own,
// as every failing row snapshots the RMM's whole state.
func TestRecCreateNumRecs(t *testing.T) {
	w := newConfWorld(t)
	full := w.newRealm(3)
	const below = 1<<featMaxRecsOrder - 2
	for i := range uint64(below) {
		if x := w.smc(RMIRecCreate, w.recCreate(full, confMPIDR(i), nil)()...); x[0] != RMISuccess {
			t.Fatalf("REC_CREATE %d: %#x", i, x[0])
		}
	}
	w.runStimuli(t, RMIRecCreate, []rmiStimulus{
		{msg: "num_recs (one below the limit)", args: w.recCreate(full, confMPIDR(below), nil)},
		{msg: "num_recs", args: w.recCreate(full, confMPIDR(below+1), nil), status: RMIErrorRealm},
	})
}

// TestRecCreateIndexOrder creates RECs across the Aff0/Aff1 boundary and
// checks that every other index is refused at each step, that a destroyed
// REC's index is not given out again, and the Aff2 and Aff3 encodings.
func TestRecCreateIndexOrder(t *testing.T) {
	w := newConfWorld(t)
	rd := w.newRealm(2)
	try := func(mpidr uint64, want uint8) uint64 {
		t.Helper()
		rec := w.delegated()
		w.wantStatus(fmt.Sprintf("REC_CREATE mpidr %#x", mpidr), w.smc(RMIRecCreate, rd, rec, w.recParams(mpidr, 0, false)), want, 0)
		return rec
	}
	var recs []uint64
	for i := range uint64(18) {
		try(confMPIDR(i+1), RMIErrorInput)
		try(confMPIDR(i+2), RMIErrorInput)
		if i > 0 {
			try(confMPIDR(i-1), RMIErrorInput)
		}
		if i >= 16 {
			try(i, RMIErrorInput) // the index itself is not its MPIDR
		}
		recs = append(recs, try(confMPIDR(i), RMISuccess))
	}
	w.wantStatus("REC_DESTROY REC 3", w.smc(RMIRecDestroy, recs[3]), RMISuccess, 0)
	try(confMPIDR(3), RMIErrorInput)
	try(confMPIDR(18), RMISuccess)
	w.wantStatus("REALM_DESTROY", w.smc(RMIRealmDestroy, rd), RMIErrorRealm, 0)

	// Aff2 and Aff3: the realm's next REC index is moved to the
	// boundaries. Through the ABI, index 2^28 - 1 takes 2^28 - 1
	// REC_CREATE and REC_DESTROY pairs (an index is never given out
	// again), hours of test time.
	rl := w.r.realms[rd]
	for _, idx := range []uint64{1<<12 - 1, 1 << 12, 1<<20 - 1, 1 << 20, 1<<28 - 1} {
		rl.recIndex = idx
		try(confMPIDR(idx)^1, RMIErrorInput)
		try(confMPIDR(idx), RMISuccess)
	}
}

// TestRecCreateRIM checks the RIM after REC_CREATE against a computation
// done here with crypto/sha256 and crypto/sha512: runnable RECs extend it,
// others do not, and the MPIDR and auxiliary granules are not measured.
func TestRecCreateRIM(t *testing.T) {
	w := newConfWorld(t)
	for i, alg := range []realm.HashAlgorithm{realm.HashSHA256, realm.HashSHA512} {
		p := w.realmParams(w.contiguousDelegated(2), 30+uint64(i))
		p[RealmParamsHashAlgo] = uint64(alg)
		rd := w.delegated()
		w.wantStatus("REALM_CREATE", w.smc(RMIRealmCreate, rd, w.params(p)), RMISuccess, 0)
		want := confRIMInit(p)
		check := func(what string) {
			t.Helper()
			if got := w.r.realms[rd].rim; got != want {
				t.Errorf("%v, %s: RIM %x, want %x", alg, what, got, want)
			}
		}
		check("REALM_CREATE")
		gprs := []uint64{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17}
		create := func(mpidr uint64, runnable bool, pc uint64) {
			t.Helper()
			w.wantStatus("REC_CREATE", w.smc(RMIRecCreate, rd, w.delegated(), w.recParams(mpidr, pc, runnable, gprs...)), RMISuccess, 0)
		}
		create(0, true, 0x8000_0000)
		want = confRIMExtendREC(alg, want, RecFlagRunnable, 0x8000_0000, gprs)
		check("a runnable REC")
		create(1, false, 0x9000_0000)
		check("a REC that is not runnable")
		create(2, true, 0x8000_0000) // other MPIDR and auxiliary granules, same measured fields
		want = confRIMExtendREC(alg, want, RecFlagRunnable, 0x8000_0000, gprs)
		check("a second runnable REC")
		gprs[7] = 0x99
		create(3, true, 0x8000_0000)
		want = confRIMExtendREC(alg, want, RecFlagRunnable, 0x8000_0000, gprs)
		check("a runnable REC with another x7")
	}
}

func TestRecDestroyConformance(t *testing.T) {
	w := newConfWorld(t)
	rd := w.newRealm(2)
	rec := w.newREC(rd, 0, 0)
	aux := slices.Clone(w.r.recs[rec].aux)
	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("rec", func() uint64 { return rec }, arg, kUndelegated, kSecure, kDelegated, kRD, kRECAux, kRTT, kData)
	// rec_state (REC running) is in TestRecRunningConformance.
	rim := w.r.realms[rd].rim
	tests = append(tests, rmiStimulus{msg: "success", args: fixedArgs(rec)})
	w.runStimuli(t, RMIRecDestroy, tests)

	// Positive observability: the REC and its auxiliary granules are
	// DELEGATED, the RIM is as it was, the realm has no REC left (it can
	// be destroyed) and index 0 stays used.
	w.wantStatus("REC_DESTROY again", w.smc(RMIRecDestroy, rec), RMIErrorInput, 0)
	if w.r.realms[rd].rim != rim {
		t.Error("REC_DESTROY changed the RIM")
	}
	w.wantStatus("REC_CREATE index 0", w.smc(RMIRecCreate, w.recCreate(rd, 0, nil)()...), RMIErrorInput, 0)
	for _, g := range append([]uint64{rec}, aux...) {
		w.wantStatus("UNDELEGATE", w.smc(RMIGranuleUndelegate, g), RMISuccess, 0)
	}
	w.wantStatus("REALM_DESTROY", w.smc(RMIRealmDestroy, rd), RMISuccess, 0)
}

func TestRecAuxCountConformance(t *testing.T) {
	w := newConfWorld(t)
	active := w.newRealm(2)
	w.wantStatus("activate", w.smc(RMIRealmActivate, active), RMISuccess, 0)
	off, _ := w.systemOffRealm()
	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("rd", func() uint64 { return w.rd }, arg, kUndelegated, kSecure, kDelegated, kREC, kRECAux, kRTT, kData)
	// At most 16, the same for every call on a realm (RMM 1.0 B3
	// RecAuxCount); REC_CREATE takes exactly that many (num_aux).
	for _, rd := range []uint64{w.rd, active, off.rd} {
		tests = append(tests, rmiStimulus{msg: fmt.Sprintf("success (%v)", w.r.realms[rd].state), args: fixedArgs(rd), out: []uint64{MaxRecAuxGranules}})
	}
	w.runStimuli(t, RMIRecAuxCount, tests)
}

// ICH_LR<n>_EL2 fields for the REC_ENTER tables.
const (
	lrPending       = 1 << 62
	lrActive        = 2 << 62
	lrHW            = 1 << 61
	lrGroup1        = 1 << 60
	lrEOI           = 1 << 41
	lrPriority      = 0xA0 << 48
	hcrPermitted    = 0xFE | 1<<14 // UIE LRENPIE NPIE VGrp0EIE VGrp0DIE VGrp1EIE VGrp1DIE, TDIR
	confMMIOIPA     = gPAR + 0x1000
	confExitMarker  = 0x5A
	confUnknownFlag = 1 << 5
)

// runWith returns a fresh RmiRecRun granule with the given entry and a
// marker in the whole exit part.
func (w *confWorld) runWith(flags, gpr0, hcr uint64, lrs ...uint64) uint64 {
	w.t.Helper()
	b := make([]byte, GranuleSize)
	le := binary.LittleEndian
	le.PutUint64(b[RunEnterFlags:], flags)
	le.PutUint64(b[RunEnterGPRs:], gpr0)
	le.PutUint64(b[RunEnterGICv3HCR:], hcr)
	for i, lr := range lrs {
		le.PutUint64(b[RunEnterGICv3LRs+8*i:], lr)
	}
	copy(b[RunExit:], bytes.Repeat([]byte{confExitMarker}, GranuleSize-RunExit))
	return w.nsWith(b)
}

// exitUntouched reports whether run's exit part still holds the marker.
func (w *confWorld) exitUntouched(run uint64) bool {
	w.t.Helper()
	b := make([]byte, GranuleSize-RunExit)
	if err := w.read(run+RunExit, b); err != nil {
		w.t.Fatal(err)
	}
	return bytes.Equal(b, bytes.Repeat([]byte{confExitMarker}, len(b)))
}

func TestRecEnterConformance(t *testing.T) {
	w := newConfWorld(t)

	// Realm A, ACTIVE: REC a0 runs software that reads an emulatable MMIO
	// register, then protected RAM that has no page (it exits for it until
	// the host does something about it); REC a1 is not runnable.
	var sawRegs [31]uint64
	var sawMMIO uint32
	prog := func(cpu RealmCPU) {
		for i := range sawRegs {
			sawRegs[i] = cpu.Reg(i)
		}
		var b [4]byte
		if err := cpu.Read(confMMIOIPA, b[:]); err != nil {
			t.Errorf("MMIO read: %v", err)
		}
		sawMMIO = binary.LittleEndian.Uint32(b[:])
		_ = cpu.Read(gRAM, b[:])
	}
	rdA := w.newRealm(10)
	w.rttsFor(rdA, gRAM)
	w.wantStatus("INIT_RIPAS", w.smc(RMIRttInitRipas, rdA, gRAM, gRAM+gRAMSize), RMISuccess, 0)
	a0, a1 := w.delegated(), w.delegated()
	w.wantStatus("REC_CREATE a0", w.smc(RMIRecCreate, rdA, a0, w.recParams(0, w.entryPoint(prog), true, 1, 2, 3, 4, 5, 6, 7, 8)), RMISuccess, 0)
	w.wantStatus("REC_CREATE a1", w.smc(RMIRecCreate, rdA, a1, w.recParams(1, 0, false)), RMISuccess, 0)
	w.wantStatus("activate", w.smc(RMIRealmActivate, rdA), RMISuccess, 0)

	// Realm N, NEW: REC n0 runnable, n1 not.
	rdN := w.newRealm(11)
	n0, n1 := w.newREC(rdN, 0, 0), w.delegated()
	w.wantStatus("REC_CREATE n1", w.smc(RMIRecCreate, rdN, n1, w.recParams(1, 0, false)), RMISuccess, 0)

	// Realm O, SYSTEM_OFF: o0 called SYSTEM_OFF, o1 is not runnable.
	off, o0 := w.systemOffRealm()
	o1 := off.recs[1]

	// Realm P: p0 called PSCI CPU_ON for p1 and waits for PSCI_COMPLETE.
	target := w.entryPoint(func(RealmCPU) {})
	pg := w.newGuestRealm(guestOpts{recs: 1}, func(cpu RealmCPU) {
		if x := cpu.SMC(PSCICPUOn, 1, target, 0); x[0] != PSCISuccess {
			t.Errorf("CPU_ON: %#x", x[0])
		}
	})
	p0, p1 := pg.recs[0], pg.recs[1]
	if x0, x := w.enter(pg, p0); x0 != RMISuccess || x.reason != ExitPSCI || x.gprs[0] != PSCICPUOn {
		t.Fatalf("CPU_ON exit: X0 %#x, %v", x0, x)
	}

	run := w.runWith(0, 0, 0)
	runMMIO := w.runWith(EntryFlagEmulMMIO, 0, 0)
	runBadHCR := w.runWith(0, 0, 1<<8) // vSGIEOICount (ACS gic_hcr_invalid)
	withRun := func(rec uint64) func(pa uint64) []uint64 {
		return func(pa uint64) []uint64 { return []uint64{rec, pa} }
	}
	withREC := func(run uint64) func(pa uint64) []uint64 {
		return func(pa uint64) []uint64 { return []uint64{pa, run} }
	}
	recKinds := []string{kUndelegated, kSecure, kDelegated, kRD, kRECAux, kRTT, kData}

	tests := w.addrRows("run", func() uint64 { return run }, withRun(a0))
	tests = append(tests, w.nsPASRows("run", withRun(a0))...)
	tests = append(tests, w.addrRows("rec", func() uint64 { return a0 }, withREC(run), recKinds...)...)
	tests = append(tests, []rmiStimulus{
		{msg: "realm_new", args: fixedArgs(n0, run), status: RMIErrorRealm, index: 0},
		{msg: "system_off", args: fixedArgs(o0, run), status: RMIErrorRealm, index: 1},
		{msg: "rec_runnable", args: fixedArgs(a1, run), status: RMIErrorRec},
		{msg: "rec_psci", args: fixedArgs(p0, run), status: RMIErrorRec},
		{msg: "rec_mmio (no exit yet)", args: fixedArgs(a0, runMMIO), status: RMIErrorRec},
	}...)
	// rec_gicv3: RMM 1.0 A6.1. gicv3_hcr may set only UIE, LRENPIE, NPIE,
	// VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE and TDIR (RWVGFJ); a valid
	// list register has HW 0 and an architecturally valid encoding
	// (DXZVGB), checked as TF-RMM gic_validate_state does.
	for _, bit := range []uint{0, 8, 9, 10, 11, 12, 13, 15, 27, 31, 32, 63} {
		tests = append(tests, rmiStimulus{msg: fmt.Sprintf("rec_gicv3 (gicv3_hcr bit %d)", bit),
			args: func() []uint64 { return []uint64{a0, w.runWith(0, 0, 1<<bit)} }, status: RMIErrorRec})
	}
	for _, c := range []struct {
		name string
		lrs  []uint64
	}{
		{"HW, ACS value 3 << 61", []uint64{3 << 61}},
		{"HW", []uint64{lrPending | lrHW | lrGroup1 | 27}},
		{"HW in the last list register", []uint64{15: lrActive | lrHW | 27}},
		{"pINTID bits besides EOI", []uint64{lrPending | 1<<32 | 27}},
		{"vINTID 1020 (special)", []uint64{lrPending | 1020}},
		{"vINTID 5000 (between the SPIs and the LPIs)", []uint64{lrPending | 5000}},
		{"vINTID 2^16 (beyond the 16 ID bits)", []uint64{lrPending | 1<<16}},
		{"the same vINTID twice", []uint64{lrPending | 27, 9: lrActive | 27}},
	} {
		tests = append(tests, rmiStimulus{msg: "rec_gicv3 (list register: " + c.name + ")",
			args: func() []uint64 { return []uint64{a0, w.runWith(0, 0, 0, c.lrs...)} }, status: RMIErrorRec})
	}
	// RMM 1.0 B4.3.14.2.1: [rec_align, rec_bound, rec_gran_state, run_pas,
	// run_bound, run_align] < [rec_state, rec_runnable, rec_mmio,
	// realm_new, system_off, rec_gicv3, rec_psci]. Every pair the inputs
	// allow: a bad run_ptr with each REC whose own state fails (a bad
	// run_ptr has no entry flags or GIC state to fail), and a bad rec with
	// an entry whose flags or GIC state fail (a bad rec has no realm).
	badRuns := []struct {
		label string
		pa    func() uint64
	}{
		{"run_align", func() uint64 { return run + 8 }},
		{"run_bound", func() uint64 { return outsidePA }},
		{"run_bound", func() uint64 { return tRMMBase }},
		{"run_pas", w.delegated},
		{"run_pas", func() uint64 { return confSecure }},
	}
	for _, bad := range badRuns {
		for _, other := range []struct {
			label string
			rec   uint64
		}{{"realm_new", n0}, {"system_off", o0}, {"rec_runnable", a1}, {"rec_psci", p0}} {
			tests = append(tests, rmiStimulus{msg: bad.label + "_compare_" + other.label,
				args: func() []uint64 { return []uint64{other.rec, bad.pa()} }, status: RMIErrorInput})
		}
	}
	badRECs := []struct {
		label string
		pa    func() uint64
	}{
		{"rec_align", func() uint64 { return a0 + 8 }},
		{"rec_bound", func() uint64 { return outsidePA }},
		{"rec_gran_state", w.alloc},
		{"rec_gran_state", func() uint64 { return w.r.recs[a0].aux[0] }}, // REC_AUX
	}
	for _, bad := range badRECs {
		tests = append(tests,
			rmiStimulus{msg: bad.label + "_compare_rec_gicv3", args: func() []uint64 { return []uint64{bad.pa(), runBadHCR} }, status: RMIErrorInput},
			rmiStimulus{msg: bad.label + "_compare_rec_mmio", args: func() []uint64 { return []uint64{bad.pa(), runMMIO} }, status: RMIErrorInput},
		)
	}
	w.runStimuli(t, RMIRecEnter, tests)

	// A failing REC_ENTER writes no exit.
	for _, r := range []uint64{run, runMMIO, runBadHCR} {
		if !w.exitUntouched(r) {
			t.Errorf("a failing REC_ENTER wrote the exit part of %#x", r)
		}
	}

	// The specification leaves the REALM and REC conditions unordered
	// among themselves: either code conforms.
	for _, c := range []struct {
		name     string
		rec, run uint64
		either   []uint64
	}{
		{"realm_new and rec_runnable", n1, run, []uint64{Pack(RMIErrorRealm, 0), Pack(RMIErrorRec, 0)}},
		{"realm_new and rec_gicv3", n0, runBadHCR, []uint64{Pack(RMIErrorRealm, 0), Pack(RMIErrorRec, 0)}},
		{"system_off and rec_runnable", o1, run, []uint64{Pack(RMIErrorRealm, 1), Pack(RMIErrorRec, 0)}},
		{"system_off and rec_mmio", o0, runMMIO, []uint64{Pack(RMIErrorRealm, 1), Pack(RMIErrorRec, 0)}},
	} {
		if x := w.smc(RMIRecEnter, c.rec, c.run); !slices.Contains(c.either, x[0]) {
			t.Errorf("%s: X0 %#x, want one of %#x", c.name, x[0], c.either)
		}
	}

	// Positive observability. The first entry starts a0 with x0..x7 from
	// RmiRecParams and the rest zero (B4.3.12.3 rec_gprs); its MMIO read
	// exits as an emulatable data abort, written to run.exit.
	w.wantStatus("REC_ENTER a0", w.smc(RMIRecEnter, a0, run), RMISuccess, 0)
	if want := [31]uint64{1, 2, 3, 4, 5, 6, 7, 8}; sawRegs != want {
		t.Errorf("a0 started with x0..x30 = %#x, want %#x", sawRegs, want)
	}
	reason, esr, hp, _ := w.exit(run)
	if reason != ExitSync || esr>>26 != 0x24 || esr&esrISV == 0 || hp != hpfar(confMMIOIPA) {
		t.Errorf("MMIO exit: reason %d ESR %#x HPFAR %#x", reason, esr, hp)
	}
	// EMUL_MMIO completes the read with gprs[0]; the next exit, the
	// protected abort, is not emulatable, and EMUL_MMIO is refused again.
	runDone := w.runWith(EntryFlagEmulMMIO, 0xCAFE_F00D, 0)
	w.wantStatus("REC_ENTER with EMUL_MMIO", w.smc(RMIRecEnter, a0, runDone), RMISuccess, 0)
	if sawMMIO != 0xCAFE_F00D {
		t.Errorf("the realm read %#x from MMIO, want the host's 0xcafef00d", sawMMIO)
	}
	if reason, esr, hp, _ := w.exit(runDone); reason != ExitSync || esr&esrISV != 0 || hp != hpfar(gRAM) {
		t.Errorf("protected abort exit: reason %d ESR %#x HPFAR %#x", reason, esr, hp)
	}
	w.wantStatus("EMUL_MMIO after a protected abort", w.smc(RMIRecEnter, a0, runMMIO), RMIErrorRec, 0)
	// Every permitted gicv3_hcr field and valid list registers (LR2 is
	// Invalid, so its other fields do not matter); entry flags the RMM does
	// not define are not a failure condition.
	lrs := []uint64{lrPending | lrGroup1 | lrPriority | 27, lrActive | lrEOI | 8192, lrHW | 27, lrPending | 1019, lrPending | (1<<16 - 1)}
	runGIC := w.runWith(EntryFlagTrapWFI|EntryFlagTrapWFE|confUnknownFlag, 0, hcrPermitted, lrs...)
	w.wantStatus("REC_ENTER with valid GIC state", w.smc(RMIRecEnter, a0, runGIC), RMISuccess, 0)
	if w.exitUntouched(runGIC) {
		t.Error("a successful REC_ENTER wrote no exit")
	}
	// PSCI_COMPLETE clears rec_psci; ACTIVATE clears realm_new.
	w.wantStatus("PSCI_COMPLETE", w.smc(RMIPsciComplete, p0, p1, PSCISuccess), RMISuccess, 0)
	w.wantStatus("REC_ENTER p0", w.smc(RMIRecEnter, p0, run), RMISuccess, 0)
	w.wantStatus("ACTIVATE N", w.smc(RMIRealmActivate, rdN), RMISuccess, 0)
	w.wantStatus("REC_ENTER n0", w.smc(RMIRecEnter, n0, run), RMISuccess, 0)
}

// TestRecRunningConformance holds a REC in the middle of REC_ENTER (its
// realm software blocked) and checks rec_state of REC_ENTER and
// REC_DESTROY, the INPUT conditions that beat it, and realm_live.
func TestRecRunningConformance(t *testing.T) {
	w := newConfWorld(t)
	started, release := make(chan struct{}), make(chan struct{})
	g := w.newGuestRealm(guestOpts{}, func(RealmCPU) {
		close(started)
		<-release
	})
	rec := g.recs[0]
	done := make(chan [5]uint64)
	go func() { done <- w.smc(RMIRecEnter, rec, g.run) }()
	<-started

	run := w.runWith(0, 0, 0)
	w.runStimuli(t, RMIRecEnter, []rmiStimulus{
		{msg: "rec_state", args: fixedArgs(rec, run), status: RMIErrorRec},
		{msg: "run_align_compare_rec_state", args: fixedArgs(rec, run+8), status: RMIErrorInput},
		{msg: "run_bound_compare_rec_state", args: fixedArgs(rec, outsidePA), status: RMIErrorInput},
		{msg: "run_pas_compare_rec_state (REALM)", args: func() []uint64 { return []uint64{rec, w.delegated()} }, status: RMIErrorInput},
		// TF-RMM rel0 reads the run granule only after it has taken the
		// REC, so for a run_ptr that is UNDELEGATED but not in the NS PAS
		// it answers rec_state; the specification orders run_pas first.
		{msg: "run_pas_compare_rec_state (SECURE)", args: fixedArgs(rec, confSecure), status: RMIErrorInput},
	})
	w.runStimuli(t, RMIRecDestroy, []rmiStimulus{
		{msg: "rec_state", args: fixedArgs(rec), status: RMIErrorRec},
		{msg: "rec_align", args: fixedArgs(rec + 8), status: RMIErrorInput},
	})
	w.runStimuli(t, RMIRealmDestroy, []rmiStimulus{
		{msg: "realm_live (a running REC)", args: fixedArgs(g.rd), status: RMIErrorRealm},
	})
	if !w.exitUntouched(run) {
		t.Error("a failing REC_ENTER wrote the exit part")
	}

	close(release)
	if x := <-done; x[0] != RMISuccess {
		t.Fatalf("the held REC_ENTER: %#x", x[0])
	}
	if reason, _, _, gprs := w.exit(g.run); reason != ExitPSCI || gprs[0] != PSCICPUOff {
		t.Errorf("exit after release: reason %d x0 %#x", reason, gprs[0])
	}
	// No longer running: destroyed, its granules delegated again.
	aux := slices.Clone(w.r.recs[rec].aux)
	w.wantStatus("REC_DESTROY", w.smc(RMIRecDestroy, rec), RMISuccess, 0)
	for _, a := range append(aux, rec) {
		w.wantStatus("UNDELEGATE", w.smc(RMIGranuleUndelegate, a), RMISuccess, 0)
	}
}
