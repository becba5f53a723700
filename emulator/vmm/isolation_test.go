package vmm_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/internal/verifytest"
	"github.com/ccakit/cca/realmbuild"
)

// realmDesc is a small realm: 4 MB of RAM at 1 GB, one 4 KB image holding
// secret at the base, entering at entry.
func realmDesc(t *testing.T, entry uint64, secret string, recs int) *realmbuild.Plan {
	t.Helper()
	// REC k enters with x0 = k.
	recsJSON := fmt.Sprintf(`{"pc": "%#x", "gprs": ["0x0"]}`, entry)
	for i := 1; i < recs; i++ {
		recsJSON += fmt.Sprintf(`, {"pc": "%#x", "gprs": ["%#x"], "runnable": true}`, entry, i)
	}
	return mustPlan(t, fmt.Sprintf(`{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x40000000", "size": "0x400000"}],
	  "images": [{"name": "secret", "ipa": "0x40000000", "hex": "%x"}],
	  "recs": [%s]}`, secret, recsJSON))
}

// unprotected is an IPA in the unprotected half of a 40-bit IPA space.
const unprotected = 1 << 39

// TestRealmCannotReachOtherWorlds: the host maps, into realm A's
// unprotected IPA space, the physical pages of realm B's secret, of the
// Secure world and of EL3. Every access realm A makes through those
// mappings goes to the NS PAS, and the granule protection check refuses it:
// a realm reaches no memory but its own and the host's.
func TestRealmCannotReachOtherWorlds(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := vmm.New(m)
	const entryA, entryB = 0x4000_0000, 0x4000_0004 // distinct programs
	targets := map[string]uint64{"secure": monitor.DefaultSecureBase, "root": monitor.DefaultRootBase, "rmm": monitor.DefaultRealmBase}
	results := map[string]error{}
	var ownSecret []byte
	m.SetRealmProgram(entryB, func(cpu emulator.RealmCPU) {})
	b, err := v.Build(realmDesc(t, entryB, "realm B's secret", 1))
	if err != nil {
		t.Fatal(err)
	}
	bPage, ok := b.DataGranule(0x4000_0000)
	if !ok {
		t.Fatal("realm B has no data granule")
	}
	targets["realm B"] = bPage
	names := []string{"realm B", "secure", "root", "rmm"}
	m.SetRealmProgram(entryA, func(cpu emulator.RealmCPU) {
		ownSecret = make([]byte, 15)
		_ = cpu.Read(0x4000_0000, ownSecret)
		for i, name := range names {
			results[name] = cpu.Read(unprotected+uint64(i)*rmm.GranuleSize, make([]byte, 16))
		}
	})
	a, err := v.Build(realmDesc(t, entryA, "realm A's secret", 1))
	if err != nil {
		t.Fatal(err)
	}
	// The host maps the other worlds' pages as unprotected memory of A.
	for i, name := range names {
		ipa := unprotected + uint64(i)*rmm.GranuleSize
		if err := a.MapUnprotected(ipa, targets[name]); err != nil {
			t.Fatalf("mapping %s: %v", name, err)
		}
	}
	if _, err := a.Run(0, vmm.Handlers{}); err != nil {
		t.Fatal(err)
	}
	if string(ownSecret) != "realm A's secre" {
		t.Fatalf("realm A reads its own memory as %q", ownSecret)
	}
	for _, name := range names {
		if !errors.Is(results[name], emulator.ErrGPF) {
			t.Errorf("realm A reading %s's memory: %v, want a granule protection fault", name, results[name])
		}
	}
	// And the host cannot read either realm's memory.
	if err := m.HostRead(bPage, make([]byte, 8)); !errors.Is(err, emulator.ErrGPF) {
		t.Errorf("host reads realm B's page: %v", err)
	}
}

// TestParallelRealms runs several realms, each with several RECs, on
// parallel goroutines: every REC measures itself and asks for a token; the
// tokens must verify and carry each realm's own RIM and challenge. Run with
// -race.
func TestParallelRealms(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := vmm.New(m)
	const realms, recs = 3, 2
	type out struct {
		token, challenge []byte
		err              error
	}
	var mu sync.Mutex
	outs := map[uint64][]out{}
	var built []*vmm.Realm
	var plans []*realmbuild.Plan
	for i := range realms {
		entry := uint64(0x4000_0000 + 4*i)
		m.SetRealmProgram(entry, func(cpu emulator.RealmCPU) {
			ch := bytes.Repeat([]byte{byte(i), byte(cpu.Reg(0))}, 32)
			err := guest.MeasurementExtend(cpu, 2, ch[:8])
			var tok []byte
			if err == nil {
				// Each REC has its own buffer page.
				tok, err = guest.AttestationToken(cpu, ch, 0x4010_0000+cpu.Reg(0)*rmm.GranuleSize)
			}
			mu.Lock()
			outs[entry] = append(outs[entry], out{tok, ch, err})
			mu.Unlock()
		})
		p := realmDesc(t, entry, fmt.Sprintf("secret of realm %d", i), recs)
		r, err := v.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		built, plans = append(built, r), append(plans, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, realms*recs)
	for _, r := range built {
		for j := range r.RECs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Run(j, vmm.Handlers{}); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range realms {
		entry := uint64(0x4000_0000 + 4*i)
		if len(outs[entry]) != recs {
			t.Fatalf("realm %d: %d tokens, want %d", i, len(outs[entry]), recs)
		}
		seen := map[string]bool{}
		for _, o := range outs[entry] {
			if seen[string(o.challenge)] {
				t.Fatalf("realm %d: two RECs used the same challenge", i)
			}
			seen[string(o.challenge)] = true
			if o.err != nil {
				t.Fatalf("realm %d: %v", i, o.err)
			}
			ev, err := verifytest.Verify(o.token, m.CPAK(), o.challenge)
			if err != nil {
				t.Fatalf("realm %d: %v", i, err)
			}
			if !bytes.Equal(ev.Realm.InitialMeasurement, plans[i].Predict().RIM) {
				t.Fatalf("realm %d: token RIM is not the realm's", i)
			}
		}
	}
	for _, r := range built {
		if err := r.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIRQExit: a physical interrupt raised while the realm runs makes the
// REC exit with RMI_EXIT_IRQ at its next SMC; the host re-enters it and the
// call completes, the way ACS attestation_rec_exit_irq interrupts a token
// request.
func TestIRQExit(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var r *vmm.Realm
	var tok []byte
	var tokErr error
	challenge := bytes.Repeat([]byte{7}, 64)
	m.SetRealmProgram(0x4000_0000, func(cpu emulator.RealmCPU) {
		m.RaiseIRQ(r.RECs[0].PA) // e.g. the host's timer fires
		tok, tokErr = guest.AttestationToken(cpu, challenge, 0x4010_0000)
	})
	r, err = vmm.New(m).Build(realmDesc(t, 0x4000_0000, "irq", 1))
	if err != nil {
		t.Fatal(err)
	}
	var reasons []uint64
	if _, err := r.Run(0, vmm.Handlers{Exit: func(_ int, e vmm.Exit) { reasons = append(reasons, e.Reason) }}); err != nil {
		t.Fatal(err)
	}
	if len(reasons) == 0 || reasons[0] != rmm.ExitIRQ {
		t.Fatalf("exits %v, want an IRQ exit first", reasons)
	}
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	if _, err := verifytest.Verify(tok, m.CPAK(), challenge); err != nil {
		t.Fatal(err)
	}
	if m.RaiseIRQ(0x1234) {
		t.Fatal("RaiseIRQ accepted an address that is not a REC")
	}
}
