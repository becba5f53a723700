package token_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// A hand-rolled CBOR writer (RFC 8949 §3) for test inputs, independent of
// the encoder under test and able to write what it refuses to (duplicate
// keys, indefinite lengths, odd tags).

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

func cBstr(b []byte) []byte              { return cat(cHead(2, uint64(len(b))), b) }
func cTstr(s string) []byte              { return cat(cHead(3, uint64(len(s))), []byte(s)) }
func cArr(items ...[]byte) []byte        { return cat(cHead(4, uint64(len(items))), cat(items...)) }
func cMap(kv ...[]byte) []byte           { return cat(cHead(5, uint64(len(kv)/2)), cat(kv...)) }
func cTag(n uint64, c []byte) []byte     { return cat(cHead(6, n), c) }
func cIndefMap(kv ...[]byte) []byte      { return append(cat([]byte{0xbf}, cat(kv...)), 0xff) }
func cIndefArr(items ...[]byte) []byte   { return append(cat([]byte{0x9f}, cat(items...)), 0xff) }
func cIndefBstr(chunks ...[]byte) []byte { return append(cat([]byte{0x5f}, cat(chunks...)), 0xff) }

var cNull = []byte{0xf6}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

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
