package realmbuild_test

import (
	"fmt"

	"github.com/ccakit/cca/realmbuild"
)

// A relying party predicts the RIM of a realm from its description, as the
// host will build it, and publishes it as a reference value. The value
// below was computed independently of this package (testdata/rim_kat.py).
func ExamplePredictRIM() {
	d, err := realmbuild.ParseDescription([]byte(`{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1,
	            "rtt_level_start": 0, "rtt_num_start": 1},
	  "ram": [{"base": "0x0", "size": "0x8000000000"}],
	  "images": [{"name": "entry", "ipa": "0x1000", "hex": "1f2003d51f2003d51f2003d51f2003d5"}],
	  "recs": [{"pc": "0x1000"}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := realmbuild.PredictRIM(d, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %x\n", pred.HashAlgo.Name(), pred.RIM)
	// Output: sha-256 9f9e98de46ae7cf6cf132cf54fc86d3a1b4f97f313933312e60b5175e7f83d58
}

// The build sequence a VMM runs for the realm, each step with the RIM
// after it: what `ccatoken measure --output plan` lists.
func ExampleDescription_Plan() {
	d, err := realmbuild.ParseDescription([]byte(`{
	  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x80000000", "size": "0x200000"}],
	  "images": [{"name": "kernel", "ipa": "0x80000000", "fill": "1f2003d5", "size": "0x2000"}],
	  "recs": [{"pc": "0x80000000"}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := d.Plan(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Steps {
		fmt.Println(s.Op())
	}
	// Output:
	// REALM_CREATE
	// RTT_INIT_RIPAS
	// DATA_CREATE
	// DATA_CREATE
	// REC_CREATE
}
