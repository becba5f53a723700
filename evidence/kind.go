package evidence

import (
	"fmt"

	"github.com/ccakit/cca/token"
)

// Kind says what shape a piece of evidence has: its wrapper, the profiles
// of its two claims sets (and so their generations), and two details that
// change its name.
type Kind struct {
	Wrapper  token.Wrapper
	Platform token.Generation
	// Realm is GenUnknown for a bare platform token.
	Realm token.Generation
	// PlatformProfile and RealmProfile are the profile claims as carried
	// ("" for a profile-less realm token, and for none).
	PlatformProfile string
	RealmProfile    string
	// Bare: a platform token alone, with no realm token.
	Bare bool
	// Legacy2: a profile-less (legacy) realm token carrying 2.0 claims
	// (realm instance id, MEC policy), as tf-m-tools' legacy samples do.
	Legacy2 bool
}

// pairing is one row of the coherence table: a platform profile with a
// realm profile, what to call it, and who emits it. Rows are matched on the
// profiles only: the wrapper is orthogonal to them (TF-RMM v0.9.0 and main
// switch between tag 907 and tag 399 with DOWNREV_CCA_TOKEN_TOP_FORMAT, and
// tf-m-tools wraps its legacy samples in tag 907).
type pairing struct {
	platform []string // any of these platform profiles
	realm    []string // any of these realm profiles; "" is none
	name     string
	// producers: real firmware emits it (Coherent). Otherwise draft names
	// the draft that defines it (Draft), or neither: an opt-in pairing.
	producers bool
	draft     string
	sources   string
}

var pairings = [...]pairing{
	{
		platform: []string{token.ProfilePlatformLegacy}, realm: []string{""},
		name:      "CCA-SSD platform profile, profile-less realm, raw-point RAK",
		producers: true,
		sources:   "TF-RMM v0.5.0 with TF-A ≤ v2.11's sample platform token; Islet RMM rsi/attestation; tf-m-tools cca_example_token_legacy.cbor (tag 907)",
	},
	{
		platform: []string{token.ProfilePlatform1}, realm: []string{token.ProfileRealm1},
		name:      "2023 platform profile, realm 1.0 profile",
		producers: true,
		sources:   "TF-RMM v0.6.0–v0.9.0 with TF-A ≥ v2.12's sample platform token; tf-m-tools at TF-Mv2.3.0",
	},
	{
		platform: []string{token.ProfilePlatform1}, realm: []string{token.ProfileRealm2},
		name:      "2023 platform profile, realm 2.0 profile",
		producers: true,
		sources:   "TF-RMM main 72aea692 with TF-A's sample platform token; tf-m-tools cca_example_token.cbor",
	},
	{
		platform: []string{token.ProfilePlatformLegacy}, realm: []string{token.ProfileRealm1},
		name:    "CCA-SSD platform profile, realm 1.0 profile",
		sources: "Veraison's CCA test evidence (services cca-good.cbor, ccatoken test vectors); no firmware pairs these profiles",
	},
	{
		platform: []string{token.ProfilePlatform2, token.ProfilePlatform2024v11, token.ProfilePlatform2024Direct}, realm: []string{token.ProfileRealm2},
		name:    "2024 platform profile, realm 2.0 profile",
		draft:   "draft-ffm-rats-cca-token-03",
		sources: "draft-ffm-rats-cca-token-03 §4.3.3; draft -04 §4.3.3 names these platform profiles as older values",
	},
	{
		platform: []string{token.ProfilePlatform2026, token.ProfilePlatform2026Delegated, token.ProfilePlatform2026HESRAK,
			token.ProfilePlatform2026v21, token.ProfilePlatform2026v21Deleg, token.ProfilePlatform2026v21HESRAK},
		realm:   []string{token.ProfileRealm2026},
		name:    "2026 platform profile, realm 2026 profile",
		draft:   "draft-ffm-rats-cca-token-04",
		sources: "draft-ffm-rats-cca-token-04 §4.3.3, §4.8.1, §5",
	},
}

// Pairing describes one row of the coherence table, for documentation
// and reports.
type Pairing struct {
	PlatformProfiles []string
	RealmProfiles    []string // "" is a profile-less realm token
	Name             string
	Coherent         bool   // real firmware emits it
	Draft            string // the draft that defines it, when no producer emits it
	Sources          string
}

// Pairings returns the coherence table.
func Pairings() []Pairing {
	out := make([]Pairing, len(pairings))
	for i, p := range pairings {
		out[i] = Pairing{append([]string(nil), p.platform...), append([]string(nil), p.realm...), p.name, p.producers, p.draft, p.sources}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// row finds the pairing of the kind's profiles, or nil.
func (k Kind) row() *pairing {
	if k.Bare {
		return nil
	}
	for i := range pairings {
		p := &pairings[i]
		if contains(p.platform, k.PlatformProfile) && contains(p.realm, k.RealmProfile) && k.knownProfiles() {
			return p
		}
	}
	return nil
}

// knownProfiles reports whether the profiles are known for their sets
// (a realm profile of "" is the legacy token).
func (k Kind) knownProfiles() bool {
	if k.Platform == token.GenUnknown {
		return false
	}
	return k.Bare || k.Realm != token.GenUnknown
}

// bareProfile finds the platform profile of a bare platform token.
func (k Kind) bareProfile() (token.Profile, bool) {
	p, err := token.LookupProfile(k.PlatformProfile, token.SetPlatform)
	return p, err == nil
}

// Coherent reports whether the pairing of profiles is one that real
// producers emit (the table above, each row with its source), whatever the
// wrapper: for a bare platform token, whether its profile is one real
// platform firmware emits. The tf-m-tools hybrid (a legacy realm token
// carrying 2.0 claims) counts as the legacy pairing: its extra claims are
// claims the legacy profile does not define, which RejectUnknownClaims
// refuses.
func (k Kind) Coherent() bool {
	if k.Bare {
		p, ok := k.bareProfile()
		return ok && p.Producer()
	}
	r := k.row()
	return r != nil && r.producers
}

// Draft reports shapes that only a draft of draft-ffm-rats-cca-token
// defines and no producer emits: the 2024 platform profiles of draft -03
// with the 2.0 realm profile, the 2026 profiles of draft -04 (including the
// ;delegated, ;HESRAK and ;direct variants, and the workload binding claim
// 2408 they carry), and a bare platform token of such a profile. They
// decode and are named; Validate refuses them unless
// ValidateOptions.AllowDraft is set.
func (k Kind) Draft() bool {
	if k.Bare {
		p, ok := k.bareProfile()
		return ok && !p.Producer()
	}
	r := k.row()
	return r != nil && r.draft != ""
}

// Sources says who emits (or defines) the kind's pairing, "" when no row
// of the table matches.
func (k Kind) Sources() string {
	if k.Bare {
		if p, ok := k.bareProfile(); ok {
			return p.Source
		}
		return ""
	}
	if r := k.row(); r != nil {
		return r.sources
	}
	return ""
}

func (k Kind) String() string {
	if k.Bare {
		p, ok := k.bareProfile()
		switch {
		case !ok:
			return fmt.Sprintf("bare platform token with an unknown profile %q", k.PlatformProfile)
		case !p.Producer():
			return fmt.Sprintf("bare platform token, %s profile %q (no producer emits it)", p.Draft, k.PlatformProfile)
		}
		return "bare platform token, " + profileName(p)
	}
	r := k.row()
	if r == nil {
		return fmt.Sprintf("mixed or unknown: %v with a %v platform token (profile %q) and a %v realm token (%s)",
			k.Wrapper, k.Platform, k.PlatformProfile, k.Realm, realmProfileText(k.RealmProfile))
	}
	var s string
	switch {
	// The three kinds RMM 1.0 defines keep the names they have always had.
	case r.producers && k.Platform == token.GenLegacy && k.Wrapper == token.Wrapper399:
		s = "legacy (RMM 1.0-EAC5): tag 399, CCA-SSD platform profile, profile-less realm, raw-point RAK"
	case r.producers && k.Realm == token.Gen1 && k.Wrapper == token.Wrapper399:
		s = "RMM 1.0-REL0: tag 399, 2023 profiles, COSE_Key RAK"
	case r.producers && k.Realm == token.Gen1:
		s = "CMW collection (tag 907) with 2023 (1.0) profiles"
	case r.producers && k.Platform == token.GenLegacy:
		s = "legacy tokens in a CMW collection (tag 907): CCA-SSD platform profile, profile-less realm, raw-point RAK"
	case k.Wrapper == token.Wrapper907:
		s = "CMW collection, " + r.name
	default:
		s = "tag 399 collection, " + r.name
	}
	switch {
	case r.draft != "":
		s = fmt.Sprintf("%s (shape of %s; no producer emits it)", s, r.draft)
	case !r.producers:
		s += " (Veraison's test evidence; no firmware emits this pairing)"
	}
	if k.Legacy2 {
		s += "; the realm token carries 2.0 claims no legacy profile defines (tf-m-tools' legacy samples)"
	}
	return s
}

func profileName(p token.Profile) string {
	switch p.Gen {
	case token.GenLegacy:
		return "CCA-SSD platform profile"
	case token.Gen1:
		return "2023 platform profile"
	}
	return fmt.Sprintf("platform profile %q", p.Name)
}

func realmProfileText(p string) string {
	if p == "" {
		return "no profile"
	}
	return fmt.Sprintf("profile %q", p)
}

// Err says why evidence of this kind is refused by default, or nil when it
// is coherent. Each error wraps token.ErrProfile and names the shape.
func (k Kind) Err() error {
	switch {
	case k.Coherent():
		return nil
	case k.Draft():
		return fmt.Errorf("%w: %v: draft shapes are refused by default (no producer emits them; allow drafts to accept them)", token.ErrProfile, k)
	case !k.Bare && k.row() != nil:
		return fmt.Errorf("%w: %v: an opt-in pairing, refused by default (allow mixed profiles to accept it)", token.ErrProfile, k)
	}
	return fmt.Errorf("%w: %v", token.ErrProfile, k)
}
