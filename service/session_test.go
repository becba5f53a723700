package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// TestParseSessionID: the id forms github.com/google/uuid Parse reads,
// which Veraison's handlers take, name the same session; anything else is
// refused.
func TestParseSessionID(t *testing.T) {
	const canon = "0123abcd-89ab-4def-8123-456789abcdef"
	for _, tc := range []struct {
		id, want string
	}{
		{canon, canon},
		{strings.ToUpper(canon), canon},
		{"urn:uuid:" + canon, canon},
		{"URN:UUID:" + canon, canon},
		{"{" + canon + "}", canon},
		{strings.ReplaceAll(canon, "-", ""), canon},
		{"", ""},
		{"not-a-uuid", ""},
		{"urn:uuid:" + canon[:35], ""},
		{"urn:uuix:" + canon, ""},
		{"(" + canon + ")", ""},
		{"{" + canon + "}}", ""},
		{strings.Replace(canon, "-", "_", 1), ""},
		{strings.Replace(canon, "a", "g", 1), ""},
		{strings.ReplaceAll(canon, "-", "")[:31] + "x", ""},
		{"0123abcd-89ab-4def-8123-456789abcde\u00e9"[:36], ""},
	} {
		got, err := parseSessionID(tc.id)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "invalid session id") {
				t.Errorf("%q: %q, %v; want an invalid session id error", tc.id, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
}

// TestSessionIDForms: a client may name its session in any form Veraison
// takes, over HTTP.
func TestSessionIDForms(t *testing.T) {
	st := openStore(t, ":memory:")
	ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}})
	url, _ := newSessionFor(t, ts.public.URL, "")
	id := strings.TrimPrefix(url, ts.public.URL+PathSessionPrefix)
	for _, form := range []string{"urn:uuid:" + id, "%7B" + strings.ToUpper(id) + "%7D", strings.ReplaceAll(id, "-", "")} {
		status, _, body := do(t, "GET", ts.public.URL+PathSessionPrefix+form, "", "", nil)
		if status != http.StatusOK || sessionOf(t, body).Status != "waiting" {
			t.Errorf("GET session %s: %d %s", form, status, body)
		}
	}
	status, _, body := do(t, "DELETE", ts.public.URL+PathSessionPrefix+"urn:uuid:"+id, "", "", nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE urn:uuid:%s: %d %s", id, status, body)
	}
	status, hdr, body := do(t, "GET", url, "", "", nil)
	wantProblem(t, status, hdr, body, http.StatusNotFound, "no such session")
}

// TestDeleteExpiredSession: an expired session is gone for DELETE as for
// GET (404), on every database, and it is removed all the same; a live one
// is deleted (204) once.
func TestDeleteExpiredSession(t *testing.T) {
	clk := &clock{t: time.Now()}
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, db)
			ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}, Now: clk.now})
			expired, _ := newSessionFor(t, ts.public.URL, "")
			clk.advance(DefaultSessionTTL + time.Second)
			status, hdr, body := do(t, "DELETE", expired, "", "", nil)
			wantProblem(t, status, hdr, body, http.StatusNotFound, "no such session")
			id := strings.TrimPrefix(expired, ts.public.URL+PathSessionPrefix)
			if _, err := st.Session(context.Background(), id, clk.now().Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the expired session is still stored: %v", err)
			}
			fresh, _ := newSessionFor(t, ts.public.URL, "")
			if status, _, body := do(t, "DELETE", fresh, "", "", nil); status != http.StatusNoContent {
				t.Fatalf("DELETE of a live session: %d %s", status, body)
			}
			status, hdr, body = do(t, "DELETE", fresh, "", "", nil)
			wantProblem(t, status, hdr, body, http.StatusNotFound, "no such session")
		})
	}
}

// brokenAppraiser fails as a verifier whose store is down does.
type brokenAppraiser struct{}

func (brokenAppraiser) Verify(ctx context.Context, ev, nonce []byte) (*verifier.Result, error) {
	return nil, errors.New("reference values: the store does not answer")
}

// TestFailedSession: when the service itself fails to appraise, the answer
// is a 500 that does not say why, and the session is failed without the
// evidence, as Veraison leaves it; a second submission is a 409.
func TestFailedSession(t *testing.T) {
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, db)
			ts := startTestServer(t, Config{Store: st, Appraiser: brokenAppraiser{}})
			url, _ := newSessionFor(t, ts.public.URL, "")
			status, hdr, body := do(t, "POST", url, CCAEvidenceMediaType, "", []byte{0xd9, 0x01, 0x8f, 0xa0})
			wantProblem(t, status, hdr, body, http.StatusInternalServerError, "processing the evidence failed")
			if strings.Contains(string(body), "store") {
				t.Fatalf("the 500 tells the client why: %s", body)
			}
			status, _, body = do(t, "GET", url, "", "", nil)
			if s := sessionOf(t, body); status != http.StatusOK || s.Status != store.Failed || s.Evidence != nil || s.Result != nil {
				t.Fatalf("failed session: %d %s; want failed, without evidence or result", status, body)
			}
			status, hdr, body = do(t, "POST", url, CCAEvidenceMediaType, "", []byte{0xd9, 0x01, 0x8f, 0xa0})
			wantProblem(t, status, hdr, body, http.StatusConflict, "is failed")
		})
	}
}
