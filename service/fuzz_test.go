package service

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/ccakit/cca/verifier"
)

// FuzzUnwrapCMW: any body sent as a CMW is unwrapped, passed on or refused
// with errCMW, never a panic.
func FuzzUnwrapCMW(f *testing.F) {
	for _, s := range [][]byte{
		{0x82, 0x60, 0x40}, []byte(`["a/b","AA"]`), []byte(`{"x":1}`), {0xa0}, {0xda, 0, 0, 1, 0, 0x40},
		{0xd9, 0x03, 0x8b, 0xa0}, []byte(`[1,"",3]`), {0x9f, 0x01, 0x41, 0x00, 0xff},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		mt, v, ok, err := unwrapCMW(body)
		if err != nil && (ok || v != nil || mt != "") {
			t.Fatalf("error %v with a result", err)
		}
		if ok && mt == "" {
			t.Fatal("unwrapped without a type")
		}
	})
}

// FuzzNonceRequest: the newSession query either yields a 32..64-byte nonce
// or errNonce.
func FuzzNonceRequest(f *testing.F) {
	f.Add("", "")
	f.Add("", "48")
	f.Add("AAAA", "")
	f.Add("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "")
	f.Fuzz(func(t *testing.T, nonce, size string) {
		n, _, err := parseNonceRequest(nonce, size, DefaultNonceSize)
		if err != nil {
			return
		}
		if len(n) < MinNonceSize || len(n) > MaxNonceSize {
			t.Fatalf("nonce of %d bytes accepted", len(n))
		}
	})
}

// fixedAppraiser answers every evidence with an empty result: the fuzz
// targets exercise the request handling, not the verifier (which has its
// own).
type fixedAppraiser struct{}

func (fixedAppraiser) Verify(ctx context.Context, ev, nonce []byte) (*verifier.Result, error) {
	return &verifier.Result{Nonce: nonce}, nil
}

// FuzzHandlers sends arbitrary requests through the public and admin
// handlers: the answer is never a 5xx, and every 4xx carries a problem.
func FuzzHandlers(f *testing.F) {
	st := openStore(f, ":memory:")
	svc, err := New(Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}, EARKey: newEARKey(f), MaxBody: 4096})
	if err != nil {
		f.Fatal(err)
	}
	pub, adm := svc.PublicHandler(), svc.AdminHandler(nil)
	// A live session, so that submissions reach the claim.
	rec := httptest.NewRecorder()
	pub.ServeHTTP(rec, httptest.NewRequest("POST", PathNewSession, nil))
	live := PathSessionPrefix + rec.Header().Get("Location")[len(sessionLocationRelative):]
	f.Add(true, "POST", PathNewSession+"?nonceSize=40", "", "", []byte{})
	f.Add(true, "POST", live, CCAEvidenceMediaType, "*/*", []byte{0xd9, 0x01, 0x8f, 0xa0})
	f.Add(true, "POST", live, "application/cmw+json", "", []byte(`["application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"","2QGPoA"]`))
	f.Add(true, "GET", PathVerificationInfo, "", "application/json", []byte{})
	f.Add(false, "POST", PathSubmit, platformType("rim+cbor"), "", []byte{0xd9, 0x01, 0xf5, 0xa0})
	f.Add(false, "GET", PathProvisioningInfo, "", "", []byte{})
	f.Fuzz(func(t *testing.T, public bool, method, target, contentType, accept string, body []byte) {
		if _, err := url.ParseRequestURI(target); err != nil || target == "" || target[0] != '/' {
			return
		}
		if method == "" || !validMethod(method) {
			return
		}
		// The request line goes through net/http's own parser, as on a
		// real listener: what it refuses (a target with a space, say)
		// never reaches a handler. httptest.NewRequest would panic on it.
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: ccakit.test\r\n\r\n")))
		if err != nil {
			return
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h := adm
		if public {
			h = pub
		}
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%q): %d %s", method, target, contentType, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != ProblemMediaType {
			t.Fatalf("%d without a problem body", rec.Code)
		}
	})
}

func validMethod(m string) bool {
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(m) < 10
}

// FuzzNegotiate: any Accept field lines give one of the offered types or
// "" (406), never a panic; a type is chosen only with a weight above 0.
func FuzzNegotiate(f *testing.F) {
	f.Add("", "")
	f.Add(SessionMediaType+";q=0", "*/*")
	f.Add(`text/plain; x="a, */*;"`, ", ,")
	f.Add("application/*;q=0.5, application/json;q=1.0", `*/*;q="0"`)
	offered := []string{DiscoveryMediaType, "application/json"}
	f.Fuzz(func(t *testing.T, first, second string) {
		h := http.Header{"Accept": {first, second}}
		got := negotiate(h, offered...)
		if got == "" {
			return
		}
		if got != offered[0] && got != offered[1] {
			t.Fatalf("negotiated %q, not offered", got)
		}
		if ranges := acceptRanges(h.Values("Accept")); len(ranges) > 0 && weightOf(ranges, got) <= 0 {
			t.Fatalf("negotiated %q at weight 0", got)
		}
	})
}

// FuzzSessionID: a path segment is a session id in canonical form (36
// characters, lower case, parsed again to itself) or an error.
func FuzzSessionID(f *testing.F) {
	for _, s := range []string{"0123abcd-89ab-4def-8123-456789abcdef", "urn:uuid:0123abcd-89ab-4def-8123-456789abcdef",
		"{0123abcd-89ab-4def-8123-456789abcdef}", "0123abcd89ab4def8123456789abcdef", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseSessionID(s)
		if err != nil {
			return
		}
		if len(id) != 36 || id != strings.ToLower(id) {
			t.Fatalf("%q parsed to %q", s, id)
		}
		if again, err := parseSessionID(id); err != nil || again != id {
			t.Fatalf("%q: canonical %q parses to %q, %v", s, id, again, err)
		}
	})
}

// FuzzEvidenceEAR: whatever evidence arrives, the service signs an EAR for
// it (a bad token is an EAR that says so, never a 500): the verifier
// appraises it against the emulated machine's endorsements, and the
// service's own EAR encoding (earSigner) takes every result. Seeds are
// tokens the emulated realm made over RSI, which the fuzzer mutates.
func FuzzEvidenceEAR(f *testing.F) {
	realm, _, v := emulatedRealm(f)
	nonce := bytes.Repeat([]byte{0x5a}, 48)
	tok, err := realm.Token(nonce)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)/2])
	f.Add([]byte{0xd9, 0x01, 0x8f, 0xa0})
	signer := &earSigner{alg: jwa.ES256, key: newEARKey(f)}
	f.Fuzz(func(t *testing.T, evidence []byte) {
		res, err := v.Verify(context.Background(), evidence, nonce)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if _, _, err := signer.sign(res); err != nil {
			t.Fatalf("signing the EAR: %v", err)
		}
	})
}
