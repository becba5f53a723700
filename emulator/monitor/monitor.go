// Package monitor is the emulated EL3 monitor: it boots the GPT from the
// platform memory map, owns it (it is the only code that changes it), routes
// SMCs between the worlds, implements the granule transition service (GTSI
// delegate/undelegate) and the RMM–EL3 attestation interface, and counts
// world switches for a cost model.
//
// References: Arm DEN0028 SMCCC (FIDs), the RMM–EL3 interface of TF-A v2.12
// (include/services/rmmd_svc.h, services/std_svc/rmmd) and TF-RMM
// lib/rmm_el3_ifc, and for the GPT, GPC and transitions Arm DEN0129 and
// TF-A lib/gpt_rme.
package monitor

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ccakit/cca/emulator/gpt"
)

// RMIHandler is the RMM as EL3 sees it: the monitor forwards every RMI call
// from the Normal world to it. fid has the SVE hint cleared; args are x1..x6.
// The result is x0..x4 as the host sees them (RMM_RMI_REQ_COMPLETE x1..x5).
// The handler may itself call Monitor.SMC from the Realm world (GTSI,
// attestation) while it runs, and may be called concurrently.
type RMIHandler interface {
	HandleRMI(fid uint64, args [6]uint64) [5]uint64
}

// RootOfTrust is the platform root of trust behind the RMM–EL3 attestation
// calls (implemented in emulator/rot).
type RootOfTrust interface {
	// RealmAttestKey returns the raw private scalar of the realm attestation
	// key for curve (AttestKeyCurveP384: 48 bytes).
	RealmAttestKey(curve uint64) ([]byte, error)
	// PlatformToken returns the platform token bound to challenge (the hash
	// of the RAK public key). An error wrapping ErrAgain means "not ready".
	PlatformToken(challenge []byte) ([]byte, error)
}

// Config configures a Monitor.
type Config struct {
	// Layout is the memory map; the zero value means DefaultLayout().
	Layout Layout
	// RMM receives the RMI calls; it can also be registered later.
	RMM RMIHandler
	// RootOfTrust serves the attestation calls; nil makes them fail with
	// E_RMM_UNK.
	RootOfTrust RootOfTrust
	// TokenHunkSize is the most platform-token bytes one RMM_GET_PLAT_TOKEN
	// call returns; 0 means DefaultTokenHunkSize.
	TokenHunkSize int
}

// DefaultTokenHunkSize is small enough that a platform token (about 1.5 KB)
// takes several calls, as with TF-A v2.12 (services/std_svc/rmmd/rmmd_attest.c,
// platform token hunks).
const DefaultTokenHunkSize = 512

type rmmBox struct{ h RMIHandler }

// Monitor is the EL3 firmware of the emulated machine. It is safe for
// concurrent use.
type Monitor struct {
	layout Layout
	mem    *gpt.Memory
	gpt    *gpt.Table // owned: the only writer of the GPT
	rmm    atomic.Pointer[rmmBox]
	rot    RootOfTrust
	hunk   uint64
	ctr    counters

	attestMu sync.Mutex // guards the platform token transfer
	token    []byte     // token being handed out, nil when none
	tokenOff uint64

	bootMu     sync.Mutex
	booted     bool
	bootStatus uint64
	// bootFailed is set for good by an RMM_BOOT_COMPLETE whose status is
	// not E_RMM_BOOT_SUCCESS: from then on EL3 answers every RMI and
	// RMM–EL3 call with SMC_UNKNOWN (TF-A v2.12
	// services/std_svc/rmmd/rmmd_main.c, rmm_boot_failed).
	bootFailed atomic.Bool
}

// New boots the monitor: it backs every region with memory, builds the GPT
// (L0 blocks and L1 granules, fused up to Layout.MaxBlock) in the GPT
// memory, and enables the GPC.
func New(cfg Config) (*Monitor, error) {
	l := cfg.Layout
	if len(l.Regions) == 0 && l.GPT == (gpt.Range{}) {
		l = DefaultLayout()
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if cfg.TokenHunkSize < 0 {
		return nil, fmt.Errorf("%w: negative TokenHunkSize", ErrConfig)
	}
	ranges := make([]gpt.Range, len(l.Regions))
	for i, r := range l.Regions {
		ranges[i] = gpt.Range{Base: r.Base, Size: r.Size}
	}
	mem, err := gpt.NewMemory(ranges...)
	if err != nil {
		return nil, err
	}
	tbl, err := gpt.NewTable(mem, gpt.Config{PPS: l.PPS, PGS: gpt.PGS4KB, L0GPTSZ: l.L0GPTSZ,
		Base: l.GPT.Base, Size: l.GPT.Size, MaxBlock: l.MaxBlock})
	if err != nil {
		return nil, err
	}
	for _, r := range l.sorted() {
		if r.Granules {
			err = tbl.MapGranules(r.Base, r.Size, r.GPI)
		} else {
			err = tbl.MapBlock(r.Base, r.Size, r.GPI)
		}
		if err != nil {
			return nil, fmt.Errorf("monitor: mapping region %q: %w", r.Name, err)
		}
	}
	m := &Monitor{layout: l, mem: mem, gpt: tbl, rot: cfg.RootOfTrust, hunk: DefaultTokenHunkSize}
	if cfg.TokenHunkSize > 0 {
		m.hunk = uint64(cfg.TokenHunkSize)
	}
	if cfg.RMM != nil {
		m.RegisterRMM(cfg.RMM)
	}
	return m, nil
}

// RegisterRMM installs (or, with nil, removes) the RMM that RMI calls are
// forwarded to.
func (m *Monitor) RegisterRMM(h RMIHandler) {
	if h == nil {
		m.rmm.Store(nil)
		return
	}
	m.rmm.Store(&rmmBox{h})
}

// Layout returns the memory map the monitor booted with.
func (m *Monitor) Layout() Layout { return m.layout }

// SharedPage returns the EL3↔RMM shared buffer's address (the x3 boot
// argument TF-A passes to the RMM, TF-A v2.12 services/std_svc/rmmd/rmmd_main.c).
func (m *Monitor) SharedPage() uint64 { return m.layout.SharedPage }

// Registers returns GPCCR_EL3 and GPTBR_EL3 as EL3 programmed them.
func (m *Monitor) Registers() (gpccr, gptbr uint64) { return m.gpt.GPCCR(), m.gpt.GPTBR() }

// Access reads (write false) or writes p at physical address pa on behalf of
// security state s, in PAS pas, through the granule protection check. A
// refused access returns a *gpt.Fault (errors.Is(err, gpt.ErrGPF)) and copies
// nothing; pas must be one s can emit (gpt.ErrIllegalPAS otherwise). Writing
// a whole granule of zeros releases its storage.
func (m *Monitor) Access(s gpt.SecurityState, pas gpt.PAS, pa uint64, p []byte, write bool) error {
	if write {
		return m.gpt.Write(s, pas, pa, p)
	}
	return m.gpt.Read(s, pas, pa, p)
}

// CopyGranule copies a whole granule on behalf of security state s, from
// src in srcPAS to dst in dstPAS, through the GPC (see gpt.Table.CopyGranule).
func (m *Monitor) CopyGranule(s gpt.SecurityState, dstPAS gpt.PAS, dst uint64, srcPAS gpt.PAS, src uint64, see func([]byte)) error {
	return m.gpt.CopyGranule(s, dstPAS, dst, srcPAS, src, see)
}

// Check is the granule protection check alone (see gpt.Table.Check).
func (m *Monitor) Check(s gpt.SecurityState, pas gpt.PAS, pa uint64) error {
	return m.gpt.Check(s, pas, pa)
}

// GPI returns the GPI the GPT gives the granule at pa.
func (m *Monitor) GPI(pa uint64) (gpt.GPI, error) { return m.gpt.GPI(pa) }

// GPTSnapshot returns a copy of the GPT's bytes (L0 and L1 tables).
func (m *Monitor) GPTSnapshot() []byte { return m.gpt.Snapshot() }

// ResidentGranules returns how many 4 KB granules of memory hold data (GPT
// memory included).
func (m *Monitor) ResidentGranules() int { return m.mem.Resident() }

// Close switches the memory off: the storage of its granules goes back
// for reuse by the next machine of the process (gpt.Memory.Release), and
// the memory reads as zeros afterwards.
func (m *Monitor) Close() { m.mem.Release() }

// BootStatus returns the status the RMM reported with RMM_BOOT_COMPLETE, and
// whether it did.
func (m *Monitor) BootStatus() (status uint64, ok bool) {
	m.bootMu.Lock()
	defer m.bootMu.Unlock()
	return m.bootStatus, m.booted
}

// SMC is an SMC instruction executed by security state caller with x0 = fid
// and x1.. = args (at most six are used; missing ones are zero). It returns
// x0..x4 as the caller sees them on return. Only the low 32 bits of fid are
// the function identifier (SMCCC: W0), and the SVE hint (bit 16) is cleared
// before dispatch.
//
// Routing (TF-A v2.12 services/std_svc/rmmd/rmmd_main.c):
//   - Normal world: the RMI range goes to the registered RMM (SMC_UNKNOWN
//     when none); anything else is SMC_UNKNOWN.
//   - Realm world (the RMM): GTSI delegate/undelegate, the attestation
//     calls, RMM_EL3_FEATURES and RMM_BOOT_COMPLETE; anything else is
//     SMC_UNKNOWN.
//   - Secure world: SMC_UNKNOWN, RMI included (there is no SPM here).
//   - Root: SMC_UNKNOWN (EL3 does not call itself).
//
// Once the RMM has reported a failed boot (RMM_BOOT_COMPLETE with a status
// other than 0), RMI and RMM–EL3 calls are all SMC_UNKNOWN.
func (m *Monitor) SMC(caller gpt.SecurityState, fid uint64, args ...uint64) [5]uint64 {
	var x [6]uint64
	copy(x[:], args)
	fid = uint64(uint32(fid)) &^ smcSVEHint
	switch caller {
	case gpt.StateNonSecure:
		m.ctr.nsToEL3.Add(1)
		defer m.ctr.el3ToNS.Add(1)
		return m.fromNormal(fid, x)
	case gpt.StateRealm:
		m.ctr.realmToEL3.Add(1)
		defer m.ctr.el3ToRealm.Add(1)
		return m.fromRealm(fid, x)
	case gpt.StateSecure:
		m.ctr.secureToEL3.Add(1)
		defer m.ctr.el3ToSecure.Add(1)
	}
	return [5]uint64{SMCUnknown}
}

func (m *Monitor) fromNormal(fid uint64, x [6]uint64) [5]uint64 {
	if fid < SMCRMIFirst || fid > SMCRMILast {
		return [5]uint64{SMCUnknown}
	}
	box := m.rmm.Load()
	if box == nil || m.bootFailed.Load() {
		return [5]uint64{SMCUnknown}
	}
	m.ctr.rmiCalls.Add(1)
	m.ctr.el3ToRealm.Add(1)
	ret := box.h.HandleRMI(fid, x)
	m.ctr.realmToEL3.Add(1) // RMM_RMI_REQ_COMPLETE
	if fid == SMCRMIRecEnter && ret[0]&0xFF == rmiSuccess {
		m.ctr.realmExits.Add(1)
	}
	return ret
}

func (m *Monitor) fromRealm(fid uint64, x [6]uint64) [5]uint64 {
	if m.bootFailed.Load() {
		return [5]uint64{SMCUnknown}
	}
	switch fid {
	case SMCRMMGTSIDelegate:
		return [5]uint64{gtsiStatus(m.gpt.Delegate(x[0], gpt.GranuleSize, gpt.StateRealm))}
	case SMCRMMGTSIUndelegate:
		return [5]uint64{gtsiStatus(m.gpt.Undelegate(x[0], gpt.GranuleSize, gpt.StateRealm))}
	case SMCRMMGetRealmAttestKey:
		return m.getRealmAttestKey(x[0], x[1], x[2])
	case SMCRMMGetPlatToken:
		return m.getPlatToken(x[0], x[1], x[2])
	case SMCRMMEL3Features:
		// Feature register 0, bit 0: EL3 token signing, not offered.
		if x[0] != 0 {
			return [5]uint64{ERMMInval}
		}
		return [5]uint64{ERMMOK, 0}
	case SMCRMMBootComplete:
		// TF-A never returns from this call; the emulated RMM is a Go
		// object, so the monitor records the status and returns.
		// A failure on any CPU marks the boot failed for all of them.
		m.bootMu.Lock()
		m.booted, m.bootStatus = true, x[0]
		if x[0] != bootSuccess {
			m.bootFailed.Store(true)
		}
		m.bootMu.Unlock()
		return [5]uint64{ERMMOK}
	}
	return [5]uint64{SMCUnknown}
}

// gtsiStatus maps a transition error to its RMM–EL3 status: TF-A's -EINVAL
// is E_RMM_BAD_ADDR and -EPERM is E_RMM_BAD_PAS (TF-A v2.12
// services/std_svc/rmmd/rmmd_main.c gpt_to_gts_error).
func gtsiStatus(err error) uint64 {
	switch {
	case err == nil:
		return ERMMOK
	case errors.Is(err, gpt.ErrInvalid):
		return ERMMBadAddr
	case errors.Is(err, gpt.ErrDenied):
		return ERMMBadPAS
	}
	return ERMMUnk
}
