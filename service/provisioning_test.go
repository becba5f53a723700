package service

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/veraison/apiclient/auth"
	"github.com/veraison/apiclient/provisioning"

	"github.com/ccakit/cca/endorsement"
)

// bearer is an apiclient authenticator with a fixed bearer token.
type bearer string

func (b bearer) Configure(map[string]interface{}) error { return nil }
func (b bearer) EncodeHeader() (string, error)          { return "Bearer " + string(b), nil }

var _ auth.IAuthenticator = bearer("")

func platformType(kind string) string {
	return `application/` + kind + `; profile="` + CCAPlatformProfile + `"`
}

// TestProvisioning: apiclient's provisioning flow, its discovery, and the
// ways a submission is refused: 401 without the bearer token, 415, 413,
// and 200 "failed" (with the reason) for a CoRIM the decoder or the
// profile check refuses, as Veraison answers.
func TestProvisioning(t *testing.T) {
	realm := startEmulatedRealm(t)
	corims := corimsFor(t, realm)
	signer, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := endorsement.Sign(corims.Platform, signer, endorsement.SignOptions{SignerName: "ccakit test firmware vendor"})
	if err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-provisioning-token"
	st := openStore(t, testDatabases(t)["sqlite"])
	appraiser, sync := storeVerifier(t, st)
	ts := startTestServer(t, Config{Store: st, Appraiser: appraiser, Sync: sync, MaxBody: 64 << 10,
		Provisioner: &CoRIMProvisioner{Store: st, SignerKeys: []crypto.PublicKey{signer.Public()}}, ProvisioningToken: token})

	// With a token, provisioning is on the public listener too, and
	// apiclient passes it along.
	provisionWithAPIClient(t, ts.public.URL, bearer(token), corims)
	cfg := provisioning.SubmitConfig{}
	if err := cfg.SetSubmitURI(ts.public.URL + PathSubmit); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Run(corims.Anchors, platformType("rim+cbor")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("apiclient without the token: %v, want a 401", err)
	}
	cfg.SetAuth(bearer(token))
	if err := cfg.Run(signed, platformType("rim+cose")); err != nil {
		t.Fatalf("signed CoRIM: %v", err)
	}

	status, hdr, body := do(t, "GET", ts.public.URL+PathProvisioningInfo, "", "application/json", nil)
	var info map[string]any
	if status != 200 || hdr.Get("Content-Type") != DiscoveryMediaType || json.Unmarshal(body, &info) != nil ||
		info["api-endpoints"].(map[string]any)["provisioningSubmit"] != PathSubmit || info["ear-verification-key"] != nil {
		t.Fatalf("provisioning discovery: %d %s", status, body)
	}

	for _, tc := range []struct {
		name, contentType, auth string
		body                    []byte
		status                  int
		detail                  string // problem detail, or failure-reason for a 200
	}{
		{"no token", platformType("rim+cbor"), "", corims.Anchors, 401, "bearer token"},
		{"wrong token", platformType("rim+cbor"), "Bearer nope", corims.Anchors, 401, "bearer token"},
		{"basic auth", platformType("rim+cbor"), "Basic " + token, corims.Anchors, 401, "bearer token"},
		{"unsupported type", "application/cbor", "Bearer " + token, corims.Anchors, 415, "no active plugin"},
		{"profile not supported", `application/rim+cbor; profile="http://example.com/x"`, "Bearer " + token, corims.Anchors, 415, "no active plugin"},
		{"empty", platformType("rim+cbor"), "Bearer " + token, []byte{}, 400, "empty"},
		{"oversized", platformType("rim+cbor"), "Bearer " + token, make([]byte, 64<<10+1), 413, "larger than"},
		{"garbage", platformType("rim+cbor"), "Bearer " + token, []byte("garbage"), 200, "submit endorsement returned error"},
		{"profile mismatch", `application/rim+cbor; profile="` + CCARealmProfile + `"`, "Bearer " + token, corims.Anchors, 200, "does not match media type profile"},
		{"signed as unsigned", platformType("rim+cbor"), "Bearer " + token, signed, 200, "must be submitted as application/rim+cose"},
		{"unsigned as signed", platformType("rim+cose"), "Bearer " + token, corims.Platform, 200, "submit endorsement returned error"},
		{"signed by an unknown key", platformType("rim+cose"), "Bearer " + token, mustSign(t, corims.Platform, other), 200, "submit endorsement returned error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, "POST", ts.public.URL+PathSubmit, tc.contentType, "", tc.body, "Authorization", tc.auth)
			if tc.status != 200 {
				wantProblem(t, status, hdr, body, tc.status, tc.detail)
				if tc.status == 401 && hdr.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
				return
			}
			var s provisioningSession
			if status != 200 || hdr.Get("Content-Type") != ProvisioningSessionMediaType || json.Unmarshal(body, &s) != nil ||
				s.Status != "failed" || s.FailureReason == nil || !strings.Contains(*s.FailureReason, tc.detail) {
				t.Fatalf("%d %s: want 200, status failed, reason containing %q", status, body, tc.detail)
			}
		})
	}
}

func mustSign(t testing.TB, corim []byte, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := endorsement.Sign(corim, k, endorsement.SignOptions{SignerName: "someone else"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEndorsementsAcrossReplicas: a CoRIM provisioned through one replica
// is seen by another's very next appraisal: its cache, which remembered
// "no such RIM", forgets it when the store's generation moves. On every
// database; the RIM is random, so a shared PostgreSQL database has not
// seen it.
func TestEndorsementsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := openStore(t, db), openStore(t, db)
			cache := NewEndorsementCache(b)
			rim := make([]byte, 32)
			rand.Read(rim)
			lookup := func() int {
				t.Helper()
				if err := cache.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				refs, err := cache.RealmReferences(ctx, rim)
				if err != nil {
					t.Fatal(err)
				}
				return len(refs)
			}
			if n := lookup(); n != 0 {
				t.Fatalf("%d references for a random RIM", n)
			}
			corim, err := endorsement.EncodeRealm(fmt.Sprintf("replica-test-%x", rim[:8]),
				endorsement.RealmReference{RIM: rim, HashAlg: "sha-256", RPV: make([]byte, 64)})
			if err != nil {
				t.Fatal(err)
			}
			p := &CoRIMProvisioner{Store: a}
			if err := p.Provision(ctx, `application/rim+cbor; profile="`+CCARealmProfile+`"`, CCARealmProfile, corim); err != nil {
				t.Fatal(err)
			}
			if n := lookup(); n != 1 {
				t.Fatalf("replica b sees %d references after replica a's submission, want 1", n)
			}
		})
	}
}

// TestProvisioningCoRIMIDWithNUL: a CoRIM whose id is a text string with a
// NUL in it (valid CBOR, valid CoRIM) is provisioned on every database;
// PostgreSQL's text type cannot hold NUL, which made it a 500.
func TestProvisioningCoRIMIDWithNUL(t *testing.T) {
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, db)
			ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}})
			rim := make([]byte, 32)
			rand.Read(rim)
			corim, err := endorsement.EncodeRealm(fmt.Sprintf("nul\x00id-%x", rim[:8]),
				endorsement.RealmReference{RIM: rim, HashAlg: "sha-256", RPV: make([]byte, 64)})
			if err != nil {
				t.Fatal(err)
			}
			status, hdr, body := do(t, "POST", ts.admin.URL+PathSubmit, `application/rim+cbor; profile="`+CCARealmProfile+`"`, "", corim)
			var s provisioningSession
			if status != 200 || hdr.Get("Content-Type") != ProvisioningSessionMediaType || json.Unmarshal(body, &s) != nil || s.Status != "success" {
				t.Fatalf("%d %s, want 200 and success", status, body)
			}
		})
	}
}
