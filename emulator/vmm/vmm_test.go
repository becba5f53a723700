package vmm_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/verifytest"
	"github.com/ccakit/cca/realmbuild"
)

// buildSmall builds testvectors/realms/small.json on a fresh machine.
func buildSmall(t *testing.T, f evidence.Format) (*emulator.Machine, *vmm.Realm, *realmbuild.Plan, *realmbuild.Description) {
	t.Helper()
	d, load, err := realmbuild.ReadDescriptionFile(filepath.Join("..", "..", "testvectors", "realms", "small.json"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := d.Plan(load)
	if err != nil {
		t.Fatal(err)
	}
	m, err := emulator.New(emulator.Config{TokenFormat: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, nil, plan, d
}

// TestEndToEndAttestation is the whole flow: the VMM builds a realm
// through RMI from a description, the realm's software asks for a token
// over RSI with the Linux guest loop, and the token verifies with the
// platform's CPAK, carries the challenge, binds the RAK, and holds exactly
// the RIM that prediction computes from the same description.
func TestEndToEndAttestation(t *testing.T) {
	for _, f := range []evidence.Format{evidence.FormatREL0, evidence.FormatLegacy, evidence.FormatCMW} {
		t.Run(f.String(), func(t *testing.T) {
			m, _, plan, d := buildSmall(t, f)
			challenge := make([]byte, 48) // Linux pads 32..64 bytes to 64
			_, _ = rand.Read(challenge)
			const bufIPA = 0x8100_0000 // RAM the VMM backs on demand
			var token []byte
			var runErr error
			m.SetRealmProgram(d.RECs[0].PC, func(cpu emulator.RealmCPU) {
				if got, _ := guest.MeasurementRead(cpu, 0); cpu.Reg(0) != d.RECs[0].GPRs[0] || got[0] == 0 {
					runErr = errors.New("unexpected entry state")
					return
				}
				token, runErr = guest.AttestationToken(cpu, challenge, bufIPA)
			})
			v := vmm.New(m)
			r, err := v.Build(plan)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Run(0, vmm.Handlers{}); err != nil {
				t.Fatal(err)
			}
			if runErr != nil {
				t.Fatal(runErr)
			}
			ev, err := verifytest.Verify(token, m.CPAK(), challenge)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind().Wrapper != f.Wrapper() || ev.Kind().Realm != f.Generation() {
				t.Fatalf("token is %v, asked for %v", ev.Kind(), f)
			}
			pred := plan.Predict()
			if !bytes.Equal(ev.Realm.InitialMeasurement, pred.RIM) {
				t.Fatalf("token RIM %x, predicted %x", ev.Realm.InitialMeasurement, pred.RIM)
			}
			if !bytes.Equal(ev.Realm.PersonalizationValue, pred.RPV) {
				t.Fatalf("token RPV %x, description %x", ev.Realm.PersonalizationValue, pred.RPV)
			}
			if err := r.Destroy(); err != nil {
				t.Fatalf("destroy: %v", err)
			}
		})
	}
}
