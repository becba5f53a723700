package verifier

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
)

// appraiseLifecycle applies the policy to the security lifecycle (Arm
// DEN0137 1.0-REL0 A7.2.3.2.4 and draft-ffm-rats-cca-token §4.3.6): only
// secured is trustworthy by default; the debug states may be accepted by an
// Unsafe policy field.
func (v *Verifier) appraiseLifecycle(l platform.Lifecycle) Check {
	c := Check{ID: CheckLifecycle}
	st := l.State()
	switch {
	case st.Trustworthy():
		c.Outcome, c.Detail = Matched, l.String()
	case st == platform.LifecycleNonCCAPlatformDebug && v.policy.AllowNonCCAPlatformDebugUnsafe:
		c.Outcome, c.Detail = Matched, l.String()+"; accepted by AllowNonCCAPlatformDebugUnsafe"
	case st.Debug() && v.policy.AllowDebugLifecycleUnsafe:
		c.Outcome, c.Detail = Matched, l.String()+"; accepted by AllowDebugLifecycleUnsafe"
	case st == platform.LifecycleNonCCAPlatformDebug:
		c.Outcome, c.Detail = Mismatched, l.String()+": debug is enabled outside the CCA platform root of trust (AllowNonCCAPlatformDebugUnsafe accepts it)"
	case st.Debug():
		c.Outcome, c.Detail = Mismatched, l.String()+": the CCA platform root of trust can be debugged"
	default:
		c.Outcome, c.Detail = Mismatched, l.String()+": only the secured state is trustworthy"
	}
	return c
}

// appraisePlatform checks the lifecycle, and the implementation id,
// configuration and software components against the platform reference
// values.
func (v *Verifier) appraisePlatform(ctx context.Context, c *platform.Claims) ([]Check, error) {
	checks := []Check{v.appraiseLifecycle(c.Lifecycle)}
	notChecked := func(why string) []Check {
		checks = append(checks,
			Check{ID: CheckImplementationID, Outcome: NotChecked, Required: !v.policy.AllowUnknownPlatformUnsafe, Detail: why},
			Check{ID: CheckConfig, Outcome: NotChecked, Detail: why})
		for i, sc := range c.SwComponents {
			checks = append(checks, Check{ID: CheckSwComponent, Index: i, Subject: sc.MeasurementType, Outcome: NotChecked, Detail: why})
		}
		return checks
	}
	if v.refs == nil {
		return notChecked("no platform reference values provisioned"), nil
	}
	found, err := v.refs.PlatformReferences(ctx, c.ImplementationID)
	if err != nil {
		return checks, err
	}
	var states []*PlatformReference
	var pool []*PlatformReference
	for i := range found {
		ref := &found[i]
		switch {
		case !bytes.Equal(ref.ImplementationID, c.ImplementationID):
			// the store returned more than needed
		case ref.Match == MatchEachComponent:
			pool = append(pool, ref)
		default:
			states = append(states, ref)
		}
	}
	if len(states) == 0 && len(pool) == 0 {
		return notChecked("no platform reference value for implementation id " + short(c.ImplementationID)), nil
	}
	// Each complete state is one candidate, the pool of endorsed
	// components another.
	var best bestMatch
	for _, ref := range states {
		if best.consider(matchState(c, ref)) {
			return append(checks, best.checks...), nil
		}
	}
	if len(pool) > 0 {
		best.consider(matchPool(c, pool))
	}
	return append(checks, best.checks...), nil
}

// bestMatch keeps, of the appraisals against several candidate reference
// values, the one that matches best: the fewest checks that do not pass,
// the first on a tie.
type bestMatch struct {
	checks []Check
	failed int
	seen   bool
}

// consider offers one candidate's checks and reports whether they all pass
// (no later candidate can do better).
func (b *bestMatch) consider(got []Check) bool {
	failed := 0
	for _, ch := range got {
		if !ch.Passed() {
			failed++
		}
	}
	if !b.seen || failed < b.failed {
		b.checks, b.failed, b.seen = got, failed, true
	}
	return failed == 0
}

// matchState appraises the platform against one complete state.
func matchState(c *platform.Claims, ref *PlatformReference) []Check {
	where := ref.Where
	got := []Check{{ID: CheckImplementationID, Outcome: Matched, Detail: short(c.ImplementationID) + " (reference value " + where + ")"}}
	if bytes.Equal(ref.Config, c.Config) {
		got = append(got, Check{ID: CheckConfig, Outcome: Matched, Detail: short(c.Config)})
	} else {
		got = append(got, Check{ID: CheckConfig, Outcome: Mismatched,
			Detail: fmt.Sprintf("%s is not %s's %s", short(c.Config), where, short(ref.Config))})
	}
	return append(got, matchComponents(c.SwComponents, ref.SwComponents, where)...)
}

// matchComponents pairs the token's software components with the reference
// ones as sets: each token component must equal an unused reference
// component (signer id and measurement value, and the measurement type when
// the reference gives one), and every reference component must be used.
func matchComponents(got []platform.SwComponent, want []SwComponentReference, where string) []Check {
	used := make([]bool, len(want))
	explained := make([]bool, len(want)) // cited by a mismatched component's detail
	var checks []Check
	for i, sc := range got {
		ch := Check{ID: CheckSwComponent, Index: i, Subject: sc.MeasurementType, Outcome: Mismatched}
		for j := range want {
			w := &want[j]
			if !used[j] && (w.Type == "" || w.Type == sc.MeasurementType) &&
				bytes.Equal(w.SignerID, sc.SignerID) && bytes.Equal(w.Value, sc.MeasurementValue) {
				used[j] = true
				ch.Outcome = Matched
				ch.Detail = fmt.Sprintf("measurement-value %s, signer-id %s", short(sc.MeasurementValue), short(sc.SignerID))
				break
			}
		}
		if ch.Outcome == Mismatched {
			var j int
			ch.Detail, j = explainComponent(sc, want, where)
			if j >= 0 {
				explained[j] = true
			}
		}
		checks = append(checks, ch)
	}
	for j, w := range want {
		if used[j] || explained[j] {
			continue
		}
		checks = append(checks, Check{ID: CheckSwComponentAbsent, Subject: w.Type, Outcome: Mismatched,
			Detail: fmt.Sprintf("%s.sw-components[%d] (measurement-value %s) is not in the token", where, j, short(w.Value))})
	}
	return checks
}

// explainComponent says why a token component matched no reference one,
// against the reference component of the same type if there is one (whose
// index it returns, or -1).
func explainComponent(sc platform.SwComponent, want []SwComponentReference, where string) (string, int) {
	for j, w := range want {
		if w.Type == "" || w.Type != sc.MeasurementType {
			continue
		}
		var diffs []string
		if !bytes.Equal(w.Value, sc.MeasurementValue) {
			diffs = append(diffs, fmt.Sprintf("measurement-value %s is not %s", short(sc.MeasurementValue), short(w.Value)))
		}
		if !bytes.Equal(w.SignerID, sc.SignerID) {
			diffs = append(diffs, fmt.Sprintf("signer-id %s is not %s", short(sc.SignerID), short(w.SignerID)))
		}
		if len(diffs) > 0 {
			return strings.Join(diffs, ", ") + fmt.Sprintf(" (%s.sw-components[%d])", where, j), j
		}
	}
	return fmt.Sprintf("measurement-value %s, signer-id %s: no such component in %s", short(sc.MeasurementValue), short(sc.SignerID), where), -1
}

// matchPool appraises the platform against endorsed components, as
// Veraison's arm-cca scheme does: the configuration must equal one the pool
// gives, and every token component must match a pooled component by
// measurement value, and by measurement type and version where the
// endorsement gives them. Unlike Veraison, the signer id is compared too
// (where the endorsement gives one): an image signed by someone else is not
// the endorsed firmware.
func matchPool(c *platform.Claims, pool []*PlatformReference) []Check {
	wheres := make([]string, len(pool))
	for i, ref := range pool {
		wheres[i] = ref.Where
	}
	from := strings.Join(wheres, ", ")
	got := []Check{{ID: CheckImplementationID, Outcome: Matched, Detail: short(c.ImplementationID) + " (endorsed by " + from + ")"}}
	cfg := Check{ID: CheckConfig, Outcome: NotChecked, Required: true, Detail: "no endorsed configuration in " + from}
	for _, ref := range pool {
		switch {
		case ref.Config == nil:
		case bytes.Equal(ref.Config, c.Config):
			cfg = Check{ID: CheckConfig, Outcome: Matched, Detail: short(c.Config)}
		case cfg.Outcome == NotChecked:
			cfg = Check{ID: CheckConfig, Outcome: Mismatched, Detail: fmt.Sprintf("%s is not the configuration endorsed by %s", short(c.Config), from)}
		}
		if cfg.Outcome == Matched {
			break
		}
	}
	got = append(got, cfg)
	for i, sc := range c.SwComponents {
		got = append(got, matchPooled(i, sc, pool, from))
	}
	return got
}

func matchPooled(i int, sc platform.SwComponent, pool []*PlatformReference, from string) Check {
	ch := Check{ID: CheckSwComponent, Index: i, Subject: sc.MeasurementType, Outcome: Mismatched}
	var near string // why a component with this measurement value was not it
	for _, ref := range pool {
		for j, w := range ref.SwComponents {
			if !bytes.Equal(w.Value, sc.MeasurementValue) {
				continue
			}
			var diffs []string
			if w.Type != "" && w.Type != sc.MeasurementType {
				diffs = append(diffs, fmt.Sprintf("measurement type %q is not %q", sc.MeasurementType, w.Type))
			}
			if w.Version != "" && w.Version != sc.Version {
				diffs = append(diffs, fmt.Sprintf("version %q is not %q", sc.Version, w.Version))
			}
			if w.SignerID != nil && !bytes.Equal(w.SignerID, sc.SignerID) {
				diffs = append(diffs, fmt.Sprintf("signer-id %s is not %s", short(sc.SignerID), short(w.SignerID)))
			}
			at := fmt.Sprintf("%s.sw-components[%d]", ref.Where, j)
			if len(diffs) == 0 {
				// The pool is named by the implementation id's check; a
				// match needs no more than the values.
				ch.Outcome = Matched
				ch.Detail = fmt.Sprintf("measurement-value %s, signer-id %s", short(sc.MeasurementValue), short(sc.SignerID))
				if w.SignerID == nil {
					ch.Detail = fmt.Sprintf("measurement-value %s (signer id not compared: %s endorses none)", short(sc.MeasurementValue), at)
				}
				return ch
			}
			if near == "" {
				near = strings.Join(diffs, ", ") + " (" + at + ")"
			}
		}
	}
	ch.Detail = near
	if near == "" {
		ch.Detail = fmt.Sprintf("measurement-value %s is endorsed by none of %s", short(sc.MeasurementValue), from)
	}
	return ch
}

// appraiseRealm checks the RIM, the RPV and the REMs against the realm
// reference values. A RIM selects the reference values; of several with that
// RIM the best matching is reported.
func (v *Verifier) appraiseRealm(ctx context.Context, c *realm.Claims) ([]Check, error) {
	notChecked := func(why string) []Check {
		checks := []Check{
			{ID: CheckInitialMeasurement, Outcome: NotChecked, Required: !v.policy.AllowUnknownRealmUnsafe, Detail: why},
			{ID: CheckPersonalizationValue, Outcome: NotChecked, Detail: why},
		}
		for i := range c.ExtensibleMeasurements {
			checks = append(checks, Check{ID: CheckREM, Index: i, Outcome: NotChecked, Detail: why})
		}
		return checks
	}
	if v.refs == nil {
		return notChecked("no realm reference values provisioned"), nil
	}
	found, err := v.refs.RealmReferences(ctx, c.InitialMeasurement)
	if err != nil {
		return nil, err
	}
	var best bestMatch
	for i := range found {
		ref := &found[i]
		if !bytes.Equal(ref.InitialMeasurement, c.InitialMeasurement) {
			continue // the store returned more than needed
		}
		accepted, ok := v.realmHashAlgorithm(c, ref)
		if ok && best.consider(v.matchRealm(c, ref, accepted)) {
			break
		}
	}
	if !best.seen {
		return notChecked(fmt.Sprintf("no realm reference value for initial measurement %s (%s)", short(c.InitialMeasurement), c.HashAlgID)), nil
	}
	return best.checks, nil
}

// realmHashAlgorithm says whether a reference value with the realm's RIM is
// for the realm's measurement algorithm: when it names none, or the same.
// Under AllowMeasurementSizeMismatchUnsafe a realm's label may be wrong (64
// bytes labelled sha-256: Veraison's test evidence and evcli's template);
// then the reference value's algorithm is the one whose digest size is the
// RIM's, as Veraison's arm-cca scheme, which compares the bytes only,
// matches it (its own end-to-end realm endorsements label that RIM
// sha-512). The stores themselves never accept a mislabelled digest. The
// note says what was accepted, or is "".
func (v *Verifier) realmHashAlgorithm(c *realm.Claims, ref *RealmReference) (note string, ok bool) {
	if ref.HashAlgorithm == "" || ref.HashAlgorithm == c.HashAlgID {
		return "", true
	}
	if !v.policy.AllowMeasurementSizeMismatchUnsafe {
		return "", false
	}
	if size, err := realm.MeasurementSize(ref.HashAlgorithm); err != nil || size != len(c.InitialMeasurement) {
		return "", false
	}
	return fmt.Sprintf("; its %s digest is the token's %d bytes labelled %s: accepted by AllowMeasurementSizeMismatchUnsafe",
		ref.HashAlgorithm, len(c.InitialMeasurement), c.HashAlgID), true
}

// matchRealm appraises the realm against one reference value with its
// RIM; hashNote, if any, says that the measurement algorithm was matched
// by size.
func (v *Verifier) matchRealm(c *realm.Claims, ref *RealmReference, hashNote string) []Check {
	where := ref.Where
	got := []Check{{ID: CheckInitialMeasurement, Outcome: Matched, Detail: short(c.InitialMeasurement) + " (reference value " + where + hashNote + ")"}}
	switch {
	case ref.PersonalizationValue == nil:
		got = append(got, Check{ID: CheckPersonalizationValue, Outcome: NotChecked, Detail: where + " gives no personalization value"})
	case bytes.Equal(ref.PersonalizationValue, c.PersonalizationValue):
		got = append(got, Check{ID: CheckPersonalizationValue, Outcome: Matched, Detail: short(c.PersonalizationValue)})
	default:
		got = append(got, Check{ID: CheckPersonalizationValue, Outcome: Mismatched,
			Detail: fmt.Sprintf("%s is not %s's %s", short(c.PersonalizationValue), where, short(ref.PersonalizationValue))})
	}
	if mc, ok := v.matchMEC(c, ref); ok {
		got = append(got, mc)
	}
	for i, rem := range c.ExtensibleMeasurements {
		var want []byte
		if i < len(ref.ExtensibleMeasurements) {
			want = ref.ExtensibleMeasurements[i]
		}
		switch {
		case want == nil:
			got = append(got, Check{ID: CheckREM, Index: i, Outcome: NotChecked, Required: v.policy.RequireREMs,
				Detail: fmt.Sprintf("%s gives no REM %d", where, i)})
		case bytes.Equal(want, rem):
			got = append(got, Check{ID: CheckREM, Index: i, Outcome: Matched, Detail: short(rem)})
		default:
			got = append(got, Check{ID: CheckREM, Index: i, Outcome: Mismatched,
				Detail: fmt.Sprintf("%s is not %s's %s", short(rem), where, short(want))})
		}
	}
	return got
}

// matchMEC compares the realm's MEC policy with the one the reference value
// pins, by meaning (shared or private), not by form. Without a pinned policy
// there is no check, unless the policy requires one.
func (v *Verifier) matchMEC(c *realm.Claims, ref *RealmReference) (Check, bool) {
	ch := Check{ID: CheckMECPolicy}
	switch {
	case ref.MECPolicy == nil && !v.policy.RequireMECPolicy:
		return ch, false
	case ref.MECPolicy == nil:
		ch.Outcome, ch.Required, ch.Detail = NotChecked, true, ref.Where+" pins no MEC policy"
		return ch, true
	case c.MECPolicy == nil:
		ch.Outcome, ch.Detail = Mismatched, fmt.Sprintf("the realm token carries no MEC policy; %s pins %v", ref.Where, ref.MECPolicy)
		return ch, true
	}
	want, err := ref.MECPolicy.Private()
	if err == nil {
		var got bool
		if got, err = c.MECPolicy.Private(); err == nil && got == want {
			ch.Outcome, ch.Detail = Matched, c.MECPolicy.String()
			return ch, true
		}
	}
	if err != nil {
		return failed(CheckMECPolicy, err), true
	}
	ch.Outcome, ch.Detail = Mismatched, fmt.Sprintf("%v is not %s's %v", c.MECPolicy, ref.Where, ref.MECPolicy)
	return ch, true
}
