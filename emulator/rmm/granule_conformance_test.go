package rmm

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rot"
)

// Conformance tables, in the ACS style (ARM-software/cca-rmm-acs
// docs/command_scenarios.rst), for the
// granule, system, realm and REC commands of RMM 1.0: one rmiStimulus per
// failure condition, named by the specification's label (RMM 1.0 B4.3
// "Failure conditions"), triggered alone against otherwise valid
// arguments; pairs of conditions where the specification orders them
// ("X_compare_Y": X must win) and they carry different status codes; then
// a positive check that reads the new state back through later commands.
// runStimuli also checks that every failing call leaves the RMM's state as
// it was. This file holds the shared world and the granule and system
// commands; realm_conformance_test.go and rec_conformance_test.go the rest.

// confSecure is a granule of the Secure world's memory. The emulated
// monitor has no Secure-world caller that could take an NS granule to the
// Secure PAS (monitor.SMC answers SMC_UNKNOWN to the Secure state), so
// newConfHost lists the Secure region in the RMM's boot manifest instead:
// to the RMM the granule is delegable DRAM it tracks as UNDELEGATED while
// the GPT says SECURE, which is the state of an NS granule the SPMC took.
const confSecure = monitor.DefaultSecureBase + 0x10_000

// confBound are addresses no *_bound condition accepts: below DRAM, the NS
// device window, the RMM's own memory (Realm PAS), EL3's (Root PAS), and
// beyond the physical address space.
var confBound = []struct {
	name string
	pa   uint64
}{
	{"below DRAM", outsidePA},
	{"device memory", monitor.DefaultIOBase},
	{"RMM memory", tRMMBase},
	{"EL3 memory", monitor.DefaultRootBase},
	{"beyond the PA space", 1 << 52},
}

func newConfHost(t *testing.T) *host {
	r, p := newTestRMMConfig(t, rot.Config{}, Config{DRAM: []gpt.Range{{Base: monitor.DefaultSecureBase, Size: monitor.DefaultSecureSize}}})
	return &host{t: t, r: r, p: p, next: tDRAMBase}
}

// confWorld is a host with a NEW realm holding a granule in every state:
// the RD, its starting-level RTTs, REC 0 with its auxiliary granules, and
// a DATA granule at IPA 0 (with its level-2 and level-3 RTTs). Realm
// software can be registered through the guestWorld.
type confWorld struct {
	*guestWorld
	rd, rec, aux, rtt, data uint64
	spares                  map[string]uint64
}

// spare returns the delegated granule kept under key, or a fresh one when
// a successful command has taken it. A failing command leaves its
// arguments as they were (runStimuli checks), so the rows of a table can
// share their valid granules instead of delegating new ones each: that
// keeps runStimuli's snapshots small.
func (w *confWorld) spare(key string) uint64 {
	pa, ok := w.spares[key]
	if !ok || w.r.granules.lookup(pa).state != granuleDelegated {
		pa = w.delegated()
		w.spares[key] = pa
	}
	return pa
}

func newConfWorld(t *testing.T) *confWorld {
	t.Helper()
	w := &confWorld{guestWorld: guestOn(t, newConfHost(t)), spares: map[string]uint64{}}
	w.rd = w.newRealm(1)
	w.rec = w.newREC(w.rd, 0, 0)
	w.aux = w.granuleIn(granuleRECAux)
	w.rtt = w.r.realms[w.rd].rttBase
	w.data = w.dataUnknown(w.rd, 0)
	return w
}

// spareRun is spare for n contiguous delegated granules.
func (w *confWorld) spareRun(key string, n int) uint64 {
	key = fmt.Sprint(key, "/", n)
	first, ok := w.spares[key]
	for i := 0; ok && i < n; i++ {
		ok = w.r.granules.lookup(first+uint64(i)*GranuleSize).state == granuleDelegated
	}
	if !ok {
		first = w.contiguousDelegated(n)
		w.spares[key] = first
	}
	return first
}

// Granule kinds for the *_state rows.
const (
	kUndelegated = "UNDELEGATED"
	kDelegated   = "DELEGATED"
	kRD          = "RD"
	kREC         = "REC"
	kRECAux      = "REC_AUX"
	kRTT         = "RTT"
	kData        = "DATA"
	kSecure      = "UNDELEGATED, GPT SECURE"
)

// granule returns a granule of kind; UNDELEGATED and DELEGATED ones are
// fresh.
func (w *confWorld) granule(kind string) uint64 {
	switch kind {
	case kUndelegated:
		return w.alloc()
	case kDelegated:
		return w.delegated()
	case kRD:
		return w.rd
	case kREC:
		return w.rec
	case kRECAux:
		return w.aux
	case kRTT:
		return w.rtt
	case kData:
		return w.data
	case kSecure:
		return confSecure
	}
	w.t.Fatalf("granule kind %q", kind)
	return 0
}

// addrRows are the _align, _bound and _state rows (all ERROR_INPUT) of an
// address argument named label: args builds the arguments with the
// address, good returns a valid one (misaligned for _align), and kinds
// are the granule states the command refuses.
func (w *confWorld) addrRows(label string, good func() uint64, args func(pa uint64) []uint64, kinds ...string) []rmiStimulus {
	rows := []rmiStimulus{
		{msg: label + "_align", args: func() []uint64 { return args(good() + 8) }, status: RMIErrorInput},
		{msg: label + "_align", args: func() []uint64 { return args(good() + GranuleSize/2) }, status: RMIErrorInput},
	}
	for _, b := range confBound {
		rows = append(rows, rmiStimulus{msg: fmt.Sprintf("%s_bound (%s)", label, b.name),
			args: func() []uint64 { return args(b.pa) }, status: RMIErrorInput})
	}
	for _, k := range kinds {
		rows = append(rows, rmiStimulus{msg: fmt.Sprintf("%s_state (%s)", label, k),
			args: func() []uint64 { return args(w.granule(k)) }, status: RMIErrorInput})
	}
	return rows
}

// nsPASRows are the _pas rows of a host buffer argument: a delegated
// granule (Realm PAS) and a Secure one.
func (w *confWorld) nsPASRows(label string, args func(pa uint64) []uint64) []rmiStimulus {
	return []rmiStimulus{
		{msg: label + "_pas (REALM)", args: func() []uint64 { return args(w.delegated()) }, status: RMIErrorInput},
		{msg: label + "_pas (SECURE)", args: func() []uint64 { return args(confSecure) }, status: RMIErrorInput},
	}
}

// gpi is the GPT entry of pa.
func (h *host) gpi(pa uint64) gpt.GPI {
	h.t.Helper()
	g, err := h.p.mon.GPI(pa)
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}

func TestGranuleDelegateConformance(t *testing.T) {
	w := newConfWorld(t)
	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("gran", w.alloc, arg, kDelegated, kRD, kREC, kRECAux, kRTT, kData)
	tests = append(tests, rmiStimulus{msg: "gran_gpt (SECURE)", args: fixedArgs(confSecure), status: RMIErrorInput})
	pa := w.nsWith(bytes.Repeat([]byte{0xA5}, GranuleSize))
	tests = append(tests, rmiStimulus{msg: "success", args: fixedArgs(pa), status: RMISuccess})
	w.runStimuli(t, RMIGranuleDelegate, tests)

	// gran_gpt changed neither the GPT nor the RMM's view of the granule
	// (outside what runStimuli's snapshot covers).
	if g := w.gpi(confSecure); g != gpt.GPISecure || w.r.granules.lookup(confSecure).state != granuleNS {
		t.Errorf("Secure granule after a refused DELEGATE: GPI %v, state %v", g, w.r.granules.lookup(confSecure).state)
	}
	// Positive observability: GPT REALM, the host locked out, the
	// contents scrubbed, DELEGATED (a second DELEGATE is gran_state, and
	// the granule can become an RD).
	if g := w.gpi(pa); g != gpt.GPIRealm {
		t.Errorf("delegated granule: GPI %v, want REALM", g)
	}
	if err := w.read(pa, make([]byte, 8)); !isGPF(err) {
		t.Errorf("host read of a delegated granule: %v, want a GPF", err)
	}
	b := make([]byte, GranuleSize)
	if err := w.r.realmRead(pa, b); err != nil || !bytes.Equal(b, make([]byte, GranuleSize)) {
		t.Errorf("delegated granule not zero (err %v)", err)
	}
	w.wantStatus("DELEGATE again", w.smc(RMIGranuleDelegate, pa), RMIErrorInput, 0)
	w.wantStatus("REALM_CREATE on it", w.smc(RMIRealmCreate, pa, w.params(w.realmParams(w.contiguousDelegated(2), 9))), RMISuccess, 0)
	w.wantStatus("UNDELEGATE the RD", w.smc(RMIGranuleUndelegate, pa), RMIErrorInput, 0)
}

func TestGranuleUndelegateConformance(t *testing.T) {
	w := newConfWorld(t)
	arg := func(pa uint64) []uint64 { return []uint64{pa} }
	tests := w.addrRows("gran", w.delegated, arg, kUndelegated, kSecure, kRD, kREC, kRECAux, kRTT, kData)

	// A granule that held realm data: DATA_CREATE copies content into it,
	// DATA_DESTROY returns it to DELEGATED.
	content := bytes.Repeat([]byte("secret"), GranuleSize/6+1)[:GranuleSize]
	data := w.dataCreate(w.rd, 7*GranuleSize, w.nsWith(content), RMIMeasureContent)
	w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, w.rd, 7*GranuleSize), RMISuccess, 0)
	tests = append(tests, rmiStimulus{msg: "success", args: fixedArgs(data), status: RMISuccess})
	w.runStimuli(t, RMIGranuleUndelegate, tests)

	// Positive observability: GPT NS, readable by the host and zero (the
	// realm's data never reaches the NS world), UNDELEGATED again.
	if g := w.gpi(data); g != gpt.GPINS {
		t.Errorf("undelegated granule: GPI %v, want NS", g)
	}
	b := make([]byte, GranuleSize)
	if err := w.read(data, b); err != nil || !bytes.Equal(b, make([]byte, GranuleSize)) {
		t.Errorf("undelegated granule: err %v, zero %v", err, bytes.Equal(b, make([]byte, GranuleSize)))
	}
	w.wantStatus("UNDELEGATE again", w.smc(RMIGranuleUndelegate, data), RMIErrorInput, 0)
	w.wantStatus("DELEGATE again", w.smc(RMIGranuleDelegate, data), RMISuccess, 0)
}

func TestVersionConformance(t *testing.T) {
	w := newConfWorld(t)
	v := func(major, minor uint64) uint64 { return major<<16 | minor }
	both := []uint64{ABIVersion, ABIVersion}
	// No failure conditions (RMM 1.0 B4.3.23): a request the RMM has no
	// compatible revision for is ERROR_INPUT, and lower = higher = 1.0
	// whatever was asked (TF-RMM rel0 system.c; Arm DEN0137 1.0-REL0 B4.3.23).
	tests := []rmiStimulus{
		{msg: "1.0", args: fixedArgs(v(1, 0)), out: both},
		{msg: "0.0", args: fixedArgs(0), status: RMIErrorInput, out: both},
		{msg: "0.9 (below)", args: fixedArgs(v(0, 9)), status: RMIErrorInput, out: both},
		{msg: "1.1 (above)", args: fixedArgs(v(1, 1)), status: RMIErrorInput, out: both},
		{msg: "2.0 (above)", args: fixedArgs(v(2, 0)), status: RMIErrorInput, out: both},
		{msg: "1.0 with bit 31", args: fixedArgs(1<<31 | v(1, 0)), status: RMIErrorInput, out: both},
		{msg: "1.0 with bit 32", args: fixedArgs(1<<32 | v(1, 0)), status: RMIErrorInput, out: both},
	}
	w.runStimuli(t, RMIVersion, tests)
	// The SVE hint bit of the FID is not part of the function number.
	if x := w.smc(RMIVersion|SVEHint, v(1, 0)); x != [5]uint64{RMISuccess, ABIVersion, ABIVersion} {
		t.Errorf("VERSION with the SVE hint: %#x", x)
	}
	// Called directly (not through EL3, which passes W0 only), the RMM
	// still takes the function ID from W0 (TF-RMM rel0
	// runtime/core/handler.c handle_ns_smc(unsigned int function_id, ...)).
	if x := w.r.HandleRMI(1<<32|RMIVersion, [6]uint64{v(1, 0)}); x != [5]uint64{RMISuccess, ABIVersion, ABIVersion} {
		t.Errorf("VERSION with X0[63:32] set: %#x", x)
	}
}

func TestFeaturesConformance(t *testing.T) {
	w := newConfWorld(t)
	x := w.wantStatus("FEATURES(0)", w.smc(RMIFeatures, 0), RMISuccess, 0)
	f := x[1]
	field := func(hi, lo uint) uint64 { return f >> lo & (1<<(hi-lo+1) - 1) }
	// The REL0 layout (Arm DEN0137 1.0-REL0 B4.4 RmiFeatureRegister0), decoded field by field; the
	// values the realm tables rely on are checked against REALM_CREATE
	// there (TestRealmCreateConformance).
	for _, c := range []struct {
		name   string
		hi, lo uint
		want   uint64
	}{
		{"RES0 [63:42]", 63, 42, 0},
		{"S2SZ", 7, 0, 48},
		{"LPA2", 8, 8, 0},
		{"SVE_EN", 9, 9, 0},
		{"SVE_VL", 13, 10, 0},
		{"NUM_BPS", 19, 14, featNumBPS},
		{"NUM_WPS", 25, 20, featNumWPS},
		{"PMU_EN", 26, 26, 1},
		{"PMU_NUM_CTRS", 31, 27, featPMUNumCtrs},
		{"HASH_SHA_256", 32, 32, 1},
		{"HASH_SHA_512", 33, 33, 1},
		{"GICV3_NUM_LRS", 37, 34, 15},
		{"MAX_RECS_ORDER", 41, 38, 10},
	} {
		if got := field(c.hi, c.lo); got != c.want {
			t.Errorf("FEATURES(0).%s = %d, want %d (register %#x)", c.name, got, c.want, f)
		}
	}
	if s := field(7, 0); s < 32 || s > 52 {
		t.Errorf("S2SZ %d outside [32, 52]", s)
	}
	// Every other index reads as zero (Arm DEN0137 1.0-REL0 B4.3.4).
	tests := []rmiStimulus{{msg: "index 0", args: fixedArgs(0), out: []uint64{f}}}
	for _, idx := range []uint64{1, 2, 0xFF, 1 << 32, ^uint64(0)} {
		tests = append(tests, rmiStimulus{msg: fmt.Sprintf("index %#x", idx), args: fixedArgs(idx), out: []uint64{0}})
	}
	w.runStimuli(t, RMIFeatures, tests)
}
