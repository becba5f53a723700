package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// ReferenceValues is an immutable set of platform and realm reference
// values, safe for concurrent use.
type ReferenceValues struct {
	source   string // file name prefixed to Where, or ""
	platform []PlatformReference
	realm    []RealmReference
	byImpl   map[string][]int // implementation id -> indexes into platform
	byRIM    map[string][]int // RIM -> indexes into realm
}

// swDigestSizes are the sizes a software component's measurement value and
// signer id may have: those of the platform token's software components
// (draft-ffm-rats-cca-token, after the PSA token's psa-hash-type, RFC 9783),
// which platform.Claims.Validate enforces too.
var swDigestSizes = []int{32, 48, 64}

// rimSizes are the sizes a RIM may have: SHA-256 and SHA-512 (Arm DEN0137
// 1.0-REL0 A7.2.3.1), and SHA-384 in the 2.0 drafts
// (draft-ffm-rats-cca-token-04 §4.4).
var rimSizes = []int{32, 48, 64}

// NewReferenceValues validates and copies reference values.
func NewReferenceValues(platforms []PlatformReference, realms []RealmReference) (*ReferenceValues, error) {
	if len(platforms)+len(realms) == 0 {
		return nil, fmt.Errorf("%w: reference values: no entries", ErrStore)
	}
	rv := &ReferenceValues{byImpl: map[string][]int{}, byRIM: map[string][]int{}}
	for i, p := range platforms {
		where := p.Where
		if where == "" {
			where = fmt.Sprintf("platform[%d]", i)
		}
		if p.Match != MatchCompleteState && p.Match != MatchEachComponent {
			return nil, storeErr(where, "", "unknown match mode %v", p.Match)
		}
		if len(p.ImplementationID) != platform.ImplementationIDSize {
			return nil, storeErr(where, "implementation-id", "%d bytes, must be %d", len(p.ImplementationID), platform.ImplementationIDSize)
		}
		if p.Config == nil && p.Match == MatchCompleteState {
			return nil, storeErr(where, "platform-configuration", "missing")
		}
		if len(p.SwComponents) == 0 && p.Match == MatchCompleteState {
			return nil, storeErr(where, "sw-components", "missing or empty")
		}
		c := PlatformReference{ImplementationID: bytes.Clone(p.ImplementationID), Config: bytes.Clone(p.Config), Match: p.Match, Where: where}
		for j, sc := range p.SwComponents {
			w := fmt.Sprintf("%s.sw-components[%d]", where, j)
			if !sizeOK(len(sc.Value), swDigestSizes) {
				return nil, storeErr(w, "measurement-value", "%d bytes, must be %s", len(sc.Value), sizeList(swDigestSizes))
			}
			if (sc.SignerID != nil || p.Match == MatchCompleteState) && !sizeOK(len(sc.SignerID), swDigestSizes) {
				return nil, storeErr(w, "signer-id", "%d bytes, must be %s", len(sc.SignerID), sizeList(swDigestSizes))
			}
			c.SwComponents = append(c.SwComponents, SwComponentReference{
				Type: sc.Type, Value: bytes.Clone(sc.Value), SignerID: bytes.Clone(sc.SignerID), Version: sc.Version,
			})
		}
		rv.byImpl[string(c.ImplementationID)] = append(rv.byImpl[string(c.ImplementationID)], len(rv.platform))
		rv.platform = append(rv.platform, c)
	}
	for i, r := range realms {
		where := r.Where
		if where == "" {
			where = fmt.Sprintf("realm[%d]", i)
		}
		n := len(r.InitialMeasurement)
		if !sizeOK(n, rimSizes) {
			return nil, storeErr(where, "initial-measurement", "%d bytes, must be %s", n, sizeList(rimSizes))
		}
		if r.HashAlgorithm != "" {
			size, err := realm.MeasurementSize(r.HashAlgorithm)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: \"hash-algo\": %w", ErrStore, where, err)
			}
			if size != n {
				// A store says what the relying party expects: its labels
				// must be right. AllowMeasurementSizeMismatchUnsafe, which
				// is about evidence, matches a mislabelled token with the
				// entry labelled by its size (Verifier.realmHashAlgorithm).
				return nil, storeErr(where, "initial-measurement", "%d bytes, but hash-algo %s gives %d (a store labels a digest with its own algorithm, even for evidence that mislabels it)",
					n, r.HashAlgorithm, size)
			}
		}
		if r.RAKHashAlgorithm != "" {
			if _, err := token.HashByName(r.RAKHashAlgorithm); err != nil {
				return nil, fmt.Errorf("%w: %s: \"rak-hash-algorithm\": %w", ErrStore, where, err)
			}
		}
		if r.MECPolicy != nil {
			if _, err := r.MECPolicy.Private(); err != nil {
				return nil, storeErr(where, "mec-policy", "%v", err)
			}
		}
		if r.PersonalizationValue != nil && len(r.PersonalizationValue) != realm.PersonalizationValueSize {
			return nil, storeErr(where, "personalization-value", "%d bytes, must be %d", len(r.PersonalizationValue), realm.PersonalizationValueSize)
		}
		c := RealmReference{
			InitialMeasurement:   bytes.Clone(r.InitialMeasurement),
			PersonalizationValue: bytes.Clone(r.PersonalizationValue),
			HashAlgorithm:        r.HashAlgorithm,
			RAKHashAlgorithm:     r.RAKHashAlgorithm,
			MECPolicy:            r.MECPolicy,
			Where:                where,
		}
		if r.ExtensibleMeasurements != nil {
			if len(r.ExtensibleMeasurements) != realm.NumREMs {
				return nil, storeErr(where, "extensible-measurements", "%d values, must be %d", len(r.ExtensibleMeasurements), realm.NumREMs)
			}
			for j, rem := range r.ExtensibleMeasurements {
				if rem != nil && len(rem) != n {
					return nil, storeErr(where, "extensible-measurements", "value %d is %d bytes, must be %d like the initial measurement", j, len(rem), n)
				}
				c.ExtensibleMeasurements = append(c.ExtensibleMeasurements, bytes.Clone(rem))
			}
		}
		rv.byRIM[string(c.InitialMeasurement)] = append(rv.byRIM[string(c.InitialMeasurement)], len(rv.realm))
		rv.realm = append(rv.realm, c)
	}
	return rv, nil
}

func sizeOK(n int, sizes []int) bool {
	for _, s := range sizes {
		if n == s {
			return true
		}
	}
	return false
}

// ParseReferenceValues reads a reference-value store in rust-ccatoken's
// JSON shape (see the package documentation):
//
//	{"platform": [{"implementation-id", "platform-configuration", "sw-components": [...]}],
//	 "realm":    [{"initial-measurement", "personalization-value", "extensible-measurements", ...}]}
func ParseReferenceValues(data []byte) (*ReferenceValues, error) {
	top, err := parseObject(data, "reference values")
	if err != nil {
		return nil, err
	}
	platforms, err := parseEntries(top, "platform", parsePlatformReference)
	if err != nil {
		return nil, err
	}
	realms, err := parseEntries(top, "realm", parseRealmReference)
	if err != nil {
		return nil, err
	}
	if err := top.done(); err != nil {
		return nil, err
	}
	return NewReferenceValues(platforms, realms)
}

// parseEntries reads the array member name of the store, if given, each
// entry with parse (named "name[i]").
func parseEntries[T any](top *object, name string, parse func(json.RawMessage, string) (T, error)) ([]T, error) {
	raw, ok := top.take(name)
	if !ok {
		return nil, nil
	}
	entries, err := parseArray(raw, "reference values", name)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(entries))
	for i, e := range entries {
		v, err := parse(e, fmt.Sprintf("%s[%d]", name, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parsePlatformReference(raw json.RawMessage, where string) (PlatformReference, error) {
	var p PlatformReference
	o, err := parseObject(raw, where)
	if err != nil {
		return p, err
	}
	if p.ImplementationID, err = o.hexField("implementation-id", true, platform.ImplementationIDSize); err != nil {
		return p, err
	}
	if p.Config, err = o.hexField("platform-configuration", true); err != nil {
		return p, err
	}
	comps, ok := o.take("sw-components")
	if !ok {
		return p, storeErr(where, "sw-components", "missing")
	}
	entries, err := parseArray(comps, where, "sw-components")
	if err != nil {
		return p, err
	}
	if len(entries) == 0 {
		return p, storeErr(where, "sw-components", "empty array")
	}
	for j, e := range entries {
		c, err := parseObject(e, fmt.Sprintf("%s.sw-components[%d]", where, j))
		if err != nil {
			return p, err
		}
		var sc SwComponentReference
		// rust-ccatoken calls it "component-type"; the token's JSON form
		// (evcli) "measurement-type". Either may be used, not both.
		ct, err := c.stringField("component-type", false)
		if err != nil {
			return p, err
		}
		mt, err := c.stringField("measurement-type", false)
		if err != nil {
			return p, err
		}
		if ct != "" && mt != "" && ct != mt {
			return p, storeErr(c.where, "measurement-type", "%q contradicts \"component-type\" %q", mt, ct)
		}
		sc.Type = ct
		if ct == "" {
			sc.Type = mt
		}
		if sc.Value, err = c.hexField("measurement-value", true, swDigestSizes...); err != nil {
			return p, err
		}
		if sc.SignerID, err = c.hexField("signer-id", true, swDigestSizes...); err != nil {
			return p, err
		}
		if sc.Version, err = c.stringField("version", false); err != nil {
			return p, err
		}
		// The hash algorithm of the measurement, as the token's JSON
		// form names it; descriptive only.
		if _, err = c.stringField("measurement-description", false); err != nil {
			return p, err
		}
		if err := c.done(); err != nil {
			return p, err
		}
		p.SwComponents = append(p.SwComponents, sc)
	}
	return p, o.done()
}

func parseRealmReference(raw json.RawMessage, where string) (RealmReference, error) {
	var r RealmReference
	o, err := parseObject(raw, where)
	if err != nil {
		return r, err
	}
	if r.InitialMeasurement, err = o.hexField("initial-measurement", true, rimSizes...); err != nil {
		return r, err
	}
	if r.PersonalizationValue, err = o.hexField("personalization-value", false, realm.PersonalizationValueSize); err != nil {
		return r, err
	}
	if rems, ok := o.take("extensible-measurements"); ok {
		entries, err := parseArray(rems, where, "extensible-measurements")
		if err != nil {
			return r, err
		}
		if len(entries) != realm.NumREMs {
			return r, storeErr(where, "extensible-measurements", "%d values, must be %d", len(entries), realm.NumREMs)
		}
		wrapped := &object{where: where, m: map[string]json.RawMessage{}}
		for j, e := range entries {
			name := fmt.Sprintf("extensible-measurements[%d]", j)
			wrapped.m[name] = e
			v, err := wrapped.hexField(name, true, len(r.InitialMeasurement))
			if err != nil {
				return r, err
			}
			r.ExtensibleMeasurements = append(r.ExtensibleMeasurements, v)
		}
	}
	if r.HashAlgorithm, err = o.stringField("hash-algo", false); err != nil {
		return r, err
	}
	if r.RAKHashAlgorithm, err = o.stringField("rak-hash-algorithm", false); err != nil {
		return r, err
	}
	if raw, ok := o.take("mec-policy"); ok {
		var m realm.MECPolicy
		if err := json.Unmarshal(raw, &m); err != nil {
			return r, storeErr(where, "mec-policy", "want \"shared\", \"private\", 0 or 1")
		}
		r.MECPolicy = &m
	}
	return r, o.done()
}

// Named returns the same store with name (a file name, say) prefixed to
// every entry's Where, so that results say which file an entry came from.
// A nil store stays nil.
func (rv *ReferenceValues) Named(name string) *ReferenceValues {
	if rv == nil {
		return nil
	}
	c := *rv
	c.source = name
	return &c
}

// PlatformReferences implements ReferenceValueStore (none from a nil
// store). The entries share memory with the store: do not modify them.
func (rv *ReferenceValues) PlatformReferences(_ context.Context, implementationID []byte) ([]PlatformReference, error) {
	if rv == nil {
		return nil, nil
	}
	return pick(rv.platform, rv.byImpl[string(implementationID)], rv.source, func(p *PlatformReference) *string { return &p.Where }), nil
}

// RealmReferences implements ReferenceValueStore (none from a nil store).
// The entries share memory with the store: do not modify them.
func (rv *ReferenceValues) RealmReferences(_ context.Context, rim []byte) ([]RealmReference, error) {
	if rv == nil {
		return nil, nil
	}
	return pick(rv.realm, rv.byRIM[string(rim)], rv.source, func(r *RealmReference) *string { return &r.Where }), nil
}

// pick copies the entries at idx, prefixing source to their Where.
func pick[T any](all []T, idx []int, source string, where func(*T) *string) []T {
	if len(idx) == 0 {
		return nil
	}
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = all[j]
		if source != "" {
			w := where(&out[i])
			*w = source + ": " + *w
		}
	}
	return out
}

// Len is the number of platform and realm entries.
func (rv *ReferenceValues) Len() (platforms, realms int) {
	if rv == nil {
		return 0, 0
	}
	return len(rv.platform), len(rv.realm)
}

// MarshalJSON writes the store in rust-ccatoken's JSON shape, which
// ParseReferenceValues reads back: every member rust-ccatoken's serde
// structs require is written (platform: "implementation-id",
// "platform-configuration", "sw-components"; component: "measurement-value",
// "signer-id"; realm: "initial-measurement", "rak-hash-algorithm", the four
// "extensible-measurements", "personalization-value"), the optional ones
// when set ("component-type", "version", "hash-algo"). An entry that lacks
// a required member, or a MatchEachComponent entry (which this shape cannot
// express: its entries are complete states), is an ErrUsage error naming
// the entry and the member, so that nothing is written that rust-ccatoken
// would refuse or that would read back with another meaning.
func (rv *ReferenceValues) MarshalJSON() ([]byte, error) {
	type component struct {
		Type     string   `json:"component-type,omitempty"`
		Value    HexBytes `json:"measurement-value"`
		SignerID HexBytes `json:"signer-id"`
		Version  string   `json:"version,omitempty"`
	}
	type platformEntry struct {
		ImplementationID HexBytes    `json:"implementation-id"`
		Config           HexBytes    `json:"platform-configuration"`
		SwComponents     []component `json:"sw-components"`
	}
	type realmEntry struct {
		InitialMeasurement     HexBytes         `json:"initial-measurement"`
		HashAlgorithm          string           `json:"hash-algo,omitempty"`
		RAKHashAlgorithm       string           `json:"rak-hash-algorithm"`
		ExtensibleMeasurements []HexBytes       `json:"extensible-measurements"`
		PersonalizationValue   HexBytes         `json:"personalization-value"`
		MECPolicy              *realm.MECPolicy `json:"mec-policy,omitempty"`
	}
	var out struct {
		Platform []platformEntry `json:"platform,omitempty"`
		Realm    []realmEntry    `json:"realm,omitempty"`
	}
	missing := func(where, member, why string) error {
		return fmt.Errorf("%w: reference values: %s: %q %s", ErrUsage, where, member, why)
	}
	for _, p := range rv.platform {
		if p.Match != MatchCompleteState {
			return nil, missing(p.Where, "sw-components", "endorse components one by one (MatchEachComponent), which the JSON store cannot express")
		}
		e := platformEntry{ImplementationID: p.ImplementationID, Config: HexBytes(p.Config), SwComponents: []component{}}
		for j, sc := range p.SwComponents {
			if sc.SignerID == nil {
				return nil, missing(fmt.Sprintf("%s.sw-components[%d]", p.Where, j), "signer-id", "is missing, and rust-ccatoken requires it")
			}
			e.SwComponents = append(e.SwComponents, component{sc.Type, sc.Value, sc.SignerID, sc.Version})
		}
		out.Platform = append(out.Platform, e)
	}
	for _, r := range rv.realm {
		e := realmEntry{InitialMeasurement: r.InitialMeasurement, HashAlgorithm: r.HashAlgorithm,
			RAKHashAlgorithm: r.RAKHashAlgorithm, PersonalizationValue: r.PersonalizationValue, MECPolicy: r.MECPolicy}
		switch {
		case r.RAKHashAlgorithm == "":
			return nil, missing(r.Where, "rak-hash-algorithm", "is missing, and rust-ccatoken requires it")
		case r.PersonalizationValue == nil:
			return nil, missing(r.Where, "personalization-value", "is missing, and rust-ccatoken requires it")
		case len(r.ExtensibleMeasurements) != realm.NumREMs:
			return nil, missing(r.Where, "extensible-measurements", "are missing, and rust-ccatoken requires all four")
		}
		for i, rem := range r.ExtensibleMeasurements {
			if rem == nil {
				return nil, missing(r.Where, "extensible-measurements", fmt.Sprintf("do not give REM %d, and rust-ccatoken requires all four", i))
			}
			e.ExtensibleMeasurements = append(e.ExtensibleMeasurements, rem)
		}
		out.Realm = append(out.Realm, e)
	}
	return json.Marshal(out)
}
