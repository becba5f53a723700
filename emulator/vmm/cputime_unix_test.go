//go:build unix

package vmm_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used, all threads (the
// garbage collector's included): a cost measure that other processes on a
// shared machine do not inflate, unlike wall-clock time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
