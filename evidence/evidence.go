// Package evidence puts the token layer together: it decodes a CCA evidence
// collection into its two signed claims sets, says which generation it is,
// validates them, and creates evidence of each generation.
//
// Verifying evidence (the signatures, the binding of the realm key to the
// platform, freshness) and appraising it against trust anchors, reference
// values and a policy is the verifier package's Verifier.Verify, the one
// verification a relying party embeds. This package gives it the decoded
// parts: Evidence.PlatformSign1 and RealmSign1 (token.Sign1.Verify),
// Evidence.Realm.RAK, and the claims that token.CheckBinding and
// token.CheckFreshness compare.
package evidence

import (
	"fmt"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Evidence is a decoded CCA evidence collection.
type Evidence struct {
	Collection    *token.Collection
	PlatformSign1 *token.Sign1
	RealmSign1    *token.Sign1
	Platform      *platform.Claims
	Realm         *realm.Claims
}

// Decode parses evidence strictly: the collection, both COSE_Sign1
// envelopes, and both claims sets. It does not validate the claims (see
// Validate) nor check any signature (verifier.Verifier.Verify does).
func Decode(data []byte) (*Evidence, error) {
	coll, err := token.DecodeCollection(data)
	if err != nil {
		return nil, err
	}
	e := &Evidence{Collection: coll}
	if e.PlatformSign1, err = token.DecodeSign1(coll.Platform, "platform token"); err != nil {
		return nil, err
	}
	if e.RealmSign1, err = token.DecodeSign1(coll.Realm, "realm token"); err != nil {
		return nil, err
	}
	if e.Platform, err = platform.Decode(e.PlatformSign1.Payload); err != nil {
		return nil, fmt.Errorf("platform token: %w", err)
	}
	if e.Realm, err = realm.Decode(e.RealmSign1.Payload); err != nil {
		return nil, fmt.Errorf("realm token: %w", err)
	}
	return e, nil
}

// Kind says which generation a piece of evidence is.
type Kind struct {
	Wrapper  token.Wrapper
	Platform token.Generation
	Realm    token.Generation
}

// Kind reports the wrapper and the generations of the two claims sets.
func (e *Evidence) Kind() Kind {
	return Kind{Wrapper: e.Collection.Wrapper, Platform: e.Platform.Generation(), Realm: e.Realm.Generation()}
}

// Coherent reports whether wrapper and profiles belong to one generation:
// legacy profiles in a tag-399 collection, 2023 profiles in either wrapper,
// 2.0 profiles in either wrapper.
func (k Kind) Coherent() bool {
	if k.Platform != k.Realm || k.Platform == token.GenUnknown {
		return false
	}
	return !(k.Platform == token.GenLegacy && k.Wrapper != token.Wrapper399)
}

func (k Kind) String() string {
	if !k.Coherent() {
		return fmt.Sprintf("mixed or unknown: %v with a %v platform token and a %v realm token", k.Wrapper, k.Platform, k.Realm)
	}
	switch {
	case k.Platform == token.GenLegacy:
		return "legacy (RMM 1.0-EAC5): tag 399, CCA-SSD platform profile, profile-less realm, raw-point RAK"
	case k.Platform == token.Gen1 && k.Wrapper == token.Wrapper399:
		return "RMM 1.0-REL0: tag 399, 2023 profiles, COSE_Key RAK"
	case k.Platform == token.Gen1:
		return "CMW collection (tag 907) with 2023 (1.0) profiles"
	case k.Wrapper == token.Wrapper907:
		return "CMW collection (tag 907) with 2.0 profiles"
	}
	return "tag 399 collection with 2.0 profiles"
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// RejectUnknownClaims fails on claim keys the profiles do not define.
	RejectUnknownClaims bool
	// AllowMixedProfilesUnsafe accepts a platform and a realm token of
	// different generations (or legacy claims in a CMW wrapper).
	AllowMixedProfilesUnsafe bool
}

// Validate checks both claims sets and their coherence.
func (e *Evidence) Validate(opts ValidateOptions) error {
	if err := e.Platform.Validate(platform.ValidateOptions{RejectUnknownClaims: opts.RejectUnknownClaims}); err != nil {
		return fmt.Errorf("platform token: %w", err)
	}
	if err := e.Realm.Validate(realm.ValidateOptions{RejectUnknownClaims: opts.RejectUnknownClaims}); err != nil {
		return fmt.Errorf("realm token: %w", err)
	}
	if k := e.Kind(); !k.Coherent() && !opts.AllowMixedProfilesUnsafe {
		return fmt.Errorf("%w: %v", token.ErrProfile, k)
	}
	return nil
}
