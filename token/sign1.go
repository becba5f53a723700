package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/fxamacker/cbor/v2"
	cose "github.com/veraison/go-cose"
)

// TagSign1 is the CBOR tag of COSE_Sign1_Tagged (RFC 9052 §4.2).
const TagSign1 = 18

// DefaultAlgorithms is the allow-list applied when the caller gives none:
// the ECDSA algorithms that CCA platforms use (TF-RMM and TF-A sign ES384;
// Veraison's test platforms ES256). token-formats.md §2.
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
	msg     cose.Sign1Message
}

// sign1Array is COSE_Sign1 = [protected: bstr, unprotected: map, payload:
// bstr / nil, signature: bstr], RFC 9052 §4.2.
type sign1Array struct {
	_           struct{} `cbor:",toarray"`
	Protected   cbor.RawMessage
	Unprotected cbor.RawMessage
	Payload     bstr
	Signature   bstr
}

// DecodeSign1 strictly decodes a tagged COSE_Sign1. what names the token in
// errors ("platform token", "realm token").
func DecodeSign1(data []byte, what string) (*Sign1, error) {
	content, err := unwrapTag(data, TagSign1, what)
	if err != nil {
		return nil, err
	}
	if data[0] != 0xc0|TagSign1 {
		// As for the collection tag: honest encoders write the one-byte head.
		return nil, fmt.Errorf("%w: %s: tag %d encoded in a non-shortest form", ErrMalformed, what, TagSign1)
	}
	var arr sign1Array
	if err := decodeFraming(content, &arr, what+": COSE_Sign1"); err != nil {
		return nil, err
	}
	if len(arr.Protected) == 0 || arr.Protected[0]>>5 != 2 {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 protected header is not a byte string", ErrMalformed, what)
	}
	if len(arr.Unprotected) == 0 || arr.Unprotected[0]>>5 != 5 {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 unprotected header is not a map", ErrMalformed, what)
	}
	if arr.Payload == nil {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 payload is detached or not a byte string", ErrMalformed, what)
	}
	if len(arr.Signature) == 0 {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 signature is empty", ErrMalformed, what)
	}
	s := &Sign1{Payload: arr.Payload}
	s.msg = cose.Sign1Message{
		Headers:   cose.Headers{RawProtected: arr.Protected, RawUnprotected: arr.Unprotected},
		Payload:   arr.Payload,
		Signature: arr.Signature,
	}
	if err := s.msg.Headers.UnmarshalFromRaw(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	if s.Alg, err = s.msg.Headers.Protected.Algorithm(); err != nil {
		if _, inUnprotected := s.msg.Headers.Unprotected[cose.HeaderLabelAlgorithm]; inUnprotected {
			return nil, fmt.Errorf("%w: %s: the alg header parameter is unprotected", ErrAlgorithm, what)
		}
		return nil, fmt.Errorf("%w: %s: protected header: %v", ErrAlgorithm, what, err)
	}
	return s, nil
}

// Signature returns the signature bytes as carried.
func (s *Sign1) Signature() []byte { return s.msg.Signature }

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
	v, err := cose.NewVerifier(s.Alg, pub)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	if err := s.msg.Verify(nil, v); err != nil {
		if errors.Is(err, cose.ErrVerification) {
			return ErrSignature
		}
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

func isPSS(a cose.Algorithm) bool {
	return a == cose.AlgorithmPS256 || a == cose.AlgorithmPS384 || a == cose.AlgorithmPS512
}

// SignPayload signs payload as a tagged COSE_Sign1 with the algorithm pinned
// to the key, in TF-RMM's shape: protected {1: alg}, unprotected {}.
// rng nil means crypto/rand.
func SignPayload(payload []byte, key crypto.Signer, rng io.Reader) ([]byte, error) {
	alg, err := AlgorithmForKey(key.Public())
	if err != nil {
		return nil, err
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
