package rmm

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ccakit/cca/realm"
)

// RMI_REALM_CREATE, RMI_REALM_ACTIVATE and RMI_REALM_DESTROY conformance
// tables (granule_conformance_test.go explains the method).

// confDigest is the measurement slot holding H(parts...), computed with
// the standard library alone (not the realm package the RMM uses).
func confDigest(alg realm.HashAlgorithm, parts ...[]byte) (m realm.Measurement) {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if alg == realm.HashSHA512 {
		d := sha512.Sum512(b)
		copy(m[:], d[:])
	} else {
		d := sha256.Sum256(b)
		copy(m[:], d[:])
	}
	return m
}

// confRIMInit is the RIM after REALM_CREATE (RMM 1.0 B4.3.9.4): the hash
// of a zero-filled RmiRealmParams holding only flags, s2sz, sve_vl,
// num_bps, num_wps, pmu_num_ctrs and hash_algo.
func confRIMInit(p map[uint64]uint64) realm.Measurement {
	b := make([]byte, GranuleSize)
	for _, off := range []uint64{RealmParamsFlags, RealmParamsS2SZ, RealmParamsSVEVL, RealmParamsNumBPS,
		RealmParamsNumWPS, RealmParamsPMUNumCtrs} {
		binary.LittleEndian.PutUint64(b[off:], p[off])
	}
	b[RealmParamsHashAlgo] = byte(p[RealmParamsHashAlgo])
	return confDigest(realm.HashAlgorithm(p[RealmParamsHashAlgo]), b)
}

// geometry sets s2sz, rtt_level_start and rtt_num_start.
func geometry(s2sz uint64, level int64, num uint64) func(map[uint64]uint64) {
	return func(p map[uint64]uint64) {
		p[RealmParamsS2SZ], p[RealmParamsRTTLevelStart], p[RealmParamsRTTNumStart] = s2sz, uint64(level), num
	}
}

// set sets RmiRealmParams fields: offset, value, offset, value...
func set(kv ...uint64) func(map[uint64]uint64) {
	return func(p map[uint64]uint64) {
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
	}
}

func both(a, b func(map[uint64]uint64)) func(map[uint64]uint64) {
	return func(p map[uint64]uint64) { a(p); b(p) }
}

// realmCreate builds RMI_REALM_CREATE arguments from host.realmParams
// (s2sz 40, level 1, two tables, SHA-256) with mod applied: unless mod
// sets rtt_base, spare contiguous delegated starting-level RTTs (as many as
// rtt_num_start, at most 16), then a spare delegated RD unless rd says
// otherwise (it sees the final fields). It records the last arguments.
type realmCreate struct {
	w          *confWorld
	vmid       uint64
	lastRD     uint64
	lastParams map[uint64]uint64
}

func (c *realmCreate) args(rd func(p map[uint64]uint64) uint64, mod func(map[uint64]uint64)) func() []uint64 {
	return func() []uint64 {
		w := c.w
		p := w.realmParams(0, c.vmid)
		if mod != nil {
			mod(p)
		}
		if p[RealmParamsRTTBase] == 0 {
			p[RealmParamsRTTBase] = w.spareRun("rtt", int(min(max(p[RealmParamsRTTNumStart], 1), 16)))
		}
		r := w.spare("rd")
		if rd != nil {
			r = rd(p)
		}
		c.lastRD, c.lastParams = r, p
		return []uint64{r, w.params(p)}
	}
}

func TestRealmCreateConformance(t *testing.T) {
	w := newConfWorld(t)
	feat := w.smc(RMIFeatures, 0)[1]
	maxS2SZ, maxBPS, maxWPS, maxCtrs := feat&0xFF, feat>>14&0x3F, feat>>20&0x3F, feat>>27&0x1F
	c := &realmCreate{w: w, vmid: 7}
	valid := c.args(nil, nil)
	mod := func(m func(map[uint64]uint64)) func() []uint64 { return c.args(nil, m) }
	withParams := func(ptr uint64) []uint64 { return []uint64{w.delegated(), ptr} }
	withRD := func(rd uint64) []uint64 {
		return c.args(func(map[uint64]uint64) uint64 { return rd }, nil)()
	}

	tests := w.addrRows("params", func() uint64 { return valid()[1] }, withParams)
	tests = append(tests, w.nsPASRows("params", withParams)...)
	tests = append(tests, []rmiStimulus{
		// params_valid: encodings RMM 1.0 does not define.
		{msg: "params_valid (hash_algo 2)", args: mod(set(RealmParamsHashAlgo, 2)), status: RMIErrorInput},
		{msg: "params_valid (hash_algo 0xFF)", args: mod(set(RealmParamsHashAlgo, 0xFF)), status: RMIErrorInput},
		{msg: "params_valid (s2sz 31)", args: mod(geometry(31, 1, 1)), status: RMIErrorInput},
		{msg: "params_valid (s2sz 0)", args: mod(geometry(0, 1, 1)), status: RMIErrorInput},
		// params_supp: beyond what FEATURES(0) reports. Both hash
		// algorithms are supported, so there is no "hash unsupported" row.
		{msg: "params_supp (s2sz above S2SZ)", args: mod(geometry(maxS2SZ+1, 0, 2)), status: RMIErrorInput},
		{msg: "params_supp (LPA2, s2sz 52)", args: mod(both(geometry(52, 0, 16), set(RealmParamsFlags, RealmFlagLPA2))), status: RMIErrorInput},
		{msg: "params_supp (LPA2)", args: mod(set(RealmParamsFlags, RealmFlagLPA2)), status: RMIErrorInput},
		{msg: "params_supp (SVE)", args: mod(set(RealmParamsFlags, RealmFlagSVE)), status: RMIErrorInput},
		{msg: "params_supp (SVE, sve_vl 1)", args: mod(set(RealmParamsFlags, RealmFlagSVE, RealmParamsSVEVL, 1)), status: RMIErrorInput},
		{msg: "params_supp (num_bps 0, reserved)", args: mod(set(RealmParamsNumBPS, 0)), status: RMIErrorInput},
		{msg: "params_supp (num_bps above NUM_BPS)", args: mod(set(RealmParamsNumBPS, maxBPS+1)), status: RMIErrorInput},
		{msg: "params_supp (num_wps 0, reserved)", args: mod(set(RealmParamsNumWPS, 0)), status: RMIErrorInput},
		{msg: "params_supp (num_wps above NUM_WPS)", args: mod(set(RealmParamsNumWPS, maxWPS+1)), status: RMIErrorInput},
		{msg: "params_supp (pmu_num_ctrs above PMU_NUM_CTRS)", args: mod(set(RealmParamsFlags, RealmFlagPMU, RealmParamsPMUNumCtrs, maxCtrs+1)), status: RMIErrorInput},
		// alias: the RD is one of the starting-level RTTs.
		{msg: "alias (first RTT)", args: c.args(func(p map[uint64]uint64) uint64 { return p[RealmParamsRTTBase] }, nil), status: RMIErrorInput},
		{msg: "alias (second RTT)", args: c.args(func(p map[uint64]uint64) uint64 { return p[RealmParamsRTTBase] + GranuleSize }, nil), status: RMIErrorInput},
	}...)
	tests = append(tests, w.addrRows("rd", w.delegated, withRD, kUndelegated, kSecure, kRD, kREC, kRECAux, kRTT, kData)...)
	tests = append(tests, rmiStimulus{msg: "rtt_align",
		args: mod(func(p map[uint64]uint64) { p[RealmParamsRTTBase] = w.contiguousDelegated(2) + 8 }), status: RMIErrorInput},
		// rtt_base 4 KB aligned, and its tables delegated, but not aligned
		// to rtt_num_start × 4 KB.
		rmiStimulus{msg: "rtt_align (2 tables, 4 KB aligned)",
			args: mod(func(p map[uint64]uint64) { p[RealmParamsRTTBase] = misaligned(w.contiguousDelegated(3), 2) }), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_align (16 tables, 4 KB aligned)",
			args: mod(both(geometry(44, 1, 16), func(p map[uint64]uint64) {
				p[RealmParamsRTTBase] = misaligned(w.contiguousDelegated(17), 16)
			})), status: RMIErrorInput})
	// rtt_num_level: (s2sz, rtt_level_start, rtt_num_start) that do not
	// fit: the starting level must resolve the IPA bits above it with 1 to
	// 16 concatenated tables, and rtt_num_start must be that number.
	for _, g := range []struct {
		s2sz  uint64
		level int64
		num   uint64
	}{
		{40, 1, 1}, {40, 1, 3}, {40, 1, 0}, {40, 1, 1 << 62}, {40, 0, 2}, {40, 2, 16}, {40, 3, 1},
		{40, -1, 1}, {40, 4, 1}, {39, 0, 1}, {32, 0, 1}, {32, 2, 3}, {43, 1, 15}, {44, 1, 16},
		{48, 1, 16}, {48, 0, 2}, {35, 2, 16},
	} {
		tests = append(tests, rmiStimulus{msg: fmt.Sprintf("rtt_num_level (s2sz %d, level %d, num %d)", g.s2sz, g.level, g.num),
			args: mod(geometry(g.s2sz, g.level, g.num)), status: RMIErrorInput})
	}
	// rtt_state: each of four starting-level RTTs in turn not DELEGATED.
	for i := range 4 {
		tests = append(tests, rmiStimulus{msg: fmt.Sprintf("rtt_state (RTT %d of 4 UNDELEGATED)", i),
			args: mod(both(geometry(41, 1, 4), func(p map[uint64]uint64) {
				w.alignNext(4 * GranuleSize)
				first := w.alloc()
				for j := 1; j < 4; j++ {
					w.alloc()
				}
				for j := range 4 {
					if j != i {
						w.wantStatus("delegate", w.smc(RMIGranuleDelegate, first+uint64(j)*GranuleSize), RMISuccess, 0)
					}
				}
				p[RealmParamsRTTBase] = first
			})), status: RMIErrorInput})
	}
	tests = append(tests, []rmiStimulus{
		{msg: "rtt_state (another realm's RTTs)", args: mod(set(RealmParamsRTTBase, w.rtt)), status: RMIErrorInput},
		{msg: "rtt_state (REC)", args: mod(both(geometry(39, 1, 1), set(RealmParamsRTTBase, w.rec))), status: RMIErrorInput},
		{msg: "rtt_state (DATA)", args: mod(both(geometry(39, 1, 1), set(RealmParamsRTTBase, w.data))), status: RMIErrorInput},
		{msg: "rtt_state (UNDELEGATED, GPT SECURE)", args: mod(both(geometry(39, 1, 1), set(RealmParamsRTTBase, confSecure))), status: RMIErrorInput},
		// vmid_valid: VMID 1 is the world realm's. 16-bit VMIDs are all
		// valid, so "in use" is the only way to fail; the field is a
		// UInt16, the bytes above it padding.
		{msg: "vmid_valid (in use)", args: mod(set(RealmParamsVMID, 1)), status: RMIErrorInput},
		{msg: "vmid_valid (in use, bits above 15 ignored)", args: mod(set(RealmParamsVMID, 1<<16|1)), status: RMIErrorInput},
		// RMM 1.0 B4.3.9.2.1: REALM_CREATE has no failure condition
		// orderings (every condition is ERROR_INPUT).
		// The failing calls above did not reserve VMID 7.
		{msg: "success", args: valid},
	}...)
	w.runStimuli(t, RMIRealmCreate, tests)

	// Positive observability of the realm just created (s2sz 40, starting
	// level 1, two tables).
	c.checkNewRealm(c.lastRD, c.lastParams)
}

// checkNewRealm reads back a realm REALM_CREATE just made from p: every
// starting-level entry of the protected half UNASSIGNED EMPTY and of the
// unprotected half UNASSIGNED_NS (RMM 1.0 B4.3.9.3 rtte_p_states,
// rtte_up_states, rtte_ripas), the IPA space s2sz bits wide, the RIM
// initialised and the REMs zero, the RD and starting-level RTTs in use, the
// VMID taken. Then it destroys the realm and checks that all of it is
// released.
func (c *realmCreate) checkNewRealm(rd uint64, p map[uint64]uint64) {
	w, t := c.w, c.w.t
	t.Helper()
	s2sz, level, num, base := p[RealmParamsS2SZ], int(int64(p[RealmParamsRTTLevelStart])), p[RealmParamsRTTNumStart], p[RealmParamsRTTBase]
	par, top, size := uint64(1)<<(s2sz-1), uint64(1)<<s2sz, levelSize(level)
	what := fmt.Sprintf("realm s2sz %d level %d num %d", s2sz, level, num)
	unassigned := rtteOut{uint64(level), RTTEStateUnassigned, 0, RIPASEmpty}
	for _, ipa := range []uint64{0, par - size, par, top - size} {
		if e := w.rttRead(rd, ipa, level); e != unassigned {
			t.Errorf("%s: entry %#x = %+v, want %+v", what, ipa, e, unassigned)
		}
	}
	w.wantStatus(what+": READ_ENTRY at 2^s2sz", w.smc(RMIRttReadEntry, rd, top, uint64(level)), RMIErrorInput, 0)
	if got, want := w.r.realms[rd].rim, confRIMInit(p); got != want {
		t.Errorf("%s: RIM %x, want %x", what, got, want)
	}
	if w.r.realms[rd].rems != [4]realm.Measurement{} {
		t.Errorf("%s: REMs not zero", what)
	}
	// Both halves read as UNASSIGNED with RIPAS EMPTY. Only an
	// UNASSIGNED_NS entry takes an unprotected mapping, and only an
	// UNASSIGNED EMPTY (or RAM) one a RIPAS change: that tells them apart.
	// Level 0 takes neither, so a level-0 realm is checked through level-1
	// RTTs, which inherit their parent entry's state.
	cl, csize := level, size
	l1 := map[uint64]uint64{} // level-1 RTTs by IPA
	if level == 0 {
		cl, csize = 1, levelSize(1)
		for _, ipa := range []uint64{0, par - size, par, top - size} {
			if l1[ipa] == 0 {
				l1[ipa] = w.rttCreate(rd, ipa, 1)
			}
		}
	}
	desc := hostNSDesc(nsBlockOA)
	for _, ipa := range []uint64{par, top - csize} {
		w.wantStatus(fmt.Sprintf("%s: MAP_UNPROTECTED %#x", what, ipa), w.smc(RMIRttMapUnprotected, rd, ipa, uint64(cl), desc), RMISuccess, 0)
		if e := w.rttRead(rd, ipa, cl); e != (rtteOut{uint64(cl), RTTEStateAssigned, desc, RIPASEmpty}) {
			t.Errorf("%s: mapped unprotected entry %#x: %+v", what, ipa, e)
		}
		w.wantStatus(what+": UNMAP_UNPROTECTED", w.smc(RMIRttUnmapUnprotected, rd, ipa, uint64(cl)), RMISuccess, 0)
	}
	for _, ipa := range []uint64{0, par - csize} {
		w.wantStatus(fmt.Sprintf("%s: INIT_RIPAS %#x", what, ipa), w.smc(RMIRttInitRipas, rd, ipa, ipa+csize), RMISuccess, 0)
		if e := w.rttRead(rd, ipa, cl); e != (rtteOut{uint64(cl), RTTEStateUnassigned, 0, RIPASRAM}) {
			t.Errorf("%s: entry %#x after INIT_RIPAS: %+v", what, ipa, e)
		}
	}
	for ipa, rtt := range l1 {
		x := w.wantStatus(what+": RTT_DESTROY", w.smc(RMIRttDestroy, rd, ipa, 1), RMISuccess, 0)
		if x[1] != rtt {
			t.Errorf("%s: RTT_DESTROY returned %#x, want %#x", what, x[1], rtt)
		}
		w.wantStatus(what+": UNDELEGATE a level-1 RTT", w.smc(RMIGranuleUndelegate, rtt), RMISuccess, 0)
	}
	if x := w.smc(RMIRecAuxCount, rd); x != [5]uint64{RMISuccess, MaxRecAuxGranules} {
		t.Errorf("%s: REC_AUX_COUNT %#x", what, x)
	}
	granules := []uint64{rd}
	for i := range num {
		granules = append(granules, base+i*GranuleSize)
	}
	for _, g := range granules {
		w.wantStatus(fmt.Sprintf("%s: UNDELEGATE %#x in use", what, g), w.smc(RMIGranuleUndelegate, g), RMIErrorInput, 0)
	}
	vmid := p[RealmParamsVMID]
	reuse := &realmCreate{w: w, vmid: vmid}
	w.wantStatus(what+": REALM_CREATE with its VMID", w.smc(RMIRealmCreate, reuse.args(nil, nil)()...), RMIErrorInput, 0)

	w.wantStatus(what+": REALM_DESTROY", w.smc(RMIRealmDestroy, rd), RMISuccess, 0)
	for _, g := range granules {
		w.wantStatus(fmt.Sprintf("%s: UNDELEGATE %#x after REALM_DESTROY", what, g), w.smc(RMIGranuleUndelegate, g), RMISuccess, 0)
	}
	w.wantStatus(what+": REALM_CREATE with its VMID after REALM_DESTROY", w.smc(RMIRealmCreate, reuse.args(nil, nil)()...), RMISuccess, 0)
	w.wantStatus(what+": destroy that one", w.smc(RMIRealmDestroy, reuse.lastRD), RMISuccess, 0)
}

// TestRealmCreateGeometries creates realms with every kind of starting
// level geometry, concatenation included, and with the largest parameters
// FEATURES(0) allows, and reads each back.
func TestRealmCreateGeometries(t *testing.T) {
	w := newConfWorld(t)
	feat := w.smc(RMIFeatures, 0)[1]
	limits := set(RealmParamsS2SZ, feat&0xFF, RealmParamsNumBPS, feat>>14&0x3F, RealmParamsNumWPS, feat>>20&0x3F,
		RealmParamsFlags, RealmFlagPMU, RealmParamsPMUNumCtrs, feat>>27&0x1F, RealmParamsHashAlgo, uint64(realm.HashSHA512),
		RealmParamsRTTLevelStart, 0, RealmParamsRTTNumStart, 1)
	for i, g := range []struct {
		name string
		mod  func(map[uint64]uint64)
	}{
		{"s2sz 32, level 1", geometry(32, 1, 1)},
		{"s2sz 33, level 1", geometry(33, 1, 1)},
		{"s2sz 39, level 1", geometry(39, 1, 1)},
		{"s2sz 40, level 0", geometry(40, 0, 1)},
		{"s2sz 41, level 1, 4 tables", geometry(41, 1, 4)},
		{"s2sz 43, level 1, 16 tables", geometry(43, 1, 16)},
		{"s2sz 44, level 0", geometry(44, 0, 1)},
		{"s2sz 48, level 0", geometry(48, 0, 1)},
		{"s2sz 32, level 2, 4 tables", geometry(32, 2, 4)},
		{"s2sz 34, level 2, 16 tables", geometry(34, 2, 16)},
		{"limits of FEATURES(0), SHA-512", limits},
	} {
		c := &realmCreate{w: w, vmid: 20 + uint64(i)}
		args := c.args(nil, g.mod)()
		w.wantStatus("REALM_CREATE "+g.name, w.smc(RMIRealmCreate, args...), RMISuccess, 0)
		c.checkNewRealm(c.lastRD, c.lastParams)
	}
	w.checkRMMInvariants()
}

// systemOffRealm returns a realm whose REC 0 called PSCI SYSTEM_OFF, and
// that REC; REC 1 exists, not runnable.
func (w *confWorld) systemOffRealm() (*guestRealm, uint64) {
	w.t.Helper()
	g := w.newGuestRealm(guestOpts{recs: 1}, func(cpu RealmCPU) { cpu.SMC(PSCISystemOff) })
	if x0, x := w.enter(g, g.recs[0]); x0 != RMISuccess || x.reason != ExitPSCI || x.gprs[0] != PSCISystemOff {
		w.t.Fatalf("SYSTEM_OFF: X0 %#x, %v", x0, x)
	}
	return g, g.recs[0]
}

func TestRealmActivateConformance(t *testing.T) {
	w := newConfWorld(t)
	rd := w.newRealm(2)
	active := w.newRealm(3)
	w.wantStatus("activate", w.smc(RMIRealmActivate, active), RMISuccess, 0)
	off, _ := w.systemOffRealm()
	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("rd", func() uint64 { return rd }, arg, kUndelegated, kSecure, kDelegated, kREC, kRECAux, kRTT, kData)
	// [rd_bound, rd_state] < [realm_state] cannot be provoked together: a
	// granule that is not an RD has no realm state.
	tests = append(tests,
		rmiStimulus{msg: "realm_state (ACTIVE)", args: fixedArgs(active), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_state (SYSTEM_OFF)", args: fixedArgs(off.rd), status: RMIErrorRealm},
		rmiStimulus{msg: "success", args: fixedArgs(rd)},
	)
	w.runStimuli(t, RMIRealmActivate, tests)

	// Positive observability: the realm is ACTIVE. The commands allowed
	// only in NEW fail with ERROR_REALM (and the RIM stays frozen); those
	// allowed in ACTIVE work.
	rim := w.r.realms[rd].rim
	w.wantStatus("ACTIVATE again", w.smc(RMIRealmActivate, rd), RMIErrorRealm, 0)
	w.wantStatus("REC_CREATE", w.smc(RMIRecCreate, rd, w.delegated(), w.recParams(0, 0, true)), RMIErrorRealm, 0)
	w.wantStatus("DATA_CREATE", w.smc(RMIDataCreate, rd, w.delegated(), 0, w.alloc(), RMIMeasureContent), RMIErrorRealm, 0)
	w.wantStatus("INIT_RIPAS", w.smc(RMIRttInitRipas, rd, 0, szL1), RMIErrorRealm, 0)
	if w.r.realms[rd].rim != rim {
		t.Error("the RIM changed after REALM_ACTIVATE")
	}
	w.dataUnknown(rd, 0) // RTT_CREATE and DATA_CREATE_UNKNOWN are allowed
}

func TestRealmDestroyConformance(t *testing.T) {
	w := newConfWorld(t)
	withREC := w.newRealm(2)
	w.newREC(withREC, 0, 0)
	withTable := w.newRealm(3)
	l2 := w.rttCreate(withTable, 0, 2)
	withNSTable := w.newRealm(4)
	l2ns := w.rttCreate(withNSTable, par40, 2)
	activeREC := w.newRealm(5)
	w.newREC(activeREC, 0, 0)
	w.wantStatus("activate", w.smc(RMIRealmActivate, activeREC), RMISuccess, 0)
	off, _ := w.systemOffRealm()
	empty := w.newRealm(6)
	emptyParams := w.r.realms[empty]
	emptyActive := w.newRealm(8)
	w.wantStatus("activate", w.smc(RMIRealmActivate, emptyActive), RMISuccess, 0)

	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("rd", func() uint64 { return empty }, arg, kUndelegated, kSecure, kDelegated, kREC, kRECAux, kRTT, kData)
	// [rd_bound, rd_state] < [realm_live] cannot be provoked together.
	tests = append(tests,
		rmiStimulus{msg: "realm_live (a REC)", args: fixedArgs(withREC), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_live (a table entry in the protected half)", args: fixedArgs(withTable), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_live (a table entry in the unprotected half)", args: fixedArgs(withNSTable), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_live (a REC and DATA)", args: fixedArgs(w.rd), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_live (ACTIVE, a REC)", args: fixedArgs(activeREC), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_live (SYSTEM_OFF, RECs and RTTs)", args: fixedArgs(off.rd), status: RMIErrorRealm},
		rmiStimulus{msg: "success (NEW)", args: fixedArgs(empty)},
		rmiStimulus{msg: "success (ACTIVE)", args: fixedArgs(emptyActive)},
	)
	w.runStimuli(t, RMIRealmDestroy, tests)

	// Positive observability: the RD and its RTTs are DELEGATED (they
	// undelegate; the RD is no longer an RD) and the VMID is free.
	w.wantStatus("DESTROY again", w.smc(RMIRealmDestroy, empty), RMIErrorInput, 0)
	for i := range emptyParams.numStart {
		w.wantStatus("UNDELEGATE an RTT", w.smc(RMIGranuleUndelegate, emptyParams.rttBase+uint64(i)*GranuleSize), RMISuccess, 0)
	}
	w.wantStatus("UNDELEGATE the RD", w.smc(RMIGranuleUndelegate, empty), RMISuccess, 0)
	w.newRealm(uint64(emptyParams.vmid))

	// A live realm's RD cannot be undelegated; once what kept it live is
	// gone, the realm is destroyed and everything undelegates.
	w.wantStatus("UNDELEGATE a live RD", w.smc(RMIGranuleUndelegate, withTable), RMIErrorInput, 0)
	w.wantStatus("RTT_DESTROY", w.smc(RMIRttDestroy, withTable, 0, 2), RMISuccess, 0)
	w.wantStatus("RTT_DESTROY (unprotected)", w.smc(RMIRttDestroy, withNSTable, par40, 2), RMISuccess, 0)
	for _, rd := range []uint64{withTable, withNSTable} {
		w.wantStatus("REALM_DESTROY", w.smc(RMIRealmDestroy, rd), RMISuccess, 0)
		w.wantStatus("UNDELEGATE the RD", w.smc(RMIGranuleUndelegate, rd), RMISuccess, 0)
	}
	for _, rtt := range []uint64{l2, l2ns} {
		w.wantStatus("UNDELEGATE the level-2 RTT", w.smc(RMIGranuleUndelegate, rtt), RMISuccess, 0)
	}
	w.checkRMMInvariants()
}

// misaligned returns first, or the granule after it, whichever is not
// aligned to n granules: a base for n tables inside a run of n+1.
func misaligned(first uint64, n uint64) uint64 {
	if first%(n*GranuleSize) == 0 {
		return first + GranuleSize
	}
	return first
}
