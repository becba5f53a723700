package realmbuild_test

import (
	"encoding/hex"
	"fmt"

	"github.com/ccakit/cca/realmbuild"
)

// A realm description (docs/realm-description.md) gives the RIM the RMM
// will compute when a VMM builds the realm in the conventional order: the
// reference value a relying party provisions for it. The expected value
// is the one testvectors/realms/README.md gives for this description,
// also computed by realmbuild/testdata/rim_kat.py (no Go code involved).
func ExamplePredictRIM() {
	d, load, err := realmbuild.ReadDescriptionFile("../testvectors/realms/small.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := realmbuild.PredictRIM(d, load)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pred.HashAlgo.Name(), hex.EncodeToString(pred.RIM))
	// Output:
	// sha-256 2460ecf90c80e265b8819b3b2f7257ff1964329cd32401b9df55761ff9eb884e
}
