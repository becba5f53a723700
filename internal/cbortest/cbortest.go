// Package cbortest is a hand-rolled CBOR writer (RFC 8949 §3) for building
// test inputs. It is deliberately independent of the encoder under test
// and can write what that encoder refuses to: duplicate keys, indefinite
// lengths, odd tags. Only tests import it.
package cbortest

import "encoding/binary"

// Head is a CBOR head (major type and argument) in its shortest form.
func Head(major byte, n uint64) []byte {
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

// Int is an integer (major type 0 or 1).
func Int(n int64) []byte {
	if n >= 0 {
		return Head(0, uint64(n))
	}
	return Head(1, uint64(-1-n))
}

// Bstr, Tstr, Arr, Map and Tag are definite-length items.
func Bstr(b []byte) []byte          { return Cat(Head(2, uint64(len(b))), b) }
func Tstr(s string) []byte          { return Cat(Head(3, uint64(len(s))), []byte(s)) }
func Arr(items ...[]byte) []byte    { return Cat(Head(4, uint64(len(items))), Cat(items...)) }
func Map(kv ...[]byte) []byte       { return Cat(Head(5, uint64(len(kv)/2)), Cat(kv...)) }
func Tag(n uint64, c []byte) []byte { return Cat(Head(6, n), c) }

// IndefMap, IndefArr and IndefBstr are indefinite-length items (RFC 8949
// §3.2.2); IndefBstr takes its chunks already encoded.
func IndefMap(kv ...[]byte) []byte      { return append(Cat([]byte{0xbf}, Cat(kv...)), 0xff) }
func IndefArr(items ...[]byte) []byte   { return append(Cat([]byte{0x9f}, Cat(items...)), 0xff) }
func IndefBstr(chunks ...[]byte) []byte { return append(Cat([]byte{0x5f}, Cat(chunks...)), 0xff) }

// Cat concatenates encoded items.
func Cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
