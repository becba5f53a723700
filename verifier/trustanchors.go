package verifier

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// TrustAnchor is one CCA platform attestation key (CPAK) and the platform it
// belongs to.
type TrustAnchor struct {
	// InstanceID is the platform's instance id (claim 256) that selects this
	// key. nil only in a TrustAnchors holding this one key: "trust this key
	// for any instance".
	InstanceID []byte
	// ImplementationID, when set, must also be the token's implementation
	// id (claim 2396).
	ImplementationID []byte
	// Key verifies the platform token.
	Key crypto.PublicKey
}

// TrustAnchors is an immutable set of CPAKs indexed by instance id. It is
// safe for concurrent use.
type TrustAnchors struct {
	byInstance map[string]*anchor
	any        *anchor // the single key for any instance, or nil
}

type anchor struct {
	TrustAnchor
	keyDigest [32]byte // SHA-256 of the key's SubjectPublicKeyInfo
	desc      string
}

// Sizes of the identities an anchor may carry (token-formats.md §3: a UEID
// is 33 bytes in the 1.0 profiles, 7..33 in the 2.0 drafts).
const (
	minInstanceIDSize = 7
	maxInstanceIDSize = 33
)

// NewTrustAnchors builds a trust-anchor set. Every anchor needs a key and an
// instance id, except that a set of exactly one anchor may leave the
// instance id out to trust that key for any instance. Two anchors with the
// same instance id are an error.
func NewTrustAnchors(anchors ...TrustAnchor) (*TrustAnchors, error) {
	if len(anchors) == 0 {
		return nil, fmt.Errorf("%w: trust anchors: no anchors", ErrStore)
	}
	t := &TrustAnchors{byInstance: make(map[string]*anchor, len(anchors))}
	first := make(map[string]int, len(anchors))
	for i, ta := range anchors {
		where := fmt.Sprintf("trust anchor %d", i)
		a, err := newAnchor(ta, where)
		if err != nil {
			return nil, err
		}
		if a.InstanceID == nil {
			if len(anchors) != 1 {
				return nil, storeErr(where, "instance-id", "missing (only a set of one key may leave it out, to trust that key for any instance)")
			}
			t.any = a
			continue
		}
		if j, dup := first[string(a.InstanceID)]; dup {
			return nil, storeErr(where, "instance-id", "%s is also the instance id of trust anchor %d", short(a.InstanceID), j)
		}
		first[string(a.InstanceID)] = i
		t.byInstance[string(a.InstanceID)] = a
	}
	return t, nil
}

func newAnchor(ta TrustAnchor, where string) (*anchor, error) {
	if ta.Key == nil {
		return nil, storeErr(where, "pkey", "missing")
	}
	if _, err := token.AlgorithmForKey(ta.Key); err != nil {
		return nil, fmt.Errorf("%w: %s: \"pkey\": %w", ErrStore, where, err)
	}
	if k, ok := ta.Key.(*ecdsa.PublicKey); ok {
		// A JWK's x and y are not checked to be a point on the curve by
		// the JWK parser; refuse such a key here rather than at the first
		// signature.
		if _, err := k.ECDH(); err != nil {
			return nil, storeErr(where, "pkey", "not a valid %s public key: %v", k.Curve.Params().Name, err)
		}
	}
	spki, err := x509.MarshalPKIXPublicKey(ta.Key)
	if err != nil {
		return nil, storeErr(where, "pkey", "%v", err)
	}
	if ta.InstanceID != nil && (len(ta.InstanceID) < minInstanceIDSize || len(ta.InstanceID) > maxInstanceIDSize) {
		return nil, storeErr(where, "instance-id", "%d bytes, must be %d..%d", len(ta.InstanceID), minInstanceIDSize, maxInstanceIDSize)
	}
	if ta.ImplementationID != nil && len(ta.ImplementationID) != platform.ImplementationIDSize {
		return nil, storeErr(where, "implementation-id", "%d bytes, must be %d", len(ta.ImplementationID), platform.ImplementationIDSize)
	}
	a := &anchor{TrustAnchor: TrustAnchor{
		InstanceID:       bytes.Clone(ta.InstanceID),
		ImplementationID: bytes.Clone(ta.ImplementationID),
		Key:              ta.Key,
	}}
	a.keyDigest = sha256.Sum256(spki)
	a.desc = token.DescribeKey(ta.Key)
	return a, nil
}

// ParseTrustAnchors reads a trust-anchor store in rust-ccatoken's JSON shape:
// an array of {"instance-id": hex, "implementation-id": hex, "pkey": JWK}
// (see the package documentation).
func ParseTrustAnchors(data []byte) (*TrustAnchors, error) {
	entries, err := parseArray(data, "trust anchors", "")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: trust anchors: empty array", ErrStore)
	}
	anchors := make([]TrustAnchor, len(entries))
	for i, raw := range entries {
		o, err := parseObject(raw, fmt.Sprintf("trust anchor %d", i))
		if err != nil {
			return nil, err
		}
		ta := &anchors[i]
		if ta.InstanceID, err = o.hexField("instance-id", true); err != nil {
			return nil, err
		}
		if ta.ImplementationID, err = o.hexField("implementation-id", false); err != nil {
			return nil, err
		}
		pkey, ok := o.take("pkey")
		if !ok {
			return nil, storeErr(o.where, "pkey", "missing")
		}
		if !bytes.HasPrefix(bytes.TrimSpace(pkey), []byte("{")) {
			return nil, storeErr(o.where, "pkey", "not a JWK object")
		}
		if ta.Key, err = token.ParsePublicKey(pkey); err != nil {
			return nil, fmt.Errorf("%w: %s: \"pkey\": %w", ErrStore, o.where, err)
		}
		if err := o.done(); err != nil {
			return nil, err
		}
	}
	return NewTrustAnchors(anchors...)
}

// ParseTrustAnchorKey reads one CPAK from PEM or a JWK and trusts it for any
// platform instance.
func ParseTrustAnchorKey(data []byte) (*TrustAnchors, error) {
	pub, err := token.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w: trust anchor key: %w", ErrStore, err)
	}
	return NewTrustAnchors(TrustAnchor{Key: pub})
}

// Len is the number of anchors.
func (t *TrustAnchors) Len() int {
	if t.any != nil {
		return 1
	}
	return len(t.byInstance)
}

// MarshalJSON writes the set in the store format ParseTrustAnchors reads.
// The any-instance form has no store representation and is an error.
func (t *TrustAnchors) MarshalJSON() ([]byte, error) {
	if t.any != nil {
		return nil, fmt.Errorf("%w: a key trusted for any instance has no store form", ErrUsage)
	}
	type entry struct {
		InstanceID       HexBytes        `json:"instance-id"`
		ImplementationID HexBytes        `json:"implementation-id,omitempty"`
		Key              json.RawMessage `json:"pkey"`
	}
	out := make([]entry, 0, len(t.byInstance))
	for _, k := range sortedKeys(t.byInstance) {
		a := t.byInstance[k]
		jwk, err := token.MarshalPublicJWK(a.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, entry{a.InstanceID, a.ImplementationID, jwk})
	}
	return json.Marshal(out)
}

// lookup finds the anchor for a platform token's instance and implementation
// ids. On failure it says why, in words for the result.
func (t *TrustAnchors) lookup(instanceID, implID []byte) (*anchor, string) {
	a := t.byInstance[string(instanceID)]
	if a == nil {
		a = t.any
	}
	if a == nil {
		return nil, fmt.Sprintf("no trust anchor for instance id %s", short(instanceID))
	}
	if a.ImplementationID != nil && !bytes.Equal(a.ImplementationID, implID) {
		return nil, fmt.Sprintf("the trust anchor for instance id %s is for implementation id %s, the token says %s",
			short(instanceID), short(a.ImplementationID), short(implID))
	}
	return a, ""
}
