package emulator_test

import (
	"fmt"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// The zero Config is a working machine: a strict RMM 1.0-REL0 behind the
// EL3 monitor, reached by the host through SMCs as a hypervisor reaches it.
// RMI_VERSION with the version the host speaks returns RMI_SUCCESS and the
// range the RMM implements, lower and higher in X1 and X2 (Arm DEN0137
// 1.0-REL0 B4.3.23); a FID of the sharing extension, off by default, gets
// SMC_UNKNOWN as from any 1.0 RMM.
func ExampleNew() {
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	x := m.HostSMC(rmm.RMIVersion, rmm.ABIVersion)
	fmt.Printf("status %d, RMM ABI %#x..%#x\n", x[0], x[1], x[2])
	fmt.Println(m.HostSMC(rmm.RMIShareRegionCreate)[0] == rmm.SMCUnknown)
	// Output:
	// status 0, RMM ABI 0x10000..0x10000
	// true
}
