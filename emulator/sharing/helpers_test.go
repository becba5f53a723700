package sharing

import (
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
)

// world is a machine with a Host and realms whose software is Go closures.
type world struct {
	t      testing.TB
	m      *emulator.Machine
	h      *Host
	realms []*Realm
}

func newWorld(t testing.TB) *world {
	t.Helper()
	m, err := emulator.New(emulator.Config{Sharing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	h, err := NewHost(m)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, m: m, h: h}
}

// realm builds a realm running prog; its RPV's first byte is its number.
func (w *world) realm(prog func(cpu emulator.RealmCPU)) *Realm {
	w.t.Helper()
	n := len(w.realms)
	entry := uint64(RAMBase + 0x1000*(n+1))
	w.m.SetRealmProgram(entry, prog)
	spec := RealmSpec{Entry: entry}
	spec.RPV[0] = byte(n + 1)
	r, err := w.h.NewRealm(spec)
	if err != nil {
		w.t.Fatal(err)
	}
	w.realms = append(w.realms, r)
	return r
}

// region creates a region with members at WindowIPA.
func (w *world) region(spec RegionSpec, members ...*Realm) *HostRegion {
	w.t.Helper()
	var ms []Member
	for _, r := range members {
		ms = append(ms, Member{RD: r.RD, IPA: WindowIPA})
	}
	hr, err := w.h.CreateRegion(spec, ms...)
	if err != nil {
		w.t.Fatal(err)
	}
	return hr
}

// run runs the realms' RECs to completion, each on its own goroutine (its
// own physical CPU), with hostCall answering host calls.
func (w *world) run(hostCall func(realm int, imm uint16, gprs [31]uint64) [31]uint64, rs ...*Realm) {
	w.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h vmm.Handlers
			if hostCall != nil {
				h.HostCall = func(_ int, imm uint16, gprs [31]uint64) [31]uint64 { return hostCall(i, imm, gprs) }
			}
			e, err := r.Run(0, h)
			if err == nil && e.GPRs[0] != rmm.PSCICPUOff {
				err = &RMIError{Command: "realm stopped otherwise"}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			w.t.Fatalf("realm %d: %v", i, err)
		}
	}
}

// ipa of the realms' scratch memory (in RAM, backed on first touch).
const (
	scratchIPA  = RAMBase + 0x100_0000 // 16 MiB into RAM
	codeIPA     = RAMBase + 0x200_0000
	descIPA     = RAMBase + 0x210_0000
	hostCallIPA = RAMBase + 0x220_0000
)
