package token

import "fmt"

// Generation is the generation of the claim sets, told by their profiles
// (token-formats.md §1).
type Generation int

const (
	// GenUnknown: no generation could be told.
	GenUnknown Generation = iota
	// GenLegacy: RMM 1.0-EAC5 / TF-M CCA-SSD. Platform profile
	// "http://arm.com/CCA-SSD/1.0.0", no realm profile, raw-point RAK.
	GenLegacy
	// Gen1: RMM 1.0-REL0, the 2023 profiles, COSE_Key RAK.
	Gen1
	// Gen2: the 2024 "2.0" profiles of the RMM 1.1/2.0 era drafts. Tolerated
	// on decode and reported as such; never treated as Gen1.
	Gen2
)

func (g Generation) String() string {
	switch g {
	case GenLegacy:
		return "legacy (RMM 1.0-EAC5, CCA-SSD)"
	case Gen1:
		return "RMM 1.0-REL0 (2023 profiles)"
	case Gen2:
		return "2.0 profiles (2024 drafts)"
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

// Profile is one known value of the EAT profile claim (265).
type Profile struct {
	Name string
	Set  ClaimSet
	Gen  Generation
}

// Profile strings as they appear in claim 265. token-formats.md §1; TF-RMM
// rmm-spec-v1.0-rel0 lib/attestation/src/attestation_defs_priv.h for the
// realm 1.0 profile; TF-A v2.12 fvp_plat_attest_token.c for the platform 1.0
// profile. The 2.0 platform profile is spelt two ways in the sources
// (veraison/ccatoken uses cca_platform, other drafts platform); both are
// known here, and which one a future final specification keeps is not.
const (
	ProfilePlatformLegacy = "http://arm.com/CCA-SSD/1.0.0"
	ProfilePlatform1      = "tag:arm.com,2023:cca_platform#1.0.0"
	ProfileRealm1         = "tag:arm.com,2023:realm#1.0.0"
	ProfilePlatform2      = "tag:arm.com,2024:cca_platform#2.0.0"
	ProfilePlatform2Alt   = "tag:arm.com,2024:platform#2.0.0"
	ProfileRealm2         = "tag:arm.com,2024:realm#2.0.0"
)

var profiles = [...]Profile{
	{ProfilePlatformLegacy, SetPlatform, GenLegacy},
	{ProfilePlatform1, SetPlatform, Gen1},
	{ProfileRealm1, SetRealm, Gen1},
	{ProfilePlatform2, SetPlatform, Gen2},
	{ProfilePlatform2Alt, SetPlatform, Gen2},
	{ProfileRealm2, SetRealm, Gen2},
}

// LookupProfile returns the known profile called name for the given claims
// set. An unknown string, or a profile of the other claims set, is an
// ErrProfile error: an unknown profile is never taken for a known one.
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
// claim" (the legacy realm token).
func ProfileFor(set ClaimSet, gen Generation) (string, error) {
	switch {
	case set == SetPlatform && gen == GenLegacy:
		return ProfilePlatformLegacy, nil
	case set == SetPlatform && gen == Gen1:
		return ProfilePlatform1, nil
	case set == SetPlatform && gen == Gen2:
		return ProfilePlatform2, nil
	case set == SetRealm && gen == GenLegacy:
		return "", nil
	case set == SetRealm && gen == Gen1:
		return ProfileRealm1, nil
	case set == SetRealm && gen == Gen2:
		return ProfileRealm2, nil
	}
	return "", fmt.Errorf("%w: no %s profile for generation %v", ErrProfile, set, gen)
}
