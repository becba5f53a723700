//go:build unix

package verifier

import (
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports the process CPU time per operation as "cpu-ns/op" beside
// the wall-clock ns/op: on a shared machine the wall clock also counts the
// time other processes hold the CPU, and the ratios between these
// benchmarks are then better read in CPU time.
func cpuTimer(b *testing.B) (stop func()) {
	start := cpuNow()
	return func() {
		b.ReportMetric(float64((cpuNow()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
