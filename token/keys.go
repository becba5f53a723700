package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// RAKScalarSize is the size of the raw P-384 private scalar that EL3 hands
// the RMM through RMM_GET_REALM_ATTEST_KEY (TF-RMM lib/rmm_el3_ifc, SMC_RMM_GET_REALM_ATTEST_KEY).
const RAKScalarSize = 48

// ParsePrivateKey reads a signing key from PEM (SEC1 "EC PRIVATE KEY" or
// PKCS#8 "PRIVATE KEY"), a private JWK, or a raw 48-byte P-384 scalar
// (binary, or as 96 hex digits).
//
// A key that parses but cannot sign, or would sign for another public key
// than the one it carries, is refused with ErrKey: an ECDSA scalar out of
// range or not matching a JWK's point, an Ed25519 key of the wrong size,
// an RSA key that is inconsistent or under 2048 bits.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	k, err := parsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	if err := checkPrivateKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	// A binary scalar is tested first: its bytes are random, so one in 256
	// starts with '{' (and others with whitespace before one), and no PEM
	// or JWK is as short as 48 bytes.
	if len(data) == RAKScalarSize {
		return P384FromScalar(data)
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		if err := onePEMKey(trimmed); err != nil {
			return nil, err
		}
		return parsePEMPrivate(trimmed)
	case bytes.HasPrefix(trimmed, []byte("{")):
		raw, err := parseJWK(trimmed)
		if err != nil {
			return nil, err
		}
		s, ok := raw.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: the JWK is a public key; a private key is needed to sign", ErrKey)
		}
		return s, nil
	case len(trimmed) == 2*RAKScalarSize:
		b, err := hex.DecodeString(string(trimmed))
		if err == nil {
			return P384FromScalar(b)
		}
	}
	return nil, fmt.Errorf("%w: not a PEM, JWK or raw 48-byte P-384 private key (%d bytes)", ErrKey, len(data))
}

// ParsePublicKey reads a verification key from PEM (SPKI "PUBLIC KEY", or a
// private key whose public half is used) or a JWK (public or private).
//
// A key that parses but cannot verify anything is refused with ErrKey: an
// ECDSA point off its curve, an Ed25519 key of the wrong size, an RSA key
// under 2048 bits.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	k, err := parsePublicKey(data)
	if err != nil {
		return nil, err
	}
	if err := checkPublicKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

func parsePublicKey(data []byte) (crypto.PublicKey, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		if err := onePEMKey(trimmed); err != nil {
			return nil, err
		}
		block, _ := pem.Decode(trimmed)
		if block == nil {
			return nil, fmt.Errorf("%w: PEM: no block found", ErrKey)
		}
		if block.Type == "PUBLIC KEY" {
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PEM SubjectPublicKeyInfo: %v", ErrKey, err)
			}
			return pub, nil
		}
		priv, err := parsePEMPrivate(trimmed)
		if err != nil {
			return nil, err
		}
		return priv.Public(), nil
	case bytes.HasPrefix(trimmed, []byte("{")):
		raw, err := parseJWK(trimmed)
		if err != nil {
			return nil, err
		}
		if s, ok := raw.(crypto.Signer); ok {
			return s.Public(), nil
		}
		return raw, nil
	}
	return nil, fmt.Errorf("%w: not a PEM or JWK public key", ErrKey)
}

func parsePEMPrivate(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: PEM: no block found", ErrKey)
	}
	// OpenSSL writes "EC PARAMETERS" before "EC PRIVATE KEY" by default.
	if block.Type == "EC PARAMETERS" {
		if block, _ = pem.Decode(rest); block == nil {
			return nil, fmt.Errorf("%w: PEM: EC PARAMETERS without a key", ErrKey)
		}
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM SEC1: %v", ErrKey, err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM PKCS#8: %v", ErrKey, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: PKCS#8 key of type %T cannot sign", ErrKey, k)
		}
		return s, nil
	case "PUBLIC KEY":
		return nil, fmt.Errorf("%w: PEM holds a public key; a private key is needed to sign", ErrKey)
	}
	return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrKey, block.Type)
}

func parseJWK(data []byte) (any, error) {
	key, err := jwk.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: %v", ErrKey, err)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, fmt.Errorf("%w: JWK: %v", ErrKey, err)
	}
	switch k := raw.(type) {
	case *ecdsa.PrivateKey, *ecdsa.PublicKey, *rsa.PrivateKey, *rsa.PublicKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: JWK key type %T is not supported", ErrKey, raw)
}

// onePEMKey refuses a PEM file with several keys (a bundle, two keys
// concatenated by mistake): the parser would take the first and ignore the
// others without a word. An "EC PARAMETERS" block, which OpenSSL writes
// before a key, and certificates, which come with a key in TLS bundles, are
// not keys.
func onePEMKey(data []byte) error {
	var keys []string
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if strings.HasSuffix(block.Type, "KEY") {
			keys = append(keys, block.Type)
		}
	}
	if len(keys) > 1 {
		return fmt.Errorf("%w: the PEM holds %d keys (%s); give one (only the first would be used)",
			ErrKey, len(keys), strings.Join(keys, ", "))
	}
	return nil
}

// minRSABits is the smallest RSA key go-cose signs or verifies with
// (go-cose v1.3.0 rsa.go: "RSA key must be at least 2048 bits long").
const minRSABits = 2048

// checkPublicKey refuses a key that parses but cannot verify anything: an
// ECDSA point off its curve (a JWK's point is not checked by the JWK
// parser), an Ed25519 key of the wrong size (neither is a JWK's "x", and
// crypto/ed25519 panics on it), or an RSA key go-cose refuses.
func checkPublicKey(k crypto.PublicKey) error {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		if _, err := k.ECDH(); err != nil {
			return fmt.Errorf("%w: not a valid %s public key: %v", ErrKey, k.Curve.Params().Name, err)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key of %d bytes, must be %d", ErrKey, len(k), ed25519.PublicKeySize)
		}
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < minRSABits {
			return fmt.Errorf("%w: %s: an RSA key must have at least %d bits", ErrKey, DescribeKey(k), minRSABits)
		}
	}
	return nil
}

// checkPrivateKey refuses a signing key that parses but cannot sign, or
// would sign for another public key than the one it carries: an ECDSA
// private scalar out of range or not matching a JWK's "x" and "y", an
// Ed25519 key of the wrong size, an RSA key that is inconsistent or too
// short for go-cose.
func checkPrivateKey(k crypto.Signer) error {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		priv, err := k.ECDH()
		if err != nil {
			return fmt.Errorf("%w: ECDSA private key: %v", ErrKey, err)
		}
		pub, err := k.PublicKey.ECDH()
		if err != nil {
			return fmt.Errorf("%w: ECDSA public key: %v", ErrKey, err)
		}
		if !priv.PublicKey().Equal(pub) {
			return fmt.Errorf("%w: the ECDSA private key does not match the public key it carries", ErrKey)
		}
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return fmt.Errorf("%w: Ed25519 private key of %d bytes, must be %d", ErrKey, len(k), ed25519.PrivateKeySize)
		}
	case *rsa.PrivateKey:
		if err := k.Validate(); err != nil {
			return fmt.Errorf("%w: RSA private key: %v", ErrKey, err)
		}
	}
	return checkPublicKey(k.Public())
}

// P384FromScalar builds a P-384 key pair from its raw 48-byte big-endian
// private scalar, the form TF-A hands the RMM (fvp_realm_attest_key.c).
func P384FromScalar(scalar []byte) (*ecdsa.PrivateKey, error) {
	if len(scalar) != RAKScalarSize {
		return nil, fmt.Errorf("%w: a P-384 scalar is %d bytes, got %d", ErrKey, RAKScalarSize, len(scalar))
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), scalar)
	if err != nil {
		return nil, fmt.Errorf("%w: P-384 scalar: %v", ErrKey, err)
	}
	return k, nil
}

// MarshalPublicJWK renders a public key as a JWK, the form trust-anchor
// stores carry.
func MarshalPublicJWK(pub crypto.PublicKey) ([]byte, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return json.Marshal(k)
}

// MarshalPublicPEM renders a public key as a PEM SubjectPublicKeyInfo.
func MarshalPublicPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// COSE_Key labels and values, RFC 9052 §7 and RFC 9053 §7.1.
const (
	coseKeyKty     = 1
	coseKeyKid     = 2
	coseKeyAlg     = 3
	coseKeyCrv     = -1
	coseKeyX       = -2
	coseKeyY       = -3
	coseKeyD       = -4
	coseKtyEC2     = 2
	coseCrvP256    = 1
	coseCrvP384    = 2
	coseCrvP521    = 3
	coseAlgES256   = -7
	coseAlgES384   = -35
	coseAlgES512   = -36
	coseKeyMaxSize = 256
)

type curveInfo struct {
	curve elliptic.Curve
	crv   int64
	alg   int64
	size  int
}

var curves = [...]curveInfo{
	{elliptic.P256(), coseCrvP256, coseAlgES256, 32},
	{elliptic.P384(), coseCrvP384, coseAlgES384, 48},
	{elliptic.P521(), coseCrvP521, coseAlgES512, 66},
}

func curveOf(c elliptic.Curve) (curveInfo, error) {
	for _, ci := range curves {
		if ci.curve == c {
			return ci, nil
		}
	}
	return curveInfo{}, fmt.Errorf("%w: unsupported curve %s", ErrKey, c.Params().Name)
}

// coseKeyEC2 is the public COSE_Key in the order t_cose (and so TF-RMM)
// writes it: kty, crv, x, y (TF-RMM attestation_key.c with t_cose_key_encode). With the order-keeping
// encoder this gives A4 01 02 20 02 21 58 30 <x> 22 58 30 <y> for P-384.
type coseKeyEC2 struct {
	Kty int64  `cbor:"1,keyasint"`
	Crv int64  `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint"`
}

// EncodeCOSEKey encodes an EC public key as a COSE_Key in the canonical RMM
// 1.0-REL0 form (107 bytes for P-384).
func EncodeCOSEKey(pub *ecdsa.PublicKey) ([]byte, error) {
	ci, err := curveOf(pub.Curve)
	if err != nil {
		return nil, err
	}
	raw, err := pub.Bytes() // 04 || X || Y, fixed width
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return Marshal(coseKeyEC2{Kty: coseKtyEC2, Crv: ci.crv, X: raw[1 : 1+ci.size], Y: raw[1+ci.size:]})
}

// DecodeCOSEKey strictly decodes an EC2 public COSE_Key: kty 2, a supported
// crv, x and y of the curve's size forming a point on the curve. An alg
// parameter, if present, must be the one that goes with the curve; a kid is
// allowed; a private key (d) or any other parameter is rejected.
func DecodeCOSEKey(data []byte) (*ecdsa.PublicKey, error) {
	if len(data) > coseKeyMaxSize {
		return nil, fmt.Errorf("%w: COSE_Key of %d bytes is too large", ErrSyntax, len(data))
	}
	if len(data) > 0 && data[0]>>5 != 5 {
		// A raw SEC1 point (first byte 0x04, an unsigned integer in CBOR)
		// is the usual way to get here: the legacy encoding in a token
		// whose profile calls for a COSE_Key.
		return nil, fmt.Errorf("%w: COSE_Key is not a CBOR map (found %s; first byte 0x%02x)", ErrSyntax, majorName(data[0]>>5), data[0])
	}
	if err := check(data, "COSE_Key"); err != nil {
		return nil, err
	}
	var (
		kty, crv, alg int64
		x, y          []byte
		seen          = map[int64]bool{} // at most the six labels below
	)
	err := entries(data, func(_ int, k, v []byte) error {
		label, ok := asInt(k)
		if !ok {
			return fmt.Errorf("%w: COSE_Key: unexpected parameter %s", ErrSyntax, keyString(k))
		}
		seen[label] = true
		wantInt := func(dst *int64, name string) error {
			n, ok := asInt(v)
			if !ok {
				return fmt.Errorf("%w: COSE_Key %s is %s, expected an integer", ErrSyntax, name, kindName(v))
			}
			*dst = n
			return nil
		}
		wantBytes := func(dst *[]byte, name string) error {
			if v[0]>>5 != 2 {
				return fmt.Errorf("%w: COSE_Key %s is %s, expected a byte string", ErrSyntax, name, kindName(v))
			}
			*dst = content(v)
			return nil
		}
		switch label {
		case coseKeyKty:
			return wantInt(&kty, "kty")
		case coseKeyCrv:
			return wantInt(&crv, "crv")
		case coseKeyAlg:
			return wantInt(&alg, "alg")
		case coseKeyX:
			return wantBytes(&x, "x")
		case coseKeyY:
			return wantBytes(&y, "y (compressed points are not supported)")
		case coseKeyKid:
			var kid []byte
			return wantBytes(&kid, "kid")
		case coseKeyD:
			return fmt.Errorf("%w: COSE_Key carries a private key (d)", ErrSyntax)
		}
		return fmt.Errorf("%w: COSE_Key: unexpected parameter %d", ErrSyntax, label)
	})
	if err != nil {
		return nil, err
	}
	for _, need := range [...]struct {
		label int64
		name  string
	}{{coseKeyKty, "kty"}, {coseKeyCrv, "crv"}, {coseKeyX, "x"}, {coseKeyY, "y"}} {
		if !seen[need.label] {
			return nil, fmt.Errorf("%w: COSE_Key: no %s (%d)", ErrSyntax, need.name, need.label)
		}
	}
	if kty != coseKtyEC2 {
		return nil, fmt.Errorf("%w: COSE_Key kty %d, expected %d (EC2)", ErrSyntax, kty, coseKtyEC2)
	}
	var ci curveInfo
	for _, c := range curves {
		if c.crv == crv {
			ci = c
		}
	}
	if ci.curve == nil {
		return nil, fmt.Errorf("%w: COSE_Key crv %d is not P-256 (1), P-384 (2) or P-521 (3)", ErrSyntax, crv)
	}
	if seen[coseKeyAlg] && alg != ci.alg {
		return nil, fmt.Errorf("%w: COSE_Key alg %d does not go with curve %s", ErrAlgorithm, alg, ci.curve.Params().Name)
	}
	if len(x) != ci.size || len(y) != ci.size {
		return nil, fmt.Errorf("%w: COSE_Key %s coordinates must be %d bytes (x %d, y %d)", ErrSyntax, ci.curve.Params().Name, ci.size, len(x), len(y))
	}
	var buf [1 + 2*66]byte
	point := append(append(append(buf[:0], 4), x...), y...)
	return parsePoint(ci.curve, point, "COSE_Key")
}

// EncodeRawPoint encodes an EC public key as the uncompressed SEC1 point
// 04 || X || Y, the legacy (RMM 1.0-EAC5) RAK encoding: 97 bytes for P-384.
func EncodeRawPoint(pub *ecdsa.PublicKey) ([]byte, error) {
	if _, err := curveOf(pub.Curve); err != nil {
		return nil, err
	}
	b, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return b, nil
}

// DecodeRawPoint decodes an uncompressed SEC1 point; its length tells the
// curve (65 bytes P-256, 97 P-384, 133 P-521).
func DecodeRawPoint(data []byte) (*ecdsa.PublicKey, error) {
	for _, ci := range curves {
		if len(data) == 1+2*ci.size {
			return parsePoint(ci.curve, data, "raw EC point")
		}
	}
	return nil, fmt.Errorf("%w: raw EC point of %d bytes (expected 65, 97 or 133)", ErrSyntax, len(data))
}

func parsePoint(c elliptic.Curve, point []byte, what string) (*ecdsa.PublicKey, error) {
	if point[0] != 4 {
		return nil, fmt.Errorf("%w: %s: not an uncompressed point (first byte 0x%02x)", ErrSyntax, what, point[0])
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(c, point)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not a point on %s", ErrSyntax, what, c.Params().Name)
	}
	return pub, nil
}

// DescribeKey is a one-line description of a key for messages and output.
func DescribeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", pub), "*")
}
