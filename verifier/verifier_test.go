package verifier

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

func TestVerifyTrustworthy(t *testing.T) {
	cpak, _, _, cpak256 := keys()
	for _, tc := range []struct {
		name   string
		format evidence.Format
		key    *ecdsaKey
	}{
		{"rel0 ES384", evidence.FormatREL0, cpak},
		{"legacy ES384", evidence.FormatLegacy, cpak},
		{"cmw ES384", evidence.FormatCMW, cpak},
		{"rel0 ES256 CPAK", evidence.FormatREL0, cpak256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta, err := NewTrustAnchors(TrustAnchor{InstanceID: testInstanceID, Key: tc.key.Public()})
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, ta, WithReferenceValues(sampleRefs(t)))
			res := verify(t, v, build(t, samplePlatform(), sampleRealm(), tc.key, tc.format, testNonce), testNonce)
			if !res.Trustworthy || !res.Platform.Trustworthy || !res.Realm.Trustworthy || len(res.Reasons) != 0 {
				t.Fatalf("not trustworthy: %v\n%s", res.Reasons, res.Text())
			}
			for _, c := range append(res.Platform.Checks, res.Realm.Checks...) {
				if c.Outcome != Matched {
					t.Errorf("check %q: %s (%s)", c.Name(), c.Outcome, c.Detail)
				}
			}
			if res.Platform.Cached {
				t.Error("first verification reported as cached")
			}
			if !bytes.Equal(res.Realm.InitialMeasurement, sampleRealm().InitialMeasurement) || res.Platform.LifecycleState != "secured" {
				t.Errorf("claims not reported: %+v", res.Realm)
			}
		})
	}
}

// TestAppraisalOutcomes drives every appraisal check to each of its
// outcomes: matched, mismatched, not checked (and whether the policy then
// requires it).
func TestAppraisalOutcomes(t *testing.T) {
	type refs struct {
		platform []PlatformReference
		realm    []RealmReference
	}
	sample := func() refs {
		return refs{[]PlatformReference{samplePlatformRef()}, []RealmReference{sampleRealmRef()}}
	}
	for _, tc := range []struct {
		name     string
		plat     func(*platform.Claims)
		refs     func(*refs)
		policy   Policy
		nonce    []byte // for Verify; nil field means testNonce unless noNonce
		noNonce  bool
		realm    bool // the check is a realm check
		check    string
		want     Outcome
		required bool
		trusted  bool
	}{
		// implementation id
		{name: "impl id matched", check: CheckImplementationID.String(), want: Matched, trusted: true},
		{name: "impl id unknown", refs: func(r *refs) { r.platform[0].ImplementationID = rep(0xCC, 32) },
			check: CheckImplementationID.String(), want: NotChecked, required: true},
		{name: "impl id unknown, allowed", refs: func(r *refs) { r.platform[0].ImplementationID = rep(0xCC, 32) }, policy: Policy{AllowUnknownPlatformUnsafe: true},
			check: CheckImplementationID.String(), want: NotChecked, trusted: true},
		{name: "impl id not checked", refs: func(r *refs) { r.platform = nil },
			check: CheckImplementationID.String(), want: NotChecked, required: true},
		{name: "impl id not checked, allowed", refs: func(r *refs) { r.platform = nil }, policy: Policy{AllowUnknownPlatformUnsafe: true},
			check: CheckImplementationID.String(), want: NotChecked, trusted: true},
		// configuration
		{name: "config matched", check: CheckConfig.String(), want: Matched, trusted: true},
		{name: "config mismatched", refs: func(r *refs) { r.platform[0].Config = []byte{1, 2} },
			check: CheckConfig.String(), want: Mismatched},
		{name: "config not checked", refs: func(r *refs) { r.platform = nil }, policy: Policy{AllowUnknownPlatformUnsafe: true},
			check: CheckConfig.String(), want: NotChecked, trusted: true},
		{name: "config not checked for unknown impl", refs: func(r *refs) { r.platform[0].ImplementationID = rep(0xCC, 32) },
			check: CheckConfig.String(), want: NotChecked},
		// software components
		{name: "sw component matched", check: "sw component #2 RMM", want: Matched, trusted: true},
		{name: "sw component value mismatched", plat: func(p *platform.Claims) { p.SwComponents[2].MeasurementValue = rep(0x99, 32) },
			check: "sw component #2 RMM", want: Mismatched},
		{name: "sw component signer mismatched", plat: func(p *platform.Claims) { p.SwComponents[2].SignerID = rep(0x99, 32) },
			check: "sw component #2 RMM", want: Mismatched},
		{name: "sw component type mismatched", refs: func(r *refs) { r.platform[0].SwComponents[2].Type = "TF-A" },
			check: "sw component #2 RMM", want: Mismatched},
		{name: "reference type mismatched is absent", refs: func(r *refs) { r.platform[0].SwComponents[2].Type = "TF-A" },
			check: "expected sw component TF-A", want: Mismatched},
		{name: "sw component untyped reference", refs: func(r *refs) { r.platform[0].SwComponents[2].Type = "" },
			check: "sw component #2 RMM", want: Matched, trusted: true},
		{name: "sw component version not compared", refs: func(r *refs) { r.platform[0].SwComponents[2].Version = "9.9" },
			check: "sw component #2 RMM", want: Matched, trusted: true},
		{name: "sw component extra in token", plat: func(p *platform.Claims) {
			p.SwComponents = append(p.SwComponents, platform.SwComponent{MeasurementType: "EXTRA", MeasurementValue: rep(0x14, 32), SignerID: rep(0x22, 32)})
		}, check: "sw component #3 EXTRA", want: Mismatched},
		{name: "sw component absent from token", refs: func(r *refs) {
			r.platform[0].SwComponents = append(r.platform[0].SwComponents, SwComponentReference{Type: "MISSING", Value: rep(0x15, 32), SignerID: rep(0x22, 32)})
		}, check: "expected sw component MISSING", want: Mismatched},
		{name: "sw component not checked", refs: func(r *refs) { r.platform = nil }, policy: Policy{AllowUnknownPlatformUnsafe: true},
			check: "sw component #0 RSE_BL1_2", want: NotChecked, trusted: true},
		{name: "best of several platform references", refs: func(r *refs) {
			bad := samplePlatformRef()
			bad.Config = []byte{9}
			r.platform = []PlatformReference{bad, samplePlatformRef()}
		}, check: CheckConfig.String(), want: Matched, trusted: true},
		// RIM
		{name: "RIM matched", realm: true, check: CheckInitialMeasurement.String(), want: Matched, trusted: true},
		{name: "RIM unknown", refs: func(r *refs) { r.realm[0].InitialMeasurement = rep(0x2B, 32) },
			realm: true, check: CheckInitialMeasurement.String(), want: NotChecked, required: true},
		{name: "RIM unknown, allowed", refs: func(r *refs) { r.realm[0].InitialMeasurement = rep(0x2B, 32) }, policy: Policy{AllowUnknownRealmUnsafe: true},
			realm: true, check: CheckInitialMeasurement.String(), want: NotChecked, trusted: true},
		{name: "RIM not checked", refs: func(r *refs) { r.realm = nil },
			realm: true, check: CheckInitialMeasurement.String(), want: NotChecked, required: true},
		{name: "RIM not checked, allowed", refs: func(r *refs) { r.realm = nil }, policy: Policy{AllowUnknownRealmUnsafe: true},
			realm: true, check: CheckInitialMeasurement.String(), want: NotChecked, trusted: true},
		{name: "RIM with other hash algorithm", refs: func(r *refs) { r.realm[0].HashAlgorithm = "" },
			realm: true, check: CheckInitialMeasurement.String(), want: Matched, trusted: true},
		// RPV
		{name: "RPV matched", realm: true, check: CheckPersonalizationValue.String(), want: Matched, trusted: true},
		{name: "RPV mismatched", refs: func(r *refs) { r.realm[0].PersonalizationValue = rep(0x51, 64) },
			realm: true, check: CheckPersonalizationValue.String(), want: Mismatched},
		{name: "RPV not checked", refs: func(r *refs) { r.realm[0].PersonalizationValue = nil },
			realm: true, check: CheckPersonalizationValue.String(), want: NotChecked, trusted: true},
		{name: "best of several realm references", refs: func(r *refs) {
			bad := sampleRealmRef()
			bad.PersonalizationValue = rep(0x51, 64)
			r.realm = []RealmReference{bad, sampleRealmRef()}
		}, realm: true, check: CheckPersonalizationValue.String(), want: Matched, trusted: true},
		// REMs
		{name: "REM matched", realm: true, check: "REM 2", want: Matched, trusted: true},
		{name: "REM mismatched", refs: func(r *refs) { r.realm[0].ExtensibleMeasurements[2] = rep(0xEE, 32) },
			realm: true, check: "REM 2", want: Mismatched},
		{name: "REM not checked", refs: func(r *refs) { r.realm[0].ExtensibleMeasurements = nil },
			realm: true, check: "REM 2", want: NotChecked, trusted: true},
		{name: "REM not checked, required", refs: func(r *refs) { r.realm[0].ExtensibleMeasurements = nil }, policy: Policy{RequireREMs: true},
			realm: true, check: "REM 2", want: NotChecked, required: true},
		// freshness
		{name: "freshness matched", realm: true, check: CheckFreshness.String(), want: Matched, trusted: true},
		{name: "freshness mismatched", nonce: rep(0x4F, 32), realm: true, check: CheckFreshness.String(), want: Mismatched},
		{name: "freshness not checked", noNonce: true, realm: true, check: CheckFreshness.String(), want: NotChecked, required: true},
		{name: "freshness not checked, allowed", noNonce: true, policy: Policy{AllowMissingNonceUnsafe: true},
			realm: true, check: CheckFreshness.String(), want: NotChecked, trusted: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := samplePlatform()
			if tc.plat != nil {
				tc.plat(p)
			}
			cpak, _, _, _ := keys()
			tok := build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce)
			r := sample()
			if tc.refs != nil {
				tc.refs(&r)
			}
			v := newVerifier(t, sampleAnchors(t), WithReferenceValues(refValues(t, r.platform, r.realm)), WithPolicy(tc.policy))
			nonce := testNonce
			if tc.nonce != nil {
				nonce = tc.nonce
			}
			if tc.noNonce {
				nonce = nil
			}
			res := verify(t, v, tok, nonce)
			checks := res.Platform.Checks
			if tc.realm {
				checks = res.Realm.Checks
			}
			checkOutcome(t, checks, tc.check, tc.want, tc.required)
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v, want %v; reasons %q", res.Trustworthy, tc.trusted, res.Reasons)
			}
			if !tc.trusted && len(res.Reasons) == 0 {
				t.Fatal("untrustworthy without a reason")
			}
			if tc.want == NotChecked && tc.required {
				if !strings.Contains(res.Reason(), "not checked") || strings.Contains(res.Reason(), "mismatch") {
					t.Errorf("a required not-checked check must not read like a mismatch: %q", res.Reason())
				}
			}
		})
	}
}

// TestLegs drives the cryptographic and structural legs to their failures
// with hand-made evidence.
func TestLegs(t *testing.T) {
	cpak, _, other, _ := keys()
	good := goodToken(t)

	// A platform token whose challenge binds some other RAK.
	p := samplePlatform()
	p.Profile = token.ProfilePlatform1
	p.Challenge = rep(0x77, 32)
	badBinding := signPlatform(t, p, good, cpak)

	// A platform token with an invalid lifecycle value.
	p = samplePlatform()
	p.Profile = token.ProfilePlatform1
	p.Lifecycle = 0x7000
	e, _ := evidence.Decode(good)
	p.Challenge = e.Platform.Challenge
	badClaims := signPlatform(t, p, good, cpak)

	// A legacy platform token bound to a REL0 realm token.
	p = samplePlatform()
	p.Profile = token.ProfilePlatformLegacy
	p.Challenge = e.Platform.Challenge
	mixed := signPlatform(t, p, good, cpak)

	// A realm token with a claim no profile defines.
	r := sampleRealm()
	r.Extra = map[int64]cbor.RawMessage{99999: {0x01}}
	unknownClaim := build(t, samplePlatform(), r, cpak, evidence.FormatREL0, testNonce)

	for _, tc := range []struct {
		name    string
		tok     []byte
		anchors *TrustAnchors
		policy  Policy
		realm   bool
		check   string
		want    Outcome
		trusted bool
		class   error  // the token error class the failed check's Err wraps
		nonce   []byte // nil: testNonce
	}{
		{name: "decode", tok: []byte("not cbor"), check: CheckDecode.String(), want: Mismatched, class: token.ErrMalformed},
		{name: "decode realm side", tok: []byte("not cbor"), realm: true, check: CheckDecode.String(), want: Mismatched, class: token.ErrMalformed},
		{name: "oversize", tok: make([]byte, token.MaxTokenSize+1), check: CheckDecode.String(), want: Mismatched, class: token.ErrMalformed},
		{name: "platform claims", tok: badClaims, check: CheckClaims.String(), want: Mismatched, class: token.ErrSyntax},
		{name: "trust anchor: unknown instance", tok: good, anchors: mustAnchors(t, TrustAnchor{InstanceID: append([]byte{1}, rep(0xBC, 32)...), Key: cpak.Public()}),
			check: CheckTrustAnchor.String(), want: Mismatched},
		{name: "trust anchor: other implementation", tok: good, anchors: mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, ImplementationID: rep(0xAB, 32), Key: cpak.Public()}),
			check: CheckTrustAnchor.String(), want: Mismatched},
		{name: "trust anchor: no implementation id", tok: good, anchors: mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, Key: cpak.Public()}),
			check: CheckTrustAnchor.String(), want: Matched, trusted: true},
		{name: "trust anchor: any instance", tok: good, anchors: mustAnchors(t, TrustAnchor{Key: cpak.Public()}),
			check: CheckTrustAnchor.String(), want: Matched, trusted: true},
		{name: "platform signature", tok: resign(t, good, 0, other), check: CheckSignature.String(), want: Mismatched, class: token.ErrSignature},
		{name: "platform signature with the wrong key", tok: good, anchors: mustAnchors(t, TrustAnchor{Key: other.Public()}),
			check: CheckSignature.String(), want: Mismatched, class: token.ErrSignature},
		{name: "realm follows platform", tok: resign(t, good, 0, other), realm: true, check: CheckPlatform.String(), want: Mismatched},
		{name: "realm signature", tok: resign(t, good, 1, other), realm: true, check: CheckSignature.String(), want: Mismatched, class: token.ErrSignature},
		{name: "binding", tok: badBinding, realm: true, check: CheckBinding.String(), want: Mismatched, class: token.ErrBinding},
		{name: "mixed profiles", tok: mixed, realm: true, check: CheckProfiles.String(), want: Mismatched, class: token.ErrProfile},
		{name: "mixed profiles allowed", tok: mixed, policy: Policy{AllowMixedProfilesUnsafe: true}, realm: true, check: CheckProfiles.String(), want: Matched, trusted: true},
		{name: "unknown claim", tok: unknownClaim, realm: true, check: CheckClaims.String(), want: Matched, trusted: true},
		{name: "unknown claim rejected", tok: unknownClaim, policy: Policy{RejectUnknownClaims: true}, realm: true, check: CheckClaims.String(), want: Mismatched, class: token.ErrSyntax},
		{name: "stale nonce", tok: good, nonce: rep(0x4F, 32), realm: true, check: CheckFreshness.String(), want: Mismatched, class: token.ErrFreshness},
		{name: "algorithm not allowed", tok: good, policy: Policy{Algorithms: []coseAlg{coseES256}}, check: CheckSignature.String(), want: Mismatched, class: token.ErrAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := tc.anchors
			if ta == nil {
				ta = sampleAnchors(t)
			}
			v := newVerifier(t, ta, WithReferenceValues(sampleRefs(t)), WithPolicy(tc.policy))
			nonce := testNonce
			if tc.nonce != nil {
				nonce = tc.nonce
			}
			res := verify(t, v, tc.tok, nonce)
			checks := res.Platform.Checks
			if tc.realm {
				checks = res.Realm.Checks
			}
			checkOutcome(t, checks, tc.check, tc.want, false)
			c, _ := checkNamed(checks, tc.check)
			switch {
			case tc.class == nil && c.Err() != nil:
				t.Errorf("Err %v on a check that did not fail from an error", c.Err())
			case tc.class != nil:
				var classes []error
				for _, k := range token.Classes() {
					if errors.Is(c.Err(), k) {
						classes = append(classes, k)
					}
				}
				if len(classes) != 1 || classes[0] != tc.class {
					t.Errorf("Err %v: classes %v, want exactly %v", c.Err(), classes, tc.class)
				}
			}
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v, want %v; reasons %q", res.Trustworthy, tc.trusted, res.Reasons)
			}
		})
	}
}

func mustAnchors(t testing.TB, anchors ...TrustAnchor) *TrustAnchors {
	t.Helper()
	ta, err := NewTrustAnchors(anchors...)
	if err != nil {
		t.Fatal(err)
	}
	return ta
}

// TestLifecycle: only secured is trustworthy by default; the debug states
// only under the Unsafe fields; the others never.
func TestLifecycle(t *testing.T) {
	cpak, _, _, _ := keys()
	lax := Policy{AllowNonCCAPlatformDebugUnsafe: true}
	dev := Policy{AllowDebugLifecycleUnsafe: true}
	for _, tc := range []struct {
		value                       platform.Lifecycle
		state                       string
		dflt, allowNonCCA, allowDbg bool
	}{
		{0x0000, "unknown", false, false, false},
		{0x00ff, "unknown", false, false, false},
		{0x1000, "assembly and test", false, false, false},
		{0x2001, "CCA platform RoT provisioning", false, false, false},
		{0x3000, "secured", true, true, true},
		{0x30ff, "secured", true, true, true},
		{0x4000, "non-CCA-platform debug", false, true, true},
		{0x40ff, "non-CCA-platform debug", false, true, true},
		{0x5000, "recoverable CCA-platform debug", false, false, true},
		{0x6000, "decommissioned", false, false, false},
	} {
		p := samplePlatform()
		p.Lifecycle = tc.value
		tok := build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce)
		for _, pc := range []struct {
			name   string
			policy Policy
			want   bool
		}{{"default", Policy{}, tc.dflt}, {"AllowNonCCAPlatformDebugUnsafe", lax, tc.allowNonCCA}, {"AllowDebugLifecycleUnsafe", dev, tc.allowDbg}} {
			t.Run(tc.value.String()+"/"+pc.name, func(t *testing.T) {
				v := newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)), WithPolicy(pc.policy))
				res := verify(t, v, tok, testNonce)
				want := Mismatched
				if pc.want {
					want = Matched
				}
				checkOutcome(t, res.Platform.Checks, CheckLifecycle.String(), want, false)
				if res.Trustworthy != pc.want || res.Platform.LifecycleState != tc.state {
					t.Fatalf("trustworthy %v (state %q), want %v (%q): %q", res.Trustworthy, res.Platform.LifecycleState, pc.want, tc.state, res.Reasons)
				}
				ar, err := res.EAR()
				if err != nil {
					t.Fatal(err)
				}
				ii := ar.Submods[SubmodPlatform].TrustVector.InstanceIdentity
				if (pc.want && ii != 2) || (!pc.want && ii != 96) {
					t.Fatalf("EAR instance-identity %d", ii)
				}
			})
		}
	}
}

// TestPolicyID: every weakening is named in the policy id that results and
// EARs carry.
func TestPolicyID(t *testing.T) {
	if got := (&Policy{}).ID(); got != "ccakit-verifier/default" {
		t.Fatalf("default policy id %q", got)
	}
	p := Policy{AllowMissingNonceUnsafe: true, AllowNonCCAPlatformDebugUnsafe: true, AllowDebugLifecycleUnsafe: true,
		AllowMixedProfilesUnsafe: true, AllowUnknownPlatformUnsafe: true, AllowUnknownRealmUnsafe: true, RequireREMs: true,
		RejectUnknownClaims: true, Algorithms: []coseAlg{coseES256}}
	id := p.ID()
	for _, name := range []string{"AllowMissingNonceUnsafe", "AllowNonCCAPlatformDebugUnsafe", "AllowDebugLifecycleUnsafe",
		"AllowMixedProfilesUnsafe", "AllowUnknownPlatformUnsafe", "AllowUnknownRealmUnsafe", "RequireREMs", "RejectUnknownClaims", "Algorithms=ES256"} {
		if !strings.Contains(id, "+"+name) {
			t.Errorf("policy id %q does not name %s", id, name)
		}
	}
	v := newVerifier(t, sampleAnchors(t), WithPolicy(p))
	if res := verify(t, v, goodToken(t), nil); res.Policy != id {
		t.Errorf("result policy %q", res.Policy)
	}
}

// TestNoReferenceValues: a verifier with only a CPAK verifies the legs and
// says that nothing was appraised, as not-checked, never as mismatches.
func TestNoReferenceValues(t *testing.T) {
	v := newVerifier(t, sampleAnchors(t))
	res := verify(t, v, goodToken(t), testNonce)
	if res.Trustworthy {
		t.Fatal("trustworthy without reference values under the default policy")
	}
	for _, c := range append(res.Platform.Checks, res.Realm.Checks...) {
		if c.Outcome == Mismatched {
			t.Errorf("check %q mismatched: %s", c.Name(), c.Detail)
		}
	}
	if len(res.Reasons) != 2 {
		t.Errorf("want one reason per side, got %q", res.Reasons)
	}
	v = newVerifier(t, sampleAnchors(t), WithPolicy(Policy{AllowUnknownPlatformUnsafe: true, AllowUnknownRealmUnsafe: true}))
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("not trustworthy: %q", res.Reasons)
	}
}

func TestVerifyMisuse(t *testing.T) {
	v := newVerifier(t, sampleAnchors(t))
	tok := goodToken(t)
	for _, n := range [][]byte{{}, rep(1, 31), rep(1, 65)} {
		if _, err := v.Verify(context.Background(), tok, n); !errors.Is(err, ErrUsage) {
			t.Errorf("nonce of %d bytes: err %v", len(n), err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, tok, testNonce); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v", err)
	}
	var nilV *Verifier
	if _, err := nilV.Verify(context.Background(), tok, testNonce); !errors.Is(err, ErrUsage) {
		t.Errorf("nil verifier: err %v", err)
	}
	if _, err := New(nil); !errors.Is(err, ErrUsage) {
		t.Errorf("New(nil): err %v", err)
	}
	for _, o := range []Option{nil, WithReferenceValues(nil), WithPlatformCacheSize(-1), WithVerifierIdentity("", "x")} {
		if _, err := New(sampleAnchors(t), o); !errors.Is(err, ErrUsage) {
			t.Errorf("bad option: err %v", err)
		}
	}
	// 64-byte nonces are used as they are.
	cpak, _, _, _ := keys()
	n64 := rep(0x64, 64)
	v = newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t)))
	if res := verify(t, v, build(t, samplePlatform(), sampleRealm(), cpak, evidence.FormatREL0, n64), n64); !res.Trustworthy {
		t.Errorf("64-byte nonce: %q", res.Reasons)
	}
}

// TestResultText: one line per check, with ✓ ✗ – marks, and a required
// not-checked check that says so.
func TestResultText(t *testing.T) {
	refs := refValues(t, []PlatformReference{samplePlatformRef()}, nil)
	v := newVerifier(t, sampleAnchors(t), WithReferenceValues(refs))
	p := samplePlatform()
	p.Config = []byte{1}
	cpak, _, _, _ := keys()
	res := verify(t, v, build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce), testNonce)
	txt := res.Text()
	for _, want := range []string{"NOT TRUSTWORTHY", "✓ signature", "✗ configuration", "– initial measurement", "not checked (required by the policy)", "– REM 0"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if n := strings.Count(txt, "\n"); n != 3+len(res.Platform.Checks)+len(res.Realm.Checks)+1 {
		t.Errorf("%d lines for %d checks:\n%s", n, len(res.Platform.Checks)+len(res.Realm.Checks), txt)
	}
}

// TestResultTextEscapes: a component type with a newline, ANSI escapes and
// a bidirectional override cannot add or hide a line of Result.Text.
func TestResultTextEscapes(t *testing.T) {
	cpak, _, _, _ := keys()
	p := samplePlatform()
	p.SwComponents[2].MeasurementType = "RMM\nTRUSTWORTHY (policy x)\x1b[2K\u202e"
	res := verify(t, newVerifier(t, sampleAnchors(t), WithReferenceValues(sampleRefs(t))),
		build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce), testNonce)
	txt := res.Text()
	if strings.ContainsAny(txt, "\x1b\u202e") || strings.Contains(txt, "\nTRUSTWORTHY") {
		t.Fatalf("unescaped:\n%q", txt)
	}
	if !strings.Contains(txt, `sw component #2 RMM\nTRUSTWORTHY (policy x)\x1b[2K\u202e`) {
		t.Errorf("the type is not shown escaped:\n%s", txt)
	}
	if n := strings.Count(txt, "\n"); n != 4+len(res.Platform.Checks)+len(res.Realm.Checks) {
		t.Errorf("%d lines for %d checks:\n%s", n, len(res.Platform.Checks)+len(res.Realm.Checks), txt)
	}
}
