//go:build unix

package servebench

import (
	"syscall"
	"time"
)

// cpuNow is the process's CPU time (user and system): on a shared machine
// the wall clock also counts the time other processes hold the cores, so
// CPU time per session is the steadier comparison.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
