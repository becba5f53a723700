package monitor

import "sync/atomic"

// CostModel turns counted events into modelled CPU cycles.
type CostModel struct {
	// RealmExitCycles is the cost of one realm exit to the host and back,
	// through EL3 (1,865 cycles: the realm hypercall cost measured by the
	// paper of You and Paek, "Secure and Efficient Memory Sharing on ARM
	// Confidential Compute Architecture", which docs/sharing.md follows).
	RealmExitCycles uint64
	// NormalExitCycles is the cost of one exit of a normal KVM guest
	// (362 cycles, same source).
	NormalExitCycles uint64
	// WorldSwitchCycles is charged for every counted world switch. Leave it
	// 0 when the exit costs above already include their switches.
	WorldSwitchCycles uint64
}

// DefaultCostModel returns the paper's figures: 1,865 cycles per realm exit,
// 362 per normal VM exit, world switches included in those.
func DefaultCostModel() CostModel {
	return CostModel{RealmExitCycles: 1865, NormalExitCycles: 362}
}

// Counters is a snapshot of the monitor's event counts.
type Counters struct {
	// World switches, by direction.
	NSToEL3, EL3ToNS         uint64
	RealmToEL3, EL3ToRealm   uint64
	SecureToEL3, EL3ToSecure uint64
	// RMICalls counts RMI calls forwarded to the RMM.
	RMICalls uint64
	// RealmExits counts successful RMI_REC_ENTER calls (each ends with the
	// realm exiting to the host) plus NoteRealmExit calls.
	RealmExits uint64
	// NormalExits counts NoteNormalExit calls.
	NormalExits uint64
}

// WorldSwitches returns the number of world switches in either direction.
func (c Counters) WorldSwitches() uint64 {
	return c.NSToEL3 + c.EL3ToNS + c.RealmToEL3 + c.EL3ToRealm + c.SecureToEL3 + c.EL3ToSecure
}

// Sub returns c - before, the events between two snapshots.
func (c Counters) Sub(before Counters) Counters {
	return Counters{
		NSToEL3: c.NSToEL3 - before.NSToEL3, EL3ToNS: c.EL3ToNS - before.EL3ToNS,
		RealmToEL3: c.RealmToEL3 - before.RealmToEL3, EL3ToRealm: c.EL3ToRealm - before.EL3ToRealm,
		SecureToEL3: c.SecureToEL3 - before.SecureToEL3, EL3ToSecure: c.EL3ToSecure - before.EL3ToSecure,
		RMICalls:    c.RMICalls - before.RMICalls,
		RealmExits:  c.RealmExits - before.RealmExits,
		NormalExits: c.NormalExits - before.NormalExits,
	}
}

// ModelledCycles returns the cycles the counted events cost under m.
func (c Counters) ModelledCycles(m CostModel) uint64 {
	return c.RealmExits*m.RealmExitCycles + c.NormalExits*m.NormalExitCycles + c.WorldSwitches()*m.WorldSwitchCycles
}

type counters struct {
	nsToEL3, el3ToNS         atomic.Uint64
	realmToEL3, el3ToRealm   atomic.Uint64
	secureToEL3, el3ToSecure atomic.Uint64
	rmiCalls                 atomic.Uint64
	realmExits, normalExits  atomic.Uint64
}

func (c *counters) snapshot() Counters {
	return Counters{
		NSToEL3: c.nsToEL3.Load(), EL3ToNS: c.el3ToNS.Load(),
		RealmToEL3: c.realmToEL3.Load(), EL3ToRealm: c.el3ToRealm.Load(),
		SecureToEL3: c.secureToEL3.Load(), EL3ToSecure: c.el3ToSecure.Load(),
		RMICalls:    c.rmiCalls.Load(),
		RealmExits:  c.realmExits.Load(),
		NormalExits: c.normalExits.Load(),
	}
}

// Counters returns a snapshot of the event counts.
func (m *Monitor) Counters() Counters { return m.ctr.snapshot() }

// NoteRealmExit counts a realm exit the monitor cannot see: one handled by
// the RMM without RMI_REC_ENTER returning to the host.
func (m *Monitor) NoteRealmExit() { m.ctr.realmExits.Add(1) }

// NoteNormalExit counts an exit of a normal (non-realm) VM, which the host
// handles without EL3.
func (m *Monitor) NoteNormalExit() { m.ctr.normalExits.Add(1) }
