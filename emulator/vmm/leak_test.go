package vmm_test

import (
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realmbuild"
)

// delegatedGranules counts the granules of the first n of the NS bank that
// are not in the NS PAS: what the host delegated and has not got back.
func delegatedGranules(t *testing.T, m *emulator.Machine, n int) int {
	t.Helper()
	base, _ := m.NSMemory()
	count := 0
	for i := range n {
		gpi, err := m.Monitor().GPI(base + uint64(i)*gpt.GranuleSize)
		if err != nil {
			t.Fatal(err)
		}
		if gpi != gpt.GPINS {
			count++
		}
	}
	return count
}

// TestFailedBuildGivesGranulesBack: when an RMI command of the build fails
// (RMI_REALM_CREATE refusing parameters, RMI_REC_CREATE refusing an MPIDR),
// Destroy of the partly built realm returns every granule the VMM
// delegated for it to the NS world: a failed command changes nothing in
// the RMM (Arm DEN0137 1.0-REL0 A2.1, "no side effects on failure"), so
// the granules the host delegated for it are still its own to undelegate.
func TestFailedBuildGivesGranulesBack(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *realmbuild.Plan)
	}{
		{"REALM_CREATE fails", func(p *realmbuild.Plan) {
			for i, s := range p.Steps {
				if rc, ok := s.(realmbuild.RealmCreateStep); ok {
					rc.Params.Flags |= 1 << 1 // SVE, which the platform does not offer
					p.Steps[i] = rc
				}
			}
		}},
		{"REC_CREATE fails", func(p *realmbuild.Plan) {
			for i, s := range p.Steps {
				if rc, ok := s.(realmbuild.RECCreateStep); ok && rc.Index == 1 {
					rc.MPIDR = realmbuild.MPIDRForIndex(5) // not the next index
					p.Steps[i] = rc
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := emulator.New(emulator.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			plan := realmDesc(t, 0x4000_0000, "secret", 2)
			tc.edit(plan)
			v := vmm.New(m)
			r, err := v.Build(plan)
			var re *vmm.RMIError
			if !errors.As(err, &re) {
				t.Fatalf("build: %v, want an RMI error", err)
			}
			if err := r.Destroy(); err != nil {
				t.Fatalf("destroy: %v", err)
			}
			if n := delegatedGranules(t, m, 1024); n != 0 {
				t.Errorf("%d granules still delegated after Destroy", n)
			}
		})
	}
}

// TestDestroyTwice: Destroy forgets what it destroyed. The granules it gave
// back are the host's again, and another realm may be built in them; a
// second Destroy of the first realm must not issue RMI commands naming
// them (it would destroy the other realm's DATA, RECs and RD).
func TestDestroyTwice(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := vmm.New(m)
	a, err := v.Build(realmDesc(t, 0x4000_0000, "realm a", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	b, err := v.Build(realmDesc(t, 0x4000_0000, "realm b", 1))
	if err != nil {
		t.Fatal(err)
	}
	var trace []string
	v.Trace = func(cmd string, _ uint64) { trace = append(trace, cmd) }
	if err := a.Destroy(); err != nil {
		t.Errorf("second destroy: %v", err)
	}
	if len(trace) != 0 {
		t.Errorf("second destroy issued %v", trace)
	}
	v.Trace = nil
	if err := b.Destroy(); err != nil {
		t.Errorf("destroying realm b after a's second destroy: %v", err)
	}
	if n := delegatedGranules(t, m, 1024); n != 0 {
		t.Errorf("%d granules still delegated", n)
	}
}

// TestRunDuringDestroy: Destroy rewrites the realm's REC list while a
// REC's Run may be looking a REC up in it (go test -race finds the
// unsynchronised version).
func TestRunDuringDestroy(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := vmm.New(m).Build(realmDesc(t, 0x4000_0000, "secret", 2))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = r.Run(7, vmm.Handlers{}) // no such REC: only the look-up
		}
	}()
	if err := r.Destroy(); err != nil {
		t.Error(err)
	}
	<-done
	if _, err := r.Run(0, vmm.Handlers{}); err == nil {
		t.Error("Run after Destroy found a REC")
	}
}
