package emulation

import (
	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// The reference values of what Run runs, each derived from its source
// (the root of trust's configuration, the realm's plan, the realm
// software's one REM extension), never from a token: a relying party that
// knows the machine and the realm would publish the same.

// PlatformReference is the emulated platform's reference value: its
// implementation id, configuration and the software components its root
// of trust measured at boot.
func PlatformReference(rt *rot.RoT) verifier.PlatformReference {
	var comps []verifier.SwComponentReference
	for _, c := range rt.SoftwareComponents() {
		comps = append(comps, verifier.SwComponentReference{Type: c.MeasurementType, Value: c.MeasurementValue,
			SignerID: c.SignerID, Version: c.Version})
	}
	return verifier.PlatformReference{ImplementationID: rt.ImplementationID(), Config: rt.Claims(nil).Config, SwComponents: comps}
}

// RealmReference is the reference value of a realm built from plan and run
// by Run: the RIM and RPV predicted from the plan, the REMs its software
// reaches (REM[0] extended once with BootMessage, the others as the RMM
// created them, zero), and the emulated RMM's RAK hash algorithm (sha-256,
// as TF-RMM's).
func RealmReference(plan *realmbuild.Plan) verifier.RealmReference {
	pred := plan.Predict()
	var rem0 realm.Measurement
	rem0.ExtendREM(pred.HashAlgo, []byte(BootMessage))
	zero := make([]byte, pred.HashAlgo.Size())
	return verifier.RealmReference{InitialMeasurement: pred.RIM, PersonalizationValue: pred.RPV,
		ExtensibleMeasurements: [][]byte{rem0.Value(pred.HashAlgo), zero, zero, zero},
		HashAlgorithm:          pred.HashAlgo.Name(), RAKHashAlgorithm: token.SHA256}
}
