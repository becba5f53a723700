package token_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ccakit/cca/internal/cbortest"
)

// The hand-rolled CBOR writer, independent of the encoder under test.
var (
	cHead      = cbortest.Head
	cInt       = cbortest.Int
	cBstr      = cbortest.Bstr
	cTstr      = cbortest.Tstr
	cArr       = cbortest.Arr
	cMap       = cbortest.Map
	cTag       = cbortest.Tag
	cIndefMap  = cbortest.IndefMap
	cIndefArr  = cbortest.IndefArr
	cIndefBstr = cbortest.IndefBstr
	cat        = cbortest.Cat
)

var cNull = []byte{0xf6}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// mustHex decodes hex written with spaces, for hand-derived byte strings.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}
