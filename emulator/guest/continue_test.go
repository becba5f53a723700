package guest_test

import (
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/rmm"
)

// continueCPU is a REC whose RMM answers RSI_ATTESTATION_TOKEN_CONTINUE
// with the status and byte counts listed, one per call: what a faulty RMM
// might say, which the guest must not trust with a slice bound.
type continueCPU struct {
	answers [][2]uint64 // status, bytes written
	calls   int
}

func (c *continueCPU) SMC(fid uint64, args ...uint64) [9]uint64 {
	switch fid {
	case rmm.RSIAttestationTokenInit:
		return [9]uint64{rmm.RSISuccess, 8192} // the upper bound of the token size
	case rmm.RSIAttestationTokenContinue:
		if c.calls >= len(c.answers) {
			return [9]uint64{rmm.RSIErrorState}
		}
		a := c.answers[c.calls]
		c.calls++
		return [9]uint64{a[0], a[1]}
	}
	return [9]uint64{rmm.RSIErrorInput}
}

func (c *continueCPU) Read(ipa uint64, p []byte) error  { clear(p); return nil }
func (c *continueCPU) Write(ipa uint64, p []byte) error { return nil }
func (c *continueCPU) Reg(n int) uint64                 { return 0 }

// TestAttestationTokenContinueBounds: RSI_ATTESTATION_TOKEN_CONTINUE
// writes at most the size the realm gave (Arm DEN0137 1.0-REL0); an answer
// of more is an error, and RSI_INCOMPLETE with no bytes written (signing
// interrupted) is followed by another call.
func TestAttestationTokenContinueBounds(t *testing.T) {
	challenge := make([]byte, 64)
	tests := []struct {
		name    string
		answers [][2]uint64
		want    int // token length; -1: an ErrRSI error
	}{
		{"whole token", [][2]uint64{{rmm.RSISuccess, 100}}, 100},
		{"interrupted signing", [][2]uint64{{rmm.RSIIncomplete, 0}, {rmm.RSIIncomplete, 0}, {rmm.RSISuccess, 10}}, 10},
		{"two granules", [][2]uint64{{rmm.RSIIncomplete, 4000}, {rmm.RSIIncomplete, 96}, {rmm.RSISuccess, 7}}, 4103},
		{"more than asked", [][2]uint64{{rmm.RSISuccess, 4097}}, -1},
		{"more than the rest", [][2]uint64{{rmm.RSIIncomplete, 4000}, {rmm.RSISuccess, 97}}, -1},
		{"wrapping count", [][2]uint64{{rmm.RSIIncomplete, 1}, {rmm.RSISuccess, ^uint64(0)}}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := guest.AttestationToken(&continueCPU{answers: tc.answers}, challenge, 0x4000_0000)
			switch {
			case tc.want < 0 && !errors.Is(err, guest.ErrRSI):
				t.Errorf("err = %v, want ErrRSI", err)
			case tc.want >= 0 && (err != nil || len(tok) != tc.want):
				t.Errorf("token of %d bytes, err %v; want %d bytes", len(tok), err, tc.want)
			}
		})
	}
}
