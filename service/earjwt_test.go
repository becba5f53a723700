package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/veraison/ear"
)

// TestEARSigner: the JWT the service signs is one ear's own Verify takes
// back with the same claims, with the protected header ear's Sign writes
// (jwx jwt.Sign: "alg" and "typ" JWT); a key that does not match is
// refused.
func TestEARSigner(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	profile, iat, nonce := ear.EatProfile, int64(1764950400), "bm9uY2U="
	status := ear.TrustTierAffirming
	evidence := map[string]any{"cca-platform-profile": "tag:arm.com,2023:cca_platform#1.0.0"}
	in := ear.AttestationResult{Profile: &profile, IssuedAt: &iat, Nonce: &nonce,
		VerifierID: &ear.VerifierIdentity{Build: new(string), Developer: new(string)},
		Submods:    map[string]*ear.Appraisal{"CCA_SSD_PLATFORM": {Status: &status}}}
	in.Submods["CCA_SSD_PLATFORM"].VeraisonAnnotatedEvidence = &evidence
	*in.VerifierID.Build, *in.VerifierID.Developer = "b", "d"

	jwt, err := (&earSigner{alg: jwa.ES256, key: key}).sign(&in)
	if err != nil {
		t.Fatal(err)
	}
	hdrB64, _, _ := strings.Cut(string(jwt), ".")
	hdrJSON, err := base64.RawURLEncoding.DecodeString(hdrB64)
	if err != nil {
		t.Fatal(err)
	}
	var hdr map[string]any
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil || hdr["alg"] != "ES256" || hdr["typ"] != "JWT" || len(hdr) != 2 {
		t.Errorf("protected header %s, want alg ES256 and typ JWT", hdrJSON)
	}
	var out ear.AttestationResult
	if err := out.Verify(jwt, jwa.ES256, &key.PublicKey); err != nil {
		t.Fatal(err)
	}
	a, b := mustJSON(t, in), mustJSON(t, out)
	if a != b {
		t.Errorf("claims changed:\n%s\n%s", a, b)
	}
	if err := out.Verify(jwt, jwa.ES256, &other.PublicKey); err == nil {
		t.Error("verified with another key")
	}
}

func mustJSON(t *testing.T, ar ear.AttestationResult) string {
	t.Helper()
	b, err := ar.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
