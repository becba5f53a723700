package rmm

import "sync/atomic"

// ShareCounters are the events of the sharing extension the RMM executes,
// counted where it executes them, for the benchmark's cost model
// (docs/sharing.md §11). Events on the host's side of an exit are the
// monitor's (monitor.Counters).
type ShareCounters struct {
	// RSICalls are sharing RSI calls: each a trap from the realm to the
	// RMM at R-EL2 and back, without the host or EL3.
	RSICalls uint64
	// Invocations are RSI_SHARE_INVOKE calls that ran access code; Steps
	// the access-code instructions they executed.
	Invocations, Steps uint64
	// Bytes the access code moved: CopyIn from the argument into the
	// region (CPIN), CopyOut from the region into the argument (CPOUT),
	// CopyWithin inside the region (CPR), LoadStore by LDR/STR/LDA/STA.
	CopyIn, CopyOut, CopyWithin, LoadStore uint64
	// ArgWalks are stage-2 walks of the caller's argument pages.
	ArgWalks uint64
	// RegionLocks are acquisitions of a region's lock (an invocation, a
	// lease change).
	RegionLocks uint64
	// LeaseWalks are the RMM's walks to the level-3 RTTs holding a
	// member's region entries when a lease changes, LeaseEntries the
	// entries it rewrites, TLBIs the range invalidations (each with its
	// DSB) that taking access away needs.
	LeaseWalks, LeaseEntries, TLBIs uint64
}

// Sub returns c - before.
func (c ShareCounters) Sub(before ShareCounters) ShareCounters {
	return ShareCounters{
		RSICalls: c.RSICalls - before.RSICalls, Invocations: c.Invocations - before.Invocations,
		Steps: c.Steps - before.Steps, CopyIn: c.CopyIn - before.CopyIn, CopyOut: c.CopyOut - before.CopyOut,
		CopyWithin: c.CopyWithin - before.CopyWithin, LoadStore: c.LoadStore - before.LoadStore,
		ArgWalks: c.ArgWalks - before.ArgWalks, RegionLocks: c.RegionLocks - before.RegionLocks,
		LeaseWalks: c.LeaseWalks - before.LeaseWalks, LeaseEntries: c.LeaseEntries - before.LeaseEntries,
		TLBIs: c.TLBIs - before.TLBIs,
	}
}

type shareCounters struct {
	rsiCalls, invocations, steps           atomic.Uint64
	copyIn, copyOut, copyWithin, loadStore atomic.Uint64
	argWalks, regionLocks                  atomic.Uint64
	leaseWalks, leaseEntries, tlbis        atomic.Uint64
}

// ShareCounters returns a snapshot of the sharing extension's counters.
func (r *RMM) ShareCounters() ShareCounters {
	c := &r.shareCtr
	return ShareCounters{
		RSICalls: c.rsiCalls.Load(), Invocations: c.invocations.Load(), Steps: c.steps.Load(),
		CopyIn: c.copyIn.Load(), CopyOut: c.copyOut.Load(), CopyWithin: c.copyWithin.Load(),
		LoadStore: c.loadStore.Load(), ArgWalks: c.argWalks.Load(), RegionLocks: c.regionLocks.Load(),
		LeaseWalks: c.leaseWalks.Load(), LeaseEntries: c.leaseEntries.Load(), TLBIs: c.tlbis.Load(),
	}
}
