// Package verifytest verifies tokens in the tests of other packages (the
// emulator's) the way a relying party does, with the verifier, when all
// that is known is the platform key and the nonce: every signature, the
// binding and freshness are checked; the platform's and the realm's
// measurements are not, since no reference values are given.
package verifytest

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/verifier"
)

// ErrUntrustworthy is returned when a check failed without an error of its
// own (the lifecycle, say).
var ErrUntrustworthy = errors.New("not trustworthy")

// Verify verifies tok with the CPAK cpak, trusted for any instance, and the
// nonce, and returns the decoded evidence for the test to look into. On
// failure the error wraps the failing check's error (a token error class)
// and lists every reason.
func Verify(tok []byte, cpak crypto.PublicKey, nonce []byte) (*evidence.Evidence, error) {
	return VerifyWith(tok, cpak, nonce, verifier.Policy{})
}

// VerifyWith is Verify under policy p (RejectUnknownClaims, say), to which
// it adds the waivers for the missing reference values.
func VerifyWith(tok []byte, cpak crypto.PublicKey, nonce []byte, p verifier.Policy) (*evidence.Evidence, error) {
	anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{Key: cpak})
	if err != nil {
		return nil, err
	}
	p.AllowUnknownPlatformUnsafe = true // no platform reference values here
	p.AllowUnknownRealmUnsafe = true    // nor realm ones
	v, err := verifier.New(anchors, verifier.WithPolicy(p))
	if err != nil {
		return nil, err
	}
	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		return nil, err
	}
	if !res.Trustworthy {
		cause := ErrUntrustworthy
		for _, c := range append(res.Platform.Checks, res.Realm.Checks...) {
			if c.Err() != nil {
				cause = c.Err()
				break
			}
		}
		return nil, fmt.Errorf("%w (%s)", cause, strings.Join(res.Reasons, "; "))
	}
	return evidence.Decode(tok)
}
