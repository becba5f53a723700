package token_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/ccakit/cca/token"
)

// p384Scalar is a fixed P-384 private scalar for golden tests.
var p384Scalar = rep(0x22, 48)

// stdPoint is the uncompressed public point of a P-384 scalar as crypto/ecdh
// computes it: independent of the package under test.
func stdPoint(t testing.TB, scalar []byte) []byte {
	t.Helper()
	k, err := ecdh.P384().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

// TestCOSEKeyGolden checks the REL0 RAK encoding against bytes derived by
// hand from RFC 9052 §7 / RFC 9053 §7.1 and TF-RMM attestation_key.c:
//
//	a4        map(4)
//	01 02     kty: EC2
//	20 02     crv (-1): P-384
//	21 58 30  x (-2): bstr(48)   <x>
//	22 58 30  y (-3): bstr(48)   <y>
//
// 1 + 2 + 2 + 3 + 48 = 56, so "22 58 30" starts at (0-based) offset 56,
// and the whole is 107 bytes.
func TestCOSEKeyGolden(t *testing.T) {
	point := stdPoint(t, p384Scalar)
	x, y := point[1:49], point[49:]
	want := cat(mustHex(t, "a4 01 02 20 02 21 58 30"), x, mustHex(t, "22 58 30"), y)

	priv, err := token.P384FromScalar(p384Scalar)
	if err != nil {
		t.Fatal(err)
	}
	got, err := token.EncodeCOSEKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("COSE_Key\n got %x\nwant %x", got, want)
	}
	if len(got) != 107 || !bytes.HasPrefix(got, mustHex(t, "a4 01 02 20 02 21 58 30")) || !bytes.Equal(got[56:59], mustHex(t, "22 58 30")) {
		t.Fatalf("COSE_Key layout: %d bytes, % x", len(got), got[:8])
	}

	raw, err := token.EncodeRawPoint(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 97 || raw[0] != 0x04 || !bytes.Equal(raw, point) {
		t.Fatalf("raw point: %d bytes, %x", len(raw), raw)
	}

	// The other curves, written out the same way (bstr(32) is 58 20,
	// bstr(66) is 58 42).
	for _, tc := range []struct {
		curve elliptic.Curve
		crv   byte
		size  int
	}{{elliptic.P256(), 1, 32}, {elliptic.P521(), 3, 66}} {
		k := ecKey(t, tc.curve)
		p, _ := k.PublicKey.Bytes()
		want := cat([]byte{0xa4, 0x01, 0x02, 0x20, tc.crv, 0x21, 0x58, byte(tc.size)}, p[1:1+tc.size],
			[]byte{0x22, 0x58, byte(tc.size)}, p[1+tc.size:])
		got, err := token.EncodeCOSEKey(&k.PublicKey)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: COSE_Key %x, %v; want %x", tc.curve.Params().Name, got, err, want)
		}
	}

	p224 := ecKey(t, elliptic.P224())
	if _, err := token.EncodeCOSEKey(&p224.PublicKey); !errors.Is(err, token.ErrKey) {
		t.Errorf("P-224 COSE_Key: %v, want ErrKey", err)
	}
	if _, err := token.EncodeRawPoint(&p224.PublicKey); !errors.Is(err, token.ErrKey) {
		t.Errorf("P-224 raw point: %v, want ErrKey", err)
	}
}

func TestDecodeCOSEKey(t *testing.T) {
	point := stdPoint(t, p384Scalar)
	x, y := point[1:49], point[49:]
	k256 := ecKey(t, elliptic.P256())
	p256, _ := k256.PublicKey.Bytes()
	k521 := ecKey(t, elliptic.P521())
	p521, _ := k521.PublicKey.Bytes()
	ec2 := func(extra ...[]byte) []byte {
		return cMap(append([][]byte{cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)}, extra...)...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte // the uncompressed point, on success
		err  error
		msg  string
	}{
		{name: "P-384", in: ec2(), want: point},
		{name: "P-384 with kid and alg ES384", in: ec2(cInt(2), cBstr([]byte("k1")), cInt(3), cInt(-35)), want: point},
		{name: "P-384 reordered", in: cMap(cInt(-3), cBstr(y), cInt(-2), cBstr(x), cInt(-1), cInt(2), cInt(1), cInt(2)), want: point},
		{name: "P-256", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(1), cInt(-2), cBstr(p256[1:33]), cInt(-3), cBstr(p256[33:])), want: p256},
		{name: "P-521", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(3), cInt(-2), cBstr(p521[1:67]), cInt(-3), cBstr(p521[67:])), want: p521},
		{name: "kty OKP", in: cMap(cInt(1), cInt(1), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "kty 1"},
		{name: "kty as text", in: cMap(cInt(1), cTstr("EC2"), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "COSE_Key kty"},
		{name: "crv 4", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(4), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "crv 4"},
		{name: "crv P-256, P-384 coordinates", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(1), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "must be 32 bytes"},
		{name: "x 47 bytes", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x[1:]), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "x 47"},
		{name: "y 49 bytes", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(append([]byte{0}, y...))), err: token.ErrSyntax, msg: "y 49"},
		{name: "compressed y", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), []byte{0xf5}), err: token.ErrSyntax, msg: "compressed"},
		{name: "x as array of bytes", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cArr(cInt(1), cInt(2)), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "COSE_Key x"},
		{name: "no y", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x)), err: token.ErrSyntax, msg: "no y (-3)"},
		{name: "no kty", in: cMap(cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrSyntax, msg: "no kty (1)"},
		{name: "not on curve", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(rep(1, 48))), err: token.ErrSyntax, msg: "not a point on P-384"},
		{name: "point at zero", in: cMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(rep(0, 48)), cInt(-3), cBstr(rep(0, 48))), err: token.ErrSyntax, msg: "not a point"},
		{name: "private d", in: ec2(cInt(-4), cBstr(p384Scalar)), err: token.ErrSyntax, msg: "private key (d)"},
		{name: "unknown parameter", in: ec2(cInt(99), cInt(0)), err: token.ErrSyntax, msg: "unexpected parameter 99"},
		{name: "alg ES256 with P-384", in: ec2(cInt(3), cInt(-7)), err: token.ErrAlgorithm, msg: "alg -7"},
		{name: "alg EdDSA with P-384", in: ec2(cInt(3), cInt(-8)), err: token.ErrAlgorithm, msg: "alg -8"},
		{name: "duplicate kty", in: ec2(cInt(1), cInt(2)), err: token.ErrMalformed, msg: "duplicate map key 1"},
		{name: "indefinite map", in: cIndefMap(cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)), err: token.ErrMalformed, msg: "indefinite"},
		{name: "trailing byte", in: append(ec2(), 0), err: token.ErrMalformed, msg: "extraneous"},
		{name: "truncated", in: ec2()[:100], err: token.ErrMalformed, msg: "EOF"},
		{name: "tagged", in: cTag(1, ec2()), err: token.ErrSyntax, msg: "not a CBOR map (found tag"},
		{name: "text label", in: cMap(cTstr("kty"), cInt(2)), err: token.ErrSyntax, msg: "COSE_Key"},
		{name: "raw point", in: point, err: token.ErrSyntax, msg: "not a CBOR map (found unsigned integer"},
		{name: "empty", in: nil, err: token.ErrMalformed, msg: "COSE_Key"},
		{name: "oversize", in: ec2(cInt(2), cBstr(rep(0, 200))), err: token.ErrSyntax, msg: "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.DecodeCOSEKey(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want %v containing %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := k.Bytes(); !bytes.Equal(got, tc.want) {
				t.Fatalf("point %x, want %x", got, tc.want)
			}
		})
	}
}

func TestDecodeRawPoint(t *testing.T) {
	point := stdPoint(t, p384Scalar)
	k256, k521 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P521())
	p256, _ := k256.PublicKey.Bytes()
	p521, _ := k521.PublicKey.Bytes()
	compressed := append([]byte{0x02 | point[96]&1}, point[1:49]...)
	for _, tc := range []struct {
		name  string
		in    []byte
		curve elliptic.Curve
		msg   string // empty: success
	}{
		{name: "P-384", in: point, curve: elliptic.P384()},
		{name: "P-256", in: p256, curve: elliptic.P256()},
		{name: "P-521", in: p521, curve: elliptic.P521()},
		{name: "96 bytes", in: point[:96], msg: "96 bytes"},
		{name: "compressed", in: compressed, msg: "49 bytes"},
		{name: "97 bytes, prefix 02", in: append([]byte{0x02}, point[1:]...), msg: "not an uncompressed point (first byte 0x02)"},
		{name: "97 bytes, hybrid prefix 06", in: append([]byte{0x06}, point[1:]...), msg: "first byte 0x06"},
		{name: "not on curve", in: append(bytes.Clone(point[:96]), point[96]^1), msg: "not a point on P-384"},
		{name: "zero point", in: append([]byte{4}, rep(0, 96)...), msg: "not a point on P-384"},
		{name: "COSE_Key", in: cat(mustHex(t, "a4 01 02 20 02 21 58 30"), point[1:49], mustHex(t, "22 58 30"), point[49:]), msg: "107 bytes"},
		{name: "empty", in: nil, msg: "0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.DecodeRawPoint(tc.in)
			if tc.msg != "" {
				if !errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want ErrSyntax containing %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := k.Bytes(); k.Curve != tc.curve || !bytes.Equal(got, tc.in) {
				t.Fatalf("decoded %s %x", k.Curve.Params().Name, got)
			}
		})
	}
}

// keyFiles are key encodings made with crypto/x509 and jwx, not with the
// package under test.
type keyFiles struct {
	priv                       *ecdsa.PrivateKey
	sec1, pkcs8, spki, sslSEC1 []byte
	jwkPriv, jwkPub            []byte
}

func makeKeyFiles(t testing.TB, c elliptic.Curve) keyFiles {
	t.Helper()
	k := ecKey(t, c)
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	jpriv, err := jwk.FromRaw(k)
	if err != nil {
		t.Fatal(err)
	}
	jpub, err := jwk.PublicKeyOf(jpriv)
	if err != nil {
		t.Fatal(err)
	}
	jp, _ := json.Marshal(jpriv)
	jb, _ := json.Marshal(jpub)
	// OpenSSL's "ecparam -genkey" writes the curve OID block first; the OID
	// of secp384r1 is 1.3.132.0.34 (RFC 5480 §2.1.1.1): 06 05 2b 81 04 00 22.
	params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}})
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	return keyFiles{priv: k, sec1: pemOf("EC PRIVATE KEY", sec1), pkcs8: pemOf("PRIVATE KEY", pkcs8), spki: pemOf("PUBLIC KEY", spki),
		sslSEC1: append(params, pemOf("EC PRIVATE KEY", sec1)...), jwkPriv: jp, jwkPub: jb}
}

func TestParsePrivateKey(t *testing.T) {
	kf := makeKeyFiles(t, elliptic.P384())
	kf256 := makeKeyFiles(t, elliptic.P256())
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edPKCS8, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	rsaPKCS8, _ := x509.MarshalPKCS8PrivateKey(testRSA(t))
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xPKCS8, _ := x509.MarshalPKCS8PrivateKey(x25519)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	order := elliptic.P384().Params().N.FillBytes(make([]byte, 48))
	// Raw scalars whose bytes look like the start of a JWK or a PEM.
	braceScalar := append([]byte{'{'}, rep(0x11, 47)...)
	spaceBrace := append([]byte(" \n{"), rep(0x11, 45)...)
	dashScalar := append([]byte("-----BEGIN"), rep(0x11, 38)...)

	for _, tc := range []struct {
		name string
		in   []byte
		want crypto.PublicKey // nil: must fail with ErrKey
		msg  string
	}{
		{name: "PEM SEC1 P-384", in: kf.sec1, want: &kf.priv.PublicKey},
		{name: "PEM SEC1 P-256", in: kf256.sec1, want: &kf256.priv.PublicKey},
		{name: "PEM SEC1 after EC PARAMETERS", in: kf.sslSEC1, want: &kf.priv.PublicKey},
		{name: "PEM PKCS#8 P-384", in: kf.pkcs8, want: &kf.priv.PublicKey},
		{name: "PEM PKCS#8 Ed25519", in: pemOf("PRIVATE KEY", edPKCS8), want: edPriv.Public()},
		{name: "PEM PKCS#8 RSA", in: pemOf("PRIVATE KEY", rsaPKCS8), want: &testRSA(t).PublicKey},
		{name: "PEM with surrounding space", in: cat([]byte("\n  "), kf.pkcs8, []byte("\n\n")), want: &kf.priv.PublicKey},
		{name: "JWK private", in: kf.jwkPriv, want: &kf.priv.PublicKey},
		{name: "raw scalar", in: p384Scalar, want: pubOfScalar(t, p384Scalar)},
		{name: "raw scalar starting '{'", in: braceScalar, want: pubOfScalar(t, braceScalar)},
		{name: "raw scalar starting with space and '{'", in: spaceBrace, want: pubOfScalar(t, spaceBrace)},
		{name: "raw scalar starting -----BEGIN", in: dashScalar, want: pubOfScalar(t, dashScalar)},
		{name: "hex scalar", in: []byte(hex.EncodeToString(p384Scalar)), want: pubOfScalar(t, p384Scalar)},
		{name: "hex scalar, upper case, newline", in: []byte(strings.ToUpper(hex.EncodeToString(p384Scalar)) + "\n"), want: pubOfScalar(t, p384Scalar)},

		{name: "PEM SPKI (public)", in: kf.spki, msg: "public key"},
		{name: "JWK public", in: kf.jwkPub, msg: "public key"},
		{name: "PEM PKCS#8 X25519", in: pemOf("PRIVATE KEY", xPKCS8), msg: "cannot sign"},
		{name: "PEM certificate", in: pemOf("CERTIFICATE", []byte{0x30, 0x00}), msg: `"CERTIFICATE" is not a private key`},
		{name: "PEM SEC1 corrupt", in: pemOf("EC PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x01}), msg: "SEC1"},
		{name: "PEM PKCS#8 corrupt", in: pemOf("PRIVATE KEY", []byte{0x30, 0x00}), msg: "PKCS#8"},
		{name: "PEM header only", in: []byte("-----BEGIN EC PRIVATE KEY-----\n"), msg: "no block"},
		{name: "EC PARAMETERS only", in: pemOf("EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}), msg: "without a key"},
		{name: "JWK oct", in: []byte(`{"kty":"oct","k":"AAAA"}`), msg: "not supported"},
		{name: "JWK broken", in: []byte(`{"kty":"EC",`), msg: "JWK"},
		{name: "zero scalar", in: rep(0, 48), msg: "scalar"},
		{name: "scalar equal to the order", in: order, msg: "scalar"},
		{name: "47-byte scalar", in: rep(0x11, 47), msg: "47 bytes"},
		{name: "hex, not hex", in: []byte(strings.Repeat("zz", 48)), msg: "96 bytes"},
		{name: "garbage", in: []byte("hello"), msg: "not a PEM, JWK or raw"},
		{name: "empty", in: nil, msg: "0 bytes"},
		// Keys that parse but cannot sign, or would sign for another key.
		{name: "PEM PKCS#8 RSA-1024", in: pemOf("PRIVATE KEY", rsa1024PKCS8(t)), msg: "at least 2048 bits"},
		{name: "JWK EC whose d is not x, y's", in: mismatchedJWK(t, kf.jwkPriv), msg: "does not match the public key"},
		{name: "JWK Ed25519 whose x is not d's", in: []byte(`{"kty":"OKP","crv":"Ed25519","d":"` + b64(edPriv.Seed()) + `","x":"AAAA"}`), msg: "JWK"},
		{name: "PEM with two keys", in: cat(kf.sec1, kf256.sec1), msg: "holds 2 keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.ParsePrivateKey(tc.in)
			if tc.want == nil {
				if !errors.Is(err, token.ErrKey) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want ErrKey containing %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want) {
				t.Fatalf("parsed key's public half differs")
			}
		})
	}
}

// pubOfScalar computes the public key of a P-384 scalar with crypto/ecdh.
func pubOfScalar(t testing.TB, scalar []byte) *ecdsa.PublicKey {
	t.Helper()
	p := stdPoint(t, scalar)
	k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParsePublicKey(t *testing.T) {
	kf := makeKeyFiles(t, elliptic.P384())
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edJWK, _ := jwk.FromRaw(edPub)
	edJSON, _ := json.Marshal(edJWK)
	for _, tc := range []struct {
		name string
		in   []byte
		want crypto.PublicKey
		msg  string
	}{
		{name: "PEM SPKI", in: kf.spki, want: &kf.priv.PublicKey},
		{name: "PEM SEC1 private", in: kf.sec1, want: &kf.priv.PublicKey},
		{name: "PEM PKCS#8 private", in: kf.pkcs8, want: &kf.priv.PublicKey},
		{name: "JWK public", in: kf.jwkPub, want: &kf.priv.PublicKey},
		{name: "JWK private", in: kf.jwkPriv, want: &kf.priv.PublicKey},
		{name: "JWK Ed25519 public", in: edJSON, want: edPub},
		{name: "PEM SPKI corrupt", in: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x00}}), msg: "SubjectPublicKeyInfo"},
		{name: "PEM certificate", in: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}}), msg: "not a private key"},
		{name: "raw scalar", in: p384Scalar, msg: "not a PEM or JWK"},
		{name: "garbage", in: []byte("-----BEGIN nothing"), msg: "no block"},
		// Keys that parse but cannot verify anything (a short Ed25519 "x"
		// made crypto/ed25519 panic in verification).
		{name: "JWK Ed25519 with a 3-byte x", in: []byte(`{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`), msg: "Ed25519 public key of 3 bytes"},
		{name: "JWK EC off its curve", in: []byte(`{"kty":"EC","crv":"P-384","x":"` + b64(rep(1, 48)) + `","y":"` + b64(rep(2, 48)) + `"}`), msg: "not a valid P-384 public key"},
		{name: "PEM SPKI RSA-1024", in: rsa1024SPKI(t), msg: "at least 2048 bits"},
		{name: "PEM with two keys", in: cat(kf.spki, kf.spki), msg: "holds 2 keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.ParsePublicKey(tc.in)
			if tc.want == nil {
				if !errors.Is(err, token.ErrKey) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v, want ErrKey containing %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want) {
				t.Fatalf("parsed key differs")
			}
		})
	}
}

// TestMarshalPublic: what MarshalPublicJWK and MarshalPublicPEM write,
// crypto/x509 and jwx read back as the same key.
func TestMarshalPublic(t *testing.T) {
	for _, pub := range []crypto.PublicKey{&ecKey(t, elliptic.P384()).PublicKey, &ecKey(t, elliptic.P256()).PublicKey, &testRSA(t).PublicKey} {
		j, err := token.MarshalPublicJWK(pub)
		if err != nil {
			t.Fatal(err)
		}
		jk, err := jwk.ParseKey(j)
		if err != nil {
			t.Fatal(err)
		}
		var raw any
		if err := jk.Raw(&raw); err != nil || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(raw) {
			t.Errorf("%s: JWK %s does not read back: %v", token.DescribeKey(pub), j, err)
		}
		if _, isPriv := raw.(crypto.Signer); isPriv {
			t.Errorf("public JWK holds a private key")
		}
		p, err := token.MarshalPublicPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(p)
		if block == nil || block.Type != "PUBLIC KEY" {
			t.Fatalf("PEM %q", p)
		}
		back, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(back) {
			t.Errorf("%s: PEM does not read back: %v", token.DescribeKey(pub), err)
		}
	}
	if _, err := token.MarshalPublicJWK(struct{}{}); !errors.Is(err, token.ErrKey) {
		t.Errorf("JWK of a non-key: %v", err)
	}
}

func TestAlgorithmForKey(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	// COSE algorithm values from the IANA registry (RFC 9053 §2.1, §2.2;
	// RFC 8230 §2): ES256 -7, ES384 -35, ES512 -36, EdDSA -8, PS256 -37.
	for _, tc := range []struct {
		name string
		key  crypto.PublicKey
		want int64 // 0: ErrAlgorithm
		desc string
	}{
		{"P-256", &ecKey(t, elliptic.P256()).PublicKey, -7, "ECDSA P-256"},
		{"P-384", &ecKey(t, elliptic.P384()).PublicKey, -35, "ECDSA P-384"},
		{"P-521", &ecKey(t, elliptic.P521()).PublicKey, -36, "ECDSA P-521"},
		{"Ed25519", edPub, -8, "Ed25519"},
		{"RSA", &testRSA(t).PublicKey, -37, "RSA-2048"},
		{"P-224", &ecKey(t, elliptic.P224()).PublicKey, 0, "ECDSA P-224"},
		{"X25519", x25519.PublicKey(), 0, "ecdh.PublicKey"},
		{"private key", ecKey(t, elliptic.P384()), 0, "ecdsa.PrivateKey"},
	} {
		alg, err := token.AlgorithmForKey(tc.key)
		if tc.want == 0 {
			if !errors.Is(err, token.ErrAlgorithm) {
				t.Errorf("%s: %v, %v; want ErrAlgorithm", tc.name, alg, err)
			}
		} else if err != nil || int64(alg) != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.name, alg, err, tc.want)
		}
		if got := token.DescribeKey(tc.key); got != tc.desc {
			t.Errorf("%s: DescribeKey %q, want %q", tc.name, got, tc.desc)
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsa1024 is an RSA key too short for go-cose.
func rsa1024(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsa1024PKCS8(t *testing.T) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(rsa1024(t))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func rsa1024SPKI(t *testing.T) []byte {
	der, err := x509.MarshalPKIXPublicKey(&rsa1024(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// mismatchedJWK is a private EC JWK whose "d" is another key's.
func mismatchedJWK(t *testing.T, jwkPriv []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(jwkPriv, &m); err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d, err := other.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m["d"] = b64(d)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
