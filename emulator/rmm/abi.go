// Package rmm is the emulated Realm Management Monitor of RMM specification
// 1.0-REL0: the Realm Management Interface (host → RMM), the Realm Services
// Interface (realm → RMM), the granule, realm, REC and RTT state machines,
// stage-2 translation from the realms' own RTTs, REC entry and exit,
// PSCI, measurements and attestation.
//
// The ABI constants below are the specification's, Arm DEN0137 1.0-REL0
// (the Realm Management Monitor specification, cited by section), as TF-RMM
// tag rmm-spec-v1.0-rel0 lib/smc/include/smc-rmi.h and smc-rsi.h encode
// them; their names follow the specification's (RMI_REALM_CREATE is
// RMIRealmCreate).
package rmm

import (
	"fmt"

	"github.com/ccakit/cca/realm"
)

// Function identifiers: SMCCC fast calls, SMC64, OEN 4: 0xC4000000 | fnum
// (Arm DEN0028 SMCCC; TF-RMM lib/smc/include/smc.h).
const (
	fidBase = 0xC4000000

	// SVEHint is bit 16 of a FID (SMCCC 1.3); the RMM clears it before
	// dispatch (TF-RMM runtime/core/handler.c).
	SVEHint = 1 << 16

	// SMCUnknown is SMC_UNKNOWN (-1), the answer to an unknown FID (SMCCC).
	SMCUnknown = 0xFFFFFFFFFFFFFFFF
)

// RMI commands (Arm DEN0137 1.0-REL0 B4.3 RMI commands, FID table).
const (
	RMIVersion             = fidBase | 0x150
	RMIGranuleDelegate     = fidBase | 0x151
	RMIGranuleUndelegate   = fidBase | 0x152
	RMIDataCreate          = fidBase | 0x153
	RMIDataCreateUnknown   = fidBase | 0x154
	RMIDataDestroy         = fidBase | 0x155
	RMIRealmActivate       = fidBase | 0x157
	RMIRealmCreate         = fidBase | 0x158
	RMIRealmDestroy        = fidBase | 0x159
	RMIRecCreate           = fidBase | 0x15A
	RMIRecDestroy          = fidBase | 0x15B
	RMIRecEnter            = fidBase | 0x15C
	RMIRttCreate           = fidBase | 0x15D
	RMIRttDestroy          = fidBase | 0x15E
	RMIRttMapUnprotected   = fidBase | 0x15F
	RMIRttReadEntry        = fidBase | 0x161
	RMIRttUnmapUnprotected = fidBase | 0x162
	RMIPsciComplete        = fidBase | 0x164
	RMIFeatures            = fidBase | 0x165
	RMIRttFold             = fidBase | 0x166
	RMIRecAuxCount         = fidBase | 0x167
	RMIRttInitRipas        = fidBase | 0x168
	RMIRttSetRipas         = fidBase | 0x169

	// RMIFirst and RMILast bound the RMI range that EL3 forwards to the RMM
	// (TF-A v2.12 include/services/rmmd_svc.h reserves 0x150–0x18F).
	RMIFirst = fidBase | 0x150
	RMILast  = fidBase | 0x18F
)

// RSI commands (Arm DEN0137 1.0-REL0 B5.3 RSI commands).
const (
	RSIVersion                  = fidBase | 0x190
	RSIFeatures                 = fidBase | 0x191
	RSIMeasurementRead          = fidBase | 0x192
	RSIMeasurementExtend        = fidBase | 0x193
	RSIAttestationTokenInit     = fidBase | 0x194
	RSIAttestationTokenContinue = fidBase | 0x195
	RSIRealmConfig              = fidBase | 0x196
	RSIIPAStateSet              = fidBase | 0x197
	RSIIPAStateGet              = fidBase | 0x198
	RSIHostCall                 = fidBase | 0x199
)

// PSCI functions a realm may call (Arm DEN0137 1.0-REL0 B6.3 PSCI commands; PSCI 1.1 FIDs,
// SMC32 0x84000000|n and SMC64 0xC4000000|n).
const (
	PSCIVersion        = 0x84000000
	PSCICPUSuspend     = 0xC4000001
	PSCICPUOff         = 0x84000002
	PSCICPUOn          = 0xC4000003
	PSCIAffinityInfo   = 0xC4000004
	PSCISystemOff      = 0x84000008
	PSCISystemReset    = 0x84000009
	PSCIFeatures       = 0x8400000A
	PSCICPUSuspend32   = 0x84000001
	PSCICPUOn32        = 0x84000003
	PSCIAffinityInfo32 = 0x84000004

	// SMCCCVersion is SMCCC_VERSION; a realm gets 1.2 (TF-RMM
	// runtime/core/exit.c).
	SMCCCVersion = 0x80000000
)

// PSCI return codes (PSCI specification, DEN0022).
const (
	PSCISuccess        = 0
	PSCINotSupported   = 0xFFFFFFFFFFFFFFFF // -1
	PSCIInvalidParams  = 0xFFFFFFFFFFFFFFFE // -2
	PSCIDenied         = 0xFFFFFFFFFFFFFFFD // -3
	PSCIAlreadyOn      = 0xFFFFFFFFFFFFFFFC // -4
	PSCIInvalidAddress = 0xFFFFFFFFFFFFFFF7 // -9
	PSCIAffinityOn     = 0
	PSCIAffinityOff    = 1
	PSCIVersion11      = 0x10001
)

// RMI status codes (Arm DEN0137 1.0-REL0 B4.4 RmiCommandReturnCode). The packed
// return is (index << 8) | status.
const (
	RMISuccess    = 0
	RMIErrorInput = 1
	RMIErrorRealm = 2
	RMIErrorRec   = 3
	RMIErrorRtt   = 4
)

// RSI status codes (Arm DEN0137 1.0-REL0 B5.4 RsiCommandReturnCode;
// RSI_ERROR_UNKNOWN is REL0's).
const (
	RSISuccess      = 0
	RSIErrorInput   = 1
	RSIErrorState   = 2
	RSIIncomplete   = 3
	RSIErrorUnknown = 4
)

// rmiStatusNames and rsiStatusNames are the specification's names of the
// status codes above, by value: the one table every error message uses.
var (
	rmiStatusNames = [...]string{"RMI_SUCCESS", "RMI_ERROR_INPUT", "RMI_ERROR_REALM", "RMI_ERROR_REC", "RMI_ERROR_RTT"}
	rsiStatusNames = [...]string{"RSI_SUCCESS", "RSI_ERROR_INPUT", "RSI_ERROR_STATE", "RSI_INCOMPLETE", "RSI_ERROR_UNKNOWN"}
)

// RMIStatusName names an RMI status code ("RMI_ERROR_RTT"); a code the
// specification does not define is "status N".
func RMIStatusName(status uint8) string {
	if int(status) < len(rmiStatusNames) {
		return rmiStatusNames[status]
	}
	return fmt.Sprintf("status %d", status)
}

// RSIStatusName names an RSI status code, as a realm reads it from X0
// ("RSI_ERROR_STATE"); a value the specification does not define is given
// in hex.
func RSIStatusName(x0 uint64) string {
	if x0 < uint64(len(rsiStatusNames)) {
		return rsiStatusNames[x0]
	}
	return fmt.Sprintf("%#x", x0)
}

// rsiCommandNames names the RSI commands of RMM 1.0 by FID.
var rsiCommandNames = map[uint64]string{
	RSIVersion: "RSI_VERSION", RSIFeatures: "RSI_FEATURES", RSIMeasurementRead: "RSI_MEASUREMENT_READ",
	RSIMeasurementExtend: "RSI_MEASUREMENT_EXTEND", RSIAttestationTokenInit: "RSI_ATTESTATION_TOKEN_INIT",
	RSIAttestationTokenContinue: "RSI_ATTESTATION_TOKEN_CONTINUE", RSIRealmConfig: "RSI_REALM_CONFIG",
	RSIIPAStateSet: "RSI_IPA_STATE_SET", RSIIPAStateGet: "RSI_IPA_STATE_GET", RSIHostCall: "RSI_HOST_CALL",
}

// RSICommandName names an RSI command of RMM 1.0 by its FID
// ("RSI_HOST_CALL"); ok is false for any other FID.
func RSICommandName(fid uint64) (name string, ok bool) {
	name, ok = rsiCommandNames[fid]
	return name, ok
}

// Pack packs an RMI status and index into X0 (TF-RMM lib/common/include/status.h).
func Pack(status, index uint8) uint64 { return uint64(index)<<8 | uint64(status) }

// Unpack splits X0 into status and index (Linux RMI_RETURN_STATUS/INDEX).
func Unpack(x0 uint64) (status, index uint8) { return uint8(x0), uint8(x0 >> 8) }

// ABIVersion is 1.0 for both RMI and RSI: (major << 16) | minor
// (Arm DEN0137 1.0-REL0 B4.1 RMI version, B5.1 RSI version).
const ABIVersion = 1 << 16

// Enumerations (Arm DEN0137 1.0-REL0 B4.4 RMI types, B5.4 RSI types).
const (
	// RIPAS values.
	RIPASEmpty     = 0
	RIPASRAM       = 1
	RIPASDestroyed = 2

	// RmiRttEntryState values reported by RTT_READ_ENTRY.
	RTTEStateUnassigned = 0
	RTTEStateAssigned   = 1
	RTTEStateTable      = 2

	// RmiRecExitReason values.
	ExitSync        = 0
	ExitIRQ         = 1
	ExitFIQ         = 2
	ExitPSCI        = 3
	ExitRIPASChange = 4
	ExitHostCall    = 5
	ExitSError      = 6

	// REC entry flags (bits of RmiRecEnter.flags).
	EntryFlagEmulMMIO      = 1 << 0
	EntryFlagInjectSEA     = 1 << 1
	EntryFlagTrapWFI       = 1 << 2
	EntryFlagTrapWFE       = 1 << 3
	EntryFlagRIPASResponse = 1 << 4 // 1 = REJECT

	// RmiRecParams.flags: RUNNABLE, which the RIM measures (defined in
	// package realm).
	RecFlagRunnable = realm.RECFlagRunnable

	// RmiRealmParams.flags.
	RealmFlagLPA2 = 1 << 0
	RealmFlagSVE  = 1 << 1
	RealmFlagPMU  = 1 << 2

	// RmiRealmParams.flags0 MEC_POLICY, bits [8:7] (TF-RMM main,
	// RMM 2.0-bet2; not part of RMM 1.0-REL0): 0 shared, 1 private. Only
	// an RMM configured for TF-RMM main's tokens takes it.
	RealmFlagMECPolicyShift = 7
	RealmFlagMECPolicyMask  = 3 << RealmFlagMECPolicyShift
	RealmMECPolicyShared    = 0
	RealmMECPolicyPrivate   = 1

	// RsiRipasChangeDestroyed (X4 of RSI_IPA_STATE_SET).
	RIPASNoChangeDestroyed = 0
	RIPASChangeDestroyed   = 1

	// RsiResponse.
	RSIAccept = 0
	RSIReject = 1
)

// RmiRealmParams layout (Arm DEN0137 1.0-REL0 B4.4 RmiRealmParams type).
const (
	RealmParamsFlags         = 0x000
	RealmParamsS2SZ          = 0x008
	RealmParamsSVEVL         = 0x010
	RealmParamsNumBPS        = 0x018
	RealmParamsNumWPS        = 0x020
	RealmParamsPMUNumCtrs    = 0x028
	RealmParamsHashAlgo      = 0x030
	RealmParamsRPV           = 0x400
	RealmParamsVMID          = 0x800
	RealmParamsRTTBase       = 0x808
	RealmParamsRTTLevelStart = 0x810
	RealmParamsRTTNumStart   = 0x818
)

// RmiRecParams layout (Arm DEN0137 1.0-REL0 B4.4 RmiRecParams type).
const (
	RecParamsFlags  = 0x000
	RecParamsMPIDR  = 0x100
	RecParamsPC     = 0x200
	RecParamsGPRs   = 0x300 // 8 × u64
	RecParamsNumAux = 0x800
	RecParamsAux    = 0x808 // 16 × u64

	// MaxRecAuxGranules is MAX_REC_AUX_GRANULES (TF-RMM smc-rmi.h).
	MaxRecAuxGranules = 16
)

// RmiRecRun layout: enter at 0x000, exit at 0x800 (Arm DEN0137 1.0-REL0 B4.4
// RmiRecRun, RmiRecEnter and RmiRecExit types).
const (
	RunEnterFlags    = 0x000
	RunEnterGPRs     = 0x200 // 31 × u64
	RunEnterGICv3HCR = 0x300
	RunEnterGICv3LRs = 0x308 // 16 × u64

	RunExit             = 0x800
	RunExitReason       = RunExit + 0x000
	RunExitESR          = RunExit + 0x100
	RunExitFAR          = RunExit + 0x108
	RunExitHPFAR        = RunExit + 0x110
	RunExitGPRs         = RunExit + 0x200 // 31 × u64
	RunExitGICv3HCR     = RunExit + 0x300
	RunExitGICv3LRs     = RunExit + 0x308
	RunExitGICv3MISR    = RunExit + 0x388
	RunExitGICv3VMCR    = RunExit + 0x390
	RunExitCNTPCtl      = RunExit + 0x400
	RunExitCNTPCval     = RunExit + 0x408
	RunExitCNTVCtl      = RunExit + 0x410
	RunExitCNTVCval     = RunExit + 0x418
	RunExitRIPASBase    = RunExit + 0x500
	RunExitRIPASTop     = RunExit + 0x508
	RunExitRIPASValue   = RunExit + 0x510 // u8
	RunExitImm          = RunExit + 0x600
	RunExitPMUOvfStatus = RunExit + 0x700
)

// RsiRealmConfig layout (Arm DEN0137 1.0-REL0 B5.4 RsiRealmConfig type).
const (
	RealmConfigIPAWidth = 0x000
	RealmConfigHashAlgo = 0x008
	RealmConfigRPV      = 0x200
)

// RsiHostCall layout (Arm DEN0137 1.0-REL0 B5.4 RsiHostCall type): imm (u16) at 0,
// gprs[31] at 8, 0x100 bytes.
const (
	HostCallImm     = 0x000
	HostCallGPRs    = 0x008
	HostCallSize    = 0x100
	HostCallNumGPRs = 31
)

// GranuleSize is the RMM's granule, defined once in package realm (whose
// measurement algorithms hash whole granules).
const GranuleSize = realm.GranuleSize
