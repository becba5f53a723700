package rmm

import (
	"bytes"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// rttWorld is the realm most RTT and DATA tables run against (ACS "valid
// realm"), a NEW realm laid out as:
//
//	[0, 1 GB)            L2 RTT l2
//	  [0, 2 MB)          L3 RTT l3a: DATA at 5×4K and 9×4K, the rest UNASSIGNED EMPTY
//	  [2 MB, 4 MB)       L3 RTT l3b: all UNASSIGNED EMPTY (not live)
//	[par40, par40+1 GB)    L2 RTT l2ns
//	  [par40, +2 MB)      L3 RTT l3ns: ASSIGNED_NS page nsPage at par40
//	  [par40+4 MB, +2 MB) ASSIGNED_NS L2 block at nsBlockOA
//
// and one REC.
type rttWorld struct {
	*host
	rd, rec             uint64
	l2, l3a, l3b        uint64
	l2ns, l3ns          uint64
	data5, data9, src   uint64
	nsPage              uint64
	content             []byte
	ipaData5, ipaData9  uint64
	ipaNSPage, ipaNSBlk uint64
}

const nsBlockOA = 0x8_0000_0000 // an OA outside DRAM: the host may map any PA unprotected

func newRTTWorld(t *testing.T) *rttWorld {
	t.Helper()
	w := &rttWorld{host: newHost(t)}
	w.rd = w.newRealm(1)
	w.rec = w.newREC(w.rd, 0, 0x1000)
	w.content = bytes.Repeat([]byte("ccakit data"), GranuleSize/11+1)[:GranuleSize]
	w.src = w.nsWith(w.content)
	w.l2 = w.rttCreate(w.rd, 0, 2)
	w.l3a = w.rttCreate(w.rd, 0, 3)
	w.l3b = w.rttCreate(w.rd, szL2, 3)
	w.ipaData5, w.ipaData9 = 5*szL3, 9*szL3
	w.data5 = w.dataCreate(w.rd, w.ipaData5, w.src, RMIMeasureContent)
	w.data9 = w.dataCreate(w.rd, w.ipaData9, w.src, RMINoMeasureContent)
	w.l2ns = w.rttCreate(w.rd, par40, 2)
	w.l3ns = w.rttCreate(w.rd, par40, 3)
	w.ipaNSPage, w.ipaNSBlk = par40, par40+2*szL2
	w.nsPage = w.alloc()
	w.wantStatus("map page", w.smc(RMIRttMapUnprotected, w.rd, w.ipaNSPage, 3, hostNSDesc(w.nsPage)), RMISuccess, 0)
	w.wantStatus("map block", w.smc(RMIRttMapUnprotected, w.rd, w.ipaNSBlk, 2, hostNSDesc(nsBlockOA)), RMISuccess, 0)
	t.Cleanup(w.checkRMMInvariants)
	return w
}

// a returns a rmiStimulus argument builder for fixed arguments.
func fixedArgs(args ...uint64) func() []uint64 { return func() []uint64 { return args } }

func TestRttCreate(t *testing.T) {
	w := newRTTWorld(t)
	rd, ipa := w.rd, uint64(szL1) // L1 entry 1: UNASSIGNED EMPTY
	valid := func(rtt, ipa, level uint64) func() []uint64 {
		return func() []uint64 { return []uint64{rd, rtt, ipa, level} }
	}
	fresh := func(ipa, level uint64) func() []uint64 {
		return func() []uint64 { return []uint64{rd, w.delegated(), ipa, level} }
	}
	rtt := w.delegated()
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, w.delegated(), ipa, 2} }),
		rmiStimulus{msg: "level_bound", args: fresh(ipa, 1), status: RMIErrorInput}, // the starting level
		rmiStimulus{msg: "level_bound", args: fresh(0, 0), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: fresh(ipa, 4), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: fresh(ipa, 1<<63), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: fresh(ipa+szL2, 2), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: fresh(ipa40, 2), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: fresh(1<<50, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_align", args: func() []uint64 { return []uint64{rd, w.delegated() + 8, ipa, 2} }, status: RMIErrorInput},
		rmiStimulus{msg: "rtt_bound", args: valid(outsidePA, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_bound", args: valid(tRMMBase, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state", args: func() []uint64 { return []uint64{rd, w.alloc(), ipa, 2} }, status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state", args: valid(rd, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state", args: valid(w.rec, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state", args: valid(w.l3a, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state", args: valid(w.data5, ipa, 2), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_walk", args: fresh(ipa, 3), status: RMIErrorRtt, index: 1},
		rmiStimulus{msg: "rtt_walk", args: fresh(par40+szL1, 3), status: RMIErrorRtt, index: 1},
		rmiStimulus{msg: "rtte_state", args: fresh(0, 2), status: RMIErrorRtt, index: 1},
		rmiStimulus{msg: "rtte_state", args: fresh(szL2, 3), status: RMIErrorRtt, index: 2},
		rmiStimulus{msg: "level_bound_compare_rtt_walk", args: fresh(ipa, 4), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state_compare_rtt_walk", args: valid(w.data5, ipa, 3), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_state_compare_rtte_state", args: valid(w.data5, 0, 2), status: RMIErrorInput},
		rmiStimulus{msg: "success", args: valid(rtt, ipa, 2), status: RMISuccess},
		rmiStimulus{msg: "rtt_state (now an RTT)", args: valid(rtt, 2*szL1, 2), status: RMIErrorInput},
	)
	w.runStimuli(t, RMIRttCreate, tests)

	// Positive observability: the parent is a TABLE pointing at rtt, the
	// child inherited UNASSIGNED EMPTY, and the granule is in use.
	if e := w.rttRead(rd, ipa, 1); e != (rtteOut{1, RTTEStateTable, rtt, RIPASEmpty}) {
		t.Errorf("parent entry %+v", e)
	}
	for _, off := range []uint64{0, 511 * szL2} {
		if e := w.rttRead(rd, ipa+off, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASEmpty}) {
			t.Errorf("child entry %#x: %+v", ipa+off, e)
		}
	}
	w.wantStatus("undelegate an RTT", w.smc(RMIGranuleUndelegate, rtt), RMIErrorInput, 0)
}

func TestRttDestroy(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	args := func(ipa, level uint64) func() []uint64 { return fixedArgs(rd, ipa, level) }
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, szL2, 3} }),
		rmiStimulus{msg: "level_bound", args: args(0, 1), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: args(szL2, 4), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: args(szL2+szL3, 3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(ipa40, 3), status: RMIErrorInput},
		// top: the next live entry of the RTT the walk stopped in, or its end.
		rmiStimulus{msg: "rtt_walk", args: args(szL1, 3), status: RMIErrorRtt, index: 1, out: []uint64{0, par40}},
		rmiStimulus{msg: "rtte_state", args: args(2*szL2, 3), status: RMIErrorRtt, index: 2, out: []uint64{0, szL1}},
		// A live parent entry: top is the IPA itself.
		rmiStimulus{msg: "rtte_state", args: args(w.ipaNSBlk, 3), status: RMIErrorRtt, index: 2, out: []uint64{0, w.ipaNSBlk}},
		rmiStimulus{msg: "rtt_live", args: args(0, 3), status: RMIErrorRtt, index: 3, out: []uint64{0, 0}},
		rmiStimulus{msg: "rtt_live", args: args(0, 2), status: RMIErrorRtt, index: 2, out: []uint64{0, 0}},
		rmiStimulus{msg: "level_bound_compare_rtt_walk", args: args(szL1, 4), status: RMIErrorInput},
		// X4 carries no result: the host's comes back (SMCCC v1.2; TF-RMM
		// rel0 runtime/core/aarch64/entry.S rmm_handler).
		rmiStimulus{msg: "rtt_walk, X4 preserved", args: fixedArgs(rd, szL1, 3, 0xC0FFEE), status: RMIErrorRtt, index: 1, out: []uint64{0, par40, 0, 0xC0FFEE}},
		rmiStimulus{msg: "success", args: args(szL2, 3), status: RMISuccess, out: []uint64{w.l3b, szL1}},
		// An RTT holding only ASSIGNED_NS entries is not live (TF-RMM rel0);
		// top is the next live entry, the NS block.
		rmiStimulus{msg: "success (unprotected)", args: args(par40, 3), status: RMISuccess, out: []uint64{w.l3ns, w.ipaNSBlk}},
	)
	w.runStimuli(t, RMIRttDestroy, tests)

	if e := w.rttRead(rd, szL2, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASDestroyed}) {
		t.Errorf("protected parent after destroy: %+v", e)
	}
	if e := w.rttRead(rd, par40, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASEmpty}) {
		t.Errorf("unprotected parent after destroy: %+v", e)
	}
	if _, _, f := w.r.translate(w.r.realms[rd], w.ipaNSPage); f == nil {
		t.Error("the unprotected page still translates")
	}
	// The granule is DELEGATED again: it can back a new RTT, which inherits
	// UNASSIGNED DESTROYED.
	w.wantStatus("reuse", w.smc(RMIRttCreate, rd, w.l3b, szL2, 3), RMISuccess, 0)
	if e := w.rttRead(rd, szL2+7*szL3, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASDestroyed}) {
		t.Errorf("child of a DESTROYED entry: %+v", e)
	}
	w.wantStatus("undelegate", w.smc(RMIGranuleUndelegate, w.l3ns), RMISuccess, 0)

	// rtt_live away from IPA 0, where top == ipa is told apart from the 0
	// of a failure without a walk (Arm DEN0137 1.0-REL0 B4.3.16.2 rtt_live).
	live := uint64(4 * szL2)
	w.rttCreate(rd, live, 3)
	w.dataCreate(rd, live+3*szL3, w.src, RMINoMeasureContent)
	w.runStimuli(t, RMIRttDestroy, []rmiStimulus{
		{msg: "rtt_live (ipa 8 MB)", args: args(live, 3), status: RMIErrorRtt, index: 3, out: []uint64{0, live}},
	})
}

func TestRttFold(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	args := func(ipa, level uint64) func() []uint64 { return fixedArgs(rd, ipa, level) }
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, szL2, 3} }),
		rmiStimulus{msg: "level_bound", args: args(0, 1), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: args(szL2, 4), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: args(szL3, 3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(ipa40, 3), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_walk", args: args(szL1, 3), status: RMIErrorRtt, index: 1},
		rmiStimulus{msg: "rtte_state", args: args(2*szL2, 3), status: RMIErrorRtt, index: 2},
		rmiStimulus{msg: "rtte_state", args: args(w.ipaNSBlk, 3), status: RMIErrorRtt, index: 2},
		rmiStimulus{msg: "rtte_homo", args: args(0, 3), status: RMIErrorRtt, index: 3},
		rmiStimulus{msg: "rtte_homo", args: args(par40, 3), status: RMIErrorRtt, index: 3},
		rmiStimulus{msg: "rtte_homo_l2", args: args(0, 2), status: RMIErrorRtt, index: 2},
		rmiStimulus{msg: "level_bound_compare_rtt_walk", args: args(szL1, 1), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound_compare_rtte_state", args: args(2*szL2, 4), status: RMIErrorInput},
		rmiStimulus{msg: "success", args: args(szL2, 3), status: RMISuccess, out: []uint64{w.l3b}},
	)
	w.runStimuli(t, RMIRttFold, tests)

	if e := w.rttRead(rd, szL2, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASEmpty}) {
		t.Errorf("folded entry: %+v", e)
	}
	w.wantStatus("undelegate the folded RTT", w.smc(RMIGranuleUndelegate, w.l3b), RMISuccess, 0)
}

func TestRttReadEntry(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	args := func(ipa, level uint64) func() []uint64 { return fixedArgs(rd, ipa, level) }
	// Failing READ_ENTRYs leave X1..X3 zero and X4 the host's (ACS
	// negative observability); run checks every output register.
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, 0, 3} }),
		rmiStimulus{msg: "level_bound", args: args(0, 0), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: args(0, 4), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: args(szL3, 2), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: args(1, 3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(ipa40, 1), status: RMIErrorInput},
		rmiStimulus{msg: "success", args: args(0, 1), status: RMISuccess, out: []uint64{1, RTTEStateTable, w.l2, RIPASEmpty}},
		// X4 is ripas on success and the host's own X4 on failure (SMCCC
		// v1.2 preserves X4 where no result goes; TF-RMM rel0
		// runtime/core/aarch64/entry.S rmm_handler).
		rmiStimulus{msg: "level_bound, X4 preserved", args: fixedArgs(rd, 0, 4, 0xC0FFEE), status: RMIErrorInput, out: []uint64{0, 0, 0, 0xC0FFEE}},
		rmiStimulus{msg: "rd_align, X4 preserved", args: fixedArgs(rd+8, 0, 3, 0xC0FFEE), status: RMIErrorInput, out: []uint64{0, 0, 0, 0xC0FFEE}},
		rmiStimulus{msg: "success, X4 is ripas", args: fixedArgs(rd, 0, 1, 0xC0FFEE), status: RMISuccess, out: []uint64{1, RTTEStateTable, w.l2, RIPASEmpty}},
	)
	w.runStimuli(t, RMIRttReadEntry, tests)

	// Every entry state (Arm DEN0137 1.0-REL0 A5.5).
	w.wantStatus("INIT_RIPAS", w.smc(RMIRttInitRipas, rd, szL1, 2*szL1), RMISuccess, 0)
	unknownEmpty := w.dataUnknown(rd, 10*szL3)
	w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, rd, w.ipaData9), RMISuccess, 0)
	unknownDestroyed := w.dataUnknown(rd, w.ipaData9)
	for _, tc := range []struct {
		name  string
		ipa   uint64
		level int
		want  rtteOut
	}{
		{"TABLE L2", 0, 2, rtteOut{2, RTTEStateTable, w.l3a, RIPASEmpty}},
		{"UNASSIGNED EMPTY", 0, 3, rtteOut{3, RTTEStateUnassigned, 0, RIPASEmpty}},
		{"UNASSIGNED RAM (L1, walk stops)", szL1 + 5*szL2, 3, rtteOut{1, RTTEStateUnassigned, 0, RIPASRAM}},
		{"ASSIGNED RAM", w.ipaData5, 3, rtteOut{3, RTTEStateAssigned, w.data5, RIPASRAM}},
		{"ASSIGNED EMPTY", 10 * szL3, 3, rtteOut{3, RTTEStateAssigned, unknownEmpty, RIPASEmpty}},
		{"ASSIGNED DESTROYED", w.ipaData9, 3, rtteOut{3, RTTEStateAssigned, unknownDestroyed, RIPASDestroyed}},
		{"UNASSIGNED_NS", par40 + szL3, 3, rtteOut{3, RTTEStateUnassigned, 0, RIPASEmpty}},
		{"UNASSIGNED_NS L1", par40 + szL1, 1, rtteOut{1, RTTEStateUnassigned, 0, RIPASEmpty}},
		{"ASSIGNED_NS page", w.ipaNSPage, 3, rtteOut{3, RTTEStateAssigned, hostNSDesc(w.nsPage), RIPASEmpty}},
		{"ASSIGNED_NS block", w.ipaNSBlk, 3, rtteOut{2, RTTEStateAssigned, hostNSDesc(nsBlockOA), RIPASEmpty}},
		{"walk stops at the requested level", 0, 1, rtteOut{1, RTTEStateTable, w.l2, RIPASEmpty}},
	} {
		if e := w.rttRead(rd, tc.ipa, tc.level); e != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, e, tc.want)
		}
	}
}

func TestRttMapUnprotected(t *testing.T) {
	w := newRTTWorld(t)
	rd, ipa := w.rd, uint64(par40+2*szL3) // UNASSIGNED_NS
	pa := w.alloc()
	args := func(ipa, level, desc uint64) func() []uint64 { return fixedArgs(rd, ipa, level, desc) }
	tests := []rmiStimulus{
		{msg: "attr_valid", args: args(ipa, 3, hostNSDesc(pa)|1), status: RMIErrorInput},                  // descriptor type
		{msg: "attr_valid", args: args(ipa, 3, hostNSDesc(pa)|1<<10), status: RMIErrorInput},              // AF
		{msg: "attr_valid", args: args(ipa, 3, hostNSDesc(pa)|3<<8), status: RMIErrorInput},               // SH is the RMM's
		{msg: "attr_valid", args: args(ipa, 3, hostNSDesc(pa)|1<<5), status: RMIErrorInput},               // MemAttr[3]
		{msg: "attr_valid", args: args(ipa, 3, hostNSDesc(pa)|1<<55), status: RMIErrorInput},              // NS
		{msg: "attr_valid", args: args(ipa, 3, pa|0x4<<2|3<<6), status: RMIErrorInput},                    // reserved MemAttr
		{msg: "addr_bound", args: args(ipa, 3, hostNSDesc(pa)|1<<48), status: RMIErrorInput},              // OA beyond 48 bits
		{msg: "addr_align", args: args(par40+szL2, 2, hostNSDesc(nsBlockOA+szL3)), status: RMIErrorInput}, // OA not 2 MB aligned
		{msg: "level_bound", args: args(par40, 0, hostNSDesc(0)), status: RMIErrorInput},
		{msg: "level_bound", args: args(ipa, 4, hostNSDesc(pa)), status: RMIErrorInput},
		{msg: "ipa_align", args: args(ipa+8, 3, hostNSDesc(pa)), status: RMIErrorInput},
		{msg: "ipa_align", args: args(ipa, 2, hostNSDesc(0)), status: RMIErrorInput},
		{msg: "ipa_bound", args: args(2*szL3, 3, hostNSDesc(pa)), status: RMIErrorInput}, // protected
		{msg: "ipa_bound", args: args(ipa40, 3, hostNSDesc(pa)), status: RMIErrorInput},
		{msg: "rtt_walk", args: args(par40+szL1, 3, hostNSDesc(pa)), status: RMIErrorRtt, index: 1},
		{msg: "rtt_walk", args: args(par40+szL2, 3, hostNSDesc(pa)), status: RMIErrorRtt, index: 2},
		{msg: "rtte_state", args: args(w.ipaNSPage, 3, hostNSDesc(pa)), status: RMIErrorRtt, index: 3},
		{msg: "rtte_state", args: args(par40, 2, hostNSDesc(0)), status: RMIErrorRtt, index: 2}, // a TABLE
		{msg: "ipa_bound_compare_rtt_walk", args: args(szL1, 3, hostNSDesc(pa)), status: RMIErrorInput},
		{msg: "attr_valid_compare_rtte_state", args: args(w.ipaNSPage, 3, hostNSDesc(pa)|1), status: RMIErrorInput},
		// X4 is desc, handed back: no result goes there (SMCCC v1.2;
		// TF-RMM rel0 runtime/core/aarch64/entry.S rmm_handler).
		{msg: "rtte_state, X4 is desc", args: args(w.ipaNSPage, 3, hostNSDesc(pa)), status: RMIErrorRtt, index: 3, out: []uint64{0, 0, 0, hostNSDesc(pa)}},
		{msg: "success", args: args(ipa, 3, hostNSDesc(pa)), status: RMISuccess, out: []uint64{0, 0, 0, hostNSDesc(pa)}},
		{msg: "success (L1 block)", args: args(par40+szL1, 1, hostNSDesc(szL1)), status: RMISuccess},
	}
	tests = append(tests, w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, ipa + szL3, 3, hostNSDesc(pa)} })...)
	w.runStimuli(t, RMIRttMapUnprotected, tests)

	if e := w.rttRead(rd, ipa, 3); e != (rtteOut{3, RTTEStateAssigned, hostNSDesc(pa), RIPASEmpty}) {
		t.Errorf("mapped entry: %+v", e)
	}
	if e := w.rttRead(rd, par40+szL1+0x1234000, 3); e != (rtteOut{1, RTTEStateAssigned, hostNSDesc(szL1), RIPASEmpty}) {
		t.Errorf("L1 block: %+v", e)
	}
	got, pas, f := w.r.translate(w.r.realms[rd], ipa+0x10)
	if f != nil || got != pa+0x10 || pas != gpt.PASNonSecure {
		t.Errorf("translate: %#x %v %+v", got, pas, f)
	}
}

func TestRttUnmapUnprotected(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	args := func(ipa, level uint64) func() []uint64 { return fixedArgs(rd, ipa, level) }
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, w.ipaNSPage, 3} }),
		rmiStimulus{msg: "level_bound", args: args(par40, 0), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound", args: args(w.ipaNSPage, 4), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_align", args: args(w.ipaNSPage+0x800, 3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(w.ipaData5, 3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(ipa40, 3), status: RMIErrorInput},
		rmiStimulus{msg: "rtt_walk", args: args(par40+szL1, 3), status: RMIErrorRtt, index: 1, out: []uint64{ipa40}},
		rmiStimulus{msg: "rtt_walk", args: args(w.ipaNSBlk, 3), status: RMIErrorRtt, index: 2, out: []uint64{w.ipaNSBlk}},
		rmiStimulus{msg: "rtte_state", args: args(par40+szL3, 3), status: RMIErrorRtt, index: 3, out: []uint64{par40 + szL2}},
		rmiStimulus{msg: "level_bound_compare_rtt_walk", args: args(par40+szL1, 4), status: RMIErrorInput},
		rmiStimulus{msg: "level_bound_compare_rtte_state", args: args(par40+szL3, 0), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound_compare_rtt_walk", args: args(szL1, 3), status: RMIErrorInput},
		// X4 carries no result: the host's comes back (SMCCC v1.2; TF-RMM
		// rel0 runtime/core/aarch64/entry.S rmm_handler).
		rmiStimulus{msg: "rtte_state, X4 preserved", args: fixedArgs(rd, par40+szL3, 3, 0xC0FFEE), status: RMIErrorRtt, index: 3, out: []uint64{par40 + szL2, 0, 0, 0xC0FFEE}},
		rmiStimulus{msg: "success", args: args(w.ipaNSPage, 3), status: RMISuccess, out: []uint64{par40 + szL2}},
		rmiStimulus{msg: "success (block)", args: args(w.ipaNSBlk, 2), status: RMISuccess, out: []uint64{par40 + szL1}},
	)
	w.runStimuli(t, RMIRttUnmapUnprotected, tests)

	if e := w.rttRead(rd, w.ipaNSPage, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASEmpty}) {
		t.Errorf("unmapped entry: %+v", e)
	}
	if _, _, f := w.r.translate(w.r.realms[rd], w.ipaNSPage); f == nil || f.state != hipasUnassignedNS {
		t.Errorf("translate after unmap: %+v", f)
	}
}

// TestRttFoldUnfoldAssigned folds 512 contiguous DATA granules into an L2
// block and unfolds them again: the RTT comes back byte for byte, the block
// translates, and DATA_DESTROY needs the L3 RTT.
func TestRttFoldUnfoldAssigned(t *testing.T) {
	h := newHost(t)
	rd := h.newRealm(1)
	t.Cleanup(h.checkRMMInvariants)
	base := uint64(szL2) // [2 MB, 4 MB)
	h.rttsDownTo(rd, base, 3)
	rtt := h.rttRead(rd, base, 2).desc
	src := h.nsWith(bytes.Repeat([]byte{0x5A}, GranuleSize))
	h.alignNext(szL2)
	pa0 := h.next
	for i := range uint64(entriesPerRTT) {
		data := h.delegated()
		if data != pa0+i*GranuleSize {
			t.Fatal("data granules not contiguous")
		}
		h.wantStatus("DATA_CREATE", h.smc(RMIDataCreate, rd, data, base+i*szL3, src, RMINoMeasureContent), RMISuccess, 0)
	}
	before, err := h.r.readRTT(rtt)
	if err != nil {
		t.Fatal(err)
	}
	h.wantStatus("fold", h.smc(RMIRttFold, rd, base, 3), RMISuccess, 0)
	if e := h.rttRead(rd, base+7*szL3, 3); e != (rtteOut{2, RTTEStateAssigned, pa0, RIPASRAM}) {
		t.Errorf("folded block: %+v", e)
	}
	got, pas, f := h.r.translate(h.r.realms[rd], base+7*szL3+0x10)
	if f != nil || got != pa0+7*GranuleSize+0x10 || pas != gpt.PASRealm {
		t.Errorf("translate in the block: %#x %v %+v", got, pas, f)
	}
	h.checkRMMInvariants()
	// DATA_DESTROY needs a level-3 entry; top is the block itself (live).
	x := h.wantStatus("DATA_DESTROY on a block", h.smc(RMIDataDestroy, rd, base+szL3), RMIErrorRtt, 2)
	if x[2] != base+szL3 {
		t.Errorf("top %#x", x[2])
	}
	// RTT_DESTROY of the parent's table holding the block: live.
	h.wantStatus("RTT_DESTROY L2", h.smc(RMIRttDestroy, rd, 0, 2), RMIErrorRtt, 2)
	// The block's own entry is not a table: rtte_state at level 2 (ACS
	// cmd_rtt_fold and cmd_rtt_destroy RTTE_ASSIGNED); RTT_DESTROY's top is
	// the IPA, the entry being live (Arm DEN0137 1.0-REL0 B4.3.16.1.3).
	h.runStimuli(t, RMIRttFold, []rmiStimulus{
		{msg: "rtte_state (ASSIGNED block)", args: fixedArgs(rd, base, 3), status: RMIErrorRtt, index: 2},
	})
	h.runStimuli(t, RMIRttDestroy, []rmiStimulus{
		{msg: "rtte_state (ASSIGNED block)", args: fixedArgs(rd, base, 3), status: RMIErrorRtt, index: 2, out: []uint64{0, base}},
	})

	h.wantStatus("unfold", h.smc(RMIRttCreate, rd, rtt, base, 3), RMISuccess, 0)
	after, err := h.r.readRTT(rtt)
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Error("unfolded RTT differs from the one folded")
	}
	h.wantStatus("DATA_DESTROY", h.smc(RMIDataDestroy, rd, base+szL3), RMISuccess, 0)
	h.wantStatus("refold with a hole", h.smc(RMIRttFold, rd, base, 3), RMIErrorRtt, 3)
}

// TestRttFoldUnfoldUnprotected does the same with ASSIGNED_NS entries, and
// checks what makes an unprotected RTT non-homogeneous.
func TestRttFoldUnfoldUnprotected(t *testing.T) {
	h := newHost(t)
	rd := h.newRealm(1)
	t.Cleanup(h.checkRMMInvariants)
	h.rttsDownTo(rd, par40, 3)
	rtt := h.rttRead(rd, par40, 2).desc
	const oa = nsBlockOA
	mapAll := func(desc func(i uint64) uint64) {
		for i := range uint64(entriesPerRTT) {
			h.wantStatus("MAP", h.smc(RMIRttMapUnprotected, rd, par40+i*szL3, 3, desc(i)), RMISuccess, 0)
		}
	}
	unmapAll := func() {
		for i := range uint64(entriesPerRTT) {
			h.wantStatus("UNMAP", h.smc(RMIRttUnmapUnprotected, rd, par40+i*szL3, 3), RMISuccess, 0)
		}
	}
	for _, tc := range []struct {
		name string
		desc func(i uint64) uint64
	}{
		{"not contiguous", func(i uint64) uint64 { return hostNSDesc(oa + (i^1)*GranuleSize) }},
		{"not aligned", func(i uint64) uint64 { return hostNSDesc(oa + (i+1)*GranuleSize) }},
		{"mixed attributes", func(i uint64) uint64 { return hostNSDesc(oa+i*GranuleSize) &^ (i & 1 << 7) }},
	} {
		mapAll(tc.desc)
		h.wantStatus(tc.name, h.smc(RMIRttFold, rd, par40, 3), RMIErrorRtt, 3)
		unmapAll()
	}
	mapAll(func(i uint64) uint64 { return hostNSDesc(oa + i*GranuleSize) })
	before, _ := h.r.readRTT(rtt)
	h.wantStatus("fold", h.smc(RMIRttFold, rd, par40, 3), RMISuccess, 0)
	if e := h.rttRead(rd, par40, 3); e != (rtteOut{2, RTTEStateAssigned, hostNSDesc(oa), RIPASEmpty}) {
		t.Errorf("folded NS block: %+v", e)
	}
	h.wantStatus("unfold", h.smc(RMIRttCreate, rd, rtt, par40, 3), RMISuccess, 0)
	if after, _ := h.r.readRTT(rtt); after != before {
		t.Error("unfolded RTT differs from the one folded")
	}
	unmapAll()
	h.wantStatus("fold UNASSIGNED_NS", h.smc(RMIRttFold, rd, par40, 3), RMISuccess, 0)
	if e := h.rttRead(rd, par40, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASEmpty}) {
		t.Errorf("folded UNASSIGNED_NS: %+v", e)
	}
}

// TestRttFoldUnfoldUnassigned round-trips UNASSIGNED RAM and DESTROYED RTTs.
func TestRttFoldUnfoldUnassigned(t *testing.T) {
	h := newHost(t)
	rd := h.newRealm(1)
	t.Cleanup(h.checkRMMInvariants)
	h.rttsDownTo(rd, 0, 3)
	h.wantStatus("INIT_RIPAS", h.smc(RMIRttInitRipas, rd, 0, szL2), RMISuccess, 0)
	h.wantStatus("fold RAM", h.smc(RMIRttFold, rd, 0, 3), RMISuccess, 0)
	if e := h.rttRead(rd, 0, 3); e != (rtteOut{2, RTTEStateUnassigned, 0, RIPASRAM}) {
		t.Errorf("folded RAM: %+v", e)
	}
	h.rttCreate(rd, 0, 3)
	if e := h.rttRead(rd, szL2-szL3, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASRAM}) {
		t.Errorf("unfolded RAM: %+v", e)
	}
	// One DESTROYED entry among RAM ones: not homogeneous.
	h.dataUnknown(rd, 3*szL3)
	h.wantStatus("DATA_DESTROY", h.smc(RMIDataDestroy, rd, 3*szL3), RMISuccess, 0)
	h.wantStatus("fold mixed RIPAS", h.smc(RMIRttFold, rd, 0, 3), RMIErrorRtt, 3)
	// The L2 RTT: a table entry is never homogeneous; fold the L3 first.
	h.wantStatus("fold L2 with a table", h.smc(RMIRttFold, rd, 0, 2), RMIErrorRtt, 2)
}

// TestRttFoldBlockLevel: an RTT of contiguous ASSIGNED_NS level-1 blocks
// would fold into a level-0 block, which RTTs may not hold: it is not
// homogeneous (Arm DEN0137 1.0-REL0 A5.5.6, ASSIGNED_NS only at level 2 or
// 3), so rtt_homo → RTT[level] = RTT[1] (B4.3.17.2; TF-RMM rel0 says
// RTT[0]). UNASSIGNED entries fold at any level.
func TestRttFoldBlockLevel(t *testing.T) {
	h := newHost(t)
	rtt := h.contiguousDelegated(1)
	rd := h.delegated()
	p := h.realmParams(rtt, 7)
	p[RealmParamsRTTLevelStart], p[RealmParamsRTTNumStart] = 0, 1
	h.wantStatus("REALM_CREATE L0", h.smc(RMIRealmCreate, rd, h.params(p)), RMISuccess, 0)
	t.Cleanup(h.checkRMMInvariants)
	l1 := h.rttCreate(rd, par40, 1)
	h.wantStatus("fold UNASSIGNED_NS into L0", h.smc(RMIRttFold, rd, par40, 1), RMISuccess, 0)
	h.wantStatus("recreate", h.smc(RMIRttCreate, rd, l1, par40, 1), RMISuccess, 0)
	for i := range uint64(entriesPerRTT) {
		h.wantStatus("MAP L1", h.smc(RMIRttMapUnprotected, rd, par40+i*szL1, 1, hostNSDesc(i*szL1)), RMISuccess, 0)
	}
	h.runStimuli(t, RMIRttFold, []rmiStimulus{
		{msg: "rtt_homo (ASSIGNED_NS level-1 blocks)", args: fixedArgs(rd, par40, 1), status: RMIErrorRtt, index: 1},
	})
	h.wantStatus("MAP at L0", h.smc(RMIRttMapUnprotected, rd, par40, 0, hostNSDesc(0)), RMIErrorInput, 0)
}
