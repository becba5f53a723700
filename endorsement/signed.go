package endorsement

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/ccakit/cca/token"
	cose "github.com/veraison/go-cose"
)

// COSE header labels (RFC 9052 §3.1; corim-meta: draft-ietf-rats-corim
// §4.2.1; x5chain: RFC 9360 §2).
const (
	hdrAlg         = 1
	hdrCrit        = 2
	hdrContentType = 3
	hdrKID         = 4
	hdrCoRIMMeta   = 8
	hdrX5Chain     = 33
)

// decodeSigned reads a COSE_Sign1 array (RFC 9052 §4.2) carrying a CoRIM
// (draft-ietf-rats-corim §4.2): protected header with alg, content type
// application/rim+cbor and corim-meta, payload the unsigned CoRIM.
func decodeSigned(msg []byte, opts DecodeOptions) (*Endorsements, error) {
	const where = "signed CoRIM"
	arr, err := asArray(msg, where, "COSE_Sign1")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(arr) != 4 {
		return nil, fmt.Errorf("%w: %s: COSE_Sign1 has %d elements, expected 4", ErrMalformed, where, len(arr))
	}
	protRaw, unprotRaw, payloadRaw, sigRaw := arr[0], arr[1], arr[2], arr[3]
	prot, err := asBytes(protRaw, where, "protected header")
	if err != nil {
		return nil, err
	}
	if isNull(payloadRaw) {
		return nil, fmt.Errorf("%w: %s: detached payload", ErrMalformed, where)
	}
	payload, err := asBytes(payloadRaw, where, "payload")
	if err != nil {
		return nil, err
	}
	sig, err := asBytes(sigRaw, where, "signature")
	if err != nil {
		return nil, err
	}
	if len(prot) == 0 {
		return nil, fmt.Errorf("%w: %s: empty protected header; alg, content type and corim-meta are mandatory", ErrInvalid, where)
	}
	var hdr, unprot map[any]item
	if err := unmarshal(prot, &hdr, where, "protected header"); err != nil {
		return nil, err
	}
	if err := unmarshal(unprotRaw, &unprot, where, "unprotected header"); err != nil {
		return nil, err
	}
	for label := range unprot {
		if _, ok := hdr[label]; ok {
			name := fmt.Sprint(label)
			if text, isText := label.(string); isText {
				name = quote(text)
			}
			return nil, fmt.Errorf("%w: %s: header %s is in both the protected and the unprotected header", ErrInvalid, where, name)
		}
		if n, ok := label.(int64); ok && (n == hdrAlg || n == hdrContentType || n == hdrCoRIMMeta) {
			return nil, fmt.Errorf("%w: %s: header %d must be protected", ErrInvalid, where, n)
		}
	}
	var alg int64
	switch a := hdr[int64(hdrAlg)]; {
	case a == nil:
		return nil, fmt.Errorf("%w: %s: the protected header has no alg (1)", ErrInvalid, where)
	case dec.Unmarshal(a, &alg) != nil:
		return nil, fmt.Errorf("%w: %s: alg (1) is %s, not an integer", ErrInvalid, where, kind(a))
	}
	ct, err := asTextOrMissing(hdr[int64(hdrContentType)], where, "content type (3)")
	if err != nil {
		return nil, err
	}
	if ct != ContentType {
		return nil, fmt.Errorf("%w: %s: content type %s, expected %q", ErrInvalid, where, quote(ct), ContentType)
	}
	if c := hdr[int64(hdrCrit)]; c != nil {
		crit, err := asArray(c, where, "crit (2)")
		if err != nil {
			return nil, err
		}
		for _, l := range crit {
			var n int64
			if dec.Unmarshal(l, &n) != nil || (n != hdrAlg && n != hdrContentType && n != hdrCoRIMMeta && n != hdrKID && n != hdrX5Chain) {
				return nil, fmt.Errorf("%w: %s: critical header %s is not understood", ErrInvalid, where, kind(l))
			}
		}
	}
	e := &Endorsements{}
	if hdr[int64(hdrCoRIMMeta)] == nil {
		return nil, fmt.Errorf("%w: %s: corim-meta (header 8) is missing", ErrInvalid, where)
	}
	metaBytes, err := asBytes(hdr[int64(hdrCoRIMMeta)], where, "corim-meta (header 8)")
	if err != nil {
		return nil, err
	}
	if err := decodeMeta(metaBytes, e, opts, where); err != nil {
		return nil, err
	}

	key, err := signerKey(hdr[int64(hdrX5Chain)], opts, where)
	if err != nil {
		return nil, err
	}
	if key != nil {
		if err := verify(cose.Algorithm(alg), key, protRaw, unprotRaw, payload, sig, where); err != nil {
			return nil, err
		}
		e.Signed = true
	}
	if err := dec.Wellformed(payload); err != nil {
		return nil, fmt.Errorf("%w: %s: payload: %v", ErrMalformed, where, err)
	}
	if err := decodeUnsigned(payload, e, opts); err != nil {
		return nil, err
	}
	return e, nil
}

func asTextOrMissing(it item, where, what string) (string, error) {
	if it == nil {
		return "", fmt.Errorf("%w: %s: %s is missing", ErrInvalid, where, what)
	}
	return asText(it, where, what)
}

// decodeMeta reads corim-meta-map {0: signer {0: name, ?1: uri}, ?1:
// validity} (draft-ietf-rats-corim §4.2.1).
func decodeMeta(b []byte, e *Endorsements, opts DecodeOptions, where string) error {
	if err := dec.Wellformed(b); err != nil {
		return fmt.Errorf("%w: %s: corim-meta: %v", ErrMalformed, where, err)
	}
	m, err := asMap(b, where, "corim-meta")
	if err != nil {
		return err
	}
	if m[0] == nil {
		return fmt.Errorf("%w: %s: corim-meta has no signer (key 0)", ErrInvalid, where)
	}
	signer, err := asMap(m[0], where, "corim-meta signer")
	if err != nil {
		return err
	}
	if e.SignerName, err = asTextOrMissing(signer[0], where, "corim-meta signer-name (key 0)"); err != nil {
		return err
	}
	if m[1] != nil {
		v, err := validity(m[1], where, "corim-meta signature-validity")
		if err != nil {
			return err
		}
		if err := v.check(opts.Now, where, "signature validity"); err != nil {
			return err
		}
	}
	return nil
}

// signerKey picks the key to check the signature with: the caller's, or
// the x5chain leaf verified to the caller's roots. nil (no error) only
// with SkipSignatureCheckUnsafe.
func signerKey(x5chain item, opts DecodeOptions, where string) (crypto.PublicKey, error) {
	switch {
	case opts.SignerKey != nil:
		return opts.SignerKey, nil
	case opts.Roots != nil:
		if x5chain == nil {
			return nil, fmt.Errorf("%w: %s: no x5chain (header 33) to verify against the given roots, and no signer key", ErrSignature, where)
		}
		return chainKey(x5chain, opts.Roots, where)
	case opts.SkipSignatureCheckUnsafe:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s: no key to check its signature with: give the signer's public key (or roots for its x5chain), or skip the check explicitly (unsafe)", ErrSignature, where)
}

// chainKey verifies an x5chain (a bstr or an array of bstr, leaf first;
// RFC 9360 §2) to roots and returns the leaf's key.
func chainKey(x5chain item, roots *x509.CertPool, where string) (crypto.PublicKey, error) {
	var ders [][]byte
	if major, _, _, _ := head(x5chain); major == 2 {
		der, err := asBytes(x5chain, where, "x5chain")
		if err != nil {
			return nil, err
		}
		ders = [][]byte{der}
	} else {
		arr, err := asArray(x5chain, where, "x5chain")
		if err != nil {
			return nil, err
		}
		if len(arr) == 0 {
			return nil, fmt.Errorf("%w: %s: empty x5chain", ErrInvalid, where)
		}
		for i, c := range arr {
			der, err := asBytes(c, where, fmt.Sprintf("x5chain[%d]", i))
			if err != nil {
				return nil, err
			}
			ders = append(ders, der)
		}
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: x5chain[%d]: %v", ErrInvalid, where, i, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%w: %s: x5chain: %v", ErrSignature, where, err)
	}
	return certs[0].PublicKey, nil
}

// verify checks a COSE_Sign1 signature with the algorithm pinned to the
// key: a header naming another algorithm than the key's is refused (go-cose
// does not check that).
func verify(alg cose.Algorithm, key crypto.PublicKey, protRaw, unprotRaw, payload, sig []byte, where string) error {
	keyAlg, err := token.AlgorithmForKey(key)
	if err != nil {
		return fmt.Errorf("%w: %s: signer key: %v", ErrAlgorithm, where, err)
	}
	if keyAlg != alg {
		return fmt.Errorf("%w: %s: header alg %v but the key is for %v", ErrAlgorithm, where, alg, keyAlg)
	}
	msg := cose.Sign1Message{
		Headers:   cose.Headers{RawProtected: protRaw, RawUnprotected: unprotRaw},
		Payload:   payload,
		Signature: sig,
	}
	if err := msg.Headers.UnmarshalFromRaw(); err != nil {
		return fmt.Errorf("%w: %s: COSE headers: %v", ErrInvalid, where, err)
	}
	v, err := cose.NewVerifier(alg, key)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrAlgorithm, where, err)
	}
	if err := msg.Verify(nil, v); err != nil {
		if errors.Is(err, cose.ErrVerification) {
			return fmt.Errorf("%w: %s: the %v signature does not verify with the %s key", ErrSignature, where, alg, token.DescribeKey(key))
		}
		return fmt.Errorf("%w: %s: %v", ErrSignature, where, err)
	}
	return nil
}
