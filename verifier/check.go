package verifier

import (
	"encoding/json"
	"fmt"
)

// CheckID names what a check checks. Results, EAR and the command line
// dispatch on it; its String form is the name shown to people and written
// in JSON results ("sw component", "REM").
type CheckID uint8

// The checks. New ones are only ever added at the end.
const (
	checkNone CheckID = iota

	// CheckDecode: the evidence decodes (collection, COSE_Sign1, claims).
	CheckDecode
	// CheckClaims: a token's claims are valid for its profile.
	CheckClaims
	// CheckTrustAnchor: a usable trust anchor knows the platform instance.
	CheckTrustAnchor
	// CheckSignature: the token's signature verifies (platform: with the
	// trust anchor's CPAK; realm: with the RAK it carries).
	CheckSignature
	// CheckLifecycle: the policy accepts the platform's lifecycle state.
	CheckLifecycle
	// CheckImplementationID: a platform reference value knows the
	// implementation id.
	CheckImplementationID
	// CheckConfig: the platform configuration matches.
	CheckConfig
	// CheckSwComponent: one software component of the token (Check.Index,
	// Check.Subject its measurement type) matches.
	CheckSwComponent
	// CheckSwComponentAbsent: a component a complete-state reference value
	// expects (Check.Subject its type) is not in the token.
	CheckSwComponentAbsent

	// CheckPlatform: the realm's platform token verified (a realm is never
	// vouched for by a platform that is not).
	CheckPlatform
	// CheckProfiles: the platform and realm tokens are a combination real
	// producers emit.
	CheckProfiles
	// CheckBinding: the platform challenge is the hash of the RAK.
	CheckBinding
	// CheckFreshness: the realm challenge is the relying party's nonce.
	CheckFreshness
	// CheckInitialMeasurement: a realm reference value knows the RIM.
	CheckInitialMeasurement
	// CheckPersonalizationValue: the RPV matches.
	CheckPersonalizationValue
	// CheckREM: one REM (Check.Index 0..3) matches.
	CheckREM
	// CheckStoreLookup: a trust-anchor or reference-value store answered
	// (a database that is down does not; Verify then returns an error
	// too).
	CheckStoreLookup
	// CheckMECPolicy: the realm's MEC policy (claim 44243) is the one a
	// reference value pins.
	CheckMECPolicy

	checkEnd
)

var checkNames = [...]string{
	CheckDecode:               "decode",
	CheckClaims:               "claims",
	CheckTrustAnchor:          "trust anchor",
	CheckSignature:            "signature",
	CheckLifecycle:            "lifecycle",
	CheckImplementationID:     "implementation id",
	CheckConfig:               "configuration",
	CheckSwComponent:          "sw component",
	CheckSwComponentAbsent:    "expected sw component",
	CheckPlatform:             "platform",
	CheckProfiles:             "profile coherence",
	CheckBinding:              "binding",
	CheckFreshness:            "freshness",
	CheckInitialMeasurement:   "initial measurement",
	CheckPersonalizationValue: "personalization value",
	CheckREM:                  "REM",
	CheckStoreLookup:          "store lookup",
	CheckMECPolicy:            "MEC policy",
}

func (id CheckID) String() string {
	if id > checkNone && id < checkEnd {
		return checkNames[id]
	}
	return fmt.Sprintf("CheckID(%d)", uint8(id))
}

// indexed reports whether checks of this kind carry an Index.
func (id CheckID) indexed() bool { return id == CheckSwComponent || id == CheckREM }

// MarshalJSON writes the check's name.
func (id CheckID) MarshalJSON() ([]byte, error) {
	if id <= checkNone || id >= checkEnd {
		return nil, fmt.Errorf("%w: no name for %v", ErrUsage, id)
	}
	return json.Marshal(checkNames[id])
}

// UnmarshalJSON reads a check's name.
func (id *CheckID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	for i := checkNone + 1; i < checkEnd; i++ {
		if checkNames[i] == s {
			*id = i
			return nil
		}
	}
	return fmt.Errorf("unknown check %q", s)
}

// Outcome is the outcome of one check. There are exactly three, so that "no
// reference value was provisioned" can never be mistaken for a mismatch
// (veraison/services#265).
type Outcome string

const (
	// Matched: the check was made and passed (for a signature: it
	// verified; for the lifecycle: the policy accepts the state).
	Matched Outcome = "matched"
	// Mismatched: the check was made and failed.
	Mismatched Outcome = "mismatched"
	// NotChecked: the check could not be made, typically because no
	// reference value is provisioned for it. Check.Required says whether
	// the policy makes that a failure.
	NotChecked Outcome = "not-checked"
)

// UnmarshalJSON reads one of the three outcomes: a check read back from
// JSON with another (a typo, a newer writer) would neither pass nor fail
// as its writer meant, so it is refused.
func (o *Outcome) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	switch Outcome(s) {
	case Matched, Mismatched, NotChecked:
		*o = Outcome(s)
		return nil
	}
	return fmt.Errorf("unknown outcome %q (want %q, %q or %q)", s, Matched, Mismatched, NotChecked)
}

// Check is one check of the platform or the realm.
type Check struct {
	ID CheckID `json:"check"`
	// Index numbers the software component (CheckSwComponent) or the REM
	// (CheckREM) checked; 0 for other checks.
	Index int `json:"index"`
	// Subject is the software component's measurement type
	// (CheckSwComponent, CheckSwComponentAbsent), as the token or the
	// reference value says it: attacker-controlled text, escaped by every
	// renderer of this package.
	Subject string  `json:"component-type,omitempty"`
	Outcome Outcome `json:"outcome"`
	// Required is set on a not-checked check that the policy requires: the
	// reason the result is not trustworthy is then a missing reference
	// value or nonce, not a mismatch.
	Required bool `json:"required,omitempty"`
	// Detail says what was compared, or why not. Parts of it come from
	// the evidence and the stores: escape it before showing it.
	Detail string `json:"detail,omitempty"`

	err error // what decided a failure, for Err
}

// Err returns the error a failed check came from, which wraps one of the
// token layer's error classes (errors.Is(c.Err(), token.ErrSignature), and
// token.Classes lists them all), or nil: for a check that passed, one that
// compares values with reference values or the policy, or a Check read
// back from JSON.
func (c Check) Err() error { return c.err }

// Name is the check's display name: the CheckID's name, with the index and
// the component type of a software component ("sw component #1 RMM") or the
// index of a REM ("REM 2"). The Subject part is not escaped.
func (c Check) Name() string {
	switch c.ID {
	case CheckSwComponent:
		return withSubject(fmt.Sprintf("%v #%d", c.ID, c.Index), c.Subject)
	case CheckSwComponentAbsent:
		return withSubject(c.ID.String(), c.Subject)
	case CheckREM:
		return fmt.Sprintf("%v %d", c.ID, c.Index)
	}
	return c.ID.String()
}

// DetailText is the detail as the text renderings show it: for a check not
// made, prefixed with "not checked: " or, when the policy requires it,
// "not checked (required by the policy): ". It is not escaped.
func (c Check) DetailText() string {
	switch {
	case c.Outcome == NotChecked && c.Required:
		return "not checked (required by the policy): " + c.Detail
	case c.Outcome == NotChecked:
		return "not checked: " + c.Detail
	}
	return c.Detail
}

// withSubject appends the subject as it is (not trimmed: a name must not
// hide what the token says).
func withSubject(name, subject string) string {
	if subject == "" {
		return name
	}
	return name + " " + subject
}

// Passed reports whether the check lets the result be trustworthy.
func (c Check) Passed() bool {
	return c.Outcome == Matched || (c.Outcome == NotChecked && !c.Required)
}

// MarshalJSON writes the index only for the checks that have one.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	if c.ID.indexed() {
		return json.Marshal(plain(c))
	}
	return json.Marshal(struct {
		plain
		Index int `json:"index,omitempty"`
	}{plain: plain(c)})
}
