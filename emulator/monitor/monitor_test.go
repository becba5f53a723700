package monitor

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

func TestDefaultBoot(t *testing.T) {
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	gpccr, gptbr := m.Registers()
	// PPS 1 (64 GB), IRGN/ORGN WB RA WA (0x100 | 0x400), SH IS (0x3000),
	// PGS 4 KB, GPC (0x10000), L0GPTSZ 1 GB.
	if gpccr != 0x1_3501 || gptbr != 0xF_FE00 {
		t.Fatalf("GPCCR %#x GPTBR %#x", gpccr, gptbr)
	}
	tests := []struct {
		pa   uint64
		want gpt.GPI
	}{
		{0, gpt.GPIAny}, // not in the map: TF-A's initial L0 value
		{DefaultIOBase, gpt.GPINS},
		{DefaultDRAM0Base, gpt.GPINS},
		{DefaultDRAM0Base + DefaultDRAM0Size - 0x1000, gpt.GPINS},
		{DefaultRealmBase, gpt.GPIRealm},
		{DefaultSharedPage, gpt.GPIRealm},
		{DefaultSecureBase, gpt.GPISecure},
		{DefaultRootBase, gpt.GPIRoot},
		{DefaultGPTBase, gpt.GPIRoot},
		{DefaultDRAM1Base + 0x1234_5000, gpt.GPINS},
	}
	for _, tc := range tests {
		if g, err := m.GPI(tc.pa); err != nil || g != tc.want {
			t.Errorf("GPI(%#x) = %s, %v; want %s", tc.pa, g, err, tc.want)
		}
	}
	// L0 entry 2 (0x8000_0000) is a table descriptor for the first L1 table,
	// which starts 128 KB into GPT memory; the L1 entry for DRAM0's base is
	// a 512 MB contiguous NS descriptor.
	var b [8]byte
	if err := m.Access(gpt.StateRoot, gpt.PASRoot, DefaultGPTBase+2*8, b[:], false); err != nil {
		t.Fatal(err)
	}
	if want := [8]byte{0x03, 0x00, 0xE2, 0xFF, 0, 0, 0, 0}; b != want {
		t.Fatalf("L0[2] = %x, want %x", b, want)
	}
	if err := m.Access(gpt.StateRoot, gpt.PASRoot, 0xFFE2_0000, b[:], false); err != nil {
		t.Fatal(err)
	}
	if want := [8]byte{0x91, 0x03, 0, 0, 0, 0, 0, 0}; b != want {
		t.Fatalf("L1[0] = %x, want %x", b, want)
	}
	// Booting touched only the GPT memory.
	if got := m.ResidentGranules(); got != DefaultGPTSize/gpt.GranuleSize {
		t.Fatalf("resident granules after boot = %d", got)
	}
	host := m.Layout().HostDRAM()
	if len(host) != 2 || host[0].Base != DefaultDRAM0Base || host[1].Base != DefaultDRAM1Base {
		t.Fatalf("HostDRAM = %+v", host)
	}
	if m.SharedPage() != DefaultSharedPage {
		t.Fatal("SharedPage")
	}
}

// TestClose: switching the monitor off gives the memory's storage back:
// only the GPT memory stays resident, and DRAM reads as zeros.
func TestClose(t *testing.T) {
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pa := uint64(DefaultDRAM0Base + 0x10_0000)
	if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, []byte("host data"), true); err != nil {
		t.Fatal(err)
	}
	if got := m.ResidentGranules(); got != DefaultGPTSize/gpt.GranuleSize+1 {
		t.Fatalf("resident granules after a write = %d", got)
	}
	m.Close()
	if got := m.ResidentGranules(); got != DefaultGPTSize/gpt.GranuleSize {
		t.Fatalf("resident granules after Close = %d", got)
	}
	b := make([]byte, 9)
	if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, b, false); err != nil || !bytes.Equal(b, make([]byte, 9)) {
		t.Fatalf("after Close the memory reads %q, %v", b, err)
	}
}

func TestLayoutValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Layout)
	}{
		{"no regions", func(l *Layout) { l.Regions = nil }},
		{"unaligned", func(l *Layout) { l.Regions[1].Base += 0x800 }},
		{"empty", func(l *Layout) { l.Regions[1].Size = 0 }},
		{"reserved GPI", func(l *Layout) { l.Regions[1].GPI = 0x5 }},
		{"overlap", func(l *Layout) { l.Regions[2].Base = tDRAMBase + 0x1000 }},
		{"above PPS", func(l *Layout) { l.Regions[1].Base = 1 << 32 }},
		{"block unaligned", func(l *Layout) { l.Regions[0].Size = 1 << 29 }},
		{"GPT not in Root", func(l *Layout) { l.GPT.Base = tDRAMBase }},
		{"GPT empty", func(l *Layout) { l.GPT.Size = 0 }},
		{"shared page unaligned", func(l *Layout) { l.SharedPage += 8 }},
		{"shared page not Realm", func(l *Layout) { l.SharedPage = tDRAMBase }},
		{"PPS reserved", func(l *Layout) { l.PPS = 7 }},
		{"L0GPTSZ reserved", func(l *Layout) { l.L0GPTSZ = 3 }},
	}
	for _, tc := range tests {
		l := testLayout()
		tc.mod(&l)
		_, err := New(Config{Layout: l})
		if !errors.Is(err, ErrConfig) && !errors.Is(err, gpt.ErrConfig) {
			t.Errorf("%s: %v, want a configuration error", tc.name, err)
		}
	}
	if _, err := New(Config{Layout: testLayout(), TokenHunkSize: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative hunk size: %v", err)
	}
	l := testLayout()
	l.GPT.Size = 0x1000 // room for the L0 table, not for the L1 table
	if _, err := New(Config{Layout: l}); !errors.Is(err, gpt.ErrConfig) {
		t.Errorf("GPT memory too small: %v", err)
	}
}

// TestSMCRouting checks which world reaches what.
func TestSMCRouting(t *testing.T) {
	const version = 0xC400_0150 // RMI_VERSION
	tests := []struct {
		name      string
		caller    gpt.SecurityState
		fid       uint64
		forwarded uint64 // FID the RMM sees, 0 for none
	}{
		{"NS RMI_VERSION", gpt.StateNonSecure, version, version},
		{"NS RMI with SVE hint", gpt.StateNonSecure, version | 1<<16, version},
		{"NS RMI, upper X0 bits ignored", gpt.StateNonSecure, 0xFFFF_FFFF_0000_0000 | version, version},
		{"NS last of RMI range", gpt.StateNonSecure, 0xC400_018F, 0xC400_018F},
		{"NS REC_ENTER", gpt.StateNonSecure, SMCRMIRecEnter, SMCRMIRecEnter},
		{"NS below RMI range", gpt.StateNonSecure, 0xC400_014F, 0},
		{"NS RSI", gpt.StateNonSecure, 0xC400_0190, 0},
		{"NS SMC32 RMI", gpt.StateNonSecure, 0x8400_0150, 0},
		{"NS GTSI delegate", gpt.StateNonSecure, SMCRMMGTSIDelegate, 0},
		{"NS attestation key", gpt.StateNonSecure, SMCRMMGetRealmAttestKey, 0},
		{"NS PSCI version", gpt.StateNonSecure, 0x8400_0000, 0},
		{"Secure RMI", gpt.StateSecure, version, 0},
		{"Secure GTSI delegate", gpt.StateSecure, SMCRMMGTSIDelegate, 0},
		{"Secure GTSI undelegate", gpt.StateSecure, SMCRMMGTSIUndelegate, 0},
		{"Secure plat token", gpt.StateSecure, SMCRMMGetPlatToken, 0},
		{"Realm RMI", gpt.StateRealm, version, 0},
		{"Realm RSI", gpt.StateRealm, 0xC400_0194, 0},
		{"Realm unknown RMM-EL3", gpt.StateRealm, 0xC400_01C0, 0},
		{"Realm REQ_COMPLETE", gpt.StateRealm, 0xC400_018F, 0},
		{"Root RMI", gpt.StateRoot, version, 0},
		{"Root GTSI", gpt.StateRoot, SMCRMMGTSIDelegate, 0},
		{"invalid state", gpt.SecurityState(7), version, 0},
	}
	rmm := &fakeRMM{}
	m := newTestMonitor(t, Config{RMM: rmm})
	for _, tc := range tests {
		before := m.GPTSnapshot()
		n := len(rmm.calls)
		ret := m.SMC(tc.caller, tc.fid, tDRAMBase, 2, 3, 4, 5, 6)
		if tc.forwarded == 0 {
			if ret != [5]uint64{SMCUnknown} || len(rmm.calls) != n {
				t.Errorf("%s: %#x, RMM called %d times; want SMC_UNKNOWN and no call", tc.name, ret, len(rmm.calls)-n)
			}
		} else {
			if len(rmm.calls) != n+1 || rmm.calls[n] != tc.forwarded || rmm.args[n] != [6]uint64{tDRAMBase, 2, 3, 4, 5, 6} {
				t.Errorf("%s: RMM saw %#x", tc.name, rmm.calls[n:])
			}
			if tc.forwarded != SMCRMIRecEnter && ret != [5]uint64{tc.forwarded, tDRAMBase, 2, 3, 4} {
				t.Errorf("%s: returned %#x", tc.name, ret)
			}
		}
		mustSame(t, before, m, tc.name)
	}
	// Without an RMM, RMI is SMC_UNKNOWN.
	m.RegisterRMM(nil)
	if ret := m.SMC(gpt.StateNonSecure, version); ret != [5]uint64{SMCUnknown} {
		t.Errorf("no RMM: %#x", ret)
	}
}

// TestGTSI covers RMM_GTSI_DELEGATE/UNDELEGATE with the error codes of
// TF-A v2.12 rmmd_main.c and gpt_rme.c, and checks that every failure leaves the GPT bytes
// unchanged.
func TestGTSI(t *testing.T) {
	const g = tDRAMBase + 0x35_000
	del := func(m *Monitor, s gpt.SecurityState, pa uint64) uint64 {
		return m.SMC(s, SMCRMMGTSIDelegate, pa)[0]
	}
	undel := func(m *Monitor, s gpt.SecurityState, pa uint64) uint64 {
		return m.SMC(s, SMCRMMGTSIUndelegate, pa)[0]
	}
	steps := []struct {
		name string
		call func(*Monitor) uint64
		want uint64
		gpi  gpt.GPI // of g afterwards
	}{
		{"unaligned", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, g+0x10) }, ERMMBadAddr, gpt.GPINS},
		{"at 2^PPS", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, 1<<32) }, ERMMBadAddr, gpt.GPINS},
		{"far above 2^PPS", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, 1<<51) }, ERMMBadAddr, gpt.GPINS},
		{"L0 block region", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, tIOBase+0x1000) }, ERMMBadAddr, gpt.GPINS},
		{"unmapped L0 region", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, 0x1000) }, ERMMBadAddr, gpt.GPINS},
		{"undelegate NS granule", func(m *Monitor) uint64 { return undel(m, gpt.StateRealm, g) }, ERMMBadPAS, gpt.GPINS},
		{"delegate Secure granule", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, tSecureBase) }, ERMMBadPAS, gpt.GPINS},
		{"delegate Root granule", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, tRootBase) }, ERMMBadPAS, gpt.GPINS},
		{"Realm undelegates Secure granule", func(m *Monitor) uint64 { return undel(m, gpt.StateRealm, tSecureBase) }, ERMMBadPAS, gpt.GPINS},
		{"NS asks", func(m *Monitor) uint64 { return del(m, gpt.StateNonSecure, g) }, SMCUnknown, gpt.GPINS},
		{"delegate", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, g) }, ERMMOK, gpt.GPIRealm},
		{"already delegated", func(m *Monitor) uint64 { return del(m, gpt.StateRealm, g) }, ERMMBadPAS, gpt.GPIRealm},
		{"Secure undelegates Realm granule", func(m *Monitor) uint64 { return undel(m, gpt.StateSecure, g) }, SMCUnknown, gpt.GPIRealm},
		{"NS undelegates Realm granule", func(m *Monitor) uint64 { return undel(m, gpt.StateNonSecure, g) }, SMCUnknown, gpt.GPIRealm},
		{"undelegate unaligned", func(m *Monitor) uint64 { return undel(m, gpt.StateRealm, g+1) }, ERMMBadAddr, gpt.GPIRealm},
		{"undelegate", func(m *Monitor) uint64 { return undel(m, gpt.StateRealm, g) }, ERMMOK, gpt.GPINS},
		{"undelegate twice", func(m *Monitor) uint64 { return undel(m, gpt.StateRealm, g) }, ERMMBadPAS, gpt.GPINS},
	}
	m := newTestMonitor(t, Config{})
	for _, st := range steps {
		before := m.GPTSnapshot()
		if got := st.call(m); got != st.want {
			t.Fatalf("%s: x0 = %#x, want %#x", st.name, got, st.want)
		}
		if st.want != ERMMOK {
			mustSame(t, before, m, st.name)
		}
		if gpi, err := m.GPI(g); err != nil || gpi != st.gpi {
			t.Fatalf("%s: GPI = %s, %v; want %s", st.name, gpi, err, st.gpi)
		}
		hostErr := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, g, make([]byte, 8), false)
		if (st.gpi == gpt.GPINS) != (hostErr == nil) {
			t.Fatalf("%s: host access %v", st.name, hostErr)
		}
	}
	// The RMM's own granules and the shared page can be undelegated only by
	// the Realm world; that is TF-A behaviour, the RMM is trusted.
	if got := undel(m, gpt.StateRealm, tRealmBase); got != ERMMOK {
		t.Fatalf("RMM region undelegate: %#x", got)
	}
}

func TestAccess(t *testing.T) {
	m := newTestMonitor(t, Config{})
	data := []byte("host data")
	if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, tDRAMBase+0x100, data, true); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := m.Access(gpt.StateRealm, gpt.PASNonSecure, tDRAMBase+0x100, got, false); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("realm reading NS memory: %q, %v", got, err)
	}
	for _, tc := range []struct {
		s   gpt.SecurityState
		pas gpt.PAS
		pa  uint64
		ok  bool
	}{
		{gpt.StateNonSecure, gpt.PASNonSecure, tRealmBase, false},
		{gpt.StateNonSecure, gpt.PASNonSecure, tSecureBase, false},
		{gpt.StateNonSecure, gpt.PASNonSecure, tRootBase, false},
		{gpt.StateRealm, gpt.PASRealm, tRealmBase, true},
		{gpt.StateRealm, gpt.PASRealm, tDRAMBase, false},
		{gpt.StateSecure, gpt.PASSecure, tSecureBase, true},
		{gpt.StateSecure, gpt.PASSecure, tRealmBase, false},
		{gpt.StateRoot, gpt.PASRoot, tGPTBase, true},
		{gpt.StateRoot, gpt.PASRealm, tShared, true},
		{gpt.StateRoot, gpt.PASNonSecure, tRealmBase, false},
	} {
		err := m.Access(tc.s, tc.pas, tc.pa, got, false)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, gpt.ErrGPF) {
			t.Errorf("%s→%s at %#x: %v", tc.s, tc.pas, tc.pa, err)
		}
		if err := m.Check(tc.s, tc.pas, tc.pa); tc.ok != (err == nil) {
			t.Errorf("Check %s→%s at %#x: %v", tc.s, tc.pas, tc.pa, err)
		}
	}
	if err := m.Access(gpt.StateNonSecure, gpt.PASRealm, tRealmBase, got, false); !errors.Is(err, gpt.ErrIllegalPAS) {
		t.Errorf("NS emitting Realm PAS: %v", err)
	}
}

func TestCounters(t *testing.T) {
	m := newTestMonitor(t, Config{RMM: &fakeRMM{}})
	before := m.Counters()
	m.SMC(gpt.StateNonSecure, SMCRMIRecEnter, 1, 2) // realm exit
	m.SMC(gpt.StateNonSecure, 0xC400_0150)          // RMI_VERSION
	m.SMC(gpt.StateNonSecure, 0x8400_0000)          // unknown: no RMM entry
	m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, tDRAMBase)
	m.SMC(gpt.StateSecure, SMCRMMGTSIDelegate, tDRAMBase)
	m.NoteNormalExit()
	m.NoteNormalExit()
	m.NoteRealmExit()
	got := m.Counters().Sub(before)
	want := Counters{NSToEL3: 3, EL3ToNS: 3, EL3ToRealm: 3, RealmToEL3: 3, SecureToEL3: 1, EL3ToSecure: 1,
		RMICalls: 2, RealmExits: 2, NormalExits: 2}
	if got != want {
		t.Fatalf("counters %+v, want %+v", got, want)
	}
	if got.WorldSwitches() != 14 {
		t.Fatalf("WorldSwitches = %d", got.WorldSwitches())
	}
	if c := got.ModelledCycles(DefaultCostModel()); c != 2*1865+2*362 {
		t.Fatalf("ModelledCycles = %d", c)
	}
	if c := got.ModelledCycles(CostModel{RealmExitCycles: 1, NormalExitCycles: 10, WorldSwitchCycles: 100}); c != 2+20+1400 {
		t.Fatalf("ModelledCycles with switches = %d", c)
	}
	// A failed REC_ENTER is not a realm exit.
	failing := newTestMonitor(t, Config{RMM: rmiFunc(func(uint64, [6]uint64) [5]uint64 { return [5]uint64{1} })})
	failing.SMC(gpt.StateNonSecure, SMCRMIRecEnter)
	if c := failing.Counters(); c.RealmExits != 0 || c.RMICalls != 1 {
		t.Fatalf("failed REC_ENTER counted: %+v", c)
	}
}

type rmiFunc func(uint64, [6]uint64) [5]uint64

func (f rmiFunc) HandleRMI(fid uint64, args [6]uint64) [5]uint64 { return f(fid, args) }

// TestNestedSMC: the RMM may call EL3 while it handles an RMI call, as
// RMI_GRANULE_DELEGATE does.
func TestNestedSMC(t *testing.T) {
	var m *Monitor
	rmm := rmiFunc(func(fid uint64, args [6]uint64) [5]uint64 {
		if fid != 0xC400_0151 { // RMI_GRANULE_DELEGATE
			return [5]uint64{SMCUnknown}
		}
		if m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, args[0])[0] != ERMMOK {
			return [5]uint64{1} // RMI_ERROR_INPUT
		}
		return [5]uint64{0}
	})
	m = newTestMonitor(t, Config{RMM: rmm})
	if ret := m.SMC(gpt.StateNonSecure, 0xC400_0151, tDRAMBase); ret[0] != 0 {
		t.Fatalf("delegate through the RMM: %#x", ret)
	}
	if ret := m.SMC(gpt.StateNonSecure, 0xC400_0151, tDRAMBase); ret[0] != 1 {
		t.Fatalf("second delegate: %#x", ret)
	}
	if g, _ := m.GPI(tDRAMBase); g != gpt.GPIRealm {
		t.Fatalf("GPI %s", g)
	}
	c := m.Counters()
	if c.NSToEL3 != 2 || c.EL3ToRealm != 4 || c.RealmToEL3 != 4 {
		t.Fatalf("counters %+v", c)
	}
}
