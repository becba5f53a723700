package rmm

// ABI of the inter-realm memory-sharing extension (docs/sharing.md). The
// FIDs sit in slots RMM 1.0 leaves unused (Arm DEN0137 1.0-REL0, the RMI
// and RSI command FID tables: RMI 0x16A–0x18E, RSI 0x19A–0x1AF), so a 1.0
// RMM answers SMC_UNKNOWN to them. The extension is off by default
// (Config.Sharing): the default RMM is exactly such a 1.0 RMM.

// RMI commands of the extension (docs/sharing.md §3).
const (
	RMIShareRegionCreate   = fidBase | 0x16A
	RMIShareGranuleAdd     = fidBase | 0x16B
	RMIShareMemberAdd      = fidBase | 0x16C
	RMIShareRegionActivate = fidBase | 0x16D
	RMIShareMemberRemove   = fidBase | 0x16E
	RMIShareRegionDestroy  = fidBase | 0x16F
	RMIShareRegionRead     = fidBase | 0x170
)

// RSI commands of the extension (docs/sharing.md §6).
const (
	RSIShareAttach       = fidBase | 0x19A
	RSIShareDetach       = fidBase | 0x19B
	RSIShareCodeLoad     = fidBase | 0x19C
	RSIShareInvoke       = fidBase | 0x19D
	RSIShareLeaseAcquire = fidBase | 0x19E
	RSIShareLeaseRelease = fidBase | 0x19F
	RSIShareIPAQuery     = fidBase | 0x1A0
)

// Access reported by RSI_SHARE_IPA_QUERY (X4).
const (
	ShareAccessNone = 0
	ShareAccessRO   = 1
	ShareAccessRW   = 2
)

// RmiShareParams layout and values (docs/sharing.md §2.1).
const (
	ShareParamsFlags       = 0x000
	ShareParamsNumGranules = 0x008
	ShareParamsLeaseTicks  = 0x010

	// ShareFlagMediated allows RSI_SHARE_INVOKE, ShareFlagLease the leases.
	ShareFlagMediated = 1 << 0
	ShareFlagLease    = 1 << 1

	// ShareMaxGranules bounds a region (16 MiB), ShareMaxMembers its
	// members, ShareMaxCodes the access codes one member keeps loaded, and
	// ShareMaxLeaseTicks the lease bound.
	ShareMaxGranules   = 4096
	ShareMaxMembers    = 8
	ShareMaxCodes      = 8
	ShareMaxLeaseTicks = 0xFFFF
)

// Lease access of RSI_SHARE_LEASE_ACQUIRE (X2).
const (
	ShareLeaseRead  = 0
	ShareLeaseWrite = 1
)

// RTTEStateShared is what RMI_RTT_READ_ENTRY reports for a member's entry
// of a shared granule (docs/sharing.md §4.2).
const RTTEStateShared = 3

// ShareREM is the REM the RMM extends with a region's descriptor at
// RSI_SHARE_ATTACH: REM[3] (docs/sharing.md §7).
const ShareREM = 3

// RsiShareDescriptor layout (docs/sharing.md §7).
const (
	ShareDescVersion    = 0x000
	ShareDescFlags      = 0x008
	ShareDescSize       = 0x010
	ShareDescLeaseTicks = 0x018
	ShareDescNumMembers = 0x020
	ShareDescMembers    = 0x040 // ShareDescMemberSize bytes per member
	ShareDescMemberSize = 0x100
	ShareDescMemberRIM  = 0x00
	ShareDescMemberRPV  = 0x40
	ShareDescMemberHash = 0x80

	// ShareDescriptorVersion is the version the RMM writes.
	ShareDescriptorVersion = 1
)

// Region states reported by RMI_SHARE_REGION_READ (X1).
const (
	ShareRegionNew    = 0
	ShareRegionActive = 1
)
