package accesscode

import (
	"errors"
	"testing"
)

// FuzzVerifyRun feeds arbitrary images to the verifier and runs whatever it
// accepts against memories of exactly the verified sizes that fail on any
// access outside them: neither may panic, and verified code may not touch
// outside the region or the argument window nor exceed its proven bounds.
// Seeded with the accepted programs of the table tests.
func FuzzVerifyRun(f *testing.F) {
	for _, tc := range accepted {
		img, err := Assemble(tc.src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img, uint16(tc.region), uint16(64), uint64(0), uint64(8))
	}
	f.Fuzz(func(t *testing.T, img []byte, regionSel, argLen uint16, a0, a1 uint64) {
		region := 1 + uint64(regionSel)
		p, err := Verify(img, region)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("non-rejection error: %v", err)
			}
			return
		}
		arg := make([]byte, min(uint64(argLen), p.ArgSize()))
		checkRun(t, p, img, make([]byte, region), arg, [4]uint64{a0, a1, a0 ^ a1, a1 >> 3})
	})
}

// FuzzAssemble: the assembler never panics, and what it produces decodes.
func FuzzAssemble(f *testing.F) {
	for _, tc := range accepted {
		f.Add(tc.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		img, err := Assemble(src)
		if err != nil {
			return
		}
		if _, err := Decode(img); err != nil && !errors.Is(err, ErrRejected) {
			t.Fatal(err)
		}
	})
}
