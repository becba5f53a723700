package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/internal/realmtokens"
	"github.com/ccakit/cca/verifier"
)

// TestEARSignerMatchesEAR: for results of every EAR shape the verifier
// makes, the JWT the service signs has the protected header and the claims
// of Result.EARJWT's (veraison/ear's own Sign), annotated evidence
// included, and ear.AttestationResult.Verify takes it with the key and
// only with it.
func TestEARSignerMatchesEAR(t *testing.T) {
	realm, corims, full := emulatedRealm(t)
	// Without the firmware's reference values the platform is not
	// affirming, and the realm is capped to its status (policy claim).
	ta, _ := fromCoRIM(t, corims.Anchors)
	_, rv := fromCoRIM(t, corims.Realm)
	noFirmware, err := verifier.New(ta, verifier.WithReferenceValues(rv))
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 48)
	rand.Read(nonce)
	token, err := realm.Token(nonce)
	if err != nil {
		t.Fatal(err)
	}
	key, other := newEARKey(t), newEARKey(t)
	signer := &earSigner{alg: jwa.ES256, key: key}
	for _, tc := range []struct {
		name            string
		v               *verifier.Verifier
		evidence, nonce []byte
		submods         []string
	}{
		{"trustworthy", full, token, nonce, []string{verifier.SubmodPlatform, verifier.SubmodRealm}},
		{"realm capped by platform", noFirmware, token, nonce, []string{verifier.SubmodPlatform, verifier.SubmodRealm}},
		{"stale nonce", full, token, make([]byte, 48), []string{verifier.SubmodFailure}},
		{"garbage", full, []byte("not a token"), nonce, []string{verifier.SubmodFailure}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.v.Verify(context.Background(), tc.evidence, tc.nonce)
			if err != nil {
				t.Fatal(err)
			}
			want, err := res.EARJWT(key)
			if err != nil {
				t.Fatal(err)
			}
			ar, got, err := signer.sign(res)
			if err != nil {
				t.Fatal(err)
			}
			if gs, ws := statusesOf(ar), statusesOf(mustEAR(t, res)); !reflect.DeepEqual(gs, ws) {
				t.Errorf("returned EAR's statuses %v, want %v", gs, ws)
			}
			for i, part := range []string{"header", "claims"} {
				g, w := jwtPart(t, got, i), jwtPart(t, want, i)
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s:\n got %v\nwant %v", part, g, w)
				}
			}
			claims := jwtPart(t, got, 1)
			sub, _ := claims["submods"].(map[string]any)
			for _, name := range tc.submods {
				a, _ := sub[name].(map[string]any)
				if a == nil {
					t.Fatalf("no %s submodule in %v", name, claims)
				}
				if _, ok := a[annotatedEvidenceKey]; ok != (name != verifier.SubmodFailure) {
					t.Errorf("%s: annotated evidence present %v", name, ok)
				}
			}
			if tc.v == noFirmware {
				realmSub, _ := sub[verifier.SubmodRealm].(map[string]any)
				if pc, _ := realmSub["ear.veraison.policy-claims"].(map[string]any); pc[verifier.PolicyClaimCappedByPlatform] == nil {
					t.Errorf("realm not capped: %v", realmSub)
				}
			}
			var out ear.AttestationResult
			if err := out.Verify(got, jwa.ES256, &key.PublicKey); err != nil {
				t.Fatal(err)
			}
			if err := out.Verify(got, jwa.ES256, &other.PublicKey); err == nil {
				t.Error("verified with another key")
			}
		})
	}
}

// emulatedRealm starts the emulated realm (closed when tb ends) and
// returns it, its endorsements and the library's verifier over them.
func emulatedRealm(tb testing.TB) (*realmtokens.Realm, realmtokens.CoRIMs, *verifier.Verifier) {
	tb.Helper()
	realm, err := realmtokens.Start(emulator.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { realm.Close() })
	corims, err := realm.CoRIMs()
	if err != nil {
		tb.Fatal(err)
	}
	v, err := corims.Verifier()
	if err != nil {
		tb.Fatal(err)
	}
	return realm, corims, v
}

func fromCoRIM(t *testing.T, corim []byte) (*verifier.TrustAnchors, *verifier.ReferenceValues) {
	t.Helper()
	e, err := endorsement.Decode(corim, endorsement.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ta, rv, err := verifier.FromEndorsements(e)
	if err != nil {
		t.Fatal(err)
	}
	return ta, rv
}

func mustEAR(t *testing.T, res *verifier.Result) *ear.AttestationResult {
	t.Helper()
	ar, err := res.EAR()
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

func statusesOf(ar *ear.AttestationResult) map[string]string {
	m := map[string]string{}
	for name, a := range ar.Submods {
		m[name] = a.Status.String()
	}
	return m
}

// jwtPart decodes part i (0 header, 1 claims) of a compact JWS.
func jwtPart(t *testing.T, jwt []byte, i int) map[string]any {
	t.Helper()
	parts := strings.Split(string(jwt), ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts in a compact JWS", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWithMember: the annotated evidence goes into the appraisal object,
// and anything but a JSON object is refused.
func TestWithMember(t *testing.T) {
	for _, tc := range []struct{ obj, value, want string }{
		{`{"a":1}`, `{"b":2}`, `{"a":1,"k":{"b":2}}`},
		{`{}`, ` {"b":2} `, `{"k":{"b":2}}`},
		{`{"a":1}`, `[1]`, ""},
		{`{"a":1}`, `"s"`, ""},
		{`[1]`, `{"b":2}`, ""},
		{``, `{}`, ""},
	} {
		got, err := withMember([]byte(tc.obj), "k", json.RawMessage(tc.value))
		if tc.want == "" {
			if err == nil {
				t.Errorf("withMember(%s, %s) = %s, want an error", tc.obj, tc.value, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("withMember(%s, %s) = %s, %v; want %s", tc.obj, tc.value, got, err, tc.want)
		}
	}
}

// BenchmarkEAR compares the service's EAR JWT with Result.EARJWT's on a
// trustworthy result of the emulated realm.
func BenchmarkEAR(b *testing.B) {
	realm, _, v := emulatedRealm(b)
	nonce := make([]byte, 48)
	token, err := realm.Token(nonce)
	if err != nil {
		b.Fatal(err)
	}
	key := newEARKey(b)
	signer := &earSigner{alg: jwa.ES256, key: key}
	for _, bc := range []struct {
		name string
		sign func(*verifier.Result) error
	}{
		{"EARJWT", func(res *verifier.Result) error { _, err := res.EARJWT(key); return err }},
		{"service", func(res *verifier.Result) error { _, _, err := signer.sign(res); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				res, err := v.Verify(context.Background(), token, nonce) // a fresh Result: claims render once
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := bc.sign(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
