package token_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/token"
)

func TestEncodeClaimsGolden(t *testing.T) {
	got, err := token.EncodeClaims([]token.ClaimPair{
		{Key: 10, Value: []byte{1}},
		{Key: 265, Value: "x"},
		{Key: -1, Value: uint64(5)},
		{Key: 44239, Value: cbor.RawMessage{0x80}},
	})
	// a4: map(4); 0a 41 01; 19 01 09 61 78; 20 05; 19 ac cf 80, in the
	// order given.
	want := mustHex(t, "a4 0a 41 01 19 01 09 61 78 20 05 19 ac cf 80")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("% x, %v; want % x", got, err, want)
	}
	if _, err := token.EncodeClaims([]token.ClaimPair{{Key: 1, Value: make(chan int)}}); err == nil || !strings.Contains(err.Error(), "claim 1") {
		t.Errorf("unencodable value: %v", err)
	}
}

func TestDecodeClaimsMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		keys []int64
		msg  string // non-empty: ErrMalformed containing it
	}{
		{name: "map", in: cMap(cInt(10), cBstr(nil), cInt(-5), cTstr("x")), keys: []int64{-5, 10}},
		{name: "empty map", in: cMap(), keys: []int64{}},
		{name: "empty input", in: nil, msg: "platform claims: empty"},
		{name: "array", in: cArr(), msg: "expected a map, found array"},
		{name: "tagged map", in: cTag(1, cMap()), msg: "found tag"},
		{name: "text key", in: cMap(cTstr("challenge"), cBstr(nil)), msg: "claim keys must be integers"},
		{name: "duplicate key", in: cMap(cInt(10), cBstr(nil), cInt(10), cBstr(nil)), msg: "duplicate map key 10"},
		{name: "trailing", in: append(cMap(), 0), msg: "extraneous"},
		{name: "nested too deep", in: cMap(cInt(1), cArr(cArr(cArr(cArr(cArr(cArr(cArr(cArr())))))))), msg: "nested level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := token.DecodeClaimsMap(tc.in, token.SetPlatform)
			if tc.msg != "" {
				if !errors.Is(err, token.ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want ErrMalformed containing %q", err, tc.msg)
				}
				if strings.Contains(tc.msg, "keys") == false && strings.Contains(err.Error(), "keys must be") {
					t.Errorf("%v: blames the keys", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := token.SortedKeys(m.Claims); len(got) != len(tc.keys) || (len(got) > 0 && !equalKeys(got, tc.keys)) {
				t.Fatalf("keys %v, want %v", got, tc.keys)
			}
		})
	}
}

func equalKeys(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSortedKeys(t *testing.T) {
	for _, tc := range []struct {
		in   map[int64]bool
		want []int64
	}{
		{map[int64]bool{}, []int64{}},
		{map[int64]bool{265: true, -1: true, 10: false, 44239: true}, []int64{-1, 10, 265, 44239}},
	} {
		got := token.SortedKeys(tc.in)
		if got == nil || !equalKeys(got, tc.want) {
			t.Errorf("SortedKeys(%v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestTake(t *testing.T) {
	in := cMap(cInt(10), cBstr(rep(1, 4)), cInt(2396), cNull, cInt(2401), []byte{0xf7}, cInt(2395), cTstr("x"),
		cInt(2402), cArr(cInt(1)), cInt(9), cInt(3))
	m, err := token.DecodeClaimsMap(in, token.SetPlatform)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	if ok, err := m.Take(10, &b); !ok || err != nil || !bytes.Equal(b, rep(1, 4)) {
		t.Errorf("Take(10): %v %v %x", ok, err, b)
	}
	if ok, err := m.Take(10, &b); ok || err != nil {
		t.Errorf("Take(10) twice: %v %v", ok, err)
	}
	for _, tc := range []struct {
		key  int64
		dst  any
		want string
	}{
		{2396, &b, "platform claim 2396 (cca-platform-implementation-id): null"},
		{2401, &b, "platform claim 2401 (cca-platform-config): null or undefined"},
		{2395, new(uint64), "platform claim 2395 (cca-platform-lifecycle)"},
		{2402, &b, "platform claim 2402 (cca-platform-hash-algo-id): expected a byte string, found array"},
	} {
		ok, err := m.Take(tc.key, tc.dst)
		if !ok || !errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Take(%d): %v %v, want ErrSyntax containing %q", tc.key, ok, err, tc.want)
		}
	}
	rest := m.Rest()
	if len(rest) != 1 || !bytes.Equal(rest[9], cInt(3)) {
		t.Errorf("Rest %v", rest)
	}
	var n int64
	if ok, err := m.Take(9, &n); !ok || err != nil || n != 3 || m.Rest() != nil {
		t.Errorf("Take(9): %v %v %d, rest %v", ok, err, n, m.Rest())
	}
}

// TestUnmarshalByteStrings: only a CBOR byte string is a []byte; the
// decoder underneath would also take an array of small integers or null.
func TestUnmarshalByteStrings(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		dst  func() any
		err  error
		msg  string
	}{
		{name: "bstr", in: cBstr([]byte{1, 2}), dst: func() any { return new([]byte) }},
		{name: "empty bstr", in: cBstr(nil), dst: func() any { return new([]byte) }},
		{name: "array of ints", in: cArr(cInt(1), cInt(2)), dst: func() any { return new([]byte) }, err: token.ErrSyntax, msg: "found array"},
		{name: "null", in: cNull, dst: func() any { return new([]byte) }, err: token.ErrSyntax, msg: "found null"},
		{name: "text", in: cTstr("ab"), dst: func() any { return new([]byte) }, err: token.ErrSyntax, msg: "found text string"},
		{name: "bstr array", in: cArr(cBstr(nil), cBstr([]byte{1})), dst: func() any { return new([][]byte) }},
		{name: "bstr array with an array", in: cArr(cBstr(nil), cArr(cInt(1))), dst: func() any { return new([][]byte) }, err: token.ErrSyntax, msg: "element 1: expected a byte string, found array"},
		{name: "bstr array with null", in: cArr(cNull), dst: func() any { return new([][]byte) }, err: token.ErrSyntax, msg: "element 0"},
		{name: "bstr array with a long bstr", in: cArr(cBstr(rep(1, 300)), cBstr(rep(2, 70000-65536)), cArr(cInt(1))), dst: func() any { return new([][]byte) }, err: token.ErrSyntax, msg: "element 2"},
		{name: "indefinite bstr", in: cIndefBstr(cBstr([]byte{1})), dst: func() any { return new([]byte) }, err: token.ErrMalformed, msg: "indefinite"},
		{name: "indefinite array", in: cIndefArr(cBstr(nil)), dst: func() any { return new([][]byte) }, err: token.ErrMalformed, msg: "indefinite"},
		{name: "oversize", in: cBstr(make([]byte, token.MaxTokenSize)), dst: func() any { return new([]byte) }, err: token.ErrMalformed, msg: "limit"},
		{name: "invalid UTF-8", in: cat(cHead(3, 1), []byte{0xff}), dst: func() any { return new(string) }, err: token.ErrMalformed, msg: "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := token.Unmarshal(tc.in, tc.dst(), "item")
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "item") {
				t.Fatalf("got %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestDiagnose(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{cMap(cInt(10), cBstr([]byte{0xff, 0x01}), cInt(265), cTstr("x")), `{10: h'ff01', 265: "x"}`},
		{cMap(cInt(44237), cBstr(cMap(cInt(1), cInt(2)))), `{44237: <<{1: 2}>>}`},
		{cArr(cInt(-35), cNull), `[-35, null]`},
	} {
		got, err := token.Diagnose(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Diagnose(% x) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := token.Diagnose([]byte{0x82, 0x01}); !errors.Is(err, token.ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
}
