package rmm

func init() {
	registerRMI(RMIRttCreate, (*RMM).rmiRttCreate)
	registerRMI(RMIRttDestroy, (*RMM).rmiRttDestroy)
	registerRMI(RMIRttFold, (*RMM).rmiRttFold)
	registerRMI(RMIRttReadEntry, (*RMM).rmiRttReadEntry)
	registerRMI(RMIRttMapUnprotected, (*RMM).rmiRttMapUnprotected)
	registerRMI(RMIRttUnmapUnprotected, (*RMM).rmiRttUnmapUnprotected)
	registerRMI(RMIRttInitRipas, (*RMM).rmiRttInitRipas)
	registerRMI(RMIRttSetRipas, (*RMM).rmiRttSetRipas)
}

// The RTT commands (Arm DEN0137 1.0-REL0 B4.3.15-B4.3.22). Every handler checks its failure
// conditions in the specification's order before it changes anything, so a
// failing command leaves the RTTs, the granule states and the RIM as they
// were. Where the reference leaves an output or an order open, the handlers
// follow TF-RMM at rmm-spec-v1.0-rel0 (runtime/rmi/rtt.c, lib/s2tt).

// Host-controlled fields of an RTT_MAP_UNPROTECTED descriptor besides the
// output address: MemAttr[4:2] and S2AP[7:6] (TF-RMM rel0
// S2TTE_NS_ATTR_MASK; shareability is the RMM's). With HCR_EL2.FWB,
// MemAttr 0b100 is reserved (TF-RMM S2TTE_MEMATTR_FWB_RESERVED).
const (
	nsAttrMask         = 0x7<<2 | 0x3<<6
	memAttrMask        = 0x7 << 2
	memAttrFWBReserved = 0x4 << 2
)

// errRTT is RMI_ERROR_RTT with the level in the index and outputs X1...
// (RTT_DESTROY, DATA_DESTROY and RTT_UNMAP_UNPROTECTED report top on
// ERROR_RTT too).
func errRTT(level int, out ...uint64) [5]uint64 {
	x := success(out...)
	x[0] = Pack(RMIErrorRtt, uint8(level))
	return x
}

// levelAligned reports whether addr is aligned to the size an entry at
// level maps.
func levelAligned(addr uint64, level int) bool { return addr&(levelSize(level)-1) == 0 }

// inIPASpace is the ipa_bound half every RTT command shares: ipa < 2^s2sz.
func (rl *realmDesc) inIPASpace(ipa uint64) bool { return ipa>>rl.s2sz == 0 }

// structureArgs checks level_bound, ipa_align and ipa_bound of the commands
// that create, destroy or fold an RTT (RTT_CREATE, RTT_DESTROY, RTT_FOLD):
// the RTT is below the starting level, at most level 3, and ipa is the
// start of the region it maps, one entry at level-1 (TF-RMM
// validate_rtt_structure_cmds). All ERROR_INPUT.
func (rl *realmDesc) structureArgs(ipa, level uint64) (int, bool) {
	if level <= uint64(rl.startLevel) || level > maxLevel {
		return 0, false
	}
	l := int(level)
	return l, levelAligned(ipa, l-1) && rl.inIPASpace(ipa)
}

// rttArgs applies rd_* (lookupRD) and then level_bound, ipa_align and
// ipa_bound as args checks them (structureArgs or unprotectedArgs): the
// first conditions of the RTT commands on (rd, ipa, level), in their
// order. All ERROR_INPUT, so ok is false when any fails.
func (r *RMM) rttArgs(rd, ipa, level uint64, args func(rl *realmDesc, ipa, level uint64) (int, bool)) (*realmDesc, int, bool) {
	rl := r.lookupRD(rd)
	if rl == nil {
		return nil, 0, false
	}
	l, ok := args(rl, ipa, level)
	return rl, l, ok
}

// childRTT is an RTT found through its parent entry.
type childRTT struct {
	parent  walkResult // the walk to the parent entry, at level-1
	addr    uint64
	g       *granule
	entries [entriesPerRTT]rtte
}

// tableEntry is rtt_walk and rtte_state of RTT_DESTROY and RTT_FOLD, in
// this order: the walk to level-1 must reach it (else RTT[walk level]) and
// the parent entry there must be TABLE (else RTT[level-1]). On failure it
// returns the level of the RTT error, and the walk (for the caller's top).
func (r *RMM) tableEntry(rl *realmDesc, ipa uint64, level int) (childRTT, int, bool) {
	c := childRTT{parent: r.mustWalk(rl, ipa, level-1)}
	if c.parent.level < level-1 {
		return c, c.parent.level, false
	}
	if c.parent.entry.hipas() != hipasTable {
		return c, level - 1, false
	}
	c.addr = c.parent.entry.addr()
	c.g = r.rttGranule(rl, c.addr, level)
	var err error
	c.entries, err = r.readRTT(c.addr)
	mustPlatform(err)
	return c, 0, true
}

// mustWalk walks rl's RTTs; the RTTs are the RMM's own memory.
func (r *RMM) mustWalk(rl *realmDesc, ipa uint64, level int) walkResult {
	w, err := r.walk(rl, ipa, level)
	mustPlatform(err)
	return w
}

// live reports whether an entry has an output address (ASSIGNED,
// ASSIGNED_NS, TABLE): what RttSkipNonLiveEntries stops at (TF-RMM
// s2tt_skip_non_live_entries).
func (e rtte) live() bool {
	switch e.hipas() {
	case hipasAssigned, hipasAssignedNS, hipasTable:
		return true
	}
	return false
}

// skipNonLive is the `top` output of RTT_DESTROY, DATA_DESTROY and
// RTT_UNMAP_UNPROTECTED, computed in the RTT where the walk for ipa
// stopped: ipa itself if that entry is live; otherwise the address of the
// next live entry of the same RTT, or the end of the region the RTT maps.
// A host tearing down a range uses it to skip what holds nothing (KVM:
// top > ipa means "nothing here"). This is RttSkipNonLiveEntries (Arm
// DEN0137 1.0-REL0 B3.76) with one exception, as TF-RMM rel0
// s2tt_skip_non_live_entries has it: when ipa's own entry is live but maps
// a larger block than ipa is aligned to (a walk that stopped above the
// level asked for), top is ipa itself, as the commands' outcome tables
// state (B4.3.3.1.3, B4.3.16.1.3: "== ipa"), not ipa aligned down to the
// block, which B3.76's final AlignDownToRttLevel would give.
func (r *RMM) skipNonLive(w walkResult, ipa uint64) uint64 {
	entries, err := r.readRTT(w.rtt)
	mustPlatform(err)
	if entries[w.index].live() {
		return ipa
	}
	size := levelSize(w.level)
	first := ipa&^(size-1) - uint64(w.index)*size // address of entry 0
	for i := w.index + 1; i < entriesPerRTT; i++ {
		if entries[i].live() {
			return first + uint64(i)*size
		}
	}
	return first + entriesPerRTT*size
}

// rttGranule returns the descriptor of an RTT granule a table entry of rl
// points to; anything else breaks the emulator's invariants.
func (r *RMM) rttGranule(rl *realmDesc, pa uint64, level int) *granule {
	g := r.granules.lookup(pa)
	if g == nil || g.state != granuleRTT || g.owner != rl.rd || int(g.level) != level {
		panic("rmm: table entry does not point to an RTT granule of the realm at its level")
	}
	return g
}

// releaseGranule zeroes a granule the RMM owned and returns it to DELEGATED
// (DELEGATED granules are always zero, Arm DEN0137 1.0-REL0 A2.2 Granule).
func (r *RMM) releaseGranule(pa uint64, g *granule) {
	mustPlatform(r.zero(pa))
	*g = granule{state: granuleDelegated}
}

// unfold returns the entries of a new level-`level` RTT that inherits its
// parent entry's state (RTT_CREATE): unassigned entries copy the state,
// ASSIGNED and ASSIGNED_NS blocks split into entries mapping consecutive
// PAs with the same RIPAS or host attributes.
func unfold(parent rtte, level int) *[entriesPerRTT]rtte {
	var entries [entriesPerRTT]rtte
	size := levelSize(level)
	for i := range entries {
		pa := parent.addr() + uint64(i)*size
		switch parent.hipas() {
		case hipasUnassigned, hipasUnassignedNS:
			entries[i] = parent
		case hipasAssigned:
			entries[i] = assignedRTTE(pa, parent.ripas(), level)
		case hipasAssignedNS:
			entries[i] = assignedNSRTTE(pa|uint64(parent.hostAttrs()), level)
		}
	}
	return &entries
}

// fold returns the level-(level-1) entry that replaces a homogeneous
// level-`level` RTT (RTT_FOLD): all UNASSIGNED with one RIPAS, all
// UNASSIGNED_NS, or all ASSIGNED (one RIPAS) or ASSIGNED_NS (one set of
// host attributes) mapping a contiguous block aligned to level-1. An RTT is
// homogeneous exactly when unfolding the entry its first entry implies
// gives it back, which makes fold and unfold inverses. An RTT of ASSIGNED
// or ASSIGNED_NS entries is homogeneous only at level 2 or 3 (Arm DEN0137
// 1.0-REL0 A5.5.6 RTT folding): level-1 must be able to hold a block.
// Otherwise ok is false.
func fold(entries *[entriesPerRTT]rtte, level int) (parent rtte, ok bool) {
	first := entries[0]
	parent, block := first, true
	switch first.hipas() {
	case hipasUnassigned, hipasUnassignedNS:
		block = false
	case hipasAssigned:
		parent = assignedRTTE(first.addr(), first.ripas(), level-1)
	case hipasAssignedNS:
		parent = assignedNSRTTE(first.addr()|uint64(first.hostAttrs()), level-1)
	default:
		return 0, false
	}
	if block && (level-1 < minBlockLevel || !levelAligned(first.addr(), level-1)) {
		return 0, false
	}
	return parent, *unfold(parent, level) == *entries
}

// RMI_RTT_CREATE(rd, rtt, ipa, level). Conditions (Arm DEN0137 1.0-REL0 B4.3.15.2):
// rd_align, rd_bound, rd_state, level_bound, ipa_align, ipa_bound,
// rtt_align, rtt_bound (incl. a PA beyond 48 bits, no LPA2), rtt_state →
// INPUT; rtt_walk (the walk to level-1 stops above it) → RTT[walk level];
// rtte_state (the parent entry is already TABLE) → RTT[level-1]. Any realm
// state. The new RTT inherits the parent entry's state (unfold).
func (r *RMM) rmiRttCreate(a *[6]uint64) [5]uint64 {
	rdAddr, rttAddr, ipa := a[0], a[1], a[2]
	rl, level, ok := r.rttArgs(rdAddr, ipa, a[3], (*realmDesc).structureArgs)
	if !ok {
		return status(RMIErrorInput)
	}
	if !aligned(rttAddr) || rttAddr&^rtteAddrMask != 0 {
		return status(RMIErrorInput)
	}
	g := r.granules.lookup(rttAddr)
	if g == nil || g.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	w := r.mustWalk(rl, ipa, level-1)
	if w.level < level-1 {
		return errRTT(w.level)
	}
	if w.entry.hipas() == hipasTable {
		return errRTT(level - 1)
	}
	mustPlatform(r.writeRTT(rttAddr, unfold(w.entry, level)))
	mustPlatform(r.writeRTTE(w.rtt, w.index, tableRTTE(rttAddr)))
	*g = granule{state: granuleRTT, owner: rl.rd, level: int8(level)}
	return status(RMISuccess)
}

// RMI_RTT_DESTROY(rd, ipa, level) → rtt_pa, top. Conditions: rd_*,
// level_bound, ipa_align, ipa_bound → INPUT (X1 = X2 = 0); rtt_walk →
// RTT[walk level]; rtte_state (the parent entry is not TABLE) →
// RTT[level-1]; rtt_live → RTT[level]. On ERROR_RTT X2 is top as well. The
// parent entry becomes UNASSIGNED DESTROYED for a protected IPA (the realm
// can tell its memory was taken) and UNASSIGNED_NS for an unprotected one;
// the RTT granule is zeroed and DELEGATED (TF-RMM rel0 smc_rtt_destroy).
func (r *RMM) rmiRttDestroy(a *[6]uint64) [5]uint64 {
	ipa := a[1]
	rl, level, ok := r.rttArgs(a[0], ipa, a[2], (*realmDesc).structureArgs)
	if !ok {
		return status(RMIErrorInput)
	}
	c, errLevel, ok := r.tableEntry(rl, ipa, level)
	w := c.parent
	if !ok {
		return errRTT(errLevel, 0, r.skipNonLive(w, ipa))
	}
	if rttLive(&c.entries) {
		return errRTT(level, 0, r.skipNonLive(w, ipa))
	}
	parent := unassignedNSRTTE()
	if ipa < rl.parTop() {
		parent = unassignedRTTE(RIPASDestroyed)
	}
	mustPlatform(r.writeRTTE(w.rtt, w.index, parent))
	r.releaseGranule(c.addr, c.g)
	return success(c.addr, r.skipNonLive(w, ipa))
}

// RMI_RTT_FOLD(rd, ipa, level) → rtt_pa. Conditions: rd_*, level_bound,
// ipa_align, ipa_bound → INPUT; rtt_walk → RTT[walk level]; rtte_state
// (the parent entry is not TABLE) → RTT[level-1]; rtte_homo (the RTT is not
// homogeneous) → RTT[level]. An RTT of ASSIGNED or ASSIGNED_NS entries at
// level 1 is not homogeneous (A5.5.6: level 2 or 3), so it fails rtte_homo
// with RTT[1] (Arm DEN0137 1.0-REL0 B4.3.17.2); TF-RMM rel0 reports the
// parent's level, RTT[0], there instead. The RTT granule is zeroed and
// DELEGATED.
func (r *RMM) rmiRttFold(a *[6]uint64) [5]uint64 {
	ipa := a[1]
	rl, level, ok := r.rttArgs(a[0], ipa, a[2], (*realmDesc).structureArgs)
	if !ok {
		return status(RMIErrorInput)
	}
	c, errLevel, ok := r.tableEntry(rl, ipa, level)
	if !ok {
		return errRTT(errLevel)
	}
	e, ok := fold(&c.entries, level)
	if !ok {
		return errRTT(level)
	}
	mustPlatform(r.writeRTTE(c.parent.rtt, c.parent.index, e))
	r.releaseGranule(c.addr, c.g)
	return success(c.addr)
}

// RMI_RTT_READ_ENTRY(rd, ipa, level) → walk_level, state, desc, ripas.
// Conditions: rd_*, level_bound (level below the starting level or above
// 3), ipa_align (to level), ipa_bound → INPUT, with X1..X3 zero (X4 is the
// host's own, see HandleRMI). desc is the output address of an ASSIGNED or
// TABLE entry, the host's descriptor (address, MemAttr, S2AP) of an
// ASSIGNED_NS entry, and 0 otherwise; ripas is EMPTY for unprotected and
// TABLE entries (Arm DEN0137 1.0-REL0 B4.3.20.3; TF-RMM rel0
// smc_rtt_read_entry). ASSIGNED DESTROYED included (state_prot: the
// address of every ASSIGNED entry): TF-RMM at the rmm-spec-v1.0-rel0 tag
// returned 0 there and fixed that as a bug soon after (commit f5257c6e
// "fix(runtime): RTT_READ_ENTRY does not set x3 correctly", first released
// in tf-rmm-v0.6.0).
func (r *RMM) rmiRttReadEntry(a *[6]uint64) [5]uint64 {
	ipa := a[1]
	rl := r.lookupRD(a[0])
	if rl == nil {
		return status(RMIErrorInput)
	}
	if a[2] < uint64(rl.startLevel) || a[2] > maxLevel {
		return status(RMIErrorInput)
	}
	level := int(a[2])
	if !levelAligned(ipa, level) || !rl.inIPASpace(ipa) {
		return status(RMIErrorInput)
	}
	w := r.mustWalk(rl, ipa, level)
	e := w.entry
	var state, desc, ripas uint64
	switch e.hipas() {
	case hipasUnassigned:
		state, ripas = RTTEStateUnassigned, uint64(e.ripas())
	case hipasUnassignedNS:
		state, ripas = RTTEStateUnassigned, RIPASEmpty
	case hipasAssigned:
		state, desc, ripas = RTTEStateAssigned, e.addr(), uint64(e.ripas())
	case hipasAssignedNS:
		state, desc, ripas = RTTEStateAssigned, e.addr()|uint64(e.hostAttrs()), RIPASEmpty
	case hipasTable:
		state, desc, ripas = RTTEStateTable, e.addr(), RIPASEmpty
	case hipasShared: // the sharing extension, docs/sharing.md §4.2
		state, desc, ripas = RTTEStateShared, e.addr(), uint64(e.ripas())
	}
	return success(uint64(w.level), state, desc, ripas)
}

// unprotectedArgs checks level_bound, ipa_align and ipa_bound of
// RTT_MAP_UNPROTECTED and RTT_UNMAP_UNPROTECTED: a leaf level (level 1 to 3,
// and not above the starting level), ipa aligned to it, in the unprotected
// half of the IPA space. All ERROR_INPUT.
func (rl *realmDesc) unprotectedArgs(ipa, level uint64) (int, bool) {
	if level < minBlockLevel || level < uint64(rl.startLevel) || level > maxLevel {
		return 0, false
	}
	l := int(level)
	return l, levelAligned(ipa, l) && ipa >= rl.parTop() && rl.inIPASpace(ipa)
}

// RMI_RTT_MAP_UNPROTECTED(rd, ipa, level, desc). Conditions: attr_valid
// (desc has bits outside the output address, MemAttr and S2AP, or a
// reserved MemAttr), rd_*, level_bound, addr_align (the output address is
// not aligned to level), ipa_align, ipa_bound (protected, or beyond
// 2^s2sz) → INPUT; rtt_walk → RTT[walk level]; rtte_state (not
// UNASSIGNED_NS) → RTT[level]. The host may map any PA outside the PAR:
// the GPC, not the RMM, keeps the realm's accesses to it in the NS PAS.
func (r *RMM) rmiRttMapUnprotected(a *[6]uint64) [5]uint64 {
	ipa, desc := a[1], a[3]
	if desc&^(rtteAddrMask|nsAttrMask) != 0 || desc&memAttrMask == memAttrFWBReserved {
		return status(RMIErrorInput)
	}
	rl, level, ok := r.rttArgs(a[0], ipa, a[2], (*realmDesc).unprotectedArgs)
	if !ok || !levelAligned(desc&rtteAddrMask, level) {
		return status(RMIErrorInput)
	}
	w := r.mustWalk(rl, ipa, level)
	if w.level < level {
		return errRTT(w.level)
	}
	if w.entry.hipas() != hipasUnassignedNS {
		return errRTT(level)
	}
	mustPlatform(r.writeRTTE(w.rtt, w.index, assignedNSRTTE(desc, level)))
	return status(RMISuccess)
}

// RMI_RTT_UNMAP_UNPROTECTED(rd, ipa, level) → top. Conditions: rd_*,
// level_bound, ipa_align, ipa_bound → INPUT; rtt_walk → RTT[walk level];
// rtte_state (not ASSIGNED_NS) → RTT[level]. X1 is top on ERROR_RTT too.
func (r *RMM) rmiRttUnmapUnprotected(a *[6]uint64) [5]uint64 {
	ipa := a[1]
	rl, level, ok := r.rttArgs(a[0], ipa, a[2], (*realmDesc).unprotectedArgs)
	if !ok {
		return status(RMIErrorInput)
	}
	w := r.mustWalk(rl, ipa, level)
	if w.level < level {
		return errRTT(w.level, r.skipNonLive(w, ipa))
	}
	if w.entry.hipas() != hipasAssignedNS {
		return errRTT(level, r.skipNonLive(w, ipa))
	}
	mustPlatform(r.writeRTTE(w.rtt, w.index, unassignedNSRTTE()))
	return success(r.skipNonLive(w, ipa))
}

// ripasRange is the common part of RTT_INIT_RIPAS and RTT_SET_RIPAS: walk
// to the deepest RTT covering base, require base to be aligned to its
// entries (base_align → RTT[level]), then offer the entries of that one RTT
// from base, while they end at or below top, to change; change returns the
// new entry, or false to stop. It returns the address reached; reaching
// nothing is no_progress → RTT[level]. The RTT is written only on
// progress; done(base, top), if not nil, runs for each entry accepted.
func (r *RMM) ripasRange(rl *realmDesc, base, top uint64, change func(e rtte, level int) (rtte, bool),
	done func(base, top uint64)) (uint64, [5]uint64, bool) {
	w := r.mustWalk(rl, base, maxLevel)
	if !levelAligned(base, w.level) {
		return 0, errRTT(w.level), false
	}
	entries, err := r.readRTT(w.rtt)
	mustPlatform(err)
	size := levelSize(w.level)
	addr := base
	for i := w.index; i < entriesPerRTT && addr+size <= top; i++ {
		e, ok := change(entries[i], w.level)
		if !ok {
			break
		}
		entries[i] = e
		if done != nil {
			done(addr, addr+size)
		}
		addr += size
	}
	if addr == base {
		return 0, errRTT(w.level), false
	}
	mustPlatform(r.writeRTT(w.rtt, &entries))
	return addr, [5]uint64{}, true
}

// RMI_RTT_INIT_RIPAS(rd, base, top) → out_top. Conditions (Arm DEN0137 1.0-REL0
// B4.3.18.2): size_valid (top ≤ base), rd_*, base and top granule alignment,
// top_bound (top beyond the PAR) → INPUT; realm_state (not NEW) → REALM;
// base_align (base not aligned to the entry the walk reached) →
// RTT[level]; no_progress (the first entry is not UNASSIGNED EMPTY or RAM,
// or ends beyond top) → RTT[level]. UNASSIGNED EMPTY entries become
// UNASSIGNED RAM; each entry processed extends the RIM with a RIPAS
// descriptor of its own range (Arm DEN0137 1.0-REL0 A7.1), so the RIM depends on the RTT
// geometry.
func (r *RMM) rmiRttInitRipas(a *[6]uint64) [5]uint64 {
	base, top := a[1], a[2]
	if top <= base {
		return status(RMIErrorInput)
	}
	rl := r.lookupRD(a[0])
	if rl == nil {
		return status(RMIErrorInput)
	}
	if !aligned(base) || !aligned(top) || top > rl.parTop() {
		return status(RMIErrorInput)
	}
	if rl.state != realmNew {
		return status(RMIErrorRealm)
	}
	// done runs for the entries accepted (RAM ones too: TF-RMM measures
	// them again), and a call that accepts none fails: the RIM moves only
	// on success.
	out, x, ok := r.ripasRange(rl, base, top, func(e rtte, _ int) (rtte, bool) {
		switch e {
		case unassignedRTTE(RIPASEmpty), unassignedRTTE(RIPASRAM):
			return unassignedRTTE(RIPASRAM), true
		}
		return e, false
	}, func(b, t uint64) { rl.rim.ExtendRIPAS(rl.hash, b, t) })
	if !ok {
		return x
	}
	return success(out)
}

// RMI_RTT_SET_RIPAS(rd, rec, base, top) → out_top: the host's answer to the
// REC's pending RSI_IPA_STATE_SET. Conditions: size_valid and
// top_gran_align (top not 4 KB aligned) → INPUT, checked first as TF-RMM
// runtime/rmi/rtt.c smc_rtt_set_ripas does since its fix after the
// rmm-spec-v1.0-rel0 tag (cca-rmm-acs v1.0_REL0_12.24 cmd_rtt_set_ripas
// rows top_gran_align; Arm DEN0137 1.0-REL0 B4.3.21.2 orders it only
// before no_progress); rd_*,
// rec_align, rec_bound, rec_gran_state → INPUT; rec running → REC;
// rec_owner (the REC is not rd's) → REC; base_bound (base is not the REC's
// progress address, or no change is pending), top_bound (top beyond the
// requested top) → INPUT; base_align → RTT[level]; no_progress →
// RTT[level]. UNASSIGNED and ASSIGNED entries take the requested RIPAS
// (ASSIGNED ones keep their PA and become valid exactly when RAM);
// DESTROYED ones only with RSI_CHANGE_DESTROYED, else they stop the
// progress. The REC's progress address advances; nothing is measured.
func (r *RMM) rmiRttSetRipas(a *[6]uint64) [5]uint64 {
	base, top := a[2], a[3]
	if top <= base || !aligned(top) {
		return status(RMIErrorInput)
	}
	rl := r.lookupRD(a[0])
	if rl == nil {
		return status(RMIErrorInput)
	}
	rec := r.lookupREC(a[1])
	if rec == nil {
		return status(RMIErrorInput)
	}
	if rec.state == recRunning || rec.owner != rl.rd {
		return status(RMIErrorRec)
	}
	if !rec.ripasPending || base != rec.ripasAddr || top > rec.ripasTop {
		return status(RMIErrorInput)
	}
	out, x, ok := r.ripasRange(rl, base, top, func(e rtte, level int) (rtte, bool) {
		return setRIPAS(e, level, rec.ripasValue, rec.ripasDestroyed)
	}, nil)
	if !ok {
		return x
	}
	rec.ripasAddr = out
	return success(out)
}

// setRIPAS gives a protected entry a new RIPAS (TF-RMM rel0 update_ripas):
// unassigned entries stay unassigned, assigned ones keep their PA;
// DESTROYED changes only when changeDestroyed. Unprotected and TABLE
// entries have no RIPAS and stop the change.
func setRIPAS(e rtte, level int, ripas uint8, changeDestroyed bool) (rtte, bool) {
	if e.ripas() == RIPASDestroyed && !changeDestroyed {
		return e, false
	}
	switch e.hipas() {
	case hipasUnassigned:
		return unassignedRTTE(ripas), true
	case hipasAssigned:
		return assignedRTTE(e.addr(), ripas, level), true
	}
	return e, false
}
