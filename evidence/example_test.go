package evidence_test

import (
	"fmt"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

// The shape of evidence is named by its pairing of profiles, whatever the
// wrapper; Coherent says whether real firmware emits it, Draft whether
// only a draft defines it.
func ExampleKind() {
	for _, k := range []evidence.Kind{
		{Wrapper: token.Wrapper907, Platform: token.Gen1, Realm: token.Gen2,
			PlatformProfile: token.ProfilePlatform1, RealmProfile: token.ProfileRealm2},
		{Wrapper: token.Wrapper907, Platform: token.GenLegacy, Realm: token.GenLegacy,
			PlatformProfile: token.ProfilePlatformLegacy},
		{Wrapper: token.Wrapper907, Platform: token.Gen2026, Realm: token.Gen2026,
			PlatformProfile: token.ProfilePlatform2026Delegated, RealmProfile: token.ProfileRealm2026},
	} {
		fmt.Printf("%v\n  coherent %v, draft %v\n", k, k.Coherent(), k.Draft())
	}
	// Output:
	// CMW collection, 2023 platform profile, realm 2.0 profile
	//   coherent true, draft false
	// legacy tokens in a CMW collection (tag 907): CCA-SSD platform profile, profile-less realm, raw-point RAK
	//   coherent true, draft false
	// CMW collection, 2026 platform profile, realm 2026 profile (shape of draft-ffm-rats-cca-token-04; no producer emits it)
	//   coherent false, draft true
}

// Pairings is the coherence table, each row with its source.
func ExamplePairings() {
	for _, p := range evidence.Pairings() {
		if p.Coherent {
			fmt.Printf("%s: %s\n", p.Name, p.Sources)
		}
	}
	// Output:
	// CCA-SSD platform profile, profile-less realm, raw-point RAK: TF-RMM v0.5.0 with TF-A ≤ v2.11's sample platform token; Islet RMM rsi/attestation; tf-m-tools cca_example_token_legacy.cbor (tag 907)
	// 2023 platform profile, realm 1.0 profile: TF-RMM v0.6.0–v0.9.0 with TF-A ≥ v2.12's sample platform token; tf-m-tools at TF-Mv2.3.0
	// 2023 platform profile, realm 2.0 profile: TF-RMM main 72aea692 with TF-A's sample platform token; tf-m-tools cca_example_token.cbor
}
