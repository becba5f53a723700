package verifier

import (
	"slices"
	"strings"

	cose "github.com/veraison/go-cose"
)

// Policy decides what the verifier accepts. The zero value is the safe
// default: every check must pass, reference values must be provisioned for
// the platform and the realm, a nonce must be given, the platform must be in
// the secured lifecycle state and the two tokens must be a pairing of
// profiles real producers emit. Fields that weaken a check end in Unsafe;
// the others tighten.
type Policy struct {
	// AllowMissingNonceUnsafe accepts Verify without a nonce: the realm's
	// freshness is then not checked and a replayed token is accepted.
	AllowMissingNonceUnsafe bool

	// AllowNonCCAPlatformDebugUnsafe accepts the non-CCA-platform debug
	// lifecycle state (0x4000-0x40ff): the CCA platform root of trust is
	// intact, but debug is enabled outside it.
	AllowNonCCAPlatformDebugUnsafe bool

	// AllowDebugLifecycleUnsafe accepts both debug lifecycle states:
	// non-CCA-platform debug and recoverable CCA-platform debug
	// (0x5000-0x50ff), where the platform root of trust itself can be
	// debugged. For development boards only.
	AllowDebugLifecycleUnsafe bool

	// AllowMixedProfilesUnsafe accepts a pairing of platform and realm
	// profiles that no firmware emits (evidence.Kind.Coherent): Veraison's
	// test evidence (CCA-SSD platform, 2023 realm) and unknown pairings.
	AllowMixedProfilesUnsafe bool

	// AllowDraftProfilesUnsafe accepts the shapes of
	// draft-ffm-rats-cca-token that no producer emits yet
	// (evidence.Kind.Draft: the 2024 platform profiles of draft -03, the
	// 2026 profiles of draft -04 with the workload binding claim).
	AllowDraftProfilesUnsafe bool

	// AllowMeasurementSizeMismatchUnsafe accepts a RIM and REMs whose size
	// is a digest size but not that of the realm's measurement algorithm
	// (realm.ValidateOptions.AllowMeasurementSizeMismatch): the 64-byte
	// measurements labelled sha-256 of Veraison's test evidence and evcli's
	// template. No RMM emits them. A realm reference value labelled with
	// the algorithm of the RIM's size (sha-512 for 64 bytes, as Veraison's
	// realm endorsements label it) then matches such a realm; stores must
	// still label their own digests rightly.
	AllowMeasurementSizeMismatchUnsafe bool

	// AllowUnknownPlatformUnsafe accepts a platform for whose
	// implementation id no reference value is provisioned: its
	// configuration and firmware are then not checked, and only the
	// signature by a trusted CPAK and the lifecycle vouch for it. A
	// platform that a reference value knows must match it regardless.
	AllowUnknownPlatformUnsafe bool

	// AllowUnknownRealmUnsafe accepts a realm whose RIM no reference value
	// knows: its RIM, RPV and REMs are then not checked. A realm that a
	// reference value knows must match it regardless.
	AllowUnknownRealmUnsafe bool

	// RequireMECPolicy fails a realm whose MEC policy (claim 44243) no
	// reference value pins (RealmReference.MECPolicy); by default the MEC
	// policy is checked only where a reference value pins it.
	RequireMECPolicy bool

	// RequireREMs fails a realm whose reference value does not give the
	// four REMs (by default REMs are checked only when provisioned).
	RequireREMs bool

	// RejectUnknownClaims fails tokens with claims their profile does not
	// define.
	RejectUnknownClaims bool

	// Algorithms is the allow-list of COSE signature algorithms for both
	// tokens; nil means token.DefaultAlgorithms (ES256, ES384, ES512). Each
	// signature's algorithm is pinned to its key regardless.
	Algorithms []cose.Algorithm
}

// weakenings lists the Unsafe fields that are set, by name.
func (p *Policy) weakenings() []string {
	var w []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{p.AllowMissingNonceUnsafe, "AllowMissingNonceUnsafe"},
		{p.AllowNonCCAPlatformDebugUnsafe, "AllowNonCCAPlatformDebugUnsafe"},
		{p.AllowDebugLifecycleUnsafe, "AllowDebugLifecycleUnsafe"},
		{p.AllowMixedProfilesUnsafe, "AllowMixedProfilesUnsafe"},
		{p.AllowDraftProfilesUnsafe, "AllowDraftProfilesUnsafe"},
		{p.AllowMeasurementSizeMismatchUnsafe, "AllowMeasurementSizeMismatchUnsafe"},
		{p.AllowUnknownPlatformUnsafe, "AllowUnknownPlatformUnsafe"},
		{p.AllowUnknownRealmUnsafe, "AllowUnknownRealmUnsafe"},
	} {
		if f.on {
			w = append(w, f.name)
		}
	}
	return w
}

// DefaultPolicyID is the ID of the zero Policy.
const DefaultPolicyID = "ccakit-verifier/default"

// ID names the policy for results and EAR's ear.appraisal-policy-id:
// "ccakit-verifier/default", followed by "+Name" for each tightening or
// weakening field that is set, so a consumer of the result sees what was
// waived.
func (p *Policy) ID() string {
	parts := []string{DefaultPolicyID}
	parts = append(parts, p.weakenings()...)
	if p.RequireREMs {
		parts = append(parts, "RequireREMs")
	}
	if p.RequireMECPolicy {
		parts = append(parts, "RequireMECPolicy")
	}
	if p.RejectUnknownClaims {
		parts = append(parts, "RejectUnknownClaims")
	}
	if p.Algorithms != nil {
		names := make([]string, len(p.Algorithms))
		for i, a := range p.Algorithms {
			names[i] = a.String()
		}
		parts = append(parts, "Algorithms="+strings.Join(names, ","))
	}
	return strings.Join(parts, "+")
}

func (p Policy) clone() Policy {
	p.Algorithms = slices.Clone(p.Algorithms)
	return p
}
