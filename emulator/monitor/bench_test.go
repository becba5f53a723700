package monitor

import (
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// BenchmarkHostRead4K: a 4 KB Normal-world read through Monitor.Access (the
// path behind the emulator's HostRead), to compare with BenchmarkCopy4K.
func BenchmarkHostRead4K(b *testing.B) {
	m := newTestMonitor(b, Config{})
	src := make([]byte, gpt.GranuleSize)
	for i := range src {
		src[i] = byte(i)
	}
	if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, tDRAMBase, src, true); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, gpt.GranuleSize)
	b.SetBytes(gpt.GranuleSize)
	b.ReportAllocs()
	for range b.N {
		if err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, tDRAMBase, dst, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy4K is the baseline for BenchmarkHostRead4K.
func BenchmarkCopy4K(b *testing.B) {
	src := make([]byte, gpt.GranuleSize)
	dst := make([]byte, gpt.GranuleSize)
	b.SetBytes(gpt.GranuleSize)
	b.ReportAllocs()
	for range b.N {
		copy(dst, src)
	}
}

// BenchmarkGTSIDelegate is a full RMM_GTSI_DELEGATE + RMM_GTSI_UNDELEGATE
// round trip through the SMC dispatcher. A neighbour stays delegated so the
// 2 MB block never fuses (the steady state of a running host).
func BenchmarkGTSIDelegate(b *testing.B) {
	m := newTestMonitor(b, Config{})
	if ret := m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, tDRAMBase); ret[0] != ERMMOK {
		b.Fatal(ret)
	}
	b.ReportAllocs()
	for range b.N {
		if ret := m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, tDRAMBase+gpt.GranuleSize); ret[0] != ERMMOK {
			b.Fatal(ret)
		}
		if ret := m.SMC(gpt.StateRealm, SMCRMMGTSIUndelegate, tDRAMBase+gpt.GranuleSize); ret[0] != ERMMOK {
			b.Fatal(ret)
		}
	}
}

// BenchmarkRMIForward is one RMI call from the host forwarded to a trivial
// RMM and back.
func BenchmarkRMIForward(b *testing.B) {
	m := newTestMonitor(b, Config{RMM: rmiFunc(func(fid uint64, a [6]uint64) [5]uint64 { return [5]uint64{0, a[0]} })})
	b.ReportAllocs()
	for range b.N {
		if ret := m.SMC(gpt.StateNonSecure, 0xC400_0150, 0x10000); ret[0] != 0 {
			b.Fatal(ret)
		}
	}
}
