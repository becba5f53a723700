// Package vmm is a host hypervisor for the emulated machine, the part of
// KVM or kvmtool that builds and runs realms: it owns the NS memory,
// delegates granules, builds a realm through RMI from a realmbuild.Plan (the
// same plan RIM prediction replays), enters its RECs, and answers their
// exits (host calls, RIPAS changes, data aborts, PSCI).
//
// It uses the machine's register-level ABI only (HostSMC, HostRead,
// HostWrite), as a hypervisor written from the RMM specification would;
// the one exception is diagnostic: after an RMI_EXIT_SERROR it asks
// Machine.RealmFault why the realm software crashed, to say so in its error.
package vmm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// Errors.
var (
	// ErrRMI: an RMI command failed; the *RMIError says which and how.
	ErrRMI = errors.New("vmm: RMI command failed")
	// ErrNoMemory: the host ran out of NS granules.
	ErrNoMemory = errors.New("vmm: out of NS memory")
)

// RMIError is a failed RMI command.
type RMIError struct {
	Command string
	Status  uint8
	Index   uint8
}

func (e *RMIError) Error() string {
	return fmt.Sprintf("vmm: %s: %s (index %d)", e.Command, rmm.RMIStatusName(e.Status), e.Index)
}

func (e *RMIError) Unwrap() error { return ErrRMI }

// VMM is the host hypervisor of one machine. It is safe for concurrent use.
type VMM struct {
	m *emulator.Machine

	// Trace, if set, sees every RMI command the VMM issues with its X0
	// result. Set it before use.
	Trace func(command string, x0 uint64)

	mu        sync.Mutex
	next, end uint64   // bump allocator over the NS bank
	free      []uint64 // granules given back
	vmids     map[uint16]bool
}

// New takes over the machine's NS memory.
func New(m *emulator.Machine) *VMM {
	base, size := m.NSMemory()
	return &VMM{m: m, next: base, end: base + size, vmids: map[uint16]bool{}}
}

// Machine returns the machine the VMM runs on.
func (v *VMM) Machine() *emulator.Machine { return v.m }

// alloc returns an NS granule the host owns.
func (v *VMM) alloc() (uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n := len(v.free); n > 0 {
		pa := v.free[n-1]
		v.free = v.free[:n-1]
		return pa, nil
	}
	if v.next >= v.end {
		return 0, ErrNoMemory
	}
	pa := v.next
	v.next += rmm.GranuleSize
	return pa, nil
}

// allocContiguous returns n contiguous fresh granules aligned to their
// total size (for the concatenated starting-level RTTs, which
// RMI_REALM_CREATE wants aligned to rtt_num_start × 4 KB). The granules
// skipped to align go to the free list.
func (v *VMM) allocContiguous(n int) (uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	size := uint64(n) * rmm.GranuleSize
	pa := (v.next + size - 1) / size * size
	if pa < v.next || pa > v.end || v.end-pa < size {
		return 0, ErrNoMemory
	}
	for skipped := v.next; skipped < pa; skipped += rmm.GranuleSize {
		v.free = append(v.free, skipped)
	}
	v.next = pa + size
	return pa, nil
}

// vmid picks the VMID for a new realm: the plan's when it names one,
// otherwise the lowest free one. VMIDs are not measured (Arm DEN0137
// 1.0-REL0 A7.1 Realm measurements; TF-RMM lib/measurement/src/rim.c),
// so this choice does not change the RIM.
func (v *VMM) vmid(want uint16) uint16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if want == 0 {
		for want = 1; v.vmids[want]; want++ {
		}
	}
	v.vmids[want] = true
	return want
}

func (v *VMM) releaseVMID(id uint16) {
	v.mu.Lock()
	delete(v.vmids, id)
	v.mu.Unlock()
}

func (v *VMM) release(pa uint64) {
	v.mu.Lock()
	v.free = append(v.free, pa)
	v.mu.Unlock()
}

// smc issues an RMI command and turns a failure into an *RMIError.
func (v *VMM) smc(name string, fid uint64, args ...uint64) ([5]uint64, error) {
	x := v.m.HostSMC(fid, args...)
	if v.Trace != nil {
		v.Trace(name, x[0])
	}
	if st, idx := rmm.Unpack(x[0]); st != rmm.RMISuccess {
		return x, &RMIError{Command: name, Status: st, Index: idx}
	}
	return x, nil
}

// delegate returns a fresh granule delegated to the Realm world.
func (v *VMM) delegate() (uint64, error) {
	pa, err := v.alloc()
	if err != nil {
		return 0, err
	}
	if _, err := v.smc("RMI_GRANULE_DELEGATE", rmm.RMIGranuleDelegate, pa); err != nil {
		v.release(pa)
		return 0, err
	}
	return pa, nil
}

// undelegate gives a granule back to the NS world and the allocator.
func (v *VMM) undelegate(pa uint64) error {
	if _, err := v.smc("RMI_GRANULE_UNDELEGATE", rmm.RMIGranuleUndelegate, pa); err != nil {
		return err
	}
	v.release(pa)
	return nil
}

// writeGranule fills an NS granule with fields {offset: little-endian u64}
// and raw byte blocks, zero elsewhere.
func (v *VMM) writeGranule(pa uint64, words map[uint64]uint64, blocks map[uint64][]byte) error {
	var b [rmm.GranuleSize]byte
	for off, w := range words {
		binary.LittleEndian.PutUint64(b[off:], w)
	}
	for off, blk := range blocks {
		copy(b[off:], blk)
	}
	return v.m.HostWrite(pa, b[:])
}
