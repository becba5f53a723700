package verifier

import (
	"crypto/elliptic"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
)

// sampleEndorsedPlatform is the sample platform's reference values as a
// CoRIM triple, each component endorsed with its signer id and version.
func sampleEndorsedPlatform() endorsement.PlatformReference {
	p := samplePlatform()
	ref := endorsement.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config, ConfigMask: rep(0xFF, len(p.Config))}
	for _, sc := range p.SwComponents {
		ref.SwComponents = append(ref.SwComponents, endorsement.SwComponent{
			Type: sc.MeasurementType, Version: sc.Version, Alg: "sha-256", Value: sc.MeasurementValue, SignerID: sc.SignerID})
	}
	return ref
}

func sampleEndorsedRealm() endorsement.RealmReference {
	r := sampleRealm()
	return endorsement.RealmReference{RIM: r.InitialMeasurement, HashAlg: r.HashAlgID, RPV: r.PersonalizationValue,
		REMs: [4][]byte{r.ExtensibleMeasurements[0], r.ExtensibleMeasurements[1], r.ExtensibleMeasurements[2], r.ExtensibleMeasurements[3]}}
}

func corimTA(t testing.TB) []byte {
	t.Helper()
	cpak, _, _, _ := keys()
	b, err := endorsement.EncodeTrustAnchors("acme-cpaks", endorsement.TrustAnchor{
		ImplementationID: testImplID, InstanceID: testInstanceID, Key: cpak.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func corimPlatform(t testing.TB, refs ...endorsement.PlatformReference) []byte {
	t.Helper()
	b, err := endorsement.EncodePlatform("acme-fw", refs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func corimRealm(t testing.TB, refs ...endorsement.RealmReference) []byte {
	t.Helper()
	b, err := endorsement.EncodeRealm("acme-vm", refs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readRefs(t testing.TB, docs ...[]byte) ReferenceValueStore {
	t.Helper()
	var stores []ReferenceValueStore
	for _, d := range docs {
		rv, err := ReadReferenceValues(d, endorsement.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, rv)
	}
	return CombineReferenceValues(stores...)
}

// TestCoRIMStores: trust anchors and reference values read from CoRIMs,
// detected by content, mixed with the JSON stores, signed or not.
func TestCoRIMStores(t *testing.T) {
	tok := goodToken(t)
	jsonTA, err := sampleAnchors(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	signer := genKey(elliptic.P256())
	signedTA, err := endorsement.Sign(corimTA(t), signer, endorsement.SignOptions{SignerName: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	signed := endorsement.DecodeOptions{SignerKey: signer.Public()}
	rvJSON := []byte(rvStore())
	for _, tc := range []struct {
		name    string
		ta      [][]byte
		taOpts  endorsement.DecodeOptions
		refs    [][]byte
		wantErr error // from reading a store
	}{
		{name: "CoRIM anchors and reference values", ta: [][]byte{corimTA(t)},
			refs: [][]byte{corimPlatform(t, sampleEndorsedPlatform()), corimRealm(t, sampleEndorsedRealm())}},
		{name: "signed CoRIM anchors", ta: [][]byte{signedTA}, taOpts: signed, refs: [][]byte{rvJSON}},
		{name: "signed CoRIM without its key", ta: [][]byte{signedTA}, wantErr: ErrStoreSignature},
		{name: "signed CoRIM with another key", ta: [][]byte{signedTA}, taOpts: endorsement.DecodeOptions{SignerKey: genKey(elliptic.P256()).Public()},
			wantErr: ErrStoreSignature},
		{name: "JSON anchors, CoRIM platform, JSON realm", ta: [][]byte{jsonTA},
			refs: [][]byte{corimPlatform(t, sampleEndorsedPlatform()), []byte(`{"realm": [{"initial-measurement": "` + strings.Repeat("1a", 32) + `"}]}`)}},
		{name: "CoRIM and JSON anchors", ta: [][]byte{corimTA(t), jsonTA}, refs: [][]byte{rvJSON}},
		{name: "a reference-value CoRIM as trust anchors", ta: [][]byte{corimRealm(t, sampleEndorsedRealm())}, wantErr: ErrStore},
		{name: "not CBOR, not JSON", ta: [][]byte{[]byte{0xd9, 0x01, 0xf5, 0x00}}, wantErr: ErrStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stores []TrustAnchorStore
			for _, d := range tc.ta {
				ta, err := ReadTrustAnchors(d, tc.taOpts)
				if tc.wantErr != nil {
					// A signature not verified is its own class, not a
					// malformed store, and says so.
					sig := tc.wantErr == ErrStoreSignature
					if !errors.Is(err, tc.wantErr) || errors.Is(err, ErrStore) == sig ||
						sig && (!errors.Is(err, endorsement.ErrSignature) || !strings.HasPrefix(err.Error(), "CoRIM signature: ")) {
						t.Fatalf("got %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				stores = append(stores, ta)
			}
			if tc.wantErr != nil {
				t.Fatal("no error")
			}
			v := newVerifier(t, CombineTrustAnchors(stores...), WithReferenceValues(readRefs(t, tc.refs...)))
			if res := verify(t, v, tok, testNonce); !res.Trustworthy {
				t.Fatalf("not trustworthy: %q", res.Reasons)
			}
		})
	}
}

// TestCoRIMPlatformPool: CoRIM platform reference values are pooled and
// matched component by component, as Veraison does, with signer ids
// compared.
func TestCoRIMPlatformPool(t *testing.T) {
	cpak, _, _, _ := keys()
	split := func() []endorsement.PlatformReference {
		// The firmware endorsed in two triples, the configuration in a
		// third: one pool.
		all := sampleEndorsedPlatform()
		a, b, c := all, all, all
		a.SwComponents, a.Config, a.ConfigMask = all.SwComponents[:2], nil, nil
		b.SwComponents, b.Config, b.ConfigMask = all.SwComponents[2:], nil, nil
		c.SwComponents = []endorsement.SwComponent{{Type: "OTHER", Alg: "sha-256", Value: rep(0x77, 32), SignerID: rep(0x21, 32)}}
		return []endorsement.PlatformReference{a, b, c}
	}
	for _, tc := range []struct {
		name    string
		refs    func() []endorsement.PlatformReference
		plat    func(*platformClaims)
		check   string
		want    Outcome
		exe     ear.TrustClaim
		cfg     ear.TrustClaim
		trusted bool
	}{
		{name: "pooled over triples", refs: split, check: "sw component #2 RMM", want: Matched, exe: 2, cfg: 2, trusted: true},
		{name: "endorsed component the token lacks", refs: split, plat: func(p *platformClaims) { p.SwComponents = p.SwComponents[:2] },
			check: "sw component #1 BL2", want: Matched, exe: 2, cfg: 2, trusted: true},
		{name: "token component nobody endorsed", refs: split, plat: func(p *platformClaims) { p.SwComponents[1].MeasurementValue = rep(0x99, 32) },
			check: "sw component #1 BL2", want: Mismatched, exe: 33, cfg: 2},
		{name: "signer id differs (compared, unlike Veraison)", refs: split, plat: func(p *platformClaims) { p.SwComponents[2].SignerID = rep(0x99, 32) },
			check: "sw component #2 RMM", want: Mismatched, exe: 33, cfg: 2},
		{name: "version differs", refs: split, plat: func(p *platformClaims) { p.SwComponents[2].Version = "1.0.1" },
			check: "sw component #2 RMM", want: Mismatched, exe: 33, cfg: 2},
		{name: "type differs", refs: split, plat: func(p *platformClaims) { p.SwComponents[2].MeasurementType = "RMM2" },
			check: "sw component #2 RMM2", want: Mismatched, exe: 33, cfg: 2},
		{name: "no signer id endorsed", refs: func() []endorsement.PlatformReference {
			r := split()
			r[1].SwComponents = slices.Clone(r[1].SwComponents)
			r[1].SwComponents[0].SignerID = nil
			return r
		}, check: "sw component #2 RMM", want: Matched, exe: 2, cfg: 2, trusted: true},
		{name: "configuration differs", refs: split, plat: func(p *platformClaims) { p.Config = []byte{1} },
			check: CheckConfig.String(), want: Mismatched, exe: 2, cfg: 32},
		{name: "no configuration endorsed", refs: func() []endorsement.PlatformReference { r := split(); return r[:2] },
			check: CheckConfig.String(), want: NotChecked, exe: 2, cfg: 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := samplePlatform()
			if tc.plat != nil {
				tc.plat(p)
			}
			var refs ReferenceValueStore
			if platformRefs := tc.refs(); hasUnsigned(platformRefs) {
				// Today's encoder requires signer ids; the earlier
				// forms (601 identifiers) may leave them out.
				_, rv, err := FromEndorsements(&endorsement.Endorsements{Platforms: platformRefs, Realms: []endorsement.RealmReference{sampleEndorsedRealm()}})
				if err != nil {
					t.Fatal(err)
				}
				refs = rv
			} else {
				refs = readRefs(t, corimPlatform(t, platformRefs...), corimRealm(t, sampleEndorsedRealm()))
			}
			v := newVerifier(t, sampleAnchors(t), WithReferenceValues(refs))
			res := verify(t, v, build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce), testNonce)
			checkOutcome(t, res.Platform.Checks, tc.check, tc.want, tc.want == NotChecked)
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v; reasons %q", res.Trustworthy, res.Reasons)
			}
			ar, err := res.EAR()
			if err != nil {
				t.Fatal(err)
			}
			pv := ar.Submods[SubmodPlatform].TrustVector
			if pv.Executables != tc.exe || pv.Configuration != tc.cfg {
				t.Errorf("exe %d cfg %d, want %d %d", pv.Executables, pv.Configuration, tc.exe, tc.cfg)
			}
		})
	}
}

func hasUnsigned(refs []endorsement.PlatformReference) bool {
	for _, r := range refs {
		for _, sc := range r.SwComponents {
			if sc.SignerID == nil {
				return true
			}
		}
	}
	return false
}

// TestCoRIMRealm: a CoRIM realm reference value selects by RIM; REMs it
// does not give are not checked.
func TestCoRIMRealm(t *testing.T) {
	some := sampleEndorsedRealm()
	some.REMs[1], some.REMs[3] = nil, nil
	none := sampleEndorsedRealm()
	none.REMs = [4][]byte{}
	otherRPV := sampleEndorsedRealm()
	otherRPV.RPV = rep(0x51, 64)
	for _, tc := range []struct {
		name    string
		ref     endorsement.RealmReference
		check   string
		want    Outcome
		exe     ear.TrustClaim
		trusted bool
	}{
		{"all REMs", sampleEndorsedRealm(), "REM 3", Matched, 2, true},
		{"REMs 1 and 3 not given", some, "REM 1", NotChecked, 3, true},
		{"no REMs", none, "REM 0", NotChecked, 3, true},
		{"RPV differs", otherRPV, CheckPersonalizationValue.String(), Mismatched, 96, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs := readRefs(t, corimPlatform(t, sampleEndorsedPlatform()), corimRealm(t, tc.ref))
			res := verify(t, newVerifier(t, sampleAnchors(t), WithReferenceValues(refs)), goodToken(t), testNonce)
			checkOutcome(t, res.Realm.Checks, tc.check, tc.want, false)
			if res.Trustworthy != tc.trusted {
				t.Fatalf("trustworthy %v; reasons %q", res.Trustworthy, res.Reasons)
			}
			ar, _ := res.EAR()
			if got := ar.Submods[SubmodRealm].TrustVector.Executables; got != tc.exe {
				t.Errorf("realm exe %d, want %d", got, tc.exe)
			}
		})
	}
}
