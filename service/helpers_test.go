package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/service/store/sqlstore"
)

// postgresEnv names the environment variable with a PostgreSQL DSN for the
// tests (.ci/run sets it); without it only SQLite runs.
const postgresEnv = "CCAKIT_TEST_POSTGRES"

// testDatabases are the database URLs the API tests run against: a fresh
// SQLite file always, PostgreSQL when postgresEnv is set.
func testDatabases(t *testing.T) map[string]string {
	dbs := map[string]string{"sqlite": filepath.Join(t.TempDir(), "ccakit.db")}
	if dsn := os.Getenv(postgresEnv); dsn != "" {
		dbs["postgres"] = dsn
	}
	return dbs
}

func openStore(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEARKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testServer runs the service's public and admin handlers on loopback
// listeners.
type testServer struct {
	svc           *Service
	public, admin *httptest.Server
}

func startTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.EARKey == nil {
		cfg.EARKey = newEARKey(t)
	}
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{svc: svc, public: httptest.NewServer(svc.PublicHandler()), admin: httptest.NewServer(svc.AdminHandler(cfg.Metrics.Handler()))}
	t.Cleanup(func() { ts.public.Close(); ts.admin.Close() })
	return ts
}

// do sends one request and returns the status, the headers and the body.
func do(t testing.TB, method, url, contentType, accept string, body []byte, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// wantProblem checks a problem-details answer.
func wantProblem(t testing.TB, status int, hdr http.Header, body []byte, wantStatus int, detail string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", status, wantStatus, body)
	}
	if ct := hdr.Get("Content-Type"); ct != ProblemMediaType {
		t.Fatalf("Content-Type %q, want %q", ct, ProblemMediaType)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != wantStatus || p.Type != "about:blank" || p.Title != http.StatusText(wantStatus) || !strings.Contains(p.Detail, detail) {
		t.Fatalf("problem %+v, want status %d and a detail containing %q", p, wantStatus, detail)
	}
}

// verifyEAR checks an EAR JWT with the key the discovery document
// publishes, with the algorithm it names, and returns the claims.
func verifyEAR(t testing.TB, jwt []byte, discoveredKey json.RawMessage) *ear.AttestationResult {
	t.Helper()
	k, err := jwk.ParseKey(discoveredKey)
	if err != nil {
		t.Fatalf("discovery key %s: %v", discoveredKey, err)
	}
	alg, ok := k.Algorithm().(jwa.SignatureAlgorithm)
	if !ok || alg == "" {
		t.Fatalf("discovery key has no JWS alg: %s", discoveredKey)
	}
	var ar ear.AttestationResult
	if err := ar.Verify(jwt, alg, k); err != nil {
		t.Fatalf("EAR does not verify with the discovered key: %v", err)
	}
	return &ar
}

func b64url(b []byte) string { return base64.URLEncoding.EncodeToString(b) }
