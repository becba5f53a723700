package rmm

import (
	"bytes"
	"testing"
)

func TestBootAttestation(t *testing.T) {
	r, _ := newTestRMM(t)
	if len(r.platformToken) < 1000 || len(r.rakClaim) != 107 {
		t.Fatalf("platform token %d bytes, RAK claim %d bytes", len(r.platformToken), len(r.rakClaim))
	}
}

func TestDelegateUndelegate(t *testing.T) {
	h := newHost(t)
	pa := h.alloc()
	if err := h.write(pa, bytes.Repeat([]byte{0xAB}, GranuleSize)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fid  uint64
		addr uint64
		want uint64
	}{
		{"delegate unaligned", RMIGranuleDelegate, pa + 8, Pack(RMIErrorInput, 0)},
		{"delegate out of DRAM", RMIGranuleDelegate, tRMMBase, Pack(RMIErrorInput, 0)},
		{"undelegate NS", RMIGranuleUndelegate, pa, Pack(RMIErrorInput, 0)},
		{"delegate", RMIGranuleDelegate, pa, RMISuccess},
		{"delegate again", RMIGranuleDelegate, pa, Pack(RMIErrorInput, 0)},
		{"undelegate", RMIGranuleUndelegate, pa, RMISuccess},
		{"undelegate again", RMIGranuleUndelegate, pa, Pack(RMIErrorInput, 0)},
	} {
		if x := h.smc(tc.fid, tc.addr); x[0] != tc.want {
			t.Errorf("%s: X0 = %#x, want %#x", tc.name, x[0], tc.want)
		}
		if tc.name == "delegate" {
			if err := h.read(pa, make([]byte, 8)); !isGPF(err) {
				t.Errorf("host reads a delegated granule: %v", err)
			}
		}
	}
	// Back in the NS PAS, and scrubbed.
	b := make([]byte, GranuleSize)
	if err := h.read(pa, b); err != nil || !bytes.Equal(b, make([]byte, GranuleSize)) {
		t.Fatalf("undelegated granule: err %v, zero %v", err, bytes.Equal(b, make([]byte, GranuleSize)))
	}
}

func TestRealmCreateActivateDestroy(t *testing.T) {
	h := newHost(t)
	rd := h.newRealm(1)
	rl := h.r.realms[rd]
	if rl == nil || rl.state != realmNew {
		t.Fatal("realm not NEW")
	}
	if x := h.smc(RMIRealmCreate, h.delegated(), h.params(h.realmParams(h.contiguousDelegated(2), 1))); x[0] != Pack(RMIErrorInput, 0) {
		t.Errorf("VMID in use: %#x", x[0])
	}
	if x := h.smc(RMIRealmActivate, rd); x[0] != RMISuccess {
		t.Fatalf("activate: %#x", x[0])
	}
	if x := h.smc(RMIRealmActivate, rd); x[0] != Pack(RMIErrorRealm, 0) {
		t.Errorf("activate twice: %#x", x[0])
	}
	if x := h.smc(RMIRealmDestroy, rd); x[0] != RMISuccess {
		t.Fatalf("destroy: %#x", x[0])
	}
	if x := h.smc(RMIGranuleUndelegate, rd); x[0] != RMISuccess {
		t.Fatalf("undelegate the old RD: %#x", x[0])
	}
}
