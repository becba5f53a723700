package token

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits applied to every piece of evidence before and while it is decoded.
// Real tokens are small: TF-RMM bounds the whole collection by 4 KB of
// platform token plus one granule of realm token (TF-RMM RMM_CCA_TOKEN_BUFFER), so
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
	// Its Wellformed is the first half of check (strict.go).
	strictDec cbor.DecMode
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
	if err := check(data, what); err != nil {
		return err
	}
	return decodeValue(data, v, func() string { return what }, false)
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

func majorName(major byte) string {
	return [...]string{"unsigned integer", "negative integer", "byte string", "text string",
		"array", "map", "tag", "simple value or float"}[major&7]
}
