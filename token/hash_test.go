package token_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

func TestHashByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want crypto.Hash // 0: ErrAlgorithm
	}{
		{"sha-256", crypto.SHA256},
		{"sha-384", crypto.SHA384},
		{"sha-512", crypto.SHA512},
		{"SHA-256", 0}, // IANA names are lower case
		{"sha256", 0},
		{"sha-224", 0},
		{"sha3-256", 0},
		{"", 0},
	} {
		h, err := token.HashByName(tc.name)
		if tc.want == 0 {
			if !errors.Is(err, token.ErrAlgorithm) || !strings.Contains(err.Error(), `"`+tc.name+`"`) {
				t.Errorf("%q: %v, %v; want ErrAlgorithm naming it", tc.name, h, err)
			}
			continue
		}
		if err != nil || h != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.name, h, err, tc.want)
		}
	}
}

func TestDigestKnownAnswers(t *testing.T) {
	// FIPS 180-2 appendix examples for "abc".
	for _, tc := range []struct{ alg, hex string }{
		{"sha-256", "ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad"},
		{"sha-512", "ddaf35a1 93617aba cc417349 ae204131 12e6fa4e 89a97ea2 0a9eeee6 4b55d39a" +
			" 2192992a 274fc1a8 36ba3c23 a3feebbd 454d4423 643ce80e 2a9ac94f a54ca49f"},
	} {
		d, err := token.Digest(tc.alg, []byte("abc"))
		if err != nil || !bytes.Equal(d, mustHex(t, tc.hex)) {
			t.Errorf("%s(abc) = %x, %v", tc.alg, d, err)
		}
	}
}

func TestBinding(t *testing.T) {
	rak := cat(mustHex(t, "a4 01 02 20 02 21 58 30"), rep(1, 48), mustHex(t, "22 58 30"), rep(2, 48))
	s256 := sha256.Sum256(rak)
	s384 := sha512.Sum384(rak)
	s512 := sha512.Sum512(rak)
	for _, tc := range []struct {
		alg  string
		want []byte
	}{{"sha-256", s256[:]}, {"sha-384", s384[:]}, {"sha-512", s512[:]}} {
		got, err := token.Binding(tc.alg, rak)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("Binding(%s) = %x, %v", tc.alg, got, err)
		}
		if err := token.CheckBinding(tc.want, tc.alg, rak); err != nil {
			t.Errorf("CheckBinding(%s): %v", tc.alg, err)
		}
	}
	for _, tc := range []struct {
		name      string
		challenge []byte
		alg       string
		rak       []byte
		want      error
		msg       string
	}{
		{"other challenge", rep(7, 32), "sha-256", rak, token.ErrBinding, "platform challenge 0707"},
		{"hash of other bytes", s256[:], "sha-256", append(bytes.Clone(rak), 0), token.ErrBinding, "sha-256(RAK claim)"},
		{"right hash, wrong algorithm", s256[:], "sha-512", rak, token.ErrBinding, "sha-512"},
		{"truncated challenge", s256[:31], "sha-256", rak, token.ErrBinding, ""},
		{"empty challenge", nil, "sha-256", rak, token.ErrBinding, ""},
		{"unknown algorithm", s256[:], "md5", rak, token.ErrAlgorithm, "claim 44240"},
	} {
		err := token.CheckBinding(tc.challenge, tc.alg, tc.rak)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v containing %q", tc.name, err, tc.want, tc.msg)
		}
	}
}

func TestPadNonce(t *testing.T) {
	for _, tc := range []struct {
		n    int
		fail bool
	}{{0, true}, {31, true}, {32, false}, {48, false}, {63, false}, {64, false}, {65, true}} {
		nonce := rep(0xA5, tc.n)
		got, err := token.PadNonce(nonce)
		if tc.fail {
			if !errors.Is(err, token.ErrFreshness) {
				t.Errorf("%d bytes: %v, want ErrFreshness", tc.n, err)
			}
			continue
		}
		want := append(rep(0xA5, tc.n), rep(0, 64-tc.n)...)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: %x, %v", tc.n, got, err)
		}
		if tc.n > 0 && &got[0] == &nonce[0] {
			t.Errorf("%d bytes: PadNonce returned the caller's slice", tc.n)
		}
	}
}

func TestCheckFreshness(t *testing.T) {
	padded := append(rep(0xA5, 32), rep(0, 32)...)
	for _, tc := range []struct {
		name             string
		challenge, nonce []byte
		ok               bool
	}{
		{"64-byte match", rep(0xA5, 64), rep(0xA5, 64), true},
		{"32-byte nonce, padded challenge", padded, rep(0xA5, 32), true},
		{"32-byte nonce, unpadded challenge", rep(0xA5, 64), rep(0xA5, 32), false},
		{"one byte differs", append(rep(0xA5, 63), 0xA4), rep(0xA5, 64), false},
		{"63-byte challenge and nonce", rep(0xA5, 63), rep(0xA5, 63), false},
		{"short nonce", rep(0xA5, 64), rep(0xA5, 16), false},
		{"nil nonce", rep(0xA5, 64), nil, false},
	} {
		err := token.CheckFreshness(tc.challenge, tc.nonce)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, token.ErrFreshness)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
