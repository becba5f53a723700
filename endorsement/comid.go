package endorsement

import (
	"fmt"
	"maps"
	"slices"
)

// decoder carries the state of one CoRIM's decoding.
type decoder struct {
	e          *Endorsements
	opts       DecodeOptions
	profile    profileInfo
	corimWhere string
	// triples and nMeasurements count what the whole CoRIM holds, to
	// bound it (MaxTriples, MaxMeasurements).
	triples, nMeasurements int
	// attestKeyTriples is the triples-map key of attest-key triples.
	attestKeyTriples int64
}

// CoMID map keys (draft-ietf-rats-corim §5.1) and triples map keys (§5.1.4).
const (
	comidLang        = 0
	comidTagIdentity = 1
	comidEntities    = 2
	comidLinkedTags  = 3
	comidTriples     = 4

	triplesReference        = 0
	triplesAttestKey        = 3
	triplesAttestKeyPre2024 = 2
)

var tripleNames = map[int64]string{
	1: "endorsed-triples", 2: "identity-triples", 4: "dependency-triples",
	5: "membership-triples", 6: "coswid-triples", 8: "conditional-endorsement-series-triples",
	10: "conditional-endorsement-triples",
}

// comid reads the i-th CoMID of the CoRIM.
func (d *decoder) comid(b []byte, i int) error {
	where := fmt.Sprintf("%s, CoMID %d", d.corimWhere, i)
	m, err := asMap(b, where, "comid-map")
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k < comidLang || k > comidTriples {
			return fmt.Errorf("%w: %s: comid-map key %d is not understood", ErrInvalid, where, k)
		}
	}
	if m[comidLang] != nil {
		if _, err := asText(m[comidLang], where, "language (key 0)"); err != nil {
			return err
		}
	}
	if m[comidTagIdentity] == nil {
		return fmt.Errorf("%w: %s: tag-identity (key 1) is missing", ErrInvalid, where)
	}
	ident, err := asMap(m[comidTagIdentity], where, "tag-identity (key 1)")
	if err != nil {
		return err
	}
	if ident[0] == nil {
		return fmt.Errorf("%w: %s: tag-identity has no tag-id (key 0)", ErrInvalid, where)
	}
	tagID, err := idString(ident[0], where, "tag-id")
	if err != nil {
		return err
	}
	if ident[1] != nil {
		if _, err := asUint(ident[1], where, "tag-version"); err != nil {
			return err
		}
	}
	where = fmt.Sprintf("%s, CoMID %d (tag-id %s)", d.corimWhere, i, quote(tagID))
	if m[comidEntities] != nil {
		if err := entities(m[comidEntities], where, "entities (key 2)"); err != nil {
			return err
		}
	}
	if m[comidLinkedTags] != nil {
		if _, err := asArray(m[comidLinkedTags], where, "linked-tags (key 3)"); err != nil {
			return err
		}
	}
	if m[comidTriples] == nil {
		return fmt.Errorf("%w: %s: triples (key 4) is missing", ErrInvalid, where)
	}
	triples, err := asMap(m[comidTriples], where, "triples (key 4)")
	if err != nil {
		return err
	}
	if len(triples) == 0 {
		return fmt.Errorf("%w: %s: triples (key 4) is empty", ErrInvalid, where)
	}
	for _, k := range slices.Sorted(maps.Keys(triples)) {
		switch k {
		case triplesReference:
		case d.attestKeyTriples:
			if d.profile.realm {
				return fmt.Errorf("%w: %s: attest-key-triples (key %d) are not part of the CCA realm profile", ErrInvalid, where, k)
			}
		default:
			name := tripleNames[k]
			switch {
			case d.attestKeyTriples == triplesAttestKeyPre2024 && k == triplesAttestKey:
				name = "identity-triples (numbered as before 2024-07)"
			case name == "":
				name = "triples"
			}
			return fmt.Errorf("%w: %s: %s (key %d) are not part of the CCA profiles", ErrInvalid, where, name, k)
		}
	}
	if rv := triples[triplesReference]; rv != nil {
		list, err := d.tripleList(rv, where, "reference-triples (key 0)")
		if err != nil {
			return err
		}
		for j, t := range list {
			tw := fmt.Sprintf("%s, reference value triple %d", where, j)
			if d.profile.realm {
				err = d.realmTriple(t, tw)
			} else {
				err = d.platformTriple(t, tw)
			}
			if err != nil {
				return err
			}
		}
	}
	if ak := triples[d.attestKeyTriples]; ak != nil {
		list, err := d.tripleList(ak, where, fmt.Sprintf("attest-key-triples (key %d)", d.attestKeyTriples))
		if err != nil {
			return err
		}
		for j, t := range list {
			if err := d.keyTriple(t, fmt.Sprintf("%s, attestation key triple %d", where, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *decoder) tripleList(it item, where, what string) ([]item, error) {
	list, err := asArray(it, where, what)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: %s: %s is empty", ErrInvalid, where, what)
	}
	d.triples += len(list)
	if d.triples > MaxTriples {
		return nil, fmt.Errorf("%w: %s: more than %d triples in the CoRIM", ErrMalformed, where, MaxTriples)
	}
	return list, nil
}

// tripleParts splits a triple record [environment, list, ?conditions]:
// reference-triple-record (2 elements) or attest-key-triple-record (2 or 3;
// a condition restricts the key's use, which a CCA verifier cannot honour).
func tripleParts(t item, where, listName string) (env environment, list []item, err error) {
	rec, err := asArray(t, where, "triple record")
	if err != nil {
		return env, nil, err
	}
	switch {
	case len(rec) == 3 && listName == "verification-keys":
		return env, nil, fmt.Errorf("%w: %s: key triple conditions are not supported by the CCA profiles", ErrInvalid, where)
	case len(rec) != 2:
		return env, nil, fmt.Errorf("%w: %s: triple record has %d elements, expected [environment, %s]", ErrInvalid, where, len(rec), listName)
	}
	if env, err = decodeEnvironment(rec[0], where); err != nil {
		return env, nil, err
	}
	list, err = asArray(rec[1], where, listName)
	return env, list, err
}

// environment is an environment-map (draft-ietf-rats-corim §5.1.4.1):
// {?0: class, ?1: instance, ?2: group}, class {?0: class-id, ?1: vendor,
// ?2: model, ?3: layer, ?4: index}.
type environment struct {
	hasClass, hasVendor bool
	classID             item
	vendor, model       string
	instanceGiven       bool
	instance            item
}

func decodeEnvironment(it item, where string) (environment, error) {
	var env environment
	m, err := asMap(it, where, "environment")
	if err != nil {
		return env, err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k < 0 || k > 2 {
			return env, fmt.Errorf("%w: %s: environment key %d is not understood", ErrInvalid, where, k)
		}
	}
	if m[2] != nil {
		return env, fmt.Errorf("%w: %s: environment.group is not part of the CCA profiles", ErrInvalid, where)
	}
	env.instance, env.instanceGiven = m[1], m[1] != nil
	if m[0] == nil {
		return env, nil
	}
	env.hasClass = true
	class, err := asMap(m[0], where, "environment.class")
	if err != nil {
		return env, err
	}
	for _, k := range slices.Sorted(maps.Keys(class)) {
		switch {
		case k == 3 || k == 4:
			return env, fmt.Errorf("%w: %s: environment.class.%s is not part of the CCA profiles", ErrInvalid, where,
				map[int64]string{3: "layer", 4: "index"}[k])
		case k < 0 || k > 4:
			return env, fmt.Errorf("%w: %s: environment.class key %d is not understood", ErrInvalid, where, k)
		}
	}
	env.classID = class[0]
	if class[1] != nil {
		if env.vendor, err = asText(class[1], where, "environment.class.vendor"); err != nil {
			return env, err
		}
		env.hasVendor = true
	}
	if class[2] != nil {
		if env.model, err = asText(class[2], where, "environment.class.model"); err != nil {
			return env, err
		}
	}
	return env, nil
}

// measurement is a measurement-map (draft-ietf-rats-corim §5.1.4.1.4.2):
// {?0: mkey, 1: mval, ?2: authorized-by}, with mval decoded as a map.
type measurement struct {
	mkey item
	mval map[int64]item
}

// measurements reads a measurement list. Order of checks: each
// measurement's structure here, its meaning in the profile code.
func (d *decoder) measurements(list []item, where string) ([]measurement, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: %s: the measurement list is empty", ErrInvalid, where)
	}
	d.nMeasurements += len(list)
	if d.nMeasurements > MaxMeasurements {
		return nil, fmt.Errorf("%w: %s: more than %d measurements in the CoRIM", ErrMalformed, where, MaxMeasurements)
	}
	out := make([]measurement, len(list))
	for j, it := range list {
		w := fmt.Sprintf("%s, measurement %d", where, j)
		m, err := asMap(it, w, "measurement-map")
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch k {
			case 0, 1:
			case 2:
				return nil, fmt.Errorf("%w: %s: authorized-by (key 2) is not part of the CCA profiles", ErrInvalid, w)
			default:
				return nil, fmt.Errorf("%w: %s: measurement-map key %d is not understood", ErrInvalid, w, k)
			}
		}
		if m[1] == nil {
			return nil, fmt.Errorf("%w: %s: measurement-values (key 1) is mandatory but not set", ErrInvalid, w)
		}
		mval, err := asMap(m[1], w, "measurement-values (key 1)")
		if err != nil {
			return nil, err
		}
		out[j] = measurement{mkey: m[0], mval: mval}
	}
	return out, nil
}

// mvalNames names measurement-values-map keys (draft-ietf-rats-corim
// §5.1.4.1.4.2) in messages.
var mvalNames = map[int64]string{
	0: "version", 1: "svn", 2: "digests", 3: "flags", 4: "raw-value", 5: "raw-value-mask",
	6: "mac-addr", 7: "ip-addr", 8: "serial-number", 9: "ueid", 10: "uuid", 11: "name",
	13: "cryptokeys", 14: "integrity-registers", 15: "int-range",
}

// mkeyText reads the text mkey of the 2025 profiles, with Veraison's
// checks and messages (veraison/corim profiles/cca platform.go, realm.go).
func mkeyText(m measurement, where string) (string, error) {
	if m.mkey == nil {
		return "", fmt.Errorf("%w: %s: mkey is mandatory but not set", ErrInvalid, where)
	}
	if major, _, _, _ := head(m.mkey); major != 3 {
		return "", fmt.Errorf("%w: %s: mkey must be of type 'string', got '%s'", ErrInvalid, where, kind(m.mkey))
	}
	return asText(m.mkey, where, "mkey")
}

// onlyKeys refuses measurement-values keys outside allowed: a reference
// value this package would not compare must not be silently dropped.
func onlyKeys(mval map[int64]item, where, what string, allowed ...int64) error {
	for _, k := range slices.Sorted(maps.Keys(mval)) {
		if !slices.Contains(allowed, k) {
			name := mvalNames[k]
			if name == "" {
				name = "key"
			}
			return fmt.Errorf("%w: %s: %s (key %d) is not used in %s measurements of the CCA profiles", ErrInvalid, where, name, k, what)
		}
	}
	return nil
}
