package endorsement

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Measurement keys of the 2025 CCA realm profile (veraison/corim
// profiles/cca/realm.go; draft-ydb-rats-cca-endorsements §3.2).
const (
	mkeyRIM = "cca.rim"
	mkeyRPV = "cca.rpv"
)

var mkeyREMs = [4]string{"cca.rem0", "cca.rem1", "cca.rem2", "cca.rem3"}

// rpvSize is the size of the realm personalization value
// (draft-ffm-rats-cca-token §4.2, cca-realm-personalization-value).
const rpvSize = 64

func (d *decoder) realmTriple(t item, where string) error {
	env, list, err := tripleParts(t, where, "measurements")
	if err != nil {
		return err
	}
	if d.profile.legacy {
		return d.legacyRealm(env, list, where)
	}
	// veraison/corim profiles/cca/realm.go validateCCARealmRIM, in order.
	if !env.hasClass {
		return fmt.Errorf("%w: %s: environment.class is required for CCA Realm profile", ErrInvalid, where)
	}
	if env.classID == nil {
		return fmt.Errorf("%w: %s: environment.class.id (RIM) is required for CCA Realm profile", ErrInvalid, where)
	}
	rim, ok := taggedBytes(env.classID, tagBytes)
	if !ok {
		return fmt.Errorf("%w: %s: RIM must be of type 'bytes', got '%s'", ErrInvalid, where, kind(env.classID))
	}
	if err := hashSize(rim, where, "RIM"); err != nil {
		return err
	}
	// Veraison looks realm reference values up by the exact environment
	// {0: {0: 560(RIM)}}: anything more there means the entry is never
	// used; say so rather than drop it.
	switch {
	case env.instanceGiven:
		return fmt.Errorf("%w: %s: environment.instance is not part of the CCA realm profile (the RIM is the class id)", ErrInvalid, where)
	case env.hasVendor || env.model != "":
		return fmt.Errorf("%w: %s: environment.class holds more than the RIM (vendor or model), which the CCA realm profile does not use", ErrInvalid, where)
	}
	ms, err := d.measurements(list, where)
	if err != nil {
		return err
	}
	ref := RealmReference{Where: where}
	var rimDigest *digest
	for j, m := range ms {
		w := fmt.Sprintf("%s, measurement %d", where, j)
		name, err := mkeyText(m, w)
		if err != nil {
			return err
		}
		rem := -1
		for i, k := range mkeyREMs {
			if name == k {
				rem = i
			}
		}
		switch {
		case name == mkeyRIM || rem >= 0:
			what := "RIM"
			if rem >= 0 {
				what = "REM"
			}
			ds, err := d.digests(m.mval[2], fmt.Sprintf("%s (%s measurement)", w, what), true)
			if err != nil {
				return err
			}
			if err := onlyKeys(m.mval, w, name, 2, 11); err != nil {
				return err
			}
			if rem < 0 {
				if rimDigest != nil {
					return fmt.Errorf("%w: %s: a second cca.rim measurement", ErrInvalid, w)
				}
				rimDigest = &ds[0]
				continue
			}
			if ref.REMs[rem] != nil {
				return fmt.Errorf("%w: %s: a second %s measurement", ErrInvalid, w, name)
			}
			ref.REMs[rem] = ds[0].value
			if ref.HashAlg != "" && ref.HashAlg != ds[0].alg {
				return fmt.Errorf("%w: %s: %s is %s, another REM %s", ErrInvalid, w, name, ds[0].alg, ref.HashAlg)
			}
			ref.HashAlg = ds[0].alg
		case name == mkeyRPV:
			rpv, err := rpvValue(m.mval[4], w, "cca.rpv")
			if err != nil {
				return err
			}
			if err := onlyKeys(m.mval, w, name, 4, 11); err != nil {
				return err
			}
			if ref.RPV != nil {
				return fmt.Errorf("%w: %s: a second cca.rpv measurement", ErrInvalid, w)
			}
			ref.RPV = rpv
		default:
			return fmt.Errorf("%w: %s: invalid mkey %s, expected 'cca.rim', 'cca.rem0'-'cca.rem3', or 'cca.rpv'", ErrInvalid, w, quote(name))
		}
	}
	if rimDigest == nil {
		return fmt.Errorf("%w: %s: RIM (cca.rim) measurement is mandatory but not found", ErrInvalid, where)
	}
	if !bytes.Equal(rimDigest.value, rim) {
		return fmt.Errorf("%w: %s: the cca.rim digest differs from the RIM in environment.class.id", ErrInvalid, where)
	}
	if ref.HashAlg != "" && ref.HashAlg != rimDigest.alg {
		return fmt.Errorf("%w: %s: the RIM is %s but the REMs %s; one realm uses one hash algorithm", ErrInvalid, where, rimDigest.alg, ref.HashAlg)
	}
	ref.RIM, ref.HashAlg = rim, rimDigest.alg
	d.e.Realms = append(d.e.Realms, ref)
	return nil
}

// rpvValue reads the raw value of a realm personalization value: 560(64
// bytes).
func rpvValue(raw item, where, what string) ([]byte, error) {
	if raw == nil {
		return nil, fmt.Errorf("%w: %s: raw-value is mandatory for %s", ErrInvalid, where, what)
	}
	rpv, ok := taggedBytes(raw, tagBytes)
	if !ok {
		return nil, fmt.Errorf("%w: %s: raw-value must be of type 'bytes', got '%s'", ErrInvalid, where, kind(raw))
	}
	if len(rpv) != rpvSize {
		return nil, fmt.Errorf("%w: %s: the realm personalization value is %d bytes, expected %d", ErrInvalid, where, len(rpv), rpvSize)
	}
	return rpv, nil
}

// legacyRealm reads http://arm.com/cca/realm/1 and tag:arm.com,2023:
// realm#1.0.0: environment {?0: class {?0: 37(uuid), ?1: vendor}, 1:
// 560(RIM)}, each measurement without mkey holding {?4: 560(RPV), 14:
// integrity registers {"rim": digests, "rem0".."rem3": digests}} and
// making one realm reference (veraison/services scheme/common/cca/realm at
// b8993d2: realm_extractor.go, realm_attributes.go).
func (d *decoder) legacyRealm(env environment, list []item, where string) error {
	if !env.instanceGiven {
		return fmt.Errorf("%w: %s: environment.instance (the RIM) is required in profile %s", ErrInvalid, where, quote(d.e.Profile))
	}
	instRIM, ok := taggedBytes(env.instance, tagBytes)
	if !ok {
		return fmt.Errorf("%w: %s: environment.instance (the RIM) must be of type 'bytes', got '%s'", ErrInvalid, where, kind(env.instance))
	}
	if err := hashSize(instRIM, where, "RIM"); err != nil {
		return err
	}
	if env.hasClass {
		switch {
		case env.classID != nil:
			if u, ok := taggedBytes(env.classID, tagUUID); !ok || len(u) != 16 {
				return fmt.Errorf("%w: %s: class-id must be a 16-byte 'uuid', got '%s'", ErrInvalid, where, kind(env.classID))
			}
		case !env.hasVendor:
			return fmt.Errorf("%w: %s: environment.class has neither a class id nor a vendor name", ErrInvalid, where)
		}
	}
	ms, err := d.measurements(list, where)
	if err != nil {
		return err
	}
	for j, m := range ms {
		w := fmt.Sprintf("%s, measurement %d", where, j)
		if m.mkey != nil {
			return fmt.Errorf("%w: %s: mkey is set (%s); measurements of profile %s have none", ErrInvalid, w, kind(m.mkey), quote(d.e.Profile))
		}
		ref := RealmReference{Where: w}
		if raw := m.mval[4]; raw != nil {
			if ref.RPV, err = rpvValue(raw, w, "the realm personalization value"); err != nil {
				return err
			}
		}
		if m.mval[14] == nil {
			return fmt.Errorf("%w: %s: integrity-registers (key 14) is mandatory but not set", ErrInvalid, w)
		}
		if err := onlyKeys(m.mval, w, "legacy realm", 4, 14); err != nil {
			return err
		}
		if major, _, _, _ := head(m.mval[14]); major != 5 {
			return fmt.Errorf("%w: %s: integrity-registers is %s, not a map", ErrInvalid, w, kind(m.mval[14]))
		}
		var regs map[string]item
		if err := dec.Unmarshal(m.mval[14], &regs); err != nil {
			return fmt.Errorf("%w: %s: integrity-registers: text register names expected: %v", ErrInvalid, w, err)
		}
		var rim []byte
		seen := map[string]bool{}
		for _, name := range slices.Sorted(maps.Keys(regs)) {
			key := strings.ToLower(name) // as Veraison's extractor did
			if seen[key] {
				return fmt.Errorf("%w: %s: integrity register %s is given twice", ErrInvalid, w, quote(key))
			}
			seen[key] = true
			rw := fmt.Sprintf("%s, integrity register %s", w, quote(key))
			ds, err := d.digests(regs[name], rw, true)
			if err != nil {
				return err
			}
			if ref.HashAlg != "" && ds[0].alg != ref.HashAlg {
				return fmt.Errorf("%w: %s: incompatible algorithm %s, another register uses %s", ErrInvalid, rw, ds[0].alg, ref.HashAlg)
			}
			ref.HashAlg = ds[0].alg
			switch key {
			case "rim":
				rim = ds[0].value
			case "rem0", "rem1", "rem2", "rem3":
				ref.REMs[key[3]-'0'] = ds[0].value
			default:
				return fmt.Errorf("%w: %s: unexpected integrity register %s; expected rim, rem0..rem3", ErrInvalid, w, quote(name))
			}
		}
		if rim == nil {
			return fmt.Errorf("%w: %s: integrity register \"rim\" is mandatory but not set", ErrInvalid, w)
		}
		if !bytes.Equal(rim, instRIM) {
			return fmt.Errorf("%w: %s: the \"rim\" register differs from the RIM in environment.instance", ErrInvalid, w)
		}
		ref.RIM = rim
		d.e.Realms = append(d.e.Realms, ref)
	}
	return nil
}
