package service

import (
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/ccakit/cca/verifier"
)

// wellKnownInfo is the discovery document, with the members and order of
// veraison/services capability/well-known.go WellKnownInfo.
type wellKnownInfo struct {
	PublicKey    map[string]any    `json:"ear-verification-key,omitempty"`
	MediaTypes   []string          `json:"media-types,omitempty"`
	Schemes      []string          `json:"attestation-schemes,omitempty"`
	Version      string            `json:"version"`
	ServiceState string            `json:"service-state"`
	ApiEndpoints map[string]string `json:"api-endpoints"`
}

// publicJWK is the EAR verification key as a public JWK carrying the
// JWS algorithm EARJWT signs with ("alg"), which a relying party needs to
// verify the EAR (veraison/ear AttestationResult.Verify takes it).
func publicJWK(pub crypto.PublicKey) (map[string]any, error) {
	alg, err := verifier.JWSAlgorithm(pub)
	if err != nil {
		return nil, err
	}
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, err
	}
	if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if _, private := m["d"]; private {
		return nil, fmt.Errorf("refusing to publish a private key")
	}
	return m, nil
}

// serviceState is the service-state member (capability/well-known.go
// ServiceStateToAPI): READY, or TERMINATING once shutdown began.
func (s *Service) serviceState() string {
	if s.terminating.Load() {
		return "TERMINATING"
	}
	return "READY"
}

// writeDiscovery answers a well-known request as
// verification/api/handler.go GetWellKnownVerificationInfo means to: the
// discovery type or application/json is acceptable (else 406), and the
// document may be cached for a minute. The answer is of the discovery
// type (a +json type) either way. (Veraison's check for application/json
// never succeeds: gin's NegotiateFormat is asked for the discovery type
// alone, so Veraison answers a client that accepts only application/json
// 406; this service takes what the handler means.)
func (s *Service) writeDiscovery(w http.ResponseWriter, r *http.Request, info wellKnownInfo) {
	if negotiate(r.Header, DiscoveryMediaType, "application/json") == "" {
		writeProblem(w, http.StatusNotAcceptable, "the only supported output format is "+DiscoveryMediaType)
		return
	}
	info.Version = s.cfg.Version
	info.ServiceState = s.serviceState()
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(discoveryMaxAge.Seconds())))
	w.Header().Set("Expires", time.Now().Add(discoveryMaxAge).UTC().Format(http.TimeFormat))
	writeJSON(w, http.StatusOK, DiscoveryMediaType, info)
}

// verificationInfo is GET /.well-known/veraison/verification: the EAR
// verification key, the evidence media types and the challenge-response
// endpoint (verification/api/router.go publicApiMap).
func (s *Service) verificationInfo(w http.ResponseWriter, r *http.Request) {
	s.writeDiscovery(w, r, wellKnownInfo{
		PublicKey:    s.jwk,
		MediaTypes:   evidenceMediaTypes,
		ApiEndpoints: map[string]string{"newChallengeResponseSession": PathNewSession},
	})
}

// provisioningInfo is GET /.well-known/veraison/provisioning
// (provisioning/api/handler.go GetWellKnownProvisioningInfo): no key, the
// CoRIM media types and the submit endpoint (provisioning/api/router.go).
func (s *Service) provisioningInfo(w http.ResponseWriter, r *http.Request) {
	s.writeDiscovery(w, r, wellKnownInfo{
		MediaTypes:   provisioningMediaTypes,
		ApiEndpoints: map[string]string{"provisioningSubmit": PathSubmit},
	})
}
