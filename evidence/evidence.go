// Package evidence puts the token layer together: it decodes a CCA evidence
// collection into its two signed claims sets (or a bare platform token),
// names its shape (Kind: the wrapper and the pairing of profiles, checked
// against a table of what producers emit), validates it, and creates
// evidence of each generation.
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

// Evidence is a decoded CCA evidence collection, or a bare platform token:
// then Realm and RealmSign1 are nil and Collection.Wrapper is
// token.WrapperNone.
type Evidence struct {
	Collection    *token.Collection
	PlatformSign1 *token.Sign1
	RealmSign1    *token.Sign1
	Platform      *platform.Claims
	Realm         *realm.Claims
}

// Decode parses evidence strictly: the collection (tag 399 or 907), both
// COSE_Sign1 envelopes, and both claims sets; or a bare platform token,
// one COSE_Sign1 (tag 18, or untagged as RFC 9052 §4.2 allows where the
// context says what it is), as TF-A, TF-RMM and tf-m-tools ship it. It does
// not validate the claims (see Validate) nor check any signature
// (verifier.Verifier.Verify does).
func Decode(data []byte) (*Evidence, error) {
	if isBareSign1(data) {
		return decodeBare(data)
	}
	coll, err := token.DecodeCollection(data)
	if err != nil {
		return nil, err
	}
	e := &Evidence{Collection: coll}
	if e.PlatformSign1, err = token.DecodeSign1(coll.Platform, "platform token"); err != nil {
		return nil, err
	}
	if e.Platform, err = platform.Decode(e.PlatformSign1.Payload); err != nil {
		return nil, fmt.Errorf("platform token: %w", err)
	}
	if e.RealmSign1, err = token.DecodeSign1(coll.Realm, "realm token"); err != nil {
		if p, perr := token.LookupProfile(e.Platform.Profile, token.SetPlatform); perr == nil && p.Binding == token.BindingDirect {
			return nil, fmt.Errorf("%w (platform profile %q is the direct model of %s §4.10, whose realm claims set is not signed; ccakit does not decode it)",
				err, p.Name, p.Draft)
		}
		return nil, err
	}
	if e.Realm, err = realm.Decode(e.RealmSign1.Payload); err != nil {
		return nil, fmt.Errorf("realm token: %w", err)
	}
	return e, nil
}

// isBareSign1 tells a COSE_Sign1 from a collection by its first byte: tag
// 18 in its one-byte head, or an array of four (untagged). A collection
// starts with tag 399 or 907 (0xd9).
func isBareSign1(data []byte) bool {
	return len(data) > 0 && (data[0] == 0xc0|token.TagSign1 || data[0] == 0x84)
}

func decodeBare(data []byte) (*Evidence, error) {
	const what = "bare platform token"
	tagged := data
	if data[0] == 0x84 {
		tagged = append([]byte{0xc0 | token.TagSign1}, data...)
	}
	s, err := token.DecodeSign1(tagged, what)
	if err != nil {
		return nil, err
	}
	e := &Evidence{Collection: &token.Collection{Wrapper: token.WrapperNone, Platform: tagged}, PlatformSign1: s}
	if e.Platform, err = platform.Decode(s.Payload); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return e, nil
}

// Bare reports whether the evidence is a platform token alone.
func (e *Evidence) Bare() bool { return e.Realm == nil }

// Kind reports the wrapper and the profiles of the two claims sets.
func (e *Evidence) Kind() Kind {
	k := Kind{Wrapper: e.Collection.Wrapper, Platform: e.Platform.Generation(), PlatformProfile: e.Platform.Profile}
	if e.Realm == nil {
		k.Bare = true
		return k
	}
	k.Realm, k.RealmProfile = e.Realm.Generation(), e.Realm.Profile
	k.Legacy2 = k.Realm == token.GenLegacy && (e.Realm.InstanceID != nil || e.Realm.MECPolicy != nil ||
		e.Realm.LFAPolicy != nil || e.Realm.DevicesTokenHash != nil)
	return k
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// RejectUnknownClaims fails on claim keys the profiles do not define,
	// 2.0 claims in a token of an older profile included.
	RejectUnknownClaims bool
	// AllowMixedProfilesUnsafe accepts a pairing of profiles no firmware
	// emits: Veraison's test evidence (CCA-SSD platform, 2023 realm) and
	// unknown pairings.
	AllowMixedProfilesUnsafe bool
	// AllowDraft accepts the shapes of draft-ffm-rats-cca-token that no
	// producer emits (Kind.Draft).
	AllowDraft bool
	// AllowMeasurementSizeMismatch: see realm.ValidateOptions.
	AllowMeasurementSizeMismatch bool
}

// Validate checks both claims sets (the platform one alone for a bare
// platform token) and the kind: Kind.Err unless an option accepts it.
func (e *Evidence) Validate(opts ValidateOptions) error {
	what := "platform token"
	if e.Realm == nil {
		what = "bare platform token"
	}
	if err := e.Platform.Validate(platform.ValidateOptions{RejectUnknownClaims: opts.RejectUnknownClaims}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if e.Realm != nil {
		ropts := realm.ValidateOptions{RejectUnknownClaims: opts.RejectUnknownClaims, AllowMeasurementSizeMismatch: opts.AllowMeasurementSizeMismatch}
		if err := e.Realm.Validate(ropts); err != nil {
			return fmt.Errorf("realm token: %w", err)
		}
	}
	k := e.Kind()
	switch err := k.Err(); {
	case err == nil:
	case k.Draft() && opts.AllowDraft:
	case !k.Draft() && opts.AllowMixedProfilesUnsafe:
	default:
		return err
	}
	return nil
}
