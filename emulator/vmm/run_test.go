package vmm_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
)

// The run tests drive the host side of Realm.Run through realm software:
// each exit the realm causes is one the VMM must answer as KVM would.

// Geometry of runRealm: s2sz 40 (the PAR is [0, 2^39), unprotected IPAs
// above it), 4 MB of RAM at 1 GB that INIT_RIPAS covers with two 2 MB
// level-2 entries, REC 0 runnable at the base of RAM and REC 1 off.
const (
	runRAM      = 0x4000_0000
	runRAMSize  = 4 << 20
	runPAR      = 1 << 39
	runMMIO     = runPAR + 0x9000_0000 // unprotected, never mapped: MMIO
	runREC1Code = runRAM + 0x10_0000   // CPU_ON entry point of REC 1
)

const runRealmJSON = `{
  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
  "ram": [{"base": "0x40000000", "size": "0x400000"}],
  "recs": [
    {"pc": "0x40000000"},
    {"pc": "0x0", "runnable": false, "mpidr": "0x1"}
  ]}`

// runRealm builds runRealmJSON with prog as REC 0's software; trace, if not
// nil, collects the names of the RMI commands the VMM issues from then on.
func runRealm(t *testing.T, prog func(emulator.RealmCPU), trace *[]string) (*emulator.Machine, *vmm.Realm) {
	t.Helper()
	_, plan, m := planAndMachine(t, runRealmJSON)
	m.SetRealmProgram(runRAM, prog)
	v := vmm.New(m)
	r, err := v.Build(plan)
	if err != nil {
		t.Fatal(err)
	}
	if trace != nil {
		v.Trace = func(cmd string, _ uint64) { *trace = append(*trace, cmd) }
	}
	return m, r
}

// ipaStateSet is the Linux loop of rsi_set_memory_range: ask again from the
// progress address until the whole range is done.
func ipaStateSet(cpu emulator.RealmCPU, base, top, ripas uint64) error {
	for base < top {
		x := cpu.SMC(rmm.RSIIPAStateSet, base, top, ripas, rmm.RIPASNoChangeDestroyed)
		if x[0] != rmm.RSISuccess || x[2] != rmm.RSIAccept || x[1] <= base {
			return errors.New("RSI_IPA_STATE_SET did not make progress")
		}
		base = x[1]
	}
	return nil
}

// ipaStateGet returns the RIPAS at base and how far it extends.
func ipaStateGet(cpu emulator.RealmCPU, base, end uint64) (top, ripas uint64) {
	x := cpu.SMC(rmm.RSIIPAStateGet, base, end)
	return x[1], x[2]
}

// TestRunRIPASChange: the realm turns two granules inside a 2 MB RAM block
// EMPTY and back; the VMM answers each RIPAS_CHANGE exit with
// RMI_RTT_SET_RIPAS, creating the level-3 RTT the unaligned base needs.
func TestRunRIPASChange(t *testing.T) {
	const base, top = runRAM + 0x1000, runRAM + 0x3000
	var got [][2]uint64 // (top, ripas) seen by the realm after each change
	var runErr error
	var trace []string
	_, r := runRealm(t, func(cpu emulator.RealmCPU) {
		for _, ripas := range []uint64{rmm.RIPASEmpty, rmm.RIPASRAM} {
			if runErr = ipaStateSet(cpu, base, top, ripas); runErr != nil {
				return
			}
			tp, rp := ipaStateGet(cpu, base, top)
			got = append(got, [2]uint64{tp, rp})
		}
	}, &trace)
	var changes [][3]uint64
	_, err := r.Run(0, vmm.Handlers{Exit: func(_ int, e vmm.Exit) {
		if e.Reason == rmm.ExitRIPASChange {
			changes = append(changes, [3]uint64{e.RIPASBase, e.RIPASTop, uint64(e.RIPASValue)})
		}
	}})
	if err != nil || runErr != nil {
		t.Fatalf("Run: %v; realm: %v", err, runErr)
	}
	want := [][3]uint64{{base, top, rmm.RIPASEmpty}, {base, top, rmm.RIPASRAM}}
	if !slices.Equal(changes, want) {
		t.Errorf("RIPAS_CHANGE exits %#x, want %#x", changes, want)
	}
	if wantGot := [][2]uint64{{top, rmm.RIPASEmpty}, {top, rmm.RIPASRAM}}; !slices.Equal(got, wantGot) {
		t.Errorf("the realm read (top, ripas) %#x, want %#x", got, wantGot)
	}
	// The first SET_RIPAS fails with RMI_ERROR_RTT (base is inside a level-2
	// block); the VMM creates the level-3 table and tries again.
	if !subsequence(trace, "RMI_RTT_SET_RIPAS", "RMI_RTT_CREATE", "RMI_RTT_SET_RIPAS") {
		t.Errorf("RMI commands %v: want SET_RIPAS, RTT_CREATE, then SET_RIPAS again", trace)
	}
}

// subsequence reports whether want appear in got in order.
func subsequence(got []string, want ...string) bool {
	for _, g := range got {
		if len(want) > 0 && g == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}

// TestRunDataAborts: protected RAM without a page is backed on demand;
// unprotected, unmapped IPAs are MMIO, emulated through the handlers when
// the access is one the RMM can describe, refused with an injected SEA
// otherwise.
func TestRunDataAborts(t *testing.T) {
	type result struct {
		b   []byte
		err error
	}
	accesses := []struct {
		name  string
		ipa   uint64
		write []byte // nil: read len(want) bytes
		n     int
		want  []byte // read value; nil when err
		err   error
	}{
		{name: "protected RAM, no page yet", ipa: runRAM + 0x20_0000, n: 8, want: make([]byte, 8)},
		{name: "MMIO read of 4 bytes", ipa: runMMIO + 0x10, n: 4, want: []byte{0x44, 0x33, 0x22, 0x11}},
		{name: "MMIO read of 1 byte", ipa: runMMIO + 0x21, n: 1, want: []byte{0x11}},
		{name: "MMIO write of 8 bytes", ipa: runMMIO + 0x18, write: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "MMIO write of 2 bytes", ipa: runMMIO + 0x40, write: []byte{0xAA, 0xBB}},
		{name: "MMIO access of 3 bytes is not emulatable", ipa: runMMIO + 0x30, n: 3, err: rmm.ErrSEA},
		{name: "MMIO unaligned access is not emulatable", ipa: runMMIO + 0x31, n: 4, err: rmm.ErrSEA},
	}
	results := make([]result, len(accesses))
	_, r := runRealm(t, func(cpu emulator.RealmCPU) {
		for i, a := range accesses {
			if a.write != nil {
				results[i].err = cpu.Write(a.ipa, a.write)
				continue
			}
			b := make([]byte, a.n)
			results[i] = result{b, cpu.Read(a.ipa, b)}
		}
	}, nil)
	type mmio struct {
		ipa   uint64
		size  int
		value uint64
	}
	var reads, writes []mmio
	_, err := r.Run(0, vmm.Handlers{
		MMIORead: func(ipa uint64, size int) uint64 {
			reads = append(reads, mmio{ipa, size, 0})
			if size == 1 {
				return 0x11
			}
			return 0x11223344
		},
		MMIOWrite: func(ipa uint64, size int, value uint64) { writes = append(writes, mmio{ipa, size, value}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range accesses {
		got := results[i]
		switch {
		case a.err != nil:
			if !errors.Is(got.err, a.err) {
				t.Errorf("%s: %v, want %v", a.name, got.err, a.err)
			}
		case got.err != nil:
			t.Errorf("%s: %v", a.name, got.err)
		case a.write == nil && string(got.b) != string(a.want):
			t.Errorf("%s: read %x, want %x", a.name, got.b, a.want)
		}
	}
	if want := []mmio{{runMMIO + 0x10, 4, 0}, {runMMIO + 0x21, 1, 0}}; !slices.Equal(reads, want) {
		t.Errorf("MMIO reads %#x, want %#x", reads, want)
	}
	if want := []mmio{{runMMIO + 0x18, 8, 0x0807060504030201}, {runMMIO + 0x40, 2, 0xBBAA}}; !slices.Equal(writes, want) {
		t.Errorf("MMIO writes %#x, want %#x", writes, want)
	}
	if _, ok := r.DataGranule(runRAM + 0x20_0000); !ok {
		t.Error("the VMM did not back the protected IPA with a DATA granule")
	}
}

// TestRunMMIOWithoutHandlers: with no handlers, MMIO reads return zero
// and writes are dropped.
func TestRunMMIOWithoutHandlers(t *testing.T) {
	var b [8]byte
	var readErr, writeErr error
	_, r := runRealm(t, func(cpu emulator.RealmCPU) {
		b = [8]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
		readErr = cpu.Read(runMMIO, b[:])
		writeErr = cpu.Write(runMMIO, []byte{1, 2, 3, 4})
	}, nil)
	if _, err := r.Run(0, vmm.Handlers{}); err != nil || readErr != nil || writeErr != nil {
		t.Fatalf("Run %v, read %v, write %v", err, readErr, writeErr)
	}
	if b != [8]byte{} {
		t.Errorf("MMIO read without a handler gave %x, want zeros", b)
	}
}

// TestRunPSCI: REC 0 asks about REC 1, switches it on (the VMM completes
// both requests with RMI_PSCI_COMPLETE), suspends, and switches the system
// off; REC 1 then runs its own software from the CPU_ON entry point with
// the context ID in x0.
func TestRunPSCI(t *testing.T) {
	const ctx = 0xC0FFEE
	var got []uint64
	m, r := runRealm(t, func(cpu emulator.RealmCPU) {
		got = append(got, cpu.SMC(rmm.PSCIAffinityInfo, 1, 0)[0])
		got = append(got, cpu.SMC(rmm.PSCICPUOn, 1, runREC1Code, ctx)[0])
		got = append(got, cpu.SMC(rmm.PSCIAffinityInfo, 1, 0)[0])
		got = append(got, cpu.SMC(rmm.PSCICPUSuspend, 0, 0, 0)[0])
		cpu.SMC(rmm.PSCISystemOff)
	}, nil)
	var rec1 []uint64
	m.SetRealmProgram(runREC1Code, func(cpu emulator.RealmCPU) {
		rec1 = append(rec1, cpu.Reg(0))
		cpu.SMC(rmm.PSCICPUOff)
	})
	var exits []uint64
	e, err := r.Run(0, vmm.Handlers{Exit: func(_ int, e vmm.Exit) {
		if e.Reason == rmm.ExitPSCI {
			exits = append(exits, e.GPRs[0])
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Reason != rmm.ExitPSCI || e.GPRs[0] != rmm.PSCISystemOff {
		t.Errorf("REC 0 stopped with %+v, want its SYSTEM_OFF exit", e)
	}
	if want := []uint64{rmm.PSCIAffinityOff, rmm.PSCISuccess, rmm.PSCIAffinityOn, rmm.PSCISuccess}; !slices.Equal(got, want) {
		t.Errorf("PSCI results %#x, want %#x", got, want)
	}
	if want := []uint64{rmm.PSCIAffinityInfo, rmm.PSCICPUOn, rmm.PSCIAffinityInfo, rmm.PSCICPUSuspend, rmm.PSCISystemOff}; !slices.Equal(exits, want) {
		t.Errorf("PSCI exits %#x, want %#x", exits, want)
	}
	// The realm is off: REC 1 may not run any more (RMI_ERROR_REALM).
	var re *vmm.RMIError
	if _, err := r.Run(1, vmm.Handlers{}); !errors.As(err, &re) || re.Status != rmm.RMIErrorRealm {
		t.Errorf("Run(1) after SYSTEM_OFF: %v, want RMI_ERROR_REALM", err)
	}
	if len(rec1) != 0 {
		t.Errorf("REC 1 ran after SYSTEM_OFF")
	}
}

// TestRunSecondREC: a REC switched on with CPU_ON runs its software with
// the context ID, and its CPU_OFF ends its Run.
func TestRunSecondREC(t *testing.T) {
	const ctx = 0xC0FFEE
	m, r := runRealm(t, func(cpu emulator.RealmCPU) {
		cpu.SMC(rmm.PSCICPUOn, 1, runREC1Code, ctx)
	}, nil)
	var x0 uint64
	m.SetRealmProgram(runREC1Code, func(cpu emulator.RealmCPU) { x0 = cpu.Reg(0) })
	for i := range 2 {
		e, err := r.Run(i, vmm.Handlers{})
		if err != nil || e.Reason != rmm.ExitPSCI || e.GPRs[0] != rmm.PSCICPUOff {
			t.Fatalf("Run(%d): %+v, %v; want the CPU_OFF exit", i, e, err)
		}
	}
	if x0 != ctx {
		t.Errorf("REC 1 started with x0 %#x, want the context ID %#x", x0, ctx)
	}
	if _, err := r.Run(2, vmm.Handlers{}); err == nil || !strings.Contains(err.Error(), "no REC 2") {
		t.Errorf("Run(2): %v", err)
	}
}

// errRealmBug is what the crashing realm software panics with.
var errRealmBug = errors.New("realm bug")

// TestRunRealmPanic: realm software that panics ends Run with an error
// that says so, carries the panic value and its stack, and the REC cannot
// be entered again.
func TestRunRealmPanic(t *testing.T) {
	m, r := runRealm(t, func(cpu emulator.RealmCPU) {
		cpu.SMC(rmm.RSIVersion, rmm.ABIVersion)
		panic(errRealmBug)
	}, nil)
	e, err := r.Run(0, vmm.Handlers{})
	if e.Reason != rmm.ExitSError || !errors.Is(err, vmm.ErrSError) || !errors.Is(err, rmm.ErrRealmFault) || !errors.Is(err, errRealmBug) {
		t.Fatalf("Run: exit %d, %v; want an SError exit and the realm's panic", e.Reason, err)
	}
	if !strings.Contains(err.Error(), "TestRunRealmPanic") {
		t.Errorf("the error does not carry the realm's stack:\n%v", err)
	}
	if m.RealmFault(r.RECs[0].PA) == nil {
		t.Error("the machine kept no record of the crash")
	}
	var re *vmm.RMIError
	if _, err := r.Run(0, vmm.Handlers{}); !errors.As(err, &re) || re.Status != rmm.RMIErrorRec {
		t.Errorf("Run after the crash: %v, want RMI_ERROR_REC", err)
	}
}

// TestRunDestroyedAccess: the host destroys a page the realm has used
// (RMI_DATA_DESTROY leaves it UNASSIGNED DESTROYED) and the realm touches
// it again. The data abort has no host answer in RMM 1.0, so Run stops
// with ErrDestroyedAccess instead of mapping a granule the realm could
// still not use.
func TestRunDestroyedAccess(t *testing.T) {
	const page = runRAM + 0x20_0000
	var first, second error
	var trace []string
	secondDone := false
	m, r := runRealm(t, func(cpu emulator.RealmCPU) {
		var b [8]byte
		first = cpu.Read(page, b[:])
		if _, err := guest.HostCall(cpu, runRAM+0x1000, 1, [31]uint64{}); err != nil {
			first = err
			return
		}
		second = cpu.Read(page, b[:])
		secondDone = true
	}, &trace)
	mark := -1 // where the trace stood when the page was destroyed
	_, err := r.Run(0, vmm.Handlers{HostCall: func(_ int, _ uint16, g [31]uint64) [31]uint64 {
		if x := m.HostSMC(rmm.RMIDataDestroy, r.RD, page); x[0] != rmm.RMISuccess {
			t.Errorf("DATA_DESTROY: %#x", x[0])
		}
		mark = len(trace)
		return g
	}})
	if first != nil {
		t.Fatalf("the realm's first read: %v", first)
	}
	if !errors.Is(err, vmm.ErrDestroyedAccess) || !strings.Contains(err.Error(), "IPA 0x40200000") {
		t.Fatalf("Run: %v, want ErrDestroyedAccess at IPA 0x40200000", err)
	}
	if secondDone {
		t.Errorf("the realm's read of a DESTROYED page completed (%v)", second)
	}
	if mark < 0 || !slices.Contains(trace[:mark], "RMI_DATA_CREATE_UNKNOWN") {
		t.Fatalf("the first read was not mapped on demand: %v", trace)
	}
	if slices.Contains(trace[mark:], "RMI_DATA_CREATE_UNKNOWN") {
		t.Errorf("the VMM mapped a granule at a DESTROYED IPA: %v", trace[mark:])
	}
}
