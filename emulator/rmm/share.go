package rmm

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"

	"github.com/ccakit/cca/emulator/rmm/accesscode"
)

// The inter-realm memory-sharing extension (docs/sharing.md): share
// regions of delegated granules that the RMM maps into exactly the member
// realms' stage 2, accessed either through access code the RMM verified
// and runs atomically (mediated mode, after You and Paek, "Secure and
// Efficient Memory Sharing on ARM Confidential Compute Architecture") or
// under leases that map the region into one writer or several readers at a
// time (amortised mode). This file holds the bookkeeping and the RMI
// commands; share_rsi.go the RSI commands; share_s2.go the RTT entries.

// shareRMI is the extension's RMI dispatch table. It is consulted only
// when Config.Sharing is set: the default RMM is a strict 1.0-REL0, for
// which these FIDs are unknown (SMC_UNKNOWN).
var shareRMI = map[uint64]handler{
	RMIShareRegionCreate:   (*RMM).rmiShareRegionCreate,
	RMIShareGranuleAdd:     (*RMM).rmiShareGranuleAdd,
	RMIShareMemberAdd:      (*RMM).rmiShareMemberAdd,
	RMIShareRegionActivate: (*RMM).rmiShareRegionActivate,
	RMIShareMemberRemove:   (*RMM).rmiShareMemberRemove,
	RMIShareRegionDestroy:  (*RMM).rmiShareRegionDestroy,
	RMIShareRegionRead:     (*RMM).rmiShareRegionRead,
}

// shareRMIHandler returns the extension's handler for fid when the
// extension is enabled.
func (r *RMM) shareRMIHandler(fid uint64) (handler, bool) {
	if !r.cfg.Sharing {
		return nil, false
	}
	h, ok := shareRMI[fid]
	return h, ok
}

// regionState is a share region's state (docs/sharing.md §4.3).
type regionState uint8

const (
	regionNew regionState = iota
	regionActive
)

// memberState is a member's state (docs/sharing.md §4.3).
type memberState uint8

const (
	memberAdded memberState = iota
	memberAttached
	memberDetached
)

// leaseKind is the lease a member holds.
type leaseKind uint8

const (
	leaseNone leaseKind = iota
	leaseRead
	leaseWrite
)

// shareMember is one member realm of a region.
type shareMember struct {
	rd    uint64
	ipa   uint64 // where the region appears in the member's IPA space
	state memberState
	lease leaseKind
	// revoked: the member's last lease was revoked, which its next
	// LEASE_RELEASE reports.
	revoked bool
	// codes are the member's loaded access codes, by handle: the RMM's
	// own verified copies.
	codes [ShareMaxCodes]*accesscode.Program
}

// shareRegion is what the RMM keeps of a region, in its SR granule.
type shareRegion struct {
	sr          uint64
	state       regionState
	flags       uint64
	numGranules int
	leaseTicks  uint64
	granules    []uint64 // SHARED granules, in region order
	members     []*shareMember
	// descriptor is the RsiShareDescriptor, fixed at REGION_ACTIVATE.
	descriptor []byte

	// Lease state: the WRITE lease holder, the number of READ holders,
	// the contention ticks since the lease set became non-empty, and
	// whether the last WRITE lease was revoked rather than released.
	writer  *shareMember
	readers int
	ticks   uint64
	torn    bool

	// run is the region's own lock, held while access code runs on the
	// region (RSI_SHARE_INVOKE), without the RMM's global lock: one
	// region's invocation never waits for, nor holds up, another region
	// or any other RMI or RSI call. invoking (guarded by the RMM's lock)
	// says that code is running: leases wait, the region cannot be
	// destroyed.
	run      sync.Mutex
	invoking bool
}

func (rg *shareRegion) size() uint64 { return uint64(len(rg.granules)) * GranuleSize }

func (rg *shareRegion) member(rd uint64) *shareMember {
	for _, m := range rg.members {
		if m.rd == rd {
			return m
		}
	}
	return nil
}

// leasedToOthers reports whether a member other than m holds a lease.
func (rg *shareRegion) leasedToOthers(m *shareMember) bool {
	own := 0
	if m.lease == leaseRead {
		own = 1
	}
	return rg.writer != nil && rg.writer != m || rg.readers > own
}

// lookupSR applies sr_align, sr_bound and sr_state (the granule is an SR),
// all ERROR_INPUT; for RSI calls the same checks make the region id
// valid.
func (r *RMM) lookupSR(addr uint64) *shareRegion {
	if !aligned(addr) {
		return nil
	}
	if g := r.granules.lookup(addr); g == nil || g.state != granuleSR {
		return nil
	}
	return r.shares[addr]
}

// lookupSRAndRD applies sr_* (lookupSR) and then rd_* (lookupRD), the first
// conditions of the commands on a region and a realm (MEMBER_ADD,
// MEMBER_REMOVE); both ERROR_INPUT, so ok is false when either fails.
func (r *RMM) lookupSRAndRD(sr, rd uint64) (*shareRegion, *realmDesc, bool) {
	rg := r.lookupSR(sr)
	if rg == nil {
		return nil, nil, false
	}
	rl := r.lookupRD(rd)
	return rg, rl, rl != nil
}

// RMI_SHARE_REGION_CREATE(sr, params_ptr), docs/sharing.md §3:
// params_align, params_bound, params_pas, params_valid, sr_align,
// sr_bound, sr_state → INPUT.
func (r *RMM) rmiShareRegionCreate(a *[6]uint64) [5]uint64 {
	sr, paramsPtr := a[0], a[1]
	buf, ok := r.readNSGranule(paramsPtr)
	if !ok {
		return status(RMIErrorInput)
	}
	le := binary.LittleEndian
	flags := le.Uint64(buf[ShareParamsFlags:])
	n := le.Uint64(buf[ShareParamsNumGranules:])
	ticks := le.Uint64(buf[ShareParamsLeaseTicks:])
	lease := flags&ShareFlagLease != 0
	switch {
	case flags == 0, flags&^(ShareFlagMediated|ShareFlagLease) != 0,
		n == 0, n > ShareMaxGranules,
		lease && (ticks == 0 || ticks > ShareMaxLeaseTicks), !lease && ticks != 0:
		return status(RMIErrorInput)
	}
	if !aligned(sr) {
		return status(RMIErrorInput)
	}
	g := r.granules.lookup(sr)
	if g == nil || g.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	if r.shares == nil {
		r.shares = map[uint64]*shareRegion{}
	}
	*g = granule{state: granuleSR}
	r.shares[sr] = &shareRegion{sr: sr, flags: flags, numGranules: int(n), leaseTicks: ticks}
	return status(RMISuccess)
}

// RMI_SHARE_GRANULE_ADD(sr, addr): sr_* → INPUT; region_state → REALM[0];
// region_full → INPUT; gran_align, gran_bound, gran_state → INPUT. The
// granule, DELEGATED and so zero, becomes SHARED.
func (r *RMM) rmiShareGranuleAdd(a *[6]uint64) [5]uint64 {
	rg := r.lookupSR(a[0])
	if rg == nil {
		return status(RMIErrorInput)
	}
	if rg.state != regionNew {
		return statusIdx(RMIErrorRealm, 0)
	}
	if len(rg.granules) == rg.numGranules {
		return status(RMIErrorInput)
	}
	addr := a[1]
	if !aligned(addr) || addr&^rtteAddrMask != 0 {
		return status(RMIErrorInput)
	}
	g := r.granules.lookup(addr)
	if g == nil || g.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	*g = granule{state: granuleShared, owner: rg.sr}
	rg.granules = append(rg.granules, addr)
	return status(RMISuccess)
}

// RMI_SHARE_MEMBER_ADD(sr, rd, ipa): sr_*, rd_* → INPUT; region_state
// (not NEW, or granules missing) → REALM[0]; member_dup, member_count →
// INPUT; realm_state (SYSTEM_OFF) → REALM[1]; ipa_align, ipa_bound →
// INPUT; rtt_walk → RTT[walk level]; rtte_state (not UNASSIGNED) →
// RTT[3]; rtte_ripas (RIPAS RAM or DESTROYED) → RTT[3]. Every level-3
// entry of [ipa, ipa+size) becomes SHARED, RIPAS EMPTY, with no access.
func (r *RMM) rmiShareMemberAdd(a *[6]uint64) [5]uint64 {
	rg, rl, ok := r.lookupSRAndRD(a[0], a[1]) // sr_*, rd_*
	if !ok {
		return status(RMIErrorInput)
	}
	if rg.state != regionNew || len(rg.granules) != rg.numGranules {
		return statusIdx(RMIErrorRealm, 0)
	}
	if rg.member(rl.rd) != nil || len(rg.members) == ShareMaxMembers {
		return status(RMIErrorInput)
	}
	if rl.state == realmSystemOff {
		return statusIdx(RMIErrorRealm, 1)
	}
	ipa := a[2]
	if end, c := bits.Add64(ipa, rg.size(), 0); !aligned(ipa) || c != 0 || end > rl.parTop() {
		return status(RMIErrorInput)
	}
	walks := make([]walkResult, len(rg.granules))
	for i := range walks {
		walks[i] = r.mustWalk(rl, ipa+uint64(i)*GranuleSize, maxLevel)
		if walks[i].level < maxLevel {
			return errRTT(walks[i].level)
		}
	}
	// rtte_state, then rtte_ripas: the range must be nothing the member
	// can use as its own memory, so UNASSIGNED with RIPAS EMPTY (not RAM,
	// not DESTROYED); both RTT[3] (docs/sharing.md §3).
	for _, w := range walks {
		if w.entry.hipas() != hipasUnassigned {
			return errRTT(maxLevel)
		}
	}
	for _, w := range walks {
		if w.entry.ripas() != RIPASEmpty {
			return errRTT(maxLevel)
		}
	}
	for i, w := range walks {
		mustPlatform(r.writeRTTE(w.rtt, w.index, sharedRTTE(rg.granules[i], accessNone)))
	}
	rg.members = append(rg.members, &shareMember{rd: rl.rd, ipa: ipa})
	return status(RMISuccess)
}

// RMI_SHARE_REGION_ACTIVATE(sr): sr_* → INPUT; region_state, member_min →
// REALM[0]; realm_state (a member not ACTIVE) → REALM[1]. The membership
// is frozen and the descriptor computed.
func (r *RMM) rmiShareRegionActivate(a *[6]uint64) [5]uint64 {
	rg := r.lookupSR(a[0])
	if rg == nil {
		return status(RMIErrorInput)
	}
	if rg.state != regionNew || len(rg.members) < 2 {
		return statusIdx(RMIErrorRealm, 0)
	}
	for _, m := range rg.members {
		if r.realms[m.rd].state != realmActive {
			return statusIdx(RMIErrorRealm, 1)
		}
	}
	rg.descriptor = r.shareDescriptor(rg)
	rg.state = regionActive
	return status(RMISuccess)
}

// shareDescriptor encodes the RsiShareDescriptor (docs/sharing.md §7):
// members sorted by RIM slot || RPV, so that the host's order of
// MEMBER_ADD does not show.
func (r *RMM) shareDescriptor(rg *shareRegion) []byte {
	type entry struct {
		key  [128]byte
		hash uint64
	}
	ents := make([]entry, len(rg.members))
	for i, m := range rg.members {
		rl := r.realms[m.rd]
		copy(ents[i].key[:64], rl.rim[:])
		copy(ents[i].key[64:], rl.rpv[:])
		ents[i].hash = uint64(rl.hash)
	}
	slices.SortFunc(ents, func(x, y entry) int { return bytes.Compare(x.key[:], y.key[:]) })
	b := make([]byte, ShareDescMembers+ShareDescMemberSize*len(ents))
	le := binary.LittleEndian
	le.PutUint64(b[ShareDescVersion:], ShareDescriptorVersion)
	le.PutUint64(b[ShareDescFlags:], rg.flags)
	le.PutUint64(b[ShareDescSize:], rg.size())
	le.PutUint64(b[ShareDescLeaseTicks:], rg.leaseTicks)
	le.PutUint64(b[ShareDescNumMembers:], uint64(len(ents)))
	for i, e := range ents {
		m := b[ShareDescMembers+ShareDescMemberSize*i:]
		copy(m[ShareDescMemberRIM:], e.key[:64])
		copy(m[ShareDescMemberRPV:], e.key[64:])
		le.PutUint64(m[ShareDescMemberHash:], e.hash)
	}
	return b
}

// RMI_SHARE_MEMBER_REMOVE(sr, rd): sr_*, rd_* → INPUT; not_member →
// INPUT. Any region and member state: the member's leases are revoked, its
// codes dropped, and its entries of the region become UNASSIGNED
// DESTROYED. The region's content is kept for the other members.
func (r *RMM) rmiShareMemberRemove(a *[6]uint64) [5]uint64 {
	rg, rl, ok := r.lookupSRAndRD(a[0], a[1]) // sr_*, rd_*
	if !ok {
		return status(RMIErrorInput)
	}
	m := rg.member(rl.rd)
	if m == nil {
		return status(RMIErrorInput)
	}
	r.dropLease(rg, m, true)
	for i := range rg.granules {
		w := r.mustWalk(rl, m.ipa+uint64(i)*GranuleSize, maxLevel)
		mustPlatform(r.writeRTTE(w.rtt, w.index, unassignedRTTE(RIPASDestroyed)))
	}
	rg.members = slices.DeleteFunc(rg.members, func(x *shareMember) bool { return x == m })
	return status(RMISuccess)
}

// RMI_SHARE_REGION_DESTROY(sr): sr_* → INPUT; region_live (members
// remain, or a removed member's invocation is still running) → REALM[0]. Every granule of the region and the SR are zeroed and
// DELEGATED.
func (r *RMM) rmiShareRegionDestroy(a *[6]uint64) [5]uint64 {
	rg := r.lookupSR(a[0])
	if rg == nil {
		return status(RMIErrorInput)
	}
	if len(rg.members) > 0 || rg.invoking {
		return statusIdx(RMIErrorRealm, 0)
	}
	for _, pa := range rg.granules {
		r.releaseGranule(pa, r.granules.lookup(pa))
	}
	r.releaseGranule(rg.sr, r.granules.lookup(rg.sr))
	delete(r.shares, rg.sr)
	return status(RMISuccess)
}

// RMI_SHARE_REGION_READ(sr) → state, granules added, members, attached
// members. sr_* → INPUT.
func (r *RMM) rmiShareRegionRead(a *[6]uint64) [5]uint64 {
	rg := r.lookupSR(a[0])
	if rg == nil {
		return status(RMIErrorInput)
	}
	attached := 0
	for _, m := range rg.members {
		if m.state == memberAttached {
			attached++
		}
	}
	st := uint64(ShareRegionNew)
	if rg.state == regionActive {
		st = ShareRegionActive
	}
	return success(st, uint64(len(rg.granules)), uint64(len(rg.members)), uint64(attached))
}

// dropLease ends m's lease, if it holds one: its entries lose their
// access. revoke marks it taken away (expiry, removal) rather than
// released: the member's next LEASE_RELEASE says so, and a revoked WRITE
// lease leaves the region torn.
func (r *RMM) dropLease(rg *shareRegion, m *shareMember, revoke bool) {
	switch m.lease {
	case leaseNone:
		return
	case leaseWrite:
		rg.writer = nil
		rg.torn = revoke
	case leaseRead:
		rg.readers--
	}
	m.lease = leaseNone
	m.revoked = revoke
	r.setShareAccess(rg, m, accessNone)
}

// contend is a member's call that the current leases refuse: one lease
// tick. It returns true when the leases had run out, in which case they are
// revoked and the call may proceed.
func (r *RMM) contend(rg *shareRegion) bool {
	if rg.ticks < rg.leaseTicks {
		rg.ticks++
		return false
	}
	for _, m := range rg.members {
		r.dropLease(rg, m, true)
	}
	return true
}
