package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// provisioningSession is the provisioning response, as
// provisioning/api/handler.go ProvisioningSession.
type provisioningSession struct {
	Status        string  `json:"status"`
	Expiry        string  `json:"expiry"`
	FailureReason *string `json:"failure-reason,omitempty"`
}

// requireToken admits requests that carry the configured bearer token
// (RFC 6750 §2.1); others get a 401 problem with a WWW-Authenticate
// challenge. The SHA-256 digests of the two are compared in constant time:
// subtle.ConstantTimeCompare returns at once for inputs of different
// lengths, which would tell a prober the token's length.
func (s *Service) requireToken(h http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.cfg.ProvisioningToken))
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.m.rejected("unauthenticated")
			w.Header().Set("WWW-Authenticate", `Bearer realm="ccakit provisioning"`)
			writeProblem(w, http.StatusUnauthorized, "provisioning requires a valid bearer token")
			return
		}
		h(w, r)
	}
}

// submit is POST /endorsement-provisioning/v1/submit
// (provisioning/api/handler.go Submit): 406; 400 for a malformed type; 415
// (with Accept) for an unsupported one; 400 for an empty body; 413 past
// the bound. Then always 200 with the provisioning session: "success", or
// "failed" with the reason when the CoRIM is refused. The docs' 201 and
// asynchronous session are not what Veraison implements.
func (s *Service) submit(w http.ResponseWriter, r *http.Request) {
	if negotiate(r.Header, ProvisioningSessionMediaType) == "" {
		writeProblem(w, http.StatusNotAcceptable, "the only supported output format is "+ProvisioningSessionMediaType)
		return
	}
	mediaType := r.Header.Get("Content-Type")
	normalized, ok := s.checkContentType(w, mediaType, provisioningMediaTypes, "could not check media type with provisioner")
	if !ok {
		return
	}
	body, ok := s.readBody(w, r, "endorsements")
	if !ok {
		return
	}
	_, params, _ := mime.ParseMediaType(normalized)
	err := s.cfg.Provisioner.Provision(r.Context(), normalized, params["profile"], body)
	expiry := s.cfg.Now().UTC().Format(time.RFC3339)
	switch {
	case err == nil:
		s.m.provisioned("success")
		s.log.Info("provisioned", "media-type", normalized, "bytes", len(body))
		writeJSON(w, http.StatusOK, ProvisioningSessionMediaType, provisioningSession{Status: "success", Expiry: expiry})
	case errors.Is(err, ErrEndorsement):
		s.m.provisioned("failed")
		reason := "submit endorsement returned error: " + err.Error()
		s.log.Warn("provisioning refused", "media-type", normalized, "error", err)
		writeJSON(w, http.StatusOK, ProvisioningSessionMediaType, provisioningSession{Status: "failed", Expiry: expiry, FailureReason: &reason})
	default:
		s.m.provisioned("error")
		s.internal(w, r, "storing the endorsements", err)
	}
}
