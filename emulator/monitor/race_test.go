package monitor

import (
	"bytes"
	"errors"
	"math/rand"
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// TestConcurrentWorlds runs RMM goroutines (GTSI + realm data + scrub),
// host goroutines (accesses and RMI calls) and attestation calls at once.
// Run with -race.
func TestConcurrentWorlds(t *testing.T) {
	m := newTestMonitor(t, Config{RMM: &fakeRMM{}, RootOfTrust: &fakeRoT{tokenLen: 1518}})
	const (
		rmms   = 3
		hosts  = 3
		rounds = 80
		per    = 3
	)
	granule := func(r, i int) uint64 { return tDRAMBase + 2<<20 - 6*gpt.GranuleSize + uint64(i*rmms+r)*gpt.GranuleSize }
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := range rmms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := bytes.Repeat([]byte{0xC0 + byte(r)}, gpt.GranuleSize)
			got := make([]byte, gpt.GranuleSize)
			for range rounds {
				for i := range per {
					pa := granule(r, i)
					if ret := m.SMC(gpt.StateRealm, SMCRMMGTSIDelegate, pa); ret[0] != ERMMOK {
						errc <- errors.New("delegate failed")
						return
					}
					if err := m.Access(gpt.StateRealm, gpt.PASRealm, pa, secret, true); err != nil {
						errc <- err
						return
					}
				}
				for i := range per {
					pa := granule(r, i)
					if err := m.Access(gpt.StateRealm, gpt.PASRealm, pa, got, false); err != nil || !bytes.Equal(got, secret) {
						errc <- errors.New("realm data changed while delegated")
						return
					}
					if err := m.Access(gpt.StateRealm, gpt.PASRealm, pa, make([]byte, gpt.GranuleSize), true); err != nil {
						errc <- err
						return
					}
					if ret := m.SMC(gpt.StateRealm, SMCRMMGTSIUndelegate, pa); ret[0] != ERMMOK {
						errc <- errors.New("undelegate failed")
						return
					}
				}
			}
		}()
	}
	var others sync.WaitGroup
	for h := range hosts {
		others.Add(1)
		go func() {
			defer others.Done()
			rng := rand.New(rand.NewSource(int64(h)))
			buf := make([]byte, gpt.GranuleSize+8)
			for {
				select {
				case <-done:
					return
				default:
				}
				pa := granule(rng.Intn(rmms), rng.Intn(per)) + uint64(rng.Intn(2))*(gpt.GranuleSize-4)
				if rng.Intn(2) == 0 {
					err := m.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, buf, false)
					if err == nil && bytes.ContainsFunc(buf, func(r rune) bool { return r >= 0xC0 && r < 0xC0+rmms }) {
						errc <- errors.New("host read realm data")
						return
					}
				} else {
					_ = m.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, bytes.Repeat([]byte{0x11}, len(buf)), true)
				}
				m.SMC(gpt.StateNonSecure, 0xC400_0150)
				_ = m.Counters()
			}
		}()
	}
	others.Add(1)
	go func() { // the RMM fetching its platform token now and then
		defer others.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			m.SMC(gpt.StateRealm, SMCRMMGetPlatToken, tShared, 4096, 32)
			for {
				ret := m.SMC(gpt.StateRealm, SMCRMMGetPlatToken, tShared, 4096, 0)
				if ret[0] != ERMMOK || ret[2] == 0 {
					break
				}
			}
		}
	}()
	wg.Wait()
	close(done)
	others.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}
