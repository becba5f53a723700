package rmm

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rot"
)

// The RMM's own unit tests run it on the real EL3 monitor (GPT, GPC,
// GTSI, the RMM–EL3 attestation interface) and root of trust, with the
// test acting as the host hypervisor directly on the RMM's RMI entry point.
// The assembled machine is tested through its register-level ABI in the
// emulator package.
const (
	tDRAMBase = monitor.DefaultDRAM0Base
	tDRAMSize = 128 << 20 // what the tests hand out; the bank is larger
	tRMMBase  = monitor.DefaultRealmBase
)

// testPlatform is the RMM's view of the monitor: the Realm security state.
type testPlatform struct {
	mon *monitor.Monitor
	rot *rot.RoT
}

func (p *testPlatform) Read(pas gpt.PAS, pa uint64, b []byte) error {
	return p.mon.Access(gpt.StateRealm, pas, pa, b, false)
}

func (p *testPlatform) Write(pas gpt.PAS, pa uint64, b []byte) error {
	return p.mon.Access(gpt.StateRealm, pas, pa, b, true)
}

func (p *testPlatform) CopyGranule(dstPAS gpt.PAS, dst uint64, srcPAS gpt.PAS, src uint64, see func([]byte)) error {
	return p.mon.CopyGranule(gpt.StateRealm, dstPAS, dst, srcPAS, src, see)
}

func (p *testPlatform) Check(pas gpt.PAS, pa uint64) error {
	return p.mon.Check(gpt.StateRealm, pas, pa)
}

func (p *testPlatform) EL3(fid uint64, args ...uint64) [5]uint64 {
	return p.mon.SMC(gpt.StateRealm, fid, args...)
}

func newTestRMM(t testing.TB) (*RMM, *testPlatform) {
	t.Helper()
	return newTestRMMConfig(t, rot.Config{}, Config{})
}

// newTestRMMConfig boots a root of trust with rc and an RMM with cfg; DRAM and the shared buffer are
// filled in from the monitor's default layout.
func newTestRMMConfig(t testing.TB, rc rot.Config, cfg Config) (*RMM, *testPlatform) {
	t.Helper()
	rt, err := rot.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{RootOfTrust: rt})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPlatform{mon: mon, rot: rt}
	for _, d := range mon.Layout().HostDRAM() {
		cfg.DRAM = append(cfg.DRAM, gpt.Range{Base: d.Base, Size: d.Size})
	}
	cfg.SharedBuffer = mon.SharedPage()
	r, err := New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mon.RegisterRMM(r)
	return r, p
}

// host is the test's NS-EL2 hypervisor.
type host struct {
	t    testing.TB
	r    *RMM
	p    *testPlatform
	next uint64 // bump allocator over DRAM
}

func newHost(t testing.TB) *host {
	r, p := newTestRMM(t)
	return &host{t: t, r: r, p: p, next: tDRAMBase}
}

// smc is the host's SMC, through EL3 like a real host's. RMI_REC_ENTER
// runs realm software, so a broken RMM could block it forever; a watchdog
// turns that into a test failure instead of a hung test binary.
func (h *host) smc(fid uint64, args ...uint64) [5]uint64 {
	if fid&^SVEHint != RMIRecEnter {
		return h.p.mon.SMC(gpt.StateNonSecure, fid, args...)
	}
	done := make(chan [5]uint64, 1)
	go func() { done <- h.p.mon.SMC(gpt.StateNonSecure, fid, args...) }()
	select {
	case x := <-done:
		return x
	case <-time.After(recEnterWatchdog):
		h.t.Fatalf("RMI_REC_ENTER%#x did not return within %v: the REC never exited", args, recEnterWatchdog)
		return [5]uint64{}
	}
}

// recEnterWatchdog is far above any REC_ENTER the tests make (milliseconds).
const recEnterWatchdog = 60 * time.Second

// alloc returns a fresh NS granule.
func (h *host) alloc() uint64 {
	pa := h.next
	h.next += GranuleSize
	if h.next > tDRAMBase+tDRAMSize {
		h.t.Fatal("test DRAM exhausted")
	}
	return pa
}

// delegated returns a fresh delegated granule.
func (h *host) delegated() uint64 {
	h.t.Helper()
	pa := h.alloc()
	if x := h.smc(RMIGranuleDelegate, pa); x[0] != RMISuccess {
		h.t.Fatalf("delegate %#x: %#x", pa, x[0])
	}
	return pa
}

func (h *host) write(pa uint64, b []byte) error {
	return h.p.mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, b, true)
}

func (h *host) read(pa uint64, b []byte) error {
	return h.p.mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, b, false)
}

// params writes a granule of little-endian fields {offset: value} and
// returns its address.
func (h *host) params(fields map[uint64]uint64) uint64 {
	h.t.Helper()
	pa := h.alloc()
	var b [GranuleSize]byte
	for off, v := range fields {
		binary.LittleEndian.PutUint64(b[off:], v)
	}
	if err := h.write(pa, b[:]); err != nil {
		h.t.Fatal(err)
	}
	return pa
}

// realmParams are valid RmiRealmParams for s2sz 40, starting at level 1
// with two concatenated tables, SHA-256.
func (h *host) realmParams(rtt uint64, vmid uint64) map[uint64]uint64 {
	return map[uint64]uint64{
		RealmParamsS2SZ: 40, RealmParamsNumBPS: 1, RealmParamsNumWPS: 1, RealmParamsHashAlgo: 0,
		RealmParamsVMID: vmid, RealmParamsRTTBase: rtt, RealmParamsRTTLevelStart: 1, RealmParamsRTTNumStart: 2,
	}
}

// contiguousDelegated returns n contiguous delegated granules, the first
// aligned to n × 4 KB as REALM_CREATE's rtt_align requires of the
// starting-level RTTs.
func (h *host) contiguousDelegated(n int) uint64 {
	size := uint64(n) * GranuleSize
	h.next = (h.next + size - 1) / size * size
	first := h.delegated()
	for i := 1; i < n; i++ {
		h.delegated()
	}
	return first
}

// newRealm creates a realm and returns its RD.
func (h *host) newRealm(vmid uint64) uint64 {
	h.t.Helper()
	rtt := h.contiguousDelegated(2)
	rd := h.delegated()
	if x := h.smc(RMIRealmCreate, rd, h.params(h.realmParams(rtt, vmid))); x[0] != RMISuccess {
		h.t.Fatalf("REALM_CREATE: %#x", x[0])
	}
	return rd
}

func isGPF(err error) bool { return errors.Is(err, gpt.ErrGPF) }
