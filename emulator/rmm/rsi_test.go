package rmm

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ccakit/cca/realm"
)

// Harness for the RSI and PSCI tests: realms built through RMI on the test
// machine (RTT_CREATE, INIT_RIPAS, REC_CREATE, ACTIVATE), realm software as
// Go closures registered by entry point, and a host loop that serves the
// REC exits the way a KVM host does (protected data aborts get a page from
// DATA_CREATE_UNKNOWN, RIPAS changes are applied with RTT_SET_RIPAS) and
// hands everything else to the test.

// Guest realm layout. gRAM is RIPAS RAM from INIT_RIPAS but has no pages:
// the host backs it on demand. The rest of gRAM's level-3 RTT is RIPAS
// EMPTY.
const (
	gRAM     = 0x4000_0000 // 1 GB: its own level-1 entry, made a table
	gRAMSize = 16 * GranuleSize
	gEmpty   = gRAM + gRAMSize // first RIPAS EMPTY granule
	gCode    = 0x1000_0000     // entry points (never accessed; programs are Go)
	gHostBuf = gRAM            // the RsiHostCall structure of yield

	// Geometry of host.realmParams: s2sz 40, starting level 1.
	gL1  = 1 << 30
	gL2  = 2 << 20
	gPAR = 1 << 39
	gIPA = 1 << 40
)

// guestWorld is a host whose realms run Go programs.
type guestWorld struct {
	*host
	t     *testing.T
	progs map[uint64]Program
	vmid  uint64
	code  uint64 // next entry point
	// aborts lists the IPAs of the protected data aborts served.
	aborts []uint64
}

func newGuestWorld(t *testing.T) *guestWorld { return guestOn(t, newHost(t)) }

func guestOn(t *testing.T, h *host) *guestWorld {
	w := &guestWorld{host: h, t: t, progs: map[uint64]Program{}, vmid: 100, code: gCode}
	// Called by REC_ENTER in the test goroutine: no race with progs.
	h.r.cfg.Programs = func(pc uint64) (Program, bool) {
		p, ok := w.progs[pc]
		return p, ok
	}
	return w
}

// must fails the test unless x carries status[index].
func (w *guestWorld) must(what string, x [5]uint64, status, index uint8) [5]uint64 {
	w.t.Helper()
	if x[0] != Pack(status, index) {
		w.t.Fatalf("%s: X0 = %#x, want %#x", what, x[0], Pack(status, index))
	}
	return x
}

// rttsFor creates the RTTs missing for a walk of ipa to reach level 3.
func (w *guestWorld) rttsFor(rd, ipa uint64) {
	w.t.Helper()
	walk := w.must("RTT_READ_ENTRY", w.smc(RMIRttReadEntry, rd, ipa, maxLevel), RMISuccess, 0)[1]
	for l := int(walk) + 1; l <= maxLevel; l++ {
		w.must("RTT_CREATE", w.smc(RMIRttCreate, rd, w.delegated(), ipa&^(levelSize(l-1)-1), uint64(l)), RMISuccess, 0)
	}
}

// backPage gives the realm a zero page at ipa (DATA_CREATE_UNKNOWN), as a
// host does on a data abort, and returns the data granule.
func (w *guestWorld) backPage(rd, ipa uint64) uint64 {
	w.t.Helper()
	w.rttsFor(rd, ipa)
	data := w.delegated()
	w.must("DATA_CREATE_UNKNOWN", w.smc(RMIDataCreateUnknown, rd, data, ipa), RMISuccess, 0)
	return data
}

// entryPoint registers prog at a fresh entry point and returns it.
func (w *guestWorld) entryPoint(prog Program) uint64 {
	pc := w.code
	w.code += GranuleSize
	w.progs[pc] = prog
	return pc
}

type guestOpts struct {
	hash realm.HashAlgorithm
	rpv  []byte
	recs int // RECs beyond the first, created not runnable
	// recGPRs are the RmiRecParams gprs of the RECs beyond the first.
	recGPRs []uint64
	flags   uint64 // RmiRealmParams.flags
}

type guestRealm struct {
	rd    uint64
	recs  []uint64
	run   uint64
	flags uint64 // RmiRecEnter.flags of the next entry
}

// newGuestRealm creates and activates a realm whose REC 0 runs prog.
func (w *guestWorld) newGuestRealm(o guestOpts, prog Program) *guestRealm {
	w.t.Helper()
	rtt := w.contiguousDelegated(2)
	rd := w.delegated()
	p := w.realmParams(rtt, w.vmid)
	w.vmid++
	p[RealmParamsHashAlgo] = uint64(o.hash)
	p[RealmParamsFlags] |= o.flags
	params := w.params(p)
	if o.rpv != nil {
		if err := w.write(params+RealmParamsRPV, o.rpv); err != nil {
			w.t.Fatal(err)
		}
	}
	w.must("REALM_CREATE", w.smc(RMIRealmCreate, rd, params), RMISuccess, 0)
	w.rttsFor(rd, gRAM)
	w.must("INIT_RIPAS", w.smc(RMIRttInitRipas, rd, gRAM, gRAM+gRAMSize), RMISuccess, 0)
	g := &guestRealm{rd: rd, run: w.alloc()}
	for i := 0; i <= o.recs; i++ {
		rec := w.delegated()
		pc := uint64(0)
		if i == 0 {
			pc = w.entryPoint(prog)
		}
		var gprs []uint64
		if i > 0 {
			gprs = o.recGPRs
		}
		w.must("REC_CREATE", w.smc(RMIRecCreate, rd, rec, w.recParams(uint64(i), pc, i == 0, gprs...)), RMISuccess, 0)
		g.recs = append(g.recs, rec)
	}
	w.must("REALM_ACTIVATE", w.smc(RMIRealmActivate, rd), RMISuccess, 0)
	return g
}

// guestExit is RmiRecExit as the host reads it.
type guestExit struct {
	reason, esr, hpfar  uint64
	gprs                [31]uint64
	ripasBase, ripasTop uint64
	ripasValue          uint8
	imm                 uint64
}

func (x guestExit) String() string {
	return fmt.Sprintf("exit reason %d esr %#x hpfar %#x gprs[0..1] %#x %#x", x.reason, x.esr, x.hpfar, x.gprs[0], x.gprs[1])
}

// ipa is the faulting IPA of a data abort exit.
func (x guestExit) ipa() uint64 { return x.hpfar >> 4 << 12 }

// enter runs RMI_REC_ENTER with the realm's pending entry flags (then
// cleared) and returns X0 and the exit.
func (w *guestWorld) enter(g *guestRealm, rec uint64) (uint64, guestExit) {
	w.t.Helper()
	var f [8]byte
	binary.LittleEndian.PutUint64(f[:], g.flags)
	g.flags = 0
	if err := w.write(g.run+RunEnterFlags, f[:]); err != nil {
		w.t.Fatal(err)
	}
	x0 := w.smc(RMIRecEnter, rec, g.run)[0]
	if x0 != RMISuccess {
		return x0, guestExit{}
	}
	b := make([]byte, GranuleSize)
	if err := w.read(g.run, b); err != nil {
		w.t.Fatal(err)
	}
	le := binary.LittleEndian
	x := guestExit{reason: le.Uint64(b[RunExitReason:]), esr: le.Uint64(b[RunExitESR:]), hpfar: le.Uint64(b[RunExitHPFAR:]),
		ripasBase: le.Uint64(b[RunExitRIPASBase:]), ripasTop: le.Uint64(b[RunExitRIPASTop:]),
		ripasValue: b[RunExitRIPASValue], imm: le.Uint64(b[RunExitImm:])}
	for i := range x.gprs {
		x.gprs[i] = le.Uint64(b[RunExitGPRs+8*i:])
	}
	return x0, x
}

// hookAction is what a drive hook decides about an exit.
type hookAction int

const (
	actServe  hookAction = iota // the host's default service (see drive)
	actResume                   // the hook dealt with it: enter again
	actReturn                   // hand the exit to drive's caller
)

// drive enters rec until an exit the host does not serve by default, and
// returns it. hook, if not nil, sees every exit first. By default,
// protected data aborts are served with a page from DATA_CREATE_UNKNOWN
// and RIPAS changes are applied in full with RTT_SET_RIPAS; any other exit
// is returned.
func (w *guestWorld) drive(g *guestRealm, rec uint64, hook func(guestExit) hookAction) guestExit {
	w.t.Helper()
	for range 1000 {
		x0, x := w.enter(g, rec)
		if x0 != RMISuccess {
			w.t.Fatalf("REC_ENTER: X0 = %#x", x0)
		}
		if hook != nil {
			switch hook(x) {
			case actResume:
				continue
			case actReturn:
				return x
			}
		}
		switch {
		case x.reason == ExitSync && x.esr>>26 == 0x24 && x.ipa() < gPAR:
			w.aborts = append(w.aborts, x.ipa())
			w.backPage(g.rd, x.ipa())
		case x.reason == ExitRIPASChange:
			for base := x.ripasBase; base < x.ripasTop; {
				out := w.must("RTT_SET_RIPAS", w.smc(RMIRttSetRipas, g.rd, rec, base, x.ripasTop), RMISuccess, 0)
				base = out[1]
			}
		case x.reason == ExitSError:
			w.t.Fatalf("the realm software crashed (SError exit)")
		default:
			return x
		}
	}
	w.t.Fatal("the realm does not stop exiting")
	return guestExit{}
}

// finish drives rec until its program returns (the CPU_OFF exit of a
// program that ends).
func (w *guestWorld) finish(g *guestRealm, rec uint64, hook func(guestExit) hookAction) {
	w.t.Helper()
	if x := w.drive(g, rec, hook); x.reason != ExitPSCI || x.gprs[0] != PSCICPUOff {
		w.t.Fatalf("expected the program to end, got %v", x)
	}
}

// guestYield is the realm's way to hand control to the test: an RSI_HOST_CALL
// with imm, which drive returns to the test as an ExitHostCall.
func guestYield(t *testing.T, cpu RealmCPU, imm uint16) {
	var b [8]byte
	binary.LittleEndian.PutUint16(b[:], imm)
	if err := cpu.Write(gHostBuf, b[:]); err != nil {
		t.Errorf("yield: %v", err)
	}
	if x := cpu.SMC(RSIHostCall, gHostBuf); x[0] != RSISuccess {
		t.Errorf("yield: RSI_HOST_CALL X0 = %#x", x[0])
	}
}

// untilYield drives rec to the realm's guestYield(imm).
func (w *guestWorld) untilYield(g *guestRealm, rec uint64, imm uint64) {
	w.t.Helper()
	if x := w.drive(g, rec, nil); x.reason != ExitHostCall || x.imm != imm {
		w.t.Fatalf("expected host call %d, got %v (imm %d)", imm, x, x.imm)
	}
}

// wantRegs compares X0.. of an SMC's result with want.
func wantRegs(t *testing.T, what string, got [9]uint64, want ...uint64) bool {
	t.Helper()
	for i, v := range want {
		if got[i] != v {
			t.Errorf("%s: X%d = %#x, want %#x (X0..X8 = %#x)", what, i, got[i], v, got)
			return false
		}
	}
	return true
}

func TestRSIVersionFeatures(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		// All nine registers: X3 is zeroed, X4..X8 are preserved
		// (Arm DEN0137 1.0-REL0 B5.3.3).
		x := cpu.SMC(RSIVersion, ABIVersion, 11, 22, 44, 55, 66, 77, 88)
		if want := [9]uint64{RSISuccess, ABIVersion, ABIVersion, 0, 44, 55, 66, 77, 88}; x != want {
			t.Errorf("RSI_VERSION(1.0): %#x, want %#x", x, want)
		}
		for _, req := range []uint64{0, 1<<16 | 1, 2 << 16, 1<<31 | 1<<16} {
			wantRegs(t, fmt.Sprintf("RSI_VERSION(%#x)", req), cpu.SMC(RSIVersion, req), RSIErrorInput, ABIVersion, ABIVersion)
		}
		for _, idx := range []uint64{0, 1, ^uint64(0)} {
			wantRegs(t, fmt.Sprintf("RSI_FEATURES(%#x)", idx), cpu.SMC(RSIFeatures, idx, 1, 2, 3), RSISuccess, 0, 0, 0, 3)
		}
		wantRegs(t, "unused RSI FID", cpu.SMC(fidBase|0x1AF, 1, 2, 3, 4), SMCUnknown, 0, 0, 0, 4)
		wantRegs(t, "SMCCC_VERSION", cpu.SMC(SMCCCVersion|SVEHint, 0, 0, 0, 9), 0x10002, 0, 0, 0, 9)
		// The function ID is W0: X0[63:32] is ignored (SMCCC; TF-RMM rel0
		// runtime/core/exit.c handle_realm_rsi).
		wantRegs(t, "RSI_VERSION, X0[63:32] set", cpu.SMC(0xFFFF_FFFF<<32|RSIVersion, ABIVersion), RSISuccess, ABIVersion, ABIVersion)
		wantRegs(t, "PSCI_VERSION, X0[63:32] set", cpu.SMC(1<<32|PSCIVersion), PSCIVersion11)
	})
	w.finish(g, g.recs[0], nil)
}

// measurementOf is the 64-byte measurement slot of a digest.
func measurementOf(d []byte) (m realm.Measurement) { copy(m[:], d); return m }

// remExtend is the REM extension computed independently of realm
// (Arm DEN0137 1.0-REL0 B5.3.7): H(REM[0:hashlen] || value).
func remExtend(h realm.HashAlgorithm, rem realm.Measurement, value []byte) realm.Measurement {
	if h == realm.HashSHA512 {
		d := sha512.Sum512(append(rem[:64:64], value...))
		return measurementOf(d[:])
	}
	d := sha256.Sum256(append(rem[:32:32], value...))
	return measurementOf(d[:])
}

// readWords is X1..X8 of MEASUREMENT_READ for a slot.
func readWords(m realm.Measurement) []uint64 {
	out := []uint64{RSISuccess}
	for i := range 8 {
		out = append(out, binary.LittleEndian.Uint64(m[8*i:]))
	}
	return out
}

// extendArgs is X1..X10 of MEASUREMENT_EXTEND.
func extendArgs(index uint64, value []byte) []uint64 {
	var v [64]byte
	copy(v[:], value)
	args := []uint64{index, uint64(len(value))}
	for i := range 8 {
		args = append(args, binary.LittleEndian.Uint64(v[8*i:]))
	}
	return args
}

func TestRSIMeasurements(t *testing.T) {
	for _, h := range []realm.HashAlgorithm{realm.HashSHA256, realm.HashSHA512} {
		t.Run(h.String(), func(t *testing.T) {
			w := newGuestWorld(t)
			var rim realm.Measurement
			value := bytes.Repeat([]byte("measured by the realm "), 3)[:64]
			g := w.newGuestRealm(guestOpts{hash: h}, func(cpu RealmCPU) {
				wantRegs(t, "READ(RIM)", cpu.SMC(RSIMeasurementRead, 0), readWords(rim)...)
				for i := uint64(1); i <= 4; i++ { // measurement_initial_rem_is_zero
					wantRegs(t, fmt.Sprintf("READ(REM%d)", i), cpu.SMC(RSIMeasurementRead, i), readWords(realm.Measurement{})...)
				}
				for _, tc := range []struct {
					name string
					fid  uint64
					args []uint64
				}{
					{"read index_bound 5", RSIMeasurementRead, []uint64{5}},
					{"read index_bound max", RSIMeasurementRead, []uint64{^uint64(0)}},
					{"extend index_bound RIM", RSIMeasurementExtend, extendArgs(0, value[:8])},
					{"extend index_bound 5", RSIMeasurementExtend, extendArgs(5, value[:8])},
					{"extend size_bound", RSIMeasurementExtend, append([]uint64{1, 65}, make([]uint64, 8)...)},
					{"extend size_bound max", RSIMeasurementExtend, append([]uint64{1, ^uint64(0)}, make([]uint64, 8)...)},
					{"extend index_bound and size_bound", RSIMeasurementExtend, append([]uint64{0, 65}, make([]uint64, 8)...)},
				} {
					wantRegs(t, tc.name, cpu.SMC(tc.fid, tc.args...), RSIErrorInput, 0, 0, 0)
				}
				// Known answers: REM1 twice (chained), REM2 with an empty
				// value; REM3 and REM4 stay zero.
				want := [5]realm.Measurement{rim}
				for _, e := range []struct {
					index uint64
					value []byte
				}{{1, value[:20]}, {1, value}, {2, nil}, {1, value[:1]}} {
					wantRegs(t, fmt.Sprintf("EXTEND(%d, %d bytes)", e.index, len(e.value)),
						cpu.SMC(RSIMeasurementExtend, extendArgs(e.index, e.value)...), RSISuccess, 0, 0, 0)
					want[e.index] = remExtend(h, want[e.index], e.value)
				}
				for i := range uint64(5) {
					wantRegs(t, fmt.Sprintf("READ(%d) after extending", i), cpu.SMC(RSIMeasurementRead, i), readWords(want[i])...)
				}
			})
			rim = w.r.realms[g.rd].rim // frozen by REALM_ACTIVATE
			if rim == (realm.Measurement{}) {
				t.Fatal("no RIM")
			}
			w.finish(g, g.recs[0], nil)
			if rems := w.r.realms[g.rd].rems; rems[0] == (realm.Measurement{}) || rems[2] != (realm.Measurement{}) {
				t.Errorf("REMs in the RD: %x", rems)
			}
		})
	}
}

func TestRSIRealmConfig(t *testing.T) {
	w := newGuestWorld(t)
	rpv := bytes.Repeat([]byte{0x5A, 0xC3}, 32)
	page := uint64(gRAM + 2*GranuleSize)
	fresh := uint64(gRAM + 3*GranuleSize)
	g := w.newGuestRealm(guestOpts{hash: realm.HashSHA512, rpv: rpv}, func(cpu RealmCPU) {
		for _, tc := range []struct {
			name string
			ipa  uint64
		}{
			{"addr_align", page + 8},
			{"addr_align (0x100)", page + 0x100},
			{"addr_bound (PAR)", gPAR},
			{"addr_bound (unprotected)", gPAR + page},
			{"addr_bound (beyond the IPA space)", gIPA},
			{"RIPAS EMPTY (level 3)", gEmpty},
			{"RIPAS EMPTY (level 1 block)", 0x1000},
		} {
			wantRegs(t, tc.name, cpu.SMC(RSIRealmConfig, tc.ipa), RSIErrorInput, 0, 0, 0)
		}
		fill := bytes.Repeat([]byte{0xEE}, GranuleSize)
		if err := cpu.Write(page, fill); err != nil {
			t.Errorf("write: %v", err)
		}
		wantRegs(t, "REALM_CONFIG", cpu.SMC(RSIRealmConfig, page), RSISuccess, 0, 0, 0)
		got := make([]byte, GranuleSize)
		if err := cpu.Read(page, got); err != nil {
			t.Errorf("read: %v", err)
		}
		// The whole granule is the structure, and its unused bits MBZ
		// (Arm DEN0137 1.0-REL0 B5.4.5): none of the fill survives.
		want := make([]byte, GranuleSize)
		binary.LittleEndian.PutUint64(want[RealmConfigIPAWidth:], 40)
		binary.LittleEndian.PutUint64(want[RealmConfigHashAlgo:], uint64(realm.HashSHA512))
		copy(want[RealmConfigRPV:], rpv)
		if !bytes.Equal(got, want) {
			t.Errorf("RsiRealmConfig:\n got %x\nwant %x", got[:0x240], want[:0x240])
		}
		// A RAM granule without a page: the REC exits with a data abort,
		// the host maps a page, and the call completes.
		wantRegs(t, "REALM_CONFIG (unmapped)", cpu.SMC(RSIRealmConfig, fresh), RSISuccess)
	})
	w.finish(g, g.recs[0], nil)
	if len(w.aborts) != 2 || w.aborts[0] != page || w.aborts[1] != fresh {
		t.Errorf("data aborts served at %#x, want %#x and %#x", w.aborts, page, fresh)
	}
}

func TestRSIIPAStateGet(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		in := uint64(RSIErrorInput)
		for _, tc := range []struct {
			name      string
			base, end uint64
			want      []uint64
		}{
			{"base_align", gRAM + 8, gRAM + 0x2000, []uint64{in}},
			{"end_align", gRAM, gRAM + 0x1008, []uint64{in}},
			{"size_valid (empty)", gRAM, gRAM, []uint64{in}},
			{"size_valid (end below base)", gRAM + 0x2000, gRAM, []uint64{in}},
			{"size_valid (end 0)", gRAM, 0, []uint64{in}},
			{"rgn_bound (base)", gPAR, gPAR + 0x1000, []uint64{in}},
			{"rgn_bound (end)", gPAR - 0x1000, gPAR + 0x1000, []uint64{in}},
			// RAM from INIT_RIPAS, capped at end.
			{"RAM, capped", gRAM, gRAM + 0x2000, []uint64{RSISuccess, gRAM + 0x2000, RIPASRAM}},
			// RAM up to the end of the INIT_RIPAS range.
			{"RAM range", gRAM, gRAM + gL2, []uint64{RSISuccess, gEmpty, RIPASRAM}},
			{"EMPTY to the end of the L3 RTT", gEmpty, gRAM + 2*gL2, []uint64{RSISuccess, gRAM + gL2, RIPASEmpty}},
			// The next L2 entry is a block: the L2 RTT is scanned.
			{"EMPTY L2 blocks", gRAM + gL2, gRAM + 8*gL2, []uint64{RSISuccess, gRAM + 8*gL2, RIPASEmpty}},
			// The L1 entry below gRAM is EMPTY; gRAM's is a table.
			{"EMPTY L1 block", 0x1000, gPAR, []uint64{RSISuccess, gRAM, RIPASEmpty}},
			{"EMPTY L1 block, capped", 0x1000, 0x3000, []uint64{RSISuccess, 0x3000, RIPASEmpty}},
			{"whole PAR above the table", gRAM + gL1, gPAR, []uint64{RSISuccess, gPAR, RIPASEmpty}},
		} {
			wantRegs(t, tc.name, cpu.SMC(RSIIPAStateGet, tc.base, tc.end), tc.want...)
		}
		// The host call buffer (page 0) gets a page; the host destroys
		// page 4. ASSIGNED RAM reads RAM; DESTROYED splits the range.
		guestYield(t, cpu, 1)
		p := uint64(gRAM + 4*GranuleSize)
		wantRegs(t, "RAM before DESTROYED", cpu.SMC(RSIIPAStateGet, gRAM, gEmpty), RSISuccess, p, RIPASRAM)
		wantRegs(t, "DESTROYED", cpu.SMC(RSIIPAStateGet, p, gEmpty), RSISuccess, p+GranuleSize, RIPASDestroyed)
		wantRegs(t, "RAM after DESTROYED", cpu.SMC(RSIIPAStateGet, p+GranuleSize, gEmpty), RSISuccess, gEmpty, RIPASRAM)
	})
	w.untilYield(g, g.recs[0], 1)
	p := uint64(gRAM + 4*GranuleSize)
	w.backPage(g.rd, p)
	w.must("DATA_DESTROY", w.smc(RMIDataDestroy, g.rd, p), RMISuccess, 0)
	w.finish(g, g.recs[0], nil)
}

func TestRSIIPAStateSet(t *testing.T) {
	w := newGuestWorld(t)
	const p = GranuleSize
	base, top := uint64(gRAM+4*p), uint64(gRAM+8*p)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		in := uint64(RSIErrorInput)
		for _, tc := range []struct {
			name                     string
			base, top, ripas, change uint64
		}{
			{"ripas_valid (DESTROYED)", base, top, RIPASDestroyed, 0},
			{"ripas_valid (3)", base, top, 3, 0},
			{"base_align", base + 8, top, RIPASEmpty, 0},
			{"top_align", base, top + 8, RIPASEmpty, 0},
			{"size_valid (empty)", base, base, RIPASEmpty, 0},
			{"size_valid (top below base)", top, base, RIPASEmpty, 0},
			{"size_valid (wraps)", ^uint64(p - 1), p, RIPASEmpty, 0},
			{"rgn_bound", gPAR - p, gPAR + p, RIPASEmpty, 0},
			{"rgn_bound (unprotected)", gPAR, gPAR + p, RIPASRAM, 0},
		} {
			wantRegs(t, tc.name, cpu.SMC(RSIIPAStateSet, tc.base, tc.top, tc.ripas, tc.change), in, 0, 0, 0)
		}

		// 1: EMPTY, applied by the host in two RTT_SET_RIPAS calls.
		wantRegs(t, "SET EMPTY", cpu.SMC(RSIIPAStateSet, base, top, RIPASEmpty, RIPASChangeDestroyed, 44),
			RSISuccess, top, RSIAccept, 0, RIPASChangeDestroyed, 44)
		wantRegs(t, "GET after SET EMPTY", cpu.SMC(RSIIPAStateGet, base, gEmpty), RSISuccess, top, RIPASEmpty)

		// 2: RAM, one page applied, rejected: X1 is the progress.
		wantRegs(t, "SET RAM partial reject", cpu.SMC(RSIIPAStateSet, base, top, RIPASRAM, 0), RSISuccess, base+p, RSIReject)
		// 3: the same, not rejected: ACCEPT with the progress.
		wantRegs(t, "SET RAM partial accept", cpu.SMC(RSIIPAStateSet, base+p, top, RIPASRAM, 0), RSISuccess, base+2*p, RSIAccept)
		// 4: nothing applied and rejected, for EMPTY: REJECT is for RAM
		// only (mm_ripas_change_reject: X1 = base).
		wantRegs(t, "SET EMPTY not applied", cpu.SMC(RSIIPAStateSet, base, top, RIPASEmpty, 0), RSISuccess, base, RSIAccept)
		wantRegs(t, "GET", cpu.SMC(RSIIPAStateGet, base, top), RSISuccess, base+2*p, RIPASRAM)

		// 5: a DESTROYED granule stops a change without
		// RSI_CHANGE_DESTROYED and takes it with.
		guestYield(t, cpu, 5)
		d := uint64(gRAM + 12*p)
		wantRegs(t, "SET RAM over DESTROYED", cpu.SMC(RSIIPAStateSet, d, d+p, RIPASRAM, RIPASNoChangeDestroyed), RSISuccess, d, RSIReject)
		wantRegs(t, "SET RAM over DESTROYED, CHANGE_DESTROYED", cpu.SMC(RSIIPAStateSet, d, d+p, RIPASRAM, RIPASChangeDestroyed), RSISuccess, d+p, RSIAccept)
		wantRegs(t, "GET DESTROYED → RAM", cpu.SMC(RSIIPAStateGet, d, d+p), RSISuccess, d+p, RIPASRAM)

		// 6: Linux's rsi_set_memory_range: loop until the whole range is
		// done; the host does two granules per exit.
		start, end := uint64(gRAM), uint64(gRAM+gRAMSize)
		for n := 0; start != end; n++ {
			x := cpu.SMC(RSIIPAStateSet, start, end, RIPASEmpty, RIPASChangeDestroyed)
			if x[0] != RSISuccess || x[1] <= start || x[1] > end || n > 16 {
				t.Errorf("rsi_set_memory_range: %#x", x)
				return
			}
			start = x[1]
		}
		wantRegs(t, "GET after the loop", cpu.SMC(RSIIPAStateGet, gRAM, gRAM+gL2), RSISuccess, gRAM+gL2, RIPASEmpty)
	})
	rec := g.recs[0]
	ripasExit := func(x guestExit, b, tp uint64, v uint8) {
		t.Helper()
		if x.reason != ExitRIPASChange || x.ripasBase != b || x.ripasTop != tp || x.ripasValue != v {
			t.Fatalf("exit %v ripas [%#x, %#x) %d, want [%#x, %#x) %d", x, x.ripasBase, x.ripasTop, x.ripasValue, b, tp, v)
		}
	}
	setRIPAS := func(b, tp uint64) uint64 {
		t.Helper()
		return w.must("RTT_SET_RIPAS", w.smc(RMIRttSetRipas, g.rd, rec, b, tp), RMISuccess, 0)[1]
	}
	stop := func(x guestExit) hookAction {
		if x.reason == ExitRIPASChange {
			return actReturn
		}
		return actServe
	}

	// 1.
	x := w.drive(g, rec, stop)
	ripasExit(x, base, top, RIPASEmpty)
	w.r.mu.Lock()
	if rd := w.r.recs[rec]; !rd.ripasPending || !rd.ripasDestroyed || rd.ripasAddr != base || rd.ripasTop != top {
		t.Errorf("pending change in the REC: %+v", *rd)
	}
	w.r.mu.Unlock()
	if got := setRIPAS(base, base+2*p); got != base+2*p {
		t.Fatalf("RTT_SET_RIPAS progress %#x", got)
	}
	w.must("RTT_SET_RIPAS not at the progress address (base_bound)", w.smc(RMIRttSetRipas, g.rd, rec, base, top), RMIErrorInput, 0)
	w.must("RTT_SET_RIPAS beyond top (top_bound)", w.smc(RMIRttSetRipas, g.rd, rec, base+2*p, top+p), RMIErrorInput, 0)
	setRIPAS(base+2*p, top)
	// 2.
	x = w.drive(g, rec, stop)
	ripasExit(x, base, top, RIPASRAM)
	setRIPAS(base, base+p)
	g.flags = EntryFlagRIPASResponse
	// 3.
	x = w.drive(g, rec, stop)
	ripasExit(x, base+p, top, RIPASRAM)
	setRIPAS(base+p, base+2*p)
	// 4.
	x = w.drive(g, rec, stop)
	ripasExit(x, base, top, RIPASEmpty)
	g.flags = EntryFlagRIPASResponse
	// 5.
	w.untilYield(g, rec, 5)
	w.r.mu.Lock()
	if rd := w.r.recs[rec]; rd.ripasPending || rd.ripasTop != 0 {
		t.Errorf("a completed change is still pending: %+v", *rd)
	}
	w.r.mu.Unlock()
	d := uint64(gRAM + 12*p)
	w.backPage(g.rd, d)
	w.must("DATA_DESTROY", w.smc(RMIDataDestroy, g.rd, d), RMISuccess, 0)
	x = w.drive(g, rec, stop)
	ripasExit(x, d, d+p, RIPASRAM)
	w.must("RTT_SET_RIPAS over DESTROYED (no_progress)", w.smc(RMIRttSetRipas, g.rd, rec, d, d+p), RMIErrorRtt, 3)
	g.flags = EntryFlagRIPASResponse
	x = w.drive(g, rec, stop)
	ripasExit(x, d, d+p, RIPASRAM)
	setRIPAS(d, d+p)
	// 6.
	exits := 0
	w.finish(g, rec, func(x guestExit) hookAction {
		if x.reason != ExitRIPASChange {
			return actServe
		}
		exits++
		setRIPAS(x.ripasBase, min(x.ripasBase+2*p, x.ripasTop))
		return actResume
	})
	if exits != gRAMSize/GranuleSize/2 {
		t.Errorf("%d RIPAS change exits, want %d", exits, gRAMSize/GranuleSize/2)
	}
}

func TestRSIHostCallPreservesRegisters(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		wantRegs(t, "HOST_CALL addr_align", cpu.SMC(RSIHostCall, gHostBuf+8, 0, 0, 7), RSIErrorInput, 0, 0, 0, 7)
		wantRegs(t, "HOST_CALL addr_bound", cpu.SMC(RSIHostCall, gPAR, 0, 0, 7), RSIErrorInput, 0, 0, 0, 7)
		var b [HostCallSize]byte
		binary.LittleEndian.PutUint16(b[HostCallImm:], 0x42)
		binary.LittleEndian.PutUint64(b[HostCallGPRs+8:], 0x1111)
		if err := cpu.Write(gHostBuf, b[:]); err != nil {
			t.Errorf("write: %v", err)
		}
		wantRegs(t, "HOST_CALL", cpu.SMC(RSIHostCall, gHostBuf, 0, 0, 7), RSISuccess, 0, 0, 0, 7)
		if err := cpu.Read(gHostBuf, b[:]); err != nil {
			t.Errorf("read: %v", err)
		}
		if got := binary.LittleEndian.Uint64(b[HostCallGPRs+8*2:]); got != 0x2222 {
			t.Errorf("gprs[2] after the host call: %#x", got)
		}
	})
	x := w.drive(g, g.recs[0], nil)
	if x.reason != ExitHostCall || x.imm != 0x42 || x.gprs[1] != 0x1111 {
		t.Fatalf("host call exit %v imm %#x", x, x.imm)
	}
	var gprs [8]byte
	binary.LittleEndian.PutUint64(gprs[:], 0x2222)
	if err := w.write(g.run+RunEnterGPRs+8*2, gprs[:]); err != nil {
		t.Fatal(err)
	}
	w.finish(g, g.recs[0], nil)
}
