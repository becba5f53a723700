package endorsement

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"

	"github.com/ccakit/cca/token"
)

// Measurement keys of the 2025 CCA platform profile (veraison/corim
// profiles/cca/platform.go; draft-ydb-rats-cca-endorsements §3.1.3).
const (
	mkeySwComponent   = "cca.software-component"
	mkeyPlatformConfg = "cca.platform-config"
)

// Sizes from the CCA platform token (draft-ffm-rats-cca-token §4.3:
// implementation id 32 bytes, instance id a 33-byte RAND UEID).
const (
	implIDSize     = 32
	instanceIDSize = 33
	ueidTypeRAND   = 0x01
)

// implementationID checks the class of a platform environment: the
// implementation id as class id, 560(bytes) in the 2025 profile and
// 600(psa.impl-id) in the earlier ones. Messages as veraison/corim
// profiles/psa/psa.go ValidateImplementationID.
func (d *decoder) implementationID(env environment, where string) ([]byte, error) {
	if !env.hasClass {
		return nil, fmt.Errorf("%w: %s: environment.class is required", ErrInvalid, where)
	}
	if env.classID == nil {
		return nil, fmt.Errorf("%w: %s: environment.class.id (implementation-id) is required", ErrInvalid, where)
	}
	want, wantName := uint64(tagBytes), "bytes"
	if d.profile.legacy {
		want, wantName = tagPSAImplID, "psa.impl-id"
	}
	id, ok := taggedBytes(env.classID, want)
	if !ok {
		return nil, fmt.Errorf("%w: %s: implementation-id must be of type '%s', got '%s'", ErrInvalid, where, wantName, kind(env.classID))
	}
	if len(id) != implIDSize {
		return nil, fmt.Errorf("%w: %s: implementation-id must be exactly %d bytes (got %d)", ErrInvalid, where, implIDSize, len(id))
	}
	return id, nil
}

// instanceID checks the instance of a key triple's environment (psa.go
// ValidateInstanceID).
func instanceID(env environment, where string) ([]byte, error) {
	if !env.instanceGiven {
		return nil, fmt.Errorf("%w: %s: environment.instance (instance-id) is required", ErrInvalid, where)
	}
	id, ok := taggedBytes(env.instance, tagUEID)
	if !ok {
		return nil, fmt.Errorf("%w: %s: instance-id must be of type 'ueid', got '%s'", ErrInvalid, where, kind(env.instance))
	}
	if len(id) != instanceIDSize {
		return nil, fmt.Errorf("%w: %s: instance-id must be exactly %d bytes (got %d)", ErrInvalid, where, instanceIDSize, len(id))
	}
	if id[0] != ueidTypeRAND {
		return nil, fmt.Errorf("%w: %s: instance-id must have RAND type (0x01), got 0x%02x", ErrInvalid, where, id[0])
	}
	return id, nil
}

// keyTriple reads an attest-key triple: one CPAK for one platform
// instance, a PEM SubjectPublicKeyInfo in 554 (CCA draft §3.1.4).
func (d *decoder) keyTriple(t item, where string) error {
	env, keys, err := tripleParts(t, where, "verification-keys")
	if err != nil {
		return err
	}
	impl, err := d.implementationID(env, where)
	if err != nil {
		return err
	}
	inst, err := instanceID(env, where)
	if err != nil {
		return err
	}
	if len(keys) != 1 {
		return fmt.Errorf("%w: %s: verification-keys must contain exactly one entry, got %d", ErrInvalid, where, len(keys))
	}
	num, content, ok := untag(keys[0])
	if !ok || num != tagPKIXKey {
		return fmt.Errorf("%w: %s: verification-key must be of type 'pkix-base64-key', got '%s'", ErrInvalid, where, kind(keys[0]))
	}
	text, err := asText(content, where, "verification-key")
	if err != nil {
		return err
	}
	key, err := parsePEMKey(text)
	if err != nil {
		err = fmt.Errorf("%w: %s: verification-key: %v", ErrInvalid, where, err)
		if !d.opts.IsolateBadKeys {
			return err
		}
		d.e.BadTrustAnchors = append(d.e.BadTrustAnchors, BadTrustAnchor{ImplementationID: impl, InstanceID: inst, Where: where, Err: err})
		return nil
	}
	d.e.TrustAnchors = append(d.e.TrustAnchors, TrustAnchor{
		ImplementationID: impl, InstanceID: inst, Key: key,
		Vendor: env.vendor, Model: env.model, Where: where,
	})
	return nil
}

// parsePEMKey reads exactly one PEM "PUBLIC KEY" block (RFC 7468 §13)
// of a key type COSE can verify with.
func parsePEMKey(text string) (any, error) {
	block, rest := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return nil, fmt.Errorf("no PEM block")
	case block.Type != "PUBLIC KEY":
		return nil, fmt.Errorf("PEM block %s, expected PUBLIC KEY", quote(block.Type))
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%d bytes after the PEM block", len(rest))
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("SubjectPublicKeyInfo: %v", err)
	}
	if _, err := token.AlgorithmForKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// platformTriple reads a platform reference-value triple.
func (d *decoder) platformTriple(t item, where string) error {
	env, list, err := tripleParts(t, where, "measurements")
	if err != nil {
		return err
	}
	impl, err := d.implementationID(env, where)
	if err != nil {
		return err
	}
	if env.instanceGiven {
		// Veraison looks reference values up by the exact environment
		// {class} (vts/trustedservices), so one with an instance is never
		// used there; dropping the instance here would widen it.
		return fmt.Errorf("%w: %s: environment.instance: platform reference values are per implementation; one for a single instance is not supported", ErrInvalid, where)
	}
	ms, err := d.measurements(list, where)
	if err != nil {
		return err
	}
	ref := PlatformReference{ImplementationID: impl, Vendor: env.vendor, Model: env.model, Where: where}
	if d.profile.legacy {
		err = d.legacyPlatform(ms, &ref, where)
	} else {
		err = d.platform(ms, &ref, where)
	}
	if err != nil {
		return err
	}
	d.e.Platforms = append(d.e.Platforms, ref)
	return nil
}

// platform reads the measurements of the 2025 profile, with the checks of
// veraison/corim profiles/cca/platform.go validateCCAPlatformReferenceValue
// in its order, then this package's (unused measurement-values keys).
func (d *decoder) platform(ms []measurement, ref *PlatformReference, where string) error {
	configs, components := 0, 0
	for j, m := range ms {
		w := fmt.Sprintf("%s, measurement %d", where, j)
		name, err := mkeyText(m, w)
		if err != nil {
			return err
		}
		switch name {
		case mkeySwComponent:
			if err := d.swComponent(m.mval, ref, w); err != nil {
				return err
			}
			components++
		case mkeyPlatformConfg:
			if err := platformConfig(m.mval, ref, w); err != nil {
				return err
			}
			if configs++; configs > 1 {
				return fmt.Errorf("%w: %s: only one platform-config measurement allowed per triple, found %d", ErrInvalid, w, configs)
			}
		default:
			return fmt.Errorf("%w: %s: invalid mkey %s, expected %q or %q", ErrInvalid, w, quote(name), mkeySwComponent, mkeyPlatformConfg)
		}
	}
	if components == 0 {
		return fmt.Errorf("%w: %s: at least one software component measurement is required", ErrInvalid, where)
	}
	return nil
}

// swComponent reads cca.software-component: {2: digests, 13: [560(signer
// id)], ?11: component type, ?0: {0: version}}.
func (d *decoder) swComponent(mval map[int64]item, ref *PlatformReference, where string) error {
	ds, err := d.digests(mval[2], where, false)
	if err != nil {
		return err
	}
	signer, err := signerID(mval[13], where)
	if err != nil {
		return err
	}
	var version, typ string
	if v := mval[0]; v != nil {
		vm, err := asMap(v, where, "version (key 0)")
		if err != nil {
			return err
		}
		if vm[1] != nil {
			return fmt.Errorf("%w: %s: version-scheme field MUST NOT be present in cca.software-component", ErrInvalid, where)
		}
		for k := range vm {
			if k != 0 {
				return fmt.Errorf("%w: %s: version map key %d is not understood", ErrInvalid, where, k)
			}
		}
		if vm[0] == nil {
			return fmt.Errorf("%w: %s: version map has no version (key 0)", ErrInvalid, where)
		}
		if version, err = asText(vm[0], where, "version"); err != nil {
			return err
		}
	}
	if n := mval[11]; n != nil {
		if typ, err = asText(n, where, "name (key 11)"); err != nil {
			return err
		}
	}
	if err := onlyKeys(mval, where, mkeySwComponent, 0, 2, 11, 13); err != nil {
		return err
	}
	for _, dg := range ds {
		ref.SwComponents = append(ref.SwComponents, SwComponent{Type: typ, Version: version, Alg: dg.alg, Value: dg.value, SignerID: signer})
	}
	return nil
}

// signerID reads cryptokeys with exactly one 560(signer id) (veraison/corim
// profiles/psa/psa.go ValidateSignerID).
func signerID(it item, where string) ([]byte, error) {
	if it == nil {
		return nil, fmt.Errorf("%w: %s: cryptokeys (signer-id) is mandatory but not set", ErrInvalid, where)
	}
	keys, err := asArray(it, where, "cryptokeys")
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %s: cryptokeys must contain exactly one entry, got %d", ErrInvalid, where, len(keys))
	}
	id, ok := taggedBytes(keys[0], tagBytes)
	if !ok {
		return nil, fmt.Errorf("%w: %s: cryptokeys (signer-id) must be of type 'bytes', got '%s'", ErrInvalid, where, kind(keys[0]))
	}
	if err := hashSize(id, where, "signer-id"); err != nil {
		return nil, err
	}
	return id, nil
}

func hashSize(b []byte, where, what string) error {
	if n := len(b); n != 32 && n != 48 && n != 64 {
		return fmt.Errorf("%w: %s: %s must be 32, 48, or 64 bytes (got %d)", ErrInvalid, where, what, n)
	}
	return nil
}

// platformConfig reads cca.platform-config: {4: 560(value), 5: mask} as
// Veraison writes and requires it, or {4: 563([value, mask])} as the CCA
// draft §3.1.3 writes it (veraison/corim refuses this one; it says the same).
func platformConfig(mval map[int64]item, ref *PlatformReference, where string) error {
	raw := mval[4]
	if raw == nil {
		return fmt.Errorf("%w: %s: raw-value is mandatory for cca.platform-config", ErrInvalid, where)
	}
	var value, mask []byte
	num, content, _ := untag(raw)
	switch num {
	case tagBytes:
		v, ok := taggedBytes(raw, tagBytes)
		if !ok {
			return fmt.Errorf("%w: %s: raw-value 560 does not hold a byte string", ErrInvalid, where)
		}
		if mval[5] == nil {
			return fmt.Errorf("%w: %s: raw-value-mask is mandatory for cca.platform-config", ErrInvalid, where)
		}
		m, err := asBytes(mval[5], where, "raw-value-mask (key 5)")
		if err != nil {
			return err
		}
		value, mask = v, m
	case tagMaskedRaw:
		pair, err := asArray(content, where, "masked-raw-value 563")
		if err != nil {
			return err
		}
		if len(pair) != 2 {
			return fmt.Errorf("%w: %s: masked-raw-value has %d elements, expected [value, mask]", ErrInvalid, where, len(pair))
		}
		if value, err = asBytes(pair[0], where, "masked-raw-value value"); err != nil {
			return err
		}
		if mask, err = asBytes(pair[1], where, "masked-raw-value mask"); err != nil {
			return err
		}
		if mval[5] != nil {
			return fmt.Errorf("%w: %s: raw-value-mask (key 5) beside a masked-raw-value (563)", ErrInvalid, where)
		}
	default:
		return fmt.Errorf("%w: %s: raw-value must be of type 'bytes' or 'masked-raw-value', got '%s'", ErrInvalid, where, kind(raw))
	}
	if len(mask) != len(value) {
		return fmt.Errorf("%w: %s: raw-value-mask is %d bytes, the raw value %d", ErrInvalid, where, len(mask), len(value))
	}
	if err := onlyKeys(mval, where, mkeyPlatformConfg, 4, 5); err != nil {
		return err
	}
	ref.Config, ref.ConfigMask = value, mask
	return nil
}

// legacyPlatform reads the measurements of http://arm.com/cca/ssd/1 and
// tag:arm.com,2023:cca_platform#1.0.0: software components keyed by
// 601(psa.refval-id {?1: label, ?4: version, 5: signer-id}) with {2:
// digests}, the configuration keyed by 602(label) with {4: 560(value)}
// (veraison/services scheme/common/cca/platform at b8993d2;
// draft-tschofenig-rats-psa-token endorsements, psa-refval-id).
func (d *decoder) legacyPlatform(ms []measurement, ref *PlatformReference, where string) error {
	configs := 0
	for j, m := range ms {
		w := fmt.Sprintf("%s, measurement %d", where, j)
		if m.mkey == nil {
			return fmt.Errorf("%w: %s: mkey is mandatory but not set", ErrInvalid, w)
		}
		num, content, _ := untag(m.mkey)
		switch num {
		case tagPSARefvalID:
			if err := d.legacyComponent(content, m.mval, ref, w); err != nil {
				return err
			}
		case tagCCAConfigID:
			if _, err := asText(content, w, "cca.platform-config-id label"); err != nil {
				return err
			}
			v, ok := taggedBytes(m.mval[4], tagBytes)
			if !ok {
				if m.mval[4] == nil {
					return fmt.Errorf("%w: %s: raw-value is mandatory for cca.platform-config-id", ErrInvalid, w)
				}
				return fmt.Errorf("%w: %s: raw-value must be of type 'bytes', got '%s'", ErrInvalid, w, kind(m.mval[4]))
			}
			if err := onlyKeys(m.mval, w, "cca.platform-config-id", 4); err != nil {
				return err
			}
			if configs++; configs > 1 {
				return fmt.Errorf("%w: %s: only one platform-config measurement allowed per triple, found %d", ErrInvalid, w, configs)
			}
			ref.Config = v
		default:
			return fmt.Errorf("%w: %s: mkey must be of type 'psa.refval-id' or 'cca.platform-config-id' in profile %s, got '%s'", ErrInvalid, w, quote(d.e.Profile), kind(m.mkey))
		}
	}
	return nil
}

func (d *decoder) legacyComponent(refvalID item, mval map[int64]item, ref *PlatformReference, where string) error {
	id, err := asMap(refvalID, where, "psa.refval-id")
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(id)) {
		if k != 1 && k != 4 && k != 5 {
			return fmt.Errorf("%w: %s: psa.refval-id key %d is not understood", ErrInvalid, where, k)
		}
	}
	var label, version string
	if id[1] != nil {
		if label, err = asText(id[1], where, "psa.refval-id label"); err != nil {
			return err
		}
	}
	if id[4] != nil {
		if version, err = asText(id[4], where, "psa.refval-id version"); err != nil {
			return err
		}
	}
	if id[5] == nil {
		return fmt.Errorf("%w: %s: psa.refval-id signer-id (key 5) is mandatory but not set", ErrInvalid, where)
	}
	signer, err := asBytes(id[5], where, "psa.refval-id signer-id")
	if err != nil {
		return err
	}
	if err := hashSize(signer, where, "signer-id"); err != nil {
		return err
	}
	ds, err := d.digests(mval[2], where, false)
	if err != nil {
		return err
	}
	if err := onlyKeys(mval, where, "psa.refval-id", 2); err != nil {
		return err
	}
	for _, dg := range ds {
		ref.SwComponents = append(ref.SwComponents, SwComponent{Type: label, Version: version, Alg: dg.alg, Value: dg.value, SignerID: signer})
	}
	return nil
}
