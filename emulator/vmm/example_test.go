package vmm_test

import (
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realmbuild"
)

// Realm software that panics crashes its vCPU: Run returns the SError exit
// with the machine's record of the panic, and the REC cannot run again.
func ExampleRealm_Run_realmPanic() {
	d, _ := realmbuild.ParseDescription([]byte(`{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x40000000", "size": "0x400000"}],
	  "recs": [{"pc": "0x40000000"}]}`))
	plan, _ := d.Plan(nil)
	m, _ := emulator.New(emulator.Config{})
	defer m.Close()
	m.SetRealmProgram(0x4000_0000, func(emulator.RealmCPU) { panic("guest bug") })
	r, _ := vmm.New(m).Build(plan)

	e, err := r.Run(0, vmm.Handlers{})
	var fault *rmm.RealmFault
	fmt.Println(e.Reason == rmm.ExitSError, errors.Is(err, vmm.ErrSError), errors.As(err, &fault) && fault.Value == "guest bug")
	_, err = r.Run(0, vmm.Handlers{})
	fmt.Println(err)
	// Output:
	// true true true
	// vmm: RMI_REC_ENTER: RMI_ERROR_REC (index 0)
}
