package monitor

// SMC function identifiers and return codes the monitor knows.
// FID = 0xC4000000 | fnum: SMCCC fast call, SMC64, OEN 4 (Arm DEN0028
// SMCCC; TF-RMM rmm-spec-v1.0-rel0 lib/smc/include/smc.h).
const (
	// SMCUnknown is SMC_UNKNOWN (-1), the answer to any FID the callee does
	// not implement (Arm DEN0028 SMCCC).
	SMCUnknown uint64 = 0xFFFF_FFFF_FFFF_FFFF

	// smcSVEHint is the SMCCC 1.3 SVE hint, bit 16 of the FID; it is cleared
	// before dispatch (Arm DEN0028 SMCCC 1.3; TF-RMM runtime/core/handler.c).
	smcSVEHint = 1 << 16

	// RMI range: NS → RMM, forwarded by EL3. TF-A reserves 0x150–0x18F
	// (TF-A v2.12 include/services/rmmd_svc.h RMI_FNUM_MIN/MAX_VALUE).
	SMCRMIFirst = 0xC400_0150
	SMCRMILast  = 0xC400_018F

	// SMCRMIRecEnter is RMI_REC_ENTER (Arm DEN0137 1.0-REL0 B4.3.14). Each one that
	// succeeds ends with a realm exit to the host.
	SMCRMIRecEnter = 0xC400_015C

	// RMM → EL3 interface (TF-A v2.12 include/services/rmmd_svc.h).
	SMCRMMGTSIDelegate      = 0xC400_01B0 // x1 = PA
	SMCRMMGTSIUndelegate    = 0xC400_01B1 // x1 = PA
	SMCRMMGetRealmAttestKey = 0xC400_01B2 // x1 = buf PA, x2 = buf size, x3 = curve → x1 = key length
	SMCRMMGetPlatToken      = 0xC400_01B3 // x1 = buf PA, x2 = buf size, x3 = hash size → x1 = hunk, x2 = remaining
	SMCRMMEL3Features       = 0xC400_01B4 // x1 = index → x1 = feature register
	SMCRMMBootComplete      = 0xC400_01CF // x1 = boot status
)

// RMM–EL3 status codes, returned in x0 as 64-bit two's complement
// (TF-RMM rmm-spec-v1.0-rel0 lib/rmm_el3_ifc/include/rmm_el3_ifc.h).
const (
	ERMMOK      uint64 = 0                     // E_RMM_OK
	ERMMUnk     uint64 = 0xFFFF_FFFF_FFFF_FFFF // E_RMM_UNK (-1)
	ERMMBadAddr uint64 = 0xFFFF_FFFF_FFFF_FFFE // E_RMM_BAD_ADDR (-2)
	ERMMBadPAS  uint64 = 0xFFFF_FFFF_FFFF_FFFD // E_RMM_BAD_PAS (-3)
	ERMMNoMem   uint64 = 0xFFFF_FFFF_FFFF_FFFC // E_RMM_NOMEM (-4)
	ERMMInval   uint64 = 0xFFFF_FFFF_FFFF_FFFB // E_RMM_INVAL (-5)
	ERMMAgain   uint64 = 0xFFFF_FFFF_FFFF_FFFA // E_RMM_AGAIN (-6)
)

// RMM_BOOT_COMPLETE statuses (TF-A v2.12 include/services/rmmd_svc.h;
// TF-RMM rmm-spec-v1.0-rel0 lib/rmm_el3_ifc/include/rmm_el3_ifc.h):
// E_RMM_BOOT_SUCCESS for a good boot; any other (E_RMM_BOOT_UNKNOWN_ERROR
// -1, E_RMM_BOOT_VERSION_NOT_VALID -2, …) is a failure.
const (
	BootSuccess      uint64 = 0
	BootUnknownError uint64 = 0xFFFF_FFFF_FFFF_FFFF // -1

	bootSuccess = BootSuccess
)

// AttestKeyCurveP384 is curve 0, ATTEST_KEY_CURVE_ECC_SECP384R1, the only
// curve of RMM_GET_REALM_ATTEST_KEY (TF-A v2.12 include/services/rmmd_svc.h;
// TF-RMM lib/attestation/src/attestation_key.c).
const AttestKeyCurveP384 = 0

// Platform token challenge sizes RMM_GET_PLAT_TOKEN accepts on a first call
// (SHA-256/384/512; TF-A services/std_svc/rmmd/rmmd_attest.c).
var validHashSizes = map[uint64]bool{32: true, 48: true, 64: true}

// rmiSuccess is the status byte of a successful RMI call: x0 = index<<8 |
// status (Arm DEN0137 1.0-REL0 B4.4 RmiCommandReturnCode).
const rmiSuccess = 0
