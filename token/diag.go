package token

import (
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// CBOR diagnostic notation with embedded CBOR shown only where it is meant.
//
// fxamacker's ByteStringEmbeddedCBOR shows any byte string that parses as a
// CBOR sequence as embedded: a zero REM becomes <<0, 0, ..., 0>> and the
// platform config cfe50000 <<15(simple(5)), 0, 0>>. Here a byte string is shown as <<...>> only when it holds exactly one
// well-formed map, array or tag, which is what the collection entries, the
// COSE_Sign1 headers and payloads and a COSE_Key are, and a digest or a raw
// EC point (04 || X || Y) practically never is.

// flatDiag renders single items without any embedding.
var flatDiag = func() cbor.DiagMode {
	dm, err := cbor.DiagOptions{
		ByteStringEncoding: cbor.ByteStringBase16Encoding,
		MaxNestedLevels:    MaxNesting * 4,
		MaxArrayElements:   MaxArrayLen,
		MaxMapPairs:        MaxMapPairs,
	}.DiagMode()
	if err != nil {
		panic(err) // constant options
	}
	return dm
}()

// maxEmbedding bounds how deep byte strings are opened as embedded CBOR.
const maxEmbedding = 8

// Diagnose renders one CBOR data item (and nothing after it) in extended
// diagnostic notation (RFC 8949 §8), for inspection output.
func Diagnose(data []byte) (string, error) {
	// The flat rendering checks well-formedness, the limits and trailing
	// bytes once, so that the walk below can only meet well-formed items.
	if _, err := flatDiag.Diagnose(data); err != nil {
		return "", fmt.Errorf("%w: diagnostic notation: %v", ErrMalformed, err)
	}
	var b strings.Builder
	if _, err := diagItem(&b, data, 0); err != nil {
		return "", fmt.Errorf("%w: diagnostic notation: %v", ErrMalformed, err)
	}
	return b.String(), nil
}

// cborHead parses the head of the item at the start of data: major type,
// argument, head length. Indefinite lengths report ok false.
func cborHead(data []byte) (major byte, arg uint64, n int, ok bool) {
	if len(data) == 0 {
		return 0, 0, 0, false
	}
	major, ai := data[0]>>5, data[0]&0x1f
	switch {
	case ai < 24:
		return major, uint64(ai), 1, true
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(data) < 1+size {
			return 0, 0, 0, false
		}
		for _, c := range data[1 : 1+size] {
			arg = arg<<8 | uint64(c)
		}
		return major, arg, 1 + size, true
	}
	return 0, 0, 0, false
}

// diagItem writes the item at the start of data and returns what follows.
func diagItem(b *strings.Builder, data []byte, embedded int) ([]byte, error) {
	major, arg, hl, ok := cborHead(data)
	if !ok || major < 2 || major > 6 || (major == 2 || major == 3) && arg > uint64(len(data)-hl) {
		// Scalars, floats, simple values, and anything unusual: the flat
		// rendering of exactly this item.
		s, rest, err := flatDiag.DiagnoseFirst(data)
		b.WriteString(s)
		return rest, err
	}
	rest := data[hl:]
	switch major {
	case 2:
		content := rest[:arg]
		if embedded < maxEmbedding && isEmbeddedItem(content) {
			b.WriteString("<<")
			if _, err := diagItem(b, content, embedded+1); err != nil {
				return nil, err
			}
			b.WriteString(">>")
			return rest[arg:], nil
		}
		s, rest, err := flatDiag.DiagnoseFirst(data)
		b.WriteString(s)
		return rest, err
	case 3:
		s, rest, err := flatDiag.DiagnoseFirst(data)
		b.WriteString(s)
		return rest, err
	case 4, 5:
		open, closer, per := "[", "]", uint64(1)
		if major == 5 {
			open, closer, per = "{", "}", 2
		}
		b.WriteString(open)
		var err error
		for i := uint64(0); i < arg*per; i++ {
			switch {
			case i == 0:
			case major == 5 && i%2 == 1:
				b.WriteString(": ")
			default:
				b.WriteString(", ")
			}
			if rest, err = diagItem(b, rest, embedded); err != nil {
				return nil, err
			}
		}
		b.WriteString(closer)
		return rest, nil
	default: // 6, a tag
		fmt.Fprintf(b, "%d(", arg)
		rest, err := diagItem(b, rest, embedded)
		if err != nil {
			return nil, err
		}
		b.WriteString(")")
		return rest, nil
	}
}

// isEmbeddedItem reports whether content is exactly one well-formed map,
// array or tag of definite length.
func isEmbeddedItem(content []byte) bool {
	major, _, _, ok := cborHead(content)
	if !ok || major < 4 || major > 6 {
		return false
	}
	_, rest, err := flatDiag.DiagnoseFirst(content)
	return err == nil && len(rest) == 0
}
