package vmm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator/rmm"
)

// Exit is a REC exit as the host reads it from RmiRecExit.
type Exit struct {
	Reason              uint64
	ESR, FAR, HPFAR     uint64
	GPRs                [31]uint64
	RIPASBase, RIPASTop uint64
	RIPASValue          uint8
	Imm                 uint64
}

// IPA is the faulting IPA of a data abort exit (HPFAR_EL2.FIPA and the
// page offset from FAR).
func (e *Exit) IPA() uint64 { return e.HPFAR>>4<<12 | e.FAR&(rmm.GranuleSize-1) }

func (v *VMM) readExit(run uint64) (Exit, error) {
	b := make([]byte, rmm.GranuleSize)
	if err := v.m.HostRead(run, b); err != nil {
		return Exit{}, err
	}
	le := binary.LittleEndian
	e := Exit{Reason: le.Uint64(b[rmm.RunExitReason:]), ESR: le.Uint64(b[rmm.RunExitESR:]),
		FAR: le.Uint64(b[rmm.RunExitFAR:]), HPFAR: le.Uint64(b[rmm.RunExitHPFAR:]),
		RIPASBase: le.Uint64(b[rmm.RunExitRIPASBase:]), RIPASTop: le.Uint64(b[rmm.RunExitRIPASTop:]),
		RIPASValue: b[rmm.RunExitRIPASValue], Imm: le.Uint64(b[rmm.RunExitImm:])}
	for i := range e.GPRs {
		e.GPRs[i] = le.Uint64(b[rmm.RunExitGPRs+8*i:])
	}
	return e, nil
}

// Handlers let the caller answer what a hypervisor's device model would.
type Handlers struct {
	// HostCall answers RSI_HOST_CALL: it gets the realm's imm and x0..x30
	// and returns the registers to hand back. nil echoes them.
	HostCall func(rec int, imm uint16, gprs [31]uint64) [31]uint64
	// MMIORead answers an emulatable read of an unprotected, unmapped IPA;
	// nil reads zero. Writes are accepted and dropped unless MMIOWrite is set.
	MMIORead  func(ipa uint64, size int) uint64
	MMIOWrite func(ipa uint64, size int, value uint64)
	// Exit, if set, sees every exit before it is handled.
	Exit func(rec int, e Exit)
}

// ErrRealmStopped: the REC or the whole realm was switched off.
var ErrRealmStopped = errors.New("vmm: realm stopped")

// ErrSError: the REC exited with RMI_EXIT_SERROR, which ends its run. When
// its realm software crashed, the error also carries the machine's record
// of the crash (rmm.ErrRealmFault, with the panic and its stack).
var ErrSError = errors.New("vmm: REC took an SError")

// ErrDestroyedAccess: the realm accessed a protected IPA whose RIPAS is
// DESTROYED. The RMM exits to the host with a data abort (cca-rmm-acs
// v1.0_REL0 mm_ripas_destroyed_da), but in RMM 1.0 nothing the host does
// makes such an address usable again: a DATA_CREATE_UNKNOWN there leaves
// it DESTROYED, and only the realm can change its RIPAS. Run stops the REC,
// as a hypervisor gives up on the realm.
var ErrDestroyedAccess = errors.New("vmm: realm accessed an IPA whose RIPAS is DESTROYED")

// Run enters REC idx and handles its exits until the REC switches off
// (PSCI CPU_OFF, or the realm's SYSTEM_OFF / SYSTEM_RESET), which returns
// that last exit and nil. Host calls, RIPAS changes, data aborts, IRQs and
// PSCI requests are answered on the way, as KVM would.
func (r *Realm) Run(idx int, h Handlers) (Exit, error) {
	// r.RECs is read under the MMU lock: Destroy rewrites it.
	r.mmu.Lock()
	if idx < 0 || idx >= len(r.RECs) {
		r.mmu.Unlock()
		return Exit{}, fmt.Errorf("vmm: no REC %d", idx)
	}
	rec := r.RECs[idx]
	r.mmu.Unlock()
	v := r.v
	var flags uint64
	var gprs [31]uint64
	for {
		words := map[uint64]uint64{rmm.RunEnterFlags: flags}
		for i, g := range gprs {
			words[rmm.RunEnterGPRs+8*uint64(i)] = g
		}
		if err := v.writeGranule(rec.Run, words, nil); err != nil {
			return Exit{}, err
		}
		if _, err := v.smc("RMI_REC_ENTER", rmm.RMIRecEnter, rec.PA, rec.Run); err != nil {
			return Exit{}, err
		}
		e, err := v.readExit(rec.Run)
		if err != nil {
			return e, err
		}
		if h.Exit != nil {
			h.Exit(idx, e)
		}
		flags, gprs = 0, [31]uint64{}
		switch e.Reason {
		case rmm.ExitHostCall:
			gprs = e.GPRs
			if h.HostCall != nil {
				gprs = h.HostCall(idx, uint16(e.Imm), e.GPRs)
			}
		case rmm.ExitRIPASChange:
			if err := r.setRIPAS(rec, e.RIPASBase, e.RIPASTop); err != nil {
				return e, err
			}
		case rmm.ExitSync:
			flags, gprs, err = r.dataAbort(idx, e, h)
			if err != nil {
				return e, err
			}
		case rmm.ExitIRQ, rmm.ExitFIQ:
			// Nothing pending in this model: re-enter.
		case rmm.ExitPSCI:
			stop, err := r.psci(rec, e)
			if err != nil || stop {
				return e, err
			}
		case rmm.ExitSError:
			// A hypervisor reports the SError and stops the vCPU: the RMM
			// does not let the REC run again.
			if fault := v.m.RealmFault(rec.PA); fault != nil {
				return e, fmt.Errorf("%w: REC %d: %w", ErrSError, idx, fault)
			}
			return e, fmt.Errorf("%w: REC %d", ErrSError, idx)
		default:
			return e, fmt.Errorf("vmm: REC %d: unhandled exit reason %d", idx, e.Reason)
		}
	}
}

// setRIPAS applies an accepted RIPAS change with RMI_RTT_SET_RIPAS until
// the whole range is done.
func (r *Realm) setRIPAS(rec *REC, base, top uint64) error {
	r.mmu.Lock()
	defer r.mmu.Unlock()
	return r.walkRIPAS("RMI_RTT_SET_RIPAS", rmm.RMIRttSetRipas, []uint64{r.RD, rec.PA}, base, top)
}

// ESR fields of an emulatable data abort (ISV set).
const (
	esrISV   = 1 << 24
	esrWnR   = 1 << 6
	sasShift = 22
	srtShift = 16
)

// dataAbort backs a protected IPA with memory (unless its RIPAS is
// DESTROYED: ErrDestroyedAccess) or emulates MMIO for an unprotected one.
func (r *Realm) dataAbort(idx int, e Exit, h Handlers) (uint64, [31]uint64, error) {
	var gprs [31]uint64
	ipa := e.IPA()
	if ipa < uint64(1)<<(r.s2sz-1) {
		r.mmu.Lock()
		defer r.mmu.Unlock()
		if destroyed, err := r.ripasDestroyed(ipa); err != nil || destroyed {
			if err == nil {
				err = fmt.Errorf("%w: REC %d at IPA %#x", ErrDestroyedAccess, idx, ipa&^(rmm.GranuleSize-1))
			}
			return 0, gprs, err
		}
		return 0, gprs, r.mapUnknown(ipa)
	}
	if e.ESR&esrISV == 0 {
		// Not emulatable: make the realm take an abort.
		return rmm.EntryFlagInjectSEA, gprs, nil
	}
	size := 1 << (e.ESR >> sasShift & 3)
	srt := e.ESR >> srtShift & 0x1f
	if e.ESR&esrWnR != 0 {
		if h.MMIOWrite != nil && srt < 31 {
			h.MMIOWrite(ipa, size, e.GPRs[srt])
		}
		return rmm.EntryFlagEmulMMIO, gprs, nil
	}
	var val uint64
	if h.MMIORead != nil {
		val = h.MMIORead(ipa, size)
	}
	if srt < 31 {
		gprs[srt] = val
	}
	return rmm.EntryFlagEmulMMIO, gprs, nil
}

// ripasDestroyed reports whether the RTT entry covering ipa, at the
// deepest level that exists, says RIPAS DESTROYED (RMI_RTT_READ_ENTRY).
func (r *Realm) ripasDestroyed(ipa uint64) (bool, error) {
	x, err := r.v.smc("RMI_RTT_READ_ENTRY", rmm.RMIRttReadEntry, r.RD, ipa&^(rmm.GranuleSize-1), 3)
	if err != nil {
		return false, err
	}
	return x[4] == rmm.RIPASDestroyed, nil
}

// psci completes a PSCI request; it reports whether the REC has stopped.
func (r *Realm) psci(rec *REC, e Exit) (bool, error) {
	switch e.GPRs[0] {
	case rmm.PSCICPUOff, rmm.PSCISystemOff, rmm.PSCISystemReset:
		return true, nil
	case rmm.PSCICPUOn, rmm.PSCICPUOn32, rmm.PSCIAffinityInfo, rmm.PSCIAffinityInfo32:
		target := r.recByMPIDR(e.GPRs[1])
		if target == nil {
			// No such vCPU: complete against the caller itself so the RMM
			// answers the realm with an error.
			target = rec
		}
		_, err := r.v.smc("RMI_PSCI_COMPLETE", rmm.RMIPsciComplete, rec.PA, target.PA, rmm.PSCISuccess)
		return false, err
	}
	// CPU_SUSPEND and anything else the RMM forwards: resume.
	return false, nil
}

func (r *Realm) recByMPIDR(mpidr uint64) *REC {
	r.mmu.Lock()
	defer r.mmu.Unlock()
	for _, rec := range r.RECs {
		if rec.MPIDR == mpidr {
			return rec
		}
	}
	return nil
}
