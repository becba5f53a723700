package endorsement

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ccakit/cca/token"
	"github.com/fxamacker/cbor/v2"
	cose "github.com/veraison/go-cose"
)

// The encoders write today's profile forms (veraison/corim profiles/cca;
// draft-ydb-rats-cca-endorsements §3) the way Veraison's provisioning takes
// them (veraison/services scheme/arm-cca test CoRIMs since d4c39f7):
// 501({0: id, 1: [506(<<CoMID>>)], 3: 32(profile)}), one CoMID per kind of
// triple, one digest per software component (Veraison's appraisal refuses
// more, scheme/arm-cca/scheme.go), a component version only if given
// (Veraison's library cannot take one; see platformTripleOut), digest algorithms by their text names
// (the CCA draft's choice; Veraison reads text and integer ids alike),
// the platform configuration as {4: 560(value), 5: mask} (veraison/corim
// refuses the draft's 563 form). Output is deterministic (RFC 8949 §4.2.1
// core deterministic encoding).

var enc = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// EncodeTrustAnchors writes the CPAKs as an unsigned CoRIM of the 2025 CCA
// platform profile, one attest-key triple each: environment {0: {0:
// 560(implementation id)}, 1: 550(instance id)}, key 554(PEM).
func EncodeTrustAnchors(id string, tas ...TrustAnchor) ([]byte, error) {
	return Encode(&Endorsements{ID: id, TrustAnchors: tas})
}

// EncodePlatform writes platform reference values as an unsigned CoRIM of
// the 2025 CCA platform profile, one reference-value triple per
// PlatformReference.
func EncodePlatform(id string, refs ...PlatformReference) ([]byte, error) {
	return Encode(&Endorsements{ID: id, Platforms: refs})
}

// EncodeRealm writes realm reference values as an unsigned CoRIM of the
// 2025 CCA realm profile, one reference-value triple per realm.
func EncodeRealm(id string, refs ...RealmReference) ([]byte, error) {
	return Encode(&Endorsements{ID: id, Realms: refs})
}

// Encode writes e as an unsigned CoRIM in today's profile: the platform
// profile for trust anchors and platform reference values (a CoMID of
// reference values first, then one of keys, as Veraison's own), the realm
// profile for realm reference values; one CoRIM cannot hold both. e.ID
// names the CoRIM and, with a suffix, its CoMIDs. Profile, Legacy, Signed,
// SignerName and Where are ignored; NotBefore/NotAfter, if set, become
// rim-validity.
func Encode(e *Endorsements) ([]byte, error) {
	if e.ID == "" {
		return nil, errors.New("endorsement: encode: the CoRIM needs an id")
	}
	platform := len(e.TrustAnchors) > 0 || len(e.Platforms) > 0
	var comids [][]byte
	var prof string
	switch {
	case platform && len(e.Realms) > 0:
		return nil, errors.New("endorsement: encode: platform and realm endorsements belong to different profiles, hence CoRIMs")
	case len(e.Realms) > 0:
		prof = ProfileRealm
		triples := make([]any, len(e.Realms))
		for i, r := range e.Realms {
			t, err := realmTripleOut(r)
			if err != nil {
				return nil, fmt.Errorf("endorsement: encode: realm %d: %w", i, err)
			}
			triples[i] = t
		}
		c, err := comidOut(e.ID+"/realm", map[int]any{triplesReference: triples})
		if err != nil {
			return nil, err
		}
		comids = append(comids, c)
	case platform:
		prof = ProfilePlatform
		if len(e.Platforms) > 0 {
			triples := make([]any, len(e.Platforms))
			for i, p := range e.Platforms {
				t, err := platformTripleOut(p)
				if err != nil {
					return nil, fmt.Errorf("endorsement: encode: platform %d: %w", i, err)
				}
				triples[i] = t
			}
			c, err := comidOut(e.ID+"/refvals", map[int]any{triplesReference: triples})
			if err != nil {
				return nil, err
			}
			comids = append(comids, c)
		}
		if len(e.TrustAnchors) > 0 {
			triples := make([]any, len(e.TrustAnchors))
			for i, ta := range e.TrustAnchors {
				t, err := keyTripleOut(ta)
				if err != nil {
					return nil, fmt.Errorf("endorsement: encode: trust anchor %d: %w", i, err)
				}
				triples[i] = t
			}
			c, err := comidOut(e.ID+"/keys", map[int]any{triplesAttestKey: triples})
			if err != nil {
				return nil, err
			}
			comids = append(comids, c)
		}
	default:
		return nil, errors.New("endorsement: encode: nothing to encode")
	}
	tags := make([]any, len(comids))
	for i, c := range comids {
		tags[i] = cbor.Tag{Number: tagCoMID, Content: c}
	}
	m := map[int]any{0: e.ID, 1: tags, 3: cbor.Tag{Number: tagURI, Content: prof}}
	if !e.NotAfter.IsZero() {
		v, err := validityOut(e.NotBefore, e.NotAfter)
		if err != nil {
			return nil, err
		}
		m[4] = v
	}
	return enc.Marshal(cbor.Tag{Number: tagUnsignedCoRIM, Content: m})
}

func comidOut(tagID string, triples map[int]any) ([]byte, error) {
	return enc.Marshal(map[int]any{
		comidTagIdentity: map[int]any{0: tagID},
		comidTriples:     triples,
	})
}

func validityOut(notBefore, notAfter time.Time) (map[int]any, error) {
	v := map[int]any{1: cbor.Tag{Number: 1, Content: notAfter.Unix()}}
	if !notBefore.IsZero() {
		if notBefore.After(notAfter) {
			return nil, errors.New("endorsement: encode: not-before is after not-after")
		}
		v[0] = cbor.Tag{Number: 1, Content: notBefore.Unix()}
	}
	return v, nil
}

func bytesTag(b []byte) cbor.Tag { return cbor.Tag{Number: tagBytes, Content: b} }

func keyTripleOut(ta TrustAnchor) (any, error) {
	if len(ta.ImplementationID) != implIDSize {
		return nil, fmt.Errorf("implementation id is %d bytes, expected %d", len(ta.ImplementationID), implIDSize)
	}
	if len(ta.InstanceID) != instanceIDSize || ta.InstanceID[0] != ueidTypeRAND {
		return nil, fmt.Errorf("instance id must be a %d-byte RAND UEID (first byte 0x01)", instanceIDSize)
	}
	if ta.Key == nil {
		return nil, errors.New("no key")
	}
	pemKey, err := token.MarshalPublicPEM(ta.Key)
	if err != nil {
		return nil, err
	}
	class := map[int]any{0: bytesTag(ta.ImplementationID)}
	addVendorModel(class, ta.Vendor, ta.Model)
	env := map[int]any{0: class, 1: cbor.Tag{Number: tagUEID, Content: ta.InstanceID}}
	// Veraison's PEM has no final newline; either decodes.
	return []any{env, []any{cbor.Tag{Number: tagPKIXKey, Content: string(trimNewline(pemKey))}}}, nil
}

func addVendorModel(class map[int]any, vendor, model string) {
	if vendor != "" {
		class[1] = vendor
	}
	if model != "" {
		class[2] = model
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

func digestOut(alg string, value []byte) ([]any, error) {
	n, ok := digestSizes[alg]
	switch {
	case !ok:
		return nil, fmt.Errorf("digest algorithm %q: expected sha-256, sha-384 or sha-512", alg)
	case n != len(value):
		return nil, fmt.Errorf("a %s digest is %d bytes, not %d", alg, n, len(value))
	}
	return []any{[]any{alg, value}}, nil
}

func platformTripleOut(p PlatformReference) (any, error) {
	if len(p.ImplementationID) != implIDSize {
		return nil, fmt.Errorf("implementation id is %d bytes, expected %d", len(p.ImplementationID), implIDSize)
	}
	if len(p.SwComponents) == 0 {
		return nil, errors.New("the CCA platform profile requires at least one software component")
	}
	var ms []any
	for i, c := range p.SwComponents {
		d, err := digestOut(c.Alg, c.Value)
		if err != nil {
			return nil, fmt.Errorf("software component %d: %w", i, err)
		}
		if n := len(c.SignerID); n != 32 && n != 48 && n != 64 {
			return nil, fmt.Errorf("software component %d: signer id is %d bytes, expected 32, 48 or 64", i, n)
		}
		mval := map[int]any{2: d, 13: []any{bytesTag(c.SignerID)}}
		if c.Type != "" {
			mval[11] = c.Type
		}
		// The profile's version, {0: version} without a scheme. Beware:
		// veraison/corim 53b3014 (profiles/cca/platform.go
		// validateCCASoftwareComponent) dereferences the absent scheme and
		// panics on it (and refuses a version with a scheme); for Veraison,
		// leave Version empty (its appraisal compares a version only when
		// the reference value has one).
		if c.Version != "" {
			mval[0] = map[int]any{0: c.Version}
		}
		ms = append(ms, map[int]any{0: mkeySwComponent, 1: mval})
	}
	if p.Config != nil {
		mask := p.ConfigMask
		if mask == nil { // compare every bit
			mask = make([]byte, len(p.Config))
			for i := range mask {
				mask[i] = 0xff
			}
		}
		if len(mask) != len(p.Config) {
			return nil, fmt.Errorf("configuration mask is %d bytes, the configuration %d", len(mask), len(p.Config))
		}
		ms = append(ms, map[int]any{0: mkeyPlatformConfg, 1: map[int]any{4: bytesTag(p.Config), 5: mask}})
	}
	class := map[int]any{0: bytesTag(p.ImplementationID)}
	addVendorModel(class, p.Vendor, p.Model)
	return []any{map[int]any{0: class}, ms}, nil
}

func realmTripleOut(r RealmReference) (any, error) {
	rim, err := digestOut(r.HashAlg, r.RIM)
	if err != nil {
		return nil, fmt.Errorf("RIM: %w", err)
	}
	ms := []any{map[int]any{0: mkeyRIM, 1: map[int]any{2: rim}}}
	for i, rem := range r.REMs {
		if rem == nil {
			continue
		}
		d, err := digestOut(r.HashAlg, rem)
		if err != nil {
			return nil, fmt.Errorf("REM%d: %w", i, err)
		}
		ms = append(ms, map[int]any{0: mkeyREMs[i], 1: map[int]any{2: d}})
	}
	if r.RPV != nil {
		if len(r.RPV) != rpvSize {
			return nil, fmt.Errorf("personalization value is %d bytes, expected %d", len(r.RPV), rpvSize)
		}
		ms = append(ms, map[int]any{0: mkeyRPV, 1: map[int]any{4: bytesTag(r.RPV)}})
	}
	env := map[int]any{0: map[int]any{0: bytesTag(r.RIM)}}
	return []any{env, ms}, nil
}

// SignOptions controls Sign.
type SignOptions struct {
	// SignerName is the corim-meta signer name (mandatory there).
	SignerName string
	// NotBefore and NotAfter, if NotAfter is set, are the corim-meta
	// signature validity.
	NotBefore, NotAfter time.Time
	// X5Chain, if given, is carried in the protected header (COSE header
	// 33, RFC 9360), leaf first, DER.
	X5Chain [][]byte
	// Rand is the randomness for the signature; nil means crypto/rand.
	Rand io.Reader
}

// Sign wraps an unsigned CoRIM (as Encode writes it) in a COSE_Sign1 (tag
// 18, draft-ietf-rats-corim §4.2): protected header {1: alg (the key's),
// 3: "application/rim+cbor", 8: <<corim-meta>>, ?33: x5chain},
// unprotected {}, payload the CoRIM.
func Sign(unsigned []byte, key crypto.Signer, opts SignOptions) ([]byte, error) {
	if opts.SignerName == "" {
		return nil, errors.New("endorsement: sign: corim-meta needs a signer name")
	}
	if num, _, ok := untag(unsigned); !ok || num != tagUnsignedCoRIM {
		return nil, errors.New("endorsement: sign: the payload must be an unsigned CoRIM, 501(corim-map)")
	}
	alg, err := token.AlgorithmForKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("endorsement: sign: %w", err)
	}
	meta := map[int]any{0: map[int]any{0: opts.SignerName}}
	if !opts.NotAfter.IsZero() {
		v, err := validityOut(opts.NotBefore, opts.NotAfter)
		if err != nil {
			return nil, err
		}
		meta[1] = v
	}
	metaBytes, err := enc.Marshal(meta)
	if err != nil {
		return nil, err
	}
	prot := cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm:   alg,
		cose.HeaderLabelContentType: ContentType,
		int64(hdrCoRIMMeta):         metaBytes,
	}
	if len(opts.X5Chain) == 1 {
		prot[cose.HeaderLabelX5Chain] = opts.X5Chain[0]
	} else if len(opts.X5Chain) > 1 {
		prot[cose.HeaderLabelX5Chain] = opts.X5Chain
	}
	signer, err := cose.NewSigner(alg, key)
	if err != nil {
		return nil, fmt.Errorf("endorsement: sign: %w", err)
	}
	rng := opts.Rand
	if rng == nil {
		rng = rand.Reader
	}
	msg := cose.Sign1Message{Headers: cose.Headers{Protected: prot}, Payload: unsigned}
	if err := msg.Sign(rng, nil, signer); err != nil {
		return nil, fmt.Errorf("endorsement: sign: %w", err)
	}
	return msg.MarshalCBOR()
}
