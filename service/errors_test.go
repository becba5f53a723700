package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/evidence"
)

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newSessionFor makes a session over HTTP and returns its URL and nonce.
func newSessionFor(t testing.TB, base, query string) (string, []byte) {
	t.Helper()
	status, hdr, body := do(t, http.MethodPost, base+PathNewSession+query, "", SessionMediaType, nil)
	if status != http.StatusCreated {
		t.Fatalf("newSession: %d %s", status, body)
	}
	loc := hdr.Get("Location")
	if !strings.HasPrefix(loc, sessionLocationRelative) {
		t.Fatalf("Location %q", loc)
	}
	var s struct{ Nonce []byte }
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("session %s: %v", body, err)
	}
	return base + PathSessionPrefix + strings.TrimPrefix(loc, sessionLocationRelative), s.Nonce
}

func sessionOf(t testing.TB, body []byte) sessionJSON {
	t.Helper()
	var s sessionJSON
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("session %s: %v", body, err)
	}
	return s
}

// earOf reads a complete session's EAR (its signature is checked
// elsewhere; here the claims matter).
func earOf(t testing.TB, ts *testServer, s sessionJSON) *ear.AttestationResult {
	t.Helper()
	if s.Status != "complete" || s.Result == nil {
		t.Fatalf("session %+v is not complete", s)
	}
	key, err := json.Marshal(ts.svc.jwk)
	if err != nil {
		t.Fatal(err)
	}
	return verifyEAR(t, []byte(*s.Result), key)
}

func wantStatus(t testing.TB, ar *ear.AttestationResult, sub string, want ear.TrustTier) {
	t.Helper()
	a := ar.Submods[sub]
	if a == nil || a.Status == nil || *a.Status != want {
		t.Fatalf("submod %s: %+v, want %v", sub, a, want)
	}
}

// TestMalformedRequests: every malformed request gets a 4xx with a
// problem-details body naming the problem, never a 5xx.
func TestMalformedRequests(t *testing.T) {
	realm := startEmulatedRealm(t)
	st := openStore(t, testDatabases(t)["sqlite"])
	ts := startTestServer(t, Config{Store: st, Appraiser: provisionedAppraiser(t, st, realm), MaxBody: 4096})
	base := ts.public.URL
	sess, _ := newSessionFor(t, base, "")
	big := make([]byte, 4097)
	for _, tc := range []struct {
		name, method, path, contentType, accept string
		body                                    []byte
		status                                  int
		detail                                  string
	}{
		{"nonce and nonceSize", "POST", PathNewSession + "?nonce=AAAA&nonceSize=32", "", "", nil, 400, "mutually exclusive"},
		{"nonceSize too small", "POST", PathNewSession + "?nonceSize=8", "", "", nil, 400, "nonceSize must be in range 32..64"},
		{"nonceSize not a number", "POST", PathNewSession + "?nonceSize=x", "", "", nil, 400, "nonceSize"},
		{"nonce not base64url", "POST", PathNewSession + "?nonce=%2B%2F%2B%2F", "", "", nil, 400, "valid base64url"},
		{"nonce too short", "POST", PathNewSession + "?nonce=AAAAAAAAAAA", "", "", nil, 400, "between 32 and 64 bytes"},
		{"session media type not acceptable", "POST", PathNewSession, "", "text/html", nil, 406, "only supported output format"},
		{"newSession by GET", "GET", PathNewSession, "", "", nil, 405, "allowed: POST"},
		{"unknown path", "GET", "/nope", "", "", nil, 404, "no such resource"},
		{"bad session id", "GET", PathSessionPrefix + "not-a-uuid", "", "", nil, 400, "invalid session id"},
		{"unknown session", "GET", PathSessionPrefix + "01234567-89ab-4def-8123-456789abcdef", "", "", nil, 404, "no such session"},
		{"delete unknown session", "DELETE", PathSessionPrefix + "01234567-89ab-4def-8123-456789abcdef", "", "", nil, 404, "no such session"},
		{"empty evidence", "POST", strings.TrimPrefix(sess, base), CCAEvidenceMediaType, "", []byte{}, 400, "unable to read evidence"},
		{"oversized evidence", "POST", strings.TrimPrefix(sess, base), CCAEvidenceMediaType, "", big, 413, "larger than 4096 bytes"},
		{"bad media type", "POST", strings.TrimPrefix(sess, base), "application/eat+cwt", "", []byte{0xd2}, 415, "no active plugin found for application/eat+cwt"},
		{"malformed media type", "POST", strings.TrimPrefix(sess, base), "application/", "", []byte{0xd2}, 400, "media type"},
		{"CMW garbage", "POST", strings.TrimPrefix(sess, base), "application/cmw+cbor", "", []byte{0x01}, 400, "could not unwrap the CMW"},
		{"raw 907 token as CMW", "POST", strings.TrimPrefix(sess, base), "application/vnd.veraison.cmw", "", []byte{0xd9, 0x03, 0x8b, 0xa0}, 400, "could not unwrap the CMW"},
		{"CMW collection", "POST", strings.TrimPrefix(sess, base), "application/cmw+json", "", []byte(`{"a":["x","AA"]}`), 415, "no active plugin"},
		{"CMW record of another type", "POST", strings.TrimPrefix(sess, base), "application/cmw+json", "", []byte(`["application/eat+cwt","AA"]`), 415, "application/eat+cwt"},
		{"CMW record, value not base64url", "POST", strings.TrimPrefix(sess, base), "application/cmw+json", "", []byte(`["application/eat+cwt","+/"]`), 400, "base64url"},
		{"session by PUT", "PUT", strings.TrimPrefix(sess, base), "", "", nil, 405, "allowed: POST, GET, DELETE"},
		{"discovery as HTML", "GET", PathVerificationInfo, "", "text/html", nil, 406, DiscoveryMediaType},
		{"provisioning not on the public listener", "POST", PathSubmit, `application/rim+cbor; profile="` + CCAPlatformProfile + `"`, "", []byte{0xa0}, 404, "no such resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, tc.method, base+tc.path, tc.contentType, tc.accept, tc.body)
			wantProblem(t, status, hdr, body, tc.status, tc.detail)
			if tc.status == 415 && hdr.Get("Accept") == "" {
				t.Fatal("415 without an Accept header")
			}
		})
	}
	// The session survived every refused submission.
	status, _, body := do(t, "GET", sess, "", "", nil)
	if status != 200 || sessionOf(t, body).Status != "waiting" {
		t.Fatalf("session after refused submissions: %d %s", status, body)
	}
}

// TestVerificationFailuresAreEARs: evidence that fails verification is
// answered 200 with a complete session whose EAR says so, as Veraison
// does; a nonce is appraised once; an expired session is gone.
func TestVerificationFailuresAreEARs(t *testing.T) {
	realm := startEmulatedRealm(t)
	clk := &clock{t: time.Now()}
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, db)
			ts := startTestServer(t, Config{Store: st, Appraiser: provisionedAppraiser(t, st, realm), Now: clk.now})
			base := ts.public.URL
			submit := func(url string, tok []byte) (int, []byte) {
				status, _, body := do(t, "POST", url, CCAEvidenceMediaType, SessionMediaType, tok)
				return status, body
			}

			t.Run("garbage evidence", func(t *testing.T) {
				url, _ := newSessionFor(t, base, "")
				status, body := submit(url, []byte("not a token"))
				if status != 200 {
					t.Fatalf("%d %s", status, body)
				}
				ar := earOf(t, ts, sessionOf(t, body))
				wantStatus(t, ar, "ARM_CCA", ear.TrustTierContraindicated) // Veraison's failure shape
			})

			t.Run("token for another nonce", func(t *testing.T) {
				url, _ := newSessionFor(t, base, "")
				other := make([]byte, 48)
				tok, err := realm.Token(other)
				if err != nil {
					t.Fatal(err)
				}
				status, body := submit(url, tok)
				if status != 200 {
					t.Fatalf("%d %s", status, body)
				}
				ar := earOf(t, ts, sessionOf(t, body))
				wantStatus(t, ar, "ARM_CCA", ear.TrustTierContraindicated) // Veraison's failure shape
			})

			t.Run("replayed to the same session", func(t *testing.T) {
				url, nonce := newSessionFor(t, base, "")
				tok, err := realm.Token(nonce)
				if err != nil {
					t.Fatal(err)
				}
				if status, body := submit(url, tok); status != 200 {
					t.Fatalf("first: %d %s", status, body)
				}
				status, hdr, body := do(t, "POST", url, CCAEvidenceMediaType, "", tok)
				wantProblem(t, status, hdr, body, 409, "a nonce is used once")
				status, _, body = do(t, "GET", url, "", SessionMediaType, nil)
				if s := sessionOf(t, body); status != 200 || s.Status != "complete" || s.Evidence == nil || s.Evidence.Type != CCAEvidenceMediaType || string(s.Evidence.Value) != string(tok) {
					t.Fatalf("session after replay: %d %s", status, body)
				}
			})

			t.Run("client nonce used twice", func(t *testing.T) {
				nonce := make([]byte, 32) // random: a PostgreSQL database outlives the test run
				rand.Read(nonce)
				q := "?nonce=" + strings.TrimRight(b64url(nonce), "=")
				url, _ := newSessionFor(t, base, q)
				twin, _ := newSessionFor(t, base, q) // before the first is used: allowed
				tok, err := realm.Token(nonce)
				if err != nil {
					t.Fatal(err)
				}
				if status, body := submit(url, tok); status != 200 {
					t.Fatalf("%d %s", status, body)
				}
				status, hdr, body := do(t, "POST", twin, CCAEvidenceMediaType, "", tok)
				wantProblem(t, status, hdr, body, 409, "consumed by another session")
				status, hdr, body = do(t, "POST", base+PathNewSession+q, "", "", nil)
				wantProblem(t, status, hdr, body, 400, "already used")
			})

			// Evidence that does not answer a nonce (garbage; a token
			// carrying it whose platform is not trusted: anyone who saw
			// the nonce can make one) completes its session but does not
			// use the nonce up, so a twin session holding the same client
			// nonce still gets the real evidence appraised.
			t.Run("client nonce not used up by evidence that does not answer it", func(t *testing.T) {
				nonce := make([]byte, 32)
				rand.Read(nonce)
				q := "?nonce=" + strings.TrimRight(b64url(nonce), "=")
				victim, _ := newSessionFor(t, base, q)
				tok, err := realm.Token(nonce)
				if err != nil {
					t.Fatal(err)
				}
				for _, bad := range [][]byte{[]byte("not a token"), resigned(t, tok)} {
					twin, _ := newSessionFor(t, base, q)
					status, body := submit(twin, bad)
					if status != 200 {
						t.Fatalf("twin: %d %s", status, body)
					}
					wantStatus(t, earOf(t, ts, sessionOf(t, body)), "ARM_CCA", ear.TrustTierContraindicated)
				}
				status, body := submit(victim, tok)
				if status != 200 {
					t.Fatalf("the real evidence after the twins': %d %s", status, body)
				}
				ar := earOf(t, ts, sessionOf(t, body))
				wantStatus(t, ar, "CCA_SSD_PLATFORM", ear.TrustTierAffirming)
				wantStatus(t, ar, "CCA_REALM", ear.TrustTierAffirming)
				// Answered, the nonce is used up.
				status, hdr, problem := do(t, "POST", base+PathNewSession+q, "", "", nil)
				wantProblem(t, status, hdr, problem, 400, "already used")
			})

			t.Run("expired session", func(t *testing.T) {
				url, nonce := newSessionFor(t, base, "")
				tok, err := realm.Token(nonce)
				if err != nil {
					t.Fatal(err)
				}
				clk.advance(DefaultSessionTTL + time.Second)
				status, hdr, body := do(t, "POST", url, CCAEvidenceMediaType, "", tok)
				wantProblem(t, status, hdr, body, 404, "expired")
				status, hdr, body = do(t, "GET", url, "", "", nil)
				wantProblem(t, status, hdr, body, 404, "expired")
				if n, err := ts.svc.cfg.Store.Purge(context.Background(), clk.now(), clk.now().Add(-time.Hour)); err != nil || n < 1 {
					t.Fatalf("purge: %d, %v", n, err)
				}
				status, hdr, body = do(t, "GET", url, "", "", nil)
				wantProblem(t, status, hdr, body, 404, "no such session")
			})
		})
	}
}

// resigned is tok's evidence signed again with fresh keys: the realm token
// still carries the session's nonce and is bound to its (new) RAK, but the
// platform token no longer verifies with the platform's trust anchor.
func resigned(t *testing.T, tok []byte) []byte {
	t.Helper()
	ev, err := evidence.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	iak, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rak, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := evidence.Create(ev.Platform, ev.Realm, iak, rak, evidence.FormatREL0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
