package service

import (
	"context"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/service/store/sqlstore"
	"github.com/ccakit/cca/verifier"
)

// emulatedCoRIMs are the endorsements of the emulated machine and realm
// as a platform vendor and a realm owner would publish them: the CPAK for
// the platform's instance, its firmware measurements, and the realm's
// predicted RIM and RPV, as three unsigned CoRIMs of today's profiles.
type emulatedCoRIMs struct {
	anchors, platform, realm []byte
}

func corimsFor(t testing.TB, e *emulatedRealm) emulatedCoRIMs {
	t.Helper()
	rt := e.machine.RootOfTrust()
	var c emulatedCoRIMs
	var err error
	if c.anchors, err = endorsement.EncodeTrustAnchors("emulated-cpak",
		endorsement.TrustAnchor{ImplementationID: rt.ImplementationID(), InstanceID: rt.InstanceID(), Key: e.machine.CPAK()}); err != nil {
		t.Fatal(err)
	}
	pr := endorsement.PlatformReference{ImplementationID: rt.ImplementationID(), Config: rt.Claims(nil).Config}
	pr.ConfigMask = make([]byte, len(pr.Config))
	for i := range pr.ConfigMask {
		pr.ConfigMask[i] = 0xff
	}
	for _, sc := range rt.SoftwareComponents() {
		pr.SwComponents = append(pr.SwComponents, endorsement.SwComponent{
			Type: sc.MeasurementType, Version: sc.Version, Alg: "sha-256", Value: sc.MeasurementValue, SignerID: sc.SignerID})
	}
	if c.platform, err = endorsement.EncodePlatform("emulated-firmware", pr); err != nil {
		t.Fatal(err)
	}
	pred := e.plan.Predict()
	if c.realm, err = endorsement.EncodeRealm("emulated-realm",
		endorsement.RealmReference{RIM: pred.RIM, HashAlg: pred.HashAlgo.Name(), RPV: pred.RPV}); err != nil {
		t.Fatal(err)
	}
	return c
}

// storeVerifier is the verifier the service runs: it looks trust anchors
// and reference values up in the store, per evidence.
func storeVerifier(t testing.TB, st *sqlstore.Store) Appraiser {
	t.Helper()
	v, err := verifier.New(st, verifier.WithReferenceValues(st))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// provisionedAppraiser provisions the emulated endorsements straight into
// st and returns the store's verifier.
func provisionedAppraiser(t testing.TB, st *sqlstore.Store, e *emulatedRealm) Appraiser {
	t.Helper()
	c := corimsFor(t, e)
	p := &CoRIMProvisioner{Store: st}
	for _, sub := range []struct {
		profile string
		body    []byte
	}{{CCAPlatformProfile, c.anchors}, {CCAPlatformProfile, c.platform}, {CCARealmProfile, c.realm}} {
		if err := p.Provision(context.Background(), `application/rim+cbor; profile="`+sub.profile+`"`, sub.profile, sub.body); err != nil {
			t.Fatal(err)
		}
	}
	return storeVerifier(t, st)
}
