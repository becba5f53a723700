package service

import (
	"crypto"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/veraison/ear"
)

// earSigner signs EARs into the JWT that ear.AttestationResult.Sign makes
// (veraison/ear ear.go Sign: the claims of AsMap as a JWT, signed by
// jwx's jwt.Sign, whose protected header is {"alg", "typ":"JWT"}), and that
// ear.AttestationResult.Verify takes, with less work: the payload is the
// EAR's own JSON (ear.go MarshalJSON, the same AsMap claims), signed as
// it is, where jwt.Sign copies every claim into a jwt.Token and marshals
// that (a third of a session's EAR cost in the service's profile).
type earSigner struct {
	alg jwa.SignatureAlgorithm
	key crypto.Signer
}

// sign returns ar as a compact JWS (RFC 7515 §7.1) JWT.
func (e *earSigner) sign(ar *ear.AttestationResult) ([]byte, error) {
	payload, err := ar.MarshalJSON() // validates, as Sign does
	if err != nil {
		return nil, fmt.Errorf("encoding the EAR: %w", err)
	}
	// A header per signature: jws.Sign sets "alg" in the one it is given.
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, err
	}
	jwt, err := jws.Sign(payload, jws.WithKey(e.alg, e.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return nil, fmt.Errorf("signing the EAR: %w", err)
	}
	return jwt, nil
}
