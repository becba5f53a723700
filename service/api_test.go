package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/veraison/apiclient/auth"
	"github.com/veraison/apiclient/provisioning"
	"github.com/veraison/apiclient/verification"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/internal/realmtokens"
)

// realmBuilder is an apiclient EvidenceBuilder that asks the emulated realm
// for a token over the session's nonce.
type realmBuilder struct {
	t     testing.TB
	realm *realmtokens.Realm
	seen  [][]byte // the nonces apiclient handed over
}

func (b *realmBuilder) BuildEvidence(nonce []byte, accept []string) ([]byte, string, error) {
	b.seen = append(b.seen, nonce)
	for _, a := range accept {
		if a == CCAEvidenceMediaType {
			tok, err := b.realm.Token(nonce)
			return tok, a, err
		}
	}
	return nil, "", fmt.Errorf("the session accepts %q, not CCA evidence", accept)
}

func discover(t testing.TB, baseURL string) *verification.DiscoveryObject {
	t.Helper()
	var d verification.DiscoveryConfig
	if err := d.SetDiscoveryURI(baseURL + PathVerificationInfo); err != nil {
		t.Fatal(err)
	}
	obj, err := d.Run()
	if err != nil {
		t.Fatalf("apiclient discovery: %v", err)
	}
	return obj
}

// TestAPIClientChallengeResponse drives the service with veraison/apiclient
// v0.4.0, unchanged: discovery, then challenge-response sessions with a
// token the emulated realm makes over RSI for the session's nonce, plain
// and wrapped in CMW records, with a server nonce of the default size, of
// a size whose base64 is padded, and with the client's own nonce. The EAR
// must verify with the key from discovery and affirm both submodules.
func TestAPIClientChallengeResponse(t *testing.T) {
	realm := startEmulatedRealm(t)
	for name, db := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, db)
			appraiser, sync := storeVerifier(t, st)
			ts := startTestServer(t, Config{Store: st, Appraiser: appraiser, Sync: sync, Provisioner: &CoRIMProvisioner{Store: st}})
			provisionWithAPIClient(t, ts.admin.URL, nil, corimsFor(t, realm))
			disc := discover(t, ts.public.URL)
			if disc.ServiceState != "READY" || disc.ApiEndpoints["newChallengeResponseSession"] != PathNewSession ||
				len(disc.MediaTypes) != 1 || disc.MediaTypes[0] != CCAEvidenceMediaType {
				t.Fatalf("discovery: %+v", disc)
			}
			clientNonce := make([]byte, 64)
			rand.Read(clientNonce)
			for _, tc := range []struct {
				name      string
				nonceSize uint
				nonce     []byte
				wrap      verification.CmwWrap
			}{
				{"server nonce 48 B", 48, nil, verification.NoWrap},
				{"server nonce 32 B (padded base64)", 32, nil, verification.NoWrap},
				{"server nonce 64 B, CMW CBOR record", 64, nil, verification.WrapCBOR},
				{"client nonce 64 B, CMW JSON record", 0, clientNonce, verification.WrapJSON},
			} {
				t.Run(tc.name, func(t *testing.T) {
					b := &realmBuilder{t: t, realm: realm}
					cfg := verification.ChallengeResponseConfig{NonceSz: tc.nonceSize, Nonce: tc.nonce, EvidenceBuilder: b, Wrap: tc.wrap, DeleteSession: true}
					if err := cfg.SetSessionURI(ts.public.URL + PathNewSession); err != nil {
						t.Fatal(err)
					}
					raw, err := cfg.Run()
					if err != nil {
						t.Fatalf("apiclient challenge-response: %v", err)
					}
					var jwt string
					if err := json.Unmarshal(raw, &jwt); err != nil {
						t.Fatalf("session result %s is not a JSON string: %v", raw, err)
					}
					ar := verifyEAR(t, []byte(jwt), disc.PublicKey)
					if len(b.seen) != 1 {
						t.Fatalf("evidence built %d times", len(b.seen))
					}
					nonce := b.seen[0]
					if tc.nonce != nil && string(nonce) != string(tc.nonce) {
						t.Fatalf("apiclient read back nonce %x, sent %x", nonce, tc.nonce)
					}
					if tc.nonce == nil && uint(len(nonce)) != tc.nonceSize {
						t.Fatalf("server nonce of %d bytes, asked for %d", len(nonce), tc.nonceSize)
					}
					if ar.Nonce == nil || *ar.Nonce != base64.URLEncoding.EncodeToString(nonce) { // Veraison: padded base64url
						t.Fatalf("eat_nonce %v, want the session nonce", ar.Nonce)
					}
					for _, sub := range []string{"CCA_SSD_PLATFORM", "CCA_REALM"} {
						a := ar.Submods[sub]
						if a == nil || a.Status == nil || *a.Status != ear.TrustTierAffirming {
							t.Fatalf("submod %s: %+v, want affirming", sub, a)
						}
					}
				})
			}
		})
	}
}

// provisionWithAPIClient submits the CoRIMs with apiclient's provisioning
// flow; a, if set, authenticates.
func provisionWithAPIClient(t testing.TB, base string, a auth.IAuthenticator, c realmtokens.CoRIMs) {
	t.Helper()
	for _, sub := range []struct {
		profile string
		body    []byte
	}{{CCAPlatformProfile, c.Anchors}, {CCAPlatformProfile, c.Platform}, {CCARealmProfile, c.Realm}} {
		cfg := provisioning.SubmitConfig{Auth: a}
		if err := cfg.SetSubmitURI(base + PathSubmit); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Run(sub.body, `application/rim+cbor; profile="`+sub.profile+`"`); err != nil {
			t.Fatalf("apiclient provisioning: %v", err)
		}
	}
}

// TestNonceEncodings: the nonces the service mints read the same in
// padded standard base64 (apiclient) and base64url (Veraison's services),
// and the default size needs no padding at all.
func TestNonceEncodings(t *testing.T) {
	for size := MinNonceSize; size <= MaxNonceSize; size++ {
		n, err := mintNonce(size)
		if err != nil {
			t.Fatal(err)
		}
		std := base64.StdEncoding.EncodeToString(n)
		if std != base64.URLEncoding.EncodeToString(n) || strings.ContainsAny(std, "+/") {
			t.Fatalf("size %d: %s differs between the encodings", size, std)
		}
		if size == DefaultNonceSize && std != base64.RawURLEncoding.EncodeToString(n) {
			t.Fatalf("the default nonce %s is padded", std)
		}
	}
}
