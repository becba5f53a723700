package monitor_test

import (
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
)

// A host page is delegated by the RMM through RMM_GTSI_DELEGATE; from then on
// the granule protection check stops the host.
func Example() {
	mon, err := monitor.New(monitor.Config{}) // the default memory map
	if err != nil {
		panic(err)
	}
	page := uint64(monitor.DefaultDRAM0Base + 0x10000)
	buf := make([]byte, 16)
	fmt.Println("host read:", mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, page, buf, false))

	ret := mon.SMC(gpt.StateRealm, monitor.SMCRMMGTSIDelegate, page)
	fmt.Printf("delegate: x0 = %#x\n", ret[0])
	gpi, _ := mon.GPI(page)
	fmt.Println("GPI:", gpi)

	err = mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, page, buf, false)
	var f *gpt.Fault
	fmt.Println("host read is a GPF:", errors.Is(err, gpt.ErrGPF), errors.As(err, &f) && f.Kind == gpt.FaultFail)
	fmt.Println("realm read:", mon.Access(gpt.StateRealm, gpt.PASRealm, page, buf, false))

	ret = mon.SMC(gpt.StateRealm, monitor.SMCRMMGTSIDelegate, page)
	fmt.Printf("delegate again: x0 = %#x (E_RMM_BAD_PAS)\n", ret[0])
	// Output:
	// host read: <nil>
	// delegate: x0 = 0x0
	// GPI: REALM
	// host read is a GPF: true true
	// realm read: <nil>
	// delegate again: x0 = 0xfffffffffffffffd (E_RMM_BAD_PAS)
}
