package sharing_test

import (
	"fmt"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/sharing"
)

// The cost model prices counted events: here one mediated message of 4 KiB
// (two RSI calls inside the RMM, two argument walks and region locks, the
// access code's steps, 4 KiB copied in from cache and out from memory), at
// the middle of every constant and under the paper's setting, where each
// RSI call is a full exit to the host: 2·362 + 2·44 + 2·40 + 33 +
// 4096·0.0625 + 4096·0.2 = 2,000 cycles, and 3,006 more with 1,865 per call.
func ExampleCounts_Cycles() {
	var c sharing.Counts
	c[sharing.RSITrap] = 2
	c[sharing.S2Walk] = 2
	c[sharing.Lock] = 2
	c[sharing.Step] = 33
	c[sharing.CopyCache] = 4096
	c[sharing.CopyMem] = 4096
	fmt.Printf("middle: %.0f cycles\n", c.Cycles(sharing.MidPoint()))
	fmt.Printf("paper's setting: %.0f cycles\n", c.Cycles(sharing.PaperSetting()))
	// Output:
	// middle: 2000 cycles
	// paper's setting: 5006 cycles
}

// The extension is an opt-in: the default machine's RMM is a strict
// 1.0-REL0 and does not know the extension's commands.
func ExampleNewHost() {
	for _, on := range []bool{false, true} {
		m, err := emulator.New(emulator.Config{Sharing: on})
		if err != nil {
			fmt.Println(err)
			return
		}
		x := m.HostSMC(rmm.RMIShareRegionRead, 0)
		fmt.Printf("sharing %v: RMI_SHARE_REGION_READ X0 = %#x\n", on, x[0])
		m.Close()
	}
	// Output:
	// sharing false: RMI_SHARE_REGION_READ X0 = 0xffffffffffffffff
	// sharing true: RMI_SHARE_REGION_READ X0 = 0x1
}
