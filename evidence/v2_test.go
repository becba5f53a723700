package evidence

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// Shapes of evidence that producers emit (TF-RMM v0.5.0–v0.9.0 and main, TF-A's sample platform token, tf-m-tools
// iat-verifier/tests/data, Veraison services' test evidence), each
// built here with this package's keys in the structure of its producer.

var realmIID = append([]byte{0x01}, rep(0x9E, 32)...)

// tfrmmMain is what TF-RMM main (72aea692) emits on FVP/QEMU: a tag-907
// collection, TF-A's 2023-profile platform token, and a 2024 realm#2.0.0
// token with the realm instance id and the MEC policy as an integer, in
// TF-RMM main's claim order.
func tfrmmMain(t testing.TB, _ *spec) *spec {
	s := newSpec(t, FormatCMW)
	s.realm.set(token.KeyProfile, cTstr(token.ProfileRealm2))
	s.realm = insertAfter(s.realm, token.KeyChallenge, claim{token.KeyRealmInstanceID, cBstr(realmIID)})
	s.realm = insertAfter(s.realm, token.KeyRealmPubKeyHashAlgID, claim{token.KeyRealmMECPolicy, cInt(0)})
	return s
}

// tfrmmV09 is TF-RMM v0.9.0: 907, 2023 profiles, MEC policy as text.
func tfrmmV09(t testing.TB, _ *spec) *spec {
	s := newSpec(t, FormatCMW)
	s.realm = insertAfter(s.realm, token.KeyRealmPubKeyHashAlgID, claim{token.KeyRealmMECPolicy, cTstr("private")})
	return s
}

// tfmHybrid is tf-m-tools' cca_example_token_legacy.cbor: legacy tokens
// (CCA-SSD platform, profile-less realm, raw RAK) in a tag-907 collection,
// the realm carrying the instance id and MEC policy 1.
func tfmHybrid(t testing.TB, _ *spec) *spec {
	s := newSpec(t, FormatLegacy)
	s.wrapper = token.Wrapper907
	s.realm.set(token.KeyRealmInstanceID, cBstr(realmIID))
	s.realm.set(token.KeyRealmMECPolicy, cInt(1))
	return s
}

// veraisonGood is the shape of Veraison services' cca-good.cbor: tag 399,
// CCA-SSD platform, 2023 realm with a COSE_Key RAK, 64-byte measurements
// labelled sha-256.
func veraisonGood(t testing.TB, _ *spec) *spec {
	s := newSpec(t, FormatLegacy)
	legacyPlatform2023Realm(t, s)
	s.realm.set(token.KeyRealmInitialMeasurement, cBstr(rep(0x1A, 64)))
	s.realm.set(token.KeyRealmExtensibleMeas, cArr(cBstr(rep(1, 64)), cBstr(rep(2, 64)), cBstr(rep(3, 64)), cBstr(rep(4, 64))))
	return s
}

// draft03 is draft-ffm-rats-cca-token-03: 2024 platform and realm
// profiles, client id 1.
func draft03(t testing.TB, _ *spec) *spec {
	s := tfrmmMain(t, nil)
	s.plat.set(token.KeyProfile, cTstr(token.ProfilePlatform2))
	s.plat.set(token.KeyPlatformClientID, cInt(1))
	return s
}

// draft04 is draft-ffm-rats-cca-token-04 with the delegated 2026 profiles:
// the binding in claim 2408, no claim 10 in the platform token.
func draft04(t testing.TB, _ *spec) *spec {
	s := tfrmmMain(t, nil)
	s.plat.set(token.KeyProfile, cTstr(token.ProfilePlatform2026Delegated))
	s.plat.set(token.KeyPlatformClientID, cInt(1))
	s.realm.set(token.KeyProfile, cTstr(token.ProfileRealm2026))
	rak, _ := bstrContent(s.realm.get(token.KeyRealmPubKey))
	sum := sha256.Sum256(rak)
	s.plat.del(token.KeyChallenge)
	s.plat.set(token.KeyPlatformWorkloadBinding, cBstr(sum[:]))
	s.noRebind = true
	return s
}

// insertAfter puts c after the claim with key k.
func insertAfter(cs claims, k int64, c claim) claims {
	i := slices.IndexFunc(cs, func(x claim) bool { return x.key == k })
	return slices.Insert(cs, i+1, c)
}

func TestProducerShapes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		build    func(testing.TB, *spec) *spec
		kind     string // Kind.String() prefix
		coherent bool
		draft    bool
		opts     ValidateOptions // what it takes to validate
		strict   string          // RejectUnknownClaims error, "" none
	}{
		{name: "TF-RMM main", build: tfrmmMain, kind: "CMW collection, 2023 platform profile, realm 2.0 profile", coherent: true},
		{name: "TF-RMM main, DOWNREV 399", build: func(t testing.TB, _ *spec) *spec {
			s := tfrmmMain(t, nil)
			s.wrapper = token.Wrapper399
			return s
		}, kind: "tag 399 collection, 2023 platform profile, realm 2.0 profile", coherent: true},
		{name: "TF-RMM v0.9.0", build: tfrmmV09, kind: "CMW collection (tag 907) with 2023 (1.0) profiles", coherent: true},
		{name: "RMM 1.0-REL0", build: func(t testing.TB, _ *spec) *spec { return newSpec(t, FormatREL0) },
			kind: "RMM 1.0-REL0: tag 399, 2023 profiles, COSE_Key RAK", coherent: true},
		{name: "legacy", build: func(t testing.TB, _ *spec) *spec { return newSpec(t, FormatLegacy) },
			kind: "legacy (RMM 1.0-EAC5): tag 399, CCA-SSD platform profile", coherent: true},
		{name: "tf-m-tools legacy sample (hybrid)", build: tfmHybrid,
			kind: "legacy tokens in a CMW collection (tag 907): CCA-SSD platform profile, profile-less realm", coherent: true,
			strict: "realm claim 256 (cca-realm-instance-id) is not defined by the legacy realm token (no profile)"},
		{name: "Veraison cca-good shape", build: veraisonGood, kind: "tag 399 collection, CCA-SSD platform profile, realm 1.0 profile (Veraison's test evidence",
			opts: ValidateOptions{AllowMixedProfilesUnsafe: true, AllowMeasurementSizeMismatch: true}},
		{name: "draft -03", build: draft03, kind: "CMW collection, 2024 platform profile, realm 2.0 profile (shape of draft-ffm-rats-cca-token-03",
			draft: true, opts: ValidateOptions{AllowDraft: true}},
		{name: "draft -04 delegated", build: draft04, kind: "CMW collection, 2026 platform profile, realm 2026 profile (shape of draft-ffm-rats-cca-token-04",
			draft: true, opts: ValidateOptions{AllowDraft: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.build(t, nil).build(t)
			ev, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			k := ev.Kind()
			if !strings.HasPrefix(k.String(), tc.kind) || k.Coherent() != tc.coherent || k.Draft() != tc.draft {
				t.Errorf("kind %q coherent %v draft %v", k, k.Coherent(), k.Draft())
			}
			if k.Sources() == "" {
				t.Errorf("no sources for %v", k)
			}
			err = ev.Validate(ValidateOptions{})
			if (err == nil) != tc.coherent {
				t.Errorf("default validation: %v", err)
			}
			if err != nil && !errors.Is(err, token.ErrProfile) && !errors.Is(err, token.ErrSyntax) {
				t.Errorf("default validation error of no class: %v", err)
			}
			if tc.draft && (!errors.Is(err, token.ErrProfile) || !strings.Contains(err.Error(), "draft shapes are refused by default")) {
				t.Errorf("draft refusal: %v", err)
			}
			if err := ev.Validate(tc.opts); err != nil {
				t.Errorf("with %+v: %v", tc.opts, err)
			}
			strict := tc.opts
			strict.RejectUnknownClaims = true
			err = ev.Validate(strict)
			if tc.strict == "" && err != nil || tc.strict != "" && (!errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), tc.strict)) {
				t.Errorf("RejectUnknownClaims: %v, want %q", err, tc.strict)
			}
			if tc.draft {
				return // the binding of the 2026 profiles is not claim 10
			}
			if _, err := decodeAndRunLegs(raw, ev.PlatformSign1Key(t), legOptions{Nonce: nonce, ValidateOptions: tc.opts}); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// PlatformSign1Key is the base CPAK (all shapes are built with it).
func (e *Evidence) PlatformSign1Key(t testing.TB) any {
	iak, _ := baseKeys(t)
	return iak.Public()
}

// TestTypedClaims: the 2.0 claims of each shape land in typed fields.
func TestTypedClaims(t *testing.T) {
	ev, err := Decode(tfrmmMain(t, nil).build(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Realm.InstanceID, realmIID) || ev.Realm.MECPolicy == nil || ev.Realm.MECPolicy.String() != "shared (0)" || ev.Realm.Extra != nil {
		t.Errorf("realm 2.0 claims: % x, %v, %v", ev.Realm.InstanceID, ev.Realm.MECPolicy, ev.Realm.Extra)
	}
	ev, err = Decode(draft04(t, nil).build(t))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Platform.ClientID == nil || *ev.Platform.ClientID != platform.ClientIDRMSD || len(ev.Platform.WorkloadBinding) != 32 || ev.Platform.Challenge != nil {
		t.Errorf("platform 2.0 claims: %+v", ev.Platform)
	}
	if k, b := ev.Platform.BindingClaim(); k != token.KeyPlatformWorkloadBinding || !bytes.Equal(b, ev.Platform.WorkloadBinding) {
		t.Errorf("binding claim %d", k)
	}
	if err := token.CheckBinding(ev.Platform.WorkloadBinding, ev.Realm.PubKeyHashAlgID, ev.Realm.PubKey); err != nil {
		t.Errorf("draft -04 binding: %v", err)
	}
}

// TestBarePlatformToken: a single COSE_Sign1, tagged or not, decodes as a
// bare platform token of its profile's kind.
func TestBarePlatformToken(t *testing.T) {
	iak, _ := baseKeys(t)
	for _, tc := range []struct {
		name     string
		profile  string
		untagged bool
		kind     string
		coherent bool
		draft    bool
	}{
		{"TF-A sample (2023)", token.ProfilePlatform1, false, "bare platform token, 2023 platform profile", true, false},
		{"untagged", token.ProfilePlatform1, true, "bare platform token, 2023 platform profile", true, false},
		{"TF-A v2.11 (CCA-SSD)", token.ProfilePlatformLegacy, false, "bare platform token, CCA-SSD platform profile", true, false},
		{"draft -03", token.ProfilePlatform2, false, `bare platform token, draft-ffm-rats-cca-token-03 profile "tag:arm.com,2024:cca_platform#2.0.0" (no producer emits it)`, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := samplePlatform()
			p.Profile, p.Challenge = tc.profile, rep(0x0D, 32)
			if tc.profile == token.ProfilePlatform2 {
				one := uint64(1)
				p.ClientID = &one
			}
			payload, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := token.SignPayload(payload, iak, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.untagged {
				raw = raw[1:]
			}
			ev, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			k := ev.Kind()
			if !ev.Bare() || ev.Realm != nil || ev.RealmSign1 != nil || ev.Collection.Wrapper != token.WrapperNone || k.String() != tc.kind ||
				k.Coherent() != tc.coherent || k.Draft() != tc.draft {
				t.Fatalf("kind %q (coherent %v, draft %v)", k, k.Coherent(), k.Draft())
			}
			if err := ev.PlatformSign1.Verify(iak.Public(), nil); err != nil {
				t.Fatal(err)
			}
			err = ev.Validate(ValidateOptions{})
			if (err == nil) != tc.coherent {
				t.Errorf("validate: %v", err)
			}
			if err := ev.Validate(ValidateOptions{AllowDraft: true}); err != nil {
				t.Errorf("validate, drafts allowed: %v", err)
			}
		})
	}
	for _, bad := range [][]byte{{0x84}, {0xd2}, {0x84, 0x40, 0xa0, 0x40, 0x40}, {0xd2, 0x83, 0x40, 0xa0, 0x40}} {
		if _, err := Decode(bad); !errors.Is(err, token.ErrMalformed) && !errors.Is(err, token.ErrAlgorithm) {
			t.Errorf("% x: %v", bad, err)
		}
	}
}

// TestKindString: each pairing and wrapper has its own description, and
// an unknown pairing says it is mixed.
func TestKindString(t *testing.T) {
	l, p1, r1, r2 := token.ProfilePlatformLegacy, token.ProfilePlatform1, token.ProfileRealm1, token.ProfileRealm2
	kinds := []Kind{
		{Wrapper: token.Wrapper399, Platform: token.GenLegacy, Realm: token.GenLegacy, PlatformProfile: l},
		{Wrapper: token.Wrapper907, Platform: token.GenLegacy, Realm: token.GenLegacy, PlatformProfile: l},
		{Wrapper: token.Wrapper907, Platform: token.GenLegacy, Realm: token.GenLegacy, PlatformProfile: l, Legacy2: true},
		{Wrapper: token.Wrapper399, Platform: token.Gen1, Realm: token.Gen1, PlatformProfile: p1, RealmProfile: r1},
		{Wrapper: token.Wrapper907, Platform: token.Gen1, Realm: token.Gen1, PlatformProfile: p1, RealmProfile: r1},
		{Wrapper: token.Wrapper907, Platform: token.Gen1, Realm: token.Gen2, PlatformProfile: p1, RealmProfile: r2},
		{Wrapper: token.Wrapper399, Platform: token.Gen1, Realm: token.Gen2, PlatformProfile: p1, RealmProfile: r2},
		{Wrapper: token.WrapperNone, Platform: token.Gen1, PlatformProfile: p1, Bare: true},
	}
	var seen []string
	for _, k := range kinds {
		if !k.Coherent() || k.Draft() || k.Err() != nil {
			t.Errorf("%+v not coherent", k)
		}
		s := k.String()
		if slices.Contains(seen, s) || strings.Contains(s, "mixed") {
			t.Errorf("%+v: description %q repeated or says mixed", k, s)
		}
		seen = append(seen, s)
	}
	for _, k := range []Kind{
		{Wrapper: token.Wrapper399, Platform: token.Gen1, Realm: token.GenLegacy, PlatformProfile: p1},
		{Wrapper: token.Wrapper399, PlatformProfile: "x", RealmProfile: "y"},
		{Wrapper: token.Wrapper907, Platform: token.Gen2, Realm: token.Gen1, PlatformProfile: token.ProfilePlatform2, RealmProfile: r1},
		{Wrapper: token.Wrapper907, Platform: token.Gen2026, Realm: token.Gen2, PlatformProfile: token.ProfilePlatform2026, RealmProfile: r2},
	} {
		if k.Coherent() || k.Draft() || !strings.Contains(k.String(), "mixed or unknown") || !errors.Is(k.Err(), token.ErrProfile) {
			t.Errorf("%+v: coherent %v, %q", k, k.Coherent(), k.String())
		}
	}
	// Every row of the table has a source; the coherent ones name a producer.
	for _, p := range Pairings() {
		if p.Sources == "" || p.Coherent == (p.Draft != "") && p.Coherent {
			t.Errorf("pairing %+v", p)
		}
	}
}

// TestDirectModel: a collection whose platform profile names the direct
// model of draft -04 and whose realm entry is not a COSE_Sign1 (the
// unsigned claims set of that model) is refused with an error that says so.
func TestDirectModel(t *testing.T) {
	s := draft04(t, nil)
	s.plat.set(token.KeyProfile, cTstr(token.ProfilePlatform2026Direct))
	s.realmTok = func([]byte) []byte { return cTag(601, s.realm.encode(t)) } // a UCCS
	_, err := Decode(s.build(t))
	if !errors.Is(err, token.ErrMalformed) || !strings.Contains(err.Error(), `platform profile "tag:arm.com,2026:cca_platform#2.0.0;direct" is the direct model of draft-ffm-rats-cca-token-04 §4.10`) {
		t.Fatalf("%v", err)
	}
}
