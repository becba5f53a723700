package gpt

import (
	"bytes"
	"errors"
	"math/rand"
	"sync"
	"testing"
)

// TestConcurrentTransitionsAndAccesses runs realm owners that delegate,
// fill, verify, scrub and undelegate granules while host goroutines hammer
// the same granules. A host must never see realm data and never change it;
// run with -race to check the locking as well.
func TestConcurrentTransitionsAndAccesses(t *testing.T) {
	tbl := newTestTable(t, Block512MB, GPINS)
	const (
		owners     = 4
		perOwner   = 4
		rounds     = 60
		hosts      = 4
		hostAccess = 3000
	)
	granules := func(o int) []uint64 {
		var gs []uint64
		for i := range perOwner {
			// Interleave owners inside one 2 MB block and across a boundary.
			gs = append(gs, region1+2<<20-8*GranuleSize+uint64(i*owners+o)*GranuleSize)
		}
		return gs
	}
	var all []uint64
	for o := range owners {
		all = append(all, granules(o)...)
	}
	var wg sync.WaitGroup
	errc := make(chan error, owners+hosts+1)
	stop := make(chan struct{})
	for o := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := bytes.Repeat([]byte{0xA0 + byte(o)}, GranuleSize)
			got := make([]byte, GranuleSize)
			zero := make([]byte, GranuleSize)
			for range rounds {
				for _, pa := range granules(o) {
					if err := tbl.Delegate(pa, GranuleSize, StateRealm); err != nil {
						errc <- err
						return
					}
					if err := tbl.Write(StateRealm, PASRealm, pa, secret); err != nil {
						errc <- err
						return
					}
				}
				for _, pa := range granules(o) {
					if err := tbl.Read(StateRealm, PASRealm, pa, got); err != nil || !bytes.Equal(got, secret) {
						errc <- errors.New("realm data changed while delegated")
						return
					}
					if err := tbl.Write(StateRealm, PASRealm, pa, zero); err != nil { // RMM scrub
						errc <- err
						return
					}
					if err := tbl.Undelegate(pa, GranuleSize, StateRealm); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	var hostWG sync.WaitGroup
	for h := range hosts {
		hostWG.Add(1)
		go func() {
			defer hostWG.Done()
			rng := rand.New(rand.NewSource(int64(h)))
			buf := make([]byte, 2*GranuleSize)
			for range hostAccess {
				select {
				case <-stop:
					return
				default:
				}
				pa := all[rng.Intn(len(all))]
				n := GranuleSize
				if rng.Intn(4) == 0 {
					n = 2 * GranuleSize // spanning
				}
				var err error
				if rng.Intn(2) == 0 {
					err = tbl.Read(StateNonSecure, PASNonSecure, pa, buf[:n])
					if err == nil && bytes.ContainsFunc(buf[:n], func(r rune) bool { return r >= 0xA0 && r < 0xA0+owners }) {
						errc <- errors.New("host read realm data")
						return
					}
				} else {
					for i := range buf[:n] {
						buf[i] = 0x11
					}
					err = tbl.Write(StateNonSecure, PASNonSecure, pa, buf[:n])
				}
				if err != nil && (!errors.Is(err, ErrGPF) || errors.Is(err, ErrWalk)) {
					errc <- err
					return
				}
				_ = tbl.Check(StateNonSecure, PASNonSecure, pa)
			}
		}()
	}
	wg.Wait()
	close(stop)
	hostWG.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for _, pa := range all {
		if g, err := tbl.GPI(pa); err != nil || g != GPINS {
			t.Fatalf("GPI(%#x) = %s, %v after the run", pa, g, err)
		}
	}
}
