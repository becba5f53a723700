package verifier

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Verifier decides whether to trust a CCA realm from its evidence. Its
// configuration is fixed by New; it is safe for concurrent use (as long as
// its stores are).
type Verifier struct {
	anchors  TrustAnchorStore
	refs     ReferenceValueStore // nil: none provisioned
	policy   Policy
	policyID string
	id       VerifierIdentity
	cache    *platformCache // nil: disabled
}

// Option configures a Verifier.
type Option func(*Verifier) error

// WithReferenceValues sets the reference values the evidence is appraised
// against: a ReferenceValues, a CoRIM store, the relying party's database,
// or several of them combined (CombineReferenceValues). Without them nothing
// is checked against reference values, and the default policy then finds
// neither platform nor realm trustworthy.
func WithReferenceValues(rv ReferenceValueStore) Option {
	return func(v *Verifier) error {
		if isNil(rv) {
			return fmt.Errorf("%w: WithReferenceValues(nil)", ErrUsage)
		}
		v.refs = rv
		return nil
	}
}

// WithPolicy sets the policy; without it the zero Policy (the safe default)
// applies.
func WithPolicy(p Policy) Option {
	return func(v *Verifier) error {
		v.policy = p.clone()
		return nil
	}
}

// WithPlatformCacheSize bounds the platform-signature cache (entries); 0
// disables it. The default is DefaultPlatformCacheSize.
func WithPlatformCacheSize(n int) Option {
	return func(v *Verifier) error {
		if n < 0 {
			return fmt.Errorf("%w: negative cache size %d", ErrUsage, n)
		}
		v.cache = newPlatformCache(n)
		return nil
	}
}

// WithVerifierIdentity sets the AR4SI verifier identity written into results
// (EAR's ear.verifier-id). The default names this package and its module
// version.
func WithVerifierIdentity(build, developer string) Option {
	return func(v *Verifier) error {
		if build == "" || developer == "" {
			return fmt.Errorf("%w: empty verifier identity", ErrUsage)
		}
		v.id = VerifierIdentity{Build: build, Developer: developer}
		return nil
	}
}

// New returns a Verifier that trusts the platform keys trustAnchors gives:
// a TrustAnchors, a CoRIM store, the relying party's database, or several
// of them combined (CombineTrustAnchors).
func New(trustAnchors TrustAnchorStore, opts ...Option) (*Verifier, error) {
	if isNil(trustAnchors) {
		return nil, fmt.Errorf("%w: no trust anchors", ErrUsage)
	}
	v := &Verifier{anchors: trustAnchors, id: defaultIdentity(), cache: newPlatformCache(DefaultPlatformCacheSize)}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrUsage)
		}
		if err := o(v); err != nil {
			return nil, err
		}
	}
	v.policyID = v.policy.ID()
	return v, nil
}

// isNil reports whether a store is nil, also as a typed nil pointer.
func isNil(s any) bool {
	switch t := s.(type) {
	case nil:
		return true
	case *TrustAnchors:
		return t == nil
	case *ReferenceValues:
		return t == nil
	}
	return false
}

func defaultIdentity() VerifierIdentity {
	const module = "github.com/ccakit/cca"
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == module && bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == module && d.Version != "" {
				version = d.Version
			}
		}
	}
	return VerifierIdentity{Build: module + "/verifier " + version, Developer: "https://github.com/ccakit"}
}

// Verify verifies and appraises CCA evidence (a tag 399 or 907 collection,
// or a bare platform token) for the relying party's nonce: a 32..64-byte nonce, zero-padded to the
// 64-byte realm challenge as Linux's configfs-tsm does; nil means freshness
// is not checked, which the default policy does not accept.
//
// Problems with the evidence are reported in the Result, never as an error.
// The error is for misuse (a nonce of the wrong size), a cancelled context,
// or a store that failed to answer (ErrLookup): in that last case the Result
// is returned too, not trustworthy, its CheckStoreLookup saying which store
// failed, so that a service can still answer with it.
func (v *Verifier) Verify(ctx context.Context, tok []byte, nonce []byte) (*Result, error) {
	if v == nil || v.anchors == nil {
		return nil, fmt.Errorf("%w: Verify on a Verifier not made by New", ErrUsage)
	}
	if ctx == nil {
		return nil, fmt.Errorf("%w: nil context", ErrUsage)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if nonce != nil {
		if _, err := token.PadNonce(nonce); err != nil {
			return nil, fmt.Errorf("%w: nonce of %d bytes: it must be %d to %d bytes, or nil to skip the freshness check",
				ErrUsage, len(nonce), token.MinNonceSize, token.ChallengeSize)
		}
	}
	res := &Result{
		Policy:   v.policyID,
		Verifier: v.id,
		Time:     time.Now().UTC().Truncate(time.Second),
		Nonce:    cloneBytes(nonce),
	}
	e, err := evidence.Decode(tok)
	if err != nil {
		c := failed(CheckDecode, err)
		res.Platform.Checks = []Check{c}
		res.Realm.Checks = []Check{c}
		res.finish()
		return res, nil
	}
	res.Format = e.Kind().String()
	var lookupErr error
	res.Platform, lookupErr = v.verifyPlatform(ctx, e)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case lookupErr != nil:
	case e.Realm == nil || e.RealmSign1 == nil:
		res.Realm = v.noRealm(nonce)
	default:
		res.Realm, lookupErr = v.verifyRealm(ctx, e, &res.Platform, nonce)
	}
	res.finish()
	if lookupErr != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return res, lookupErr
	}
	return res, nil
}

// lookupFailed records a store failure as a check and returns the error
// Verify returns.
func lookupFailed(checks *[]Check, what string, err error) error {
	err = fmt.Errorf("%s: %w", what, err)
	*checks = append(*checks, failed(CheckStoreLookup, err))
	return fmt.Errorf("%w: %w", ErrLookup, err)
}

// verifyPlatform runs the platform checks: claims, trust anchor, signature
// (from the cache when exactly this platform token verified with one of the
// anchors' keys before), lifecycle and reference values.
func (v *Verifier) verifyPlatform(ctx context.Context, e *evidence.Evidence) (PlatformResult, error) {
	c := e.Platform
	pr := describePlatform(c)
	pr.decoded = c
	add := func(id CheckID, o Outcome, detail string) {
		pr.Checks = append(pr.Checks, Check{ID: id, Outcome: o, Detail: detail})
	}
	if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: v.policy.RejectUnknownClaims}); err != nil {
		pr.Checks = append(pr.Checks, failed(CheckClaims, err))
		return pr, nil
	}
	add(CheckClaims, Matched, "valid "+c.Profile+" claims")
	if e.Realm == nil {
		// A bare platform token: its profile must be one real platform
		// firmware emits (the realm's check, for a collection).
		pc := v.profileCheck(e.Kind())
		pr.Checks = append(pr.Checks, pc)
		if !pc.Passed() {
			return pr, nil
		}
	}

	found, err := v.anchors.TrustAnchors(ctx, c.InstanceID, c.ImplementationID)
	if err != nil {
		return pr, lookupFailed(&pr.Checks, "trust anchors", err)
	}
	usable, why := selectAnchors(found, c.InstanceID, c.ImplementationID)
	if len(usable) == 0 {
		add(CheckTrustAnchor, Mismatched, why)
		return pr, nil
	}
	add(CheckTrustAnchor, Matched, describeAnchors(usable))

	keys := make([]crypto.PublicKey, len(usable))
	for i, a := range usable {
		keys[i] = a.Key
	}
	digest := tokenDigest(e.Collection.Platform)
	signer := v.cache.verifiedBy(digest, e.Collection.Platform, keys)
	pr.Cached = signer >= 0
	if signer < 0 {
		var errs []string
		var first error
		for i, a := range usable {
			err := e.PlatformSign1.Verify(a.Key, v.policy.Algorithms)
			if err == nil {
				signer = i
				v.cache.put(digest, e.Collection.Platform, a.Key)
				break
			}
			if first == nil {
				first = err
			}
			msg := err.Error()
			if len(usable) > 1 {
				msg = a.Where + ": " + msg
			}
			errs = append(errs, msg)
		}
		if signer < 0 {
			c := failed(CheckSignature, first)
			c.Detail = strings.Join(errs, "; ")
			pr.Checks = append(pr.Checks, c)
			return pr, nil
		}
	}
	pr.claims = v.cache.memo(digest, e.Collection.Platform)
	pr.Key = token.DescribeKey(usable[signer].Key)
	detail := e.PlatformSign1.Alg.String() + " signature verified"
	if len(usable) > 1 {
		detail += " with " + usable[signer].Where
	}
	add(CheckSignature, Matched, detail)

	checks, err := v.appraisePlatform(ctx, c)
	pr.Checks = append(pr.Checks, checks...)
	if err != nil {
		return pr, lookupFailed(&pr.Checks, "platform reference values", err)
	}
	return pr, nil
}

// selectAnchors keeps the usable anchors for this instance and
// implementation; when there is none it says why, naming every entry that
// was meant for this platform and could not be used.
func selectAnchors(found []TrustAnchor, instanceID, implID []byte) ([]TrustAnchor, string) {
	var usable []TrustAnchor
	var why []string
	for _, a := range found {
		switch {
		case a.InstanceID != nil && !bytes.Equal(a.InstanceID, instanceID):
			// not for this instance: the store returned more than needed
		case a.ImplementationID != nil && !bytes.Equal(a.ImplementationID, implID):
			why = append(why, fmt.Sprintf("the trust anchor %s is for implementation id %s, the token says %s",
				a.Where, short(a.ImplementationID), short(implID)))
		case a.Unusable != nil:
			why = append(why, fmt.Sprintf("the trust anchor %s for this instance is unusable: %v", a.Where, a.Unusable))
		case a.Key == nil:
			why = append(why, fmt.Sprintf("the trust anchor %s for this instance has no key", a.Where))
		default:
			usable = append(usable, a)
		}
	}
	if len(usable) == 0 && len(why) == 0 {
		why = append(why, "no trust anchor for instance id "+short(instanceID))
	}
	return usable, strings.Join(why, "; ")
}

func describeAnchors(usable []TrustAnchor) string {
	a := usable[0]
	s := "CPAK " + token.DescribeKey(a.Key)
	if a.InstanceID == nil {
		s += ", trusted for any instance"
	} else {
		s += " for instance id " + short(a.InstanceID)
	}
	if a.Where != "" && a.InstanceID != nil {
		s += " (" + a.Where + ")"
	}
	if len(usable) > 1 {
		s += fmt.Sprintf(", and %d more", len(usable)-1)
	}
	return s
}

func describePlatform(c *platform.Claims) PlatformResult {
	pr := PlatformResult{
		Profile:          c.Profile,
		InstanceID:       cloneBytes(c.InstanceID),
		ImplementationID: cloneBytes(c.ImplementationID),
		Lifecycle:        c.Lifecycle,
		LifecycleState:   c.Lifecycle.State().String(),
		Config:           cloneBytes(c.Config),
	}
	for _, sc := range c.SwComponents {
		pr.SwComponents = append(pr.SwComponents, SwComponent{
			Type: sc.MeasurementType, Value: cloneBytes(sc.MeasurementValue), SignerID: cloneBytes(sc.SignerID), Version: sc.Version,
		})
	}
	return pr
}

// platformAuthenticated reports whether the platform token's claims are
// valid and signed by a trusted key, whatever the appraisal says.
func platformAuthenticated(pr *PlatformResult) bool {
	n := 0
	for _, c := range pr.Checks {
		switch c.ID {
		case CheckClaims, CheckTrustAnchor, CheckSignature:
			if c.Outcome != Matched {
				return false
			}
			n++
		}
	}
	return n == 3
}

// profileCheck says whether the shape of the evidence (the pairing of its
// profiles, whatever the wrapper) is one real producers emit
// (evidence.Kind.Coherent); the draft shapes no producer emits and the
// opt-in pairings pass only under their Unsafe policy fields.
func (v *Verifier) profileCheck(k evidence.Kind) Check {
	ok := Check{ID: CheckProfiles, Outcome: Matched, Detail: k.String()}
	err := k.Err()
	switch {
	case err == nil:
		return ok
	case k.Draft() && v.policy.AllowDraftProfilesUnsafe:
		ok.Detail += "; a draft shape, accepted by AllowDraftProfilesUnsafe"
		return ok
	case k.Draft():
		return failed(CheckProfiles, fmt.Errorf("%w (AllowDraftProfilesUnsafe accepts it)", err))
	case v.policy.AllowMixedProfilesUnsafe:
		ok.Detail += "; accepted by AllowMixedProfilesUnsafe"
		return ok
	}
	return failed(CheckProfiles, err)
}

// hashSize is the digest size of a hash algorithm name, or 0.
func hashSize(name string) int {
	n, err := realm.MeasurementSize(name)
	if err != nil {
		return 0
	}
	return n
}

// noRealm is the realm side of a bare platform token (as TF-A, TF-RMM and
// tf-m-tools ship it): there is no realm, and nothing in a platform token
// is the relying party's nonce, so it is fresh only under a policy that
// does not ask for freshness; a nonce given is not in it.
func (v *Verifier) noRealm(nonce []byte) RealmResult {
	c := Check{ID: CheckFreshness, Outcome: NotChecked, Required: !v.policy.AllowMissingNonceUnsafe,
		Detail: "a bare platform token: no realm token carries a nonce, so it may be a replay"}
	if nonce != nil {
		c = Check{ID: CheckFreshness, Outcome: Mismatched, Detail: "a nonce was given, but a bare platform token has no realm token to carry it"}
	}
	return RealmResult{Absent: true, Checks: []Check{c}}
}

func (v *Verifier) verifyRealm(ctx context.Context, e *evidence.Evidence, pr *PlatformResult, nonce []byte) (RealmResult, error) {
	c := e.Realm
	rr := RealmResult{
		InstanceID:           cloneBytes(c.InstanceID),
		MECPolicy:            c.MECPolicy,
		Profile:              c.Profile,
		HashAlgorithm:        c.HashAlgID,
		InitialMeasurement:   cloneBytes(c.InitialMeasurement),
		PersonalizationValue: cloneBytes(c.PersonalizationValue),
	}
	for _, rem := range c.ExtensibleMeasurements {
		rr.ExtensibleMeasurements = append(rr.ExtensibleMeasurements, cloneBytes(rem))
	}
	rr.decoded = c
	add := func(id CheckID, o Outcome, detail string) {
		rr.Checks = append(rr.Checks, Check{ID: id, Outcome: o, Detail: detail})
	}

	switch {
	case !platformAuthenticated(pr):
		add(CheckPlatform, Mismatched, "the platform token did not verify, so nothing vouches for this realm")
	case !allPassed(pr.Checks):
		// The platform's own failure decides the outcome: a mismatch, or
		// a check its policy requires and could not make.
		o := NotChecked
		for _, c := range pr.Checks {
			if c.Outcome == Mismatched {
				o = Mismatched
			}
		}
		rr.Checks = append(rr.Checks, Check{ID: CheckPlatform, Outcome: o, Required: o == NotChecked,
			Detail: "the platform is not trustworthy, and a realm is never trusted above its platform"})
	default:
		add(CheckPlatform, Matched, "the platform token is signed by a trusted CPAK and the platform is trustworthy")
	}
	rak, err := c.ValidateRAK(realm.ValidateOptions{RejectUnknownClaims: v.policy.RejectUnknownClaims,
		AllowMeasurementSizeMismatch: v.policy.AllowMeasurementSizeMismatchUnsafe})
	if err != nil {
		rr.Checks = append(rr.Checks, failed(CheckClaims, err))
		return rr, nil
	}
	profile := c.Profile
	if profile == "" {
		profile = "legacy (profile-less)"
	}
	detail := "valid " + profile + " claims"
	if v.policy.AllowMeasurementSizeMismatchUnsafe && len(c.InitialMeasurement) != hashSize(c.HashAlgID) {
		detail += fmt.Sprintf("; %d-byte measurements labelled %s accepted by AllowMeasurementSizeMismatchUnsafe", len(c.InitialMeasurement), c.HashAlgID)
	}
	add(CheckClaims, Matched, detail)
	rr.Checks = append(rr.Checks, v.profileCheck(e.Kind()))
	if err := e.RealmSign1.Verify(rak, v.policy.Algorithms); err != nil {
		rr.Checks = append(rr.Checks, failed(CheckSignature, err))
		return rr, nil
	}
	add(CheckSignature, Matched, e.RealmSign1.Alg.String()+" signature verified with the RAK ("+token.DescribeKey(rak)+")")
	// The platform claim that binds the RAK: the challenge (10), or the
	// workload binding (2408) of the draft-ffm-rats-cca-token-04 2026
	// profiles, which forbid claim 10 there (§4.3.3.10).
	bindingKey, binding := e.Platform.BindingClaim()
	if err := token.CheckBinding(binding, c.PubKeyHashAlgID, c.PubKey); err != nil {
		rr.Checks = append(rr.Checks, failed(CheckBinding, err))
	} else if bindingKey == token.KeyChallenge {
		add(CheckBinding, Matched, "platform challenge = "+c.PubKeyHashAlgID+"(RAK)")
	} else {
		add(CheckBinding, Matched, fmt.Sprintf("platform workload binding (claim %d) = %s(RAK)", bindingKey, c.PubKeyHashAlgID))
	}
	switch {
	case nonce == nil:
		rr.Checks = append(rr.Checks, Check{ID: CheckFreshness, Outcome: NotChecked, Required: !v.policy.AllowMissingNonceUnsafe,
			Detail: "no nonce given: the token may be a replay"})
	default:
		if err := token.CheckFreshness(c.Challenge, nonce); err != nil {
			rr.Checks = append(rr.Checks, failed(CheckFreshness, err))
		} else {
			add(CheckFreshness, Matched, "realm challenge = nonce")
		}
	}
	checks, err := v.appraiseRealm(ctx, c)
	rr.Checks = append(rr.Checks, checks...)
	if err != nil {
		return rr, lookupFailed(&rr.Checks, "realm reference values", err)
	}
	return rr, nil
}

// failed is a mismatched check that an error decided.
func failed(id CheckID, err error) Check {
	return Check{ID: id, Outcome: Mismatched, Detail: err.Error(), err: err}
}
