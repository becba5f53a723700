package vmm_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realmbuild"
)

// TestPredictionMatchesEmulatedRIM builds one realm per description option
// through RMI and compares the RIM the realm reads with
// RSI_MEASUREMENT_READ(0) to realmbuild's prediction: hash algorithm,
// measured and unmeasured images, runnable and unrunnable RECs, the
// measured RmiRealmParams fields and flags, and the RTT geometry (which
// decides the RTT_INIT_RIPAS descriptors). SVE and LPA2 are left out: the
// emulated platform offers neither (RMI_FEATURES register 0), so
// RMI_REALM_CREATE refuses them.
func TestPredictionMatchesEmulatedRIM(t *testing.T) {
	const base = `{
  "realm": {"s2sz": %s, "hash_algo": "%s", "num_bps": %s, "num_wps": 1 %s},
  "ram": [{"base": "0x80000000", "size": "0x400000"} %s],
  "images": [{"name": "kernel", "ipa": "0x80000000", "fill": "1f2003d5", "size": "0x3000"} %s],
  "recs": [{"pc": "0x80000000", "gprs": ["0x1", "0x2"]} %s]
}`
	type desc struct{ s2sz, hash, bps, realm, ram, images, recs string }
	def := desc{"40", "sha-256", "1", "", "", "", ""}
	// same: the option is not measured, so the RIM must be the default's;
	// every other RIM must differ from all the others.
	tests := []struct {
		name string
		edit func(*desc)
		same bool
	}{
		{"default", func(*desc) {}, false},
		{"sha-512", func(d *desc) { d.hash = "sha-512" }, false},
		{"breakpoints", func(d *desc) { d.bps = "5" }, false}, // the emulated platform's NUM_BPS
		{"pmu", func(d *desc) { d.realm = `, "flags": {"pmu": true}, "pmu_num_ctrs": 4` }, false},
		{"rpv and vmid", func(d *desc) { d.realm = `, "rpv": "0102", "vmid": 7` }, true},
		{"s2sz 33", func(d *desc) { d.s2sz = "33" }, false},
		{"s2sz 48", func(d *desc) { d.s2sz = "48" }, false},
		{"start level 1", func(d *desc) { d.realm = `, "rtt_level_start": 1` }, true}, // the default for 40 bits
		{"start level 2", func(d *desc) { d.s2sz = "34"; d.realm = `, "rtt_level_start": 2` }, false},
		{"second ram range", func(d *desc) { d.ram = `, {"base": "0x90000000", "size": "0x200000"}` }, false},
		{"unaligned measured image", func(d *desc) {
			d.images = `, {"name": "dtb", "ipa": "0x80200800", "hex": "d00dfeed", "size": "0x1000"}`
		}, false},
		{"unmeasured image", func(d *desc) {
			d.images = `, {"name": "log", "ipa": "0x80300000", "hex": "aabbcc", "measured": false}`
		}, false},
		{"runnable second rec", func(d *desc) { d.recs = `, {"pc": "0x80001000", "runnable": true}` }, false},
		{"unrunnable second rec", func(d *desc) { d.recs = `, {"pc": "0x80001000"}` }, true},
		{"unrunnable first rec", func(d *desc) {
			d.recs = `, {"pc": "0x80000000", "runnable": true}`
		}, false},
	}
	rims := map[string]string{} // RIM → case
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dd := def
			tc.edit(&dd)
			js := fmt.Sprintf(base, dd.s2sz, dd.hash, dd.bps, dd.realm, dd.ram, dd.images, dd.recs)
			if tc.name == "unrunnable first rec" {
				js = strings.Replace(js, `"gprs": ["0x1", "0x2"]}`, `"gprs": ["0x1", "0x2"], "runnable": false}`, 1)
			}
			d, plan, m := planAndMachine(t, js)
			var rim [64]byte
			var runErr = errors.New("realm software did not run")
			entry := -1
			for i, rec := range d.RECs {
				if rec.Runnable {
					entry = i
					break
				}
			}
			m.SetRealmProgram(d.RECs[entry].PC, func(cpu emulator.RealmCPU) {
				rim, runErr = guest.MeasurementRead(cpu, 0)
			})
			r, err := vmm.New(m).Build(plan)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Run(entry, vmm.Handlers{}); err != nil {
				t.Fatal(err)
			}
			if runErr != nil {
				t.Fatal(runErr)
			}
			pred := plan.Predict()
			if got := rim[:len(pred.RIM)]; !bytes.Equal(got, pred.RIM) || !bytes.Equal(rim[len(pred.RIM):], make([]byte, 64-len(pred.RIM))) {
				t.Errorf("emulated RIM %x, predicted %x", rim, pred.RIM)
			}
			if err := r.Destroy(); err != nil {
				t.Errorf("destroy: %v", err)
			}
			other, seen := rims[string(pred.RIM)]
			switch {
			case tc.same && other != "default":
				t.Errorf("RIM differs from the default's though the option is not measured")
			case !tc.same && seen:
				t.Errorf("RIM equals the one of %q", other)
			case !seen:
				rims[string(pred.RIM)] = tc.name
			}
		})
	}
}

// planAndMachine parses a description without image files, plans it, and
// boots a machine for it (closed when the test ends).
func planAndMachine(t *testing.T, js string) (*realmbuild.Description, *realmbuild.Plan, *emulator.Machine) {
	t.Helper()
	d, plan := parsePlan(t, js)
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return d, plan, m
}

// parsePlan parses a description without image files and plans it.
func parsePlan(tb testing.TB, js string) (*realmbuild.Description, *realmbuild.Plan) {
	tb.Helper()
	d, err := realmbuild.ParseDescription([]byte(js))
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := d.Plan(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return d, plan
}
