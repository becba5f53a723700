package rmm

import (
	"sync"
	"testing"
	"time"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rmm/accesscode"
	"github.com/ccakit/cca/emulator/rot"
)

// stallPlatform is the test platform with one trap: the first write to the
// granule at stallPA stops until release is closed, after closing stalled.
// It stands for access code that takes long on one region.
type stallPlatform struct {
	*testPlatform
	stallPA  uint64
	once     sync.Once
	stalled  chan struct{}
	release  chan struct{}
	stallsMu sync.Mutex
}

func (p *stallPlatform) Write(pas gpt.PAS, pa uint64, b []byte) error {
	p.stallsMu.Lock()
	hit := p.stallPA != 0 && pa&^(GranuleSize-1) == p.stallPA
	p.stallsMu.Unlock()
	if hit {
		p.once.Do(func() {
			close(p.stalled)
			<-p.release
		})
	}
	return p.testPlatform.Write(pas, pa, b)
}

// TestShareInvokeDoesNotBlockOthers: while access code of region A is
// stalled inside its invocation, with the RMM's global lock free, a member
// of region B invokes its code on B, the host makes RMI calls (RMI_VERSION,
// and RMI_DATA_DESTROY of the stalled caller's pinned argument granule,
// which is refused), and a REC of a realm that shares nothing runs RSI
// calls. Each must complete before a watchdog fires; then A's invocation is
// released and completes.
func TestShareInvokeDoesNotBlockOthers(t *testing.T) {
	rt, err := rot.New(rot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{RootOfTrust: rt})
	if err != nil {
		t.Fatal(err)
	}
	p := &stallPlatform{testPlatform: &testPlatform{mon: mon, rot: rt},
		stalled: make(chan struct{}), release: make(chan struct{})}
	cfg := Config{Sharing: true, SharedBuffer: mon.SharedPage()}
	for _, d := range mon.Layout().HostDRAM() {
		cfg.DRAM = append(cfg.DRAM, gpt.Range{Base: d.Base, Size: d.Size})
	}
	r, err := New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mon.RegisterRMM(r)
	t.Cleanup(r.Close)
	h := &host{t: t, r: r, p: p.testPlatform, next: tDRAMBase}

	const ram = 2 << 30 // code image at ram, argument at ram + 4 KB
	img, err := accesscode.Assemble(".arg 8\nmovi r5, 7\nstr8 r5, [0]\nexit")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		who string
		x0  uint64
	}
	results := make(chan result, 8)
	var srA, srB uint64
	invoker := func(who string, sr *uint64) Program {
		return func(cpu RealmCPU) {
			if x := cpu.SMC(RSIShareAttach, *sr, 0); x[0] != RSISuccess {
				results <- result{who + " attach", x[0]}
				return
			}
			if err := cpu.Write(ram, img); err != nil {
				results <- result{who + " write code", 99}
				return
			}
			x := cpu.SMC(RSIShareCodeLoad, *sr, ram, uint64(len(img)))
			if x[0] != RSISuccess {
				results <- result{who + " load", x[0]}
				return
			}
			x = cpu.SMC(RSIShareInvoke, *sr, x[1], ram+GranuleSize, 8)
			results <- result{who + " invoke", x[0]}
		}
	}
	bystander := func(cpu RealmCPU) {
		x := cpu.SMC(RSIVersion, ABIVersion)
		y := cpu.SMC(RSIMeasurementRead, 0)
		results <- result{"bystander RSI", x[0] | y[0]}
	}
	progs := map[uint64]Program{0x1000: invoker("A", &srA), 0x2000: invoker("B", &srB), 0x3000: bystander}
	h.r.cfg.Programs = func(pc uint64) (Program, bool) { prog, ok := progs[pc]; return prog, ok }

	member := func(vmid, pc uint64) (rd, rec uint64) {
		rd = h.newRealm(vmid)
		h.ramAt(rd, ram)
		h.rttsDownTo(rd, ram, maxLevel)
		h.dataUnknown(rd, ram)
		h.dataUnknown(rd, ram+GranuleSize)
		h.rttsDownTo(rd, shareIPA, maxLevel)
		rec = h.newREC(rd, 0, pc)
		h.wantStatus("REALM_ACTIVATE", h.smc(RMIRealmActivate, rd), RMISuccess, 0)
		return rd, rec
	}
	rdA, recA := member(1, 0x1000)
	rdA2, _ := member(2, 0x1000)
	rdB, recB := member(3, 0x2000)
	rdB2, _ := member(4, 0x2000)
	_, recC := member(5, 0x3000)
	var gA []uint64
	srA, gA = h.newShare(1, ShareFlagMediated, 0)
	srB, _ = h.newShare(1, ShareFlagMediated, 0)
	for _, m := range [][2]uint64{{srA, rdA}, {srA, rdA2}, {srB, rdB}, {srB, rdB2}} {
		h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, m[0], m[1], shareIPA), RMISuccess, 0)
	}
	h.wantStatus("ACTIVATE A", h.smc(RMIShareRegionActivate, srA), RMISuccess, 0)
	h.wantStatus("ACTIVATE B", h.smc(RMIShareRegionActivate, srB), RMISuccess, 0)
	p.stallsMu.Lock()
	p.stallPA = gA[0]
	p.stallsMu.Unlock()

	enter := func(rec uint64) chan [5]uint64 {
		done := make(chan [5]uint64, 1)
		run := h.alloc()
		go func() { done <- mon.SMC(gpt.StateNonSecure, RMIRecEnter, rec, run) }()
		return done
	}
	doneA := enter(recA)
	watchdog := time.After(20 * time.Second)
	select {
	case <-p.stalled:
	case <-watchdog:
		t.Fatal("region A's access code never reached its store")
	}
	// A's code is stalled inside RSI_SHARE_INVOKE. Everything else must go on.
	host := make(chan [2][5]uint64, 1)
	go func() {
		v := mon.SMC(gpt.StateNonSecure, RMIVersion, ABIVersion)
		d := mon.SMC(gpt.StateNonSecure, RMIDataDestroy, rdA, ram+GranuleSize)
		host <- [2][5]uint64{v, d}
	}()
	doneB, doneC := enter(recB), enter(recC)
	want := map[string]uint64{"B invoke": RSISuccess, "bystander RSI": RSISuccess}
	for len(want) > 0 {
		select {
		case res := <-results:
			w, ok := want[res.who]
			if !ok || res.x0 != w {
				t.Fatalf("%s: X0 = %#x", res.who, res.x0)
			}
			delete(want, res.who)
		case <-watchdog:
			close(p.release)
			t.Fatalf("blocked behind region A's invocation: still waiting for %v", want)
		}
	}
	select {
	case x := <-host:
		if x[0][0] != RMISuccess {
			t.Errorf("RMI_VERSION: %#x", x[0])
		}
		if x[1][0] != Pack(RMIErrorRtt, 3) {
			t.Errorf("RMI_DATA_DESTROY of the pinned argument granule: %#x", x[1])
		}
	case <-watchdog:
		close(p.release)
		t.Fatal("the host's RMI calls blocked behind region A's invocation")
	}
	for _, d := range []chan [5]uint64{doneB, doneC} {
		if x := <-d; x[0] != RMISuccess {
			t.Fatalf("REC_ENTER: %#x", x)
		}
	}
	close(p.release)
	if res := <-results; res.who != "A invoke" || res.x0 != RSISuccess {
		t.Fatalf("%s: X0 = %#x", res.who, res.x0)
	}
	if x := <-doneA; x[0] != RMISuccess {
		t.Fatalf("REC_ENTER A: %#x", x)
	}
	// The invocation is over: the argument granule is no longer pinned.
	h.wantStatus("DATA_DESTROY after the call", h.smc(RMIDataDestroy, rdA, ram+GranuleSize), RMISuccess, 0)
}
