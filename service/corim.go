package service

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// CoRIMProvisioner decodes submitted CoRIMs with package endorsement and
// stores their trust anchors and reference values.
type CoRIMProvisioner struct {
	Store store.Endorsements
	// SignerKeys and Roots check signed CoRIMs (application/rim+cose):
	// the signature must verify with one of the keys, or with the leaf of
	// the CoRIM's x5chain verified to Roots (Veraison's way). With
	// neither, signed CoRIMs are refused.
	SignerKeys []crypto.PublicKey
	Roots      *x509.CertPool
}

// legacyFamilies: a CoRIM sent under a pre-d4c39f7 media type may carry
// that profile or its 2023 tag name (scheme/arm-cca at ccc65e2 accepted
// both).
var legacyFamilies = map[string][]string{
	legacyPlatformProfile: {endorsement.ProfilePlatformSSD, endorsement.ProfilePlatform2023},
	legacyRealmProfile:    {endorsement.ProfileRealmLegacy, endorsement.ProfileRealm2023},
}

// Provision implements Provisioner. As in Veraison's SubmitEndorsements
// (vts/trustedservices/trustedservices_grpc.go), application/rim+cose is a
// signed CoRIM and application/rim+cbor an unsigned one, and the CoRIM's
// profile must be the media type's.
func (p *CoRIMProvisioner) Provision(ctx context.Context, mediaType, profile string, body []byte) error {
	base, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return fmt.Errorf("%w: media type: %v", ErrEndorsement, err)
	}
	var e *endorsement.Endorsements
	switch base {
	case "application/rim+cose":
		e, err = p.decodeSigned(body)
	case "application/rim+cbor", legacyCoRIMType:
		if looksSigned(body) {
			err = errors.New("a signed CoRIM must be submitted as application/rim+cose")
			break
		}
		e, err = endorsement.Decode(body, endorsement.DecodeOptions{})
	default:
		err = fmt.Errorf("unsupported media type %s", mediaType)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEndorsement, err)
	}
	if fam, legacy := legacyFamilies[profile]; legacy && base == legacyCoRIMType {
		ok := false
		for _, f := range fam {
			ok = ok || e.Profile == f
		}
		if !ok {
			return fmt.Errorf("%w: CoRIM profile (%s) does not match media type profile (%s)", ErrEndorsement, e.Profile, profile)
		}
	} else if e.Profile != profile {
		return fmt.Errorf("%w: CoRIM profile (%s) does not match media type profile (%s)", ErrEndorsement, e.Profile, profile)
	}
	if len(e.TrustAnchors)+len(e.Platforms)+len(e.Realms) == 0 {
		return fmt.Errorf("%w: CoRIM %q endorses nothing", ErrEndorsement, e.ID)
	}
	return p.Store.AddEndorsements(ctx, provisioned(e, mediaType, body))
}

func (p *CoRIMProvisioner) decodeSigned(body []byte) (*endorsement.Endorsements, error) {
	if len(p.SignerKeys) == 0 && p.Roots == nil {
		return nil, errors.New("signed CoRIMs are not accepted: no CoRIM signer key or root is configured (ccatoken serve --corim-key)")
	}
	var errs []error
	for _, k := range p.SignerKeys {
		e, err := endorsement.Decode(body, endorsement.DecodeOptions{SignerKey: k, RequireSigned: true})
		if err == nil {
			return e, nil
		}
		errs = append(errs, err)
	}
	if p.Roots != nil {
		e, err := endorsement.Decode(body, endorsement.DecodeOptions{Roots: p.Roots, RequireSigned: true})
		if err == nil {
			return e, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("no configured signer verifies the CoRIM: %w", errors.Join(errs...))
}

// provisioned turns decoded endorsements into the verifier's terms, as
// verifier.FromEndorsements does (platform reference values endorse
// components one by one, as Veraison's arm-cca scheme appraises CoRIM
// reference triples), each named by its CoRIM.
func provisioned(e *endorsement.Endorsements, mediaType string, body []byte) *store.Provisioned {
	p := &store.Provisioned{MediaType: mediaType, Profile: e.Profile, CoRIMID: e.ID, Body: body, NotAfter: e.NotAfter}
	at := func(where string) string { return fmt.Sprintf("CoRIM %q %s", e.ID, where) }
	for _, ta := range e.TrustAnchors {
		a := verifier.EndorsedTrustAnchor(ta)
		a.Where = at(a.Where)
		p.TrustAnchors = append(p.TrustAnchors, a)
	}
	for _, pr := range e.Platforms {
		ref := verifier.EndorsedPlatform(pr)
		ref.Where = at(ref.Where)
		p.Platforms = append(p.Platforms, ref)
	}
	for _, rr := range e.Realms {
		ref := verifier.EndorsedRealm(rr)
		ref.Where = at(ref.Where)
		p.Realms = append(p.Realms, ref)
	}
	return p
}

// looksSigned reports a COSE_Sign1 (tag 18), possibly behind the legacy
// 500(502(…)) prefix veraison/corim strips (draft-ietf-rats-corim §4.2).
func looksSigned(b []byte) bool {
	for _, prefix := range [][]byte{{0xd9, 0x01, 0xf4}, {0xd9, 0x01, 0xf6}} {
		b = bytes.TrimPrefix(b, prefix)
	}
	return len(b) > 0 && b[0] == 0xd2
}
