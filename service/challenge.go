package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// sessionJSON is the challenge-response session resource, with the members
// and order of veraison/services verification/api/challengeresponsesession.go
// ChallengeResponseSession.
type sessionJSON struct {
	Status   store.State   `json:"status"`
	Nonce    string        `json:"nonce"`
	Expiry   time.Time     `json:"expiry"` // RFC 3339, sub-second precision when present
	Accept   []string      `json:"accept"`
	Evidence *evidenceJSON `json:"evidence,omitempty"`
	Result   *string       `json:"result,omitempty"` // the EAR JWT
}

type evidenceJSON struct {
	Type  string `json:"type"`
	Value []byte `json:"value"` // standard base64, as encoding/json writes []byte
}

func (s *Service) sessionJSON(sess *store.Session) sessionJSON {
	j := sessionJSON{Status: sess.State, Nonce: s.cfg.NonceEncoding.encode(sess.Nonce), Expiry: sess.Expires.UTC(), Accept: sess.Accept}
	if j.Accept == nil {
		j.Accept = []string{}
	}
	if sess.EvidenceType != "" {
		j.Evidence = &evidenceJSON{Type: sess.EvidenceType, Value: sess.Evidence}
	}
	if sess.Result != "" {
		r := sess.Result
		j.Result = &r
	}
	return j
}

// newSessionID is a random (version 4) UUID. Veraison mints version 1
// UUIDs from the machine id and the clock (verification/api/handler.go
// mintSessionID); a random one is not guessable, and whoever knows a
// session's id may read and delete it.
func newSessionID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// parseSessionID reads a session id in every form Veraison's handlers take
// (verification/api/handler.go readSessionIDFromRequestURI, through
// github.com/google/uuid Parse): the canonical 8-4-4-4-12 hex digits,
// that with "urn:uuid:" in front or in braces, or 32 hex digits without
// hyphens; either case. It returns the canonical lower-case form, under
// which the session is stored.
func parseSessionID(id string) (string, error) {
	s := id
	switch {
	case len(s) == 45 && strings.EqualFold(s[:9], "urn:uuid:"):
		s = s[9:]
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	case len(s) == 32:
		if !isHex(s) {
			return "", errSessionID
		}
		s = s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
	case len(s) != 36:
		return "", fmt.Errorf("%w: %d characters", errSessionID, len(id))
	}
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' ||
		!isHex(s[:8]+s[9:13]+s[14:18]+s[19:23]+s[24:]) {
		return "", errSessionID
	}
	return strings.ToLower(s), nil
}

var errSessionID = errors.New("invalid session id: want a UUID (8-4-4-4-12 hex digits)")

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// newSession is POST /challenge-response/v1/newSession
// (verification/api/handler.go NewChallengeResponse): 201, Location
// session/<id> relative to the request, and the waiting session.
func (s *Service) newSession(w http.ResponseWriter, r *http.Request) {
	if negotiate(r.Header, SessionMediaType) == "" {
		writeProblem(w, http.StatusNotAcceptable, "the only supported output format is "+SessionMediaType)
		return
	}
	q := r.URL.Query()
	nonce, minted, err := parseNonceRequest(q.Get("nonce"), q.Get("nonceSize"), s.cfg.NonceSize)
	if err != nil {
		if errors.Is(err, errNonce) {
			writeProblem(w, http.StatusBadRequest, "failed handling nonce request: "+err.Error())
		} else {
			s.internal(w, r, "minting a nonce", err)
		}
		return
	}
	id, err := newSessionID()
	if err != nil {
		s.internal(w, r, "minting a session id", err)
		return
	}
	sess := &store.Session{
		ID: id, Nonce: nonce, State: store.Waiting, Accept: evidenceMediaTypes,
		Expires: s.cfg.Now().Add(s.cfg.SessionTTL).UTC().Truncate(time.Millisecond),
	}
	if err := s.cfg.Store.CreateSession(r.Context(), sess); err != nil {
		if errors.Is(err, store.ErrNonceUsed) && !minted {
			s.m.rejected("nonce-reused")
			writeProblem(w, http.StatusBadRequest, "failed handling nonce request: this nonce was already used by another session")
			return
		}
		s.internal(w, r, "storing the session", err)
		return
	}
	s.m.sessionCreated()
	w.Header().Set("Location", sessionLocationRelative+id)
	writeJSON(w, http.StatusCreated, SessionMediaType, s.sessionJSON(sess))
}

// session serves /challenge-response/v1/session/{id}: POST submits
// evidence, GET (and HEAD) reads the session, DELETE removes it.
func (s *Service) session(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.submitEvidence(w, r)
	case http.MethodGet, http.MethodHead:
		s.getSession(w, r)
	case http.MethodDelete:
		s.deleteSession(w, r)
	}
}

// sessionError maps a store error on a session to its status: unknown and
// expired sessions are 404 (Veraison's session manager forgets a session
// at its TTL, verification/api/handler.go lookupSession), a session whose
// nonce was already used 409.
func (s *Service) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExpired):
		if errors.Is(err, store.ErrExpired) {
			s.m.rejected("expired")
		}
		writeProblem(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrSessionUsed), errors.Is(err, store.ErrNonceUsed):
		s.m.rejected("replay")
		writeProblem(w, http.StatusConflict, err.Error()+": a nonce is used once; start a new session")
	default:
		s.internal(w, r, "reading the session", err)
	}
}

func (s *Service) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.Error(what, "path", r.URL.Path, "error", err)
	writeProblem(w, http.StatusInternalServerError, what+" failed")
}

// getSession is GET …/session/{id} (verification/api/handler.go
// GetSession): 406, 400 bad id, 404, or 200 and the session.
func (s *Service) getSession(w http.ResponseWriter, r *http.Request) {
	if negotiate(r.Header, SessionMediaType) == "" {
		writeProblem(w, http.StatusNotAcceptable, "the only supported output format is "+SessionMediaType)
		return
	}
	id, err := parseSessionID(r.PathValue("id"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	sess, err := s.cfg.Store.Session(r.Context(), id, s.cfg.Now())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SessionMediaType, s.sessionJSON(sess))
}

// deleteSession is DELETE …/session/{id} (verification/api/handler.go
// DelSession): 204; 400 bad id; 404 for a session it does not know, where
// Veraison passes its session manager's error on as a 500, and for one
// that expired (removed all the same), which GET already calls gone.
func (s *Service) deleteSession(w http.ResponseWriter, r *http.Request) {
	id, err := parseSessionID(r.PathValue("id"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.cfg.Store.DeleteSession(r.Context(), id, s.cfg.Now()); err != nil {
		s.sessionError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readBody reads a bounded request body: 413 past MaxBody, 400 when empty
// or unreadable. A body whose declared length is already past the bound is
// refused unread: a client that sent "Expect: 100-continue" then gets the
// 413 instead of an invitation to send it (RFC 9110 §10.1.1).
func (s *Service) readBody(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	var body []byte
	var err error
	if r.ContentLength > s.cfg.MaxBody {
		err = &http.MaxBytesError{Limit: s.cfg.MaxBody}
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		// The rest of the body stays unread: route's recorder closes
		// the connection after the answer.
		s.m.rejected("oversized")
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s larger than %d bytes", what, s.cfg.MaxBody))
		return nil, false
	case err != nil:
		writeProblem(w, http.StatusBadRequest, "unable to read "+what+" from the request body")
		return nil, false
	case len(body) == 0:
		writeProblem(w, http.StatusBadRequest, "unable to read "+what+" from the request body: empty")
		return nil, false
	}
	return body, true
}

// submitEvidence is POST …/session/{id} (verification/api/handler.go
// SubmitEvidence), in its order: 406; 400 for an empty body or a broken
// CMW; 415 (with Accept) for an unsupported type; 400 bad id; 404. Then,
// unlike Veraison, the outcome is stored atomically with the nonce's use:
// evidence for a session that already had some (or whose nonce another
// session used) is a 409, so a nonce is appraised once. The appraisal itself
// is synchronous:
// 200 and the complete session with the EAR; a bad token is an EAR whose
// status says so, not an HTTP error; only a failure of the service (500)
// leaves the session failed.
func (s *Service) submitEvidence(w http.ResponseWriter, r *http.Request) {
	if negotiate(r.Header, SessionMediaType) == "" {
		writeProblem(w, http.StatusNotAcceptable, "the only supported output format is "+SessionMediaType)
		return
	}
	evidence, ok := s.readBody(w, r, "evidence")
	if !ok {
		return
	}
	mediaType := r.Header.Get("Content-Type")
	if cmwMediaTypes[mediaType] {
		inner, value, unwrapped, err := unwrapCMW(evidence)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "could not unwrap the CMW: "+err.Error())
			return
		}
		if unwrapped {
			mediaType, evidence = inner, value
		}
	}
	if _, ok := s.checkContentType(w, mediaType, evidenceMediaTypes, "could not check media type"); !ok {
		return
	}
	id, err := parseSessionID(r.PathValue("id"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	// Read first, claim with the outcome: one transaction per appraisal
	// where claiming before and finishing after take two (a commit is
	// most of the store's cost). The claim in CompleteSession is still
	// the arbiter; this read only keeps evidence for a used or expired
	// session from costing an appraisal. Two submissions racing for one
	// waiting session are both appraised, and one of them stored.
	arrived := s.cfg.Now()
	sess, err := s.cfg.Store.Session(r.Context(), id, arrived)
	if err == nil && sess.State != store.Waiting {
		err = fmt.Errorf("%w: session %s is %s", store.ErrSessionUsed, id, sess.State)
	}
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	// Finish the session even if the client goes away or the server is
	// shutting down (Shutdown waits for this handler).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	start := time.Now()
	var res *verifier.Result
	var jwt []byte
	if s.cfg.Sync != nil {
		err = s.cfg.Sync(ctx)
	}
	if err == nil {
		res, err = s.cfg.Appraiser.Verify(ctx, evidence, sess.Nonce)
	}
	// What Result.EARJWT does, keeping the EAR for the metrics and the log.
	var ar *ear.AttestationResult
	if err == nil {
		ar, jwt, err = s.ears.sign(res)
	}
	platform, realm := earStatuses(ar)
	s.m.verified(time.Since(start), platform, realm, err)
	sess.Expires = s.cfg.Now().Add(s.cfg.SessionTTL).UTC().Truncate(time.Millisecond)
	if err != nil {
		// Failed, without the evidence: as Veraison stores a session
		// whose ProcessEvidence failed (the evidence is set after).
		sess.State = store.Failed
		if ferr := s.cfg.Store.CompleteSession(ctx, sess, arrived, false); ferr != nil {
			s.log.Error("storing a failed session", "session", id, "error", ferr)
		}
		s.internal(w, r, "processing the evidence", err)
		return
	}
	sess.State = store.Complete
	sess.EvidenceType = CCAEvidenceMediaType
	sess.Evidence = evidence
	sess.Result = string(jwt)
	if err := s.cfg.Store.CompleteSession(ctx, sess, arrived, answersNonce(res)); err != nil {
		if errors.Is(err, store.ErrSessionUsed) || errors.Is(err, store.ErrNonceUsed) ||
			errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) {
			s.sessionError(w, r, err)
			return
		}
		s.internal(w, r, "storing the result", err)
		return
	}
	if s.log.Enabled(ctx, slog.LevelInfo) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "appraised", slog.String("session", id),
			slog.Bool("trustworthy", res.Trustworthy), slog.String("platform", platform), slog.String("realm", realm))
	}
	writeJSON(w, http.StatusOK, SessionMediaType, s.sessionJSON(sess))
}

// answersNonce reports whether the evidence answered the session's nonce:
// its realm token carries the nonce as its challenge and is signed with the
// RAK that the platform token binds, and the platform token verified with a
// trust anchor. Only such evidence uses the nonce up (so that a replay of
// it is refused in every session): anyone who has seen a nonce can make a
// realm token carrying it, or send garbage, and would otherwise fail every
// other session waiting on the same client nonce.
func answersNonce(res *verifier.Result) bool {
	matched := func(c verifier.Check, ok bool) bool { return ok && c.Outcome == verifier.Matched }
	return matched(res.Realm.Check(verifier.CheckFreshness, 0)) &&
		matched(res.Realm.Check(verifier.CheckBinding, 0)) &&
		matched(res.Platform.Check(verifier.CheckSignature, 0))
}
