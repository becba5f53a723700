package gpt_test

import (
	"fmt"

	"github.com/ccakit/cca/emulator/gpt"
)

// An L1 granules descriptor holds one 4-bit GPI per granule, the first
// granule in the low bits (Arm DEN0129, GPT L1 descriptor formats; TF-A
// lib/gpt_rme): here granule 0 is Realm (0xB), granule 1 Non-secure (0x9),
// the other 14 no access (0x0).
func ExampleL1GranulesDesc() {
	var gpis [16]gpt.GPI
	gpis[0], gpis[1] = gpt.GPIRealm, gpt.GPINS
	fmt.Printf("%#x\n", gpt.L1GranulesDesc(gpis))
	fmt.Println(gpt.GPIRealm, gpt.GPI(0x7).Valid())
	// Output:
	// 0x9b
	// REALM false
}
