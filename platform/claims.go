// Package platform is the CCA platform token's claims set: its Go form,
// validation by profile generation, and the CBOR and JSON (evcli) codecs.
package platform

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/eat"

	"github.com/ccakit/cca/token"
)

// Sizes of the platform claims: Arm DEN0137 1.0-REL0 (CCA platform token claims),
// draft-ffm-rats-cca-token-04 §4.4.
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
	// LFASupported (key 7) says whether live firmware activation may
	// update the component; CountersignerIDs (key 8) are the hashes of
	// countersigning authorities' keys. draft-ffm-rats-cca-token-04
	// §4.6.1.6, §4.6.1.7; nil means absent.
	LFASupported     *bool    `json:"lfa-supported,omitempty"`
	CountersignerIDs [][]byte `json:"countersigner-ids,omitempty"`
}

// ExtensionDevice is one device of the platform extension claim (2404),
// draft-ffm-rats-cca-token-04 §4.6.5 (arm-platform-extension-device).
// Pointers and nil slices are absent members.
type ExtensionDevice struct {
	HashAlgID                string  `cbor:"1,keyasint,omitempty" json:"hash-algo-id,omitempty"`
	DeviceMeasurementsDigest []byte  `cbor:"2,keyasint" json:"device-measurements-digest"`
	CertificateChainDigest   []byte  `cbor:"3,keyasint" json:"certificate-chain-digest"`
	UsesIDE                  *bool   `cbor:"4,keyasint" json:"uses-ide"`
	Protocol                 *string `cbor:"5,keyasint" json:"protocol"`
	VCADigest                []byte  `cbor:"6,keyasint,omitempty" json:"vca-digest,omitempty"`
	DeviceType               *string `cbor:"7,keyasint" json:"device-type"`
	EncryptionType           *uint64 `cbor:"8,keyasint,omitempty" json:"encryption-type,omitempty"`
}

// TBBRoTPK is one entry of the TBB root-of-trust public keys claim
// (2405), draft-ffm-rats-cca-token-04 §4.6.8.
type TBBRoTPK struct {
	Name             *string `cbor:"1,keyasint" json:"name"`
	ActiveArrayIndex *int64  `cbor:"2,keyasint" json:"active-array-index"`
	Index            *int64  `cbor:"3,keyasint" json:"index"`
	Hash             []byte  `cbor:"4,keyasint" json:"hash"`
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

	// The 2.0 claims (draft-ffm-rats-cca-token-04 §4.3–§4.6); nil is
	// absent.
	ClientID            *uint64           // 2394: 1, the Realm Management Security Domain
	ManufacturingConfig []byte            // 2403
	Extension           []ExtensionDevice // 2404
	TBBRoTPK            []TBBRoTPK        // 2405
	PeerSigners         [][]byte          // 2406
	DiscreteTPMBinding  []byte            // 2407
	WorkloadBinding     []byte            // 2408: the binding under the 2026 profiles

	// Extra holds the claims this package does not interpret (unknown
	// keys), encoded as carried.
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
	if err := c.decode2(&r); err != nil {
		return nil, err
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

// decode2 takes the 2.0 claims.
func (c *Claims) decode2(r *token.ClaimsReader) error {
	var clientID uint64
	if ok, err := r.Take(token.KeyPlatformClientID, &clientID); err != nil {
		return err
	} else if ok {
		c.ClientID = &clientID
	}
	for _, f := range [...]struct {
		key int64
		dst any
	}{
		{token.KeyPlatformManufacturing, &c.ManufacturingConfig},
		{token.KeyPlatformExtension, &c.Extension},
		{token.KeyPlatformTBBRoTPK, &c.TBBRoTPK},
		{token.KeyPlatformPeerSigners, &c.PeerSigners},
		{token.KeyPlatformDiscreteTPM, &c.DiscreteTPMBinding},
		{token.KeyPlatformWorkloadBinding, &c.WorkloadBinding},
	} {
		if _, err := r.Take(f.key, f.dst); err != nil {
			return err
		}
	}
	return nil
}

func decodeSwComponent(raw []byte, i int, sc *SwComponent) error {
	// Every error names claim 2399 and the component, as Validate's do.
	where := func() string {
		return fmt.Sprintf("%s: software component %d", token.ClaimName(token.SetPlatform, token.KeySwComponents), i)
	}
	r, err := token.ReadClaims(raw, token.SetSwComponent)
	if err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	var present [7]bool
	var lfa bool
	for j, f := range [...]struct {
		key int64
		dst any
	}{
		{token.KeySwMeasurementType, &sc.MeasurementType},
		{token.KeySwMeasurementValue, &sc.MeasurementValue},
		{token.KeySwVersion, &sc.Version},
		{token.KeySwSignerID, &sc.SignerID},
		{token.KeySwMeasurementDesc, &sc.MeasurementDesc},
		{token.KeySwLFASupported, &lfa},
		{token.KeySwCountersigners, &sc.CountersignerIDs},
	} {
		if present[j], err = r.Take(f.key, f.dst); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if present[5] {
		sc.LFASupported = &lfa
	}
	if rest := r.Rest(); rest != nil {
		return fmt.Errorf("%w: %s: unexpected key %d", token.ErrSyntax, where(), token.SortedKeys(rest)[0])
	}
	if !present[1] {
		return fmt.Errorf("%w: %s: measurement value (2)", token.ErrMissingClaim, where())
	}
	if !present[3] {
		return fmt.Errorf("%w: %s: signer id (5)", token.ErrMissingClaim, where())
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
		return c.missingText(token.KeyProfile)
	}
	prof, err := token.LookupProfile(c.Profile, token.SetPlatform)
	if err != nil {
		return fmt.Errorf("%s: %w", token.ClaimName(token.SetPlatform, token.KeyProfile), err)
	}
	if err := c.validateBinding(prof); err != nil {
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
		return c.missingText(token.KeyPlatformHashAlgID)
	}
	if !ianaHashNames[c.HashAlgID] {
		return invalid(token.KeyPlatformHashAlgID, "%q is not an IANA hash algorithm name", c.HashAlgID)
	}
	if err := c.validate2(prof.Gen); err != nil {
		return err
	}
	if opts.RejectUnknownClaims {
		return c.rejectUndefined(prof.Gen)
	}
	return nil
}

// validateBinding checks the claim that binds the realm token: the
// challenge (10), mandatory up to the 2024 profiles; under the 2026
// profiles the workload binding claim (2408), with claim 10 forbidden
// except under HESRAK, where it carries the realm challenge
// (draft-ffm-rats-cca-token-04 §4.3.1, §4.3.3.10).
func (c *Claims) validateBinding(prof token.Profile) error {
	if prof.Gen < token.Gen2026 {
		if c.WorkloadBinding != nil {
			// Checked here rather than only by RejectUnknownClaims: a
			// binding the profile does not use must not pass for one.
			return invalid(token.KeyPlatformWorkloadBinding, "profile %q binds through claim %d; the workload binding claim belongs to the 2026 profiles", c.Profile, token.KeyChallenge)
		}
		return checkDigestSize(token.KeyChallenge, c.Challenge, true)
	}
	if err := checkDigestSize(token.KeyPlatformWorkloadBinding, c.WorkloadBinding, true); err != nil {
		return err
	}
	if c.Challenge != nil && prof.Binding != token.BindingHESRAK {
		return invalid(token.KeyChallenge, "must not appear with profile %q (draft-ffm-rats-cca-token-04 §4.3.3.10: only the HESRAK model carries it)", c.Profile)
	}
	return checkDigestSize(token.KeyChallenge, c.Challenge, false)
}

// BindingClaim returns the claim that binds the realm token and its value:
// the workload binding claim (2408) under the 2026 profiles, the challenge
// (10) otherwise.
func (c *Claims) BindingClaim() (key int64, value []byte) {
	if c.Generation() == token.Gen2026 {
		return token.KeyPlatformWorkloadBinding, c.WorkloadBinding
	}
	return token.KeyChallenge, c.Challenge
}

// validate2 checks the 2.0 claims carried (draft-ffm-rats-cca-token-04 §5)
// and the client id the 2.0 profiles make mandatory (§4.6.3).
func (c *Claims) validate2(gen token.Generation) error {
	if c.ClientID != nil {
		if *c.ClientID != ClientIDRMSD {
			return invalid(token.KeyPlatformClientID, "%d, must be %d (the Realm Management Security Domain)", *c.ClientID, ClientIDRMSD)
		}
	} else if gen >= token.Gen2 {
		return missing(token.KeyPlatformClientID)
	}
	if c.Extension != nil {
		if len(c.Extension) == 0 {
			return invalid(token.KeyPlatformExtension, "empty array")
		}
		for i := range c.Extension {
			if err := c.Extension[i].validate(i); err != nil {
				return err
			}
		}
	}
	if c.TBBRoTPK != nil {
		if len(c.TBBRoTPK) == 0 {
			return invalid(token.KeyPlatformTBBRoTPK, "empty array")
		}
		for i, e := range c.TBBRoTPK {
			switch {
			case e.Name == nil:
				return invalid(token.KeyPlatformTBBRoTPK, "entry %d: no name (1)", i)
			case e.ActiveArrayIndex == nil:
				return invalid(token.KeyPlatformTBBRoTPK, "entry %d: no active array index (2)", i)
			case e.Index == nil:
				return invalid(token.KeyPlatformTBBRoTPK, "entry %d: no index (3)", i)
			case !isDigestSize(len(e.Hash)):
				return invalid(token.KeyPlatformTBBRoTPK, "entry %d: hash (4) is %d bytes, must be 32, 48 or 64", i, len(e.Hash))
			}
		}
	}
	if c.PeerSigners != nil && len(c.PeerSigners) == 0 {
		return invalid(token.KeyPlatformPeerSigners, "empty array")
	}
	return nil
}

// ClientIDRMSD is the one client id of the CCA platform token: the Realm
// Management Security Domain (draft-ffm-rats-cca-token-04 §4.6.3).
const ClientIDRMSD = 1

// VCA protocols and encrypted device types of draft-ffm-rats-cca-token-04
// §4.6.5: a device speaking one of the first carries a VCA digest (6), a
// device of one of the second an encryption type (8).
var (
	vcaProtocols        = map[string]bool{"spdm-1.2.0": true, "spdm-1.2.1": true, "spdm-1.2.2": true, "spdm-1.2.3": true, "spdm-1.3.0": true, "spdm-1.3.1": true, "spdm-1.3.2": true, "spdm-1.4.0": true}
	encryptedDeviceType = map[string]bool{"cxl-type-3": true}
)

func (d *ExtensionDevice) validate(i int) error {
	bad := func(format string, args ...any) error {
		return invalid(token.KeyPlatformExtension, "device %d: %s", i, fmt.Sprintf(format, args...))
	}
	switch {
	case !isDigestSize(len(d.DeviceMeasurementsDigest)):
		return bad("device measurements digest (2) is %d bytes, must be 32, 48 or 64", len(d.DeviceMeasurementsDigest))
	case !isDigestSize(len(d.CertificateChainDigest)):
		return bad("certificate chain digest (3) is %d bytes, must be 32, 48 or 64", len(d.CertificateChainDigest))
	case d.UsesIDE == nil:
		return bad("no IDE flag (4)")
	case d.Protocol == nil:
		return bad("no protocol (5)")
	case d.DeviceType == nil:
		return bad("no device type (7)")
	case vcaProtocols[*d.Protocol] && !isDigestSize(len(d.VCADigest)):
		return bad("protocol %q needs a VCA digest (6) of 32, 48 or 64 bytes, found %d", *d.Protocol, len(d.VCADigest))
	case encryptedDeviceType[*d.DeviceType] && d.EncryptionType == nil:
		return bad("device type %q needs an encryption type (8)", *d.DeviceType)
	case d.EncryptionType != nil && *d.EncryptionType > 2:
		return bad("encryption type (8) %d is not 0 (host side), 1 (target side) or 2 (none)", *d.EncryptionType)
	}
	return nil
}

// carried2 lists the typed 2.0 claims the set carries.
func (c *Claims) carried2() []int64 {
	var keys []int64
	for _, f := range [...]struct {
		key int64
		has bool
	}{
		{token.KeyPlatformClientID, c.ClientID != nil},
		{token.KeyPlatformManufacturing, c.ManufacturingConfig != nil},
		{token.KeyPlatformExtension, c.Extension != nil},
		{token.KeyPlatformTBBRoTPK, c.TBBRoTPK != nil},
		{token.KeyPlatformPeerSigners, c.PeerSigners != nil},
		{token.KeyPlatformDiscreteTPM, c.DiscreteTPMBinding != nil},
		{token.KeyPlatformWorkloadBinding, c.WorkloadBinding != nil},
	} {
		if f.has {
			keys = append(keys, f.key)
		}
	}
	return keys
}

// rejectUndefined refuses claims the profile does not define: 2.0 claims
// of a later generation and unknown keys, in claims and software
// components.
func (c *Claims) rejectUndefined(gen token.Generation) error {
	for _, k := range c.carried2() {
		if !token.Defines(token.SetPlatform, gen, k) {
			cl, _ := token.LookupClaim(token.SetPlatform, k)
			return fmt.Errorf("%w: %s is not defined by profile %q (it is a claim of the %v and later)", token.ErrSyntax, token.ClaimName(token.SetPlatform, k), c.Profile, cl.Gen)
		}
	}
	if keys := token.SortedKeys(c.Extra); len(keys) > 0 {
		return fmt.Errorf("%w: %s is not defined by profile %q", token.ErrSyntax, token.ClaimName(token.SetPlatform, keys[0]), c.Profile)
	}
	for i, sc := range c.SwComponents {
		for _, k := range [...]struct {
			key int64
			has bool
		}{{token.KeySwLFASupported, sc.LFASupported != nil}, {token.KeySwCountersigners, sc.CountersignerIDs != nil}} {
			if k.has && !token.Defines(token.SetSwComponent, gen, k.key) {
				return fmt.Errorf("%w: %s: software component %d: key %d is not defined by profile %q", token.ErrSyntax,
					token.ClaimName(token.SetPlatform, token.KeySwComponents), i, k.key, c.Profile)
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
		// draft-ffm-rats-cca-token-03 allows any EAT UEID (7..33 bytes);
		// draft -04 has exactly 0x01 || 32 bytes again (eat-ueid-rand-type).
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
	if sc.CountersignerIDs != nil && len(sc.CountersignerIDs) == 0 {
		return fmt.Errorf("%w: %s: software component %d: countersigner ids (8) is an empty array",
			token.ErrSyntax, token.ClaimName(token.SetPlatform, token.KeySwComponents), i)
	}
	for j, id := range sc.CountersignerIDs {
		if !isDigestSize(len(id)) {
			return fmt.Errorf("%w: %s: software component %d: countersigner id %d (8) is %d bytes, must be 32, 48 or 64",
				token.ErrSyntax, token.ClaimName(token.SetPlatform, token.KeySwComponents), i, j, len(id))
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
	switch key {
	case token.KeyVerificationService:
		return c.VerificationService != ""
	case token.KeyChallenge:
		// Optional (and in most cases forbidden) with the 2026 profiles.
		return c.Challenge != nil || c.Generation() != token.Gen2026
	}
	return true
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

// missingText is the error for a text claim that is empty: carried as an
// empty string it is invalid (ErrSyntax), not missing; a decoded claims set
// records which it was.
func (c *Claims) missingText(key int64) error {
	if c.present.recorded && c.present.has(key) {
		return invalid(key, "empty string")
	}
	return missing(key)
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
// (TF-A plat/arm/board/fvp/fvp_plat_attest_token.c), Extra claims last by key. Claims built in code are
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
	// The 2.0 claims, which no producer emits yet: by key.
	if c.ClientID != nil {
		pairs = append(pairs, token.ClaimPair{Key: token.KeyPlatformClientID, Value: *c.ClientID})
	}
	for _, f := range [...]struct {
		key int64
		has bool
		v   any
	}{
		{token.KeyPlatformManufacturing, c.ManufacturingConfig != nil, c.ManufacturingConfig},
		{token.KeyPlatformExtension, c.Extension != nil, c.Extension},
		{token.KeyPlatformTBBRoTPK, c.TBBRoTPK != nil, c.TBBRoTPK},
		{token.KeyPlatformPeerSigners, c.PeerSigners != nil, c.PeerSigners},
		{token.KeyPlatformDiscreteTPM, c.DiscreteTPMBinding != nil, c.DiscreteTPMBinding},
		{token.KeyPlatformWorkloadBinding, c.WorkloadBinding != nil, c.WorkloadBinding},
	} {
		if f.has {
			pairs = append(pairs, token.ClaimPair{Key: f.key, Value: f.v})
		}
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
	if sc.LFASupported != nil {
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwLFASupported, Value: *sc.LFASupported})
	}
	if sc.CountersignerIDs != nil {
		pairs = append(pairs, token.ClaimPair{Key: token.KeySwCountersigners, Value: sc.CountersignerIDs})
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
