package monitor

import (
	"bytes"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// FuzzMonitorSMC throws random SMCs from random worlds at the monitor. It
// must never panic, and a call that fails must leave the GPT bytes as they
// were. mode steers the inputs towards interesting values: bit 0 maps fid
// into the 0xC4000000 OEN-4 space (bit 1 adds the SVE hint), bit 2 moves x1
// into the test machine's memory, bit 3 moves x1 into the shared page.
func FuzzMonitorSMC(f *testing.F) {
	f.Add(uint8(3), uint64(SMCRMMGTSIDelegate), uint64(tDRAMBase), uint64(0), uint64(0), uint8(0))
	f.Add(uint8(3), uint64(SMCRMMGTSIUndelegate), uint64(tRealmBase), uint64(0), uint64(0), uint8(0))
	f.Add(uint8(3), uint64(SMCRMMGetPlatToken), uint64(tShared), uint64(4096), uint64(32), uint8(0))
	f.Add(uint8(3), uint64(SMCRMMGetRealmAttestKey), uint64(tShared), uint64(4096), uint64(0), uint8(0))
	f.Add(uint8(1), uint64(SMCRMIRecEnter), uint64(1), uint64(2), uint64(3), uint8(0))
	f.Add(uint8(0), uint64(SMCRMMGTSIDelegate), uint64(tDRAMBase), uint64(0), uint64(0), uint8(4))
	f.Add(uint8(3), uint64(0x1B0), uint64(0x1234), uint64(0), uint64(0), uint8(0xF))
	f.Add(uint8(2), uint64(0xFFFF_FFFF_FFFF_FFFF), uint64(0xFFFF_FFFF_FFFF_FFFF), uint64(0), uint64(0), uint8(0))
	f.Fuzz(func(t *testing.T, caller uint8, fid, x1, x2, x3 uint64, mode uint8) {
		m := newTestMonitor(t, Config{RMM: &fakeRMM{}, RootOfTrust: &fakeRoT{tokenLen: 1200}})
		if mode&1 != 0 {
			fid = 0xC400_0000 | fid&0x1FF
			if mode&2 != 0 {
				fid |= 1 << 16
			}
		}
		switch {
		case mode&8 != 0:
			x1 = tShared + x1%gpt.GranuleSize
		case mode&4 != 0:
			x1 = tDRAMBase + x1%(tRootBase+tRegionSize-tDRAMBase)
		}
		s := gpt.SecurityState(caller % 5) // 4 is not a security state
		// A first call so that GTSI undelegate and token follow-ups have
		// something to work on.
		m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, x1&^(gpt.GranuleSize-1))
		before := m.GPTSnapshot()
		gpiBefore, _ := m.GPI(x1 &^ (gpt.GranuleSize - 1))
		ret := m.SMC(s, fid, x1, x2, x3)
		after := m.GPTSnapshot()
		if ret[0] != ERMMOK || s != gpt.StateRealm {
			if !bytes.Equal(before, after) {
				t.Fatalf("%s FID %#x x1 %#x: x0 %#x but the GPT changed", s, fid, x1, ret[0])
			}
			return
		}
		gpiAfter, _ := m.GPI(x1 &^ (gpt.GranuleSize - 1))
		switch fid &^ (1 << 16) {
		case SMCRMMGTSIDelegate:
			if gpiBefore != gpt.GPINS || gpiAfter != gpt.GPIRealm {
				t.Fatalf("delegate of %#x: %s → %s", x1, gpiBefore, gpiAfter)
			}
		case SMCRMMGTSIUndelegate:
			if gpiBefore != gpt.GPIRealm || gpiAfter != gpt.GPINS {
				t.Fatalf("undelegate of %#x: %s → %s", x1, gpiBefore, gpiAfter)
			}
		default:
			if !bytes.Equal(before, after) {
				t.Fatalf("FID %#x changed the GPT", fid)
			}
		}
	})
}
