package rmm

import (
	"encoding/binary"

	"github.com/ccakit/cca/realm"
)

func init() {
	registerRMI(RMIRecCreate, (*RMM).rmiRecCreate)
	registerRMI(RMIRecDestroy, (*RMM).rmiRecDestroy)
	registerRMI(RMIRecAuxCount, (*RMM).rmiRecAuxCount)
}

// recState: a REC is READY or RUNNING (Arm DEN0137 1.0-REL0 A2.3 Realm Execution Context).
type recState uint8

const (
	recReady recState = iota
	recRunning
)

// recDesc is what the RMM keeps of a REC, in its REC granule.
type recDesc struct {
	addr     uint64
	owner    uint64 // RD address
	index    uint64 // from MPIDR (Arm DEN0137 1.0-REL0 B4.4 RmiRecMpidr)
	mpidr    uint64
	state    recState
	runnable bool
	pc       uint64
	gprs     [31]uint64 // x0..x30 as the REC is first entered
	aux      []uint64

	// cpu runs the realm software of this REC; started at the first entry.
	cpu *realmCPU

	// A pending RSI_IPA_STATE_SET: the REC exited with RIPAS_CHANGE and
	// the host answers with RMI_RTT_SET_RIPAS calls. ripasAddr is the
	// progress so far (each SET_RIPAS must start there), ripasTop the
	// requested top (Arm DEN0137 1.0-REL0 A5.4 RIPAS change).
	ripasPending   bool
	ripasAddr      uint64
	ripasTop       uint64
	ripasValue     uint8
	ripasDestroyed bool // RSI_CHANGE_DESTROYED was given

	// psciPending: the REC exited for a PSCI call that needs
	// RMI_PSCI_COMPLETE before it may run again (REC_ENTER, Arm DEN0137 1.0-REL0
	// B4.3.14); psci is
	// that call and, once completed, its result (psci.go).
	psciPending bool
	psci        psciRequest
	// emulatableAbort: the last exit was a data abort the host may emulate
	// (EMUL_MMIO on the next entry is allowed only then).
	emulatableAbort bool

	// irqPending: a physical interrupt waits for the REC (RaiseIRQ). Under
	// r.mu.
	irqPending bool

	// attest is the REC's attestation token context (RSI_ATTESTATION_*).
	attest attestContext

	// fault records why the realm software stopped with an SError exit
	// (run.go). Under r.mu.
	fault *RealmFault
}

// mpidrIndex turns an RmiRecMpidr into a REC index: Aff0[3:0] | Aff1 << 4
// | Aff2 << 12 | Aff3 << 20, with Aff0[3:0], Aff1[15:8], Aff2[23:16] and
// Aff3[31:24]; any other bit set (Aff0[7:4] is RES0) makes it invalid
// (Arm DEN0137 1.0-REL0 B4.4 RmiRecMpidr; TF-RMM rec.h / arch.h).
func mpidrIndex(mpidr uint64) (uint64, bool) {
	const valid = 0xF | 0xFF<<8 | 0xFF<<16 | 0xFF<<24
	if mpidr&^valid != 0 {
		return 0, false
	}
	aff0, aff1, aff2, aff3 := mpidr&0xF, mpidr>>8&0xFF, mpidr>>16&0xFF, mpidr>>24&0xFF
	return aff0 | aff1<<4 | aff2<<12 | aff3<<20, true
}

// recAuxCount is what RMI_REC_AUX_COUNT answers: TF-RMM reports
// MAX_REC_AUX_GRANULES (TF-RMM rmm-spec-v1.0-rel0 runtime/rmi/rec.c).
const recAuxCount = MaxRecAuxGranules

// RMI_REC_AUX_COUNT(rd) → aux_count; rd_* → INPUT.
func (r *RMM) rmiRecAuxCount(a *[6]uint64) [5]uint64 {
	if r.lookupRD(a[0]) == nil {
		return status(RMIErrorInput)
	}
	return success(recAuxCount)
}

// RMI_REC_CREATE(rd, rec, params_ptr). Conditions in the order of
// Arm DEN0137 1.0-REL0 B4.3.12.2: params_align, params_bound, params_pas, rec_align,
// rec_bound, rec_state, rd_align, rd_bound, rd_state → INPUT; realm_state
// (not NEW), num_recs → REALM; mpidr_index → INPUT; num_aux, aux_align,
// aux_alias, aux_state → INPUT. A runnable REC extends the RIM (Arm DEN0137 1.0-REL0
// A7.1 Realm measurements).
func (r *RMM) rmiRecCreate(a *[6]uint64) [5]uint64 {
	rdAddr, recAddr, paramsPtr := a[0], a[1], a[2]
	buf, ok := r.readNSGranule(paramsPtr)
	if !ok {
		return status(RMIErrorInput)
	}
	if !aligned(recAddr) {
		return status(RMIErrorInput)
	}
	recG := r.granules.lookup(recAddr)
	if recG == nil || recG.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	rl := r.lookupRD(rdAddr)
	if rl == nil {
		return status(RMIErrorInput)
	}
	if rl.state != realmNew {
		return status(RMIErrorRealm)
	}
	// num_recs: the realm has as many RECs as the RMM supports,
	// 2^MAX_RECS_ORDER - 1 (RMM 1.0 B4.3.12; TF-RMM: the RD's refcount is
	// at its maximum) → REALM.
	if rl.numRecs >= 1<<featMaxRecsOrder-1 {
		return status(RMIErrorRealm)
	}
	le := binary.LittleEndian
	flags := le.Uint64(buf[RecParamsFlags:])
	mpidr := le.Uint64(buf[RecParamsMPIDR:])
	idx, ok := mpidrIndex(mpidr)
	if !ok || idx != rl.recIndex {
		return status(RMIErrorInput)
	}
	numAux := le.Uint64(buf[RecParamsNumAux:])
	if numAux != recAuxCount {
		return status(RMIErrorInput)
	}
	aux := make([]uint64, numAux)
	seen := map[uint64]bool{recAddr: true, rdAddr: true}
	for i := range aux {
		aux[i] = le.Uint64(buf[RecParamsAux+8*i:])
		if !aligned(aux[i]) {
			return status(RMIErrorInput)
		}
	}
	for _, x := range aux {
		if seen[x] {
			return status(RMIErrorInput) // aux_alias
		}
		seen[x] = true
	}
	for _, x := range aux {
		if g := r.granules.lookup(x); g == nil || g.state != granuleDelegated {
			return status(RMIErrorInput) // aux_state (and bound)
		}
	}

	rec := &recDesc{addr: recAddr, owner: rdAddr, index: idx, mpidr: mpidr,
		runnable: flags&RecFlagRunnable != 0, pc: le.Uint64(buf[RecParamsPC:]), aux: aux}
	var measured realm.RecParams
	measured.Flags, measured.PC = flags, rec.pc
	for i := range 8 {
		rec.gprs[i] = le.Uint64(buf[RecParamsGPRs+8*i:])
		measured.GPRs[i] = rec.gprs[i]
	}
	if rec.runnable {
		rl.rim.ExtendREC(rl.hash, measured)
	}
	*recG = granule{state: granuleREC, owner: rdAddr}
	for _, x := range aux {
		*r.granules.lookup(x) = granule{state: granuleRECAux, owner: rdAddr}
	}
	rl.recIndex++
	rl.numRecs++
	r.recs[recAddr] = rec
	return status(RMISuccess)
}

// lookupREC applies rec_align, rec_bound and rec_state (the granule is a
// REC), all ERROR_INPUT.
func (r *RMM) lookupREC(addr uint64) *recDesc {
	if !aligned(addr) {
		return nil
	}
	if g := r.granules.lookup(addr); g == nil || g.state != granuleREC {
		return nil
	}
	return r.recs[addr]
}

// RMI_REC_DESTROY(rec): rec_align, rec_bound, rec_gran_state → INPUT; a
// running REC → REC. The REC and its auxiliary granules return to
// DELEGATED, zeroed; the realm software on it is stopped.
func (r *RMM) rmiRecDestroy(a *[6]uint64) [5]uint64 {
	rec := r.lookupREC(a[0])
	if rec == nil {
		return status(RMIErrorInput)
	}
	if rec.state == recRunning {
		return status(RMIErrorRec)
	}
	if rec.cpu != nil {
		rec.cpu.kill()
	}
	for _, x := range append([]uint64{rec.addr}, rec.aux...) {
		mustPlatform(r.zero(x))
		*r.granules.lookup(x) = granule{state: granuleDelegated}
	}
	r.realms[rec.owner].numRecs--
	delete(r.recs, rec.addr)
	return status(RMISuccess)
}

// Close stops the realm software of every REC that is not running (their
// goroutines are parked between exits). Call it when the machine is no
// longer used; a REC being entered at that moment is left alone.
func (r *RMM) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.cpu != nil && rec.state != recRunning {
			rec.cpu.kill()
		}
	}
}
