package guest_test

import (
	"bytes"
	"fmt"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realmbuild"
)

// Realm software asks for an attestation token over RSI the way Linux
// does, on a realm a VMM built through RMI.
func ExampleAttestationToken() {
	d, _ := realmbuild.ParseDescription([]byte(`{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x40000000", "size": "0x400000"}],
	  "recs": [{"pc": "0x40000000"}]}`))
	plan, _ := d.Plan(nil)
	m, _ := emulator.New(emulator.Config{})
	defer m.Close()

	challenge := bytes.Repeat([]byte{0x42}, 64)
	var token []byte
	var err error
	m.SetRealmProgram(0x4000_0000, func(cpu emulator.RealmCPU) {
		// A page of the realm's RAM as the buffer; the VMM backs it on demand.
		token, err = guest.AttestationToken(cpu, challenge, 0x4010_0000)
	})
	r, _ := vmm.New(m).Build(plan)
	if _, runErr := r.Run(0, vmm.Handlers{}); runErr != nil || err != nil {
		fmt.Println(runErr, err)
		return
	}
	ev, _ := evidence.Decode(token)
	fmt.Println("challenge bound:", bytes.Equal(ev.Realm.Challenge, challenge))
	// Output: challenge bound: true
}
