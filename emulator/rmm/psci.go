package rmm

// PSCI in a realm (Arm DEN0137 1.0-REL0 B6 Power State Control Interface; TF-RMM rel0
// runtime/rsi/psci.c, runtime/rmi/rec.c smc_psci_complete). The RMM
// answers what it can decide alone and tells the host about the rest with
// an RMI_EXIT_PSCI exit whose gprs[0] is the function ID (and gprs[1] the
// target MPIDR for CPU_ON and AFFINITY_INFO; like TF-RMM, the entry point
// and context ID of CPU_ON stay hidden from the host). CPU_ON and
// AFFINITY_INFO on another REC need the host's RMI_PSCI_COMPLETE before
// the calling REC may run again; CPU_SUSPEND, CPU_OFF, SYSTEM_OFF and
// SYSTEM_RESET are notifications.

func init() {
	registerPSCI(PSCIVersion, psciVersion)
	registerPSCI(PSCIFeatures, psciFeatures)
	for _, fid := range []uint64{PSCICPUSuspend, PSCICPUSuspend32} {
		registerPSCI(fid, psciNotify(fid, nil))
	}
	registerPSCI(PSCICPUOff, psciNotify(PSCICPUOff, func(c *realmCPU) { c.rec.runnable = false }))
	for _, fid := range []uint64{PSCISystemOff, PSCISystemReset} {
		// Reboot is the host's business: it builds a new realm, with its
		// own measurements. This one never runs again.
		registerPSCI(fid, psciNotify(fid, func(c *realmCPU) { c.rl.state = realmSystemOff }))
	}
	for _, fid := range []uint64{PSCICPUOn, PSCICPUOn32} {
		registerPSCI(fid, psciCPUOn(fid))
	}
	for _, fid := range []uint64{PSCIAffinityInfo, PSCIAffinityInfo32} {
		registerPSCI(fid, psciAffinityInfo(fid))
	}
	registerRMI(RMIPsciComplete, (*RMM).rmiPsciComplete)
}

// psciRequest is a PSCI call of a REC waiting for RMI_PSCI_COMPLETE
// (rec.psciPending): the call's X0..X3, and the result the host's
// completion produced. Guarded by r.mu.
type psciRequest struct {
	fid, target, entry, context uint64
	result                      uint64
}

// PSCI_VERSION → 1.1.
func psciVersion(_ *realmCPU, x *[11]uint64) [9]uint64 {
	return rsiReturn(x, PSCIVersion11)
}

// PSCI_FEATURES(fid): SUCCESS for the functions a realm has, NOT_SUPPORTED
// for others. The list is TF-RMM's; it compares the low 32 bits of X1.
func psciFeatures(_ *realmCPU, x *[11]uint64) [9]uint64 {
	switch uint32(x[0]) {
	case PSCICPUSuspend32, PSCICPUSuspend, PSCICPUOff, PSCICPUOn32, PSCICPUOn,
		PSCIAffinityInfo32, PSCIAffinityInfo, PSCISystemOff, PSCISystemReset,
		PSCIFeatures, SMCCCVersion:
		return rsiReturn(x, PSCISuccess)
	}
	return rsiReturn(x, PSCINotSupported)
}

// psciNotify handles the calls the host only hears about: change (under
// r.mu) the REC or realm state, exit with RMI_EXIT_PSCI and gprs[0] = fid,
// and return PSCI_SUCCESS when the REC runs again. A REC that is off, or a
// realm that is off, does not run again (REC_ENTER refuses it), unless
// CPU_ON turns the REC on, which starts it afresh at its new entry point.
func psciNotify(fid uint64, change func(c *realmCPU)) rsiHandler {
	return func(c *realmCPU, x *[11]uint64) [9]uint64 {
		if change != nil {
			c.r.mu.Lock()
			change(c)
			c.r.mu.Unlock()
		}
		exit := recExit{reason: ExitPSCI}
		exit.gprs[0] = fid
		c.exitToHost(exit)
		return rsiReturn(x, PSCISuccess)
	}
}

// psciTarget resolves a target MPIDR: the index of an existing REC of the
// realm (RECs are created in index order, so "exists" is "below the
// realm's REC count"). The caller holds r.mu.
func (c *realmCPU) psciTarget(mpidr uint64) (uint64, bool) {
	idx, ok := mpidrIndex(mpidr)
	return idx, ok && idx < c.rl.recIndex
}

// psciRequestHost is the common end of CPU_ON and AFFINITY_INFO, once the
// caller has checked its own arguments. Under r.mu it resolves req.target:
// INVALID_PARAMS for an MPIDR that names no REC of the realm, self (the
// answer the RMM gives alone) for the calling REC itself. Otherwise it
// records req as the REC's pending PSCI request, exits with RMI_EXIT_PSCI
// (gprs[0] = fid, gprs[1] = target MPIDR) and, once the host has completed
// the request and entered the REC again, returns the result: X0 = the PSCI
// status, X1..X3 = 0 (TF-RMM psci_complete_request).
func (c *realmCPU) psciRequestHost(x *[11]uint64, self uint64, req psciRequest) [9]uint64 {
	c.r.mu.Lock()
	idx, ok := c.psciTarget(req.target)
	switch {
	case !ok:
		c.r.mu.Unlock()
		return rsiReturn(x, PSCIInvalidParams)
	case idx == c.rec.index:
		c.r.mu.Unlock()
		return rsiReturn(x, self)
	}
	c.rec.psci = req
	c.rec.psciPending = true
	c.r.mu.Unlock()

	exit := recExit{reason: ExitPSCI}
	exit.gprs[0], exit.gprs[1] = req.fid, req.target
	c.exitToHost(exit)

	c.r.mu.Lock()
	result := c.rec.psci.result
	c.rec.psci = psciRequest{}
	c.r.mu.Unlock()
	return rsiReturn(x, result, 0, 0, 0)
}

// PSCI_CPU_ON(target_cpu, entry_point_address, context_id), SMC64 and
// SMC32: INVALID_ADDRESS for an entry point outside the PAR,
// INVALID_PARAMS for an MPIDR that names no REC of the realm, ALREADY_ON
// for the calling REC itself; otherwise the host decides, through
// RMI_PSCI_COMPLETE.
func psciCPUOn(fid uint64) rsiHandler {
	return func(c *realmCPU, x *[11]uint64) [9]uint64 {
		target, entry, context := x[0], x[1], x[2]
		if entry >= c.rl.parTop() {
			return rsiReturn(x, PSCIInvalidAddress)
		}
		return c.psciRequestHost(x, PSCIAlreadyOn, psciRequest{fid: fid, target: target, entry: entry, context: context})
	}
}

// PSCI_AFFINITY_INFO(target_affinity, lowest_affinity_level), SMC64 and
// SMC32: INVALID_PARAMS unless the level is 0 and the MPIDR names a REC of
// the realm; ON for the calling REC itself; otherwise the host completes
// it and the answer is the target REC's state at that moment.
func psciAffinityInfo(fid uint64) rsiHandler {
	return func(c *realmCPU, x *[11]uint64) [9]uint64 {
		target, level := x[0], x[1]
		if level != 0 {
			return rsiReturn(x, PSCIInvalidParams)
		}
		return c.psciRequestHost(x, PSCIAffinityOn, psciRequest{fid: fid, target: target})
	}
}

// RMI_PSCI_COMPLETE(calling_rec, target_rec, status): the host completes
// the PSCI request of calling_rec that targets target_rec. Conditions, all
// ERROR_INPUT (Arm DEN0137 1.0-REL0 B4.3.7; ACS cmd_psci_complete labels): alias
// (the same REC twice); calling_align, calling_bound, calling_state;
// target_align, target_bound, target_state; pending (calling_rec has no
// request waiting, including while it runs); owner (the RECs belong to
// different realms); target (target_rec is not the MPIDR the realm named);
// status (not one the host may give: for CPU_ON, PSCI_SUCCESS, or
// PSCI_DENIED when the target is off; for AFFINITY_INFO, PSCI_SUCCESS).
//
// A failing call changes nothing. TF-RMM rel0 differs in one corner: a
// DENIED for a target that is on returns ERROR_INPUT there too, but it has
// already completed the request (ALREADY_ON) by then; here the request stays
// pending, as a failure condition requires.
//
// On success the calling REC's result is set and its request cleared:
// CPU_ON → ALREADY_ON if the target is running or runnable, DENIED if the
// host denied it, else SUCCESS, and the target becomes runnable with pc =
// the entry point, x0 = the context ID and x1..x30 zero (turnOn);
// AFFINITY_INFO → ON if the target is running or runnable, else OFF.
func (r *RMM) rmiPsciComplete(a *[6]uint64) [5]uint64 {
	callingAddr, targetAddr, st := a[0], a[1], a[2]
	if callingAddr == targetAddr {
		return status(RMIErrorInput)
	}
	calling := r.lookupREC(callingAddr)
	if calling == nil {
		return status(RMIErrorInput)
	}
	target := r.lookupREC(targetAddr)
	if target == nil {
		return status(RMIErrorInput)
	}
	if calling.state == recRunning || !calling.psciPending {
		return status(RMIErrorInput)
	}
	if target.owner != calling.owner || target.mpidr != calling.psci.target {
		return status(RMIErrorInput)
	}
	on := target.state == recRunning || target.runnable
	req := &calling.psci
	switch req.fid {
	case PSCICPUOn, PSCICPUOn32:
		if st != PSCISuccess && (st != PSCIDenied || on) {
			return status(RMIErrorInput)
		}
		switch {
		case on:
			req.result = PSCIAlreadyOn
		case st == PSCIDenied:
			req.result = PSCIDenied
		default:
			target.turnOn(req.entry, req.context)
			req.result = PSCISuccess
		}
	case PSCIAffinityInfo, PSCIAffinityInfo32:
		if st != PSCISuccess {
			return status(RMIErrorInput)
		}
		req.result = PSCIAffinityOff
		if on {
			req.result = PSCIAffinityOn
		}
	default:
		panic("rmm: PSCI request pending for an unexpected function")
	}
	calling.psciPending = false
	return status(RMISuccess)
}

// turnOn is PSCI_CPU_ON taking effect on a REC that is off: it restarts at
// entry with x0 = context and x1..x30 zero, whatever they held (the
// RmiRecParams gprs, or what the REC left when it went off): the success
// condition on_success of RMI_PSCI_COMPLETE (Arm DEN0137 1.0-REL0
// B4.3.7.3). TF-RMM (rmm-spec-v1.0-rel0 and later, runtime/rsi/psci.c
// complete_psci_cpu_on) sets only x0 and pc and leaves the other registers
// alone; the emulator keeps the specification's rule. The realm software
// that ran on it before, if any, is gone; the next REC_ENTER starts the
// program registered for entry. The caller holds r.mu and the REC is not
// running.
func (rec *recDesc) turnOn(entry, context uint64) {
	if rec.cpu != nil {
		rec.cpu.kill()
		rec.cpu = nil
	}
	rec.pc = entry
	rec.gprs = [31]uint64{context}
	rec.runnable = true
}
