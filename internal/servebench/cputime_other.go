//go:build !unix

package servebench

import "time"

func cpuNow() time.Duration { return 0 }
