// Package store defines what the verification service keeps: challenge-
// response sessions, the nonces they consumed, and the endorsements
// (CoRIMs) provisioned to it. Everything lives in one store so that any
// replica of the service can answer any request; package sqlstore
// implements it over SQLite (embedded, the default) and PostgreSQL (several
// replicas).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/ccakit/cca/verifier"
)

// Errors returned by stores. Each names one outcome the HTTP layer maps to a
// status; wrapped errors keep the session id or the reason.
var (
	// ErrNotFound: no session has this id (never made, deleted or purged).
	ErrNotFound = errors.New("no such session")
	// ErrExpired: the session exists but its time is up.
	ErrExpired = errors.New("session expired")
	// ErrSessionUsed: evidence was already submitted to the session; its
	// nonce is used once.
	ErrSessionUsed = errors.New("session already used")
	// ErrNonceUsed: another session already consumed this nonce (a client
	// that supplies its own nonce reused it).
	ErrNonceUsed = errors.New("nonce already used")
	// ErrDuplicate: a session with this id exists.
	ErrDuplicate = errors.New("duplicate session id")
)

// State is a challenge-response session's status, with the names
// Veraison's API uses (veraison/services verification/api/
// challengeresponsesession.go: waiting, processing, complete, failed).
type State string

// The session states.
const (
	Waiting    State = "waiting"
	Processing State = "processing"
	Complete   State = "complete"
	Failed     State = "failed"
)

// Session is one challenge-response session.
type Session struct {
	ID      string
	Nonce   []byte
	State   State
	Accept  []string  // evidence media types offered when it was made
	Expires time.Time // after this the session is gone for clients
	// Set once evidence was appraised:
	EvidenceType string
	Evidence     []byte
	Result       string // the EAR JWT
}

// Sessions stores challenge-response sessions. Implementations are safe for
// concurrent use, also across processes sharing the database.
type Sessions interface {
	// CreateSession stores a new waiting session: ErrDuplicate if the id
	// is taken, ErrNonceUsed if a session already consumed its nonce.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns a session: ErrNotFound, or ErrExpired when now is
	// past its expiry.
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	// CompleteSession records the outcome of an appraisal, in one
	// transaction: it moves the session s.ID, if it is waiting and was
	// unexpired at now, to s.State with s's evidence, result and expiry,
	// and, with useNonce, records the session's nonce as used. The caller
	// sets useNonce when the evidence answered the nonce (a token bound to
	// it, from a trusted platform): evidence that did not cannot use up a
	// nonce that another session, holding the same client nonce, is
	// waiting to see answered. Of callers racing for one session, or with
	// useNonce for two sessions with one nonce, exactly one wins; the
	// others get ErrSessionUsed or ErrNonceUsed (the session of a nonce
	// another consumed is then failed) and nothing of theirs is written.
	// Also ErrNotFound, ErrExpired.
	CompleteSession(ctx context.Context, s *Session, now time.Time, useNonce bool) error
	// DeleteSession removes a session: ErrNotFound if there is none, or
	// if it had expired at now (it is removed all the same: an expired
	// session is gone for clients, as Session says).
	DeleteSession(ctx context.Context, id string, now time.Time) error
	// NonceUsed reports whether a session already consumed nonce.
	NonceUsed(ctx context.Context, nonce []byte) (bool, error)
	// Purge deletes the sessions that expired before now and the used
	// nonces recorded before nonceCutoff; it returns how many sessions
	// went.
	Purge(ctx context.Context, now, nonceCutoff time.Time) (int64, error)
}

// Provisioned is one accepted endorsement submission: the CoRIM as
// submitted and what it endorses, in the verifier's terms.
type Provisioned struct {
	MediaType, Profile string
	CoRIMID            string
	Body               []byte
	// NotAfter is the end of the CoRIM's validity (rim-validity); zero
	// for none. Its endorsements are not looked up once it has passed.
	NotAfter     time.Time
	TrustAnchors []verifier.TrustAnchor
	Platforms    []verifier.PlatformReference
	Realms       []verifier.RealmReference
}

// Endorsements stores provisioned endorsements and answers the verifier's
// lookups from them, so that every replica appraises against the same
// endorsements the moment they are committed.
type Endorsements interface {
	verifier.TrustAnchorStore
	verifier.ReferenceValueStore
	// AddEndorsements stores a submission in one transaction. Submitting
	// the same CoRIM bytes again changes nothing. Endorsements
	// accumulate: a second key for an instance is a second trust anchor
	// (either verifies), as verifier.CombineTrustAnchors defines.
	AddEndorsements(ctx context.Context, p *Provisioned) error
}

// Generation identifies the state of the endorsements: it changes whenever
// endorsements are added, by any replica, and whenever a CoRIM's validity
// ends (Expired counts the CoRIMs past it).
type Generation struct{ Count, Max, Expired int64 }

// Generational is an endorsement store that can say whether it changed,
// so that its lookups can be answered from memory until it does.
type Generational interface {
	Endorsements
	Generation(ctx context.Context) (Generation, error)
}
