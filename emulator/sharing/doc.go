// Package sharing is the realm-side and host-side toolkit of the RMM's
// inter-realm memory-sharing extension (docs/sharing.md), with its
// workloads and its benchmark.
//
// The extension lets several mutually distrustful realms share delegated
// granules that stay in the Realm PAS: the RMM maps a region into exactly
// its member realms' stage 2, at an IPA range that must be RIPAS EMPTY and
// unassigned in each member (never memory the member already uses as its
// own). Members access it either through access code that the RMM verifies
// (package emulator/rmm/accesscode) and runs atomically under the region's
// own lock (mediated mode, after You and Paek, "Secure and Efficient Memory
// Sharing on ARM Confidential Compute Architecture"), or under leases that
// map it read-write into one member or read-only into several (amortised
// mode). A member's REM[3] (the slot RSI_MEASUREMENT_EXTEND index 3 names)
// records each region's descriptor and each access code it loads.
//
// The extension is an opt-in of the machine: emulator.Config.Sharing.
// Without it the RMM is a strict RMM 1.0-REL0 (Arm DEN0137 1.0-REL0) and
// answers every FID of the extension with SMC_UNKNOWN.
//
// Host side: Host builds realms (NewRealm), regions (CreateRegion) and tears
// them down (DestroyRegion). Realm side: Attach, LoadCode, Invoke, Acquire,
// Release, Detach wrap the RSI calls for realm software. Ring generates the
// producer–consumer access codes. RunMode and RunAll run the messaging
// benchmark; Report renders it against the cost table (CostTable), whose
// constants are cited one by one.
package sharing
