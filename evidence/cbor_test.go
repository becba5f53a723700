package evidence

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"math/big"
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

var (
	cNull = []byte{0xf6}
)

// bstrContent returns the content of an encoded definite byte string.
func bstrContent(enc []byte) ([]byte, bool) {
	if len(enc) == 0 || enc[0]>>5 != 2 {
		return nil, false
	}
	n, hl := headArg(enc)
	if hl+int(n) != len(enc) {
		return nil, false
	}
	return enc[hl:], true
}

// tstrContent returns the content of an encoded definite text string.
func tstrContent(enc []byte) (string, bool) {
	if len(enc) == 0 || enc[0]>>5 != 3 {
		return "", false
	}
	n, hl := headArg(enc)
	if hl+int(n) != len(enc) {
		return "", false
	}
	return string(enc[hl:]), true
}

func headArg(enc []byte) (uint64, int) {
	switch ai := enc[0] & 0x1f; {
	case ai < 24:
		return uint64(ai), 1
	case ai == 24:
		return uint64(enc[1]), 2
	case ai == 25:
		return uint64(binary.BigEndian.Uint16(enc[1:])), 3
	case ai == 26:
		return uint64(binary.BigEndian.Uint32(enc[1:])), 5
	}
	return binary.BigEndian.Uint64(enc[1:]), 9
}

// addPair appends one raw key/value pair to an encoded definite map,
// raising the count in its head.
func addPair(t testing.TB, m, k, v []byte) []byte {
	t.Helper()
	if m[0]>>5 != 5 {
		t.Fatalf("addPair: not a map: % x", m[:1])
	}
	n, hl := headArg(m)
	return cat(cHead(5, n+1), m[hl:], k, v)
}

// replaceOnce replaces the one occurrence of old in b, failing the test if
// there is not exactly one: a mutation must hit what it means to hit.
func replaceOnce(t testing.TB, b, old, new []byte) []byte {
	t.Helper()
	if n := bytes.Count(b, old); n != 1 {
		t.Fatalf("replaceOnce: %d occurrences of % x", n, old[:min(len(old), 8)])
	}
	return bytes.Replace(b, old, new, 1)
}

// flipAt flips the low bit of the byte at i, i counting from the end when
// negative.
func flipAt(b []byte, i int) []byte {
	out := bytes.Clone(b)
	if i < 0 {
		i += len(out)
	}
	out[i] ^= 0x01
	return out
}

// coseKey is the COSE_Key of an EC public key as RFC 9052 §7 and RFC 9053
// §7.1 define it, in t_cose's order: {1: 2 (EC2), -1: crv, -2: x, -3: y}.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	size := (len(raw) - 1) / 2
	crv := map[int]int64{32: 1, 48: 2, 66: 3}[size]
	return cMap(cInt(1), cInt(2), cInt(-1), cInt(crv), cInt(-2), cBstr(raw[1:1+size]), cInt(-3), cBstr(raw[1+size:]))
}

// signES builds a tagged COSE_Sign1 by hand (RFC 9052 §4.4): the
// Sig_structure ["Signature1", protected, h”, payload] hashed with h and
// signed with key, the signature as r||s of the curve's size (RFC 9053
// §2.1). It lets tests sign with any header, including a lying one.
func signES(t testing.TB, key *ecdsa.PrivateKey, h crypto.Hash, protected, unprotected, payload []byte) []byte {
	t.Helper()
	tbs := cArr(cTstr("Signature1"), cBstr(protected), cBstr(nil), cBstr(payload))
	d := h.New()
	d.Write(tbs)
	r, s, err := ecdsa.Sign(rand.Reader, key, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	sig := append(pad(r, size), pad(s, size)...)
	return cTag(18, cArr(cBstr(protected), unprotected, cBstr(payload), cBstr(sig)))
}

func pad(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }
