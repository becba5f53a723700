package rmm

import "github.com/ccakit/cca/emulator/gpt"

// Granule states (cca-rmm-1.0.md §6.1, TF-RMM lib/granule/include/
// granule_types.h). NS is the specification's UNDELEGATED.
type granuleState uint8

const (
	granuleNS granuleState = iota
	granuleDelegated
	granuleRD
	granuleREC
	granuleRECAux
	granuleData
	granuleRTT
	// SR and SHARED are the sharing extension's (docs/sharing.md §4.1): a
	// share region's descriptor, and a granule of a share region.
	granuleSR
	granuleShared
)

func (s granuleState) String() string {
	return [...]string{"UNDELEGATED", "DELEGATED", "RD", "REC", "REC_AUX", "DATA", "RTT", "SR", "SHARED"}[s]
}

// granule is the RMM's descriptor of one delegable granule. TF-RMM keeps a
// lock bit, the state and a refcount; the emulator keeps what its commands
// need: the owning realm for granules that belong to one, and for RTTs the
// level they were created at.
type granule struct {
	state granuleState
	// owner is the RD address of the realm a REC, REC_AUX, DATA or RTT
	// granule belongs to.
	owner uint64
	// level of an RTT granule.
	level int8
}

// granuleTable holds a descriptor for every granule of the delegable NS
// DRAM banks the RMM learnt at boot (the boot manifest's NS DRAM banks,
// cca-rmm-1.0.md §7 "Boot"). A PA outside them is not delegable: the *_bound
// failure conditions (§6.2).
type granuleTable struct {
	banks []gpt.Range
	descs [][]granule // per bank
}

func newGranuleTable(banks []gpt.Range) *granuleTable {
	t := &granuleTable{banks: banks}
	for _, b := range banks {
		t.descs = append(t.descs, make([]granule, b.Size/GranuleSize))
	}
	return t
}

// lookup returns the descriptor of the granule at addr, or nil when addr is
// not a delegable granule address. Alignment is checked by the callers,
// first, because the _align conditions come before the _bound ones.
func (t *granuleTable) lookup(addr uint64) *granule {
	for i, b := range t.banks {
		if addr >= b.Base && addr < b.End() {
			return &t.descs[i][(addr-b.Base)/GranuleSize]
		}
	}
	return nil
}

func aligned(addr uint64) bool { return addr%GranuleSize == 0 }
