package rmm

import "github.com/ccakit/cca/emulator/gpt"

// Granule states (Arm DEN0137 1.0-REL0 A2.2 Granule, C1 RmmGranuleState; TF-RMM lib/granule/include/
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
// TF-RMM lib/rmm_el3_ifc boot manifest v0.3). A PA outside them is not
// delegable: the *_bound failure conditions (PaIsDelegable, Arm DEN0137 1.0-REL0 B3). Descriptors are kept in chunks allocated when
// first looked up, so a machine with gigabytes of DRAM pays only for the
// granules its host touches; an untouched descriptor is UNDELEGATED.
type granuleTable struct {
	banks  []gpt.Range
	chunks [][]*[granuleChunk]granule // per bank
}

const granuleChunk = 512 // descriptors per chunk: 2 MB of DRAM

func newGranuleTable(banks []gpt.Range) *granuleTable {
	t := &granuleTable{banks: banks}
	for _, b := range banks {
		n := (b.Size/GranuleSize + granuleChunk - 1) / granuleChunk
		t.chunks = append(t.chunks, make([]*[granuleChunk]granule, n))
	}
	return t
}

// lookup returns the descriptor of the granule at addr, or nil when addr is
// not a delegable granule address. Alignment is checked by the callers,
// first, because the _align conditions come before the _bound ones. The
// caller holds r.mu.
func (t *granuleTable) lookup(addr uint64) *granule {
	for i, b := range t.banks {
		if addr >= b.Base && addr < b.End() {
			idx := (addr - b.Base) / GranuleSize
			c := &t.chunks[i][idx/granuleChunk]
			if *c == nil {
				*c = new([granuleChunk]granule)
			}
			return &(*c)[idx%granuleChunk]
		}
	}
	return nil
}

func aligned(addr uint64) bool { return addr%GranuleSize == 0 }
