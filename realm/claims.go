// Package realm is the CCA realm token's claims set (its Go form,
// validation, the RAK encodings of each generation, CBOR and JSON codecs)
// and the measurement algorithms (RIM descriptors, REM extension) shared by
// the emulated RMM and by RIM prediction.
package realm

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/token"
)

// Sizes of the realm token claims: Arm DEN0137 1.0-REL0 (realm token
// claims), draft-ffm-rats-cca-token-04 §4.8.
const (
	ChallengeSize            = 64
	PersonalizationValueSize = 64
	NumREMs                  = 4
)

// Claims is a realm claims set.
type Claims struct {
	// Profile is empty for a legacy (RMM 1.0-EAC5) token, which has none.
	Profile                string
	Challenge              []byte
	PersonalizationValue   []byte
	HashAlgID              string // 44236, the measurement hash algorithm
	PubKey                 []byte // 44237, the RAK exactly as carried
	PubKeyHashAlgID        string // 44240, the hash of the binding
	InitialMeasurement     []byte
	ExtensibleMeasurements [][]byte

	// The 2.0 claims (draft-ffm-rats-cca-token-04 §4.8.9–§4.8.12). nil
	// means absent.
	//
	// InstanceID (256) is the realm instance id: 0x01 (EAT UEID type RAND)
	// followed by 32 random bytes, which TF-RMM main draws at
	// RMI_REALM_CREATE (runtime/rmi/realm.c generate_realm_instance_id).
	InstanceID []byte
	// MECPolicy (44243), in the form it was carried.
	MECPolicy *MECPolicy
	// LFAPolicy (44244): 0 disallow, 1 allow live firmware activation.
	LFAPolicy *uint64
	// DevicesTokenHash (44257): the hash of the realm's devices token.
	DevicesTokenHash []byte

	// Extra holds claims this package does not interpret (unknown keys),
	// encoded as carried.
	Extra map[int64]cbor.RawMessage

	// rak caches the RAK parsed by Validate for RAK, so that verification
	// parses the key once. Only decoded claims have one.
	rak *rakCache
}

// rakCache is the last RAK parsed from PubKey, with the bytes and the
// generation it was parsed from: RAK uses it only while both are unchanged.
type rakCache struct {
	mu   sync.Mutex
	from []byte
	gen  token.Generation
	key  *ecdsa.PublicKey
}

// MECPolicy is the realm's Memory Encryption Context policy (claim 44243).
// Producers write it in two forms: a text string "shared" / "private"
// (TF-RMM v0.8.0 and v0.9.0 with the 2023 realm profile,
// draft-ffm-rats-cca-token-03) and an unsigned integer 0 shared / 1 private
// (TF-RMM main lib/mec, draft -04 §4.8.9). A decoded policy keeps its form
// and value as carried, valid or not: Validate judges it.
type MECPolicy struct {
	// Text is true when the claim is a text string, in Name; otherwise it
	// is the integer Value.
	Text  bool
	Name  string
	Value uint64
}

// MEC policy values (draft-ffm-rats-cca-token-04 §4.8.9).
const (
	MECShared  = 0
	MECPrivate = 1
)

// MECPolicyOf is the policy in the integer form of TF-RMM main and
// draft -04.
func MECPolicyOf(private bool) *MECPolicy {
	if private {
		return &MECPolicy{Value: MECPrivate}
	}
	return &MECPolicy{Value: MECShared}
}

// Private reports whether the policy is private, or an error for a value
// that is neither shared nor private.
func (m *MECPolicy) Private() (bool, error) {
	switch {
	case m.Text && m.Name == "shared", !m.Text && m.Value == MECShared:
		return false, nil
	case m.Text && m.Name == "private", !m.Text && m.Value == MECPrivate:
		return true, nil
	case m.Text:
		return false, fmt.Errorf("%q is neither \"shared\" nor \"private\"", m.Name)
	}
	return false, fmt.Errorf("%d is neither %d (shared) nor %d (private)", m.Value, MECShared, MECPrivate)
}

// String is "shared" or "private", with the form it was carried in; an
// invalid value is shown escaped.
func (m *MECPolicy) String() string {
	p, err := m.Private()
	switch {
	case err != nil && m.Text:
		return fmt.Sprintf("invalid (%q)", m.Name)
	case err != nil:
		return fmt.Sprintf("invalid (%d)", m.Value)
	}
	name := "shared"
	if p {
		name = "private"
	}
	if m.Text {
		return name + " (text)"
	}
	return fmt.Sprintf("%s (%d)", name, m.Value)
}

func (m *MECPolicy) cborValue() any {
	if m.Text {
		return m.Name
	}
	return m.Value
}

func decodeMECPolicy(raw []byte) (*MECPolicy, error) {
	var m MECPolicy
	switch raw[0] >> 5 {
	case 0:
		if err := token.Unmarshal(raw, &m.Value, token.ClaimName(token.SetRealm, token.KeyRealmMECPolicy)); err != nil {
			return nil, err
		}
	case 3:
		m.Text = true
		if err := token.Unmarshal(raw, &m.Name, token.ClaimName(token.SetRealm, token.KeyRealmMECPolicy)); err != nil {
			return nil, err
		}
	default:
		return nil, invalid(token.KeyRealmMECPolicy, "expected an unsigned integer (0 shared, 1 private) or a text string (\"shared\", \"private\")")
	}
	return &m, nil
}

// Generation tells the generation from the profile: none is legacy.
func (c *Claims) Generation() token.Generation {
	if c.Profile == "" {
		return token.GenLegacy
	}
	p, err := token.LookupProfile(c.Profile, token.SetRealm)
	if err != nil {
		return token.GenUnknown
	}
	return p.Gen
}

// Decode decodes an encoded realm claims set (a COSE_Sign1 payload). Type
// errors fail here; missing and out-of-range claims are Validate's.
func Decode(data []byte) (*Claims, error) {
	m, err := token.ReadClaims(data, token.SetRealm)
	if err != nil {
		return nil, err
	}
	c := &Claims{}
	// Text claims carried as an empty string: invalid here, since Validate
	// cannot tell them from absent ones (which are missing).
	var emptyText []int64
	for _, f := range [...]struct {
		key int64
		dst any
	}{
		{token.KeyProfile, &c.Profile},
		{token.KeyChallenge, &c.Challenge},
		{token.KeyRealmPersonalizationValue, &c.PersonalizationValue},
		{token.KeyRealmHashAlgID, &c.HashAlgID},
		{token.KeyRealmPubKey, &c.PubKey},
		{token.KeyRealmPubKeyHashAlgID, &c.PubKeyHashAlgID},
		{token.KeyRealmInitialMeasurement, &c.InitialMeasurement},
		{token.KeyRealmExtensibleMeas, &c.ExtensibleMeasurements},
		{token.KeyRealmInstanceID, &c.InstanceID},
		{token.KeyRealmDevicesTokenHash, &c.DevicesTokenHash},
	} {
		ok, err := m.Take(f.key, f.dst)
		if err != nil {
			return nil, err
		}
		if s, isText := f.dst.(*string); ok && isText && *s == "" {
			emptyText = append(emptyText, f.key)
		}
	}
	if len(emptyText) > 0 {
		return nil, invalid(emptyText[0], "empty string")
	}
	var mec cbor.RawMessage
	if ok, err := m.Take(token.KeyRealmMECPolicy, &mec); err != nil {
		return nil, err
	} else if ok {
		if c.MECPolicy, err = decodeMECPolicy(mec); err != nil {
			return nil, err
		}
	}
	var lfa uint64
	if ok, err := m.Take(token.KeyRealmLFAPolicy, &lfa); err != nil {
		return nil, err
	} else if ok {
		c.LFAPolicy = &lfa
	}
	c.Extra = m.Rest()
	c.rak = &rakCache{}
	return c, nil
}

// ValidateOptions tighten or loosen validation.
type ValidateOptions struct {
	// RejectUnknownClaims fails on any claim key the profile does not
	// define: unknown keys, and 2.0 claims in a token whose profile
	// predates them (a realm instance id in a 2023 or legacy token).
	RejectUnknownClaims bool
	// AllowMeasurementSizeMismatch accepts a RIM and REMs whose size (32,
	// 48 or 64 bytes, all four REMs the size of the RIM) is not the size
	// of the measurement hash algorithm (claim 44236): Veraison's CCA test
	// evidence (services cca-good.cbor, ccatoken realm test vectors) and
	// evcli's claims template carry 64-byte measurements labelled
	// "sha-256". No RMM emits that; it is refused by default.
	AllowMeasurementSizeMismatch bool
}

// profile tells the realm profile: none is the legacy token.
func (c *Claims) profile() (token.Profile, error) {
	if c.Profile == "" {
		return token.Profile{Set: token.SetRealm, Gen: token.GenLegacy}, nil
	}
	p, err := token.LookupProfile(c.Profile, token.SetRealm)
	if err != nil {
		return p, fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyProfile), err)
	}
	return p, nil
}

// describeProfile names the profile for messages (escaped).
func (c *Claims) describeProfile() string {
	if c.Profile == "" {
		return "the legacy realm token (no profile)"
	}
	return fmt.Sprintf("realm profile %q", c.Profile)
}

// Validate checks the claims set against its profile's rules: the sizes of
// Arm DEN0137 1.0-REL0 (realm token claims), draft-ffm-rats-cca-token-04
// §4.8, the RAK encoding of the generation, and the 2.0 claims where they
// are carried.
func (c *Claims) Validate(opts ValidateOptions) error {
	_, err := c.validate(opts)
	return err
}

// validate is Validate, returning the RAK it parsed.
func (c *Claims) validate(opts ValidateOptions) (*ecdsa.PublicKey, error) {
	prof, err := c.profile()
	if err != nil {
		return nil, err
	}
	gen := prof.Gen
	if err := exactSize(token.KeyChallenge, c.Challenge, ChallengeSize); err != nil {
		return nil, err
	}
	if err := exactSize(token.KeyRealmPersonalizationValue, c.PersonalizationValue, PersonalizationValueSize); err != nil {
		return nil, err
	}
	if err := c.validateMeasurements(gen, opts); err != nil {
		return nil, err
	}
	if c.PubKey == nil {
		return nil, missing(token.KeyRealmPubKey)
	}
	rak, err := c.parseRAK(gen)
	if err != nil {
		return nil, err
	}
	if c.PubKeyHashAlgID == "" {
		return nil, missing(token.KeyRealmPubKeyHashAlgID)
	}
	if _, err := token.HashByName(c.PubKeyHashAlgID); err != nil {
		return nil, fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyRealmPubKeyHashAlgID), err)
	}
	if err := c.validate2(gen); err != nil {
		return nil, err
	}
	if opts.RejectUnknownClaims {
		for _, k := range c.carried2() {
			if !token.Defines(token.SetRealm, gen, k) {
				return nil, fmt.Errorf("%w: %s is not defined by %s (it is a claim of the %v and later)",
					token.ErrSyntax, token.ClaimName(token.SetRealm, k), c.describeProfile(), claimGen(k))
			}
		}
		if m := c.MECPolicy; m != nil && !m.Text && gen == token.Gen1 {
			return nil, invalid(token.KeyRealmMECPolicy, "%s carries the MEC policy as text (TF-RMM v0.8.0, v0.9.0); the integer form is a claim of the %v and later",
				c.describeProfile(), token.Gen2)
		}
		if keys := token.SortedKeys(c.Extra); len(keys) > 0 {
			return nil, fmt.Errorf("%w: %s is not defined by %s", token.ErrSyntax, token.ClaimName(token.SetRealm, keys[0]), c.describeProfile())
		}
	}
	return rak, nil
}

func claimGen(key int64) token.Generation {
	cl, _ := token.LookupClaim(token.SetRealm, key)
	return cl.Gen
}

// validateMeasurements checks the hash algorithm and the sizes of the RIM
// and the REMs.
func (c *Claims) validateMeasurements(gen token.Generation, opts ValidateOptions) error {
	if c.HashAlgID == "" {
		return missing(token.KeyRealmHashAlgID)
	}
	measSize, err := MeasurementSize(c.HashAlgID)
	if err != nil {
		return fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyRealmHashAlgID), err)
	}
	if c.HashAlgID == token.SHA384 && gen < token.Gen2 {
		// RMM 1.0 has SHA-256 and SHA-512 only (Arm DEN0137 1.0-REL0,
		// RmiHashAlgorithm); TF-RMM added SHA-384 on main (787b3558),
		// which emits the 2024 realm profile.
		return fmt.Errorf("%w: %s: %q is not a measurement algorithm of %s (RMM 1.0 has sha-256 and sha-512)",
			token.ErrAlgorithm, token.ClaimName(token.SetRealm, token.KeyRealmHashAlgID), c.HashAlgID, c.describeProfile())
	}
	if c.InitialMeasurement == nil {
		return missing(token.KeyRealmInitialMeasurement)
	}
	rimSize := len(c.InitialMeasurement)
	if rimSize != measSize {
		if !opts.AllowMeasurementSizeMismatch || !isDigestSize(rimSize) {
			return sizeMismatch(token.KeyRealmInitialMeasurement, "", rimSize, measSize, c.HashAlgID, isDigestSize(rimSize))
		}
	}
	if c.ExtensibleMeasurements == nil {
		return missing(token.KeyRealmExtensibleMeas)
	}
	if n := len(c.ExtensibleMeasurements); n != NumREMs {
		return invalid(token.KeyRealmExtensibleMeas, "%d measurements, must be exactly %d", n, NumREMs)
	}
	for i, rem := range c.ExtensibleMeasurements {
		if len(rem) != rimSize {
			if rimSize != measSize {
				return invalid(token.KeyRealmExtensibleMeas, "REM[%d] is %d bytes, the RIM %d", i, len(rem), rimSize)
			}
			return sizeMismatch(token.KeyRealmExtensibleMeas, fmt.Sprintf("REM[%d] is ", i), len(rem), measSize, c.HashAlgID, isDigestSize(len(rem)))
		}
	}
	return nil
}

// sizeMismatch explains a measurement whose size is not its algorithm's:
// claim, length and algorithm, and the option that accepts the shape
// Veraison's test data has.
func sizeMismatch(key int64, what string, got, want int, alg string, digest bool) error {
	hint := ""
	if digest {
		hint = " (a digest of another algorithm: ValidateOptions.AllowMeasurementSizeMismatch, --allow-measurement-size-mismatch-unsafe, accepts it)"
	}
	return invalid(key, "%s%d bytes, must be %d (hash algorithm %q)%s", what, got, want, alg, hint)
}

// carried2 lists the typed 2.0 claims the set carries.
func (c *Claims) carried2() []int64 {
	var keys []int64
	if c.InstanceID != nil {
		keys = append(keys, token.KeyRealmInstanceID)
	}
	if c.MECPolicy != nil {
		keys = append(keys, token.KeyRealmMECPolicy)
	}
	if c.LFAPolicy != nil {
		keys = append(keys, token.KeyRealmLFAPolicy)
	}
	if c.DevicesTokenHash != nil {
		keys = append(keys, token.KeyRealmDevicesTokenHash)
	}
	return keys
}

// validate2 checks the 2.0 claims carried, and those the 2026 realm
// profile makes mandatory (draft-ffm-rats-cca-token-04 §4.8.9, §4.8.11).
func (c *Claims) validate2(gen token.Generation) error {
	if c.InstanceID != nil {
		// Exactly 0x01 || 32 bytes: TF-RMM main generate_realm_instance_id
		// and draft -04's CDDL (eat-ueid-rand-type). The draft's comment
		// "EAT UEIDs need to be 7 - 33 bytes" describes EAT UEIDs in
		// general; the type it names has one size, and so does every
		// producer, so a shorter id is refused.
		if len(c.InstanceID) != InstanceIDSize || c.InstanceID[0] != ueidTypeRAND {
			return invalid(token.KeyRealmInstanceID, "must be %d bytes starting 0x%02x (UEID RAND, as TF-RMM generates it), got %d bytes starting 0x%02x",
				InstanceIDSize, ueidTypeRAND, len(c.InstanceID), first(c.InstanceID))
		}
	} else if gen >= token.Gen2026 {
		return missing(token.KeyRealmInstanceID)
	}
	if c.MECPolicy != nil {
		if _, err := c.MECPolicy.Private(); err != nil {
			return invalid(token.KeyRealmMECPolicy, "%v", err)
		}
		if c.MECPolicy.Text && gen >= token.Gen2026 {
			return invalid(token.KeyRealmMECPolicy, "a text string; %s carries the integer 0 (shared) or 1 (private)", c.describeProfile())
		}
	} else if gen >= token.Gen2026 {
		return missing(token.KeyRealmMECPolicy)
	}
	if c.LFAPolicy != nil && *c.LFAPolicy > 1 {
		return invalid(token.KeyRealmLFAPolicy, "%d is neither 0 (disallow) nor 1 (allow)", *c.LFAPolicy)
	}
	if c.DevicesTokenHash != nil && !isDigestSize(len(c.DevicesTokenHash)) {
		return invalid(token.KeyRealmDevicesTokenHash, "%d bytes, must be 32, 48 or 64", len(c.DevicesTokenHash))
	}
	return nil
}

// Sizes of the realm instance id (claim 256).
const (
	InstanceIDSize = 33
	ueidTypeRAND   = 0x01
)

func first(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func isDigestSize(n int) bool { return n == 32 || n == 48 || n == 64 }

// MeasurementSize is the size of a RIM or REM for the realm hash algorithm
// (claim 44236): sha-256 and sha-512 (Arm DEN0137 1.0-REL0, RmiHashAlgorithm),
// and sha-384, which TF-RMM main added (787b3558) and draft -04 allows
// (48-byte measurements).
func MeasurementSize(hashAlgID string) (int, error) {
	switch hashAlgID {
	case token.SHA256:
		return 32, nil
	case token.SHA384:
		return 48, nil
	case token.SHA512:
		return 64, nil
	}
	return 0, fmt.Errorf("%w: realm measurement hash %q (must be %q, %q or %q)", token.ErrAlgorithm, hashAlgID, token.SHA256, token.SHA384, token.SHA512)
}

// RAK returns the realm attestation key carried in claim 44237, decoded by
// the generation: a raw SEC1 point without a profile (legacy), a COSE_Key
// with one. After Validate on decoded claims it returns the key Validate
// parsed, as long as PubKey and the profile are unchanged.
func (c *Claims) RAK() (*ecdsa.PublicKey, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no realm token, so no RAK (a bare platform token)", token.ErrMalformed)
	}
	gen := c.Generation()
	if gen == token.GenUnknown {
		return nil, fmt.Errorf("%w: unknown realm profile %q: cannot tell the RAK encoding", token.ErrProfile, c.Profile)
	}
	return c.parseRAK(gen)
}

// ValidateRAK is Validate returning the RAK it parsed.
func (c *Claims) ValidateRAK(opts ValidateOptions) (*ecdsa.PublicKey, error) {
	return c.validate(opts)
}

func (c *Claims) parseRAK(gen token.Generation) (*ecdsa.PublicKey, error) {
	if rc := c.rak; rc != nil {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.key != nil && rc.gen == gen && bytes.Equal(rc.from, c.PubKey) {
			return rc.key, nil
		}
	}
	k, err := parseRAK(c.PubKey, gen)
	if err != nil {
		return nil, err
	}
	if rc := c.rak; rc != nil {
		rc.from, rc.gen, rc.key = append(rc.from[:0], c.PubKey...), gen, k
	}
	return k, nil
}

func parseRAK(b []byte, gen token.Generation) (*ecdsa.PublicKey, error) {
	var (
		k   *ecdsa.PublicKey
		err error
	)
	if gen == token.GenLegacy {
		k, err = token.DecodeRawPoint(b)
	} else {
		k, err = token.DecodeCOSEKey(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyRealmPubKey), err)
	}
	return k, nil
}

// EncodeRAK encodes a RAK in the form of the generation.
func EncodeRAK(pub *ecdsa.PublicKey, gen token.Generation) ([]byte, error) {
	if gen == token.GenLegacy {
		return token.EncodeRawPoint(pub)
	}
	return token.EncodeCOSEKey(pub)
}

// Encode encodes the claims set in TF-RMM's order (TF-RMM
// attestation_token.c: challenge, realm instance id, RPV, RAK, hash algo,
// RAK hash algo, MEC policy, profile, RIM, REMs; v0.6.0–v0.9.0 have the same
// order without the claims they lack), then the LFA policy and the devices
// token hash, which no producer emits yet, then Extra claims by key. A claim that is not set (nil, or an empty
// string) is left out, so that a decoded set re-encodes to the claims it
// carried; a legacy set has no profile claim. It does not validate.
func (c *Claims) Encode() ([]byte, error) {
	pairs := make([]token.ClaimPair, 0, 12+len(c.Extra))
	addBytes := func(key int64, b []byte) {
		if b != nil {
			pairs = append(pairs, token.ClaimPair{Key: key, Value: b})
		}
	}
	addString := func(key int64, s string) {
		if s != "" {
			pairs = append(pairs, token.ClaimPair{Key: key, Value: s})
		}
	}
	addBytes(token.KeyChallenge, c.Challenge)
	addBytes(token.KeyRealmInstanceID, c.InstanceID)
	addBytes(token.KeyRealmPersonalizationValue, c.PersonalizationValue)
	addBytes(token.KeyRealmPubKey, c.PubKey)
	addString(token.KeyRealmHashAlgID, c.HashAlgID)
	addString(token.KeyRealmPubKeyHashAlgID, c.PubKeyHashAlgID)
	if c.MECPolicy != nil {
		pairs = append(pairs, token.ClaimPair{Key: token.KeyRealmMECPolicy, Value: c.MECPolicy.cborValue()})
	}
	addString(token.KeyProfile, c.Profile)
	addBytes(token.KeyRealmInitialMeasurement, c.InitialMeasurement)
	if c.ExtensibleMeasurements != nil {
		rems := make([][]byte, len(c.ExtensibleMeasurements))
		for i, r := range c.ExtensibleMeasurements {
			rems[i] = nonNil(r)
		}
		pairs = append(pairs, token.ClaimPair{Key: token.KeyRealmExtensibleMeas, Value: rems})
	}
	if c.LFAPolicy != nil {
		pairs = append(pairs, token.ClaimPair{Key: token.KeyRealmLFAPolicy, Value: *c.LFAPolicy})
	}
	addBytes(token.KeyRealmDevicesTokenHash, c.DevicesTokenHash)
	for _, k := range token.SortedKeys(c.Extra) {
		pairs = append(pairs, token.ClaimPair{Key: k, Value: c.Extra[k]})
	}
	return token.EncodeClaims(pairs)
}

func exactSize(key int64, b []byte, n int) error {
	if b == nil {
		return missing(key)
	}
	if len(b) != n {
		return invalid(key, "%d bytes, must be %d", len(b), n)
	}
	return nil
}

func missing(key int64) error {
	return fmt.Errorf("%w: %s", token.ErrMissingClaim, token.ClaimName(token.SetRealm, key))
}

func invalid(key int64, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", token.ErrSyntax, token.ClaimName(token.SetRealm, key), fmt.Sprintf(format, args...))
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
