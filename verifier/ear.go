package verifier

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/veraison/ear"
)

// EAR submodule names, as Veraison's arm-cca scheme writes them
// (veraison/services scheme/arm-cca/scheme.go).
const (
	// SubmodPlatform appraises the platform token.
	SubmodPlatform = "CCA_SSD_PLATFORM"
	// SubmodRealm appraises the realm token.
	SubmodRealm = "CCA_REALM"
	// SubmodFailure is the one submodule of a result whose evidence could
	// not be verified at all (undecodable, no trust anchor, a bad
	// signature, binding or nonce) or whose verifier failed.
	SubmodFailure = "ARM_CCA"
)

// EARPolicyID is ear.appraisal-policy-id under the default Policy:
// Veraison's id for its arm-cca scheme policy. Another Policy gives
// EARPolicyID + "/" + Policy.ID(), in the form Veraison uses for a
// tenant's policy.
const EARPolicyID = "policy:ARM_CCA"

// Keys of ear.veraison.policy-claims.
const (
	// PolicyClaimProblem says why the evidence failed (SubmodFailure), as
	// Veraison's "problem".
	PolicyClaimProblem = "problem"
	// PolicyClaimCappedByPlatform is set on a realm appraisal whose status
	// was lowered to its platform's: its value is the platform's status.
	PolicyClaimCappedByPlatform = "ccakit.realm-capped-by-platform"
)

// EAR renders the result as an EAT Attestation Result (veraison/ear) in
// the shape Veraison's arm-cca scheme produces; see "EAR" in the package
// documentation for the trust vector of each situation and the documented
// departures.
func (r *Result) EAR() (*ear.AttestationResult, error) { return r.ear(true) }

// UnannotatedEAR is EAR without ear.veraison.annotated-evidence, for a
// caller that writes each token's claims (PlatformResult.ClaimsJSON,
// RealmResult.ClaimsJSON) into its encoding of the EAR itself: EAR decodes
// them into the maps veraison/ear encodes, which costs more than the rest
// of the EAR (the verification service signs one per session).
func (r *Result) UnannotatedEAR() (*ear.AttestationResult, error) { return r.ear(false) }

func (r *Result) ear(annotated bool) (*ear.AttestationResult, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil Result", ErrUsage)
	}
	profile := ear.EatProfile
	iat := r.Time.Unix()
	build, dev := r.Verifier.Build, r.Verifier.Developer
	ar := &ear.AttestationResult{
		Profile:    &profile,
		IssuedAt:   &iat,
		VerifierID: &ear.VerifierIdentity{Build: &build, Developer: &dev},
		Submods:    map[string]*ear.Appraisal{},
	}
	if r.Nonce != nil {
		// Veraison writes the session nonce as padded base64url
		// (vts/trustedservices); 32..64 bytes give 44..88 characters.
		n := base64.URLEncoding.EncodeToString(r.Nonce)
		ar.Nonce = &n
	}
	policy := earPolicyID(r.Policy)
	if problem, internal := r.failure(); problem != "" {
		var tv ear.TrustVector
		claim := ear.CryptoValidationFailedClaim
		if internal {
			claim = ear.VerifierMalfunctionClaim
		}
		tv.SetAll(claim)
		status := worstTier(tv)
		claims := map[string]any{PolicyClaimProblem: problem}
		a := &ear.Appraisal{Status: &status, TrustVector: &tv, AppraisalPolicyID: &policy}
		a.VeraisonPolicyClaims = &claims
		ar.Submods[SubmodFailure] = a
		return ar, nil
	}
	ptv := platformVector(&r.Platform)
	pstatus := worstTier(ptv)
	pa := &ear.Appraisal{Status: &pstatus, TrustVector: &ptv, AppraisalPolicyID: &policy}
	if err := annotate(annotated, pa, r.Platform.ClaimsJSON); err != nil {
		return nil, err
	}
	ar.Submods[SubmodPlatform] = pa
	if r.Realm.Absent {
		return ar, nil
	}
	rtv := realmVector(&r.Realm)
	rstatus := worstTier(rtv)
	ra := &ear.Appraisal{Status: &rstatus, TrustVector: &rtv, AppraisalPolicyID: &policy}
	if pstatus > rstatus {
		// A realm is never above its platform: a relying party that gates
		// on CCA_REALM alone must not trust a realm vouched for by a
		// platform that is not (Veraison leaves the realm affirming).
		rstatus = pstatus
		claims := map[string]any{PolicyClaimCappedByPlatform: pstatus.String()}
		ra.VeraisonPolicyClaims = &claims
	}
	if err := annotate(annotated, ra, r.Realm.ClaimsJSON); err != nil {
		return nil, err
	}
	ar.Submods[SubmodRealm] = ra
	return ar, nil
}

func earPolicyID(id string) string {
	if id == "" || id == DefaultPolicyID {
		return EARPolicyID
	}
	return EARPolicyID + "/" + id
}

// annotate sets ear.veraison.annotated-evidence: the token's claims in
// their evcli JSON form, as Veraison annotates each submodule.
func annotate(annotated bool, a *ear.Appraisal, render func() (json.RawMessage, error)) error {
	if !annotated {
		return nil
	}
	claims, err := render()
	if err != nil {
		return err
	}
	if len(claims) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(claims, &m); err != nil {
		return fmt.Errorf("%w: the result's claims are not a JSON object: %v", ErrUsage, err)
	}
	a.VeraisonAnnotatedEvidence = &m
	return nil
}

// failure says whether the evidence failed before appraisal, as Veraison's
// arm-cca scheme reports it with a single ARM_CCA appraisal, and why
// (its problem strings: vts/trustedservices). internal is set for a store
// that did not answer (Veraison's "internal error").
func (r *Result) failure() (problem string, internal bool) {
	for _, c := range r.Platform.Checks {
		if c.Passed() {
			continue
		}
		switch c.ID {
		case CheckStoreLookup:
			return "internal error: " + c.Detail, true
		case CheckDecode, CheckClaims:
			return "could not establish identity from evidence: " + c.Detail, false
		case CheckTrustAnchor:
			return "no trust anchor for evidence: " + c.Detail, false
		case CheckProfiles:
			return "integrity validation failed: platform profile coherence: " + c.Detail, false
		case CheckSignature:
			return "integrity validation failed: platform token: " + c.Detail, false
		}
	}
	for _, c := range r.Realm.Checks {
		if c.Passed() {
			continue
		}
		switch c.ID {
		case CheckStoreLookup:
			return "internal error: " + c.Detail, true
		case CheckClaims, CheckProfiles, CheckSignature, CheckBinding, CheckFreshness:
			what := c.Detail
			if c.Outcome == NotChecked {
				what = "not checked, and the policy requires it: " + what
			}
			return fmt.Sprintf("integrity validation failed: realm %s: %s", c.ID, what), false
		}
	}
	return "", false
}

// EARJSON is the EAR as JSON (unsigned), as ear marshals it.
func (r *Result) EARJSON() ([]byte, error) {
	ar, err := r.EAR()
	if err != nil {
		return nil, err
	}
	return ar.MarshalJSON()
}

// EARJWT is the EAR signed as a JWT with key, the algorithm following the
// key: ES256/ES384/ES512 for P-256/P-384/P-521 (Veraison's services sign
// with ES256), EdDSA for Ed25519, PS256 for RSA.
func (r *Result) EARJWT(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrUsage)
	}
	alg, err := JWSAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	ar, err := r.EAR()
	if err != nil {
		return nil, err
	}
	return ar.Sign(alg, key)
}

// JWSAlgorithm is the JWS algorithm EARJWT uses with a key of this type, for
// a relying party that verifies the EAR (ear.AttestationResult.Verify).
func JWSAlgorithm(pub crypto.PublicKey) (jwa.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jwa.ES256, nil
		case elliptic.P384():
			return jwa.ES384, nil
		case elliptic.P521():
			return jwa.ES512, nil
		}
	case ed25519.PublicKey:
		return jwa.EdDSA, nil
	case *rsa.PublicKey:
		return jwa.PS256, nil
	}
	return "", fmt.Errorf("%w: no JWS algorithm for a %T key", ErrUsage, pub)
}

// verdict is the combined outcome of the checks with one identity: the
// worst of them, and whether a not-checked one is required.
type verdict struct {
	outcome  Outcome // "" when there is no such check
	required bool    // a required check was not made
}

func (v verdict) matched() bool { return v.outcome == Matched }

// failed: a mismatch, or a required check that could not be made.
func (v verdict) failed() bool { return v.outcome == Mismatched || v.required }

func verdicts(checks []Check) map[CheckID]verdict {
	rank := map[Outcome]int{"": 0, Matched: 1, NotChecked: 2, Mismatched: 3}
	m := map[CheckID]verdict{}
	for _, c := range checks {
		id := c.ID
		if id == CheckSwComponentAbsent {
			id = CheckSwComponent
		}
		v := m[id]
		if rank[c.Outcome] > rank[v.outcome] {
			v.outcome = c.Outcome
		}
		if c.Outcome == NotChecked && c.Required {
			v.required = true
		}
		m[id] = v
	}
	return m
}

// platformVector is Veraison's vector for a platform whose token verified:
// hardware 2; instance identity, runtime and storage 2 when the policy
// accepts the lifecycle, 96 when not; configuration 2 when it matched, 32
// when it did not or could not be checked; executables 2 when every
// software component matched, 33 when one did not or could not be checked.
// A check the policy waives (AllowUnknownPlatformUnsafe) leaves its claim at
// 0, no claim.
func platformVector(p *PlatformResult) ear.TrustVector {
	var tv ear.TrustVector
	v := verdicts(p.Checks)
	tv.Hardware = ear.GenuineHardwareClaim
	tv.InstanceIdentity = ear.TrustworthyInstanceClaim
	tv.RuntimeOpaque = ear.EncryptedMemoryRuntimeClaim
	tv.StorageOpaque = ear.HwKeysEncryptedSecretsClaim
	if v[CheckLifecycle].outcome != Matched {
		tv.InstanceIdentity = ear.UntrustworthyInstanceClaim
		tv.RuntimeOpaque = ear.VisibleMemoryRuntimeClaim
		tv.StorageOpaque = ear.UnencryptedSecretsClaim
	}
	// No reference value for the implementation: configuration and
	// firmware are unrecognized (Veraison: "no platform RVs").
	unknown := v[CheckImplementationID].required
	switch {
	case v[CheckConfig].matched() && !unknown:
		tv.Configuration = ear.ApprovedConfigClaim
	case v[CheckConfig].failed() || unknown:
		tv.Configuration = ear.UnsafeConfigClaim
	}
	switch {
	case v[CheckSwComponent].failed() || unknown:
		tv.Executables = ear.UnrecognizedRuntimeClaim
	case v[CheckSwComponent].matched() || (v[CheckSwComponent].outcome == "" && v[CheckImplementationID].matched()):
		tv.Executables = ear.ApprovedRuntimeClaim
	}
	return tv
}

// realmVector is Veraison's vector for a realm whose token verified,
// bound to a platform token that verified: instance identity 2;
// executables 2 when the RIM, the RPV (when given) and all four REMs
// matched, 3 (approved boot) when REMs were not all given, 33 when no
// reference value knows the RIM, 96 when the RPV differs. Departure: a REM
// that a reference value gives and the realm does not have is 33, where
// Veraison gives 3 and leaves the realm affirming.
func realmVector(r *RealmResult) ear.TrustVector {
	var tv ear.TrustVector
	v := verdicts(r.Checks)
	tv.InstanceIdentity = ear.TrustworthyInstanceClaim
	rim, rpv, rem := v[CheckInitialMeasurement], v[CheckPersonalizationValue], v[CheckREM]
	// ccakit's extension: a MEC policy a reference value pins is the
	// realm's configuration (Veraison does not appraise it).
	switch mec := v[CheckMECPolicy]; {
	case mec.failed():
		tv.Configuration = ear.UnsafeConfigClaim
	case mec.matched():
		tv.Configuration = ear.ApprovedConfigClaim
	}
	switch {
	case rim.required:
		tv.Executables = ear.UnrecognizedRuntimeClaim
	case !rim.matched():
		// waived by the policy (AllowUnknownRealmUnsafe): no claim
	case rpv.failed():
		tv.Executables = ear.ContraindicatedRuntimeClaim
	case rem.failed():
		tv.Executables = ear.UnrecognizedRuntimeClaim
	case rem.matched() || rem.outcome == "":
		tv.Executables = ear.ApprovedRuntimeClaim
	default:
		tv.Executables = ear.ApprovedBootClaim
	}
	return tv
}

// worstTier is the status Veraison derives from a vector: the worst tier
// of its claims.
func worstTier(tv ear.TrustVector) ear.TrustTier {
	worst := ear.TrustTierNone
	for _, c := range []ear.TrustClaim{tv.InstanceIdentity, tv.Configuration, tv.Executables, tv.FileSystem,
		tv.Hardware, tv.RuntimeOpaque, tv.StorageOpaque, tv.SourcedData} {
		if t := c.GetTier(); t > worst {
			worst = t
		}
	}
	return worst
}
