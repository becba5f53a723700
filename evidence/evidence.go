// Package evidence puts the token layer together: it decodes a CCA evidence
// collection into its two signed claims sets, says which generation it is,
// validates it, runs the cryptographic verification legs (platform
// signature, realm signature, binding, freshness) and creates evidence of
// each generation.
//
// Appraisal against trust anchors, reference values and policy is the
// verifier package's; this package answers "is this well-formed, genuine
// evidence signed by this key".
package evidence

import (
	"crypto"
	"errors"
	"fmt"

	cose "github.com/veraison/go-cose"

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
// Validate) nor check any signature (see Verify).
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

// VerifyOptions tune Verify.
type VerifyOptions struct {
	ValidateOptions
	// Nonce, when set, must be the realm challenge (32..64 bytes,
	// zero-padded to 64). Without it freshness is not checked.
	Nonce []byte
	// Algorithms widens or narrows the signature algorithms accepted for
	// either token; nil means token.DefaultAlgorithms.
	Algorithms []cose.Algorithm
}

// Leg names a verification step, for reporting.
type Leg string

const (
	LegDecode            Leg = "decode"
	LegValidate          Leg = "claims"
	LegPlatformSignature Leg = "platform signature"
	LegRealmSignature    Leg = "realm signature"
	LegBinding           Leg = "binding"
	LegFreshness         Leg = "freshness"
)

// LegError says which leg failed.
type LegError struct {
	Leg Leg
	Err error
}

func (e *LegError) Error() string { return string(e.Leg) + ": " + e.Err.Error() }
func (e *LegError) Unwrap() error { return e.Err }

// FailedLeg returns the leg an error from Verify or DecodeAndVerify failed
// in, or "" when it carries none.
func FailedLeg(err error) Leg {
	var le *LegError
	if errors.As(err, &le) {
		return le.Leg
	}
	return ""
}

// Verify validates the evidence and runs the cryptographic legs in order:
// the platform signature with cpak, the realm signature with the RAK the
// realm token carries, the binding of the two, and freshness when a nonce is
// given. The first failure is returned as a *LegError wrapping its class.
func (e *Evidence) Verify(cpak crypto.PublicKey, opts VerifyOptions) error {
	if err := e.Validate(opts.ValidateOptions); err != nil {
		return &LegError{LegValidate, err}
	}
	if err := e.PlatformSign1.Verify(cpak, opts.Algorithms); err != nil {
		return &LegError{LegPlatformSignature, fmt.Errorf("platform token: %w", err)}
	}
	rak, err := e.Realm.RAK()
	if err != nil {
		return &LegError{LegRealmSignature, err}
	}
	if err := e.RealmSign1.Verify(rak, opts.Algorithms); err != nil {
		return &LegError{LegRealmSignature, fmt.Errorf("realm token: %w", err)}
	}
	if err := token.CheckBinding(e.Platform.Challenge, e.Realm.PubKeyHashAlgID, e.Realm.PubKey); err != nil {
		return &LegError{LegBinding, err}
	}
	if opts.Nonce != nil {
		if err := token.CheckFreshness(e.Realm.Challenge, opts.Nonce); err != nil {
			return &LegError{LegFreshness, err}
		}
	}
	return nil
}

// DecodeAndVerify is Decode followed by Verify.
func DecodeAndVerify(data []byte, cpak crypto.PublicKey, opts VerifyOptions) (*Evidence, error) {
	e, err := Decode(data)
	if err != nil {
		return nil, &LegError{LegDecode, err}
	}
	if err := e.Verify(cpak, opts); err != nil {
		return e, err
	}
	return e, nil
}
