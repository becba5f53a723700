package rmm

import (
	"encoding/binary"
	"fmt"
)

// Stage-2 translation tables (RTTs) live in RTT granules in the Realm PAS,
// 512 eight-byte entries each, and every walk reads them from there through
// the GPC. The hardware-visible part of an entry follows VMSAv8-64 stage 2
// with a 4 KB granule; the host-invisible state the RMM keeps beside it
// (HIPAS, RIPAS) sits in software-defined bits, as TF-RMM's s2tt library
// does. The exact positions of those bits are this emulator's own (TF-RMM's
// are an implementation detail no ABI exposes).
//
//	[1:0]   descriptor type: 00 invalid, 01 block (levels 1-2),
//	        11 table (levels 0-2) or page (level 3)
//	[5:2]   MemAttr   } stage-2 lower attributes; for ASSIGNED_NS the
//	[7:6]   S2AP      } host's values from RTT_MAP_UNPROTECTED
//	[10]    AF
//	[47:12] output address (next-level RTT for a table entry)
//	[55]    NS: output address is in the NS PAS (unprotected mappings)
//	[57:56] RIPAS (EMPTY 0, RAM 1, DESTROYED 2)
//	[60:58] HIPAS (see hipas)
type rtte uint64

// HIPAS values of the emulator's encoding (Arm DEN0137 1.0-REL0 A5.5 Realm Translation Table).
type hipas uint8

const (
	hipasUnassigned hipas = iota
	hipasAssigned
	hipasUnassignedNS
	hipasAssignedNS
	hipasTable
	// hipasShared is a member's entry of a shared granule (the sharing
	// extension, docs/sharing.md §4.2; share_s2.go).
	hipasShared
)

func (h hipas) String() string {
	return [...]string{"UNASSIGNED", "ASSIGNED", "UNASSIGNED_NS", "ASSIGNED_NS", "TABLE", "SHARED"}[h]
}

const (
	rtteTypeMask  = 0x3
	rtteTypeBlock = 0x1
	rtteTypePage  = 0x3  // also "table" below level 3
	rtteAttrMask  = 0xFC // MemAttr[5:2] | S2AP[7:6]
	rtteAF        = 1 << 10
	rtteAddrMask  = 0x0000_FFFF_FFFF_F000 // [47:12]
	rtteNS        = 1 << 55
	rtteRIPASPos  = 56
	rtteHIPASPos  = 58

	// rtteRealmAttrs: normal write-back memory, read/write, inner
	// shareable, access flag set, for protected mappings the RMM makes.
	rtteRealmAttrs = 0xF<<2 | 0x3<<6 | 0x3<<8 | rtteAF

	entriesPerRTT = 512
	rtteSize      = 8
)

func (e rtte) hipas() hipas    { return hipas(e >> rtteHIPASPos & 0x7) }
func (e rtte) ripas() uint8    { return uint8(e >> rtteRIPASPos & 0x3) }
func (e rtte) addr() uint64    { return uint64(e) & rtteAddrMask }
func (e rtte) valid() bool     { return e&rtteTypeMask != 0 }
func (e rtte) hostAttrs() rtte { return e & rtteAttrMask }

func mkRTTE(h hipas, ripas uint8, addr uint64) rtte {
	return rtte(uint64(h)<<rtteHIPASPos | uint64(ripas)<<rtteRIPASPos | addr&rtteAddrMask)
}

// Entry constructors for each HIPAS × RIPAS state of A5.5. Only ASSIGNED RAM, ASSIGNED_NS
// and TABLE are valid (translating) descriptors; the other assigned states
// keep their PA in an invalid descriptor.
func unassignedRTTE(ripas uint8) rtte { return mkRTTE(hipasUnassigned, ripas, 0) }
func unassignedNSRTTE() rtte          { return mkRTTE(hipasUnassignedNS, 0, 0) }
func tableRTTE(pa uint64) rtte        { return mkRTTE(hipasTable, 0, pa) | rtteTypePage }

func assignedRTTE(pa uint64, ripas uint8, level int) rtte {
	e := mkRTTE(hipasAssigned, ripas, pa)
	if ripas == RIPASRAM {
		e |= rtteRealmAttrs | leafType(level)
	}
	return e
}

// assignedNSRTTE is an unprotected mapping: the host's descriptor fields
// (output address and attributes) made valid, with NS set.
func assignedNSRTTE(hostDesc uint64, level int) rtte {
	return mkRTTE(hipasAssignedNS, 0, hostDesc) | rtte(hostDesc)&rtteAttrMask | rtteAF | rtteNS | leafType(level)
}

func leafType(level int) rtte {
	if level == 3 {
		return rtteTypePage
	}
	return rtteTypeBlock
}

// Geometry of a 4 KB translation granule: level L maps 2^levelShift(L)
// bytes per entry (L0 512 GB, L1 1 GB, L2 2 MB, L3 4 KB).
func levelShift(level int) uint  { return uint(12 + 9*(3-level)) }
func levelSize(level int) uint64 { return 1 << levelShift(level) }

// Levels at which the emulated RMM allows leaf (block or page) entries:
// S2TT_MIN_BLOCK_LEVEL = 1 for a 4 KB granule (TF-RMM rel0
// runtime/rmi/rtt.c validate_rtt_map_cmds), up to level 3.
const (
	minBlockLevel = 1
	maxLevel      = 3
)

// walkResult is where a walk of a realm's RTTs stopped.
type walkResult struct {
	level int    // level of the entry
	rtt   uint64 // PA of the RTT granule holding it
	index int    // index of the entry in that granule
	entry rtte
}

// rootIndex locates ipa's entry in the (possibly concatenated) starting-level
// tables.
func (rl *realmDesc) rootIndex(ipa uint64) (rtt uint64, index int) {
	i := ipa >> levelShift(rl.startLevel) // < entries at start level, ipa < 2^s2sz
	return rl.rttBase + (i/entriesPerRTT)*GranuleSize, int(i % entriesPerRTT)
}

// walk descends the realm's RTTs towards ipa, through table entries, until
// it reaches target level or an entry that is not a table.
func (r *RMM) walk(rl *realmDesc, ipa uint64, target int) (walkResult, error) {
	w := walkResult{level: rl.startLevel}
	w.rtt, w.index = rl.rootIndex(ipa)
	for {
		e, err := r.readRTTE(w.rtt, w.index)
		if err != nil {
			return w, err
		}
		w.entry = e
		if w.level >= target || e.hipas() != hipasTable {
			return w, nil
		}
		w.level++
		w.rtt = e.addr()
		w.index = int(ipa >> levelShift(w.level) % entriesPerRTT)
	}
}

// l3Walk is where the last walk of a DATA command reached a level-3 RTT:
// the realm, the IPA block that RTT maps and the RTT's PA. A host populates
// a realm granule by granule in IPA order, and the walk down to a level-3
// RTT is the same for all 512 granules it maps as long as no RTT entry
// above it changes; the level-3 entry itself is read anew every time.
// Every RTT write other than of an entry of that very RTT (writeRTTE to
// another RTT, writeRTT, zero) forgets it, so a changed table above can
// never be bypassed. The zero value remembers nothing. Under r.mu.
type l3Walk struct {
	rl    *realmDesc
	block uint64 // ipa >> levelShift(maxLevel-1)
	rtt   uint64
}

// walkData is mustWalk(rl, ipa, maxLevel) for the DATA commands, reusing
// the remembered descent to the level-3 RTT when ipa falls in its block.
func (r *RMM) walkData(rl *realmDesc, ipa uint64) walkResult {
	block := ipa >> levelShift(maxLevel-1)
	if c := r.dataWalk; c.rl == rl && c.rtt != 0 && c.block == block {
		w := walkResult{level: maxLevel, rtt: c.rtt, index: int(ipa >> levelShift(maxLevel) % entriesPerRTT)}
		e, err := r.readRTTE(w.rtt, w.index)
		mustPlatform(err)
		w.entry = e
		return w
	}
	w := r.mustWalk(rl, ipa, maxLevel)
	if w.level == maxLevel {
		r.dataWalk = l3Walk{rl: rl, block: block, rtt: w.rtt}
	}
	return w
}

// The RTT accessors below hold r.mu, as every user of realm state does,
// and go through r.rttBuf: a buffer on the stack would escape into the
// Platform interface and cost an allocation per entry walked.

func (r *RMM) readRTTE(rtt uint64, index int) (rtte, error) {
	b := r.rttBuf[:rtteSize]
	if err := r.realmRead(rtt+uint64(index)*rtteSize, b); err != nil {
		return 0, fmt.Errorf("rmm: reading RTT entry at %#x: %w", rtt+uint64(index)*rtteSize, err)
	}
	return rtte(binary.LittleEndian.Uint64(b)), nil
}

func (r *RMM) writeRTTE(rtt uint64, index int, e rtte) error {
	if rtt != r.dataWalk.rtt {
		r.dataWalk = l3Walk{} // a table above the remembered RTT may change
	}
	b := r.rttBuf[:rtteSize]
	binary.LittleEndian.PutUint64(b, uint64(e))
	return r.realmWrite(rtt+uint64(index)*rtteSize, b)
}

// readRTT reads a whole RTT granule.
func (r *RMM) readRTT(rtt uint64) ([entriesPerRTT]rtte, error) {
	var out [entriesPerRTT]rtte
	b := &r.rttBuf
	if err := r.realmRead(rtt, b[:]); err != nil {
		return out, err
	}
	for i := range out {
		out[i] = rtte(binary.LittleEndian.Uint64(b[i*rtteSize:]))
	}
	return out, nil
}

// writeRTT writes a whole RTT granule.
func (r *RMM) writeRTT(rtt uint64, entries *[entriesPerRTT]rtte) error {
	r.dataWalk = l3Walk{}
	b := &r.rttBuf
	for i, e := range entries {
		binary.LittleEndian.PutUint64(b[i*rtteSize:], uint64(e))
	}
	return r.realmWrite(rtt, b[:])
}

// rttLive reports whether an RTT holds an entry that keeps it alive: a
// protected ASSIGNED entry (any RIPAS), a table, or a member's entry of a
// shared granule (the sharing extension, docs/sharing.md §4.1)
// (RTT_DESTROY rtt_live, REALM_DESTROY realm_live, Arm DEN0137 1.0-REL0 B4.3.16, B4.3.10).
// ASSIGNED_NS entries do not: TF-RMM rel0 counts only the first two in the
// RTT granule's refcount and lets RTT_DESTROY remove an RTT with
// unprotected mappings (it invalidates the whole range for that reason);
// the host's NS pages are not the RMM's to keep track of.
func rttLive(entries *[entriesPerRTT]rtte) bool {
	for _, e := range entries {
		switch e.hipas() {
		case hipasAssigned, hipasTable, hipasShared:
			return true
		}
	}
	return false
}

// startGeometry checks rtt_level_start and rtt_num_start against s2sz
// (REALM_CREATE rtt_num_level, Arm DEN0137 1.0-REL0 B4.3.9): the starting level
// must resolve the IPA bits above it with between 1 and 16 concatenated
// tables, and rtt_num_start must be exactly that number.
func startGeometry(s2sz uint, level int64, num uint64) bool {
	if level < 0 || level > maxLevel {
		return false
	}
	shift := levelShift(int(level))
	if s2sz <= shift || s2sz > shift+9+4 { // at most 16 concatenated tables
		return false
	}
	need := uint64(1) << (s2sz - shift) / entriesPerRTT
	if need == 0 {
		need = 1
	}
	return num == need
}
