package token

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// ClaimsMap is a claims set decoded one level deep: each claim's encoded
// value by key. Decoders take the claims they know out of it and what stays
// behind is the unknown rest.
type ClaimsMap struct {
	Set    ClaimSet
	Claims map[int64]cbor.RawMessage
}

// DecodeClaimsMap strictly decodes an encoded claims set (a map with integer
// keys).
func DecodeClaimsMap(data []byte, set ClaimSet) (ClaimsMap, error) {
	m := ClaimsMap{Set: set}
	if len(data) == 0 || data[0]>>5 != 5 {
		if len(data) == 0 {
			return m, fmt.Errorf("%w: %s claims: empty", ErrMalformed, set)
		}
		return m, fmt.Errorf("%w: %s claims: expected a map, found %s", ErrMalformed, set, majorName(data[0]>>5))
	}
	if err := decodeFraming(data, &m.Claims, set.String()+" claims"); err != nil {
		// Claim values are kept encoded, so a type error is a key's.
		if _, isType := errors.AsType[*cbor.UnmarshalTypeError](err); isType {
			return m, fmt.Errorf("%w (claim keys must be integers)", err)
		}
		return m, err
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
	if err := Unmarshal(raw, v, ClaimName(m.Set, key)); err != nil {
		return true, err
	}
	return true, nil
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
func SortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
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
