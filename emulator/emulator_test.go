package emulator_test

import (
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/evidence"
)

// The zero Config boots, and the host sees the RMM through the ABI alone.
func TestBootAndABI(t *testing.T) {
	for _, f := range evidence.Formats() {
		m, err := emulator.New(emulator.Config{TokenFormat: f})
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		x := m.HostSMC(rmm.RMIVersion, rmm.ABIVersion)
		if x[0] != rmm.RMISuccess || x[1] != 0x10000 || x[2] != 0x10000 {
			t.Fatalf("RMI_VERSION: %#x", x)
		}
		if x := m.HostSMC(0xC4000156); x[0] != rmm.SMCUnknown {
			t.Fatalf("unimplemented RMI slot: %#x", x[0])
		}
	}
	if _, err := emulator.New(emulator.Config{TokenFormat: 7}); err == nil {
		t.Fatal("unknown token format accepted")
	}
}

// The host loses access to a granule it delegates and gets it back,
// scrubbed, when it undelegates.
func TestHostDelegatedGranuleFaults(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base, size := m.NSMemory()
	if base != monitor.DefaultDRAM0Base || size == 0 {
		t.Fatalf("NS memory %#x+%#x", base, size)
	}
	pa := base + 0x10000
	if err := m.HostWrite(pa, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if x := m.HostSMC(rmm.RMIGranuleDelegate, pa); x[0] != rmm.RMISuccess {
		t.Fatalf("delegate: %#x", x[0])
	}
	buf := make([]byte, 6)
	if err := m.HostRead(pa, buf); !errors.Is(err, emulator.ErrGPF) {
		t.Fatalf("host read of a delegated granule: %v", err)
	}
	if err := m.HostWrite(pa, buf); !errors.Is(err, emulator.ErrGPF) {
		t.Fatalf("host write of a delegated granule: %v", err)
	}
	// Neither can the host reach the RMM's, Secure or Root memory.
	for _, other := range []uint64{monitor.DefaultRealmBase, monitor.DefaultSecureBase, monitor.DefaultRootBase} {
		if err := m.HostRead(other, buf); !errors.Is(err, emulator.ErrGPF) {
			t.Errorf("host read of %#x: %v", other, err)
		}
	}
	if x := m.HostSMC(rmm.RMIGranuleUndelegate, pa); x[0] != rmm.RMISuccess {
		t.Fatalf("undelegate: %#x", x[0])
	}
	if err := m.HostRead(pa, buf); err != nil || string(buf) != "\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("after undelegate: %v %q", err, buf)
	}
	if g, _ := m.Monitor().GPI(pa); g != gpt.GPINS {
		t.Fatalf("GPI after undelegate: %v", g)
	}
}

// TestBootComplete: the RMM's cold boot ends with RMM_BOOT_COMPLETE and
// E_RMM_BOOT_SUCCESS (TF-RMM rmm-spec-v1.0-rel0 runtime/core/aarch64/
// head.S), after which EL3 routes RMI to it.
func TestBootComplete(t *testing.T) {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if status, ok := m.Monitor().BootStatus(); !ok || status != monitor.BootSuccess {
		t.Fatalf("BootStatus = %#x, %v; want E_RMM_BOOT_SUCCESS reported", status, ok)
	}
	if x := m.HostSMC(rmm.RMIVersion, rmm.ABIVersion); x[0] != rmm.RMISuccess {
		t.Fatalf("RMI_VERSION after boot: %#x", x[0])
	}
}
