package rmm

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

func init() {
	registerRMI(RMIRealmCreate, (*RMM).rmiRealmCreate)
	registerRMI(RMIRealmActivate, (*RMM).rmiRealmActivate)
	registerRMI(RMIRealmDestroy, (*RMM).rmiRealmDestroy)
}

// nsGranule checks a host pointer to an NS buffer granule: _align, _bound
// (a granule of the DRAM the RMM knows) and _pas (the granule is
// UNDELEGATED), the params/src/run conditions of Arm DEN0137 1.0-REL0 B4.3.
// All ERROR_INPUT.
func (r *RMM) nsGranule(addr uint64) bool {
	if !aligned(addr) {
		return false
	}
	g := r.granules.lookup(addr)
	return g != nil && g.state == granuleNS
}

// readNSGranule reads a whole host buffer granule after nsGranule; a GPF
// (the GPT says otherwise) is also the _pas condition. The result is the
// RMM's scratch granule: valid until the next call, under r.mu (the RMM
// copies host buffers into its own memory before using them, as TF-RMM
// does, so that the host cannot change them under its feet).
func (r *RMM) readNSGranule(addr uint64) (*[GranuleSize]byte, bool) {
	if !r.nsGranule(addr) {
		return nil, false
	}
	if err := r.nsRead(addr, r.scratch[:]); err != nil {
		return nil, false
	}
	return &r.scratch, true
}

// realmParams is RmiRealmParams as read from the host (Arm DEN0137 1.0-REL0 B4.4).
type realmParams struct {
	flags, s2sz, sveVL, numBPS, numWPS, pmuCtrs, hashAlgo uint64
	rpv                                                   [64]byte
	vmid                                                  uint64
	rttBase                                               uint64
	rttLevelStart                                         int64
	rttNumStart                                           uint64
}

func parseRealmParams(b *[GranuleSize]byte) realmParams {
	le := binary.LittleEndian
	var p realmParams
	p.flags = le.Uint64(b[RealmParamsFlags:])
	// TF-RMM reads s2sz..pmu_num_ctrs as 32-bit and hash_algo as a byte
	// (smc-rmi.h struct rmi_realm_params); the bytes above are padding it never looks at.
	p.s2sz = uint64(le.Uint32(b[RealmParamsS2SZ:]))
	p.sveVL = uint64(le.Uint32(b[RealmParamsSVEVL:]))
	p.numBPS = uint64(le.Uint32(b[RealmParamsNumBPS:]))
	p.numWPS = uint64(le.Uint32(b[RealmParamsNumWPS:]))
	p.pmuCtrs = uint64(le.Uint32(b[RealmParamsPMUNumCtrs:]))
	p.hashAlgo = uint64(b[RealmParamsHashAlgo])
	copy(p.rpv[:], b[RealmParamsRPV:RealmParamsRPV+64])
	p.vmid = uint64(le.Uint16(b[RealmParamsVMID:]))
	p.rttBase = le.Uint64(b[RealmParamsRTTBase:])
	p.rttLevelStart = int64(le.Uint64(b[RealmParamsRTTLevelStart:]))
	p.rttNumStart = le.Uint64(b[RealmParamsRTTNumStart:])
	return p
}

// valid is params_valid: encodings the specification defines. RMM
// 1.0-REL0 defines flags bits 0 to 2 and no others, so any other bit is
// refused. An RMM emitting TF-RMM main's tokens (mec) also takes the MEC
// policy request in flags0 bits [8:7], 0 shared or 1 private (TF-RMM main
// runtime/rmi/realm.c validate_realm_params: other values are
// RMI_ERROR_INPUT).
func (p *realmParams) valid(mec bool) bool {
	_, ok := measurementHash(p.hashAlgo)
	defined := uint64(RealmFlagLPA2 | RealmFlagSVE | RealmFlagPMU)
	if mec {
		defined |= RealmFlagMECPolicyMask
		if pol := p.flags & RealmFlagMECPolicyMask >> RealmFlagMECPolicyShift; pol != RealmMECPolicyShared && pol != RealmMECPolicyPrivate {
			return false
		}
	}
	return ok && p.s2sz >= minS2SZ && p.flags&^defined == 0
}

// supported is params_supp: what this RMM's feature register allows. The
// break/watchpoint counts are "minus one" values with 0 reserved
// (Arm DEN0137 1.0-REL0 B4.4 RmiFeatureRegister0; TF-RMM runtime/rmi/realm.c
// validate_realm_params).
func (p *realmParams) supported() bool {
	switch {
	case p.s2sz > featS2SZ:
		return false
	case p.flags&RealmFlagLPA2 != 0, p.flags&RealmFlagSVE != 0, p.sveVL != 0:
		return false // no LPA2, no SVE
	case p.numBPS == 0 || p.numBPS > featNumBPS, p.numWPS == 0 || p.numWPS > featNumWPS:
		return false
	case p.flags&RealmFlagPMU != 0 && p.pmuCtrs > featPMUNumCtrs:
		return false
	}
	return true
}

// RMI_REALM_CREATE(rd, params_ptr). Failure conditions in the order of
// Arm DEN0137 1.0-REL0 B4.3.9.2, all ERROR_INPUT: params_align, params_bound,
// params_pas, params_valid, params_supp, alias, rd_align, rd_bound,
// rd_state, rtt_align, rtt_num_level, rtt_state, vmid_valid.
func (r *RMM) rmiRealmCreate(a *[6]uint64) [5]uint64 {
	rdAddr, paramsPtr := a[0], a[1]
	buf, ok := r.readNSGranule(paramsPtr)
	if !ok {
		return status(RMIErrorInput)
	}
	p := parseRealmParams(buf)
	mec := r.cfg.Generation == token.Gen2
	if !p.valid(mec) || !p.supported() {
		return status(RMIErrorInput)
	}
	// alias: the RD inside the starting-level RTTs. rtt_num_start is
	// bounded first so the span cannot overflow.
	if p.rttNumStart <= 16 && rdAddr >= p.rttBase && rdAddr < p.rttBase+p.rttNumStart*GranuleSize {
		return status(RMIErrorInput)
	}
	if !aligned(rdAddr) {
		return status(RMIErrorInput)
	}
	rdG := r.granules.lookup(rdAddr)
	if rdG == nil || rdG.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	// rtt_align: rtt_base aligned to rtt_num_start × 4 KB, the size of the
	// concatenated starting-level tables (Arm DEN0137 1.0-REL0 B4.3.9.2
	// AddrIsAligned(params.rtt_base, params.rtt_num_start *
	// RMM_GRANULE_SIZE)). TF-RMM rmm-spec-v1.0-rel0 checks 4 KB only, and
	// the ACS v1.0_REL0 stimulus is 4 KB unaligned; the emulator keeps the
	// specification's rule. A count beyond 16 fails rtt_num_level (INPUT
	// too), and keeps the product from overflowing.
	if p.rttNumStart == 0 || p.rttNumStart > 16 || p.rttBase%(p.rttNumStart*GranuleSize) != 0 {
		return status(RMIErrorInput)
	}
	if !startGeometry(uint(p.s2sz), p.rttLevelStart, p.rttNumStart) {
		return status(RMIErrorInput)
	}
	roots := make([]*granule, p.rttNumStart)
	for i := range roots {
		roots[i] = r.granules.lookup(p.rttBase + uint64(i)*GranuleSize)
		if roots[i] == nil || roots[i].state != granuleDelegated {
			return status(RMIErrorInput)
		}
	}
	if p.vmid > 0xFFFF || r.vmids[uint16(p.vmid)] {
		return status(RMIErrorInput)
	}

	hash, _ := measurementHash(p.hashAlgo)
	rl := &realmDesc{
		rd: rdAddr, state: realmNew, flags: p.flags, s2sz: uint(p.s2sz), sveVL: p.sveVL,
		numBPS: p.numBPS, numWPS: p.numWPS, pmuCtrs: p.pmuCtrs, hash: hash, rpv: p.rpv,
		vmid: uint16(p.vmid), rttBase: p.rttBase, startLevel: int(p.rttLevelStart), numStart: int(p.rttNumStart),
	}
	// The starting-level RTTs: zero (UNASSIGNED EMPTY) in the protected
	// half, UNASSIGNED_NS in the unprotected half (Arm DEN0137 1.0-REL0 A5.5
	// Realm Translation Table).
	total := uint64(1) << (rl.s2sz - levelShift(rl.startLevel))
	for i := range roots {
		var entries [entriesPerRTT]rtte
		for j := range entries {
			if idx := uint64(i)*entriesPerRTT + uint64(j); idx >= total/2 && idx < total {
				entries[j] = unassignedNSRTTE()
			}
		}
		mustPlatform(r.writeRTT(rl.rttBase+uint64(i)*GranuleSize, &entries))
		roots[i].state, roots[i].owner, roots[i].level = granuleRTT, rdAddr, int8(rl.startLevel)
	}
	rl.rim = realm.InitialRIM(realm.RealmParams{
		Flags: p.flags, S2SZ: uint32(p.s2sz), SVEVL: uint32(p.sveVL), NumBPS: uint32(p.numBPS),
		NumWPS: uint32(p.numWPS), PMUNumCtrs: uint32(p.pmuCtrs), HashAlgo: hash,
	})
	if mec {
		// TF-RMM main smc_realm_create → generate_realm_instance_id: UEID
		// type RAND (0x01) and 32 bytes from the RMM's PRNG; the host has
		// no say in it. crypto/rand.Read never fails (Go 1.24+).
		rl.instanceID = make([]byte, 1+32)
		rl.instanceID[0] = 0x01
		_, _ = rand.Read(rl.instanceID[1:])
	}
	rdG.state = granuleRD
	r.vmids[rl.vmid] = true
	r.realms[rdAddr] = rl
	return status(RMISuccess)
}

// lookupRD applies rd_align, rd_bound and rd_state (the granule is an RD),
// all ERROR_INPUT.
func (r *RMM) lookupRD(addr uint64) *realmDesc {
	if !aligned(addr) {
		return nil
	}
	if g := r.granules.lookup(addr); g == nil || g.state != granuleRD {
		return nil
	}
	return r.realms[addr]
}

// RMI_REALM_ACTIVATE(rd): rd_* → INPUT; realm_state not NEW → REALM. The
// RIM is frozen from here on (Arm DEN0137 1.0-REL0 A7.1 Realm measurements).
func (r *RMM) rmiRealmActivate(a *[6]uint64) [5]uint64 {
	rl := r.lookupRD(a[0])
	if rl == nil {
		return status(RMIErrorInput)
	}
	if rl.state != realmNew {
		return status(RMIErrorRealm)
	}
	rl.state = realmActive
	return status(RMISuccess)
}

// RMI_REALM_DESTROY(rd): rd_* → INPUT; realm_live (RECs exist, or the
// starting-level RTTs hold live entries) → REALM.
func (r *RMM) rmiRealmDestroy(a *[6]uint64) [5]uint64 {
	rl := r.lookupRD(a[0])
	if rl == nil {
		return status(RMIErrorInput)
	}
	if rl.numRecs > 0 {
		return status(RMIErrorRealm)
	}
	for i := 0; i < rl.numStart; i++ {
		entries, err := r.readRTT(rl.rttBase + uint64(i)*GranuleSize)
		mustPlatform(err)
		if rttLive(&entries) {
			return status(RMIErrorRealm)
		}
	}
	for i := 0; i < rl.numStart; i++ {
		addr := rl.rttBase + uint64(i)*GranuleSize
		mustPlatform(r.zero(addr))
		*r.granules.lookup(addr) = granule{state: granuleDelegated}
	}
	mustPlatform(r.zero(rl.rd))
	*r.granules.lookup(rl.rd) = granule{state: granuleDelegated}
	delete(r.vmids, rl.vmid)
	delete(r.realms, rl.rd)
	return status(RMISuccess)
}
