package verifier

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Verifier decides whether to trust a CCA realm from its evidence. Its
// configuration is fixed by New; it is safe for concurrent use.
type Verifier struct {
	anchors  *TrustAnchors
	refs     *ReferenceValues // nil: none provisioned
	policy   Policy
	policyID string
	id       VerifierIdentity
	cache    *platformCache // nil: disabled
}

// Option configures a Verifier.
type Option func(*Verifier) error

// WithReferenceValues sets the reference values the evidence is appraised
// against. Without them nothing is checked against reference values, and the
// default policy then finds neither platform nor realm trustworthy.
func WithReferenceValues(rv *ReferenceValues) Option {
	return func(v *Verifier) error {
		if rv == nil {
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

// WithPlatformCacheSize bounds the platform-result cache (entries); 0
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

// New returns a Verifier that trusts the platform keys in trustAnchors.
func New(trustAnchors *TrustAnchors, opts ...Option) (*Verifier, error) {
	if trustAnchors == nil || trustAnchors.Len() == 0 {
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

// Verify verifies and appraises CCA evidence (a tag 399 or 907 collection)
// for the relying party's nonce: a 32..64-byte nonce, zero-padded to the
// 64-byte realm challenge as Linux's configfs-tsm does; nil means freshness
// is not checked, which the default policy does not accept.
//
// Problems with the evidence are reported in the Result, never as an error.
// The error is for misuse (a nonce of the wrong size) or a cancelled context.
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
		c := Check{Name: CheckDecode, Outcome: Mismatched, Detail: err.Error()}
		res.Platform.Checks = []Check{c}
		res.Realm.Checks = []Check{c}
		res.finish()
		return res, nil
	}
	res.Format = e.Kind().String()
	res.Platform = v.verifyPlatform(e)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Realm = v.verifyRealm(e, &res.Platform, nonce)
	res.finish()
	return res, nil
}

// verifyPlatform runs the platform legs and appraisal, or takes them from
// the cache when exactly this platform token was verified with the same key
// before.
func (v *Verifier) verifyPlatform(e *evidence.Evidence) PlatformResult {
	c := e.Platform
	a, why := v.anchors.lookup(c.InstanceID, c.ImplementationID)
	var key cacheKey
	if a != nil && v.cache != nil {
		key = makeCacheKey(e.Collection.Platform, a.keyDigest)
		if r, ok := v.cache.get(key, e.Collection.Platform); ok {
			r.Cached = true
			return r
		}
	}
	pr := describePlatform(c)
	if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: v.policy.RejectUnknownClaims}); err != nil {
		pr.Checks = append(pr.Checks, Check{Name: CheckClaims, Outcome: Mismatched, Detail: err.Error()})
		return pr
	}
	pr.Checks = append(pr.Checks, Check{Name: CheckClaims, Outcome: Matched, Detail: "valid " + c.Profile + " claims"})
	if a == nil {
		pr.Checks = append(pr.Checks, Check{Name: CheckTrustAnchor, Outcome: Mismatched, Detail: why})
		return pr
	}
	pr.Key = a.desc
	detail := "CPAK " + a.desc
	if a.InstanceID == nil {
		detail += ", trusted for any instance"
	} else {
		detail += " for instance id " + short(a.InstanceID)
	}
	pr.Checks = append(pr.Checks, Check{Name: CheckTrustAnchor, Outcome: Matched, Detail: detail})
	if err := e.PlatformSign1.Verify(a.Key, v.policy.Algorithms); err != nil {
		pr.Checks = append(pr.Checks, Check{Name: CheckSignature, Outcome: Mismatched, Detail: err.Error()})
		return pr
	}
	pr.Checks = append(pr.Checks, Check{Name: CheckSignature, Outcome: Matched, Detail: e.PlatformSign1.Alg.String() + " signature verified"})
	pr.Checks = append(pr.Checks, v.appraisePlatform(c)...)
	pr.Trustworthy = allPassed(pr.Checks)
	v.cache.put(key, e.Collection.Platform, &pr)
	return pr
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
		switch c.Name {
		case CheckClaims, CheckTrustAnchor, CheckSignature:
			if c.Outcome != Matched {
				return false
			}
			n++
		}
	}
	return n == 3
}

func (v *Verifier) verifyRealm(e *evidence.Evidence, pr *PlatformResult, nonce []byte) RealmResult {
	c := e.Realm
	rr := RealmResult{
		Profile:              c.Profile,
		HashAlgorithm:        c.HashAlgID,
		InitialMeasurement:   cloneBytes(c.InitialMeasurement),
		PersonalizationValue: cloneBytes(c.PersonalizationValue),
	}
	for _, rem := range c.ExtensibleMeasurements {
		rr.ExtensibleMeasurements = append(rr.ExtensibleMeasurements, cloneBytes(rem))
	}
	add := func(name string, o Outcome, detail string) {
		rr.Checks = append(rr.Checks, Check{Name: name, Outcome: o, Detail: detail})
	}

	if platformAuthenticated(pr) {
		add(CheckPlatform, Matched, "the platform token is signed by a trusted CPAK")
	} else {
		add(CheckPlatform, Mismatched, "the platform token did not verify, so nothing vouches for this realm")
	}
	if err := c.Validate(realm.ValidateOptions{RejectUnknownClaims: v.policy.RejectUnknownClaims}); err != nil {
		add(CheckClaims, Mismatched, err.Error())
		return rr
	}
	profile := c.Profile
	if profile == "" {
		profile = "legacy (profile-less)"
	}
	add(CheckClaims, Matched, "valid "+profile+" claims")
	switch k := e.Kind(); {
	case k.Coherent():
		add(CheckProfiles, Matched, k.String())
	case v.policy.AllowMixedProfilesUnsafe:
		add(CheckProfiles, Matched, k.String()+"; accepted by AllowMixedProfilesUnsafe")
	default:
		add(CheckProfiles, Mismatched, k.String())
	}
	rak, err := c.RAK()
	if err == nil {
		err = e.RealmSign1.Verify(rak, v.policy.Algorithms)
	}
	if err != nil {
		add(CheckSignature, Mismatched, err.Error())
		return rr
	}
	add(CheckSignature, Matched, e.RealmSign1.Alg.String()+" signature verified with the RAK ("+token.DescribeKey(rak)+")")
	if err := token.CheckBinding(e.Platform.Challenge, c.PubKeyHashAlgID, c.PubKey); err != nil {
		add(CheckBinding, Mismatched, err.Error())
	} else {
		add(CheckBinding, Matched, "platform challenge = "+c.PubKeyHashAlgID+"(RAK)")
	}
	switch {
	case nonce == nil:
		rr.Checks = append(rr.Checks, Check{Name: CheckFreshness, Outcome: NotChecked, Required: !v.policy.AllowMissingNonceUnsafe,
			Detail: "no nonce given: the token may be a replay"})
	default:
		if err := token.CheckFreshness(c.Challenge, nonce); err != nil {
			add(CheckFreshness, Mismatched, err.Error())
		} else {
			add(CheckFreshness, Matched, "realm challenge = nonce")
		}
	}
	rr.Checks = append(rr.Checks, v.appraiseRealm(c)...)
	return rr
}
