// Package service is the verification service behind `ccatoken serve`:
// Veraison's REST APIs (challenge-response verification, endorsement
// provisioning, discovery) over the verifier library, so that Veraison's
// clients (veraison/apiclient, evcli, Confidential Containers' attestation
// service) work against it unchanged. Paths, status codes, JSON members and
// media types are those of veraison/services; each handler cites the file.
//
// State (sessions, used nonces, endorsements) lives in a store shared by
// every replica (package store, sqlstore), so that any replica can answer
// any request and a nonce is used once even when two replicas race for it.
package service

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// Appraiser verifies and appraises evidence for a session's nonce;
// *verifier.Verifier is one. An error means the appraisal could not be made
// (the store is down), never that the evidence is bad.
type Appraiser interface {
	Verify(ctx context.Context, evidence, nonce []byte) (*verifier.Result, error)
}

// Provisioner takes endorsements submitted to the provisioning API.
type Provisioner interface {
	// Provision decodes a CoRIM submitted as mediaType (already
	// normalised; profile is its profile parameter) and stores what it
	// endorses. A problem with the submission wraps ErrEndorsement (the
	// API answers 200 with status "failed", as Veraison does); any other
	// error is the service's (500).
	Provision(ctx context.Context, mediaType, profile string, body []byte) error
}

// SessionStore is what the service needs of its store.
type SessionStore interface {
	store.Sessions
	Ping(ctx context.Context) error
}

// ErrEndorsement marks a submission the provisioner refused.
var ErrEndorsement = errors.New("endorsement refused")

// ErrConfig: the service's configuration is unusable.
var ErrConfig = errors.New("bad service configuration")

// Config configures a Service. Store, Appraiser and EARKey are required.
type Config struct {
	Store     SessionStore
	Appraiser Appraiser
	// Provisioner takes endorsements; nil disables the provisioning API.
	Provisioner Provisioner
	// Sync, when set, runs before each appraisal: EndorsementCache.Sync,
	// when the Appraiser looks endorsements up through one.
	Sync func(context.Context) error
	// EARKey signs the EAR of every session (Result.EARJWT); its public
	// half is published by discovery.
	EARKey crypto.Signer
	// ProvisioningToken, when set, is the bearer token the provisioning
	// API requires; it also puts the provisioning API on the public
	// handler. Without it provisioning is served only by AdminHandler.
	ProvisioningToken string
	// SessionTTL is a session's lifetime; Veraison's is 2m30s
	// (verification/api/handler.go ConfigSessionTTL), the default.
	SessionTTL time.Duration
	// NonceSize is the size of a nonce minted when the client asks for
	// none (default DefaultNonceSize).
	NonceSize     int
	NonceEncoding NonceEncoding
	// NonceRetention is how long a used nonce is remembered, so that a
	// client-chosen nonce cannot be used again (default 24h).
	NonceRetention time.Duration
	// MaxBody bounds request bodies (default 1 MiB): evidence, CoRIMs.
	MaxBody int64
	// Version is published by discovery (default: the module version).
	Version string
	Logger  *slog.Logger
	// Metrics, when set, receives the service's measurements.
	Metrics *Metrics
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultSessionTTL     = 150 * time.Second
	DefaultNonceRetention = 24 * time.Hour
	DefaultMaxBody        = 1 << 20
	// discoveryMaxAge is Veraison's default well-known cache max-age
	// (verification/api/handler.go defaultCacheMaxAge).
	discoveryMaxAge = 60 * time.Second
)

// Service is the verification service. Its handlers are safe for
// concurrent use.
type Service struct {
	cfg         Config
	log         *slog.Logger
	m           *Metrics
	jwk         map[string]any // the EAR verification key as a public JWK with "alg"
	alg         jwa.SignatureAlgorithm
	ears        earSigner
	terminating atomic.Bool
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Appraiser == nil || cfg.EARKey == nil {
		return nil, fmt.Errorf("%w: Store, Appraiser and EARKey are required", ErrConfig)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.NonceSize == 0 {
		cfg.NonceSize = DefaultNonceSize
	}
	if cfg.NonceSize < MinNonceSize || cfg.NonceSize > MaxNonceSize {
		return nil, fmt.Errorf("%w: nonce size %d: want %d..%d", ErrConfig, cfg.NonceSize, MinNonceSize, MaxNonceSize)
	}
	if cfg.NonceRetention <= 0 {
		cfg.NonceRetention = DefaultNonceRetention
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Version == "" {
		cfg.Version = moduleVersion()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := publicJWK(cfg.EARKey.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: EAR key: %v", ErrConfig, err)
	}
	alg, err := verifier.JWSAlgorithm(cfg.EARKey.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: EAR key: %v", ErrConfig, err)
	}
	return &Service{cfg: cfg, log: cfg.Logger, m: cfg.Metrics, jwk: key, alg: alg, ears: earSigner{alg: alg, key: cfg.EARKey}}, nil
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return "ccakit " + bi.Main.Version
	}
	return "ccakit (devel)"
}

// SetTerminating marks the service as shutting down: discovery reports
// service-state TERMINATING and the health endpoint 503, so that a load
// balancer stops sending new sessions while those in flight finish.
func (s *Service) SetTerminating() { s.terminating.Store(true) }

// Paths of the API (veraison/services verification/api/router.go,
// provisioning/api/router.go).
const (
	PathNewSession          = "/challenge-response/v1/newSession"
	PathSessionPrefix       = "/challenge-response/v1/session/"
	PathVerificationInfo    = "/.well-known/veraison/verification"
	PathProvisioningInfo    = "/.well-known/veraison/provisioning"
	PathSubmit              = "/endorsement-provisioning/v1/submit"
	PathHealth              = "/healthz"
	PathMetrics             = "/metrics"
	sessionLocationRelative = "session/" // verification/api/handler.go sendChallengeResponseSessionCreated
)

// PublicHandler serves the challenge-response API, its discovery document
// and the health endpoint; with a ProvisioningToken, the provisioning API
// (bearer-authenticated) and its discovery document too.
func (s *Service) PublicHandler() http.Handler {
	mux := http.NewServeMux()
	s.route(mux, PathNewSession, "newSession", s.newSession, http.MethodPost)
	s.route(mux, PathSessionPrefix+"{id}", "session", s.session, http.MethodPost, http.MethodGet, http.MethodDelete)
	s.route(mux, PathVerificationInfo, "verificationInfo", s.verificationInfo, http.MethodGet)
	s.route(mux, PathHealth, "health", s.health, http.MethodGet)
	if s.cfg.Provisioner != nil && s.cfg.ProvisioningToken != "" {
		s.route(mux, PathSubmit, "submit", s.requireToken(s.submit), http.MethodPost)
		s.route(mux, PathProvisioningInfo, "provisioningInfo", s.provisioningInfo, http.MethodGet)
	}
	s.route(mux, "/", "notFound", notFound)
	return s.guard(mux)
}

// AdminHandler serves the provisioning API and its discovery document, the
// metrics and the health endpoint: for a listener that only operators reach
// (loopback by default, or TLS with client certificates). A
// ProvisioningToken, when set, is required here too.
func (s *Service) AdminHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if s.cfg.Provisioner != nil {
		submit := s.submit
		if s.cfg.ProvisioningToken != "" {
			submit = s.requireToken(submit)
		}
		s.route(mux, PathSubmit, "submit", submit, http.MethodPost)
		s.route(mux, PathProvisioningInfo, "provisioningInfo", s.provisioningInfo, http.MethodGet)
	}
	s.route(mux, PathHealth, "health", s.health, http.MethodGet)
	if metrics != nil {
		mux.Handle(PathMetrics, metrics)
	}
	s.route(mux, "/", "notFound", notFound)
	return s.guard(mux)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, http.StatusNotFound, "no such resource")
}

// route registers h for path, answering other methods with a 405 problem
// (with Allow), and counts and times each request under name. Where GET is
// allowed so is HEAD (RFC 9110 §9.1: every general-purpose server supports
// both), answered by h as a GET whose body net/http leaves out.
func (s *Service) route(mux *http.ServeMux, path, name string, h http.HandlerFunc, methods ...string) {
	if slices.Contains(methods, http.MethodGet) {
		methods = append(slices.Clip(methods), http.MethodHead)
	}
	allow := ""
	for i, m := range methods {
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		// HTTP/1 only: an HTTP/2 stream's unread body costs nothing
		// (the stream is reset), and there "Connection: close" would
		// make net/http send GOAWAY to every stream of the connection.
		if r.ProtoMajor == 1 && r.Body != nil && r.Body != http.NoBody {
			rec.body = &bodyReader{ReadCloser: r.Body}
			r = r.WithContext(r.Context()) // a copy, whose Body h reads
			r.Body = rec.body
		}
		ok := len(methods) == 0
		for _, m := range methods {
			ok = ok || r.Method == m
		}
		if ok {
			h(rec, r)
		} else {
			rec.Header().Set("Allow", allow)
			writeProblem(rec, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+allow)
		}
		d := time.Since(start)
		s.m.request(name, rec.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", d), slog.String("remote", r.RemoteAddr))
	})
}

// guard turns a panic into a 500 problem and a log line instead of a
// dropped connection; no handler is meant to panic. It also answers a
// request for no path (CONNECT host:port, the authority form), which
// reaches no route: ServeMux would answer it a plain-text 404.
func (s *Service) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/") {
			notFound(w, r)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeProblem(w, http.StatusInternalServerError, "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// statusRecorder notes the status a handler answers with, and closes the
// connection after a refusal (4xx, 5xx) of a request whose body was not
// read to its end: net/http would otherwise read and discard up to 256 KiB
// more of it before sending the answer, so that a client streaming a body
// learns of a 413, 415 or 406 only late.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   *bodyReader // nil: the request has no body
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		if code >= 400 && r.body != nil && !r.body.done {
			r.Header().Set("Connection", "close")
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// bodyReader notes whether a request body was read to its end.
type bodyReader struct {
	io.ReadCloser
	done bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
	}
	return n, err
}

func (s *Service) health(w http.ResponseWriter, r *http.Request) {
	if s.terminating.Load() {
		writeProblem(w, http.StatusServiceUnavailable, "terminating")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("health: store", "error", err)
		writeProblem(w, http.StatusServiceUnavailable, "the store does not answer")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
}

// Maintain purges expired sessions and old used nonces every interval
// until ctx ends. Every replica may run it.
func (s *Service) Maintain(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.cfg.Now()
			n, err := s.cfg.Store.Purge(ctx, now, now.Add(-s.cfg.NonceRetention))
			if err != nil {
				s.log.Warn("purge", "error", err)
				continue
			}
			if n > 0 {
				s.log.Debug("purged expired sessions", "count", n)
			}
		}
	}
}
