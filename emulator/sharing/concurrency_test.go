package sharing

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// Many realms, each with a REC on its own goroutine (its own physical CPU),
// hammer one region. A checker proves atomicity: no update is lost, and
// every caller's log entries are all there.

const (
	hammerRealms = 4
	hammerOps    = 150
)

// leaseOps is the increments per member of the lease test, whose
// contenders spin: fewer under the race detector.
func leaseOps() int {
	if raceEnabled || testing.Short() {
		return 30
	}
	return hammerOps
}

// TestConcurrentMediated: every member adds 1 to a shared counter through
// the coordinator and logs its tag; the read-modify-write runs atomically.
func TestConcurrentMediated(t *testing.T) {
	w := newWorld(t)
	logSize := hammerRealms * hammerOps
	var sr uint64
	var members []*Realm
	for i := range hammerRealms {
		members = append(members, w.realm(func(cpu emulator.RealmCPU) {
			if _, err := Attach(cpu, sr, 0); err != nil {
				t.Error(err)
				return
			}
			img, err := Add(logSize)
			if err != nil {
				t.Error(err)
				return
			}
			add, err := LoadCode(cpu, sr, codeIPA, img)
			if err != nil {
				t.Error(err)
				return
			}
			for range hammerOps {
				if _, err := Invoke(cpu, add, 0, 0, 1, uint64(i+1)); err != nil {
					t.Error(err)
					return
				}
			}
		}))
	}
	size := AddRegionBytes(logSize)
	check := checker(t, w, &sr, size, logSize, hammerOps)
	sr = w.region(RegionSpec{Granules: (size + 4095) / 4096, Flags: rmm.ShareFlagMediated | rmm.ShareFlagLease, LeaseTicks: 1},
		append(members, check)...).SR
	w.run(nil, members...)
	w.run(nil, check)
}

// TestConcurrentLeases: the same increments done with direct loads and
// stores under WRITE leases, with lease_ticks 2 so that impatient members
// revoke one another. A holder whose lease was revoked mid-update finds its
// store aborted and retries: revocation can tear a multi-step update (the
// torn flag says so) but cannot lose a single-granule one.
func TestConcurrentLeases(t *testing.T) {
	w := newWorld(t)
	var sr uint64
	var members []*Realm
	var revocations [hammerRealms]int
	for i := range hammerRealms {
		members = append(members, w.realm(func(cpu emulator.RealmCPU) {
			reg, err := Attach(cpu, sr, 0)
			if err != nil {
				t.Error(err)
				return
			}
			var b, dawdle [8]byte
			for done := 0; done < leaseOps(); {
				if _, err := Acquire(cpu, sr, true); errors.Is(err, ErrBusy) {
					runtime.Gosched()
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				if err := cpu.Read(reg.IPA, b[:]); err != nil {
					// Revoked between the acquire and the load.
					revocations[i]++
					_ = Release(cpu, sr)
					continue
				}
				binary.LittleEndian.PutUint64(b[:], binary.LittleEndian.Uint64(b[:])+1)
				// Dawdle inside the lease (re-reading the counter) so that
				// waiting members run out of patience now and then.
				for range 4 {
					runtime.Gosched()
					_ = cpu.Read(reg.IPA, dawdle[:])
				}
				if err := cpu.Write(reg.IPA, b[:]); err != nil {
					if !isSEA(err) {
						t.Error(err)
						return
					}
					revocations[i]++
					_ = Release(cpu, sr)
					continue
				}
				if err := Release(cpu, sr); err != nil {
					revocations[i]++ // the store landed before the revocation
				}
				done++
			}
		}))
	}
	check := checker(t, w, &sr, 8, 0, leaseOps())
	sr = w.region(RegionSpec{Granules: 1, Flags: rmm.ShareFlagMediated | rmm.ShareFlagLease, LeaseTicks: 2}, append(members, check)...).SR
	w.run(nil, members...)
	w.run(nil, check)
	total := 0
	for _, n := range revocations {
		total += n
	}
	t.Logf("%d lease revocations during the run", total)
}

// checker is an extra member that runs after the others: it reads the
// region under a READ lease and checks the counter and, with logSize > 0,
// the log: exactly hammerOps entries of each tag.
func checker(t *testing.T, w *world, sr *uint64, size, logSize, ops int) *Realm {
	return w.realm(func(cpu emulator.RealmCPU) {
		buf := make([]byte, size)
		if _, err := Attach(cpu, *sr, 0); err != nil {
			t.Error(err)
			return
		}
		if _, err := Acquire(cpu, *sr, false); err != nil {
			t.Error(err)
			return
		}
		if err := cpu.Read(WindowIPA, buf); err != nil {
			t.Error(err)
			return
		}
		le := binary.LittleEndian
		if got, want := le.Uint64(buf), uint64(hammerRealms*ops); got != want {
			t.Errorf("counter %d after %d increments: %d lost", got, want, want-got)
		}
		if logSize == 0 {
			return
		}
		if n := le.Uint64(buf[8:]); n != uint64(logSize) {
			t.Errorf("log index %d, want %d", n, logSize)
		}
		var per [hammerRealms + 1]int
		for i := range logSize {
			if tag := le.Uint64(buf[16+8*i:]); tag >= 1 && tag <= hammerRealms {
				per[tag]++
			} else {
				t.Errorf("log entry %d: tag %d", i, tag)
			}
		}
		for tag := 1; tag <= hammerRealms; tag++ {
			if per[tag] != hammerOps {
				t.Errorf("realm %d: %d log entries, want %d", tag, per[tag], hammerOps)
			}
		}
	})
}
