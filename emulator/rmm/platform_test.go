package rmm

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/rot"
)

// A small machine for the RMM's own unit tests, in the spirit of TF-RMM's
// fake_host: real GPT tables and GPC from emulator/gpt, the real root of
// trust, and a minimal EL3 that answers the RMM–EL3 calls the RMM makes.
// The full machine (emulator/monitor, emulator) is tested through its
// register-level ABI elsewhere.
const (
	tGPTBase  = 0x0400_0000
	tGPTSize  = 1 << 20
	tRMMBase  = 0x0600_0000 // Realm PAS: the EL3–RMM shared page
	tRMMSize  = 1 << 20
	tDRAMBase = 0x8000_0000
	tDRAMSize = 64 << 20
)

type testPlatform struct {
	mem   *gpt.Memory
	gpt   *gpt.Table
	rot   *rot.RoT
	token []byte
	off   int
}

func (p *testPlatform) Read(pas gpt.PAS, pa uint64, b []byte) error {
	return p.gpt.Read(gpt.StateRealm, pas, pa, b)
}

func (p *testPlatform) Write(pas gpt.PAS, pa uint64, b []byte) error {
	return p.gpt.Write(gpt.StateRealm, pas, pa, b)
}

func (p *testPlatform) EL3(fid uint64, args ...uint64) [5]uint64 {
	const badPAS = 0xFFFFFFFFFFFFFFFD
	switch fid {
	case el3GTSIDelegate:
		if p.gpt.Delegate(args[0], GranuleSize, gpt.StateRealm) != nil {
			return [5]uint64{badPAS}
		}
	case el3GTSIUndelegate:
		if p.gpt.Undelegate(args[0], GranuleSize, gpt.StateRealm) != nil {
			return [5]uint64{badPAS}
		}
	case el3GetRealmAttestKey:
		k, _ := p.rot.RealmAttestKey(args[2])
		_ = p.gpt.Write(gpt.StateRoot, gpt.PASRealm, args[0], k)
		return [5]uint64{el3OK, uint64(len(k))}
	case el3GetPlatToken:
		if args[2] != 0 {
			h := make([]byte, args[2])
			_ = p.gpt.Read(gpt.StateRoot, gpt.PASRealm, args[0], h)
			p.token, _ = p.rot.PlatformToken(h)
			p.off = 0
		}
		n := min(512, len(p.token)-p.off) // several hunks
		_ = p.gpt.Write(gpt.StateRoot, gpt.PASRealm, args[0], p.token[p.off:p.off+n])
		p.off += n
		return [5]uint64{el3OK, uint64(n), uint64(len(p.token) - p.off)}
	default:
		return [5]uint64{SMCUnknown}
	}
	return [5]uint64{el3OK}
}

func newTestRMM(t testing.TB) (*RMM, *testPlatform) {
	t.Helper()
	mem, err := gpt.NewMemory(gpt.Range{Base: tGPTBase, Size: tGPTSize}, gpt.Range{Base: tRMMBase, Size: tRMMSize},
		gpt.Range{Base: tDRAMBase, Size: tDRAMSize})
	if err != nil {
		t.Fatal(err)
	}
	table, err := gpt.NewTable(mem, gpt.Config{PPS: gpt.PPS1TB, PGS: gpt.PGS4KB, L0GPTSZ: gpt.L0GPTSZ1GB,
		Base: tGPTBase, Size: tGPTSize, MaxBlock: gpt.Block2MB})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		base, size uint64
		gpi        gpt.GPI
	}{{tGPTBase, tGPTSize, gpt.GPIRoot}, {tRMMBase, tRMMSize, gpt.GPIRealm}, {tDRAMBase, tDRAMSize, gpt.GPINS}} {
		if err := table.MapGranules(m.base, m.size, m.gpi); err != nil {
			t.Fatal(err)
		}
	}
	rt, err := rot.New(rot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPlatform{mem: mem, gpt: table, rot: rt}
	r, err := New(p, Config{DRAM: []gpt.Range{{Base: tDRAMBase, Size: tDRAMSize}}, SharedBuffer: tRMMBase})
	if err != nil {
		t.Fatal(err)
	}
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

func (h *host) smc(fid uint64, args ...uint64) [5]uint64 {
	var a [6]uint64
	copy(a[:], args)
	return h.r.HandleRMI(fid, a)
}

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
	return h.p.gpt.Write(gpt.StateNonSecure, gpt.PASNonSecure, pa, b)
}

func (h *host) read(pa uint64, b []byte) error {
	return h.p.gpt.Read(gpt.StateNonSecure, gpt.PASNonSecure, pa, b)
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

// contiguousDelegated returns n contiguous delegated granules.
func (h *host) contiguousDelegated(n int) uint64 {
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
