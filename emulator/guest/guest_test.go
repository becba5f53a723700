package guest_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realmbuild"
)

// The guest calls are tested as a guest kernel uses them: from realm
// software on a realm the VMM built through RMI, over RSI.

const (
	gRAM      = 0x4000_0000 // 4 MB of RIPAS RAM, backed on demand
	gBuf      = gRAM + 0x10_0000
	gEmpty    = 0x1000_0000 // in the PAR, outside RAM: RIPAS EMPTY
	realmJSON = `{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x40000000", "size": "0x400000"}],
	  "recs": [{"pc": "0x40000000"}]}`
)

// runGuest builds the realm, runs prog on its REC until the program ends,
// answering host calls with h, and returns the machine.
func runGuest(t *testing.T, h vmm.Handlers, prog func(cpu emulator.RealmCPU)) *emulator.Machine {
	t.Helper()
	d, err := realmbuild.ParseDescription([]byte(realmJSON))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := d.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	m.SetRealmProgram(gRAM, prog)
	r, err := vmm.New(m).Build(plan)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(0, h); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChallenge(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i + 1)
		}
		return b
	}
	tests := []struct {
		n      int
		x1, x8 uint64 // expected X1 and X8
		ok     bool
	}{
		{31, 0, 0, false},
		{32, 0x0807060504030201, 0, true},
		{48, 0x0807060504030201, 0, true},
		{64, 0x0807060504030201, 0x403F3E3D3C3B3A39, true},
		{65, 0, 0, false},
	}
	for _, tc := range tests {
		regs, err := guest.Challenge(seq(tc.n))
		if (err == nil) != tc.ok {
			t.Errorf("%d bytes: error %v, want ok=%v", tc.n, err, tc.ok)
			continue
		}
		if tc.ok && (regs[0] != tc.x1 || regs[7] != tc.x8) {
			t.Errorf("%d bytes: X1 %#x X8 %#x, want %#x %#x", tc.n, regs[0], regs[7], tc.x1, tc.x8)
		}
	}
}

func TestAttestationToken(t *testing.T) {
	challenge := bytes.Repeat([]byte{0xC4}, 48)
	var token []byte
	var errs [3]error
	m := runGuest(t, vmm.Handlers{}, func(cpu emulator.RealmCPU) {
		token, errs[0] = guest.AttestationToken(cpu, challenge, gBuf)
		_, errs[1] = guest.AttestationToken(cpu, challenge, gEmpty)    // RIPAS EMPTY buffer
		_, errs[2] = guest.AttestationToken(cpu, challenge[:16], gBuf) // too short
	})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	ev, err := evidence.Decode(token)
	if err != nil {
		t.Fatal(err)
	}
	// Linux pads the challenge with zeros to 64 bytes.
	if want := append(bytes.Clone(challenge), make([]byte, 16)...); !bytes.Equal(ev.Realm.Challenge, want) {
		t.Errorf("realm challenge %x, want %x", ev.Realm.Challenge, want)
	}
	if ev.Platform == nil || ev.RealmSign1 == nil || m.CPAK() == nil {
		t.Error("the token has no platform part")
	}
	if !errors.Is(errs[1], guest.ErrRSI) || !strings.Contains(errs[1].Error(), "RSI_ATTESTATION_TOKEN_CONTINUE returned RSI_ERROR_INPUT") {
		t.Errorf("token into a RIPAS EMPTY buffer: %v", errs[1])
	}
	if errs[2] == nil || errors.Is(errs[2], guest.ErrRSI) {
		t.Errorf("16-byte challenge: %v, want the guest's own refusal", errs[2])
	}
}

func TestMeasurements(t *testing.T) {
	value := []byte("a value a realm measures at run time")
	var rem0, rem1, rim [64]byte
	var errs [5]error
	runGuest(t, vmm.Handlers{}, func(cpu emulator.RealmCPU) {
		rem0, errs[0] = guest.MeasurementRead(cpu, 1)
		errs[1] = guest.MeasurementExtend(cpu, 1, value)
		rem1, _ = guest.MeasurementRead(cpu, 1)
		rim, _ = guest.MeasurementRead(cpu, 0)
		errs[2] = guest.MeasurementExtend(cpu, 0, value)            // the RIM cannot be extended
		errs[3] = guest.MeasurementExtend(cpu, 1, make([]byte, 65)) // longer than one extension
		_, errs[4] = guest.MeasurementRead(cpu, 5)                  // no such slot
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("read %v, extend %v", errs[0], errs[1])
	}
	if rem0 != [64]byte{} {
		t.Errorf("initial REM %x, want zeros", rem0)
	}
	// REM = SHA-256(REM || value) for a SHA-256 realm, upper half zero.
	want := sha256.Sum256(append(make([]byte, 32), value...))
	if !bytes.Equal(rem1[:32], want[:]) || !bytes.Equal(rem1[32:], make([]byte, 32)) {
		t.Errorf("REM after extend %x, want %x", rem1, want)
	}
	if rim == [64]byte{} {
		t.Error("the RIM reads as zero")
	}
	for i, name := range map[int]string{2: "RSI_MEASUREMENT_EXTEND returned RSI_ERROR_INPUT", 4: "RSI_MEASUREMENT_READ returned RSI_ERROR_INPUT"} {
		if !errors.Is(errs[i], guest.ErrRSI) || !strings.Contains(errs[i].Error(), name) {
			t.Errorf("call %d: %v, want %q", i, errs[i], name)
		}
	}
	if errs[3] == nil || errors.Is(errs[3], guest.ErrRSI) {
		t.Errorf("65-byte extension: %v, want the guest's own refusal", errs[3])
	}
}

func TestHostCall(t *testing.T) {
	var in [31]uint64
	for i := range in {
		in[i] = uint64(i) * 0x1111
	}
	var out [31]uint64
	var errs [2]error
	var seen []uint16
	h := vmm.Handlers{HostCall: func(_ int, imm uint16, gprs [31]uint64) [31]uint64 {
		seen = append(seen, imm)
		for i := range gprs {
			gprs[i] = ^gprs[i]
		}
		return gprs
	}}
	runGuest(t, h, func(cpu emulator.RealmCPU) {
		out, errs[0] = guest.HostCall(cpu, gBuf, 0x4321, in)
		_, errs[1] = guest.HostCall(cpu, gBuf+0x80, 1, in) // not 0x100-aligned
	})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	for i := range out {
		if out[i] != ^in[i] {
			t.Fatalf("x%d came back as %#x, want %#x", i, out[i], ^in[i])
		}
	}
	if len(seen) != 1 || seen[0] != 0x4321 {
		t.Errorf("the host saw host calls %#x, want one with imm 0x4321", seen)
	}
	if !errors.Is(errs[1], guest.ErrRSI) || !strings.Contains(errs[1].Error(), "RSI_HOST_CALL returned RSI_ERROR_INPUT") {
		t.Errorf("unaligned host call: %v", errs[1])
	}
}
