package verifier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/token"
)

// TestMeasurementSizeMismatchReference: under
// AllowMeasurementSizeMismatchUnsafe, a realm whose 64-byte RIM is labelled
// sha-256 (Veraison's test evidence) is matched with the reference value of
// the same bytes labelled sha-512 (Veraison's end-to-end realm
// endorsements), from a JSON store or a CoRIM, the detail saying so;
// without the field there is no such match, and a store that itself
// labels 64 bytes sha-256 is refused.
func TestMeasurementSizeMismatchReference(t *testing.T) {
	r, tok := mislabelledRealm(t)

	jsonStore, err := ParseReferenceValues([]byte(fmt.Sprintf(`{"realm": [{"initial-measurement": "%x", "hash-algo": "sha-512",
		"personalization-value": "%x", "extensible-measurements": ["%x", "%x", "%x", "%x"]}]}`, r.InitialMeasurement, r.PersonalizationValue,
		r.ExtensibleMeasurements[0], r.ExtensibleMeasurements[1], r.ExtensibleMeasurements[2], r.ExtensibleMeasurements[3])))
	if err != nil {
		t.Fatal(err)
	}
	corim, err := endorsement.EncodeRealm("realm", endorsement.RealmReference{RIM: r.InitialMeasurement, HashAlg: token.SHA512,
		RPV: r.PersonalizationValue, REMs: [4][]byte(r.ExtensibleMeasurements)})
	if err != nil {
		t.Fatal(err)
	}
	corimStore, err := ReadReferenceValues(corim, endorsement.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	platformRefs := refValues(t, []PlatformReference{samplePlatformRef()}, nil)
	for name, store := range map[string]*ReferenceValues{"JSON": jsonStore, "CoRIM": corimStore} {
		t.Run(name, func(t *testing.T) {
			refs := WithReferenceValues(CombineReferenceValues(platformRefs, store))
			p := Policy{AllowMeasurementSizeMismatchUnsafe: true}
			res := verify(t, newVerifier(t, sampleAnchors(t), refs, WithPolicy(p)), tok, testNonce)
			c, _ := res.Realm.Check(CheckInitialMeasurement, 0)
			if !res.Trustworthy || c.Outcome != Matched ||
				!strings.Contains(c.Detail, "its sha-512 digest is the token's 64 bytes labelled sha-256: accepted by AllowMeasurementSizeMismatchUnsafe") {
				t.Fatalf("trustworthy %v %q; RIM check %+v", res.Trustworthy, res.Reasons, c)
			}
			for i := range 4 {
				if c, _ := res.Realm.Check(CheckREM, i); c.Outcome != Matched {
					t.Errorf("REM %d: %+v", i, c)
				}
			}
			// Without the field the realm's claims fail, and no reference
			// value of another label is taken for it.
			p.AllowMeasurementSizeMismatchUnsafe = false
			v := newVerifier(t, sampleAnchors(t), refs, WithPolicy(p))
			if got, err := v.appraiseRealm(t.Context(), r); err != nil || len(got) == 0 || got[0].Outcome != NotChecked {
				t.Errorf("matched without the field: %+v %v", got, err)
			}
		})
	}
	_, err = ParseReferenceValues([]byte(fmt.Sprintf(`{"realm": [{"initial-measurement": "%x", "hash-algo": "sha-256"}]}`, r.InitialMeasurement)))
	if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), `realm[0]: "initial-measurement": 64 bytes, but hash-algo sha-256 gives 32`) {
		t.Errorf("a store labelling 64 bytes sha-256: %v", err)
	}
}
