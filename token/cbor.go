package token

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits applied to every piece of evidence before and while it is decoded.
// Real tokens are small: TF-RMM bounds the whole collection by 4 KB of
// platform token plus one granule of realm token (cca-rmm-1.0.md §3.1), so
// these leave generous room for 2.0 claims while refusing resource abuse.
const (
	// MaxTokenSize bounds the encoded size of a collection or of one token.
	MaxTokenSize = 64 << 10
	// MaxNesting bounds the depth of nested arrays and maps.
	MaxNesting = 8
	// MaxArrayLen bounds the number of elements of any array (software
	// components, REMs, ...).
	MaxArrayLen = 128
	// MaxMapPairs bounds the number of entries of any map (claims sets).
	MaxMapPairs = 128
)

var (
	// strictDec rejects everything an honest encoder never produces and an
	// attacker might use to make two parsers disagree: duplicate keys,
	// indefinite lengths, tags (the few tags that belong are handled
	// explicitly), invalid UTF-8, and over-deep or over-long structures.
	strictDec cbor.DecMode
	// tagDec differs from strictDec only in allowing the one outer tag.
	tagDec cbor.DecMode
	// encMode writes definite lengths, shortest-form integers, and struct
	// fields in declaration order, which is how TF-RMM orders claims.
	encMode cbor.EncMode
)

func init() {
	opts := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  MaxNesting,
		MaxArrayElements: MaxArrayLen,
		MaxMapPairs:      MaxMapPairs,
		UTF8:             cbor.UTF8RejectInvalid,
		IntDec:           cbor.IntDecConvertSigned,
	}
	var err error
	if strictDec, err = opts.DecMode(); err != nil {
		panic(err) // the options above are constants
	}
	opts.TagsMd = cbor.TagsAllowed
	if tagDec, err = opts.DecMode(); err != nil {
		panic(err)
	}
	encMode, err = cbor.EncOptions{
		Sort:          cbor.SortNone,
		IndefLength:   cbor.IndefLengthForbidden,
		ShortestFloat: cbor.ShortestFloat16,
	}.EncMode()
	if err != nil {
		panic(err)
	}
}

// Unmarshal decodes one CBOR data item from data into v under the strict
// evidence rules. what names the item in the error ("realm token payload",
// "claim 44238"...). Structural problems wrap ErrMalformed; a well-formed
// item of the wrong type wraps ErrSyntax.
func Unmarshal(data []byte, v any, what string) error {
	return decode(data, v, what, ErrSyntax)
}

// decodeFraming is Unmarshal for framing (collection, COSE_Sign1), where a
// type mismatch means the structure itself is malformed.
func decodeFraming(data []byte, v any, what string) error {
	return decode(data, v, what, ErrMalformed)
}

func decode(data []byte, v any, what string, typeClass error) error {
	if len(data) > MaxTokenSize {
		return fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxTokenSize)
	}
	// The decoder fills a []byte from a byte string but also from an array
	// of small integers, and from null. Only a byte string is one.
	_, isBytes := v.(*[]byte)
	if isBytes && len(data) > 0 && data[0]>>5 != 2 {
		return fmt.Errorf("%w: %s: expected a byte string, found %s", typeClass, what, majorName(data[0]>>5))
	}
	if err := classify(strictDec.Unmarshal(data, v), what, typeClass); err != nil {
		return err
	}
	switch v.(type) {
	case *[][]byte:
		if i, major, ok := bstrElements(data); !ok {
			return fmt.Errorf("%w: %s: element %d: expected a byte string, found %s", typeClass, what, i, majorName(major))
		}
	}
	return nil
}

// bstrElements checks that every element of the well-formed, definite-length
// array data is a byte string. If one is not, it returns its index and major
// type.
func bstrElements(data []byte) (int, byte, bool) {
	_, n, off := readHead(data)
	for i := uint64(0); i < n; i++ {
		major, length, hl := readHead(data[off:])
		if major != 2 {
			return int(i), major, false
		}
		off += hl + int(length)
	}
	return 0, 0, true
}

// readHead reads the head of a well-formed data item (RFC 8949 §3): its
// major type, argument, and the head's length. Only for items the strict
// decoder has already accepted.
func readHead(data []byte) (major byte, arg uint64, n int) {
	major, ai := data[0]>>5, data[0]&0x1f
	switch {
	case ai < 24:
		return major, uint64(ai), 1
	case ai == 24:
		return major, uint64(data[1]), 2
	case ai == 25:
		return major, uint64(binary.BigEndian.Uint16(data[1:])), 3
	case ai == 26:
		return major, uint64(binary.BigEndian.Uint32(data[1:])), 5
	}
	return major, binary.BigEndian.Uint64(data[1:]), 9
}

// bstr is a []byte that only a CBOR byte string (or null, read as nil)
// decodes into, for the framing structures.
type bstr []byte

func (b *bstr) UnmarshalCBOR(data []byte) error {
	if len(data) == 1 && (data[0] == 0xf6 || data[0] == 0xf7) {
		*b = nil
		return nil
	}
	if len(data) == 0 || data[0]>>5 != 2 {
		name := "empty input"
		if len(data) > 0 {
			name = majorName(data[0] >> 5)
		}
		return &cbor.UnmarshalTypeError{CBORType: name, GoType: "byte string"}
	}
	return strictDec.Unmarshal(data, (*[]byte)(b))
}

// Marshal encodes v with the package's deterministic-length, order-preserving
// encoder.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// classify maps a decoder error to one of the package's error classes with
// the decoder's own explanation kept.
func classify(err error, what string, typeClass error) error {
	if err == nil {
		return nil
	}
	var typeErr *cbor.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Errorf("%w: %s: %w", typeClass, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// unwrapTag decodes a tagged data item, requires its tag number to be want,
// and returns the encoded content.
func unwrapTag(data []byte, want uint64, what string) ([]byte, error) {
	if len(data) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxTokenSize)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s: empty input", ErrMalformed, what)
	}
	if major := data[0] >> 5; major != 6 {
		return nil, fmt.Errorf("%w: %s: expected CBOR tag %d, found %s", ErrMalformed, what, want, majorName(major))
	}
	var raw cbor.RawTag
	if err := tagDec.Unmarshal(data, &raw); err != nil {
		return nil, classify(err, what, ErrMalformed)
	}
	if raw.Number != want {
		return nil, fmt.Errorf("%w: %s: expected CBOR tag %d, found tag %d", ErrMalformed, what, want, raw.Number)
	}
	return raw.Content, nil
}

func majorName(major byte) string {
	return [...]string{"unsigned integer", "negative integer", "byte string", "text string",
		"array", "map", "tag", "simple value or float"}[major&7]
}
