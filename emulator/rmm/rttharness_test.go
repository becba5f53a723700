package rmm

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// Harness for the RTT and DATA command tests, in the ACS style
// (ARM-software/cca-rmm-acs docs/command_scenarios.rst): a table of stimuli per command, each one failure
// condition (or a pair of them, for the priority order) named by the
// specification's label, prepared against a valid set of arguments; then a
// positive observability check through RMI_RTT_READ_ENTRY and later
// transitions. Every failing rmiStimulus must leave the RMM's state exactly
// as it was.

// Geometry of the realms newRealm creates: s2sz 40, starting level 1 with
// two concatenated tables; the PAR is [0, 2^39).
const (
	szL1  = 1 << 30
	szL2  = 2 << 20
	szL3  = GranuleSize
	par40 = 1 << 39
	ipa40 = 1 << 40
)

// A PA the RMM does not know as delegable memory: *_bound.
const outsidePA = 0x1000

// rmiStimulus is one row of a conformance table.
type rmiStimulus struct {
	msg  string          // the specification's failure condition label
	args func() []uint64 // prepares the state and returns X1..
	// status and index are the expected X0.
	status, index uint8
	// out is X1.. expected with the status (missing registers are 0).
	out []uint64
}

// run calls fid with each rmiStimulus's arguments and checks X0..X4, and that
// a failing call changed nothing.
func (h *host) runStimuli(t *testing.T, fid uint64, tests []rmiStimulus) {
	t.Helper()
	for i, tc := range tests {
		args := tc.args()
		before := h.rmmSnapshot()
		x := h.smc(fid, args...)
		want := [5]uint64{Pack(tc.status, tc.index)}
		if len(args) > 3 {
			// X4 is the host's own unless the command returns a result
			// there (SMCCC v1.2; TF-RMM rel0 runtime/core/aarch64/entry.S).
			want[4] = args[3]
		}
		copy(want[1:], tc.out)
		if x != want {
			t.Errorf("%d %s: X0..X4 = %#x, want %#x", i, tc.msg, x, want)
		}
		if tc.status != RMISuccess {
			if diff := before.diff(h.rmmSnapshot()); diff != "" {
				t.Errorf("%d %s: a failing call changed the state: %s", i, tc.msg, diff)
			}
		}
	}
}

// rmmSnapshot is the RMM state a failing command must not change: the
// contents of every granule the RMM tracks as not UNDELEGATED (RTTs, data,
// RDs, RECs), the GPIs and granule descriptors of the granules the test
// handed out, the realms (RIM and state included) and the RECs' pending
// RIPAS changes.
type rmmSnapshot struct {
	mem      map[uint64][]byte
	gpis     []gpt.GPI
	granules []granule
	realms   map[uint64]realmDesc
	ripas    map[uint64][5]uint64
}

func (h *host) rmmSnapshot() rmmSnapshot {
	h.t.Helper()
	s := rmmSnapshot{mem: map[uint64][]byte{}, realms: map[uint64]realmDesc{}, ripas: map[uint64][5]uint64{}}
	// The tests only hand out granules below h.next (and outside DRAM).
	for pa := uint64(tDRAMBase); pa < h.next; pa += GranuleSize {
		g := *h.r.granules.lookup(pa)
		gpi, err := h.p.mon.GPI(pa)
		if err != nil {
			h.t.Fatal(err)
		}
		s.granules, s.gpis = append(s.granules, g), append(s.gpis, gpi)
		if g.state == granuleNS {
			continue
		}
		b := make([]byte, GranuleSize)
		if err := h.r.realmRead(pa, b); err != nil {
			h.t.Fatalf("rmmSnapshot %#x: %v", pa, err)
		}
		s.mem[pa] = b
	}
	for rd, rl := range h.r.realms {
		s.realms[rd] = *rl
	}
	for a, rec := range h.r.recs {
		s.ripas[a] = [5]uint64{boolWord(rec.ripasPending), rec.ripasAddr, rec.ripasTop, uint64(rec.ripasValue), boolWord(rec.ripasDestroyed)}
	}
	return s
}

func boolWord(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (s rmmSnapshot) diff(o rmmSnapshot) string {
	for pa, b := range s.mem {
		if !bytes.Equal(b, o.mem[pa]) {
			return fmt.Sprintf("granule %#x", pa)
		}
	}
	switch {
	case len(s.mem) != len(o.mem):
		return "set of delegated granules"
	case !slices.Equal(s.gpis, o.gpis):
		return "GPT"
	case !reflect.DeepEqual(s.granules, o.granules):
		return "granule states"
	case !reflect.DeepEqual(s.realms, o.realms):
		return "realm descriptors (RIM, state)"
	case !reflect.DeepEqual(s.ripas, o.ripas):
		return "pending RIPAS changes"
	}
	return ""
}

// rdStimuli are the rd_align, rd_bound and rd_state rows every RTT and
// DATA command shares (ACS RD_UNALIGNED, RD_OUTSIDE_OF_PERMITTED_PA,
// RD_STATE_*): args builds the arguments with the given rd.
func (h *host) rdStimuli(rd uint64, args func(rd uint64) []uint64) []rmiStimulus {
	rl := h.r.realms[rd]
	fixed := func(v uint64) func() []uint64 { return func() []uint64 { return args(v) } }
	return []rmiStimulus{
		{msg: "rd_align", args: fixed(rd + 8), status: RMIErrorInput},
		{msg: "rd_bound", args: fixed(outsidePA), status: RMIErrorInput},
		{msg: "rd_bound", args: fixed(tRMMBase), status: RMIErrorInput},
		{msg: "rd_state", args: func() []uint64 { return args(h.alloc()) }, status: RMIErrorInput},
		{msg: "rd_state", args: func() []uint64 { return args(h.delegated()) }, status: RMIErrorInput},
		{msg: "rd_state", args: fixed(rl.rttBase), status: RMIErrorInput},
		{msg: "rd_state", args: func() []uint64 { return args(h.granuleIn(granuleREC)) }, status: RMIErrorInput},
		{msg: "rd_state", args: func() []uint64 { return args(h.granuleIn(granuleData)) }, status: RMIErrorInput},
	}
}

// granuleIn returns a granule in state s (the tests create one first).
func (h *host) granuleIn(s granuleState) uint64 {
	h.t.Helper()
	for pa := uint64(tDRAMBase); pa < h.next; pa += GranuleSize {
		if h.r.granules.lookup(pa).state == s {
			return pa
		}
	}
	h.t.Fatalf("no %v granule", s)
	return 0
}

// expect fails unless x carries status[index].
func (h *host) wantStatus(what string, x [5]uint64, status, index uint8) [5]uint64 {
	h.t.Helper()
	if x[0] != Pack(status, index) {
		h.t.Fatalf("%s: X0 = %#x, want %#x", what, x[0], Pack(status, index))
	}
	return x
}

// rtteOut is RMI_RTT_READ_ENTRY's output.
type rtteOut struct {
	walkLevel, state, desc, ripas uint64
}

func (h *host) rttRead(rd, ipa uint64, level int) rtteOut {
	h.t.Helper()
	x := h.wantStatus(fmt.Sprintf("READ_ENTRY %#x L%d", ipa, level), h.smc(RMIRttReadEntry, rd, ipa, uint64(level)), RMISuccess, 0)
	return rtteOut{x[1], x[2], x[3], x[4]}
}

// rttCreate creates a level-`level` RTT for ipa and returns its address.
func (h *host) rttCreate(rd, ipa uint64, level int) uint64 {
	h.t.Helper()
	rtt := h.delegated()
	h.wantStatus(fmt.Sprintf("RTT_CREATE %#x L%d", ipa, level),
		h.smc(RMIRttCreate, rd, rtt, ipa&^(levelSize(level-1)-1), uint64(level)), RMISuccess, 0)
	return rtt
}

// rttsDownTo creates the missing RTTs so that a walk for ipa reaches level.
func (h *host) rttsDownTo(rd, ipa uint64, level int) {
	h.t.Helper()
	for l := int(h.rttRead(rd, ipa, level).walkLevel) + 1; l <= level; l++ {
		h.rttCreate(rd, ipa, l)
	}
}

// nsWith returns an NS granule holding content.
func (h *host) nsWith(content []byte) uint64 {
	h.t.Helper()
	pa := h.alloc()
	if err := h.write(pa, content); err != nil {
		h.t.Fatal(err)
	}
	return pa
}

// dataCreate maps a fresh data granule at ipa with RMI_DATA_CREATE from src
// (creating the RTTs it needs) and returns it.
func (h *host) dataCreate(rd, ipa, src, flags uint64) uint64 {
	h.t.Helper()
	h.rttsDownTo(rd, ipa, maxLevel)
	data := h.delegated()
	h.wantStatus(fmt.Sprintf("DATA_CREATE %#x", ipa), h.smc(RMIDataCreate, rd, data, ipa, src, flags), RMISuccess, 0)
	return data
}

// dataUnknown maps a fresh data granule at ipa with RMI_DATA_CREATE_UNKNOWN.
func (h *host) dataUnknown(rd, ipa uint64) uint64 {
	h.t.Helper()
	h.rttsDownTo(rd, ipa, maxLevel)
	data := h.delegated()
	h.wantStatus(fmt.Sprintf("DATA_CREATE_UNKNOWN %#x", ipa), h.smc(RMIDataCreateUnknown, rd, data, ipa), RMISuccess, 0)
	return data
}

// alignNext skips DRAM so that the next granule handed out is aligned to
// size.
func (h *host) alignNext(size uint64) {
	h.next = (h.next + size - 1) &^ (size - 1)
}

// hostNSDesc is a valid RTT_MAP_UNPROTECTED descriptor: normal memory
// (MemAttr 0b110: FWB normal write-back), read/write.
func hostNSDesc(pa uint64) uint64 { return pa | 0x6<<2 | 0x3<<6 }

// checkRMMInvariants walks every realm's RTTs and checks what the whole
// emulator relies on: table entries point to RTT granules of the realm at
// the next level, assigned entries to DATA granules of the realm, each RTT
// and DATA granule is referenced exactly once (no PA is mapped twice, nor
// into two realms), and DELEGATED granules are zero.
func (h *host) checkRMMInvariants() {
	h.t.Helper()
	seen := map[uint64]uint64{} // granule → realm
	claim := func(pa, rd uint64, s granuleState, level int) {
		h.t.Helper()
		g := h.r.granules.lookup(pa)
		if g == nil || g.state != s || g.owner != rd || (s == granuleRTT && int(g.level) != level) {
			h.t.Fatalf("granule %#x: %+v, want %v of %#x (level %d)", pa, g, s, rd, level)
		}
		if other, dup := seen[pa]; dup {
			h.t.Fatalf("granule %#x referenced twice (realms %#x, %#x)", pa, other, rd)
		}
		seen[pa] = rd
	}
	var visit func(rl *realmDesc, rtt uint64, level int)
	visit = func(rl *realmDesc, rtt uint64, level int) {
		entries, err := h.r.readRTT(rtt)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, e := range entries {
			switch e.hipas() {
			case hipasTable:
				claim(e.addr(), rl.rd, granuleRTT, level+1)
				visit(rl, e.addr(), level+1)
			case hipasAssigned:
				if e.valid() != (e.ripas() == RIPASRAM) {
					h.t.Fatalf("ASSIGNED entry %#x: valid %v with RIPAS %d", e, e.valid(), e.ripas())
				}
				for off := uint64(0); off < levelSize(level); off += GranuleSize {
					claim(e.addr()+off, rl.rd, granuleData, 0)
				}
			}
		}
	}
	for rd, rl := range h.r.realms {
		for i := 0; i < rl.numStart; i++ {
			root := rl.rttBase + uint64(i)*GranuleSize
			claim(root, rd, granuleRTT, rl.startLevel)
			visit(rl, root, rl.startLevel)
		}
	}
	zero := make([]byte, GranuleSize)
	for pa := uint64(tDRAMBase); pa < h.next; pa += GranuleSize {
		g := h.r.granules.lookup(pa)
		switch g.state {
		case granuleRTT, granuleData:
			if _, ok := seen[pa]; !ok {
				h.t.Fatalf("%v granule %#x is not referenced by its realm's RTTs", g.state, pa)
			}
		case granuleDelegated:
			b := make([]byte, GranuleSize)
			if err := h.r.realmRead(pa, b); err != nil || !bytes.Equal(b, zero) {
				h.t.Fatalf("DELEGATED granule %#x is not zero (err %v)", pa, err)
			}
		}
	}
}
