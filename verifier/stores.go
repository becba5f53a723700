package verifier

import (
	"context"
	"crypto"
	"errors"

	"github.com/ccakit/cca/internal/enumname"
	"github.com/ccakit/cca/realm"
)

// TrustAnchorStore finds the keys that may have signed a platform token, as
// sigstore-go's TrustedMaterial finds a bundle's keys: the relying party's
// database, a JSON or CoRIM file, or several of them (CombineTrustAnchors).
// Implementations must be safe for concurrent use.
type TrustAnchorStore interface {
	// TrustAnchors returns the anchors for a platform token's instance id
	// (claim 256) and implementation id (claim 2396). Usually one; none
	// (and a nil error) when the platform is unknown. An anchor whose
	// ImplementationID is set and differs from the token's is not used,
	// and an anchor with a non-nil InstanceID is used only for that
	// instance, so a store may return more than it needs to. An entry
	// the store could not load is returned with Unusable set, so that the
	// platform's result names it.
	//
	// An error means the lookup itself failed (the database is down);
	// Verify then stops and returns it.
	TrustAnchors(ctx context.Context, instanceID, implementationID []byte) ([]TrustAnchor, error)
}

// ReferenceValueStore finds the reference values a platform and a realm are
// appraised against. Implementations must be safe for concurrent use.
type ReferenceValueStore interface {
	// PlatformReferences returns the reference values for a platform
	// implementation id: none (and a nil error) when it is unknown.
	// Entries for another implementation id are ignored.
	PlatformReferences(ctx context.Context, implementationID []byte) ([]PlatformReference, error)
	// RealmReferences returns the reference values whose initial
	// measurement is rim: none (and a nil error) when it is unknown.
	// Entries for another RIM are ignored.
	RealmReferences(ctx context.Context, rim []byte) ([]RealmReference, error)
}

// TrustAnchor is one CCA platform attestation key (CPAK) and the platform it
// belongs to.
type TrustAnchor struct {
	// InstanceID is the platform's instance id (claim 256) that selects this
	// key; nil means "trust this key for any instance" (NewTrustAnchors
	// allows that only in a set of one key).
	InstanceID []byte
	// ImplementationID, when set, must also be the token's implementation
	// id (claim 2396).
	ImplementationID []byte
	// Key verifies the platform token.
	Key crypto.PublicKey
	// Where names the entry for results and errors: the file and entry
	// ("ta.json: trust anchor 2"), the CoRIM triple, the database row.
	Where string
	// Unusable, when set, says why this entry cannot be used (a key that
	// is not on its curve, say); Key is then ignored. The verifier names
	// the entry and the reason in the result of the platform it was for,
	// and keeps using the store's other anchors.
	Unusable error
}

// PlatformMatch says how a platform reference value's software components
// are compared with the token's.
type PlatformMatch uint8

const (
	// MatchCompleteState: the entry is one complete acceptable state of
	// the platform (rust-ccatoken's JSON store): its configuration must be
	// the token's, and the token's software components and the entry's
	// must pair up one to one. Several such entries for one
	// implementation are alternatives; the token is reported against the
	// one it matches best.
	MatchCompleteState PlatformMatch = iota
	// MatchEachComponent: the entry endorses components one by one (a
	// CoRIM reference triple, as Veraison's arm-cca scheme reads it): the
	// entries of this kind for one implementation are pooled, every
	// component of the token must match one component of the pool, and
	// the configuration must equal a configuration of the pool. Components
	// of the pool that the token lacks are not required.
	MatchEachComponent
)

var platformMatchNames = map[PlatformMatch]string{
	MatchCompleteState: "complete state",
	MatchEachComponent: "each component",
}

func (m PlatformMatch) String() string {
	return enumname.Name(m, platformMatchNames, "PlatformMatch(%d)")
}

// PlatformReference is an acceptable state of a platform implementation,
// or (MatchEachComponent) a set of endorsed components of it.
type PlatformReference struct {
	ImplementationID []byte
	// Config is the expected platform configuration (claim 2401). nil
	// gives none (allowed only with MatchEachComponent).
	Config       []byte
	SwComponents []SwComponentReference
	Match        PlatformMatch
	// Where names the entry for results ("refvals.json: platform[0]").
	Where string
}

// SwComponentReference is one expected software component. A token
// component matches it when the measurement value and the signer id are
// equal and, when Type is set, the measurement type too. Version is compared
// only with MatchEachComponent, when set, as Veraison does; in a complete
// state it is descriptive (the measurement already names the image).
type SwComponentReference struct {
	Type     string
	Value    []byte
	SignerID []byte
	Version  string
}

// RealmReference is an acceptable state of a realm, selected by its RIM.
type RealmReference struct {
	InitialMeasurement []byte
	// PersonalizationValue, when set, must equal the RPV; nil leaves the
	// RPV not checked.
	PersonalizationValue []byte
	// ExtensibleMeasurements, when set, holds the four expected REMs, each
	// nil when not given; a nil slice gives none. A REM not given is not
	// checked (a runtime measurement log may explain it).
	ExtensibleMeasurements [][]byte
	// HashAlgorithm, when set, must be the realm's measurement hash
	// algorithm (claim 44236).
	HashAlgorithm string
	// MECPolicy, when set, pins the realm's MEC policy (claim 44243,
	// draft-ffm-rats-cca-token-04 §4.8.10): the token's must be the same
	// policy, shared or private, whichever of its two forms (text in
	// TF-RMM v0.8/v0.9, an integer in TF-RMM main) either is written in.
	MECPolicy *realm.MECPolicy
	// RAKHashAlgorithm is rust-ccatoken's "rak-hash-algorithm". It is
	// carried for that store's sake and not compared: the binding check
	// already verifies the RAK hash.
	RAKHashAlgorithm string
	// Where names the entry for results ("refvals.json: realm[1]").
	Where string
}

// CombineTrustAnchors returns a store that asks each store in turn and
// returns every anchor they give (a platform known to two stores may then
// have two keys: a signature that verifies with either is accepted). A nil
// store, also a nil *TrustAnchors (FromEndorsements gives one for a CoRIM
// without attest-key triples), is left out.
func CombineTrustAnchors(stores ...TrustAnchorStore) TrustAnchorStore {
	return multiAnchors(withoutNil(stores))
}

type multiAnchors []TrustAnchorStore

func (m multiAnchors) TrustAnchors(ctx context.Context, instanceID, implementationID []byte) ([]TrustAnchor, error) {
	return gather(m, func(s TrustAnchorStore) ([]TrustAnchor, error) {
		return s.TrustAnchors(ctx, instanceID, implementationID)
	})
}

// CombineReferenceValues returns a store that asks each store in turn and
// returns every reference value they give. A nil store, also a nil
// *ReferenceValues (FromEndorsements gives one for a CoRIM without
// reference triples), is left out.
func CombineReferenceValues(stores ...ReferenceValueStore) ReferenceValueStore {
	return multiRefs(withoutNil(stores))
}

// withoutNil copies the stores that are not nil: an interface holding a
// nil pointer is not == nil, and its methods would dereference it.
func withoutNil[S any](stores []S) []S {
	var out []S
	for _, s := range stores {
		if !isNil(s) {
			out = append(out, s)
		}
	}
	return out
}

type multiRefs []ReferenceValueStore

func (m multiRefs) PlatformReferences(ctx context.Context, implementationID []byte) ([]PlatformReference, error) {
	return gather(m, func(s ReferenceValueStore) ([]PlatformReference, error) {
		return s.PlatformReferences(ctx, implementationID)
	})
}

func (m multiRefs) RealmReferences(ctx context.Context, rim []byte) ([]RealmReference, error) {
	return gather(m, func(s ReferenceValueStore) ([]RealmReference, error) { return s.RealmReferences(ctx, rim) })
}

// gather asks every store and concatenates the answers; any store's
// failure fails the lookup.
func gather[S any, T any](stores []S, get func(S) ([]T, error)) ([]T, error) {
	var out []T
	var errs []error
	for _, s := range stores {
		r, err := get(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
