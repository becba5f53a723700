package sharing

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// The isolation property: over random sequences of RMI, RSI and sharing
// calls — three realms writing unique tags into their own memory and into
// regions (directly under leases, or through access code), reading them
// back, attaching, leasing, releasing, and a host that destroys their
// pages, removes members and tries to place regions over their memory — no
// realm ever observes a value written to an address it never attached: a
// tag read from private memory was written there by the same realm, and a
// tag read from a region was written at that offset of that region, which
// the reader attached.

// tagLoc is where a tag was written: a realm's private IPA, or an offset
// of a region.
type tagLoc struct {
	realm  int
	region int // -1: private
	at     uint64
}

type tagBook struct {
	mu   sync.Mutex
	locs map[uint64][]tagLoc
	// foreign counts observations of another realm's tag: the property
	// test must actually see sharing happen.
	foreign int
}

func (b *tagBook) record(tag uint64, l tagLoc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.locs[tag] = append(b.locs[tag], l)
}

// check reports how an observation breaks the property, or "".
func (b *tagBook) check(v uint64, reader int, region int, at uint64, attached bool) string {
	if v == 0 {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if region >= 0 && !attached {
		return fmt.Sprintf("realm %d read %#x from region %d, which it never attached", reader, v, region)
	}
	for _, l := range b.locs[v] {
		if region < 0 && l.region < 0 && l.realm == reader && l.at == at {
			return ""
		}
		if region >= 0 && l.region == region && l.at == at {
			if l.realm != reader {
				b.foreign++
			}
			return ""
		}
	}
	return fmt.Sprintf("realm %d read %#x at %d:%#x, written at %+v", reader, v, region, at, b.locs[v])
}

func TestPropertyNoForeignWrites(t *testing.T) {
	foreign := 0
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { foreign += propertyRun(t, seed, 400) })
	}
	if foreign == 0 {
		t.Fatal("no realm ever read what another member wrote: the sequences exercise no sharing")
	}
	t.Logf("%d reads of another member's writes, all through regions the reader attached", foreign)
}

func propertyRun(t *testing.T, seed uint64, ops int) int {
	const (
		private    = RAMBase + 0x40_0000 // 16 granules each realm writes and reads
		privSize   = 16 * rmm.GranuleSize
		graveyard  = RAMBase + 0x48_0000 // pages the host destroyed before the run
		storeArg   = RAMBase + 0x50_0000
		loadArg    = RAMBase + 0x51_0000
		granules   = 2
		regionSize = granules * rmm.GranuleSize
	)
	w := newWorld(t)
	book := &tagBook{locs: map[uint64][]tagLoc{}}
	windows := [2]uint64{WindowIPA, WindowIPA + 0x20_0000}
	members := [2][]int{{0, 1}, {1, 2}} // region → member realms
	var srs [2]uint64
	store := asmT(t, ".arg 8\njgti r0, "+itoa(regionSize-8)+", bad\nmovi r6, 8\nmovi r7, 0\ncpin r0, r7, r6\nbad: exit")
	load := asmT(t, ".arg 8\njgti r0, "+itoa(regionSize-8)+", bad\nmovi r6, 8\nmovi r7, 0\ncpout r7, r0, r6\nbad: exit")
	var failMu sync.Mutex
	fail := func(msg string) {
		failMu.Lock()
		defer failMu.Unlock()
		t.Error(msg)
	}
	prog := func(me int) func(cpu emulator.RealmCPU) {
		return func(cpu emulator.RealmCPU) {
			rng := rand.New(rand.NewPCG(seed, uint64(me)))
			var seq uint64
			attached := [2]bool{}
			gone := [2]bool{} // removed from the region: its entries are DESTROYED
			lease := [2]int{} // 0 none, 1 read, 2 write
			codes := [2][2]Code{}
			var b [8]byte
			le := binary.LittleEndian
			for range ops {
				g := rng.IntN(2)
				off := uint64(rng.IntN(regionSize/8)) * 8
				tag := 1<<63 | uint64(me)<<48 | seq
				seq++
				switch rng.IntN(10) {
				case 0: // private write
					ipa := private + uint64(rng.IntN(privSize/8))*8
					book.record(tag, tagLoc{me, -1, ipa})
					le.PutUint64(b[:], tag)
					_ = cpu.Write(ipa, b[:])
				case 1: // private read
					ipa := private + uint64(rng.IntN(privSize/8))*8
					if cpu.Read(ipa, b[:]) == nil {
						if msg := book.check(le.Uint64(b[:]), me, -1, ipa, false); msg != "" {
							fail(msg)
						}
					}
				case 2: // direct write into a region window
					if gone[g] {
						continue
					}
					book.record(tag, tagLoc{me, g, off})
					le.PutUint64(b[:], tag)
					_ = cpu.Write(windows[g]+off, b[:])
				case 3: // direct read of a region window
					if gone[g] {
						continue
					}
					if cpu.Read(windows[g]+off, b[:]) == nil {
						if msg := book.check(le.Uint64(b[:]), me, g, off, attached[g]); msg != "" {
							fail(msg)
						}
					}
				case 4: // attach and load the codes
					if !attached[g] {
						if _, err := Attach(cpu, srs[g], 0); err == nil {
							attached[g] = true
							codes[g][0], _ = LoadCode(cpu, srs[g], codeIPA, store)
							codes[g][1], _ = LoadCode(cpu, srs[g], codeIPA+0x1000, load)
						}
					}
				case 5: // lease
					if lease[g] == 0 {
						write := rng.IntN(2) == 0
						if _, err := Acquire(cpu, srs[g], write); err == nil {
							lease[g] = 1
							if write {
								lease[g] = 2
							}
						}
					}
				case 6:
					if lease[g] != 0 {
						_ = Release(cpu, srs[g])
						lease[g] = 0
					}
				case 7: // store through access code
					if attached[g] {
						le.PutUint64(b[:], tag)
						book.record(tag, tagLoc{me, g, off})
						if cpu.Write(storeArg, b[:]) == nil {
							_, _ = Invoke(cpu, codes[g][0], storeArg, 8, off)
						}
					}
				case 8: // load through access code
					if attached[g] {
						if _, err := Invoke(cpu, codes[g][1], loadArg, 8, off); err == nil && cpu.Read(loadArg, b[:]) == nil {
							if msg := book.check(le.Uint64(b[:]), me, g, off, attached[g]); msg != "" {
								fail(msg)
							}
						}
					}
				default: // let the host act
					if hostCall(t, cpu, 1)[0] == 1 {
						gone[0] = true
					}
				}
			}
		}
	}
	var rs []*Realm
	for i := range 3 {
		rs = append(rs, w.realm(prog(i)))
	}
	for g := range srs {
		var ms []Member
		for _, i := range members[g] {
			ms = append(ms, Member{RD: rs[i].RD, IPA: windows[g]})
		}
		hr, err := w.h.CreateRegion(RegionSpec{Granules: granules, Flags: rmm.ShareFlagMediated | rmm.ShareFlagLease, LeaseTicks: 3}, ms...)
		if err != nil {
			t.Fatal(err)
		}
		srs[g] = hr.SR
	}
	// A region the host keeps trying to place over the realms' memory.
	bad, err := w.h.Delegate()
	if err != nil {
		t.Fatal(err)
	}
	params, _ := w.h.Alloc(1)
	var p [rmm.GranuleSize]byte
	p[rmm.ShareParamsFlags] = rmm.ShareFlagMediated
	p[rmm.ShareParamsNumGranules] = 1
	if err := w.m.HostWrite(params, p[:]); err != nil {
		t.Fatal(err)
	}
	expectRMI(t, "REGION_CREATE", w.m.HostSMC(rmm.RMIShareRegionCreate, bad, params), rmm.RMISuccess, 0)
	g, _ := w.h.Delegate()
	expectRMI(t, "GRANULE_ADD", w.m.HostSMC(rmm.RMIShareGranuleAdd, bad, g), rmm.RMISuccess, 0)
	// Each realm has pages the host destroyed (RIPAS DESTROYED), which the
	// realms never touch (the VMM does not handle aborts there).
	for _, r := range rs {
		if err := w.h.Tables(r.RD, graveyard, 2*rmm.GranuleSize); err != nil {
			t.Fatal(err)
		}
		for i := range uint64(2) {
			d, _ := w.h.Delegate()
			expectRMI(t, "DATA_CREATE_UNKNOWN", w.m.HostSMC(rmm.RMIDataCreateUnknown, r.RD, d, graveyard+i*rmm.GranuleSize), rmm.RMISuccess, 0)
			expectRMI(t, "DATA_DESTROY", w.m.HostSMC(rmm.RMIDataDestroy, r.RD, graveyard+i*rmm.GranuleSize), rmm.RMISuccess, 0)
		}
	}
	var hostMu sync.Mutex
	hrng := rand.New(rand.NewPCG(seed, 99))
	removed := false
	w.run(func(realm int, _ uint16, gprs [31]uint64) [31]uint64 {
		hostMu.Lock()
		defer hostMu.Unlock()
		victim := rs[hrng.IntN(3)]
		ipa := private + uint64(hrng.IntN(privSize/rmm.GranuleSize))*rmm.GranuleSize
		switch hrng.IntN(4) {
		case 0: // place a region over the victim's private memory: refused
			if err := w.h.Tables(victim.RD, ipa, rmm.GranuleSize); err != nil {
				fail(err.Error())
			}
			if x := w.m.HostSMC(rmm.RMIShareMemberAdd, bad, victim.RD, ipa); x[0] == rmm.RMISuccess {
				fail(fmt.Sprintf("the host placed a region over IPA %#x of a realm's memory", ipa))
			}
		case 1: // place it over a page the host destroyed: refused
			ipa = graveyard + uint64(hrng.IntN(2))*rmm.GranuleSize
			if x := w.m.HostSMC(rmm.RMIShareMemberAdd, bad, victim.RD, ipa); x[0] == rmm.RMISuccess {
				fail(fmt.Sprintf("the host placed a region over DESTROYED IPA %#x", ipa))
			}
		case 2: // remove realm 0 from region 0, once, while it is in this call
			if realm == 0 && !removed && hrng.IntN(3) == 0 {
				removed = true
				expectRMI(t, "MEMBER_REMOVE", w.m.HostSMC(rmm.RMIShareMemberRemove, srs[0], rs[0].RD), rmm.RMISuccess, 0)
				gprs[0] = 1
			}
		}
		return gprs
	}, rs...)
	return book.foreign
}
