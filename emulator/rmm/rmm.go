package rmm

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Platform is the machine below the RMM: physical memory as the Realm
// security state (R-EL2) sees it, every access through the Granule
// Protection Check, and the SMC conduit to EL3.
type Platform interface {
	// Read and Write access physical memory from the Realm security state,
	// targeting pas (Realm for the RMM's own and realms' granules, NS for
	// the host's buffers). A granule protection fault is an error matching
	// gpt.ErrGPF.
	Read(pas gpt.PAS, pa uint64, p []byte) error
	Write(pas gpt.PAS, pa uint64, p []byte) error
	// CopyGranule copies the whole granule at src (read in srcPAS) to the
	// whole granule at dst (written in dstPAS) with one copy through the
	// GPC; a fault on either copies nothing. see, if not nil, gets the bytes
	// that land in dst, in order, in one or more consecutive pieces, and
	// must neither keep them nor access memory.
	CopyGranule(dstPAS gpt.PAS, dst uint64, srcPAS gpt.PAS, src uint64, see func([]byte)) error
	// Check is the granule protection check of the granule at pa for an
	// access in pas, without an access.
	Check(pas gpt.PAS, pa uint64) error
	// EL3 issues an SMC from the RMM to EL3 (TF-A v2.12 rmmd_svc.h) and returns
	// X0..X4.
	EL3(fid uint64, args ...uint64) [5]uint64
}

// Program is realm software: Go code that runs when a REC whose PC equals
// its entry point is entered.
type Program func(cpu RealmCPU)

// RealmCPU is a REC as the realm software running on it sees it.
type RealmCPU interface {
	// SMC issues an RSI or PSCI call and returns X0..X8 after it.
	SMC(fid uint64, args ...uint64) [9]uint64
	// Read and Write access the realm's IPA space through its stage-2
	// tables and the GPC.
	Read(ipa uint64, p []byte) error
	Write(ipa uint64, p []byte) error
	// Reg returns x0..x30 as the REC was first entered.
	Reg(n int) uint64
}

// Config configures the RMM at boot.
type Config struct {
	// DRAM lists the NS DRAM banks the host may delegate granules from (the
	// boot manifest's, TF-RMM lib/rmm_el3_ifc).
	DRAM []gpt.Range
	// SharedBuffer is the PA of the 4 KB page shared with EL3 (Realm PAS).
	SharedBuffer uint64
	// Wrapper and Generation select the attestation token format: tag 399
	// or 907, and the realm claims of RMM 1.0-EAC5 (legacy), 1.0-REL0
	// (Gen1), or TF-RMM main (Gen2: the realm#2.0.0 profile with the realm
	// instance id and the MEC policy, and the MEC policy request of
	// RmiRealmParams.flags0). The zero values give RMM 1.0-REL0.
	Wrapper    token.Wrapper
	Generation token.Generation
	// Programs finds the realm software for a REC's entry point.
	Programs func(pc uint64) (Program, bool)
	// Sharing enables the inter-realm memory-sharing extension
	// (docs/sharing.md). Off, the RMM is a strict 1.0-REL0: the
	// extension's RMI and RSI FIDs answer SMC_UNKNOWN like any FID the
	// specification does not define.
	Sharing bool
}

// Errors of the RMM's own (not ABI status codes, which go to registers).
var (
	// ErrBoot: the RMM could not complete its boot (attestation key or
	// platform token from EL3).
	ErrBoot = errors.New("rmm: boot failed")
	// ErrPlatform: the platform failed an access the RMM relies on.
	ErrPlatform = errors.New("rmm: platform access failed")
)

// realm states (Arm DEN0137 1.0-REL0 A2.1 Realm).
type realmState uint8

const (
	realmNew realmState = iota
	realmActive
	realmSystemOff
)

func (s realmState) String() string { return [...]string{"NEW", "ACTIVE", "SYSTEM_OFF"}[s] }

// realmDesc is what the RMM keeps of a realm, in its RD granule.
type realmDesc struct {
	rd         uint64
	state      realmState
	flags      uint64
	s2sz       uint
	sveVL      uint64
	numBPS     uint64
	numWPS     uint64
	pmuCtrs    uint64
	hash       realm.HashAlgorithm
	rpv        [64]byte
	vmid       uint16
	rttBase    uint64
	startLevel int
	numStart   int

	rim  realm.Measurement
	rems [4]realm.Measurement

	// instanceID is the realm instance id of TF-RMM main (Gen2 only):
	// 0x01 and 32 random bytes drawn at RMI_REALM_CREATE.
	instanceID []byte

	// recIndex is the index the next REC must have (rec_count); numRecs
	// counts the RECs that exist.
	recIndex uint64
	numRecs  int
}

// parWidth is the width of the Protected Address Range: [0, 2^(s2sz-1))
// (Arm DEN0137 1.0-REL0 A5.2 Realm view of memory management).
func (rl *realmDesc) parTop() uint64 { return 1 << (rl.s2sz - 1) }

// RMM is the emulated Realm Management Monitor.
type RMM struct {
	plat Platform
	cfg  Config

	// mu serialises the RMM's state changes: every RMI command, and every
	// RSI call's use of realm state. A realm running on a REC does not hold
	// it (REC_ENTER drops it while the realm runs).
	mu       sync.Mutex
	granules *granuleTable
	realms   map[uint64]*realmDesc // by RD address
	recs     map[uint64]*recDesc   // by REC address
	vmids    map[uint16]bool
	// scratch holds a host buffer granule while a command uses it.
	scratch [GranuleSize]byte
	// rttBuf is the RTT accessors' buffer (rtt.go); args holds the
	// arguments of the RMI command running under mu. Both keep the
	// commands free of allocations.
	rttBuf [GranuleSize]byte
	args   [6]uint64
	// dataWalk is the DATA commands' remembered walk (rtt.go l3Walk).
	dataWalk l3Walk
	// dataCreate is RMI_DATA_CREATE's content hash for MEASURE_CONTENT:
	// content, one of the reused hashers sha256 and sha512, hashes the
	// pieces of the granule that measureData gets from the platform's
	// copy as they land (no allocation per command); sum receives its
	// digest.
	dataCreate struct {
		content        hash.Hash
		sha256, sha512 hash.Hash
		sum            [realm.MeasurementSlotSize]byte
	}
	measureData func(piece []byte)
	// shares are the share regions of the sharing extension, by SR
	// address (share.go, docs/sharing.md); sharePins the DATA granules an
	// RSI_SHARE_INVOKE in flight uses as its argument, and shareCtr the
	// extension's event counters (share_counters.go).
	shares    map[uint64]*shareRegion
	sharePins map[uint64]int
	shareCtr  shareCounters

	// Attestation material fetched from EL3 at boot and cached for the
	// power cycle, as TF-RMM does (lib/attestation/src/attestation_key.c).
	rak           *ecdsa.PrivateKey
	rakClaim      []byte
	platformToken []byte
}

// New boots the RMM on plat: it takes its RAK from EL3, encodes the public
// key for the configured generation, and fetches and caches the platform
// token bound to it.
func New(plat Platform, cfg Config) (*RMM, error) {
	if cfg.Wrapper == 0 {
		cfg.Wrapper = token.Wrapper399
	}
	if cfg.Generation == token.GenUnknown {
		cfg.Generation = token.Gen1
	}
	r := &RMM{
		plat:     plat,
		cfg:      cfg,
		granules: newGranuleTable(cfg.DRAM),
		realms:   map[uint64]*realmDesc{},
		recs:     map[uint64]*recDesc{},
		vmids:    map[uint16]bool{},
	}
	r.dataCreate.sha256, r.dataCreate.sha512 = sha256.New(), sha512.New()
	r.measureData = func(piece []byte) { r.dataCreate.content.Write(piece) }
	// The cold boot ends with RMM_BOOT_COMPLETE, its status the boot's
	// outcome (TF-RMM rmm-spec-v1.0-rel0 runtime/core/aarch64/head.S after
	// rmm_main; lib/rmm_el3_ifc rmm_el3_ifc_report_fail_to_el3 on a
	// failure): EL3 then routes RMI to the RMM, or never again.
	if err := r.bootAttestation(); err != nil {
		r.plat.EL3(monitor.SMCRMMBootComplete, monitor.BootUnknownError)
		return nil, err
	}
	r.plat.EL3(monitor.SMCRMMBootComplete, monitor.BootSuccess)
	return r, nil
}

type handler func(r *RMM, a *[6]uint64) [5]uint64

// rmiHandlers is the RMI dispatch table (Arm DEN0137 1.0-REL0 B4.3),
// indexed by fid - RMIFirst: one slot per FID of the range EL3 forwards, so
// that dispatch is an index, not a map lookup, on every command. Slots
// without a handler answer SMC_UNKNOWN.
var rmiHandlers [RMILast - RMIFirst + 1]handler

func registerRMI(fid uint64, h handler) {
	if fid < RMIFirst || fid > RMILast {
		panic(fmt.Sprintf("rmm: RMI handler for %#x outside [%#x, %#x]", fid, RMIFirst, RMILast))
	}
	rmiHandlers[fid-RMIFirst] = h
}

// rmiHandler returns the handler of fid (SVE hint cleared), if any.
func rmiHandler(fid uint64) (handler, bool) {
	if i := fid - RMIFirst; i < uint64(len(rmiHandlers)) && rmiHandlers[i] != nil {
		return rmiHandlers[i], true
	}
	return nil, false
}

// HandleRMI executes one RMI command: X0 = fid, args = X1..X6. It returns X0..X4 as
// the host sees them. The function ID is W0, so bits [63:32] of X0 are
// ignored (Arm DEN0028 SMCCC; TF-RMM rel0 runtime/core/handler.c
// handle_ns_smc takes an unsigned int), and the SVE hint bit is cleared
// before dispatch (TF-RMM runtime/core/handler.c).
//
// X4 comes back as the host passed it (args[3]) unless the command returns
// a result there: SMCCC v1.2 (Arm DEN0028), which RMM 1.0 requires (Arm
// DEN0137 1.0-REL0 B1.1), has a callee preserve X4 and up where they carry
// no result, and TF-RMM rmm-spec-v1.0-rel0 runtime/core/aarch64/entry.S
// rmm_handler seeds the result's X4 with the caller's for that reason (a
// Linux host's arm_smccc_1_1 calls rely on it). B1.2 says instead that
// registers which are not outputs MBZ on return; the emulator sides with
// SMCCC and TF-RMM, as for RSI (rsiReturn). Of the RMM 1.0 commands only
// RTT_READ_ENTRY has a fourth output (ripas), written on success; so
// RTT_CREATE, RTT_MAP_UNPROTECTED, RTT_SET_RIPAS and DATA_CREATE hand back
// their fourth argument, and a failing RTT_READ_ENTRY the host's X4.
func (r *RMM) HandleRMI(fid uint64, args [6]uint64) [5]uint64 {
	fid = uint64(uint32(fid)) &^ SVEHint
	h, ok := rmiHandler(fid)
	if !ok {
		if h, ok = r.shareRMIHandler(fid); ok {
			return r.handleLocked(h, args) // the extension's outputs are its own (docs/sharing.md)
		}
		return [5]uint64{SMCUnknown}
	}
	var x [5]uint64
	if fid == RMIRecEnter {
		// REC_ENTER manages the lock itself (the realm runs unlocked), so
		// its arguments get their own copy; only this path allocates one.
		a := args
		x = h(r, &a)
	} else {
		x = r.handleLocked(h, args)
	}
	if fid != RMIRttReadEntry || x[0] != RMISuccess {
		x[4] = args[3]
	}
	return x
}

// handleLocked runs h under r.mu with the arguments in r.args.
func (r *RMM) handleLocked(h handler, args [6]uint64) [5]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.args = args
	return h(r, &r.args)
}

// status returns X0 for a status with index 0.
func status(s uint8) [5]uint64 { return [5]uint64{Pack(s, 0)} }

// statusIdx returns X0 for a status with an index.
func statusIdx(s uint8, idx int) [5]uint64 { return [5]uint64{Pack(s, uint8(idx))} }

// success returns SUCCESS with outputs X1...
func success(out ...uint64) [5]uint64 {
	var x [5]uint64
	copy(x[1:], out)
	return x
}

// Memory helpers. The RMM's own granules (RD, REC, RTT, DATA) are Realm
// PAS; host buffers (params, src, run) are read in the NS PAS, so a host
// pointer to a granule that is not NS takes a GPF, which the callers turn
// into RMI_ERROR_INPUT (the *_pas conditions of Arm DEN0137 1.0-REL0 B4.3).
func (r *RMM) realmRead(pa uint64, p []byte) error  { return r.plat.Read(gpt.PASRealm, pa, p) }
func (r *RMM) realmWrite(pa uint64, p []byte) error { return r.plat.Write(gpt.PASRealm, pa, p) }
func (r *RMM) nsRead(pa uint64, p []byte) error     { return r.plat.Read(gpt.PASNonSecure, pa, p) }
func (r *RMM) nsWrite(pa uint64, p []byte) error    { return r.plat.Write(gpt.PASNonSecure, pa, p) }

var zeroGranule [GranuleSize]byte

// zero clears a Realm PAS granule (DELEGATED granules are always zero,
// Arm DEN0137 1.0-REL0 A2.2 Granule).
func (r *RMM) zero(pa uint64) error {
	r.dataWalk = l3Walk{} // pa may be an RTT on its way out (rtt.go l3Walk)
	return r.realmWrite(pa, zeroGranule[:])
}

// mustPlatform turns a failure of the RMM's own memory into a panic: it
// means the emulator's invariants (the RMM owns the granules it writes) are
// broken, which no input may cause.
func mustPlatform(err error) {
	if err != nil {
		panic(fmt.Errorf("%w: %v", ErrPlatform, err))
	}
}
