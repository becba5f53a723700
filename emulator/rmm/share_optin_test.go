package rmm

import (
	"testing"

	"github.com/ccakit/cca/emulator/rot"
)

// newShareHost is newHost on an RMM with the sharing extension switched on.
func newShareHost(t testing.TB) *host {
	r, p := newTestRMMConfig(t, rot.Config{}, Config{Sharing: true})
	return &host{t: t, r: r, p: p, next: tDRAMBase}
}

var (
	shareRMIFIDs = []uint64{RMIShareRegionCreate, RMIShareGranuleAdd, RMIShareMemberAdd, RMIShareRegionActivate,
		RMIShareMemberRemove, RMIShareRegionDestroy, RMIShareRegionRead}
	shareRSIFIDs = []uint64{RSIShareAttach, RSIShareDetach, RSIShareCodeLoad, RSIShareInvoke,
		RSIShareLeaseAcquire, RSIShareLeaseRelease, RSIShareIPAQuery}
)

// TestShareOptIn: the default RMM is a strict 1.0-REL0 that answers every
// FID of the extension, RMI and RSI, with SMC_UNKNOWN (as for any FID
// DEN0137 1.0-REL0 B1.3 does not define); with Config.Sharing the same
// calls reach the extension, which answers them with its own status codes.
func TestShareOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		h := newHost(t)
		if on {
			h = newShareHost(t)
		}
		for _, fid := range shareRMIFIDs {
			for _, f := range []uint64{fid, fid | SVEHint} {
				x := h.smc(f, 1, 2, 3)
				if got := x[0] == SMCUnknown; got == on {
					t.Errorf("sharing %v: RMI %#x: X0 = %#x", on, f, x[0])
				}
			}
		}
		got := map[uint64]uint64{}
		h.r.cfg.Programs = func(uint64) (Program, bool) {
			return func(cpu RealmCPU) {
				for _, fid := range shareRSIFIDs {
					got[fid] = cpu.SMC(fid, 1, 2, 3)[0]
				}
			}, true
		}
		rd := h.newRealm(1)
		rec := h.newREC(rd, 0, 0x1000)
		h.wantStatus("REALM_ACTIVATE", h.smc(RMIRealmActivate, rd), RMISuccess, 0)
		h.wantStatus("REC_ENTER", h.smc(RMIRecEnter, rec, h.alloc()), RMISuccess, 0)
		for _, fid := range shareRSIFIDs {
			if x, ok := got[fid]; !ok || (x == SMCUnknown) == on {
				t.Errorf("sharing %v: RSI %#x: X0 = %#x (called: %v)", on, fid, x, ok)
			}
		}
	}
}
