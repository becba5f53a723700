package token

import (
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
	return classify(strictDec.Unmarshal(data, v), what, typeClass)
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
		return fmt.Errorf("%w: %s: %v", typeClass, what, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
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

// Diagnose renders CBOR in extended diagnostic notation (RFC 8949 §8), for
// inspection output. Nested byte strings that are themselves CBOR are shown
// embedded (<<...>>).
func Diagnose(data []byte) (string, error) {
	dm, err := cbor.DiagOptions{
		ByteStringEncoding:      cbor.ByteStringBase16Encoding,
		ByteStringHexWhitespace: false,
		ByteStringEmbeddedCBOR:  true,
		CBORSequence:            false,
		MaxNestedLevels:         MaxNesting * 2,
		MaxArrayElements:        MaxArrayLen,
		MaxMapPairs:             MaxMapPairs,
	}.DiagMode()
	if err != nil {
		return "", err
	}
	s, err := dm.Diagnose(data)
	if err != nil {
		return "", classify(err, "diagnostic notation", ErrMalformed)
	}
	return s, nil
}
