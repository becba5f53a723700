package token

import "fmt"

// Generation is the generation of a claims set, told by its profile (claim
// 265). Generations are ordered: a claim defined "since" a generation is
// defined by every later one (the "Compatibility" paragraphs of
// draft-ffm-rats-cca-token-04 §4.4–§4.8 are written that way).
type Generation int

const (
	// GenUnknown: no generation could be told.
	GenUnknown Generation = iota
	// GenLegacy: RMM 1.0-EAC5 / TF-M CCA-SSD. Platform profile
	// "http://arm.com/CCA-SSD/1.0.0", no realm profile, raw-point RAK.
	GenLegacy
	// Gen1: RMM 1.0-REL0, the 2023 profiles, COSE_Key RAK.
	Gen1
	// Gen2: the 2024 "2.0" profiles: the realm profile TF-RMM main emits
	// (tag:arm.com,2024:realm#2.0.0) and the platform profiles of
	// draft-ffm-rats-cca-token-03.
	Gen2
	// Gen2026: the 2026 profiles of draft-ffm-rats-cca-token-04, bound by
	// the workload binding claim 2408. No producer emits them.
	Gen2026
)

func (g Generation) String() string {
	switch g {
	case GenLegacy:
		return "legacy (RMM 1.0-EAC5, CCA-SSD)"
	case Gen1:
		return "RMM 1.0-REL0 (2023 profiles)"
	case Gen2:
		return "2.0 (2024 profiles)"
	case Gen2026:
		return "draft -04 (2026 profiles)"
	}
	return "unknown"
}

// ClaimSet names which claims set a profile or claim belongs to.
type ClaimSet int

const (
	SetPlatform ClaimSet = iota + 1
	SetRealm
	SetSwComponent
)

func (s ClaimSet) String() string {
	switch s {
	case SetPlatform:
		return "platform"
	case SetRealm:
		return "realm"
	case SetSwComponent:
		return "software component"
	}
	return "unknown"
}

// BindingModel is how the platform token vouches for the realm token.
type BindingModel int

const (
	// BindingDelegated: the platform challenge (claim 10, or the workload
	// binding claim 2408 under the 2026 profiles) is the hash of the realm
	// token's RAK claim (draft-ffm-rats-cca-token-04 §4.10, the reference
	// model every producer uses).
	BindingDelegated BindingModel = iota
	// BindingDirect: the platform binds the hash of the unsigned realm
	// claims set (draft -04 §4.10 "Direct Model").
	BindingDirect
	// BindingHESRAK: the RAK is held by the platform RoT; claim 10 carries
	// the realm challenge (draft -04 §4.3.3.10).
	BindingHESRAK
)

func (b BindingModel) String() string {
	return [...]string{"delegated", "direct", "HESRAK"}[b]
}

// Profile is one known value of the EAT profile claim (265).
type Profile struct {
	Name string
	Set  ClaimSet
	Gen  Generation
	// Binding is the binding model the profile names.
	Binding BindingModel
	// Draft is empty for a profile real producers emit, else the document
	// that defines it (no producer emits it).
	Draft string
	// Source is where the profile string was checked.
	Source string
}

// Producer reports whether real firmware emits tokens of this profile.
func (p Profile) Producer() bool { return p.Draft == "" }

// Profile strings as they appear in claim 265.
const (
	// ProfilePlatformLegacy: TF-A ≤ v2.11 plat/arm/board/fvp sample
	// platform token; TF-M CCA-SSD.
	ProfilePlatformLegacy = "http://arm.com/CCA-SSD/1.0.0"
	// ProfilePlatform1: TF-A ≥ v2.12 plat/arm/board/fvp/fvp_plat_attest_token.c
	// (the platform token TF-RMM up to main receives from EL3).
	ProfilePlatform1 = "tag:arm.com,2023:cca_platform#1.0.0"
	// ProfileRealm1: TF-RMM v0.6.0–v0.9.0
	// lib/attestation/src/attestation_defs_priv.h.
	ProfileRealm1 = "tag:arm.com,2023:realm#1.0.0"
	// ProfilePlatform2: draft-ffm-rats-cca-token-03 §4.3.3.
	ProfilePlatform2 = "tag:arm.com,2024:cca_platform#2.0.0"
	// ProfileRealm2: TF-RMM main (72aea692, "RMM spec 2.0-bet2")
	// app/attestation/el0_app/src/attestation_defs_priv.h.
	ProfileRealm2 = "tag:arm.com,2024:realm#2.0.0"
	// ProfileRealm2026: draft-ffm-rats-cca-token-04 §4.8.1.
	ProfileRealm2026 = "tag:arm.com,2026:realm#2.0.0"
	// ProfilePlatform2026 and its variants: draft-ffm-rats-cca-token-04
	// §4.3.3 and §5 (arm-platform-profile-type).
	ProfilePlatform2026          = "tag:arm.com,2026:cca_platform#2.0.0"
	ProfilePlatform2026Delegated = "tag:arm.com,2026:cca_platform#2.0.0;delegated"
	ProfilePlatform2026HESRAK    = "tag:arm.com,2026:cca_platform#2.0.0;HESRAK"
	ProfilePlatform2026Direct    = "tag:arm.com,2026:cca_platform#2.0.0;direct"
	ProfilePlatform2026v21       = "tag:arm.com,2026:cca_platform#2.1.0"
	ProfilePlatform2026v21Deleg  = "tag:arm.com,2026:cca_platform#2.1.0;delegated"
	ProfilePlatform2026v21HESRAK = "tag:arm.com,2026:cca_platform#2.1.0;HESRAK"
	ProfilePlatform2026v21Direct = "tag:arm.com,2026:cca_platform#2.1.0;direct"
	// Older values draft -04 §4.3.3 still names.
	ProfilePlatform2024v11    = "tag:arm.com,2024:cca_platform#1.1.0"
	ProfilePlatform2024Direct = "tag:arm.com,2024:cca_platform#2.0.0;direct"
)

const (
	draft03 = "draft-ffm-rats-cca-token-03"
	draft04 = "draft-ffm-rats-cca-token-04"
)

// profiles is the one table of profile values. "tag:arm.com,2024:platform#2.0.0",
// which an earlier version of this table knew, is spelt by no source and is
// an unknown profile.
var profiles = [...]Profile{
	{ProfilePlatformLegacy, SetPlatform, GenLegacy, BindingDelegated, "", "TF-A v2.11 fvp_plat_attest_token.c; tf-m-tools cca_example_platform_token_legacy.cbor"},
	{ProfilePlatform1, SetPlatform, Gen1, BindingDelegated, "", "TF-A v2.12+ fvp_plat_attest_token.c, qemu_plat_attest_token.c"},
	{ProfileRealm1, SetRealm, Gen1, BindingDelegated, "", "TF-RMM v0.6.0–v0.9.0 attestation_defs_priv.h"},
	{ProfileRealm2, SetRealm, Gen2, BindingDelegated, "", "TF-RMM main 72aea692 attestation_defs_priv.h"},
	{ProfilePlatform2, SetPlatform, Gen2, BindingDelegated, draft03, draft03 + " §4.3.3"},
	{ProfilePlatform2024v11, SetPlatform, Gen2, BindingDelegated, draft04, draft04 + " §4.3.3 (older value)"},
	{ProfilePlatform2024Direct, SetPlatform, Gen2, BindingDirect, draft04, draft04 + " §4.3.3 (older value)"},
	{ProfileRealm2026, SetRealm, Gen2026, BindingDelegated, draft04, draft04 + " §4.8.1"},
	{ProfilePlatform2026, SetPlatform, Gen2026, BindingDelegated, draft04, draft04 + " §5"},
	{ProfilePlatform2026Delegated, SetPlatform, Gen2026, BindingDelegated, draft04, draft04 + " §5"},
	{ProfilePlatform2026HESRAK, SetPlatform, Gen2026, BindingHESRAK, draft04, draft04 + " §5"},
	{ProfilePlatform2026Direct, SetPlatform, Gen2026, BindingDirect, draft04, draft04 + " §5"},
	{ProfilePlatform2026v21, SetPlatform, Gen2026, BindingDelegated, draft04, draft04 + " §5"},
	{ProfilePlatform2026v21Deleg, SetPlatform, Gen2026, BindingDelegated, draft04, draft04 + " §5"},
	{ProfilePlatform2026v21HESRAK, SetPlatform, Gen2026, BindingHESRAK, draft04, draft04 + " §5"},
	{ProfilePlatform2026v21Direct, SetPlatform, Gen2026, BindingDirect, draft04, draft04 + " §5"},
}

// LookupProfile returns the known profile called name for the given claims
// set. An unknown string, or a profile of the other claims set, is an
// ErrProfile error: an unknown profile is never taken for a known one. The
// profile string is quoted (escaped) in the message.
func LookupProfile(name string, set ClaimSet) (Profile, error) {
	for _, p := range profiles {
		if p.Name == name {
			if p.Set != set {
				return Profile{}, fmt.Errorf("%w: %q is a %s profile, found in a %s token", ErrProfile, name, p.Set, set)
			}
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w: unknown %s profile %q", ErrProfile, set, name)
}

// Profiles lists the known profiles.
func Profiles() []Profile { return profiles[:] }

// ProfileFor returns the profile string a claims set of the given generation
// carries when this package creates it; the empty string means "no profile
// claim" (the legacy realm token). Gen2 is the realm profile TF-RMM main
// emits and draft -03's platform profile; Gen2026 the plain 2026 profiles of
// draft -04.
func ProfileFor(set ClaimSet, gen Generation) (string, error) {
	switch {
	case set == SetPlatform && gen == GenLegacy:
		return ProfilePlatformLegacy, nil
	case set == SetPlatform && gen == Gen1:
		return ProfilePlatform1, nil
	case set == SetPlatform && gen == Gen2:
		return ProfilePlatform2, nil
	case set == SetPlatform && gen == Gen2026:
		return ProfilePlatform2026, nil
	case set == SetRealm && gen == GenLegacy:
		return "", nil
	case set == SetRealm && gen == Gen1:
		return ProfileRealm1, nil
	case set == SetRealm && gen == Gen2:
		return ProfileRealm2, nil
	case set == SetRealm && gen == Gen2026:
		return ProfileRealm2026, nil
	}
	return "", fmt.Errorf("%w: no %s profile for generation %v", ErrProfile, set, gen)
}
