package verifier

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ccakit/cca/endorsement"
)

// corimAnchors makes the trust anchors of a CoRIM, with its unusable keys
// kept as unusable entries (and warnings) of their instance; nil when it has
// none of either.
func corimAnchors(e *endorsement.Endorsements) (*TrustAnchors, error) {
	if len(e.TrustAnchors)+len(e.BadTrustAnchors) == 0 {
		return nil, nil
	}
	ta := &TrustAnchors{byInstance: map[string][]anchor{}}
	if len(e.TrustAnchors) > 0 {
		anchors := make([]TrustAnchor, len(e.TrustAnchors))
		for i, a := range e.TrustAnchors {
			anchors[i] = EndorsedTrustAnchor(a)
		}
		var err error
		if ta, err = NewTrustAnchors(anchors...); err != nil {
			return nil, err
		}
	}
	for _, b := range e.BadTrustAnchors {
		err := storeError(b.Err)
		ta.warnings = append(ta.warnings, err)
		id := string(b.InstanceID)
		ta.byInstance[id] = append(ta.byInstance[id], anchor{TrustAnchor: TrustAnchor{
			InstanceID: bytes.Clone(b.InstanceID), ImplementationID: bytes.Clone(b.ImplementationID), Where: b.Where, Unusable: err}})
	}
	return ta, nil
}

// FromEndorsements turns what a CCA CoRIM carries (endorsement.Decode) into
// stores: the trust anchors of its attest-key triples, and the reference
// values of its reference triples. Either is nil when the CoRIM has none.
//
// A CoRIM's platform reference values endorse components one by one, as
// Veraison's arm-cca scheme reads them (MatchEachComponent): the triples for
// an implementation are pooled, every software component of the token must
// match an endorsed one (measurement value; type, version and signer id
// where the endorsement gives them: Veraison does not compare signer ids),
// and the platform configuration must equal an endorsed one. The
// configuration's mask is not applied: like Veraison, the endorsed raw value
// is compared whole, which is never looser than the mask. Realm reference
// values are selected by their RIM, as in the JSON store; a REM the CoRIM
// does not give is not checked. An attest-key triple whose key could not be
// used (endorsement.Endorsements.BadTrustAnchors, decoded with
// IsolateBadKeys) becomes an unusable entry, listed by Warnings, as in the
// JSON store.
func FromEndorsements(e *endorsement.Endorsements) (*TrustAnchors, *ReferenceValues, error) {
	if e == nil {
		return nil, nil, fmt.Errorf("%w: FromEndorsements(nil)", ErrUsage)
	}
	ta, err := corimAnchors(e)
	if err != nil {
		return nil, nil, err
	}
	var platforms []PlatformReference
	for _, p := range e.Platforms {
		platforms = append(platforms, EndorsedPlatform(p))
	}
	var realms []RealmReference
	for _, r := range e.Realms {
		realms = append(realms, EndorsedRealm(r))
	}
	if len(platforms)+len(realms) == 0 {
		return ta, nil, nil
	}
	rv, err := NewReferenceValues(platforms, realms)
	if err != nil {
		return nil, nil, err
	}
	return ta, rv, nil
}

// EndorsedTrustAnchor is a CoRIM's attest-key triple as a trust anchor.
func EndorsedTrustAnchor(a endorsement.TrustAnchor) TrustAnchor {
	return TrustAnchor{InstanceID: a.InstanceID, ImplementationID: a.ImplementationID, Key: a.Key, Where: a.Where}
}

// EndorsedPlatform is a CoRIM's platform reference triple as a reference
// value, matched component by component (see FromEndorsements).
func EndorsedPlatform(p endorsement.PlatformReference) PlatformReference {
	ref := PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config, Match: MatchEachComponent, Where: p.Where}
	for _, sc := range p.SwComponents {
		ref.SwComponents = append(ref.SwComponents, SwComponentReference{Type: sc.Type, Value: sc.Value, SignerID: sc.SignerID, Version: sc.Version})
	}
	return ref
}

// EndorsedRealm is a CoRIM's realm reference triple as a reference value;
// its REMs are checked only when it gives one.
func EndorsedRealm(r endorsement.RealmReference) RealmReference {
	ref := RealmReference{InitialMeasurement: r.RIM, PersonalizationValue: r.RPV, HashAlgorithm: r.HashAlg, Where: r.Where}
	for _, rem := range r.REMs {
		if rem != nil {
			ref.ExtensibleMeasurements = r.REMs[:]
			break
		}
	}
	return ref
}

// ReadTrustAnchors reads trust anchors from a JSON store (ParseTrustAnchors)
// or a CoRIM (signed or not; corim says how to check a signature), told
// apart by their content. Anything else is an ErrStore error that says what
// it is (CCA evidence given by mistake, say); a signed CoRIM whose
// signature is not verified is an ErrStoreSignature error.
func ReadTrustAnchors(data []byte, corim endorsement.DecodeOptions) (*TrustAnchors, error) {
	// One bad key fails only its platform, as in the JSON store.
	corim.IsolateBadKeys = true
	return readStore(data, corim, storeKind[TrustAnchors]{"trust anchors", "attest-key triples", ParseTrustAnchors,
		func(ta *TrustAnchors, _ *ReferenceValues) *TrustAnchors { return ta }})
}

// ReadReferenceValues reads reference values from a JSON store
// (ParseReferenceValues) or a CoRIM (FromEndorsements), told apart by
// their content, with the errors of ReadTrustAnchors.
func ReadReferenceValues(data []byte, corim endorsement.DecodeOptions) (*ReferenceValues, error) {
	// An attest-key triple whose key cannot be used does not make the
	// CoRIM's reference values wrong: read as trust anchors (above) the
	// same file locks out that key's platform only, so read as reference
	// values it must not lock out every platform.
	corim.IsolateBadKeys = true
	return readStore(data, corim, storeKind[ReferenceValues]{"reference values", "reference triples", ParseReferenceValues,
		func(_ *TrustAnchors, rv *ReferenceValues) *ReferenceValues { return rv }})
}

// storeKind is what readStore reads: its name, the CoRIM triples that
// carry it, its JSON parser and its part of a CoRIM.
type storeKind[S any] struct {
	name, triples string
	parseJSON     func([]byte) (*S, error)
	fromCoRIM     func(*TrustAnchors, *ReferenceValues) *S
}

// readStore reads a JSON store or a CoRIM, told apart by content; anything
// else is refused saying what it is.
func readStore[S any](data []byte, corim endorsement.DecodeOptions, k storeKind[S]) (*S, error) {
	if !endorsement.IsCoRIM(data) {
		if !isJSONStore(data) {
			return nil, notAStore(k.name, data)
		}
		return k.parseJSON(data)
	}
	ta, rv, err := readCoRIM(data, corim)
	if err != nil {
		return nil, err
	}
	s := k.fromCoRIM(ta, rv)
	if s == nil {
		return nil, fmt.Errorf("%w: the CoRIM carries no %s (%s)", ErrStore, k.name, k.triples)
	}
	return s, nil
}

func readCoRIM(data []byte, opts endorsement.DecodeOptions) (*TrustAnchors, *ReferenceValues, error) {
	e, err := endorsement.Decode(data, opts)
	if errors.Is(err, endorsement.ErrSignature) {
		// Not malformed: not trusted. The decoder's message says why.
		return nil, nil, &classedError{class: ErrStoreSignature, err: err}
	}
	if err != nil {
		return nil, nil, storeError(err)
	}
	return FromEndorsements(e)
}

// classedError is err, also of the class (errors.Is), with err's message.
type classedError struct{ class, err error }

func (c *classedError) Error() string   { return c.err.Error() }
func (c *classedError) Unwrap() []error { return []error{c.class, c.err} }

// storeError makes a decoder's error an ErrStore error too, keeping its
// own classes.
func storeError(err error) error {
	if errors.Is(err, ErrStore) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}
