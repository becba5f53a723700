package emulation

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realmbuild"
)

// TestRun: the default realm is built through RMI, extends REM[0] and
// gets a token over RSI whose realm claims are those of the realm built:
// the challenge given, the predicted RIM and RPV.
func TestRun(t *testing.T) {
	challenge := bytes.Repeat([]byte{0x5a}, 64)
	res, err := Run(Options{Challenge: challenge})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Machine.Close()
	ev, err := evidence.Decode(res.Token)
	if err != nil {
		t.Fatal(err)
	}
	pred := res.Plan.Predict()
	if !bytes.Equal(ev.Realm.Challenge, challenge) || !bytes.Equal(ev.Realm.InitialMeasurement, pred.RIM) ||
		!bytes.Equal(ev.Realm.PersonalizationValue, pred.RPV) {
		t.Errorf("realm claims are not those of the realm built: challenge %x, RIM %x (predicted %x)",
			ev.Realm.Challenge, ev.Realm.InitialMeasurement, pred.RIM)
	}
	for _, c := range []string{"RSI_MEASUREMENT_EXTEND", "RSI_ATTESTATION_TOKEN_INIT", "RSI_ATTESTATION_TOKEN_CONTINUE"} {
		if res.RSICalls[c] == 0 {
			t.Errorf("no %s among the realm's RSI calls %v", c, res.RSICalls)
		}
	}
	if res.RMICount["RMI_REALM_CREATE"] != 1 || res.RMICount["RMI_REC_ENTER"] == 0 || res.RMICount["RMI_REALM_ACTIVATE"] != 1 {
		t.Errorf("RMI calls %v", res.RMICalls)
	}
	if len(res.AbortIPAs) == 0 {
		t.Errorf("the token buffer's first touch did not fault to the host")
	}
}

// TestRunErrors: a configuration the machine refuses, and a realm whose
// description is invalid, are reported as such and leave nothing running.
func TestRunErrors(t *testing.T) {
	if _, err := Run(Options{Config: emulator.Config{TokenFormat: evidence.Format(99)}}); !errors.Is(err, ErrMachine) {
		t.Errorf("unknown token format: %v, want ErrMachine", err)
	}
	d, err := realmbuild.ParseDescription([]byte(DefaultRealm))
	if err != nil {
		t.Fatal(err)
	}
	d.RECs = nil
	if _, err := Run(Options{Realm: d}); !errors.Is(err, realmbuild.ErrDescription) || !strings.Contains(err.Error(), "rec") {
		t.Errorf("a realm without RECs: %v, want a description error", err)
	}
	if _, err := Run(Options{Challenge: []byte{1, 2, 3}}); err == nil || !strings.Contains(err.Error(), "challenge") {
		t.Errorf("a 3-byte challenge: %v", err)
	}
}
