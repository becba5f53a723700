package rmm

func init() {
	registerRSI(RSIIPAStateSet, rsiIPAStateSet)
	registerRSI(RSIIPAStateGet, rsiIPAStateGet)
}

// RSI_IPA_STATE_SET(base, top, ripas, flags) → new_base, response
// (Arm DEN0137 1.0-REL0 B5.3.6, A5.4 RIPAS change; TF-RMM rel0 runtime/rsi/memory.c and
// runtime/rmi/run.c complete_set_ripas).
//
// ripas_valid (neither EMPTY nor RAM), base_align, top_align, size_valid
// (top ≤ base, which includes an overflowing range) and rgn_bound (the
// region is not inside the PAR) → ERROR_INPUT, without an exit. flags is
// not checked: RSI_CHANGE_DESTROYED allows DESTROYED entries to change,
// any other value does not.
//
// Otherwise the request is recorded in the REC and the REC exits with
// RMI_EXIT_RIPAS_CHANGE carrying ripas_base, ripas_top and ripas_value. The
// host applies it with RMI_RTT_SET_RIPAS calls, each starting at the REC's
// progress address (rec.ripasAddr, which those calls advance), and enters
// the REC again. That entry completes the call: X0 = SUCCESS, X1 = the
// progress address, and X2 = REJECT exactly when the request was for RAM,
// it is not complete, and the host set RIPAS_RESPONSE in the entry flags;
// ACCEPT otherwise. A request for EMPTY cannot be refused.
func rsiIPAStateSet(c *realmCPU, x *[11]uint64) [9]uint64 {
	base, top, ripas, flags := x[0], x[1], x[2], x[3]
	if ripas > RIPASRAM || !aligned(base) || !aligned(top) || top <= base || top > c.rl.parTop() {
		return rsiReturn(x, RSIErrorInput)
	}
	c.r.mu.Lock()
	rec := c.rec
	rec.ripasPending = true
	rec.ripasAddr, rec.ripasTop = base, top
	rec.ripasValue = uint8(ripas)
	rec.ripasDestroyed = flags == RIPASChangeDestroyed
	c.r.mu.Unlock()

	e := c.exitToHost(recExit{reason: ExitRIPASChange, ripasBase: base, ripasTop: top, ripasValue: uint8(ripas)})

	c.r.mu.Lock()
	progress := rec.ripasAddr
	response := uint64(RSIAccept)
	if ripas == RIPASRAM && progress != top && e.flags&EntryFlagRIPASResponse != 0 {
		response = RSIReject
	}
	rec.ripasPending = false
	rec.ripasAddr, rec.ripasTop, rec.ripasValue, rec.ripasDestroyed = 0, 0, 0, false
	c.r.mu.Unlock()
	return rsiReturn(x, RSISuccess, progress, response)
}

// RSI_IPA_STATE_GET(base, end) → top, ripas: the RIPAS at base and how far
// it extends unchanged, never beyond end (REL0 form, Arm DEN0137 1.0-REL0 B5.3.5).
//
// base_align, base outside the PAR, end_align, end outside the PAR,
// size_valid (end ≤ base) → ERROR_INPUT.
//
// As TF-RMM rel0 realm_ipa_get_ripas does, the answer comes from one RTT:
// the walk goes as deep as the tables go for base, and the entries of the
// RTT it stops in are compared from base's onwards while they carry the
// same RIPAS (an ASSIGNED RAM entry reads RAM, any other protected entry
// reads its RIPAS). So top may be below the end of a homogeneous region
// that spans RTTs; the caller asks again from top, as Linux does.
func rsiIPAStateGet(c *realmCPU, x *[11]uint64) [9]uint64 {
	base, end := x[0], x[1]
	par := c.rl.parTop()
	if !aligned(base) || base >= par || !aligned(end) || end-1 >= par || end <= base {
		return rsiReturn(x, RSIErrorInput)
	}
	c.r.mu.Lock()
	w, err := c.r.walk(c.rl, base, maxLevel)
	var entries [entriesPerRTT]rtte
	if err == nil {
		entries, err = c.r.readRTT(w.rtt)
	}
	c.r.mu.Unlock()
	mustPlatform(err) // unlocked: a panicking realm goroutine takes r.mu to stop its REC

	size := levelSize(w.level)
	start := base &^ (size - 1)
	addr := start
	var ripas uint8
	var shared bool
	for i := w.index; i < entriesPerRTT && addr < end; i++ {
		e := entries[i]
		h := e.hipas()
		if h != hipasUnassigned && h != hipasAssigned && h != hipasShared {
			break // no RIPAS (a table, or unprotected)
		}
		// The sharing extension (docs/sharing.md §4.2): a region entry
		// reads its RIPAS, EMPTY, and a range never spans region and
		// non-region entries.
		if addr == start {
			ripas, shared = e.ripas(), h == hipasShared
		} else if e.ripas() != ripas || (h == hipasShared) != shared {
			break
		}
		addr += size
	}
	if addr == start {
		return rsiReturn(x, RSIErrorInput)
	}
	return rsiReturn(x, RSISuccess, min(addr, end), uint64(ripas))
}
