package service

import (
	"net/http"
	"strings"
	"testing"
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
