package token_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

// The profile strings as TF-A, TF-RMM and draft-ffm-rats-cca-token spell
// them, written out here rather than taken from the package's constants.
func TestLookupProfile(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  token.ClaimSet
		gen  token.Generation // GenUnknown: ErrProfile
		msg  string
	}{
		{"http://arm.com/CCA-SSD/1.0.0", token.SetPlatform, token.GenLegacy, ""},
		{"tag:arm.com,2023:cca_platform#1.0.0", token.SetPlatform, token.Gen1, ""},
		{"tag:arm.com,2023:realm#1.0.0", token.SetRealm, token.Gen1, ""},
		{"tag:arm.com,2024:cca_platform#2.0.0", token.SetPlatform, token.Gen2, ""},
		{"tag:arm.com,2024:realm#2.0.0", token.SetRealm, token.Gen2, ""},
		{"tag:arm.com,2024:cca_platform#1.1.0", token.SetPlatform, token.Gen2, ""},
		{"tag:arm.com,2024:cca_platform#2.0.0;direct", token.SetPlatform, token.Gen2, ""},
		{"tag:arm.com,2026:realm#2.0.0", token.SetRealm, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.0.0", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.0.0;delegated", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.0.0;HESRAK", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.0.0;direct", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.1.0", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.1.0;delegated", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.1.0;HESRAK", token.SetPlatform, token.Gen2026, ""},
		{"tag:arm.com,2026:cca_platform#2.1.0;direct", token.SetPlatform, token.Gen2026, ""},
		// Spelt by no producer, draft or verifier: unknown.
		{"tag:arm.com,2024:platform#2.0.0", token.SetPlatform, token.GenUnknown, "unknown platform profile"},
		{"tag:arm.com,2026:cca_platform#2.0.0;hesrak", token.SetPlatform, token.GenUnknown, "unknown platform profile"},
		{"tag:arm.com,2026:realm#2.0.0", token.SetPlatform, token.GenUnknown, "is a realm profile"},
		{"tag:arm.com,2023:realm#1.0.0", token.SetPlatform, token.GenUnknown, "is a realm profile, found in a platform token"},
		{"tag:arm.com,2023:cca_platform#1.0.0", token.SetRealm, token.GenUnknown, "is a platform profile, found in a realm token"},
		{"http://arm.com/CCA-SSD/1.0.0", token.SetRealm, token.GenUnknown, "platform profile"},
		{"tag:arm.com,2023:cca_platform#1.0.1", token.SetPlatform, token.GenUnknown, "unknown platform profile"},
		{"TAG:ARM.COM,2023:CCA_PLATFORM#1.0.0", token.SetPlatform, token.GenUnknown, "unknown platform profile"},
		{"http://arm.com/psa/2.0.0", token.SetPlatform, token.GenUnknown, "unknown"},
		{"", token.SetRealm, token.GenUnknown, "unknown realm profile"},
	} {
		p, err := token.LookupProfile(tc.name, tc.set)
		if tc.gen == token.GenUnknown {
			if !errors.Is(err, token.ErrProfile) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q in %v: %v, want ErrProfile containing %q", tc.name, tc.set, err, tc.msg)
			}
			continue
		}
		if err != nil || p.Gen != tc.gen || p.Set != tc.set || p.Name != tc.name {
			t.Errorf("%q: %+v, %v", tc.name, p, err)
		}
	}
	if n := len(token.Profiles()); n != 16 {
		t.Errorf("%d known profiles, want 16", n)
	}
	// Producers emit exactly these; the rest are drafts.
	for _, p := range token.Profiles() {
		want := p.Name == "http://arm.com/CCA-SSD/1.0.0" || p.Name == "tag:arm.com,2023:cca_platform#1.0.0" ||
			p.Name == "tag:arm.com,2023:realm#1.0.0" || p.Name == "tag:arm.com,2024:realm#2.0.0"
		if p.Producer() != want || p.Source == "" {
			t.Errorf("%q: producer %v, source %q", p.Name, p.Producer(), p.Source)
		}
	}
}

func TestProfileFor(t *testing.T) {
	for _, tc := range []struct {
		set  token.ClaimSet
		gen  token.Generation
		want string
		fail bool
	}{
		{token.SetPlatform, token.GenLegacy, "http://arm.com/CCA-SSD/1.0.0", false},
		{token.SetPlatform, token.Gen1, "tag:arm.com,2023:cca_platform#1.0.0", false},
		{token.SetPlatform, token.Gen2, "tag:arm.com,2024:cca_platform#2.0.0", false},
		{token.SetRealm, token.GenLegacy, "", false},
		{token.SetRealm, token.Gen1, "tag:arm.com,2023:realm#1.0.0", false},
		{token.SetRealm, token.Gen2, "tag:arm.com,2024:realm#2.0.0", false},
		{token.SetRealm, token.Gen2026, "tag:arm.com,2026:realm#2.0.0", false},
		{token.SetPlatform, token.Gen2026, "tag:arm.com,2026:cca_platform#2.0.0", false},
		{token.SetPlatform, token.GenUnknown, "", true},
		{token.SetSwComponent, token.Gen1, "", true},
	} {
		got, err := token.ProfileFor(tc.set, tc.gen)
		if tc.fail != (err != nil) || got != tc.want || (err != nil && !errors.Is(err, token.ErrProfile)) {
			t.Errorf("ProfileFor(%v, %v) = %q, %v", tc.set, tc.gen, got, err)
		}
	}
}

func TestGenerationAndSetNames(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range []token.Generation{token.GenUnknown, token.GenLegacy, token.Gen1, token.Gen2, token.Gen2026} {
		if s := g.String(); s == "" || seen[s] {
			t.Errorf("generation %d: %q", g, s)
		} else {
			seen[s] = true
		}
	}
	for s, want := range map[token.ClaimSet]string{token.SetPlatform: "platform", token.SetRealm: "realm", token.SetSwComponent: "software component", 0: "unknown"} {
		if s.String() != want {
			t.Errorf("set %d: %q", s, s.String())
		}
	}
}

// TestClaimTable checks the one claims table against the claim keys and
// JSON names of veraison/evcli and draft-ffm-rats-cca-token-04 §5, written out here.
func TestClaimTable(t *testing.T) {
	for _, tc := range []struct {
		set  token.ClaimSet
		key  int64
		json string
		gen  token.Generation
	}{
		{token.SetPlatform, 265, "cca-platform-profile", token.GenLegacy},
		{token.SetPlatform, 10, "cca-platform-challenge", token.GenLegacy},
		{token.SetPlatform, 2396, "cca-platform-implementation-id", token.GenLegacy},
		{token.SetPlatform, 256, "cca-platform-instance-id", token.GenLegacy},
		{token.SetPlatform, 2401, "cca-platform-config", token.GenLegacy},
		{token.SetPlatform, 2395, "cca-platform-lifecycle", token.GenLegacy},
		{token.SetPlatform, 2399, "cca-platform-sw-components", token.GenLegacy},
		{token.SetPlatform, 2400, "cca-platform-service-indicator", token.GenLegacy},
		{token.SetPlatform, 2402, "cca-platform-hash-algo-id", token.GenLegacy},
		// draft-ffm-rats-cca-token-04 §4.6 compatibility paragraphs, §5 names.
		{token.SetPlatform, 2394, "cca-platform-client-id", token.Gen2},
		{token.SetPlatform, 2403, "cca-platform-manufacturing-config", token.Gen1},
		{token.SetPlatform, 2404, "cca-platform-extension", token.Gen2026},
		{token.SetPlatform, 2405, "cca-platform-tbb-rotpk", token.Gen2},
		{token.SetPlatform, 2406, "cca-platform-peer-signers", token.Gen2},
		{token.SetPlatform, 2407, "cca-platform-discrete-tpm-binding-data", token.Gen2},
		{token.SetPlatform, 2408, "cca-platform-workload-binding", token.Gen2026},
		{token.SetRealm, 265, "cca-realm-profile", token.Gen1},
		{token.SetRealm, 10, "cca-realm-challenge", token.GenLegacy},
		{token.SetRealm, 44235, "cca-realm-personalization-value", token.GenLegacy},
		{token.SetRealm, 44236, "cca-realm-hash-algo-id", token.GenLegacy},
		{token.SetRealm, 44237, "cca-realm-public-key", token.GenLegacy},
		{token.SetRealm, 44238, "cca-realm-initial-measurement", token.GenLegacy},
		{token.SetRealm, 44239, "cca-realm-extensible-measurements", token.GenLegacy},
		{token.SetRealm, 44240, "cca-realm-public-key-hash-algo-id", token.GenLegacy},
		{token.SetRealm, 256, "cca-realm-instance-id", token.Gen2},
		{token.SetRealm, 44243, "cca-realm-mec-policy", token.Gen1}, // TF-RMM v0.8.0 with the 2023 profile
		{token.SetRealm, 44244, "cca-realm-lfa-policy", token.Gen1},
		{token.SetRealm, 44257, "cca-realm-devices-token-hash", token.Gen2},
		{token.SetSwComponent, 7, "lfa-supported", token.Gen2026},
		{token.SetSwComponent, 8, "countersigner-ids", token.Gen2026},
		{token.SetSwComponent, 1, "measurement-type", token.GenLegacy},
		{token.SetSwComponent, 2, "measurement-value", token.GenLegacy},
		{token.SetSwComponent, 4, "version", token.GenLegacy},
		{token.SetSwComponent, 5, "signer-id", token.GenLegacy},
		{token.SetSwComponent, 6, "measurement-description", token.GenLegacy},
	} {
		c, ok := token.LookupClaim(tc.set, tc.key)
		if !ok || c.Gen != tc.gen || c.Name == "" || (tc.json != "" && c.JSON != tc.json) {
			t.Errorf("%v claim %d: %+v, %v", tc.set, tc.key, c, ok)
		}
	}
	for _, tc := range []struct {
		set token.ClaimSet
		key int64
	}{{token.SetPlatform, 44238}, {token.SetRealm, 2396}, {token.SetSwComponent, 3}, {token.SetPlatform, 9999}} {
		if c, ok := token.LookupClaim(tc.set, tc.key); ok {
			t.Errorf("%v claim %d is in the table: %+v", tc.set, tc.key, c)
		}
	}
	if got := token.ClaimName(token.SetRealm, 44238); got != "realm claim 44238 (cca-realm-initial-measurement)" {
		t.Errorf("ClaimName: %q", got)
	}
	if got := token.ClaimName(token.SetPlatform, 9999); got != "platform claim 9999" {
		t.Errorf("ClaimName unknown: %q", got)
	}
}
