package verifier

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
)

// Result is the verdict on one piece of evidence: trustworthy or not, why,
// and every check of the platform and of the realm. It serialises to JSON as
// is, and renders as EAR (EAR, EARJWT) and as text (Text).
type Result struct {
	// Trustworthy is true when the platform and the realm both are.
	Trustworthy bool `json:"trustworthy"`
	// Reasons lists, one each, every check that failed. They quote the
	// evidence and the stores (a component type as the token writes it)
	// and are not escaped: a hostile token can put a newline or a terminal
	// escape sequence in one. Escape them before printing them (Text does
	// for its own rendering).
	Reasons []string `json:"reasons,omitempty"`
	// Format describes the evidence's wrapper and generations.
	Format string `json:"format,omitempty"`
	// Nonce is the relying party's nonce as given to Verify (not padded).
	Nonce    HexBytes         `json:"nonce,omitempty"`
	Policy   string           `json:"policy"`
	Verifier VerifierIdentity `json:"verifier"`
	Time     time.Time        `json:"time"`
	Platform PlatformResult   `json:"platform"`
	Realm    RealmResult      `json:"realm"`
}

// VerifierIdentity is the AR4SI verifier identity that EAR results carry.
type VerifierIdentity struct {
	Build     string `json:"build"`
	Developer string `json:"developer"`
}

// PlatformResult is the platform's part of a Result: what the platform token
// says and the checks made on it. Field names follow the reference-value
// store, so that values can be copied into one.
type PlatformResult struct {
	Trustworthy      bool               `json:"trustworthy"`
	Profile          string             `json:"profile,omitempty"`
	InstanceID       HexBytes           `json:"instance-id,omitempty"`
	ImplementationID HexBytes           `json:"implementation-id,omitempty"`
	Lifecycle        platform.Lifecycle `json:"lifecycle"`
	LifecycleState   string             `json:"lifecycle-state,omitempty"`
	Config           HexBytes           `json:"platform-configuration,omitempty"`
	SwComponents     []SwComponent      `json:"sw-components,omitempty"`
	// Key describes the CPAK the token was verified with.
	Key string `json:"cpak,omitempty"`
	// Cached is set when this platform token's signature had been
	// verified with this key before and was not verified again.
	Cached bool `json:"cached,omitempty"`
	// Claims are all the token's claims in their evcli JSON form (EAR's
	// ear.veraison.annotated-evidence), once the token decoded. Verify
	// leaves the field empty and ClaimsJSON renders them when asked (the
	// JSON encoding of a Result and EAR do), so that a verification does
	// not pay for a rendering nobody reads; a Result read back from JSON
	// has them here.
	Claims json.RawMessage `json:"claims,omitempty"`
	Checks []Check         `json:"checks"`

	decoded *platform.Claims
	// claims renders decoded once for every Result of this token (the
	// platform cache's entry); nil without the cache.
	claims *claimsMemo
}

// SwComponent is a software component as the platform token reports it.
type SwComponent struct {
	Type     string   `json:"measurement-type,omitempty"`
	Value    HexBytes `json:"measurement-value"`
	SignerID HexBytes `json:"signer-id"`
	Version  string   `json:"version,omitempty"`
}

// RealmResult is the realm's part of a Result.
type RealmResult struct {
	Trustworthy bool `json:"trustworthy"`
	// Absent is set when the evidence is a bare platform token: there is
	// no realm, nothing is said about one, and Trustworthy is false.
	Absent                 bool       `json:"absent,omitempty"`
	Profile                string     `json:"profile,omitempty"`
	HashAlgorithm          string     `json:"hash-algo,omitempty"`
	InitialMeasurement     HexBytes   `json:"initial-measurement,omitempty"`
	PersonalizationValue   HexBytes   `json:"personalization-value,omitempty"`
	ExtensibleMeasurements []HexBytes `json:"extensible-measurements,omitempty"`
	// InstanceID is the realm instance id (claim 256) of a 2.0 realm
	// token, and MECPolicy its MEC policy (claim 44243) as carried.
	InstanceID HexBytes         `json:"realm-instance-id,omitempty"`
	MECPolicy  *realm.MECPolicy `json:"mec-policy,omitempty"`
	// Claims are all the token's claims in their evcli JSON form, as for
	// PlatformResult.Claims.
	Claims json.RawMessage `json:"claims,omitempty"`
	Checks []Check         `json:"checks"`

	decoded *realm.Claims
}

// ClaimsJSON returns the platform token's claims in their evcli JSON form,
// or nil when the token did not decode.
//
// With the platform cache, the JSON is rendered once per platform token, for
// every Result of that token.
func (p *PlatformResult) ClaimsJSON() (json.RawMessage, error) {
	if p.Claims == nil && p.decoded != nil && p.claims != nil {
		return p.claims.render(p.decoded)
	}
	return claimsJSON(p.Claims, p.decoded)
}

// ClaimsJSON returns the realm token's claims in their evcli JSON form, or
// nil when the token did not decode or there is no realm.
func (r *RealmResult) ClaimsJSON() (json.RawMessage, error) {
	return claimsJSON(r.Claims, r.decoded)
}

func claimsJSON[C any](have json.RawMessage, decoded *C) (json.RawMessage, error) {
	if have != nil || decoded == nil {
		return have, nil
	}
	return json.Marshal(decoded)
}

// MarshalJSON writes the platform result with its claims.
func (p PlatformResult) MarshalJSON() ([]byte, error) {
	type plain PlatformResult
	var err error
	if p.Claims, err = p.ClaimsJSON(); err != nil {
		return nil, err
	}
	return json.Marshal(plain(p))
}

// MarshalJSON writes the realm result with its claims.
func (r RealmResult) MarshalJSON() ([]byte, error) {
	type plain RealmResult
	var err error
	if r.Claims, err = r.ClaimsJSON(); err != nil {
		return nil, err
	}
	return json.Marshal(plain(r))
}

// Check returns the platform check id (index: of the software component;
// 0 for other checks).
func (p *PlatformResult) Check(id CheckID, index int) (Check, bool) {
	return findCheck(p.Checks, id, index)
}

// Check returns the realm check id (index: of the REM; 0 for other
// checks).
func (r *RealmResult) Check(id CheckID, index int) (Check, bool) {
	return findCheck(r.Checks, id, index)
}

func findCheck(checks []Check, id CheckID, index int) (Check, bool) {
	for _, c := range checks {
		if c.ID == id && c.Index == index {
			return c, true
		}
	}
	return Check{}, false
}

func allPassed(checks []Check) bool {
	if len(checks) == 0 {
		return false
	}
	for _, c := range checks {
		if !c.Passed() {
			return false
		}
	}
	return true
}

// finish sets the verdicts and the reasons from the checks.
func (r *Result) finish() {
	r.Platform.Trustworthy = allPassed(r.Platform.Checks)
	r.Realm.Trustworthy = allPassed(r.Realm.Checks)
	r.Trustworthy = r.Platform.Trustworthy && r.Realm.Trustworthy
	if r.Realm.Absent {
		// A bare platform token: its verdict is the platform's, and
		// fresh only as the policy allows (the realm's one check); there
		// is no realm to trust.
		r.Realm.Trustworthy = false
	}
	r.Reasons = nil
	for _, f := range r.Failures() {
		what := f.Detail
		if f.Outcome == NotChecked {
			what = "not checked, and the policy requires it: " + f.Detail
		}
		r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s: %s", f.Side, f.Name(), what))
	}
}

// Failure is a check that keeps a result from being trustworthy, and the
// side it is of: "platform" or "realm".
type Failure struct {
	Side string
	Check
}

// Failures lists the checks that did not pass, one per entry of Reasons and
// in its order: the realm's copies of the platform's verdict (its
// CheckPlatform, a decode failure) are left out, the platform's own
// failures saying why.
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

// Reason is the first reason the result is not trustworthy, or ""; like
// Reasons, not escaped.
func (r *Result) Reason() string {
	if len(r.Reasons) == 0 {
		return ""
	}
	return r.Reasons[0]
}

// Text renders the result for a terminal: the verdict, then one line per
// check, marked ✓ matched, ✗ mismatched, – not checked. Every string that
// came from the evidence or a store (a component type, a detail quoting a
// claim) is escaped (newlines, terminal escape sequences, bidirectional
// controls), so that no token can print a line of its own.
func (r *Result) Text() string {
	var b strings.Builder
	verdict := "TRUSTWORTHY"
	if !r.Trustworthy {
		verdict = "NOT TRUSTWORTHY"
	}
	fmt.Fprintf(&b, "%s (policy %s)\n", verdict, textsafe.Escape(r.Policy))
	if r.Format != "" {
		fmt.Fprintf(&b, "evidence: %s\n", textsafe.Escape(r.Format))
	}
	state := map[bool]string{true: "trustworthy", false: "not trustworthy"}
	side := func(header string, checks []Check) {
		b.WriteString(header + "\n")
		names := make([]string, len(checks))
		width := 0
		for i, c := range checks {
			names[i] = textsafe.Escape(c.Name())
			width = max(width, utf8.RuneCountInString(names[i]))
		}
		for i, c := range checks {
			mark := map[Outcome]string{Matched: "✓", Mismatched: "✗", NotChecked: "–"}[c.Outcome]
			pad := strings.Repeat(" ", width-utf8.RuneCountInString(names[i]))
			fmt.Fprintf(&b, "  %s %s%s  %s\n", mark, names[i], pad, textsafe.Escape(c.DetailText()))
		}
	}
	side("platform: "+state[r.Platform.Trustworthy], r.Platform.Checks)
	if r.Realm.Absent {
		side("realm: none (a bare platform token)", r.Realm.Checks)
	} else {
		side("realm: "+state[r.Realm.Trustworthy], r.Realm.Checks)
	}
	return b.String()
}
