package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// Small test machine: PPS 4 GB, one granule-mapped L0 region, so New is cheap.
const (
	tIOBase     = 0x4000_0000 // 1 GB NS L0 block
	tDRAMBase   = 0x8000_0000 // 64 MB NS
	tDRAMSize   = 0x0400_0000
	tRealmBase  = 0x8400_0000 // 2 MB REALM (RMM)
	tSecureBase = 0x8420_0000 // 2 MB SECURE
	tRootBase   = 0x8440_0000 // 2 MB ROOT, GPT inside
	tGPTBase    = 0x8450_0000
	tGPTSize    = 0x0004_0000
	tShared     = 0x841F_F000 // last page of the RMM region
	tRegionSize = 0x0020_0000
)

func testLayout() Layout {
	return Layout{
		PPS: gpt.PPS4GB, L0GPTSZ: gpt.L0GPTSZ1GB, MaxBlock: gpt.Block512MB,
		Regions: []Region{
			{"io", tIOBase, 1 << 30, gpt.GPINS, false},
			{"dram", tDRAMBase, tDRAMSize, gpt.GPINS, true},
			{"rmm", tRealmBase, tRegionSize, gpt.GPIRealm, true},
			{"secure", tSecureBase, tRegionSize, gpt.GPISecure, true},
			{"el3", tRootBase, tRegionSize, gpt.GPIRoot, true},
		},
		GPT:        gpt.Range{Base: tGPTBase, Size: tGPTSize},
		SharedPage: tShared,
	}
}

// fakeRoT is a root of trust with a fixed key and a token derived from the
// challenge: "TOKEN" + challenge + a counting pattern, tokenLen bytes long.
type fakeRoT struct {
	mu       sync.Mutex
	tokenLen int
	again    int // answer ErrAgain this many times first
	fail     bool
	calls    int
}

var fakeKey = bytes.Repeat([]byte{0x42}, 48)

func (r *fakeRoT) RealmAttestKey(curve uint64) ([]byte, error) {
	if r.fail {
		return nil, errors.New("fake: broken")
	}
	return fakeKey, nil
}

func (r *fakeRoT) PlatformToken(challenge []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return nil, errors.New("fake: broken")
	}
	if r.again > 0 {
		r.again--
		return nil, fmt.Errorf("fake: %w", ErrAgain)
	}
	return expectedToken(challenge, r.tokenLen), nil
}

func expectedToken(challenge []byte, n int) []byte {
	tok := append([]byte("TOKEN"), challenge...)
	for i := 0; len(tok) < n; i++ {
		tok = append(tok, byte(i))
	}
	return tok[:n]
}

// fakeRMM records RMI calls and answers with (fid, x1, x2, x3, x4) echoed,
// except REC_ENTER which succeeds (x0 = 0).
type fakeRMM struct {
	mu    sync.Mutex
	calls []uint64
	args  [][6]uint64
}

func (f *fakeRMM) HandleRMI(fid uint64, args [6]uint64) [5]uint64 {
	f.mu.Lock()
	f.calls = append(f.calls, fid)
	f.args = append(f.args, args)
	f.mu.Unlock()
	if fid == SMCRMIRecEnter {
		return [5]uint64{0, args[0]}
	}
	return [5]uint64{fid, args[0], args[1], args[2], args[3]}
}

func newTestMonitor(tb testing.TB, cfg Config) *Monitor {
	tb.Helper()
	if len(cfg.Layout.Regions) == 0 {
		cfg.Layout = testLayout()
	}
	m, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func mustSame(tb testing.TB, before []byte, m *Monitor, what string) {
	tb.Helper()
	if !bytes.Equal(before, m.GPTSnapshot()) {
		tb.Fatalf("%s: GPT bytes changed", what)
	}
}
