package token

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Strict validation in one place, then reading in place.
//
// check runs over a whole input once: fxamacker's well-formedness check
// with the package limits (definite lengths only, no tags, nesting, array
// and map sizes, no trailing bytes), then a walk of its own for what that
// check does not cover: valid UTF-8 in every text string and no duplicate
// key in any map, at any depth. Neither allocates on success. What check
// has accepted is then read with the head and item helpers below, which
// assume well-formed input, without decoding into intermediate Go maps:
// attestation evidence is decoded on every verification, so this path is
// kept allocation-light (evidence/bench_test.go).

// check validates data as one strict CBOR data item. what names it in the
// error; every failure is ErrMalformed.
func check(data []byte, what string) error {
	if len(data) > MaxTokenSize {
		return fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxTokenSize)
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: %s: empty input", ErrMalformed, what)
	}
	if err := strictDec.Wellformed(data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	if _, err := walk(data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return nil
}

// readHead reads the head of a well-formed data item (RFC 8949 §3): its
// major type, argument (for floats and simple values, their bits), and
// the head's length. Only for items check has accepted.
func readHead(data []byte) (major byte, arg uint64, n int) {
	major, ai := data[0]>>5, data[0]&0x1f
	switch {
	case ai < 24:
		return major, uint64(ai), 1
	case ai == 24:
		return major, uint64(data[1]), 2
	case ai == 25:
		return major, uint64(data[1])<<8 | uint64(data[2]), 3
	case ai == 26:
		return major, uint64(data[1])<<24 | uint64(data[2])<<16 | uint64(data[3])<<8 | uint64(data[4]), 5
	}
	var v uint64
	for _, b := range data[1:9] {
		v = v<<8 | uint64(b)
	}
	return major, v, 9
}

// itemLen is the encoded length of the well-formed item at the start of
// data.
func itemLen(data []byte) int {
	major, arg, n := readHead(data)
	switch major {
	case 2, 3:
		return n + int(arg)
	case 4, 5:
		count := arg
		if major == 5 {
			count *= 2
		}
		for range count {
			n += itemLen(data[n:])
		}
		return n
	case 6:
		return n + itemLen(data[n:])
	}
	return n
}

// walk checks the UTF-8 and duplicate-key rules on the well-formed item at
// the start of data and returns its length.
func walk(data []byte) (int, error) {
	major, arg, n := readHead(data)
	switch major {
	case 2:
		return n + int(arg), nil
	case 3:
		if !utf8.Valid(data[n : n+int(arg)]) {
			return 0, &walkError{msg: "invalid UTF-8 in a text string"}
		}
		return n + int(arg), nil
	case 4:
		for i := range int(arg) {
			l, err := walk(data[n:])
			if err != nil {
				return 0, err.(*walkError).at(fmt.Sprintf("[%d]", i))
			}
			n += l
		}
		return n, nil
	case 5:
		// Keys by position, to compare each new key with those before it.
		// At most MaxMapPairs (check's limits hold), so on the stack.
		var keys [MaxMapPairs][2]int
		for i := range int(arg) {
			kl, err := walk(data[n:])
			if err != nil {
				return 0, err
			}
			key := data[n : n+kl]
			for _, k := range keys[:i] {
				if sameKey(data[k[0]:k[1]], key) {
					return 0, &walkError{msg: fmt.Sprintf("duplicate map key %s (map element %d)", keyString(key), i)}
				}
			}
			keys[i] = [2]int{n, n + kl}
			n += kl
			vl, err := walk(data[n:])
			if err != nil {
				return 0, err.(*walkError).at(keyString(key))
			}
			n += vl
		}
		return n, nil
	case 6:
		l, err := walk(data[n:])
		return n + l, err
	}
	return n, nil
}

// walkError is a walk failure and where it is: the map keys and array
// indices from the top, "2399/[0]" for the first software component.
type walkError struct {
	msg  string
	path []string
}

func (e *walkError) at(step string) *walkError {
	e.path = append([]string{step}, e.path...)
	return e
}

func (e *walkError) Error() string {
	if len(e.path) == 0 {
		return e.msg
	}
	return e.msg + " at " + strings.Join(e.path, "/")
}

// sameKey compares two encoded map keys by value where the encoding may
// differ (integers and strings in a longer head than needed), and by
// encoding otherwise.
func sameKey(a, b []byte) bool {
	ma, va, na := readHead(a)
	mb, vb, nb := readHead(b)
	if ma != mb {
		return false
	}
	switch ma {
	case 0, 1:
		return va == vb
	case 2, 3:
		return bytes.Equal(a[na:], b[nb:])
	case 7:
		if fa, ok := asFloat(a); ok {
			fb, ok := asFloat(b)
			return ok && fa == fb // as fxamacker and Go maps: a NaN key is never a duplicate
		}
	}
	return bytes.Equal(a, b)
}

// asFloat reads a well-formed half, single or double float (RFC 8949
// §3.3), so that 1.0 as a half and as a double are one map key.
func asFloat(item []byte) (float64, bool) {
	_, bits, n := readHead(item)
	switch n {
	case 3: // half: 1 sign, 5 exponent, 10 fraction bits (RFC 8949 appendix D)
		exp, frac := int(bits>>10&0x1f), float64(bits&0x3ff)
		var f float64
		switch exp {
		case 0:
			f = math.Ldexp(frac, -24)
		case 31:
			if frac == 0 {
				f = math.Inf(1)
			} else {
				f = math.NaN()
			}
		default:
			f = math.Ldexp(frac+1024, exp-25)
		}
		if bits&0x8000 != 0 {
			f = -f
		}
		return f, true
	case 5:
		return float64(math.Float32frombits(uint32(bits))), true
	case 9:
		return math.Float64frombits(bits), true
	}
	return 0, false
}

func keyString(key []byte) string {
	switch major, arg, n := readHead(key); major {
	case 0:
		return strconv.FormatUint(arg, 10)
	case 1:
		if arg <= math.MaxInt64 {
			return strconv.FormatInt(-1-int64(arg), 10)
		}
		return "-1-" + strconv.FormatUint(arg, 10)
	case 3:
		return strconv.Quote(string(key[n:]))
	}
	return fmt.Sprintf("h'%x'", key)
}

// asInt reads a well-formed item as an int64, reporting false for other
// types and for integers out of the int64 range.
func asInt(item []byte) (int64, bool) {
	major, arg, _ := readHead(item)
	if (major != 0 && major != 1) || arg > math.MaxInt64 {
		return 0, false
	}
	if major == 1 {
		return -1 - int64(arg), true
	}
	return int64(arg), true
}

// content returns the content of a well-formed byte or text string.
func content(item []byte) []byte {
	_, arg, n := readHead(item)
	return item[n : n+int(arg)]
}

// entries calls f with each key and value of the well-formed map (or, with
// values nil, each element of the array) at the start of data.
func entries(data []byte, f func(i int, key, val []byte) error) error {
	major, arg, n := readHead(data)
	for i := range int(arg) {
		kl := itemLen(data[n:])
		key := data[n : n+kl]
		n += kl
		var val []byte
		if major == 5 {
			vl := itemLen(data[n:])
			val = data[n : n+vl]
			n += vl
		}
		if err := f(i, key, val); err != nil {
			return err
		}
	}
	return nil
}

// kindName names what a well-formed item is, for messages.
func kindName(item []byte) string {
	if len(item) == 1 && (item[0] == 0xf6 || item[0] == 0xf7) {
		return "null"
	}
	return majorName(item[0] >> 5)
}

// decodeValue decodes one checked, well-formed item into v. The common
// claim types are read directly; anything else goes through the strict
// fxamacker decoder. Only a byte string is a []byte (fxamacker would also
// take an array of small integers, or null). name is called for messages
// only, so that the happy path builds no strings. With alias, byte strings
// are returned as (capacity-limited) slices of item rather than copies: for
// callers that own item.
func decodeValue(item []byte, v any, name func() string, alias bool) error {
	bstr := func(e []byte) []byte {
		c := content(e)
		if alias {
			return c[:len(c):len(c)]
		}
		return append([]byte{}, c...)
	}
	mismatch := func(want string) error {
		return fmt.Errorf("%w: %s: expected %s, found %s", ErrSyntax, name(), want, kindName(item))
	}
	major := item[0] >> 5
	switch p := v.(type) {
	case *[]byte:
		if major != 2 {
			return mismatch("a byte string")
		}
		*p = bstr(item)
	case *string:
		if major != 3 {
			return mismatch("a text string")
		}
		*p = string(content(item))
	case *uint64:
		if major != 0 {
			return mismatch("an unsigned integer")
		}
		_, *p, _ = readHead(item)
	case *int64:
		n, ok := asInt(item)
		if !ok {
			return mismatch("an integer in the int64 range")
		}
		*p = n
	case *[][]byte:
		if major != 4 {
			return mismatch("an array of byte strings")
		}
		_, n, _ := readHead(item)
		out := make([][]byte, 0, n)
		err := entries(item, func(i int, e, _ []byte) error {
			if e[0]>>5 != 2 {
				return fmt.Errorf("%w: %s: element %d: expected a byte string, found %s", ErrSyntax, name(), i, kindName(e))
			}
			out = append(out, bstr(e))
			return nil
		})
		if err != nil {
			return err
		}
		*p = out
	case *[]cbor.RawMessage:
		if major != 4 {
			return mismatch("an array")
		}
		_, n, _ := readHead(item)
		out := make([]cbor.RawMessage, 0, n)
		_ = entries(item, func(_ int, e, _ []byte) error {
			if !alias {
				e = bytes.Clone(e)
			}
			out = append(out, e[:len(e):len(e)])
			return nil
		})
		*p = out
	default:
		return classify(strictDec.Unmarshal(item, v), name(), ErrSyntax)
	}
	return nil
}
