package endorsement

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	c "github.com/ccakit/cca/internal/cbortest"
	"github.com/ccakit/cca/token"
)

// TestVeraisonBadCoRIMs: CoRIMs of the shapes of Veraison's bad test
// CoRIMs (veraison/services scheme/arm-cca/test/corim/corim-cca-*-bad-*,
// built here with other values) give an error containing the text
// Veraison's gives (scheme/arm-cca/corim_test.go), and say where.
func TestVeraisonBadCoRIMs(t *testing.T) {
	for _, tt := range veraisonBadCases() {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in, DecodeOptions{})
			if err == nil {
				t.Fatal("decoded")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, tt.where) || !strings.Contains(msg, "CoMID 0") {
				t.Errorf("error %q\nwant it to contain %q and %q", msg, tt.want, tt.where)
			}
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, token.ErrSyntax) {
				t.Errorf("error does not wrap ErrInvalid and token.ErrSyntax: %v", err)
			}
		})
	}
}

type badCase struct {
	name  string
	in    []byte
	want  string
	where string
}

func veraisonBadCases() []badCase {
	pem := c.Arr(c.Tag(554, c.Tstr(fxTAPEM)))
	ta := func(env, keys []byte) []byte {
		return corim("bad-ta", profPlat, comidTag("t", akTriples(c.Arr(env, keys))))
	}
	rv := func(ms ...[]byte) []byte {
		return corim("bad-rv", profPlat, comidTag("r", rvTriples(c.Arr(classEnv(tagged(560, fxImpl), nil), c.Arr(ms...)))))
	}
	realm := func(env []byte, ms ...[]byte) []byte {
		return corim("bad-realm", profRealm, comidTag("m", rvTriples(c.Arr(env, c.Arr(ms...)))))
	}
	blDigests := digests(c.Int(1), fxBL)
	rim := digestMeas("cca.rim", "sha-384", fxRIM)
	rpv := meas(c.Tstr("cca.rpv"), c.Map(c.Int(4), tagged(560, fxRPV)))
	return []badCase{
		{"platform-bad-no-class", ta(c.Map(c.Int(1), tagged(550, fxInst)), pem),
			"environment.class is required", "attestation key triple 0"},
		{"platform-bad-ta-no-instance", ta(classEnv(tagged(560, fxImpl), nil), pem),
			"environment.instance (instance-id) is required", "attestation key triple 0"},
		{"platform-bad-ta-instance", ta(classEnv(tagged(560, fxImpl), tagged(560, fxInst)), pem),
			"instance-id must be of type 'ueid', got 'bytes'", "attestation key triple 0"},
		{"platform-bad-ta-cert", ta(classEnv(tagged(560, fxImpl), tagged(550, fxInst)),
			c.Arr(c.Tag(555, c.Tstr(fxCertPEM)))),
			"verification-key must be of type 'pkix-base64-key', got 'pkix-base64-cert'", "attestation key triple 0"},
		{"platform-bad-refval-no-mkey", rv(meas(nil, c.Map(c.Int(2), blDigests))),
			"mkey is mandatory but not set", "reference value triple 0, measurement 0"},
		{"platform-bad-refval-mkey", rv(meas(c.Int(7), c.Map(c.Int(2), blDigests))),
			"mkey must be of type 'string', got 'uint'", "measurement 0"},
		{"platform-bad-refval-mkey-string", rv(swComp("", "BL", "sha-256", fxBL),
			meas(c.Tstr("cca.bad-component"), c.Map(c.Int(2), blDigests))),
			`invalid mkey "cca.bad-component"`, "measurement 1"},
		{"platform-bad-refval-cryptokeys", rv(meas(c.Tstr("cca.software-component"), c.Map(
			c.Int(2), blDigests, c.Int(13), pem))),
			"cryptokeys (signer-id) must be of type 'bytes'", "measurement 0"},
		{"platform-bad-refval-no-digests", rv(meas(c.Tstr("cca.software-component"), c.Map(
			c.Int(0), c.Map(c.Int(0), c.Tstr("3.4.2"), c.Int(1), c.Int(16384)), c.Int(4), tagged(560, []byte{1, 2, 3}), c.Int(11), c.Tstr("BL")))),
			"digests field is mandatory but not set", "measurement 0"},
		{"platform-bad-refval-no-raw-value", rv(swComp("", "BL", "sha-256", fxBL),
			meas(c.Tstr("cca.platform-config"), c.Map(c.Int(2), blDigests))),
			"raw-value is mandatory for cca.platform-config", "measurement 1"},
		{"realm-bad-instance", realm(classEnv(c.Tag(37, c.Bstr(fxUUID)), nil), rim),
			"RIM must be of type 'bytes', got 'uuid'", "reference value triple 0"},
		{"realm-bad-no-instance", realm(c.Map(c.Int(1), tagged(560, fxRIM)), rim),
			"environment.class is required for CCA Realm profile", "reference value triple 0"},
		{"realm-bad-no-rim", realm(classEnv(tagged(560, fxRIM), nil), digestMeas("cca.rem0", "sha-384", fxREM0), rpv),
			"RIM (cca.rim) measurement is mandatory but not found", "reference value triple 0"},
		{"realm-bad-no-integ-regs", realm(classEnv(tagged(560, fxRIM), nil),
			meas(c.Tstr("cca.rim"), c.Map(c.Int(11), c.Tstr("RIM"))), rpv),
			"digests field is mandatory but not set", "measurement 0"},
		{"realm-bad-no-raw-value", realm(classEnv(tagged(560, fxRIM), nil), rim,
			meas(c.Tstr("cca.rpv"), c.Map(c.Int(2), digests(c.Int(1), fxBL)))),
			"raw-value is mandatory for cca.rpv", "measurement 1"},
	}
}

// legacyPlatformCoMID is the platform CoMID of Veraison's CCA CoRIMs of
// 2024-06 to 2026-01 (services 70d567e..ccc65e2), own values: class
// {0: 600(impl), 1: vendor, 2: model}, components keyed by 601({1: label,
// 4: version, 5: signer}), configuration by 602(label).
func legacyPlatformCoMID(taKey uint64) []byte {
	class := c.Map(c.Int(0), tagged(600, fxImpl), c.Int(1), c.Tstr("ACME"), c.Int(2), c.Tstr("RoadRunner"))
	refval := c.Arr(c.Map(c.Int(0), class), c.Arr(
		c.Map(c.Int(0), c.Tag(601, c.Map(c.Int(1), c.Tstr("BL"), c.Int(4), c.Tstr("1.2.0"), c.Int(5), c.Bstr(fxSigner))),
			c.Int(1), c.Map(c.Int(2), digests(c.Int(1), fxBL))),
		c.Map(c.Int(0), c.Tag(602, c.Tstr("cfg v1")), c.Int(1), c.Map(c.Int(4), tagged(560, fxConfig)))))
	ta := c.Arr(c.Map(c.Int(0), class, c.Int(1), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr(fxTAPEM))))
	return c.Map(c.Int(0), c.Tstr("en-GB"), c.Int(1), c.Map(c.Int(0), c.Bstr(fxUUID), c.Int(1), c.Int(0)),
		c.Int(2), c.Arr(c.Map(c.Int(0), c.Tstr("ACME Ltd."), c.Int(1), c.Tag(32, c.Tstr("https://acme.example")), c.Int(2), c.Arr(c.Int(0), c.Int(1), c.Int(2)))),
		c.Int(4), c.Map(c.Int(0), c.Arr(refval), c.Int(int64(taKey)), c.Arr(ta)))
}

// legacyRealmCoMID: Veraison's realm CoMID before d4c39f7, own values: env
// {0: {0: 37(uuid), 1: vendor}, 1: 560(RIM)}, one measurement without mkey
// {4: 560(RPV), 14: {"rim": …, "rem0": …}}.
func legacyRealmCoMID() []byte {
	env := c.Map(c.Int(0), c.Map(c.Int(0), c.Tag(37, c.Bstr(fxUUID)), c.Int(1), c.Tstr("Workload Client Ltd")), c.Int(1), tagged(560, fxRIM))
	regs := c.Map(c.Tstr("rim"), digests(c.Int(7), fxRIM), c.Tstr("rem0"), digests(c.Int(7), fxREM0), c.Tstr("rem3"), digests(c.Int(7), fxREM3))
	m := c.Map(c.Int(1), c.Map(c.Int(4), tagged(560, fxRPV), c.Int(14), regs))
	return c.Map(c.Int(1), c.Map(c.Int(0), c.Bstr(fxUUID)), c.Int(4), c.Map(c.Int(0), c.Arr(c.Arr(env, c.Arr(m)))))
}

func validityMap() []byte {
	return c.Map(c.Int(0), c.Tag(1, c.Int(1640908800)), c.Int(1), c.Tag(1, c.Int(1767139200)))
}

// TestDecodeForms: every envelope and profile form Veraison has
// provisioned decodes to the same neutral values.
func TestDecodeForms(t *testing.T) {
	legacyPlat := PlatformReference{ImplementationID: fxImpl, Config: fxConfig, Vendor: "ACME", Model: "RoadRunner",
		SwComponents: []SwComponent{{Type: "BL", Version: "1.2.0", Alg: "sha-256", Value: fxBL, SignerID: fxSigner}}}
	legacyTA := TrustAnchor{ImplementationID: fxImpl, InstanceID: fxInst, Key: &fxTAKey.PublicKey, Vendor: "ACME", Model: "RoadRunner"}
	// corim-map forms: bare (before veraison/corim 59105a8) with each tag a
	// bstr holding 506(…) (before c9de6bc).
	bare := func(profile []byte, comid []byte) []byte {
		return c.Map(c.Int(0), c.Bstr(fxUUID), c.Int(1), c.Arr(c.Bstr(c.Tag(506, comid))),
			c.Int(2), c.Arr(c.Map(c.Int(0), c.Tag(32, c.Tstr("https://parent.example/rims/1")), c.Int(1), c.Arr(c.Int(1), c.Bstr(fxBL)))),
			c.Int(3), profile, c.Int(4), validityMap(),
			c.Int(5), c.Arr(c.Map(c.Int(0), c.Tstr("ACME Ltd."), c.Int(1), c.Tag(32, c.Tstr("acme.example")), c.Int(2), c.Arr(c.Int(1)))))
	}
	tagged501 := func(profile []byte, comid []byte) []byte {
		return c.Tag(501, c.Map(c.Int(0), c.Tstr("00000000-0000-0000-cca6-000000000001"), c.Int(1), c.Arr(c.Tag(506, c.Bstr(comid))),
			c.Int(3), profile, c.Int(5), c.Arr(c.Map(c.Int(0), c.Tstr("Veraison Project"), c.Int(2), c.Arr(c.Int(1))))))
	}
	plat2025 := comidMap("p", c.Map(
		c.Int(0), c.Arr(c.Arr(classEnv(tagged(560, fxImpl), nil), c.Arr(
			meas(c.Tstr("cca.software-component"), c.Map(c.Int(0), c.Map(c.Int(0), c.Tstr("2.1")), c.Int(2), digests(c.Int(1), fxBL), c.Int(11), c.Tstr("BL"), c.Int(13), c.Arr(tagged(560, fxSigner)))),
			// the CCA draft's masked raw value, §3.1.3
			meas(c.Tstr("cca.platform-config"), c.Map(c.Int(4), c.Tag(563, c.Arr(c.Bstr(fxConfig), c.Bstr(fxMask)))))))),
		c.Int(3), c.Arr(taTriple())))
	tests := []struct {
		name    string
		in      []byte
		profile string
		legacy  bool
		tas     []TrustAnchor
		plats   []PlatformReference
		realms  []RealmReference
	}{
		{"2024-06: bare map, profiles array, bstr tags, TAs at triples key 2",
			bare(c.Arr(c.Tstr(ProfilePlatformSSD)), legacyPlatformCoMID(2)), ProfilePlatformSSD, true,
			[]TrustAnchor{legacyTA}, []PlatformReference{legacyPlat}, nil},
		{"2024-10: bare map, untagged profile, TAs at triples key 3",
			bare(c.Tstr(ProfilePlatformSSD), legacyPlatformCoMID(3)), ProfilePlatformSSD, true,
			[]TrustAnchor{legacyTA}, []PlatformReference{legacyPlat}, nil},
		{"2025-12: 501, 506(bstr), untagged profile",
			tagged501(c.Tstr(ProfilePlatformSSD), legacyPlatformCoMID(3)), ProfilePlatformSSD, true,
			[]TrustAnchor{legacyTA}, []PlatformReference{legacyPlat}, nil},
		{"2026-01: 2023 platform tag",
			tagged501(c.Tag(32, c.Tstr(ProfilePlatform2023)), legacyPlatformCoMID(3)), ProfilePlatform2023, true,
			[]TrustAnchor{legacyTA}, []PlatformReference{legacyPlat}, nil},
		{"legacy realm, profiles array",
			bare(c.Arr(c.Tstr(ProfileRealmLegacy)), legacyRealmCoMID()), ProfileRealmLegacy, true,
			nil, nil, []RealmReference{{RIM: fxRIM, HashAlg: "sha-384", RPV: fxRPV, REMs: [4][]byte{fxREM0, nil, nil, fxREM3}}}},
		{"2026-01: 2023 realm tag",
			tagged501(c.Tag(32, c.Tstr(ProfileRealm2023)), legacyRealmCoMID()), ProfileRealm2023, true,
			nil, nil, []RealmReference{{RIM: fxRIM, HashAlg: "sha-384", RPV: fxRPV, REMs: [4][]byte{fxREM0, nil, nil, fxREM3}}}},
		{"2025: integer digest ids, 563 masked config, TAs and RVs in one CoMID",
			tagged501(profPlat, plat2025), ProfilePlatform, false,
			[]TrustAnchor{wantTA()}, []PlatformReference{{ImplementationID: fxImpl, Config: fxConfig, ConfigMask: fxMask,
				SwComponents: []SwComponent{{Type: "BL", Version: "2.1", Alg: "sha-256", Value: fxBL, SignerID: fxSigner}}}}, nil},
		{"2025 fixtures", fixturePlatform(), ProfilePlatform, false, nil, []PlatformReference{wantPlatform()}, nil},
		{"2025 realm fixture", fixtureRealm(), ProfileRealm, false, nil, nil, []RealmReference{wantRealm()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !IsCoRIM(tt.in) {
				t.Error("IsCoRIM false")
			}
			e := mustDecode(t, tt.in, DecodeOptions{})
			if e.Profile != tt.profile || e.Legacy != tt.legacy {
				t.Errorf("profile %q legacy %v", e.Profile, e.Legacy)
			}
			for _, w := range append(append([]string{}, whereOf(e)...), "") {
				if w != "" && !strings.Contains(w, "CoMID 0") {
					t.Errorf("Where %q", w)
				}
			}
			clearWhere(e)
			if !reflect.DeepEqual(e.TrustAnchors, tt.tas) {
				t.Errorf("trust anchors\n got %+v\nwant %+v", e.TrustAnchors, tt.tas)
			}
			if !reflect.DeepEqual(e.Platforms, tt.plats) {
				t.Errorf("platforms\n got %+v\nwant %+v", e.Platforms, tt.plats)
			}
			if !reflect.DeepEqual(e.Realms, tt.realms) {
				t.Errorf("realms\n got %+v\nwant %+v", e.Realms, tt.realms)
			}
		})
	}
}

func whereOf(e *Endorsements) []string {
	var w []string
	for _, x := range e.TrustAnchors {
		w = append(w, x.Where)
	}
	for _, x := range e.Platforms {
		w = append(w, x.Where)
	}
	for _, x := range e.Realms {
		w = append(w, x.Where)
	}
	return w
}

// TestDecodeErrors: this package's own refusals, each with its class and
// a message naming what and where.
func TestDecodeErrors(t *testing.T) {
	platWith := func(ms ...[]byte) []byte {
		return corim("e", profPlat, comidTag("r", rvTriples(c.Arr(classEnv(tagged(560, fxImpl), nil), c.Arr(ms...)))))
	}
	realmWith := func(env []byte, ms ...[]byte) []byte {
		return corim("e", profRealm, comidTag("m", rvTriples(c.Arr(env, c.Arr(ms...)))))
	}
	rimEnv := classEnv(tagged(560, fxRIM), nil)
	rim := digestMeas("cca.rim", "sha-384", fxRIM)
	good := fixturePlatform()
	deep := c.Tstr("x")
	for range 40 {
		deep = c.Arr(deep)
	}
	tests := []struct {
		name  string
		in    []byte
		class error
		want  string
	}{
		{"empty", nil, ErrMalformed, "empty input"},
		{"oversize", make([]byte, MaxSize+1), ErrMalformed, "exceeds"},
		{"not CBOR", []byte{0xff}, ErrMalformed, ""},
		{"trailing bytes", append(fixtureTA(), 0), ErrMalformed, ""},
		{"truncated", good[:len(good)-1], ErrMalformed, ""},
		{"JSON", []byte(`[{"implementation-id": "AA=="}]`), ErrMalformed, ""},
		{"nesting", c.Tag(501, c.Map(c.Int(0), c.Tstr("x"), c.Int(1), deep)), ErrMalformed, "exceeded max nested level"},
		{"indefinite length", c.Tag(501, c.IndefMap(c.Int(0), c.Tstr("x"))), ErrMalformed, "indefinite"},
		{"duplicate key", c.Tag(501, c.Map(c.Int(0), c.Tstr("x"), c.Int(0), c.Tstr("y"))), ErrMalformed, "duplicate map key"},
		{"escaped duplicate key", c.Tag(18, c.Arr(c.Bstr(c.Map(c.Tstr("\x1b[2J"), c.Int(0), c.Tstr("\x1b[2J"), c.Int(1))), c.Map(), c.Bstr(fixtureTA()), c.Bstr([]byte{1}))), ErrMalformed, `\x1b[2J`},
		{"other tag", c.Tag(502, c.Map()), ErrMalformed, "tag 502"},
		{"no profile", c.Tag(501, c.Map(c.Int(0), c.Tstr("x"), c.Int(1), c.Arr())), ErrProfile, "no profile"},
		{"unknown profile", corim("x", c.Tag(32, c.Tstr("http://arm.com/psa/iot/1")), comidTag("t", akTriples(taTriple()))), ErrProfile, `"http://arm.com/psa/iot/1" is not a CCA profile`},
		{"oid profile", corim("x", c.Tag(111, c.Bstr([]byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37})), comidTag("t", akTriples(taTriple()))), ErrProfile, "profile OID 1.3.6.1.4.1.311"},
		{"two profiles", c.Map(c.Int(0), c.Tstr("x"), c.Int(1), c.Arr(), c.Int(3), c.Arr(c.Tstr(ProfilePlatformSSD), c.Tstr(ProfileRealmLegacy))), ErrProfile, "2 profiles"},
		{"no tags", corim("x", profPlat), ErrInvalid, "tags (key 1) is empty"},
		{"coswid", corim("x", profPlat, c.Tag(505, c.Bstr(c.Map()))), ErrInvalid, "tags[0] is tag 505"},
		{"unknown corim key", c.Tag(501, c.Map(c.Int(0), c.Tstr("x"), c.Int(9), c.Int(1))), ErrInvalid, "corim-map key 9"},
		{"escaped id", corim("evil\x1b[2J\nresult: TRUSTWORTHY", profPlat), ErrInvalid, `"evil\x1b[2J\nresult: TRUSTWORTHY"`},
		{"endorsed triples", corim("x", profPlat, comidTag("t", c.Map(c.Int(1), c.Arr()))), ErrInvalid, "endorsed-triples (key 1) are not part of the CCA profiles"},
		{"identity triples", corim("x", profPlat, comidTag("t", c.Map(c.Int(2), c.Arr()))), ErrInvalid, "identity-triples (key 2)"},
		{"keys in a realm CoRIM", corim("x", profRealm, comidTag("t", akTriples(taTriple()))), ErrInvalid, "not part of the CCA realm profile"},
		{"key conditions", corim("x", profPlat, comidTag("t", akTriples(c.Arr(classEnv(tagged(560, fxImpl), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr(fxTAPEM))), c.Map())))), ErrInvalid, "conditions"},
		{"two keys", corim("x", profPlat, comidTag("t", akTriples(c.Arr(classEnv(tagged(560, fxImpl), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr(fxTAPEM)), c.Tag(554, c.Tstr(fxTAPEM))))))), ErrInvalid, "exactly one entry, got 2"},
		{"bad PEM", corim("x", profPlat, comidTag("t", akTriples(c.Arr(classEnv(tagged(560, fxImpl), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"))))))), ErrInvalid, "SubjectPublicKeyInfo"},
		{"instance not RAND", corim("x", profPlat, comidTag("t", akTriples(c.Arr(classEnv(tagged(560, fxImpl), tagged(550, append([]byte{2}, fxInst[1:]...))), c.Arr(c.Tag(554, c.Tstr(fxTAPEM))))))), ErrInvalid, "RAND type (0x01), got 0x02"},
		{"legacy impl id in 2025", corim("x", profPlat, comidTag("t", akTriples(c.Arr(classEnv(tagged(600, fxImpl), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr(fxTAPEM))))))), ErrInvalid, "implementation-id must be of type 'bytes', got 'psa.impl-id'"},
		{"RV for one instance", corim("x", profPlat, comidTag("r", rvTriples(c.Arr(classEnv(tagged(560, fxImpl), tagged(550, fxInst)), c.Arr(swComp("1", "BL", "sha-256", fxBL)))))), ErrInvalid, "per implementation"},
		{"config only", platWith(cfgMeas(fxConfig, fxMask)), ErrInvalid, "at least one software component"},
		{"two configs", platWith(swComp("1", "BL", "sha-256", fxBL), cfgMeas(fxConfig, fxMask), cfgMeas(fxConfig, fxMask)), ErrInvalid, "only one platform-config measurement allowed per triple, found 2"},
		{"no mask", platWith(swComp("1", "BL", "sha-256", fxBL), meas(c.Tstr("cca.platform-config"), c.Map(c.Int(4), tagged(560, fxConfig)))), ErrInvalid, "raw-value-mask is mandatory"},
		{"mask length", platWith(swComp("1", "BL", "sha-256", fxBL), cfgMeas(fxConfig, []byte{1})), ErrInvalid, "raw-value-mask is 1 bytes"},
		{"version scheme", platWith(meas(c.Tstr("cca.software-component"), c.Map(c.Int(0), c.Map(c.Int(0), c.Tstr("1"), c.Int(1), c.Int(1)), c.Int(2), digests(c.Int(1), fxBL), c.Int(13), c.Arr(tagged(560, fxSigner))))), ErrInvalid, "version-scheme field MUST NOT be present"},
		{"svn", platWith(meas(c.Tstr("cca.software-component"), c.Map(c.Int(1), c.Int(3), c.Int(2), digests(c.Int(1), fxBL), c.Int(13), c.Arr(tagged(560, fxSigner))))), ErrInvalid, "svn (key 1) is not used"},
		{"no signer", platWith(meas(c.Tstr("cca.software-component"), c.Map(c.Int(2), digests(c.Int(1), fxBL)))), ErrInvalid, "cryptokeys (signer-id) is mandatory but not set"},
		{"short signer", platWith(meas(c.Tstr("cca.software-component"), c.Map(c.Int(2), digests(c.Int(1), fxBL), c.Int(13), c.Arr(tagged(560, fxSigner[:24]))))), ErrInvalid, "signer-id must be 32, 48, or 64 bytes (got 24)"},
		{"digest size", platWith(swComp("1", "BL", "sha-256", fxBL[:31])), ErrInvalid, "wrong hash digest size: got 31 bytes"},
		{"digest size vs alg", platWith(swComp("1", "BL", "sha-256", fxRMM)), ErrInvalid, "a sha-256 digest is 32 bytes, this one 48"},
		{"digest alg", platWith(swComp("1", "BL", "sha3-256", fxBL)), ErrAlgorithm, `algorithm "sha3-256" is not supported`},
		{"digest alg id", platWith(meas(c.Tstr("cca.software-component"), c.Map(c.Int(2), digests(c.Int(10), fxBL), c.Int(13), c.Arr(tagged(560, fxSigner))))), ErrAlgorithm, "algorithm 10 (sha3-256)"},
		{"authorized-by", platWith(c.Map(c.Int(0), c.Tstr("cca.software-component"), c.Int(1), c.Map(), c.Int(2), c.Arr())), ErrInvalid, "authorized-by"},
		{"no mval", platWith(c.Map(c.Int(0), c.Tstr("cca.software-component"))), ErrInvalid, "measurement-values (key 1) is mandatory"},
		{"group", corim("x", profPlat, comidTag("t", akTriples(c.Arr(c.Map(c.Int(2), c.Tag(37, c.Bstr(fxUUID))), c.Arr())))), ErrInvalid, "environment.group"},
		{"rim mismatch", realmWith(rimEnv, digestMeas("cca.rim", "sha-384", fxREM0)), ErrInvalid, "the cca.rim digest differs"},
		{"rem alg", realmWith(rimEnv, rim, digestMeas("cca.rem1", "sha-512", bytes.Repeat([]byte{1}, 64))), ErrInvalid, "the RIM is sha-384 but the REMs sha-512"},
		{"two rims", realmWith(rimEnv, rim, rim), ErrInvalid, "a second cca.rim"},
		{"two digests", realmWith(rimEnv, meas(c.Tstr("cca.rim"), c.Map(c.Int(2), c.Arr(c.Arr(c.Tstr("sha-384"), c.Bstr(fxRIM)), c.Arr(c.Tstr("sha-384"), c.Bstr(fxRIM)))))), ErrInvalid, "exactly one entry, got 2"},
		{"realm mkey", realmWith(rimEnv, rim, digestMeas("cca.rem4", "sha-384", fxRIM)), ErrInvalid, `invalid mkey "cca.rem4"`},
		{"realm instance", realmWith(classEnv(tagged(560, fxRIM), tagged(560, fxRIM)), rim), ErrInvalid, "environment.instance is not part of the CCA realm profile"},
		{"rpv size", realmWith(rimEnv, rim, meas(c.Tstr("cca.rpv"), c.Map(c.Int(4), tagged(560, fxRPV[:44])))), ErrInvalid, "personalization value is 44 bytes, expected 64"},
		{"legacy realm rim differs", corim("x", c.Tstr(ProfileRealmLegacy), comidTag("m", rvTriples(c.Arr(c.Map(c.Int(1), tagged(560, fxREM0)), c.Arr(c.Map(c.Int(1), c.Map(c.Int(14), c.Map(c.Tstr("rim"), digests(c.Int(7), fxRIM))))))))), ErrInvalid, `"rim" register differs`},
		{"legacy realm alg", corim("x", c.Tstr(ProfileRealmLegacy), comidTag("m", rvTriples(c.Arr(c.Map(c.Int(1), tagged(560, fxRIM)), c.Arr(c.Map(c.Int(1), c.Map(c.Int(14), c.Map(c.Tstr("rem0"), digests(c.Int(8), fxRPV), c.Tstr("rim"), digests(c.Int(7), fxRIM))))))))), ErrInvalid, "incompatible algorithm"},
		{"legacy realm no rim", corim("x", c.Tstr(ProfileRealmLegacy), comidTag("m", rvTriples(c.Arr(c.Map(c.Int(1), tagged(560, fxRIM)), c.Arr(c.Map(c.Int(1), c.Map(c.Int(14), c.Map(c.Tstr("rem0"), digests(c.Int(7), fxREM0))))))))), ErrInvalid, `integrity register "rim" is mandatory`},
		{"legacy platform mkey", corim("x", c.Tstr(ProfilePlatformSSD), comidTag("r", rvTriples(c.Arr(classEnv(tagged(600, fxImpl), nil), c.Arr(swComp("1", "BL", "sha-256", fxBL)))))), ErrInvalid, "mkey must be of type 'psa.refval-id' or 'cca.platform-config-id'"},
		{"expired", c.Tag(501, c.Map(c.Int(0), c.Tstr("x"), c.Int(1), c.Arr(comidTag("t", akTriples(taTriple()))), c.Int(3), profPlat, c.Int(4), validityMap())), ErrExpired, "rim-validity ended 2025-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DecodeOptions{}
			if tt.class == ErrExpired {
				opts.Now = fixedNow
			}
			_, err := Decode(tt.in, opts)
			if err == nil {
				t.Fatal("decoded")
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("error %q is not %q", err, tt.class)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			for _, r := range err.Error() {
				if !unicode.IsPrint(r) {
					t.Errorf("error %q holds the unprintable %U", err, r)
				}
			}
			var classes int
			for _, cl := range token.Classes() {
				if errors.Is(err, cl) {
					classes++
				}
			}
			if classes != 1 {
				t.Errorf("error %q wraps %d token error classes, want 1", err, classes)
			}
		})
	}
}

// TestIsolateBadKeys: with IsolateBadKeys, a key that does not parse is
// set apart with its platform's identity; the other trust anchors load.
func TestIsolateBadKeys(t *testing.T) {
	// An off-curve P-256 point in a well-formed SubjectPublicKeyInfo.
	offCurve := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n-----END PUBLIC KEY-----"
	otherInst := append([]byte{0x01}, bytes.Repeat([]byte{0x99}, 32)...)
	bad := c.Arr(classEnv(tagged(560, fxImpl), tagged(550, otherInst)), c.Arr(c.Tag(554, c.Tstr(offCurve))))
	in := corim("keys", profPlat, comidTag("k", akTriples(bad, taTriple())))
	if _, err := Decode(in, DecodeOptions{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "attestation key triple 0: verification-key") {
		t.Fatalf("strict: %v", err)
	}
	e := mustDecode(t, in, DecodeOptions{IsolateBadKeys: true})
	if len(e.TrustAnchors) != 1 || !bytes.Equal(e.TrustAnchors[0].InstanceID, fxInst) {
		t.Errorf("trust anchors %+v", e.TrustAnchors)
	}
	if len(e.BadTrustAnchors) != 1 || !bytes.Equal(e.BadTrustAnchors[0].InstanceID, otherInst) ||
		!errors.Is(e.BadTrustAnchors[0].Err, ErrInvalid) || !strings.Contains(e.BadTrustAnchors[0].Where, "attestation key triple 0") {
		t.Errorf("bad trust anchors %+v", e.BadTrustAnchors)
	}
	// A structural defect is not isolated.
	noInst := c.Arr(classEnv(tagged(560, fxImpl), nil), c.Arr(c.Tag(554, c.Tstr(offCurve))))
	if _, err := Decode(corim("keys", profPlat, comidTag("k", akTriples(noInst, taTriple()))), DecodeOptions{IsolateBadKeys: true}); err == nil {
		t.Error("a triple without instance was isolated")
	}
}

func TestIsCoRIM(t *testing.T) {
	signed, err := Sign(fixtureTA(), fxTAKey, SignOptions{SignerName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	platformToken, err := token.SignPayload(c.Map(c.Int(265), c.Tstr("x")), fxTAKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"unsigned", fixtureTA(), true},
		{"bare map", c.Map(c.Int(0), c.Tstr("x"), c.Int(1), c.Arr()), true},
		{"signed", signed, true},
		{"legacy signed", c.Cat([]byte{0xd9, 0x01, 0xf4, 0xd9, 0x01, 0xf6}, signed), true},
		{"legacy signed, untagged", c.Cat([]byte{0xd9, 0x01, 0xf4, 0xd9, 0x01, 0xf6}, signed[1:]), true},
		{"platform token", platformToken, false},
		{"CCA collection", c.Tag(399, c.Map()), false},
		{"other map", c.Map(c.Int(44234), c.Bstr(nil)), false},
		{"JSON array", []byte(`[{"pkey": {}}]`), false},
		{"JSON object", []byte(`{"platform": []}`), false},
		{"empty", nil, false},
		{"trailing", append(fixtureTA(), 0), false},
	}
	for _, tt := range tests {
		if got := IsCoRIM(tt.in); got != tt.want {
			t.Errorf("%s: IsCoRIM = %v", tt.name, got)
		}
	}
}

// TestBounds: hostile counts are refused before they cost much.
func TestBounds(t *testing.T) {
	rep := func(n int, item []byte) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = item
		}
		return out
	}
	// One array over MaxArrayLen.
	long := corim("b", profPlat, comidTag("t", akTriples(rep(MaxArrayLen+1, taTriple())...)))
	if _, err := Decode(long, DecodeOptions{}); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "exceeded max number of elements") {
		t.Errorf("long array: %v", err)
	}
	// More triples than MaxTriples (lists of MaxArrayLen each): the count
	// is checked per list, before its triples are read.
	emptyTriple := c.Arr(c.Map(), c.Arr())
	d := &decoder{e: &Endorsements{}, profile: profiles[ProfilePlatform], corimWhere: "b", attestKeyTriples: triplesAttestKey}
	list := c.Arr(rep(MaxArrayLen, emptyTriple)...)
	var err error
	for i := 0; err == nil && i <= MaxTriples/MaxArrayLen; i++ {
		_, err = d.tripleList(list, "b", "reference-triples")
	}
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "more than 16384 triples") {
		t.Errorf("triples: %v", err)
	}
	// More measurements than MaxMeasurements.
	ms := c.Arr(rep(MaxArrayLen, c.Map(c.Int(1), c.Map()))...)
	err = nil
	for i := 0; err == nil && i <= MaxMeasurements/MaxArrayLen; i++ {
		_, err = d.measurements(mustArray(t, ms), "b")
	}
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "more than 65536 measurements") {
		t.Errorf("measurements: %v", err)
	}
}

func mustArray(t *testing.T, b []byte) []item {
	t.Helper()
	a, err := asArray(b, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}
