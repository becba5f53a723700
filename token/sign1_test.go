package token_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"testing"

	cose "github.com/veraison/go-cose"

	"github.com/ccakit/cca/token"
)

// signES builds a tagged COSE_Sign1 by hand (RFC 9052 §4.4): the
// Sig_structure ["Signature1", protected, h”, payload] hashed with h and
// signed with key, the signature r||s of the curve's size (RFC 9053 §2.1).
func signES(t testing.TB, key *ecdsa.PrivateKey, h crypto.Hash, protected, unprotected, payload []byte) []byte {
	t.Helper()
	return cTag(18, cArr(cBstr(protected), unprotected, cBstr(payload), cBstr(sigES(t, key, h, protected, payload))))
}

func sigES(t testing.TB, key *ecdsa.PrivateKey, h crypto.Hash, protected, payload []byte) []byte {
	t.Helper()
	d := h.New()
	d.Write(cArr(cTstr("Signature1"), cBstr(protected), cBstr(nil), cBstr(payload)))
	r, s, err := ecdsa.Sign(rand.Reader, key, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	return append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
}

// TestSignPayloadShape checks what SignPayload writes against the layout
// TF-RMM emits (TF-RMM attestation_token.c: d2 84 44 a1 01 38 22 a0 for ES384),
// and verifies the signature with a Sig_structure built here.
func TestSignPayloadShape(t *testing.T) {
	payload := cMap(cInt(10), cBstr(rep(0xC0, 64)))
	for _, tc := range []struct {
		curve  elliptic.Curve
		hash   crypto.Hash
		header string // tag, array(4), protected bstr {1: alg}, unprotected {}
		sigLen int
	}{
		{elliptic.P256(), crypto.SHA256, "d2 84 43 a1 01 26 a0", 64},
		{elliptic.P384(), crypto.SHA384, "d2 84 44 a1 01 38 22 a0", 96},
		{elliptic.P521(), crypto.SHA512, "d2 84 44 a1 01 38 23 a0", 132},
	} {
		t.Run(tc.curve.Params().Name, func(t *testing.T) {
			key := ecKey(t, tc.curve)
			got, err := token.SignPayload(payload, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			head := mustHex(t, tc.header)
			body := cBstr(payload)
			sigHead := cHead(2, uint64(tc.sigLen))
			if !bytes.HasPrefix(got, head) || !bytes.Equal(got[len(head):len(head)+len(body)], body) ||
				!bytes.Equal(got[len(head)+len(body):len(got)-tc.sigLen], sigHead) {
				t.Fatalf("COSE_Sign1 % x", got)
			}
			sig := got[len(got)-tc.sigLen:]
			d := tc.hash.New()
			d.Write(cArr(cTstr("Signature1"), cBstr(head[3:len(head)-1]), cBstr(nil), cBstr(payload)))
			n := tc.sigLen / 2
			r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
			if !ecdsa.Verify(&key.PublicKey, d.Sum(nil), r, s) {
				t.Fatalf("signature does not verify over a hand-built Sig_structure")
			}
		})
	}
	if _, err := token.SignPayload(payload, ecKey(t, elliptic.P224()), nil); !errors.Is(err, token.ErrAlgorithm) {
		t.Errorf("P-224 signing: %v", err)
	}
}

func TestDecodeSign1(t *testing.T) {
	key := ecKey(t, elliptic.P384())
	payload := cMap(cInt(10), cBstr(rep(0xC0, 64)))
	es384 := cMap(cInt(1), cInt(-35))
	pe := es384 // protected header content
	sig := sigES(t, key, crypto.SHA384, pe, payload)
	msg := func(items ...[]byte) []byte { return cTag(18, cArr(items...)) }
	// signedWith signs with a protected header of its own.
	signedWith := func(prot, unprot []byte) []byte {
		return msg(cBstr(prot), unprot, cBstr(payload), cBstr(sigES(t, key, crypto.SHA384, prot, payload)))
	}
	// The protected bstr in a longer head than needed (58 04 instead of
	// 44): the signature covers the header bytes in a shortest-head bstr
	// (RFC 9052 §9), so it still verifies.
	longHead := msg(cat([]byte{0x58, byte(len(pe))}, pe), cMap(), cBstr(payload), cBstr(sig))
	for _, tc := range []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{name: "valid", in: msg(cBstr(pe), cMap(), cBstr(payload), cBstr(sig))},
		{name: "protected bstr in a long head", in: longHead},
		{name: "crit naming alg", in: signedWith(cMap(cInt(1), cInt(-35), cInt(2), cArr(cInt(1))), cMap())},
		{name: "text label", in: signedWith(cMap(cInt(1), cInt(-35), cTstr("x"), cInt(0)), cMap(cTstr("y"), cInt(0)))},
		{name: "crit naming kid", in: signedWith(cMap(cInt(1), cInt(-35), cInt(2), cArr(cInt(4)), cInt(4), cBstr(nil)), cMap()), err: token.ErrMalformed, msg: "critical parameter 4 is not understood"},
		{name: "crit empty", in: signedWith(cMap(cInt(1), cInt(-35), cInt(2), cArr()), cMap()), err: token.ErrMalformed, msg: "crit"},
		{name: "unknown crit label unprotected", in: signedWith(cMap(cInt(1), cInt(-35)), cMap(cInt(2), cArr(cInt(99)))), err: token.ErrMalformed,
			msg: "unprotected header: crit (2) belongs in the protected header (RFC 9052 §3.1)"},
		{name: "crit naming alg unprotected", in: signedWith(cMap(cInt(1), cInt(-35)), cMap(cInt(2), cArr(cInt(1)))), err: token.ErrMalformed, msg: "crit (2) belongs in the protected header"},
		{name: "alg in both headers", in: signedWith(es384, es384), err: token.ErrMalformed, msg: "header parameter 1 is in both"},
		{name: "kid in both headers", in: signedWith(cMap(cInt(1), cInt(-35), cInt(4), cBstr(nil)), cMap(cInt(4), cBstr(nil))), err: token.ErrMalformed, msg: "parameter 4 is in both"},
		{name: "protected label of type bstr", in: signedWith(cMap(cInt(1), cInt(-35), cBstr(nil), cInt(0)), cMap()), err: token.ErrMalformed, msg: "label of type byte string"},
		{name: "unprotected label of type array", in: msg(cBstr(pe), cMap(cArr(), cInt(0)), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "label of type array"},
		{name: "alg as bstr", in: signedWith(cMap(cInt(1), cBstr([]byte{0xde})), cMap()), err: token.ErrMalformed, msg: "alg is byte string"},
		{name: "valid with kid in the unprotected header", in: msg(cBstr(pe), cMap(cInt(4), cBstr([]byte("k"))), cBstr(payload), cBstr(sig))},
		{name: "tag 17", in: cTag(17, cArr(cBstr(pe), cMap(), cBstr(payload), cBstr(sig))), err: token.ErrMalformed, msg: "found tag 17"},
		{name: "untagged", in: cArr(cBstr(pe), cMap(), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "expected CBOR tag 18, found array"},
		{name: "tag 18 in two bytes", in: cat([]byte{0xd8, 18}, cArr(cBstr(pe), cMap(), cBstr(payload), cBstr(sig))), err: token.ErrMalformed, msg: "non-shortest"},
		{name: "nested tag", in: cTag(18, cTag(18, cArr(cBstr(pe), cMap(), cBstr(payload), cBstr(sig)))), err: token.ErrMalformed, msg: "tag"},
		{name: "3 elements", in: msg(cBstr(pe), cMap(), cBstr(payload)), err: token.ErrMalformed, msg: "COSE_Sign1"},
		{name: "5 elements", in: msg(cBstr(pe), cMap(), cBstr(payload), cBstr(sig), cBstr(nil)), err: token.ErrMalformed, msg: "COSE_Sign1"},
		{name: "protected as a map", in: msg(pe, cMap(), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "protected header is not a byte string"},
		{name: "unprotected as a bstr", in: msg(cBstr(pe), cBstr(nil), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "unprotected header is not a map"},
		{name: "detached payload", in: msg(cBstr(pe), cMap(), cNull, cBstr(sig)), err: token.ErrMalformed, msg: "detached"},
		{name: "payload as text", in: msg(cBstr(pe), cMap(), cTstr("x"), cBstr(sig)), err: token.ErrMalformed, msg: "COSE_Sign1"},
		{name: "payload as an array of bytes", in: msg(cBstr(pe), cMap(), cArr(cInt(0xa0)), cBstr(sig)), err: token.ErrMalformed, msg: "COSE_Sign1"},
		{name: "empty signature", in: msg(cBstr(pe), cMap(), cBstr(payload), cBstr(nil)), err: token.ErrMalformed, msg: "signature is empty"},
		{name: "signature as an array", in: msg(cBstr(pe), cMap(), cBstr(payload), cArr(cInt(1))), err: token.ErrMalformed, msg: "COSE_Sign1"},
		{name: "indefinite payload", in: msg(cBstr(pe), cMap(), cIndefBstr(cBstr(payload)), cBstr(sig)), err: token.ErrMalformed, msg: "indefinite"},
		{name: "tag in the unprotected header", in: msg(cBstr(pe), cMap(cInt(4), cTag(24, cBstr(nil))), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "tag"},
		{name: "trailing byte", in: append(msg(cBstr(pe), cMap(), cBstr(payload), cBstr(sig)), 0), err: token.ErrMalformed, msg: "extraneous"},
		{name: "truncated", in: msg(cBstr(pe), cMap(), cBstr(payload), cBstr(sig))[:50], err: token.ErrMalformed, msg: "EOF"},
		{name: "empty", in: nil, err: token.ErrMalformed, msg: "empty input"},
		{name: "protected header with a duplicate key", in: msg(cBstr(cMap(cInt(1), cInt(-35), cInt(1), cInt(-7))), cMap(), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "protected header"},
		{name: "protected header not a map", in: msg(cBstr(cInt(1)), cMap(), cBstr(payload), cBstr(sig)), err: token.ErrMalformed, msg: "protected header"},
		{name: "alg only unprotected", in: msg(cBstr(nil), es384, cBstr(payload), cBstr(sig)), err: token.ErrAlgorithm, msg: "unprotected"},
		{name: "no alg", in: msg(cBstr(nil), cMap(), cBstr(payload), cBstr(sig)), err: token.ErrAlgorithm, msg: "protected header"},
		{name: "alg as text", in: msg(cBstr(cMap(cInt(1), cTstr("ES384"))), cMap(), cBstr(payload), cBstr(sig)), err: token.ErrAlgorithm, msg: "protected header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := token.DecodeSign1(tc.in, "test token")
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "test token") {
					t.Fatalf("got %v, want %v naming the token and containing %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Alg != cose.AlgorithmES384 || !bytes.Equal(s.Payload, payload) {
				t.Fatalf("alg %v payload %x", s.Alg, s.Payload)
			}
			if err := s.Verify(&key.PublicKey, nil); err != nil {
				t.Fatalf("hand-signed COSE_Sign1 does not verify: %v", err)
			}
		})
	}
}

func TestSign1Verify(t *testing.T) {
	payload := cMap(cInt(10), cBstr(rep(0xC0, 32)))
	p256, p384, p521 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521())
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey := testRSA(t)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	signed := func(k crypto.Signer) []byte {
		b, err := token.SignPayload(payload, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hand := func(k *ecdsa.PrivateKey, h crypto.Hash, alg int64) []byte {
		return signES(t, k, h, cMap(cInt(1), cInt(alg)), cMap(), payload)
	}
	cutSig := func(b []byte) []byte { // 96-byte signature to 95
		out := bytes.Clone(b[:len(b)-1])
		out[len(out)-96] = 95
		return out
	}
	all := []cose.Algorithm{cose.AlgorithmES256, cose.AlgorithmES384, cose.AlgorithmES512, cose.AlgorithmEdDSA, cose.AlgorithmPS256}
	for _, tc := range []struct {
		name    string
		msg     []byte
		key     crypto.PublicKey
		allowed []cose.Algorithm
		err     error
		text    string
	}{
		{name: "ES256", msg: signed(p256), key: &p256.PublicKey},
		{name: "ES384", msg: signed(p384), key: &p384.PublicKey},
		{name: "ES512", msg: signed(p521), key: &p521.PublicKey},
		{name: "ES384 by hand", msg: hand(p384, crypto.SHA384, -35), key: &p384.PublicKey},
		{name: "EdDSA widened", msg: signed(edPriv), key: edPub, allowed: all},
		{name: "PS256 widened", msg: signed(rsaKey), key: &rsaKey.PublicKey, allowed: all},
		{name: "other key", msg: signed(p384), key: &ecKey(t, elliptic.P384()).PublicKey, err: token.ErrSignature},
		{name: "flipped signature", msg: flip(signed(p384), -1), key: &p384.PublicKey, err: token.ErrSignature},
		{name: "signature 95 bytes", msg: cutSig(signed(p384)), key: &p384.PublicKey, err: token.ErrSignature},
		{name: "ES256 header, P-384 key", msg: hand(p384, crypto.SHA256, -7), key: &p384.PublicKey, err: token.ErrAlgorithm, text: "header says ES256 but the key is for ES384"},
		{name: "ES384 header, P-256 key", msg: hand(p256, crypto.SHA384, -35), key: &p256.PublicKey, err: token.ErrAlgorithm, text: "header says ES384 but the key is for ES256"},
		{name: "ES384 token, P-256 key", msg: signed(p384), key: &p256.PublicKey, err: token.ErrAlgorithm, text: "key is for ES256"},
		{name: "EdDSA not allowed", msg: signed(edPriv), key: edPub, err: token.ErrAlgorithm, text: "EdDSA is not allowed"},
		{name: "PS256 not allowed", msg: signed(rsaKey), key: &rsaKey.PublicKey, err: token.ErrAlgorithm, text: "PS256 is not allowed"},
		{name: "narrowed", msg: signed(p384), key: &p384.PublicKey, allowed: []cose.Algorithm{cose.AlgorithmES256}, err: token.ErrAlgorithm, text: "ES384 is not allowed"},
		{name: "EdDSA header, RSA key", msg: signed(edPriv), key: &rsaKey.PublicKey, allowed: all, err: token.ErrAlgorithm, text: "key is for PS256"},
		{name: "X25519 key", msg: signed(p384), key: x25519.PublicKey(), err: token.ErrAlgorithm, text: "key type"},
		{name: "no key", msg: signed(p384), key: nil, err: token.ErrAlgorithm, text: "key type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := token.DecodeSign1(tc.msg, "t")
			if err != nil {
				t.Fatal(err)
			}
			err = s.Verify(tc.key, tc.allowed)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v containing %q", err, tc.err, tc.text)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	if i < 0 {
		i += len(out)
	}
	out[i] ^= 1
	return out
}

// TestSignDeterministic: with token.RFC6979 an ECDSA key signs the same
// payload into the same bytes, which verify; without it, never twice the
// same.
func TestSignDeterministic(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte{0xa1, 0x0a, 0x41, 0x01}
		a, err := token.SignPayload(payload, k, token.RFC6979)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := token.SignPayload(payload, k, token.RFC6979)
		r, _ := token.SignPayload(payload, k, nil)
		if !bytes.Equal(a, b) || bytes.Equal(a, r) {
			t.Errorf("%s: deterministic %v, random equal %v", c.Params().Name, bytes.Equal(a, b), bytes.Equal(a, r))
		}
		s, err := token.DecodeSign1(a, "t")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(&k.PublicKey, nil); err != nil {
			t.Errorf("%s: %v", c.Params().Name, err)
		}
	}
}

// TestDecodeSign1HeaderShapes: the common header parameters must have the
// types RFC 9052 §3.1 (and RFC 9360 §2 for x5chain) gives them, in either
// bucket, whatever key is later used: go-cose refuses these shapes on the
// non-ECDSA path, and the ECDSA path used to accept them.
func TestDecodeSign1HeaderShapes(t *testing.T) {
	key := ecKey(t, elliptic.P384())
	payload := cMap(cInt(10), cBstr(rep(0xC0, 64)))
	signed := func(prot, unprot []byte) []byte {
		return cTag(18, cArr(cBstr(prot), unprot, cBstr(payload), cBstr(sigES(t, key, crypto.SHA384, prot, payload))))
	}
	alg := func(more ...[]byte) []byte { return cMap(append([][]byte{cInt(1), cInt(-35)}, more...)...) }
	cert := cBstr([]byte{0x30, 0x00})
	for _, tc := range []struct {
		name         string
		prot, unprot []byte
		msg          string // empty: accepted, and the signature verifies
	}{
		{"kid bstr unprotected", alg(), cMap(cInt(4), cBstr([]byte("k"))), ""},
		{"kid bstr protected", alg(cInt(4), cBstr([]byte("k"))), cMap(), ""},
		{"content type uint", alg(cInt(3), cInt(263)), cMap(), ""},
		{"content type text", alg(cInt(3), cTstr("application/eat+cwt")), cMap(), ""},
		{"typ uint", alg(cInt(16), cInt(263)), cMap(), ""},
		{"x5chain one cert", alg(), cMap(cInt(33), cert), ""},
		{"x5chain two certs", alg(), cMap(cInt(33), cArr(cert, cert)), ""},
		{"IV alone", alg(), cMap(cInt(5), cBstr(rep(0, 12))), ""},
		{"kid integer unprotected", alg(), cMap(cInt(4), cInt(1)), "unprotected header: kid (4) is unsigned integer, expected a byte string"},
		{"kid text protected", alg(cInt(4), cTstr("k")), cMap(), "protected header: kid (4) is text string, expected a byte string"},
		{"content type negative", alg(cInt(3), cInt(-1)), cMap(), "content type (3) is negative integer"},
		{"content type empty text", alg(cInt(3), cTstr("")), cMap(), "content type (3) is an empty text string"},
		{"typ array", alg(cInt(16), cArr()), cMap(), "typ (16) is array"},
		{"IV text", alg(), cMap(cInt(5), cTstr("iv")), "IV (5) is text string"},
		{"Partial IV integer", alg(), cMap(cInt(6), cInt(0)), "Partial IV (6) is unsigned integer"},
		{"IV and Partial IV across buckets", alg(cInt(5), cBstr(rep(0, 12))), cMap(cInt(6), cBstr([]byte{1})), "IV (5) and Partial IV (6) are both present"},
		{"x5chain integer", alg(), cMap(cInt(33), cInt(0)), "x5chain (33) is unsigned integer"},
		{"x5chain array of one", alg(), cMap(cInt(33), cArr(cert)), "array of two or more byte strings"},
		{"x5chain element not bytes", alg(), cMap(cInt(33), cArr(cert, cInt(0))), "x5chain (33) element 1 is unsigned integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := token.DecodeSign1(signed(tc.prot, tc.unprot), "test token")
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Verify(&key.PublicKey, nil); err != nil {
					t.Fatalf("hand-signed COSE_Sign1 does not verify: %v", err)
				}
				return
			}
			oneClass(t, err, token.ErrMalformed)
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "test token") {
				t.Fatalf("got %v, want it to name the token and contain %q", err, tc.msg)
			}
		})
	}
}

// hostileHeaders is a COSE_Sign1 near the size limit whose protected
// header holds large values and whose unprotected header holds many
// labels: the shape that made the protected-versus-unprotected label
// comparison walk the protected header once per unprotected label.
// dup, when set, repeats the last protected label in the unprotected
// header.
func hostileHeaders(dup bool) []byte {
	row := make([][]byte, 127)
	for i := range row {
		row[i] = cInt(0)
	}
	rows := make([][]byte, 127)
	for i := range rows {
		rows[i] = cArr(row...)
	}
	big := cArr(rows...)
	prot := [][]byte{cInt(1), cInt(-35)}
	for k := range 3 {
		prot = append(prot, cInt(int64(100+k)), big)
	}
	var unprot [][]byte
	for k := range 126 {
		unprot = append(unprot, cInt(int64(1000+k)), cInt(0))
	}
	last := cInt(1126)
	if dup {
		last = cInt(102)
	}
	unprot = append(unprot, last, cInt(0))
	return cTag(18, cArr(cBstr(cMap(prot...)), cMap(unprot...), cBstr([]byte{0xa0}), cBstr([]byte{1})))
}

// TestHostileHeadersDuplicateLabel: a label in both buckets is still found
// when it is the last of many.
func TestHostileHeadersDuplicateLabel(t *testing.T) {
	if _, err := token.DecodeSign1(hostileHeaders(false), "test token"); err != nil {
		t.Fatal(err)
	}
	_, err := token.DecodeSign1(hostileHeaders(true), "test token")
	oneClass(t, err, token.ErrMalformed)
	if !strings.Contains(err.Error(), "header parameter 102 is in both") {
		t.Fatal(err)
	}
}

// BenchmarkDecodeSign1HostileHeaders: decoding the hostile shape costs
// about what checking its bytes costs (about 1 ms for 50 KB on the
// review machine; 20–30 ms when each unprotected label walked the
// protected header again).
func BenchmarkDecodeSign1HostileHeaders(b *testing.B) {
	msg := hostileHeaders(false)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := token.DecodeSign1(msg, "x"); err != nil {
			b.Fatal(err)
		}
	}
}
