package token

import (
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// FuzzCheck holds check (strict.go) to fxamacker's strict decoder as an
// oracle: whatever that decoder accepts into an interface value, check
// accepts; whatever check accepts, that decoder accepts too, unless it
// cannot represent the map keys in Go: byte string, array or map keys, and
// null and undefined, which are two distinct simple values (22 and 23, RFC
// 8949 §3.3) and so two distinct keys in the CBOR data model (§5.6), but
// both Go's nil in an interface map, where the decoder sees a duplicate.
// check is right there: {null: 0, undefined: 0} has no duplicate key.
// The walk helpers then read every accepted input without panicking.
func FuzzCheck(f *testing.F) {
	for _, s := range [][]byte{
		{0xa2, 0x01, 0x02, 0x03, 0x04},
		{0xa2, 0x01, 0x02, 0x01, 0x04},                                           // duplicate key
		{0xa2, 0x18, 0x01, 0x02, 0x01, 0x04},                                     // duplicate key, long head
		{0xa2, 0xf9, 0x3c, 0x00, 0x01, 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x02}, // 1.0 twice
		{0xa2, 0x61, 0x61, 0x01, 0x79, 0x00, 0x01, 0x61, 0x02},                   // "a" twice
		{0x82, 0x63, 0xe2, 0x82, 0xac, 0x62, 0xc3, 0x28},                         // bad UTF-8
		{0xa2, 0xf9, 0x7e, 0x00, 0x01, 0xfa, 0x7f, 0xc0, 0, 0, 0x02},             // NaN keys
		{0x9f, 0xff}, {0xd8, 0x18, 0x40}, {0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x80},
		{0xa1, 0x80, 0x00}, {0xa1, 0x40, 0x00}, {0xf8, 0x10}, {0xfa, 0x7f, 0xc0, 0, 0},
		{0xa2, 0xf6, 0x00, 0xf7, 0x00}, // {null: 0, undefined: 0}: two keys
		{0xa2, 0xf6, 0x00, 0xf6, 0x01}, // {null: 0, null: 1}: a duplicate
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours := check(data, "fuzz")
		var v any
		theirs := strictDec.Unmarshal(data, &v)
		if theirs == nil && ours != nil {
			t.Fatalf("check rejects what the decoder accepts: %v", ours)
		}
		if ours != nil {
			if !errors.Is(ours, ErrMalformed) {
				t.Fatalf("check error not ErrMalformed: %v", ours)
			}
			return
		}
		if theirs != nil {
			msg := theirs.Error()
			var te *cbor.UnmarshalTypeError
			var dup *cbor.DupMapKeyError
			nilKeys := errors.As(theirs, &dup) && dup.Key == nil
			if !(strings.Contains(msg, "invalid map key type") || errors.As(theirs, &te) || nilKeys) {
				t.Fatalf("check accepts what the decoder rejects: %v", theirs)
			}
		}
		// Every accepted item can be read in place.
		if itemLen(data) != len(data) {
			t.Fatalf("itemLen %d of %d bytes", itemLen(data), len(data))
		}
		_ = decodeValue(data, new([][]byte), func() string { return "x" }, true)
		_ = decodeValue(data, new([]cbor.RawMessage), func() string { return "x" }, true)
		_ = decodeValue(data, new(int64), func() string { return "x" }, false)
		if data[0]>>5 == 5 {
			_ = entries(data, func(int, []byte, []byte) error { return nil })
			_, _ = ReadClaims(data, SetPlatform)
		}
	})
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		msg  string // empty: accepted
	}{
		{"map", []byte{0xa2, 0x01, 0x02, 0x03, 0x04}, ""},
		{"keys equal by value, long head", []byte{0xa2, 0x18, 0x01, 0x02, 0x01, 0x04}, "duplicate map key 1 (map element 1)"},
		{"negative keys", []byte{0xa2, 0x20, 0x00, 0x38, 0x00, 0x00}, "duplicate map key -1"},
		{"unsigned and negative differ", []byte{0xa2, 0x00, 0x00, 0x20, 0x00}, ""},
		{"text keys, long head", []byte{0xa2, 0x61, 0x61, 0x01, 0x78, 0x01, 0x61, 0x02}, `duplicate map key "a"`},
		{"text and bytes differ", []byte{0xa2, 0x61, 0x61, 0x01, 0x41, 0x61, 0x02}, ""},
		{"1.0 as half and double", []byte{0xa2, 0xf9, 0x3c, 0x00, 0x01, 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x02}, "duplicate map key"},
		{"NaN twice", []byte{0xa2, 0xf9, 0x7e, 0x00, 0x01, 0xfa, 0x7f, 0xc0, 0, 0, 0x02}, ""},
		{"null and undefined keys", []byte{0xa2, 0xf6, 0x00, 0xf7, 0x00}, ""},
		{"null twice", []byte{0xa2, 0xf6, 0x00, 0xf6, 0x01}, "duplicate map key"},
		{"nested path", []byte{0xa1, 0x19, 0x09, 0x5f, 0x81, 0xa2, 0x02, 0x00, 0x02, 0x00}, "duplicate map key 2 (map element 1) at 2399/[0]"},
		{"bad UTF-8 value", []byte{0xa1, 0x01, 0x62, 0xc3, 0x28}, "invalid UTF-8 in a text string at 1"},
		{"bad UTF-8 key", []byte{0xa1, 0x62, 0xc3, 0x28, 0x01}, "invalid UTF-8"},
		{"tag", []byte{0xc1, 0x00}, "tag"},
		{"indefinite", []byte{0x9f, 0xff}, "indefinite"},
		{"trailing", []byte{0x00, 0x00}, "extraneous"},
		{"empty", nil, "empty input"},
	} {
		err := check(tc.in, "x")
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrMalformed containing %q", tc.name, err, tc.msg)
		}
	}
}
