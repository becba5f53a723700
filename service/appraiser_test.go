package service

import (
	"testing"

	"github.com/ccakit/cca/verifier"
)

// emulatedAppraiser trusts the emulated machine's CPAK for its instance,
// its firmware as platform reference values and the realm's predicted RIM
// and RPV.
func emulatedAppraiser(t testing.TB, e *emulatedRealm) Appraiser {
	rt := e.machine.RootOfTrust()
	anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: rt.InstanceID(), ImplementationID: rt.ImplementationID(), Key: e.machine.CPAK()})
	if err != nil {
		t.Fatal(err)
	}
	var comps []verifier.SwComponentReference
	for _, c := range rt.SoftwareComponents() {
		comps = append(comps, verifier.SwComponentReference{Type: c.MeasurementType, Value: c.MeasurementValue, SignerID: c.SignerID})
	}
	pred := e.plan.Predict()
	refs, err := verifier.NewReferenceValues(
		[]verifier.PlatformReference{{ImplementationID: rt.ImplementationID(), Config: rt.Claims(nil).Config, SwComponents: comps}},
		[]verifier.RealmReference{{InitialMeasurement: pred.RIM, PersonalizationValue: pred.RPV}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(anchors, verifier.WithReferenceValues(refs))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
