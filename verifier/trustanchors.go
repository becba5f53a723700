package verifier

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// TrustAnchors is an immutable in-memory TrustAnchorStore: the JSON store
// (ParseTrustAnchors), one key for any instance (ParseTrustAnchorKey), or
// anchors built in code (NewTrustAnchors). It is safe for concurrent use.
type TrustAnchors struct {
	source     string              // file name prefixed to Where, or ""
	byInstance map[string][]anchor // usable and unusable entries by instance id
	any        *anchor             // the single key for any instance, or nil
	usable     int                 // entries with a usable key
	warnings   []error             // entries refused when the store loaded
}

type anchor struct {
	TrustAnchor
	desc string // the key, described
}

// Sizes of the identities an anchor may carry: a UEID is 33 bytes in the
// 1.0 profiles (draft-ffm-rats-cca-token-00 §4.3.2), 7..33 in later drafts
// (RFC 9711 §4.2.1).
const (
	minInstanceIDSize = 7
	maxInstanceIDSize = 33
)

// NewTrustAnchors builds a trust-anchor set. Every anchor needs a key and an
// instance id, except that a set of exactly one anchor may leave the
// instance id out to trust that key for any instance. Anchors built in code
// must all be valid: an invalid one is an error, not a warning.
func NewTrustAnchors(anchors ...TrustAnchor) (*TrustAnchors, error) {
	if len(anchors) == 0 {
		return nil, fmt.Errorf("%w: trust anchors: no anchors", ErrStore)
	}
	t := &TrustAnchors{byInstance: make(map[string][]anchor, len(anchors))}
	for i, ta := range anchors {
		if ta.Where == "" {
			ta.Where = fmt.Sprintf("trust anchor %d", i)
		}
		a, err := newAnchor(ta)
		if err != nil {
			return nil, err
		}
		if a.InstanceID == nil {
			if len(anchors) != 1 {
				return nil, storeErr(ta.Where, "instance-id", "missing (only a set of one key may leave it out, to trust that key for any instance)")
			}
			t.any = &a
			t.usable = 1
			continue
		}
		if err := t.add(a); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// add indexes one anchor; a second usable key for one instance is refused
// (one file should not hold two: which is meant?).
func (t *TrustAnchors) add(a anchor) error {
	id := string(a.InstanceID)
	if a.Unusable == nil {
		for _, b := range t.byInstance[id] {
			if b.Unusable == nil {
				return storeErr(a.Where, "instance-id", "%s is also the instance id of %s", short(a.InstanceID), b.Where)
			}
		}
		t.usable++
	}
	t.byInstance[id] = append(t.byInstance[id], a)
	return nil
}

// newAnchor validates an anchor and describes its key.
func newAnchor(ta TrustAnchor) (anchor, error) {
	if err := checkAnchorKey(ta); err != nil {
		return anchor{}, err
	}
	if ta.InstanceID != nil && (len(ta.InstanceID) < minInstanceIDSize || len(ta.InstanceID) > maxInstanceIDSize) {
		return anchor{}, storeErr(ta.Where, "instance-id", "%d bytes, must be %d..%d", len(ta.InstanceID), minInstanceIDSize, maxInstanceIDSize)
	}
	if ta.ImplementationID != nil && len(ta.ImplementationID) != platform.ImplementationIDSize {
		return anchor{}, storeErr(ta.Where, "implementation-id", "%d bytes, must be %d", len(ta.ImplementationID), platform.ImplementationIDSize)
	}
	a := anchor{TrustAnchor: TrustAnchor{
		InstanceID:       bytes.Clone(ta.InstanceID),
		ImplementationID: bytes.Clone(ta.ImplementationID),
		Key:              ta.Key,
		Where:            ta.Where,
	}}
	a.desc = token.DescribeKey(ta.Key)
	return a, nil
}

// checkAnchorKey refuses a missing key, a key of no COSE algorithm, and an
// EC point off its curve.
func checkAnchorKey(ta TrustAnchor) error {
	if ta.Key == nil {
		return storeErr(ta.Where, "pkey", "missing")
	}
	if _, err := token.AlgorithmForKey(ta.Key); err != nil {
		return fmt.Errorf("%w: %s: \"pkey\": %w", ErrStore, ta.Where, err)
	}
	if k, ok := ta.Key.(*ecdsa.PublicKey); ok {
		// A JWK's x and y are not checked to be a point on the curve by
		// the JWK parser; refuse such a key here rather than at the first
		// signature.
		if _, err := k.ECDH(); err != nil {
			return storeErr(ta.Where, "pkey", "not a valid %s public key: %v", k.Curve.Params().Name, err)
		}
	}
	return nil
}

// ParseTrustAnchors reads a trust-anchor store in rust-ccatoken's JSON shape:
// an array of {"instance-id": hex, "implementation-id": hex, "pkey": JWK}
// (see the package documentation).
//
// One bad entry does not lock out every platform: an entry whose key cannot
// be used (not a JWK, off its curve, an unknown member) but whose instance id
// can be read is kept as unusable, so that its platform's result names it;
// an entry whose instance id cannot be read is dropped. Both are listed by
// Warnings. The file is refused only when it is not a JSON array or is
// empty: a file whose every entry is bad (rust-ccatoken's ta-02-bad.json, a
// single off-curve key) is still a store, of unusable entries, so that
// another store given beside it keeps its platforms working. Len is then 0;
// a caller with no other store should refuse it (the CLI refuses only when
// all its stores together have no usable entry).
func ParseTrustAnchors(data []byte) (*TrustAnchors, error) {
	entries, err := parseArray(data, "trust anchors", "")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: trust anchors: empty array", ErrStore)
	}
	t := &TrustAnchors{byInstance: make(map[string][]anchor, len(entries))}
	for i, raw := range entries {
		where := fmt.Sprintf("trust anchor %d", i)
		a, err := parseAnchor(raw, where)
		if err != nil {
			t.warnings = append(t.warnings, err)
			if a.InstanceID == nil {
				continue // cannot be attributed to a platform
			}
			a.Unusable, a.Key = err, nil
		}
		if err := t.add(a); err != nil {
			t.warnings = append(t.warnings, err)
			a.Unusable, a.Key = err, nil
			t.byInstance[string(a.InstanceID)] = append(t.byInstance[string(a.InstanceID)], a)
		}
	}
	return t, nil
}

// parseAnchor reads one entry. On an error the returned anchor carries the
// instance id if it could be read.
func parseAnchor(raw json.RawMessage, where string) (anchor, error) {
	var a anchor
	o, err := parseObject(raw, where)
	if err != nil {
		return a, err
	}
	id, err := o.hexField("instance-id", true)
	if err != nil {
		return a, err
	}
	if len(id) < minInstanceIDSize || len(id) > maxInstanceIDSize {
		return a, storeErr(where, "instance-id", "%d bytes, must be %d..%d", len(id), minInstanceIDSize, maxInstanceIDSize)
	}
	a.InstanceID, a.Where = id, where
	ta := TrustAnchor{InstanceID: id, Where: where}
	if ta.ImplementationID, err = o.hexField("implementation-id", false, platform.ImplementationIDSize); err != nil {
		return a, err
	}
	pkey, ok := o.take("pkey")
	if !ok {
		return a, storeErr(where, "pkey", "missing")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(pkey), []byte("{")) {
		return a, storeErr(where, "pkey", "not a JWK object")
	}
	if name, dup := duplicateMember(pkey); dup {
		return a, storeErr(where, "pkey", "JWK member %q given twice", name)
	}
	if ta.Key, err = token.ParsePublicKey(pkey); err != nil {
		return a, fmt.Errorf("%w: %s: \"pkey\": %w", ErrStore, where, err)
	}
	if err := o.done(); err != nil {
		return a, err
	}
	full, err := newAnchor(ta)
	if err != nil {
		return a, err
	}
	return full, nil
}

// ParseTrustAnchorKey reads one CPAK from PEM or a JWK and trusts it for any
// platform instance.
func ParseTrustAnchorKey(data []byte) (*TrustAnchors, error) {
	if name, dup := duplicateMember(data); dup && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return nil, storeErr("trust anchor key", "", "JWK member %q given twice", name)
	}
	pub, err := token.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w: trust anchor key: %w", ErrStore, err)
	}
	return NewTrustAnchors(TrustAnchor{Key: pub, Where: "trust anchor key"})
}

// Named returns the same store with name (a file name, say) prefixed to
// every entry's Where, so that results and warnings say which file an entry
// came from. A nil store stays nil.
func (t *TrustAnchors) Named(name string) *TrustAnchors {
	if t == nil {
		return nil
	}
	c := *t
	c.source = name
	return &c
}

// Len is the number of usable anchors (0 for a nil store).
func (t *TrustAnchors) Len() int {
	if t == nil {
		return 0
	}
	return t.usable
}

// Warnings lists the entries refused when the store loaded: each names the
// entry and what is wrong with it. The other entries are in use.
func (t *TrustAnchors) Warnings() []error {
	if t == nil {
		return nil
	}
	out := make([]error, len(t.warnings))
	for i, w := range t.warnings {
		out[i] = t.prefixErr(w)
	}
	return out
}

func (t *TrustAnchors) prefixErr(err error) error {
	if t.source == "" {
		return err
	}
	return fmt.Errorf("%s: %w", t.source, err)
}

func (t *TrustAnchors) where(w string) string {
	if t.source == "" {
		return w
	}
	return t.source + ": " + w
}

// TrustAnchors implements TrustAnchorStore: the anchors for instanceID
// (usable or not), or the key trusted for any instance; none from a nil
// store.
func (t *TrustAnchors) TrustAnchors(_ context.Context, instanceID, _ []byte) ([]TrustAnchor, error) {
	if t == nil {
		return nil, nil
	}
	if t.any != nil {
		a := t.any.TrustAnchor
		a.Where = t.where(a.Where)
		return []TrustAnchor{a}, nil
	}
	found := t.byInstance[string(instanceID)]
	if len(found) == 0 {
		return nil, nil
	}
	out := make([]TrustAnchor, len(found))
	for i, a := range found {
		out[i] = a.TrustAnchor
		out[i].Where = t.where(a.Where)
		if a.Unusable != nil {
			out[i].Unusable = t.prefixErr(a.Unusable)
		}
	}
	return out, nil
}

// MarshalJSON writes the usable anchors in the store format
// ParseTrustAnchors reads. The any-instance form has no store
// representation and is an error.
func (t *TrustAnchors) MarshalJSON() ([]byte, error) {
	if t.any != nil {
		return nil, fmt.Errorf("%w: a key trusted for any instance has no store form", ErrUsage)
	}
	type entry struct {
		InstanceID       HexBytes        `json:"instance-id"`
		ImplementationID HexBytes        `json:"implementation-id,omitempty"`
		Key              json.RawMessage `json:"pkey"`
	}
	out := make([]entry, 0, t.usable)
	for _, k := range slices.Sorted(maps.Keys(t.byInstance)) {
		for _, a := range t.byInstance[k] {
			if a.Unusable != nil {
				continue
			}
			jwk, err := token.MarshalPublicJWK(a.Key)
			if err != nil {
				return nil, err
			}
			out = append(out, entry{a.InstanceID, a.ImplementationID, jwk})
		}
	}
	return json.Marshal(out)
}
