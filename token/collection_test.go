package token_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

// TestCollectionEncodeGolden: the wrappers as TF-RMM attestation_token.c writes them
// out, written by hand: 399 = d9 01 8f, 907 = d9 03 8b, 44234 = 19 ac ca,
// 44241 = 19 ac d1, 263 = 19 01 07.
func TestCollectionEncodeGolden(t *testing.T) {
	for _, tc := range []struct {
		w    token.Wrapper
		want string
	}{
		{token.Wrapper399, "d9 01 8f a2 19 ac ca 41 01 19 ac d1 41 02"},
		{token.Wrapper907, "d9 03 8b a2 19 ac ca 82 19 01 07 41 01 19 ac d1 82 19 01 07 41 02"},
	} {
		got, err := (&token.Collection{Wrapper: tc.w, Platform: []byte{1}, Realm: []byte{2}}).Encode()
		if err != nil || !bytes.Equal(got, mustHex(t, tc.want)) {
			t.Errorf("%v: % x, %v; want %s", tc.w, got, err, tc.want)
		}
	}
	if _, err := (&token.Collection{Wrapper: 18}).Encode(); !errors.Is(err, token.ErrMalformed) {
		t.Errorf("unknown wrapper: %v", err)
	}
}

func TestDecodeCollection(t *testing.T) {
	p, r := []byte("platform token"), []byte("realm token")
	e907 := func(cf int64, b []byte) []byte { return cArr(cInt(cf), cBstr(b)) }
	for _, tc := range []struct {
		name string
		in   []byte
		want token.Wrapper // 0: must fail with ErrMalformed
		msg  string
	}{
		{name: "399", in: cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))), want: token.Wrapper399},
		{name: "399, realm first", in: cTag(399, cMap(cInt(44241), cBstr(r), cInt(44234), cBstr(p))), want: token.Wrapper399},
		{name: "907", in: cTag(907, cMap(cInt(44234), e907(263, p), cInt(44241), e907(263, r))), want: token.Wrapper907},
		{name: "empty", in: nil, msg: "empty input"},
		{name: "tag 398", in: cTag(398, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))), msg: "found tag 398"},
		{name: "tag 18", in: cTag(18, cArr()), msg: "found tag 18"},
		{name: "tag 399 in 4 bytes", in: cat([]byte{0xda, 0, 0, 1, 0x8f}, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))), msg: "non-shortest"},
		{name: "untagged", in: cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r)), msg: "found map"},
		{name: "tag on an array", in: cTag(399, cArr(cBstr(p), cBstr(r))), msg: "evidence collection (tag 399)"},
		{name: "one entry", in: cTag(399, cMap(cInt(44234), cBstr(p))), msg: "no realm token (entry 44241)"},
		{name: "no platform", in: cTag(907, cMap(cInt(44241), e907(263, r))), msg: "no platform token (entry 44234)"},
		{name: "three entries", in: cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r), cInt(44235), cBstr(r))), msg: "unexpected entry 44235"},
		{name: "duplicate entry", in: cTag(399, cMap(cInt(44234), cBstr(p), cInt(44234), cBstr(p), cInt(44241), cBstr(r))), msg: "duplicate map key 44234"},
		{name: "text key", in: cTag(399, cMap(cTstr("44234"), cBstr(p), cInt(44241), cBstr(r))), msg: "evidence collection (tag 399)"},
		{name: "399 entry as text", in: cTag(399, cMap(cInt(44234), cTstr("p"), cInt(44241), cBstr(r))), msg: "entry 44234 (platform token): expected a byte string, found text string"},
		{name: "399 entry null", in: cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cNull)), msg: "entry 44241 (realm token): expected a byte string"},
		{name: "399 entry as cmw", in: cTag(399, cMap(cInt(44234), e907(263, p), cInt(44241), cBstr(r))), msg: "entry 44234"},
		{name: "907 entry as bstr", in: cTag(907, cMap(cInt(44234), cBstr(p), cInt(44241), e907(263, r))), msg: "expected [263, bstr]"},
		{name: "907 content format 262", in: cTag(907, cMap(cInt(44234), e907(263, p), cInt(44241), e907(262, r))), msg: "content format 262, expected 263"},
		{name: "907 content format negative", in: cTag(907, cMap(cInt(44234), e907(-263, p), cInt(44241), e907(263, r))), msg: "entry 44234"},
		{name: "907 one-element entry", in: cTag(907, cMap(cInt(44234), cArr(cInt(263)), cInt(44241), e907(263, r))), msg: "expected [263, bstr]"},
		{name: "907 entry token null", in: cTag(907, cMap(cInt(44234), cArr(cInt(263), cNull), cInt(44241), e907(263, r))), msg: "the token is null"},
		{name: "907 entry token array", in: cTag(907, cMap(cInt(44234), cArr(cInt(263), cArr(cInt(1))), cInt(44241), e907(263, r))), msg: "entry 44234"},
		{name: "907 tagged token", in: cTag(907, cMap(cInt(44234), cArr(cInt(263), cTag(24, cBstr(p))), cInt(44241), e907(263, r))), msg: "tag"},
		{name: "indefinite map", in: cTag(399, cIndefMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))), msg: "indefinite-length map"},
		{name: "indefinite entry", in: cTag(399, cMap(cInt(44234), cIndefBstr(cBstr(p)), cInt(44241), cBstr(r))), msg: "indefinite-length byte string"},
		{name: "trailing byte", in: append(cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))), 0), msg: "extraneous"},
		{name: "truncated", in: cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r)))[:20], msg: "EOF"},
		{name: "oversize", in: cTag(399, cMap(cInt(44234), cBstr(make([]byte, token.MaxTokenSize)), cInt(44241), cBstr(r))), msg: "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := token.DecodeCollection(tc.in)
			if tc.want == 0 {
				if !errors.Is(err, token.ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want ErrMalformed containing %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Wrapper != tc.want || !bytes.Equal(c.Platform, p) || !bytes.Equal(c.Realm, r) {
				t.Fatalf("decoded %+v", c)
			}
			again, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := token.DecodeCollection(again)
			if err != nil || c2.Wrapper != c.Wrapper || !bytes.Equal(c2.Platform, p) || !bytes.Equal(c2.Realm, r) {
				t.Fatalf("re-encoded collection decodes to %+v, %v", c2, err)
			}
		})
	}
}

func TestWrapperString(t *testing.T) {
	for w, want := range map[token.Wrapper]string{399: "tag 399", 907: "tag 907", 18: "unknown wrapper (tag 18)"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("%d: %q", int(w), w.String())
		}
	}
}
