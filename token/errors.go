package token

import "errors"

// Error classes. Every error returned for bad evidence wraps exactly one of
// these, so callers can sort failures with errors.Is while the message keeps
// the detail (which claim, which byte, which algorithm).
var (
	// ErrMalformed: the bytes are not well-formed for the format (bad CBOR,
	// wrong or missing tag, duplicate map key, indefinite length, trailing
	// bytes, oversize input, nesting or array length over the limits).
	ErrMalformed = errors.New("malformed")
	// ErrMissingClaim: a mandatory claim is absent.
	ErrMissingClaim = errors.New("missing mandatory claim")
	// ErrSyntax: a claim is present but its type, size or value is wrong.
	ErrSyntax = errors.New("invalid claim")
	// ErrProfile: the profile is unknown, or platform and realm profiles (or
	// the wrapper) belong to different generations.
	ErrProfile = errors.New("wrong profile")
	// ErrAlgorithm: the signature algorithm is not allowed, or does not match
	// the key; or a hash algorithm name is not supported.
	ErrAlgorithm = errors.New("unsupported algorithm")
	// ErrSignature: the COSE_Sign1 signature does not verify.
	ErrSignature = errors.New("signature verification failed")
	// ErrBinding: the platform challenge is not the hash of the realm's RAK
	// claim.
	ErrBinding = errors.New("platform/realm binding mismatch")
	// ErrFreshness: the realm challenge is not the expected nonce.
	ErrFreshness = errors.New("nonce mismatch")
	// ErrKey: key material could not be parsed or is not usable.
	ErrKey = errors.New("invalid key")
)

// Classes returns the error classes, each error of this module for bad
// evidence or keys wraps exactly one of them.
func Classes() []error {
	return []error{ErrMalformed, ErrMissingClaim, ErrSyntax, ErrProfile, ErrAlgorithm,
		ErrSignature, ErrBinding, ErrFreshness, ErrKey}
}
