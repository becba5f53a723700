package verifier

import (
	"errors"
	"fmt"

	"github.com/ccakit/cca/endorsement"
)

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
// does not give is not checked.
func FromEndorsements(e *endorsement.Endorsements) (*TrustAnchors, *ReferenceValues, error) {
	if e == nil {
		return nil, nil, fmt.Errorf("%w: FromEndorsements(nil)", ErrUsage)
	}
	var ta *TrustAnchors
	if len(e.TrustAnchors) > 0 {
		anchors := make([]TrustAnchor, len(e.TrustAnchors))
		for i, a := range e.TrustAnchors {
			anchors[i] = EndorsedTrustAnchor(a)
		}
		var err error
		if ta, err = NewTrustAnchors(anchors...); err != nil {
			return nil, nil, err
		}
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
// apart by their content.
func ReadTrustAnchors(data []byte, corim endorsement.DecodeOptions) (*TrustAnchors, error) {
	if !endorsement.IsCoRIM(data) {
		return ParseTrustAnchors(data)
	}
	ta, _, err := readCoRIM(data, corim)
	if err != nil {
		return nil, err
	}
	if ta == nil {
		return nil, fmt.Errorf("%w: the CoRIM carries no trust anchors (attest-key triples)", ErrStore)
	}
	return ta, nil
}

// ReadReferenceValues reads reference values from a JSON store
// (ParseReferenceValues) or a CoRIM (FromEndorsements), told apart by
// their content.
func ReadReferenceValues(data []byte, corim endorsement.DecodeOptions) (*ReferenceValues, error) {
	if !endorsement.IsCoRIM(data) {
		return ParseReferenceValues(data)
	}
	_, rv, err := readCoRIM(data, corim)
	if err != nil {
		return nil, err
	}
	if rv == nil {
		return nil, fmt.Errorf("%w: the CoRIM carries no reference values (reference triples)", ErrStore)
	}
	return rv, nil
}

func readCoRIM(data []byte, opts endorsement.DecodeOptions) (*TrustAnchors, *ReferenceValues, error) {
	e, err := endorsement.Decode(data, opts)
	if err != nil {
		return nil, nil, storeError(err)
	}
	return FromEndorsements(e)
}

// storeError makes a decoder's error an ErrStore error too, keeping its
// own classes.
func storeError(err error) error {
	if errors.Is(err, ErrStore) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}
