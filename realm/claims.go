// Package realm is the CCA realm token's claims set (its Go form,
// validation, the RAK encodings of each generation, CBOR and JSON codecs)
// and the measurement algorithms (RIM descriptors, REM extension) shared by
// the emulated RMM and by RIM prediction.
package realm

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/token"
)

// Sizes from token-formats.md §3 (realm token) and cca-rmm-1.0.md §4.2.
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

	// Extra holds claims this package does not interpret: the 2.0 claims
	// (realm instance id, MEC policy) and unknown keys, encoded as carried.
	Extra map[int64]cbor.RawMessage
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
	var profilePresent bool
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
	} {
		ok, err := m.Take(f.key, f.dst)
		if err != nil {
			return nil, err
		}
		if f.key == token.KeyProfile {
			profilePresent = ok
		}
	}
	if profilePresent && c.Profile == "" {
		return nil, invalid(token.KeyProfile, "empty string")
	}
	c.Extra = m.Rest()
	return c, nil
}

// ValidateOptions tighten validation.
type ValidateOptions struct {
	// RejectUnknownClaims fails on any claim key the profile does not define.
	RejectUnknownClaims bool
}

// Validate checks the claims set against its generation's rules.
func (c *Claims) Validate(opts ValidateOptions) error {
	gen := token.GenLegacy
	if c.Profile != "" {
		p, err := token.LookupProfile(c.Profile, token.SetRealm)
		if err != nil {
			return fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyProfile), err)
		}
		gen = p.Gen
	}
	if err := exactSize(token.KeyChallenge, c.Challenge, ChallengeSize); err != nil {
		return err
	}
	if err := exactSize(token.KeyRealmPersonalizationValue, c.PersonalizationValue, PersonalizationValueSize); err != nil {
		return err
	}
	if c.HashAlgID == "" {
		return missing(token.KeyRealmHashAlgID)
	}
	measSize, err := MeasurementSize(c.HashAlgID)
	if err != nil {
		return fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyRealmHashAlgID), err)
	}
	if err := exactSize(token.KeyRealmInitialMeasurement, c.InitialMeasurement, measSize); err != nil {
		return fmt.Errorf("%w (hash algorithm %s)", err, c.HashAlgID)
	}
	if c.ExtensibleMeasurements == nil {
		return missing(token.KeyRealmExtensibleMeas)
	}
	if n := len(c.ExtensibleMeasurements); n != NumREMs {
		return invalid(token.KeyRealmExtensibleMeas, "%d measurements, must be exactly %d", n, NumREMs)
	}
	for i, rem := range c.ExtensibleMeasurements {
		if len(rem) != measSize {
			return invalid(token.KeyRealmExtensibleMeas, "REM[%d] is %d bytes, must be %d (hash algorithm %s)", i, len(rem), measSize, c.HashAlgID)
		}
	}
	if c.PubKey == nil {
		return missing(token.KeyRealmPubKey)
	}
	if _, err := parseRAK(c.PubKey, gen); err != nil {
		return err
	}
	if c.PubKeyHashAlgID == "" {
		return missing(token.KeyRealmPubKeyHashAlgID)
	}
	if _, err := token.HashByName(c.PubKeyHashAlgID); err != nil {
		return fmt.Errorf("%s: %w", token.ClaimName(token.SetRealm, token.KeyRealmPubKeyHashAlgID), err)
	}
	if opts.RejectUnknownClaims {
		for _, k := range token.SortedKeys(c.Extra) {
			if cl, ok := token.LookupClaim(token.SetRealm, k); !ok || cl.Gen > gen {
				return fmt.Errorf("%w: %s is not defined by the %v realm token", token.ErrSyntax, token.ClaimName(token.SetRealm, k), gen)
			}
		}
	}
	return nil
}

// MeasurementSize is the size of a RIM or REM for the realm hash algorithm
// (claim 44236): sha-256 or sha-512, the two RMM 1.0 supports
// (cca-rmm-1.0.md §1.6, §5).
func MeasurementSize(hashAlgID string) (int, error) {
	switch hashAlgID {
	case token.SHA256:
		return 32, nil
	case token.SHA512:
		return 64, nil
	}
	return 0, fmt.Errorf("%w: realm measurement hash %q (must be %q or %q)", token.ErrAlgorithm, hashAlgID, token.SHA256, token.SHA512)
}

// RAK returns the realm attestation key carried in claim 44237, decoded by
// the generation: a raw SEC1 point without a profile (legacy), a COSE_Key
// with one.
func (c *Claims) RAK() (*ecdsa.PublicKey, error) {
	gen := c.Generation()
	if gen == token.GenUnknown {
		return nil, fmt.Errorf("%w: unknown realm profile %q: cannot tell the RAK encoding", token.ErrProfile, c.Profile)
	}
	return parseRAK(c.PubKey, gen)
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

// Encode encodes the claims set in TF-RMM's order (cca-rmm-1.0.md §4.2:
// challenge, RPV, RAK, hash algo, RAK hash algo, profile, RIM, REMs), with
// Extra claims last by key. A claim that is not set (nil, or an empty
// string) is left out, so that a decoded set re-encodes to the claims it
// carried; a legacy set has no profile claim. It does not validate.
func (c *Claims) Encode() ([]byte, error) {
	pairs := make([]token.ClaimPair, 0, 8+len(c.Extra))
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
	addBytes(token.KeyRealmPersonalizationValue, c.PersonalizationValue)
	addBytes(token.KeyRealmPubKey, c.PubKey)
	addString(token.KeyRealmHashAlgID, c.HashAlgID)
	addString(token.KeyRealmPubKeyHashAlgID, c.PubKeyHashAlgID)
	addString(token.KeyProfile, c.Profile)
	addBytes(token.KeyRealmInitialMeasurement, c.InitialMeasurement)
	if c.ExtensibleMeasurements != nil {
		rems := make([][]byte, len(c.ExtensibleMeasurements))
		for i, r := range c.ExtensibleMeasurements {
			rems[i] = nonNil(r)
		}
		pairs = append(pairs, token.ClaimPair{Key: token.KeyRealmExtensibleMeas, Value: rems})
	}
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
