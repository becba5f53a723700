package token

import "fmt"

// Claim keys. EAT and PSA/CCA registered keys from token-formats.md §3 and
// cca-rmm-1.0.md §4 (TF-RMM rmm-spec-v1.0-rel0 attestation_defs_priv.h,
// veraison/psatoken swcomponent.go for the software component keys).
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

	// 2.0-profile claims (token-formats.md §1). Code points moved between
	// drafts of draft-ffm-rats-cca-token; these are the ones tf-m-tools and
	// the 2024 profiles use. They are surfaced by name but not interpreted.
	KeyRealmInstanceID       = 256
	KeyRealmMECPolicy        = 44243
	KeyPlatformClientID      = 2394
	KeyPlatformManufacturing = 2403
	KeyPlatformExtensions    = 2404
	KeyPlatformTBBRoTPK      = 2405
	KeyPlatformPeerSigners   = 2406

	// CoAP content-format of an EAT CWT, the type indicator of each entry
	// of the CMW collection (tag 907).
	ContentFormatEATCWT = 263
)

// Claim describes one claim key in one claims set.
type Claim struct {
	Key  int64
	Set  ClaimSet
	JSON string     // the member name in the evcli JSON form
	Name string     // a human name for inspection output
	Gen  Generation // the first generation that defines it
}

// claims is the one table of claim keys and names. JSON names follow
// veraison/evcli (token-formats.md §4); 2.0 names have no evcli form and
// follow the same pattern.
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
	{KeyPlatformManufacturing, SetPlatform, "cca-platform-manufacturing-config", "manufacturing config", Gen2},
	{KeyPlatformExtensions, SetPlatform, "cca-platform-extensions", "extensions", Gen2},
	{KeyPlatformTBBRoTPK, SetPlatform, "cca-platform-tbb-rotpk", "TBB RoT public key", Gen2},
	{KeyPlatformPeerSigners, SetPlatform, "cca-platform-peer-signers", "peer signers", Gen2},

	{KeyProfile, SetRealm, "cca-realm-profile", "profile", Gen1},
	{KeyChallenge, SetRealm, "cca-realm-challenge", "challenge", GenLegacy},
	{KeyRealmPersonalizationValue, SetRealm, "cca-realm-personalization-value", "personalization value (RPV)", GenLegacy},
	{KeyRealmHashAlgID, SetRealm, "cca-realm-hash-algo-id", "measurement hash algorithm", GenLegacy},
	{KeyRealmPubKey, SetRealm, "cca-realm-public-key", "realm attestation key (RAK)", GenLegacy},
	{KeyRealmInitialMeasurement, SetRealm, "cca-realm-initial-measurement", "initial measurement (RIM)", GenLegacy},
	{KeyRealmExtensibleMeas, SetRealm, "cca-realm-extensible-measurements", "extensible measurements (REMs)", GenLegacy},
	{KeyRealmPubKeyHashAlgID, SetRealm, "cca-realm-public-key-hash-algo-id", "RAK hash algorithm", GenLegacy},
	{KeyRealmInstanceID, SetRealm, "cca-realm-instance-id", "realm instance id", Gen2},
	{KeyRealmMECPolicy, SetRealm, "cca-realm-mec-policy", "MEC policy", Gen2},

	{KeySwMeasurementType, SetSwComponent, "measurement-type", "type", GenLegacy},
	{KeySwMeasurementValue, SetSwComponent, "measurement-value", "measurement", GenLegacy},
	{KeySwVersion, SetSwComponent, "version", "version", GenLegacy},
	{KeySwSignerID, SetSwComponent, "signer-id", "signer id", GenLegacy},
	{KeySwMeasurementDesc, SetSwComponent, "measurement-description", "hash algorithm", GenLegacy},
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
