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

// Format is a generation this package can create.
type Format int

const (
	// FormatREL0 is RMM 1.0-REL0: tag 399, 2023 profiles, COSE_Key RAK. The
	// zero value, and the default.
	FormatREL0 Format = iota
	// FormatLegacy is RMM 1.0-EAC5: tag 399, CCA-SSD platform profile, no
	// realm profile, raw-point RAK.
	FormatLegacy
	// FormatCMW is the tag-907 CMW collection with 2023 profiles.
	FormatCMW
)

var formatNames = [...]string{FormatREL0: "rel0", FormatLegacy: "legacy", FormatCMW: "cmw"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat reads "rel0", "legacy" (also "eac5") or "cmw".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "rel0", "":
		return FormatREL0, nil
	case "legacy", "eac5":
		return FormatLegacy, nil
	case "cmw", "907":
		return FormatCMW, nil
	}
	return 0, fmt.Errorf("unknown token format %q (want rel0, legacy or cmw)", s)
}

// Generation is the claims generation the format carries.
func (f Format) Generation() token.Generation {
	if f == FormatLegacy {
		return token.GenLegacy
	}
	return token.Gen1
}

// Wrapper is the collection wrapper the format uses.
func (f Format) Wrapper() token.Wrapper {
	if f == FormatCMW {
		return token.Wrapper907
	}
	return token.Wrapper399
}

// FormatOf tells the format a platform profile implies, for callers that
// let the claims choose.
func FormatOf(platformProfile string) (Format, bool) {
	switch platformProfile {
	case token.ProfilePlatformLegacy:
		return FormatLegacy, true
	case token.ProfilePlatform1:
		return FormatREL0, true
	}
	return 0, false
}

// Create signs a platform and a realm claims set into evidence of the given
// format, as RMM and platform firmware would. It fills in what the format
// and keys decide (profiles, the RAK claim in the generation's encoding, the
// RAK hash algorithm if empty, the platform challenge as the binding), and
// validates both claims sets before signing. The claims passed in are not
// modified. iak signs the platform token; rak (an ECDSA key) signs the realm
// token. rng nil means crypto/rand.
func Create(p *platform.Claims, r *realm.Claims, iak, rak crypto.Signer, f Format, rng io.Reader) ([]byte, error) {
	if f < FormatREL0 || f > FormatCMW {
		return nil, fmt.Errorf("unknown format %v", f)
	}
	pc, rc := *p, *r
	gen := f.Generation()
	var err error
	if pc.Profile, err = fillProfile(pc.Profile, token.SetPlatform, gen); err != nil {
		return nil, fmt.Errorf("platform claims: %w", err)
	}
	if rc.Profile, err = fillProfile(rc.Profile, token.SetRealm, gen); err != nil {
		return nil, fmt.Errorf("realm claims: %w", err)
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
	return (&token.Collection{Wrapper: f.Wrapper(), Platform: pTok, Realm: rTok}).Encode()
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
