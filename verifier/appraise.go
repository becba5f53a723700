package verifier

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
)

// appraiseLifecycle applies the policy to the security lifecycle
// (token-formats.md §3): only secured is trustworthy by default; the debug
// states may be accepted by an Unsafe policy field.
func (v *Verifier) appraiseLifecycle(l platform.Lifecycle) Check {
	c := Check{Name: CheckLifecycle}
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
func (v *Verifier) appraisePlatform(c *platform.Claims) []Check {
	checks := []Check{v.appraiseLifecycle(c.Lifecycle)}
	nPlatform, _ := v.refs.Len()
	if nPlatform == 0 {
		const why = "no platform reference values provisioned"
		checks = append(checks,
			Check{Name: CheckImplementationID, Outcome: NotChecked, Required: !v.policy.AllowUnknownPlatformUnsafe, Detail: why},
			Check{Name: CheckConfig, Outcome: NotChecked, Detail: why})
		for i, sc := range c.SwComponents {
			checks = append(checks, Check{Name: swName(i, sc.MeasurementType), Outcome: NotChecked, Detail: why})
		}
		return checks
	}
	candidates := v.refs.byImpl[string(c.ImplementationID)]
	if len(candidates) == 0 {
		const why = "no platform reference value for this implementation"
		checks = append(checks,
			Check{Name: CheckImplementationID, Outcome: Mismatched,
				Detail: fmt.Sprintf("%s is not among the %d provisioned platform reference values", short(c.ImplementationID), nPlatform)},
			Check{Name: CheckConfig, Outcome: NotChecked, Detail: why})
		for i, sc := range c.SwComponents {
			checks = append(checks, Check{Name: swName(i, sc.MeasurementType), Outcome: NotChecked, Detail: why})
		}
		return checks
	}
	// Each reference value is one complete acceptable state; report
	// against the one that matches best (the first, on a tie).
	var best []Check
	bestMis := -1
	for _, idx := range candidates {
		ref := &v.refs.platform[idx]
		where := fmt.Sprintf("platform[%d]", idx)
		got := []Check{{Name: CheckImplementationID, Outcome: Matched, Detail: short(c.ImplementationID) + " (reference value " + where + ")"}}
		if bytes.Equal(ref.Config, c.Config) {
			got = append(got, Check{Name: CheckConfig, Outcome: Matched, Detail: short(c.Config)})
		} else {
			got = append(got, Check{Name: CheckConfig, Outcome: Mismatched,
				Detail: fmt.Sprintf("%s is not %s's %s", short(c.Config), where, short(ref.Config))})
		}
		got = append(got, matchComponents(c.SwComponents, ref.SwComponents, where)...)
		mis := 0
		for _, ch := range got {
			if ch.Outcome == Mismatched {
				mis++
			}
		}
		if bestMis < 0 || mis < bestMis {
			best, bestMis = got, mis
		}
		if mis == 0 {
			break
		}
	}
	return append(checks, best...)
}

func swName(i int, typ string) string {
	return strings.TrimSpace(fmt.Sprintf("%s #%d %s", CheckSwComponent, i, typ))
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
		ch := Check{Name: swName(i, sc.MeasurementType), Outcome: Mismatched}
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
		name := strings.TrimSpace(CheckSwComponentAbsent + " " + w.Type)
		checks = append(checks, Check{Name: name, Outcome: Mismatched,
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

// appraiseRealm checks the RIM, the RPV and the REMs against the realm
// reference values. A RIM selects the reference values; of several with that
// RIM the best matching is reported.
func (v *Verifier) appraiseRealm(c *realm.Claims) []Check {
	_, nRealm := v.refs.Len()
	notChecked := func(why string, rimRequired bool) []Check {
		checks := []Check{
			{Name: CheckInitialMeasurement, Outcome: NotChecked, Required: rimRequired, Detail: why},
			{Name: CheckPersonalizationValue, Outcome: NotChecked, Detail: why},
		}
		for i := range c.ExtensibleMeasurements {
			checks = append(checks, Check{Name: remName(i), Outcome: NotChecked, Detail: why})
		}
		return checks
	}
	if nRealm == 0 {
		return notChecked("no realm reference values provisioned", !v.policy.AllowUnknownRealmUnsafe)
	}
	var candidates []int
	for _, idx := range v.refs.byRIM[string(c.InitialMeasurement)] {
		if h := v.refs.realm[idx].HashAlgorithm; h == "" || h == c.HashAlgID {
			candidates = append(candidates, idx)
		}
	}
	if len(candidates) == 0 {
		checks := notChecked("no realm reference value for this initial measurement", false)
		checks[0] = Check{Name: CheckInitialMeasurement, Outcome: Mismatched,
			Detail: fmt.Sprintf("%s (%s) is not among the %d provisioned realm reference values", short(c.InitialMeasurement), c.HashAlgID, nRealm)}
		return checks
	}
	var best []Check
	bestMis := -1
	for _, idx := range candidates {
		ref := &v.refs.realm[idx]
		where := fmt.Sprintf("realm[%d]", idx)
		got := []Check{{Name: CheckInitialMeasurement, Outcome: Matched, Detail: short(c.InitialMeasurement) + " (reference value " + where + ")"}}
		switch {
		case ref.PersonalizationValue == nil:
			got = append(got, Check{Name: CheckPersonalizationValue, Outcome: NotChecked, Detail: where + " gives no personalization value"})
		case bytes.Equal(ref.PersonalizationValue, c.PersonalizationValue):
			got = append(got, Check{Name: CheckPersonalizationValue, Outcome: Matched, Detail: short(c.PersonalizationValue)})
		default:
			got = append(got, Check{Name: CheckPersonalizationValue, Outcome: Mismatched,
				Detail: fmt.Sprintf("%s is not %s's %s", short(c.PersonalizationValue), where, short(ref.PersonalizationValue))})
		}
		for i, rem := range c.ExtensibleMeasurements {
			switch {
			case ref.ExtensibleMeasurements == nil:
				got = append(got, Check{Name: remName(i), Outcome: NotChecked, Required: v.policy.RequireREMs,
					Detail: where + " gives no extensible measurements"})
			case bytes.Equal(ref.ExtensibleMeasurements[i], rem):
				got = append(got, Check{Name: remName(i), Outcome: Matched, Detail: short(rem)})
			default:
				got = append(got, Check{Name: remName(i), Outcome: Mismatched,
					Detail: fmt.Sprintf("%s is not %s's %s", short(rem), where, short(ref.ExtensibleMeasurements[i]))})
			}
		}
		mis := 0
		for _, ch := range got {
			if !ch.Passed() {
				mis++
			}
		}
		if bestMis < 0 || mis < bestMis {
			best, bestMis = got, mis
		}
		if mis == 0 {
			break
		}
	}
	return best
}

func remName(i int) string { return fmt.Sprintf("%s %d", CheckREM, i) }
