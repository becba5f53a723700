package evidence

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"io"
	"strings"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Format is a shape of evidence this package can create: a wrapper and
// the generations of the two claims sets.
type Format int

const (
	// FormatREL0 is RMM 1.0-REL0: tag 399, 2023 profiles, COSE_Key RAK. The
	// zero value, and the default.
	FormatREL0 Format = iota
	// FormatLegacy is RMM 1.0-EAC5: tag 399, CCA-SSD platform profile, no
	// realm profile, raw-point RAK.
	FormatLegacy
	// FormatCMW is the tag-907 CMW collection with 2023 profiles (TF-RMM
	// v0.9.0).
	FormatCMW
	// FormatTFRMMMain is what TF-RMM main (72aea692 and later, no tag yet)
	// emits on FVP and QEMU: the tag-907 CMW collection, TF-A's 2023-profile
	// platform token, and a tag:arm.com,2024:realm#2.0.0 realm token with
	// the realm instance id (256) and the MEC policy (44243, an integer),
	// which Create requires the realm claims to carry.
	FormatTFRMMMain
)

var formatNames = [...]string{FormatREL0: "rel0", FormatLegacy: "legacy", FormatCMW: "cmw", FormatTFRMMMain: "tfrmm-main"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Formats lists the formats, in the order of their values.
func Formats() []Format { return []Format{FormatREL0, FormatLegacy, FormatCMW, FormatTFRMMMain} }

// ParseFormat reads "rel0", "legacy" (also "eac5"), "cmw" (also "907") or
// "tfrmm-main".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "rel0", "":
		return FormatREL0, nil
	case "legacy", "eac5":
		return FormatLegacy, nil
	case "cmw", "907":
		return FormatCMW, nil
	case "tfrmm-main":
		return FormatTFRMMMain, nil
	}
	return 0, fmt.Errorf("unknown token format %q (want rel0, legacy, cmw or tfrmm-main)", s)
}

// Generation is the generation of the format's realm claims (and of its
// platform claims, but for FormatTFRMMMain, whose platform token is 2023).
func (f Format) Generation() token.Generation { return f.GenerationOf(token.SetRealm) }

// GenerationOf is the generation of the format's claims set.
func (f Format) GenerationOf(set token.ClaimSet) token.Generation {
	switch {
	case f == FormatLegacy:
		return token.GenLegacy
	case f == FormatTFRMMMain && set == token.SetRealm:
		return token.Gen2
	}
	return token.Gen1
}

// Wrapper is the collection wrapper the format uses.
func (f Format) Wrapper() token.Wrapper {
	if f == FormatCMW || f == FormatTFRMMMain {
		return token.Wrapper907
	}
	return token.Wrapper399
}

// FormatOf tells the format a platform profile implies, for callers that
// let the claims choose; see FormatOfProfiles.
func FormatOf(platformProfile string) (Format, bool) {
	switch platformProfile {
	case token.ProfilePlatformLegacy:
		return FormatLegacy, true
	case token.ProfilePlatform1:
		return FormatREL0, true
	}
	return 0, false
}

// FormatOfProfiles tells the format the two profiles imply: a 2024 realm
// profile with the 2023 platform profile is TF-RMM main's.
func FormatOfProfiles(platformProfile, realmProfile string) (Format, bool) {
	if platformProfile == token.ProfilePlatform1 && realmProfile == token.ProfileRealm2 {
		return FormatTFRMMMain, true
	}
	return FormatOf(platformProfile)
}

// Create signs a platform and a realm claims set into evidence of the given
// format, as RMM and platform firmware would. It fills in what the format
// and keys decide (profiles, the RAK claim in the generation's encoding, the
// RAK hash algorithm if empty, the platform challenge as the binding), and
// validates both claims sets before signing. The claims passed in are not
// modified. iak signs the platform token; rak (an ECDSA key) signs the realm
// token. rng nil means crypto/rand; token.RFC6979 signs deterministically.
func Create(p *platform.Claims, r *realm.Claims, iak, rak crypto.Signer, f Format, rng io.Reader) ([]byte, error) {
	if f < FormatREL0 || f > FormatTFRMMMain {
		return nil, fmt.Errorf("unknown format %v", f)
	}
	pc, rc := *p, *r
	gen := f.GenerationOf(token.SetRealm)
	var err error
	if pc.Profile, err = fillProfile(pc.Profile, token.SetPlatform, f.GenerationOf(token.SetPlatform)); err != nil {
		return nil, fmt.Errorf("platform claims: %w", err)
	}
	if rc.Profile, err = fillProfile(rc.Profile, token.SetRealm, gen); err != nil {
		return nil, fmt.Errorf("realm claims: %w", err)
	}
	if f == FormatTFRMMMain && (rc.InstanceID == nil || rc.MECPolicy == nil) {
		// TF-RMM main writes both in every realm token
		// (app/attestation/el0_app/src/attestation_token.c).
		return nil, fmt.Errorf("realm claims: %w: %s evidence carries %s and %s, as TF-RMM main writes them", token.ErrMissingClaim, f,
			token.ClaimName(token.SetRealm, token.KeyRealmInstanceID), token.ClaimName(token.SetRealm, token.KeyRealmMECPolicy))
	}
	rakPub, ok := rak.Public().(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the RAK must be an ECDSA key, got %s", token.ErrKey, token.DescribeKey(rak.Public()))
	}
	if rc.PubKey, err = realm.EncodeRAK(rakPub, gen); err != nil {
		return nil, err
	}
	if rc.PubKeyHashAlgID == "" {
		rc.PubKeyHashAlgID = token.SHA256 // what TF-RMM always writes
	}
	if pc.Challenge, err = token.Binding(rc.PubKeyHashAlgID, rc.PubKey); err != nil {
		return nil, err
	}
	if err := pc.Validate(platform.ValidateOptions{}); err != nil {
		return nil, fmt.Errorf("platform claims: %w", err)
	}
	if err := rc.Validate(realm.ValidateOptions{}); err != nil {
		return nil, fmt.Errorf("realm claims: %w", err)
	}
	pPayload, err := pc.Encode()
	if err != nil {
		return nil, fmt.Errorf("encoding platform claims: %w", err)
	}
	rPayload, err := rc.Encode()
	if err != nil {
		return nil, fmt.Errorf("encoding realm claims: %w", err)
	}
	pTok, err := token.SignPayload(pPayload, iak, rng)
	if err != nil {
		return nil, fmt.Errorf("platform token: %w", err)
	}
	rTok, err := token.SignPayload(rPayload, rak, rng)
	if err != nil {
		return nil, fmt.Errorf("realm token: %w", err)
	}
	raw, err := (&token.Collection{Wrapper: f.Wrapper(), Platform: pTok, Realm: rTok}).Encode()
	if err != nil {
		return nil, err
	}
	// What Create writes, Decode must read: claims can be valid one by one
	// and still make evidence past the decoder's bounds
	// (token.MaxTokenSize), say a few hundred software components.
	if _, err := Decode(raw); err != nil {
		return nil, fmt.Errorf("the evidence would not decode: %w", err)
	}
	return raw, nil
}

// fillProfile returns the profile the generation wants, refusing a profile
// the caller set that belongs to another generation.
func fillProfile(have string, set token.ClaimSet, gen token.Generation) (string, error) {
	want, err := token.ProfileFor(set, gen)
	if err != nil {
		return "", err
	}
	if have != "" && have != want {
		if want == "" {
			return "", fmt.Errorf("%w: a %v %s token carries no profile, but the claims say %q", token.ErrProfile, gen, set, have)
		}
		return "", fmt.Errorf("%w: the claims say %q but a %v %s token has %q", token.ErrProfile, have, gen, set, want)
	}
	return want, nil
}
