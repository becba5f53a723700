package verifier

// Failure is a check that did not pass, and the side it is of.
type Failure struct {
	// Side is "platform" or "realm".
	Side string
	Check
}

// Failures lists the checks that did not pass, the platform's first, one
// for each of Reasons and in its order. The realm's copies of the
// platform's verdict (its platform check, a decode failure) are left out:
// the platform's own failures already say why.
func (r *Result) Failures() []Failure {
	var out []Failure
	for _, side := range []struct {
		name   string
		checks []Check
	}{{"platform", r.Platform.Checks}, {"realm", r.Realm.Checks}} {
		for _, c := range side.checks {
			if c.Passed() || (side.name == "realm" && (c.ID == CheckPlatform || c.ID == CheckDecode)) {
				continue
			}
			out = append(out, Failure{side.name, c})
		}
	}
	return out
}
