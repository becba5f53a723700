package evidence

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"testing"
)

// A hand-rolled CBOR writer (RFC 8949 §3) for building test inputs. It is
// deliberately independent of the encoder under test, and it can write what
// that encoder refuses to: duplicate keys, indefinite lengths, odd tags.

// cHead is a head in its shortest form.
func cHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cInt(n int64) []byte {
	if n >= 0 {
		return cHead(0, uint64(n))
	}
	return cHead(1, uint64(-1-n))
}

func cBstr(b []byte) []byte { return cat(cHead(2, uint64(len(b))), b) }
func cTstr(s string) []byte { return cat(cHead(3, uint64(len(s))), []byte(s)) }

func cArr(items ...[]byte) []byte { return cat(cHead(4, uint64(len(items))), cat(items...)) }

// cMap takes keys and values alternately, already encoded.
func cMap(kv ...[]byte) []byte { return cat(cHead(5, uint64(len(kv)/2)), cat(kv...)) }

func cTag(n uint64, content []byte) []byte { return cat(cHead(6, n), content) }

// Indefinite-length forms (RFC 8949 §3.2.2), which the decoder must refuse.
func cIndefBstr(chunks ...[]byte) []byte {
	out := []byte{0x5f}
	for _, c := range chunks {
		out = append(out, cBstr(c)...)
	}
	return append(out, 0xff)
}
func cIndefArr(items ...[]byte) []byte { return append(cat([]byte{0x9f}, cat(items...)), 0xff) }
func cIndefMap(kv ...[]byte) []byte    { return append(cat([]byte{0xbf}, cat(kv...)), 0xff) }

var (
	cNull = []byte{0xf6}
	cTrue = []byte{0xf5}
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

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
