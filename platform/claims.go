// Package platform is the CCA platform token's claims set: its Go form,
// validation by profile generation, and the CBOR and JSON (evcli) codecs.
package platform

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/eat"

	"github.com/ccakit/cca/token"
)

// Sizes from token-formats.md §3 (platform token).
const (
	ImplementationIDSize = 32
	InstanceIDSize       = 33 // UEID type RAND (0x01) + 32 bytes
	ueidTypeRAND         = 0x01
)

// SwComponent is one entry of the software components claim (2399).
type SwComponent struct {
	MeasurementType  string `json:"measurement-type,omitempty"`
	MeasurementValue []byte `json:"measurement-value"`
	Version          string `json:"version,omitempty"`
	SignerID         []byte `json:"signer-id"`
	MeasurementDesc  string `json:"measurement-description,omitempty"`
}

// Claims is a platform claims set.
type Claims struct {
	Profile             string
	Challenge           []byte
	ImplementationID    []byte
	InstanceID          []byte
	Config              []byte
	Lifecycle           Lifecycle
	SwComponents        []SwComponent
	VerificationService string
	HashAlgID           string

	// Extra holds the claims this package does not interpret: the 2.0
	// claims (surfaced by name through token.LookupClaim) and unknown keys,
	// encoded as carried.
	Extra map[int64]cbor.RawMessage

	present presence // which claims a decoded token carried
}

// presence records which of the claims this package knows a decoded (or
// JSON-read) claims set carried. The zero value, for claims built in Go,
// records nothing.
type presence struct {
	recorded bool
	bits     uint16
}

// presenceKeys are the claims presence records, one bit each.
var presenceKeys = [...]int64{token.KeyProfile, token.KeyChallenge, token.KeyImplementationID, token.KeyInstanceID,
	token.KeyPlatformConfig, token.KeyLifecycle, token.KeySwComponents, token.KeyVerificationService, token.KeyPlatformHashAlgID}

func presenceBit(key int64) uint16 {
	for i, k := range presenceKeys {
		if k == key {
			return 1 << i
		}
	}
	return 0
}

func (p *presence) set(key int64, ok bool) {
	p.recorded = true
	if ok {
		p.bits |= presenceBit(key)
	}
}

func (p presence) has(key int64) bool { return p.bits&presenceBit(key) != 0 }

// Generation is the profile generation, GenUnknown for an unknown profile.
func (c *Claims) Generation() token.Generation {
	p, err := token.LookupProfile(c.Profile, token.SetPlatform)
	if err != nil {
		return token.GenUnknown
	}
	return p.Gen
}

// Decode decodes an encoded platform claims set (a COSE_Sign1 payload). It
// fails on malformed CBOR and on claims of the wrong type; what is missing or
// out of range is left to Validate, so that an invalid token can still be
// inspected.
func Decode(data []byte) (*Claims, error) {
	r, err := token.ReadClaims(data, token.SetPlatform)
	if err != nil {
		return nil, err
	}
	c := &Claims{present: presence{recorded: true}}
	var comps []cbor.RawMessage // read below
	for _, f := range [...]struct {
		key int64
		dst any
	}{
		{token.KeyProfile, &c.Profile},
		{token.KeyChallenge, &c.Challenge},
		{token.KeyImplementationID, &c.ImplementationID},
		{token.KeyInstanceID, &c.InstanceID},
		{token.KeyPlatformConfig, &c.Config},
		{token.KeyLifecycle, (*uint64)(&c.Lifecycle)},
		{token.KeySwComponents, &comps},
		{token.KeyVerificationService, &c.VerificationService},
		{token.KeyPlatformHashAlgID, &c.HashAlgID},
	} {
		ok, err := r.Take(f.key, f.dst)
		if err != nil {
			return nil, err
		}
		c.present.set(f.key, ok)
	}
	if len(comps) > 0 {
		c.SwComponents = make([]SwComponent, len(comps))
	}
	for i, raw := range comps {
		if err := decodeSwComponent(raw, i, &c.SwComponents[i]); err != nil {
			return nil, err
		}
	}
	c.Extra = r.Rest()
	return c, nil
}

func decodeSwComponent(raw []byte, i int, sc *SwComponent) error {
	r, err := token.ReadClaims(raw, token.SetSwComponent)
	if err != nil {
		return fmt.Errorf("software component %d: %w", i, err)
	}
	var present [5]bool
	for j, f := range [...]struct {
		key int64
		dst any
	}{
		{token.KeySwMeasurementType, &sc.MeasurementType},
		{token.KeySwMeasurementValue, &sc.MeasurementValue},
		{token.KeySwVersion, &sc.Version},
		{token.KeySwSignerID, &sc.SignerID},
		{token.KeySwMeasurementDesc, &sc.MeasurementDesc},
	} {
		if present[j], err = r.Take(f.key, f.dst); err != nil {
			return fmt.Errorf("software component %d: %w", i, err)
		}
	}
	if rest := r.Rest(); rest != nil {
		return fmt.Errorf("%w: software component %d: unexpected key %d", token.ErrSyntax, i, token.SortedKeys(rest)[0])
	}
	if !present[1] {
		return fmt.Errorf("%w: software component %d: measurement value (2)", token.ErrMissingClaim, i)
	}
	if !present[3] {
		return fmt.Errorf("%w: software component %d: signer id (5)", token.ErrMissingClaim, i)
	}
	return nil
}

// ValidateOptions tighten validation.
type ValidateOptions struct {
	// RejectUnknownClaims fails on any claim key the profile does not define.
	RejectUnknownClaims bool
}

// Validate checks the claims set against its profile: presence of the
// mandatory claims, sizes, lifecycle range, hash algorithm names.
func (c *Claims) Validate(opts ValidateOptions) error {
	if c.Profile == "" {
		return missing(token.KeyProfile)
	}
	prof, err := token.LookupProfile(c.Profile, token.SetPlatform)
	if err != nil {
		return fmt.Errorf("%s: %w", token.ClaimName(token.SetPlatform, token.KeyProfile), err)
	}
	if err := checkDigestSize(token.KeyChallenge, c.Challenge, true); err != nil {
		return err
	}
	if c.ImplementationID == nil {
		return missing(token.KeyImplementationID)
	}
	if len(c.ImplementationID) != ImplementationIDSize {
		return invalid(token.KeyImplementationID, "%d bytes, must be %d", len(c.ImplementationID), ImplementationIDSize)
	}
	if err := c.validateInstanceID(prof.Gen); err != nil {
		return err
	}
	if c.Config == nil && !c.isPresent(token.KeyPlatformConfig) {
		return missing(token.KeyPlatformConfig)
	}
	if !c.isPresent(token.KeyLifecycle) {
		return missing(token.KeyLifecycle)
	}
	if c.Lifecycle.State() == LifecycleInvalid {
		return invalid(token.KeyLifecycle, "0x%x is in no lifecycle range", uint64(c.Lifecycle))
	}
	if len(c.SwComponents) == 0 {
		if c.isPresent(token.KeySwComponents) {
			return invalid(token.KeySwComponents, "empty array")
		}
		return missing(token.KeySwComponents)
	}
	for i, sc := range c.SwComponents {
		if err := sc.validate(i); err != nil {
			return err
		}
	}
	if c.isPresent(token.KeyVerificationService) && c.VerificationService == "" {
		return invalid(token.KeyVerificationService, "empty string")
	}
	if c.HashAlgID == "" {
		return missing(token.KeyPlatformHashAlgID)
	}
	if !ianaHashNames[c.HashAlgID] {
		return invalid(token.KeyPlatformHashAlgID, "%q is not an IANA hash algorithm name", c.HashAlgID)
	}
	if opts.RejectUnknownClaims {
		for _, k := range token.SortedKeys(c.Extra) {
			if cl, ok := token.LookupClaim(token.SetPlatform, k); !ok || cl.Gen > prof.Gen {
				return fmt.Errorf("%w: %s is not defined by profile %q", token.ErrSyntax, token.ClaimName(token.SetPlatform, k), c.Profile)
			}
		}
	}
	return nil
}

func (c *Claims) validateInstanceID(gen token.Generation) error {
	id := c.InstanceID
	if id == nil {
		return missing(token.KeyInstanceID)
	}
	if gen == token.Gen2 {
		// 2.0 drafts allow any EAT UEID (7..33 bytes).
		if err := eat.UEID(id).Validate(); err != nil {
			return invalid(token.KeyInstanceID, "%v", err)
		}
		return nil
	}
	if len(id) != InstanceIDSize || id[0] != ueidTypeRAND {
		return invalid(token.KeyInstanceID, "must be %d bytes starting 0x%02x (UEID RAND), got %d bytes starting 0x%02x",
			InstanceIDSize, ueidTypeRAND, len(id), first(id))
	}
	return nil
}

func (sc *SwComponent) validate(i int) error {
	for _, f := range []struct {
		name string
		b    []byte
	}{{"measurement value (2)", sc.MeasurementValue}, {"signer id (5)", sc.SignerID}} {
		if !isDigestSize(len(f.b)) {
			return fmt.Errorf("%w: %s: software component %d: %s is %d bytes, must be 32, 48 or 64",
				token.ErrSyntax, token.ClaimName(token.SetPlatform, token.KeySwComponents), i, f.name, len(f.b))
		}
	}
	return nil
}

// isPresent tells whether a claim was carried. For claims built in Go
// (not decoded) there is no record: mandatory claims count as present (Encode
// writes them all) and the optional verification service as present when
// non-empty.
func (c *Claims) isPresent(key int64) bool {
	if c.present.recorded {
		return c.present.has(key)
	}
	return key != token.KeyVerificationService || c.VerificationService != ""
}

// ianaHashNames are the IANA Named Information hash names a platform may
// name in claim 2402.
var ianaHashNames = map[string]bool{
	"sha-224": true, "sha-256": true, "sha-384": true, "sha-512": true,
	"sha3-224": true, "sha3-256": true, "sha3-384": true, "sha3-512": true,
}

func isDigestSize(n int) bool { return n == 32 || n == 48 || n == 64 }

func checkDigestSize(key int64, b []byte, mandatory bool) error {
	if b == nil {
		if mandatory {
			return missing(key)
		}
		return nil
	}
	if !isDigestSize(len(b)) {
		return invalid(key, "%d bytes, must be 32, 48 or 64", len(b))
	}
	return nil
}

func missing(key int64) error {
	return fmt.Errorf("%w: %s", token.ErrMissingClaim, token.ClaimName(token.SetPlatform, key))
}

func invalid(key int64, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", token.ErrSyntax, token.ClaimName(token.SetPlatform, key), fmt.Sprintf(format, args...))
}

func first(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// Encode encodes the claims set in the order of TF-A's sample platform token
// (cca-rmm-1.0.md §4.3), Extra claims last by key. Claims built in code are
// written whole; a decoded set writes the claims it carried plus any set
// since, so that decoding and re-encoding keeps the claims as they were. It
// does not validate.
func (c *Claims) Encode() ([]byte, error) {
	pairs := make([]token.ClaimPair, 0, 9+len(c.Extra))
	add := func(key int64, set bool, v any) {
		if set || c.isPresent(key) {
			pairs = append(pairs, token.ClaimPair{Key: key, Value: v})
		}
	}
	add(token.KeyProfile, c.Profile != "", c.Profile)
	add(token.KeyChallenge, c.Challenge != nil, nonNil(c.Challenge))
	add(token.KeyImplementationID, c.ImplementationID != nil, nonNil(c.ImplementationID))
	add(token.KeyInstanceID, c.InstanceID != nil, nonNil(c.InstanceID))
	add(token.KeyPlatformConfig, c.Config != nil, nonNil(c.Config))
	add(token.KeyLifecycle, c.Lifecycle != 0, uint64(c.Lifecycle))
	add(token.KeyPlatformHashAlgID, c.HashAlgID != "", c.HashAlgID)
	add(token.KeyVerificationService, c.VerificationService != "", c.VerificationService)
	if c.SwComponents != nil || c.isPresent(token.KeySwComponents) {
		comps := make([]cbor.RawMessage, len(c.SwComponents))
		for i, sc := range c.SwComponents {
			b, err := sc.encode()
			if err != nil {
				return nil, err
			}
			comps[i] = b
		}
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwComponents, Value: comps})
	}
	for _, k := range token.SortedKeys(c.Extra) {
		pairs = append(pairs, token.ClaimPair{Key: k, Value: c.Extra[k]})
	}
	return token.EncodeClaims(pairs)
}

func (sc *SwComponent) encode() ([]byte, error) {
	var pairs []token.ClaimPair
	if sc.MeasurementType != "" {
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwMeasurementType, Value: sc.MeasurementType})
	}
	pairs = append(pairs, token.ClaimPair{Key: token.KeySwMeasurementValue, Value: nonNil(sc.MeasurementValue)})
	if sc.Version != "" {
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwVersion, Value: sc.Version})
	}
	pairs = append(pairs, token.ClaimPair{Key: token.KeySwSignerID, Value: nonNil(sc.SignerID)})
	if sc.MeasurementDesc != "" {
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwMeasurementDesc, Value: sc.MeasurementDesc})
	}
	return token.EncodeClaims(pairs)
}

// nonNil makes a nil byte slice encode as an empty byte string rather than
// CBOR null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
