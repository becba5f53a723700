package evidence

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// TestCreateTFRMMMain: the tfrmm-main format makes what TF-RMM main
// emits (907, 2023 platform profile, 2024 realm profile with the instance
// id and the MEC policy) and refuses realm claims without them.
func TestCreateTFRMMMain(t *testing.T) {
	iak, rak := baseKeys(t)
	r := sampleRealm(token.SHA256)
	if _, err := Create(samplePlatform(), r, iak, rak, FormatTFRMMMain, nil); !errors.Is(err, token.ErrMissingClaim) ||
		!strings.Contains(err.Error(), "realm claim 256 (cca-realm-instance-id) and realm claim 44243 (cca-realm-mec-policy)") {
		t.Fatalf("without the 2.0 claims: %v", err)
	}
	r.InstanceID, r.MECPolicy = realmIID, realm.MECPolicyOf(false)
	raw, err := Create(samplePlatform(), r, iak, rak, FormatTFRMMMain, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if k := ev.Kind(); k.String() != "CMW collection, 2023 platform profile, realm 2.0 profile" || !k.Coherent() ||
		ev.Platform.Profile != token.ProfilePlatform1 || ev.Realm.Profile != token.ProfileRealm2 {
		t.Fatalf("kind %v", k)
	}
	if err := ev.Validate(ValidateOptions{RejectUnknownClaims: true}); err != nil {
		t.Fatal(err)
	}
	// The same bytes as the hand-built shape of tfrmmMain, but for the
	// signatures: Create writes TF-RMM main's claim order.
	if want := tfrmmMain(t, nil).realm.encode(t); !bytes.Equal(ev.RealmSign1.Payload, want) {
		t.Errorf("realm claims\n% x\nwant\n% x", ev.RealmSign1.Payload, want)
	}
	if f, ok := FormatOfProfiles(token.ProfilePlatform1, token.ProfileRealm2); !ok || f != FormatTFRMMMain {
		t.Errorf("FormatOfProfiles: %v", f)
	}
	for _, f := range Formats() {
		if g, err := ParseFormat(f.String()); err != nil || g != f {
			t.Errorf("%v does not parse back: %v", f, err)
		}
	}
}

// TestCreateDeterministic: with token.RFC6979 the same claims and keys
// give the same evidence, in every format.
func TestCreateDeterministic(t *testing.T) {
	iak, rak := baseKeys(t)
	r := sampleRealm(token.SHA256)
	r.InstanceID, r.MECPolicy = realmIID, realm.MECPolicyOf(false)
	for _, f := range Formats() {
		rc := *r
		if f != FormatTFRMMMain {
			rc.InstanceID, rc.MECPolicy = nil, nil
		}
		a, err := Create(samplePlatform(), &rc, iak, rak, f, token.RFC6979)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Create(samplePlatform(), &rc, iak, rak, f, token.RFC6979)
		c, _ := Create(samplePlatform(), &rc, iak, rak, f, nil)
		if !bytes.Equal(a, b) || bytes.Equal(a, c) {
			t.Errorf("%v: deterministic runs equal %v, random run equal %v", f, bytes.Equal(a, b), bytes.Equal(a, c))
		}
		if _, err := decodeAndRunLegs(a, iak.Public(), legOptions{}); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
}

// TestCreateRefusesWhatDecodeRefuses: claims valid one by one can still
// make evidence past the decoder's bounds (here the number of software
// components an array may hold); Create refuses it rather than write what
// no verifier would read.
func TestCreateRefusesWhatDecodeRefuses(t *testing.T) {
	iak, rak := baseKeys(t)
	p := samplePlatform()
	for len(p.SwComponents) < 700 {
		p.SwComponents = append(p.SwComponents, p.SwComponents[0])
	}
	raw, err := Create(p, sampleRealm(token.SHA256), iak, rak, FormatREL0, nil)
	if !errors.Is(err, token.ErrMalformed) || !strings.Contains(err.Error(), "would not decode") || raw != nil {
		t.Fatalf("700 software components: %v (%d bytes)", err, len(raw))
	}
}
