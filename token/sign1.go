package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"slices"

	cose "github.com/veraison/go-cose"
)

// TagSign1 is the CBOR tag of COSE_Sign1_Tagged (RFC 9052 §4.2).
const TagSign1 = 18

// DefaultAlgorithms is the allow-list applied when the caller gives none:
// the ECDSA algorithms that CCA platforms use (TF-RMM and TF-A sign ES384;
// Veraison's test platforms ES256: services scheme/arm-cca test keys).
var DefaultAlgorithms = []cose.Algorithm{cose.AlgorithmES256, cose.AlgorithmES384, cose.AlgorithmES512}

// AlgorithmForKey returns the one COSE algorithm a key may be used with:
// ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, PS256 for RSA.
// Pinning the algorithm to the key is what stops an ES256 header from being
// accepted with a P-384 key (go-cose does not check that).
func AlgorithmForKey(pub crypto.PublicKey) (cose.Algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return cose.AlgorithmES256, nil
		case elliptic.P384():
			return cose.AlgorithmES384, nil
		case elliptic.P521():
			return cose.AlgorithmES512, nil
		}
		return 0, fmt.Errorf("%w: ECDSA curve %s", ErrAlgorithm, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return cose.AlgorithmEdDSA, nil
	case *rsa.PublicKey:
		return cose.AlgorithmPS256, nil
	}
	return 0, fmt.Errorf("%w: key type %T", ErrAlgorithm, pub)
}

// Sign1 is a decoded COSE_Sign1 message.
type Sign1 struct {
	// Alg is the algorithm of the protected header.
	Alg cose.Algorithm
	// Payload is the payload as carried (the encoded claims set).
	Payload []byte
	// The header elements as encoded (the protected one a byte string,
	// head included) and the signature; all in one copy of the input.
	protected, unprotected, sig []byte
}

// DecodeSign1 strictly decodes a tagged COSE_Sign1 (RFC 9052 §4.2):
// 18([protected: bstr, unprotected: map, payload: bstr, signature: bstr]).
// The alg header parameter must be in the protected header. what names the
// token in errors ("platform token", "realm token").
func DecodeSign1(data []byte, what string) (*Sign1, error) {
	if len(data) == 0 || data[0] != 0xc0|TagSign1 {
		// Honest encoders write the one-byte head; tagError says what is there.
		return nil, tagError(data, TagSign1, what)
	}
	if len(data) == 1 {
		return nil, fmt.Errorf("%w: %s: %w (nothing after the tag)", ErrMalformed, what, io.ErrUnexpectedEOF)
	}
	if err := check(data[1:], what); err != nil {
		return nil, err
	}
	buf := bytes.Clone(data[1:])
	if major, n, _ := readHead(buf); major != 4 || n != 4 {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 is not an array of 4 elements (found %s)", ErrMalformed, what, describeShape(buf))
	}
	var elems [4][]byte
	_ = entries(buf, func(i int, e, _ []byte) error {
		elems[i] = e
		return nil
	})
	prot, unprot, payload, sig := elems[0], elems[1], elems[2], elems[3]
	switch {
	case prot[0]>>5 != 2:
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 protected header is not a byte string", ErrMalformed, what)
	case unprot[0]>>5 != 5:
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 unprotected header is not a map", ErrMalformed, what)
	case kindName(payload) == "null":
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 payload is detached", ErrMalformed, what)
	case payload[0]>>5 != 2:
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 payload is not a byte string (found %s)", ErrMalformed, what, kindName(payload))
	case sig[0]>>5 != 2:
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 signature is not a byte string (found %s)", ErrMalformed, what, kindName(sig))
	case len(content(sig)) == 0:
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 signature is empty", ErrMalformed, what)
	}
	alg, err := headerAlg(content(prot), unprot, what)
	if err != nil {
		return nil, err
	}
	return &Sign1{Alg: cose.Algorithm(alg), Payload: content(payload), protected: prot, unprotected: unprot, sig: content(sig)}, nil
}

// headerAlg checks the two header maps (RFC 9052 §3) and returns alg, which
// must be an integer in the protected header. Labels are integers or text;
// no label is in both maps; crit may only name alg, the one parameter this
// package understands, and only in the protected header.
func headerAlg(prot, unprot []byte, what string) (int64, error) {
	if len(prot) > 0 {
		if err := check(prot, what); err != nil {
			return 0, fmt.Errorf("%w (protected header)", err)
		}
		if prot[0]>>5 != 5 {
			return 0, fmt.Errorf("%w: %s: protected header is not a map (found %s)", ErrMalformed, what, kindName(prot))
		}
	}
	var (
		alg    int64
		hasAlg bool
		ivs    = new(int) // IV and Partial IV seen, in both buckets
		// The protected labels, collected once: comparing each unprotected
		// label with them must not walk the protected header again, which
		// made a 50 KB message with 127 unprotected labels cost 20–60 ms.
		// At most MaxMapPairs (check's limits hold), so on the stack.
		protLabels [MaxMapPairs][]byte
		nProt      int
	)
	if len(prot) > 0 {
		err := entries(prot, func(_ int, k, v []byte) error {
			protLabels[nProt] = k
			nProt++
			if m := k[0] >> 5; m > 1 && m != 3 {
				return fmt.Errorf("%w: %s: protected header label of type %s", ErrMalformed, what, kindName(k))
			}
			label, isInt := asInt(k)
			switch {
			case isInt && label == 1: // alg
				if v[0]>>5 == 3 {
					return fmt.Errorf("%w: %s: protected header: alg %q is not supported", ErrAlgorithm, what, content(v))
				}
				n, ok := asInt(v)
				if !ok {
					return fmt.Errorf("%w: %s: protected header: alg is %s", ErrMalformed, what, kindName(v))
				}
				alg, hasAlg = n, true
			case isInt && label == 2: // crit
				if v[0]>>5 != 4 || len(v) == 1 {
					return fmt.Errorf("%w: %s: protected header: crit is not a non-empty array", ErrMalformed, what)
				}
				return entries(v, func(_ int, c, _ []byte) error {
					if n, ok := asInt(c); !ok || n != 1 {
						return fmt.Errorf("%w: %s: protected header: critical parameter %s is not understood", ErrMalformed, what, keyString(c))
					}
					return nil
				})
			case isInt:
				return checkHeaderParam(label, v, what, "protected", ivs)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	var algUnprotected bool
	err := entries(unprot, func(_ int, k, v []byte) error {
		if m := k[0] >> 5; m > 1 && m != 3 {
			return fmt.Errorf("%w: %s: unprotected header label of type %s", ErrMalformed, what, kindName(k))
		}
		for _, pk := range protLabels[:nProt] {
			if sameKey(pk, k) {
				return fmt.Errorf("%w: %s: header parameter %s is in both the protected and the unprotected header", ErrMalformed, what, keyString(k))
			}
		}
		n, isInt := asInt(k)
		if isInt && n == 1 {
			algUnprotected = true
		}
		if isInt {
			if err := checkHeaderParam(n, v, what, "unprotected", ivs); err != nil {
				return err
			}
		}
		if isInt && n == 2 {
			// RFC 9052 §3.1: when present, crit must be in the protected
			// bucket; a crit here could name parameters a verifier must
			// understand without being covered by the signature.
			return fmt.Errorf("%w: %s: unprotected header: crit (2) belongs in the protected header (RFC 9052 §3.1)", ErrMalformed, what)
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case hasAlg:
		return alg, nil
	case algUnprotected:
		return 0, fmt.Errorf("%w: %s: the alg header parameter is unprotected", ErrAlgorithm, what)
	}
	return 0, fmt.Errorf("%w: %s: protected header: no alg parameter", ErrAlgorithm, what)
}

// checkHeaderParam checks the type of the common header parameters this
// package does not otherwise use (RFC 9052 §3.1; x5chain RFC 9360 §2; typ
// RFC 9596 §2), so that a message is refused for a malformed header
// whichever key verifies it: go-cose, which verifies the non-ECDSA
// algorithms, refuses these shapes too (headers.go validateHeaderParameters),
// and an ECDSA verification must not accept what that path refuses.
// ivs counts IV and Partial IV across both buckets, which must not both be
// present (RFC 9052 §3.1).
func checkHeaderParam(label int64, v []byte, what, bucket string, ivs *int) error {
	bad := func(want string) error {
		return fmt.Errorf("%w: %s: %s header: %s (%d) is %s, expected %s", ErrMalformed, what, bucket, headerParamName(label), label, kindName(v), want)
	}
	major := v[0] >> 5
	switch label {
	case 3, 16: // content type, typ: uint / tstr
		if major != 0 && major != 3 {
			return bad("an unsigned integer or a text string")
		}
		if major == 3 && len(content(v)) == 0 {
			return fmt.Errorf("%w: %s: %s header: %s (%d) is an empty text string", ErrMalformed, what, bucket, headerParamName(label), label)
		}
	case 4: // kid: bstr
		if major != 2 {
			return bad("a byte string")
		}
	case 5, 6: // IV, Partial IV: bstr, not both
		if major != 2 {
			return bad("a byte string")
		}
		if *ivs++; *ivs > 1 {
			return fmt.Errorf("%w: %s: IV (5) and Partial IV (6) are both present (RFC 9052 §3.1)", ErrMalformed, what)
		}
	case 33: // x5chain: COSE_X509 = bstr / [2*certs: bstr]
		if major == 2 {
			return nil
		}
		if _, n, _ := readHead(v); major != 4 || n < 2 {
			return bad("a byte string or an array of two or more byte strings (RFC 9360 §2)")
		}
		return entries(v, func(i int, c, _ []byte) error {
			if c[0]>>5 != 2 {
				return fmt.Errorf("%w: %s: %s header: x5chain (33) element %d is %s, expected a byte string", ErrMalformed, what, bucket, i, kindName(c))
			}
			return nil
		})
	}
	return nil
}

func headerParamName(label int64) string {
	switch label {
	case 3:
		return "content type"
	case 4:
		return "kid"
	case 5:
		return "IV"
	case 6:
		return "Partial IV"
	case 16:
		return "typ"
	}
	return "x5chain"
}

// Signature returns the signature bytes as carried.
func (s *Sign1) Signature() []byte { return s.sig }

// Verify checks the signature with pub. The header algorithm must be the
// one pinned to pub (AlgorithmForKey) and must be in allowed (nil means
// DefaultAlgorithms).
func (s *Sign1) Verify(pub crypto.PublicKey, allowed []cose.Algorithm) error {
	if allowed == nil {
		allowed = DefaultAlgorithms
	}
	if !slices.Contains(allowed, s.Alg) {
		return fmt.Errorf("%w: %v is not allowed (allowed: %v)", ErrAlgorithm, s.Alg, allowed)
	}
	keyAlg, err := AlgorithmForKey(pub)
	if err != nil {
		return err
	}
	if keyAlg != s.Alg && !(isPSS(keyAlg) && isPSS(s.Alg)) {
		return fmt.Errorf("%w: header says %v but the key is for %v", ErrAlgorithm, s.Alg, keyAlg)
	}
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		// ES256/ES384/ES512, pinned to the key's curve above.
		return s.verifyECDSA(k)
	}
	msg := cose.Sign1Message{
		Headers:   cose.Headers{RawProtected: s.protected, RawUnprotected: s.unprotected},
		Payload:   s.Payload,
		Signature: s.sig,
	}
	if err := msg.Headers.UnmarshalFromRaw(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v, err := cose.NewVerifier(s.Alg, pub)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	if err := msg.Verify(nil, v); err != nil {
		if errors.Is(err, cose.ErrVerification) {
			return fmt.Errorf("%w: %v signature does not verify with the %s key", ErrSignature, s.Alg, DescribeKey(pub))
		}
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// sigStructurePrefix is the start of Sig_structure for COSE_Sign1 (RFC 9052
// §4.4): array(4), "Signature1".
var sigStructurePrefix = []byte{0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'}

// verifyECDSA verifies an ECDSA COSE signature (RFC 9053 §2.1: r || s, each
// the size of the curve order) over ToBeSigned = Sig_structure(
// "Signature1", protected, h”, payload), hashed with the curve's hash.
// Done here rather than through go-cose so that a verification costs the
// two hash and ECDSA operations and little else.
func (s *Sign1) verifyECDSA(pub *ecdsa.PublicKey) error {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(s.sig) != 2*size {
		return fmt.Errorf("%w: %d-byte signature, expected %d", ErrSignature, len(s.sig), 2*size)
	}
	// The protected header's bytes as carried, in a bstr of the shortest
	// head, as ToBeSigned is deterministically encoded (RFC 9052 §9).
	prot := content(s.protected)
	tbs := make([]byte, 0, len(sigStructurePrefix)+9+len(prot)+1+9+len(s.Payload))
	tbs = append(tbs, sigStructurePrefix...)
	tbs = append(appendHead(tbs, 2, uint64(len(prot))), prot...)
	tbs = append(tbs, 0x40) // external_aad: h''
	tbs = appendHead(tbs, 2, uint64(len(s.Payload)))
	tbs = append(tbs, s.Payload...)
	var digest []byte
	switch s.Alg {
	case cose.AlgorithmES256:
		d := sha256.Sum256(tbs)
		digest = d[:]
	case cose.AlgorithmES384:
		d := sha512.Sum384(tbs)
		digest = d[:]
	default: // ES512
		d := sha512.Sum512(tbs)
		digest = d[:]
	}
	var der [2 + 1 + 2*(2+1+66)]byte
	if !ecdsa.VerifyASN1(pub, digest, ecdsaDER(der[:0], s.sig[:size], s.sig[size:])) {
		// Only the failure path formats: verification stays allocation-lean.
		return fmt.Errorf("%w: %v signature does not verify with the %s key", ErrSignature, s.Alg, DescribeKey(pub))
	}
	return nil
}

// ecdsaDER appends the ASN.1 DER form of an ECDSA signature,
// SEQUENCE { INTEGER r, INTEGER s } (RFC 5480 §2.2, X.690 §8.3), given r
// and s as unsigned big-endian integers of at most 66 bytes.
func ecdsaDER(b, r, s []byte) []byte {
	trim := func(v []byte) []byte {
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		return v
	}
	intLen := func(v []byte) int { return 2 + len(v) + int(v[0]>>7) } // a 0x00 keeps it positive
	appendInt := func(b, v []byte) []byte {
		b = append(b, 0x02, byte(len(v)+int(v[0]>>7)))
		if v[0]&0x80 != 0 {
			b = append(b, 0)
		}
		return append(b, v...)
	}
	r, s = trim(r), trim(s)
	if n := intLen(r) + intLen(s); n < 0x80 {
		b = append(b, 0x30, byte(n))
	} else {
		b = append(b, 0x30, 0x81, byte(n))
	}
	return appendInt(appendInt(b, r), s)
}

func isPSS(a cose.Algorithm) bool {
	return a == cose.AlgorithmPS256 || a == cose.AlgorithmPS384 || a == cose.AlgorithmPS512
}

// RFC6979 is a random source that SignPayload takes as "sign
// deterministically": ECDSA keys sign with the nonce of RFC 6979 (Go's
// crypto/ecdsa with a nil random source), so that the same payload and key
// always give the same token. Ed25519 is deterministic anyway; RSA-PSS
// stays randomized. It is never read.
var RFC6979 io.Reader = rfc6979{}

type rfc6979 struct{}

func (rfc6979) Read([]byte) (int, error) {
	return 0, errors.New("token.RFC6979 is a marker, not a random source")
}

// deterministicECDSA signs with RFC 6979 nonces whatever random source it
// is handed: crypto/ecdsa.PrivateKey.Sign with a nil source and the hash
// of the key's curve (the one AlgorithmForKey pins).
type deterministicECDSA struct{ k *ecdsa.PrivateKey }

func (d deterministicECDSA) Public() crypto.PublicKey { return d.k.Public() }

func (d deterministicECDSA) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	h := crypto.SHA256
	switch d.k.Curve {
	case elliptic.P384():
		h = crypto.SHA384
	case elliptic.P521():
		h = crypto.SHA512
	}
	return d.k.Sign(nil, digest, h)
}

// SignPayload signs payload as a tagged COSE_Sign1 with the algorithm pinned
// to the key, in TF-RMM's shape: protected {1: alg}, unprotected {}.
// rng nil means crypto/rand; RFC6979 means deterministic ECDSA.
func SignPayload(payload []byte, key crypto.Signer, rng io.Reader) ([]byte, error) {
	alg, err := AlgorithmForKey(key.Public())
	if err != nil {
		return nil, err
	}
	if rng == RFC6979 {
		rng = nil
		if k, ok := key.(*ecdsa.PrivateKey); ok {
			key = deterministicECDSA{k}
		}
	}
	signer, err := cose.NewSigner(alg, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if rng == nil {
		rng = rand.Reader
	}
	msg := cose.Sign1Message{
		Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: alg}},
		Payload: payload,
	}
	if err := msg.Sign(rng, nil, signer); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return msg.MarshalCBOR()
}
