package evidence

import (
	"crypto"
	"errors"
	"fmt"

	cose "github.com/veraison/go-cose"

	"github.com/ccakit/cca/token"
)

// The primitives of this package and of token, chained in the order a
// verifier runs them, so that each bad case can say which primitive must
// refuse it and with which error class. The verifier package's Verify is
// the one production chain; its tests assert the same classes per check.

// leg names one step of the chain.
type leg string

const (
	legDecode            leg = "decode"             // Decode
	legValidate          leg = "claims"             // Evidence.Validate
	legPlatformSignature leg = "platform signature" // PlatformSign1.Verify with the CPAK
	legRealmSignature    leg = "realm signature"    // Realm.RAK, RealmSign1.Verify with it
	legBinding           leg = "binding"            // token.CheckBinding
	legFreshness         leg = "freshness"          // token.CheckFreshness
)

// legOptions tune the chain: the validation options, the nonce (nil: no
// freshness step) and the signature algorithms allowed.
type legOptions struct {
	ValidateOptions
	Nonce      []byte
	Algorithms []cose.Algorithm
}

// legError is the failure of one step.
type legError struct {
	leg leg
	err error
}

func (e *legError) Error() string { return string(e.leg) + ": " + e.err.Error() }
func (e *legError) Unwrap() error { return e.err }

// failedLeg is the step an error of runLegs failed in, or "".
func failedLeg(err error) leg {
	var le *legError
	if errors.As(err, &le) {
		return le.leg
	}
	return ""
}

// runLegs runs the steps after Decode on decoded evidence.
func runLegs(e *Evidence, cpak crypto.PublicKey, opts legOptions) error {
	if err := e.Validate(opts.ValidateOptions); err != nil {
		return &legError{legValidate, err}
	}
	if err := e.PlatformSign1.Verify(cpak, opts.Algorithms); err != nil {
		return &legError{legPlatformSignature, fmt.Errorf("platform token: %w", err)}
	}
	rak, err := e.Realm.RAK()
	if err != nil {
		return &legError{legRealmSignature, err}
	}
	if err := e.RealmSign1.Verify(rak, opts.Algorithms); err != nil {
		return &legError{legRealmSignature, fmt.Errorf("realm token: %w", err)}
	}
	if err := token.CheckBinding(e.Platform.Challenge, e.Realm.PubKeyHashAlgID, e.Realm.PubKey); err != nil {
		return &legError{legBinding, err}
	}
	if opts.Nonce != nil {
		if err := token.CheckFreshness(e.Realm.Challenge, opts.Nonce); err != nil {
			return &legError{legFreshness, err}
		}
	}
	return nil
}

// decodeAndRunLegs is Decode followed by runLegs.
func decodeAndRunLegs(data []byte, cpak crypto.PublicKey, opts legOptions) (*Evidence, error) {
	e, err := Decode(data)
	if err != nil {
		return nil, &legError{legDecode, err}
	}
	return e, runLegs(e, cpak, opts)
}
