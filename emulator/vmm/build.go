package vmm

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/realmbuild"
)

// Realm is a realm the VMM built.
type Realm struct {
	v    *VMM
	RD   uint64
	RECs []*REC

	s2sz        uint
	startLevel  int
	roots       []uint64          // starting-level RTTs
	rtts        []rttInfo         // RTTs created below the start level, in creation order
	data        map[uint64]uint64 // IPA → DATA granule
	unprotected []uint64          // unprotected IPAs the VMM mapped
	vmid        uint16

	// mmu serialises the VMM's changes to the realm's stage 2 (RTTs, DATA
	// granules, unprotected mappings, and the bookkeeping above) between
	// RECs that exit in parallel, as a hypervisor's per-VM MMU lock does:
	// two RECs faulting under one missing RTT must not both create it.
	mmu sync.Mutex
}

type rttInfo struct {
	pa, ipa uint64
	level   int
}

// REC is one of a realm's RECs with the NS granule the VMM uses as its
// RmiRecRun.
type REC struct {
	PA    uint64
	Run   uint64
	MPIDR uint64
	Index int
	aux   []uint64
}

// Build creates a realm through RMI exactly as plan says (the order of
// realmbuild.Plan: REALM_CREATE, INIT_RIPAS over the RAM ranges, measured
// DATA_CREATEs, REC_CREATEs, unmeasured DATA_CREATEs), creating the RTTs
// the usual way (retry after ERROR_RTT), then activates it. On error the
// partly built realm is returned with the error so it can be destroyed.
func (v *VMM) Build(plan *realmbuild.Plan) (*Realm, error) {
	r, err := v.BuildSteps(plan)
	if err != nil {
		return r, err
	}
	if _, err := v.smc("RMI_REALM_ACTIVATE", rmm.RMIRealmActivate, r.RD); err != nil {
		return r, err
	}
	return r, nil
}

// BuildSteps is Build without the final RMI_REALM_ACTIVATE: the realm stays
// NEW (for tools and tests that add to it).
func (v *VMM) BuildSteps(plan *realmbuild.Plan) (*Realm, error) {
	r := &Realm{v: v, data: map[uint64]uint64{}}
	var ranges [][2]uint64
	for _, st := range plan.Steps {
		var err error
		switch s := st.(type) {
		case realmbuild.RealmCreateStep:
			err = r.create(s, plan)
		case realmbuild.InitRIPASStep:
			if n := len(ranges); n == 0 || ranges[n-1] != [2]uint64{s.RAMBase, s.RAMTop} {
				ranges = append(ranges, [2]uint64{s.RAMBase, s.RAMTop})
				err = r.initRIPAS(s.RAMBase, s.RAMTop)
			}
		case realmbuild.DataCreateStep:
			err = r.dataCreate(s.IPA, s.Flags, s.Content)
		case realmbuild.RECCreateStep:
			err = r.recCreate(s)
		default:
			err = fmt.Errorf("vmm: unknown plan step %v", st)
		}
		if err != nil {
			return r, fmt.Errorf("%v: %w", st, err)
		}
	}
	if r.RD == 0 {
		return r, errors.New("vmm: the plan has no REALM_CREATE")
	}
	return r, nil
}

func (r *Realm) create(s realmbuild.RealmCreateStep, plan *realmbuild.Plan) error {
	v := r.v
	r.s2sz, r.startLevel = uint(s.Params.S2SZ), s.RTTLevelStart
	first, err := v.allocContiguous(s.RTTNumStart)
	if err != nil {
		return err
	}
	for i := range s.RTTNumStart {
		pa := first + uint64(i)*rmm.GranuleSize
		if _, err := v.smc("RMI_GRANULE_DELEGATE", rmm.RMIGranuleDelegate, pa); err != nil {
			for ; i < s.RTTNumStart; i++ { // not delegated: the allocator's again
				v.release(first + uint64(i)*rmm.GranuleSize)
			}
			return err
		}
		r.roots = append(r.roots, pa)
	}
	rd, err := v.delegate()
	if err != nil {
		return err
	}
	// Until RMI_REALM_CREATE succeeds, the RD granule is a delegated granule
	// like any other, and Destroy (which knows only r.RD) would not give it
	// back: a failed command leaves the granules as they were (Arm DEN0137
	// 1.0-REL0 A2.1), so undelegate it here.
	created := false
	defer func() {
		if !created {
			_ = v.undelegate(rd)
		}
	}()
	params, err := v.alloc()
	if err != nil {
		return err
	}
	defer v.release(params)
	p := s.Params
	r.vmid = v.vmid(s.VMID)
	err = v.writeGranule(params, map[uint64]uint64{
		rmm.RealmParamsFlags: p.Flags, rmm.RealmParamsS2SZ: uint64(p.S2SZ), rmm.RealmParamsSVEVL: uint64(p.SVEVL),
		rmm.RealmParamsNumBPS: uint64(p.NumBPS), rmm.RealmParamsNumWPS: uint64(p.NumWPS),
		rmm.RealmParamsPMUNumCtrs: uint64(p.PMUNumCtrs), rmm.RealmParamsHashAlgo: uint64(p.HashAlgo),
		rmm.RealmParamsVMID: uint64(r.vmid), rmm.RealmParamsRTTBase: first,
		rmm.RealmParamsRTTLevelStart: uint64(s.RTTLevelStart), rmm.RealmParamsRTTNumStart: uint64(s.RTTNumStart),
	}, map[uint64][]byte{rmm.RealmParamsRPV: plan.RPV[:]})
	if err != nil {
		v.releaseVMID(r.vmid)
		return err
	}
	if _, err := v.smc("RMI_REALM_CREATE", rmm.RMIRealmCreate, rd, params); err != nil {
		v.releaseVMID(r.vmid)
		return err
	}
	r.RD, created = rd, true
	return nil
}

// rttCreate creates the RTT at level covering ipa, and the missing ones
// above it.
func (r *Realm) rttCreate(ipa uint64, level int) error {
	base := ipa &^ (realmbuild.LevelSize(level-1) - 1)
	for {
		pa, err := r.v.delegate()
		if err != nil {
			return err
		}
		_, err = r.v.smc("RMI_RTT_CREATE", rmm.RMIRttCreate, r.RD, pa, base, uint64(level))
		var re *RMIError
		if errors.As(err, &re) && re.Status == rmm.RMIErrorRtt && int(re.Index) < level-1 {
			// A table above is missing: create it first, then retry.
			_ = r.v.undelegate(pa)
			if err := r.rttCreate(ipa, int(re.Index)+1); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			_ = r.v.undelegate(pa)
			return err
		}
		r.rtts = append(r.rtts, rttInfo{pa: pa, ipa: base, level: level})
		return nil
	}
}

// retryRTT runs call until it stops failing with RMI_ERROR_RTT, creating
// the next-level table the RMM asked for each time: the loop KVM and
// kvmtool use.
func (r *Realm) retryRTT(ipa uint64, call func() error) error {
	for {
		err := call()
		var re *RMIError
		if !errors.As(err, &re) || re.Status != rmm.RMIErrorRtt || re.Index >= 3 {
			return err
		}
		if err := r.rttCreate(ipa, int(re.Index)+1); err != nil {
			return err
		}
	}
}

// initRIPAS sets [base, top) to RIPAS RAM with the largest entries the RTT
// geometry allows (realmbuild.RIPASEntries predicts the same decomposition).
func (r *Realm) initRIPAS(base, top uint64) error {
	return r.walkRIPAS("RMI_RTT_INIT_RIPAS", rmm.RMIRttInitRipas, []uint64{r.RD}, base, top)
}

// walkRIPAS issues a RIPAS command (RMI_RTT_INIT_RIPAS, RMI_RTT_SET_RIPAS)
// over [base, top) until the whole range is done: each call covers one RTT
// entry's worth and returns in X1 where it stopped, and an RTT missing at
// base is created first (retryRTT). args precede base and top.
func (r *Realm) walkRIPAS(name string, fid uint64, args []uint64, base, top uint64) error {
	for base < top {
		err := r.retryRTT(base, func() error {
			x, err := r.v.smc(name, fid, append(args, base, top)...)
			if err == nil {
				base = x[1]
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dataCreate copies a granule of content into a new DATA granule at ipa.
func (r *Realm) dataCreate(ipa, flags uint64, content []byte) error {
	src, err := r.v.alloc()
	if err != nil {
		return err
	}
	defer r.v.release(src)
	if err := r.v.writeGranule(src, nil, map[uint64][]byte{0: content}); err != nil {
		return err
	}
	return r.createData(ipa, func(data uint64) error {
		_, err := r.v.smc("RMI_DATA_CREATE", rmm.RMIDataCreate, r.RD, data, ipa, src, flags)
		return err
	})
}

// mapUnknown backs a protected IPA with a fresh zero granule
// (RMI_DATA_CREATE_UNKNOWN), as a hypervisor does on a stage-2 fault.
func (r *Realm) mapUnknown(ipa uint64) error {
	ipa &^= rmm.GranuleSize - 1
	return r.createData(ipa, func(data uint64) error {
		_, err := r.v.smc("RMI_DATA_CREATE_UNKNOWN", rmm.RMIDataCreateUnknown, r.RD, data, ipa)
		return err
	})
}

// createData delegates a granule and makes it the DATA granule at ipa
// with create (one of the DATA_CREATE commands), creating missing RTTs on
// the way; on failure the granule goes back to the host.
func (r *Realm) createData(ipa uint64, create func(data uint64) error) error {
	data, err := r.v.delegate()
	if err != nil {
		return err
	}
	if err := r.retryRTT(ipa, func() error { return create(data) }); err != nil {
		_ = r.v.undelegate(data)
		return err
	}
	r.data[ipa] = data
	return nil
}

func (r *Realm) recCreate(s realmbuild.RECCreateStep) (err error) {
	v := r.v
	x, err := v.smc("RMI_REC_AUX_COUNT", rmm.RMIRecAuxCount, r.RD)
	if err != nil {
		return err
	}
	rec := &REC{MPIDR: s.MPIDR, Index: s.Index}
	// Until the REC is in r.RECs, Destroy does not know its granules: on
	// failure they go back to the host here (a failed RMI_REC_CREATE leaves
	// them delegated and unused, Arm DEN0137 1.0-REL0 A2.1).
	var delegated []uint64
	defer func() {
		if err != nil {
			for _, pa := range delegated {
				_ = v.undelegate(pa)
			}
		}
	}()
	if rec.PA, err = v.delegate(); err != nil {
		return err
	}
	delegated = append(delegated, rec.PA)
	words := map[uint64]uint64{rmm.RecParamsFlags: s.Params.Flags, rmm.RecParamsMPIDR: s.MPIDR,
		rmm.RecParamsPC: s.Params.PC, rmm.RecParamsNumAux: x[1]}
	for i, g := range s.Params.GPRs {
		words[rmm.RecParamsGPRs+8*uint64(i)] = g
	}
	for i := range x[1] {
		aux, err := v.delegate()
		if err != nil {
			return err
		}
		delegated = append(delegated, aux)
		rec.aux = append(rec.aux, aux)
		words[rmm.RecParamsAux+8*i] = aux
	}
	params, err := v.alloc()
	if err != nil {
		return err
	}
	defer v.release(params)
	if err := v.writeGranule(params, words, nil); err != nil {
		return err
	}
	// The RmiRecRun granule is taken before the REC exists, so that no
	// failure can leave a REC the realm's bookkeeping does not hold (its
	// RD could then never be destroyed).
	if rec.Run, err = v.alloc(); err != nil {
		return err
	}
	if _, err := v.smc("RMI_REC_CREATE", rmm.RMIRecCreate, r.RD, rec.PA, params); err != nil {
		v.release(rec.Run)
		return err
	}
	r.RECs = append(r.RECs, rec)
	return nil
}

// Destroy tears the realm down in the order the RMM requires (RECs, DATA,
// RTTs from the deepest, the RD) and gives every granule back to the NS
// world.
//
// What it destroys it forgets, and what fails stays for another call: the
// granules it gives back are the host's to reuse, possibly for another
// realm, so a second Destroy must not name them in RMI commands again.
func (r *Realm) Destroy() error {
	r.mmu.Lock()
	defer r.mmu.Unlock()
	v := r.v
	var errs []error
	var recs []*REC
	for _, rec := range r.RECs {
		if _, err := v.smc("RMI_REC_DESTROY", rmm.RMIRecDestroy, rec.PA); err != nil {
			errs = append(errs, err)
			recs = append(recs, rec)
			continue
		}
		for _, pa := range append([]uint64{rec.PA}, rec.aux...) {
			errs = append(errs, v.undelegate(pa))
		}
		v.release(rec.Run)
	}
	r.RECs = recs
	for ipa, pa := range r.data {
		if _, err := v.smc("RMI_DATA_DESTROY", rmm.RMIDataDestroy, r.RD, ipa); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(r.data, ipa)
		errs = append(errs, v.undelegate(pa))
	}
	var unprotected []uint64
	for _, ipa := range r.unprotected {
		if _, err := v.smc("RMI_RTT_UNMAP_UNPROTECTED", rmm.RMIRttUnmapUnprotected, r.RD, ipa, 3); err != nil {
			errs = append(errs, err)
			unprotected = append(unprotected, ipa)
		}
	}
	r.unprotected = unprotected
	var rtts []rttInfo
	for i := len(r.rtts) - 1; i >= 0; i-- {
		t := r.rtts[i]
		if _, err := v.smc("RMI_RTT_DESTROY", rmm.RMIRttDestroy, r.RD, t.ipa, uint64(t.level)); err != nil {
			errs = append(errs, err)
			rtts = append(rtts, t)
			continue
		}
		errs = append(errs, v.undelegate(t.pa))
	}
	slices.Reverse(rtts) // creation order again
	r.rtts = rtts
	if r.RD != 0 {
		if _, err := v.smc("RMI_REALM_DESTROY", rmm.RMIRealmDestroy, r.RD); err != nil {
			return errors.Join(append(errs, err)...)
		}
		errs = append(errs, v.undelegate(r.RD))
		v.releaseVMID(r.vmid)
		r.RD = 0
	}
	var roots []uint64
	for _, pa := range r.roots {
		if err := v.undelegate(pa); err != nil {
			errs = append(errs, err)
			roots = append(roots, pa)
		}
	}
	r.roots = roots
	return errors.Join(errs...)
}

// DataGranule returns the physical address of the DATA granule mapped at
// ipa, if the VMM created one.
func (r *Realm) DataGranule(ipa uint64) (uint64, bool) {
	r.mmu.Lock()
	defer r.mmu.Unlock()
	pa, ok := r.data[ipa&^(rmm.GranuleSize-1)]
	return pa, ok
}

// MapUnprotected maps the NS granule at pa at the unprotected ipa of the
// realm (RMI_RTT_MAP_UNPROTECTED, level 3, normal memory, read/write), the
// way a VMM shares a buffer with its realm.
func (r *Realm) MapUnprotected(ipa, pa uint64) error {
	r.mmu.Lock()
	defer r.mmu.Unlock()
	const desc = 0x6<<2 | 0x3<<6 // MemAttr normal WB, S2AP RW: the host's fields
	return r.retryRTT(ipa, func() error {
		_, err := r.v.smc("RMI_RTT_MAP_UNPROTECTED", rmm.RMIRttMapUnprotected, r.RD, ipa, 3, pa|desc)
		if err == nil {
			r.unprotected = append(r.unprotected, ipa)
		}
		return err
	})
}
