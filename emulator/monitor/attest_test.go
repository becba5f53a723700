package monitor

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

func realmRead(t *testing.T, m *Monitor, pa uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := m.Access(gpt.StateRealm, gpt.PASRealm, pa, b, false); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRealmAttestKey(t *testing.T) {
	m := newTestMonitor(t, Config{RootOfTrust: &fakeRoT{}})
	tests := []struct {
		name           string
		buf, size, crv uint64
		caller         gpt.SecurityState
		want           uint64
	}{
		{"whole page", tShared, 4096, 0, gpt.StateRealm, ERMMOK},
		{"offset buffer", tShared + 0x100, 48, 0, gpt.StateRealm, ERMMOK},
		{"buffer before the page", tShared - 8, 64, 0, gpt.StateRealm, ERMMBadAddr},
		{"buffer in NS memory", tDRAMBase, 64, 0, gpt.StateRealm, ERMMBadAddr},
		{"buffer runs past the page", tShared + 4000, 200, 0, gpt.StateRealm, ERMMInval},
		{"size wraps", tShared, ^uint64(0), 0, gpt.StateRealm, ERMMInval},
		{"size zero", tShared, 0, 0, gpt.StateRealm, ERMMInval},
		{"buffer too small", tShared, 47, 0, gpt.StateRealm, ERMMUnk}, // TF-A: platform failure
		{"curve 1", tShared, 4096, 1, gpt.StateRealm, ERMMInval},
		{"NS caller", tShared, 4096, 0, gpt.StateNonSecure, SMCUnknown},
		{"Secure caller", tShared, 4096, 0, gpt.StateSecure, SMCUnknown},
	}
	for _, tc := range tests {
		if tc.want == ERMMOK {
			m.Access(gpt.StateRealm, gpt.PASRealm, tShared, make([]byte, 4096), true)
		}
		ret := m.SMC(tc.caller, SMCRMMGetRealmAttestKey, tc.buf, tc.size, tc.crv)
		if ret[0] != tc.want {
			t.Errorf("%s: x0 = %#x, want %#x", tc.name, ret[0], tc.want)
			continue
		}
		if tc.want == ERMMOK {
			if ret[1] != 48 || !bytes.Equal(realmRead(t, m, tc.buf, 48), fakeKey) {
				t.Errorf("%s: x1 = %d, key not in the shared page", tc.name, ret[1])
			}
		}
	}
	for _, rot := range []RootOfTrust{nil, &fakeRoT{fail: true}} {
		m := newTestMonitor(t, Config{RootOfTrust: rot})
		if ret := m.SMC(gpt.StateRealm, SMCRMMGetRealmAttestKey, tShared, 4096, 0); ret[0] != ERMMUnk {
			t.Errorf("root of trust %v: %#x", rot, ret)
		}
	}
}

// getToken runs the TF-RMM retrieval loop: the challenge at the buffer
// start, hash size on the first call, 0 on follow-ups, until remaining is 0.
func getToken(t *testing.T, m *Monitor, challenge []byte, bufSize uint64) (tok []byte, calls int) {
	t.Helper()
	if err := m.Access(gpt.StateRealm, gpt.PASRealm, tShared, challenge, true); err != nil {
		t.Fatal(err)
	}
	hashSize := uint64(len(challenge))
	for {
		ret := m.SMC(gpt.StateRealm, SMCRMMGetPlatToken, tShared, bufSize, hashSize)
		calls++
		switch ret[0] {
		case ERMMAgain:
			continue
		case ERMMOK:
		default:
			t.Fatalf("call %d: x0 = %#x", calls, ret[0])
		}
		if ret[1] > bufSize || ret[1] > m.hunk {
			t.Fatalf("hunk of %d bytes", ret[1])
		}
		tok = append(tok, realmRead(t, m, tShared, int(ret[1]))...)
		hashSize = 0
		if ret[2] == 0 {
			return tok, calls
		}
	}
}

func TestPlatformToken(t *testing.T) {
	rot := &fakeRoT{tokenLen: 1518}
	m := newTestMonitor(t, Config{RootOfTrust: rot})
	for _, size := range []int{32, 48, 64} {
		challenge := bytes.Repeat([]byte{byte(size)}, size)
		tok, calls := getToken(t, m, challenge, 4096)
		if !bytes.Equal(tok, expectedToken(challenge, 1518)) {
			t.Fatalf("hash size %d: wrong token", size)
		}
		if calls != 3 { // 512 + 512 + 494
			t.Fatalf("hash size %d: %d calls, want 3", size, calls)
		}
	}
	// A small buffer makes small hunks.
	challenge := sha256.New().Sum(nil)
	if tok, calls := getToken(t, m, challenge, 100); !bytes.Equal(tok, expectedToken(challenge, 1518)) || calls != 16 {
		t.Fatalf("100-byte buffer: %d calls", calls)
	}
	// E_RMM_AGAIN twice, then the token.
	rot.again = 2
	if tok, calls := getToken(t, m, challenge, 4096); !bytes.Equal(tok, expectedToken(challenge, 1518)) || calls != 5 {
		t.Fatalf("with AGAIN: %d calls", calls)
	}
	// A configured hunk size.
	m2 := newTestMonitor(t, Config{RootOfTrust: &fakeRoT{tokenLen: 1000}, TokenHunkSize: 1000})
	if tok, calls := getToken(t, m2, challenge, 4096); len(tok) != 1000 || calls != 1 {
		t.Fatalf("hunk 1000: %d bytes in %d calls", len(tok), calls)
	}
}

func TestPlatformTokenErrors(t *testing.T) {
	m := newTestMonitor(t, Config{RootOfTrust: &fakeRoT{tokenLen: 1518}})
	call := func(caller gpt.SecurityState, buf, size, hash uint64) [5]uint64 {
		return m.SMC(caller, SMCRMMGetPlatToken, buf, size, hash)
	}
	tests := []struct {
		name   string
		ret    [5]uint64
		status uint64
	}{
		{"follow-up with no transfer", call(gpt.StateRealm, tShared, 4096, 0), ERMMInval},
		{"hash size 20", call(gpt.StateRealm, tShared, 4096, 20), ERMMInval},
		{"hash size 65", call(gpt.StateRealm, tShared, 4096, 65), ERMMInval},
		{"hash larger than the buffer", call(gpt.StateRealm, tShared, 32, 48), ERMMInval},
		{"buffer outside the page", call(gpt.StateRealm, tDRAMBase, 4096, 32), ERMMBadAddr},
		{"buffer past the page", call(gpt.StateRealm, tShared+8, 4096, 32), ERMMInval},
		{"NS caller", call(gpt.StateNonSecure, tShared, 4096, 32), SMCUnknown},
		{"Secure caller", call(gpt.StateSecure, tShared, 4096, 32), SMCUnknown},
	}
	for _, tc := range tests {
		if tc.ret[0] != tc.status {
			t.Errorf("%s: x0 = %#x, want %#x", tc.name, tc.ret[0], tc.status)
		}
	}
	// A first call mid-transfer restarts it.
	if ret := call(gpt.StateRealm, tShared, 4096, 32); ret[0] != ERMMOK || ret[2] != 1518-512 {
		t.Fatalf("first call: %#x", ret)
	}
	if ret := call(gpt.StateRealm, tShared, 4096, 32); ret[0] != ERMMOK || ret[2] != 1518-512 {
		t.Fatalf("restart: %#x", ret)
	}
	for _, rot := range []RootOfTrust{nil, &fakeRoT{fail: true}} {
		m := newTestMonitor(t, Config{RootOfTrust: rot})
		if ret := m.SMC(gpt.StateRealm, SMCRMMGetPlatToken, tShared, 4096, 32); ret[0] != ERMMUnk {
			t.Errorf("root of trust %v: %#x", rot, ret)
		}
	}
}

func TestEL3Features(t *testing.T) {
	m := newTestMonitor(t, Config{})
	if ret := m.SMC(gpt.StateRealm, SMCRMMEL3Features, 0); ret != [5]uint64{ERMMOK, 0} {
		t.Errorf("index 0: %#x", ret)
	}
	if ret := m.SMC(gpt.StateRealm, SMCRMMEL3Features, 1); ret[0] != ERMMInval {
		t.Errorf("index 1: %#x", ret)
	}
	if ret := m.SMC(gpt.StateNonSecure, SMCRMMEL3Features, 0); ret[0] != SMCUnknown {
		t.Errorf("NS: %#x", ret)
	}
	if _, ok := m.BootStatus(); ok {
		t.Error("booted before RMM_BOOT_COMPLETE")
	}
	if ret := m.SMC(gpt.StateRealm, SMCRMMBootComplete, 0); ret[0] != ERMMOK {
		t.Errorf("boot complete: %#x", ret)
	}
	if st, ok := m.BootStatus(); !ok || st != 0 {
		t.Errorf("BootStatus = %d, %v", st, ok)
	}
}

// TestFailedBootDisablesRMM: after an RMM_BOOT_COMPLETE reporting a failure,
// TF-A's rmmd answers SMC_UNKNOWN to every RMI call from the Normal world and
// every RMM–EL3 call, a later successful report included (TF-A v2.12
// services/std_svc/rmmd/rmmd_main.c, rmm_boot_failed).
func TestFailedBootDisablesRMM(t *testing.T) {
	tests := []struct {
		name   string
		status uint64
		failed bool
	}{
		{"success", 0, false},
		{"E_RMM_BOOT_UNKNOWN", ^uint64(0), true},
		{"E_RMM_BOOT_VERSION_MISMATCH", ^uint64(1), true},
		{"E_RMM_BOOT_INVALID_SHARED_BUFFER", ^uint64(4), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rmm := &fakeRMM{}
			m := newTestMonitor(t, Config{RMM: rmm, RootOfTrust: &fakeRoT{}})
			if ret := m.SMC(gpt.StateRealm, SMCRMMBootComplete, tc.status); ret[0] != ERMMOK {
				t.Fatalf("boot complete: %#x", ret)
			}
			if st, ok := m.BootStatus(); !ok || st != tc.status {
				t.Errorf("BootStatus = %#x, %v", st, ok)
			}
			calls := []struct {
				caller gpt.SecurityState
				fid    uint64
				args   []uint64
			}{
				{gpt.StateNonSecure, SMCRMIFirst, nil},
				{gpt.StateRealm, SMCRMMGTSIDelegate, []uint64{tDRAMBase}},
				{gpt.StateRealm, SMCRMMGetRealmAttestKey, []uint64{tShared, 4096, 0}},
				{gpt.StateRealm, SMCRMMEL3Features, []uint64{0}},
				{gpt.StateRealm, SMCRMMBootComplete, []uint64{0}},
			}
			for _, c := range calls {
				ret := m.SMC(c.caller, c.fid, c.args...)
				if got := ret[0] == SMCUnknown; got != tc.failed {
					t.Errorf("fid %#x after boot status %#x: x0 = %#x", c.fid, tc.status, ret[0])
				}
			}
			if gpi, _ := m.GPI(tDRAMBase); tc.failed && gpi != gpt.GPINS {
				t.Errorf("GTSI delegate changed the GPT after a failed boot: %v", gpi)
			}
			if st, _ := m.BootStatus(); st != tc.status {
				t.Errorf("a later RMM_BOOT_COMPLETE changed the status to %#x", st)
			}
		})
	}
}
