package rmm

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// Conformance tables for the sharing extension's RMI commands
// (docs/sharing.md §3), in the ACS style of rttharness_test.go: one row per
// failure condition, in priority order, pairs where two conditions meet,
// then a positive observation. The realm-side commands and the attacks are
// tested end to end in emulator/sharing.

// shareIPA is where the tests map regions: level-1 entry 1 of a realm of
// newRealm's geometry, outside anything else the tests map.
const shareIPA = 0x4000_0000

func (h *host) shareParams(flags, n, ticks uint64) uint64 {
	return h.params(map[uint64]uint64{ShareParamsFlags: flags, ShareParamsNumGranules: n, ShareParamsLeaseTicks: ticks})
}

// newShare creates a NEW region of n granules (all added) and returns its
// SR and granules.
func (h *host) newShare(n int, flags, ticks uint64) (uint64, []uint64) {
	h.t.Helper()
	sr := h.delegated()
	h.wantStatus("REGION_CREATE", h.smc(RMIShareRegionCreate, sr, h.shareParams(flags, uint64(n), ticks)), RMISuccess, 0)
	var gs []uint64
	for range n {
		g := h.delegated()
		h.wantStatus("GRANULE_ADD", h.smc(RMIShareGranuleAdd, sr, g), RMISuccess, 0)
		gs = append(gs, g)
	}
	return sr, gs
}

// granuleZoo creates a realm with a REC and a DATA granule, so that
// rdStimuli finds granules in every state.
func (h *host) granuleZoo(vmid uint64) {
	h.t.Helper()
	rd := h.newRealm(vmid)
	h.newREC(rd, 0, 0x1000)
	h.dataUnknown(rd, 0x1000_0000)
}

// memberRealm creates a realm with level-3 tables over [shareIPA,
// shareIPA+n granules); active makes it ACTIVE.
func (h *host) memberRealm(vmid uint64, n int, active bool) uint64 {
	h.t.Helper()
	rd := h.newRealm(vmid)
	for i := range n {
		h.rttsDownTo(rd, shareIPA+uint64(i)*GranuleSize, maxLevel)
	}
	if active {
		h.wantStatus("REALM_ACTIVATE", h.smc(RMIRealmActivate, rd), RMISuccess, 0)
	}
	return rd
}

// activeShare returns an ACTIVE region of one granule, brought there
// through the ABI: two ACTIVE member realms (VMIDs vmid and vmid+1), then
// RMI_SHARE_REGION_ACTIVATE.
func (h *host) activeShare(vmid uint64) uint64 {
	h.t.Helper()
	sr, _ := h.newShare(1, ShareFlagMediated, 0)
	for _, rd := range []uint64{h.memberRealm(vmid, 1, true), h.memberRealm(vmid+1, 1, true)} {
		h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, sr, rd, shareIPA), RMISuccess, 0)
	}
	h.wantStatus("REGION_ACTIVATE", h.smc(RMIShareRegionActivate, sr), RMISuccess, 0)
	return sr
}

// shareState summarises the extension's state, which a failing command must
// not change either.
func (h *host) shareState() string {
	s := ""
	srs := slices.Sorted(maps.Keys(h.r.shares))
	for _, sr := range srs {
		rg := h.r.shares[sr]
		s += fmt.Sprintf("%#x:%d/%d/%v/%d/%v/%d;", sr, rg.state, rg.numGranules, rg.granules, rg.readers, rg.writer != nil, rg.ticks)
		for _, m := range rg.members {
			s += fmt.Sprintf("[%#x %#x %d %d]", m.rd, m.ipa, m.state, m.lease)
		}
	}
	return s
}

func (h *host) runShareStimuli(t *testing.T, fid uint64, tests []rmiStimulus) {
	t.Helper()
	for i := range tests {
		tc := tests[i]
		args := tc.args
		var before string
		tests[i].args = func() []uint64 {
			a := args()
			before = h.shareState()
			return a
		}
		h.runStimuli(t, fid, tests[i:i+1])
		if tc.status != RMISuccess && h.shareState() != before {
			t.Errorf("%d %s: a failing call changed the share state", i, tc.msg)
		}
	}
	h.checkRMMInvariants()
}

func srStimuli(h *host, args func(sr uint64) []uint64) []rmiStimulus {
	fixed := func(v uint64) func() []uint64 { return func() []uint64 { return args(v) } }
	return []rmiStimulus{
		{msg: "sr_align", args: func() []uint64 { sr, _ := h.newShare(1, ShareFlagMediated, 0); return args(sr + 8) }, status: RMIErrorInput},
		{msg: "sr_bound", args: fixed(outsidePA), status: RMIErrorInput},
		{msg: "sr_state", args: func() []uint64 { return args(h.alloc()) }, status: RMIErrorInput},
		{msg: "sr_state", args: func() []uint64 { return args(h.delegated()) }, status: RMIErrorInput},
		{msg: "sr_state", args: func() []uint64 { return args(h.granuleIn(granuleRD)) }, status: RMIErrorInput},
		{msg: "sr_state", args: func() []uint64 { return args(h.granuleIn(granuleShared)) }, status: RMIErrorInput},
	}
}

func TestShareRegionCreate(t *testing.T) {
	h := newShareHost(t)
	h.newRealm(1)
	h.newShare(1, ShareFlagMediated, 0)
	p := func(flags, n, ticks uint64) func() []uint64 {
		return func() []uint64 { return []uint64{h.delegated(), h.shareParams(flags, n, ticks)} }
	}
	in := uint8(RMIErrorInput)
	h.runShareStimuli(t, RMIShareRegionCreate, []rmiStimulus{
		{msg: "params_align", args: func() []uint64 { return []uint64{h.delegated(), h.shareParams(1, 1, 0) + 8} }, status: in},
		{msg: "params_bound", args: func() []uint64 { return []uint64{h.delegated(), outsidePA} }, status: in},
		{msg: "params_pas", args: func() []uint64 { return []uint64{h.delegated(), h.delegated()} }, status: in},
		{msg: "params_valid: no mode", args: p(0, 1, 0), status: in},
		{msg: "params_valid: unknown flag", args: p(ShareFlagMediated|4, 1, 0), status: in},
		{msg: "params_valid: no granules", args: p(ShareFlagMediated, 0, 0), status: in},
		{msg: "params_valid: too many granules", args: p(ShareFlagMediated, ShareMaxGranules+1, 0), status: in},
		{msg: "params_valid: lease without ticks", args: p(ShareFlagLease, 1, 0), status: in},
		{msg: "params_valid: too many ticks", args: p(ShareFlagLease, 1, ShareMaxLeaseTicks+1), status: in},
		{msg: "params_valid: ticks without lease", args: p(ShareFlagMediated, 1, 1), status: in},
		{msg: "sr_align", args: func() []uint64 { return []uint64{h.delegated() + 8, h.shareParams(1, 1, 0)} }, status: in},
		{msg: "sr_bound", args: func() []uint64 { return []uint64{outsidePA, h.shareParams(1, 1, 0)} }, status: in},
		{msg: "sr_state: NS", args: func() []uint64 { return []uint64{h.alloc(), h.shareParams(1, 1, 0)} }, status: in},
		{msg: "sr_state: RD", args: func() []uint64 { return []uint64{h.granuleIn(granuleRD), h.shareParams(1, 1, 0)} }, status: in},
		{msg: "sr_state: SHARED", args: func() []uint64 { return []uint64{h.granuleIn(granuleShared), h.shareParams(1, 1, 0)} }, status: in},
		{msg: "success, largest region", args: p(ShareFlagMediated|ShareFlagLease, ShareMaxGranules, ShareMaxLeaseTicks), status: RMISuccess},
	})
}

func TestShareGranuleAdd(t *testing.T) {
	h := newShareHost(t)
	h.newRealm(1)
	sr := h.delegated()
	h.wantStatus("REGION_CREATE", h.smc(RMIShareRegionCreate, sr, h.shareParams(ShareFlagMediated, 2, 0)), RMISuccess, 0)
	active := h.activeShare(2)
	in := uint8(RMIErrorInput)
	add := func(s uint64, g func() uint64) func() []uint64 { return func() []uint64 { return []uint64{s, g()} } }
	tests := srStimuli(h, func(s uint64) []uint64 { return []uint64{s, h.delegated()} })
	tests = append(tests,
		rmiStimulus{msg: "region_state", args: add(active, h.delegated), status: RMIErrorRealm},
		rmiStimulus{msg: "region_state beats gran_state", args: add(active, h.alloc), status: RMIErrorRealm},
		rmiStimulus{msg: "gran_align", args: add(sr, func() uint64 { return h.delegated() + 8 }), status: in},
		rmiStimulus{msg: "gran_bound", args: add(sr, func() uint64 { return outsidePA }), status: in},
		rmiStimulus{msg: "gran_state: NS", args: add(sr, h.alloc), status: in},
		rmiStimulus{msg: "gran_state: RD", args: add(sr, func() uint64 { return h.granuleIn(granuleRD) }), status: in},
		rmiStimulus{msg: "gran_state: SR", args: add(sr, func() uint64 { return active }), status: in},
		rmiStimulus{msg: "success", args: add(sr, h.delegated), status: RMISuccess},
		rmiStimulus{msg: "gran_state: already SHARED", args: add(sr, func() uint64 { return h.r.shares[sr].granules[0] }), status: in},
		rmiStimulus{msg: "success", args: add(sr, h.delegated), status: RMISuccess},
		rmiStimulus{msg: "region_full", args: add(sr, h.delegated), status: in},
		rmiStimulus{msg: "region_full beats gran_state", args: add(sr, h.alloc), status: in},
	)
	h.runShareStimuli(t, RMIShareGranuleAdd, tests)
	if g := h.r.granules.lookup(h.r.shares[sr].granules[1]); g.state != granuleShared || g.owner != sr {
		t.Fatalf("added granule: %+v", g)
	}
}

func TestShareMemberAdd(t *testing.T) {
	h := newShareHost(t)
	h.granuleZoo(99)
	const n = 2
	rd := h.memberRealm(1, n, false)
	sr, gs := h.newShare(n, ShareFlagMediated, 0)
	partial := h.delegated()
	h.wantStatus("REGION_CREATE", h.smc(RMIShareRegionCreate, partial, h.shareParams(ShareFlagMediated, n, 0)), RMISuccess, 0)
	bare := h.newRealm(2)                     // no tables below level 1
	half := h.memberRealm(3, 1, false)        // a level-3 table for [shareIPA, +2 MiB) only
	busy := h.memberRealm(4, n, false)        // an ASSIGNED entry in the range
	h.dataUnknown(busy, shareIPA+GranuleSize) //
	ram := h.memberRealm(6, n, false)         // the second granule is RIPAS RAM
	h.wantStatus("RTT_INIT_RIPAS", h.smc(RMIRttInitRipas, ram, shareIPA+GranuleSize, shareIPA+2*GranuleSize), RMISuccess, 0)
	gone := h.memberRealm(7, n, false) // the first granule is DESTROYED
	h.wantStatus("RTT_INIT_RIPAS", h.smc(RMIRttInitRipas, gone, shareIPA, shareIPA+GranuleSize), RMISuccess, 0)
	h.dataUnknown(gone, shareIPA)
	h.wantStatus("DATA_DESTROY", h.smc(RMIDataDestroy, gone, shareIPA), RMISuccess, 0)
	off := h.memberRealm(5, n, false)
	h.systemOff(off)
	in := uint8(RMIErrorInput)
	add := func(s, r, ipa uint64) func() []uint64 { return func() []uint64 { return []uint64{s, r, ipa} } }
	tests := srStimuli(h, func(s uint64) []uint64 { return []uint64{s, rd, shareIPA} })
	tests = append(tests, h.rdStimuli(rd, func(r uint64) []uint64 { return []uint64{sr, r, shareIPA} })...)
	tests = append(tests,
		rmiStimulus{msg: "region_state: granules missing", args: add(partial, rd, shareIPA), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_state", args: add(sr, off, shareIPA), status: RMIErrorRealm, index: 1},
		rmiStimulus{msg: "realm_state beats ipa_align", args: add(sr, off, shareIPA+8), status: RMIErrorRealm, index: 1},
		rmiStimulus{msg: "ipa_align", args: add(sr, rd, shareIPA+8), status: in},
		rmiStimulus{msg: "ipa_bound: beyond the PAR", args: add(sr, rd, par40-GranuleSize), status: in},
		rmiStimulus{msg: "ipa_bound: overflow", args: add(sr, rd, 0xFFFF_FFFF_FFFF_F000), status: in},
		rmiStimulus{msg: "ipa_bound beats rtt_walk", args: add(sr, bare, par40-GranuleSize), status: in},
		rmiStimulus{msg: "rtt_walk", args: add(sr, bare, shareIPA), status: RMIErrorRtt, index: 1},
		rmiStimulus{msg: "rtt_walk on the second granule", args: add(sr, half, shareIPA+szL2-GranuleSize), status: RMIErrorRtt, index: 2},
		rmiStimulus{msg: "rtte_state", args: add(sr, busy, shareIPA), status: RMIErrorRtt, index: 3},
		rmiStimulus{msg: "rtte_ripas: RAM", args: add(sr, ram, shareIPA), status: RMIErrorRtt, index: 3},
		rmiStimulus{msg: "rtte_ripas: DESTROYED", args: add(sr, gone, shareIPA), status: RMIErrorRtt, index: 3},
		rmiStimulus{msg: "success", args: add(sr, rd, shareIPA), status: RMISuccess},
		rmiStimulus{msg: "member_dup", args: add(sr, rd, shareIPA), status: in},
	)
	h.runShareStimuli(t, RMIShareMemberAdd, tests)
	for i, g := range gs {
		if e := h.rttRead(rd, shareIPA+uint64(i)*GranuleSize, 3); e.state != RTTEStateShared || e.desc != g || e.ripas != RIPASEmpty {
			t.Errorf("granule %d: READ_ENTRY %+v", i, e)
		}
	}
	// member_count: eight members, then a ninth.
	for v := range uint64(ShareMaxMembers - 1) {
		h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, sr, h.memberRealm(10+v, n, false), shareIPA), RMISuccess, 0)
	}
	h.wantStatus("member_count", h.smc(RMIShareMemberAdd, sr, h.memberRealm(20, n, false), shareIPA), RMIErrorInput, 0)
	h.wantStatus("region_state: ACTIVE", h.smc(RMIShareMemberAdd, h.activeShare(30), h.memberRealm(21, 1, false), shareIPA), RMIErrorRealm, 0)
}

func TestShareActivateRemoveDestroy(t *testing.T) {
	h := newShareHost(t)
	h.granuleZoo(99)
	a := h.memberRealm(1, 1, true)
	b := h.memberRealm(2, 1, false)
	c := h.memberRealm(3, 1, true)
	sr, gs := h.newShare(1, ShareFlagMediated|ShareFlagLease, 7)
	one, _ := h.newShare(1, ShareFlagMediated, 0)
	h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, one, c, shareIPA), RMISuccess, 0)
	h.wantStatus("REGION_READ", h.smc(RMIShareRegionRead, sr), RMISuccess, 0)
	for _, rd := range []uint64{a, b} {
		h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, sr, rd, shareIPA), RMISuccess, 0)
	}
	act := func(s uint64) func() []uint64 { return func() []uint64 { return []uint64{s} } }
	tests := append(srStimuli(h, func(s uint64) []uint64 { return []uint64{s} }),
		rmiStimulus{msg: "member_min", args: act(one), status: RMIErrorRealm},
		rmiStimulus{msg: "realm_state (a member is NEW)", args: act(sr), status: RMIErrorRealm, index: 1},
	)
	h.runShareStimuli(t, RMIShareRegionActivate, tests)
	h.wantStatus("REALM_ACTIVATE", h.smc(RMIRealmActivate, b), RMISuccess, 0)
	h.runShareStimuli(t, RMIShareRegionActivate, []rmiStimulus{
		{msg: "success", args: act(sr), status: RMISuccess},
		{msg: "region_state", args: act(sr), status: RMIErrorRealm},
	})
	if x := h.smc(RMIShareRegionRead, sr); x != [5]uint64{RMISuccess, ShareRegionActive, 1, 2, 0} {
		t.Errorf("REGION_READ: %#x", x)
	}
	if d := h.r.shares[sr].descriptor; len(d) != ShareDescMembers+2*ShareDescMemberSize {
		t.Errorf("descriptor of %d bytes", len(d))
	}

	// Teardown: DESTROY refuses while members remain; REMOVE ends each
	// membership; then DESTROY scrubs.
	rm := func(s, r uint64) func() []uint64 { return func() []uint64 { return []uint64{s, r} } }
	h.runShareStimuli(t, RMIShareRegionDestroy, []rmiStimulus{{msg: "region_live", args: act(sr), status: RMIErrorRealm}})
	tests = append(srStimuli(h, func(s uint64) []uint64 { return []uint64{s, a} }),
		h.rdStimuli(a, func(r uint64) []uint64 { return []uint64{sr, r} })...)
	tests = append(tests,
		rmiStimulus{msg: "not_member", args: rm(sr, c), status: RMIErrorInput},
		rmiStimulus{msg: "success", args: rm(sr, a), status: RMISuccess},
		rmiStimulus{msg: "not_member (removed)", args: rm(sr, a), status: RMIErrorInput},
	)
	h.runShareStimuli(t, RMIShareMemberRemove, tests)
	if e := h.rttRead(a, shareIPA, 3); e.state != RTTEStateUnassigned || e.ripas != RIPASDestroyed {
		t.Errorf("a removed member's entry: %+v", e)
	}
	h.wantStatus("RTT_DESTROY of the removed member's table", h.smc(RMIRttDestroy, a, shareIPA, 3), RMISuccess, 0)
	h.wantStatus("RTT_DESTROY of a member's table", h.smc(RMIRttDestroy, b, shareIPA, 3), RMIErrorRtt, 3)
	h.wantStatus("MEMBER_REMOVE", h.smc(RMIShareMemberRemove, sr, b), RMISuccess, 0)
	h.runShareStimuli(t, RMIShareRegionDestroy, append(srStimuli(h, func(s uint64) []uint64 { return []uint64{s} }),
		rmiStimulus{msg: "success", args: act(sr), status: RMISuccess}))
	for _, g := range append(gs, sr) {
		if st := h.r.granules.lookup(g).state; st != granuleDelegated {
			t.Errorf("granule %#x is %v after REGION_DESTROY", g, st)
		}
	}
	h.runShareStimuli(t, RMIShareRegionRead, []rmiStimulus{{msg: "sr_state (destroyed)", args: act(sr), status: RMIErrorInput}})
}

// The stage-2 side: entries translate only with the access a lease gives.
func TestShareTranslateAccess(t *testing.T) {
	h := newShareHost(t)
	a := h.memberRealm(1, 1, true)
	b := h.memberRealm(2, 1, true)
	sr, gs := h.newShare(1, ShareFlagLease, 1)
	for _, rd := range []uint64{a, b} {
		h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, sr, rd, shareIPA), RMISuccess, 0)
	}
	rg, rl := h.r.shares[sr], h.r.realms[a]
	try := func(write bool) bool {
		_, _, f := h.r.translateAccess(rl, shareIPA+16, write)
		return f == nil
	}
	for _, tc := range []struct {
		acc         shareAccess
		read, write bool
	}{{accessNone, false, false}, {accessRO, true, false}, {accessRW, true, true}} {
		h.r.setShareAccess(rg, rg.members[0], tc.acc)
		if try(false) != tc.read || try(true) != tc.write {
			t.Errorf("access %d: read %v write %v", tc.acc, try(false), try(true))
		}
		if pa, _, f := h.r.translateAccess(rl, shareIPA+16, false); f == nil && pa != gs[0]+16 {
			t.Errorf("translates to %#x", pa)
		}
	}
}

// TestShareRandomRMI drives the share commands with random arguments drawn
// from pools of meaningful and meaningless values, among 1.0 commands that
// touch the same granules (UNDELEGATE, DATA_DESTROY, RTT_DESTROY), and
// checks after every call that nothing panicked and the bookkeeping agrees
// with the granules and the RTTs: every SHARED granule is in exactly the
// region its owner names, every member's entries of it are SHARED and map
// it, no SR is lost.
func TestShareRandomRMI(t *testing.T) {
	h := newShareHost(t)
	h.granuleZoo(99)
	rng := rand.New(rand.NewPCG(7, 11))
	var rds []uint64
	for v := range uint64(4) {
		rds = append(rds, h.memberRealm(1+v, 2, v%2 == 0))
	}
	var srs, gs []uint64
	pick := func(pool []uint64) uint64 {
		switch {
		case len(pool) == 0 || rng.IntN(8) == 0:
			return []uint64{outsidePA, h.alloc(), h.delegated(), tRMMBase}[rng.IntN(4)]
		case rng.IntN(16) == 0:
			return pool[rng.IntN(len(pool))] + 8
		}
		return pool[rng.IntN(len(pool))]
	}
	steps := 1500
	if testing.Short() {
		steps = 300
	}
	for i := range steps {
		var fid uint64
		var args []uint64
		switch rng.IntN(9) {
		case 0:
			sr := h.delegated()
			fid, args = RMIShareRegionCreate, []uint64{sr, h.shareParams(uint64(1+rng.IntN(3)), uint64(rng.IntN(4)), uint64(rng.IntN(3)))}
			srs = append(srs, sr)
		case 1:
			g := h.delegated()
			fid, args = RMIShareGranuleAdd, []uint64{pick(srs), g}
			gs = append(gs, g)
		case 2:
			fid, args = RMIShareMemberAdd, []uint64{pick(srs), pick(rds), shareIPA + uint64(rng.IntN(3))*GranuleSize}
		case 3:
			fid, args = RMIShareRegionActivate, []uint64{pick(srs)}
		case 4:
			fid, args = RMIShareMemberRemove, []uint64{pick(srs), pick(rds)}
		case 5:
			fid, args = RMIShareRegionDestroy, []uint64{pick(srs)}
		case 6:
			fid, args = RMIGranuleUndelegate, []uint64{pick(gs)}
		case 7:
			fid, args = RMIDataDestroy, []uint64{pick(rds), shareIPA}
		case 8:
			fid, args = RMIRttDestroy, []uint64{pick(rds), shareIPA, 3}
		}
		h.smc(fid, args...)
		if i%50 == 0 || i == steps-1 {
			h.checkShareInvariants()
		}
	}
	h.checkRMMInvariants()
}

func (h *host) checkShareInvariants() {
	h.t.Helper()
	for sr, rg := range h.r.shares {
		if g := h.r.granules.lookup(sr); g.state != granuleSR || rg.sr != sr {
			h.t.Fatalf("region %#x: SR granule %v", sr, g.state)
		}
		for _, pa := range rg.granules {
			if g := h.r.granules.lookup(pa); g.state != granuleShared || g.owner != sr {
				h.t.Fatalf("region %#x: granule %#x is %v of %#x", sr, pa, g.state, g.owner)
			}
		}
		for _, m := range rg.members {
			for i, pa := range rg.granules {
				w := h.r.mustWalk(h.r.realms[m.rd], m.ipa+uint64(i)*GranuleSize, maxLevel)
				if w.entry.hipas() != hipasShared || w.entry.addr() != pa {
					h.t.Fatalf("member %#x of %#x: entry %d is %v %#x", m.rd, sr, i, w.entry.hipas(), w.entry.addr())
				}
			}
		}
	}
	for pa := uint64(tDRAMBase); pa < h.next; pa += GranuleSize {
		if g := h.r.granules.lookup(pa); g.state == granuleShared && h.r.shares[g.owner] == nil {
			h.t.Fatalf("SHARED granule %#x of a region that does not exist (%#x)", pa, g.owner)
		}
	}
}
