package sharing

import (
	"bytes"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

func TestMediatedRoundTrip(t *testing.T) {
	w := newWorld(t)
	ring := Ring{Slots: 4, SlotSize: 256}
	var sr uint64
	msg := bytes.Repeat([]byte("hello, realm B "), 10)
	var got []byte
	var errA, errB error
	a := w.realm(func(cpu emulator.RealmCPU) {
		errA = func() error {
			reg, err := Attach(cpu, sr, descIPA)
			if err != nil {
				return err
			}
			if reg.IPA != WindowIPA || reg.Size != uint64(ring.Granules())*rmm.GranuleSize {
				t.Errorf("region %+v", reg)
			}
			img, _ := ring.Put()
			put, err := LoadCode(cpu, sr, codeIPA, img)
			if err != nil {
				return err
			}
			if err := cpu.Write(scratchIPA, msg); err != nil {
				return err
			}
			res, err := Invoke(cpu, put, scratchIPA, uint64(len(msg)))
			if err != nil {
				return err
			}
			if res.Regs[0] != 0 || res.Moved < uint64(len(msg)) {
				t.Errorf("put: %+v", res)
			}
			return nil
		}()
	})
	b := w.realm(func(cpu emulator.RealmCPU) {
		errB = func() error {
			if _, err := Attach(cpu, sr, 0); err != nil {
				return err
			}
			img, _ := ring.Get()
			get, err := LoadCode(cpu, sr, codeIPA, img)
			if err != nil {
				return err
			}
			res, err := Invoke(cpu, get, scratchIPA, uint64(ring.SlotSize))
			if err != nil {
				return err
			}
			got = make([]byte, res.Regs[1])
			return cpu.Read(scratchIPA, got)
		}()
	})
	sr = w.region(RegionSpec{Granules: ring.Granules(), Flags: rmm.ShareFlagMediated}, a, b).SR
	before := w.m.Counters()
	w.run(nil, a)
	w.run(nil, b)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("received %q", got)
	}
	// 2 attaches, 2 loads, 2 invokes, each a realm exit the RMM handles.
	if d := w.m.Counters().Sub(before); d.RealmExits < 6 {
		t.Fatalf("realm exits %d", d.RealmExits)
	}
}
