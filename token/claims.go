package token

import "fmt"

// Claim keys. EAT and PSA/CCA registered keys: Arm DEN0137 RMM 1.0-REL0
// A7.2 (TF-RMM rmm-spec-v1.0-rel0 lib/attestation/src/attestation_defs_priv.h),
// draft-ffm-rats-cca-token-04 §5, veraison/psatoken swcomponent.go for the
// software component keys.
const (
	// Collection (top-level map) keys.
	KeyPlatformToken = 44234
	KeyRealmToken    = 44241

	// Shared by both claims sets.
	KeyProfile   = 265
	KeyChallenge = 10

	// Platform claims.
	KeyImplementationID    = 2396
	KeyInstanceID          = 256
	KeyPlatformConfig      = 2401
	KeyLifecycle           = 2395
	KeySwComponents        = 2399
	KeyVerificationService = 2400
	KeyPlatformHashAlgID   = 2402

	// Realm claims.
	KeyRealmPersonalizationValue = 44235
	KeyRealmHashAlgID            = 44236
	KeyRealmPubKey               = 44237
	KeyRealmInitialMeasurement   = 44238
	KeyRealmExtensibleMeas       = 44239
	KeyRealmPubKeyHashAlgID      = 44240

	// Software component keys (inside claim 2399).
	KeySwMeasurementType  = 1
	KeySwMeasurementValue = 2
	KeySwVersion          = 4
	KeySwSignerID         = 5
	KeySwMeasurementDesc  = 6

	// 2.0 claims (draft-ffm-rats-cca-token-04 §4.4–§4.8; TF-RMM main
	// 72aea692 emits the realm instance id and the MEC policy).
	KeyRealmInstanceID         = 256
	KeyRealmMECPolicy          = 44243
	KeyRealmLFAPolicy          = 44244
	KeyRealmDevicesTokenHash   = 44257
	KeyPlatformClientID        = 2394
	KeyPlatformManufacturing   = 2403
	KeyPlatformExtension       = 2404
	KeyPlatformTBBRoTPK        = 2405
	KeyPlatformPeerSigners     = 2406
	KeyPlatformDiscreteTPM     = 2407
	KeyPlatformWorkloadBinding = 2408
	KeySwLFASupported          = 7
	KeySwCountersigners        = 8

	// CoAP content-format of an EAT CWT, the type indicator of each entry
	// of the CMW collection (tag 907).
	ContentFormatEATCWT = 263
)

// Claim describes one claim key in one claims set.
type Claim struct {
	Key  int64
	Set  ClaimSet
	JSON string // the member name in the JSON form
	Name string // a human name for inspection output
	// Gen is the first generation whose profiles define the claim; every
	// later one defines it too.
	Gen Generation
}

// claims is the one table of claim keys and names. JSON names follow
// veraison/evcli (cca create templates; veraison/ccatoken platform/claims.go,
// realm/claims.go) for the 1.0 claims, and the claim
// names of draft-ffm-rats-cca-token-04 §5 (arm-platform-* as cca-platform-*,
// as veraison/ccatoken's 2.0 branch spells them) for the others.
//
// Gen follows the "Compatibility" paragraph of each claim in draft -04 §4,
// and what producers emit: the MEC policy is in TF-RMM v0.8.0/v0.9.0 tokens
// with the 2023 realm profile (as text), so the 2023 realm profile carries
// it; the platform extension claim is "2026:cca_platform#2.1.0 or newer",
// kept here as the 2026 generation. Software component keys 7 and 8 appear
// with draft -04 and have no compatibility paragraph: 2026.
var claims = [...]Claim{
	{KeyProfile, SetPlatform, "cca-platform-profile", "profile", GenLegacy},
	{KeyChallenge, SetPlatform, "cca-platform-challenge", "challenge (RAK hash)", GenLegacy},
	{KeyImplementationID, SetPlatform, "cca-platform-implementation-id", "implementation id", GenLegacy},
	{KeyInstanceID, SetPlatform, "cca-platform-instance-id", "instance id", GenLegacy},
	{KeyPlatformConfig, SetPlatform, "cca-platform-config", "platform config", GenLegacy},
	{KeyLifecycle, SetPlatform, "cca-platform-lifecycle", "security lifecycle", GenLegacy},
	{KeySwComponents, SetPlatform, "cca-platform-sw-components", "software components", GenLegacy},
	{KeyVerificationService, SetPlatform, "cca-platform-service-indicator", "verification service", GenLegacy},
	{KeyPlatformHashAlgID, SetPlatform, "cca-platform-hash-algo-id", "hash algorithm", GenLegacy},
	{KeyPlatformClientID, SetPlatform, "cca-platform-client-id", "client id", Gen2},
	{KeyPlatformManufacturing, SetPlatform, "cca-platform-manufacturing-config", "manufacturing config", Gen1},
	{KeyPlatformExtension, SetPlatform, "cca-platform-extension", "platform extension (devices)", Gen2026},
	{KeyPlatformTBBRoTPK, SetPlatform, "cca-platform-tbb-rotpk", "TBB RoT public keys", Gen2},
	{KeyPlatformPeerSigners, SetPlatform, "cca-platform-peer-signers", "peer signers", Gen2},
	{KeyPlatformDiscreteTPM, SetPlatform, "cca-platform-discrete-tpm-binding-data", "discrete TPM binding data", Gen2},
	{KeyPlatformWorkloadBinding, SetPlatform, "cca-platform-workload-binding", "workload binding", Gen2026},

	{KeyProfile, SetRealm, "cca-realm-profile", "profile", Gen1},
	{KeyChallenge, SetRealm, "cca-realm-challenge", "challenge", GenLegacy},
	{KeyRealmPersonalizationValue, SetRealm, "cca-realm-personalization-value", "personalization value (RPV)", GenLegacy},
	{KeyRealmHashAlgID, SetRealm, "cca-realm-hash-algo-id", "measurement hash algorithm", GenLegacy},
	{KeyRealmPubKey, SetRealm, "cca-realm-public-key", "realm attestation key (RAK)", GenLegacy},
	{KeyRealmInitialMeasurement, SetRealm, "cca-realm-initial-measurement", "initial measurement (RIM)", GenLegacy},
	{KeyRealmExtensibleMeas, SetRealm, "cca-realm-extensible-measurements", "extensible measurements (REMs)", GenLegacy},
	{KeyRealmPubKeyHashAlgID, SetRealm, "cca-realm-public-key-hash-algo-id", "RAK hash algorithm", GenLegacy},
	{KeyRealmInstanceID, SetRealm, "cca-realm-instance-id", "realm instance id", Gen2},
	{KeyRealmMECPolicy, SetRealm, "cca-realm-mec-policy", "MEC policy", Gen1},
	{KeyRealmLFAPolicy, SetRealm, "cca-realm-lfa-policy", "LFA policy", Gen1},
	{KeyRealmDevicesTokenHash, SetRealm, "cca-realm-devices-token-hash", "devices token hash", Gen2},

	{KeySwMeasurementType, SetSwComponent, "measurement-type", "type", GenLegacy},
	{KeySwMeasurementValue, SetSwComponent, "measurement-value", "measurement", GenLegacy},
	{KeySwVersion, SetSwComponent, "version", "version", GenLegacy},
	{KeySwSignerID, SetSwComponent, "signer-id", "signer id", GenLegacy},
	{KeySwMeasurementDesc, SetSwComponent, "measurement-description", "hash algorithm", GenLegacy},
	{KeySwLFASupported, SetSwComponent, "lfa-supported", "live firmware activation supported", Gen2026},
	{KeySwCountersigners, SetSwComponent, "countersigner-ids", "countersigner ids", Gen2026},
}

// Defines reports whether a claims set of generation gen defines claim key
// of set.
func Defines(set ClaimSet, gen Generation, key int64) bool {
	c, ok := LookupClaim(set, key)
	return ok && gen != GenUnknown && c.Gen <= gen
}

// LookupClaim returns the table entry for key in set.
func LookupClaim(set ClaimSet, key int64) (Claim, bool) {
	for _, c := range claims {
		if c.Set == set && c.Key == key {
			return c, true
		}
	}
	return Claim{}, false
}

// ClaimName is "name (key)" for a known claim and "claim key" otherwise, the
// form every error message uses to point at a claim.
func ClaimName(set ClaimSet, key int64) string {
	if c, ok := LookupClaim(set, key); ok {
		return fmt.Sprintf("%s claim %d (%s)", set, key, c.JSON)
	}
	return fmt.Sprintf("%s claim %d", set, key)
}
