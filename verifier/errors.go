package verifier

import "errors"

// Errors returned by this package. Problems with the evidence itself are
// never errors: they are reported in the Result (Trustworthy false, with the
// failing checks and reasons). Errors are for a malformed store, a misused
// API or an internal failure.
var (
	// ErrStore: a trust-anchor or reference-value store is malformed. The
	// message names the entry (index) and the field.
	ErrStore = errors.New("malformed store")
	// ErrStoreSignature: a signed store (a COSE-signed CoRIM) whose
	// signature does not verify or could not be checked (no key given).
	// It is not ErrStore: the store may be well formed, but it is not
	// trusted. It wraps the decoder's error (endorsement.ErrSignature).
	ErrStoreSignature = errors.New("store signature not verified")
	// ErrUsage: the API was called wrongly (nil trust anchors, a nonce of
	// the wrong size, a bad option).
	ErrUsage = errors.New("verifier misuse")
	// ErrLookup: a trust-anchor or reference-value store failed to answer
	// (it wraps the store's error).
	ErrLookup = errors.New("store lookup failed")
)
