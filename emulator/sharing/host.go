package sharing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
)

// The host side: a hypervisor (emulator/vmm) that builds the realms, plus
// the sharing extension's RMI commands (docs/sharing.md §3) and the RTTs
// and unprotected mappings the workloads need. It uses the machine's
// register-level ABI only.

// Guest memory map of the realms the Host builds (s2sz 40: the PAR is
// [0, 2^39), unprotected IPAs have bit 39 set).
const (
	S2SZ = 40
	// RAMBase is where guest RAM starts; the VMM backs it on first touch.
	RAMBase = 0x8000_0000
	// DefaultRAMSize is the RAM of a realm unless RealmSpec says otherwise.
	DefaultRAMSize = 64 << 20
	// WindowIPA is where a region is mapped in its members: outside RAM,
	// RIPAS EMPTY until the RMM makes the entries SHARED.
	WindowIPA = 0x4000_0000
	// NSWindowIPA is where the baseline's NS buffer is mapped (unprotected).
	NSWindowIPA = 1<<(S2SZ-1) | 0x4000_0000
)

// ErrRMI: an RMI command of the host failed (see *RMIError).
var ErrRMI = errors.New("sharing: RMI command failed")

// RMIError is a failed RMI command.
type RMIError struct {
	Command       string
	Status, Index uint8
}

func (e *RMIError) Error() string {
	return fmt.Sprintf("sharing: %s: status %d index %d", e.Command, e.Status, e.Index)
}

func (e *RMIError) Unwrap() error { return ErrRMI }

// Host is the host hypervisor of one machine with the sharing extension.
// Region granules, the extra RTTs and NS buffers come from the second NS
// DRAM bank, which the VMM (owning the first) does not use.
type Host struct {
	M *emulator.Machine
	V *vmm.VMM

	mu        sync.Mutex
	next, end uint64
}

// NewHost takes over the machine: the VMM gets the first NS DRAM bank, the
// Host the second.
func NewHost(m *emulator.Machine) (*Host, error) {
	banks := m.Monitor().Layout().HostDRAM()
	if len(banks) < 2 {
		return nil, errors.New("sharing: the memory map needs a second NS DRAM bank")
	}
	return &Host{M: m, V: vmm.New(m), next: banks[1].Base, end: banks[1].Base + banks[1].Size}, nil
}

// SMC issues an RMI command and turns a failure into an *RMIError.
func (h *Host) SMC(name string, fid uint64, args ...uint64) ([5]uint64, error) {
	x := h.M.HostSMC(fid, args...)
	if st, idx := rmm.Unpack(x[0]); st != rmm.RMISuccess {
		return x, &RMIError{Command: name, Status: st, Index: idx}
	}
	return x, nil
}

// Alloc returns n contiguous NS granules of the Host's bank.
func (h *Host) Alloc(n int) (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := uint64(n) * rmm.GranuleSize
	if h.end-h.next < size {
		return 0, errors.New("sharing: out of NS memory")
	}
	pa := h.next
	h.next += size
	return pa, nil
}

// Delegate returns a fresh delegated granule.
func (h *Host) Delegate() (uint64, error) {
	pa, err := h.Alloc(1)
	if err != nil {
		return 0, err
	}
	_, err = h.SMC("RMI_GRANULE_DELEGATE", rmm.RMIGranuleDelegate, pa)
	return pa, err
}

// RealmSpec describes a realm for NewRealm.
type RealmSpec struct {
	Entry   uint64    // PC of its one REC; a program must be registered there
	Args    [8]uint64 // x0..x7 of the REC (measured)
	RPV     [realm.PersonalizationValueSize]byte
	RAMSize uint64 // 0 means DefaultRAMSize
}

// Realm is a realm the Host built, with the RIM its plan predicts.
type Realm struct {
	*vmm.Realm
	RIM []byte
	RPV []byte
}

// NewRealm builds and activates a realm: s2sz 40, SHA-256, RAM at RAMBase,
// one runnable REC; the VMM picks its VMID.
func (h *Host) NewRealm(spec RealmSpec) (*Realm, error) {
	ram := spec.RAMSize
	if ram == 0 {
		ram = DefaultRAMSize
	}
	d := &realmbuild.Description{
		Realm: realmbuild.Parameters{S2SZ: S2SZ, HashAlgo: realm.HashSHA256, RPV: spec.RPV, NumBPS: 1, NumWPS: 1},
		RAM:   []realmbuild.RAMRange{{Base: RAMBase, Size: ram}},
		RECs:  []realmbuild.REC{{PC: spec.Entry, GPRs: spec.Args, Runnable: true, MPIDR: realmbuild.MPIDRForIndex(0)}},
	}
	plan, err := d.Plan(nil)
	if err != nil {
		return nil, err
	}
	r, err := h.V.Build(plan)
	if err != nil {
		return nil, err
	}
	pred := plan.Predict()
	return &Realm{Realm: r, RIM: pred.RIM, RPV: pred.RPV}, nil
}

// levelSize is the size an RTT entry at level maps (4 KB granule).
func levelSize(level int) uint64 { return 1 << (12 + 9*(3-level)) }

// Tables creates the level-2 and level-3 RTTs covering [ipa, ipa+size) of
// realm rd, where missing (the starting level is 1 for s2sz 40).
func (h *Host) Tables(rd, ipa, size uint64) error {
	for level := 2; level <= 3; level++ {
		span := levelSize(level - 1)
		for a := ipa &^ (span - 1); a < ipa+size; a += span {
			rtt, err := h.Delegate()
			if err != nil {
				return err
			}
			_, err = h.SMC("RMI_RTT_CREATE", rmm.RMIRttCreate, rd, rtt, a, uint64(level))
			var re *RMIError
			if errors.As(err, &re) && re.Status == rmm.RMIErrorRtt && int(re.Index) == level-1 {
				// Already there (the parent entry is a table): give the
				// granule back.
				_, err = h.SMC("RMI_GRANULE_UNDELEGATE", rmm.RMIGranuleUndelegate, rtt)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// MapNS maps the n NS granules at pa into r at the unprotected IPA ipa.
func (h *Host) MapNS(r *Realm, ipa, pa uint64, n int) error {
	for i := range uint64(n) {
		if err := r.MapUnprotected(ipa+i*rmm.GranuleSize, pa+i*rmm.GranuleSize); err != nil {
			return err
		}
	}
	return nil
}

// RegionSpec is a region for CreateRegion.
type RegionSpec struct {
	Granules   int
	Flags      uint64 // rmm.ShareFlagMediated | rmm.ShareFlagLease
	LeaseTicks uint64 // with ShareFlagLease
}

// Member is a member realm and where it sees the region.
type Member struct {
	RD, IPA uint64
}

// HostRegion is a region as the host knows it.
type HostRegion struct {
	SR       uint64   // the region id
	Granules []uint64 // its granules, in order
	Members  []Member
}

// CreateRegion runs the host's part of setting up a region: REGION_CREATE,
// GRANULE_ADD of every granule, the members' level-3 tables and
// MEMBER_ADD, then REGION_ACTIVATE.
func (h *Host) CreateRegion(spec RegionSpec, members ...Member) (*HostRegion, error) {
	sr, err := h.Delegate()
	if err != nil {
		return nil, err
	}
	hr := &HostRegion{SR: sr, Members: members}
	params, err := h.Alloc(1)
	if err != nil {
		return nil, err
	}
	var p [rmm.GranuleSize]byte
	le := binary.LittleEndian
	le.PutUint64(p[rmm.ShareParamsFlags:], spec.Flags)
	le.PutUint64(p[rmm.ShareParamsNumGranules:], uint64(spec.Granules))
	le.PutUint64(p[rmm.ShareParamsLeaseTicks:], spec.LeaseTicks)
	if err := h.M.HostWrite(params, p[:]); err != nil {
		return nil, err
	}
	if _, err := h.SMC("RMI_SHARE_REGION_CREATE", rmm.RMIShareRegionCreate, sr, params); err != nil {
		return nil, err
	}
	for range spec.Granules {
		g, err := h.Delegate()
		if err != nil {
			return nil, err
		}
		if _, err := h.SMC("RMI_SHARE_GRANULE_ADD", rmm.RMIShareGranuleAdd, sr, g); err != nil {
			return nil, err
		}
		hr.Granules = append(hr.Granules, g)
	}
	for _, m := range members {
		if err := h.Tables(m.RD, m.IPA, uint64(spec.Granules)*rmm.GranuleSize); err != nil {
			return nil, err
		}
		if _, err := h.SMC("RMI_SHARE_MEMBER_ADD", rmm.RMIShareMemberAdd, sr, m.RD, m.IPA); err != nil {
			return nil, err
		}
	}
	if _, err := h.SMC("RMI_SHARE_REGION_ACTIVATE", rmm.RMIShareRegionActivate, sr); err != nil {
		return nil, err
	}
	return hr, nil
}

// DestroyRegion tears a region down in the specified order
// (docs/sharing.md §8): MEMBER_REMOVE of each member, then
// REGION_DESTROY, which scrubs the granules; they stay delegated.
func (h *Host) DestroyRegion(hr *HostRegion) error {
	for _, m := range hr.Members {
		if _, err := h.SMC("RMI_SHARE_MEMBER_REMOVE", rmm.RMIShareMemberRemove, hr.SR, m.RD); err != nil {
			return err
		}
	}
	_, err := h.SMC("RMI_SHARE_REGION_DESTROY", rmm.RMIShareRegionDestroy, hr.SR)
	return err
}
