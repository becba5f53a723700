package service

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/verifier"
)

// annotatedEvidenceKey is the appraisal member that carries a token's
// claims (veraison/ear ear_appraisal.go AppraisalExtensions).
const annotatedEvidenceKey = "ear.veraison.annotated-evidence"

// earSigner makes the JWT that Result.EARJWT makes, with less work.
// EARJWT's EAR holds each token's claims (the annotated evidence) as maps
// decoded from their JSON, which veraison/ear's Sign turns back into JSON
// through reflection twice (ear.go Sign: AsMap, then jwx's jwt.Token); in
// the service's profile that was a third of its own cost per session. Here
// the EAR comes without them (Result.UnannotatedEAR), veraison/ear encodes
// the rest (AsMap, the members and values of its MarshalJSON), the claims
// JSON goes in as it was rendered, and the payload is signed as it is, with
// the protected header jwx's jwt.Sign writes ({"alg", "typ":"JWT"}). The
// claims are the same as those of EARJWT's JWT (TestEARSignerMatchesEAR);
// ear.AttestationResult.Verify takes it.
type earSigner struct {
	alg jwa.SignatureAlgorithm
	key crypto.Signer
}

// sign returns res's EAR, without the annotated evidence (for the metrics
// and the log), and its JWT, with it.
func (e *earSigner) sign(res *verifier.Result) (*ear.AttestationResult, []byte, error) {
	ar, err := res.UnannotatedEAR()
	if err != nil {
		return nil, nil, err
	}
	annotated := map[string]func() (json.RawMessage, error){
		verifier.SubmodPlatform: res.Platform.ClaimsJSON,
		verifier.SubmodRealm:    res.Realm.ClaimsJSON,
	}
	payload, err := earPayload(ar, annotated)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the EAR: %w", err)
	}
	// A header per signature: jws.Sign sets "alg" in the one it is given.
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, nil, err
	}
	jwt, err := jws.Sign(payload, jws.WithKey(e.alg, e.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return nil, nil, fmt.Errorf("signing the EAR: %w", err)
	}
	return ar, jwt, nil
}

var errEAR = errors.New("invalid EAR")

// earPayload is ar's JSON as veraison/ear's MarshalJSON writes it, with the
// claims of annotated[submod] (when it renders any) as that submodule's
// annotated evidence. It refuses what ear's MarshalJSON refuses
// (ear.go validate), so that nothing is signed that ear would not sign.
func earPayload(ar *ear.AttestationResult, annotated map[string]func() (json.RawMessage, error)) ([]byte, error) {
	switch {
	case ar.Profile == nil || *ar.Profile != ear.EatProfile:
		return nil, fmt.Errorf("%w: eat_profile missing or not %s", errEAR, ear.EatProfile)
	case ar.IssuedAt == nil || ar.VerifierID == nil:
		return nil, fmt.Errorf("%w: iat or ear.verifier-id missing", errEAR)
	case ar.Nonce != nil && (len(*ar.Nonce) < 8 || len(*ar.Nonce) > 88):
		return nil, fmt.Errorf("%w: eat_nonce of %d characters", errEAR, len(*ar.Nonce))
	case len(ar.Submods) == 0:
		return nil, fmt.Errorf("%w: no appraisal", errEAR)
	}
	// Submodules in name order, as encoding/json writes a map; written
	// here, not by json.Marshal, which would scan the claims JSON again.
	names := make([]string, 0, len(ar.Submods))
	for name := range ar.Submods {
		names = append(names, name)
	}
	slices.Sort(names)
	submods := []byte{'{'}
	for i, name := range names {
		a := ar.Submods[name]
		if a == nil || a.Status == nil {
			return nil, fmt.Errorf("%w: submods[%s]: ear.status missing", errEAR, name)
		}
		if a.VeraisonAnnotatedEvidence != nil {
			return nil, fmt.Errorf("%w: submods[%s] is already annotated", errEAR, name)
		}
		b, err := json.Marshal(a.AsMap())
		if err != nil {
			return nil, fmt.Errorf("submods[%s]: %w", name, err)
		}
		if render := annotated[name]; render != nil {
			claims, err := render()
			if err != nil {
				return nil, err
			}
			if len(claims) > 0 {
				if b, err = withMember(b, annotatedEvidenceKey, claims); err != nil {
					return nil, fmt.Errorf("submods[%s]: %w", name, err)
				}
			}
		}
		if i > 0 {
			submods = append(submods, ',')
		}
		k, _ := json.Marshal(name)
		submods = append(append(append(submods, k...), ':'), b...)
	}
	submods = append(submods, '}')
	top := *ar
	top.Submods = nil
	m := top.AsMap()
	delete(m, "submods")
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return withMember(b, "submods", submods)
}

// withMember adds "key": value to the JSON object obj. value must be a JSON
// object, encoded by encoding/json (the claims, an appraisal), which is
// copied as it is: it was valid and compact when it was made.
func withMember(obj []byte, key string, value json.RawMessage) ([]byte, error) {
	value = bytes.TrimSpace(value)
	if len(obj) < 2 || obj[len(obj)-1] != '}' || len(value) < 2 || value[0] != '{' {
		return nil, fmt.Errorf("%w: %s is not a JSON object", errEAR, key)
	}
	k, _ := json.Marshal(key)
	out := make([]byte, 0, len(obj)+len(k)+len(value)+2)
	out = append(out, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(append(append(out, k...), ':'), value...)
	return append(out, '}'), nil
}
