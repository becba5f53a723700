package rmm

import (
	"errors"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/realm"
)

func init() {
	registerRMI(RMIDataCreate, (*RMM).rmiDataCreate)
	registerRMI(RMIDataCreateUnknown, (*RMM).rmiDataCreateUnknown)
	registerRMI(RMIDataDestroy, (*RMM).rmiDataDestroy)
}

// DATA_CREATE flags (Arm DEN0137 1.0-REL0 B4.4 RmiDataFlags).
const (
	RMINoMeasureContent = realm.NoMeasureContent
	RMIMeasureContent   = realm.MeasureContent
)

// dataGranule applies data_align, data_bound (incl. a PA beyond 48 bits,
// which needs LPA2) and data_state (the granule is DELEGATED: not in use,
// and zero). All ERROR_INPUT.
func (r *RMM) dataGranule(addr uint64) *granule {
	if !aligned(addr) || addr&^rtteAddrMask != 0 {
		return nil
	}
	if g := r.granules.lookup(addr); g != nil && g.state == granuleDelegated {
		return g
	}
	return nil
}

// dataIPA is ipa_align and ipa_bound of the DATA commands: a granule of the
// Protected Address Range.
func (rl *realmDesc) dataIPA(ipa uint64) bool { return aligned(ipa) && ipa < rl.parTop() }

// dataArgs applies, in this order, data_align, data_bound, data_state
// (dataGranule), rd_align, rd_bound, rd_state (lookupRD), ipa_align and
// ipa_bound (dataIPA): the run of conditions that DATA_CREATE and
// DATA_CREATE_UNKNOWN share. All ERROR_INPUT.
func (r *RMM) dataArgs(dataAddr, rdAddr, ipa uint64) (*granule, *realmDesc, bool) {
	g := r.dataGranule(dataAddr)
	if g == nil {
		return nil, nil, false
	}
	rl := r.lookupRD(rdAddr)
	if rl == nil || !rl.dataIPA(ipa) {
		return nil, nil, false
	}
	return g, rl, true
}

// dataEntry is rtt_walk and rtte_state of DATA_CREATE(_UNKNOWN): the walk
// must reach a level-3 RTT (else RTT[walk level]) and the entry must be
// UNASSIGNED, with any RIPAS (else RTT[3]).
func (r *RMM) dataEntry(rl *realmDesc, ipa uint64) (walkResult, [5]uint64, bool) {
	w := r.walkData(rl, ipa)
	if w.level < maxLevel {
		return w, errRTT(w.level), false
	}
	if w.entry.hipas() != hipasUnassigned {
		return w, errRTT(maxLevel), false
	}
	return w, [5]uint64{}, true
}

// RMI_DATA_CREATE(rd, data, ipa, src, flags). Conditions in the order of
// Arm DEN0137 1.0-REL0 B4.3.1.2: src_align, src_bound, src_pas (src is read in the
// NS PAS; a GPF is src_pas too), data_align, data_bound, data_state,
// rd_align, rd_bound, rd_state, ipa_align, ipa_bound (not a protected
// IPA), flags (not NO_MEASURE_CONTENT or MEASURE_CONTENT) → INPUT;
// realm_state (not NEW) → REALM; rtt_walk → RTT[walk level]; rtte_state
// (not UNASSIGNED) → RTT[3]. ipa_bound beats rtt_walk and rtte_state (ACS
// ipa_bound_compare_*). TF-RMM rel0 checks flags first and realm_state
// before ipa_*; the specification does not order those pairs and the
// emulator keeps the reference's order.
//
// The 4 KB of src are copied into the data granule (Realm PAS), the entry
// becomes ASSIGNED RAM whatever its RIPAS was, and the RIM is extended
// with a DATA descriptor carrying ipa, flags and, for MEASURE_CONTENT, the
// hash of the content (Arm DEN0137 1.0-REL0 A7.1 Realm measurements).
func (r *RMM) rmiDataCreate(a *[6]uint64) [5]uint64 {
	rdAddr, dataAddr, ipa, src, flags := a[0], a[1], a[2], a[3], a[4]
	// src_align, src_bound, src_pas: the GPC alone, the copy comes last.
	if !r.nsGranule(src) || r.plat.Check(gpt.PASNonSecure, src) != nil {
		return status(RMIErrorInput)
	}
	g, rl, ok := r.dataArgs(dataAddr, rdAddr, ipa) // data_*, rd_*, ipa_*
	if !ok {
		return status(RMIErrorInput)
	}
	if flags != RMINoMeasureContent && flags != RMIMeasureContent {
		return status(RMIErrorInput)
	}
	if rl.state != realmNew {
		return status(RMIErrorRealm)
	}
	w, x, ok := r.dataEntry(rl, ipa)
	if !ok {
		return x
	}
	// One copy through the GPC from the host's granule into the data
	// granule (the platform's copy primitive: the two share storage until
	// either is written), the content hashed as it lands, under the
	// granules' locks: what the RIM covers is what the realm gets, whatever
	// the host does to src meanwhile (TF-RMM rmm-spec-v1.0-rel0
	// runtime/rmi/rtt.c smc_data_create copies into the mapped data
	// granule, then measures that). NO_MEASURE_CONTENT hashes nothing.
	var see func([]byte)
	if flags == RMIMeasureContent {
		d := &r.dataCreate
		d.content = d.sha256
		if rl.hash == realm.HashSHA512 {
			d.content = d.sha512
		}
		d.content.Reset()
		see = r.measureData
	}
	if err := r.plat.CopyGranule(gpt.PASRealm, dataAddr, gpt.PASNonSecure, src, see); err != nil {
		if f := (*gpt.Fault)(nil); errors.As(err, &f) && f.PA == src {
			return status(RMIErrorInput) // src_pas, the GPT changed since the check: nothing copied
		}
		mustPlatform(err)
	}
	var digest []byte // the content's, for MEASURE_CONTENT
	if see != nil {
		digest = r.dataCreate.content.Sum(r.dataCreate.sum[:0])
	}
	rl.rim.ExtendDataDigest(rl.hash, ipa, flags, digest)
	mustPlatform(r.writeRTTE(w.rtt, w.index, assignedRTTE(dataAddr, RIPASRAM, maxLevel)))
	*g = granule{state: granuleData, owner: rl.rd}
	return status(RMISuccess)
}

// RMI_DATA_CREATE_UNKNOWN(rd, data, ipa). Conditions: data_align,
// data_bound, data_state, rd_*, ipa_align, ipa_bound → INPUT; rtt_walk →
// RTT[walk level]; rtte_state → RTT[3]. No realm-state condition (a host
// backs RAM on demand after activation). The entry becomes ASSIGNED with
// its RIPAS unchanged, so it translates only if RAM; the granule stays
// zero, and nothing is measured.
func (r *RMM) rmiDataCreateUnknown(a *[6]uint64) [5]uint64 {
	rdAddr, dataAddr, ipa := a[0], a[1], a[2]
	g, rl, ok := r.dataArgs(dataAddr, rdAddr, ipa) // data_*, rd_*, ipa_*
	if !ok {
		return status(RMIErrorInput)
	}
	w, x, ok := r.dataEntry(rl, ipa)
	if !ok {
		return x
	}
	mustPlatform(r.writeRTTE(w.rtt, w.index, assignedRTTE(dataAddr, w.entry.ripas(), maxLevel)))
	*g = granule{state: granuleData, owner: rl.rd}
	return status(RMISuccess)
}

// RMI_DATA_DESTROY(rd, ipa) → data_pa, top. Conditions: rd_*, ipa_align,
// ipa_bound → INPUT (X1 = X2 = 0); rtt_walk → RTT[walk level]; rtte_state
// (not ASSIGNED) → RTT[3]; on ERROR_RTT X2 is top as well. ASSIGNED RAM
// becomes UNASSIGNED DESTROYED (the realm's memory was taken from it),
// ASSIGNED EMPTY becomes UNASSIGNED EMPTY and ASSIGNED DESTROYED becomes
// UNASSIGNED DESTROYED; the data granule is zeroed and DELEGATED. Any
// realm state.
func (r *RMM) rmiDataDestroy(a *[6]uint64) [5]uint64 {
	ipa := a[1]
	rl := r.lookupRD(a[0])
	if rl == nil || !rl.dataIPA(ipa) {
		return status(RMIErrorInput)
	}
	w := r.mustWalk(rl, ipa, maxLevel)
	if w.level < maxLevel {
		return errRTT(w.level, 0, r.skipNonLive(w, ipa))
	}
	e := w.entry
	if e.hipas() != hipasAssigned {
		return errRTT(maxLevel, 0, r.skipNonLive(w, ipa))
	}
	after := unassignedRTTE(RIPASDestroyed)
	if e.ripas() == RIPASEmpty {
		after = unassignedRTTE(RIPASEmpty)
	}
	data := e.addr()
	g := r.granules.lookup(data)
	if g == nil || g.state != granuleData || g.owner != rl.rd {
		panic("rmm: ASSIGNED entry does not point to a DATA granule of the realm")
	}
	if r.sharePins[data] > 0 {
		// The sharing extension: the granule is the argument of an
		// RSI_SHARE_INVOKE in flight (docs/sharing.md §6).
		return errRTT(maxLevel, 0, r.skipNonLive(w, ipa))
	}
	mustPlatform(r.writeRTTE(w.rtt, w.index, after))
	r.releaseGranule(data, g)
	return success(data, r.skipNonLive(w, ipa))
}
