package verifier

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/veraison/ear"
)

// EAR submodule names of the two appraisals, as Veraison's CCA scheme
// writes them (token-formats.md §6).
const (
	SubmodPlatform = "CCA_SSD_PLATFORM"
	SubmodRealm    = "CCA_REALM"
)

// EAR renders the result as an EAT Attestation Result (veraison/ear): the
// eat_profile, iat, verifier identity, the nonce, and one appraisal per
// submodule with its status and AR4SI trustworthiness vector. The vector is
// derived from the checks, following Veraison's CCA mapping
// (veraison/docs ar4si/arm-cca.md):
//
// Platform: a decode or claims failure sets every claim to 1 (unexpected
// evidence); a bad signature every claim to 99 (crypto validation failed).
// instance-identity is 2 when a trusted CPAK verified the token, 97
// (unrecognized) when no trust anchor or no reference value knows the
// instance or implementation, 96 (untrustworthy) when the lifecycle is not
// accepted. configuration is 2 when the platform config matched, 96
// (unsupportable) when not. executables is 3 (approved boot) when every
// software component matched, 33 (unrecognized) when one did not. hardware
// is 2 (genuine) when implementation and components matched, 97
// (unrecognized) when either did not.
//
// Realm: if the platform token did not verify, nothing can be said and every
// claim is 0 (no claim). Otherwise a decode or claims failure or mixed
// profiles set every claim to 1, a bad signature or a stale nonce to 99.
// instance-identity is 2 when the binding to the platform holds, 97 when
// not. executables is 2 (approved runtime) when RIM, RPV and REMs matched, 3
// (approved boot) when RIM and RPV matched and the REMs were not checked, 33
// (unrecognized) when the RIM, RPV or a REM did not match.
//
// A check that was not made leaves its claim at 0 (no claim), never at a
// contraindicated value. ear.status is affirming when the side is
// trustworthy; otherwise the worst tier of the vector, at least
// contraindicated when a check failed, and none when the only problem is a
// check the policy requires but could not be made (say, no reference values).
func (r *Result) EAR() (*ear.AttestationResult, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil Result", ErrUsage)
	}
	profile := ear.EatProfile
	iat := r.Time.Unix()
	build, dev := r.Verifier.Build, r.Verifier.Developer
	policy := r.Policy
	ar := &ear.AttestationResult{
		Profile:    &profile,
		IssuedAt:   &iat,
		VerifierID: &ear.VerifierIdentity{Build: &build, Developer: &dev},
		Submods:    map[string]*ear.Appraisal{},
	}
	if r.Nonce != nil {
		// EAT JSON carries byte strings as base64url (EAT §7.2.2); 32..64
		// bytes give the 43..86 characters ear accepts.
		n := base64.RawURLEncoding.EncodeToString(r.Nonce)
		ar.Nonce = &n
	}
	ptv, pstatus := platformVector(&r.Platform)
	rtv, rstatus := realmVector(&r.Realm)
	ar.Submods[SubmodPlatform] = &ear.Appraisal{Status: &pstatus, TrustVector: &ptv, AppraisalPolicyID: &policy}
	ar.Submods[SubmodRealm] = &ear.Appraisal{Status: &rstatus, TrustVector: &rtv, AppraisalPolicyID: &policy}
	return ar, nil
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
// key: ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, PS256 for
// RSA.
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

// outcomes indexes checks by identity; software components and REMs are
// folded into one entry each (the worst of them).
type outcomes map[CheckID]Outcome

func collect(checks []Check) outcomes {
	o := outcomes{}
	for _, c := range checks {
		id := c.ID
		if id == CheckSwComponentAbsent {
			id = CheckSwComponent
		}
		o[id] = worse(o[id], c.Outcome)
	}
	return o
}

func worse(a, b Outcome) Outcome {
	rank := map[Outcome]int{"": 0, Matched: 1, NotChecked: 2, Mismatched: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func platformVector(p *PlatformResult) (ear.TrustVector, ear.TrustTier) {
	var tv ear.TrustVector
	o := collect(p.Checks)
	switch {
	case o[CheckDecode] == Mismatched || o[CheckClaims] == Mismatched:
		tv.SetAll(ear.UnexpectedEvidenceClaim)
	case o[CheckTrustAnchor] == Mismatched:
		tv.InstanceIdentity = ear.UnrecognizedInstanceClaim
	case o[CheckSignature] == Mismatched:
		tv.SetAll(ear.CryptoValidationFailedClaim)
	default:
		tv.InstanceIdentity = ear.TrustworthyInstanceClaim
		switch {
		case o[CheckImplementationID] == Mismatched:
			tv.InstanceIdentity = ear.UnrecognizedInstanceClaim
		case o[CheckLifecycle] == Mismatched:
			tv.InstanceIdentity = ear.UntrustworthyInstanceClaim
		}
		switch o[CheckConfig] {
		case Matched:
			tv.Configuration = ear.ApprovedConfigClaim
		case Mismatched:
			tv.Configuration = ear.UnsupportableConfigClaim
		}
		switch o[CheckSwComponent] {
		case Matched:
			tv.Executables = ear.ApprovedBootClaim
		case Mismatched:
			tv.Executables = ear.UnrecognizedRuntimeClaim
		}
		switch {
		case o[CheckImplementationID] == Mismatched || o[CheckSwComponent] == Mismatched:
			tv.Hardware = ear.UnrecognizedHardwareClaim
		case o[CheckImplementationID] == Matched && o[CheckSwComponent] == Matched:
			tv.Hardware = ear.GenuineHardwareClaim
		}
	}
	return tv, status(tv, p.Trustworthy, p.Checks)
}

func realmVector(r *RealmResult) (ear.TrustVector, ear.TrustTier) {
	var tv ear.TrustVector
	o := collect(r.Checks)
	switch {
	case o[CheckDecode] == Mismatched:
		tv.SetAll(ear.UnexpectedEvidenceClaim)
		return tv, ear.TrustTierContraindicated
	case o[CheckPlatform] != Matched:
		// Veraison's CCA mapping: when the platform does not verify,
		// nothing can be said about the realm.
		return tv, ear.TrustTierNone
	case o[CheckClaims] == Mismatched || o[CheckProfiles] == Mismatched:
		tv.SetAll(ear.UnexpectedEvidenceClaim)
	case o[CheckSignature] == Mismatched || o[CheckFreshness] == Mismatched:
		tv.SetAll(ear.CryptoValidationFailedClaim)
	default:
		tv.InstanceIdentity = ear.TrustworthyInstanceClaim
		if o[CheckBinding] == Mismatched {
			tv.InstanceIdentity = ear.UnrecognizedInstanceClaim
		}
		switch {
		case o[CheckInitialMeasurement] == Mismatched || o[CheckPersonalizationValue] == Mismatched || o[CheckREM] == Mismatched:
			tv.Executables = ear.UnrecognizedRuntimeClaim
		case o[CheckInitialMeasurement] == NotChecked && requiredNotChecked(r.Checks, CheckInitialMeasurement):
			// no reference value for this RIM: unrecognized, as
			// Veraison's arm-cca scheme says
			tv.Executables = ear.UnrecognizedRuntimeClaim
		case o[CheckInitialMeasurement] != Matched:
			// not checked, waived by the policy: no claim
		case o[CheckREM] == Matched:
			tv.Executables = ear.ApprovedRuntimeClaim
		default:
			tv.Executables = ear.ApprovedBootClaim
		}
	}
	return tv, status(tv, r.Trustworthy, r.Checks)
}

func status(tv ear.TrustVector, trustworthy bool, checks []Check) ear.TrustTier {
	if trustworthy {
		return ear.TrustTierAffirming
	}
	worst := ear.TrustTierNone
	for _, c := range []ear.TrustClaim{tv.InstanceIdentity, tv.Configuration, tv.Executables, tv.FileSystem,
		tv.Hardware, tv.RuntimeOpaque, tv.StorageOpaque, tv.SourcedData} {
		if t := c.GetTier(); t > worst {
			worst = t
		}
	}
	if worst >= ear.TrustTierWarning {
		return worst
	}
	for _, c := range checks {
		if c.Outcome == Mismatched {
			return ear.TrustTierContraindicated
		}
	}
	return ear.TrustTierNone
}

func requiredNotChecked(checks []Check, id CheckID) bool {
	for _, c := range checks {
		if c.ID == id && c.Outcome == NotChecked && c.Required {
			return true
		}
	}
	return false
}
