package token

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// ClaimsReader is a claims set read in place: ReadClaims checks the whole
// set once, Take decodes one claim at a time, and what was not taken is
// the Rest. It is what the claims decoders use; ClaimsMap is the same as a
// map, for inspection.
type ClaimsReader struct {
	set    ClaimSet
	claims []rawClaim
}

type rawClaim struct {
	key   int64
	val   []byte // in the reader's copy of the claims set
	taken bool
}

// claimsName names a claims set in messages (constants: no allocation).
func claimsName(set ClaimSet) string {
	switch set {
	case SetPlatform:
		return "platform claims"
	case SetRealm:
		return "realm claims"
	case SetSwComponent:
		return "software component claims"
	}
	return "claims"
}

// ReadClaims strictly checks an encoded claims set (a map with integer
// keys, no key twice, at any depth) and makes it ready for Take. It keeps
// one copy of data, which the byte strings Take returns share.
func ReadClaims(data []byte, set ClaimSet) (ClaimsReader, error) {
	r := ClaimsReader{set: set}
	what := claimsName(set)
	if len(data) == 0 {
		return r, fmt.Errorf("%w: %s: empty", ErrMalformed, what)
	}
	if major := data[0] >> 5; major != 5 {
		return r, fmt.Errorf("%w: %s: expected a map, found %s", ErrMalformed, what, majorName(major))
	}
	if err := check(data, what); err != nil {
		return r, err
	}
	data = bytes.Clone(data)
	_, n, _ := readHead(data)
	r.claims = make([]rawClaim, 0, n)
	err := entries(data, func(_ int, k, v []byte) error {
		key, ok := asInt(k)
		if !ok {
			if m := k[0] >> 5; m <= 1 {
				return fmt.Errorf("%w: %s: key %s is out of range (claim keys must be integers)", ErrMalformed, what, keyString(k))
			}
			return fmt.Errorf("%w: %s: key of type %s (claim keys must be integers)", ErrMalformed, what, kindName(k))
		}
		r.claims = append(r.claims, rawClaim{key: key, val: v})
		return nil
	})
	return r, err
}

// Take decodes claim key into v and marks it taken. It reports whether the
// claim was present. A null or undefined value is an error, never an
// absent claim.
func (r ClaimsReader) Take(key int64, v any) (bool, error) {
	for i := range r.claims {
		c := &r.claims[i]
		if c.key != key || c.taken {
			continue
		}
		c.taken = true
		if len(c.val) == 1 && (c.val[0] == 0xf6 || c.val[0] == 0xf7) {
			return true, fmt.Errorf("%w: %s: null or undefined where a value is required", ErrSyntax, ClaimName(r.set, key))
		}
		return true, decodeValue(c.val, v, func() string { return ClaimName(r.set, key) }, true)
	}
	return false, nil
}

// Rest returns the claims not taken, each value encoded as carried, or nil.
func (r ClaimsReader) Rest() map[int64]cbor.RawMessage {
	var rest map[int64]cbor.RawMessage
	for _, c := range r.claims {
		if !c.taken {
			if rest == nil {
				rest = make(map[int64]cbor.RawMessage)
			}
			rest[c.key] = c.val[:len(c.val):len(c.val)]
		}
	}
	return rest
}

// ClaimsMap is a claims set decoded one level deep: each claim's encoded
// value by key. Decoders take the claims they know out of it and what stays
// behind is the unknown rest.
type ClaimsMap struct {
	Set    ClaimSet
	Claims map[int64]cbor.RawMessage
}

// DecodeClaimsMap strictly decodes an encoded claims set (a map with integer
// keys); see ReadClaims.
func DecodeClaimsMap(data []byte, set ClaimSet) (ClaimsMap, error) {
	m := ClaimsMap{Set: set}
	r, err := ReadClaims(data, set)
	if err != nil {
		return m, err
	}
	m.Claims = make(map[int64]cbor.RawMessage, len(r.claims))
	for _, c := range r.claims {
		m.Claims[c.key] = c.val[:len(c.val):len(c.val)]
	}
	return m, nil
}

// Take decodes claim key into v and removes it from the map. It reports
// whether the claim was present.
func (m ClaimsMap) Take(key int64, v any) (bool, error) {
	raw, ok := m.Claims[key]
	if !ok {
		return false, nil
	}
	delete(m.Claims, key)
	if len(raw) == 1 && (raw[0] == 0xf6 || raw[0] == 0xf7) {
		return true, fmt.Errorf("%w: %s: null or undefined where a value is required", ErrSyntax, ClaimName(m.Set, key))
	}
	// The map is the caller's to change, so its values are checked again.
	if err := check(raw, "claim"); err != nil {
		return true, fmt.Errorf("%s: %w", ClaimName(m.Set, key), err)
	}
	return true, decodeValue(raw, v, func() string { return ClaimName(m.Set, key) }, false)
}

// Rest returns what has not been taken, or nil.
func (m ClaimsMap) Rest() map[int64]cbor.RawMessage {
	if len(m.Claims) == 0 {
		return nil
	}
	return m.Claims
}

// ClaimPair is one claim for EncodeClaims.
type ClaimPair struct {
	Key   int64
	Value any
}

// EncodeClaims encodes a claims set as a definite-length map with the
// claims in the given order (TF-RMM's order, so that created tokens look like
// real ones byte for byte). A cbor.RawMessage value is written as is.
func EncodeClaims(pairs []ClaimPair) ([]byte, error) {
	out := appendHead(make([]byte, 0, 512), 5, uint64(len(pairs)))
	for _, p := range pairs {
		k, err := encMode.Marshal(p.Key)
		if err != nil {
			return nil, err
		}
		v, err := encMode.Marshal(p.Value)
		if err != nil {
			return nil, fmt.Errorf("encoding claim %d: %w", p.Key, err)
		}
		out = append(append(out, k...), v...)
	}
	return out, nil
}

// SortedKeys returns the keys of m in ascending order, for stable output.
// An empty map gives an empty, non-nil slice.
func SortedKeys[V any](m map[int64]V) []int64 {
	keys := slices.AppendSeq(make([]int64, 0, len(m)), maps.Keys(m))
	slices.Sort(keys)
	return keys
}

// appendHead appends a CBOR head (RFC 8949 §3) in its shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}
