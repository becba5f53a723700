// Package evidence puts the token layer together: it decodes a CCA evidence
// collection into its two signed claims sets (or a bare platform token),
// names its shape (Kind: the wrapper and the pairing of profiles, checked
// against a table of what producers emit), validates it, runs the cryptographic verification legs (platform
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
// not validate the claims (see Validate) nor check any signature.
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
