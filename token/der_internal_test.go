package token

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"testing"
)

// TestECDSADER compares ecdsaDER with encoding/asn1 on the edge cases of
// INTEGER encoding: leading zero bytes, the high bit set, zero, and the
// long-form SEQUENCE length that P-521 signatures need.
func TestECDSADER(t *testing.T) {
	word := func(size int, lead ...byte) []byte {
		b := bytes.Repeat([]byte{0x5a}, size)
		copy(b, lead)
		return b
	}
	for _, tc := range []struct {
		name string
		r, s []byte
	}{
		{"plain", word(48, 0x12), word(48, 0x34)},
		{"high bits", word(48, 0x80), word(48, 0xff)},
		{"leading zeros", word(48, 0, 0, 0x7f), word(48, 0, 0x80)},
		{"zero", make([]byte, 48), word(48, 1)},
		{"P-256", word(32, 0xf0), word(32, 0x01)},
		{"P-521", word(66, 0x01, 0xff), word(66, 0x01, 0x80)},
		{"P-521 short", word(66, 0, 0, 0xff), word(66, 0x01)},
	} {
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(tc.r), new(big.Int).SetBytes(tc.s)})
		if err != nil {
			t.Fatal(err)
		}
		if got := ecdsaDER(nil, tc.r, tc.s); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, want)
		}
	}
}
