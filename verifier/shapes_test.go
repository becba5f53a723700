package verifier

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// The shapes of today's CCA evidence (issue: today's CCA evidence and
// endorsements), as the verifier takes them.

// mainRealm is a realm claims set as TF-RMM main writes it: the 2024 realm
// profile with a realm instance id and the MEC policy as an integer.
func mainRealm(mec *realm.MECPolicy) *realm.Claims {
	r := sampleRealm()
	r.Profile = token.ProfileRealm2
	r.InstanceID = append([]byte{0x01}, rep(0x9E, 32)...)
	r.MECPolicy = mec
	return r
}

func mainToken(t testing.TB, mec *realm.MECPolicy) []byte {
	cpak, _, _, _ := keys()
	return build(t, samplePlatform(), mainRealm(mec), cpak, evidence.FormatTFRMMMain, testNonce)
}

// signRaw signs claims as they are, without Create's validation: the way
// to make shapes that ccakit refuses to create. The platform challenge is
// set to the binding of the realm's RAK.
func signRaw(t testing.TB, p *platformClaims, r *realm.Claims, w token.Wrapper) []byte {
	t.Helper()
	cpak, rak, _, _ := keys()
	rc := *r
	var err error
	gen := token.Gen1
	if rc.Profile == "" {
		gen = token.GenLegacy
	}
	if rc.PubKey, err = realm.EncodeRAK(&rak.PublicKey, gen); err != nil {
		t.Fatal(err)
	}
	rc.PubKeyHashAlgID = token.SHA256
	if rc.Challenge, err = token.PadNonce(testNonce); err != nil {
		t.Fatal(err)
	}
	pc := *p
	binding, err := token.Binding(rc.PubKeyHashAlgID, rc.PubKey)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Generation() == token.Gen2026 {
		// draft-ffm-rats-cca-token-04: the workload binding (2408)
		// replaces the challenge, which must not appear.
		pc.Challenge, pc.WorkloadBinding = nil, binding
	} else {
		pc.Challenge = binding
	}
	pp, err := pc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := rc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := token.SignPayload(pp, cpak, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := token.SignPayload(rp, rak, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&token.Collection{Wrapper: w, Platform: pt, Realm: rt}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bareToken is a bare platform token: one tagged COSE_Sign1.
func bareToken(t testing.TB, profile string) []byte {
	t.Helper()
	cpak, _, _, _ := keys()
	p := samplePlatform()
	p.Profile = profile
	p.Challenge = rep(0xC4, 32)
	pp, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := token.SignPayload(pp, cpak, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// TestTFRMMMainShape: what TF-RMM main emits (907, the 2023 platform token,
// a realm#2.0.0 token with instance id and MEC policy) verifies with the
// default policy, and its 2.0 claims are in the Result and the EAR.
func TestTFRMMMainShape(t *testing.T) {
	v := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)))
	res := verify(t, v, mainToken(t, realm.MECPolicyOf(false)), testNonce)
	if !res.Trustworthy {
		t.Fatalf("not trustworthy: %q", res.Reasons)
	}
	checkOutcome(t, res.Realm.Checks, CheckProfiles.String(), Matched, false)
	if !bytes.Equal(res.Realm.InstanceID, append([]byte{0x01}, rep(0x9E, 32)...)) || res.Realm.MECPolicy == nil {
		t.Errorf("2.0 claims not in the Result: %x %v", res.Realm.InstanceID, res.Realm.MECPolicy)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"realm-instance-id":"019e9e`, `"mec-policy":0`, `"cca-realm-instance-id":`, `"cca-realm-mec-policy":0`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("JSON Result lacks %s:\n%s", want, out)
		}
	}
	ar, err := res.EAR()
	if err != nil {
		t.Fatal(err)
	}
	ae := *ar.Submods[SubmodRealm].VeraisonAnnotatedEvidence
	if ae["cca-realm-mec-policy"] != float64(0) || ae["cca-realm-instance-id"] == nil {
		t.Errorf("annotated evidence %v", ae)
	}
}

// TestMECPolicy: a reference value may pin the MEC policy (compared by
// meaning, in either form); the policy may require one.
func TestMECPolicy(t *testing.T) {
	cpak, _, _, _ := keys()
	shared, private := realm.MECPolicyOf(false), realm.MECPolicyOf(true)
	sharedText := &realm.MECPolicy{Text: true, Name: "shared"}
	rel0 := build(t, samplePlatform(), sampleRealm(), cpak, evidence.FormatREL0, testNonce)
	for _, tc := range []struct {
		name    string
		tok     []byte
		pin     *realm.MECPolicy
		policy  Policy
		want    Outcome // "" for no check
		cfg     ear.TrustClaim
		trusted bool
	}{
		{name: "not pinned", tok: mainToken(t, shared), trusted: true},
		{name: "pinned shared, integer form", tok: mainToken(t, shared), pin: shared, want: Matched, cfg: 2, trusted: true},
		{name: "pinned shared as text, token integer", tok: mainToken(t, shared), pin: sharedText, want: Matched, cfg: 2, trusted: true},
		{name: "pinned private, token shared", tok: mainToken(t, shared), pin: private, want: Mismatched, cfg: 32},
		{name: "pinned, token has none", tok: rel0, pin: private, want: Mismatched, cfg: 32},
		{name: "required, not pinned", tok: mainToken(t, private), policy: Policy{RequireMECPolicy: true}, want: NotChecked, cfg: 32},
		{name: "required and pinned", tok: mainToken(t, private), pin: private, policy: Policy{RequireMECPolicy: true}, want: Matched, cfg: 2, trusted: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRealmRef()
			r.MECPolicy = tc.pin
			v := newVerifier(t, sampleAnchors(t), WithPolicy(tc.policy),
				WithReferenceValues(refValues(t, []PlatformReference{samplePlatformRef()}, []RealmReference{r})))
			res := verify(t, v, tc.tok, testNonce)
			if tc.want == "" {
				if _, ok := res.Realm.Check(CheckMECPolicy, 0); ok {
					t.Fatal("a MEC policy check without a pinned policy")
				}
			} else {
				checkOutcome(t, res.Realm.Checks, CheckMECPolicy.String(), tc.want, tc.want == NotChecked)
			}
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v: %q", res.Trustworthy, res.Reasons)
			}
			ar, _ := res.EAR()
			if a := ar.Submods[SubmodRealm]; a.TrustVector.Configuration != tc.cfg || (*a.Status == ear.TrustTierAffirming) != tc.trusted {
				t.Errorf("realm cfg %d status %v", a.TrustVector.Configuration, *a.Status)
			}
		})
	}
	// The JSON store reads and writes the pin.
	rv, err := ParseReferenceValues([]byte(`{"realm": [{"initial-measurement": "` + strings.Repeat("1a", 32) + `", "mec-policy": "private"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := rv.realm[0].MECPolicy.Private(); err != nil || !p {
		t.Errorf("mec-policy read as %v %v", rv.realm[0].MECPolicy, err)
	}
	for _, bad := range []string{`"secret"`, `2`, `true`} {
		if _, err := ParseReferenceValues([]byte(`{"realm": [{"initial-measurement": "` + strings.Repeat("1a", 32) + `", "mec-policy": ` + bad + `}]}`)); err == nil || !strings.Contains(err.Error(), `"mec-policy"`) {
			t.Errorf("mec-policy %s: %v", bad, err)
		}
	}
}

// TestShapes: the pairings of profiles, by default and under their Unsafe
// fields.
// A 2026-profile token binds its RAK through the workload binding claim
// (2408), not the challenge: once the draft shape is allowed, the binding
// is checked there, and a wrong 2408 fails it.
func TestWorkloadBinding(t *testing.T) {
	p := samplePlatform()
	p.Profile = token.ProfilePlatform2026Delegated
	one := uint64(1)
	p.ClientID = &one
	r := mainRealm(realm.MECPolicyOf(false))
	r.Profile = token.ProfileRealm2026
	good := signRaw(t, p, r, token.Wrapper907)
	v := newVerifier(t, sampleAnchors(t), WithPolicy(Policy{AllowDraftProfilesUnsafe: true}), WithReferenceValues(sampleRefs(t)))
	res := verify(t, v, good, testNonce)
	c, _ := res.Realm.Check(CheckBinding, 0)
	if c.Outcome != Matched || !strings.Contains(c.Detail, "workload binding (claim 2408)") || !res.Trustworthy {
		t.Fatalf("binding %+v, trustworthy %v: %v", c, res.Trustworthy, res.Reasons)
	}

	// The same claims with another RAK's binding in 2408.
	e, err := evidence.Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	wrong := *e.Platform
	wrong.WorkloadBinding = bytes.Repeat([]byte{0xB1}, 32)
	cpak, _, _, _ := keys()
	pp, err := wrong.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := token.SignPayload(pp, cpak, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := (&token.Collection{Wrapper: token.Wrapper907, Platform: pt, Realm: e.Collection.Realm}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	res = verify(t, v, bad, testNonce)
	checkOutcome(t, res.Realm.Checks, CheckBinding.String(), Mismatched, false)
}

func TestShapes(t *testing.T) {
	draftPlatform := samplePlatform()
	draftPlatform.Profile = token.ProfilePlatform2
	one := uint64(1)
	draftPlatform.ClientID = &one
	draftRealm := mainRealm(realm.MECPolicyOf(true))
	draftRealm.Profile = token.ProfileRealm2
	veraisonPlatform := samplePlatform()
	veraisonPlatform.Profile = token.ProfilePlatformLegacy
	rel0Realm := sampleRealm()
	rel0Realm.Profile = token.ProfileRealm1
	for _, tc := range []struct {
		name    string
		tok     []byte
		policy  Policy
		want    Outcome
		msg     string
		trusted bool
	}{
		{name: "TF-RMM main", tok: mainToken(t, realm.MECPolicyOf(false)), want: Matched, trusted: true},
		{name: "TF-RMM main in tag 399 (DOWNREV)", tok: signRaw(t, samplePlatformWith(token.ProfilePlatform1), mainRealm(realm.MECPolicyOf(false)), token.Wrapper399),
			want: Matched, trusted: true},
		{name: "draft -03 pairing", tok: signRaw(t, draftPlatform, draftRealm, token.Wrapper907), want: Mismatched,
			msg: "AllowDraftProfilesUnsafe accepts it"},
		{name: "draft -03 pairing, allowed", tok: signRaw(t, draftPlatform, draftRealm, token.Wrapper907), policy: Policy{AllowDraftProfilesUnsafe: true},
			want: Matched, msg: "accepted by AllowDraftProfilesUnsafe", trusted: true},
		{name: "Veraison's test pairing", tok: signRaw(t, veraisonPlatform, rel0Realm, token.Wrapper399), want: Mismatched, msg: "opt-in pairing"},
		{name: "Veraison's test pairing, allowed", tok: signRaw(t, veraisonPlatform, rel0Realm, token.Wrapper399), policy: Policy{AllowMixedProfilesUnsafe: true},
			want: Matched, trusted: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, sampleAnchors(t), WithPolicy(tc.policy), WithReferenceValues(sampleRefs(t)))
			res := verify(t, v, tc.tok, testNonce)
			checkOutcome(t, res.Realm.Checks, CheckProfiles.String(), tc.want, false)
			c, _ := res.Realm.Check(CheckProfiles, 0)
			if !strings.Contains(c.Detail, tc.msg) {
				t.Errorf("detail %q lacks %q", c.Detail, tc.msg)
			}
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v: %q", res.Trustworthy, res.Reasons)
			}
		})
	}
}

func samplePlatformWith(profile string) *platformClaims {
	p := samplePlatform()
	p.Profile = profile
	return p
}

// mislabelledRealm is evidence whose realm has 64-byte measurements
// labelled sha-256, as Veraison's test evidence: the realm claims, and the
// signed evidence.
func mislabelledRealm(t *testing.T) (*realm.Claims, []byte) {
	r := sampleRealm()
	r.Profile = token.ProfileRealm1
	r.InitialMeasurement = rep(0x1A, 64)
	r.ExtensibleMeasurements = [][]byte{rep(0xE1, 64), rep(0xE2, 64), rep(0xE3, 64), rep(0xE4, 64)}
	return r, signRaw(t, samplePlatformWith(token.ProfilePlatform1), r, token.Wrapper399)
}

// TestMeasurementSizeMismatch: 64-byte measurements labelled sha-256 (as in
// Veraison's test evidence) are refused by default, naming the claim, the
// length and the algorithm, and accepted by the Unsafe field.
func TestMeasurementSizeMismatch(t *testing.T) {
	r, tok := mislabelledRealm(t)
	ref := RealmReference{InitialMeasurement: r.InitialMeasurement, PersonalizationValue: r.PersonalizationValue, ExtensibleMeasurements: r.ExtensibleMeasurements}
	refs := refValues(t, []PlatformReference{samplePlatformRef()}, []RealmReference{ref})

	res := verify(t, newVerifier(t, sampleAnchors(t), WithReferenceValues(refs)), tok, testNonce)
	c, _ := res.Realm.Check(CheckClaims, 0)
	if res.Trustworthy || c.Outcome != Mismatched {
		t.Fatalf("accepted by default: %+v", c)
	}
	for _, want := range []string{"44238", "64 bytes", "must be 32", "sha-256", "--allow-measurement-size-mismatch-unsafe"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q lacks %q", c.Detail, want)
		}
	}
	p := Policy{AllowMeasurementSizeMismatchUnsafe: true}
	res = verify(t, newVerifier(t, sampleAnchors(t), WithReferenceValues(refs), WithPolicy(p)), tok, testNonce)
	if !res.Trustworthy || !strings.Contains(res.Policy, "AllowMeasurementSizeMismatchUnsafe") {
		t.Fatalf("not accepted by the Unsafe field: %q (%s)", res.Reasons, res.Policy)
	}
	c, _ = res.Realm.Check(CheckClaims, 0)
	if !strings.Contains(c.Detail, "accepted by AllowMeasurementSizeMismatchUnsafe") {
		t.Errorf("detail %q", c.Detail)
	}
}

// TestBarePlatformToken: a bare platform token gets the platform's checks
// and appraisal; the Result says there is no realm; it is fresh only when
// the policy waives freshness; a draft platform profile is refused.
func TestBarePlatformToken(t *testing.T) {
	tok := bareToken(t, token.ProfilePlatform1)
	for _, tc := range []struct {
		name      string
		nonce     []byte
		policy    Policy
		freshness Outcome
		trusted   bool
		submods   []string
	}{
		{name: "no nonce, default policy", freshness: NotChecked, submods: []string{SubmodFailure}},
		{name: "no nonce, freshness waived", policy: Policy{AllowMissingNonceUnsafe: true}, freshness: NotChecked, trusted: true, submods: []string{SubmodPlatform}},
		{name: "a nonce it cannot carry", nonce: testNonce, freshness: Mismatched, submods: []string{SubmodFailure}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, sampleAnchors(t), WithPolicy(tc.policy), WithReferenceValues(sampleRefs(t)))
			res := verify(t, v, tok, tc.nonce)
			if !res.Realm.Absent || res.Realm.Trustworthy || !res.Platform.Trustworthy {
				t.Fatalf("absent %v, realm %v, platform %v: %q", res.Realm.Absent, res.Realm.Trustworthy, res.Platform.Trustworthy, res.Reasons)
			}
			checkOutcome(t, res.Realm.Checks, CheckFreshness.String(), tc.freshness, tc.freshness == NotChecked && !tc.policy.AllowMissingNonceUnsafe)
			if len(res.Realm.Checks) != 1 || res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v, realm checks %+v", res.Trustworthy, res.Realm.Checks)
			}
			ar, err := res.EAR()
			if err != nil {
				t.Fatal(err)
			}
			if len(ar.Submods) != len(tc.submods) || ar.Submods[tc.submods[0]] == nil {
				t.Errorf("submods %v, want %v", ar.Submods, tc.submods)
			}
			if !strings.Contains(res.Text(), "realm: none (a bare platform token)") {
				t.Errorf("text:\n%s", res.Text())
			}
		})
	}
	// A draft platform profile, bare: refused by default.
	p := samplePlatformWith(token.ProfilePlatform2)
	one := uint64(1)
	p.ClientID = &one
	p.Challenge = rep(0xC4, 32)
	pp, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cpak, _, _, _ := keys()
	draft, err := token.SignPayload(pp, cpak, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := verify(t, newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)), WithPolicy(Policy{AllowMissingNonceUnsafe: true})), draft, nil)
	checkOutcome(t, res.Platform.Checks, CheckProfiles.String(), Mismatched, false)
	if res.Trustworthy {
		t.Fatal("a draft bare platform token was trusted")
	}
}
