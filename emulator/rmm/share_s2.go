package rmm

import "github.com/ccakit/cca/emulator/gpt"

// Stage-2 side of the sharing extension (docs/sharing.md §4.2): a member's
// RTT entry of a shared granule has HIPAS SHARED, RIPAS EMPTY and the
// granule's PA; its descriptor is valid only while the member holds a
// lease, read-only for a READ lease (S2AP 01) and read-write for the WRITE
// lease (S2AP 11).

// shareAccess is what a member's stage 2 allows on the region.
type shareAccess uint8

const (
	accessNone shareAccess = iota
	accessRO
	accessRW
)

// s2apWrite is S2AP[1], the write permission of a stage-2 descriptor.
const s2apWrite = 1 << 7

func sharedRTTE(pa uint64, acc shareAccess) rtte {
	e := mkRTTE(hipasShared, RIPASEmpty, pa)
	switch acc {
	case accessRO:
		e |= rtteRealmAttrs&^s2apWrite | rtteTypePage
	case accessRW:
		e |= rtteRealmAttrs | rtteTypePage
	}
	return e
}

func (e rtte) shareAccess() shareAccess {
	switch {
	case !e.valid():
		return accessNone
	case e&s2apWrite != 0:
		return accessRW
	}
	return accessRO
}

// translateAccess is translate with the permission check shared entries
// need: a SHARED entry translates when its access allows the access. Any
// other SHARED entry is a fault with state hipasShared, which the REC's
// access path turns into an abort injected into the realm (the host could
// not resolve it). Entries of every other state are translate's. The caller
// holds r.mu.
func (r *RMM) translateAccess(rl *realmDesc, ipa uint64, write bool) (uint64, gpt.PAS, *s2Fault) {
	pa, pas, f := r.translate(rl, ipa)
	if f == nil || f.state != hipasShared {
		return pa, pas, f
	}
	e := r.mustWalk(rl, ipa, maxLevel).entry
	if acc := e.shareAccess(); acc == accessRW || acc == accessRO && !write {
		return e.addr() + ipa%GranuleSize, gpt.PASRealm, nil
	}
	return 0, 0, f
}

// setShareAccess rewrites a member's entries of the region with access acc.
// The entries were made SHARED by MEMBER_ADD and only the RMM changes them,
// so the walks reach level 3. Taking access away is followed on hardware by
// TLB invalidation of the range and a DSB before the operation that needed
// it proceeds.
func (r *RMM) setShareAccess(rg *shareRegion, m *shareMember, acc shareAccess) {
	rl := r.realms[m.rd]
	var rtt uint64
	for i, pa := range rg.granules {
		w := r.mustWalk(rl, m.ipa+uint64(i)*GranuleSize, maxLevel)
		if w.level != maxLevel || w.entry.hipas() != hipasShared || w.entry.addr() != pa {
			panic("rmm: a member's entry of a shared granule changed behind the RMM")
		}
		if w.rtt != rtt {
			// A hardware RMM walks once per level-3 RTT and then writes
			// consecutive entries; that is what is counted.
			rtt = w.rtt
			r.shareCtr.leaseWalks.Add(1)
		}
		mustPlatform(r.writeRTTE(w.rtt, w.index, sharedRTTE(pa, acc)))
	}
	r.shareCtr.leaseEntries.Add(uint64(len(rg.granules)))
	if acc != accessRW {
		// Access taken away (or reduced to read-only): one TLB
		// invalidation by IPA range for the member's VMID (TLBI
		// RIPAS2E1IS, FEAT_TLBIRANGE, Armv8.4) and its DSB.
		r.shareCtr.tlbis.Add(1)
	}
}
