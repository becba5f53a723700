package rmm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

func init() { registerRMI(RMIRecEnter, (*RMM).rmiRecEnter) }

// Realm software runs as a coroutine: one goroutine per REC, which runs
// only between an RMI_REC_ENTER and the REC's next exit. RMI_REC_ENTER
// hands it the entry (RmiRecEnter) and waits for the exit (RmiRecExit);
// the realm side blocks in exitToHost until the host enters the REC again.
// That is the REC's run loop of TF-RMM (runtime/core/exit.c, run.c) with
// Go code in place of realm instructions.

// ErrSEA is returned to realm software for an access that takes a
// synchronous external abort: RIPAS EMPTY, an IPA outside the realm's IPA
// space, or an abort the host chose to inject (RMI_REC_ENTER with
// INJECT_SEA).
var ErrSEA = errors.New("rmm: synchronous external abort")

// ErrRealmFault matches a RealmFault: the realm software of a REC crashed
// (it panicked), or there was none at the REC's entry point.
var ErrRealmFault = errors.New("rmm: realm software fault")

// RealmFault is the record of a crash of the realm software on a REC. The
// host sees the ABI side of it: the REC exits with RMI_EXIT_SERROR and is
// no longer runnable, so a further RMI_REC_ENTER returns RMI_ERROR_REC
// (Arm DEN0137 1.0-REL0, RMI_REC_ENTER failure condition rec_runnable).
// The RMM keeps the Go side, the panic value and the stack of the realm
// goroutine where it panicked, for the host and tests to read with
// (*RMM).RealmFault.
type RealmFault struct {
	REC   uint64 // the REC's address
	PC    uint64 // the REC's entry point
	Value any    // what the realm software panicked with; nil: no software at PC
	Stack []byte // the realm goroutine's stack at the panic
}

func (f *RealmFault) Error() string {
	if f.Stack == nil {
		return fmt.Sprintf("rmm: REC %#x: no realm software at entry point %#x", f.REC, f.PC)
	}
	return fmt.Sprintf("rmm: REC %#x: realm software panicked: %v\n%s", f.REC, f.Value, f.Stack)
}

// Unwrap gives ErrRealmFault and, when the realm software panicked with an
// error, that error.
func (f *RealmFault) Unwrap() []error {
	if err, ok := f.Value.(error); ok {
		return []error{ErrRealmFault, err}
	}
	return []error{ErrRealmFault}
}

// InvariantPanic is a panic of the RMM's own code while it served realm
// software (an RSI or PSCI call, a stage-2 access): a broken invariant of
// the emulator, which no input may cause. It is not the realm's fault, so
// it is not turned into an SError exit: the REC_ENTER that ran the realm
// panics with it on the host's goroutine, as an RMM panic during any other
// RMI command does, carrying the stack of the realm goroutine where the
// RMM failed. Like any RMM panic it leaves the RMM unfit for further use
// (the REC stays RUNNING, and a lock may still be held).
type InvariantPanic struct {
	REC   uint64
	Value any
	Stack []byte
}

func (p *InvariantPanic) Error() string {
	return fmt.Sprintf("rmm: invariant broken while serving REC %#x: %v\n%s", p.REC, p.Value, p.Stack)
}

// Unwrap gives the panic value when it is an error.
func (p *InvariantPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// RealmFault returns the crash of the realm software on the REC at rec
// (a *RealmFault), or nil if it has not crashed or rec is no REC.
func (r *RMM) RealmFault(rec uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.recs[rec]; d != nil && d.fault != nil {
		return d.fault
	}
	return nil
}

// recEntry is RmiRecEnter as the host wrote it.
type recEntry struct {
	flags    uint64
	gprs     [31]uint64
	gicv3HCR uint64
	gicv3LRs [16]uint64
}

// recExit is RmiRecExit as the RMM writes it.
type recExit struct {
	reason              uint64
	esr, far, hpfar     uint64
	gprs                [31]uint64
	ripasBase, ripasTop uint64
	ripasValue          uint8
	imm                 uint64
	// emulatable: the exit is a data abort the host may emulate (EMUL_MMIO
	// is allowed on the next entry).
	emulatable bool
	// invariant: not an exit but the RMM's own panic in realm context,
	// which REC_ENTER re-raises on the host's goroutine.
	invariant *InvariantPanic
}

func parseEntry(b *[GranuleSize]byte) recEntry {
	le := binary.LittleEndian
	e := recEntry{flags: le.Uint64(b[RunEnterFlags:]), gicv3HCR: le.Uint64(b[RunEnterGICv3HCR:])}
	for i := range e.gprs {
		e.gprs[i] = le.Uint64(b[RunEnterGPRs+8*i:])
	}
	for i := range e.gicv3LRs {
		e.gicv3LRs[i] = le.Uint64(b[RunEnterGICv3LRs+8*i:])
	}
	return e
}

func (x *recExit) encode() []byte {
	b := make([]byte, GranuleSize-RunExit)
	le := binary.LittleEndian
	put := func(off int, v uint64) { le.PutUint64(b[off-RunExit:], v) }
	put(RunExitReason, x.reason)
	put(RunExitESR, x.esr)
	put(RunExitFAR, x.far)
	put(RunExitHPFAR, x.hpfar)
	for i, g := range x.gprs {
		put(RunExitGPRs+8*i, g)
	}
	put(RunExitRIPASBase, x.ripasBase)
	put(RunExitRIPASTop, x.ripasTop)
	b[RunExitRIPASValue-RunExit] = x.ripasValue
	put(RunExitImm, x.imm)
	return b
}

// The ICH_HCR_EL2 fields a host may set in RmiRecEnter.gicv3_hcr: UIE,
// LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE and TDIR; any
// other bit set (EN included: the RMM owns the enable) fails REC entry
// (RMM 1.0 A6.1 RWVGFJ; TF-RMM ICH_HCR_EL2_NS_MASK).
const gicv3HCRValid = 0xFE | 1<<14

// ICH_LR<n>_EL2 fields checked in RmiRecEnter.gicv3_lrs. The emulated GIC
// virtual CPU interface has 16 list registers (RMI_FEATURES GICV3_NUM_LRS
// 15), 8 priority bits, 16-bit virtual INTIDs and no extended INTID range.
const (
	ichLRStateShift = 62
	ichLRHW         = 1 << 61
	ichLRPINTID     = 0x1FFF << 32 // [44:32]
	ichLREOI        = 1 << 41      // pINTID[9] when HW is 0
	ichLRVINTID     = 0xFFFF_FFFF
	maxSPIID        = 1019
	minLPIID        = 8192
	maxVINTID       = 1<<16 - 1
)

// gicv3ConfigValid is Gicv3ConfigIsValid (RMM 1.0 A6.1 DXZVGB, DCPLDX):
// gicv3_hcr sets only the fields the host controls, and every list
// register that is not Invalid has HW 0, no pINTID bits but EOI, a vINTID
// the GIC implements, and a vINTID no other valid list register holds (as
// TF-RMM gic_validate_state checks).
func gicv3ConfigValid(e *recEntry) bool {
	if e.gicv3HCR&^gicv3HCRValid != 0 {
		return false
	}
	for i, lr := range e.gicv3LRs {
		if lr>>ichLRStateShift == 0 {
			continue
		}
		id := lr & ichLRVINTID
		if lr&ichLRHW != 0 || lr&ichLRPINTID&^ichLREOI != 0 || (id > maxSPIID && id < minLPIID) || id > maxVINTID {
			return false
		}
		for _, o := range e.gicv3LRs[i+1:] {
			if o>>ichLRStateShift != 0 && o&ichLRVINTID == id {
				return false
			}
		}
	}
	return true
}

// RMI_REC_ENTER(rec, run_ptr). Conditions (Arm DEN0137 1.0-REL0 B4.3.14.2): run_align,
// run_bound, run_pas, rec_align, rec_bound, rec_gran_state → INPUT; REC
// running → REC; realm NEW → REALM[0]; realm SYSTEM_OFF → REALM[1]; REC not
// runnable → REC; PSCI pending → REC; EMUL_MMIO without an emulatable
// abort → REC; invalid GIC state → REC. The RmiRecEnter flags the RMM
// does not define are ignored: no failure condition covers them. Then the
// realm runs until the REC exits, and the exit is written to run_ptr.
func (r *RMM) rmiRecEnter(a *[6]uint64) [5]uint64 {
	recAddr, runPtr := a[0], a[1]
	r.mu.Lock()
	buf, ok := r.readNSGranule(runPtr)
	if !ok {
		r.mu.Unlock()
		return status(RMIErrorInput)
	}
	rec := r.lookupREC(recAddr)
	if rec == nil {
		r.mu.Unlock()
		return status(RMIErrorInput)
	}
	entry := parseEntry(buf)
	if x, fail := r.recEnterState(rec, &entry); fail {
		r.mu.Unlock()
		return x
	}
	rec.state = recRunning
	if rec.cpu == nil {
		rec.cpu = r.newRealmCPU(rec)
	}
	cpu := rec.cpu
	r.mu.Unlock()

	exit := cpu.run(entry)
	if exit.invariant != nil {
		// r.mu may still be held by the code that panicked: raise it now.
		panic(exit.invariant)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	rec.state = recReady
	rec.emulatableAbort = exit.emulatable
	// The host owns run_ptr; if it took the granule away meanwhile the
	// exit is lost, as a store to a faulting NS page would be.
	_ = r.nsWrite(runPtr+RunExit, exit.encode())
	return status(RMISuccess)
}

func (r *RMM) recEnterState(rec *recDesc, e *recEntry) ([5]uint64, bool) {
	rl := r.realms[rec.owner]
	switch {
	case rec.state == recRunning:
		return status(RMIErrorRec), true
	case rl.state == realmNew:
		return statusIdx(RMIErrorRealm, 0), true
	case rl.state == realmSystemOff:
		return statusIdx(RMIErrorRealm, 1), true
	case !rec.runnable, rec.psciPending:
		return status(RMIErrorRec), true
	case e.flags&EntryFlagEmulMMIO != 0 && !rec.emulatableAbort:
		return status(RMIErrorRec), true
	case !gicv3ConfigValid(e):
		return status(RMIErrorRec), true
	}
	return [5]uint64{}, false
}

// realmCPU is the realm side of a REC: the RealmCPU its program sees.
type realmCPU struct {
	r    *RMM
	rec  *recDesc
	rl   *realmDesc
	prog Program

	resume   chan recEntry // host → realm
	exits    chan recExit  // realm → host
	started  bool
	stopOnce sync.Once
	// entry is the entry that last resumed the realm; only the realm
	// goroutine touches it while the REC runs.
	entry recEntry
	// config is RSI_REALM_CONFIG's RsiRealmConfig as it is written; only
	// the realm goroutine touches it.
	config [GranuleSize]byte
}

func (r *RMM) newRealmCPU(rec *recDesc) *realmCPU {
	c := &realmCPU{r: r, rec: rec, rl: r.realms[rec.owner],
		resume: make(chan recEntry), exits: make(chan recExit)}
	if r.cfg.Programs != nil {
		c.prog, _ = r.cfg.Programs(rec.pc)
	}
	return c
}

// run resumes the realm with e and returns its next exit. Called by
// REC_ENTER without r.mu.
func (c *realmCPU) run(e recEntry) recExit {
	if !c.started {
		c.started = true
		go c.main()
	}
	c.resume <- e
	return <-c.exits
}

// kill stops a parked realm goroutine (REC_DESTROY). Called with r.mu held
// while the REC is not running, so the goroutine is parked in exitToHost,
// not yet started, or finished.
func (c *realmCPU) kill() { c.stopOnce.Do(func() { close(c.resume) }) }

// main is the realm goroutine.
func (c *realmCPU) main() {
	e, ok := <-c.resume
	if !ok {
		return
	}
	c.entry = e
	if c.prog == nil {
		// No software at this entry point: the REC takes an exception the
		// RMM cannot hand to the realm; report it as an SError exit and stop
		// the REC.
		c.finish(recExit{reason: ExitSError}, &RealmFault{REC: c.rec.addr, PC: c.rec.pc})
		return
	}
	defer func() {
		// recover is nil when the goroutine ends by runtime.Goexit (a REC
		// destroyed while parked, or an invariant panic already handed to
		// the host by rmmCall).
		if p := recover(); p != nil {
			// A panic in realm software is a crash of the realm's vCPU: an
			// SError exit, and the REC stops.
			c.finish(recExit{reason: ExitSError}, &RealmFault{REC: c.rec.addr, PC: c.rec.pc, Value: p, Stack: debug.Stack()})
		}
	}()
	c.prog(c)
	// Realm software that returns has switched its vCPU off: the PSCI
	// CPU_OFF exit, after which the REC is no longer runnable.
	x := recExit{reason: ExitPSCI}
	x.gprs[0] = PSCICPUOff
	c.finish(x, nil)
}

// finish makes the REC not runnable, records fault if any, and hands the
// host its last exit.
func (c *realmCPU) finish(x recExit, fault *RealmFault) {
	c.r.mu.Lock()
	c.rec.runnable = false
	c.rec.fault = fault
	c.r.mu.Unlock()
	c.exits <- x
}

// rmmCall is deferred by every RealmCPU method: the code below it is the
// RMM's, not the realm's. A panic there is handed to the REC_ENTER that
// runs the realm (which re-raises it on the host's goroutine) and ends the
// realm goroutine, so realm software can neither recover from it nor have
// it taken for its own crash.
func (c *realmCPU) rmmCall() {
	p := recover()
	if p == nil {
		return
	}
	ip, ok := p.(*InvariantPanic)
	if !ok {
		ip = &InvariantPanic{REC: c.rec.addr, Value: p, Stack: debug.Stack()}
	}
	c.exits <- recExit{invariant: ip}
	runtime.Goexit()
}

// exitToHost hands x to the host's RMI_REC_ENTER and blocks until the host
// enters the REC again; it returns that entry. The caller must not hold
// r.mu. A REC destroyed meanwhile ends the goroutine.
func (c *realmCPU) exitToHost(x recExit) recEntry {
	c.exits <- x
	e, ok := <-c.resume
	if !ok {
		runtime.Goexit()
	}
	c.entry = e
	return e
}

// Reg returns x0..x30 as the REC was created (RmiRecParams.gprs).
func (c *realmCPU) Reg(n int) uint64 {
	defer c.rmmCall()
	if n < 0 || n >= len(c.rec.gprs) {
		return 0
	}
	return c.rec.gprs[n]
}

// Data abort syndrome for exits to the host (Arm ARM ESR_EL2, EC 0x24 data
// abort from a lower EL). The RMM exposes to the host only what it needs to
// handle the abort: EC, IL and WnR and the fault status for a protected
// IPA, plus ISV, SAS, SRT and SF for an emulatable unprotected access.
const (
	esrECDataAbortLower = 0x24 << 26
	esrIL               = 1 << 25
	esrISV              = 1 << 24
	esrSASShift         = 22
	esrSF               = 1 << 15
	esrWnR              = 1 << 6
	dfscTranslation     = 0x04 // | level
	mmioSRT             = 0    // the emulated access uses x0
)

func hpfar(ipa uint64) uint64 { return ipa >> 12 << 4 }

// Read and Write access the realm's IPA space granule by granule.
func (c *realmCPU) Read(ipa uint64, p []byte) error  { return c.access(ipa, p, false) }
func (c *realmCPU) Write(ipa uint64, p []byte) error { return c.access(ipa, p, true) }

func (c *realmCPU) access(ipa uint64, p []byte, write bool) error {
	defer c.rmmCall()
	for len(p) > 0 {
		n := min(uint64(len(p)), GranuleSize-ipa%GranuleSize)
		if err := c.accessGranule(ipa, p[:n], write); err != nil {
			return err
		}
		ipa, p = ipa+n, p[n:]
	}
	return nil
}

// accessGranule performs an access within one granule, exiting to the host
// as long as the host can resolve the fault.
func (c *realmCPU) accessGranule(ipa uint64, p []byte, write bool) error {
	for {
		f, err := c.tryAccess(ipa, p, write)
		if f == nil {
			if err != nil {
				return fmt.Errorf("realm access at IPA %#x: %w", ipa, err)
			}
			return nil
		}
		par := c.rl.parTop()

		x := recExit{reason: ExitSync, hpfar: hpfar(ipa)}
		wnr := uint64(0)
		if write {
			wnr = esrWnR
		}
		switch {
		case f.outside:
			return fmt.Errorf("%w: IPA %#x is outside the realm's %d-bit IPA space", ErrSEA, ipa, c.rl.s2sz)
		case f.state == hipasShared:
			// Shared memory the member holds no lease on (or only a READ
			// lease, for a write): the RMM injects an abort; the host could
			// not resolve it (docs/sharing.md §4.2).
			return fmt.Errorf("%w: IPA %#x is shared memory without a lease permitting the access", ErrSEA, ipa)
		case ipa < par && f.ripas == RIPASEmpty:
			// RIPAS EMPTY: the RMM injects an abort into the realm without
			// involving the host (ACS mm_hipas_*_ripas_empty).
			return fmt.Errorf("%w: IPA %#x has RIPAS EMPTY", ErrSEA, ipa)
		case ipa < par:
			// Protected RAM or DESTROYED without a mapping: the host must
			// act (map the page, or give up); the address within the page
			// stays hidden.
			x.esr = esrECDataAbortLower | esrIL | wnr | dfscTranslation | uint64(f.level)
		default:
			// Unprotected and unmapped: emulatable MMIO when it is one
			// naturally aligned access of 1, 2, 4 or 8 bytes.
			x.esr = esrECDataAbortLower | esrIL | wnr | dfscTranslation | uint64(f.level)
			if sas, ok := accessSize(ipa, len(p)); ok {
				x.esr |= esrISV | sas<<esrSASShift | mmioSRT<<16
				if len(p) == 8 {
					x.esr |= esrSF
				}
				x.far = ipa & (GranuleSize - 1)
				x.emulatable = true
				if write {
					var v [8]byte
					copy(v[:], p)
					x.gprs[mmioSRT] = binary.LittleEndian.Uint64(v[:])
				}
			}
		}
		e := c.exitToHost(x)
		if e.flags&EntryFlagInjectSEA != 0 {
			return fmt.Errorf("%w: injected by the host at IPA %#x", ErrSEA, ipa)
		}
		if x.emulatable && e.flags&EntryFlagEmulMMIO != 0 {
			if !write {
				var v [8]byte
				binary.LittleEndian.PutUint64(v[:], e.gprs[mmioSRT])
				copy(p, v[:])
			}
			return nil
		}
		// Otherwise the access is retried, as the faulting instruction is.
	}
}

// tryAccess translates ipa and, if it maps, performs the access. The
// deferred unlock leaves the RMM usable when the translation panics.
func (c *realmCPU) tryAccess(ipa uint64, p []byte, write bool) (*s2Fault, error) {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	pa, pas, f := c.r.translateAccess(c.rl, ipa, write)
	if f != nil {
		return f, nil
	}
	if write {
		return nil, c.r.plat.Write(pas, pa, p)
	}
	return nil, c.r.plat.Read(pas, pa, p)
}

func accessSize(ipa uint64, n int) (uint64, bool) {
	for sas, size := range []int{1, 2, 4, 8} {
		if n == size && ipa%uint64(size) == 0 {
			return uint64(sas), true
		}
	}
	return 0, false
}

// SMC issues an RSI or PSCI call from the realm. X0 is fid, X1.. args.
func (c *realmCPU) SMC(fid uint64, args ...uint64) [9]uint64 {
	defer c.rmmCall()
	c.takeIRQ()
	var x [11]uint64 // X1..X10 (MEASUREMENT_EXTEND uses up to X10)
	copy(x[:], args)
	// The function ID is W0: bits [63:32] of X0 are not part of it (Arm
	// DEN0028 SMCCC; TF-RMM rel0 runtime/core/exit.c handle_realm_rsi
	// takes (unsigned int)regs[0]), and the SVE hint is cleared.
	fid = uint64(uint32(fid)) &^ SVEHint
	if h, ok := rsiHandlers[fid]; ok {
		return h(c, &x)
	}
	if h, ok := c.r.shareRSIHandler(fid); ok {
		return h(c, &x)
	}
	if h, ok := psciHandlers[fid]; ok {
		return h(c, &x)
	}
	if fid == SMCCCVersion {
		return rsiReturn(&x, 0x10002) // SMCCC 1.2 (TF-RMM runtime/core/exit.c)
	}
	// An unknown SMC returns SMC_UNKNOWN and the realm continues.
	return rsiReturn(&x, SMCUnknown)
}

// rsiHandler handles one RSI (or PSCI) call; x holds X1..X10.
type rsiHandler func(c *realmCPU, x *[11]uint64) [9]uint64

var (
	rsiHandlers  = map[uint64]rsiHandler{}
	psciHandlers = map[uint64]rsiHandler{}
)

func registerRSI(fid uint64, h rsiHandler)  { rsiHandlers[fid] = h }
func registerPSCI(fid uint64, h rsiHandler) { psciHandlers[fid] = h }

// RaiseIRQ makes a physical interrupt pending for the REC at rec, as a
// device or timer interrupt routed to the CPU running it would be. The REC
// takes it at its next interruptible point, the next SMC its realm
// software issues: it exits to the host with RMI_EXIT_IRQ before the call,
// and the call runs when the host enters the REC again (as an SMC
// instruction is re-executed after the interrupt). It reports whether rec
// is a REC.
func (r *RMM) RaiseIRQ(rec uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.recs[rec]
	if d == nil {
		return false
	}
	d.irqPending = true
	return true
}

// takeIRQ exits to the host for a pending physical interrupt.
func (c *realmCPU) takeIRQ() {
	c.r.mu.Lock()
	pending := c.rec.irqPending
	c.rec.irqPending = false
	c.r.mu.Unlock()
	if pending {
		c.exitToHost(recExit{reason: ExitIRQ})
	}
}
