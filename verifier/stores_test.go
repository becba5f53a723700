package verifier

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

func jwkOf(t testing.TB, pub any) string {
	t.Helper()
	b, err := token.MarshalPublicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// offCurveJWK takes x from one key and y from another: not a point.
func offCurveJWK(t testing.TB) string {
	cpak, _, other, _ := keys()
	var a, b map[string]any
	if err := json.Unmarshal([]byte(jwkOf(t, cpak.Public())), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(jwkOf(t, other.Public())), &b); err != nil {
		t.Fatal(err)
	}
	a["y"] = b["y"]
	out, _ := json.Marshal(a)
	return string(out)
}

const (
	hexInst = "01BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" // upper case, as rust-ccatoken writes
	hexImpl = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

func TestParseTrustAnchors(t *testing.T) {
	cpak, _, _, cpak256 := keys()
	store := fmt.Sprintf(`[
	  {"instance-id": %q, "implementation-id": %q, "pkey": %s},
	  {"instance-id": "01%s", "pkey": %s}
	]`, hexInst, hexImpl, jwkOf(t, cpak.Public()), strings.Repeat("cc", 32), jwkOf(t, cpak256.Public()))
	ta, err := ParseTrustAnchors([]byte(store))
	if err != nil {
		t.Fatal(err)
	}
	if ta.Len() != 2 {
		t.Fatalf("Len %d", ta.Len())
	}
	a, why := lookupAnchor(t, ta, testInstanceID, testImplID)
	if a == nil || !a.Key.(*ecdsa.PublicKey).Equal(cpak.Public()) || a.Where != "trust anchor 0" {
		t.Fatalf("lookup: %s", why)
	}
	if a, _ := lookupAnchor(t, ta, testInstanceID, rep(0xAB, 32)); a != nil {
		t.Fatal("implementation id not enforced")
	}
	if a, _ := lookupAnchor(t, ta, append([]byte{1}, rep(0xCC, 32)...), rep(0xAB, 32)); a == nil {
		t.Fatal("an anchor without implementation id must accept any")
	}
	if a, _ := lookupAnchor(t, ta, append([]byte{1}, rep(0xCD, 32)...), testImplID); a != nil {
		t.Fatal("unknown instance found")
	}
	if a, _ := lookupAnchor(t, ta.Named("ta.json"), testInstanceID, testImplID); a == nil || a.Where != "ta.json: trust anchor 0" {
		t.Fatalf("Named: %+v", a)
	}
	// Round trip through MarshalJSON.
	out, err := json.Marshal(ta)
	if err != nil {
		t.Fatal(err)
	}
	if ta2, err := ParseTrustAnchors(out); err != nil || ta2.Len() != 2 {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
}

func TestParseTrustAnchorKey(t *testing.T) {
	cpak, _, _, _ := keys()
	pemKey, err := token.MarshalPublicPEM(cpak.Public())
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"PEM": pemKey, "JWK": []byte(jwkOf(t, cpak.Public()))} {
		ta, err := ParseTrustAnchorKey(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Any instance, any implementation.
		if a, _ := lookupAnchor(t, ta, append([]byte{1}, rep(0x42, 32)...), rep(0x43, 32)); a == nil {
			t.Fatalf("%s: the single key is not trusted for any instance", name)
		}
		if _, err := json.Marshal(ta); err == nil {
			t.Errorf("%s: a key for any instance has no store form", name)
		}
	}
	twice := strings.Replace(jwkOf(t, cpak.Public()), `"y":`, `"y": "AAAA", "y":`, 1)
	if _, err := ParseTrustAnchorKey([]byte(twice)); !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), `JWK member "y" given twice`) {
		t.Errorf("JWK with y twice: %v", err)
	}
	if _, err := ParseTrustAnchorKey([]byte("nonsense")); !errors.Is(err, ErrStore) || !errors.Is(err, token.ErrKey) {
		t.Errorf("bad key: %v", err)
	}
	// Only a set of one key may leave the instance id out.
	if _, err := NewTrustAnchors(TrustAnchor{Key: cpak.Public()}, TrustAnchor{InstanceID: testInstanceID, Key: cpak.Public()}); !errors.Is(err, ErrStore) {
		t.Errorf("two anchors, one without instance id: %v", err)
	}
	if _, err := NewTrustAnchors(); !errors.Is(err, ErrStore) {
		t.Errorf("no anchors: %v", err)
	}
}

// lookupAnchor asks the store and selects as the verifier does.
func lookupAnchor(t testing.TB, s TrustAnchorStore, inst, impl []byte) (*TrustAnchor, string) {
	t.Helper()
	found, err := s.TrustAnchors(context.Background(), inst, impl)
	if err != nil {
		t.Fatal(err)
	}
	usable, why := selectAnchors(found, inst, impl)
	if len(usable) == 0 {
		return nil, why
	}
	return &usable[0], ""
}

// TestParseTrustAnchorsMalformed: every malformed entry is an ErrStore
// error that names the entry and the member: the whole store's error when
// the store has no usable entry, one of its Warnings otherwise.
func TestParseTrustAnchorsMalformed(t *testing.T) {
	cpak, _, _, _ := keys()
	good := jwkOf(t, cpak.Public())
	entry := func(inst, impl, pkey string) string {
		s := "{"
		if inst != "" {
			s += fmt.Sprintf(`"instance-id": %s,`, inst)
		}
		if impl != "" {
			s += fmt.Sprintf(`"implementation-id": %s,`, impl)
		}
		if pkey != "" {
			s += fmt.Sprintf(`"pkey": %s,`, pkey)
		}
		return strings.TrimSuffix(s, ",") + "}"
	}
	ok := entry(`"`+hexInst+`"`, `"`+hexImpl+`"`, good)
	for _, tc := range []struct {
		name, store, want string
	}{
		{"not JSON", `[`, "trust anchors: not a JSON array"},
		{"not an array", `{}`, "trust anchors: not a JSON array"},
		{"syntax error located", "[\n  {\"instance-id\": \"01\"\n   \"pkey\": {}}]", "trust anchors: not a JSON array: invalid JSON at line 3, column 4: invalid character '\"' after object key:value pair"},
		{"kind of the wrong value", `{}`, "trust anchors: not a JSON array (it is an object)"},
		{"empty", `[]`, "empty array"},
		{"entry not an object", `[` + ok + `, 3]`, "trust anchor 1: not a JSON object"},
		{"missing instance-id", `[` + entry("", `"`+hexImpl+`"`, good) + `]`, `trust anchor 0: "instance-id": missing`},
		{"null instance-id", `[` + entry("null", "", good) + `]`, `trust anchor 0: "instance-id": missing`},
		{"instance-id not hex", `[` + entry(`"01zz"`, "", good) + `]`, `trust anchor 0: "instance-id": not hex`},
		{"instance-id base64", `[` + entry(`"AbuBu7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7"`, "", good) + `]`, `"instance-id": not hex`},
		{"instance-id not a string", `[` + entry(`42`, "", good) + `]`, `"instance-id": not a string`},
		{"instance-id too short", `[` + entry(`"0102"`, "", good) + `]`, `trust anchor 0: "instance-id": 2 bytes, must be 7..33`},
		{"implementation-id size", `[` + entry(`"`+hexInst+`"`, `"aaaa"`, good) + `]`, `trust anchor 0: "implementation-id": 2 bytes, must be 32`},
		{"missing pkey", `[` + ok + `,` + entry(`"`+hexInst+`"`, "", "") + `]`, `trust anchor 1: "pkey": missing`},
		{"pkey not an object", `[` + entry(`"`+hexInst+`"`, "", `"-----BEGIN PUBLIC KEY-----"`) + `]`, `trust anchor 0: "pkey": not a JWK object`},
		{"pkey bad JWK", `[` + entry(`"`+hexInst+`"`, "", `{"kty":"EC","crv":"P-384"}`) + `]`, `trust anchor 0: "pkey": invalid key`},
		{"pkey off the curve", `[` + entry(`"`+hexInst+`"`, "", offCurveJWK(t)) + `]`, `trust anchor 0: "pkey": invalid key: not a valid P-384 public key`},
		{"pkey Ed25519 of 3 bytes", `[` + entry(`"`+hexInst+`"`, "", `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`) + `]`, `trust anchor 0: "pkey": invalid key: Ed25519 public key of 3 bytes`},
		{"duplicate instance-id", `[` + ok + `,` + ok + `]`, `trust anchor 1: "instance-id": 01bbbbbbbbbb…bbbbbbbb is also the instance id of trust anchor 0`},
		{"duplicate member", `[{"instance-id": "` + hexInst + `", "instance-id": "` + hexInst + `", "pkey": ` + good + `}]`, `trust anchor 0: "instance-id": given twice`},
		{"JWK member given twice", `[` + entry(`"`+hexInst+`"`, "", strings.Replace(good, `"x":`, `"x": "AAAA", "x":`, 1)) + `]`, `trust anchor 0: "pkey": JWK member "x" given twice`},
		{"JWK member given twice, nested", `[` + entry(`"`+hexInst+`"`, "", strings.Replace(good, `{`, `{"oth": [{"r": 1, "r": 2}], `, 1)) + `]`, `trust anchor 0: "pkey": JWK member "r" given twice`},
		{"unknown member", `[{"instance-id": "` + hexInst + `", "pkey": ` + good + `, "instance-ids": "x"}]`, `trust anchor 0: "instance-ids": unknown member`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta, err := ParseTrustAnchors([]byte(tc.store))
			if err == nil {
				err = errors.Join(ta.Warnings()...)
			}
			if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an ErrStore containing %q", err, tc.want)
			}
		})
	}
}

// rvStore is a reference-value store in rust-ccatoken's shape for the
// sample claims (upper-case hex, "component-type", "rak-hash-algorithm").
func rvStore() string {
	h := func(b byte, n int) string { return strings.ToUpper(fmt.Sprintf("%x", rep(b, n))) }
	return fmt.Sprintf(`{
  "platform": [
    {
      "implementation-id": %q,
      "platform-configuration": "CFE50000",
      "sw-components": [
        {"component-type": "RSE_BL1_2", "measurement-value": %q, "signer-id": %q, "version": null},
        {"measurement-type": "BL2", "measurement-value": %q, "signer-id": %q},
        {"component-type": "RMM", "measurement-value": %q, "signer-id": %q, "version": "1.0.0", "measurement-description": "sha-256"}
      ]
    }
  ],
  "realm": [
    {
      "initial-measurement": %q,
      "personalization-value": %q,
      "extensible-measurements": [%q, %q, %q, %q],
      "rak-hash-algorithm": "sha-256",
      "hash-algo": "sha-256"
    }
  ]
}`, h(0xAA, 32), h(0x11, 32), h(0x21, 32), h(0x12, 32), h(0x21, 32), h(0x13, 32), h(0x22, 32),
		h(0x1A, 32), h(0x50, 64), h(0xE1, 32), h(0xE2, 32), h(0xE3, 32), h(0xE4, 32))
}

func TestParseReferenceValues(t *testing.T) {
	rv, err := ParseReferenceValues([]byte(rvStore()))
	if err != nil {
		t.Fatal(err)
	}
	if p, r := rv.Len(); p != 1 || r != 1 {
		t.Fatalf("Len %d %d", p, r)
	}
	if got := rv.platform[0].SwComponents[1].Type; got != "BL2" {
		t.Errorf("measurement-type alias: %q", got)
	}
	v := newVerifier(t, sampleAnchors(t), WithReferenceValues(rv))
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("the parsed store does not describe the sample token: %q", res.Reasons)
	}
	// Either section may be absent.
	if _, err := ParseReferenceValues([]byte(`{"realm": [{"initial-measurement": "` + strings.Repeat("1a", 32) + `"}]}`)); err != nil {
		t.Fatal(err)
	}
}

// TestParseReferenceValuesMalformed: every malformed store is an ErrStore
// error that names the entry and the member.
func TestParseReferenceValuesMalformed(t *testing.T) {
	mod := func(old, new string) string {
		s := rvStore()
		if !strings.Contains(s, old) {
			panic("test store lacks " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
	rim := strings.ToUpper(strings.Repeat("1a", 32))
	for _, tc := range []struct {
		name, store, want string
	}{
		{"not JSON", `{`, "reference values: not a JSON object"},
		{"not an object", `[]`, "reference values: not a JSON object"},
		{"syntax error located", "{\"realm\": [\n{\"initial-measurement\": \"aa\",}\n]}", "reference values: not a JSON object: invalid JSON at line 2, column 30: invalid character '}'"},
		{"trailing garbage located", "{}\n\n x", "reference values: not a JSON object: invalid JSON at line 3, column 2: invalid character 'x' after top-level value"},
		{"kind of the wrong value", `{"realm": "x"}`, `reference values: "realm": not a JSON array (it is a string)`},
		{"empty", `{}`, "reference values: no entries"},
		{"unknown section", `{"platforms": []}`, `reference values: "platforms": unknown member`},
		{"platform not an array", `{"platform": {}}`, `reference values: "platform": not a JSON array`},
		{"platform entry not an object", `{"platform": [1]}`, `platform[0]: not a JSON object`},
		{"missing implementation-id", mod(`"implementation-id"`, `"implementation-ids"`), `platform[0]: "implementation-id": missing`},
		{"implementation-id size", mod(`"implementation-id": "AAAA`, `"implementation-id": "AA`), `platform[0]: "implementation-id": 31 bytes, must be 32`},
		{"missing platform-configuration", mod(`"platform-configuration": "CFE50000",`, ``), `platform[0]: "platform-configuration": missing`},
		{"config not hex", mod(`"CFE50000"`, `"CFE5000"`), `platform[0]: "platform-configuration": not hex`},
		{"missing sw-components", `{"platform": [{"implementation-id": "` + hexImpl + `", "platform-configuration": ""}]}`, `platform[0]: "sw-components": missing`},
		{"empty sw-components", `{"platform": [{"implementation-id": "` + hexImpl + `", "platform-configuration": "", "sw-components": []}]}`, `platform[0]: "sw-components": empty array`},
		{"sw-components not an array", `{"platform": [{"implementation-id": "` + hexImpl + `", "platform-configuration": "", "sw-components": {}}]}`, `platform[0]: "sw-components": not a JSON array`},
		{"component missing value", mod(`"measurement-value"`, `"measurement-values"`), `platform[0].sw-components[0]: "measurement-value": missing`},
		{"component value size", mod(`"measurement-value": "1111`, `"measurement-value": "11`), `platform[0].sw-components[0]: "measurement-value": 31 bytes, must be 32, 48 or 64`},
		{"component signer size", mod(`"signer-id": "2121`, `"signer-id": "21`), `platform[0].sw-components[0]: "signer-id": 31 bytes, must be 32, 48 or 64`},
		{"component type contradiction", mod(`"component-type": "RSE_BL1_2"`, `"component-type": "RSE_BL1_2", "measurement-type": "BL1"`), `platform[0].sw-components[0]: "measurement-type": "BL1" contradicts "component-type" "RSE_BL1_2"`},
		{"component type not a string", mod(`"component-type": "RMM"`, `"component-type": 7`), `platform[0].sw-components[2]: "component-type": not a string`},
		{"component unknown member", mod(`"version": null`, `"versions": null`), `platform[0].sw-components[0]: "versions": unknown member`},
		{"platform unknown member (2.0 field)", mod(`"platform-configuration": "CFE50000",`, `"platform-configuration": "CFE50000", "client-id": 1,`), `platform[0]: "client-id": unknown member`},
		{"realm not an array", `{"realm": 1}`, `reference values: "realm": not a JSON array`},
		{"missing initial-measurement", `{"realm": [{"personalization-value": null}]}`, `realm[0]: "initial-measurement": missing`},
		{"initial-measurement size", `{"realm": [{"initial-measurement": "` + rim[2:] + `"}]}`, `realm[0]: "initial-measurement": 31 bytes, must be 32, 48 or 64`},
		{"personalization-value size", mod(`"personalization-value": "5050`, `"personalization-value": "50`), `realm[0]: "personalization-value": 63 bytes, must be 64`},
		{"three REMs", `{"realm": [{"initial-measurement": "` + rim + `", "extensible-measurements": ["` + rim + `","` + rim + `","` + rim + `"]}]}`, `realm[0]: "extensible-measurements": 3 values, must be 4`},
		{"REMs not an array", `{"realm": [{"initial-measurement": "` + rim + `", "extensible-measurements": "` + rim + `"}]}`, `realm[0]: "extensible-measurements": not a JSON array`},
		{"REM size", mod(`"E1E1`, `"E1`), `realm[0]: "extensible-measurements[0]": 31 bytes, must be 32`},
		{"REM misspelt", mod(`"extensible-measurements"`, `"extensible-measurement"`), `realm[0]: "extensible-measurement": unknown member`},
		{"hash-algo unknown", mod(`"hash-algo": "sha-256"`, `"hash-algo": "md5"`), `realm[0]: "hash-algo"`},
		{"hash-algo vs RIM size", mod(`"hash-algo": "sha-256"`, `"hash-algo": "sha-512"`), `realm[0]: "initial-measurement": 32 bytes, but hash-algo sha-512 gives 64`},
		{"rak-hash-algorithm unknown", mod(`"rak-hash-algorithm": "sha-256"`, `"rak-hash-algorithm": "sha-1"`), `realm[0]: "rak-hash-algorithm"`},
		{"duplicate member", mod(`"hash-algo": "sha-256"`, `"hash-algo": "sha-256", "hash-algo": "sha-512"`), `realm[0]: "hash-algo": given twice`},
		{"second realm entry", `{"realm": [{"initial-measurement": "` + rim + `"}, {"initial-measurement": 5}]}`, `realm[1]: "initial-measurement": not a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseReferenceValues([]byte(tc.store))
			if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an ErrStore containing %q", err, tc.want)
			}
		})
	}
}

// rustRequired lists, per entry kind, the members rust-ccatoken's serde
// structs require (src/store: PlatformRefValue, SwComponent, RealmRefValue).
var rustRequired = map[string][]string{
	"platform":  {"implementation-id", "platform-configuration", "sw-components"},
	"component": {"measurement-value", "signer-id"},
	"realm":     {"initial-measurement", "rak-hash-algorithm", "extensible-measurements", "personalization-value"},
}

// TestMarshalReferenceValues: what the store writes carries every member
// rust-ccatoken requires (four REMs), and reads back as the same store.
func TestMarshalReferenceValues(t *testing.T) {
	r := sampleRealmRef()
	r.RAKHashAlgorithm = "sha-256"
	untyped := samplePlatformRef()
	untyped.SwComponents = slices.Clone(untyped.SwComponents)
	untyped.SwComponents[0].Type, untyped.SwComponents[0].Version = "", ""
	rv := refValues(t, []PlatformReference{samplePlatformRef(), untyped}, []RealmReference{r})
	out, err := json.MarshalIndent(rv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(kind string, m map[string]json.RawMessage) {
		for _, name := range rustRequired[kind] {
			if _, ok := m[name]; !ok {
				t.Errorf("%s entry lacks %q:\n%s", kind, name, out)
			}
		}
	}
	for _, p := range doc["platform"] {
		has("platform", p)
		var comps []map[string]json.RawMessage
		if err := json.Unmarshal(p["sw-components"], &comps); err != nil || len(comps) != 3 {
			t.Fatalf("sw-components: %v %s", err, p["sw-components"])
		}
		for _, c := range comps {
			has("component", c)
		}
	}
	for _, e := range doc["realm"] {
		has("realm", e)
		var rems []string
		if err := json.Unmarshal(e["extensible-measurements"], &rems); err != nil || len(rems) != 4 {
			t.Errorf("extensible-measurements: %v %s", err, e["extensible-measurements"])
		}
	}
	back, err := ParseReferenceValues(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.platform, rv.platform) || !reflect.DeepEqual(back.realm, rv.realm) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, rv)
	}
	again, err := json.MarshalIndent(back, "", "  ")
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("second write differs: %v\n%s\n%s", err, again, out)
	}
}

// TestMarshalReferenceValuesRefused: an entry rust-ccatoken would refuse,
// or one the JSON shape would read back with another meaning, is not
// written.
func TestMarshalReferenceValuesRefused(t *testing.T) {
	full := func() RealmReference {
		r := sampleRealmRef()
		r.RAKHashAlgorithm = "sha-256"
		r.ExtensibleMeasurements = slices.Clone(r.ExtensibleMeasurements)
		return r
	}
	pooled := samplePlatformRef()
	pooled.Match = MatchEachComponent
	noSigner := samplePlatformRef()
	noSigner.Match = MatchEachComponent
	noSigner.SwComponents = slices.Clone(noSigner.SwComponents)
	noSigner.SwComponents[1].SignerID = nil
	for _, tc := range []struct {
		name     string
		platform []PlatformReference
		realm    func(*RealmReference)
		want     string
	}{
		{name: "no RAK hash algorithm", realm: func(r *RealmReference) { r.RAKHashAlgorithm = "" }, want: `realm[0]: "rak-hash-algorithm" is missing`},
		{name: "no RPV", realm: func(r *RealmReference) { r.PersonalizationValue = nil }, want: `realm[0]: "personalization-value" is missing`},
		{name: "no REMs", realm: func(r *RealmReference) { r.ExtensibleMeasurements = nil }, want: `realm[0]: "extensible-measurements" are missing`},
		{name: "REM 2 not given", realm: func(r *RealmReference) { r.ExtensibleMeasurements[2] = nil }, want: `do not give REM 2`},
		{name: "components one by one", platform: []PlatformReference{pooled}, want: `platform[0]: "sw-components" endorse components one by one`},
		{name: "no signer id", platform: []PlatformReference{noSigner}, want: `platform[0]: "sw-components" endorse components one by one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var realms []RealmReference
			if tc.realm != nil {
				r := full()
				tc.realm(&r)
				realms = append(realms, r)
			}
			rv := refValues(t, tc.platform, realms)
			if _, err := json.Marshal(rv); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrUsage with %q", err, tc.want)
			}
		})
	}
}

// TestTrustAnchorBadEntry: one unusable entry (an off-curve key, as in
// rust-ccatoken's ta-02-bad.json) is reported when the store loads and
// fails only its own platform, naming the entry; the other anchors work.
func TestTrustAnchorBadEntry(t *testing.T) {
	cpak, _, _, _ := keys()
	otherInst := append([]byte{0x01}, rep(0xCC, 32)...)
	store := fmt.Sprintf(`[
	  {"instance-id": "%x", "implementation-id": %q, "pkey": %s},
	  {"instance-id": "%x", "implementation-id": %q, "pkey": %s},
	  {"instance-id": "zz", "pkey": %s}
	]`, otherInst, hexImpl, offCurveJWK(t), testInstanceID, hexImpl, jwkOf(t, cpak.Public()), jwkOf(t, cpak.Public()))
	ta, err := ParseTrustAnchors([]byte(store))
	if err != nil {
		t.Fatal(err)
	}
	ta = ta.Named("ta.json")
	w := ta.Warnings()
	if len(w) != 2 || !errors.Is(w[0], ErrStore) ||
		!strings.Contains(w[0].Error(), `ta.json: malformed store: trust anchor 0: "pkey": invalid key: not a valid P-384 public key`) ||
		!strings.Contains(w[1].Error(), `trust anchor 2: "instance-id": not hex`) {
		t.Fatalf("warnings %q", w)
	}
	if ta.Len() != 1 {
		t.Errorf("Len %d, want the one usable anchor", ta.Len())
	}
	v := newVerifier(t, ta, WithReferenceValues(sampleRefs(t)))
	// The good anchor's platform is unaffected.
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("the good anchor's platform: %q", res.Reasons)
	}
	// The bad anchor's platform fails, its result naming the entry.
	p := samplePlatform()
	p.InstanceID = otherInst
	res := verify(t, v, build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce), testNonce)
	c, _ := res.Platform.Check(CheckTrustAnchor, 0)
	if res.Trustworthy || c.Outcome != Mismatched ||
		!strings.Contains(c.Detail, "the trust anchor ta.json: trust anchor 0 for this instance is unusable") ||
		!strings.Contains(c.Detail, "not a valid P-384 public key") {
		t.Fatalf("trust anchor check %+v", c)
	}
}

// TestShippedReferenceValuesRustShape: the reference values testvectors/
// ships carry every member rust-ccatoken requires, and read back here.
func TestShippedReferenceValuesRustShape(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testvectors", "refvals", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped reference values: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseReferenceValues(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		var doc map[string][]map[string]json.RawMessage
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for kind, entries := range doc {
			for i, e := range entries {
				for _, name := range rustRequired[kind] {
					if _, ok := e[name]; !ok {
						t.Errorf("%s: %s[%d] lacks %q, which rust-ccatoken requires", f, kind, i, name)
					}
				}
			}
		}
	}
}
