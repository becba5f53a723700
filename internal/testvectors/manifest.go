// Package testvectors makes and checks the repository's test vectors
// (testvectors/): keys, trust-anchor and reference-value stores, tokens
// made from claims, tokens from the emulated machine, tokens broken on
// purpose, and manifest.json, which records for each token how it was made,
// how to verify it and the verdict.
//
// The test suite is the one way to drive it:
//
//	go test ./internal/testvectors            # fails, one error per difference, unless testvectors/ is current
//	go test ./internal/testvectors -update    # rewrites what changed, then checks
//
// Every verdict is checked against what the vector is made to show before
// anything is recorded: a vector whose verification fails other checks than
// the ones it is made to fail is refused (ErrIntent).
package testvectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ccakit/cca/verifier"
)

var (
	// ErrIntent: a vector's verification does not give the verdict the
	// vector is made to show.
	ErrIntent = errors.New("testvectors: a vector does not show what it is made to")
	// ErrInput: an input of the set (claims, keys, realm descriptions) is
	// missing or unreadable.
	ErrInput = errors.New("testvectors: unreadable input")
)

// Exit statuses of `ccatoken verify` that the manifest records.
const (
	ExitTrustworthy    = 0
	ExitNotTrustworthy = 1
)

// Files of the set that other tests name.
const (
	ManifestFile    = "manifest.json"
	TACreatedP384   = "trust-anchors/created-p384.json"
	TACreatedP256   = "trust-anchors/created-p256.json"
	TAEmulator      = "trust-anchors/emulator.json"
	RVCreated       = "refvals/created.json"
	RVEmulator      = "refvals/emulator.json"
	RVEmulatorRealm = "refvals/emulator-realm-only.json"
	// RVEmulatorActivation has the emulated realm's REMs as they are when
	// it is activated (zero), before its software extends REM[0].
	RVEmulatorActivation = "refvals/emulator-at-activation.json"
	EmulatorCPAKPub      = "keys/emulator-cpak.pub.pem"

	// The created vectors' stores as CoRIMs of today's CCA profiles.
	TACreatedP384CoRIM     = "trust-anchors/created-p384.corim"
	RVCreatedPlatformCoRIM = "refvals/created-platform.corim"
	RVCreatedRealmCoRIM    = "refvals/created-realm.corim"
	// The same, COSE-signed with keys/corim-signer-p256.pem.
	TACreatedP384SignedCoRIM     = "trust-anchors/created-p384.signed.corim"
	RVCreatedPlatformSignedCoRIM = "refvals/created-platform.signed.corim"
	RVCreatedRealmSignedCoRIM    = "refvals/created-realm.signed.corim"
	CoRIMSignerPub               = "keys/corim-signer-p256.pub.pem"

	// RVSizeMismatch has the created platform and the realm of
	// shapes/measurement-size-mismatch (64-byte RIM and REMs).
	RVSizeMismatch = "refvals/measurement-size-mismatch.json"

	// TAOneBadEntry is trust-anchors/created-p384.json with a second entry
	// whose key is not on its curve.
	TAOneBadEntry = "trust-anchors/one-bad-entry.json"
)

// Manifest is testvectors/manifest.json.
type Manifest struct {
	About   string   `json:"about"`
	Vectors []Vector `json:"vectors"`
}

// Vector is one token and how it is verified.
type Vector struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	Description string `json:"description"`
	// Source is how the token was made: "create" (from claims, as
	// 'ccatoken create' does), "emulator" (the emulated machine, as
	// 'ccatoken emulate' does) or "mutation" (another vector, broken).
	Source string `json:"source"`
	// MadeFrom names the inputs: claims, keys, realm, base vector.
	MadeFrom map[string]string `json:"made-from"`
	// Format is a creatable format (rel0, legacy, cmw, tfrmm-main),
	// legacy-cmw (legacy tokens in a tag-907 collection), mixed, or
	// malformed.
	Format      string `json:"format"`
	PlatformAlg string `json:"platform-alg,omitempty"`
	// Challenge is the realm challenge the token carries, in hex.
	Challenge string `json:"challenge,omitempty"`
	// Compare is what the check compares: "bytes", or "claims" for tokens
	// with random signatures (and a random realm instance id, compared by
	// its form).
	Compare string `json:"compare"`
	Verify  []Run  `json:"verify"`
}

// Run is one 'ccatoken verify' of the token and its verdict. Paths are
// relative to the test-vector directory.
type Run struct {
	CPAK         string `json:"cpak,omitempty"`
	TrustAnchors string `json:"trust-anchors,omitempty"`
	Refvals      string `json:"refvals,omitempty"`
	// AlsoRefvals are further reference-value stores, each a --refvals
	// after Refvals (a CoRIM holds platform or realm reference values,
	// not both).
	AlsoRefvals []string `json:"also-refvals,omitempty"`
	// CoRIMKey is --corim-key, the key that checks signed CoRIMs.
	CoRIMKey string   `json:"corim-key,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
	Policy   []string `json:"policy,omitempty"`
	// Command is the same verification from the repository's root.
	Command     string `json:"command"`
	Trustworthy bool   `json:"trustworthy"`
	Exit        int    `json:"exit"`
	// Failed lists the checks that did not pass, "platform <check>" or
	// "realm <check>" as the verifier names them.
	Failed []string `json:"failed,omitempty"`
	// EAR is the ear.status of each EAR submodule.
	EAR map[string]string `json:"ear"`
	// Warnings are the unusable entries of the trust-anchor store, "FILE:
	// message", which verify reports on standard error (each fails only
	// its own platform).
	Warnings []string `json:"warnings,omitempty"`
}

// Args is the run as `ccatoken verify` arguments, with paths under dir.
func (r *Run) Args(dir, file string) []string {
	args := []string{"verify", filepath.Join(dir, filepath.FromSlash(file))}
	for _, f := range []struct{ flag, path string }{{"--cpak", r.CPAK}, {"--trust-anchors", r.TrustAnchors}} {
		if f.path != "" {
			args = append(args, f.flag, filepath.Join(dir, filepath.FromSlash(f.path)))
		}
	}
	for _, p := range r.refvals() {
		args = append(args, "--refvals", filepath.Join(dir, filepath.FromSlash(p)))
	}
	if r.CoRIMKey != "" {
		args = append(args, "--corim-key", filepath.Join(dir, filepath.FromSlash(r.CoRIMKey)))
	}
	if r.Nonce != "" {
		args = append(args, "--nonce", r.Nonce)
	}
	return append(args, r.Policy...)
}

// refvals are the run's reference-value stores, in order.
func (r *Run) refvals() []string {
	if r.Refvals == "" {
		return r.AlsoRefvals
	}
	return append([]string{r.Refvals}, r.AlsoRefvals...)
}

// LoadManifest reads dir's manifest.json strictly (an unknown member is an
// error).
func LoadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	return parseManifest(data)
}

func parseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a manifest: %w", ManifestFile, err)
	}
	return &m, nil
}

// Policy is the verifier policy of a run's policy flags (the flags of
// `ccatoken verify`, which the manifest records).
func Policy(flags []string) (verifier.Policy, error) {
	var p verifier.Policy
	for _, f := range flags {
		switch f {
		case "--allow-missing-nonce-unsafe":
			p.AllowMissingNonceUnsafe = true
		case "--allow-non-cca-platform-debug-unsafe":
			p.AllowNonCCAPlatformDebugUnsafe = true
		case "--allow-debug-lifecycle-unsafe":
			p.AllowDebugLifecycleUnsafe = true
		case "--allow-mixed-profiles-unsafe":
			p.AllowMixedProfilesUnsafe = true
		case "--allow-draft-profiles-unsafe":
			p.AllowDraftProfilesUnsafe = true
		case "--allow-measurement-size-mismatch-unsafe":
			p.AllowMeasurementSizeMismatchUnsafe = true
		case "--allow-unknown-platform-unsafe":
			p.AllowUnknownPlatformUnsafe = true
		case "--allow-unknown-realm-unsafe":
			p.AllowUnknownRealmUnsafe = true
		case "--require-mec-policy":
			p.RequireMECPolicy = true
		case "--require-rems":
			p.RequireREMs = true
		case "--reject-unknown-claims":
			p.RejectUnknownClaims = true
		default:
			return p, fmt.Errorf("unknown policy flag %q", f)
		}
	}
	return p, nil
}

// FailedChecks names the checks of a result that did not pass, "platform
// <check>" and "realm <check>" (Result.Failures).
func FailedChecks(res *verifier.Result) []string {
	var out []string
	for _, f := range res.Failures() {
		out = append(out, f.Side+" "+f.Name())
	}
	return out
}
