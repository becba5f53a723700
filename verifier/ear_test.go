package verifier

import (
	"bytes"
	"crypto/elliptic"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// scenario is one verification whose result the EAR and golden tests look
// at.
type scenario struct {
	name   string
	tok    func(t testing.TB) []byte
	refs   func(t testing.TB) *ReferenceValues // nil: none
	policy Policy
	nonce  []byte
}

func scenarios() []scenario {
	cpak, _, other, _ := keys()
	withPlatformClaims := func(f func(*platformClaims)) func(t testing.TB) []byte {
		return func(t testing.TB) []byte {
			p := samplePlatform()
			f(p)
			return build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce)
		}
	}
	realmRefs := func(f func(*RealmReference)) func(t testing.TB) *ReferenceValues {
		return func(t testing.TB) *ReferenceValues {
			r := sampleRealmRef()
			r.ExtensibleMeasurements = slices.Clone(r.ExtensibleMeasurements)
			f(&r)
			return refValues(t, []PlatformReference{samplePlatformRef()}, []RealmReference{r})
		}
	}
	return []scenario{
		{name: "trustworthy", tok: goodToken, refs: sampleRefs, nonce: testNonce},
		{name: "trustworthy-boot-only", tok: goodToken, refs: realmRefs(func(r *RealmReference) { r.ExtensibleMeasurements = nil }), nonce: testNonce},
		{name: "trustworthy-some-rems", tok: goodToken, refs: realmRefs(func(r *RealmReference) { r.ExtensibleMeasurements[1] = nil }), nonce: testNonce},
		{name: "nothing-provisioned", tok: goodToken, nonce: testNonce},
		{name: "nothing-provisioned-allowed", tok: goodToken, policy: Policy{AllowUnknownPlatformUnsafe: true, AllowUnknownRealmUnsafe: true, AllowMissingNonceUnsafe: true}},
		{name: "no-nonce", tok: goodToken, refs: sampleRefs},
		{name: "rim-unknown", tok: goodToken, refs: realmRefs(func(r *RealmReference) { r.InitialMeasurement = rep(0x2B, 32) }), nonce: testNonce},
		{name: "rpv-mismatch", tok: goodToken, refs: realmRefs(func(r *RealmReference) { r.PersonalizationValue = rep(0x51, 64) }), nonce: testNonce},
		{name: "rem-mismatch", tok: goodToken, refs: realmRefs(func(r *RealmReference) { r.ExtensibleMeasurements[3] = rep(0xEE, 32) }), nonce: testNonce},
		{name: "stale-nonce", tok: goodToken, refs: sampleRefs, nonce: rep(0x4F, 32)},
		{name: "debug-lifecycle", tok: withPlatformClaims(func(p *platformClaims) { p.Lifecycle = 0x5000 }), refs: sampleRefs, nonce: testNonce},
		{name: "non-cca-debug-lifecycle", tok: withPlatformClaims(func(p *platformClaims) { p.Lifecycle = 0x4001 }), refs: sampleRefs, nonce: testNonce},
		{name: "non-cca-debug-lifecycle-allowed", tok: withPlatformClaims(func(p *platformClaims) { p.Lifecycle = 0x4001 }), refs: sampleRefs, nonce: testNonce,
			policy: Policy{AllowNonCCAPlatformDebugUnsafe: true}},
		{name: "config-mismatch", tok: withPlatformClaims(func(p *platformClaims) { p.Config = []byte{0} }), refs: sampleRefs, nonce: testNonce},
		{name: "firmware-mismatch", tok: withPlatformClaims(func(p *platformClaims) { p.SwComponents[2].MeasurementValue = rep(0x99, 32) }), refs: sampleRefs, nonce: testNonce},
		{name: "signer-mismatch", tok: withPlatformClaims(func(p *platformClaims) { p.SwComponents[2].SignerID = rep(0x99, 32) }), refs: sampleRefs, nonce: testNonce},
		{name: "unknown-implementation", tok: goodToken, refs: func(t testing.TB) *ReferenceValues {
			p := samplePlatformRef()
			p.ImplementationID = rep(0xAB, 32)
			return refValues(t, []PlatformReference{p}, []RealmReference{sampleRealmRef()})
		}, nonce: testNonce},
		{name: "unknown-instance", tok: withPlatformClaims(func(p *platformClaims) { p.InstanceID = append([]byte{1}, rep(0xBC, 32)...) }), refs: sampleRefs, nonce: testNonce},
		{name: "bad-platform-signature", tok: func(t testing.TB) []byte { return resign(t, goodToken(t), 0, other) }, refs: sampleRefs, nonce: testNonce},
		{name: "bad-realm-signature", tok: func(t testing.TB) []byte { return resign(t, goodToken(t), 1, other) }, refs: sampleRefs, nonce: testNonce},
		{name: "malformed", tok: func(testing.TB) []byte { return []byte{0xd9, 0x01, 0x8f, 0xa0} }, refs: sampleRefs, nonce: testNonce},
	}
}

var goldenTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func (s scenario) run(t testing.TB) *Result {
	opts := []Option{WithPolicy(s.policy), WithVerifierIdentity("ccakit-verifier test", "https://github.com/ccakit")}
	if s.refs != nil {
		opts = append(opts, WithReferenceValues(s.refs(t)))
	}
	res := verify(t, newVerifier(t, sampleAnchors(t), opts...), s.tok(t), s.nonce)
	res.Time = goldenTime
	return res
}

func scenarioNamed(t testing.TB, name string) scenario {
	for _, s := range scenarios() {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}

// tv is a trust vector by claim name; claims not listed are 0, no claim.
type tv map[string]ear.TrustClaim

// The platform vector Veraison's arm-cca scheme gives a platform whose
// token verified, with exe and cfg as appraised, ii/rt/st for the
// lifecycle.
func platformTV(lifecycle, cfg, exe ear.TrustClaim) tv {
	v := tv{"instance-identity": lifecycle, "runtime-opaque": lifecycle, "storage-opaque": lifecycle, "hardware": 2}
	if cfg != 0 {
		v["configuration"] = cfg
	}
	if exe != 0 {
		v["executables"] = exe
	}
	return v
}

// earWant is what one scenario's EAR must be: the two submodules, or the
// single ARM_CCA one with its problem.
type earWant struct {
	pStatus, rStatus ear.TrustTier
	p, r             tv
	capped           bool // the realm's status was lowered to the platform's

	problem string // set: the failure shape
	claim   ear.TrustClaim
}

// TestEARVectors pins, for each situation of Veraison's arm-cca scheme
// (veraison/services scheme/arm-cca, vts/trustedservices), the submodules,
// statuses and trust vectors, and the documented departures: a realm never
// above its platform, signer ids compared, a REM mismatch not affirming,
// the lifecycle as the policy decides, no REMs provisioned as approved
// boot.
func TestEARVectors(t *testing.T) {
	good := platformTV(2, 2, 2)
	want := map[string]earWant{
		"trustworthy":                     {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierAffirming, r: tv{"instance-identity": 2, "executables": 2}},
		"trustworthy-boot-only":           {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierAffirming, r: tv{"instance-identity": 2, "executables": 3}},
		"trustworthy-some-rems":           {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierAffirming, r: tv{"instance-identity": 2, "executables": 3}},
		"nothing-provisioned":             {pStatus: ear.TrustTierWarning, p: platformTV(2, 32, 33), rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 33}},
		"nothing-provisioned-allowed":     {pStatus: ear.TrustTierAffirming, p: platformTV(2, 0, 0), rStatus: ear.TrustTierAffirming, r: tv{"instance-identity": 2}},
		"no-nonce":                        {problem: "integrity validation failed: realm freshness: not checked", claim: 99},
		"rim-unknown":                     {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 33}},
		"rpv-mismatch":                    {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierContraindicated, r: tv{"instance-identity": 2, "executables": 96}},
		"rem-mismatch":                    {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 33}},
		"stale-nonce":                     {problem: "integrity validation failed: realm freshness", claim: 99},
		"debug-lifecycle":                 {pStatus: ear.TrustTierContraindicated, p: platformTV(96, 2, 2), rStatus: ear.TrustTierContraindicated, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"non-cca-debug-lifecycle":         {pStatus: ear.TrustTierContraindicated, p: platformTV(96, 2, 2), rStatus: ear.TrustTierContraindicated, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"non-cca-debug-lifecycle-allowed": {pStatus: ear.TrustTierAffirming, p: good, rStatus: ear.TrustTierAffirming, r: tv{"instance-identity": 2, "executables": 2}},
		"config-mismatch":                 {pStatus: ear.TrustTierWarning, p: platformTV(2, 32, 2), rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"firmware-mismatch":               {pStatus: ear.TrustTierWarning, p: platformTV(2, 2, 33), rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"signer-mismatch":                 {pStatus: ear.TrustTierWarning, p: platformTV(2, 2, 33), rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"unknown-implementation":          {pStatus: ear.TrustTierWarning, p: platformTV(2, 32, 33), rStatus: ear.TrustTierWarning, r: tv{"instance-identity": 2, "executables": 2}, capped: true},
		"unknown-instance":                {problem: "no trust anchor for evidence: no trust anchor for instance id 01bcbcbcbcbc", claim: 99},
		"bad-platform-signature":          {problem: "integrity validation failed: platform token", claim: 99},
		"bad-realm-signature":             {problem: "integrity validation failed: realm signature", claim: 99},
		"malformed":                       {problem: "could not establish identity from evidence", claim: 99},
	}
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			w, ok := want[s.name]
			if !ok {
				t.Fatal("no expectation")
			}
			res := s.run(t)
			ar, err := res.EAR()
			if err != nil {
				t.Fatal(err)
			}
			checkEAR(t, ar, w)
			// EAR and the Result agree: affirming exactly when trustworthy.
			if w.problem == "" {
				if (w.pStatus == ear.TrustTierAffirming) != res.Platform.Trustworthy || (w.rStatus == ear.TrustTierAffirming) != res.Realm.Trustworthy {
					t.Errorf("Result: platform %v realm %v; EAR: %v %v", res.Platform.Trustworthy, res.Realm.Trustworthy, w.pStatus, w.rStatus)
				}
			} else if res.Trustworthy {
				t.Error("a failure shape for a trustworthy Result")
			}
		})
	}
}

func checkEAR(t *testing.T, ar *ear.AttestationResult, w earWant) {
	t.Helper()
	if _, err := ar.MarshalJSON(); err != nil { // ear validates as it marshals
		t.Fatalf("ear validation: %v", err)
	}
	if w.problem != "" {
		a := ar.Submods[SubmodFailure]
		if len(ar.Submods) != 1 || a == nil {
			t.Fatalf("submods %v, want %s only", ar.Submods, SubmodFailure)
		}
		if *a.TrustVector != func() ear.TrustVector { var v ear.TrustVector; v.SetAll(w.claim); return v }() {
			t.Errorf("vector %v, want all %d", a.TrustVector.AsMap(), w.claim)
		}
		if want := map[ear.TrustClaim]ear.TrustTier{99: ear.TrustTierContraindicated, -1: ear.TrustTierNone}[w.claim]; *a.Status != want {
			t.Errorf("status %v, want %v", *a.Status, want)
		}
		if a.VeraisonAnnotatedEvidence != nil {
			t.Error("annotated evidence in the failure shape")
		}
		if a.VeraisonPolicyClaims == nil || !strings.HasPrefix(fmt.Sprint((*a.VeraisonPolicyClaims)[PolicyClaimProblem]), w.problem) {
			t.Errorf("policy claims %v, want a problem starting %q", a.VeraisonPolicyClaims, w.problem)
		}
		return
	}
	if len(ar.Submods) != 2 {
		t.Fatalf("submods %v", ar.Submods)
	}
	for _, side := range []struct {
		submod string
		status ear.TrustTier
		tv     tv
		prefix string
	}{{SubmodPlatform, w.pStatus, w.p, "cca-platform-"}, {SubmodRealm, w.rStatus, w.r, "cca-realm-"}} {
		a := ar.Submods[side.submod]
		if a == nil {
			t.Fatalf("no %s", side.submod)
		}
		if *a.Status != side.status {
			t.Errorf("%s status %v, want %v", side.submod, *a.Status, side.status)
		}
		for name, got := range a.TrustVector.AsMap() {
			if got != side.tv[name] {
				t.Errorf("%s %s = %d, want %d", side.submod, name, got, side.tv[name])
			}
		}
		if a.VeraisonAnnotatedEvidence == nil || (*a.VeraisonAnnotatedEvidence)[side.prefix+"profile"] == nil {
			t.Errorf("%s: annotated evidence %v", side.submod, a.VeraisonAnnotatedEvidence)
		}
	}
	ra := ar.Submods[SubmodRealm]
	capped := ra.VeraisonPolicyClaims != nil && (*ra.VeraisonPolicyClaims)[PolicyClaimCappedByPlatform] == w.pStatus.String()
	if capped != w.capped {
		t.Errorf("realm capped %v (%v), want %v", capped, ra.VeraisonPolicyClaims, w.capped)
	}
}

// TestGolden compares the EAR JSON, the Result JSON and the text of every
// scenario with testdata/ (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	ears := map[string]json.RawMessage{}
	results := map[string]*Result{}
	var text strings.Builder
	for _, s := range scenarios() {
		res := s.run(t)
		maskForeign(res)
		e, err := res.EARJSON()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		ears[s.name] = e
		results[s.name] = res
		text.WriteString("== " + s.name + "\n" + res.Text() + "\n")
	}
	for _, g := range []struct {
		file string
		v    any
	}{{"ear.golden.json", ears}, {"result.golden.json", results}, {"result.golden.txt", text.String()}} {
		var got []byte
		if s, ok := g.v.(string); ok {
			got = []byte(s)
		} else {
			var err error
			if got, err = json.MarshalIndent(g.v, "", "  "); err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file (review, then -update):\n%s", path, got)
		}
	}
}

// maskForeign replaces the details that are error messages of the token
// layer (owned elsewhere, worded as its owners like) with a placeholder, so
// that the golden files change only when the verifier's output does.
func maskForeign(res *Result) {
	for _, checks := range [][]Check{res.Platform.Checks, res.Realm.Checks} {
		for i, c := range checks {
			switch c.ID {
			case CheckDecode, CheckClaims, CheckSignature, CheckBinding, CheckFreshness:
				if c.Outcome == Mismatched {
					checks[i].Detail = "<error message of the token layer>"
				}
			}
		}
	}
	// The keys are generated for each run: their traces in the claims are
	// masked too.
	pc, _ := res.Platform.ClaimsJSON()
	rc, _ := res.Realm.ClaimsJSON()
	res.Platform.Claims = maskClaims(pc, "cca-platform-challenge")
	res.Realm.Claims = maskClaims(rc, "cca-realm-public-key")
	res.finish()
}

func maskClaims(raw json.RawMessage, names ...string) json.RawMessage {
	if raw == nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	for _, n := range names {
		m[n] = "<depends on the generated keys>"
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}

// TestEARShape checks the members EAR consumers rely on.
func TestEARShape(t *testing.T) {
	res := scenarios()[0].run(t)
	b, err := res.EARJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["eat_profile"] != "tag:github.com,2023:veraison/ear" || m["iat"] != float64(goldenTime.Unix()) || m["eat_nonce"] != "Tk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk4=" {
		t.Errorf("header members: %v", m)
	}
	vid := m["ear.verifier-id"].(map[string]any)
	if vid["build"] != "ccakit-verifier test" || vid["developer"] != "https://github.com/ccakit" {
		t.Errorf("verifier id %v", vid)
	}
	sub := m["submods"].(map[string]any)
	if len(sub) != 2 || sub[SubmodPlatform] == nil || sub[SubmodRealm] == nil {
		t.Fatalf("submods %v", sub)
	}
	if s := sub[SubmodRealm].(map[string]any)["ear.status"]; s != "affirming" {
		t.Errorf("realm status %v", s)
	}
	// No nonce, no eat_nonce.
	res.Nonce = nil
	b, _ = res.EARJSON()
	if bytes.Contains(b, []byte("eat_nonce")) {
		t.Error("eat_nonce without a nonce")
	}
}

// TestEARJWT signs the EAR with a generated ES256 key and verifies it with
// ear's own verification.
func TestEARJWT(t *testing.T) {
	res := scenarioNamed(t, "rim-unknown").run(t) // a mixed verdict
	res.Time = time.Now().Add(-time.Minute).Truncate(time.Second)
	key := genKey(elliptic.P256())
	jwt, err := res.EARJWT(key)
	if err != nil {
		t.Fatal(err)
	}
	alg, err := JWSAlgorithm(key.Public())
	if err != nil || alg.String() != "ES256" {
		t.Fatalf("alg %v %v", alg, err)
	}
	var got ear.AttestationResult
	if err := got.Verify(jwt, alg, &key.PublicKey); err != nil {
		t.Fatal(err)
	}
	want, _ := res.EAR()
	if *got.Profile != *want.Profile || *got.IssuedAt != *want.IssuedAt || *got.Nonce != *want.Nonce ||
		*got.VerifierID.Build != *want.VerifierID.Build || *got.VerifierID.Developer != *want.VerifierID.Developer {
		t.Errorf("header: got %+v want %+v", got, want)
	}
	for name, w := range want.Submods {
		g := got.Submods[name]
		if g == nil || *g.Status != *w.Status || *g.TrustVector != *w.TrustVector || *g.AppraisalPolicyID != *w.AppraisalPolicyID {
			t.Errorf("submod %s: got %+v want %+v", name, g, w)
		}
	}
	// Another key, or a flipped byte, does not verify.
	if err := got.Verify(jwt, alg, &genKey(elliptic.P256()).PublicKey); err == nil {
		t.Error("verified with another key")
	}
	bad := bytes.Clone(jwt)
	bad[len(bad)/2] ^= 0x01
	if err := got.Verify(bad, alg, &key.PublicKey); err == nil {
		t.Error("verified a modified JWT")
	}
	// ES384 too.
	k384 := genKey(elliptic.P384())
	jwt, err = res.EARJWT(k384)
	if err != nil {
		t.Fatal(err)
	}
	if alg, _ := JWSAlgorithm(k384.Public()); alg.String() != "ES384" || got.Verify(jwt, alg, &k384.PublicKey) != nil {
		t.Error("ES384 round trip")
	}
	if _, err := res.EARJWT(nil); err == nil {
		t.Error("signed without a key")
	}
}

// TestResultJSONRoundTrip: a Result read back from its JSON is the same
// result (hex byte strings, outcomes, checks).
func TestResultJSONRoundTrip(t *testing.T) {
	res := scenarioNamed(t, "config-mismatch").run(t)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if !bytes.Equal(b, b2) || back.Text() != res.Text() {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
}
